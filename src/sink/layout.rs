//! Where the files of a run live: one Hive dataset root per table and format
//! (`<format>/<table>/date=D/<table>.<format>`), and how a staged day replaces the old one in
//! every root. Roots follow from [`Table::ALL`] and [`Format::ALL`], so a new table needs no code
//! here.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;

use super::atomic;
use super::format::{Format, Formats};
use super::table::Table;

/// Prefix of a run's staging directory under the output directory (hidden from Hive readers).
pub(crate) const STAGING_PREFIX: &str = ".staging-";
/// Prefix of a replaced partition awaiting deletion.
pub(crate) const TRASH_PREFIX: &str = ".trash-";

/// Folder of the run-level catalogs (`wrapup_codes.csv`, `queues.csv`, `users.csv`).
pub const CATALOGS_DIR: &str = "catalogs";

/// Hive-style folder name of a day: `date=YYYY-MM-DD`.
pub fn partition_dir_name(date: NaiveDate) -> String {
    format!("date={}", date.format("%Y-%m-%d"))
}

/// One dataset root relative to the output directory: `<format>/<table>`, e.g. `parquet/legs`.
pub fn dataset_root(format: Format, table: Table) -> PathBuf {
    Path::new(format.as_str()).join(table.file_stem())
}

/// A partition file relative to the output directory:
/// `parquet/legs/date=2026-11-20/legs.parquet`.
pub fn partition_file(format: Format, table: Table, date: NaiveDate) -> PathBuf {
    dataset_root(format, table)
        .join(partition_dir_name(date))
        .join(table.file_name(format))
}

/// Staging folder of one day of one run: `<out>/.staging-<run>/date=D`, holding
/// `<format>/<table>/<file>` for every chosen format and table.
pub(crate) fn staging_paths(out_dir: &Path, run_id: &str, date: NaiveDate) -> (PathBuf, PathBuf) {
    let root = out_dir.join(format!("{STAGING_PREFIX}{run_id}"));
    let staged = root.join(partition_dir_name(date));
    (root, staged)
}

/// Where a table's staged files sit inside `staged`.
pub(crate) fn staged_table_dir(staged: &Path, format: Format, table: Table) -> PathBuf {
    staged.join(format.as_str()).join(table.file_stem())
}

/// Moves a fully staged day into every dataset root, replacing that day's folder in each; the
/// roots of formats not chosen lose that day, so switching formats leaves nothing stale.
///
/// Each root's swap is two renames; a failure between roots leaves earlier roots replaced and is
/// reported, and `partitions.json` is then not updated for the day.
pub(crate) fn commit_staged(
    out_dir: &Path,
    run_id: &str,
    date: NaiveDate,
    formats: Formats,
    staged: &Path,
) -> anyhow::Result<()> {
    let part = partition_dir_name(date);
    for format in Format::ALL {
        for &table in Table::ALL {
            let root = out_dir.join(dataset_root(format, table));
            let final_dir = root.join(&part);
            let trash = out_dir.join(format!(
                "{TRASH_PREFIX}{run_id}-{format}-{}-{}",
                table.file_stem(),
                date.format("%Y-%m-%d")
            ));
            if formats.contains(format) {
                if !root.is_dir() {
                    fs::create_dir_all(&root)
                        .with_context(|| format!("cannot create {}", root.display()))?;
                    atomic::sync_dir(atomic::parent_dir(&root))?;
                    atomic::sync_dir(out_dir)?;
                }
                swap_into_place(&staged_table_dir(staged, format, table), &final_dir, &trash)?;
            } else if final_dir.exists() {
                fs::rename(&final_dir, &trash)
                    .with_context(|| format!("cannot remove {}", final_dir.display()))?;
                remove_dir_if_exists(&trash)?;
                // An emptied root goes too: a format not chosen has no folder.
                let _ = fs::remove_dir(&root);
                let _ = fs::remove_dir(atomic::parent_dir(&root));
            }
        }
    }
    Ok(())
}

/// Replaces `final_dir` by `staged`, restoring the old directory if the second rename fails.
pub(crate) fn swap_into_place(staged: &Path, final_dir: &Path, trash: &Path) -> anyhow::Result<()> {
    let out_dir = atomic::parent_dir(final_dir);
    remove_dir_if_exists(trash)?;
    crate::failpoint::hit("swap-before-renames");
    let had_old = match fs::rename(final_dir, trash) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => {
            return Err(e).with_context(|| format!("cannot move aside {}", final_dir.display()))
        }
    };
    crate::failpoint::hit("swap-between-renames");
    if let Err(e) = fs::rename(staged, final_dir) {
        if had_old {
            // Put the previous partition back so the failure changes nothing.
            let _ = fs::rename(trash, final_dir);
        }
        return Err(e).with_context(|| format!("cannot move {} into place", staged.display()));
    }
    atomic::sync_dir(out_dir)?;
    crate::failpoint::hit("swap-after-renames");
    if had_old {
        if let Err(e) = fs::remove_dir_all(trash) {
            // The new partition is in place; the next run's cleanup retries.
            tracing::warn!(path = %trash.display(), error = %e, "cannot remove replaced partition");
        }
    }
    Ok(())
}

pub(crate) fn remove_dir_if_exists(dir: &Path) -> anyhow::Result<()> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", dir.display())),
    }
}
