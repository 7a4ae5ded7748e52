//! Ground truth: the labels each generated conversation must receive.
//!
//! Leg labels come straight from the scenario that built the conversation; this module only combines them
//! into the conversation label with the contract's precedence (shared/spec/classification.md §2) and applies
//! the clock: anchored conversations still running are `in_progress`, and the latency guard turns recently
//! ended ones into `too_recent`.

use chrono::{DateTime, Duration, Utc};

use super::model::SimConversation;
use crate::record::{ConversationLabel, LegLabel};

/// Expected outcome for one conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthConversation {
    pub conversation_id: String,
    pub conversation_start: DateTime<Utc>,
    pub conversation_end: Option<DateTime<Utc>>,
    pub scenario: &'static str,
    /// Expected label with lookups enabled (the default run).
    pub label: ConversationLabel,
    /// Expected label with enrichment disabled: legs needing a lookup count as `unexplained`.
    pub label_without_lookup: ConversationLabel,
    /// True iff a default run must call `GET /api/v2/conversations/{id}` for it.
    pub needs_lookup: bool,
    /// Agent legs (purpose `agent` or `user`) in participant order.
    pub legs: Vec<TruthLeg>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TruthLeg {
    pub participant_id: String,
    pub user_id: String,
    /// Final label after the lookup (default run).
    pub label: LegLabel,
    /// Label with enrichment disabled (`unexplained` where a lookup would be needed).
    pub label_without_lookup: LegLabel,
    /// The queue the generator routed the leg through (none for direct calls).
    pub queue_id: Option<String>,
    pub media_type: String,
    /// The `tAcw` the generator wrote for the leg.
    pub acw_ms: i64,
    /// The expected-vs-actual flag a drift scenario built in (default run).
    pub mismatch: Option<crate::record::Mismatch>,
    /// The code the leg carries in a default run (coded, system, timeout and recovered legs).
    pub code: Option<String>,
}

/// The code a leg with `label` shows: the one the scenario gave it, when the label carries one.
fn code_of(p: &super::model::SimParticipant, label: LegLabel) -> Option<String> {
    let carries = matches!(
        label,
        LegLabel::Coded | LegLabel::System | LegLabel::Timeout | LegLabel::Recovered
    );
    p.api
        .as_ref()
        .and_then(|a| a.wrapup.as_ref())
        .filter(|_| carries)
        .map(|w| w.code.to_string())
}

/// What the generator wrote for a leg: its queue, media and ACW time; for a live conversation only
/// what analytics shows at `live_at` (segments started, metrics emitted).
fn leg_facts(
    p: &super::model::SimParticipant,
    live_at: Option<DateTime<Utc>>,
) -> (Option<String>, String, i64) {
    let shown = |t: DateTime<Utc>| live_at.is_none_or(|now| t <= now);
    let queue = p
        .sessions
        .iter()
        .flat_map(|s| s.segments.iter())
        .filter(|g| shown(g.segment_start))
        .filter_map(|g| g.queue_id)
        .next_back()
        .map(|q| q.to_string());
    let media = p
        .sessions
        .first()
        .map(|s| s.media_type.to_string())
        .unwrap_or_default();
    let acw = p
        .sessions
        .iter()
        .flat_map(|s| s.metrics.iter())
        .filter(|m| m.name == "tAcw" && shown(m.emit_date))
        .map(|m| m.value)
        .sum();
    (queue, media, acw)
}

/// Severity order of §2 step 4, most severe first.
const SEVERITY: [LegLabel; 10] = [
    LegLabel::LookupFailed,
    LegLabel::Missing,
    LegLabel::Unexplained,
    LegLabel::Recovered,
    LegLabel::Timeout,
    LegLabel::System,
    LegLabel::Coded,
    LegLabel::Skipped,
    LegLabel::NotRequired,
    LegLabel::NoWrapupPhase,
];

