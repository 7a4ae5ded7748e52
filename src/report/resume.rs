//! The resume plan: what the output folder says this run should do before it fetches anything.
//!
//! It is decided once, after the output lock is held and before the run's final [`Config`] is made:
//! an unfinished run of the same job is continued with its own clock and finished days, and earlier
//! days that are not final yet are re-audited (`lookback_days`).

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use crate::config::Config;
use crate::stats::PartitionRecord;
use crate::time::iso_ms;

/// What the run takes over from the output folder.
#[derive(Debug, Clone)]
pub struct ResumePlan {
    /// The run's clock: the unfinished run's when resuming, else the one the configuration asked for.
    pub as_of: DateTime<Utc>,
    /// Earlier days within `lookback_days` whose partitions are not final yet.
    pub lookback: Vec<NaiveDate>,
    /// Partitions an unfinished run of the same job finished, all of their files still present.
    pub done: Vec<PartitionRecord>,
}

impl ResumePlan {
    /// A run that takes nothing over: its own clock, no lookback days, nothing done.
    pub fn fresh(cfg: &Config) -> ResumePlan {
        ResumePlan {
            as_of: cfg.as_of,
            lookback: Vec::new(),
            done: Vec::new(),
        }
    }

    /// Reads the output folder (`manifest.json`, `partitions.json`). `present` says whether a file
    /// (relative to the output) exists: for an object store, the bucket's listing.
    pub fn decide(cfg: &Config, present: &dyn Fn(&Path) -> bool) -> ResumePlan {
        let mut plan = ResumePlan::fresh(cfg);
        if let Some((as_of, done)) = resumable_with(cfg, present) {
            tracing::info!(days = done.len(), as_of = %iso_ms(as_of), "Resuming an unfinished run of this job ({} days already written)", done.len());
            plan.as_of = as_of;
            plan.done = done;
        }
        plan.lookback = super::days_to_heal(cfg);
        if !plan.lookback.is_empty() {
            tracing::info!(days = %serde_json::to_string(&plan.lookback).unwrap_or_default(), "Re-auditing {} earlier day(s) that were not final", plan.lookback.len());
        }
        plan
    }

    /// The run's final configuration: the validated one with this plan's clock and lookback days.
    /// Made once, before anything reads it; nothing changes a `Config` afterwards.
    pub fn config(&self, validated: Config) -> Config {
        Config {
            as_of: self.as_of,
            lookback: self.lookback.clone(),
            ..validated
        }
    }
}

/// The part of an earlier manifest needed to resume its run.
#[derive(Debug, serde::Deserialize)]
struct PreviousManifest {
    status: String,
    as_of: String,
    fingerprint: serde_json::Value,
    partitions: Vec<PartitionRecord>,
}

/// Statuses after which a run with the same fingerprint continues instead of starting over.
const RESUMABLE: &[&str] = &[
    "running",
    "interrupted",
    "terminated",
    "timed_out",
    "internal_error",
    "api_unavailable",
    "output_error",
    "auth_error",
];

