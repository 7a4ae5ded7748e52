//! What `summary.json` holds (the types the renderers and findings read), and how labels group.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::record::ConversationLabel;
use crate::record::Counts;
use crate::record::Kind;

impl Kind {
    /// CSS class and the words the summaries use.
    pub fn class_and_title(self) -> (&'static str, &'static str) {
        match self {
            Kind::Coded => ("coded", "has a code"),
            Kind::ByDesign => ("design", "null by design"),
            Kind::Gap => ("gap", "gap"),
        }
    }
}

/// The kind of a conversation label. Unknown spellings count as gaps so they stay visible.
pub fn conversation_kind(label: &str) -> Kind {
    ConversationLabel::parse(label).map_or(Kind::Gap, ConversationLabel::kind)
}

/// Agents with fewer owed legs than this are not ranked by rate (a rate of 1 of 2 says little).
pub const MIN_OWED_TO_RANK: u64 = 5;

/// The share of every label.
#[derive(Debug, Clone, Serialize)]
pub struct LabelShare {
    pub label: &'static str,
    pub conversations: u64,
    pub share: f64,
    pub null_by_design: bool,
}

/// Conversation labels of one queue, with its name.
#[derive(Debug, Clone, Serialize)]
pub struct QueueLabels {
    pub name: Option<String>,
    pub labels: BTreeMap<String, u64>,
}

/// [`Counts`] with the derived numbers every reader wants next to them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rates {
    #[serde(flatten)]
    pub counts: Counts,
    pub gaps: u64,
    pub gap_rate: Option<f64>,
    pub timeout_rate: Option<f64>,
}

impl From<Counts> for Rates {
    fn from(c: Counts) -> Rates {
        Rates {
            gaps: c.gaps(),
            gap_rate: c.gap_rate(),
            timeout_rate: c.timeout_rate(),
            counts: c,
        }
    }
}

/// An agent or queue: its id is the map key, its name sits beside the numbers.
#[derive(Debug, Clone, Serialize)]
pub struct Named {
    /// Null for the `(none)` key; `(unresolved) <id>` for ids the catalog lacks.
    pub name: Option<String>,
    /// Queues only: the configured `acwSettings`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wrapup_prompt: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acw_timeout_ms: Option<i64>,
    #[serde(flatten)]
    pub rates: Rates,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ComplianceSummary {
    pub min_owed_to_rank: u64,
    pub total: Rates,
    /// User id → numbers.
    pub by_agent: BTreeMap<String, Named>,
    /// Queue id → numbers.
    pub by_queue: BTreeMap<String, Named>,
    pub by_media: BTreeMap<String, Rates>,
    pub by_day: BTreeMap<String, Rates>,
    /// User ids with at least `min_owed_to_rank` owed legs, highest gap rate first.
    pub agents_by_gap_rate: Vec<String>,
}

/// Legs whose label disagrees with their queue's configured prompt, per kind and queue.
#[derive(Debug, Clone, Serialize)]
pub struct MismatchGroup {
    pub mismatch: &'static str,
    pub queue_id: String,
    pub queue_name: Option<String>,
    pub queue_wrapup_prompt: Option<String>,
    pub legs: u64,
    pub example_conversation_ids: Vec<String>,
}

/// One day of the output folder (this run's or an earlier one's), from `partitions.json`.
#[derive(Debug, Clone, Serialize)]
pub struct TrendDay {
    pub date: String,
    pub in_window: bool,
    pub is_final: bool,
    pub owed: u64,
    pub gaps: u64,
    pub timeout: u64,
    pub gap_rate: Option<f64>,
    pub timeout_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub job: String,
    pub window_from: String,
    pub window_to: String,
    pub timezone: String,
    pub as_of: String,
    pub status: &'static str,
    pub conversations: u64,
    pub legs: u64,
    /// What to fix first, most important first.
    pub findings: Vec<Finding>,
    pub labels: Vec<LabelShare>,
    pub leg_labels: BTreeMap<String, u64>,
    pub by_day: BTreeMap<String, BTreeMap<String, u64>>,
    pub compliance: ComplianceSummary,
    pub config_mismatches: Vec<MismatchGroup>,
    pub trend: Vec<TrendDay>,
    pub lookups: crate::transform::counts::LookupStats,
    pub api: crate::api::ApiStatsSnapshot,
    pub dropped_outside_window: u64,
    pub dropped_duplicates: u64,
    /// Queue id (`(none)` without one) → name and conversation labels.
    pub by_queue: BTreeMap<String, QueueLabels>,
    /// Media type (`(none)` without one) → conversation labels.
    pub by_media: BTreeMap<String, BTreeMap<String, u64>>,
    /// Name cells written as `(unresolved) <id>`, per catalog (both tables counted).
    pub unresolved: crate::transform::names::Unresolved,
}

/// One thing to fix first, as "What to fix first" shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// `queue_gaps`, `agent_gaps`, `config_mismatch`, `trend`, `timeout_acw` or `no_gaps`.
    pub kind: &'static str,
    pub title: String,
    pub detail: String,
    /// What to change.
    pub action: String,
    /// A few conversations to open first.
    pub conversation_ids: Vec<String>,
    /// DuckDB SQL, run in the output folder, that lists every conversation behind the finding.
    pub query: Option<String>,
}
