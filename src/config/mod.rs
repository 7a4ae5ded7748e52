//! Job configuration: the TOML job file, flags and environment, validated into one [`Config`].
//!
//! Loading is two-phase: [`RawJob`] is exactly the file (unknown keys rejected), and [`Config::build`]
//! turns file + flags + environment into typed values, collecting every problem before reporting them
//! together. Nothing here does network IO. The job file says what the job does; flags and environment
//! say how this run behaves; credentials come only from the environment (or `.env`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::api::auth::Credentials;
use crate::api::{ClientOptions, Endpoints};
use crate::sink::Formats;

/// The job file, as written. Every key is optional; flags override the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJob {
    /// A name for logs and the manifest.
    pub name: Option<String>,
    /// IANA time zone of the report days, e.g. `Europe/Berlin`. Default `UTC`.
    pub timezone: Option<String>,
    /// Where partitions, summary and manifest go. Default `out`.
    pub output_dir: Option<PathBuf>,
    /// `csv`, `parquet`, or both. Default both.
    pub formats: Option<Vec<String>>,
    /// Conversations that ended less than this many minutes before `as_of` are `too_recent`. Default 15.
    pub settle_minutes: Option<i64>,
    /// `needs-lookup` (default), `all-null` or `off`.
    pub lookup: Option<String>,
    /// Most conversations looked up per run; the rest are `unexplained` (`lookup = over_budget`).
    pub lookup_budget: Option<u64>,
    /// Most requests per minute across every API call of the run: a hard ceiling. Default 300 (Genesys'
    /// default per token) with adaptive pacing, 240 (80 %) with fixed pacing. 0: no ceiling.
    pub requests_per_minute: Option<u32>,
    /// `adaptive` (default: spend what the `inin-ratelimit-*` headers show free in the token's window,
    /// other integrations included, up to the ceiling) or `fixed` (evenly at the ceiling).
    pub pacing: Option<String>,
    /// Lookups in flight at once. Default 8.
    pub concurrency: Option<usize>,
    /// Page size of the details query. Default 100, the largest size every org accepts.
    pub page_size: Option<u32>,
    /// Per-request timeout in seconds. Default 60.
    pub request_timeout_secs: Option<u64>,
    /// Most results the details query serves for one interval (Genesys: 100 000). Intervals above it
    /// are halved. Only for compatible endpoints with another cap.
    pub query_result_cap: Option<u64>,
    /// Retries of one request (429, 502–504, timeouts, connection errors) before it fails. Default 8.
    pub max_retries: Option<u32>,
    /// Also re-audit up to this many days before the window whose partitions are not final yet
    /// (they hold `in_progress` or `too_recent` rows). Default 0.
    pub lookback_days: Option<u32>,
    /// `query` (the synchronous details query), `jobs` (async details jobs) or `auto` (default:
    /// jobs for the historical days of windows of 7 days or more, the query for the rest).
    pub mode: Option<String>,
    /// First wait before polling an async job, in milliseconds. Default 1000.
    pub jobs_poll_ms: Option<u64>,
    /// The longest a run may take (`4h`, `90m`, `0` for no limit); then it stops like on SIGTERM.
    pub max_runtime: Option<String>,
    /// Largest response body read, in MiB; a larger one fails the request as unreadable. Default 64.
    pub max_response_mb: Option<u64>,
    /// Which conversations to audit.
    pub filters: Option<RawFilters>,
    /// Present: run against the embedded simulator instead of a real org.
    pub simulator: Option<RawSimulator>,
    /// Quality gates, e.g. `["gap_rate > 0.05", "conversations < 100"]`: exit 7 when one trips.
    pub fail_if: Option<Vec<String>>,
    /// Prometheus text file and Pushgateway.
    pub metrics: Option<metrics::RawMetrics>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawFilters {
    /// Session media types, e.g. `["voice", "chat"]`.
    pub media_types: Option<Vec<String>>,
    /// Queue ids.
    pub queue_ids: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSimulator {
    /// Seed of the generated org. Default 42.
    pub seed: Option<u64>,
    /// Regular conversations per day. Default 200.
    pub conversations_per_day: Option<u32>,
    /// A per-token quota the simulator enforces (headers and 429s), to rehearse quota pauses.
    /// Default none: no quota and no quota headers, so the demo never waits.
    pub quota_per_minute: Option<u32>,
}

/// Values from the command line; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct RunArgs {
    pub job: Option<PathBuf>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub as_of: Option<String>,
    pub timezone: Option<String>,
    pub output_dir: Option<PathBuf>,
    pub formats: Option<String>,
    pub requests_per_minute: Option<u32>,
    pub pacing: Option<String>,
    pub concurrency: Option<usize>,
    pub lookup: Option<String>,
    pub lookup_budget: Option<u64>,
    pub settle_minutes: Option<i64>,
    pub simulator: bool,
    pub force: bool,
    pub lookback_days: Option<u32>,
    pub mode: Option<String>,
    pub max_runtime: Option<String>,
    pub metrics_file: Option<PathBuf>,
    pub pushgateway_url: Option<String>,
}

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

