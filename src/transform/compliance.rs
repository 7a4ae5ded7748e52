//! Compliance with denominators: of the legs that owed a wrap-up code, how many got one, per agent,
//! queue, media type and day.
//!
//! A leg owes a code unless its label is a null by design (`pending`, `skipped`, `not_connected`,
//! `no_wrapup_phase`, `not_required`), and its conversation's label is final (not `in_progress` or
//! `too_recent`: the next run counts those). Of the owed legs:
//! `with_code` = `coded` + `recovered` + `system`; `gaps` = the rest (`timeout` + `missing` +
//! `unknown`, where `unknown` = `unexplained` + `lookup_failed`). `gap_rate` = gaps / owed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::record::{ComplianceRow, ConversationLabel, Counts, LegLabel, LegRow};

impl Counts {
    /// Adds one leg with its final label, in a conversation with label `conversation`.
    pub fn count(&mut self, leg: &LegRow, conversation: ConversationLabel) {
        self.legs += 1;
        self.acw_ms += leg.acw_ms;
        self.config_mismatches += u64::from(leg.config_mismatch.is_some());
        if leg.label == LegLabel::Timeout {
            self.timeout_acw_ms += leg.acw_ms;
        }
        if !owes_code(leg.label, conversation) {
            return;
        }
        self.owed += 1;
        match leg.label {
            LegLabel::Timeout => self.timeout += 1,
            LegLabel::Missing => self.missing += 1,
            LegLabel::Coded | LegLabel::Recovered | LegLabel::System => self.with_code += 1,
            _ => self.unknown += 1,
        }
    }
}

/// True when a leg with this final label owed a code (see the module comment).
pub fn owes_code(label: LegLabel, conversation: ConversationLabel) -> bool {
    let settled = !matches!(
        conversation,
        ConversationLabel::InProgress | ConversationLabel::TooRecent
    );
    let by_design = matches!(
        label,
        LegLabel::Pending
            | LegLabel::Skipped
            | LegLabel::NotConnected
            | LegLabel::NoWrapupPhase
            | LegLabel::NotRequired
            | LegLabel::NeedsLookup
    );
    settled && !by_design
}

/// The grain of the `compliance` table: one agent on one queue in one media type (within a day).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key {
    pub user_id: Option<String>,
    pub queue_id: Option<String>,
    pub media_type: Option<String>,
}

/// What one day contributes: the table's rows and the totals the summary ranks.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCompliance {
    /// Rows of the day's `compliance` partition. Not kept in the manifest: the files hold them.
    #[serde(skip)]
    pub rows: BTreeMap<Key, Counts>,
    pub total: Counts,
    /// By user id (`(none)` for legs without one).
    pub by_agent: BTreeMap<String, Counts>,
    /// By queue id (`(none)` for legs without a queue).
    pub by_queue: BTreeMap<String, Counts>,
    pub by_media: BTreeMap<String, Counts>,
    /// `<mismatch>|<queue id>` → legs flagged.
    pub mismatches: BTreeMap<String, u64>,
    /// The first few conversation ids behind a finding, keyed `gap|agent|<id>`, `gap|queue|<id>`,
    /// `timeout|queue|<id>` and `mismatch|<kind>|<queue id>`.
    pub examples: BTreeMap<String, Vec<String>>,
}

pub const NONE_KEY: &str = "(none)";

/// Example conversation ids kept per key.
pub const EXAMPLES: usize = 5;

fn push_example(examples: &mut BTreeMap<String, Vec<String>>, key: String, id: &str) {
    let ids = examples.entry(key).or_default();
    if ids.len() < EXAMPLES && !ids.iter().any(|i| i == id) {
        ids.push(id.to_string());
    }
}

impl DayCompliance {
    /// Counts one leg everywhere.
    pub fn count(&mut self, leg: &LegRow, conversation: ConversationLabel) {
        let key = Key {
            user_id: leg.user_id.clone(),
            queue_id: leg.queue_id.clone(),
            media_type: leg.media_type.clone(),
        };
        let or_none = |s: &Option<String>| s.clone().unwrap_or_else(|| NONE_KEY.to_string());
        for c in [
            self.rows.entry(key).or_default(),
            &mut self.total,
            self.by_agent.entry(or_none(&leg.user_id)).or_default(),
            self.by_queue.entry(or_none(&leg.queue_id)).or_default(),
            self.by_media.entry(or_none(&leg.media_type)).or_default(),
        ] {
            c.count(leg, conversation);
        }
        let queue = or_none(&leg.queue_id);
        if let Some(m) = leg.config_mismatch {
            *self
                .mismatches
                .entry(format!("{}|{queue}", m.as_str()))
                .or_default() += 1;
            push_example(
                &mut self.examples,
                format!("mismatch|{}|{queue}", m.as_str()),
                &leg.conversation_id,
            );
        }
        let mut one = Counts::default();
        one.count(leg, conversation);
        if one.gaps() > 0 {
            let id = &leg.conversation_id;
            push_example(
                &mut self.examples,
                format!("gap|agent|{}", or_none(&leg.user_id)),
                id,
            );
            push_example(&mut self.examples, format!("gap|queue|{queue}"), id);
            if one.timeout > 0 {
                push_example(&mut self.examples, format!("timeout|queue|{queue}"), id);
            }
        }
    }

