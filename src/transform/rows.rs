//! A conversation as the run carries it (`Fetched`: row facts and analytics-only classification) and
//! the report rows built from it once lookups have answered.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::wire::AnalyticsConversation;
use crate::config::Config;
use crate::record::{
    CodeSource, ConversationLabel, ConversationRow, LegLabel, LegRow, LookupStatus,
};
use crate::transform::classify::{self, LegEvidence};
use crate::transform::counts::PartitionStats;
use crate::transform::lookup::{Answer, Plan};
use crate::transform::names::{is_unresolved, unresolved, Catalogs};
use crate::transform::reason::{reason, ReasonFacts};

/// One conversation as the rest of the run needs it: the facts for its row and its classification.
/// The full analytics record is dropped page by page, so memory holds rows, not records.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Fetched {
    pub id: String,
    // Written to and read back from a jobs day's spill as numbers, not text.
    #[serde(with = "crate::time::pair")]
    pub start: DateTime<Utc>,
    #[serde(with = "crate::time::pair::opt")]
    pub end: Option<DateTime<Utc>>,
    pub direction: Option<String>,
    pub media: Option<String>,
    pub queue: Option<String>,
    pub classified: Classified,
}

impl Fetched {
    pub fn new(
        c: &AnalyticsConversation<'_>,
        cfg: &Config,
        data_available_until: Option<DateTime<Utc>>,
    ) -> Fetched {
        Fetched {
            id: c.conversation_id.to_string(),
            start: c.conversation_start,
            end: c.conversation_end,
            direction: c.originating_direction.as_deref().map(str::to_owned),
            media: conversation_media(c),
            queue: last_queue(c),
            classified: classify_conversation(c, cfg, data_available_until),
        }
    }
}

/// A conversation after analytics-only classification.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Classified {
    pub legs: Vec<(LegEvidence, LegLabel)>,
    /// Steps 1–4 with needs-lookup legs counted as unexplained.
    pub analytics_label: ConversationLabel,
    pub too_recent: bool,
    pub ended_minutes_before_as_of: Option<i64>,
}

pub fn classify_conversation(
    c: &AnalyticsConversation<'_>,
    cfg: &Config,
    data_available_until: Option<DateTime<Utc>>,
) -> Classified {
    let ended = c.conversation_end.is_some();
    let legs: Vec<(LegEvidence, LegLabel)> = classify::agent_legs(c)
        .into_iter()
        .map(|ev| {
            let label = classify::classify_leg(&ev, ended);
            (ev, label)
        })
        .collect();
    let labels: Vec<LegLabel> = legs.iter().map(|(_, l)| *l).collect();
    let (analytics_label, _) = classify::conversation_label(ended, &labels);
    let too_recent = classify::is_too_recent(
        c.conversation_end,
        cfg.as_of,
        cfg.settle_minutes,
        data_available_until,
        analytics_label,
    );
    Classified {
        legs,
        analytics_label,
        too_recent,
        ended_minutes_before_as_of: c
            .conversation_end
            .map(|e| cfg.as_of.signed_duration_since(e).num_minutes()),
    }
}

/// The customer-facing media type: the customer's first session, else the first session seen.
fn conversation_media(c: &AnalyticsConversation<'_>) -> Option<String> {
    let customer = c
        .participants
        .iter()
        .find(|p| p.purpose.as_deref() == Some("customer"));
    customer
        .into_iter()
        .chain(c.participants.iter())
        .flat_map(|p| p.sessions.iter())
        .find_map(|s| s.media_type.as_deref().map(str::to_owned))
}

/// The last queue the conversation was routed through (latest segment start carrying a queue).
fn last_queue(c: &AnalyticsConversation<'_>) -> Option<String> {
    c.participants
        .iter()
        .flat_map(|p| p.sessions.iter())
        .flat_map(|s| s.segments.iter())
        .filter(|seg| seg.queue_id.is_some())
        .max_by_key(|seg| seg.segment_start)
        .and_then(|seg| seg.queue_id.as_deref().map(str::to_owned))
}

