//! The run summary: `summary.json` (ids as keys, names beside them), and the same numbers for people
//! in `summary.md` and `summary.html`, both rendered from templates ([`render`]).

pub mod charts;
pub mod findings;
pub mod render;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;
use crate::record::ConversationLabel;
use crate::record::Counts;
pub use crate::record::Kind;
use crate::report::IndexEntry;
use crate::stats::RunOutcome;
use crate::time::iso_ms;
use crate::transform::compliance::NONE_KEY;
use crate::transform::names::Catalogs;

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
    pub findings: Vec<findings::Finding>,
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

fn queue_named(catalogs: &Catalogs, id: &str, c: Counts) -> Named {
    let (wrapup_prompt, acw_timeout_ms) = catalogs.queue_acw(Some(id));
    Named {
        name: (id != NONE_KEY).then(|| catalogs.queue_name(id)),
        wrapup_prompt,
        acw_timeout_ms,
        rates: c.into(),
    }
}

/// The per-day trend over every day `partitions.json` knows, the run's own days marked.
pub fn trend(
    index: &BTreeMap<chrono::NaiveDate, IndexEntry>,
    run_days: &[String],
) -> Vec<TrendDay> {
    index
        .iter()
        .filter_map(|(d, e)| {
            let c = e.compliance?;
            let date = d.to_string();
            Some(TrendDay {
                in_window: run_days.contains(&date),
                date,
                is_final: e.is_final,
                owed: c.owed,
                gaps: c.gaps(),
                timeout: c.timeout,
                gap_rate: c.gap_rate(),
                timeout_rate: c.timeout_rate(),
            })
        })
        .collect()
}

/// Builds the summary of a finished audit. `index` is `partitions.json` after the run's days.
// Long: assembles every section of summary.json from the same totals.
pub fn build(
    cfg: &Config,
    o: &RunOutcome,
    catalogs: &Catalogs,
    index: &BTreeMap<chrono::NaiveDate, IndexEntry>,
) -> Summary {
    let total = o.conversations.max(1) as f64;
    let comp = &o.totals.compliance;
    let by_agent: BTreeMap<String, Named> = comp
        .by_agent
        .iter()
        .map(|(id, c)| {
            let named = Named {
                name: (id != NONE_KEY).then(|| catalogs.user_name(id)),
                wrapup_prompt: None,
                acw_timeout_ms: None,
                rates: (*c).into(),
            };
            (id.clone(), named)
        })
        .collect();
    let mut ranked: Vec<(&String, &Named)> = by_agent
        .iter()
        .filter(|(id, n)| *id != NONE_KEY && n.rates.counts.owed >= MIN_OWED_TO_RANK)
        .collect();
    // Highest rate first; at equal rates the one with more gaps, then by id for a stable order.
    ranked.sort_by(|a, b| {
        let r = |n: &Named| n.rates.gap_rate.unwrap_or(0.0);
        r(b.1)
            .total_cmp(&r(a.1))
            .then(b.1.rates.gaps.cmp(&a.1.rates.gaps))
            .then(a.0.cmp(b.0))
    });
    let compliance = ComplianceSummary {
        min_owed_to_rank: MIN_OWED_TO_RANK,
        total: comp.total.into(),
        agents_by_gap_rate: ranked.iter().map(|(id, _)| (*id).clone()).collect(),
        by_agent: by_agent.clone(),
        by_queue: comp
            .by_queue
            .iter()
            .map(|(id, c)| (id.clone(), queue_named(catalogs, id, *c)))
            .collect(),
        by_media: comp
            .by_media
            .iter()
            .map(|(k, c)| (k.clone(), (*c).into()))
            .collect(),
        by_day: o
            .partitions
            .iter()
            .map(|p| (p.date.to_string(), p.stats.compliance.total.into()))
            .collect(),
    };
    let config_mismatches = comp
        .mismatches
        .iter()
        .filter_map(|(key, n)| {
            let (kind, queue) = key.split_once('|')?;
            let m = crate::record::Mismatch::parse(kind)?;
            let (prompt, _) = catalogs.queue_acw(Some(queue));
            Some(MismatchGroup {
                mismatch: m.as_str(),
                queue_id: queue.to_string(),
                queue_name: (queue != NONE_KEY).then(|| catalogs.queue_name(queue)),
                queue_wrapup_prompt: prompt,
                legs: *n,
                example_conversation_ids: comp
                    .examples
                    .get(&format!("mismatch|{key}"))
                    .cloned()
                    .unwrap_or_default(),
            })
        })
        .collect();
    let run_days: Vec<String> = o.partitions.iter().map(|p| p.date.to_string()).collect();
    let mut s = Summary {
        run_id: o.run_id.clone(),
        job: cfg.job_name.clone(),
        window_from: iso_ms(cfg.window.from),
        window_to: iso_ms(cfg.window.to),
        timezone: cfg.window.timezone.to_string(),
        as_of: iso_ms(cfg.as_of),
        status: o.status.as_str(),
        conversations: o.conversations,
        legs: o.legs,
        findings: Vec::new(),
        labels: ConversationLabel::ALL
            .iter()
            .map(|l| {
                let n = o.totals.labels.get(l.as_str()).copied().unwrap_or(0);
                LabelShare {
                    label: l.as_str(),
                    conversations: n,
                    share: crate::record::round4(n as f64 / total),
                    null_by_design: l.null_by_design(),
                }
            })
            .collect(),
        leg_labels: o.totals.leg_labels.clone(),
        by_day: o
            .partitions
            .iter()
            .map(|p| (p.date.to_string(), p.stats.labels.clone()))
            .collect(),
        compliance,
        config_mismatches,
        trend: trend(index, &run_days),
        lookups: o.totals.lookups.clone(),
        api: o.api.clone(),
        dropped_outside_window: o.totals.dropped_outside_window,
        dropped_duplicates: o.totals.dropped_duplicates,
        by_queue: o
            .totals
            .by_queue
            .iter()
            .map(|(id, labels)| {
                let q = QueueLabels {
                    name: (id != NONE_KEY).then(|| catalogs.queue_name(id)),
                    labels: labels.clone(),
                };
                (id.clone(), q)
            })
            .collect(),
        by_media: o.totals.by_media.clone(),
        unresolved: o.totals.unresolved.clone(),
    };
    s.findings = findings::findings(&s, &comp.examples, cfg.formats);
    s
}
