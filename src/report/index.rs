//! `partitions.json`: every partition ever written to the output directory, and the earlier days
//! `--lookback-days` re-audits.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{write_json, INDEX_FILE};
use crate::config::Config;
use crate::exit::{ExitStatus, Failure};
use crate::time::iso_ms;

/// One partition in the index of everything ever written to an output directory.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct IndexEntry {
    pub is_final: bool,
    pub run_id: String,
    pub as_of: String,
    pub conversations: u64,
    /// The day's compliance counts (owed, coded, timeout, missing legs…), for the summary's trend.
    /// Absent in entries older runs wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliance: Option<crate::record::Counts>,
}

/// `partitions.json`: date → the latest run's word on that partition.
///
/// Missing or unreadable while partition folders exist, it is rebuilt from them with a warning,
/// never read as "nothing there" (lookback would forget unfinished days).
pub fn read_index(dir: &Path) -> BTreeMap<chrono::NaiveDate, IndexEntry> {
    read_index_besides(dir, &[])
}

/// [`read_index`] for a run that has written `own` days: when the only partition folders are
/// those, a missing index is this run's first, not a lost one (nothing to rebuild or warn about).
fn read_index_besides(
    dir: &Path,
    own: &[chrono::NaiveDate],
) -> BTreeMap<chrono::NaiveDate, IndexEntry> {
    let path = dir.join(INDEX_FILE);
    let problem = match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str(&text) {
            Ok(index) => return index,
            Err(e) => format!("is unreadable ({e})"),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "is missing".to_string(),
        Err(e) => format!("cannot be read ({e})"),
    };
    let found = crate::report::index_rebuild::partition_dates(dir);
    if found.iter().all(|d| own.contains(d)) {
        return BTreeMap::new();
    }
    tracing::warn!(file = %path.display(), "{} {problem}: rebuilding it from the date=* partition folders", path.display());
    crate::report::index_rebuild::rebuild(dir)
}

/// Records the partitions a run has written so far.
pub fn update_index(
    cfg: &Config,
    run_id: &str,
    parts: &[crate::stats::PartitionRecord],
) -> Result<(), Failure> {
    let own: Vec<chrono::NaiveDate> = parts.iter().map(|p| p.date).collect();
    let mut index = read_index_besides(&cfg.output_dir, &own);
    for p in parts {
        index.insert(
            p.date,
            IndexEntry {
                is_final: p.is_final,
                run_id: run_id.to_string(),
                as_of: iso_ms(cfg.as_of),
                conversations: p.conversations,
                compliance: Some(p.stats.compliance.total),
            },
        );
    }
    write_json(&cfg.output_dir, INDEX_FILE, &index)
        .map(|_| ())
        .map_err(|e| {
            Failure::new(
                ExitStatus::Output,
                format!(
                    "cannot write {INDEX_FILE} in {}: {e:#}",
                    cfg.output_dir.display()
                ),
            )
        })
}

/// Days within `lookback_days` before the window whose partitions are not final yet.
pub fn days_to_heal(cfg: &Config) -> Vec<chrono::NaiveDate> {
    if cfg.lookback_days == 0 {
        return Vec::new();
    }
    let first = cfg
        .window
        .from
        .with_timezone(&cfg.window.timezone)
        .date_naive();
    let earliest = first - chrono::Days::new(u64::from(cfg.lookback_days));
    read_index(&cfg.output_dir)
        .into_iter()
        .filter(|(d, e)| *d >= earliest && *d < first && !e.is_final)
        .map(|(d, _)| d)
        .collect()
}
