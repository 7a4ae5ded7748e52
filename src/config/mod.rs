//! Job configuration: the TOML job file, flags and environment, validated into one [`Config`].
//!
//! Loading is two-phase: [`RawJob`] is exactly the file (unknown keys rejected), and [`Config::build`]
//! turns file + flags + environment into typed values, collecting every problem before reporting them
//! together. Nothing here does network IO. The job file says what the job does; flags and environment
//! say how this run behaves; credentials come only from the environment (or `.env`).

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::api::ClientOptions;
use crate::sink::Formats;
use crate::time::{local_midnight, parse_instant, Window};

pub use args::RunArgs;
pub use env::{region_endpoints, Env, ProcessEnv, Source, REGIONS};
pub use raw::{RawFilters, RawJob, RawSimulator};

/// How conversations are read from analytics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Query,
    Jobs,
    Auto,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Query => "query",
            Mode::Jobs => "jobs",
            Mode::Auto => "auto",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub media_types: Vec<String>,
    pub queue_ids: Vec<String>,
}

/// A validated run configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub job_name: String,
    pub job_file: Option<PathBuf>,
    pub window: Window,
    pub as_of: DateTime<Utc>,
    /// True when `--as-of` fixed the clock (it then belongs to the run's fingerprint).
    pub as_of_explicit: bool,
    pub output_dir: PathBuf,
    pub formats: Formats,
    pub settle_minutes: i64,
    pub lookup: LookupMode,
    pub lookup_budget: Option<u64>,
    pub concurrency: usize,
    pub page_size: u32,
    pub query_result_cap: u64,
    pub mode: Mode,
    pub jobs: JobsOptions,
    pub client: ClientOptions,
    pub filters: Filters,
    pub source: Source,
    pub force: bool,
    /// Most days before the window to heal.
    pub lookback_days: u32,
    /// The earlier days this run re-audits (filled from the partition index before the run).
    pub lookback: Vec<NaiveDate>,
    /// After this long the run stops like on SIGTERM (`None`: no limit).
    pub max_runtime: Option<Duration>,
    /// `fail_if` quality gates.
    pub gates: Vec<gates::Gate>,
    pub metrics: metrics::MetricsConfig,
}

/// Default of `max_runtime`: generous for a nightly run, short of a stuck one.
pub const DEFAULT_MAX_RUNTIME: Duration = Duration::from_secs(4 * 3600);
/// Default of `jobs_poll_ms`: polls at 0.25, 0.75, 1.75, 3.75, 7.75 s… find a job that took ~3 s (the
/// shortest seen, docs/benchmarks.md) at 3.75 s rather than 7 s, for two more status requests per job.
pub const DEFAULT_JOBS_POLL_MS: u64 = 250;

/// Default of `max_response_mb`.
pub const DEFAULT_MAX_RESPONSE_MB: u64 = 64;

pub use job_file::{load_job, load_lenient as load_job_lenient, ConfigError};

impl Config {
    /// Builds the run configuration from the job file, the flags and the environment. Every
    /// concern below appends its problems to one list, in file order, so all are reported together.
    pub fn build(
        raw: RawJob,
        args: &RunArgs,
        env: &dyn Env,
        now: DateTime<Utc>,
    ) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();
        let (window, as_of) = window_and_clock(&raw, args, now, &mut errors);
        let formats = formats(&raw, args, &mut errors);
        let lookup = lookup_mode(&raw, args, &mut errors);
        let n = Tuning::read(&raw, args, &mut errors);
        let filters = filters(&raw, &mut errors);
        let source = source(&raw, args, env, &mut errors);
        let gates = gates::parse_all(raw.fail_if.as_deref().unwrap_or_default(), &mut errors);
        let metrics = metrics::MetricsConfig::build(raw.metrics.as_ref(), args, &mut errors);
        if !errors.is_empty() {
            return Err(ConfigError(errors));
        }
        Ok(Config {
            job_name: raw.name.clone().unwrap_or_else(|| {
                args.job
                    .as_ref()
                    .and_then(|p| p.file_stem())
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "adhoc".into())
            }),
            job_file: args.job.clone(),
            window,
            as_of,
            as_of_explicit: args.as_of.is_some(),
            output_dir: args
                .output_dir
                .clone()
                .or(raw.output_dir.clone())
                .unwrap_or_else(|| PathBuf::from("out")),
            formats,
            settle_minutes: n.settle_minutes,
            lookup,
            lookup_budget: args.lookup_budget.or(raw.lookup_budget),
            concurrency: n.concurrency,
            page_size: n.page_size,
            mode: n.mode,
            jobs: JobsOptions {
                poll_initial: Duration::from_millis(n.jobs_poll_ms),
                ..JobsOptions::default()
            },
            query_result_cap: n.query_result_cap,
            client: ClientOptions {
                requests_per_minute: n.requests_per_minute,
                pacing: n.pacing,
                request_timeout: n.request_timeout,
                max_body_bytes: n.max_response_mb.saturating_mul(1 << 20),
                retry: crate::api::RetryPolicy {
                    max_retries: n.max_retries,
                    ..crate::api::RetryPolicy::default()
                },
                ..ClientOptions::default()
            },
            filters,
            source,
            force: args.force,
            lookback_days: n.lookback_days,
            lookback: Vec::new(),
            max_runtime: n.max_runtime,
            gates,
            metrics,
        })
    }
}

