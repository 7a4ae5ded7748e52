//! Serde types for what the Genesys Cloud API sends and receives, as the API spells it.
//!
//! Deserialize-side types are lenient: every field the API documents as optional is an `Option` or
//! defaults to empty, and unknown fields are ignored, because Genesys adds fields and enum values over
//! time. These types never reach a report; `pipeline` maps them into `record` rows.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::time::rfc3339;

/// `POST /oauth/token` success body.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// The OAuth-style error body of the token endpoint (not an `ErrorBody`).
#[derive(Debug, Default, Deserialize)]
pub struct OAuthError {
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// The platform's standard error body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub context_id: Option<String>,
}

/// `ConversationQuery`, the body of `POST /api/v2/analytics/conversations/details/query`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationQuery {
    pub interval: String,
    pub order: &'static str,
    pub order_by: &'static str,
    pub paging: PagingSpec,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segment_filters: Vec<QueryFilter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conversation_filters: Vec<QueryFilter>,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PagingSpec {
    pub page_size: u32,
    pub page_number: u32,
}

/// A segment or conversation filter: `type` joins its predicates with `and` / `or`.
#[derive(Debug, Clone, Serialize)]
pub struct QueryFilter {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub predicates: Vec<QueryPredicate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QueryPredicate {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub dimension: String,
    pub operator: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// `AnalyticsConversationQueryResponse`. Past the last page the API omits `conversations`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DetailsQueryResponse<'a> {
    #[serde(default, borrow)]
    pub conversations: Vec<AnalyticsConversation<'a>>,
    #[serde(default)]
    pub total_hits: Option<u64>,
}

// The detail records borrow their strings from the page body (issue 14): a page of 1 000
// conversations holds about 32 000 strings, each of which was an allocation, a copy and a free. A
// string with a JSON escape cannot be borrowed and is decoded into an owned `Cow`. Only the fields
// something reads are declared; serde skips the rest without allocating.

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsConversation<'a> {
    #[serde(borrow)]
    pub conversation_id: Cow<'a, str>,
    #[serde(deserialize_with = "rfc3339::instant")]
    pub conversation_start: DateTime<Utc>,
    #[serde(default, deserialize_with = "rfc3339::opt_instant")]
    pub conversation_end: Option<DateTime<Utc>>,
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub originating_direction: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub participants: Vec<AnalyticsParticipant<'a>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsParticipant<'a> {
    #[serde(borrow)]
    pub participant_id: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub purpose: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub user_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub sessions: Vec<AnalyticsSession<'a>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsSession<'a> {
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub media_type: Option<Cow<'a, str>>,
    #[serde(default)]
    pub acw_skipped: Option<bool>,
    #[serde(default, borrow)]
    pub segments: Vec<AnalyticsSegment<'a>>,
    #[serde(default)]
    pub metrics: Vec<AnalyticsMetric>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsSegment<'a> {
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub segment_type: Option<Cow<'a, str>>,
    #[serde(default, deserialize_with = "rfc3339::opt_instant")]
    pub segment_start: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "rfc3339::opt_instant")]
    pub segment_end: Option<DateTime<Utc>>,
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub queue_id: Option<Cow<'a, str>>,
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub wrap_up_code: Option<Cow<'a, str>>,
}

/// An optional string borrowed from the body where it has no escapes. serde's own
/// `Option<Cow<str>>` always allocates: it borrows only a `Cow` that is not nested.
fn opt_str<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'a, str>>, D::Error> {
    #[derive(Deserialize)]
    struct Text<'a>(#[serde(borrow)] Cow<'a, str>);
    Ok(Option::<Text<'a>>::deserialize(d)?.map(|t| t.0))
}

fn owned(s: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
    s.map(|s| Cow::Owned(s.into_owned()))
}

impl AnalyticsConversation<'_> {
    /// The record without its borrows, for a caller that keeps it past the body (`explain`).
    pub fn into_owned(self) -> AnalyticsConversation<'static> {
        AnalyticsConversation {
            conversation_id: Cow::Owned(self.conversation_id.into_owned()),
            conversation_start: self.conversation_start,
            conversation_end: self.conversation_end,
            originating_direction: owned(self.originating_direction),
            participants: self
                .participants
                .into_iter()
                .map(|p| p.into_owned())
                .collect(),
        }
    }
}

