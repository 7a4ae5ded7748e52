//! The binary: parse the command line, set up logging and the runtime, run, exit with the status.

use std::process::ExitCode;

use clap::Parser;
use wrapup_audit::cli::Cli;
use wrapup_audit::config::ProcessEnv;
use wrapup_audit::exit::ExitStatus;

fn main() -> ExitCode {
    // Credentials may live in a .env file; real environment variables win.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    wrapup_audit::logging::init(cli.log_format, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitStatus::Output.into();
        }
    };
    let status = runtime.block_on(async {
        let signals = wrapup_audit::shutdown::Signals::listen();
        let cancel = signals.token();
        match wrapup_audit::run(cli, &ProcessEnv, cancel).await {
            Ok(status) => signals.map_status(status),
            Err(failure) => {
                wrapup_audit::logging::fatal(&failure);
                failure.status
            }
        }
    });
    status.into()
}
