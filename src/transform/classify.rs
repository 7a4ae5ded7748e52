//! The classification contract (`shared/spec/classification.md`) as pure functions.
//!
//! Everything here is total and does no IO: evidence is read from analytics wire types, leg labels and
//! conversation labels are decided by the contract's ordered rules, and lookup results settle
//! `needs_lookup` legs. Reasons (the analyst-facing sentences) live in `reason.rs`.

use crate::config::LookupMode;
use chrono::{DateTime, Utc};

use crate::api::wire::{
    AnalyticsConversation, AnalyticsParticipant, ConversationParticipant, MetricName,
};
use crate::record::{ConversationLabel, LegLabel};

/// The system literal written when timed after-call work expires.
pub const TIMEOUT_CODE: &str = "ININ-WRAP-UP-TIMEOUT";

/// What analytics says about one agent leg (contract §1, "Evidence").
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LegEvidence {
    pub participant_id: String,
    pub user_id: Option<String>,
    pub purpose: String,
    pub media_type: Option<String>,
    pub queue_id: Option<String>,
    /// The code of the last `wrapup` segment with a non-empty code.
    pub code: Option<String>,
    pub has_wrapup_segment: bool,
    pub wrapup_open: bool,
    pub acw_ms: i64,
    pub acw_skipped: bool,
    pub connected: bool,
    pub handle_ms: i64,
    pub talk_ms: i64,
}

/// Agent legs are participants with purpose `agent` (ACD) or `user` (non-ACD).
pub fn is_agent_leg(p: &AnalyticsParticipant<'_>) -> bool {
    matches!(p.purpose.as_deref(), Some("agent") | Some("user"))
}

/// True for system dispositions: `ININ-*` and dialer `OUTBOUND-*` literals.
pub fn is_system_code(code: &str) -> bool {
    code.starts_with("ININ-") || code.starts_with("OUTBOUND-")
}

