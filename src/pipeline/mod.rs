//! One audit run: page the details query day by day, classify, enrich, and write the reports.
//!
//! Data flow per report day: a fetching task runs `fetch_interval` (query pages, filtered to the day
//! by `conversationStart`, de-duplicated, classified on analytics alone) or the jobs path, and sends
//! the rows page by page; this task takes them in chunks through `enrich` (one
//! `GET /api/v2/conversations/{id}` per conversation that needs it, bounded and ordered) and
//! `build_rows` into a `sink::stream::PartitionWriter`. Run-level files are the caller's.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use futures::StreamExt;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::api::wire::{
    AnalyticsConversation, Conversation, ConversationQuery, PagingSpec, QueryFilter, QueryPredicate,
};
use crate::api::{ApiClient, ApiError, ApiStatsSnapshot};
use crate::config::{Config, Filters, Mode};
use crate::exit::{ExitStatus, Failure};
use crate::record::{
    CodeSource, ConversationLabel, ConversationRow, LegLabel, LegRow, LookupStatus,
};
use crate::sink;
use crate::transform::classify::{self, LegEvidence, LookupMode};
use crate::transform::reason::{reason, ReasonFacts};

/// The details query refuses `pageNumber × pageSize` beyond this many results.
pub const QUERY_RESULT_CAP: u64 = 100_000;
mod journaled;

pub use crate::transform::names::{
    is_unresolved, unresolved, Catalogs, Unresolved, DEFAULT_CODE_ID,
};

/// Lookup counters for the summary (contract §3).
#[derive(Debug, Default, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct LookupStats {
    /// Conversations that needed a lookup.
    pub needed: u64,
    /// Lookups made.
    pub made: u64,
    /// Conversations not looked up because the budget was spent.
    pub over_budget: u64,
    /// Conversations not looked up because lookups are off.
    pub disabled: u64,
    /// Lookups that ended in `lookup_failed` (404, 403, retries exhausted).
    pub failed: u64,
    /// Of those, failures a rerun may fix (retries exhausted, transport errors).
    pub failed_transient: u64,
}

impl LookupStats {
    fn add(&mut self, o: &LookupStats) {
        self.needed += o.needed;
        self.made += o.made;
        self.over_budget += o.over_budget;
        self.disabled += o.disabled;
        self.failed += o.failed;
        self.failed_transient += o.failed_transient;
    }
}

/// Counts of one partition; a run's totals are the sum over its partitions, so a resumed run
/// reports the same totals as an uninterrupted one.
#[derive(Debug, Default, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PartitionStats {
    pub labels: BTreeMap<String, u64>,
    pub leg_labels: BTreeMap<String, u64>,
    pub lookups: LookupStats,
    /// Conversation labels per last queue (`(none)` without one).
    #[serde(default)]
    pub by_queue: BTreeMap<String, BTreeMap<String, u64>>,
    /// Conversation labels per customer-facing media type.
    #[serde(default)]
    pub by_media: BTreeMap<String, BTreeMap<String, u64>>,
    /// `missing` legs per agent (user id, else participant id).
    #[serde(default)]
    pub missing_by_agent: BTreeMap<String, u64>,
    /// Names that fell back to `(unresolved) <id>`.
    #[serde(default)]
    pub unresolved: Unresolved,
    /// Owed, coded and missing legs per agent, queue and media (issue 13).
    #[serde(default)]
    pub compliance: crate::transform::compliance::DayCompliance,
    /// Rows the details query returned that fell outside the day or repeated an earlier row.
    pub dropped_outside_window: u64,
    pub dropped_duplicates: u64,
}

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_default() += v;
    }
}

impl PartitionStats {
    /// Adds another partition's counts to these.
    pub fn add(&mut self, o: &PartitionStats) {
        add_counts(&mut self.labels, &o.labels);
        add_counts(&mut self.leg_labels, &o.leg_labels);
        self.lookups.add(&o.lookups);
        for (into, from) in [
            (&mut self.by_queue, &o.by_queue),
            (&mut self.by_media, &o.by_media),
        ] {
            for (k, labels) in from {
                add_counts(into.entry(k.clone()).or_default(), labels);
            }
        }
        add_counts(&mut self.missing_by_agent, &o.missing_by_agent);
        self.unresolved.add(&o.unresolved);
        self.compliance.add(&o.compliance);
        self.dropped_outside_window += o.dropped_outside_window;
        self.dropped_duplicates += o.dropped_duplicates;
    }
}

/// One finished partition, as recorded in the manifest (and read back to resume a run).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PartitionRecord {
    pub date: NaiveDate,
    pub interval_start: String,
    pub interval_end: String,
    pub conversations: u64,
    pub legs: u64,
    /// False while any row is `in_progress` or `too_recent`, or the day may lack rows: a later run
    /// should redo the day.
    pub is_final: bool,
    /// Why the day may lack rows (the details query served fewer than `totalHits` after re-requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    pub files: Vec<sink::FileInfo>,
    #[serde(flatten)]
    pub stats: PartitionStats,
}

