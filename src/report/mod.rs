//! Run-level files and guards: the output lock, the catalogs, `summary.json`, `summary.md`,
//! `summary.html`, the code catalog and `manifest.json`. Every file here is written atomically, and
//! the manifest last.

pub mod closing;
pub mod gates;
pub mod index_rebuild;
pub mod metrics;
pub mod summary;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::api::{ApiClient, ApiError};
use crate::config::{Config, Source};
use crate::exit::{ExitStatus, Failure};
use crate::sink;
use crate::stats::RunOutcome;
use crate::time::iso_ms;
use crate::transform::names::Catalogs;

pub const LOCK_FILE: &str = ".wrapup-audit.lock";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SUMMARY_JSON: &str = "summary.json";
pub const SUMMARY_MD: &str = "summary.md";
pub const SUMMARY_HTML: &str = "summary.html";
pub const CODES_FILE: &str = "wrapup_codes.csv";
pub const QUEUES_FILE: &str = "queues.csv";
pub const USERS_FILE: &str = "users.csv";
pub const INDEX_FILE: &str = "partitions.json";

/// An exclusive lock on the output directory, held for the whole run.
///
/// It is an OS file lock, so a run that dies (even by SIGKILL) releases it: a lock file left behind
/// by a dead process is stale by construction and the next run simply takes it.
pub struct OutputLock {
    _file: File,
}

