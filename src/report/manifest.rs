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
    /// Absent while the run goes on (`status` is then `running`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<u8>,
    pub partitions: &'a [crate::stats::PartitionRecord],
    pub files: Vec<sink::FileInfo>,
    /// What makes two runs the same job: a run with an equal fingerprint may resume this one.
    pub fingerprint: serde_json::Value,
    pub resumed_days: u64,
    /// Earlier, not yet final days this run re-audited (`lookback_days`).
    pub healed_days: Vec<String>,
    /// Peak resident memory of the process in KiB (Linux), for capacity planning.
    pub peak_rss_kb: Option<u64>,
    /// The run's totals: absent while it goes on (the partitions hold the counts so far).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lookups: Option<&'a crate::transform::counts::LookupStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<&'a crate::api::ApiStatsSnapshot>,
    /// Present when the job has `fail_if` gates and the run was judged by them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_gates: Option<super::gates::QualityGates>,
    pub error: Option<String>,
}

impl<'a> Manifest<'a> {
    /// The manifest of a run still going on: its settings and the partitions finished so far.
    /// `finish` (finish.rs) fills in the end (time, status, exit code, files, totals).
    pub fn running(
        cfg: &'a Config,
        run_id: &'a str,
        started: DateTime<Utc>,
        partitions: &'a [crate::stats::PartitionRecord],
    ) -> Manifest<'a> {
        Manifest {
            run_id,
            tool: "wrapup-audit",
            version: env!("CARGO_PKG_VERSION"),
            job: &cfg.job_name,
            job_file: cfg.job_file.as_ref().map(|p| p.display().to_string()),
            source: source_name(cfg),
            window: WindowInfo {
                from: iso_ms(cfg.window.from),
                to: iso_ms(cfg.window.to),
                timezone: cfg.window.timezone.to_string(),
                days: cfg
                    .window
                    .days()
                    .iter()
                    .map(|(d, _, _)| d.to_string())
                    .collect(),
            },
            as_of: iso_ms(cfg.as_of),
            settle_minutes: cfg.settle_minutes,
            lookup_mode: cfg.lookup.as_str(),
            lookup_budget: cfg.lookup_budget,
            formats: cfg.formats.to_string(),
            started_at: iso_ms(started),
            finished_at: None,
            status: "running",
            exit_code: None,
            partitions,
            files: Vec::new(),
            fingerprint: fingerprint(cfg),
            resumed_days: 0,
            healed_days: cfg.lookback.iter().map(|d| d.to_string()).collect(),
            peak_rss_kb: None,
            lookups: None,
            api: None,
            quality_gates: None,
            error: None,
        }
    }
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
    let manifest = Manifest::running(cfg, run_id, started, partitions);
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

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::{RawJob, RunArgs};

    fn cfg() -> Config {
        let args = RunArgs {
            simulator: true,
            from: Some("2026-03-01".into()),
            to: Some("2026-03-03".into()),
            ..RunArgs::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 3, 5, 6, 0, 0).unwrap();
        let env: [(&str, &str); 0] = [];
        Config::build(RawJob::default(), &args, &env, now).unwrap()
    }

    /// The keys docs/columns.md's manifest table lists, in its order.
    fn documented_keys() -> Vec<String> {
        let doc = include_str!("../../docs/columns.md");
        let table = &doc[doc.find("## manifest.json").unwrap()..];
        let table = &table[..table.find("\n## ").unwrap()];
        table
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .map(str::to_string)
            .collect()
    }

    fn keys(v: &serde_json::Value) -> Vec<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn a_running_manifest_is_the_finished_one_without_its_end() {
        let c = cfg();
        let started = Utc.with_ymd_and_hms(2026, 3, 5, 6, 0, 1).unwrap();
        let running = serde_json::to_value(Manifest::running(&c, "r1", started, &[])).unwrap();
        assert_eq!(running["status"], "running");
        assert_eq!(
            running["window"]["days"],
            serde_json::json!(["2026-03-01", "2026-03-02"])
        );
        let lookups = crate::transform::counts::LookupStats::default();
        let api = crate::api::ApiStatsSnapshot::default();
        let finished = Manifest {
            finished_at: Some(iso_ms(started)),
            status: "success",
            exit_code: Some(0),
            lookups: Some(&lookups),
            api: Some(&api),
            quality_gates: Some(Default::default()),
            ..Manifest::running(&c, "r1", started, &[])
        };
        let finished = serde_json::to_value(&finished).unwrap();
        let mut documented = documented_keys();
        assert_eq!(keys(&finished).len(), documented.len());
        let mut got = keys(&finished);
        got.sort();
        documented.sort();
        assert_eq!(got, documented, "manifest keys and docs/columns.md differ");
        let ends = [
            "finished_at",
            "exit_code",
            "lookups",
            "api",
            "quality_gates",
        ];
        let expected: Vec<&String> = documented
            .iter()
            .filter(|k| !ends.contains(&k.as_str()))
            .collect();
        let mut running_keys = keys(&running);
        running_keys.sort();
        assert_eq!(running_keys.iter().collect::<Vec<_>>(), expected);
    }
}