    /// Adds another day's totals (the rows stay with their own day).
    pub fn add(&mut self, o: &DayCompliance) {
        self.total.add(&o.total);
        for (into, from) in [
            (&mut self.by_agent, &o.by_agent),
            (&mut self.by_queue, &o.by_queue),
            (&mut self.by_media, &o.by_media),
        ] {
            for (k, c) in from {
                into.entry(k.clone()).or_default().add(c);
            }
        }
        for (k, n) in &o.mismatches {
            *self.mismatches.entry(k.clone()).or_default() += n;
        }
        for (k, ids) in &o.examples {
            for id in ids {
                push_example(&mut self.examples, k.clone(), id);
            }
        }
    }
}

/// The day's table rows, names by the name rule, in key order.
pub fn table_rows(
    day: &DayCompliance,
    catalogs: &crate::transform::names::Catalogs,
) -> Vec<ComplianceRow> {
    day.rows
        .iter()
        .map(|(k, c)| {
            let (queue_wrapup_prompt, queue_acw_timeout_ms) =
                catalogs.queue_acw(k.queue_id.as_deref());
            ComplianceRow {
                user_id: k.user_id.clone(),
                agent_name: k.user_id.as_deref().map(|u| catalogs.user_name(u)),
                queue_id: k.queue_id.clone(),
                queue_name: k.queue_id.as_deref().map(|q| catalogs.queue_name(q)),
                media_type: k.media_type.clone(),
                queue_wrapup_prompt,
                queue_acw_timeout_ms,
                counts: *c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::testdata::leg;

    fn leg_with(label: LegLabel, acw: i64) -> LegRow {
        let mut l = leg::fixture().remove(0);
        l.label = label;
        l.acw_ms = acw;
        l.config_mismatch = None;
        l
    }

    #[test]
    fn owed_legs_exclude_nulls_by_design_and_unsettled_conversations() {
        use LegLabel::*;
        let mut c = Counts::default();
        for (label, acw) in [
            (Coded, 10),
            (Recovered, 20),
            (System, 0),
            (Timeout, 60_000),
            (Timeout, 30_000),
            (Missing, 5),
            (Unexplained, 1),
            (LookupFailed, 1),
            (Skipped, 2),
            (NotConnected, 0),
            (NoWrapupPhase, 0),
            (NotRequired, 3),
        ] {
            c.count(&leg_with(label, acw), ConversationLabel::Coded);
        }
        // A coded leg of a conversation the next run must redo is not counted as owed yet.
        c.count(&leg_with(Coded, 7), ConversationLabel::TooRecent);
        c.count(&leg_with(Pending, 0), ConversationLabel::InProgress);
        assert_eq!(
            c,
            Counts {
                legs: 14,
                owed: 8,
                with_code: 3,
                timeout: 2,
                missing: 1,
                unknown: 2,
                acw_ms: 90_049,
                timeout_acw_ms: 90_000,
                config_mismatches: 0,
            }
        );
        assert_eq!(c.gaps(), 5);
        assert_eq!(c.gap_rate(), Some(0.625));
        assert_eq!(c.timeout_rate(), Some(0.25));
        assert_eq!(Counts::default().gap_rate(), None);
    }

    #[test]
    fn days_add_up_by_every_dimension() {
        let mut a = DayCompliance::default();
        let mut l = leg_with(LegLabel::Missing, 1);
        l.config_mismatch = Some(crate::record::Mismatch::RequiredOnOptionalQueue);
        a.count(&l, ConversationLabel::Missing);
        let mut b = DayCompliance::default();
        let mut other = leg_with(LegLabel::Coded, 2);
        other.user_id = None;
        b.count(&other, ConversationLabel::Coded);
        a.add(&b);
        assert_eq!(a.total.owed, 2);
        assert_eq!(a.total.config_mismatches, 1);
        assert_eq!(a.by_agent["u-1"].missing, 1);
        assert_eq!(a.by_agent[NONE_KEY].with_code, 1);
        assert_eq!(a.by_queue["q-1"].owed, 2);
        assert_eq!(a.by_media["voice"].legs, 2);
        // Rows are per day; adding days keeps only the first day's rows.
        assert_eq!(a.rows.len(), 1);
        assert_eq!(a.mismatches["required_on_optional_queue|q-1"], 1);
        assert_eq!(a.examples["gap|agent|u-1"], ["c-1"]);
        assert_eq!(
            a.examples["mismatch|required_on_optional_queue|q-1"],
            ["c-1"]
        );
        assert!(!a.examples.contains_key("gap|agent|(none)"));
    }
}
