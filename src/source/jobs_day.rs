//! One report day through the async jobs path, in flat memory and overlapped with the writer.
//!
//! The day's jobs run in their own task: each page's rows are classified and spilled to sorted runs
//! on disk (`spill`), so the task never waits for the writer. The fetching task then merges the
//! runs and sends the rows in (`conversation_start`, `conversation_id`) order. While it sends one
//! day, the next day's job is already being polled and paged.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::Sender;
use tokio_util::sync::CancellationToken;

use crate::api::wire::AnalyticsConversation;
use crate::api::{ApiClient, ApiError};
use crate::config::Config;
use crate::source::channel::emit;
use crate::source::channel::DayMeta;
use crate::source::channel::Msg;
use crate::source::channel::ROWS_PER_CHUNK;
use crate::source::spill::{DaySpill, Merge};
use crate::task::Spawned;
use crate::transform::classify;
use crate::transform::rows::Fetched;

/// How long a stopped day may take to delete its job.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

type Read = Result<(Merge, Option<DateTime<Utc>>), ApiError>;

/// A day's jobs, running.
pub(crate) struct JobsDay {
    task: Spawned<Read>,
    cancel: CancellationToken,
}

fn spill_error(cfg: &Config, e: std::io::Error) -> ApiError {
    ApiError::Spill {
        detail: format!(
            "cannot spill the day's rows under {}: {e}",
            cfg.output_dir.display()
        ),
    }
}

impl JobsDay {
    /// Starts reading `[start, end)`; `cancel` (or [`JobsDay::stop`]) deletes the job in flight.
    pub(crate) fn start(
        client: &Arc<ApiClient>,
        cfg: &Arc<Config>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        cancel: &CancellationToken,
    ) -> JobsDay {
        let cancel = cancel.child_token();
        let (client, cfg, token) = (client.clone(), cfg.clone(), cancel.clone());
        let task = Spawned::new(async move {
            let convert = {
                let cfg = cfg.clone();
                move |c: &AnalyticsConversation| Fetched::new(c, &cfg, None)
            };
            let mut spill =
                DaySpill::new(&cfg.output_dir, convert).map_err(|e| spill_error(&cfg, e))?;
            let f = crate::source::jobs::fetch_interval_jobs_into(
                &client,
                &cfg.filters,
                start,
                end,
                &cfg.jobs,
                &token,
                &mut spill,
            )
            .await?;
            let merge = spill.merge().map_err(|e| spill_error(&cfg, e))?;
            Ok((merge, f.data_availability))
        });
        JobsDay { task, cancel }
    }

    /// Waits for the day's jobs, then sends its rows in order.
    pub(crate) async fn send(
        self,
        cfg: &Config,
        progress: &crate::progress::Progress,
        tx: &Sender<Msg>,
    ) -> Result<DayMeta, ApiError> {
        let (mut merge, available) = self.task.await?;
        loop {
            let mut rows = merge
                .next_chunk(ROWS_PER_CHUNK)
                .map_err(|e| spill_error(cfg, e))?;
            if rows.is_empty() {
                break;
            }
            progress.page(rows.len() as u64);
            // The lake's horizon is known once every job of the day was read.
            for r in &mut rows {
                let c = &mut r.classified;
                c.too_recent = classify::is_too_recent(
                    r.end,
                    cfg.as_of,
                    cfg.settle_minutes,
                    available,
                    c.analytics_label,
                );
            }
            emit(tx, rows).await?;
        }
        Ok(DayMeta {
            dropped_outside: merge.outside,
            dropped_duplicates: merge.duplicates,
            complete_until: available,
            shortfall: None,
        })
    }

    /// Cancels the day and gives it a moment to delete its job.
    pub(crate) async fn stop(self) {
        self.cancel.cancel();
        let _ = tokio::time::timeout(STOP_TIMEOUT, self.task).await;
    }
}
