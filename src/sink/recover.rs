//! A partition swap that a kill interrupted.
//!
//! Each dataset root's swap renames `<format>/<table>/date=D` to `.trash-<run>-<format>-<table>-D`,
//! then the staged folder into its place. A kill between the two renames leaves no `date=D` in that
//! root and the only complete copy in the trash folder, while `partitions.json` and the manifest
//! still describe that copy. Recovery puts it back; a trash folder whose day is in place again, or
//! whose root's day was being removed on purpose (a format no longer chosen), is a leftover.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::layout::{dataset_root, partition_dir_name, staged_table_dir, staging_paths};
use super::{atomic, Format, Table, TRASH_PREFIX};

/// What a `.trash-<run>-<format>-<table>-YYYY-MM-DD` folder name says.
#[derive(Debug, PartialEq)]
pub(crate) struct TrashName {
    pub run_id: String,
    pub format: Format,
    pub table: Table,
    pub date: NaiveDate,
}

pub(crate) fn parse_trash(name: &str) -> Option<TrashName> {
    let rest = name.strip_prefix(TRASH_PREFIX)?;
    let date_at = rest.len().checked_sub(10)?;
    let date = NaiveDate::parse_from_str(rest.get(date_at..)?, "%Y-%m-%d").ok()?;
    let head = rest.get(..date_at)?.strip_suffix('-')?;
    for format in Format::ALL {
        for &table in Table::ALL {
            let tail = format!("-{}-{}", format.as_str(), table.file_stem());
            if let Some(run_id) = head.strip_suffix(&tail) {
                return Some(TrashName {
                    run_id: run_id.to_string(),
                    format,
                    table,
                    date,
                });
            }
        }
    }
    None
}

/// Moves `trash` back into its dataset root when that root lacks the day and the trash may be the
/// only copy. Returns the restored folder, or `None` when the trash is a leftover to remove.
pub(crate) fn restore_interrupted_swap(
    out_dir: &Path,
    trash: &Path,
) -> io::Result<Option<PathBuf>> {
    let Some(t) = trash
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_trash)
    else {
        return Ok(None);
    };
    let final_dir = out_dir
        .join(dataset_root(t.format, t.table))
        .join(partition_dir_name(t.date));
    if final_dir.exists() {
        return Ok(None);
    }
    let (_, staged_day) = staging_paths(out_dir, &t.run_id, t.date);
    let swapping = staged_table_dir(&staged_day, t.format, t.table).is_dir();
    // A staged day without this root means the root's day was being removed (format not chosen).
    if !swapping && staged_day.is_dir() {
        return Ok(None);
    }
    fs::rename(trash, &final_dir)?;
    atomic::sync_dir(atomic::parent_dir(&final_dir))?;
    tracing::warn!(date = %t.date, path = %final_dir.display(), "Restored {} from an interrupted partition swap", final_dir.display());
    Ok(Some(final_dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trash_names_give_run_root_and_day() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        assert_eq!(
            parse_trash(".trash-20261121T002000Z-1a2b3c4d-parquet-legs-2026-11-20"),
            Some(TrashName {
                run_id: "20261121T002000Z-1a2b3c4d".into(),
                format: Format::Parquet,
                table: Table::Legs,
                date: d,
            })
        );
        assert_eq!(parse_trash(".trash-dead-2026-11-19"), None);
        assert_eq!(parse_trash(".staging-r-csv-legs-2026-11-20"), None);
    }
}
