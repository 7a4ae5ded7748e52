//! What the transforms count per partition: labels, lookups, names that fell back, compliance.
//! A run's totals are the sum over its partitions (`stats::RunOutcome`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::transform::names::Unresolved;

/// Lookup counters for the summary (contract §3).
#[derive(Debug, Default, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct LookupStats {
    /// Conversations that needed a lookup.
    pub needed: u64,
    /// Lookups made.
    pub made: u64,
    /// Conversations not looked up because the budget was spent.
    pub over_budget: u64,
    /// Conversations not looked up because lookups are off.
    pub disabled: u64,
    /// Lookups that ended in `lookup_failed` (404, 403, retries exhausted).
    pub failed: u64,
    /// Of those, failures a rerun may fix (retries exhausted, transport errors).
    pub failed_transient: u64,
}

impl LookupStats {
    pub fn add(&mut self, o: &LookupStats) {
        self.needed += o.needed;
        self.made += o.made;
        self.over_budget += o.over_budget;
        self.disabled += o.disabled;
        self.failed += o.failed;
        self.failed_transient += o.failed_transient;
    }
}

/// Counts of one partition; a run's totals are the sum over its partitions, so a resumed run
/// reports the same totals as an uninterrupted one.
#[derive(Debug, Default, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PartitionStats {
    pub labels: BTreeMap<String, u64>,
    pub leg_labels: BTreeMap<String, u64>,
    pub lookups: LookupStats,
    /// Conversation labels per last queue (`(none)` without one).
    #[serde(default)]
    pub by_queue: BTreeMap<String, BTreeMap<String, u64>>,
    /// Conversation labels per customer-facing media type.
    #[serde(default)]
    pub by_media: BTreeMap<String, BTreeMap<String, u64>>,
    /// `missing` legs per agent (user id, else participant id).
    #[serde(default)]
    pub missing_by_agent: BTreeMap<String, u64>,
    /// Names that fell back to `(unresolved) <id>`.
    #[serde(default)]
    pub unresolved: Unresolved,
    /// Owed, coded and missing legs per agent, queue and media (issue 13).
    #[serde(default)]
    pub compliance: crate::transform::compliance::DayCompliance,
    /// Rows the details query returned that fell outside the day or repeated an earlier row.
    pub dropped_outside_window: u64,
    pub dropped_duplicates: u64,
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

impl PartitionStats {
    /// Adds another partition's counts to these.
    pub fn add(&mut self, o: &PartitionStats) {
        add_counts(&mut self.labels, &o.labels);
        add_counts(&mut self.leg_labels, &o.leg_labels);
        self.lookups.add(&o.lookups);
        for (into, from) in [
            (&mut self.by_queue, &o.by_queue),
            (&mut self.by_media, &o.by_media),
        ] {
            for (k, labels) in from {
                add_counts(into.entry(k.clone()).or_default(), labels);
            }
        }
        add_counts(&mut self.missing_by_agent, &o.missing_by_agent);
        self.unresolved.add(&o.unresolved);
        self.compliance.add(&o.compliance);
        self.dropped_outside_window += o.dropped_outside_window;
        self.dropped_duplicates += o.dropped_duplicates;
    }
}