fn leg_to_conversation(l: LegLabel) -> ConversationLabel {
    match l {
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

/// Combines leg labels of a finished conversation (steps 2–4 of §2).
pub fn conversation_label(legs: &[LegLabel]) -> ConversationLabel {
    if legs.contains(&LegLabel::Pending) {
        return ConversationLabel::InProgress;
    }
    if legs.is_empty() {
        return ConversationLabel::NoAgent;
    }
    let remaining: Vec<LegLabel> = legs
        .iter()
        .copied()
        .map(|l| {
            if l == LegLabel::NeedsLookup {
                LegLabel::Unexplained
            } else {
                l
            }
        })
        .filter(|l| *l != LegLabel::NotConnected)
        .collect();
    if remaining.is_empty() {
        return ConversationLabel::NotConnected;
    }
    SEVERITY
        .iter()
        .find(|s| remaining.contains(s))
        .map(|s| leg_to_conversation(*s))
        .unwrap_or(ConversationLabel::Unexplained)
}

fn unexplained_if_lookup(l: LegLabel) -> LegLabel {
    if l == LegLabel::NeedsLookup {
        LegLabel::Unexplained
    } else {
        l
    }
}

/// The truth for one conversation as the simulator shows it at `now`, judged by a run at `as_of`.
pub(crate) fn truth_for(
    c: &SimConversation,
    now: DateTime<Utc>,
    settle_minutes: i64,
    as_of: DateTime<Utc>,
) -> TruthConversation {
    if c.live(now) {
        return live_truth(c, now);
    }
    let truths: Vec<_> = c
        .participants
        .iter()
        .filter(|p| SimConversation::is_agent_leg(p))
        .map(|p| (p, p.truth.expect("agent legs carry truth")))
        .collect();
    let finals: Vec<LegLabel> = truths.iter().map(|(_, t)| t.final_label).collect();
    let analytics: Vec<LegLabel> = truths
        .iter()
        .map(|(_, t)| unexplained_if_lookup(t.analytics_label))
        .collect();
    let any_lookup = truths
        .iter()
        .any(|(_, t)| t.analytics_label == LegLabel::NeedsLookup);
    let mut label = conversation_label(&finals);
    let mut label_without_lookup = conversation_label(&analytics);
    let end = c.end();
    let guarded = as_of - end < Duration::minutes(settle_minutes)
        && !matches!(
            label_without_lookup,
            ConversationLabel::Coded | ConversationLabel::System | ConversationLabel::Timeout
        );
    if guarded {
        label = ConversationLabel::TooRecent;
        label_without_lookup = ConversationLabel::TooRecent;
    }
    let legs = truths
        .iter()
        .map(|(p, t)| {
            let without = unexplained_if_lookup(t.analytics_label);
            // A guarded conversation is never looked up, so its legs keep their analytics-only labels.
            let label = if guarded { without } else { t.final_label };
            // The drift shows only where the leg reached the label the scenario built it for.
            let mismatch = t.mismatch.filter(|_| label == t.final_label);
            truth_leg(p, label, without, None, mismatch)
        })
        .collect();
    TruthConversation {
        conversation_id: c.conversation_id.to_string(),
        conversation_start: c.conversation_start,
        conversation_end: Some(end),
        scenario: c.meta.scenario,
        label,
        label_without_lookup,
        needs_lookup: any_lookup && !guarded,
        legs,
    }
}

/// A conversation still running at `now`: a leg shows its code only once its wrap-up finished; every other
/// leg is pending.
fn live_truth(c: &SimConversation, now: DateTime<Utc>) -> TruthConversation {
    let legs: Vec<TruthLeg> = c
        .participants
        .iter()
        .filter(|p| SimConversation::is_agent_leg(p))
        .filter(|p| {
            p.sessions
                .iter()
                .flat_map(|s| s.segments.iter())
                .any(|g| g.segment_start <= now)
        })
        .map(|p| {
            let t = p.truth.expect("agent legs carry truth");
            let label = match t.code_at {
                Some(at)
                    if at <= now
                        && matches!(
                            t.final_label,
                            LegLabel::Coded | LegLabel::System | LegLabel::Timeout
                        ) =>
                {
                    t.final_label
                }
                _ => LegLabel::Pending,
            };
            truth_leg(p, label, label, Some(now), None)
        })
        .collect();
    TruthConversation {
        conversation_id: c.conversation_id.to_string(),
        conversation_start: c.conversation_start,
        conversation_end: None,
        scenario: c.meta.scenario,
        label: ConversationLabel::InProgress,
        label_without_lookup: ConversationLabel::InProgress,
        needs_lookup: false,
        legs,
    }
}

/// One agent leg's truth: `label` in a default run, `without` with enrichment disabled; a live leg shows
/// only what analytics has at `live_at`.
fn truth_leg(
    p: &super::model::SimParticipant,
    label: LegLabel,
    without: LegLabel,
    live_at: Option<DateTime<Utc>>,
    mismatch: Option<crate::record::Mismatch>,
) -> TruthLeg {
    let (queue_id, media_type, acw_ms) = leg_facts(p, live_at);
    TruthLeg {
        code: code_of(p, label),
        participant_id: p.participant_id.to_string(),
        user_id: p.user_id.map(|u| u.to_string()).unwrap_or_default(),
        label,
        label_without_lookup: without,
        queue_id,
        media_type,
        acw_ms,
        mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_follows_the_contract() {
        use LegLabel::*;
        assert_eq!(conversation_label(&[]), ConversationLabel::NoAgent);
        assert_eq!(
            conversation_label(&[NotConnected]),
            ConversationLabel::NotConnected
        );
        assert_eq!(
            conversation_label(&[NotConnected, Coded]),
            ConversationLabel::Coded
        );
        assert_eq!(
            conversation_label(&[Coded, Timeout]),
            ConversationLabel::Timeout
        );
        assert_eq!(
            conversation_label(&[System, NoWrapupPhase]),
            ConversationLabel::System
        );
        // A null by design never outranks a code (§2 step 4, revised).
        for by_design in [NoWrapupPhase, Skipped, NotRequired] {
            assert_eq!(
                conversation_label(&[Coded, by_design]),
                ConversationLabel::Coded
            );
            assert_eq!(
                conversation_label(&[by_design, Coded]),
                ConversationLabel::Coded
            );
        }
        assert_eq!(
            conversation_label(&[Recovered, Missing]),
            ConversationLabel::Missing
        );
        assert_eq!(
            conversation_label(&[NeedsLookup, Coded]),
            ConversationLabel::Unexplained
        );
        assert_eq!(
            conversation_label(&[Coded, Pending]),
            ConversationLabel::InProgress
        );
    }
}
