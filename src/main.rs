//! The binary: parse the command line, set up logging and the runtime, run, exit with the status.

use std::process::ExitCode;

use clap::Parser;
use wrapup_audit::cli::Cli;
use wrapup_audit::config::ProcessEnv;
use wrapup_audit::exit::ExitStatus;

// Small allocations dominate a run (a record's strings and vectors, page by page); glibc malloc was
// about a third of its CPU (docs/benchmarks.md, issue 14).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Credentials may live in a .env file; real environment variables win.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    wrapup_audit::logging::init(cli.log_format, cli.quiet);
    // A panic is a bug: one logged line with where it happened, then the documented exit code (70),
    // never Rust's 101. A run that holds the lock catches its own panic and writes the manifest.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(
            "internal error{at}: {}",
            wrapup_audit::commands::run::panic_message(info.payload())
        );
    }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let failure = wrapup_audit::exit::Failure::new(
                ExitStatus::Output,
                format!("cannot start the async runtime: {e}"),
            );
            wrapup_audit::logging::fatal(&failure);
            return failure.status.into();
        }
    };
    let run = std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            let signals = wrapup_audit::shutdown::Signals::listen();
            let cancel = signals.token();
            match wrapup_audit::run(cli, &ProcessEnv, cancel).await {
                Ok(status) => signals.map_status(status),
                Err(failure) => {
                    wrapup_audit::logging::fatal(&failure);
                    failure.status
                }
            }
        })
    });
    let status = match std::panic::catch_unwind(run) {
        Ok(status) => status,
        Err(panic) => {
            wrapup_audit::logging::fatal(&wrapup_audit::exit::Failure::new(
                ExitStatus::Internal,
                format!(
                    "internal error: {} (a bug: please report it with this line)",
                    wrapup_audit::commands::run::panic_message(panic.as_ref())
                ),
            ));
            ExitStatus::Internal
        }
    };
    // Tasks still parked on a hung connection must not hold up the exit.
    runtime.shutdown_background();
    status.into()
}
