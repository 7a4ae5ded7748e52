//! The Genesys Cloud HTTP client: one `reqwest::Client`, one limiter, one retry policy, one token.
//!
//! Only this module and `auth` speak HTTP to Genesys. Every request (paging, lookups, catalogs) first
//! awaits the shared [`Limiter`]; token requests go to the login host, which has its own quota, and are
//! not counted against the API's per-token rate. The access token is exposed at exactly one call site,
//! `bearer_auth` in `ApiClient::send`.

pub mod auth;
pub mod error;
mod http;
pub mod jobs;
pub mod pacing;
pub mod rate_limit;
pub mod redact;
pub mod retry;
mod stats;
pub mod wire;

/// The details query refuses `pageNumber × pageSize` beyond this many results.
pub const QUERY_RESULT_CAP: u64 = 100_000;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use error::ApiError;
pub use rate_limit::{Limiter, Pacing};
pub use retry::{RetryDecision, RetryPolicy};
pub use stats::{ApiStats, ApiStatsSnapshot};

use http::{header_u64, read_body, status_error, transport_error};

use crate::api::auth::{Credentials, TokenCache};
use wire::{Conversation, ConversationQuery, DetailsQueryResponse, EntityListing, NamedEntity};

/// The hosts a run talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// e.g. `https://api.mypurecloud.ie`, no trailing slash.
    pub api_base: String,
    /// e.g. `https://login.mypurecloud.ie`, no trailing slash.
    pub login_base: String,
}

/// Transport settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The hard ceiling; 0: none.
    pub requests_per_minute: u32,
    pub pacing: Pacing,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    /// Largest response body read; beyond it the request fails as unreadable.
    pub max_body_bytes: u64,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            requests_per_minute: 240,
            pacing: Pacing::Fixed,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            max_body_bytes: 64 << 20,
        }
    }
}

/// The client. Cheap to share behind an `Arc`.
pub struct ApiClient {
    http: reqwest::Client,
    endpoints: Endpoints,
    auth: TokenCache,
    limiter: Limiter,
    retry: RetryPolicy,
    stats: Arc<ApiStats>,
    max_body_bytes: u64,
}

