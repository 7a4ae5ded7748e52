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
pub mod store;
pub mod task;
pub mod transform;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::api::auth::Credentials;
use crate::api::{ApiClient, ApiError, Endpoints};
use crate::cli::{Cli, Command, RunCmd, SimulateCmd, ValidateCmd};
use crate::config::{Config, Env, RawJob, Source};
use crate::exit::{ExitStatus, Failure};

/// Runs one command to completion. Errors carry their exit status and a one-line message.
pub async fn run(
    cli: Cli,
    env: &dyn Env,
    cancel: CancellationToken,
) -> Result<ExitStatus, Failure> {
    let bars = progress::Progress::wanted(cli.quiet, cli.log_format);
    match cli.command {
        Command::Run(cmd) => run_command_with(&cmd, env, Utc::now(), cancel, bars)
            .await
            .map(|r| r.status),
        Command::Validate(cmd) => validate_command(&cmd, env),
        Command::Simulate(cmd) => simulate_command(&cmd, cancel).await,
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

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::new(ExitStatus::Usage, e.to_string())
}

/// Loads the job (if any) and builds the configuration; every problem is reported at once.
pub fn load_config(cmd: &RunCmd, env: &dyn Env, now: DateTime<Utc>) -> Result<Config, Failure> {
    // Problems in the file and in the values are reported together.
    let (raw, mut errors) = match &cmd.job {
        Some(path) => config::load_job_lenient(path).map_err(usage)?,
        None => (RawJob::default(), Vec::new()),
    };
    match Config::build(raw, &cmd.to_args(), env, now) {
        Ok(cfg) if errors.is_empty() => Ok(cfg),
        Ok(_) => Err(usage(config::ConfigError(errors))),
        Err(mut e) => {
            errors.append(&mut e.0);
            Err(usage(config::ConfigError(errors)))
        }
    }
}

fn validate_command(cmd: &ValidateCmd, env: &dyn Env) -> Result<ExitStatus, Failure> {
    let run = RunCmd::from_job(cmd.job.clone());
    failpoint::hit("validate");
    let cfg = load_config(&run, env, Utc::now())?;
    let source = match &cfg.source {
        Source::Simulator { .. } => "the embedded simulator".to_string(),
        Source::Genesys { endpoints, .. } => endpoints.api_base.clone(),
    };
    println!(
        "{}: valid (job '{}', time zone {}, output {}, source {source})",
        cmd.job.display(),
        cfg.job_name,
        cfg.window.timezone,
        cfg.output_dir.display()
    );
    Ok(ExitStatus::Success)
}

impl RunCmd {
    /// A run command with only a job file: what `validate` checks.
    pub fn from_job(job: std::path::PathBuf) -> RunCmd {
        RunCmd {
            job: Some(job),
            from: None,
            to: None,
            as_of: None,
            timezone: None,
            output_dir: None,
            format: None,
            requests_per_minute: None,
            pacing: None,
            concurrency: None,
            lookup: None,
            lookup_budget: None,
            settle_minutes: None,
            simulator: false,
            force: false,
            lookback_days: None,
            mode: None,
            max_runtime: None,
            metrics_file: None,
            pushgateway_url: None,
        }
    }
}

/// The `run` command without progress bars (tests, libraries).
pub async fn run_command(
    cmd: &RunCmd,
    env: &dyn Env,
    now: DateTime<Utc>,
    cancel: CancellationToken,
) -> Result<report::RunResult, Failure> {
    run_command_with(cmd, env, now, cancel, false).await
}

/// The `run` command: configuration, lock, source, catalogs, the audit, and the run-level files.
pub async fn run_command_with(
    cmd: &RunCmd,
    env: &dyn Env,
    now: DateTime<Utc>,
    cancel: CancellationToken,
    bars: bool,
) -> Result<report::RunResult, Failure> {
    let started = Utc::now();
    let run_id = format!(
        "{}-{}",
        started.format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    // Every log line from here on, a configuration error's included, names the run.
    logging::set_run(Some(&run_id), job_stem(cmd).as_deref());
    let mut cfg = load_config(cmd, env, now)?;
    logging::set_run(None, Some(&cfg.job_name));
    // The output as people know it: for an object store the URL without credentials, never the
    // staging folder the run writes into.
    let destination = store::is_remote(&cfg.output_dir)
        .then(|| store::redacted(&cfg.output_dir.to_string_lossy()));
    match &destination {
        Some(url) => logging::set_output(std::path::Path::new(url)),
        None => logging::set_output(&cfg.output_dir),
    }
    // An object-store destination is checked and locked before any Genesys request; the run then
    // writes into a local staging folder (cfg.output_dir from here on) and publishes from it.
    // The run's own token: a signal cancels it, and so does losing the destination's lock.
    let run_token = cancel.child_token();
    let remote = store::run::RemoteRun::start(&mut cfg, &run_id, run_token.clone()).await?;
    let result = audit_run(
        cfg.clone(),
        &run_id,
        started,
        run_token,
        bars,
        remote.as_ref(),
    )
    .await;
    // Quality gates, metrics and the closing line see every run that got this far; for an object
    // store the run files (manifest last) go up in between, whatever the outcome, then the lock.
    let staging = cfg.output_dir.clone();
    report::closing::conclude(
        &cfg,
        destination.as_deref(),
        &run_id,
        started,
        result,
        |result| async move {
            match remote {
                Some(r) => r.finish(&staging, result).await,
                None => result,
            }
        },
    )
    .await
}

/// The audit itself: lock, resume, source, catalogs, the pipeline, and the run-level files.
async fn audit_run(
    mut cfg: Config,
    run_id: &str,
    started: DateTime<Utc>,
    cancel: CancellationToken,
    bars: bool,
    remote: Option<&store::run::RemoteRun>,
) -> Result<report::RunResult, Failure> {
    let _lock = report::OutputLock::acquire(&cfg.output_dir)?;
    if let Some(r) = remote {
        r.prepare(&cfg.output_dir).await?;
    }
    let prepared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        failpoint::hit("run-after-lock");
        let present = |p: &std::path::Path| match remote {
            Some(r) => r.has(p),
            None => cfg.output_dir.join(p).is_file(),
        };
        // An unfinished run of the same job continues where it stopped, with its own clock.
        let done = match report::resumable_with(&cfg, &present) {
            Some((as_of, done)) => {
                tracing::info!(days = done.len(), as_of = %pipeline::iso_ms(as_of), "Resuming an unfinished run of this job ({} days already written)", done.len());
                cfg.as_of = as_of;
                done
            }
            None => Vec::new(),
        };
        cfg.lookback = report::days_to_heal(&cfg);
        if !cfg.lookback.is_empty() {
            tracing::info!(days = %serde_json::to_string(&cfg.lookback).unwrap_or_default(), "Re-auditing {} earlier day(s) that were not final", cfg.lookback.len());
        }
        done
    }));
    let done = match prepared {
        Ok(done) => done,
        Err(panic) => {
            let failure = internal_failure(panic.as_ref());
            return report::finish(
                &cfg,
                run_id,
                started,
                Utc::now(),
                &pipeline::Catalogs::default(),
                Err(failure),
                &[],
                &Default::default(),
            );
        }
    };

    // From here on every ending writes a manifest: success, failure, signal, timeout or panic.
    let stop = shutdown::RunStop::new(&cancel, cfg.max_runtime);
    let mut written = done.clone();
    let mut catalogs = pipeline::Catalogs::default();
    let mut client: Option<Arc<ApiClient>> = None;
    let mut sim: Option<Connection> = None;
    let body = run_body(
        &cfg,
        run_id,
        started,
        done,
        &stop,
        bars,
        remote,
        &mut written,
        &mut catalogs,
        &mut client,
        &mut sim,
    );
    let outcome = match futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(body)).await {
        Ok(r) => r,
        Err(panic) => Err(internal_failure(panic.as_ref())),
    };
    // A stopped run ends with the stop's status, whatever the step it was in.
    let outcome = match (stop.status(), outcome) {
        (None, o) => o,
        (Some(s), Ok(mut o)) => {
            o.status = s;
            Ok(o)
        }
        (Some(s), Err(f)) if f.status != ExitStatus::Internal => Err(Failure::new(s, f.message)),
        (Some(_), Err(f)) => Err(f),
    };
    // A lost lock ends the run with exit 6, whatever the step it stopped in.
    let outcome = match remote.and_then(|r| r.lost()) {
        Some(lost) => Err(lost),
        None => outcome,
    };
    let api = client.as_ref().map(|c| c.stats()).unwrap_or_default();
    let finished = Utc::now();
    let result = report::finish(
        &cfg, run_id, started, finished, &catalogs, outcome, &written, &api,
    );
    if let Some(conn) = sim {
        conn.close().await;
    }
    result
}

