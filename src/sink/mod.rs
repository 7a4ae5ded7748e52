//! Report sinks: turn settled report rows into the files of `spec/outputs.md`.
//!
//! Owns the column order of both tables ([`CONVERSATION_COLUMNS`], [`LEG_COLUMNS`]), the choice of
//! formats, and the replacement of one day partition (written in a staging directory and swapped
//! into every dataset root, `<out>/<format>/<table>/date=D/`; the paths are in [`layout`]). The
//! encodings live in [`csv`] and [`parquet`]; crash-safe single files in [`atomic`].
//!
//! This file only declares and re-exports: the tables and their columns are in `table.rs`, the
//! formats in `format.rs`, [`FileInfo`] in `file_info.rs`, [`write_partition`] in `partition.rs`,
//! and what killed runs leave behind is cleaned up in `recover.rs`, so every file imports one way.
//!
//! Does not own: the run-level files (`summary.json`, manifest, catalog), which callers write with
//! [`write_file_atomically`]; the output lock, which the caller holds around
//! [`cleanup_stale_staging`] and [`write_partition`]; or deciding which rows belong to which day.

pub mod atomic;
pub mod compliance;
pub mod csv;
mod file_info;
mod format;
pub mod journal;
pub mod layout;
pub mod migrate;
pub mod parquet;
mod partition;
mod recover;
pub mod stream;
mod table;
#[cfg(test)]
pub(crate) mod testdata;

pub use self::atomic::{write_file_atomically, AtomicFile};
pub use self::csv::{write_conversations_csv, write_legs_csv};
pub use self::file_info::{FileInfo, PartitionFiles};
pub use self::format::{Format, Formats, FormatsError};
pub(crate) use self::layout::STAGING_PREFIX;
pub use self::layout::{dataset_root, partition_dir_name, partition_file, CATALOGS_DIR};
pub use self::parquet::{
    conversations_batch, conversations_schema, legs_batch, legs_schema,
    write_conversations_parquet, write_legs_parquet,
};
pub use self::partition::write_partition;
pub use self::recover::cleanup_stale_staging;
pub use self::table::{Table, COMPLIANCE_COLUMNS, CONVERSATION_COLUMNS, LEG_COLUMNS};
