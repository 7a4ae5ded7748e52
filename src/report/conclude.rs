//! The end of a run after its audit: publish, metrics, the closing line.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::exit::Failure;
use crate::report::closing::RunFacts;
use crate::report::RunResult;

/// After the audit (whose manifest already holds the quality gates): `publish` (an object store's
/// run files), then the metrics and the closing line, so that the line never announces what could
/// not be published. A failure keeps its status and message; its metrics are still written.
/// `destination` is the object-store URL (credentials removed) the metrics and the line name instead
/// of the local staging folder.
pub async fn conclude<Fut>(
    cfg: &crate::config::Config,
    destination: Option<&str>,
    run_id: &str,
    started: DateTime<Utc>,
    result: Result<RunResult, Failure>,
    publish: impl FnOnce(Result<RunResult, Failure>) -> Fut,
) -> Result<RunResult, Failure>
where
    Fut: std::future::Future<Output = Result<RunResult, Failure>>,
{
    let finished = Utc::now();
    let facts = result
        .as_ref()
        .ok()
        .map(|r| RunFacts::finished(&cfg.job_name, r, started, finished));
    let result = publish(result).await;
    let shown = destination
        .map(PathBuf::from)
        .unwrap_or_else(|| cfg.output_dir.clone());
    match result {
        Ok(r) => {
            let mut facts =
                facts.unwrap_or_else(|| RunFacts::finished(&cfg.job_name, &r, started, finished));
            if let Some(d) = destination {
                facts.summary_html = facts
                    .summary_html
                    .map(|_| PathBuf::from(format!("{d}/{}", crate::report::SUMMARY_HTML)));
            }
            facts.output_dir = shown;
            crate::report::metrics::publish(cfg, &facts).await;
            facts.log_closing();
            Ok(r)
        }
        Err(failure) => {
            let facts = RunFacts::failed(&cfg.job_name, run_id, shown, &failure, started, finished);
            crate::report::metrics::publish(cfg, &facts).await;
            Err(failure)
        }
    }
}
