//! The asynchronous conversation details jobs API (`/api/v2/analytics/conversations/details/jobs`).
//!
//! A job's lifecycle is driven by how often its status is polled, not by wall time, so tests need no
//! sleeps: the first poll answers `QUEUED`, the next [`SimConfig::job_polls_to_fulfil`]` - 1` polls
//! `PENDING`, and the one after that `FULFILLED` (or `FAILED` for the first
//! [`SimConfig::fail_jobs_first`] jobs). The result set is fixed at the fulfilling poll and paged with an
//! opaque cursor. Unlike `details/query`, a job matches every conversation whose lifetime overlaps the
//! interval unless `startOfDayIntervalMatching` is set, and its records carry participant `attributes`.
//!
//! [`SimConfig::job_polls_to_fulfil`]: crate::simulator::config::SimConfig::job_polls_to_fulfil
//! [`SimConfig::fail_jobs_first`]: crate::simulator::config::SimConfig::fail_jobs_first

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query as UrlQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::{json_bytes, ApiError, Corr};
use crate::simulator::job_store::{Job, JobState, Results};
use crate::simulator::model::{fmt_ts, JobRecord};
use crate::simulator::query::{JobBody, Query};
use crate::simulator::scenarios::Day;
use crate::simulator::state::Shared;

/// Default and maximum `pageSize` of the results endpoint.
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;
/// Not documented; results of a job stay readable this long after submission.
const RETENTION_DAYS: i64 = 7;
const FAILURE_MESSAGE: &str = "Job failed due to an internal error";

fn data_availability(s: &Shared) -> DateTime<Utc> {
    s.now() - Duration::minutes(i64::from(s.cfg.data_lake_lag_minutes))
}

/// Every visible conversation the job matches, in the requested order.
fn collect(s: &Shared, job: &Job) -> Results {
    let q = &job.query;
    let now = s.now();
    let day_start = q
        .start
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc();
    // Overlap matching also reaches conversations that started the day before and ran past midnight.
    let mut d = if job.start_of_day {
        q.start.date_naive()
    } else {
        q.start.date_naive().pred_opt().expect("date in range")
    };
    let last = (q.end - Duration::milliseconds(1))
        .date_naive()
        .min(now.date_naive());
    let mut rows = Vec::new();
    while d <= last {
        let day = s.day(d);
        for (ix, c) in day.conversations.iter().enumerate() {
            if c.visible(now)
                && (!job.start_of_day || c.conversation_start >= day_start)
                && q.matches(c, now)
            {
                rows.push((day.clone(), ix));
            }
        }
        d = d.succ_opt().expect("date in range");
    }
    let key = |(day, ix): &(Arc<Day>, usize)| {
        let c = &day.conversations[*ix];
        let t = if !q.by_end {
            c.conversation_start
        } else if c.live(now) {
            DateTime::<Utc>::MAX_UTC
        } else {
            c.end()
        };
        (t, c.conversation_id)
    };
    rows.sort_by_key(key);
    if q.descending {
        rows.reverse();
    }
    if let Some(limit) = job.limit {
        rows.truncate(limit);
    }
    Results { as_of: now, rows }
}

fn status_json(job: &Job) -> Value {
    let mut o = serde_json::Map::new();
    o.insert("state".into(), json!(job.state.as_str()));
    if job.state == JobState::Failed {
        o.insert("errorMessage".into(), json!(FAILURE_MESSAGE));
    }
    o.insert("submissionDate".into(), json!(fmt_ts(&job.submitted)));
    if let Some(c) = job.completed {
        o.insert("completionDate".into(), json!(fmt_ts(&c)));
    }
    o.insert(
        "expirationDate".into(),
        json!(fmt_ts(&(job.submitted + Duration::days(RETENTION_DAYS)))),
    );
    Value::Object(o)
}

fn unknown_job(corr: Corr) -> Response {
    ApiError::not_found().respond(corr.0)
}

pub(crate) async fn submit(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<JobBody>(&body)
        .map_err(|e| {
            format!(
                "The request could not be understood by the server due to malformed syntax. ({e})"
            )
        })
        .and_then(Query::validate_job);
    let (query, start_of_day, limit) = match parsed {
        Ok(p) => p,
        Err(m) => return ApiError::bad_request(m).respond(corr.0),
    };
    let n = s.jobs.submitted.fetch_add(1, Ordering::SeqCst);
    let id = Uuid::new_v4();
    let job = Job {
        query,
        start_of_day,
        limit,
        will_fail: n < s.cfg.fail_jobs_first,
        polls: 0,
        state: JobState::Queued,
        submitted: s.now(),
        completed: None,
        results: None,
    };
    s.jobs.map.lock().expect("jobs").insert(id, job);
    (StatusCode::ACCEPTED, axum::Json(json!({ "jobId": id }))).into_response()
}

