//! One audit run: page the details query day by day, classify, enrich, and write the reports.
//!
//! Data flow per report day: a fetching task runs `fetch_interval` (query pages, filtered to the day
//! by `conversationStart`, de-duplicated, classified on analytics alone) or the jobs path, and sends
//! the rows page by page; this task starts each page's lookups as it arrives (one
//! `GET /api/v2/conversations/{id}` per conversation that needs it, at most `concurrency` in
//! flight), and writes the rows in chunks, in arrival order, once their lookups are in, through
//! `build_rows` into a `sink::stream::PartitionWriter`. Run-level files are the caller's.

mod day;

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio_util::sync::CancellationToken;

use crate::api::{ApiClient, ApiError};
use crate::config::Config;
use crate::exit::{ExitStatus, Failure};
use crate::source::journaled::Looked;
use crate::source::{fetch_failure, DayMeta, Msg, ROWS_PER_CHUNK};
use crate::stats::{PartitionRecord, RunOutcome};
use crate::task::AbortOnDrop;
use crate::transform::names::Catalogs;
use day::{ChunkCtx, DayState};

/// The run's writer side: days in order, their chunks, and the partitions finished so far.
struct Writer<'a, 'c> {
    ctx: ChunkCtx<'a>,
    run_id: &'a str,
    fingerprint: serde_json::Value,
    partitions: Vec<PartitionRecord>,
    lookups_left: Option<u64>,
    total_days: usize,
    checkpoint: &'c mut dyn FnMut(&[PartitionRecord]) -> Result<(), Failure>,
    day: Option<DayState>,
    /// The day's fetch is done: it is finished once its rows are written.
    closing: Option<DayMeta>,
}

/// Rows a day may hold waiting for lookups before the writer stops taking pages: about two chunks,
/// so the next chunk's lookups run while one waits for its last answers.
const ROWS_WAITING: usize = 2 * ROWS_PER_CHUNK;

/// The report days in fetch order: earlier days being healed (lookback) first, then the window's.
fn report_days(cfg: &Config) -> Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
    let tz = cfg.window.timezone;
    let mut days: Vec<_> = cfg
        .lookback
        .iter()
        .map(|d| {
            let next = d.succ_opt().expect("date in range");
            (
                *d,
                crate::time::local_midnight(tz, *d),
                crate::time::local_midnight(tz, next),
            )
        })
        .collect();
    days.extend(cfg.window.days());
    days
}

/// Runs the audit against `client`. The caller owns locking, the source and the run-level files.
///
/// `done` holds partitions an interrupted earlier run with the same arguments already finished: their
/// days are skipped. `checkpoint` is called after every partition with all partitions so far.
#[allow(clippy::too_many_arguments)]
pub async fn audit(
    cfg: &Config,
    client: Arc<ApiClient>,
    catalogs: &Catalogs,
    run_id: &str,
    cancel: &CancellationToken,
    done: Vec<PartitionRecord>,
    checkpoint: &mut dyn FnMut(&[PartitionRecord]) -> Result<(), Failure>,
    progress: &crate::progress::Progress,
) -> Result<RunOutcome, Failure> {
    let resumed_days = done.len() as u64;
    let already: u64 = done.iter().map(|p| p.stats.lookups.made).sum();
    let days = report_days(cfg);
    let total_days = days.len();
    let todo: Vec<_> = days
        .into_iter()
        .filter(|(d, _, _)| !done.iter().any(|p| p.date == *d))
        .collect();
    for _ in 0..(total_days - todo.len()) {
        progress.day_finished();
    }
    for p in &done {
        tracing::info!(date = %p.date, "Skipping date={}: finished by an interrupted earlier run", p.date);
    }
    let todo = crate::source::choose_paths(&client, cfg, todo, total_days, cancel).await?;
    // The days in fetch order, to name the day a dying fetching task left unfinished.
    let unfetched: VecDeque<NaiveDate> = todo.iter().map(|t| t.date).collect();
    // The fetching task runs ahead by a few pages, so the next pages load while lookups run;
    // lookups start as pages arrive; writes and checkpoints stay in day order.
    // The fetching task's own token: a run that fails stops it as a cancelled run does, so that its
    // async jobs are deleted, not left running on the org.
    let fetch_cancel = cancel.child_token();
    let (rx, producer) = crate::source::spawn_fetching(
        client.clone(),
        Arc::new(cfg.clone()),
        todo,
        progress.clone(),
        fetch_cancel.clone(),
    );
    let mut w = Writer {
        ctx: ChunkCtx {
            cfg,
            catalogs,
            client: &client,
            progress,
            cancel,
        },
        run_id,
        fingerprint: crate::report::fingerprint(cfg),
        partitions: done,
        lookups_left: cfg.lookup_budget.map(|b| b.saturating_sub(already)),
        total_days,
        checkpoint,
        day: None,
        closing: None,
    };
    let mut producer = Some(producer);
    let drained = w.drain(rx, &mut producer, unfetched).await;
    // An unfinished day's writer is dropped here: its staging goes, finished days stay.
    w.day = None;
    if drained.is_err() || cancel.is_cancelled() {
        // Give the producer a moment to delete its async jobs.
        fetch_cancel.cancel();
        if let Some(p) = producer {
            p.finish(std::time::Duration::from_secs(10)).await;
        }
    }
    drained?;
    let mut partitions = w.partitions;
    partitions.sort_by_key(|p| p.date);
    let mut outcome = RunOutcome::from_partitions(run_id, partitions, resumed_days);
    outcome.api = client.stats();
    outcome.status = final_status(&outcome, cancel);
    Ok(outcome)
}

