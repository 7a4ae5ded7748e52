//! `ApiError`: every way a Genesys request can fail, as the decisions callers make on it.

use std::time::Duration;

/// A failed request. Variants are decisions (retry, re-authenticate, report), not dependency names.
/// Messages never contain tokens or secrets: they carry the platform's `code` and `message` only.
#[derive(Debug, Clone, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApiError {
    /// 400: the request is wrong and retrying will not help.
    #[error("{op}: bad request ({code}): {message}")]
    BadRequest {
        op: String,
        code: String,
        message: String,
    },
    /// 401 from an API call: the bearer token was refused.
    #[error("{op}: unauthorized ({code}): {message}")]
    Unauthorized {
        op: String,
        code: String,
        message: String,
    },
    /// 403: the OAuth client's roles lack a permission, or the entity is in another division.
    #[error("{op}: forbidden ({code}): {message}")]
    Forbidden {
        op: String,
        code: String,
        message: String,
    },
    /// 404 `not.found`.
    #[error("{op}: not found")]
    NotFound { op: String },
    /// 429 with the wait the server asked for, if any.
    #[error("{op}: rate limited by the API (429)")]
    RateLimited {
        op: String,
        retry_after: Option<Duration>,
    },
    /// Any other non-success status (5xx and unusual 4xx).
    #[error("{op}: HTTP {status} ({code})")]
    Status {
        op: String,
        status: u16,
        code: String,
    },
    /// The request or its response body timed out.
    #[error("{op}: timed out")]
    Timeout { op: String },
    /// The connection could not be made or broke mid-way.
    #[error("{op}: connection failed: {detail}")]
    Connect { op: String, detail: String },
    /// A success status whose body is not what the API documents.
    #[error("{op}: unreadable response: {detail}")]
    Decode { op: String, detail: String },
    /// The body was larger than `max_response_mb`; reading stopped there.
    #[error("{op}: unreadable response: body over the {limit_mb} MiB limit (max_response_mb)")]
    TooLarge { op: String, limit_mb: u64 },
    /// The token endpoint refused the client credentials.
    #[error("authentication failed ({error}): {description}")]
    Auth { error: String, description: String },
    /// Not the API's: a fetch could not write its rows to the local staging folder (jobs mode).
    #[error("{detail}")]
    Spill { detail: String },
    /// Not the API's: the run was stopped (signal, `max_runtime`) while this request or fetch waited.
    #[error("stopped before the request finished")]
    Cancelled,
}

impl ApiError {
    /// The HTTP status behind the error, where there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::BadRequest { .. } => Some(400),
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::NotFound { .. } => Some(404),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// A short reason for a report's `detail` column.
    pub fn short_reason(&self) -> String {
        match self {
            ApiError::NotFound { .. } => {
                "conversation not found (404): purged or never visible to this client".into()
            }
            ApiError::Forbidden { code, .. } => {
                format!("not permitted to read the conversation (403 {code})")
            }
            ApiError::RateLimited { .. } => "rate limited (429) until retries ran out".into(),
            ApiError::Status { status, .. } => format!("HTTP {status} until retries ran out"),
            ApiError::Timeout { .. } => "timed out until retries ran out".into(),
            ApiError::Connect { .. } => "connection failed until retries ran out".into(),
            ApiError::Decode { detail, .. } => format!("unreadable response: {detail}"),
            ApiError::TooLarge { limit_mb, .. } => {
                format!("unreadable response: over the {limit_mb} MiB limit")
            }
            ApiError::BadRequest { code, .. } => format!("bad request (400 {code})"),
            ApiError::Unauthorized { code, .. } => format!("unauthorized (401 {code})"),
            ApiError::Auth { error, .. } => format!("authentication failed ({error})"),
            ApiError::Spill { detail } => detail.clone(),
            ApiError::Cancelled => "stopped before the lookup finished".into(),
        }
    }

    /// True for failures that say something about the data (404, 403), not about the API's health.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ApiError::NotFound { .. } | ApiError::Forbidden { .. } | ApiError::BadRequest { .. }
        )
    }
}

/// The one place an API failure becomes an exit status: credentials and permissions are the
/// operator's to fix (exit 3), a full staging disk is an output problem (exit 5), a stop is an
/// interruption, everything else says the API was unavailable (exit 4).
impl From<&ApiError> for crate::exit::ExitStatus {
    fn from(e: &ApiError) -> Self {
        use crate::exit::ExitStatus;
        match e {
            ApiError::Auth { .. } | ApiError::Unauthorized { .. } | ApiError::Forbidden { .. } => {
                ExitStatus::Auth
            }
            ApiError::Spill { .. } => ExitStatus::Output,
            ApiError::Cancelled => ExitStatus::Interrupted,
            _ => ExitStatus::ApiUnavailable,
        }
    }
}

/// What a 401 that survived a fresh token means (not a missing role permission).
pub const UNAUTHORIZED_HINT: &str = " (the API refused a fresh token: the OAuth client may have been deleted or disabled, its secret rotated, or the token issued for another region)";
