//! OAuth client credentials: fetching, caching and refreshing the access token.
//!
//! The secret and the token are held as `SecretString` and only exposed where a header is built.
//! Tokens are refreshed shortly before `expires_in` runs out; a 401 on an API call invalidates the
//! token that was used (not a newer one another task already fetched).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::api::error::ApiError;
use crate::api::retry::{RetryDecision, RetryPolicy};
use crate::api::wire::{OAuthError, TokenResponse};
use crate::api::{transport_error, ApiStats};

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

pub struct TokenCache {
    credentials: Credentials,
    token_url: String,
    current: Mutex<Option<Arc<Token>>>,
    generation: std::sync::atomic::AtomicU64,
    stats: Arc<ApiStats>,
    retry: RetryPolicy,
}

impl TokenCache {
    pub fn new(
        credentials: Credentials,
        login_base: String,
        stats: Arc<ApiStats>,
        retry: RetryPolicy,
    ) -> TokenCache {
        TokenCache {
            credentials,
            token_url: format!("{login_base}/oauth/token"),
            current: Mutex::new(None),
            generation: Default::default(),
            stats,
            retry,
        }
    }

    /// The current token, fetching a new one when none is cached or it is about to expire.
    pub async fn token(&self, http: &reqwest::Client) -> Result<Arc<Token>, ApiError> {
        let mut guard = self.current.lock().await;
        if let Some(t) = guard.as_ref() {
            if Instant::now() < t.refresh_at {
                return Ok(t.clone());
            }
        }
        let fresh = Arc::new(self.fetch(http).await?);
        *guard = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forgets `used` if it is still the cached token.
    pub fn invalidate(&self, used: &Token) {
        if let Ok(mut guard) = self.current.try_lock() {
            if guard
                .as_ref()
                .is_some_and(|t| t.generation == used.generation)
            {
                *guard = None;
            }
        }
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
                .send()
                .await;
            let err = match result {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let bytes = resp
                        .bytes()
                        .await
                        .map_err(|e| transport_error("token", &e))?;
                    if status.is_success() {
                        let t: TokenResponse =
                            serde_json::from_slice(&bytes).map_err(|e| ApiError::Decode {
                                op: "token".into(),
                                detail: e.to_string(),
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
                            error: body
                                .error
                                .unwrap_or_else(|| format!("HTTP {}", status.as_u16())),
                            description: body
                                .error_description
                                .or(body.description)
                                .unwrap_or_default(),
                        });
                    }
                    crate::api::status_error("token", status, &headers, &bytes)
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