impl OutputLock {
    pub fn acquire(dir: &Path) -> Result<OutputLock, Failure> {
        let output = |what: &str, e: std::io::Error| {
            Failure::new(
                ExitStatus::Output,
                format!("output directory {} {what}: {e}", dir.display()),
            )
        };
        std::fs::create_dir_all(dir).map_err(|e| output("cannot be created", e))?;
        let path = dir.join(LOCK_FILE);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| output("is not writable", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(Failure::new(
                    ExitStatus::Locked,
                    format!(
                        "another run holds the lock on {} ({}); wait for it to finish or use another --output-dir",
                        dir.display(),
                        holder.trim()
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(output("cannot be locked", e)),
        }
        file.set_len(0).map_err(|e| output("is not writable", e))?;
        write!(
            file,
            "pid {} since {}",
            std::process::id(),
            iso_ms(Utc::now())
        )
        .map_err(|e| output("is not writable", e))?;
        match sink::cleanup_stale_staging(dir) {
            Ok(removed) if !removed.is_empty() => {
                tracing::info!(
                    removed = removed.len(),
                    "Removed leftovers of an interrupted run"
                );
            }
            Ok(_) => {}
            Err(e) => return Err(output("cannot be cleaned", e)),
        }
        // Never two layouts side by side: an old single-folder output moves into the roots first.
        match sink::migrate::migrate_legacy_layout(dir) {
            Ok(m) if m.files > 0 => tracing::info!(
                partitions = m.partitions,
                files = m.files,
                "Moved {} day folder(s) of an earlier version's layout into one folder per table and format",
                m.partitions
            ),
            Ok(_) => {}
            Err(e) => return Err(Failure::new(ExitStatus::Output, format!("{e:#}"))),
        }
        Ok(OutputLock { _file: file })
    }
}

/// Reads the wrap-up code, queue and user catalogs once per run.
pub async fn load_catalogs(client: &ApiClient) -> Result<Catalogs, Failure> {
    let named = |entities: Vec<crate::api::wire::NamedEntity>| -> HashMap<String, String> {
        entities
            .into_iter()
            .filter_map(|c| c.name.map(|n| (c.id, n)))
            .collect()
    };
    // Codes, queues, users: the order operators see failures in.
    let codes = load_catalog(
        client,
        "wrapup_codes",
        "/api/v2/routing/wrapupcodes",
        "wrap-up code",
        "routing:wrapupCode:view",
    )
    .await?;
    let queues = load_catalog(
        client,
        "queues",
        "/api/v2/routing/queues",
        "queue",
        "routing:queue:view",
    )
    .await?;
    let users = load_catalog(
        client,
        "users",
        "/api/v2/users",
        "user",
        "directory:user:view",
    )
    .await?;
    // The queue listing carries each queue's ACW settings: no extra request.
    let queue_acw = queues
        .iter()
        .filter_map(|q| q.acw_settings.clone().map(|a| (q.id.clone(), a)))
        .collect();
    Ok(Catalogs {
        codes: named(codes),
        queues: named(queues),
        users: named(users),
        queue_acw,
    })
}

/// One listing; a refusal is an authentication error naming the missing permission.
async fn load_catalog(
    client: &ApiClient,
    op: &'static str,
    path: &str,
    what: &str,
    permission: &str,
) -> Result<Vec<crate::api::wire::NamedEntity>, Failure> {
    client.list_all(op, path, 100).await.map_err(|e| {
        let status = match e {
            ApiError::Forbidden { .. } | ApiError::Unauthorized { .. } => ExitStatus::Auth,
            _ => ExitStatus::ApiUnavailable,
        };
        // Only a 403 is about roles; a 401 means the token itself was refused.
        let hint = match e {
            ApiError::Forbidden { .. } => format!(" (the OAuth client's role needs {permission})"),
            ApiError::Unauthorized { .. } => crate::api::error::UNAUTHORIZED_HINT.to_string(),
            _ => String::new(),
        };
        Failure::new(status, format!("cannot read the {what} catalog: {e}{hint}"))
    })
}

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

/// What `run` returns to callers and tests.
#[derive(Debug)]
pub struct RunResult {
    pub run_id: String,
    pub status: ExitStatus,
    pub output_dir: PathBuf,
    pub outcome: Option<RunOutcome>,
}

/// Writes a run-level text file atomically; its path in the manifest is relative to the output.
fn write_text(dir: &Path, name: &str, text: &str) -> anyhow::Result<sink::FileInfo> {
    let mut info =
        sink::write_file_atomically(&dir.join(name), 0, |w| Ok(w.write_all(text.as_bytes())?))?;
    info.path = PathBuf::from(name);
    Ok(info)
}

fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> anyhow::Result<sink::FileInfo> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_text(dir, name, &text)
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
// Long: the run files in their promised order, manifest last; to be split with report/ (issue 10).
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
    let (status, error, o) = match &outcome {
        Ok(o) => (o.status, None, Some(o)),
        Err(f) => (f.status, Some(f.message.clone()), None),
    };
    // A failed run's lookups are those of the partitions it finished.
    let mut partial_stats = crate::transform::counts::PartitionStats::default();
    for p in partial {
        partial_stats.add(&p.stats);
    }
    let mut files = Vec::new();
    if let Some(o) = o {
        let s = crate::report::summary::build(cfg, o, catalogs, &read_index(dir));
        files.push(write_json(dir, SUMMARY_JSON, &s).map_err(out_err)?);
        let md = crate::report::summary::render::markdown(&s);
        files.push(write_text(dir, SUMMARY_MD, &md).map_err(out_err)?);
        let html = crate::report::summary::render::html(&s);
        files.push(write_text(dir, SUMMARY_HTML, &html).map_err(out_err)?);
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
            files.push(write_catalog(dir, name, header, rows).map_err(out_err)?);
        }
    }
    let manifest = Manifest {
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
        finished_at: iso_ms(finished),
        status: status.as_str(),
        exit_code: status.code(),
        partitions: o.map(|o| o.partitions.as_slice()).unwrap_or(partial),
        files,
        fingerprint: fingerprint(cfg),
        resumed_days: o.map(|o| o.resumed_days).unwrap_or(0),
        healed_days: cfg.lookback.iter().map(|d| d.to_string()).collect(),
        peak_rss_kb: peak_rss_kb(),
        lookups: o
            .map(|o| &o.totals.lookups)
            .unwrap_or(&partial_stats.lookups),
        api: o.map(|o| &o.api).unwrap_or(api_so_far),
        error,
    };
    write_json(dir, MANIFEST_FILE, &manifest).map_err(out_err)?;
    // The closing line (`closing::RunFacts::log_closing`) reports the run.
    let outcome = outcome?;
    Ok(RunResult {
        run_id: run_id.to_string(),
        status,
        output_dir: dir.clone(),
        outcome: Some(outcome),
    })
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

fn source_name(cfg: &Config) -> String {
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

/// The part of an earlier manifest needed to resume its run.
#[derive(Debug, serde::Deserialize)]
struct PreviousManifest {
    status: String,
    as_of: String,
    fingerprint: serde_json::Value,
    partitions: Vec<crate::stats::PartitionRecord>,
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
pub fn resumable(cfg: &Config) -> Option<(DateTime<Utc>, Vec<crate::stats::PartitionRecord>)> {
    resumable_with(cfg, &|p| cfg.output_dir.join(p).is_file())
}

/// [`resumable`] with the check whether a file (relative to the output) is present passed in:
/// for an object store, the listing of the bucket rather than the local staging folder.
pub fn resumable_with(
    cfg: &Config,
    present: &dyn Fn(&Path) -> bool,
) -> Option<(DateTime<Utc>, Vec<crate::stats::PartitionRecord>)> {
    let path = cfg.output_dir.join(MANIFEST_FILE);
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
        || prev.fingerprint != fingerprint(cfg)
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

/// One partition in the index of everything ever written to an output directory.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct IndexEntry {
    pub is_final: bool,
    pub run_id: String,
    pub as_of: String,
    pub conversations: u64,
    /// The day's compliance counts (owed, coded, timeout, missing legs…), for the summary's trend.
    /// Absent in entries older runs wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<crate::record::Counts>,
}

/// `partitions.json`: date → the latest run's word on that partition.
///
/// Missing or unreadable while partition folders exist, it is rebuilt from them with a warning,
/// never read as "nothing there" (lookback would forget unfinished days).
pub fn read_index(dir: &Path) -> BTreeMap<chrono::NaiveDate, IndexEntry> {
    let path = dir.join(INDEX_FILE);
    let problem = match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(index) => return index,
            Err(e) => format!("is unreadable ({e})"),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "is missing".to_string(),
        Err(e) => format!("cannot be read ({e})"),
    };
    if !crate::report::index_rebuild::has_partitions(dir) {
        return BTreeMap::new();
    }
    tracing::warn!(file = %path.display(), "{} {problem}: rebuilding it from the date=* partition folders", path.display());
    crate::report::index_rebuild::rebuild(dir)
}

/// Records the partitions a run has written so far.
pub fn update_index(
    cfg: &Config,
    run_id: &str,
    parts: &[crate::stats::PartitionRecord],
) -> Result<(), Failure> {
    let mut index = read_index(&cfg.output_dir);
    for p in parts {
        index.insert(
            p.date,
            IndexEntry {
                is_final: p.is_final,
                run_id: run_id.to_string(),
                as_of: iso_ms(cfg.as_of),
                conversations: p.conversations,
                compliance: Some(p.stats.compliance.total),
            },
        );
    }
    write_json(&cfg.output_dir, INDEX_FILE, &index)
        .map(|_| ())
        .map_err(|e| {
            Failure::new(
                ExitStatus::Output,
                format!(
                    "cannot write {INDEX_FILE} in {}: {e:#}",
                    cfg.output_dir.display()
                ),
            )
        })
}

/// Days within `lookback_days` before the window whose partitions are not final yet.
pub fn days_to_heal(cfg: &Config) -> Vec<chrono::NaiveDate> {
    if cfg.lookback_days == 0 {
        return Vec::new();
    }
    let first = cfg
        .window
        .from
        .with_timezone(&cfg.window.timezone)
        .date_naive();
    let earliest = first - chrono::Days::new(u64::from(cfg.lookback_days));
    read_index(&cfg.output_dir)
        .into_iter()
        .filter(|(d, e)| *d >= earliest && *d < first && !e.is_final)
        .map(|(d, _)| d)
        .collect()
}

/// `VmHWM` of this process, where `/proc` has it.
pub fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
