//! The `details/query` request: parsing, validation and matching.
//!
//! Mirrors the documented behaviour of `POST /api/v2/analytics/conversations/details/query`: the interval is
//! required, limited to 7 days without filters and 31 days with them; results are the conversations that
//! started on a UTC day the interval touches and whose lifetime overlaps it; paging is by page number with a
//! cap on `pageNumber × pageSize`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

use super::model::{SimConversation, SimParticipant, SimSegment, SimSession};

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryBody {
    pub interval: Option<String>,
    pub order: Option<String>,
    pub order_by: Option<String>,
    pub paging: Option<Paging>,
    #[serde(default)]
    pub segment_filters: Vec<Filter>,
    #[serde(default)]
    pub conversation_filters: Vec<Filter>,
}

/// The body of `POST …/details/jobs` (`AsyncConversationQuery`).
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobBody {
    pub interval: Option<String>,
    pub order: Option<String>,
    pub order_by: Option<String>,
    pub limit: Option<i64>,
    #[serde(default)]
    pub start_of_day_interval_matching: bool,
    #[serde(default)]
    pub segment_filters: Vec<Filter>,
    #[serde(default)]
    pub conversation_filters: Vec<Filter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Paging {
    pub page_size: Option<i64>,
    pub page_number: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Filter {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub predicates: Vec<Predicate>,
    #[serde(default)]
    pub clauses: Vec<Filter>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Predicate {
    pub dimension: Option<String>,
    pub operator: Option<String>,
    pub value: Option<String>,
}

/// A validated query.
#[derive(Debug)]
pub(crate) struct Query {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub descending: bool,
    pub by_end: bool,
    pub page_size: u64,
    pub page_number: u64,
    segment_filters: Vec<Filter>,
    conversation_filters: Vec<Filter>,
}

const SEGMENT_DIMENSIONS: &[&str] = &[
    "mediaType",
    "queueId",
    "purpose",
    "userId",
    "direction",
    "segmentType",
    "wrapUpCode",
    "disconnectType",
    "participantName",
];
const CONVERSATION_DIMENSIONS: &[&str] = &[
    "conversationEnd",
    "conversationId",
    "originatingDirection",
    "divisionId",
];

pub(crate) fn parse_interval(s: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), String> {
    let (a, b) = s
        .split_once('/')
        .ok_or_else(|| format!("Invalid interval [{s}]: expected ISO-8601 start/end"))?;
    let p = |x: &str| {
        DateTime::parse_from_rfc3339(x)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|_| format!("Invalid interval [{s}]: dates must be ISO-8601 strings"))
    };
    let (start, end) = (p(a)?, p(b)?);
    if end <= start {
        return Err(format!("Invalid interval [{s}]: end must be after start"));
    }
    Ok((start, end))
}

fn check_filters(filters: &[Filter], allowed: &[&str], what: &str) -> Result<(), String> {
    for f in filters {
        match f.kind.as_deref() {
            Some("and") | Some("or") => {}
            Some(k) => return Err(format!("Invalid {what} filter type [{k}]; expected and/or")),
            None => return Err(format!("{what} filter type is required")),
        }
        for p in &f.predicates {
            let d = p
                .dimension
                .as_deref()
                .ok_or_else(|| format!("{what} predicate needs a dimension"))?;
            if !allowed.contains(&d) {
                return Err(format!(
                    "The simulator does not support {what} dimension [{d}]"
                ));
            }
            match p.operator.as_deref().unwrap_or("matches") {
                "matches" => {
                    if p.value.is_none() {
                        return Err(format!(
                            "{what} predicate on [{d}] with operator matches needs a value"
                        ));
                    }
                }
                "exists" | "notExists" => {}
                o => return Err(format!("Invalid operator [{o}]")),
            }
        }
        check_filters(&f.clauses, allowed, what)?;
    }
    Ok(())
}

impl Query {
    /// Validates what queries and jobs share: interval (at most 31 days), filters, order.
    fn common(
        interval: Option<String>,
        segment_filters: Vec<Filter>,
        conversation_filters: Vec<Filter>,
        order: Option<&str>,
        order_by: Option<&str>,
    ) -> Result<Query, String> {
        let interval = interval.ok_or("interval is required")?;
        let (start, end) = parse_interval(&interval)?;
        check_filters(&segment_filters, SEGMENT_DIMENSIONS, "segment")?;
        check_filters(
            &conversation_filters,
            CONVERSATION_DIMENSIONS,
            "conversation",
        )?;
        if end - start > Duration::days(31) {
            return Err("Intervals may not be longer than 31 days".into());
        }
        let descending = match order {
            None | Some("asc") | Some("unordered") => false,
            Some("desc") => true,
            Some(o) => return Err(format!("Invalid order [{o}]")),
        };
        let by_end = match order_by {
            None | Some("conversationStart") | Some("segmentStart") => false,
            Some("conversationEnd") | Some("segmentEnd") => true,
            Some(o) => return Err(format!("Invalid orderBy [{o}]")),
        };
        Ok(Query {
            start,
            end,
            descending,
            by_end,
            page_size: 1,
            page_number: 1,
            segment_filters,
            conversation_filters,
        })
    }

    /// Validates a parsed body against the limits.
    pub fn validate(body: QueryBody, max_page_size: u32, result_cap: u64) -> Result<Query, String> {
        let filtered = !body.segment_filters.is_empty() || !body.conversation_filters.is_empty();
        let mut q = Query::common(
            body.interval,
            body.segment_filters,
            body.conversation_filters,
            body.order.as_deref(),
            body.order_by.as_deref(),
        )?;
        if !filtered && q.end - q.start > Duration::days(7) {
            return Err("Intervals longer than 7 days require a filter".into());
        }
        let (size, number) = match &body.paging {
            Some(p) => (p.page_size.unwrap_or(25), p.page_number.unwrap_or(1)),
            None => (25, 1),
        };
        if size < 1 || number < 1 {
            return Err("pageSize and pageNumber must be positive".into());
        }
        if size > i64::from(max_page_size) {
            return Err(format!("pageSize [{size}] may not exceed {max_page_size}"));
        }
        if (size as u64).saturating_mul(number as u64) > result_cap {
            return Err(format!("Pagination may not exceed {result_cap} results."));
        }
        q.page_size = size as u64;
        q.page_number = number as u64;
        Ok(q)
    }

    /// Validates a job body: the query part, plus `(startOfDayIntervalMatching, limit)`.
    pub fn validate_job(body: JobBody) -> Result<(Query, bool, Option<usize>), String> {
        let q = Query::common(
            body.interval,
            body.segment_filters,
            body.conversation_filters,
            body.order.as_deref(),
            body.order_by.as_deref(),
        )?;
        let limit = match body.limit {
            None => None,
            Some(n) if n >= 1 => Some(n as usize),
            Some(n) => return Err(format!("Invalid limit [{n}]")),
        };
        Ok((q, body.start_of_day_interval_matching, limit))
    }

    /// UTC days the interval touches.
    pub fn days(&self) -> Vec<NaiveDate> {
        let last = (self.end - Duration::milliseconds(1)).date_naive();
        let mut d = self.start.date_naive();
        let mut out = Vec::new();
        while d <= last {
            out.push(d);
            d = d.succ_opt().expect("date in range");
        }
        out
    }

    /// Whether `c` (already known to be on a touched day and visible at `now`) belongs in the result.
    pub fn matches(&self, c: &SimConversation, now: DateTime<Utc>) -> bool {
        let lifetime_end = if c.live(now) { now } else { c.end() };
        // A zero-length conversation still occupies its start instant.
        let overlaps = c.conversation_start < self.end
            && (lifetime_end > self.start || c.conversation_start >= self.start);
        overlaps
            && self
                .conversation_filters
                .iter()
                .all(|f| eval_conv(f, c, now))
            && self
                .segment_filters
                .iter()
                .all(|f| any_segment(c, now, |ctx| eval_seg(f, ctx)))
    }
}

fn combine(kind: Option<&str>, mut results: impl Iterator<Item = bool>) -> bool {
    if kind == Some("or") {
        results.any(|b| b)
    } else {
        results.all(|b| b)
    }
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn pred(p: &Predicate, actual: Option<String>) -> bool {
    match p.operator.as_deref().unwrap_or("matches") {
        "exists" => actual.is_some(),
        "notExists" => actual.is_none(),
        _ => matches!((actual, &p.value), (Some(a), Some(v)) if eq(&a, v)),
    }
}

fn eval_conv(f: &Filter, c: &SimConversation, now: DateTime<Utc>) -> bool {
    let preds = f.predicates.iter().map(|p| {
        let actual = match p.dimension.as_deref().unwrap_or("") {
            "conversationEnd" => (!c.live(now)).then(|| c.end().to_rfc3339()),
            "conversationId" => Some(c.conversation_id.to_string()),
            "originatingDirection" => Some(c.originating_direction.to_string()),
            "divisionId" => Some(c.division_ids[0].to_string()),
            _ => None,
        };
        pred(p, actual)
    });
    let clauses = f.clauses.iter().map(|cl| eval_conv(cl, c, now));
    combine(f.kind.as_deref(), preds.chain(clauses))
}

struct SegCtx<'a> {
    participant: &'a SimParticipant,
    session: &'a SimSession,
    segment: &'a SimSegment,
}

fn any_segment(c: &SimConversation, now: DateTime<Utc>, f: impl Fn(&SegCtx) -> bool) -> bool {
    let view = c.view(now);
    view.participants.iter().any(|p| {
        p.sessions.iter().any(|s| {
            s.segments.iter().any(|g| {
                f(&SegCtx {
                    participant: p,
                    session: s,
                    segment: g,
                })
            })
        })
    })
}

fn eval_seg(f: &Filter, ctx: &SegCtx) -> bool {
    let preds = f.predicates.iter().map(|p| {
        let actual = match p.dimension.as_deref().unwrap_or("") {
            "mediaType" => Some(ctx.session.media_type.to_string()),
            "direction" => Some(ctx.session.direction.to_string()),
            "queueId" => ctx.segment.queue_id.map(|q| q.to_string()),
            "purpose" => Some(ctx.participant.purpose.to_string()),
            "userId" => ctx.participant.user_id.map(|u| u.to_string()),
            "segmentType" => Some(ctx.segment.segment_type.to_string()),
            "wrapUpCode" => ctx.segment.wrap_up_code.as_ref().map(|w| w.to_string()),
            "disconnectType" => ctx.segment.disconnect_type.map(str::to_string),
            "participantName" => ctx
                .participant
                .participant_name
                .as_ref()
                .map(|n| n.to_string()),
            _ => None,
        };
        pred(p, actual)
    });
    let clauses = f.clauses.iter().map(|cl| eval_seg(cl, ctx));
    combine(f.kind.as_deref(), preds.chain(clauses))
}
