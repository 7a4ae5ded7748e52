//! The run flags (`run`, `plan`), with their `WRAPUP_AUDIT_*` environment fallbacks and help text.

use std::path::PathBuf;

/// The run flags, written once: the `run` and `plan` commands flatten them, and `Config::build`
/// reads them. `None` means "not given"; each flag falls back to its `WRAPUP_AUDIT_*` variable.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct RunArgs {
    /// Job file (TOML). Without one, defaults and flags describe the job.
    #[arg(long, env = "WRAPUP_AUDIT_JOB")]
    pub job: Option<PathBuf>,
    /// Window start (inclusive): a date, a local date-time or an RFC 3339 instant. Default: yesterday.
    #[arg(long, env = "WRAPUP_AUDIT_FROM")]
    pub from: Option<String>,
    /// Window end (exclusive), in the same forms. Default: today's midnight in the job's time zone.
    #[arg(long, env = "WRAPUP_AUDIT_TO")]
    pub to: Option<String>,
    /// The run's clock, for reproducible runs (RFC 3339 or local date-time). Default: now.
    #[arg(long, env = "WRAPUP_AUDIT_AS_OF")]
    pub as_of: Option<String>,
    /// IANA time zone of the report days (overrides the job file). Default: UTC.
    #[arg(long, env = "WRAPUP_AUDIT_TIMEZONE")]
    pub timezone: Option<String>,
    /// Output directory (overrides the job file). Default: out.
    #[arg(long, env = "WRAPUP_AUDIT_OUTPUT_DIR")]
    pub output_dir: Option<PathBuf>,
    /// Formats: csv, parquet or csv,parquet. Default: both.
    #[arg(long = "format", value_name = "FORMAT", env = "WRAPUP_AUDIT_FORMAT")]
    pub formats: Option<String>,
    /// Most requests per minute across the whole run (a hard ceiling). Default 300 with adaptive
    /// pacing, 240 with fixed pacing.
    #[arg(long, env = "WRAPUP_AUDIT_REQUESTS_PER_MINUTE")]
    pub requests_per_minute: Option<u32>,
    /// adaptive (use what the token's rate headers show free, other integrations included) or fixed
    /// (evenly at requests_per_minute). Default adaptive.
    #[arg(long, env = "WRAPUP_AUDIT_PACING")]
    pub pacing: Option<String>,
    /// Lookups in flight at once. Default 8.
    #[arg(long, env = "WRAPUP_AUDIT_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// Lookup mode: needs-lookup, all-null or off.
    #[arg(long, env = "WRAPUP_AUDIT_LOOKUP")]
    pub lookup: Option<String>,
    /// Most conversations looked up in this run.
    #[arg(long, env = "WRAPUP_AUDIT_LOOKUP_BUDGET")]
    pub lookup_budget: Option<u64>,
    /// Minutes a conversation must have been over before it is judged. Default 15.
    #[arg(long, env = "WRAPUP_AUDIT_SETTLE_MINUTES")]
    pub settle_minutes: Option<i64>,
    /// Use the embedded simulator even if the job file has no simulator table.
    #[arg(long)]
    pub simulator: bool,
    /// Redo every day of the window even where earlier runs finished it.
    #[arg(long)]
    pub force: bool,
    /// Also re-audit up to N earlier days whose partitions still hold in_progress or too_recent rows.
    #[arg(long, env = "WRAPUP_AUDIT_LOOKBACK_DAYS")]
    pub lookback_days: Option<u32>,
    /// How to read analytics: query, jobs or auto (jobs for historical days of long windows).
    #[arg(long, env = "WRAPUP_AUDIT_MODE")]
    pub mode: Option<String>,
    /// Longest run (e.g. 4h, 90m; 0 = no limit); then it stops like on SIGTERM. Default 4h.
    #[arg(long, env = "WRAPUP_AUDIT_MAX_RUNTIME")]
    pub max_runtime: Option<String>,
    /// Write run metrics in Prometheus text format to this file (node-exporter textfile collector).
    #[arg(long, env = "WRAPUP_AUDIT_METRICS_FILE")]
    pub metrics_file: Option<PathBuf>,
    /// Push run metrics to this Pushgateway (e.g. http://pushgateway:9091).
    #[arg(long, env = "WRAPUP_AUDIT_PUSHGATEWAY_URL")]
    pub pushgateway_url: Option<String>,
}