/// Installs the TLS crypto provider once per process (reqwest is built without a default one so that
/// no C toolchain is needed for TLS).
pub fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl ApiClient {
    pub fn new(
        endpoints: Endpoints,
        credentials: Credentials,
        opts: &ClientOptions,
    ) -> anyhow::Result<ApiClient> {
        install_tls_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("wrapup-audit/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(opts.connect_timeout)
            .timeout(opts.request_timeout)
            .build()?;
        let stats = Arc::new(ApiStats::default());
        Ok(ApiClient {
            auth: TokenCache::new(
                credentials,
                endpoints.login_base.clone(),
                stats.clone(),
                opts.retry.clone(),
            )
            .with_limits(opts.request_timeout, opts.max_body_bytes),
            http,
            endpoints,
            limiter: Limiter::new(opts.requests_per_minute, opts.pacing),
            retry: opts.retry.clone(),
            stats,
            max_body_bytes: opts.max_body_bytes,
        })
    }

    pub fn stats(&self) -> ApiStatsSnapshot {
        self.stats.snapshot()
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Gets a token now, so that bad credentials fail before any other work.
    pub async fn authenticate(&self) -> Result<(), ApiError> {
        self.auth.token(&self.http).await.map(|_| ())
    }

    /// One page of `POST /api/v2/analytics/conversations/details/query`, owned.
    pub async fn details_query(
        &self,
        q: &ConversationQuery,
    ) -> Result<DetailsQueryResponse<'static>, ApiError> {
        self.details_query_with(q, |page| DetailsQueryResponse {
            conversations: page
                .conversations
                .into_iter()
                .map(wire::AnalyticsConversation::into_owned)
                .collect(),
            total_hits: page.total_hits,
        })
        .await
    }

    /// One page of the details query, handed to `reduce` while it borrows from the body, so its
    /// strings are not copied (issue 14); what `reduce` returns is the answer.
    pub async fn details_query_with<T>(
        &self,
        q: &ConversationQuery,
        mut reduce: impl FnMut(DetailsQueryResponse<'_>) -> T,
    ) -> Result<T, ApiError> {
        self.send_with(
            "details_query",
            Method::POST,
            "/api/v2/analytics/conversations/details/query",
            &[],
            Some(q),
            |body| decode_json(&body).map(&mut reduce),
        )
        .await
    }

    /// `GET /api/v2/analytics/conversations/{conversationId}/details`.
    pub async fn conversation_details(
        &self,
        id: &str,
    ) -> Result<wire::AnalyticsConversation<'static>, ApiError> {
        let path = format!(
            "/api/v2/analytics/conversations/{}/details",
            encode_segment(id)
        );
        self.send_with::<(), _>(
            "conversation_details",
            Method::GET,
            &path,
            &[],
            None,
            |body| decode_json(&body).map(wire::AnalyticsConversation::into_owned),
        )
        .await
    }

    /// `GET /api/v2/conversations/{conversationId}`.
    pub async fn conversation(&self, id: &str) -> Result<Conversation, ApiError> {
        let path = format!("/api/v2/conversations/{}", encode_segment(id));
        self.send::<(), _>("conversation", Method::GET, &path, &[], None)
            .await
    }

    /// Every entity of a paged listing such as `/api/v2/routing/wrapupcodes`.
    pub async fn list_all(
        &self,
        op: &'static str,
        path: &str,
        page_size: u32,
    ) -> Result<Vec<NamedEntity>, ApiError> {
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let query = [
                ("pageSize", page_size.to_string()),
                ("pageNumber", page.to_string()),
            ];
            let listing: EntityListing<NamedEntity> = self
                .send::<(), _>(op, Method::GET, path, &query, None)
                .await?;
            let n = listing.entities.len();
            out.extend(listing.entities);
            let last = match listing.page_count {
                Some(count) => page >= count,
                None => n < page_size as usize,
            };
            if last || n == 0 {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// One small page of a listing: used by `check` to prove a permission with one cheap call.
    pub async fn probe_list(&self, op: &'static str, path: &str) -> Result<(), ApiError> {
        let query = [
            ("pageSize", "1".to_string()),
            ("pageNumber", "1".to_string()),
        ];
        self.send::<(), EntityListing<NamedEntity>>(op, Method::GET, path, &query, None)
            .await
            .map(|_| ())
    }

    /// Sends one request with limiting, retries and re-authentication, and decodes the JSON answer.
    pub(crate) async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        self.send_with(op, method, path, query, body, |b| decode_json(&b))
            .await
    }

    /// [`Self::send`] with its own decoder, which may borrow from the body while it runs. An answer
    /// it cannot decode is retried like any unreadable answer.
    pub(crate) async fn send_with<B: Serialize, T>(
        &self,
        op: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
        mut decode: impl FnMut(Vec<u8>) -> serde_json::Result<T>,
    ) -> Result<T, ApiError> {
        let url = format!("{}{}", self.endpoints.api_base, path);
        let mut failures = 0u32;
        let mut reauthenticated = false;
        loop {
            let token = self.auth.token(&self.http).await?;
            let sent = self.limiter.ready().await;
            self.stats.count(op);
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(token.secret())
                .query(query);
            if let Some(b) = body {
                req = req.json(b);
            }
            let err = match req.send().await {
                Ok(resp) => match self.read(op, resp, &token, sent, &mut decode).await {
                    Ok(v) => return Ok(v),
                    Err(e) => e,
                },
                Err(e) => transport_error(op, &e),
            };
            match &err {
                ApiError::RateLimited { .. } => {
                    self.stats.rate_limited.fetch_add(1, Ordering::Relaxed)
                }
                ApiError::Status { status, .. } if *status >= 500 => {
                    self.stats.server_errors.fetch_add(1, Ordering::Relaxed)
                }
                ApiError::Timeout { .. } | ApiError::Connect { .. } => {
                    self.stats.transport_errors.fetch_add(1, Ordering::Relaxed)
                }
                _ => 0,
            };
            failures += 1;
            let jitter = rand::rng().random::<f64>();
            match self.retry.decide(failures, &err, reauthenticated, jitter) {
                RetryDecision::Retry(wait) => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        api.op = op,
                        http.status = err.status(),
                        wait_ms = wait.as_millis() as u64,
                        attempt = failures,
                        "retrying after: {err}"
                    );
                    if matches!(err, ApiError::RateLimited { .. }) {
                        // Everyone waits, not only this request: the quota is shared.
                        self.limiter.pause_for(wait);
                    }
                    tokio::time::sleep(wait).await;
                }
                RetryDecision::Reauthenticate => {
                    reauthenticated = true;
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(api.op = op, "token refused (401); fetching a new one");
                    self.auth.invalidate(&token);
                }
                RetryDecision::GiveUp => return Err(err),
            }
        }
    }

    async fn read<T>(
        &self,
        op: &'static str,
        resp: reqwest::Response,
        token: &crate::api::auth::Token,
        sent: tokio::time::Instant,
        decode: &mut impl FnMut(Vec<u8>) -> serde_json::Result<T>,
    ) -> Result<T, ApiError> {
        let status = resp.status();
        let headers = resp.headers().clone();
        self.limiter.observe(
            sent,
            header_u64(&headers, "inin-ratelimit-allowed"),
            header_u64(&headers, "inin-ratelimit-count"),
            header_u64(&headers, "inin-ratelimit-reset"),
        );
        let bytes = read_body(op, resp, self.max_body_bytes).await?;
        let clean = |text: &str| self.auth.redact(text, Some(token));
        if status.is_success() {
            // An empty success body (a 204 from a DELETE) decodes as JSON `null`, which `()` accepts
            // and every documented response struct still refuses.
            let body = if bytes.is_empty() {
                b"null".to_vec()
            } else {
                bytes
            };
            // serde quotes the offending value: it may be anything the server sent.
            return decode(body).map_err(|e| ApiError::Decode {
                op: op.to_string(),
                detail: clean(&e.to_string()),
            });
        }
        Err(status_error(op, status, &headers, &bytes, &clean))
    }
}

