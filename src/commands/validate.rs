//! `validate`: the job file and environment checked without any request.

use chrono::Utc;

use super::connect::load_config;
use crate::cli::ValidateCmd;
use crate::config::{Env, RunArgs, Source};
use crate::exit::{ExitStatus, Failure};
use crate::failpoint;

pub(crate) fn validate_command(cmd: &ValidateCmd, env: &dyn Env) -> Result<ExitStatus, Failure> {
    let run = RunArgs {
        job: Some(cmd.job.clone()),
        ..RunArgs::default()
    };
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
