//! wrapup-audit: explains why Genesys Cloud conversations have no wrap-up code.
//!
//! `main` only parses the command line, sets up logging and the runtime, and maps the result of
//! [`run`] to an exit code. Folders follow the data flow: `cli`, `config` and `commands` (what to do),
//! `api` (talking to Genesys), `source` (fetching days), `transform` (the classification contract),
//! `pipeline` (one run), `record` and `sink` (the files), `report` (summaries, manifest, metrics),
//! `store` (object-storage destinations), `simulator` (the offline org).

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod exit;
pub mod failpoint;
pub mod logging;
pub mod pipeline;
pub mod progress;
pub mod record;
pub mod report;
pub mod shutdown;
pub mod simulator;
pub mod sink;
pub mod source;
pub mod stats;
pub mod store;
pub mod task;
pub mod time;
pub mod transform;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::cli::{Cli, Command};
use crate::config::Env;
use crate::exit::{ExitStatus, Failure};

/// Runs one command to completion. Errors carry their exit status and a one-line message.
pub async fn run(
    cli: Cli,
    env: &dyn Env,
    cancel: CancellationToken,
) -> Result<ExitStatus, Failure> {
    let bars = progress::Progress::wanted(cli.quiet, cli.log_format == cli::LogFormat::Text);
    match cli.command {
        Command::Run(cmd) => commands::run::run_command_with(&cmd, env, Utc::now(), cancel, bars)
            .await
            .map(|r| r.status),
        Command::Validate(cmd) => commands::validate::validate_command(&cmd, env),
        Command::Simulate(cmd) => commands::simulate::simulate_command(&cmd, cancel).await,
        // Read-only commands write nothing, so a signal simply ends them.
        Command::Explain(cmd) => until_signal(&cancel, commands::explain::command(&cmd, env)).await,
        Command::Check(cmd) => until_signal(&cancel, commands::check::command(&cmd, env)).await,
        Command::Plan(cmd) => until_signal(&cancel, commands::plan::command(&cmd, env)).await,
    }
}

async fn until_signal(
    cancel: &CancellationToken,
    fut: impl std::future::Future<Output = Result<ExitStatus, Failure>>,
) -> Result<ExitStatus, Failure> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Ok(shutdown::received().unwrap_or(ExitStatus::Interrupted)),
        r = fut => r,
    }
}