/// Settles labels with the lookups and maps everything into report rows. `lookups` is aligned
/// with `conversations` (`None` where no lookup was planned).
pub fn build_rows(
    cfg: &Config,
    catalogs: &Catalogs,
    conversations: &[Fetched],
    plan: &[Plan],
    lookups: &[Option<Answer>],
    pstats: &mut PartitionStats,
) -> (Vec<ConversationRow>, Vec<LegRow>) {
    let mut conv_rows = Vec::with_capacity(conversations.len());
    let mut leg_rows = Vec::new();
    for ((c, p), lookup) in conversations.iter().zip(plan).zip(lookups) {
        count_plan(pstats, *p);
        let legs: Vec<LegRow> = c
            .classified
            .legs
            .iter()
            .map(|(ev, label)| {
                let mut leg = leg_row(c, ev, *label, catalogs);
                if *p == Plan::Lookup && cfg.lookup.wants(*label) {
                    settle(&mut leg, lookup.as_ref(), catalogs);
                } else if *label == LegLabel::NeedsLookup {
                    leg.label = LegLabel::Unexplained;
                    leg.detail = Some(not_looked_up(*p, c.classified.too_recent).to_string());
                }
                crate::transform::acw::annotate_leg(&mut leg, catalogs);
                leg
            })
            .collect();
        let mut lookup_status = match p {
            Plan::NotNeeded => LookupStatus::NotNeeded,
            Plan::Lookup => LookupStatus::Done,
            Plan::OverBudget => LookupStatus::OverBudget,
            Plan::Disabled => LookupStatus::Disabled,
        };
        // A failed lookup counts only where it left a leg `lookup_failed`; all-null legs that could
        // not be improved keep their analytics labels.
        if let Some(Answer::Failed { permanent, .. }) = lookup {
            if legs.iter().any(|l| l.label == LegLabel::LookupFailed) {
                pstats.lookups.failed += 1;
                pstats.lookups.failed_transient += u64::from(!permanent);
                lookup_status = LookupStatus::Failed;
            }
        }
        let row = conversation_row(c, *p, &legs, lookup_status, catalogs);
        count_conversation(pstats, &row, &legs);
        conv_rows.push(row);
        leg_rows.extend(legs);
    }
    (conv_rows, leg_rows)
}

fn count_plan(pstats: &mut PartitionStats, p: Plan) {
    let stats = &mut pstats.lookups;
    if p != Plan::NotNeeded {
        stats.needed += 1;
    }
    match p {
        Plan::Lookup => stats.made += 1,
        Plan::OverBudget => stats.over_budget += 1,
        Plan::Disabled => stats.disabled += 1,
        Plan::NotNeeded => {}
    }
}

/// Why a `needs_lookup` leg was not looked up.
fn not_looked_up(p: Plan, too_recent: bool) -> &'static str {
    match p {
        Plan::OverBudget => "not looked up: over the lookup budget",
        Plan::Disabled => "not looked up: lookups are off",
        _ if too_recent => "not looked up: the conversation ended too recently",
        _ => "not looked up: the conversation is still in progress",
    }
}

/// A leg as analytics shows it, with names by the name rule.
fn leg_row(c: &Fetched, ev: &LegEvidence, label: LegLabel, catalogs: &Catalogs) -> LegRow {
    let unknown_code = ev
        .code
        .as_deref()
        .is_some_and(|code| catalogs.known_code(code).is_none());
    LegRow {
        conversation_id: c.id.clone(),
        conversation_start: c.start,
        participant_id: ev.participant_id.clone(),
        user_id: ev.user_id.clone(),
        agent_name: ev.user_id.as_deref().map(|u| catalogs.user_name(u)),
        purpose: ev.purpose.clone(),
        media_type: ev.media_type.clone(),
        queue_id: ev.queue_id.clone(),
        queue_name: ev.queue_id.as_deref().map(|q| catalogs.queue_name(q)),
        connected: ev.connected,
        label,
        analytics_wrapup_code: ev.code.clone(),
        lookup_wrapup_code: None,
        wrapup_code_name: ev.code.as_deref().map(|code| catalogs.code_name(code)),
        wrapup_required: None,
        wrapup_prompt: None,
        wrapup_skipped: None,
        acw_skipped: ev.acw_skipped,
        acw_ms: ev.acw_ms,
        handle_ms: ev.handle_ms,
        talk_ms: ev.talk_ms,
        detail: unknown_code.then(|| {
            "code id not found in the wrap-up code catalog (deleted, or in another division)".into()
        }),
        reportable_code: None,
        queue_wrapup_prompt: None,
        queue_acw_timeout_ms: None,
        config_mismatch: None,
    }
}

