//! Row fixtures shared by the sink tests.

use chrono::{DateTime, TimeZone, Utc};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub mod conversation {
    use super::*;
    use crate::record::{CodeSource, ConversationLabel, ConversationRow, LookupStatus};

    /// A fully populated row with awkward text, and a row where every nullable field is null.
    pub fn fixture() -> Vec<ConversationRow> {
        vec![
            ConversationRow {
                conversation_id: "c-1".into(),
                conversation_start: at("2026-11-20T08:15:00Z"),
                conversation_end: Some(at("2026-11-20T08:20:30.123Z")),
                media_type: Some("voice".into()),
                originating_direction: Some("inbound".into()),
                queue_id: Some("q-1".into()),
                queue_name: Some("Sales, EU".into()),
                agent_legs: 2,
                classification: ConversationLabel::Coded,
                reason: "Agent said \"done\", then left,\nlater".into(),
                wrapup_code_id: Some("code-1".into()),
                wrapup_code_name: Some("Sales, Won".into()),
                code_source: Some(CodeSource::Analytics),
                acw_ms: 1500,
                handle_ms: 300_000,
                lookup: LookupStatus::NotNeeded,
                ended_minutes_before_as_of: Some(42),
                reportable_code: Some("code-1".into()),
                queue_wrapup_prompt: Some("MANDATORY_TIMEOUT".into()),
                queue_acw_timeout_ms: Some(60_000),
                config_mismatch: Some(crate::record::Mismatch::TimeoutWithoutTimedPrompt),
            },
            ConversationRow {
                conversation_id: "c-2".into(),
                conversation_start: at("2026-11-20T23:59:59.999Z"),
                conversation_end: None,
                media_type: None,
                originating_direction: None,
                queue_id: None,
                queue_name: None,
                agent_legs: 0,
                classification: ConversationLabel::InProgress,
                reason: "Still running.".into(),
                wrapup_code_id: None,
                wrapup_code_name: None,
                code_source: None,
                acw_ms: 0,
                handle_ms: 0,
                lookup: LookupStatus::Disabled,
                ended_minutes_before_as_of: None,
                reportable_code: None,
                queue_wrapup_prompt: None,
                queue_acw_timeout_ms: None,
                config_mismatch: None,
            },
        ]
    }

    /// `n` distinct small rows, for row-group tests.
    pub fn many(n: usize) -> Vec<ConversationRow> {
        let base = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap();
        (0..n)
            .map(|i| ConversationRow {
                conversation_id: format!("c-{i}"),
                conversation_start: base + chrono::Duration::milliseconds(i as i64),
                conversation_end: (i % 3 != 0)
                    .then(|| base + chrono::Duration::milliseconds(i as i64 + 1000)),
                media_type: Some(if i % 2 == 0 { "voice" } else { "chat" }.into()),
                originating_direction: Some("inbound".into()),
                queue_id: (i % 5 != 0).then(|| format!("q-{}", i % 7)),
                queue_name: (i % 5 != 0).then(|| format!("Queue {}", i % 7)),
                agent_legs: (i % 4) as i32,
                classification: ConversationLabel::ALL[i % ConversationLabel::ALL.len()],
                reason: "r".into(),
                wrapup_code_id: None,
                wrapup_code_name: None,
                code_source: (i % 2 == 0).then_some(CodeSource::ConversationApi),
                acw_ms: i as i64,
                handle_ms: 2 * i as i64,
                lookup: LookupStatus::Done,
                ended_minutes_before_as_of: (i % 3 != 0).then_some(i as i64),
                reportable_code: None,
                queue_wrapup_prompt: None,
                queue_acw_timeout_ms: None,
                config_mismatch: None,
            })
            .collect()
    }
}

pub mod leg {
    use super::*;
    use crate::record::{LegLabel, LegRow};

    /// A fully populated leg with awkward text, and a leg where every nullable field is null.
    pub fn fixture() -> Vec<LegRow> {
        vec![
            LegRow {
                conversation_id: "c-1".into(),
                conversation_start: at("2026-11-20T08:15:00Z"),
                participant_id: "p-1".into(),
                user_id: Some("u-1".into()),
                agent_name: Some("Zoë \"Z\" Ng".into()),
                purpose: "agent".into(),
                media_type: Some("voice".into()),
                queue_id: Some("q-1".into()),
                queue_name: Some("(unresolved) q-1".into()),
                connected: true,
                label: LegLabel::Coded,
                analytics_wrapup_code: Some("code-1".into()),
                lookup_wrapup_code: None,
                wrapup_code_name: Some("Sales, Won".into()),
                wrapup_required: Some(true),
                wrapup_prompt: Some("MANDATORY_TIMEOUT".into()),
                wrapup_skipped: Some(false),
                acw_skipped: false,
                acw_ms: 1500,
                handle_ms: 300_000,
                talk_ms: 200_000,
                detail: Some("=HYPERLINK(\"x\")".into()),
                reportable_code: Some("code-1".into()),
                queue_wrapup_prompt: Some("MANDATORY_TIMEOUT".into()),
                queue_acw_timeout_ms: Some(60_000),
                config_mismatch: Some(crate::record::Mismatch::TimeoutWithoutTimedPrompt),
            },
            LegRow {
                conversation_id: "c-2".into(),
                conversation_start: at("2026-11-20T23:59:59.999Z"),
                participant_id: "p-2".into(),
                user_id: None,
                agent_name: None,
                purpose: "user".into(),
                media_type: None,
                queue_id: None,
                queue_name: None,
                connected: false,
                label: LegLabel::NotConnected,
                analytics_wrapup_code: None,
                lookup_wrapup_code: None,
                wrapup_code_name: None,
                wrapup_required: None,
                wrapup_prompt: None,
                wrapup_skipped: None,
                acw_skipped: true,
                acw_ms: 0,
                handle_ms: 0,
                talk_ms: 0,
                detail: None,
                reportable_code: None,
                queue_wrapup_prompt: None,
                queue_acw_timeout_ms: None,
                config_mismatch: None,
            },
        ]
    }
}
