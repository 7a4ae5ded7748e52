//! One report day through the async jobs path, in flat memory and overlapped with the writer.
//!
//! The day's jobs run in their own task: each page's rows are classified and spilled to sorted runs
//! on disk (`spill`), so the task never waits for the writer. The fetching task then merges the
//! runs and sends the rows in (`conversation_start`, `conversation_id`) order. Days are started
//! ahead of the writer, and each job takes one of the run's job slots ([`JOBS_AT_ONCE`]) while it
//! runs, so a slot freed by a finished job is taken at once by the next one, whatever the writer does.
//! The run's first jobs day is read in parts ([`FIRST_DAY_PARTS`]) so that the writer starts early.

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

/// The run's first jobs day is read as this many consecutive parts, a job each, and a part is sent as
/// soon as it and the parts before it are read: the writer starts after a part, not the whole day.
/// Later days are read while the writer works, so they stay whole (one job, the fewest requests).
pub(crate) const FIRST_DAY_PARTS: u32 = 4;

type Read = Result<(Merge, Option<DateTime<Utc>>), ApiError>;

/// An interval of conversation start times, `[start, end)`.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// A job's place in the queue for slots: told when the one before has queued, it tells the next.
type Turn = (Option<oneshot::Receiver<()>>, oneshot::Sender<()>);

/// A day's jobs, running: its consecutive parts, in order.
pub(crate) struct JobsDay {
    parts: VecDeque<Part>,
}

/// One part of a day (the whole day, unless it is the run's first jobs day), read by its own job.
struct Part {
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

/// `[start, end)` cut into `n` consecutive parts of about equal length, in whole seconds.
fn parts_of(start: DateTime<Utc>, end: DateTime<Utc>, n: u32) -> Vec<Span> {
    let n = n.max(1) as usize;
    let step = chrono::Duration::seconds(((end - start).num_seconds() / n as i64).max(1));
    let mut out = Vec::with_capacity(n);
    let mut s = start;
    while s < end {
        let e = if out.len() + 1 == n {
            end
        } else {
            (s + step).min(end)
        };
        out.push((s, e));
        s = e;
    }
    out
}

impl Part {
    /// Starts reading `part` of the day `day` once its turn for a slot comes; `cancel` (or
    /// [`Part::stop`]) deletes the job in flight.
    fn start(
        client: &Arc<ApiClient>,
        cfg: &Arc<Config>,
        (part, day): (Span, Span),
        (slots, turn): (&Arc<Semaphore>, Turn),
        cancel: &CancellationToken,
    ) -> Part {
        let cancel = cancel.child_token();
        let (client, cfg, token) = (client.clone(), cfg.clone(), cancel.clone());
        let slots = slots.clone();
        let task = Spawned::new(async move {
            // Slots go to jobs in date order: the one before queued for its slot first.
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
            let mut spill = DaySpill::new(&cfg.output_dir, convert)
                .map_err(|e| spill_error(&cfg, e))?
                .within_day(day.0, day.1);
            let f = crate::source::jobs::fetch_interval_jobs_into(
                &client,
                &cfg.filters,
                part.0,
                part.1,
                &cfg.jobs,
                &token,
                &mut spill,
            )
            .await?;
            drop(slot);
            let merge = spill.merge().map_err(|e| spill_error(&cfg, e))?;
            Ok((merge, f.data_availability))
        });
        Part { task, cancel }
    }

    /// Cancels the part and gives it a moment to delete its job.
    async fn stop(self) {
        self.cancel.cancel();
        let _ = tokio::time::timeout(STOP_TIMEOUT, self.task).await;
    }
}

impl JobsDay {
    /// Waits for the day's parts in order and sends each one's rows as soon as it is read. Parts hold
    /// disjoint ranges of start times, so the day comes out in (start, id) order all the same.
    pub(crate) async fn send(
        mut self,
        cfg: &Config,
        progress: &crate::progress::Progress,
        tx: &Sender<Msg>,
    ) -> Result<DayMeta, ApiError> {
        let mut meta = DayMeta {
            dropped_outside: 0,
            dropped_duplicates: 0,
            complete_until: None,
            shortfall: None,
        };
        while let Some(part) = self.parts.pop_front() {
            let sent = send_part(part, cfg, progress, tx).await;
            let (outside, duplicates, available) = match sent {
                Ok(v) => v,
                Err(e) => {
                    // The parts after it may have jobs out: delete them, do not just drop them.
                    self.stop().await;
                    return Err(e);
                }
            };
            meta.dropped_outside += outside;
            meta.dropped_duplicates += duplicates;
            meta.complete_until = crate::source::jobs::earliest(meta.complete_until, available);
        }
        Ok(meta)
    }

    /// Cancels the day's parts and gives them a moment to delete their jobs.
    pub(crate) async fn stop(self) {
        futures::future::join_all(self.parts.into_iter().map(Part::stop)).await;
    }
}

/// Waits for one part's job, then sends its rows in order; returns its dropped counts and horizon.
async fn send_part(
    part: Part,
    cfg: &Config,
    progress: &crate::progress::Progress,
    tx: &Sender<Msg>,
) -> Result<(u64, u64, Option<DateTime<Utc>>), ApiError> {
    let (mut merge, available) = part.task.await?;
    loop {
        let mut rows = merge
            .next_chunk(ROWS_PER_CHUNK)
            .map_err(|e| spill_error(cfg, e))?;
        if rows.is_empty() {
            break;
        }
        progress.page(rows.len() as u64);
        // The lake's horizon is known once every job of the part was read.
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
    Ok((merge.outside, merge.duplicates, available))
}

/// The jobs days started ahead of the writer, in date order, sharing the run's job slots.
pub(crate) struct JobsAhead {
    client: Arc<ApiClient>,
    cfg: Arc<Config>,
    cancel: CancellationToken,
    slots: Arc<Semaphore>,
    started: VecDeque<(NaiveDate, JobsDay)>,
    last: Option<NaiveDate>,
    /// Told when the last job started has queued for its slot.
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

    /// Starts a day: the run's first in [`FIRST_DAY_PARTS`] parts, later ones whole.
    fn start(&mut self, day: Span) -> JobsDay {
        // No job queued yet: this is the run's first jobs day.
        let n = if self.queued.is_none() {
            FIRST_DAY_PARTS
        } else {
            1
        };
        let parts = parts_of(day.0, day.1, n)
            .into_iter()
            .map(|part| {
                let (then, next) = oneshot::channel();
                let after = self.queued.replace(next);
                let turn = (&self.slots, (after, then));
                Part::start(&self.client, &self.cfg, (part, day), turn, &self.cancel)
            })
            .collect();
        JobsDay { parts }
    }

    /// Stops the days not sent, all at once.
    pub(crate) async fn stop(self) {
        futures::future::join_all(self.started.into_iter().map(|(_, day)| day.stop())).await;
    }
}
