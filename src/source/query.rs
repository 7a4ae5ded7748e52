//! Paging the details query over one day: every page until the pages cover `totalHits`, short pages
//! asked again, and a shortfall that persists reported instead of being taken for the end of the data.
//!
//! A page with fewer than `pageSize` rows is the end only when it is the last page with rows and the
//! rows received reach `totalHits`. Anything else (a short page in the middle, fewer distinct rows than
//! `totalHits`) is asked again; `totalHits` may drift while data arrives, so the smallest value any
//! answer gave is the one the rows must reach.
//!
//! After a full last page, one more page is asked only when `totalHits` is not consistent: when the
//! answers disagreed on it, or the distinct rows received differ from it. Otherwise that page would be
//! empty (issue 14: one request and one page latency per day).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures::StreamExt;

use crate::api::wire::{ConversationQuery, PagingSpec, QueryFilter, QueryPredicate};
use crate::api::{ApiClient, ApiError};
use crate::config::Config;
use crate::config::Filters;
use crate::source::channel::emit;
use crate::source::interval::Intervals;

use crate::source::channel::DayMeta;
use crate::source::channel::Msg;
use crate::source::ids::IdSet;
use crate::source::interval::Collector;
use crate::time::iso_ms;
use crate::transform::rows::Fetched;

/// Intervals are not split below this length; a minute above the cap fails the run loudly.
const MIN_SPLIT: chrono::Duration = chrono::Duration::minutes(1);

/// Rounds of re-requests of suspect pages before a shortfall counts.
pub const REASK_ROUNDS: u32 = 6;

/// Pages of one interval requested at once. Not the `concurrency` setting, which counts lookups
/// only: pages are few per day, the rate limiter sets their pace, and this many keep page latency
/// from setting it instead.
pub const PAGES_IN_FLIGHT: usize = 8;

/// Most ids an interval's `totalHits` reserves room for (17 bytes each); more still fit.
const RESERVED_IDS_MAX: u64 = 200_000;

/// What the answers of one interval showed.
struct IntervalPages {
    /// Distinct conversation ids served for the interval (inside the day or not).
    ids: IdSet,
    /// The smallest and largest `totalHits` any answer gave.
    min_total: u64,
    max_total: u64,
    /// Pages that stayed short although later pages had rows.
    short_pages: Vec<u32>,
}

impl IntervalPages {
    fn note_total(&mut self, resp: &QueryPage) {
        if let Some(t) = resp.total_hits {
            self.min_total = self.min_total.min(t);
            self.max_total = self.max_total.max(t);
        }
    }

    /// Every answer gave the same `totalHits` and exactly that many distinct rows arrived, none of
    /// them from a page that stayed short: the pages are complete, a full last page is the last.
    fn consistent(&self) -> bool {
        self.min_total == self.max_total
            && self.ids.len() as u64 == self.min_total
            && self.short_pages.is_empty()
    }

    /// Rows received if `page` were taken now.
    fn received_with(&self, page: &QueryPage) -> u64 {
        let new = page
            .rows
            .iter()
            .filter(|c| !self.ids.contains(&c.id))
            .count();
        (self.ids.len() + new) as u64
    }
}

/// A details page reduced as it was decoded, while its records borrowed from the body (issue 14):
/// `totalHits` and every row as the run carries it, whether or not it starts in the interval.
pub(crate) struct QueryPage {
    total_hits: Option<u64>,
    rows: Vec<Fetched>,
}

/// Asks for one details page and reduces it.
async fn ask_page(
    client: &ApiClient,
    cfg: &Config,
    q: &ConversationQuery,
) -> Result<QueryPage, ApiError> {
    client
        .details_query_with(q, |page| QueryPage {
            total_hits: page.total_hits,
            rows: page
                .conversations
                .iter()
                .map(|c| Fetched::new(c, cfg, None))
                .collect(),
        })
        .await
}

