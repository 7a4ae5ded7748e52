//! `wrapup-audit explain <conversation-id>`: the diagnosis of one conversation, with its evidence.
//!
//! It runs the same classification, latency guard and lookup as a run (one conversation instead of a
//! day), and prints where every value came from. It writes no files.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::wire::AnalyticsConversation;
use crate::api::ApiError;
use crate::cli::ExplainCmd;
use crate::config::Env;
use crate::config::RunArgs;
use crate::exit::{ExitStatus, Failure};
use crate::record::{ConversationRow, LegRow};
use crate::time::iso_ms;
use crate::transform::acw::CodeNameSource;

/// One segment of an agent leg, as analytics recorded it.
#[derive(Debug, Serialize)]
pub struct SegmentEvidence {
    pub segment_type: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub wrap_up_code: Option<String>,
}

/// A leg with its label and the evidence behind it.
#[derive(Debug, Serialize)]
pub struct LegExplanation {
    pub participant_id: String,
    pub user_id: Option<String>,
    /// From the users catalog.
    pub agent_name: Option<String>,
    pub queue_id: Option<String>,
    /// From the queues catalog.
    pub queue_name: Option<String>,
    pub purpose: String,
    pub label: &'static str,
    pub detail: Option<String>,
    pub connected: bool,
    /// `tAcw` summed over the leg's sessions (analytics).
    pub acw_ms: i64,
    /// `acwSkipped` on any session (analytics).
    pub acw_skipped: bool,
    pub segments: Vec<SegmentEvidence>,
    /// The code on the last coded wrap-up segment (analytics).
    pub analytics_wrapup_code: Option<String>,
    /// The participant's `wrapup.code` (Conversations API), when a lookup was made.
    pub lookup_wrapup_code: Option<String>,
    pub wrapup_code_name: Option<String>,
    /// `wrapupRequired`, `wrapupPrompt`, `wrapupSkipped` (Conversations API), when a lookup was made.
    pub wrapup_required: Option<bool>,
    pub wrapup_prompt: Option<String>,
    pub wrapup_skipped: Option<bool>,
    /// Where `wrapup_code_name` came from (catalog, system literal, default code, API, unresolved).
    pub wrapup_code_name_source: Option<&'static str>,
    pub reportable_code: Option<String>,
    /// The queue's configured `acwSettings` (queue listing).
    pub queue_wrapup_prompt: Option<String>,
    pub queue_acw_timeout_ms: Option<i64>,
    pub config_mismatch: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct Explanation {
    pub conversation_id: String,
    pub classification: &'static str,
    pub reason: String,
    pub conversation_start: String,
    pub conversation_end: Option<String>,
    pub as_of: String,
    pub settle_minutes: i64,
    pub lookup: &'static str,
    pub wrapup_code_id: Option<String>,
    pub wrapup_code_name: Option<String>,
    pub wrapup_code_name_source: Option<&'static str>,
    pub code_source: Option<&'static str>,
    pub reportable_code: Option<String>,
    pub queue_wrapup_prompt: Option<String>,
    pub queue_acw_timeout_ms: Option<i64>,
    pub legs: Vec<LegExplanation>,
}

/// Builds the explanation from the run's rows and the analytics record.
// Long: gathers every piece of evidence for one conversation in the order it is shown.
pub fn explanation(
    c: &AnalyticsConversation<'_>,
    row: &ConversationRow,
    legs: &[LegRow],
    catalogs: &crate::transform::names::Catalogs,
    as_of: DateTime<Utc>,
    settle: i64,
) -> Explanation {
    let source = |code: Option<&str>, name: Option<&str>| {
        code.map(|c| CodeNameSource::of(catalogs, c, name).as_str())
    };
    let legs = legs
        .iter()
        .map(|l| {
            let p = c
                .participants
                .iter()
                .find(|p| p.participant_id == l.participant_id);
            let segments = p
                .into_iter()
                .flat_map(|p| p.sessions.iter())
                .flat_map(|s| s.segments.iter())
                .map(|s| SegmentEvidence {
                    segment_type: s.segment_type.as_deref().unwrap_or_default().to_owned(),
                    start: s.segment_start.map(iso_ms),
                    end: s.segment_end.map(iso_ms),
                    wrap_up_code: s.wrap_up_code.as_deref().map(str::to_owned),
                })
                .collect();
            LegExplanation {
                participant_id: l.participant_id.clone(),
                user_id: l.user_id.clone(),
                agent_name: l.agent_name.clone(),
                queue_id: l.queue_id.clone(),
                queue_name: l.queue_name.clone(),
                purpose: l.purpose.clone(),
                label: l.label.as_str(),
                detail: l.detail.clone(),
                connected: l.connected,
                acw_ms: l.acw_ms,
                acw_skipped: l.acw_skipped,
                segments,
                analytics_wrapup_code: l.analytics_wrapup_code.clone(),
                lookup_wrapup_code: l.lookup_wrapup_code.clone(),
                wrapup_code_name: l.wrapup_code_name.clone(),
                wrapup_required: l.wrapup_required,
                wrapup_prompt: l.wrapup_prompt.clone(),
                wrapup_skipped: l.wrapup_skipped,
                wrapup_code_name_source: source(
                    l.lookup_wrapup_code
                        .as_deref()
                        .or(l.analytics_wrapup_code.as_deref()),
                    l.wrapup_code_name.as_deref(),
                ),
                reportable_code: l.reportable_code.clone(),
                queue_wrapup_prompt: l.queue_wrapup_prompt.clone(),
                queue_acw_timeout_ms: l.queue_acw_timeout_ms,
                config_mismatch: l.config_mismatch.map(|m| m.as_str()),
            }
        })
        .collect();
    Explanation {
        conversation_id: row.conversation_id.clone(),
        classification: row.classification.as_str(),
        reason: row.reason.clone(),
        conversation_start: iso_ms(row.conversation_start),
        conversation_end: row.conversation_end.map(iso_ms),
        as_of: iso_ms(as_of),
        settle_minutes: settle,
        lookup: row.lookup.as_str(),
        wrapup_code_id: row.wrapup_code_id.clone(),
        wrapup_code_name: row.wrapup_code_name.clone(),
        wrapup_code_name_source: source(
            row.wrapup_code_id.as_deref(),
            row.wrapup_code_name.as_deref(),
        ),
        code_source: row.code_source.map(|s| s.as_str()),
        reportable_code: row.reportable_code.clone(),
        queue_wrapup_prompt: row.queue_wrapup_prompt.clone(),
        queue_acw_timeout_ms: row.queue_acw_timeout_ms,
        legs,
    }
}

fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "-".into())
}

