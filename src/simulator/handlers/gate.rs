//! The middleware in front of every route: bearer token, rate-limit window, denied permissions, injected
//! faults (latency, 5xx, 429, broken bodies), the `inin-*` headers and the request log.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;

use super::auth::authenticate;
use super::error::{ApiError, Corr};
use crate::simulator::config::LoggedRequest;
use crate::simulator::faults::{FaultProfile, FaultTag, Injected, ReqFaults};
use crate::simulator::state::Shared;

/// Permissions a route needs, and whether any one of them suffices.
fn permissions(path: &str) -> Option<(&'static [&'static str], bool)> {
    if path == "/api/v2/analytics/conversations/details/jobs/availability" {
        Some((&["analytics:conversationDetail:view"], false))
    } else if path.starts_with("/api/v2/analytics/conversations/") {
        Some((
            &[
                "analytics:conversationDetail:view",
                "analytics:agentConversationDetail:view",
            ],
            true,
        ))
    } else if path.starts_with("/api/v2/conversations/") {
        Some((&["conversation:communication:view"], true))
    } else if path.starts_with("/api/v2/routing/wrapupcodes") {
        Some((&["routing:wrapupCode:view"], false))
    } else if path.starts_with("/api/v2/routing/queues") {
        Some((&["routing:queue:view"], false))
    } else if path.starts_with("/api/v2/users") {
        Some((&["directory:user:view"], false))
    } else {
        None
    }
}

fn too_many_requests(limit: u32, retry_after: u64) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too.many.requests",
        format!("Rate limit exceeded the maximum [{limit}] requests within [60] seconds"),
    );
    e.message_with_params =
        "Rate limit exceeded the maximum [{0}] requests within [{1}] seconds".into();
    e.params = json!({"0": limit.to_string(), "1": "60"});
    e.retry_after = Some(retry_after);
    e
}

fn injected_server_error(status: u16) -> ApiError {
    match status {
        502 => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "bad.gateway",
            "Bad Gateway - The server received an invalid response from an upstream server.",
        ),
        503 => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service.unavailable",
            "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance).",
        ),
        _ => ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "request.timeout",
            "The request timed out.",
        ),
    }
}

fn forbidden(perms: &[&str], any: bool) -> ApiError {
    let list = perms.join(", ");
    let (code, text) = if any {
        (
            "missing.any.permissions",
            "Unable to perform the requested action. You must have at least one of the following permissions assigned: ",
        )
    } else {
        (
            "missing.permissions",
            "Unable to perform the requested action. You are missing the following permission(s): ",
        )
    };
    let mut e = ApiError::new(StatusCode::FORBIDDEN, code, format!("{text}[{list}]"));
    e.message_with_params = format!("{text}{{0}}");
    e.params = json!({ "0": format!("[{list}]") });
    e
}

/// Extra latency the profile adds to this request.
fn latency(f: &FaultProfile, method: &str, path: &str) -> u64 {
    let mut ms = f.slow_ms;
    if method == "POST" && path == "/api/v2/analytics/conversations/details/query" {
        ms += f.slow_details_ms;
    }
    if method == "GET"
        && path
            .strip_prefix("/api/v2/conversations/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
    {
        ms += f.slow_lookup_ms;
    }
    ms
}

/// Rewrites a 200 into a broken one: cut short with a closed connection, or with truncated JSON.
async fn break_body(resp: Response, fault: Injected) -> Response {
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "body").into_response();
    };
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    match fault {
        Injected::DropConnection => {
            // Announce the whole body, send half, then fail the stream: hyper aborts the connection.
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            // The pause lets hyper flush the head and the first half before the stream fails;
            // failing at once would abort the connection before anything was written.
            let first = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(half) });
            let cut = futures::stream::once(async {
                tokio::time::sleep(StdDuration::from_millis(10)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "simulated dropped connection",
                ))
            });
            Response::from_parts(parts, Body::from_stream(first.chain(cut)))
        }
        _ => Response::from_parts(parts, Body::from(half)),
    }
}

/// The answer to an authenticated request, and what the gate reports about it.
struct Guarded {
    resp: Response,
    /// Replaces the token window's `(count, reset)` in the headers (an injected 429).
    counted: Option<(u32, u64)>,
    fault: Option<&'static str>,
    /// Forces the quota headers out (an injected 429).
    quota_headers: bool,
}

