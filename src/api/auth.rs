//! OAuth client credentials: fetching, caching and refreshing the access token.
//!
//! The secret and the token are held as `SecretString` and only exposed where a header is built.
//! Tokens are refreshed shortly before `expires_in` runs out; a 401 on an API call invalidates the
//! token that was used (not a newer one another task already fetched).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, Shared};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Mutex;
use tokio::time::Instant;

use crate::api::error::ApiError;
use crate::api::http::{read_body, status_error, transport_error};
use crate::api::retry::{RetryDecision, RetryPolicy};
use crate::api::stats::ApiStats;
use crate::api::wire::{OAuthError, TokenResponse};

/// Longest token lifetime believed, whatever `expires_in` says (Genesys issues at most 48 h).
const MAX_TOKEN_TTL_SECS: u64 = 7 * 24 * 3600;

/// Client-credentials pair. `Debug` never shows the secret.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Arc<SecretString>,
}

impl Credentials {
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Credentials {
        Credentials {
            client_id: client_id.into(),
            client_secret: Arc::new(SecretString::from(client_secret.into())),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// One access token and when to stop using it.
pub struct Token {
    value: SecretString,
    refresh_at: Instant,
    generation: u64,
}

impl Token {
    pub fn secret(&self) -> &str {
        self.value.expose_secret()
    }
}

/// A refresh in flight, shared by every request that needs a token meanwhile. It runs in its own
/// task, so it finishes even when the future that started it is never polled again.
type Refresh = Shared<BoxFuture<'static, Result<Arc<Token>, ApiError>>>;

enum Slot {
    Empty,
    Ready(Arc<Token>),
    Refreshing(Refresh),
}

/// The cached token. No lock is ever held across an await: a request future that takes the lock
/// and is then not polled (a page buffered behind a full channel) could otherwise hold it for good
/// and stop every other request (issue 14, the "futurelock").
pub struct TokenCache {
    inner: Arc<Inner>,
}

struct Inner {
    credentials: Credentials,
    token_url: String,
    slot: Mutex<Slot>,
    generation: std::sync::atomic::AtomicU64,
    stats: Arc<ApiStats>,
    retry: RetryPolicy,
    /// Per-attempt bound of a token request (connect, send and read together).
    timeout: Duration,
    max_body_bytes: u64,
}

/// A login host answers a token request quickly or not at all: each attempt gets at most this long.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Token requests retried at most this often (a hanging login host then fails in about 2 minutes).
pub const TOKEN_MAX_RETRIES: u32 = 3;

impl TokenCache {
    pub fn new(
        credentials: Credentials,
        login_base: String,
        stats: Arc<ApiStats>,
        retry: RetryPolicy,
    ) -> TokenCache {
        TokenCache {
            inner: Arc::new(Inner {
                credentials,
                token_url: format!("{login_base}/oauth/token"),
                slot: Mutex::new(Slot::Empty),
                generation: Default::default(),
                stats,
                retry: RetryPolicy {
                    max_retries: retry.max_retries.min(TOKEN_MAX_RETRIES),
                    ..retry
                },
                timeout: TOKEN_TIMEOUT,
                max_body_bytes: 64 << 20,
            }),
        }
    }

    /// Applies the run's request timeout (capped at [`TOKEN_TIMEOUT`]) and body limit; call it
    /// before the cache is used.
    pub fn with_limits(mut self, request_timeout: Duration, max_body_bytes: u64) -> TokenCache {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.timeout = request_timeout.min(TOKEN_TIMEOUT);
            inner.max_body_bytes = max_body_bytes;
        }
        self
    }

    /// `text` (anything a server sent) with the client secret, `token` and every credential-like
    /// value masked, cut to one short line.
    pub fn redact(&self, text: &str, token: Option<&Token>) -> String {
        self.inner.redact(text, token)
    }

    /// The current token, fetching a new one when none is cached or it is about to expire.
    /// Concurrent callers share one refresh.
    pub async fn token(&self, http: &reqwest::Client) -> Result<Arc<Token>, ApiError> {
        let refresh = {
            let mut slot = self.inner.slot.lock().expect("token lock");
            match &*slot {
                Slot::Ready(t) if Instant::now() < t.refresh_at => return Ok(t.clone()),
                Slot::Refreshing(r) => r.clone(),
                _ => {
                    let r = self.start_refresh(http.clone());
                    *slot = Slot::Refreshing(r.clone());
                    r
                }
            }
        };
        refresh.await
    }

    /// Spawns the token request; the task itself stores its outcome in the slot.
    fn start_refresh(&self, http: reqwest::Client) -> Refresh {
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            let result = inner.fetch(&http).await.map(Arc::new);
            let mut slot = inner.slot.lock().expect("token lock");
            *slot = match &result {
                Ok(t) => Slot::Ready(t.clone()),
                Err(_) => Slot::Empty,
            };
            result
        });
        let inner = self.inner.clone();
        async move {
            task.await.unwrap_or_else(|e| {
                *inner.slot.lock().expect("token lock") = Slot::Empty;
                Err(ApiError::Connect {
                    op: "token".into(),
                    detail: format!("the token request task ended: {e}"),
                })
            })
        }
        .boxed()
        .shared()
    }

    /// Forgets `used` if it is still the cached token.
    pub fn invalidate(&self, used: &Token) {
        let mut slot = self.inner.slot.lock().expect("token lock");
        if matches!(&*slot, Slot::Ready(t) if t.generation == used.generation) {
            *slot = Slot::Empty;
        }
    }
}

