//! `validate`: the job file and environment checked without any request.

use chrono::Utc;

use super::connect::load_config;
use crate::cli::{RunCmd, ValidateCmd};
use crate::config::{Env, Source};
use crate::exit::{ExitStatus, Failure};
use crate::failpoint;

pub(crate) fn validate_command(cmd: &ValidateCmd, env: &dyn Env) -> Result<ExitStatus, Failure> {
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
