//! The Conversations API lookup (`GET /api/v2/conversations/{id}`), with its purged and other-division
//! outcomes.

use std::sync::Arc;

use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, Corr};
use crate::simulator::model::LookupOutcome;
use crate::simulator::state::Shared;

pub(crate) async fn conversation(
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