/// Where the data comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The embedded simulator, started in-process for the run.
    Simulator {
        seed: u64,
        conversations_per_day: u32,
        /// Enforced per-token quota; `None`: none, and no quota headers.
        quota_per_minute: Option<u32>,
    },
    /// A real (or compatible) Genesys Cloud org.
    Genesys {
        endpoints: Endpoints,
        credentials: Credentials,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub media_types: Vec<String>,
    pub queue_ids: Vec<String>,
}

/// The half-open run window and its report days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub timezone: Tz,
}

impl Window {
    /// The calendar days (in the job's time zone) the window touches, each with its clipped UTC interval.
    pub fn days(&self) -> Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
        let first = self.from.with_timezone(&self.timezone).date_naive();
        let last = (self.to - chrono::Duration::milliseconds(1))
            .with_timezone(&self.timezone)
            .date_naive();
        let mut out = Vec::new();
        let mut d = first;
        while d <= last {
            let next = d.checked_add_days(Days::new(1)).expect("date in range");
            let start = local_midnight(self.timezone, d).max(self.from);
            let end = local_midnight(self.timezone, next).min(self.to);
            if start < end {
                out.push((d, start, end));
            }
            d = next;
        }
        out
    }
}

/// The first instant of `date` in `tz`, also where midnight falls into a DST gap.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut t = date.and_hms_opt(0, 0, 0).expect("midnight");
    // A gap is at most a few hours; step forward until the local time exists.
    for _ in 0..24 * 4 {
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.with_timezone(&Utc);
        }
        t += chrono::Duration::minutes(15);
    }
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
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
/// Default of `max_response_mb`.
pub const DEFAULT_MAX_RESPONSE_MB: u64 = 64;

/// Every problem found, reported together on one line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("; "))]
pub struct ConfigError(pub Vec<String>);

/// Real region names and their domains (the SDKs' `PureCloudRegionHosts`).
pub const REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "mypurecloud.com"),
    ("us-east-2", "use2.us-gov-pure.cloud"),
    ("us-west-2", "usw2.pure.cloud"),
    ("ca-central-1", "cac1.pure.cloud"),
    ("sa-east-1", "sae1.pure.cloud"),
    ("mx-central-1", "mxc1.pure.cloud"),
    ("eu-west-1", "mypurecloud.ie"),
    ("eu-west-2", "euw2.pure.cloud"),
    ("eu-central-1", "mypurecloud.de"),
    ("eu-central-2", "euc2.pure.cloud"),
    ("eusc-de-east-1", "edee1.eusc-pure.cloud"),
    ("me-central-1", "mec1.pure.cloud"),
    ("ap-south-1", "aps1.pure.cloud"),
    ("ap-southeast-1", "apse1.pure.cloud"),
    ("ap-southeast-2", "mypurecloud.com.au"),
    ("ap-northeast-1", "mypurecloud.jp"),
    ("ap-northeast-2", "apne2.pure.cloud"),
    ("ap-northeast-3", "apne3.pure.cloud"),
];

/// Maps a region name (`eu-west-1`, also `eu_west_1`) to its API and login hosts.
pub fn region_endpoints(region: &str) -> Option<Endpoints> {
    let key = region.trim().to_ascii_lowercase().replace('_', "-");
    REGIONS
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, domain)| Endpoints {
            api_base: format!("https://api.{domain}"),
            login_base: format!("https://login.{domain}"),
        })
}

