//! The analytics conversation details endpoints: `details/query` (with its paging noise), one record by
//! id, and several records by id.

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, Query as UrlQuery, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;

use super::error::{json_bytes, ApiError, Corr};
use crate::simulator::faults::{FaultTag, ReqFaults};
use crate::simulator::model::SimConversation;
use crate::simulator::query::{Query, QueryBody};
use crate::simulator::scenarios::Day;
use crate::simulator::state::Shared;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryResponse<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conversations: Vec<Cow<'a, SimConversation>>,
    total_hits: usize,
}

pub(crate) async fn details_query(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    Extension(rf): Extension<ReqFaults>,
    body: Bytes,
) -> Response {
    match query_page(&s, &rf, &body) {
        Ok((v, tag)) => {
            let mut resp = json_bytes(v);
            if let Some(t) = tag {
                resp.extensions_mut().insert(FaultTag(t));
            }
            resp
        }
        Err(e) => e.respond(corr.0),
    }
}

/// One page of `details/query`, with the profile's paging noise; the noise's name, if any, comes along.
fn query_page(
    s: &Shared,
    rf: &ReqFaults,
    raw: &[u8],
) -> Result<(Vec<u8>, Option<&'static str>), ApiError> {
    let mut tag = None;
    let body: QueryBody = serde_json::from_slice(raw).map_err(|e| {
        ApiError::bad_request(format!(
            "The request could not be understood by the server due to malformed syntax. ({e})"
        ))
    })?;
    let q = Query::validate(body, s.cfg.max_page_size, s.cfg.result_cap)
        .map_err(ApiError::bad_request)?;
    let now = s.now();
    let days: Vec<Arc<Day>> = q.days().into_iter().map(|d| s.day(d)).collect();
    let mut hits: Vec<&SimConversation> = days
        .iter()
        .flat_map(|d| d.conversations.iter())
        .filter(|c| c.visible(now) && q.matches(c, now))
        .collect();
    if q.by_end {
        hits.sort_by_key(|c| {
            (
                if c.live(now) {
                    DateTime::<Utc>::MAX_UTC
                } else {
                    c.end()
                },
                c.conversation_id,
            )
        });
    }
    if q.descending {
        hits.reverse();
    }
    let skip = ((q.page_number - 1) * q.page_size) as usize;
    // Repeated rows come in front of the page, which keeps every row of its own slot: like data
    // arriving while paging, the client sees duplicates but never loses a row.
    let mut first = skip;
    if q.page_number > 1 && skip < hits.len() {
        let mut rng = rf.rng(1);
        if rng.random_bool(rf.profile.repeat_rows_rate.clamp(0.0, 1.0)) {
            first = skip - rng.random_range(1..=3usize).min(skip);
            tag = Some("repeat_rows");
        }
    }
    let mut page: Vec<Cow<'_, SimConversation>> = hits
        .iter()
        .skip(first)
        .take(skip - first + q.page_size as usize)
        .map(|c| c.view(now))
        .collect();
    if page.len() > 1 && s.asked_pages.shorten_first_ask(&rf.profile, raw) {
        page.truncate(page.len() / 2);
        tag = Some("short_page");
    }
    let mut total_hits = hits.len();
    if rf.profile.drifting_total_hits && total_hits > 0 {
        let factor = 1.0 + rf.rng(2).random_range(-0.05..=0.05);
        total_hits = (total_hits as f64 * factor).round() as usize;
        tag = tag.or(Some("total_hits_drift"));
    }
    let out = QueryResponse {
        conversations: page,
        total_hits,
    };
    Ok((serde_json::to_vec(&out).expect("serialisable"), tag))
}

pub(crate) async fn details_one(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    Path(id): Path<String>,
) -> Response {
    match s.find(&id) {
        Some((day, ix)) => {
            let c = &day.conversations[ix];
            json_bytes(serde_json::to_vec(&c.view(s.now())).expect("serialisable"))
        }
        None => ApiError::not_found().respond(corr.0),
    }
}

/// `GET /api/v2/analytics/conversations/details?id=a,b,c`: the records that exist, in the order asked.
pub(crate) async fn details_many(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    UrlQuery(params): UrlQuery<Vec<(String, String)>>,
) -> Response {
    let ids: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k == "id")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if ids.is_empty() {
        return ApiError::bad_request("At least one conversation id is required").respond(corr.0);
    }
    let now = s.now();
    let found: Vec<(Arc<Day>, usize)> = ids.iter().filter_map(|id| s.find(id)).collect();
    let views: Vec<Cow<'_, SimConversation>> = found
        .iter()
        .map(|(d, ix)| d.conversations[*ix].view(now))
        .collect();
    json_bytes(
        serde_json::to_vec(&serde_json::json!({ "conversations": views })).expect("serialisable"),
    )
}