/// Settles a looked-up leg with the Conversations API's answer (contract §3).
fn settle(leg: &mut LegRow, answer: Option<&Answer>, catalogs: &Catalogs) {
    match answer {
        Some(Answer::Failed { reason, .. }) => {
            if leg.label == LegLabel::NeedsLookup {
                leg.label = LegLabel::LookupFailed;
            }
            leg.detail = Some(reason.clone());
        }
        Some(Answer::Found(conv)) => {
            let participant = conv
                .participants
                .iter()
                .find(|cp| cp.id == leg.participant_id);
            if let Some(cp) = participant {
                leg.wrapup_required = cp.wrapup_required;
                leg.wrapup_prompt = cp.wrapup_prompt.clone();
                leg.wrapup_skipped = cp.wrapup_skipped;
            }
            let settled = classify::settle_leg(leg.label, participant);
            leg.label = settled.label;
            if let Some(code) = settled.code {
                // The name the Conversations API sent beats the fallback.
                leg.wrapup_code_name = Some(
                    catalogs
                        .known_code(&code)
                        .or(settled.code_name)
                        .unwrap_or_else(|| unresolved(&code)),
                );
                leg.lookup_wrapup_code = Some(code);
            }
            if settled.detail.is_some() {
                leg.detail = settled.detail;
            }
        }
        None => {}
    }
}

/// The code of the last coded leg (analytics or recovered), its name and where it came from.
fn conversation_code(legs: &[LegRow]) -> (Option<String>, Option<String>, Option<CodeSource>) {
    let coded = legs
        .iter()
        .rev()
        .find(|l| l.analytics_wrapup_code.is_some() || l.lookup_wrapup_code.is_some());
    match coded {
        Some(l) => match (&l.analytics_wrapup_code, &l.lookup_wrapup_code) {
            (Some(a), _) => (
                Some(a.clone()),
                l.wrapup_code_name.clone(),
                Some(CodeSource::Analytics),
            ),
            (None, Some(r)) => (
                Some(r.clone()),
                l.wrapup_code_name.clone(),
                Some(CodeSource::ConversationApi),
            ),
            (None, None) => (None, None, None),
        },
        None => (None, None, None),
    }
}

/// The reason sentence: it names the agent and code when a catalog knows them, else the bare id.
fn reason_for(
    label: ConversationLabel,
    c: &Fetched,
    p: Plan,
    decisive: Option<&LegRow>,
    catalogs: &Catalogs,
) -> String {
    let agent = decisive.and_then(|l| {
        let known = l.user_id.as_deref().and_then(|u| catalogs.users.get(u));
        known
            .map(String::as_str)
            .or(l.user_id.as_deref())
            .or(Some(l.participant_id.as_str()))
    });
    let shown_code = decisive.and_then(|l| {
        let id = l
            .lookup_wrapup_code
            .as_deref()
            .or(l.analytics_wrapup_code.as_deref());
        l.wrapup_code_name
            .as_deref()
            .filter(|n| !is_unresolved(id, Some(n)))
            .or(id)
    });
    let facts = ReasonFacts {
        agent,
        code: shown_code,
        queue: decisive.and_then(|l| l.queue_name.as_deref()),
        detail: decisive.and_then(|l| l.detail.as_deref()),
        ended_minutes_ago: c.classified.ended_minutes_before_as_of,
        not_ended: c.end.is_none(),
        no_lookup_because: match p {
            Plan::OverBudget => Some("over the lookup budget"),
            Plan::Disabled => Some("lookups are off"),
            _ => None,
        },
    };
    reason(label, &facts)
}

