//! The command line (clap derive). Flags carry `WRAPUP_AUDIT_*` environment fallbacks.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::RunArgs;
use crate::exit::EXIT_CODES_HELP;

#[derive(Debug, Parser)]
#[command(name = "wrapup-audit", version, about = "Explains why Genesys Cloud conversations have no wrap-up code, and writes CSV and Parquet reports.", after_help = EXIT_CODES_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "WRAPUP_AUDIT_LOG_FORMAT"
    )]
    pub log_format: LogFormat,
    /// Only warnings and errors on stderr, and no progress bar.
    #[arg(long, short, global = true, env = "WRAPUP_AUDIT_QUIET")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a window of conversations and write the reports.
    #[command(after_help = EXIT_CODES_HELP)]
    Run(RunArgs),
    /// Check a job file (and the environment it needs) without calling any API.
    Validate(ValidateCmd),
    /// Serve the embedded Genesys Cloud simulator until stopped.
    Simulate(SimulateCmd),
    /// Explain one conversation: its label, the reason, and the evidence per agent leg.
    Explain(ExplainCmd),
    /// Check a setup before the first scheduled run: hosts, credentials and every permission the job needs.
    Check(CheckCmd),
    /// Estimate a run's requests, time and fair-use share without fetching details; split it into shards.
    Plan(PlanCmd),
}

#[derive(Debug, Args)]
#[command(after_help = EXIT_CODES_HELP)]
pub struct PlanCmd {
    #[command(flatten)]
    pub run: RunArgs,
    /// Lookups per conversation (0 to 1). Default: the last run's, from the output directory's manifest.
    #[arg(long)]
    pub lookup_rate: Option<f64>,
    /// The org's monthly fair-use allocation of API requests, to show this run's share of it.
    #[arg(long)]
    pub monthly_allowance: Option<u64>,
    /// Split the window into this many shards of contiguous days.
    #[arg(long, default_value_t = 1)]
    pub shards: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExplainCmd {
    /// The conversation id (a UUID).
    pub conversation_id: String,
    /// Job file: its settle_minutes, lookup mode and source apply.
    #[arg(long, env = "WRAPUP_AUDIT_JOB")]
    pub job: Option<PathBuf>,
    /// The clock for the latency guard (RFC 3339 or local date-time). Default: now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Use the embedded simulator.
    #[arg(long)]
    pub simulator: bool,
}

#[derive(Debug, Args)]
pub struct CheckCmd {
    /// Job file: its source and filters apply.
    #[arg(long, env = "WRAPUP_AUDIT_JOB")]
    pub job: Option<PathBuf>,
    /// Check against the embedded simulator.
    #[arg(long)]
    pub simulator: bool,
}

#[derive(Debug, Args)]
pub struct ValidateCmd {
    /// The job file to check.
    #[arg(long)]
    pub job: PathBuf,
}

#[derive(Debug, Args)]
pub struct SimulateCmd {
    /// Port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed of the generated org.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Regular conversations per day.
    #[arg(long, default_value_t = 200)]
    pub conversations_per_day: u32,
    /// The org's time zone (business hours).
    #[arg(long, default_value = "UTC")]
    pub timezone: String,
    /// The simulator's clock (RFC 3339). Default: now.
    #[arg(long)]
    pub now: Option<String>,
    /// Client id the simulator accepts.
    #[arg(long, default_value = "sim-client")]
    pub client_id: String,
    /// Client secret the simulator accepts.
    #[arg(long, default_value = "sim-secret")]
    pub client_secret: String,
    /// The per-token quota reported in `inin-ratelimit-allowed` (Genesys: 300).
    #[arg(long, default_value_t = 300)]
    pub rate_limit_per_minute: u32,
    /// Enforce the quota: report it in `inin-ratelimit-*` headers and answer 429 past it (off: no quota, no headers).
    #[arg(long)]
    pub enforce_rate_limit: bool,
    /// Requests per minute another integration on the same token spends, evenly through each window:
    /// counted in `inin-ratelimit-count` and toward the enforced quota.
    #[arg(long, default_value_t = 0)]
    pub other_integration_per_minute: u32,
    /// Stop when the process with this id ends (Linux), e.g. the benchmark or script that started
    /// the simulator and may be killed before it can stop it.
    #[arg(long, value_name = "PID")]
    pub exit_with: Option<u32>,
    /// Extra latency of every details-query page, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub slow_details_ms: u64,
    /// Extra latency of every conversation lookup, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub slow_lookup_ms: u64,
    /// Latency of every token request, in milliseconds (a huge value: a login host that hangs).
    #[arg(long, default_value_t = 0)]
    pub slow_token_ms: u64,
    /// Share of API requests answered 502/503/504 (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate_5xx: f64,
    /// Share of API requests answered 429 with Retry-After: 1 (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    pub rate_429: f64,
    /// Share of successful answers whose connection drops half-way through the body (0.0–1.0).
    #[arg(long, default_value_t = 0.0)]
    pub drop_connection_rate: f64,
    /// Tokens silently expire this many seconds after issue (the API then answers 401).
    #[arg(long)]
    pub token_ttl_secs: Option<u64>,
    /// Seed of the fault draws (the same seed and request order give the same faults).
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
    /// Share (0–1) of details-query pages served half-full the first time they are asked for.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    pub short_pages_rate: f64,
}

/// A share between 0 and 1.
fn share(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("'{s}' is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.contains("Exit codes:") && help.contains("143"),
            "{help}"
        );
    }
}