/// If the output directory holds an unfinished run of the same job, returns its `as_of` and the
/// partitions it finished whose files are all still present. `--force` skips this.
fn resumable_with(
    cfg: &Config,
    present: &dyn Fn(&Path) -> bool,
) -> Option<(DateTime<Utc>, Vec<PartitionRecord>)> {
    let path = cfg.output_dir.join(super::MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).ok()?;
    let prev: PreviousManifest = match serde_json::from_str(&text) {
        Ok(p) => p,
        Err(e) => {
            // Not resuming is safe: every day of the window is fetched and written again.
            tracing::warn!(file = %path.display(), "{} is unreadable ({e}): not resuming; every day of the window is fetched again", path.display());
            return None;
        }
    };
    if cfg.force
        || !RESUMABLE.contains(&prev.status.as_str())
        || prev.fingerprint != super::fingerprint(cfg)
    {
        return None;
    }
    let as_of = DateTime::parse_from_rfc3339(&prev.as_of)
        .ok()?
        .with_timezone(&Utc);
    let done = prev
        .partitions
        .into_iter()
        .filter(|p| p.files.iter().all(|f| present(&f.path)))
        .collect();
    Some((as_of, done))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{RawJob, RunArgs};

    fn cfg(out: &Path, args: RunArgs) -> Config {
        let args = RunArgs {
            simulator: true,
            from: Some("2026-11-10".into()),
            to: Some("2026-11-12".into()),
            as_of: Some("2026-11-12T06:00:00Z".into()),
            output_dir: Some(out.to_path_buf()),
            ..args
        };
        Config::build(RawJob::default(), &args, &[("", ""); 0], Utc::now()).unwrap()
    }

    fn manifest(cfg: &Config, status: &str, as_of: &str) -> String {
        serde_json::json!({
            "status": status,
            "as_of": as_of,
            "fingerprint": crate::report::fingerprint(cfg),
            "partitions": [],
        })
        .to_string()
    }

    fn present(_: &Path) -> bool {
        true
    }

    #[test]
    fn an_empty_folder_plans_a_fresh_run() {
        let tmp = tempfile::tempdir().unwrap();
        let c = cfg(tmp.path(), RunArgs::default());
        let plan = ResumePlan::decide(&c, &present);
        assert_eq!(plan.as_of, c.as_of);
        assert!(plan.lookback.is_empty() && plan.done.is_empty());
        let final_cfg = plan.config(c.clone());
        assert_eq!((final_cfg.as_of, final_cfg.lookback), (c.as_of, vec![]));
    }

    #[test]
    fn an_unfinished_run_of_the_same_job_is_resumed_with_its_clock() {
        let tmp = tempfile::tempdir().unwrap();
        let c = cfg(tmp.path(), RunArgs::default());
        // The clock is part of the fingerprint only when `--as-of` fixed it; then both agree.
        let as_of = iso_ms(c.as_of);
        let m = tmp.path().join(crate::report::MANIFEST_FILE);
        std::fs::write(&m, manifest(&c, "interrupted", &as_of)).unwrap();
        assert_eq!(ResumePlan::decide(&c, &present).as_of, c.as_of);

        // A finished run, another job or --force: nothing is taken over.
        std::fs::write(&m, manifest(&c, "success", "2026-11-12T01:00:00.000Z")).unwrap();
        assert_eq!(ResumePlan::decide(&c, &present).as_of, c.as_of);
        let other = cfg(
            tmp.path(),
            RunArgs {
                settle_minutes: Some(30),
                ..RunArgs::default()
            },
        );
        std::fs::write(&m, manifest(&other, "running", &as_of)).unwrap();
        assert!(resumable_with(&c, &present).is_none());
        assert!(resumable_with(&other, &present).is_some());
        let forced = cfg(
            tmp.path(),
            RunArgs {
                settle_minutes: Some(30),
                force: true,
                ..RunArgs::default()
            },
        );
        assert!(resumable_with(&forced, &present).is_none());
    }

    #[test]
    fn a_resumed_run_takes_the_earlier_clock_when_none_was_asked_for() {
        let tmp = tempfile::tempdir().unwrap();
        let args = RunArgs {
            simulator: true,
            from: Some("2026-11-10".into()),
            to: Some("2026-11-12".into()),
            output_dir: Some(tmp.path().to_path_buf()),
            ..RunArgs::default()
        };
        let now: DateTime<Utc> = "2026-11-12T09:00:00Z".parse().unwrap();
        let c = Config::build(RawJob::default(), &args, &[("", ""); 0], now).unwrap();
        let m = tmp.path().join(crate::report::MANIFEST_FILE);
        std::fs::write(&m, manifest(&c, "running", "2026-11-12T06:00:00.000Z")).unwrap();
        let plan = ResumePlan::decide(&c, &present);
        assert_eq!(iso_ms(plan.as_of), "2026-11-12T06:00:00.000Z");
        assert_eq!(iso_ms(plan.config(c).as_of), "2026-11-12T06:00:00.000Z");
    }

    #[test]
    fn lookback_takes_the_earlier_days_that_are_not_final() {
        let tmp = tempfile::tempdir().unwrap();
        let entry = |is_final: bool| {
            serde_json::json!({
                "is_final": is_final, "run_id": "r", "as_of": "2026-11-09T00:00:00.000Z",
                "conversations": 1
            })
        };
        let index = serde_json::json!({
            "2026-11-06": entry(false),
            "2026-11-07": entry(false),
            "2026-11-08": entry(true),
            "2026-11-09": entry(false),
            "2026-11-10": entry(false),
        });
        std::fs::write(
            tmp.path().join(crate::report::INDEX_FILE),
            index.to_string(),
        )
        .unwrap();
        let none = cfg(tmp.path(), RunArgs::default());
        assert!(ResumePlan::decide(&none, &present).lookback.is_empty());
        let three = cfg(
            tmp.path(),
            RunArgs {
                lookback_days: Some(3),
                ..RunArgs::default()
            },
        );
        let plan = ResumePlan::decide(&three, &present);
        let days: Vec<String> = plan.lookback.iter().map(|d| d.to_string()).collect();
        assert_eq!(days, ["2026-11-07", "2026-11-09"]);
        assert_eq!(plan.config(three).lookback, plan.lookback);
    }
}