/// What a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub run_id: String,
    pub partitions: Vec<PartitionRecord>,
    /// The sum of the partitions' counts.
    #[serde(flatten)]
    pub totals: PartitionStats,
    pub api: ApiStatsSnapshot,
    pub conversations: u64,
    pub legs: u64,
    /// Days taken over from an interrupted earlier run instead of being fetched again.
    pub resumed_days: u64,
    #[serde(skip)]
    pub status: ExitStatus,
}

impl RunOutcome {
    /// Totals derived from the partitions.
    fn from_partitions(
        run_id: &str,
        partitions: Vec<PartitionRecord>,
        resumed_days: u64,
    ) -> RunOutcome {
        let mut totals = PartitionStats::default();
        for p in &partitions {
            totals.add(&p.stats);
        }
        RunOutcome {
            run_id: run_id.to_string(),
            conversations: partitions.iter().map(|p| p.conversations).sum(),
            legs: partitions.iter().map(|p| p.legs).sum(),
            partitions,
            totals,
            api: ApiStatsSnapshot::default(),
            resumed_days,
            status: ExitStatus::Success,
        }
    }
}

/// In auto mode, windows at least this long read their historical days with async jobs.
pub const AUTO_JOBS_MIN_DAYS: usize = 7;

/// Conversations classified, looked up and written per step of a day.
pub(crate) const ROWS_PER_CHUNK: usize = 2_000;

/// Messages the fetching task may send ahead of the writer (pages of at most `page_size` rows).
const MSGS_AHEAD: usize = 8;

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

/// The day being written.
struct DayState {
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    writer: sink::stream::PartitionWriter,
    stats: PartitionStats,
    buffer: Vec<Fetched>,
    conversations: u64,
    legs: u64,
    is_final: bool,
    /// Settled lookups of this day, kept until its partition is in place.
    journal: Option<sink::journal::LookupJournal>,
}

impl DayState {
    fn new(
        date: NaiveDate,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        writer: sink::stream::PartitionWriter,
    ) -> DayState {
        DayState {
            date,
            start,
            end,
            writer,
            stats: PartitionStats::default(),
            buffer: Vec::new(),
            conversations: 0,
            legs: 0,
            is_final: true,
            journal: None,
        }
    }
}

fn output_failure(date: NaiveDate, e: anyhow::Error) -> Failure {
    Failure::new(
        ExitStatus::Output,
        format!("cannot write partition date={date}: {e:#}"),
    )
}

/// What every chunk of a run shares.
#[derive(Clone, Copy)]
struct ChunkCtx<'a> {
    cfg: &'a Config,
    catalogs: &'a Catalogs,
    client: &'a ApiClient,
    progress: &'a crate::progress::Progress,
    cancel: &'a CancellationToken,
}

/// Plans, looks up, classifies and appends one chunk of a day. False when the run was cancelled.
async fn write_chunk(
    ctx: &ChunkCtx<'_>,
    st: &mut DayState,
    chunk: Vec<Fetched>,
    lookups_left: &mut Option<u64>,
) -> Result<bool, Failure> {
    let ChunkCtx {
        cfg,
        catalogs,
        client,
        progress,
        cancel,
    } = *ctx;
    if chunk.is_empty() {
        return Ok(true);
    }
    let plan = plan_lookups(&chunk, cfg.lookup, lookups_left);
    let lookups = tokio::select! {
        biased;
        _ = cancel.cancelled() => return Ok(false),
        r = journaled::enrich(client, &chunk, &plan, cfg.concurrency, progress, &mut st.journal) => r,
    }
    .map_err(|e| output_failure(st.date, e))?;
    let (conv_rows, leg_rows) = build_rows(cfg, catalogs, &chunk, &plan, &lookups, &mut st.stats);
    st.is_final &= !conv_rows.iter().any(|r| {
        matches!(
            r.classification,
            ConversationLabel::InProgress | ConversationLabel::TooRecent
        )
    });
    st.conversations += conv_rows.len() as u64;
    st.legs += leg_rows.len() as u64;
    st.writer
        .append(&conv_rows, &leg_rows)
        .map_err(|e| output_failure(st.date, e))?;
    Ok(true)
}