/// The time zone, the run's clock and the window; a window wholly after the clock or empty is a problem.
fn window_and_clock(
    raw: &RawJob,
    args: &RunArgs,
    now: DateTime<Utc>,
    errors: &mut Vec<String>,
) -> (Window, DateTime<Utc>) {
    let tz_name = args
        .timezone
        .clone()
        .or(raw.timezone.clone())
        .unwrap_or_else(|| "UTC".into());
    let timezone: Tz = tz_name.parse().unwrap_or_else(|_| {
        errors.push(format!(
            "unknown time zone '{tz_name}': use an IANA name such as UTC or Europe/Berlin"
        ));
        Tz::UTC
    });

    let as_of = match &args.as_of {
        Some(s) => parse_instant(s, timezone).unwrap_or_else(|e| {
            errors.push(format!("--as-of: {e}"));
            now
        }),
        None => now,
    };

    let parse = |flag: &str, v: &Option<String>, errors: &mut Vec<String>| {
        v.as_ref().and_then(|s| {
            parse_instant(s, timezone)
                .map_err(|e| errors.push(format!("{flag}: {e}")))
                .ok()
        })
    };
    let from = parse("--from", &args.from, errors);
    let to = parse("--to", &args.to, errors);
    let today = local_midnight(timezone, as_of.with_timezone(&timezone).date_naive());
    let (from, to) = match (from, to) {
        (Some(f), Some(t)) => (f, t),
        (Some(f), None) => (f, today),
        (None, Some(t)) => (t - chrono::Duration::days(1), t),
        (None, None) => {
            let yesterday = as_of.with_timezone(&timezone).date_naive() - Days::new(1);
            (local_midnight(timezone, yesterday), today)
        }
    };
    if from >= as_of {
        errors.push(format!(
                "the window lies wholly after the run's clock: --from ({}) is not before --as-of ({}); there is nothing to audit yet",
                from.with_timezone(&timezone).format("%Y-%m-%d %H:%M %Z"),
                as_of.with_timezone(&timezone).format("%Y-%m-%d %H:%M %Z")
            ));
    } else if to <= from {
        errors.push(format!(
            "the window is empty: --to ({}) must be after --from ({})",
            to.with_timezone(&timezone).format("%Y-%m-%d %H:%M %Z"),
            from.with_timezone(&timezone).format("%Y-%m-%d %H:%M %Z")
        ));
    }

    (Window { from, to, timezone }, as_of)
}

/// `--format` or the file's `formats`: both when neither is given.
fn formats(raw: &RawJob, args: &RunArgs, errors: &mut Vec<String>) -> Formats {
    let formats_text = args
        .formats
        .clone()
        .or_else(|| raw.formats.as_ref().map(|v| v.join(",")));
    match formats_text {
        None => Formats {
            csv: true,
            parquet: true,
        },
        Some(text) => {
            let mut f = Formats {
                csv: false,
                parquet: false,
            };
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part.to_ascii_lowercase().as_str() {
                    "csv" => f.csv = true,
                    "parquet" => f.parquet = true,
                    other => errors.push(format!(
                        "unknown format '{other}': use csv, parquet or csv,parquet"
                    )),
                }
            }
            if !f.csv && !f.parquet {
                errors.push("no output format chosen: use csv, parquet or csv,parquet".into());
            }
            f
        }
    }
}