/// Decodes a JSON body. A body that is valid UTF-8 (any well-formed answer) is checked once, whole,
/// and read as `&str`, so serde_json does not validate every key and string again, which was about a
/// tenth of a run's CPU (issue 14). Any other body gets serde_json's own error, as before.
/// `T` may borrow from `body` (the detail records do).
pub fn decode_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> serde_json::Result<T> {
    match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    }
}

/// Percent-encodes a path segment so an id can never change the path.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;
    use reqwest::StatusCode;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode_segment("3b0c-AF_9"), "3b0c-AF_9");
        assert_eq!(encode_segment("../x y"), "..%2Fx%20y");
    }

    #[test]
    fn json_bodies_decode_as_serde_json_decodes_bytes() {
        type V = serde_json::Result<serde_json::Value>;
        let check = |body: &[u8]| {
            let (ours, theirs): (V, V) = (decode_json(body), serde_json::from_slice(body));
            match (ours, theirs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
        };
        check(r#"{"id":"a\"b\u00e9","name":"Zoë","n":[1,2.5,null,true]}"#.as_bytes());
        check(b"null");
        check(br#"{"id":"\ud800"}"#);
        check(b"{\"id\":\"\xff\"}");
        check(b"{\"id\":\"ok\"} \xff");
        check(br#"{"id":"a","#);
    }

    fn plain(s: &str) -> String {
        s.to_string()
    }

    #[test]
    fn error_bodies_map_to_variants() {
        let h = HeaderMap::new();
        let body = br#"{"message":"You are missing the following permission(s): analytics:conversationDetail:view","code":"missing.permissions","status":403}"#;
        match status_error("q", StatusCode::FORBIDDEN, &h, body, &plain) {
            ApiError::Forbidden { code, message, .. } => {
                assert_eq!(code, "missing.permissions");
                assert!(message.contains("analytics:conversationDetail:view"));
            }
            other => panic!("{other:?}"),
        }
        let mut h = HeaderMap::new();
        h.insert("inin-ratelimit-reset", "12".parse().unwrap());
        assert!(matches!(
            status_error("q", StatusCode::TOO_MANY_REQUESTS, &h, b"{}", &plain),
            ApiError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(12)
        ));
        h.insert("retry-after", "3".parse().unwrap());
        assert!(matches!(
            status_error("q", StatusCode::TOO_MANY_REQUESTS, &h, b"not json", &plain),
            ApiError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            status_error("q", StatusCode::BAD_GATEWAY, &h, b"", &plain),
            ApiError::Status { status: 502, .. }
        ));
    }
}
