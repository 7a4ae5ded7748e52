//! The simulator's route table: which handler serves which endpoint, behind the [`gate`] middleware.
//!
//! Every `/api/v2/*` request passes the gate, which checks the bearer token, counts the request
//! against the token's 60-second window, enforces the configured denied permissions, stamps the
//! `inin-*` headers and records the request. Real limits (429, 403) come first; then the fault profile may
//! answer instead of the handler (5xx, 429) or break the handler's 200 (dropped connection, truncated JSON).
//! Handlers only produce the payloads, plus the paging noise of `details/query`.

use std::sync::Arc;

use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use super::handlers::auth::token;
use super::handlers::conversations::conversation;
use super::handlers::details::{details_many, details_one, details_query};
use super::handlers::error::{method_not_allowed, not_found};
use super::handlers::gate::gate;
use super::handlers::jobs;
use super::handlers::listings::{queues, users, wrapup_codes};
use super::state::Shared;

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
