//! What a run recorded: its finished partitions and the totals over them.

use chrono::NaiveDate;
use serde::Serialize;

use crate::api::ApiStatsSnapshot;
use crate::exit::ExitStatus;
use crate::sink;
use crate::transform::counts::PartitionStats;

/// One finished partition, as recorded in the manifest (and read back to resume a run).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PartitionRecord {
    pub date: NaiveDate,
    pub interval_start: String,
    pub interval_end: String,
    pub conversations: u64,
    pub legs: u64,
    /// False while any row is `in_progress` or `too_recent`, or the day may lack rows: a later run
    /// should redo the day.
    pub is_final: bool,
    /// Why the day may lack rows (the details query served fewer than `totalHits` after re-requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    pub files: Vec<sink::FileInfo>,
    #[serde(flatten)]
    pub stats: PartitionStats,
}

/// What a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub run_id: String,
    pub partitions: Vec<PartitionRecord>,
    /// The sum of the partitions' counts.
    #[serde(flatten)]
    pub totals: PartitionStats,
    pub api: ApiStatsSnapshot,
    pub conversations: u64,
    pub legs: u64,
    /// Days taken over from an interrupted earlier run instead of being fetched again.
    pub resumed_days: u64,
    #[serde(skip)]
    pub status: ExitStatus,
}

impl RunOutcome {
    /// Totals derived from the partitions.
    pub(crate) fn from_partitions(
        run_id: &str,
        partitions: Vec<PartitionRecord>,
        resumed_days: u64,
    ) -> RunOutcome {
        let mut totals = PartitionStats::default();
        for p in &partitions {
            totals.add(&p.stats);
        }
        RunOutcome {
            run_id: run_id.to_string(),
            conversations: partitions.iter().map(|p| p.conversations).sum(),
            legs: partitions.iter().map(|p| p.legs).sum(),
            partitions,
            totals,
            api: ApiStatsSnapshot::default(),
            resumed_days,
            status: ExitStatus::Success,
        }
    }
}