/// How a run that wrote what it could ends.
fn final_status(outcome: &RunOutcome, cancel: &CancellationToken) -> ExitStatus {
    if cancel.is_cancelled() {
        ExitStatus::Interrupted
    } else if outcome.partitions.iter().any(|p| p.incomplete.is_some()) {
        ExitStatus::Incomplete
    } else if outcome.totals.lookups.failed_transient > 0 {
        ExitStatus::PartialLookups
    } else {
        ExitStatus::Success
    }
}

/// What the writer waited for.
enum Event {
    Answer(Option<anyhow::Result<(u64, Looked)>>),
    Msg(Option<Msg>),
}

impl Writer<'_, '_> {
    /// Takes the fetching task's messages until `End`, a stop, or a failure, while the day's
    /// lookups run. Leaves the task in `producer` (unless it died) so that the run can let it
    /// delete its async jobs.
    // Long: one event loop over stops, lookup answers and the fetching task's messages.
    async fn drain(
        &mut self,
        mut rx: tokio::sync::mpsc::Receiver<Msg>,
        producer: &mut Option<AbortOnDrop>,
        mut unfetched: VecDeque<NaiveDate>,
    ) -> Result<(), Failure> {
        let cancel = self.ctx.cancel;
        loop {
            // Messages wait while the day's rows are at their bound or its end is being written;
            // its lookups then finish on their own (they never wait for this loop), so neither side
            // starves the other.
            let take = self.closing.is_none()
                && self
                    .day
                    .as_ref()
                    .is_none_or(|d| d.rows_waiting() < ROWS_WAITING);
            let busy = self.day.as_ref().is_some_and(|d| d.lookups.busy());
            let event = tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                a = next_answer(&mut self.day), if busy => Event::Answer(a),
                n = rx.recv(), if take => Event::Msg(n),
            };
            let next = match event {
                Event::Answer(None) => continue,
                Event::Answer(Some(Err(e))) => {
                    let date = self.day.as_ref().map(|d| d.date).expect("answers of a day");
                    return Err(day::output_failure(date, e));
                }
                Event::Answer(Some(Ok((key, r)))) => {
                    let st = self.day.as_mut().expect("answers of a day");
                    st.answered(&self.ctx, key, r)?;
                    self.finish_if_written()?;
                    continue;
                }
                Event::Msg(n) => n,
            };
            match next {
                None if cancel.is_cancelled() => break,
                Some(Msg::End) => break,
                None => {
                    // The channel closed without `End`: the fetching task died. That is never the end of the data.
                    let date = self
                        .day
                        .as_ref()
                        .map(|d| d.date)
                        .or(unfetched.front().copied());
                    self.day = None;
                    let why = match producer.take() {
                        Some(p) => p.why_ended().await,
                        None => "it stopped".to_string(),
                    };
                    let at = date
                        .map(|d| format!(" while reading date={d}"))
                        .unwrap_or_default();
                    return Err(Failure::new(
                        ExitStatus::ApiUnavailable,
                        format!("the fetching task failed{at}: {why}; no partition was written for that day or any later one"),
                    ));
                }
                Some(Msg::Day(date, start, end)) => {
                    unfetched.retain(|d| *d != date);
                    self.ctx.progress.day_started(date);
                    let st = DayState::open(
                        &self.ctx,
                        self.run_id,
                        &self.fingerprint,
                        (date, start, end),
                    )?;
                    self.day = Some(st);
                }
                Some(Msg::Rows(rows)) => {
                    let st = self.day.as_mut().expect("rows follow their day");
                    st.take(&self.ctx, rows, &mut self.lookups_left)?;
                }
                Some(Msg::Done(Err(ApiError::Cancelled))) => break,
                Some(Msg::Done(Err(e))) => {
                    let date = self
                        .day
                        .as_ref()
                        .map(|d| d.date)
                        .expect("done follows its day");
                    return Err(fetch_failure(&e, date));
                }
                Some(Msg::Done(Ok(meta))) => {
                    let st = self.day.as_mut().expect("done follows its day");
                    st.seal(&self.ctx)?;
                    self.closing = Some(meta);
                    self.finish_if_written()?;
                }
            }
        }
        Ok(())
    }

    /// Finishes the day once its fetch is done and every row of it is written.
    fn finish_if_written(&mut self) -> Result<(), Failure> {
        if self.closing.is_none() || !self.day.as_ref().is_some_and(|d| d.all_written()) {
            return Ok(());
        }
        let meta = self.closing.take().expect("closing");
        self.finish_day(meta)
    }

    /// Swaps the day's partition in and checkpoints.
    fn finish_day(&mut self, meta: DayMeta) -> Result<(), Failure> {
        let st = self.day.take().expect("done follows its day");
        let (record, journal) = st.finish(self.ctx.cfg, self.ctx.catalogs, meta)?;
        let date = record.date;
        tracing::info!(
            date = %date,
            conversations = record.conversations,
            legs = record.legs,
            lookups = record.stats.lookups.made,
            "Wrote partition date={date} ({} of {}): {} conversations, {} legs, {} lookups",
            self.partitions.len() + 1,
            self.total_days,
            record.conversations,
            record.legs,
            record.stats.lookups.made
        );
        self.partitions.push(record);
        (self.checkpoint)(&self.partitions)?;
        if let Some(j) = journal {
            // The day is recorded: its journal has served.
            if let Err(e) = j.remove() {
                tracing::warn!(date = %date, error = %e, "cannot remove the lookup journal");
            }
        }
        self.ctx.progress.day_finished();
        Ok(())
    }
}

