//! The end of a run: summaries, catalogs and the manifest, written whatever the outcome.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::closing::RunFacts;
use super::manifest::{peak_rss_kb, Manifest};
use super::{
    read_index, write_json, write_text, CODES_FILE, MANIFEST_FILE, QUEUES_FILE, SUMMARY_HTML,
    SUMMARY_JSON, SUMMARY_MD, USERS_FILE,
};
use crate::config::Config;
use crate::exit::{ExitStatus, Failure};
use crate::sink;
use crate::stats::RunOutcome;
use crate::time::iso_ms;
use crate::transform::names::Catalogs;

/// What `run` returns to callers and tests.
#[derive(Debug)]
pub struct RunResult {
    pub run_id: String,
    pub status: ExitStatus,
    pub output_dir: PathBuf,
    pub outcome: Option<RunOutcome>,
    /// The job's `fail_if` gates that tripped (then `status` is [`ExitStatus::QualityGate`]).
    pub gates_tripped: Vec<String>,
}

/// Writes one catalog as `catalogs/<name>`, `id,name` rows sorted by id, so runs can be compared
/// with `diff`.
fn write_catalog(
    dir: &Path,
    name: &str,
    header: &[&str],
    mut rows: Vec<Vec<String>>,
) -> anyhow::Result<sink::FileInfo> {
    rows.sort();
    let rel = Path::new(sink::CATALOGS_DIR).join(name);
    std::fs::create_dir_all(dir.join(sink::CATALOGS_DIR))?;
    let mut info = sink::write_file_atomically(&dir.join(&rel), rows.len() as u64, |w| {
        let mut csv = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(w);
        csv.write_record(header)?;
        for row in rows {
            csv.write_record(row)?;
        }
        csv.flush()?;
        Ok(())
    })?;
    info.path = rel;
    Ok(info)
}

/// `id,name` rows of a catalog.
fn id_name_rows(map: &HashMap<String, String>) -> Vec<Vec<String>> {
    map.iter()
        .map(|(id, n)| vec![id.clone(), n.clone()])
        .collect()
}

/// The queue catalog with each queue's ACW settings as the listing gave them (the evidence behind
/// `queue_wrapup_prompt`, `queue_acw_timeout_ms` and `config_mismatch`).
fn queue_rows(catalogs: &Catalogs) -> Vec<Vec<String>> {
    catalogs
        .queues
        .iter()
        .map(|(id, n)| {
            let (prompt, timeout) = catalogs.queue_acw(Some(id));
            vec![
                id.clone(),
                n.clone(),
                prompt.unwrap_or_default(),
                timeout.map(|t| t.to_string()).unwrap_or_default(),
            ]
        })
        .collect()
}

/// Writes the run-level files and decides the final status. Failures of the audit itself are still
/// recorded in a manifest (status and error), so an operator sees what happened.
pub fn finish(
    cfg: &Config,
    run_id: &str,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    catalogs: &Catalogs,
    outcome: Result<RunOutcome, Failure>,
    partial: &[crate::stats::PartitionRecord],
    api_so_far: &crate::api::ApiStatsSnapshot,
) -> Result<RunResult, Failure> {
    let dir = &cfg.output_dir;
    let out_err = |e: anyhow::Error| {
        Failure::new(
            ExitStatus::Output,
            format!("cannot write run files in {}: {e:#}", dir.display()),
        )
    };
    let (mut status, error, o) = match &outcome {
        Ok(o) => (o.status, None, Some(o)),
        Err(f) => (f.status, Some(f.message.clone()), None),
    };
    // Gates judge a run that got its outcome; a tripped one makes it exit 7.
    let gates = o.and_then(|o| {
        let mut facts = RunFacts::default();
        facts.count(o);
        crate::report::gates::check(cfg, status, &facts)
    });
    let gates_tripped = gates
        .as_ref()
        .map(|g| g.tripped.clone())
        .unwrap_or_default();
    if !gates_tripped.is_empty() {
        status = ExitStatus::QualityGate;
    }
    // A failed run's lookups are those of the partitions it finished.
    let mut partial_stats = crate::transform::counts::PartitionStats::default();
    for p in partial {
        partial_stats.add(&p.stats);
    }
    let files = match o {
        Some(o) => write_run_files(cfg, o, catalogs).map_err(out_err)?,
        None => Vec::new(),
    };
    let manifest = Manifest {
        finished_at: Some(iso_ms(finished)),
        status: status.as_str(),
        exit_code: Some(status.code()),
        files,
        resumed_days: o.map(|o| o.resumed_days).unwrap_or(0),
        peak_rss_kb: peak_rss_kb(),
        lookups: Some(
            o.map(|o| &o.totals.lookups)
                .unwrap_or(&partial_stats.lookups),
        ),
        api: Some(o.map(|o| &o.api).unwrap_or(api_so_far)),
        quality_gates: gates,
        error,
        ..Manifest::running(
            cfg,
            run_id,
            started,
            o.map(|o| o.partitions.as_slice()).unwrap_or(partial),
        )
    };
    write_json(dir, MANIFEST_FILE, &manifest).map_err(out_err)?;
    // The closing line (`closing::RunFacts::log_closing`) reports the run.
    let outcome = outcome?;
    Ok(RunResult {
        run_id: run_id.to_string(),
        status,
        output_dir: dir.clone(),
        outcome: Some(outcome),
        gates_tripped,
    })
}

/// The summaries, then the catalogs, of a run that got its outcome: the files the manifest lists.
fn write_run_files(
    cfg: &Config,
    o: &RunOutcome,
    catalogs: &Catalogs,
) -> anyhow::Result<Vec<sink::FileInfo>> {
    let dir = &cfg.output_dir;
    let mut files = Vec::new();
    let s = crate::report::summary::build(cfg, o, catalogs, &read_index(dir));
    files.push(write_json(dir, SUMMARY_JSON, &s)?);
    let md = crate::report::summary::render::markdown(&s);
    files.push(write_text(dir, SUMMARY_MD, &md)?);
    let html = crate::report::summary::render::html(&s);
    files.push(write_text(dir, SUMMARY_HTML, &html)?);
    let queue_header = [
        "queue_id",
        "queue_name",
        "acw_wrapup_prompt",
        "acw_timeout_ms",
    ];
    for (name, header, rows) in [
        (
            CODES_FILE,
            &["wrapup_code_id", "wrapup_code_name"][..],
            id_name_rows(&catalogs.codes),
        ),
        (QUEUES_FILE, &queue_header[..], queue_rows(catalogs)),
        (
            USERS_FILE,
            &["user_id", "user_name"][..],
            id_name_rows(&catalogs.users),
        ),
    ] {
        files.push(write_catalog(dir, name, header, rows)?);
    }
    Ok(files)
}