/// Adds the rows of `more` that `page` lacks, keeping the API's order (`conversationStart`).
fn merge(page: &mut QueryPage, more: QueryPage) {
    let have: HashSet<String> = page.rows.iter().map(|c| c.id.clone()).collect();
    let before = page.rows.len();
    page.rows
        .extend(more.rows.into_iter().filter(|c| !have.contains(&c.id)));
    if page.rows.len() > before {
        // Stable: rows with equal starts keep the order the API gave them.
        page.rows.sort_by_key(|c| c.start);
    }
}

/// A day's first details page, asked while the day before is still paging, so that no day waits
/// for its first page alone (issue 14). Dropping it aborts the request.
pub(crate) struct FirstPage {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    page: crate::task::Spawned<Result<QueryPage, ApiError>>,
}

impl FirstPage {
    pub(crate) fn ask(
        client: &Arc<ApiClient>,
        cfg: &Arc<Config>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> FirstPage {
        let q = build_query(&cfg.filters, start, end, cfg.page_size, 1);
        let (client, cfg) = (client.clone(), cfg.clone());
        FirstPage {
            start,
            end,
            page: crate::task::Spawned::new(async move { ask_page(&client, &cfg, &q).await }),
        }
    }
}

/// Every conversation that started in `[start, end)`, without duplicates, sent page by page in the
/// API's order (`conversationStart` ascending), so memory holds pages, not days.
///
/// The first page of an interval gives `totalHits`: above the result cap the interval is halved;
/// otherwise the pages that `totalHits` implies are fetched concurrently (bounded, in order), paging
/// goes on past them while pages come back full, and suspect pages are asked again. What still falls
/// short is returned in [`DayMeta::shortfall`].
// Long: one day's paging with splits, re-requests and shortfall accounting in one loop.
pub(crate) async fn fetch_interval(
    client: &Arc<ApiClient>,
    cfg: &Arc<Config>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    mut ahead: Option<FirstPage>,
    progress: &crate::progress::Progress,
    tx: &tokio::sync::mpsc::Sender<Msg>,
) -> Result<DayMeta, ApiError> {
    let ps = cfg.page_size;
    let cap = cfg.query_result_cap;
    let query = |s, e, page| build_query(&cfg.filters, s, e, ps, page);
    let mut pending = Intervals::new(start, end);
    let mut col = Collector {
        seen: IdSet::default(),
        outside: 0,
        dupes: 0,
    };
    let mut shortfalls = Vec::new();
    while let Some((s, e)) = pending.next() {
        let first = match ahead.take() {
            Some(f) if (f.start, f.end) == (s, e) => f.page.await?,
            _ => ask_page(client, cfg, &query(s, e, 1)).await?,
        };
        let total = first.total_hits.unwrap_or(0);
        if total > cap {
            if e - s <= MIN_SPLIT {
                return Err(ApiError::BadRequest {
                    op: "details_query".into(),
                    code: "result.cap".into(),
                    message: format!(
                        "{total} conversations in one minute from {} exceed the query's {cap}-result cap; narrow the job with filters",
                        iso_ms(s)
                    ),
                });
            }
            tracing::info!(interval.start = %iso_ms(s), interval.end = %iso_ms(e), total_hits = total, "Splitting an interval above the result cap");
            pending.halve(s, e);
            continue;
        }
        // Config guarantees cap >= page size; never let a page count reach 0 or wrap.
        let max_page = u32::try_from(cap / u64::from(ps.max(1)))
            .unwrap_or(u32::MAX)
            .max(1);
        let expected = u32::try_from(total.div_ceil(u64::from(ps)))
            .unwrap_or(u32::MAX)
            .clamp(1, max_page);
        // Room for the ids `totalHits` announces, so no table is copied while it grows; the
        // server's word reserves at most a few MB.
        let hits = usize::try_from(total.min(RESERVED_IDS_MAX)).unwrap_or(0);
        col.seen.reserve(hits);
        let mut iv = IntervalPages {
            ids: IdSet::with_capacity(hits),
            min_total: total,
            max_total: total,
            short_pages: Vec::new(),
        };
        // Settles page `n` (asking again while it looks short) and sends its rows, so rows keep
        // the API's order. `later_rows`: a later page is known to have rows.
        let settle = async |iv: &mut IntervalPages,
                            col: &mut Collector,
                            n: u32,
                            mut page: QueryPage,
                            later_rows: bool|
               -> Result<usize, ApiError> {
            iv.note_total(&page);
            let short = |iv: &IntervalPages, page: &QueryPage| {
                page.rows.len() < ps as usize
                    && (later_rows || iv.received_with(page) < iv.min_total)
            };
            let mut asked = 0;
            while short(iv, &page) && asked < REASK_ROUNDS {
                asked += 1;
                tracing::debug!(interval.start = %iso_ms(s), page = n, rows = page.rows.len(), total_hits = iv.min_total, "Asking a short page again");
                let again = ask_page(client, cfg, &query(s, e, n)).await?;
                iv.note_total(&again);
                merge(&mut page, again);
            }
            if later_rows && page.rows.len() < ps as usize {
                iv.short_pages.push(n);
            }
            let len = page.rows.len();
            for c in &page.rows {
                iv.ids.insert(&c.id);
            }
            progress.page(len as u64);
            emit(tx, col.take(page.rows, s, e)).await?;
            Ok(len)
        };
        let mut last_len;
        if expected > 1 {
            // Every page `totalHits` implies, whether or not page 1 came back full. Each page is its
            // own task: while this task waits to send on the channel, the pages in flight still run
            // to the end and release what they hold (issue 14).
            let mut pages = std::pin::pin!(futures::stream::iter(2..=expected)
                .map(|n| {
                    let (client, cfg, q) = (client.clone(), cfg.clone(), query(s, e, n));
                    crate::task::Spawned::new(async move { (n, ask_page(&client, &cfg, &q).await) })
                })
                .buffered(PAGES_IN_FLIGHT)
                .peekable());
            let later = |p: Option<&(u32, Result<QueryPage, ApiError>)>| matches!(p, Some((_, Ok(r))) if !r.rows.is_empty());
            let next_has_rows = later(pages.as_mut().peek().await);
            last_len = settle(&mut iv, &mut col, 1, first, next_has_rows).await?;
            while let Some((n, resp)) = pages.next().await {
                let resp = resp?;
                let next_has_rows = later(pages.as_mut().peek().await);
                last_len = settle(&mut iv, &mut col, n, resp, next_has_rows).await?;
            }
        } else {
            last_len = settle(&mut iv, &mut col, 1, first, false).await?;
        }
        // `totalHits` is an estimate while data arrives: go on while pages come back full, unless
        // every answer agreed on it and it is reached; a short or empty page ends the interval.
        let mut page = expected;
        while last_len >= ps as usize && page < max_page && !iv.consistent() {
            page += 1;
            let resp = ask_page(client, cfg, &query(s, e, page)).await?;
            last_len = settle(&mut iv, &mut col, page, resp, false).await?;
        }
        let received = iv.ids.len() as u64;
        if received < iv.min_total || !iv.short_pages.is_empty() {
            shortfalls.push(format!(
                "{}/{}: {received} of {} conversations (totalHits) received after re-requests{}",
                iso_ms(s),
                iso_ms(e),
                iv.min_total,
                if iv.short_pages.is_empty() {
                    String::new()
                } else {
                    format!(", pages {:?} short", iv.short_pages)
                }
            ));
        }
    }
    Ok(DayMeta {
        dropped_outside: col.outside,
        dropped_duplicates: col.dupes,
        complete_until: None,
        shortfall: (!shortfalls.is_empty()).then(|| shortfalls.join("; ")),
    })
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