impl AnalyticsParticipant<'_> {
    pub fn into_owned(self) -> AnalyticsParticipant<'static> {
        AnalyticsParticipant {
            participant_id: Cow::Owned(self.participant_id.into_owned()),
            purpose: owned(self.purpose),
            user_id: owned(self.user_id),
            sessions: self
                .sessions
                .into_iter()
                .map(|s| AnalyticsSession {
                    media_type: owned(s.media_type),
                    acw_skipped: s.acw_skipped,
                    segments: s
                        .segments
                        .into_iter()
                        .map(|g| AnalyticsSegment {
                            segment_type: owned(g.segment_type),
                            segment_start: g.segment_start,
                            segment_end: g.segment_end,
                            queue_id: owned(g.queue_id),
                            wrap_up_code: owned(g.wrap_up_code),
                        })
                        .collect(),
                    metrics: s.metrics,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AnalyticsMetric {
    pub name: MetricName,
    #[serde(default)]
    pub value: i64,
}

/// The session metrics the classifier reads; every other name is skipped without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MetricName {
    #[serde(rename = "tAcw")]
    Acw,
    #[serde(rename = "tHandle")]
    Handle,
    #[serde(rename = "tTalk")]
    Talk,
    #[serde(other)]
    Other,
}

/// `Conversation` from `GET /api/v2/conversations/{conversationId}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub participants: Vec<ConversationParticipant>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationParticipant {
    pub id: String,
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub wrapup_required: Option<bool>,
    #[serde(default)]
    pub wrapup_prompt: Option<String>,
    #[serde(default)]
    pub wrapup_skipped: Option<bool>,
    #[serde(default)]
    pub wrapup: Option<Wrapup>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Wrapup {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// The shared shape of paged entity listings (`WrapupCodeEntityListing`, queues, users).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityListing<T> {
    #[serde(default = "Vec::new")]
    pub entities: Vec<T>,
    #[serde(default)]
    pub page_count: Option<u32>,
    #[serde(default)]
    pub total: Option<u64>,
}

/// A named entity of a catalog (wrap-up code, queue or user).
#[derive(Debug, Clone, Deserialize)]
pub struct NamedEntity {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Queues only: the queue's after-call-work settings.
    #[serde(default, rename = "acwSettings")]
    pub acw_settings: Option<AcwSettings>,
}

/// `AsyncConversationQuery`, the body of `POST /api/v2/analytics/conversations/details/jobs`.
/// Same filters as [`ConversationQuery`], but no paging: results are read with a cursor.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncConversationQuery {
    pub interval: String,
    pub order: &'static str,
    pub order_by: &'static str,
    /// Only conversations that started on or after the UTC midnight of the interval's start, as the
    /// query endpoint does; without it a job matches every conversation whose lifetime overlaps.
    pub start_of_day_interval_matching: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segment_filters: Vec<QueryFilter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conversation_filters: Vec<QueryFilter>,
}

/// `AsyncQueryResponse`: the answer to a job submission.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncQueryResponse {
    pub job_id: String,
}

/// `AsyncQueryStatus.state`. States added later by Genesys decode as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    Queued,
    Pending,
    Fulfilled,
    Failed,
    Cancelled,
    Expired,
    #[serde(other)]
    Unknown,
}

/// `AsyncQueryStatus` from `GET …/details/jobs/{jobId}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncQueryStatus {
    pub state: JobState,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub expiration_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub submission_date: Option<DateTime<Utc>>,
    #[serde(default)]
    pub completion_date: Option<DateTime<Utc>>,
}

/// `AnalyticsConversationAsyncQueryResponse`: one page of a job's results. The last page has no
/// `cursor`. Participant `attributes` are not read.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncQueryResultsPage<'a> {
    #[serde(default, borrow)]
    pub conversations: Vec<AnalyticsConversation<'a>>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub data_availability_date: Option<DateTime<Utc>>,
}

/// `DataAvailabilityResponse` from `GET …/details/jobs/availability`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataAvailabilityResponse {
    pub data_availability_date: DateTime<Utc>,
}

/// `Queue.acwSettings` as the queue listing returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcwSettings {
    /// `MANDATORY`, `OPTIONAL`, `MANDATORY_TIMEOUT`, `MANDATORY_FORCED_TIMEOUT` or `AGENT_REQUESTED`.
    #[serde(default)]
    pub wrapup_prompt: Option<String>,
    /// How long a timed ACW may last; only meaningful for the timed prompts.
    #[serde(default)]
    pub timeout_ms: Option<i64>,
}

#[cfg(test)]
pub(crate) mod tests;
