//! The `run` command: configuration, lock, resume, source, catalogs, the audit, and the run files.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::connect::{auth_failure, connect, load_config, Connection};
use crate::api::ApiClient;
use crate::config::{Config, Env, RunArgs};
use crate::exit::{ExitStatus, Failure};
use crate::failpoint;
use crate::logging;
use crate::pipeline;
use crate::progress;
use crate::report;
use crate::shutdown;
use crate::store;

/// The `run` command without progress bars (tests, libraries).
pub async fn run_command(
    args: &RunArgs,
    env: &dyn Env,
    now: DateTime<Utc>,
    cancel: CancellationToken,
) -> Result<report::RunResult, Failure> {
    run_command_with(args, env, now, cancel, false).await
}

/// The `run` command: configuration, lock, source, catalogs, the audit, and the run-level files.
pub async fn run_command_with(
    args: &RunArgs,
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
    logging::set_run(Some(&run_id), job_stem(args).as_deref());
    let validated = load_config(args, env, now)?;
    logging::set_run(None, Some(&validated.job_name));
    // The output as people know it: for an object store the URL without credentials, never the
    // staging folder the run writes into.
    let destination = store::is_remote(&validated.output_dir)
        .then(|| store::redacted(&validated.output_dir.to_string_lossy()));
    match &destination {
        Some(url) => logging::set_output(std::path::Path::new(url)),
        None => logging::set_output(&validated.output_dir),
    }
    // An object-store destination is checked and locked before any Genesys request; the run then
    // writes into a local staging folder and publishes from it. That folder is part of the plan
    // made before the configuration is final, like the resume plan below.
    // The run's own token: a signal cancels it, and so does losing the destination's lock.
    let run_token = cancel.child_token();
    let remote = store::run::RemoteRun::start(&validated, &run_id, run_token.clone()).await?;
    let cfg = match &remote {
        Some(r) => Config {
            output_dir: r.staging_dir().to_path_buf(),
            ..validated
        },
        None => validated,
    };
    let result = audit_run(
        cfg.clone(),
        &run_id,
        started,
        run_token,
        bars,
        remote.as_ref(),
    )
    .await;
    // Metrics and the closing line see every run that got this far (its manifest holds the quality
    // gates); for an object store the run files (manifest last) go up first, whatever the outcome,
    // then the lock.
    let staging = cfg.output_dir.clone();
    report::conclude::conclude(
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

/// The audit itself: lock, resume plan, source, catalogs, the pipeline, and the run-level files.
async fn audit_run(
    validated: Config,
    run_id: &str,
    started: DateTime<Utc>,
    cancel: CancellationToken,
    bars: bool,
    remote: Option<&store::run::RemoteRun>,
) -> Result<report::RunResult, Failure> {
    let _lock = report::OutputLock::acquire(&validated.output_dir)?;
    if let Some(r) = remote {
        r.prepare(&validated.output_dir).await?;
    }
    let plan = match plan_run(&validated, remote) {
        Ok(plan) => plan,
        Err(failure) => {
            return report::finish(
                &validated,
                run_id,
                started,
                Utc::now(),
                &crate::transform::names::Catalogs::default(),
                Err(failure),
                &[],
                &Default::default(),
            );
        }
    };
    // The run's configuration is final from here on: the plan's clock and lookback days.
    let cfg = plan.config(validated);

    // From here on every ending writes a manifest: success, failure, signal, timeout or panic.
    let stop = shutdown::RunStop::new(&cancel, cfg.max_runtime);
    let mut written = plan.done.clone();
    let mut catalogs = crate::transform::names::Catalogs::default();
    let mut client: Option<Arc<ApiClient>> = None;
    let mut sim: Option<Connection> = None;
    let body = run_body(
        &cfg,
        run_id,
        started,
        plan.done,
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
    let outcome = with_stop_status(stop.status(), outcome);
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

/// The resume plan, read from the locked output folder; a panic while reading it is a failure the
/// manifest records.
fn plan_run(
    cfg: &Config,
    remote: Option<&store::run::RemoteRun>,
) -> Result<report::resume::ResumePlan, Failure> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        failpoint::hit("run-after-lock");
        let present = |p: &std::path::Path| match remote {
            Some(r) => r.has(p),
            None => cfg.output_dir.join(p).is_file(),
        };
        report::resume::ResumePlan::decide(cfg, &present)
    }))
    .map_err(|panic| internal_failure(panic.as_ref()))
}

/// A stopped run ends with the stop's status, whatever the step it was in.
fn with_stop_status(
    stop: Option<ExitStatus>,
    outcome: Result<crate::stats::RunOutcome, Failure>,
) -> Result<crate::stats::RunOutcome, Failure> {
    match (stop, outcome) {
        (None, o) => o,
        (Some(s), Ok(mut o)) => {
            o.status = s;
            Ok(o)
        }
        (Some(s), Err(f)) if f.status != ExitStatus::Internal => Err(Failure::new(s, f.message)),
        (Some(_), Err(f)) => Err(f),
    }
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
    done: Vec<crate::stats::PartitionRecord>,
    stop: &shutdown::RunStop,
    bars: bool,
    remote: Option<&store::run::RemoteRun>,
    written: &mut Vec<crate::stats::PartitionRecord>,
    catalogs_out: &mut crate::transform::names::Catalogs,
    client_out: &mut Option<Arc<ApiClient>>,
    conn_out: &mut Option<Connection>,
) -> Result<crate::stats::RunOutcome, Failure> {
    let conn = stop.until("starting the source", connect(cfg)).await?;
    let client = conn.client.clone();
    let endpoints = conn.endpoints.clone();
    *client_out = Some(client.clone());
    *conn_out = Some(conn);
    tracing::info!(
        job = %cfg.job_name,
        window.from = %crate::time::iso_ms(cfg.window.from),
        window.to = %crate::time::iso_ms(cfg.window.to),
        as_of = %crate::time::iso_ms(cfg.as_of),
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

    let mut checkpoint = |parts: &[crate::stats::PartitionRecord]| {
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
fn job_stem(args: &RunArgs) -> Option<String> {
    args.job
        .as_ref()
        .and_then(|p| p.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
}