/// Reads a job file; every unknown key and wrong type is reported, each with its line.
pub fn load_job(path: &Path) -> Result<RawJob, ConfigError> {
    let (raw, errors) = job_file::load_lenient(path)?;
    if errors.is_empty() {
        Ok(raw)
    } else {
        Err(ConfigError(errors))
    }
}

pub use job_file::load_lenient as load_job_lenient;

/// The environment a run reads. Injected so tests never touch the process environment.
pub trait Env {
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment (after `.env` was loaded by `main`).
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn var(&self, key: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    }
}

impl Env for Vec<(String, String)> {
    fn var(&self, key: &str) -> Option<String> {
        self.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }
}

/// Parses `--from`/`--to`: a date (local midnight), a local date-time, or an RFC 3339 instant.
pub fn parse_instant(s: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = parse_instant_any(s, tz)?;
    // Day arithmetic near chrono's own limits would panic; no audit needs such dates.
    if !limits::YEARS.contains(&t.year()) {
        return Err(format!(
            "'{}' is outside the years {} to {}",
            s.trim(),
            limits::YEARS.start(),
            limits::YEARS.end()
        ));
    }
    Ok(t)
}

fn parse_instant_any(s: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(local_midnight(tz, d));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(ndt) = NaiveDateTime::parse_from_str(s, fmt) {
            return tz
                .from_local_datetime(&ndt)
                .earliest()
                .map(|d| d.with_timezone(&Utc))
                .ok_or_else(|| format!("{s} does not exist in {tz} (daylight-saving gap)"));
        }
    }
    Err(format!("cannot read '{s}' as a date (2026-11-20), local date-time (2026-11-20T08:00) or RFC 3339 instant"))
}

impl Config {
    /// Builds the run configuration from the job file, the flags and the environment.
    // Long: one pass over every setting, so all problems are reported together in file order; to be split by concern (issue 10).
    pub fn build(
        raw: RawJob,
        args: &RunArgs,
        env: &dyn Env,
        now: DateTime<Utc>,
    ) -> Result<Config, ConfigError> {
        let mut errors = Vec::new();

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
        let from = parse("--from", &args.from, &mut errors);
        let to = parse("--to", &args.to, &mut errors);
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

        let formats_text = args
            .formats
            .clone()
            .or_else(|| raw.formats.as_ref().map(|v| v.join(",")));
        let formats = match formats_text {
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
        };

        let lookup_text = args
            .lookup
            .clone()
            .or(raw.lookup.clone())
            .unwrap_or_else(|| "needs-lookup".into());
        let lookup = match lookup_text.as_str() {
            "needs-lookup" => LookupMode::NeedsLookup,
            "all-null" => LookupMode::AllNull,
            "off" => LookupMode::Off,
            other => {
                errors.push(format!(
                    "unknown lookup mode '{other}': use needs-lookup, all-null or off"
                ));
                LookupMode::NeedsLookup
            }
        };

        let settle_minutes = args.settle_minutes.or(raw.settle_minutes).unwrap_or(15);
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
        let jobs_poll_ms = raw.jobs_poll_ms.unwrap_or(1000);
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
            &mut errors,
        );

        let max_runtime_text = args.max_runtime.clone().or(raw.max_runtime.clone());
        let max_runtime = match max_runtime_text.as_deref().map(str::trim) {
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
        };
        let max_response_mb = raw.max_response_mb.unwrap_or(DEFAULT_MAX_RESPONSE_MB);
        if max_response_mb == 0 || max_response_mb > 4096 {
            errors.push(format!(
                "max_response_mb must be between 1 and 4096, not {max_response_mb}"
            ));
        }

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