/// The conversation's row from its settled legs.
fn conversation_row(
    c: &Fetched,
    p: Plan,
    legs: &[LegRow],
    lookup: LookupStatus,
    catalogs: &Catalogs,
) -> ConversationRow {
    let labels: Vec<LegLabel> = legs.iter().map(|l| l.label).collect();
    let (mut label, decisive) = classify::conversation_label(c.end.is_some(), &labels);
    if c.classified.too_recent {
        label = ConversationLabel::TooRecent;
    }
    let (code_id, code_name, code_source) = conversation_code(legs);
    let mut row = ConversationRow {
        conversation_id: c.id.clone(),
        conversation_start: c.start,
        conversation_end: c.end,
        media_type: c.media.clone(),
        originating_direction: c.direction.clone(),
        queue_id: c.queue.clone(),
        queue_name: c.queue.as_deref().map(|q| catalogs.queue_name(q)),
        agent_legs: legs.len() as i32,
        classification: label,
        reason: reason_for(label, c, p, decisive.map(|i| &legs[i]), catalogs),
        wrapup_code_id: code_id,
        wrapup_code_name: code_name,
        code_source,
        acw_ms: legs.iter().map(|l| l.acw_ms).sum(),
        handle_ms: legs.iter().map(|l| l.handle_ms).sum(),
        lookup,
        ended_minutes_before_as_of: c.classified.ended_minutes_before_as_of,
        reportable_code: None,
        queue_wrapup_prompt: None,
        queue_acw_timeout_ms: None,
        config_mismatch: None,
    };
    crate::transform::acw::annotate_conversation(&mut row, legs, catalogs);
    row
}

/// Adds a conversation and its legs to the partition's counts.
fn count_conversation(pstats: &mut PartitionStats, row: &ConversationRow, legs: &[LegRow]) {
    let label = row.classification;
    let u = &mut pstats.unresolved;
    for l in legs {
        let code = l
            .lookup_wrapup_code
            .as_deref()
            .or(l.analytics_wrapup_code.as_deref());
        u.codes += u64::from(is_unresolved(code, l.wrapup_code_name.as_deref()));
        u.users += u64::from(is_unresolved(l.user_id.as_deref(), l.agent_name.as_deref()));
        u.queues += u64::from(is_unresolved(
            l.queue_id.as_deref(),
            l.queue_name.as_deref(),
        ));
    }
    u.codes += u64::from(is_unresolved(
        row.wrapup_code_id.as_deref(),
        row.wrapup_code_name.as_deref(),
    ));
    u.queues += u64::from(is_unresolved(
        row.queue_id.as_deref(),
        row.queue_name.as_deref(),
    ));
    for l in legs {
        *pstats
            .leg_labels
            .entry(l.label.as_str().to_string())
            .or_default() += 1;
        if l.label == LegLabel::Missing {
            let agent = l
                .user_id
                .clone()
                .unwrap_or_else(|| l.participant_id.clone());
            *pstats.missing_by_agent.entry(agent).or_default() += 1;
        }
        pstats.compliance.count(l, label);
    }
    *pstats.labels.entry(label.as_str().to_string()).or_default() += 1;
    for (map, key) in [
        (&mut pstats.by_queue, &row.queue_id),
        (&mut pstats.by_media, &row.media_type),
    ] {
        let key = key.clone().unwrap_or_else(|| "(none)".to_string());
        *map.entry(key)
            .or_default()
            .entry(label.as_str().to_string())
            .or_default() += 1;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::api::wire::tests::{escaped, RECORD};
    use crate::config::{RawJob, RunArgs};

    #[test]
    fn a_borrowed_record_and_an_escaped_one_give_the_same_fetched() {
        let args = RunArgs {
            simulator: true,
            ..RunArgs::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 0, 20, 0).unwrap();
        let cfg = Config::build(RawJob::default(), &args, &[("", ""); 0], now).unwrap();
        let fetched = |body: &str| {
            let c: AnalyticsConversation = crate::api::decode_json(body.as_bytes()).unwrap();
            serde_json::to_value(Fetched::new(&c, &cfg, None)).unwrap()
        };
        let plain = fetched(RECORD);
        assert_eq!(plain, fetched(&escaped(RECORD)));
        let leg = &plain["classified"]["legs"][0][0];
        assert_eq!(
            (
                &plain["id"],
                &plain["direction"],
                &plain["media"],
                &plain["queue"]
            ),
            (
                &"c-1".into(),
                &"inbound".into(),
                &"voice".into(),
                &"q-2".into()
            )
        );
        assert_eq!(
            (&leg["participant_id"], &leg["user_id"], &leg["purpose"]),
            (&"p-agent".into(), &"u-1".into(), &"agent".into())
        );
        assert_eq!(
            (
                &leg["media_type"],
                &leg["queue_id"],
                &leg["code"],
                &leg["acw_ms"]
            ),
            (
                &"voice".into(),
                &"q-2".into(),
                &"code-1".into(),
                &4000.into()
            )
        );
        assert_eq!(plain["classified"]["legs"][0][1], "coded");
    }
}
