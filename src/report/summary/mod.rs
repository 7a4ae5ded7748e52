//! The run summary: `summary.json` (ids as keys, names beside them), and the same numbers for people
//! in `summary.md` and `summary.html`, both rendered from templates ([`render`]).

pub mod charts;
pub mod findings;
mod model;
pub mod render;

use std::collections::BTreeMap;

use crate::config::Config;
use crate::record::ConversationLabel;
use crate::record::Counts;
pub use crate::record::Kind;
use crate::report::IndexEntry;
use crate::stats::RunOutcome;
use crate::time::iso_ms;
use crate::transform::compliance::NONE_KEY;
use crate::transform::names::Catalogs;
pub use model::{
    conversation_kind, ComplianceSummary, Finding, LabelShare, MismatchGroup, Named, QueueLabels,
    Rates, Summary, TrendDay, MIN_OWED_TO_RANK,
};

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
