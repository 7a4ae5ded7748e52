//! The HTTP face of the simulator: routes, authentication, rate-limit headers, error bodies, request log.
//!
//! Every `/api/v2/*` request passes the [`gate`] middleware, which checks the bearer token, counts the request
//! against the token's 60-second window, enforces the configured denied permissions, stamps the
//! `inin-*` headers and records the request. Real limits (429, 403) come first; then the fault profile may
//! answer instead of the handler (5xx, 429) or break the handler's 200 (dropped connection, truncated JSON).
//! Handlers only produce the payloads, plus the paging noise of `details/query`.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration as StdDuration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query as UrlQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use futures::StreamExt;
use rand::{Rng, RngCore};
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::faults::{FaultProfile, FaultTag, Injected, ReqFaults};
use super::jobs::{self, Jobs};
use super::model::{fmt_ts, LookupOutcome, SimConversation};
use super::org::{self, Day, Org};
use super::query::{Query, QueryBody};
use super::{LoggedRequest, SimConfig};

/// How many generated days stay cached (a 7-day query plus some slack).
const DAY_CACHE: usize = 10;
const WINDOW: StdDuration = StdDuration::from_secs(60);

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    count: u32,
}

impl Window {
    fn new() -> Window {
        Window {
            started: Instant::now(),
            count: 0,
        }
    }

    /// Counts one request; returns (count, seconds to reset).
    fn hit(&mut self) -> (u32, u64) {
        let now = Instant::now();
        if now.duration_since(self.started) >= WINDOW {
            self.started = now;
            self.count = 0;
        }
        self.count += 1;
        let left = WINDOW.saturating_sub(now.duration_since(self.started));
        (self.count, left.as_secs_f64().ceil().max(1.0) as u64)
    }
}

pub(crate) struct TokenState {
    expires: Instant,
    /// Issued under a fault profile's TTL override.
    shortened: bool,
    window: Window,
}

#[derive(Default)]
struct DayCache {
    map: HashMap<NaiveDate, Arc<Day>>,
    order: VecDeque<NaiveDate>,
}

/// State shared by the server task and every [`super::SimHandle`].
pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub org: Org,
    anchored: Vec<SimConversation>,
    now: RwLock<DateTime<Utc>>,
    days: Mutex<DayCache>,
    pub(crate) tokens: Mutex<HashMap<String, TokenState>>,
    anonymous: Mutex<Window>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub jobs: Jobs,
    faults: RwLock<Arc<FaultProfile>>,
    /// Authenticated `/api/v2/*` requests since the fault profile was installed.
    fault_counter: AtomicU64,
    /// Every request on arrival (the log has them only once answered): tests wait on a hung one.
    pub(crate) started: AtomicU64,
    pub(crate) asked_pages: super::faults::AskedPages,
}

impl Shared {
    pub fn new(cfg: SimConfig) -> Shared {
        let org = Org::generate(cfg.seed, cfg.queues, cfg.agents, cfg.wrapup_codes);
        let anchored = org::generate_anchored(&org, cfg.now);
        Shared {
            now: RwLock::new(cfg.now),
            org,
            anchored,
            days: Mutex::new(DayCache::default()),
            tokens: Mutex::new(HashMap::new()),
            anonymous: Mutex::new(Window::new()),
            log: Mutex::new(Vec::new()),
            jobs: Jobs::default(),
            faults: RwLock::new(Arc::new(cfg.faults.clone())),
            fault_counter: AtomicU64::new(0),
            started: AtomicU64::new(0),
            asked_pages: Default::default(),
            cfg,
        }
    }

    pub fn faults(&self) -> Arc<FaultProfile> {
        self.faults.read().expect("faults lock").clone()
    }

    /// Installs a profile and restarts its request numbering, so its fault sequence is reproducible.
    pub fn set_faults(&self, f: FaultProfile) {
        let mut slot = self.faults.write().expect("faults lock");
        *slot = Arc::new(f);
        self.fault_counter.store(0, Ordering::SeqCst);
        self.asked_pages.clear();
    }

    /// The profile in force and this request's number under it.
    fn next_fault_draw(&self) -> (Arc<FaultProfile>, u64) {
        let slot = self.faults.read().expect("faults lock");
        (
            slot.clone(),
            self.fault_counter.fetch_add(1, Ordering::SeqCst),
        )
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.now.read().expect("clock lock")
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        *self.now.write().expect("clock lock") = now;
    }

