//! The platform's error body ([`ApiError`]), the request's correlation id, and the fallbacks for unknown
//! routes and methods.

use axum::extract::Extension;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use uuid::Uuid;

/// A platform `ErrorBody`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    pub(crate) message_with_params: String,
    pub(crate) params: Value,
    pub(crate) retry_after: Option<u64>,
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

pub(crate) fn json_bytes(v: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v).into_response()
}

pub(crate) async fn not_found(Extension(corr): Extension<Corr>) -> Response {
    ApiError::not_found().respond(corr.0)
}

pub(crate) async fn method_not_allowed(Extension(corr): Extension<Corr>) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method.not.allowed",
        "HTTP method not allowed for this resource.",
    )
    .respond(corr.0)
}