        let source = if args.simulator || raw.simulator.is_some() {
            let sim = raw.simulator.clone().unwrap_or_default();
            Source::Simulator {
                seed: sim.seed.unwrap_or(42),
                conversations_per_day: sim.conversations_per_day.unwrap_or(200),
                quota_per_minute: sim.quota_per_minute,
            }
        } else {
            match genesys_source(env) {
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
        };

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
            window: Window { from, to, timezone },
            as_of,
            as_of_explicit: args.as_of.is_some(),
            output_dir: args
                .output_dir
                .clone()
                .or(raw.output_dir.clone())
                .unwrap_or_else(|| PathBuf::from("out")),
            formats,
            settle_minutes,
            lookup,
            lookup_budget: args.lookup_budget.or(raw.lookup_budget),
            concurrency,
            page_size,
            mode,
            jobs: JobsOptions {
                poll_initial: Duration::from_millis(jobs_poll_ms),
                ..JobsOptions::default()
            },
            query_result_cap,
            client: ClientOptions {
                requests_per_minute,
                pacing,
                request_timeout,
                max_body_bytes: max_response_mb.saturating_mul(1 << 20),
                retry: crate::api::RetryPolicy {
                    max_retries,
                    ..crate::api::RetryPolicy::default()
                },
                ..ClientOptions::default()
            },
            filters,
            source,
            force: args.force,
            lookback_days,
            lookback: Vec::new(),
            max_runtime,
            gates,
            metrics,
        })
    }
}

/// Endpoints and credentials of a real org, from the environment.
// Long: every credential and region variable is checked so all problems are reported at once.
fn genesys_source(env: &dyn Env) -> Result<Source, Vec<String>> {
    let mut errors = Vec::new();
    let api_override = env
        .var("GENESYS_API_BASE_URL")
        .map(|s| s.trim_end_matches('/').to_string());
    let login_override = env
        .var("GENESYS_LOGIN_BASE_URL")
        .map(|s| s.trim_end_matches('/').to_string());
    for (key, value) in [
        ("GENESYS_API_BASE_URL", &api_override),
        ("GENESYS_LOGIN_BASE_URL", &login_override),
    ] {
        if let Some(v) = value {
            if !(v.starts_with("https://") || v.starts_with("http://")) {
                errors.push(format!("{key} must be an http(s) URL, not '{v}'"));
            }
        }
    }
    let region = env.var("GENESYS_REGION");
    let from_region = match &region {
        Some(r) => match region_endpoints(r) {
            Some(e) => Some(e),
            None => {
                let names: Vec<&str> = REGIONS.iter().map(|(n, _)| *n).collect();
                errors.push(format!(
                    "unknown GENESYS_REGION '{r}': use one of {}",
                    names.join(", ")
                ));
                None
            }
        },
        None => None,
    };
    let endpoints = match (api_override, from_region) {
        (Some(api), region) => {
            let login = login_override
                .or_else(|| region.map(|r| r.login_base))
                .unwrap_or_else(|| {
                    if api.contains("//api.") {
                        api.replacen("//api.", "//login.", 1)
                    } else {
                        api.clone()
                    }
                });
            Some(Endpoints {
                api_base: api,
                login_base: login,
            })
        }
        (None, Some(mut r)) => {
            if let Some(l) = login_override {
                r.login_base = l;
            }
            Some(r)
        }
        (None, None) => {
            if region.is_none() {
                errors.push("no Genesys region: set GENESYS_REGION (e.g. us-east-1, eu-west-1) or GENESYS_API_BASE_URL".into());
            }
            None
        }
    };
    let id = env.var("GENESYS_CLIENT_ID");
    let secret = env.var("GENESYS_CLIENT_SECRET");
    let missing: Vec<&str> = [
        ("GENESYS_CLIENT_ID", id.is_none()),
        ("GENESYS_CLIENT_SECRET", secret.is_none()),
    ]
    .iter()
    .filter(|(_, m)| *m)
    .map(|(k, _)| *k)
    .collect();
    if !missing.is_empty() {
        errors.push(format!(
            "missing credentials: set {} (environment or .env), or try the offline demo with --job jobs/demo.toml",
            missing.join(" and ")
        ));
    }
    match (endpoints, id, secret) {
        (Some(endpoints), Some(id), Some(secret)) if errors.is_empty() => Ok(Source::Genesys {
            endpoints,
            credentials: Credentials::new(id, secret),
        }),
        _ => Err(errors),
    }
}

pub mod gates;
mod job_file;

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
            poll_initial: Duration::from_secs(1),
            poll_max: Duration::from_secs(15),
            max_resubmits: 3,
            page_size: 1000,
            result_cap: 400_000,
            min_split: chrono::Duration::minutes(15),
        }
    }
}
