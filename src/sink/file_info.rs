//! What the writers report about the files they wrote, for the run manifest.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Serialize;

/// One written file, for the run manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FileInfo {
    /// Relative to the output directory where the writer knows it (partitions), else as given.
    pub path: PathBuf,
    pub bytes: u64,
    pub rows: u64,
}

/// The files of one day partition, paths relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionFiles {
    pub date: NaiveDate,
    pub files: Vec<FileInfo>,
}
