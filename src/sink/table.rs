//! The tables of a partition ([`Table`]) and their column order, the one list the encoders follow.

use serde::Serialize;

use super::format::Format;

/// Columns of `conversations.{csv,parquet}`, in file order (= field order of [`crate::record::ConversationRow`]).
pub const CONVERSATION_COLUMNS: &[&str] = &[
    "conversation_id",
    "conversation_start",
    "conversation_end",
    "media_type",
    "originating_direction",
    "queue_id",
    "queue_name",
    "agent_legs",
    "classification",
    "reason",
    "wrapup_code_id",
    "wrapup_code_name",
    "code_source",
    "acw_ms",
    "handle_ms",
    "lookup",
    "ended_minutes_before_as_of",
    "reportable_code",
    "queue_wrapup_prompt",
    "queue_acw_timeout_ms",
    "config_mismatch",
];

/// Columns of `legs.{csv,parquet}`, in file order (= field order of [`crate::record::LegRow`]).
pub const LEG_COLUMNS: &[&str] = &[
    "conversation_id",
    "conversation_start",
    "participant_id",
    "user_id",
    "agent_name",
    "purpose",
    "media_type",
    "queue_id",
    "queue_name",
    "connected",
    "label",
    "analytics_wrapup_code",
    "lookup_wrapup_code",
    "wrapup_code_name",
    "wrapup_required",
    "wrapup_prompt",
    "wrapup_skipped",
    "acw_skipped",
    "acw_ms",
    "handle_ms",
    "talk_ms",
    "detail",
    "reportable_code",
    "queue_wrapup_prompt",
    "queue_acw_timeout_ms",
    "config_mismatch",
];

/// Columns of `compliance.{csv,parquet}`, in file order (see [`crate::record::ComplianceRow`]).
pub const COMPLIANCE_COLUMNS: &[&str] = &[
    "user_id",
    "agent_name",
    "queue_id",
    "queue_name",
    "media_type",
    "queue_wrapup_prompt",
    "queue_acw_timeout_ms",
    "legs",
    "owed",
    "with_code",
    "gaps",
    "timeout",
    "missing",
    "unknown",
    "gap_rate",
    "timeout_rate",
    "acw_ms",
    "timeout_acw_ms",
    "config_mismatches",
];

/// The two tables of a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Conversations,
    Legs,
    /// Per day, agent, queue and media: legs that owed a code and what became of them.
    Compliance,
}

impl Table {
    /// Every table of a partition, in write order. A new table is one more variant here (and its
    /// columns and encoders); roots, staging and cleanup follow from this list.
    pub const ALL: &'static [Table] = &[Table::Conversations, Table::Legs, Table::Compliance];

    /// Columns in file order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Conversations => CONVERSATION_COLUMNS,
            Table::Legs => LEG_COLUMNS,
            Table::Compliance => COMPLIANCE_COLUMNS,
        }
    }

    /// File name without extension.
    pub fn file_stem(self) -> &'static str {
        match self {
            Table::Conversations => "conversations",
            Table::Legs => "legs",
            Table::Compliance => "compliance",
        }
    }

    /// `<stem>.<format>`, e.g. `legs.parquet`.
    pub fn file_name(self, format: Format) -> String {
        format!("{}.{}", self.file_stem(), format.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::testdata::{conversation, leg};

    #[test]
    fn columns_match_row_struct_debug_order() {
        // Debug output lists fields in declaration order; the constants must follow it.
        let debug = format!("{:?}", conversation::fixture()[0]);
        let mut pos = 0;
        for col in CONVERSATION_COLUMNS {
            let at = debug[pos..]
                .find(&format!("{col}: "))
                .unwrap_or_else(|| panic!("{col} out of order"));
            pos += at + col.len();
        }
        let debug = format!("{:?}", leg::fixture()[0]);
        let mut pos = 0;
        for col in LEG_COLUMNS {
            let at = debug[pos..]
                .find(&format!("{col}: "))
                .unwrap_or_else(|| panic!("{col} out of order"));
            pos += at + col.len();
        }
    }
}