/// Aborts a spawned task when the run leaves its loop, by error or cancellation.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl AbortOnDrop {
    async fn finish(mut self, wait: std::time::Duration) {
        let _ = tokio::time::timeout(wait, &mut self.0).await;
    }

    /// Why the task ended early: its panic message, or how it ended otherwise.
    async fn why_ended(mut self) -> String {
        match (&mut self.0).await {
            Ok(()) => "it stopped before sending every day".to_string(),
            Err(e) if e.is_panic() => {
                let payload = e.into_panic();
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".to_string());
                format!("it panicked: {msg}")
            }
            Err(e) => format!("it ended: {e}"),
        }
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the audit against `client`. The caller owns locking, the source and the run-level files.
///
/// `done` holds partitions an interrupted earlier run with the same arguments already finished: their
/// days are skipped. `checkpoint` is called after every partition with all partitions so far.
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
    let mut partitions = done;
    let already: u64 = partitions.iter().map(|p| p.stats.lookups.made).sum();
    let mut lookups_left = cfg.lookup_budget.map(|b| b.saturating_sub(already));
    // Earlier days being healed come first, then the window's own days.
    let mut days: Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> = cfg
        .lookback
        .iter()
        .map(|d| {
            (
                *d,
                crate::config::local_midnight(cfg.window.timezone, *d),
                crate::config::local_midnight(
                    cfg.window.timezone,
                    d.succ_opt().expect("date in range"),
                ),
            )
        })
        .collect();
    days.extend(cfg.window.days());
    let total_days = days.len();
    let todo: Vec<_> = days
        .into_iter()
        .filter(|(d, _, _)| !partitions.iter().any(|p| p.date == *d))
        .collect();
    for _ in 0..(total_days - todo.len()) {
        progress.day_finished();
    }
    for p in &partitions {
        tracing::info!(date = %p.date, "Skipping date={}: finished by an interrupted earlier run", p.date);
    }

    // The data lake's horizon decides which days the jobs API may serve, and in auto mode whether to use it.
    let availability = match cfg.mode {
        Mode::Query => None,
        Mode::Jobs | Mode::Auto => Some(tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(Failure::new(
                ExitStatus::Interrupted,
                "stopped while reading the jobs data availability",
            )),
            r = crate::source::jobs::data_availability(&client) => r.map_err(|e| {
                Failure::new(
                    status_of(&e),
                    format!("cannot read the jobs data availability: {e}"),
                )
            })?,
        }),
    };
    let todo: Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>, bool)> = todo
        .into_iter()
        .map(|(d, s, e)| {
            let jobs = match cfg.mode {
                Mode::Query => false,
                Mode::Jobs => true,
                Mode::Auto => {
                    total_days >= AUTO_JOBS_MIN_DAYS && availability.is_some_and(|a| e <= a)
                }
            };
            (d, s, e, jobs)
        })
        .collect();
    let by_jobs = todo.iter().filter(|t| t.3).count();
    if cfg.mode != Mode::Query {
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

    // A fetching task runs ahead by at most MSGS_AHEAD pages, so the next pages load while this
    // chunk's lookups run; lookups, writes and checkpoints stay in day order.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(MSGS_AHEAD);
    // The days in fetch order, to name the day a dying fetching task left unfinished.
    let mut unfetched: std::collections::VecDeque<NaiveDate> = todo.iter().map(|t| t.0).collect();
    let producer = {
        let (client, cfg, progress, cancel) = (
            client.clone(),
            Arc::new(cfg.clone()),
            progress.clone(),
            cancel.clone(),
        );
        AbortOnDrop(tokio::spawn(async move {
            // The next jobs day's job runs while this day is sent (its rows spill to disk).
            let mut ahead: Option<(NaiveDate, crate::source::jobs_day::JobsDay)> = None;
            // The next query day's first page loads while this day pages (issue 14).
            let mut first_ahead: Option<crate::source::query::FirstPage> = None;
            // `End` only after every day: a channel closing without it is a dead task.
            let mut all_sent = true;
            for (i, &(date, start, end, jobs)) in todo.iter().enumerate() {
                if cancel.is_cancelled() || tx.send(Msg::Day(date, start, end)).await.is_err() {
                    all_sent = false;
                    break;
                }
                crate::failpoint::hit("fetch-day");
                // Not raced against `cancel`: the jobs path deletes its jobs on cancellation first.
                let done = if jobs {
                    let this = match ahead.take() {
                        Some((d, j)) if d == date => j,
                        _ => crate::source::jobs_day::JobsDay::start(
                            &client, &cfg, start, end, &cancel,
                        ),
                    };
                    if let Some(&(d, s, e, true)) = todo.get(i + 1) {
                        let next =
                            crate::source::jobs_day::JobsDay::start(&client, &cfg, s, e, &cancel);
                        ahead = Some((d, next));
                    }
                    this.send(&cfg, &progress, &tx).await
                } else {
                    let first = first_ahead.take();
                    if let Some(&(_, s, e, false)) = todo.get(i + 1) {
                        first_ahead =
                            Some(crate::source::query::FirstPage::ask(&client, &cfg, s, e));
                    }
                    fetch_day(&client, &cfg, start, end, first, &progress, &cancel, &tx).await
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
        }))
    };
    let fingerprint = crate::report::fingerprint(cfg);
    let ctx = ChunkCtx {
        cfg,
        catalogs,
        client: &client,
        progress,
        cancel,
    };
    let mut day: Option<DayState> = None;
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => None,
            n = rx.recv() => n,
        };
        match next {
            None if cancel.is_cancelled() => break,
            Some(Msg::End) => break,
            None => {
                // The channel closed without `End`: the fetching task died. That is never the end of the data.
                let date = day.as_ref().map(|d| d.date).or(unfetched.front().copied());
                drop(day);
                let why = producer.why_ended().await;
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
                progress.day_started(date);
                let writer = sink::stream::PartitionWriter::create(
                    &cfg.output_dir,
                    run_id,
                    date,
                    cfg.formats,
                )
                .map_err(|e| output_failure(date, e))?;
                let mut st = DayState::new(date, start, end, writer);
                if cfg.lookup != LookupMode::Off {
                    let j = sink::journal::LookupJournal::open(
                        &cfg.output_dir,
                        date,
                        &iso_ms(cfg.as_of),
                        &fingerprint,
                    )
                    .map_err(|e| output_failure(date, e))?;
                    if !j.is_empty() {
                        tracing::info!(date = %date, lookups = j.len(), "Reusing {} settled lookups of date={date} from an interrupted run", j.len());
                    }
                    st.journal = Some(j);
                }
                day = Some(st);
            }
            Some(Msg::Rows(rows)) => {
                let st = day.as_mut().expect("rows follow their day");
                st.buffer.extend(rows);
                if st.buffer.len() >= ROWS_PER_CHUNK {
                    let chunk = std::mem::take(&mut st.buffer);
                    if !write_chunk(&ctx, st, chunk, &mut lookups_left).await? {
                        break;
                    }
                }
            }
            Some(Msg::Done(Err(e))) => {
                if crate::source::jobs::is_cancelled(&e) {
                    break;
                }
                let date = day.as_ref().map(|d| d.date).expect("done follows its day");
                return Err(fetch_failure(&e, date));
            }
            Some(Msg::Done(Ok(meta))) => {
                let mut st = day.take().expect("done follows its day");
                let chunk = std::mem::take(&mut st.buffer);
                if !write_chunk(&ctx, &mut st, chunk, &mut lookups_left).await? {
                    break;
                }
                if let Some(why) = &meta.shortfall {
                    tracing::warn!(date = %st.date, "date={} may lack conversations: the details query kept serving fewer rows than it counted ({why}); the partition is written, marked not final, and a later run (or --lookback-days) redoes it", st.date);
                }
                st.stats.dropped_outside_window = meta.dropped_outside;
                st.stats.dropped_duplicates = meta.dropped_duplicates;
                let date = st.date;
                let compliance =
                    crate::transform::compliance::table_rows(&st.stats.compliance, catalogs);
                st.writer
                    .write_compliance(&compliance)
                    .map_err(|e| output_failure(date, e))?;
                let journal = st.journal.take();
                let files = st.writer.finish().map_err(|e| output_failure(date, e))?;
                let record = PartitionRecord {
                    date,
                    interval_start: iso_ms(st.start),
                    interval_end: iso_ms(st.end),
                    conversations: st.conversations,
                    legs: st.legs,
                    // Rows after the lake's horizon may be missing, not only too recent: redo the day later.
                    is_final: st.is_final
                        && day_settled(cfg, date)
                        && meta.complete_until.is_none_or(|t| t >= st.end)
                        && meta.shortfall.is_none(),
                    incomplete: meta.shortfall,
                    files: files.files,
                    stats: st.stats,
                };
                tracing::info!(
                    date = %date,
                    conversations = record.conversations,
                    legs = record.legs,
                    lookups = record.stats.lookups.made,
                    "Wrote partition date={date} ({} of {total_days}): {} conversations, {} legs, {} lookups",
                    partitions.len() + 1,
                    record.conversations,
                    record.legs,
                    record.stats.lookups.made
                );
                partitions.push(record);
                checkpoint(&partitions)?;
                if let Some(j) = journal {
                    // The day is recorded: its journal has served.
                    if let Err(e) = j.remove() {
                        tracing::warn!(date = %date, error = %e, "cannot remove the lookup journal");
                    }
                }
                progress.day_finished();
            }
        }
    }
    // An unfinished day's writer is dropped here: its staging goes, finished days stay.
    drop(day);
    drop(rx);
    if cancel.is_cancelled() {
        // Give the producer a moment to delete its async jobs.
        producer.finish(std::time::Duration::from_secs(10)).await;
    }
    partitions.sort_by_key(|p| p.date);
    let mut outcome = RunOutcome::from_partitions(run_id, partitions, resumed_days);
    outcome.api = client.stats();
    outcome.status = if cancel.is_cancelled() {
        ExitStatus::Interrupted
    } else if outcome.partitions.iter().any(|p| p.incomplete.is_some()) {
        ExitStatus::Incomplete
    } else if outcome.totals.lookups.failed_transient > 0 {
        ExitStatus::PartialLookups
    } else {
        ExitStatus::Success
    };
    Ok(outcome)
}

