//! The report rows: the only types the sinks see.
//!
//! API wire types never reach a sink; the pipeline maps them into these rows once classification and
//! enrichment have settled every label. Column order here is the column order of every file.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Leg labels of the classification contract (`shared/spec/classification.md` §1).
///
/// `NeedsLookup` is internal: it never reaches a report.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum LegLabel {
    Timeout,
    System,
    Coded,
    Pending,
    Skipped,
    NotConnected,
    NoWrapupPhase,
    NeedsLookup,
    Recovered,
    NotRequired,
    Missing,
    LookupFailed,
    Unexplained,
}

impl LegLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            LegLabel::Timeout => "timeout",
            LegLabel::System => "system",
            LegLabel::Coded => "coded",
            LegLabel::Pending => "pending",
            LegLabel::Skipped => "skipped",
            LegLabel::NotConnected => "not_connected",
            LegLabel::NoWrapupPhase => "no_wrapup_phase",
            LegLabel::NeedsLookup => "needs_lookup",
            LegLabel::Recovered => "recovered",
            LegLabel::NotRequired => "not_required",
            LegLabel::Missing => "missing",
            LegLabel::LookupFailed => "lookup_failed",
            LegLabel::Unexplained => "unexplained",
        }
    }
}

/// Conversation labels of the classification contract (§2).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ConversationLabel {
    Coded,
    System,
    Timeout,
    Recovered,
    Skipped,
    NotRequired,
    NoWrapupPhase,
    NotConnected,
    Missing,
    Unexplained,
    LookupFailed,
    NoAgent,
    InProgress,
    TooRecent,
}

impl ConversationLabel {
    /// Every label, in the order reports list them.
    pub const ALL: [ConversationLabel; 14] = [
        ConversationLabel::Coded,
        ConversationLabel::System,
        ConversationLabel::Timeout,
        ConversationLabel::Recovered,
        ConversationLabel::Skipped,
        ConversationLabel::NotRequired,
        ConversationLabel::NoWrapupPhase,
        ConversationLabel::NotConnected,
        ConversationLabel::Missing,
        ConversationLabel::Unexplained,
        ConversationLabel::LookupFailed,
        ConversationLabel::NoAgent,
        ConversationLabel::InProgress,
        ConversationLabel::TooRecent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationLabel::Coded => "coded",
            ConversationLabel::System => "system",
            ConversationLabel::Timeout => "timeout",
            ConversationLabel::Recovered => "recovered",
            ConversationLabel::Skipped => "skipped",
            ConversationLabel::NotRequired => "not_required",
            ConversationLabel::NoWrapupPhase => "no_wrapup_phase",
            ConversationLabel::NotConnected => "not_connected",
            ConversationLabel::Missing => "missing",
            ConversationLabel::Unexplained => "unexplained",
            ConversationLabel::LookupFailed => "lookup_failed",
            ConversationLabel::NoAgent => "no_agent",
            ConversationLabel::InProgress => "in_progress",
            ConversationLabel::TooRecent => "too_recent",
        }
    }

    pub fn parse(s: &str) -> Option<ConversationLabel> {
        ConversationLabel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// True when the missing code is expected (not a gap an analyst must chase).
    pub fn null_by_design(self) -> bool {
        matches!(
            self,
            ConversationLabel::Skipped
                | ConversationLabel::NotRequired
                | ConversationLabel::NoWrapupPhase
                | ConversationLabel::NotConnected
                | ConversationLabel::NoAgent
                | ConversationLabel::InProgress
                | ConversationLabel::TooRecent
        )
    }
}

/// Where the reported wrap-up code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeSource {
    Analytics,
    ConversationApi,
}

impl CodeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeSource::Analytics => "analytics",
            CodeSource::ConversationApi => "conversation_api",
        }
    }
}

/// What happened to the conversation's enrichment lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupStatus {
    NotNeeded,
    Done,
    Failed,
    OverBudget,
    Disabled,
}

impl LookupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LookupStatus::NotNeeded => "not_needed",
            LookupStatus::Done => "done",
            LookupStatus::Failed => "failed",
            LookupStatus::OverBudget => "over_budget",
            LookupStatus::Disabled => "disabled",
        }
    }
}

/// One row of `conversations.csv` / `conversations.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationRow {
    pub conversation_id: String,
    pub conversation_start: DateTime<Utc>,
    pub conversation_end: Option<DateTime<Utc>>,
    pub media_type: Option<String>,
    pub originating_direction: Option<String>,
    pub queue_id: Option<String>,
    /// Name of `queue_id` by the rule in [`crate::pipeline::Catalogs`].
    pub queue_name: Option<String>,
    pub agent_legs: i32,
    pub classification: ConversationLabel,
    pub reason: String,
    pub wrapup_code_id: Option<String>,
    pub wrapup_code_name: Option<String>,
    pub code_source: Option<CodeSource>,
    pub acw_ms: i64,
    pub handle_ms: i64,
    pub lookup: LookupStatus,
    /// Minutes between `conversation_end` and the run's `as_of` (null while in progress).
    pub ended_minutes_before_as_of: Option<i64>,
    /// `wrapup_code_id` when it is a real, configured code ([`crate::transform::acw::reportable_code`]).
    pub reportable_code: Option<String>,
    /// The queue's configured `acwSettings.wrapupPrompt` (null without a queue or setting).
    pub queue_wrapup_prompt: Option<String>,
    pub queue_acw_timeout_ms: Option<i64>,
    /// The first leg whose label disagrees with its queue's prompt, if any.
    pub config_mismatch: Option<crate::transform::acw::Mismatch>,
}

/// One row of `legs.csv` / `legs.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct LegRow {
    pub conversation_id: String,
    pub conversation_start: DateTime<Utc>,
    pub participant_id: String,
    pub user_id: Option<String>,
    /// Name of `user_id` by the rule in [`crate::pipeline::Catalogs`].
    pub agent_name: Option<String>,
    pub purpose: String,
    pub media_type: Option<String>,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub connected: bool,
    pub label: LegLabel,
    pub analytics_wrapup_code: Option<String>,
    pub lookup_wrapup_code: Option<String>,
    pub wrapup_code_name: Option<String>,
    pub wrapup_required: Option<bool>,
    pub wrapup_prompt: Option<String>,
    pub wrapup_skipped: Option<bool>,
    pub acw_skipped: bool,
    pub acw_ms: i64,
    pub handle_ms: i64,
    pub talk_ms: i64,
    pub detail: Option<String>,
    /// The leg's code when it is a real, configured code ([`crate::transform::acw::reportable_code`]).
    pub reportable_code: Option<String>,
    /// The configured `acwSettings.wrapupPrompt` of the leg's queue.
    pub queue_wrapup_prompt: Option<String>,
    pub queue_acw_timeout_ms: Option<i64>,
    /// The label disagrees with the queue's prompt ([`crate::transform::acw::mismatch`]).
    pub config_mismatch: Option<crate::transform::acw::Mismatch>,
}