    /// The conversations of one UTC day, generated on first use.
    pub fn day(&self, d: NaiveDate) -> Arc<Day> {
        if let Some(day) = self.days.lock().expect("day cache").map.get(&d) {
            return day.clone();
        }
        // Generate outside the lock so other days stay available meanwhile.
        let day = Arc::new(org::generate_day(
            &self.org,
            self.cfg.conversations_per_day,
            self.cfg.timezone,
            d,
            &self.anchored,
        ));
        let mut cache = self.days.lock().expect("day cache");
        let cache = &mut *cache;
        if let std::collections::hash_map::Entry::Vacant(slot) = cache.map.entry(d) {
            slot.insert(day.clone());
            cache.order.push_back(d);
            while cache.order.len() > DAY_CACHE {
                if let Some(old) = cache.order.pop_front() {
                    cache.map.remove(&old);
                }
            }
        }
        day
    }

    /// The conversation with this id, if it is visible at the current clock.
    pub fn find(&self, id: &str) -> Option<(Arc<Day>, usize)> {
        let id: Uuid = id.parse().ok()?;
        let d = org::day_of_id(self.org.seed, id)?;
        if d > self.now().date_naive() {
            return None;
        }
        let day = self.day(d);
        let ix = *day.index.get(&id)?;
        day.conversations[ix]
            .visible(self.now())
            .then_some((day, ix))
    }

    fn token_limit(&self) -> u32 {
        self.cfg.rate_limit_per_minute
    }
}

/// A platform `ErrorBody`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    message_with_params: String,
    params: Value,
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> ApiError {
        let message = message.into();
        ApiError {
            status,
            code,
            message_with_params: message.clone(),
            message,
            params: json!({}),
            retry_after: None,
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad.request", message)
    }

    pub(crate) fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not.found",
            "The requested resource was not found.",
        )
    }

    pub(crate) fn respond(self, corr: Uuid) -> Response {
        let body = json!({
            "message": self.message,
            "code": self.code,
            "status": self.status.as_u16(),
            "messageWithParams": self.message_with_params,
            "messageParams": self.params,
            "contextId": corr,
            "details": [],
            "errors": [],
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

/// The correlation id of the current request, shared by the header and any error body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Corr(pub Uuid);

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/oauth/token", post(token))
        .route(
            "/api/v2/analytics/conversations/details/query",
            post(details_query),
        )
        .route(
            "/api/v2/analytics/conversations/{id}/details",
            get(details_one),
        )
        .route("/api/v2/analytics/conversations/details", get(details_many))
        .route(
            "/api/v2/analytics/conversations/details/jobs",
            post(jobs::submit),
        )
        .route(
            "/api/v2/analytics/conversations/details/jobs/availability",
            get(jobs::availability),
        )
        .route(
            "/api/v2/analytics/conversations/details/jobs/{job_id}",
            get(jobs::status).delete(jobs::cancel),
        )
        .route(
            "/api/v2/analytics/conversations/details/jobs/{job_id}/results",
            get(jobs::results),
        )
        .route("/api/v2/conversations/{id}", get(conversation))
        .route("/api/v2/routing/wrapupcodes", get(wrapup_codes))
        .route("/api/v2/routing/queues", get(queues))
        .route("/api/v2/users", get(users))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

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

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy)]
enum AuthFailure {
    Missing,
    Unknown,
    /// `shortened`: the token was issued under a fault profile's TTL override.
    Expired {
        shortened: bool,
    },
}

impl AuthFailure {
    fn error(self) -> ApiError {
        let (code, message) = match self {
            AuthFailure::Missing => (
                "authentication.required",
                "No authentication bearer token specified in authorization header.",
            ),
            AuthFailure::Unknown => ("bad.credentials", "Invalid login credentials."),
            AuthFailure::Expired { .. } => (
                "credentials.expired",
                "The supplied credentials are expired and cannot be used.",
            ),
        };
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    fn fault(self) -> Option<&'static str> {
        matches!(self, AuthFailure::Expired { shortened: true }).then_some("token_ttl")
    }
}

/// Checks the bearer token and counts the request in the token's window: `(count, seconds to reset)`.
fn authenticate(s: &Shared, headers: &HeaderMap) -> Result<(u32, u64), AuthFailure> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let token = match auth.and_then(|a| {
        a.strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("bearer "))
    }) {
        Some(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => return Err(AuthFailure::Missing),
    };
    let mut tokens = s.tokens.lock().expect("tokens");
    let Some(state) = tokens.get_mut(&token) else {
        return Err(AuthFailure::Unknown);
    };
    if Instant::now() >= state.expires {
        return Err(AuthFailure::Expired {
            shortened: state.shortened,
        });
    }
    Ok(state.window.hit())
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

async fn gate(State(s): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
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
                counted = Some((count, reset));
                let (profile, n) = s.next_fault_draw();
                let delay = latency(&profile, &method, &path);
                if delay > 0 {
                    tokio::time::sleep(StdDuration::from_millis(delay)).await;
                }
                let denied = permissions(&path).and_then(|(perms, any)| {
                    perms
                        .iter()
                        .any(|p| s.cfg.denied_permissions.iter().any(|d| d == p))
                        .then_some((perms, any))
                });
                // Real limits and permissions come before injected faults, as they would upstream.
                if s.cfg.enforce_rate_limit && count > limit {
                    too_many_requests(limit, reset).respond(corr)
                } else if let Some((perms, any)) = denied {
                    forbidden(perms, any).respond(corr)
                } else {
                    let injected = profile.decide(n);
                    fault = injected.map(Injected::name);
                    match injected {
                        Some(Injected::ServerError(status)) => {
                            injected_server_error(status).respond(corr)
                        }
                        Some(Injected::TooManyRequests) => {
                            // Looks like another bucket tripped: over the limit, free again in 1 s.
                            counted = Some((limit.saturating_add(1), 1));
                            quota_headers = true;
                            too_many_requests(limit, 1).respond(corr)
                        }
                        broken => {
                            req.extensions_mut().insert(ReqFaults {
                                profile: profile.clone(),
                                n,
                            });
                            let resp = next.run(req).await;
                            match broken {
                                Some(b) if resp.status() == StatusCode::OK => {
                                    break_body(resp, b).await
                                }
                                Some(_) => {
                                    // Only successful bodies are broken; anything else goes out intact.
                                    fault = None;
                                    resp
                                }
                                None => resp,
                            }
                        }
                    }
                }
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
        None => s.anonymous.lock().expect("window").hit(),
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

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(
            json!({ "error": error, "description": description, "error_description": description }),
        ),
    )
        .into_response()
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let slow = s.faults().slow_token_ms;
    if slow > 0 {
        tokio::time::sleep(StdDuration::from_millis(slow)).await;
    }
    let creds = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = creds.as_deref().and_then(|c| c.split_once(':')) else {
        return oauth_error("invalid_client", "client not found");
    };
    if id != s.cfg.client_id {
        return oauth_error("invalid_client", "client not found");
    }
    if secret != s.cfg.client_secret {
        return oauth_error("invalid_client", "authentication failed");
    }
    let form = String::from_utf8_lossy(&body);
    let grant = form
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "grant_type")
        .map(|(_, v)| v.to_string());
    if grant.as_deref() != Some("client_credentials") {
        return oauth_error("unsupported_grant_type", "grant type not supported");
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let ttl = s.cfg.token_ttl_secs;
    let shortened = s.faults().token_ttl_override_secs;
    s.tokens.lock().expect("tokens").insert(
        token.clone(),
        TokenState {
            expires: Instant::now() + StdDuration::from_secs(shortened.unwrap_or(ttl)),
            shortened: shortened.is_some(),
            window: Window::new(),
        },
    );
    axum::Json(json!({ "access_token": token, "token_type": "bearer", "expires_in": ttl }))
        .into_response()
}

