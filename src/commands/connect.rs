//! Loading the configuration and connecting to its source (Genesys, or the embedded simulator).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::api::auth::Credentials;
use crate::api::{ApiClient, ApiError, Endpoints};
use crate::config::{self, Config, Env, RawJob, RunArgs, Source};
use crate::exit::{ExitStatus, Failure};
use crate::simulator;

pub(crate) fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::new(ExitStatus::Usage, e.to_string())
}

/// Loads the job (if any) and builds the configuration; every problem is reported at once.
pub fn load_config(args: &RunArgs, env: &dyn Env, now: DateTime<Utc>) -> Result<Config, Failure> {
    // Problems in the file and in the values are reported together.
    let (raw, mut errors) = match &args.job {
        Some(path) => config::load_job_lenient(path).map_err(usage)?,
        None => (RawJob::default(), Vec::new()),
    };
    match Config::build(raw, args, env, now) {
        Ok(cfg) if errors.is_empty() => Ok(cfg),
        Ok(_) => Err(usage(config::ConfigError(errors))),
        Err(mut e) => {
            errors.append(&mut e.0);
            Err(usage(config::ConfigError(errors)))
        }
    }
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
            ExitStatus::from(other),
            format!("cannot get a token from {}: {other}", endpoints.login_base),
        ),
    }
}