/// True when the whole of `date` (job time zone) lies before `as_of - settle_minutes`: only then can
/// its partition be final, whatever its rows say (a day still running, or in the future, is not).
fn day_settled(cfg: &Config, date: NaiveDate) -> bool {
    date.checked_add_days(chrono::Days::new(1))
        .map(|next| crate::config::local_midnight(cfg.window.timezone, next))
        .is_some_and(|end| end <= cfg.as_of - chrono::Duration::minutes(cfg.settle_minutes))
}

pub(crate) fn fetch_failure(e: &ApiError, date: NaiveDate) -> Failure {
    let status = status_of(e);
    let hint = match e {
        ApiError::Forbidden { .. } => {
            " (the OAuth client's role needs analytics:conversationDetail:view or analytics:agentConversationDetail:view)"
        }
        ApiError::Unauthorized { .. } => crate::report::UNAUTHORIZED_HINT,
        _ => "",
    };
    Failure::new(
        status,
        format!(
            "cannot read analytics details for {date}: {e}{hint}; no partition was written for it"
        ),
    )
}

/// Builds the query for one interval and page.
pub fn build_query(
    filters: &Filters,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    page_size: u32,
    page: u32,
) -> ConversationQuery {
    let pred = |dimension: &str, value: &str| QueryPredicate {
        kind: "dimension",
        dimension: dimension.to_string(),
        operator: "matches",
        value: Some(value.to_string()),
    };
    let mut segment_filters = Vec::new();
    if !filters.media_types.is_empty() {
        segment_filters.push(QueryFilter {
            kind: "or",
            predicates: filters
                .media_types
                .iter()
                .map(|m| pred("mediaType", m))
                .collect(),
        });
    }
    if !filters.queue_ids.is_empty() {
        segment_filters.push(QueryFilter {
            kind: "or",
            predicates: filters
                .queue_ids
                .iter()
                .map(|q| pred("queueId", q))
                .collect(),
        });
    }
    ConversationQuery {
        interval: format!("{}/{}", iso_ms(start), iso_ms(end)),
        order: "asc",
        order_by: "conversationStart",
        paging: PagingSpec {
            page_size,
            page_number: page,
        },
        segment_filters,
        conversation_filters: Vec::new(),
    }
}

