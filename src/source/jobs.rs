//! Fetching one interval through the async details jobs API: the bulk twin of the query path.
//!
//! Per interval: submit an `AsyncConversationQuery` (the query path's filters, ascending by
//! `conversationStart`, `startOfDayIntervalMatching`), poll its state with exponential backoff, then
//! page the results with the cursor until it is absent. Rows are kept only when the whole job was read,
//! so a job that expires mid-way or hits the pagination cap never leaves a partial slice behind.
//!
//! Failure handling:
//! * `FAILED` / `EXPIRED` (at a poll, or seen while paging) → resubmit, at most
//!   [`JobsOptions::max_resubmits`] times per interval, then
//!   `ApiError::BadRequest { op: "details_job", code: "job.failed" | "job.expired", .. }` whose message
//!   names the interval, the job and Genesys's `errorMessage`.
//! * `CANCELLED` by someone else → `ApiError::BadRequest { code: "job.cancelled", .. }`.
//! * Pagination cap (a 400 "Pagination may not exceed N results.", or more than
//!   [`JobsOptions::result_cap`] rows with a cursor still present) → DELETE the job and split the
//!   interval in halves, recursively, while halves stay at least [`JobsOptions::min_split`]; below that
//!   `ApiError::BadRequest { code: "job.result_cap", .. }`. Nothing is ever silently truncated.
//! * Our own cancellation → best-effort DELETE of the job in flight, then
//!   `ApiError::Cancelled`.
//!
//! Every request goes through [`ApiClient`], so jobs share the run's limiter, retries and token.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::api::wire::{
    AnalyticsConversation, AsyncConversationQuery, AsyncQueryResultsPage, JobState,
};
use crate::api::{decode_json, ApiClient, ApiError};
use crate::config::Filters;
use crate::config::JobsOptions;
use crate::source::interval::Intervals;
use crate::source::query::build_query;
use crate::task::Spawned;
use crate::time::iso_ms;

const OP: &str = "details_job";
/// The status of the error returned when the caller cancelled (nginx's "client closed request").
/// A DELETE after cancellation is a courtesy to the org's job quota; it must not hold up shutdown.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(10);

/// What [`fetch_interval_jobs_into`] learnt besides the rows (which went to its [`JobRows`]).
#[derive(Debug, Clone, Default)]
pub struct JobsFetch {
    /// The earliest `dataAvailabilityDate` of the jobs whose rows were kept: conversations that ended
    /// after it may be missing or incomplete.
    pub data_availability: Option<DateTime<Utc>>,
    /// Jobs submitted, resubmissions included.
    pub jobs_submitted: u64,
    pub jobs_resubmitted: u64,
    /// Intervals split in halves because of the pagination cap.
    pub splits: u64,
}

/// `GET …/details/jobs/availability`: the instant before which the data lake is complete.
pub async fn data_availability(client: &ApiClient) -> Result<DateTime<Utc>, ApiError> {
    client.details_jobs_availability().await
}