/// `--lookup` or the file's `lookup`: needs-lookup when neither is given.
fn lookup_mode(raw: &RawJob, args: &RunArgs, errors: &mut Vec<String>) -> LookupMode {
    let lookup_text = args
        .lookup
        .clone()
        .or(raw.lookup.clone())
        .unwrap_or_else(|| "needs-lookup".into());
    match lookup_text.as_str() {
        "needs-lookup" => LookupMode::NeedsLookup,
        "all-null" => LookupMode::AllNull,
        "off" => LookupMode::Off,
        other => {
            errors.push(format!(
                "unknown lookup mode '{other}': use needs-lookup, all-null or off"
            ));
            LookupMode::NeedsLookup
        }
    }
}

/// The numeric settings and the read mode, defaults applied and bounds checked.
struct Tuning {
    settle_minutes: i64,
    pacing: crate::api::Pacing,
    requests_per_minute: u32,
    concurrency: usize,
    page_size: u32,
    mode: Mode,
    lookback_days: u32,
    request_timeout: Duration,
    query_result_cap: u64,
    jobs_poll_ms: u64,
    max_retries: u32,
    max_runtime: Option<Duration>,
    max_response_mb: u64,
}

impl Tuning {
    fn read(raw: &RawJob, args: &RunArgs, errors: &mut Vec<String>) -> Tuning {
        let settle_minutes = args.settle_minutes.or(raw.settle_minutes).unwrap_or(15);
        let (pacing, requests_per_minute) = pacing(raw, args, errors);
        let concurrency = args.concurrency.or(raw.concurrency).unwrap_or(8);
        if concurrency == 0 || concurrency > 256 {
            errors.push(format!(
                "concurrency must be between 1 and 256, not {concurrency}"
            ));
        }
        let page_size = raw.page_size.unwrap_or(100);
        if page_size == 0 || page_size > 100 {
            errors.push(format!(
                "page_size must be between 1 and 100, not {page_size}"
            ));
        }
        let mode_text = args
            .mode
            .clone()
            .or(raw.mode.clone())
            .unwrap_or_else(|| "auto".into());
        let mode = match mode_text.as_str() {
            "query" => Mode::Query,
            "jobs" => Mode::Jobs,
            "auto" => Mode::Auto,
            other => {
                errors.push(format!("unknown mode '{other}': use query, jobs or auto"));
                Mode::Auto
            }
        };
        let lookback_days = args.lookback_days.or(raw.lookback_days).unwrap_or(0);
        if lookback_days > 31 {
            errors.push(format!(
                "lookback_days must be 31 or less, not {lookback_days}"
            ));
        }
        let request_timeout = Duration::from_secs(raw.request_timeout_secs.unwrap_or(60));
        let query_result_cap = raw.query_result_cap.unwrap_or(crate::api::QUERY_RESULT_CAP);
        let jobs_poll_ms = raw.jobs_poll_ms.unwrap_or(DEFAULT_JOBS_POLL_MS);
        let max_retries = raw.max_retries.unwrap_or(8);
        limits::check(
            &limits::Numbers {
                settle_minutes,
                page_size,
                query_result_cap,
                request_timeout_secs: request_timeout.as_secs(),
                jobs_poll_ms,
                max_retries,
            },
            errors,
        );

        Tuning {
            settle_minutes,
            pacing,
            requests_per_minute,
            concurrency,
            page_size,
            mode,
            lookback_days,
            request_timeout,
            query_result_cap,
            jobs_poll_ms,
            max_retries,
            max_runtime: max_runtime(raw, args, errors),
            max_response_mb: max_response_mb(raw, errors),
        }
    }
}

/// `--pacing` and the ceiling `--requests-per-minute`, whose default depends on the pacing.
fn pacing(raw: &RawJob, args: &RunArgs, errors: &mut Vec<String>) -> (crate::api::Pacing, u32) {
    let pacing = match args.pacing.as_deref().or(raw.pacing.as_deref()) {
        None | Some("adaptive") => crate::api::Pacing::Adaptive,
        Some("fixed") => crate::api::Pacing::Fixed,
        Some(other) => {
            errors.push(format!("unknown pacing '{other}': use adaptive or fixed"));
            crate::api::Pacing::Adaptive
        }
    };
    // Adaptive pacing keeps room for other integrations by the headers; fixed pacing by 20 %.
    let requests_per_minute = args
        .requests_per_minute
        .or(raw.requests_per_minute)
        .unwrap_or(match pacing {
            crate::api::Pacing::Adaptive => 300,
            crate::api::Pacing::Fixed => 240,
        });
    (pacing, requests_per_minute)
}

