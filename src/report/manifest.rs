//! `manifest.json`: what a run did, written last; while the run goes on, its checkpoints.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{write_json, MANIFEST_FILE};
use crate::config::{Config, Source};
use crate::exit::{ExitStatus, Failure};
use crate::sink;
use crate::time::iso_ms;

#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    pub run_id: &'a str,
    pub tool: &'static str,
    pub version: &'static str,
    pub job: &'a str,
    pub job_file: Option<String>,
    pub source: String,
    pub window: WindowInfo,
    pub as_of: String,
    pub settle_minutes: i64,
    pub lookup_mode: &'static str,
    pub lookup_budget: Option<u64>,
    pub formats: String,
    pub started_at: String,
    pub finished_at: String,
    pub status: &'static str,
    pub exit_code: u8,
    pub partitions: &'a [crate::stats::PartitionRecord],
    pub files: Vec<sink::FileInfo>,
    /// What makes two runs the same job: a run with an equal fingerprint may resume this one.
    pub fingerprint: serde_json::Value,
    pub resumed_days: u64,
    /// Earlier, not yet final days this run re-audited (`lookback_days`).
    pub healed_days: Vec<String>,
    /// Peak resident memory of the process in KiB (Linux), for capacity planning.
    pub peak_rss_kb: Option<u64>,
    pub lookups: &'a crate::transform::counts::LookupStats,
    pub api: &'a crate::api::ApiStatsSnapshot,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct WindowInfo {
    pub from: String,
    pub to: String,
    pub timezone: String,
    pub days: Vec<String>,
}

/// The settings that decide a run's files. Two runs with equal fingerprints write equal partitions.
pub fn fingerprint(cfg: &Config) -> serde_json::Value {
    serde_json::json!({
        "window_from": iso_ms(cfg.window.from),
        "window_to": iso_ms(cfg.window.to),
        "timezone": cfg.window.timezone.to_string(),
        "as_of": cfg.as_of_explicit.then(|| iso_ms(cfg.as_of)),
        "settle_minutes": cfg.settle_minutes,
        "lookup": cfg.lookup.as_str(),
        "lookup_budget": cfg.lookup_budget,
        "formats": cfg.formats.to_string(),
        "media_types": cfg.filters.media_types,
        "queue_ids": cfg.filters.queue_ids,
        "page_size": cfg.page_size,
        "source": source_name(cfg),
    })
}

pub(super) fn source_name(cfg: &Config) -> String {
    match &cfg.source {
        Source::Simulator {
            seed,
            conversations_per_day,
            ..
        } => {
            format!(
                "embedded simulator (seed {seed}, {conversations_per_day} conversations per day)"
            )
        }
        Source::Genesys { endpoints, .. } => endpoints.api_base.clone(),
    }
}

/// Writes the manifest of a run still in progress: status `running` and the partitions so far.
pub fn checkpoint(
    cfg: &Config,
    run_id: &str,
    started: DateTime<Utc>,
    partitions: &[crate::stats::PartitionRecord],
) -> Result<(), Failure> {
    let manifest = serde_json::json!({
        "run_id": run_id,
        "tool": "wrapup-audit",
        "version": env!("CARGO_PKG_VERSION"),
        "job": cfg.job_name,
        "source": source_name(cfg),
        "as_of": iso_ms(cfg.as_of),
        "started_at": iso_ms(started),
        "status": "running",
        "fingerprint": fingerprint(cfg),
        "partitions": partitions,
    });
    write_json(&cfg.output_dir, MANIFEST_FILE, &manifest)
        .map(|_| ())
        .map_err(|e| {
            Failure::new(
                ExitStatus::Output,
                format!(
                    "cannot write the manifest in {}: {e:#}",
                    cfg.output_dir.display()
                ),
            )
        })
}

/// `VmHWM` of this process, where `/proc` has it.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