pub fn iso_ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One conversation as the rest of the run needs it: the facts for its row and its classification.
/// The full analytics record is dropped page by page, so memory holds rows, not records.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Fetched {
    pub id: String,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub direction: Option<String>,
    pub media: Option<String>,
    pub queue: Option<String>,
    pub classified: Classified,
}

impl Fetched {
    pub fn new(
        c: &AnalyticsConversation,
        cfg: &Config,
        data_available_until: Option<DateTime<Utc>>,
    ) -> Fetched {
        Fetched {
            id: c.conversation_id.clone(),
            start: c.conversation_start,
            end: c.conversation_end,
            direction: c.originating_direction.clone(),
            media: conversation_media(c),
            queue: last_queue(c),
            classified: classify_conversation(c, cfg, data_available_until),
        }
    }
}

/// Sends rows to the writer; a closed channel means the run stopped.
pub(crate) async fn emit(
    tx: &tokio::sync::mpsc::Sender<Msg>,
    rows: Vec<Fetched>,
) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    tx.send(Msg::Rows(rows))
        .await
        .map_err(|_| crate::source::jobs::cancelled())
}

/// One day by the details query, its rows sent as they come; stops at once on cancellation.
/// `first`: the day's first page, already asked for.
async fn fetch_day(
    client: &Arc<ApiClient>,
    cfg: &Arc<Config>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    first: Option<crate::source::query::FirstPage>,
    progress: &crate::progress::Progress,
    cancel: &CancellationToken,
    tx: &tokio::sync::mpsc::Sender<Msg>,
) -> Result<DayMeta, ApiError> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(crate::source::jobs::cancelled()),
        r = crate::source::query::fetch_interval(client, cfg, start, end, first, progress, tx) => r,
    }
}

