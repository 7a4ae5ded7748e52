//! One report day through the async jobs path, in flat memory and overlapped with the writer.
//!
//! The day's jobs run in their own task: each page's rows are classified and spilled to sorted runs
//! on disk (`spill`), so the task never waits for the writer. The fetching task then merges the
//! runs and sends the rows in (`conversation_start`, `conversation_id`) order. Days are started
//! ahead of the writer, and each takes one of the run's job slots ([`JOBS_AT_ONCE`]) while its jobs
//! run, so a slot freed by a finished job is taken at once by the next day, whatever the writer does.

use std::sync::Arc;
use std::time::Duration;

use std::collections::VecDeque;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::mpsc::Sender;
use tokio::sync::{oneshot, Semaphore};
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

/// Jobs of the run running (submitted and not yet read to the end) at any moment: an org's limit on
/// concurrent jobs exists but its value is not documented, so no more than the two of earlier versions.
pub(crate) const JOBS_AT_ONCE: usize = 2;

/// Jobs days started beyond the one being sent. Their rows wait on disk, a day's spill each; more than
/// [`JOBS_AT_ONCE`], so that a slot never waits for the writer to move on to the next day.
pub(crate) const DAYS_AHEAD: usize = 3;

type Read = Result<(Merge, Option<DateTime<Utc>>), ApiError>;

/// A day's place in the queue for job slots: told when the day before has queued, it tells the next.
type Turn = (Option<oneshot::Receiver<()>>, oneshot::Sender<()>);

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
    /// Starts reading `[start, end)` once one of `slots` is free; `cancel` (or [`JobsDay::stop`])
    /// deletes the job in flight.
    pub(crate) fn start(
        client: &Arc<ApiClient>,
        cfg: &Arc<Config>,
        (start, end): (DateTime<Utc>, DateTime<Utc>),
        (slots, turn): (&Arc<Semaphore>, Turn),
        cancel: &CancellationToken,
    ) -> JobsDay {
        let cancel = cancel.child_token();
        let (client, cfg, token) = (client.clone(), cfg.clone(), cancel.clone());
        let slots = slots.clone();
        let task = Spawned::new(async move {
            // Slots go to days in date order: the day before queued for one first.
            let (after, then) = turn;
            let slot = tokio::select! {
                _ = token.cancelled() => return Err(ApiError::Cancelled),
                slot = async {
                    if let Some(after) = after {
                        let _ = after.await;
                    }
                    let slot = slots.acquire_owned().await;
                    let _ = then.send(());
                    slot.expect("the semaphore is never closed")
                } => slot,
            };
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
            drop(slot);
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

/// The jobs days started ahead of the writer, in date order, sharing the run's job slots.
pub(crate) struct JobsAhead {
    client: Arc<ApiClient>,
    cfg: Arc<Config>,
    cancel: CancellationToken,
    slots: Arc<Semaphore>,
    started: VecDeque<(NaiveDate, JobsDay)>,
    last: Option<NaiveDate>,
    /// Told when the last day started has queued for its slot.
    queued: Option<oneshot::Receiver<()>>,
}

impl JobsAhead {
    pub(crate) fn new(
        client: &Arc<ApiClient>,
        cfg: &Arc<Config>,
        cancel: &CancellationToken,
    ) -> JobsAhead {
        JobsAhead {
            client: client.clone(),
            cfg: cfg.clone(),
            cancel: cancel.clone(),
            slots: Arc::new(Semaphore::new(JOBS_AT_ONCE)),
            started: VecDeque::new(),
            last: None,
            queued: None,
        }
    }

    /// Starts the days of `days` (in date order, the day being sent first) not started yet, up to
    /// [`DAYS_AHEAD`] beyond the first.
    pub(crate) fn top_up(
        &mut self,
        days: impl Iterator<Item = (NaiveDate, DateTime<Utc>, DateTime<Utc>)>,
    ) {
        for (date, start, end) in days.take(DAYS_AHEAD + 1) {
            if self.last.is_some_and(|l| date <= l) {
                continue;
            }
            let day = self.start((start, end));
            self.started.push_back((date, day));
            self.last = Some(date);
        }
    }

    /// The day `date`, started by [`JobsAhead::top_up`] (or now, if it was not).
    pub(crate) fn take(
        &mut self,
        date: NaiveDate,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> JobsDay {
        match self.started.iter().position(|(d, _)| *d == date) {
            Some(k) => self.started.remove(k).expect("position is in range").1,
            None => self.start((start, end)),
        }
    }

    fn start(&mut self, interval: (DateTime<Utc>, DateTime<Utc>)) -> JobsDay {
        let (then, next) = oneshot::channel();
        let after = self.queued.replace(next);
        let turn = (&self.slots, (after, then));
        JobsDay::start(&self.client, &self.cfg, interval, turn, &self.cancel)
    }

    /// Stops the days not sent, all at once.
    pub(crate) async fn stop(self) {
        futures::future::join_all(self.started.into_iter().map(|(_, day)| day.stop())).await;
    }
}
