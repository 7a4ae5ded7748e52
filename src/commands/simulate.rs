//! `simulate`: the embedded Genesys Cloud simulator as a standalone server.

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::connect::usage;
use crate::cli::SimulateCmd;
use crate::exit::{ExitStatus, Failure};
use crate::simulator;

pub(crate) async fn simulate_command(
    cmd: &SimulateCmd,
    cancel: CancellationToken,
) -> Result<ExitStatus, Failure> {
    let timezone = cmd.timezone.parse().map_err(|_| {
        usage(format!(
            "unknown time zone '{}': use an IANA name such as UTC",
            cmd.timezone
        ))
    })?;
    let now = match &cmd.now {
        Some(s) => {
            crate::time::parse_instant(s, timezone).map_err(|e| usage(format!("--now: {e}")))?
        }
        None => Utc::now(),
    };
    for (flag, rate) in [
        ("--error-rate-5xx", cmd.error_rate_5xx),
        ("--rate-429", cmd.rate_429),
        ("--drop-connection-rate", cmd.drop_connection_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(usage(format!(
                "{flag} must be a share between 0 and 1, not {rate}"
            )));
        }
    }
    let sim_cfg = simulator::SimConfig {
        seed: cmd.seed,
        conversations_per_day: cmd.conversations_per_day,
        now,
        timezone,
        client_id: cmd.client_id.clone(),
        client_secret: cmd.client_secret.clone(),
        port: cmd.port,
        rate_limit_per_minute: cmd.rate_limit_per_minute,
        enforce_rate_limit: cmd.enforce_rate_limit,
        other_integration_per_minute: cmd.other_integration_per_minute,
        faults: simulator::FaultProfile {
            slow_details_ms: cmd.slow_details_ms,
            slow_lookup_ms: cmd.slow_lookup_ms,
            slow_token_ms: cmd.slow_token_ms,
            error_rate_5xx: cmd.error_rate_5xx,
            rate_429: cmd.rate_429,
            drop_connection_rate: cmd.drop_connection_rate,
            token_ttl_override_secs: cmd.token_ttl_secs,
            seed: cmd.fault_seed,
            short_pages_rate: cmd.short_pages_rate,
            ..Default::default()
        },
        ..simulator::SimConfig::default()
    };
    let handle = simulator::start(sim_cfg).await.map_err(|e| {
        Failure::new(
            ExitStatus::Usage,
            format!("cannot listen on 127.0.0.1:{}: {e}", cmd.port),
        )
    })?;
    announce(&handle);
    let owner_gone = async {
        match cmd.exit_with {
            Some(pid) => process_gone(pid).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = cancel.cancelled() => {}
        _ = owner_gone => {}
    }
    handle.shutdown().await;
    Ok(ExitStatus::Success)
}

/// Prints where the simulator listens and its credentials, in one write and without panicking: a
/// reader may take the first line and close the pipe (`simulate | head -1`); the simulator keeps
/// serving.
fn announce(handle: &simulator::SimHandle) {
    use std::io::Write;
    let url = handle.base_url();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{url}\nGENESYS_API_BASE_URL={url}\nGENESYS_LOGIN_BASE_URL={url}\nGENESYS_CLIENT_ID={}\nGENESYS_CLIENT_SECRET={}",
        handle.client_id(),
        handle.client_secret()
    );
    let _ = out.flush();
}

/// Resolves once process `pid` has ended: its `/proc` entry is gone or a zombie (Linux; elsewhere
/// never).
async fn process_gone(pid: u32) {
    let alive = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            let state = s.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z')
        })
    };
    if !cfg!(target_os = "linux") {
        return std::future::pending().await;
    }
    while alive() {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
