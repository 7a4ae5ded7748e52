//! Logging setup: `tracing` to stderr, text or JSON, filtered by `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber. `quiet` lowers the default level to `warn`.
pub fn init(format: LogFormat, quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let user = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_string());
    // HTTP internals stay at warn even under RUST_LOG=trace: their traces could carry headers.
    let filter = EnvFilter::try_new(format!(
        "{user},hyper=warn,hyper_util=warn,reqwest=warn,h2=warn,rustls=warn,object_store=warn"
    ))
    .unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| BarSafeStderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// stderr that hides the progress bars while a log line is written.
struct BarSafeStderr;

impl std::io::Write for BarSafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        crate::progress::suspend(|| std::io::stderr().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