fn status_of(e: &ApiError) -> ExitStatus {
    match e {
        ApiError::Auth { .. } | ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => {
            ExitStatus::Auth
        }
        ApiError::Spill { .. } => ExitStatus::Output,
        _ => ExitStatus::ApiUnavailable,
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
            if c.conversation_start < s || c.conversation_start >= e {
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

/// A conversation after analytics-only classification.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Classified {
    pub legs: Vec<(LegEvidence, LegLabel)>,
    /// Steps 1–4 with needs-lookup legs counted as unexplained.
    pub analytics_label: ConversationLabel,
    pub too_recent: bool,
    pub ended_minutes_before_as_of: Option<i64>,
}

pub fn classify_conversation(
    c: &AnalyticsConversation,
    cfg: &Config,
    data_available_until: Option<DateTime<Utc>>,
) -> Classified {
    let ended = c.conversation_end.is_some();
    let legs: Vec<(LegEvidence, LegLabel)> = classify::agent_legs(c)
        .into_iter()
        .map(|ev| {
            let label = classify::classify_leg(&ev, ended);
            (ev, label)
        })
        .collect();
    let labels: Vec<LegLabel> = legs.iter().map(|(_, l)| *l).collect();
    let (analytics_label, _) = classify::conversation_label(ended, &labels);
    let too_recent = classify::is_too_recent(
        c.conversation_end,
        cfg.as_of,
        cfg.settle_minutes,
        data_available_until,
        analytics_label,
    );
    Classified {
        legs,
        analytics_label,
        too_recent,
        ended_minutes_before_as_of: c
            .conversation_end
            .map(|e| cfg.as_of.signed_duration_since(e).num_minutes()),
    }
}

/// What happens to each conversation's lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    NotNeeded,
    Lookup,
    OverBudget,
    Disabled,
}

pub fn plan_lookups(fetched: &[Fetched], mode: LookupMode, budget: &mut Option<u64>) -> Vec<Plan> {
    fetched
        .iter()
        .map(|f| &f.classified)
        .map(|c| {
            // With lookups off, the conversations that would have needed one say `disabled`.
            let asked = if mode == LookupMode::Off {
                LookupMode::NeedsLookup
            } else {
                mode
            };
            let decided = c.too_recent || c.analytics_label == ConversationLabel::InProgress;
            if decided || !c.legs.iter().any(|(_, l)| asked.wants(*l)) {
                return Plan::NotNeeded;
            }
            if mode == LookupMode::Off {
                return Plan::Disabled;
            }
            match budget {
                Some(0) => Plan::OverBudget,
                Some(n) => {
                    *n -= 1;
                    Plan::Lookup
                }
                None => Plan::Lookup,
            }
        })
        .collect()
}

/// Looks up the planned conversations, at most `concurrency` at once; the result is aligned with
/// `conversations` (`None` where no lookup was planned).
pub async fn enrich(
    client: &ApiClient,
    conversations: &[Fetched],
    plan: &[Plan],
    concurrency: usize,
    progress: &crate::progress::Progress,
) -> Vec<Option<Result<Conversation, ApiError>>> {
    enrich_each(
        client,
        conversations,
        plan,
        concurrency,
        progress,
        &mut |_, _| {},
    )
    .await
}

/// [`enrich`], telling `answered` about each answer as it arrives.
async fn enrich_each(
    client: &ApiClient,
    conversations: &[Fetched],
    plan: &[Plan],
    concurrency: usize,
    progress: &crate::progress::Progress,
    answered: &mut dyn FnMut(&str, &Result<Conversation, ApiError>),
) -> Vec<Option<Result<Conversation, ApiError>>> {
    progress.lookups_planned(plan.iter().filter(|p| **p == Plan::Lookup).count() as u64);
    let mut out: Vec<Option<Result<Conversation, ApiError>>> =
        (0..conversations.len()).map(|_| None).collect();
    let wanted = plan
        .iter()
        .enumerate()
        .filter(|(_, p)| **p == Plan::Lookup)
        .map(|(i, _)| i);
    let mut results = futures::stream::iter(wanted)
        .map(|i| async move { (i, client.conversation(&conversations[i].id).await) })
        .buffered(concurrency);
    while let Some((i, r)) = results.next().await {
        progress.lookup_done();
        answered(&conversations[i].id, &r);
        out[i] = Some(r);
    }
    out
}

/// The customer-facing media type: the customer's first session, else the first session seen.
fn conversation_media(c: &AnalyticsConversation) -> Option<String> {
    let customer = c
        .participants
        .iter()
        .find(|p| p.purpose.as_deref() == Some("customer"));
    customer
        .into_iter()
        .chain(c.participants.iter())
        .flat_map(|p| p.sessions.iter())
        .find_map(|s| s.media_type.clone())
}

/// The last queue the conversation was routed through (latest segment start carrying a queue).
fn last_queue(c: &AnalyticsConversation) -> Option<String> {
    c.participants
        .iter()
        .flat_map(|p| p.sessions.iter())
        .flat_map(|s| s.segments.iter())
        .filter(|seg| seg.queue_id.is_some())
        .max_by_key(|seg| seg.segment_start)
        .and_then(|seg| seg.queue_id.clone())
}

/// Settles labels with the lookups and maps everything into report rows.
pub fn build_rows(
    cfg: &Config,
    catalogs: &Catalogs,
    conversations: &[Fetched],
    plan: &[Plan],
    lookups: &[Option<Result<Conversation, ApiError>>],
    pstats: &mut PartitionStats,
) -> (Vec<ConversationRow>, Vec<LegRow>) {
    let mut conv_rows = Vec::with_capacity(conversations.len());
    let mut leg_rows = Vec::new();
    for ((c, p), lookup) in conversations.iter().zip(plan).zip(lookups) {
        let cl = &c.classified;
        let stats = &mut pstats.lookups;
        let mut lookup_status = match p {
            Plan::NotNeeded => LookupStatus::NotNeeded,
            Plan::Lookup => LookupStatus::Done,
            Plan::OverBudget => LookupStatus::OverBudget,
            Plan::Disabled => LookupStatus::Disabled,
        };
        if *p != Plan::NotNeeded {
            stats.needed += 1;
        }
        match p {
            Plan::Lookup => stats.made += 1,
            Plan::OverBudget => stats.over_budget += 1,
            Plan::Disabled => stats.disabled += 1,
            Plan::NotNeeded => {}
        }
        // The conversation-level failure, if the lookup itself failed.
        let lookup_error = match lookup {
            Some(Err(e)) => Some(e.short_reason()),
            _ => None,
        };
        let found = match lookup {
            Some(Ok(conv)) => Some(conv),
            _ => None,
        };

        let mut legs_out = Vec::with_capacity(cl.legs.len());
        for (ev, label) in &cl.legs {
            let mut leg = LegRow {
                conversation_id: c.id.clone(),
                conversation_start: c.start,
                participant_id: ev.participant_id.clone(),
                user_id: ev.user_id.clone(),
                agent_name: ev.user_id.as_deref().map(|u| catalogs.user_name(u)),
                purpose: ev.purpose.clone(),
                media_type: ev.media_type.clone(),
                queue_id: ev.queue_id.clone(),
                queue_name: ev.queue_id.as_deref().map(|q| catalogs.queue_name(q)),
                connected: ev.connected,
                label: *label,
                analytics_wrapup_code: ev.code.clone(),
                lookup_wrapup_code: None,
                wrapup_code_name: ev.code.as_deref().map(|code| catalogs.code_name(code)),
                wrapup_required: None,
                wrapup_prompt: None,
                wrapup_skipped: None,
                acw_skipped: ev.acw_skipped,
                acw_ms: ev.acw_ms,
                handle_ms: ev.handle_ms,
                talk_ms: ev.talk_ms,
                detail: None,
                reportable_code: None,
                queue_wrapup_prompt: None,
                queue_acw_timeout_ms: None,
                config_mismatch: None,
            };
            if ev
                .code
                .as_deref()
                .is_some_and(|c| catalogs.known_code(c).is_none())
            {
                leg.detail = Some("code id not found in the wrap-up code catalog (deleted, or in another division)".into());
            }
            let looked_up = *p == Plan::Lookup && cfg.lookup.wants(*label);
            if looked_up {
                if let Some(err) = &lookup_error {
                    if *label == LegLabel::NeedsLookup {
                        leg.label = LegLabel::LookupFailed;
                    }
                    leg.detail = Some(err.clone());
                } else if let Some(conv) = found {
                    let participant = conv
                        .participants
                        .iter()
                        .find(|cp| cp.id == ev.participant_id);
                    if let Some(cp) = participant {
                        leg.wrapup_required = cp.wrapup_required;
                        leg.wrapup_prompt = cp.wrapup_prompt.clone();
                        leg.wrapup_skipped = cp.wrapup_skipped;
                    }
                    let settled = classify::settle_leg(*label, participant);
                    leg.label = settled.label;
                    if let Some(code) = settled.code {
                        // The name the Conversations API sent beats the fallback.
                        leg.wrapup_code_name = Some(
                            catalogs
                                .known_code(&code)
                                .or(settled.code_name)
                                .unwrap_or_else(|| unresolved(&code)),
                        );
                        leg.lookup_wrapup_code = Some(code);
                    }
                    if settled.detail.is_some() {
                        leg.detail = settled.detail;
                    }
                }
            } else if *label == LegLabel::NeedsLookup {
                leg.label = LegLabel::Unexplained;
                leg.detail = Some(
                    match p {
                        Plan::OverBudget => "not looked up: over the lookup budget",
                        Plan::Disabled => "not looked up: lookups are off",
                        _ if cl.too_recent => "not looked up: the conversation ended too recently",
                        _ => "not looked up: the conversation is still in progress",
                    }
                    .to_string(),
                );
            }
            crate::transform::acw::annotate_leg(&mut leg, catalogs);
            legs_out.push(leg);
        }
        // A failed lookup counts only where it left a leg `lookup_failed`; all-null legs that could
        // not be improved keep their analytics labels.
        if let Some(Err(e)) = lookup {
            if legs_out.iter().any(|l| l.label == LegLabel::LookupFailed) {
                let stats = &mut pstats.lookups;
                stats.failed += 1;
                stats.failed_transient += u64::from(!e.is_permanent());
                lookup_status = LookupStatus::Failed;
            }
        }

        let labels: Vec<LegLabel> = legs_out.iter().map(|l| l.label).collect();
        let (mut label, decisive) = classify::conversation_label(c.end.is_some(), &labels);
        if cl.too_recent {
            label = ConversationLabel::TooRecent;
        }
        let decisive_leg = decisive.map(|i| &legs_out[i]);
        // The code of the last coded leg (analytics or recovered).
        let coded = legs_out
            .iter()
            .rev()
            .find(|l| l.analytics_wrapup_code.is_some() || l.lookup_wrapup_code.is_some());
        let (code_id, code_name, code_source) = match coded {
            Some(l) => match (&l.analytics_wrapup_code, &l.lookup_wrapup_code) {
                (Some(a), _) => (
                    Some(a.clone()),
                    l.wrapup_code_name.clone(),
                    Some(CodeSource::Analytics),
                ),
                (None, Some(r)) => (
                    Some(r.clone()),
                    l.wrapup_code_name.clone(),
                    Some(CodeSource::ConversationApi),
                ),
                (None, None) => (None, None, None),
            },
            None => (None, None, None),
        };
        // Sentences name the agent and code when a catalog knows them, else show the bare id.
        let agent = decisive_leg.and_then(|l| {
            let known = l.user_id.as_deref().and_then(|u| catalogs.users.get(u));
            known
                .map(String::as_str)
                .or(l.user_id.as_deref())
                .or(Some(l.participant_id.as_str()))
        });
        let shown_code = decisive_leg.and_then(|l| {
            let id = l
                .lookup_wrapup_code
                .as_deref()
                .or(l.analytics_wrapup_code.as_deref());
            l.wrapup_code_name
                .as_deref()
                .filter(|n| !is_unresolved(id, Some(n)))
                .or(id)
        });
        let facts = ReasonFacts {
            agent,
            code: shown_code,
            queue: decisive_leg.and_then(|l| l.queue_name.as_deref()),
            detail: decisive_leg.and_then(|l| l.detail.as_deref()),
            ended_minutes_ago: cl.ended_minutes_before_as_of,
            not_ended: c.end.is_none(),
            no_lookup_because: match p {
                Plan::OverBudget => Some("over the lookup budget"),
                Plan::Disabled => Some("lookups are off"),
                _ => None,
            },
        };
        let u = &mut pstats.unresolved;
        for l in &legs_out {
            let code = l
                .lookup_wrapup_code
                .as_deref()
                .or(l.analytics_wrapup_code.as_deref());
            u.codes += u64::from(is_unresolved(code, l.wrapup_code_name.as_deref()));
            u.users += u64::from(is_unresolved(l.user_id.as_deref(), l.agent_name.as_deref()));
            u.queues += u64::from(is_unresolved(
                l.queue_id.as_deref(),
                l.queue_name.as_deref(),
            ));
        }
        u.codes += u64::from(is_unresolved(code_id.as_deref(), code_name.as_deref()));
        for l in &legs_out {
            *pstats
                .leg_labels
                .entry(l.label.as_str().to_string())
                .or_default() += 1;
            if l.label == LegLabel::Missing {
                let agent = l
                    .user_id
                    .clone()
                    .unwrap_or_else(|| l.participant_id.clone());
                *pstats.missing_by_agent.entry(agent).or_default() += 1;
            }
        }
        *pstats.labels.entry(label.as_str().to_string()).or_default() += 1;
        for l in &legs_out {
            pstats.compliance.count(l, label);
        }
        let media = c.media.clone();
        let queue = c.queue.clone();
        for (map, key) in [
            (&mut pstats.by_queue, &queue),
            (&mut pstats.by_media, &media),
        ] {
            let key = key.clone().unwrap_or_else(|| "(none)".to_string());
            *map.entry(key)
                .or_default()
                .entry(label.as_str().to_string())
                .or_default() += 1;
        }
        let queue_name = queue.as_deref().map(|q| catalogs.queue_name(q));
        pstats.unresolved.queues +=
            u64::from(is_unresolved(queue.as_deref(), queue_name.as_deref()));
        let mut row = ConversationRow {
            conversation_id: c.id.clone(),
            conversation_start: c.start,
            conversation_end: c.end,
            media_type: media,
            originating_direction: c.direction.clone(),
            queue_id: queue,
            queue_name,
            agent_legs: legs_out.len() as i32,
            classification: label,
            reason: reason(label, &facts),
            wrapup_code_id: code_id,
            wrapup_code_name: code_name,
            code_source,
            acw_ms: legs_out.iter().map(|l| l.acw_ms).sum(),
            handle_ms: legs_out.iter().map(|l| l.handle_ms).sum(),
            lookup: lookup_status,
            ended_minutes_before_as_of: cl.ended_minutes_before_as_of,
            reportable_code: None,
            queue_wrapup_prompt: None,
            queue_acw_timeout_ms: None,
            config_mismatch: None,
        };
        crate::transform::acw::annotate_conversation(&mut row, &legs_out, catalogs);
        conv_rows.push(row);
        leg_rows.extend(legs_out);
    }
    (conv_rows, leg_rows)
}
