//! The paged entity listings: wrap-up codes, queues and users.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Extension, Query as UrlQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::{ApiError, Corr};
use crate::simulator::model::fmt_ts;
use crate::simulator::state::Shared;

/// Parses `pageSize`/`pageNumber` and slices a listing in the platform's entity-listing shape.
fn listing(
    params: &HashMap<String, String>,
    base: &str,
    entities: Vec<Value>,
    max_page_size: u64,
) -> Result<Value, ApiError> {
    let num = |k: &str, default: u64| -> Result<u64, ApiError> {
        match params.get(k) {
            None => Ok(default),
            Some(v) => v.parse::<u64>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                ApiError::bad_request(format!("Value [{v}] is not valid for field [{k}]"))
            }),
        }
    };
    let size = num("pageSize", 25)?;
    let number = num("pageNumber", 1)?;
    if size > max_page_size {
        return Err(ApiError::bad_request(format!(
            "pageSize may not exceed {max_page_size}"
        )));
    }
    let total = entities.len() as u64;
    let page_count = total.div_ceil(size).max(1);
    let uri = |n: u64| format!("{base}?pageSize={size}&pageNumber={n}");
    let page: Vec<Value> = entities
        .into_iter()
        .skip(((number - 1) * size) as usize)
        .take(size as usize)
        .collect();
    let mut o = serde_json::Map::new();
    o.insert("entities".into(), Value::Array(page));
    o.insert("pageSize".into(), json!(size));
    o.insert("pageNumber".into(), json!(number));
    o.insert("total".into(), json!(total));
    o.insert("pageCount".into(), json!(page_count));
    o.insert("firstUri".into(), json!(uri(1)));
    o.insert("selfUri".into(), json!(uri(number)));
    o.insert("lastUri".into(), json!(uri(page_count)));
    if number < page_count {
        o.insert("nextUri".into(), json!(uri(number + 1)));
    }
    if number > 1 {
        o.insert("previousUri".into(), json!(uri(number - 1)));
    }
    Ok(Value::Object(o))
}

fn division(s: &Shared) -> Value {
    let id = s.org.home_division;
    json!({ "id": id, "name": "Home", "selfUri": format!("/api/v2/authorization/divisions/{id}") })
}

fn respond_listing(r: Result<Value, ApiError>, corr: Corr) -> Response {
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.respond(corr.0),
    }
}

pub(crate) async fn wrapup_codes(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
) -> Response {
    let base = "/api/v2/routing/wrapupcodes";
    let entities = s
        .org
        .codes
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "division": division(&s),
                "dateCreated": fmt_ts(&c.date_created),
                "selfUri": format!("{base}/{}", c.id),
            })
        })
        .collect();
    respond_listing(listing(&params, base, entities, 500), corr)
}

pub(crate) async fn queues(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
) -> Response {
    let base = "/api/v2/routing/queues";
    let mut qs: Vec<_> = s.org.queues.iter().collect();
    qs.sort_by(|a, b| a.name.cmp(&b.name));
    let entities = qs
        .into_iter()
        .map(|q| {
            let mut acw = json!({ "wrapupPrompt": q.acw_prompt });
            if let Some(t) = q.acw_timeout_ms {
                acw["timeoutMs"] = json!(t);
            }
            json!({ "id": q.id, "name": q.name, "division": division(&s), "acwSettings": acw, "selfUri": format!("{base}/{}", q.id) })
        })
        .collect();
    respond_listing(listing(&params, base, entities, 500), corr)
}

pub(crate) async fn users(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    UrlQuery(params): UrlQuery<HashMap<String, String>>,
) -> Response {
    let base = "/api/v2/users";
    let entities = s
        .org
        .agents
        .iter()
        .map(|a| {
            json!({
                "id": a.id,
                "name": a.name,
                "email": a.email,
                "state": "active",
                "division": division(&s),
                "selfUri": format!("{base}/{}", a.id),
            })
        })
        .collect();
    respond_listing(listing(&params, base, entities, 500), corr)
}