impl Inner {
    fn redact(&self, text: &str, token: Option<&Token>) -> String {
        let mut secrets = vec![self.credentials.client_secret.expose_secret()];
        secrets.extend(token.map(Token::secret));
        crate::api::redact::redact(text, &secrets)
    }

    async fn fetch(&self, http: &reqwest::Client) -> Result<Token, ApiError> {
        let mut failures = 0;
        loop {
            self.stats.token_requests.fetch_add(1, Ordering::Relaxed);
            let result = http
                .post(&self.token_url)
                .basic_auth(
                    &self.credentials.client_id,
                    Some(self.credentials.client_secret.expose_secret()),
                )
                .form(&[("grant_type", "client_credentials")])
                .timeout(self.timeout)
                .send()
                .await;
            let err = match result {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let clean = |text: &str| self.redact(text, None);
                    let bytes = read_body("token", resp, self.max_body_bytes).await?;
                    if status.is_success() {
                        let t: TokenResponse =
                            serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
                                op: "token".into(),
                                // serde may quote the token itself.
                                detail: clean(&e.to_string()),
                            })?;
                        // The server's number is not trusted for arithmetic: 0 or absurd values are clamped.
                        let ttl = Duration::from_secs(
                            t.expires_in.unwrap_or(3600).clamp(1, MAX_TOKEN_TTL_SECS),
                        );
                        // Refresh a minute early, or at 90 % of a very short lifetime.
                        let margin = Duration::from_secs(60).min(ttl / 10);
                        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
                        tracing::debug!(expires_in_s = ttl.as_secs(), "obtained an access token");
                        return Ok(Token {
                            value: SecretString::from(t.access_token),
                            refresh_at: Instant::now() + ttl - margin,
                            generation,
                        });
                    }
                    if matches!(status.as_u16(), 400 | 401 | 403) {
                        let body: OAuthError = serde_json::from_slice(&bytes).unwrap_or_default();
                        return Err(ApiError::Auth {
                            error: clean(
                                &body
                                    .error
                                    .unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
                            ),
                            description: clean(
                                &body
                                    .error_description
                                    .or(body.description)
                                    .unwrap_or_default(),
                            ),
                        });
                    }
                    status_error("token", status, &headers, &bytes, &clean)
                }
                Err(e) => transport_error("token", &e),
            };
            failures += 1;
            match self.retry.decide(failures, &err, true, 1.0) {
                RetryDecision::Retry(wait) => {
                    tracing::warn!(
                        wait_ms = wait.as_millis() as u64,
                        "token request failed, retrying: {err}"
                    );
                    tokio::time::sleep(wait).await;
                }
                _ => return Err(err),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::sync::{mpsc, Semaphore};

    use super::*;

    /// A login host whose token answers wait for a permit, and that reports each request it gets.
    async fn gated_login() -> (String, Arc<Semaphore>, mpsc::UnboundedReceiver<()>) {
        crate::api::install_tls_provider();
        let gate = Arc::new(Semaphore::new(0));
        let (seen, requests) = mpsc::unbounded_channel();
        let app = axum::Router::new().route(
            "/oauth/token",
            axum::routing::post({
                let gate = gate.clone();
                move || async move {
                    let _ = seen.send(());
                    gate.acquire().await.expect("gate open").forget();
                    axum::Json(serde_json::json!({"access_token": "t", "expires_in": 3600}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, gate, requests)
    }

    /// The futurelock of issue 14 in miniature: a request future asks for the token while a refresh
    /// runs and is then never polled again (as pages buffered behind a full channel are). Other
    /// callers must still get the token; with a lock held across the refresh, the lock went to the
    /// parked future and every later request waited forever.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_parked_waiter_does_not_block_other_requests() {
        let (base, gate, mut requests) = gated_login().await;
        let cache = Arc::new(TokenCache::new(
            Credentials::new("id", "secret"),
            base,
            Arc::new(ApiStats::default()),
            RetryPolicy::default(),
        ));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let first = tokio::spawn({
            let (cache, http) = (cache.clone(), http.clone());
            async move { cache.token(&http).await.map(|_| ()) }
        });
        requests
            .recv()
            .await
            .expect("the refresh reached the login host");
        let mut parked = Box::pin(cache.token(&http));
        assert!(futures::poll!(parked.as_mut()).is_pending());
        gate.add_permits(1);
        first.await.unwrap().unwrap();
        let later = tokio::time::timeout(Duration::from_secs(5), cache.token(&http)).await;
        assert!(later.expect("not blocked by the parked waiter").is_ok());
        assert!(requests.try_recv().is_err(), "one refresh served everyone");
        drop(parked);
    }

    /// A refresh finishes even when every future waiting for it is dropped.
    #[tokio::test]
    async fn a_refresh_completes_without_its_callers() {
        let (base, gate, mut requests) = gated_login().await;
        let cache = TokenCache::new(
            Credentials::new("id", "secret"),
            base,
            Arc::new(ApiStats::default()),
            RetryPolicy::default(),
        );
        let http = reqwest::Client::new();
        let mut abandoned = Box::pin(cache.token(&http));
        assert!(futures::poll!(abandoned.as_mut()).is_pending());
        drop(abandoned);
        let reached = tokio::time::timeout(Duration::from_secs(5), requests.recv()).await;
        assert!(reached.is_ok(), "the refresh went on without its caller");
        gate.add_permits(1);
        let t = tokio::time::timeout(Duration::from_secs(5), cache.token(&http)).await;
        assert!(t.expect("the refresh finished").is_ok());
        assert!(
            requests.try_recv().is_err(),
            "the abandoned refresh was reused"
        );
    }
}