/// `GET …/jobs/{jobId}`: each poll of an unfinished job moves it one step along its lifecycle.
pub(crate) async fn status(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return unknown_job(corr);
    };
    let mut map = s.jobs.map.lock().expect("jobs");
    let Some(job) = map.get_mut(&id) else {
        return unknown_job(corr);
    };
    if !job.state.finished() {
        job.polls += 1;
        job.state = if job.polls > s.cfg.job_polls_to_fulfil {
            if job.will_fail {
                JobState::Failed
            } else {
                job.results = Some(Arc::new(collect(&s, job)));
                JobState::Fulfilled
            }
        } else if job.polls == 1 {
            JobState::Queued
        } else {
            JobState::Pending
        };
        if job.state.finished() {
            job.completed = Some(s.now());
        }
    }
    axum::Json(status_json(job)).into_response()
}

/// `DELETE …/jobs/{jobId}`: cancels the job (whatever its state) and drops its results.
pub(crate) async fn cancel(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return unknown_job(corr);
    };
    let mut map = s.jobs.map.lock().expect("jobs");
    let Some(job) = map.get_mut(&id) else {
        return unknown_job(corr);
    };
    job.state = JobState::Cancelled;
    job.results = None;
    StatusCode::NO_CONTENT.into_response()
}

pub(crate) async fn availability(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(json!({ "dataAvailabilityDate": fmt_ts(&data_availability(&s)) })).into_response()
}

fn encode_cursor(id: Uuid, offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{id}:{offset}"))
}

fn decode_cursor(id: Uuid, cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (job, offset) = text.split_once(':')?;
    (job == id.to_string()).then_some(())?;
    offset.parse().ok()
}

/// `GET …/jobs/{jobId}/results?cursor=&pageSize=`.
pub(crate) async fn results(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    Path(id): Path<String>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
) -> Response {
    let Ok(id) = id.parse::<Uuid>() else {
        return unknown_job(corr);
    };
    let found = {
        let map = s.jobs.map.lock().expect("jobs");
        map.get(&id).map(|j| (j.state, j.results.clone()))
    };
    let results = match found {
        None => return unknown_job(corr),
        Some((JobState::Fulfilled, Some(r))) => r,
        Some((state, _)) => {
            return ApiError::bad_request(format!(
                "Results are not available for job [{id}] in state [{}]",
                state.as_str()
            ))
            .respond(corr.0)
        }
    };
    let size = match params.get("pageSize") {
        None => DEFAULT_PAGE_SIZE,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return ApiError::bad_request(format!(
                    "Value [{v}] is not valid for field [pageSize]: must be between 1 and {MAX_PAGE_SIZE}"
                ))
                .respond(corr.0)
            }
        },
    };
    let offset = match params.get("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => match decode_cursor(id, c) {
            Some(o) => o,
            None => return ApiError::bad_request(format!("Invalid cursor [{c}]")).respond(corr.0),
        },
    };
    let total = results.rows.len();
    let cap = usize::try_from(s.cfg.job_result_cap).unwrap_or(usize::MAX);
    // Past the cap the job refuses to page on; the client has to split its interval.
    if total > cap && offset >= cap {
        return ApiError::bad_request(format!("Pagination may not exceed {cap} results."))
            .respond(corr.0);
    }
    let mut end = offset.saturating_add(size).min(total);
    if total > cap {
        end = end.min(cap);
    }
    let views: Vec<_> = results
        .rows
        .get(offset.min(total)..end)
        .unwrap_or_default()
        .iter()
        .map(|(day, ix)| day.conversations[*ix].view(results.as_of))
        .collect();
    let page = ResultsPage {
        conversations: views.iter().map(|c| JobRecord::from(&**c)).collect(),
        cursor: (end < total).then(|| encode_cursor(id, end)),
        data_availability_date: fmt_ts(&data_availability(&s)),
    };
    json_bytes(serde_json::to_vec(&page).expect("serialisable"))
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultsPage<'a> {
    conversations: Vec<JobRecord<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<String>,
    data_availability_date: String,
}