/// `--max-runtime` or the file's `max_runtime`: `None` for no limit.
fn max_runtime(raw: &RawJob, args: &RunArgs, errors: &mut Vec<String>) -> Option<Duration> {
    let max_runtime_text = args.max_runtime.clone().or(raw.max_runtime.clone());
    match max_runtime_text.as_deref().map(str::trim) {
        None => Some(DEFAULT_MAX_RUNTIME),
        Some("0") => None,
        Some(t) => match humantime::parse_duration(t) {
            Ok(d) if d.is_zero() => None,
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(format!(
                    "max_runtime '{t}' is not a duration ({e}): use e.g. 4h, 90m or 0 for no limit"
                ));
                None
            }
        },
    }
}

fn max_response_mb(raw: &RawJob, errors: &mut Vec<String>) -> u64 {
    let max_response_mb = raw.max_response_mb.unwrap_or(DEFAULT_MAX_RESPONSE_MB);
    if max_response_mb == 0 || max_response_mb > 4096 {
        errors.push(format!(
            "max_response_mb must be between 1 and 4096, not {max_response_mb}"
        ));
    }
    max_response_mb
}

/// The file's `[filters]`, media types checked against the ones Genesys knows.
fn filters(raw: &RawJob, errors: &mut Vec<String>) -> Filters {
    let filters = raw.filters.clone().unwrap_or_default();
    let filters = Filters {
        media_types: filters.media_types.unwrap_or_default(),
        queue_ids: filters.queue_ids.unwrap_or_default(),
    };
    const MEDIA: &[&str] = &[
        "voice",
        "chat",
        "message",
        "email",
        "callback",
        "cobrowse",
        "video",
        "screenshare",
    ];
    for m in &filters.media_types {
        if !MEDIA.contains(&m.as_str()) {
            errors.push(format!(
                "unknown media type '{m}' in filters.media_types: use one of {}",
                MEDIA.join(", ")
            ));
        }
    }
    filters
}

/// The embedded simulator when asked for, else a real org from the environment.
fn source(raw: &RawJob, args: &RunArgs, env: &dyn Env, errors: &mut Vec<String>) -> Source {
    if args.simulator || raw.simulator.is_some() {
        let sim = raw.simulator.clone().unwrap_or_default();
        Source::Simulator {
            seed: sim.seed.unwrap_or(42),
            conversations_per_day: sim.conversations_per_day.unwrap_or(200),
            quota_per_minute: sim.quota_per_minute,
        }
    } else {
        match env::genesys_source(env) {
            Ok(s) => s,
            Err(mut e) => {
                errors.append(&mut e);
                Source::Simulator {
                    seed: 0,
                    conversations_per_day: 0,
                    quota_per_minute: None,
                }
            }
        }
    }
}

mod args;
mod env;
pub mod gates;
mod job_file;
mod raw;

pub mod limits;
pub mod metrics;
#[cfg(test)]
mod tests;

/// Which legs the enrichment lookup covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LookupMode {
    /// Only `needs_lookup` legs (the default).
    NeedsLookup,
    /// Also `not_connected` and `no_wrapup_phase` legs.
    AllNull,
    /// No lookups: `needs_lookup` legs become `unexplained`.
    Off,
}

impl LookupMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LookupMode::NeedsLookup => "needs-lookup",
            LookupMode::AllNull => "all-null",
            LookupMode::Off => "off",
        }
    }
}

/// Knobs of the jobs path.
#[derive(Debug, Clone)]
pub struct JobsOptions {
    /// First wait before polling a job's state; doubles up to `poll_max`.
    pub poll_initial: Duration,
    pub poll_max: Duration,
    /// Resubmissions per interval after a job ends `FAILED` or `EXPIRED`.
    pub max_resubmits: u32,
    /// `pageSize` of the results endpoint (at most 1000).
    pub page_size: u32,
    /// Rows one job may page out before the interval is split (the API's pagination cap).
    pub result_cap: u64,
    /// The shortest interval a split may produce.
    pub min_split: chrono::Duration,
}

impl Default for JobsOptions {
    fn default() -> Self {
        JobsOptions {
            poll_initial: Duration::from_millis(DEFAULT_JOBS_POLL_MS),
            poll_max: Duration::from_secs(15),
            max_resubmits: 3,
            page_size: 1000,
            result_cap: 400_000,
            min_split: chrono::Duration::minutes(15),
        }
    }
}
