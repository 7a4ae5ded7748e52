//! The report rows: the only types the sinks see.
//!
//! API wire types never reach a sink; the pipeline maps them into these rows once classification and
//! enrichment have settled every label. Column order here is the column order of every file.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// Every label in the order reports list them: codes, nulls by design, gaps; the internal
    /// `needs_lookup` last.
    pub const ALL: [LegLabel; 13] = [
        LegLabel::Coded,
        LegLabel::System,
        LegLabel::Timeout,
        LegLabel::Recovered,
        LegLabel::Skipped,
        LegLabel::NotRequired,
        LegLabel::NoWrapupPhase,
        LegLabel::NotConnected,
        LegLabel::Pending,
        LegLabel::Missing,
        LegLabel::Unexplained,
        LegLabel::LookupFailed,
        LegLabel::NeedsLookup,
    ];

    pub fn parse(s: &str) -> Option<LegLabel> {
        LegLabel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Where the leg stands: a code the agent or system set, no code by design, or a gap
    /// (`recovered` counts as a gap: analytics lacked the code).
    pub fn kind(self) -> Kind {
        match self {
            LegLabel::Coded | LegLabel::System | LegLabel::Timeout => Kind::Coded,
            LegLabel::Pending
            | LegLabel::Skipped
            | LegLabel::NotConnected
            | LegLabel::NoWrapupPhase
            | LegLabel::NotRequired => Kind::ByDesign,
            _ => Kind::Gap,
        }
    }

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

    /// Where the conversation stands with respect to its wrap-up code.
    pub fn kind(self) -> Kind {
        match self {
            ConversationLabel::Coded | ConversationLabel::System | ConversationLabel::Timeout => {
                Kind::Coded
            }
            l if l.null_by_design() => Kind::ByDesign,
            _ => Kind::Gap,
        }
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
    /// Name of `queue_id` by the rule in `transform::names::Catalogs`.
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
    /// `wrapup_code_id` when it is a real, configured code (see `transform::acw::reportable_code`).
    pub reportable_code: Option<String>,
    /// The queue's configured `acwSettings.wrapupPrompt` (null without a queue or setting).
    pub queue_wrapup_prompt: Option<String>,
    pub queue_acw_timeout_ms: Option<i64>,
    /// The first leg whose label disagrees with its queue's prompt, if any.
    pub config_mismatch: Option<Mismatch>,
}

/// One row of `legs.csv` / `legs.parquet`.
#[derive(Debug, Clone, PartialEq)]
pub struct LegRow {
    pub conversation_id: String,
    pub conversation_start: DateTime<Utc>,
    pub participant_id: String,
    pub user_id: Option<String>,
    /// Name of `user_id` by the rule in `transform::names::Catalogs`.
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
    /// The leg's code when it is a real, configured code (see `transform::acw::reportable_code`).
    pub reportable_code: Option<String>,
    /// The configured `acwSettings.wrapupPrompt` of the leg's queue.
    pub queue_wrapup_prompt: Option<String>,
    pub queue_acw_timeout_ms: Option<i64>,
    /// The label disagrees with the queue's prompt (see `transform::acw::mismatch`).
    pub config_mismatch: Option<Mismatch>,
}

/// A leg whose label disagrees with its queue's configured prompt. Labels stay as the contract says;
/// this only points at configuration worth checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mismatch {
    /// `no_wrapup_phase` or `not_required` on a queue configured to require a code.
    NotAskedOnMandatoryQueue,
    /// `missing` (a code was required) on a queue configured `OPTIONAL`.
    RequiredOnOptionalQueue,
    /// `timeout` on a queue whose prompt has no timer (`MANDATORY` or `OPTIONAL`).
    TimeoutWithoutTimedPrompt,
}

impl Mismatch {
    pub const ALL: [Mismatch; 3] = [
        Mismatch::NotAskedOnMandatoryQueue,
        Mismatch::RequiredOnOptionalQueue,
        Mismatch::TimeoutWithoutTimedPrompt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mismatch::NotAskedOnMandatoryQueue => "not_asked_on_mandatory_queue",
            Mismatch::RequiredOnOptionalQueue => "required_on_optional_queue",
            Mismatch::TimeoutWithoutTimedPrompt => "timeout_without_timed_prompt",
        }
    }

    pub fn parse(s: &str) -> Option<Mismatch> {
        Mismatch::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// What to change, for the summary's findings.
    pub fn advice(self) -> &'static str {
        match self {
            Mismatch::NotAskedOnMandatoryQueue => "The queue requires a code but these agents were never asked for one: check the queue's ACW settings history and the agents' client (a transfer or a script that ends ACW).",
            Mismatch::RequiredOnOptionalQueue => "The platform required a code on a queue configured OPTIONAL: the leg was likely governed by another queue's settings (transfer) or the setting changed; align the queues' ACW prompts.",
            Mismatch::TimeoutWithoutTimedPrompt => "ACW timed out on a queue with no timer configured: the setting changed, or the leg took another queue's settings; check the queue's ACW prompt and timeout.",
        }
    }
}

/// Counts of one group of legs. Every field adds up over groups and days.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Every agent leg of the group.
    pub legs: u64,
    pub owed: u64,
    pub with_code: u64,
    pub timeout: u64,
    pub missing: u64,
    /// `unexplained` and `lookup_failed`: owed, and no code found.
    pub unknown: u64,
    /// `tAcw` over every leg of the group.
    pub acw_ms: i64,
    /// `tAcw` of the `timeout` legs: ACW that ran until the timer, not until the agent was done.
    pub timeout_acw_ms: i64,
    /// Legs whose label disagrees with their queue's configured prompt.
    pub config_mismatches: u64,
}

/// Rounds a share to 4 decimals, as every file and summary shows it.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.legs += o.legs;
        self.owed += o.owed;
        self.with_code += o.with_code;
        self.timeout += o.timeout;
        self.missing += o.missing;
        self.unknown += o.unknown;
        self.acw_ms += o.acw_ms;
        self.timeout_acw_ms += o.timeout_acw_ms;
        self.config_mismatches += o.config_mismatches;
    }

    /// Owed legs without a code an agent or the dialer chose.
    pub fn gaps(&self) -> u64 {
        self.timeout + self.missing + self.unknown
    }

    /// `gaps / owed`; null without owed legs.
    pub fn gap_rate(&self) -> Option<f64> {
        (self.owed > 0).then(|| round4(self.gaps() as f64 / self.owed as f64))
    }

    /// `timeout / owed`; null without owed legs.
    pub fn timeout_rate(&self) -> Option<f64> {
        (self.owed > 0).then(|| round4(self.timeout as f64 / self.owed as f64))
    }
}

/// One row of the `compliance` table: one agent on one queue in one media type, on the
/// partition's day.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplianceRow {
    pub user_id: Option<String>,
    pub agent_name: Option<String>,
    pub queue_id: Option<String>,
    pub queue_name: Option<String>,
    pub media_type: Option<String>,
    pub queue_wrapup_prompt: Option<String>,
    pub queue_acw_timeout_ms: Option<i64>,
    pub counts: Counts,
}

impl ComplianceRow {
    pub fn gap_rate(&self) -> Option<f64> {
        self.counts.gap_rate()
    }

    pub fn timeout_rate(&self) -> Option<f64> {
        self.counts.timeout_rate()
    }
}

/// Where a label stands with respect to the wrap-up code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A code is present (chosen by the agent, or a system literal).
    Coded,
    /// No code, and none was expected.
    ByDesign,
    /// No code where one was expected, or nobody could tell: worth chasing.
    Gap,
}
