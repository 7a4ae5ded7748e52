//! Response plumbing shared by the client and the token cache: bounded bodies, and the errors of
//! a failed transport or a non-success status.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use super::error::ApiError;
use super::wire::ErrorBody;

/// Reads a body chunk by chunk, failing as soon as it passes `limit` bytes (never buffered whole).
pub(crate) async fn read_body(
    op: &str,
    mut resp: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, ApiError> {
    let too_large = || ApiError::TooLarge {
        op: op.to_string(),
        limit_mb: limit.div_ceil(1 << 20),
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| transport_error(op, &e))? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

pub(crate) fn header_u64(h: &HeaderMap, name: &str) -> Option<u64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

pub(crate) fn transport_error(op: &str, e: &reqwest::Error) -> ApiError {
    if e.is_timeout() {
        ApiError::Timeout { op: op.to_string() }
    } else {
        // Walk to the root cause: "error sending request" alone tells an operator nothing.
        let mut detail = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            detail = s.to_string();
            src = s.source();
        }
        ApiError::Connect {
            op: op.to_string(),
            detail,
        }
    }
}

/// The error for a non-success answer; `clean` redacts and shortens whatever text the server sent.
pub(crate) fn status_error(
    op: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    clean: &dyn Fn(&str) -> String,
) -> ApiError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = clean(
        &parsed
            .code
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("unknown").to_string()),
    );
    let message = clean(&parsed.message.unwrap_or_default());
    let op = op.to_string();
    match status.as_u16() {
        400 => ApiError::BadRequest { op, code, message },
        401 => ApiError::Unauthorized { op, code, message },
        403 => ApiError::Forbidden { op, code, message },
        404 => ApiError::NotFound { op },
        429 => {
            let retry_after = header_u64(headers, "retry-after")
                .or_else(|| header_u64(headers, "inin-ratelimit-reset"));
            ApiError::RateLimited {
                op,
                retry_after: retry_after.map(Duration::from_secs),
            }
        }
        s => ApiError::Status {
            op,
            status: s,
            code,
        },
    }
}
