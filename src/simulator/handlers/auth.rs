//! OAuth client credentials (`POST /oauth/token`) and the bearer-token check of every API request.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use rand::RngCore;
use serde_json::json;

use super::error::ApiError;
use crate::simulator::state::{Shared, TokenState, Window};

/// Why a bearer token was refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AuthFailure {
    Missing,
    Unknown,
    /// `shortened`: the token was issued under a fault profile's TTL override.
    Expired {
        shortened: bool,
    },
}

impl AuthFailure {
    pub(crate) fn error(self) -> ApiError {
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

    pub(crate) fn fault(self) -> Option<&'static str> {
        matches!(self, AuthFailure::Expired { shortened: true }).then_some("token_ttl")
    }
}

/// Checks the bearer token and counts the request in the token's window: `(count, seconds to reset)`.
pub(crate) fn authenticate(s: &Shared, headers: &HeaderMap) -> Result<(u32, u64), AuthFailure> {
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
    Ok(state
        .window
        .hit(s.cfg.rate_window(), s.cfg.other_integration_per_minute))
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

pub(crate) async fn token(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
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