/// The text form: the answer first, then the evidence per leg with its source.
// Long: one section per kind of evidence, printed in reading order.
pub fn render_text(e: &Explanation) -> String {
    let mut s = format!("Conversation {}\n", e.conversation_id);
    s.push_str(&format!(
        "  classification: {}\n  reason:         {}\n",
        e.classification, e.reason
    ));
    s.push_str(&format!(
        "  started {}, ended {} (as of {}, settle {} min); lookup: {}\n",
        e.conversation_start,
        opt(&e.conversation_end),
        e.as_of,
        e.settle_minutes,
        e.lookup
    ));
    if let Some(code) = &e.wrapup_code_id {
        s.push_str(&format!(
            "  wrap-up code:   {} ({}; name from the {}) from {}; {}\n",
            code,
            opt(&e.wrapup_code_name),
            opt(&e.wrapup_code_name_source),
            opt(&e.code_source),
            if e.reportable_code.is_some() {
                "reportable as a contact reason"
            } else {
                "not reportable (reportable_code is null)"
            }
        ));
    }
    if e.legs.is_empty() {
        s.push_str("  no agent legs\n");
    }
    for (i, l) in e.legs.iter().enumerate() {
        s.push_str(&format!(
            "\n  leg {} participant {} ({}, agent {} [{}], queue {}): {}{}\n",
            i + 1,
            l.participant_id,
            l.purpose,
            opt(&l.agent_name),
            opt(&l.user_id),
            opt(&l.queue_name),
            l.label,
            l.detail
                .as_ref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ));
        s.push_str(&format!(
            "    analytics:         connected {}, tAcw {} ms, acwSkipped {}, code {}\n",
            l.connected,
            l.acw_ms,
            l.acw_skipped,
            opt(&l.analytics_wrapup_code)
        ));
        for seg in &l.segments {
            s.push_str(&format!(
                "      {:<9} {} → {}{}\n",
                seg.segment_type,
                opt(&seg.start),
                opt(&seg.end),
                seg.wrap_up_code
                    .as_ref()
                    .map(|c| format!("  wrapUpCode {c}"))
                    .unwrap_or_default()
            ));
        }
        if l.lookup_wrapup_code.is_some()
            || l.wrapup_required.is_some()
            || l.wrapup_skipped.is_some()
        {
            s.push_str(&format!(
                "    conversations API: wrapup.code {}, wrapupRequired {}, wrapupPrompt {}, wrapupSkipped {}\n",
                opt(&l.lookup_wrapup_code),
                opt(&l.wrapup_required),
                opt(&l.wrapup_prompt),
                opt(&l.wrapup_skipped)
            ));
        }
        if let Some(n) = &l.wrapup_code_name {
            s.push_str(&format!(
                "    code name:         {n} ({}){}\n",
                opt(&l.wrapup_code_name_source),
                if l.reportable_code.is_some() {
                    ", reportable"
                } else {
                    ", not reportable"
                }
            ));
        }
        s.push_str(&format!(
            "    queue setting:     {}\n",
            queue_setting(&l.queue_wrapup_prompt, l.queue_acw_timeout_ms)
        ));
        if let Some(m) = l.config_mismatch {
            s.push_str(&format!(
                "    expected vs actual: {m}: the label disagrees with the queue's setting (the label stands)\n"
            ));
        }
    }
    s
}