/// The next lookup answer of the day being written.
async fn next_answer(day: &mut Option<DayState>) -> Option<anyhow::Result<(u64, Looked)>> {
    match day.as_mut() {
        Some(d) => d.lookups.next().await,
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::{RawJob, RunArgs};
    use crate::transform::counts::PartitionStats;

    /// A simulator job over 2026-03-28 .. 2026-03-30 in Berlin (DST starts on the 29th).
    fn cfg() -> Config {
        let args = RunArgs {
            simulator: true,
            from: Some("2026-03-28".into()),
            to: Some("2026-03-30".into()),
            timezone: Some("Europe/Berlin".into()),
            ..RunArgs::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 4, 2, 6, 0, 0).unwrap();
        let env: [(&str, &str); 0] = [];
        Config::build(RawJob::default(), &args, &env, now).unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn lookback_days_come_first_then_the_window_in_local_days() {
        let mut c = cfg();
        c.lookback = vec![day(2026, 3, 20)];
        let days = report_days(&c);
        let dates: Vec<NaiveDate> = days.iter().map(|d| d.0).collect();
        assert_eq!(dates[0], day(2026, 3, 20));
        assert_eq!(&dates[1..], &[day(2026, 3, 28), day(2026, 3, 29)]);
        // Local midnights: the DST day is 23 hours long.
        let dst = days[2];
        assert_eq!(dst.1, Utc.with_ymd_and_hms(2026, 3, 28, 23, 0, 0).unwrap());
        assert_eq!(dst.2 - dst.1, chrono::Duration::hours(23));
    }

    fn outcome(incomplete: bool, failed_transient: u64) -> RunOutcome {
        let mut stats = PartitionStats::default();
        stats.lookups.failed_transient = failed_transient;
        let p = PartitionRecord {
            date: day(2026, 3, 28),
            interval_start: String::new(),
            interval_end: String::new(),
            conversations: 1,
            legs: 1,
            is_final: !incomplete,
            incomplete: incomplete.then(|| "short".to_string()),
            files: Vec::new(),
            stats,
        };
        RunOutcome::from_partitions("r", vec![p], 0)
    }

    #[test]
    fn a_stop_outranks_a_shortfall_which_outranks_failed_lookups() {
        let stopped = CancellationToken::new();
        stopped.cancel();
        let running = CancellationToken::new();
        assert_eq!(
            final_status(&outcome(true, 1), &stopped),
            ExitStatus::Interrupted
        );
        assert_eq!(
            final_status(&outcome(true, 1), &running),
            ExitStatus::Incomplete
        );
        assert_eq!(
            final_status(&outcome(false, 1), &running),
            ExitStatus::PartialLookups
        );
        assert_eq!(
            final_status(&outcome(false, 0), &running),
            ExitStatus::Success
        );
    }
}