impl Guarded {
    fn plain(resp: Response) -> Guarded {
        Guarded {
            resp,
            counted: None,
            fault: None,
            quota_headers: false,
        }
    }
}

pub(crate) async fn gate(State(s): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    s.started.fetch_add(1, Ordering::SeqCst);
    let corr = Uuid::new_v4();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    req.extensions_mut().insert(Corr(corr));
    let limit = s.token_limit();
    let mut counted: Option<(u32, u64)> = None;
    let mut fault: Option<&'static str> = None;
    // Quota headers only when a quota is enforced (or a 429 is injected): without one, a client that
    // honours the headers would pause for a quota that does not exist.
    let mut quota_headers = s.cfg.enforce_rate_limit;
    let mut resp = if path.starts_with("/api/v2/") {
        match authenticate(&s, req.headers()) {
            Err(why) => {
                fault = why.fault();
                why.error().respond(corr)
            }
            Ok((count, reset)) => {
                let g = guarded(&s, req, next, corr, count, reset).await;
                counted = Some(g.counted.unwrap_or((count, reset)));
                fault = g.fault;
                quota_headers |= g.quota_headers;
                g.resp
            }
        }
    } else {
        next.run(req).await
    };
    if fault.is_none() {
        fault = resp.extensions().get::<FaultTag>().map(|t| t.0);
    }
    let (count, reset) = match counted {
        Some(c) => c,
        None => s
            .anonymous
            .lock()
            .expect("window")
            .hit(s.cfg.rate_window(), 0),
    };
    let h = resp.headers_mut();
    h.insert(
        "inin-correlation-id",
        HeaderValue::from_str(&corr.to_string()).expect("uuid header"),
    );
    if quota_headers {
        h.insert("inin-ratelimit-allowed", HeaderValue::from(limit));
        h.insert("inin-ratelimit-count", HeaderValue::from(count));
        h.insert("inin-ratelimit-reset", HeaderValue::from(reset));
    }
    s.log.lock().expect("log").push(LoggedRequest {
        at: Utc::now(),
        method,
        path,
        status: resp.status().as_u16(),
        fault,
    });
    resp
}

/// An authenticated request, `count`-th in its token's window: latency, then the real limits, then the
/// fault profile, then the handler.
async fn guarded(
    s: &Shared,
    mut req: Request,
    next: Next,
    corr: Uuid,
    count: u32,
    reset: u64,
) -> Guarded {
    let limit = s.token_limit();
    let (profile, n) = s.next_fault_draw();
    let delay = latency(&profile, req.method().as_str(), req.uri().path());
    if delay > 0 {
        tokio::time::sleep(StdDuration::from_millis(delay)).await;
    }
    let denied = permissions(req.uri().path()).and_then(|(perms, any)| {
        perms
            .iter()
            .any(|p| s.cfg.denied_permissions.iter().any(|d| d == p))
            .then_some((perms, any))
    });
    // Real limits and permissions come before injected faults, as they would upstream.
    if s.cfg.enforce_rate_limit && count > limit {
        return Guarded::plain(too_many_requests(limit, reset).respond(corr));
    }
    if let Some((perms, any)) = denied {
        return Guarded::plain(forbidden(perms, any).respond(corr));
    }
    let injected = profile.decide(n);
    let fault = injected.map(Injected::name);
    match injected {
        Some(Injected::ServerError(status)) => Guarded {
            fault,
            ..Guarded::plain(injected_server_error(status).respond(corr))
        },
        // Looks like another bucket tripped: over the limit, free again in 1 s.
        Some(Injected::TooManyRequests) => Guarded {
            resp: too_many_requests(limit, 1).respond(corr),
            counted: Some((limit.saturating_add(1), 1)),
            fault,
            quota_headers: true,
        },
        broken => {
            req.extensions_mut().insert(ReqFaults {
                profile: profile.clone(),
                n,
            });
            let resp = next.run(req).await;
            match broken {
                Some(b) if resp.status() == StatusCode::OK => Guarded {
                    fault,
                    ..Guarded::plain(break_body(resp, b).await)
                },
                // Only successful bodies are broken; anything else goes out intact.
                _ => Guarded::plain(resp),
            }
        }
    }
}