/// The failure a caught panic becomes.
fn internal_failure(payload: &(dyn std::any::Any + Send)) -> Failure {
    Failure::new(
        ExitStatus::Internal,
        format!(
            "internal error: {} (a bug: please report it with this line)",
            panic_message(payload)
        ),
    )
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// The part of a run that talks to the API, every wait of it ending at once when `stop` fires.
/// What it learns (client, catalogs, partitions written) lands in the `&mut` slots, so that the
/// manifest tells the truth however the body ends.
async fn run_body(
    cfg: &Config,
    run_id: &str,
    started: DateTime<Utc>,
    done: Vec<pipeline::PartitionRecord>,
    stop: &shutdown::RunStop,
    bars: bool,
    remote: Option<&store::run::RemoteRun>,
    written: &mut Vec<pipeline::PartitionRecord>,
    catalogs_out: &mut pipeline::Catalogs,
    client_out: &mut Option<Arc<ApiClient>>,
    conn_out: &mut Option<Connection>,
) -> Result<pipeline::RunOutcome, Failure> {
    let conn = stop.until("starting the source", connect(cfg)).await?;
    let client = conn.client.clone();
    let endpoints = conn.endpoints.clone();
    *client_out = Some(client.clone());
    *conn_out = Some(conn);
    tracing::info!(
        job = %cfg.job_name,
        window.from = %pipeline::iso_ms(cfg.window.from),
        window.to = %pipeline::iso_ms(cfg.window.to),
        as_of = %pipeline::iso_ms(cfg.as_of),
        api = %endpoints.api_base,
        "Starting run {run_id} of job '{}'", cfg.job_name
    );
    failpoint::hit("run-before-token");
    stop.until("getting a token", async {
        client
            .authenticate()
            .await
            .map_err(|e| auth_failure(&e, &endpoints))
    })
    .await?;
    let catalogs = stop
        .until("reading the catalogs", report::load_catalogs(&client))
        .await?;
    *catalogs_out = catalogs.clone();
    failpoint::hit("run-after-catalogs");

    let mut checkpoint = |parts: &[pipeline::PartitionRecord]| {
        *written = parts.to_vec();
        report::update_index(cfg, run_id, parts)?;
        report::checkpoint(cfg, run_id, started, parts)?;
        match remote {
            Some(r) => r.publish_checkpoint(&cfg.output_dir, parts),
            None => Ok(()),
        }
    };
    let total_days = (cfg.window.days().len() + cfg.lookback.len()) as u64;
    let bar = progress::Progress::new(total_days, bars);
    let outcome = pipeline::audit(
        cfg,
        client.clone(),
        &catalogs,
        run_id,
        stop.token(),
        done,
        &mut checkpoint,
        &bar,
    )
    .await;
    bar.finish();
    outcome
}

/// The job's name before its file is read: the file stem, as `Config::build` defaults it.
fn job_stem(cmd: &RunCmd) -> Option<String> {
    cmd.job
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
}

/// A client for the configured source; for the embedded simulator, the running server too.
pub struct Connection {
    pub client: Arc<ApiClient>,
    pub endpoints: Endpoints,
    sim: Option<simulator::SimHandle>,
}

impl Connection {
    /// Stops the embedded simulator, if any.
    pub async fn close(self) {
        if let Some(h) = self.sim {
            h.shutdown().await;
        }
    }
}

/// Builds the client for `cfg.source`, starting the embedded simulator when that is the source.
pub async fn connect(cfg: &Config) -> Result<Connection, Failure> {
    // The embedded simulator lives exactly as long as the command that uses it.
    let mut sim = None;
    let (endpoints, credentials) = match &cfg.source {
        Source::Genesys {
            endpoints,
            credentials,
        } => (endpoints.clone(), credentials.clone()),
        Source::Simulator {
            seed,
            conversations_per_day,
            quota_per_minute,
        } => {
            let sim_cfg = simulator::SimConfig {
                seed: *seed,
                conversations_per_day: *conversations_per_day,
                now: cfg.as_of,
                timezone: cfg.window.timezone,
                // Only an asked-for quota is enforced and reported: the demo never pauses for one.
                enforce_rate_limit: quota_per_minute.is_some(),
                rate_limit_per_minute: quota_per_minute.unwrap_or(300),
                ..simulator::SimConfig::default()
            };
            let handle = simulator::start(sim_cfg).await.map_err(|e| {
                Failure::new(
                    ExitStatus::ApiUnavailable,
                    format!("cannot start the embedded simulator: {e}"),
                )
            })?;
            let base = handle.base_url();
            let creds = Credentials::new(handle.client_id(), handle.client_secret());
            sim = Some(handle);
            (
                Endpoints {
                    api_base: base.clone(),
                    login_base: base,
                },
                creds,
            )
        }
    };
    let client = Arc::new(
        ApiClient::new(endpoints.clone(), credentials, &cfg.client).map_err(|e| {
            Failure::new(
                ExitStatus::Usage,
                format!("cannot build the HTTP client: {e:#}"),
            )
        })?,
    );
    Ok(Connection {
        client,
        endpoints,
        sim,
    })
}

/// Turns a token failure into the one line an operator needs.
pub fn auth_failure(e: &ApiError, endpoints: &Endpoints) -> Failure {
    match e {
        ApiError::Auth { error, description } => Failure::new(
            ExitStatus::Auth,
            format!(
                "authentication failed at {} ({error}: {description}): check GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET, and that GENESYS_REGION is the org's region",
                endpoints.login_base
            ),
        ),
        other => Failure::new(
            ExitStatus::ApiUnavailable,
            format!("cannot get a token from {}: {other}", endpoints.login_base),
        ),
    }
}

async fn simulate_command(
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
        Some(s) => config::parse_instant(s, timezone).map_err(|e| usage(format!("--now: {e}")))?,
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
    println!("{}", handle.base_url());
    println!("GENESYS_API_BASE_URL={}", handle.base_url());
    println!("GENESYS_LOGIN_BASE_URL={}", handle.base_url());
    println!("GENESYS_CLIENT_ID={}", handle.client_id());
    println!("GENESYS_CLIENT_SECRET={}", handle.client_secret());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    cancel.cancelled().await;
    handle.shutdown().await;
    Ok(ExitStatus::Success)
}