/// Orders wrap-up segments: by `segmentEnd`, then `segmentStart`.
type SegmentKey = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Reads the evidence of one agent participant.
pub fn leg_evidence(p: &AnalyticsParticipant<'_>) -> LegEvidence {
    let mut ev = LegEvidence {
        participant_id: p.participant_id.to_string(),
        user_id: p.user_id.as_deref().map(str::to_owned),
        purpose: p.purpose.as_deref().unwrap_or_default().to_owned(),
        ..LegEvidence::default()
    };
    // (segment_end, segment_start) of the wrap-up segment whose code wins, so the last one by end wins.
    let mut best: Option<SegmentKey> = None;
    // Borrowed while the segments are read; copied once at the end.
    let (mut media, mut queue, mut code) = (None, None, None);
    for s in &p.sessions {
        if media.is_none() {
            media = s.media_type.as_deref();
        }
        ev.acw_skipped |= s.acw_skipped == Some(true);
        for m in &s.metrics {
            match m.name {
                MetricName::Acw => ev.acw_ms += m.value,
                MetricName::Handle => ev.handle_ms += m.value,
                MetricName::Talk => ev.talk_ms += m.value,
                MetricName::Other => {}
            }
        }
        for seg in &s.segments {
            if seg.queue_id.is_some() {
                queue = seg.queue_id.as_deref();
            }
            match seg.segment_type.as_deref() {
                Some("interact") => ev.connected = true,
                Some("wrapup") => {
                    ev.has_wrapup_segment = true;
                    if seg.segment_end.is_none() {
                        ev.wrapup_open = true;
                    }
                    if let Some(c) = seg.wrap_up_code.as_deref().filter(|c| !c.trim().is_empty()) {
                        // `None` sorts first, so an open segment never beats a closed one by accident.
                        let key = (seg.segment_end, seg.segment_start);
                        if best.as_ref().is_none_or(|b| key >= *b) {
                            best = Some(key);
                            code = Some(c);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    ev.media_type = media.map(str::to_owned);
    ev.queue_id = queue.map(str::to_owned);
    ev.code = code.map(str::to_owned);
    ev
}

/// Contract §1: the leg label from analytics alone, first match wins.
pub fn classify_leg(ev: &LegEvidence, conversation_ended: bool) -> LegLabel {
    if let Some(code) = ev.code.as_deref() {
        if code == TIMEOUT_CODE {
            return LegLabel::Timeout;
        }
        if is_system_code(code) {
            return LegLabel::System;
        }
        return LegLabel::Coded;
    }
    if !conversation_ended || ev.wrapup_open {
        return LegLabel::Pending;
    }
    if ev.acw_skipped {
        return LegLabel::Skipped;
    }
    if !ev.has_wrapup_segment && ev.acw_ms == 0 {
        return if ev.connected {
            LegLabel::NoWrapupPhase
        } else {
            LegLabel::NotConnected
        };
    }
    LegLabel::NeedsLookup
}

impl LookupMode {
    /// True when a leg with this analytics label is looked up in this mode.
    pub fn wants(self, label: LegLabel) -> bool {
        match self {
            LookupMode::Off => false,
            LookupMode::NeedsLookup => label == LegLabel::NeedsLookup,
            LookupMode::AllNull => matches!(
                label,
                LegLabel::NeedsLookup | LegLabel::NotConnected | LegLabel::NoWrapupPhase
            ),
        }
    }
}

/// The outcome of settling one leg with the Conversations API.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub label: LegLabel,
    pub code: Option<String>,
    pub code_name: Option<String>,
    pub detail: Option<String>,
}

/// Contract §1, lookup table: settles a leg from its Conversations API participant.
///
/// `analytics_label` matters only in `all-null` mode: a `not_connected` or `no_wrapup_phase` leg that the
/// lookup cannot improve keeps its analytics label rather than becoming `lookup_failed`.
pub fn settle_leg(
    analytics_label: LegLabel,
    participant: Option<&ConversationParticipant>,
) -> Settled {
    let keep_or_fail = |detail: &str| {
        if analytics_label == LegLabel::NeedsLookup {
            Settled {
                label: LegLabel::LookupFailed,
                code: None,
                code_name: None,
                detail: Some(detail.to_string()),
            }
        } else {
            Settled {
                label: analytics_label,
                code: None,
                code_name: None,
                detail: Some(detail.to_string()),
            }
        }
    };
    let Some(p) = participant else {
        return keep_or_fail("participant not found on the conversation");
    };
    if let Some(w) = &p.wrapup {
        if let Some(code) = w.code.as_deref().filter(|c| !c.trim().is_empty()) {
            return Settled {
                label: LegLabel::Recovered,
                code: Some(code.to_string()),
                code_name: w.name.clone(),
                detail: None,
            };
        }
    }
    let plain = |label| Settled {
        label,
        code: None,
        code_name: None,
        detail: None,
    };
    if p.wrapup_skipped == Some(true) {
        return plain(LegLabel::Skipped);
    }
    match p.wrapup_required {
        Some(false) if analytics_label == LegLabel::NeedsLookup => plain(LegLabel::NotRequired),
        // In all-null mode a leg analytics already explains stays as it is when nothing was required.
        Some(false) => plain(analytics_label),
        Some(true) => plain(LegLabel::Missing),
        None => keep_or_fail("participant has no wrapup, wrapupSkipped or wrapupRequired field"),
    }
}

/// How a leg label ranks when several legs decide a conversation (contract §2 step 4), most severe first.
fn severity(label: LegLabel) -> u8 {
    match label {
        LegLabel::LookupFailed => 0,
        LegLabel::Missing => 1,
        LegLabel::Unexplained | LegLabel::NeedsLookup => 2,
        LegLabel::Recovered => 3,
        LegLabel::Timeout => 4,
        LegLabel::System => 5,
        LegLabel::Coded => 6,
        // Nulls by design never outrank a code (contract §2 step 4, revised 2026-12).
        LegLabel::Skipped => 7,
        LegLabel::NotRequired => 8,
        LegLabel::NoWrapupPhase => 9,
        // Handled before ranking; ranked last for totality.
        LegLabel::NotConnected | LegLabel::Pending => 10,
    }
}

fn leg_to_conversation(label: LegLabel) -> ConversationLabel {
    match label {
        LegLabel::Timeout => ConversationLabel::Timeout,
        LegLabel::System => ConversationLabel::System,
        LegLabel::Coded => ConversationLabel::Coded,
        LegLabel::Pending => ConversationLabel::InProgress,
        LegLabel::Skipped => ConversationLabel::Skipped,
        LegLabel::NotConnected => ConversationLabel::NotConnected,
        LegLabel::NoWrapupPhase => ConversationLabel::NoWrapupPhase,
        LegLabel::NeedsLookup | LegLabel::Unexplained => ConversationLabel::Unexplained,
        LegLabel::Recovered => ConversationLabel::Recovered,
        LegLabel::NotRequired => ConversationLabel::NotRequired,
        LegLabel::Missing => ConversationLabel::Missing,
        LegLabel::LookupFailed => ConversationLabel::LookupFailed,
    }
}

/// Contract §2 steps 1–4. Returns the label and the index of the leg that decided it, if any.
/// Legs still `needs_lookup` count as `unexplained`.
pub fn conversation_label(ended: bool, legs: &[LegLabel]) -> (ConversationLabel, Option<usize>) {
    if !ended {
        return (
            ConversationLabel::InProgress,
            legs.iter().position(|l| *l == LegLabel::Pending),
        );
    }
    if let Some(i) = legs.iter().position(|l| *l == LegLabel::Pending) {
        return (ConversationLabel::InProgress, Some(i));
    }
    if legs.is_empty() {
        return (ConversationLabel::NoAgent, None);
    }
    let decisive = legs
        .iter()
        .enumerate()
        .filter(|(_, l)| **l != LegLabel::NotConnected)
        .min_by_key(|(i, l)| (severity(**l), *i));
    match decisive {
        None => (ConversationLabel::NotConnected, Some(0)),
        Some((i, l)) => (leg_to_conversation(*l), Some(i)),
    }
}

/// Contract §2 step 5: true when the conversation must be reported `too_recent` and not looked up.
///
/// `analytics_label` is the label from steps 2–4 with lookups not yet made.
pub fn is_too_recent(
    conversation_end: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
    settle_minutes: i64,
    data_available_until: Option<DateTime<Utc>>,
    analytics_label: ConversationLabel,
) -> bool {
    let Some(end) = conversation_end else {
        return false;
    };
    if matches!(
        analytics_label,
        ConversationLabel::Coded
            | ConversationLabel::System
            | ConversationLabel::Timeout
            | ConversationLabel::InProgress
    ) {
        return false;
    }
    let unsettled = as_of.signed_duration_since(end) < chrono::Duration::minutes(settle_minutes);
    let beyond_lake = data_available_until.is_some_and(|d| end > d);
    unsettled || beyond_lake
}

/// Agent-leg evidence of a conversation, in participant order.
pub fn agent_legs(c: &AnalyticsConversation<'_>) -> Vec<LegEvidence> {
    c.participants
        .iter()
        .filter(|p| is_agent_leg(p))
        .map(leg_evidence)
        .collect()
}

#[cfg(test)]
mod tests;