/// Where a job's rows go as its pages arrive. A job's rows count only after `keep`; `discard`
/// forgets the current job's rows (it failed, expired or hit the pagination cap).
pub trait JobRows: Send {
    fn page(&mut self, rows: Vec<AnalyticsConversation<'_>>, s: DateTime<Utc>, e: DateTime<Utc>);
    fn keep(&mut self);
    fn discard(&mut self);
}

impl<F: FnMut(&AnalyticsConversation<'_>) -> crate::transform::rows::Fetched + Send> JobRows
    for crate::source::spill::DaySpill<F>
{
    fn page(&mut self, rows: Vec<AnalyticsConversation<'_>>, s: DateTime<Utc>, e: DateTime<Utc>) {
        crate::source::spill::DaySpill::page(self, rows, s, e)
    }
    fn keep(&mut self) {
        crate::source::spill::DaySpill::keep(self)
    }
    fn discard(&mut self) {
        crate::source::spill::DaySpill::discard(self)
    }
}

/// Every conversation that started in `[start, end)`, read through details jobs, handed to `rows`
/// page by page. The counts of dropped rows and the records are the sink's; the rest is returned.
pub async fn fetch_interval_jobs_into(
    client: &Arc<ApiClient>,
    filters: &Filters,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    opts: &JobsOptions,
    cancel: &CancellationToken,
    rows: &mut dyn JobRows,
) -> Result<JobsFetch, ApiError> {
    fetch_into(client, filters, start, end, opts, cancel, &|_| {}, rows).await
}

/// A moment tests can act on (expire or cancel a job at a precise step).
// Only tests read the fields; production passes a no-op hook.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
enum Event<'a> {
    Submitted(&'a str),
    Polled(&'a str, JobState),
    Page(&'a str, usize),
}

type Hook<'h> = &'h (dyn Fn(Event<'_>) + Send + Sync);

#[allow(clippy::too_many_arguments)]
async fn fetch_into(
    client: &Arc<ApiClient>,
    filters: &Filters,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    opts: &JobsOptions,
    cancel: &CancellationToken,
    hook: Hook<'_>,
    rows: &mut dyn JobRows,
) -> Result<JobsFetch, ApiError> {
    let mut fetch = JobsFetch::default();
    let mut pending = Intervals::new(start, end);
    while let Some((s, e)) = pending.next() {
        match fetch_slice(client, filters, s, e, opts, cancel, hook, &mut fetch, rows).await? {
            Slice::Rows { available } => {
                fetch.data_availability = earliest(fetch.data_availability, available);
            }
            Slice::Capped(why) => {
                let half = (e - s) / 2;
                if half < opts.min_split {
                    return Err(ApiError::BadRequest {
                        op: OP.into(),
                        code: "job.result_cap".into(),
                        message: format!(
                            "the details job for {}/{} exceeds the jobs API's pagination cap ({why}) and cannot be split below {} minutes; narrow the job with filters",
                            iso_ms(s),
                            iso_ms(e),
                            opts.min_split.num_minutes()
                        ),
                    });
                }
                tracing::warn!(interval.start = %iso_ms(s), interval.end = %iso_ms(e), "Splitting {}/{} in halves: the details job hit the pagination cap ({why})", iso_ms(s), iso_ms(e));
                fetch.splits += 1;
                pending.halve(s, e);
            }
        }
    }
    Ok(fetch)
}

/// One interval's outcome: all its rows, or "too many rows for one job".
enum Slice {
    Rows { available: Option<DateTime<Utc>> },
    Capped(String),
}

/// How one job ended, short of an error.
enum JobEnd {
    Rows {
        available: Option<DateTime<Utc>>,
        rows: u64,
    },
    Capped(String),
    /// `FAILED` (with Genesys's message) or `EXPIRED`: worth a new job.
    Failed(String),
    Expired,
}

/// Reads one interval with one job, resubmitting after `FAILED`/`EXPIRED`.
#[allow(clippy::too_many_arguments)]
async fn fetch_slice(
    client: &Arc<ApiClient>,
    filters: &Filters,
    s: DateTime<Utc>,
    e: DateTime<Utc>,
    opts: &JobsOptions,
    cancel: &CancellationToken,
    hook: Hook<'_>,
    fetch: &mut JobsFetch,
    rows: &mut dyn JobRows,
) -> Result<Slice, ApiError> {
    let query = job_query(filters, s, e);
    let interval = query.interval.clone();
    let mut resubmits = 0u32;
    loop {
        let Some(id) = submit(client, &query, cancel).await? else {
            return Err(ApiError::Cancelled);
        };
        fetch.jobs_submitted += 1;
        tracing::info!(job.id = %id, interval = %interval, "Submitted details job {id} for {interval}");
        hook(Event::Submitted(&id));
        let end = run_job(client, &id, opts, cancel, hook, (s, e), rows).await;
        if !matches!(end, Ok(JobEnd::Rows { .. })) {
            rows.discard();
        }
        let (code, why) = match end {
            Ok(JobEnd::Rows { available, rows: n }) => {
                tracing::info!(job.id = %id, interval = %interval, rows = n, "Details job {id} fulfilled: {n} rows");
                rows.keep();
                return Ok(Slice::Rows { available });
            }
            Ok(JobEnd::Capped(why)) => {
                delete_quietly(client, &id).await;
                return Ok(Slice::Capped(why));
            }
            Ok(JobEnd::Failed(message)) => {
                tracing::warn!(job.id = %id, interval = %interval, error = %message, "Details job {id} FAILED: {message}");
                ("job.failed", format!("failed: {message}"))
            }
            Ok(JobEnd::Expired) => {
                tracing::warn!(job.id = %id, interval = %interval, "Details job {id} EXPIRED before its results were read");
                (
                    "job.expired",
                    "expired before its results were read".to_string(),
                )
            }
            Err(err) => {
                // Still queued, running or paged: free the org's job slot.
                delete_quietly(client, &id).await;
                return Err(err);
            }
        };
        if resubmits >= opts.max_resubmits {
            return Err(ApiError::BadRequest {
                op: OP.into(),
                code: code.into(),
                message: format!(
                    "details job {id} for {interval} {why}; gave up after {resubmits} resubmission(s)"
                ),
            });
        }
        resubmits += 1;
        fetch.jobs_resubmitted += 1;
        tracing::warn!(interval = %interval, attempt = resubmits, "Resubmitting the details job for {interval} ({resubmits} of {})", opts.max_resubmits);
    }
}

/// Submits a job. Cancelled while the POST is out, it gives the POST a moment to answer and deletes
/// the job it created (`None`): a job the org accepted is never left behind for want of its id.
async fn submit(
    client: &ApiClient,
    query: &AsyncConversationQuery,
    cancel: &CancellationToken,
) -> Result<Option<String>, ApiError> {
    let post = client.submit_details_job(query);
    tokio::pin!(post);
    tokio::select! {
        biased;
        id = &mut post => id.map(Some),
        _ = cancel.cancelled() => {
            if let Ok(Ok(id)) = tokio::time::timeout(CLEANUP_TIMEOUT, post).await {
                delete_quietly(client, &id).await;
            }
            Ok(None)
        }
    }
}

/// Polls job `id` until it finishes, then pages all its results.
// Long: one job's life (submit, poll, page, resubmit, split) as a single state machine.
async fn run_job(
    client: &Arc<ApiClient>,
    id: &str,
    opts: &JobsOptions,
    cancel: &CancellationToken,
    hook: Hook<'_>,
    (s, e): (DateTime<Utc>, DateTime<Utc>),
    sink: &mut dyn JobRows,
) -> Result<JobEnd, ApiError> {
    let mut wait = opts.poll_initial;
    loop {
        cancellable(cancel, tokio::time::sleep(wait)).await?;
        let status = cancellable(cancel, client.details_job_status(id)).await??;
        hook(Event::Polled(id, status.state));
        match status.state {
            JobState::Queued | JobState::Pending => wait = (wait * 2).min(opts.poll_max),
            JobState::Fulfilled => break,
            JobState::Failed => {
                let message = status
                    .error_message
                    .unwrap_or_else(|| "no errorMessage given".into());
                return Ok(JobEnd::Failed(message));
            }
            JobState::Expired => return Ok(JobEnd::Expired),
            JobState::Cancelled => return Err(cancelled_elsewhere(id)),
            JobState::Unknown => {
                return Err(ApiError::Decode {
                    op: OP.into(),
                    detail: format!("details job {id} is in a state this version does not know"),
                })
            }
        }
    }

    let mut rows = 0u64;
    let mut available = None;
    let mut cursor: Option<String> = None;
    let mut pages = 0usize;
    // One cursor is read one page at a time, so the next page's body is asked for before this
    // page's rows are classified and spilled: the server prepares it while we work.
    let mut next = results_body(client, id, None, opts.page_size);
    loop {
        let body = match cancellable(cancel, next).await? {
            Ok(body) => body,
            Err(err) => return results_failed(client, id, cancel, hook, err).await,
        };
        // The page's rows go to the sink only once the next page is asked for.
        let (page, n, after, date) = match decode_json::<AsyncQueryResultsPage>(&body) {
            Ok(p) => {
                let n = p.conversations.len() as u64;
                (Some(p.conversations), n, p.cursor, p.data_availability_date)
            }
            // Unreadable: asked for again the ordinary way, which retries it, and spilled there.
            Err(_) => {
                let again =
                    client.details_job_results_with(id, cursor.as_deref(), opts.page_size, |p| {
                        let n = p.conversations.len() as u64;
                        sink.page(p.conversations, s, e);
                        (n, p.cursor, p.data_availability_date)
                    });
                match cancellable(cancel, again).await? {
                    Ok((n, after, date)) => (None, n, after, date),
                    Err(err) => return results_failed(client, id, cancel, hook, err).await,
                }
            }
        };
        pages += 1;
        available = earliest(available, date);
        rows += n;
        hook(Event::Page(id, pages));
        let after = match after.filter(|c| !c.is_empty()) {
            None => {
                if let Some(c) = page {
                    sink.page(c, s, e);
                }
                return Ok(JobEnd::Rows { rows, available });
            }
            Some(after) if cursor.as_deref() == Some(after.as_str()) => {
                return Err(ApiError::Decode {
                    op: OP.into(),
                    detail: format!("details job {id}: the results cursor did not advance"),
                })
            }
            Some(after) => after,
        };
        if rows >= opts.result_cap {
            return Ok(JobEnd::Capped(format!(
                "more than {} results",
                opts.result_cap
            )));
        }
        next = results_body(client, id, Some(after.clone()), opts.page_size);
        cursor = Some(after);
        if let Some(c) = page {
            sink.page(c, s, e);
        }
    }
}

/// How a results request that failed ends the job.
async fn results_failed(
    client: &ApiClient,
    id: &str,
    cancel: &CancellationToken,
    hook: Hook<'_>,
    err: ApiError,
) -> Result<JobEnd, ApiError> {
    match err {
        ApiError::BadRequest { message, .. }
            if message
                .to_ascii_lowercase()
                .contains("pagination may not exceed") =>
        {
            Ok(JobEnd::Capped(message))
        }
        // An expired job's results may simply be gone.
        ApiError::NotFound { .. } => Ok(JobEnd::Expired),
        err @ ApiError::BadRequest { .. } => {
            // The 400 may name a state the job moved to between pages: ask for it.
            let status = cancellable(cancel, client.details_job_status(id)).await??;
            hook(Event::Polled(id, status.state));
            match status.state {
                JobState::Expired => Ok(JobEnd::Expired),
                JobState::Cancelled => Err(cancelled_elsewhere(id)),
                _ => Err(err),
            }
        }
        err => Err(err),
    }
}

/// One results page's body, read in a task of its own so that it loads while the caller works.
fn results_body(
    client: &Arc<ApiClient>,
    id: &str,
    cursor: Option<String>,
    size: u32,
) -> Spawned<Result<Vec<u8>, ApiError>> {
    let (client, id) = (client.clone(), id.to_string());
    Spawned::new(async move {
        client
            .details_job_results_body(&id, cursor.as_deref(), size)
            .await
    })
}

/// The query path's filters and order, as a job.
fn job_query(filters: &Filters, s: DateTime<Utc>, e: DateTime<Utc>) -> AsyncConversationQuery {
    let q = build_query(filters, s, e, 1, 1);
    AsyncConversationQuery {
        interval: q.interval,
        order: q.order,
        order_by: q.order_by,
        start_of_day_interval_matching: true,
        segment_filters: q.segment_filters,
        conversation_filters: q.conversation_filters,
    }
}

/// Runs `f` unless `cancel` fires first.
async fn cancellable<T>(
    cancel: &CancellationToken,
    f: impl Future<Output = T>,
) -> Result<T, ApiError> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(ApiError::Cancelled),
        v = f => Ok(v),
    }
}

fn cancelled_elsewhere(id: &str) -> ApiError {
    ApiError::BadRequest {
        op: OP.into(),
        code: "job.cancelled".into(),
        message: format!(
            "details job {id} was cancelled by someone else (another client or an administrator)"
        ),
    }
}

/// Best-effort DELETE: failures are logged, never returned.
async fn delete_quietly(client: &ApiClient, id: &str) {
    match tokio::time::timeout(CLEANUP_TIMEOUT, client.delete_details_job(id)).await {
        Ok(Ok(())) | Ok(Err(ApiError::NotFound { .. })) => {
            tracing::debug!(job.id = %id, "deleted details job")
        }
        Ok(Err(e)) => tracing::warn!(job.id = %id, "could not delete details job {id}: {e}"),
        Err(_) => tracing::warn!(job.id = %id, "gave up deleting details job {id}: no answer"),
    }
}

/// The earlier of two optional instants; a missing one does not count.
pub(crate) fn earliest(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use chrono::TimeZone;

    use std::collections::HashSet;

    use super::*;
    use crate::simulator::{self, SimConfig, SimHandle};

    /// Collects whole records in memory, as a test wants to look at them.
    #[derive(Default)]
    struct Collect {
        kept: Vec<AnalyticsConversation<'static>>,
        job: Vec<AnalyticsConversation<'static>>,
        job_outside: u64,
        outside: u64,
    }

    impl JobRows for Collect {
        fn page(
            &mut self,
            rows: Vec<AnalyticsConversation<'_>>,
            s: DateTime<Utc>,
            e: DateTime<Utc>,
        ) {
            for c in rows {
                if !crate::source::interval::starts_within(c.conversation_start, s, e) {
                    self.job_outside += 1;
                } else {
                    self.job.push(c.into_owned());
                }
            }
        }
        fn keep(&mut self) {
            self.kept.append(&mut self.job);
            self.outside += std::mem::take(&mut self.job_outside);
        }
        fn discard(&mut self) {
            self.job.clear();
            self.job_outside = 0;
        }
    }

    /// What a fetch read, whole: conversations in `[start, end)`, by (start, id), each once.
    #[derive(Debug, Default)]
    struct Collected {
        conversations: Vec<AnalyticsConversation<'static>>,
        dropped_outside: u64,
        dropped_duplicates: u64,
        data_availability: Option<DateTime<Utc>>,
        jobs_submitted: u64,
        jobs_resubmitted: u64,
        splits: u64,
    }

    async fn fetch_interval_jobs(
        client: &Arc<ApiClient>,
        filters: &Filters,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        opts: &JobsOptions,
        cancel: &CancellationToken,
    ) -> Result<Collected, ApiError> {
        fetch_with_hook(client, filters, start, end, opts, cancel, &|_| {}).await
    }

    async fn fetch_with_hook(
        client: &Arc<ApiClient>,
        filters: &Filters,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        opts: &JobsOptions,
        cancel: &CancellationToken,
        hook: Hook<'_>,
    ) -> Result<Collected, ApiError> {
        let mut rows = Collect::default();
        let f = fetch_into(client, filters, start, end, opts, cancel, hook, &mut rows).await?;
        let mut fetch = Collected {
            dropped_outside: rows.outside,
            data_availability: f.data_availability,
            jobs_submitted: f.jobs_submitted,
            jobs_resubmitted: f.jobs_resubmitted,
            splits: f.splits,
            ..Collected::default()
        };
        // Deterministic order whatever the jobs and splits did; a conversation once.
        let mut all = rows.kept;
        all.sort_by(|a, b| {
            (a.conversation_start, &a.conversation_id)
                .cmp(&(b.conversation_start, &b.conversation_id))
        });
        let mut seen = HashSet::new();
        for c in all {
            if seen.insert(c.conversation_id.clone()) {
                fetch.conversations.push(c);
            } else {
                fetch.dropped_duplicates += 1;
            }
        }
        Ok(fetch)
    }

    async fn setup(cfg: SimConfig) -> (SimHandle, Arc<ApiClient>) {
        let sim = simulator::start(cfg).await.unwrap();
        let client = crate::source::tests::client_for(&sim);
        (sim, client)
    }

    fn opts() -> JobsOptions {
        JobsOptions {
            poll_initial: Duration::from_millis(1),
            poll_max: Duration::from_millis(4),
            ..JobsOptions::default()
        }
    }

    /// The whole UTC day before the simulator's clock (2025-06-04 15:00).
    fn day() -> (DateTime<Utc>, DateTime<Utc>) {
        let s = Utc.with_ymd_and_hms(2025, 6, 3, 0, 0, 0).unwrap();
        (s, s + chrono::Duration::days(1))
    }

    fn ids(f: &Collected) -> Vec<String> {
        f.conversations
            .iter()
            .map(|c| c.conversation_id.to_string())
            .collect()
    }

    fn truth(sim: &SimHandle, s: DateTime<Utc>, e: DateTime<Utc>) -> Vec<String> {
        sim.ground_truth(s, e, 0, sim.now())
            .into_iter()
            .map(|t| t.conversation_id)
            .collect()
    }

    fn requests(sim: &SimHandle, method: &str, suffix: &str) -> usize {
        sim.request_log()
            .iter()
            .filter(|r| {
                r.method == method
                    && r.path
                        .starts_with("/api/v2/analytics/conversations/details/jobs")
                    && r.path.ends_with(suffix)
            })
            .count()
    }

    /// The same interval through `details/query`, filtered and ordered like the query path.
    async fn via_query(
        client: &Arc<ApiClient>,
        filters: &Filters,
        s: DateTime<Utc>,
        e: DateTime<Utc>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for page in 1.. {
            let r = client
                .details_query(&build_query(filters, s, e, 100, page))
                .await
                .unwrap();
            let n = r.conversations.len();
            out.extend(
                r.conversations
                    .into_iter()
                    .filter(|c| c.conversation_start >= s && c.conversation_start < e)
                    .map(|c| (c.conversation_start, c.conversation_id)),
            );
            if n < 100 {
                break;
            }
        }
        out.sort();
        out.dedup();
        out.into_iter().map(|(_, id)| id.into_owned()).collect()
    }

    #[tokio::test]
    async fn a_day_by_jobs_equals_the_query_path_and_ground_truth() {
        let (sim, client) = setup(SimConfig::default()).await;
        let (s, e) = day();
        let cancel = CancellationToken::new();
        for filters in [
            Filters::default(),
            Filters {
                media_types: vec!["voice".into()],
                queue_ids: vec![sim.queues()[0].id.to_string()],
            },
        ] {
            let f = fetch_interval_jobs(&client, &filters, s, e, &opts(), &cancel)
                .await
                .unwrap();
            let expected = via_query(&client, &filters, s, e).await;
            assert!(!expected.is_empty());
            assert_eq!(ids(&f), expected, "{filters:?}");
            assert_eq!(f.dropped_duplicates, 0);
            assert_eq!((f.jobs_submitted, f.jobs_resubmitted, f.splits), (1, 0, 0));
            if filters == Filters::default() {
                assert_eq!(ids(&f), truth(&sim, s, e));
            }
        }
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_partial_interval_drops_rows_outside_it() {
        let (sim, client) = setup(SimConfig::default()).await;
        let (day_start, _) = day();
        let (s, e) = (
            day_start + chrono::Duration::hours(12),
            day_start + chrono::Duration::hours(13),
        );
        let f = fetch_interval_jobs(
            &client,
            &Filters::default(),
            s,
            e,
            &opts(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(ids(&f), truth(&sim, s, e));
        // Start-of-day matching still returns the morning's conversations that ran past 12:00.
        assert!(f.dropped_outside > 0);
        assert!(f
            .conversations
            .iter()
            .all(|c| c.conversation_start >= s && c.conversation_start < e));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_failed_job_is_resubmitted() {
        let (sim, client) = setup(SimConfig {
            fail_jobs_first: 1,
            ..SimConfig::default()
        })
        .await;
        let (s, e) = day();
        let f = fetch_interval_jobs(
            &client,
            &Filters::default(),
            s,
            e,
            &opts(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(ids(&f), truth(&sim, s, e));
        assert_eq!((f.jobs_submitted, f.jobs_resubmitted), (2, 1));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn failing_more_than_max_resubmits_is_an_error() {
        let (sim, client) = setup(SimConfig {
            fail_jobs_first: 3,
            ..SimConfig::default()
        })
        .await;
        let (s, e) = day();
        let o = JobsOptions {
            max_resubmits: 2,
            ..opts()
        };
        let err = fetch_interval_jobs(
            &client,
            &Filters::default(),
            s,
            e,
            &o,
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
        match &err {
            ApiError::BadRequest { op, code, message } => {
                assert_eq!((op.as_str(), code.as_str()), ("details_job", "job.failed"));
                assert!(
                    message.contains("Job failed due to an internal error"),
                    "{message}"
                );
                assert!(message.contains("2025-06-03T00:00:00.000Z"), "{message}");
                assert!(message.contains("2 resubmission"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(requests(&sim, "POST", "/jobs"), 3);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn the_servers_pagination_cap_splits_the_interval() {
        let (sim, client) = setup(SimConfig {
            job_result_cap: 50,
            ..SimConfig::default()
        })
        .await;
        let (s, e) = day();
        let o = JobsOptions {
            page_size: 20,
            ..opts()
        };
        let f = fetch_interval_jobs(
            &client,
            &Filters::default(),
            s,
            e,
            &o,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        let expected = truth(&sim, s, e);
        assert!(expected.len() > 150, "{}", expected.len());
        assert_eq!(ids(&f), expected);
        assert!(f.splits >= 3, "{}", f.splits);
        assert_eq!(f.jobs_submitted, 2 * f.splits + 1);
        // Every capped job was deleted.
        assert_eq!(requests(&sim, "DELETE", "") as u64, f.splits);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn the_clients_result_cap_splits_the_interval_too() {
        let (sim, client) = setup(SimConfig::default()).await;
        let (s, e) = day();
        let o = JobsOptions {
            page_size: 25,
            result_cap: 50,
            ..opts()
        };
        let f = fetch_interval_jobs(
            &client,
            &Filters::default(),
            s,
            e,
            &o,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(ids(&f), truth(&sim, s, e));
        assert!(f.splits >= 3, "{}", f.splits);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_cap_that_splitting_cannot_avoid_is_a_clear_error() {
        let (sim, client) = setup(SimConfig {
            job_result_cap: 5,
            ..SimConfig::default()
        })
        .await;
        let (s, e) = day();
        let o = JobsOptions {
            min_split: chrono::Duration::hours(4),
            ..opts()
        };
        let err = fetch_interval_jobs(
            &client,
            &Filters::default(),
            s,
            e,
            &o,
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
        match &err {
            ApiError::BadRequest { code, message, .. } => {
                assert_eq!(code, "job.result_cap");
                assert!(
                    message.contains("Pagination may not exceed 5 results."),
                    "{message}"
                );
                assert!(message.contains("240 minutes"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_job_expired_after_fulfilment_is_resubmitted() {
        let (sim, client) = setup(SimConfig::default()).await;
        let (s, e) = day();
        let expired = AtomicBool::new(false);
        let hook = |ev: Event<'_>| {
            if let Event::Polled(id, JobState::Fulfilled) = ev {
                if !expired.swap(true, Ordering::SeqCst) {
                    assert!(sim.expire_job(id));
                }
            }
        };
        let f = fetch_with_hook(
            &client,
            &Filters::default(),
            s,
            e,
            &opts(),
            &CancellationToken::new(),
            &hook,
        )
        .await
        .unwrap();
        assert_eq!(ids(&f), truth(&sim, s, e));
        assert_eq!((f.jobs_submitted, f.jobs_resubmitted), (2, 1));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_job_expired_while_paging_starts_over_without_duplicates() {
        let (sim, client) = setup(SimConfig::default()).await;
        let (s, e) = day();
        let o = JobsOptions {
            page_size: 30,
            ..opts()
        };
        let expired = AtomicBool::new(false);
        let hook = |ev: Event<'_>| {
            if let Event::Page(id, 2) = ev {
                if !expired.swap(true, Ordering::SeqCst) {
                    assert!(sim.expire_job(id));
                }
            }
        };
        let f = fetch_with_hook(
            &client,
            &Filters::default(),
            s,
            e,
            &o,
            &CancellationToken::new(),
            &hook,
        )
        .await
        .unwrap();
        assert_eq!(ids(&f), truth(&sim, s, e));
        assert_eq!(f.dropped_duplicates, 0);
        assert_eq!((f.jobs_submitted, f.jobs_resubmitted), (2, 1));
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn cancellation_deletes_the_job() {
        let (sim, client) = setup(SimConfig::default()).await;
        let (s, e) = day();
        let cancel = CancellationToken::new();
        let submitted = std::sync::Mutex::new(String::new());
        let hook = |ev: Event<'_>| match ev {
            Event::Submitted(id) => *submitted.lock().unwrap() = id.to_string(),
            Event::Polled(_, JobState::Queued) => cancel.cancel(),
            _ => {}
        };
        let err = fetch_with_hook(&client, &Filters::default(), s, e, &opts(), &cancel, &hook)
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Cancelled), "{err:?}");
        let deletes: Vec<_> = sim
            .request_log()
            .into_iter()
            .filter(|r| r.method == "DELETE")
            .collect();
        assert_eq!(deletes.len(), 1, "{deletes:?}");
        assert_eq!(deletes[0].status, 204);
        let id = submitted.lock().unwrap().clone();
        assert!(deletes[0].path.ends_with(&format!("/jobs/{id}")), "{id}");
        assert_eq!(requests(&sim, "GET", "/results"), 0);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn data_availability_is_reported() {
        let (sim, client) = setup(SimConfig::default()).await;
        let expected = sim.now() - chrono::Duration::minutes(60);
        assert_eq!(data_availability(&client).await.unwrap(), expected);
        let (s, e) = day();
        let f = fetch_interval_jobs(
            &client,
            &Filters::default(),
            s,
            e,
            &opts(),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(f.data_availability, Some(expected));
        sim.shutdown().await;
    }

    /// A sink that, given a page with more to come, waits (up to 10 s) for the next page's request
    /// to reach the server, and notes whether it came.
    struct WaitsForTheNextAsk<'a> {
        sim: &'a SimHandle,
        total: usize,
        rows: usize,
        pages: usize,
        next_was_asked: Vec<bool>,
    }

    impl JobRows for WaitsForTheNextAsk<'_> {
        fn page(&mut self, rows: Vec<AnalyticsConversation>, _: DateTime<Utc>, _: DateTime<Utc>) {
            self.rows += rows.len();
            self.pages += 1;
            if self.rows == self.total {
                return;
            }
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            let asked = loop {
                if requests(self.sim, "GET", "/results") > self.pages {
                    break true;
                }
                if std::time::Instant::now() > deadline {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(2));
            };
            self.next_was_asked.push(asked);
        }
        fn keep(&mut self) {}
        fn discard(&mut self) {}
    }

    // Two workers: the sink blocks one, as classifying and spilling a page does.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_next_results_page_loads_while_a_page_is_handed_over() {
        let (sim, client) = setup(SimConfig::default()).await;
        let (s, e) = day();
        let total = truth(&sim, s, e).len();
        let mut sink = WaitsForTheNextAsk {
            sim: &sim,
            total,
            rows: 0,
            pages: 0,
            next_was_asked: Vec::new(),
        };
        let opts = JobsOptions {
            page_size: 50,
            ..opts()
        };
        assert!(total > 2 * 50, "several pages: {total}");
        fetch_interval_jobs_into(
            &client,
            &Filters::default(),
            s,
            e,
            &opts,
            &CancellationToken::new(),
            &mut sink,
        )
        .await
        .unwrap();
        assert_eq!(sink.rows, total);
        assert_eq!(sink.next_was_asked.len(), sink.pages - 1);
        assert!(
            sink.next_was_asked.iter().all(|&a| a),
            "{:?}",
            sink.next_was_asked
        );
        sim.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unreadable_results_pages_are_asked_for_again() {
        let faults = crate::simulator::FaultProfile {
            seed: 5,
            malformed_json_rate: 0.25,
            ..Default::default()
        };
        let (sim, client) = setup(SimConfig {
            faults,
            ..SimConfig::default()
        })
        .await;
        let (s, e) = day();
        let opts = JobsOptions {
            page_size: 20,
            ..opts()
        };
        let f = fetch_interval_jobs(
            &client,
            &Filters::default(),
            s,
            e,
            &opts,
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(ids(&f), truth(&sim, s, e));
        let broken = sim
            .request_log()
            .into_iter()
            .filter(|r| r.path.ends_with("/results") && r.fault == Some("malformed_json"))
            .count();
        assert!(broken > 0, "no results page was broken");
        sim.shutdown().await;
    }

    /// The pipeline may hold the future across tasks: it must stay `Send`.
    #[allow(dead_code)]
    fn fetch_future_is_send(
        c: &Arc<ApiClient>,
        f: &Filters,
        o: &JobsOptions,
        t: &CancellationToken,
    ) {
        fn is_send<T: Send>(_: &T) {}
        let (s, e) = day();
        is_send(&fetch_interval_jobs(c, f, s, e, o, t));
    }

    #[test]
    fn earliest_ignores_missing_dates() {
        let t = Utc.with_ymd_and_hms(2025, 6, 3, 0, 0, 0).unwrap();
        let u = t + chrono::Duration::minutes(1);
        assert_eq!(earliest(None, None), None);
        assert_eq!(earliest(Some(u), None), Some(u));
        assert_eq!(earliest(None, Some(t)), Some(t));
        assert_eq!(earliest(Some(u), Some(t)), Some(t));
    }

    #[test]
    fn job_query_asks_for_start_of_day_matching_in_start_order() {
        let (s, e) = day();
        let q = job_query(
            &Filters {
                media_types: vec!["voice".into()],
                queue_ids: Vec::new(),
            },
            s,
            e,
        );
        let v = serde_json::to_value(&q).unwrap();
        assert_eq!(
            v["interval"],
            "2025-06-03T00:00:00.000Z/2025-06-04T00:00:00.000Z"
        );
        assert_eq!(v["order"], "asc");
        assert_eq!(v["orderBy"], "conversationStart");
        assert_eq!(v["startOfDayIntervalMatching"], true);
        assert_eq!(v["segmentFilters"][0]["predicates"][0]["value"], "voice");
        assert!(v.get("paging").is_none());
    }
}
