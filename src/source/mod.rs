//! Fetching a day's conversations: the details query (`query`) and the async jobs API (`jobs`).

pub mod channel;
pub mod ids;
pub mod interval;
pub mod jobs;
pub mod jobs_day;
pub mod journaled;
pub mod lookups;
pub mod query;
pub mod spill;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::api::{ApiClient, ApiError};
use crate::config::{Config, Mode};
use crate::exit::{ExitStatus, Failure};
use crate::task::AbortOnDrop;
use crate::time::iso_ms;

pub(crate) use channel::{DayMeta, Msg, MSGS_AHEAD, ROWS_PER_CHUNK};
use jobs_day::JobsAhead;
pub(crate) use jobs_day::FIRST_DAY_PARTS;

/// In auto mode, windows at least this long read their historical days with async jobs.
pub const AUTO_JOBS_MIN_DAYS: usize = 7;

/// One day by the details query, its rows sent as they come; stops at once on cancellation.
/// `first`: the day's first page, already asked for.
async fn query_day(
    client: &Arc<ApiClient>,
    cfg: &Arc<Config>,
    day: &DayTodo,
    first: Option<query::FirstPage>,
    progress: &crate::progress::Progress,
    cancel: &CancellationToken,
    tx: &mpsc::Sender<Msg>,
) -> Result<DayMeta, ApiError> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(ApiError::Cancelled),
        r = query::fetch_interval(client, cfg, day.start, day.end, first, progress, tx) => r,
    }
}

pub(crate) fn fetch_failure(e: &ApiError, date: NaiveDate) -> Failure {
    let status = ExitStatus::from(e);
    let hint = match e {
        ApiError::Forbidden { .. } => {
            " (the OAuth client's role needs analytics:conversationDetail:view or analytics:agentConversationDetail:view)"
        }
        ApiError::Unauthorized { .. } => crate::api::error::UNAUTHORIZED_HINT,
        _ => "",
    };
    Failure::new(
        status,
        format!(
            "cannot read analytics details for {date}: {e}{hint}; no partition was written for it"
        ),
    )
}

/// One report day to fetch: its date, its interval in UTC, and whether the jobs API serves it.
#[derive(Debug, Clone, Copy)]
pub struct DayTodo {
    pub date: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub jobs: bool,
}

/// Decides which days the async jobs API serves: every day in mode `jobs`; in `auto`, the days of
/// windows of [`AUTO_JOBS_MIN_DAYS`] or more that end by the data lake's availability date.
pub(crate) async fn choose_paths(
    client: &ApiClient,
    cfg: &Config,
    days: Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)>,
    total_days: usize,
    cancel: &CancellationToken,
) -> Result<Vec<DayTodo>, Failure> {
    let availability = match cfg.mode {
        Mode::Query => None,
        Mode::Jobs | Mode::Auto => Some(tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Failure::new(
                ExitStatus::Interrupted,
                "stopped while reading the jobs data availability",
            )),
            r = jobs::data_availability(client) => r.map_err(|e| {
                Failure::new(
                    ExitStatus::from(&e),
                    format!("cannot read the jobs data availability: {e}"),
                )
            })?,
        }),
    };
    let todo: Vec<DayTodo> = days
        .into_iter()
        .map(|(date, start, end)| DayTodo {
            date,
            start,
            end,
            jobs: match cfg.mode {
                Mode::Query => false,
                Mode::Jobs => true,
                Mode::Auto => {
                    total_days >= AUTO_JOBS_MIN_DAYS && availability.is_some_and(|a| end <= a)
                }
            },
        })
        .collect();
    if cfg.mode != Mode::Query {
        let by_jobs = todo.iter().filter(|t| t.jobs).count();
        tracing::info!(
            mode = cfg.mode.as_str(),
            days.jobs = by_jobs,
            days.query = todo.len() - by_jobs,
            "Reading {by_jobs} day(s) with async details jobs and {} with the details query ({})",
            todo.len() - by_jobs,
            match cfg.mode {
                Mode::Jobs => "mode = jobs".to_string(),
                _ if total_days < AUTO_JOBS_MIN_DAYS => format!("auto: a window under {AUTO_JOBS_MIN_DAYS} days is cheaper by query"),
                _ => format!(
                    "auto: days ending by the data lake's availability date {} go to the bulk jobs API, later days to the query",
                    availability.map(iso_ms).unwrap_or_default()
                ),
            }
        );
    }
    Ok(todo)
}

/// Starts the fetching task: it sends `Day`, the day's `Rows` page by page and `Done` for every day
/// in order, then `End`. It runs ahead of the writer by at most [`MSGS_AHEAD`] messages.
pub(crate) fn spawn_fetching(
    client: Arc<ApiClient>,
    cfg: Arc<Config>,
    todo: Vec<DayTodo>,
    progress: crate::progress::Progress,
    cancel: CancellationToken,
) -> (mpsc::Receiver<Msg>, AbortOnDrop) {
    let (tx, rx) = mpsc::channel::<Msg>(MSGS_AHEAD);
    let task = tokio::spawn(async move {
        let mut jobs = JobsAhead::new(&client, &cfg, &cancel);
        // The next query day's first page loads while this day pages (issue 14).
        let mut first_ahead: Option<query::FirstPage> = None;
        // `End` only after every day: a channel closing without it is a dead task.
        let mut all_sent = true;
        for (i, day) in todo.iter().enumerate() {
            if cancel.is_cancelled()
                || tx
                    .send(Msg::Day(day.date, day.start, day.end))
                    .await
                    .is_err()
            {
                all_sent = false;
                break;
            }
            crate::failpoint::hit("fetch-day");
            // Not raced against `cancel`: the jobs path deletes its jobs on cancellation first.
            let done = if day.jobs {
                let window = todo[i..].iter().filter(|d| d.jobs);
                jobs.top_up(window.map(|d| (d.date, d.start, d.end)));
                let this = jobs.take(day.date, day.start, day.end);
                this.send(&cfg, &progress, &tx).await
            } else {
                let first = first_ahead.take();
                if let Some(next) = todo.get(i + 1).filter(|n| !n.jobs) {
                    first_ahead = Some(query::FirstPage::ask(&client, &cfg, next.start, next.end));
                }
                query_day(&client, &cfg, day, first, &progress, &cancel, &tx).await
            };
            if tx.send(Msg::Done(done)).await.is_err() {
                all_sent = false;
                break;
            }
        }
        jobs.stop().await;
        if all_sent {
            let _ = tx.send(Msg::End).await;
        }
    });
    (rx, AbortOnDrop(task))
}

#[cfg(test)]
mod tests;