/// The queue's configured ACW settings, as the leg's evidence line shows them.
fn queue_setting(prompt: &Option<String>, timeout_ms: Option<i64>) -> String {
    match (prompt, timeout_ms) {
        (Some(p), Some(t)) => {
            format!("acwSettings.wrapupPrompt {p}, timeoutMs {t} (queue listing)")
        }
        (Some(p), None) => format!("acwSettings.wrapupPrompt {p} (queue listing)"),
        (None, _) => "- (no queue, or the queue listing has no acwSettings)".to_string(),
    }
}

/// A conversation id must look like a UUID before anything is requested.
fn check_id(id: &str) -> Result<(), Failure> {
    let ok = id.len() == 36
        && id.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if ok {
        Ok(())
    } else {
        Err(Failure::new(ExitStatus::Usage, format!("'{id}' is not a conversation id: expected a UUID such as 32d23263-e5bd-4567-bff3-143e38f7b095")))
    }
}

pub async fn command(cmd: &ExplainCmd, env: &dyn Env) -> Result<ExitStatus, Failure> {
    check_id(&cmd.conversation_id)?;
    let run = RunArgs {
        job: cmd.job.clone(),
        as_of: cmd.as_of.clone(),
        simulator: cmd.simulator,
        ..RunArgs::default()
    };
    let cfg = crate::commands::connect::load_config(&run, env, Utc::now())?;
    let conn = crate::commands::connect::connect(&cfg).await?;
    let result = explain_with(&cfg, &conn, &cmd.conversation_id).await;
    conn.close().await;
    let e = result?;
    if cmd.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&e).expect("explanation serialises")
        );
    } else {
        print!("{}", render_text(&e));
    }
    Ok(ExitStatus::Success)
}

/// Fetches, classifies and (if needed) looks up one conversation.
pub async fn explain_with(
    cfg: &crate::config::Config,
    conn: &crate::commands::connect::Connection,
    id: &str,
) -> Result<Explanation, Failure> {
    conn.client
        .authenticate()
        .await
        .map_err(|e| crate::commands::connect::auth_failure(&e, &conn.endpoints))?;
    let c = conn.client.conversation_details(id).await.map_err(|e| match e {
        ApiError::NotFound { .. } => Failure::new(
            ExitStatus::Usage,
            format!("conversation {id} is not in analytics: purged, older than the retention, or not visible to this client"),
        ),
        ApiError::Forbidden { .. } => Failure::new(
            ExitStatus::Auth,
            format!("{e} (the OAuth client's role needs analytics:conversationDetail:view)"),
        ),
        ApiError::Unauthorized { .. } => Failure::new(
            ExitStatus::Auth,
            format!("{e}{}", crate::api::error::UNAUTHORIZED_HINT),
        ),
        other => Failure::new(ExitStatus::from(&other), other.to_string()),
    })?;
    let catalogs = crate::report::load_catalogs(&conn.client).await?;
    let convs = vec![crate::transform::rows::Fetched::new(&c, cfg, None)];
    let mut budget = None;
    let plan = crate::transform::enrich::plan_lookups(&convs, cfg.lookup, &mut budget);
    let convs = convs.as_slice();
    let lookups = crate::source::lookups::enrich(
        &conn.client,
        convs,
        &plan,
        1,
        &crate::progress::Progress::new(0, false),
    )
    .await;
    let lookups = crate::source::lookups::answers(lookups);
    let mut stats = crate::transform::counts::PartitionStats::default();
    let (rows, legs) =
        crate::transform::rows::build_rows(cfg, &catalogs, convs, &plan, &lookups, &mut stats);
    Ok(explanation(
        &c,
        &rows[0],
        &legs,
        &catalogs,
        cfg.as_of,
        cfg.settle_minutes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_before_any_request() {
        assert!(check_id("32d23263-e5bd-4567-bff3-143e38f7b095").is_ok());
        for bad in [
            "",
            "x",
            "32d23263e5bd4567bff3143e38f7b095",
            "32d23263-e5bd-4567-bff3-143e38f7b09z",
            "../../etc/passwd",
        ] {
            let e = check_id(bad).unwrap_err();
            assert_eq!(e.status, ExitStatus::Usage);
            assert!(e.message.contains("not a conversation id"));
        }
    }
}