async fn not_found(Extension(corr): Extension<Corr>) -> Response {
    ApiError::not_found().respond(corr.0)
}

async fn method_not_allowed(Extension(corr): Extension<Corr>) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method.not.allowed",
        "HTTP method not allowed for this resource.",
    )
    .respond(corr.0)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryResponse<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    conversations: Vec<Cow<'a, SimConversation>>,
    total_hits: usize,
}

pub(crate) fn json_bytes(v: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v).into_response()
}

async fn details_query(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    Extension(rf): Extension<ReqFaults>,
    body: Bytes,
) -> Response {
    let mut tag = None;
    let raw: &[u8] = &body;
    let result = (|| {
        let body: QueryBody = serde_json::from_slice(&body).map_err(|e| {
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
        Ok::<_, ApiError>(serde_json::to_vec(&out).expect("serialisable"))
    })();
    match result {
        Ok(v) => {
            let mut resp = json_bytes(v);
            if let Some(t) = tag {
                resp.extensions_mut().insert(FaultTag(t));
            }
            resp
        }
        Err(e) => e.respond(corr.0),
    }
}

async fn details_one(
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
async fn details_many(
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

async fn conversation(
    State(s): State<Arc<Shared>>,
    Extension(corr): Extension<Corr>,
    Path(id): Path<String>,
) -> Response {
    let Some((day, ix)) = s.find(&id) else {
        return ApiError::not_found().respond(corr.0);
    };
    let c = &day.conversations[ix];
    match c.meta.lookup {
        LookupOutcome::Purged => ApiError::not_found().respond(corr.0),
        LookupOutcome::OtherDivision => ApiError::new(
            StatusCode::FORBIDDEN,
            "not.authorized",
            "You are not authorized to perform the requested action.",
        )
        .respond(corr.0),
        LookupOutcome::Normal => {
            let v = c.conversation_api_json(s.now(), &|id| s.org.name_of(id));
            axum::Json(v).into_response()
        }
    }
}

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

async fn wrapup_codes(
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

async fn queues(
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

async fn users(
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
