//! Fetching a day's conversations: the details query (`query`) and the async jobs API (`jobs`).

pub mod interval;
pub mod jobs;
pub mod jobs_day;
pub mod journaled;
pub mod lookups;
pub mod query;
pub mod spill;

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::api::wire::AnalyticsConversation;
use crate::api::{ApiClient, ApiError};
use crate::config::{Config, Mode};
use crate::exit::{ExitStatus, Failure};
use crate::task::AbortOnDrop;
use crate::time::iso_ms;
use crate::transform::rows::Fetched;

/// In auto mode, windows at least this long read their historical days with async jobs.
pub const AUTO_JOBS_MIN_DAYS: usize = 7;

/// Conversations classified, looked up and written per step of a day.
pub(crate) const ROWS_PER_CHUNK: usize = 2_000;

/// Messages the fetching task may send ahead of the writer (pages of at most `page_size` rows).
pub(crate) const MSGS_AHEAD: usize = 8;

/// What the fetching task sends: a day starts, rows of it in API order, the day is done.
pub(crate) enum Msg {
    Day(NaiveDate, DateTime<Utc>, DateTime<Utc>),
    Rows(Vec<Fetched>),
    Done(Result<DayMeta, ApiError>),
    /// Every day was sent: a channel that closes without it means the fetching task died.
    End,
}

/// What a day's fetch learnt besides its rows.
pub struct DayMeta {
    pub dropped_outside: u64,
    pub dropped_duplicates: u64,
    /// Jobs only: the data lake holds everything before this instant.
    pub complete_until: Option<DateTime<Utc>>,
    /// Why the day's rows may be incomplete (pages that stayed short, fewer rows than `totalHits`).
    pub shortfall: Option<String>,
}

/// Sends rows to the writer; a closed channel means the run stopped.
pub(crate) async fn emit(tx: &mpsc::Sender<Msg>, rows: Vec<Fetched>) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    tx.send(Msg::Rows(rows))
        .await
        .map_err(|_| ApiError::Cancelled)
}

/// One day by the details query, its rows sent as they come; stops at once on cancellation.
async fn query_day(
    client: &Arc<ApiClient>,
    cfg: &Arc<Config>,
    day: &DayTodo,
    progress: &crate::progress::Progress,
    cancel: &CancellationToken,
    tx: &mpsc::Sender<Msg>,
) -> Result<DayMeta, ApiError> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(ApiError::Cancelled),
        r = query::fetch_interval(client, cfg, day.start, day.end, progress, tx) => r,
    }
}

/// Keeps the conversations of a page that started in `[s, e)` and were not seen before.
pub(crate) struct Collector {
    pub seen: HashSet<String>,
    pub outside: u64,
    pub dupes: u64,
}

impl Collector {
    pub fn take(
        &mut self,
        page: Vec<AnalyticsConversation>,
        s: DateTime<Utc>,
        e: DateTime<Utc>,
        cfg: &Config,
    ) -> Vec<Fetched> {
        let mut out = Vec::with_capacity(page.len());
        for c in page {
            if !interval::starts_within(&c, s, e) {
                self.outside += 1;
            } else if self.seen.insert(c.conversation_id.clone()) {
                out.push(Fetched::new(&c, cfg, None));
            } else {
                self.dupes += 1;
            }
        }
        out
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
        // The next jobs day's job runs while this day is sent (its rows spill to disk).
        let mut ahead: Option<(NaiveDate, jobs_day::JobsDay)> = None;
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
                let this = match ahead.take() {
                    Some((d, j)) if d == day.date => j,
                    _ => jobs_day::JobsDay::start(&client, &cfg, day.start, day.end, &cancel),
                };
                if let Some(next) = todo.get(i + 1).filter(|n| n.jobs) {
                    let j = jobs_day::JobsDay::start(&client, &cfg, next.start, next.end, &cancel);
                    ahead = Some((next.date, j));
                }
                this.send(&cfg, &progress, &tx).await
            } else {
                query_day(&client, &cfg, day, &progress, &cancel, &tx).await
            };
            if tx.send(Msg::Done(done)).await.is_err() {
                all_sent = false;
                break;
            }
        }
        if let Some((_, j)) = ahead {
            j.stop().await;
        }
        if all_sent {
            let _ = tx.send(Msg::End).await;
        }
    });
    (rx, AbortOnDrop(task))
}
