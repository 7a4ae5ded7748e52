//! What killed runs leave behind: a partition swap that a kill interrupted, put back, and the
//! stale staging and temporary files, removed ([`cleanup_stale_staging`]).
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

use super::atomic;
use super::format::Format;
use super::layout::{
    dataset_root, partition_dir_name, staged_table_dir, staging_paths, CATALOGS_DIR,
    STAGING_PREFIX, TRASH_PREFIX,
};
use super::table::Table;

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

/// Removes what killed runs leave behind in `out_dir`: `.staging-*` and `.trash-*` directories,
/// and `<name>.tmp-<pid>` files at the top level, in `catalogs/` and inside every partition
/// folder of every dataset root. A `.trash-*` folder whose root lacks its day (a kill between the
/// two renames of a swap) is the only copy of that day there: it is moved back instead.
///
/// Call only while holding the output lock, so no live run's staging is touched. Returns the
/// removed paths so the caller can log them; a missing `out_dir` is not an error.
pub fn cleanup_stale_staging(out_dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    let entries = match fs::read_dir(out_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(removed),
        Err(e) => return Err(e),
    };
    // First put back the only copies of days whose swap was interrupted, while the staging that
    // tells a swap from a removal is still there; what remains below is leftovers.
    let entries: Vec<fs::DirEntry> = entries.collect::<io::Result<_>>()?;
    for entry in &entries {
        let is_trash = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TRASH_PREFIX));
        if is_trash && entry.file_type()?.is_dir() {
            restore_interrupted_swap(out_dir, &entry.path())?;
        }
    }
    let mut tmp_dirs = vec![out_dir.join(CATALOGS_DIR)];
    for entry in entries {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // file_type() does not follow symlinks: a link is never recursed into.
        let ty = entry.file_type()?;
        let path = entry.path();
        if ty.is_dir() && (name.starts_with(STAGING_PREFIX) || name.starts_with(TRASH_PREFIX)) {
            if !path.exists() {
                continue; // a trash folder put back above
            }
            fs::remove_dir_all(&path)?;
            removed.push(path);
        } else if ty.is_file() && atomic::is_tmp_name(name) {
            fs::remove_file(&path)?;
            removed.push(path);
        } else if ty.is_dir() && Format::ALL.iter().any(|f| f.as_str() == name) {
            // Every table root of the format, known to this version or not.
            for root in subdirs(&path)? {
                tmp_dirs.extend(subdirs(&root)?.into_iter().filter(|d| {
                    d.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("date="))
                }));
            }
        }
    }
    for dir in tmp_dirs {
        let inner = match fs::read_dir(&dir) {
            Ok(inner) => inner,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for f in inner {
            let f = f?;
            let is_tmp = f.file_name().to_str().is_some_and(atomic::is_tmp_name);
            if is_tmp && f.file_type()?.is_file() {
                fs::remove_file(f.path())?;
                removed.push(f.path());
            }
        }
    }
    Ok(removed)
}

/// Directories directly inside `dir` (symlinks not followed).
fn subdirs(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
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
