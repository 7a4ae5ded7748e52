//! The job file exactly as written: every key optional, unknown keys rejected.

use std::path::PathBuf;

use serde::Deserialize;

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
    pub metrics: Option<super::metrics::RawMetrics>,
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
