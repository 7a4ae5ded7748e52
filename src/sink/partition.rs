//! One day partition written at once: staged, made durable, then swapped into every dataset root.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context};
use chrono::NaiveDate;

use super::atomic::{self, write_file_atomically};
use super::csv::{write_conversations_csv, write_legs_csv};
use super::file_info::{FileInfo, PartitionFiles};
use super::format::{Format, Formats};
use super::layout::{
    self, partition_dir_name, partition_file, remove_dir_if_exists, staged_table_dir, staging_paths,
};
use super::parquet::{write_conversations_parquet, write_legs_parquet};
use super::table::Table;
use crate::record::{ConversationRow, LegRow};

/// Writes one day partition completely into a staging directory and then swaps it into place:
/// `<out>/<format>/<table>/date=YYYY-MM-DD/<table>.<format>` for every table and chosen format.
///
/// Staging is `<out>/.staging-<run_id>/date=D/<format>/<table>/`, every file is fsynced; then in
/// each dataset root the old `date=D` (if any) is renamed to a `.trash-*` folder, the staged one
/// renamed into place, and the trash removed (see `layout::commit_staged`). A re-run therefore
/// replaces the partition (never duplicates rows, and a day of a format no longer chosen
/// disappears). On a staging error nothing under a final name changes and the staging is removed.
///
/// Between the two renames a root's `date=D` is briefly absent; a portable exchange of two
/// directories does not exist, and readers run after the job, not during it.
pub fn write_partition(
    out_dir: &Path,
    run_id: &str,
    date: NaiveDate,
    conversations: &[ConversationRow],
    legs: &[LegRow],
    compliance: &[crate::record::ComplianceRow],
    formats: Formats,
) -> anyhow::Result<PartitionFiles> {
    let rows = [
        (Table::Conversations, conversations.len() as u64),
        (Table::Legs, legs.len() as u64),
        (Table::Compliance, compliance.len() as u64),
    ];
    write_partition_with(
        out_dir,
        run_id,
        date,
        formats,
        &rows,
        &mut |table, format, w| match (table, format) {
            (Table::Conversations, Format::Csv) => write_conversations_csv(w, conversations),
            (Table::Legs, Format::Csv) => write_legs_csv(w, legs),
            (Table::Conversations, Format::Parquet) => {
                write_conversations_parquet(w, conversations)
            }
            (Table::Legs, Format::Parquet) => write_legs_parquet(w, legs),
            (Table::Compliance, Format::Csv) => super::compliance::write_csv(w, compliance),
            (Table::Compliance, Format::Parquet) => super::compliance::write_parquet(w, compliance),
        },
    )
}

/// Encodes one table in one format into a file being written.
type TableWriter<'a> = dyn FnMut(Table, Format, &mut (dyn Write + Send)) -> anyhow::Result<()> + 'a;

/// [`write_partition`] with the encoding passed in: the seam tests use to make a write fail.
fn write_partition_with(
    out_dir: &Path,
    run_id: &str,
    date: NaiveDate,
    formats: Formats,
    rows: &[(Table, u64)],
    write_table: &mut TableWriter<'_>,
) -> anyhow::Result<PartitionFiles> {
    check_run_id(run_id)?;
    if formats.is_empty() {
        bail!("no output format chosen");
    }
    let part_name = partition_dir_name(date);
    let (staging_root, staged) = staging_paths(out_dir, run_id, date);

    let files = match stage(&staging_root, &staged, date, formats, rows, write_table) {
        Ok(files) => files,
        Err(e) => {
            discard_staging(&staging_root, &staged);
            return Err(e.context(format!("cannot write partition {part_name}")));
        }
    };
    if let Err(e) = layout::commit_staged(out_dir, run_id, date, formats, &staged) {
        discard_staging(&staging_root, &staged);
        return Err(e.context(format!("cannot replace partition {part_name}")));
    }
    discard_staging(&staging_root, &staged);
    Ok(PartitionFiles { date, files })
}

/// Writes every file of the partition into `staged` and makes them durable.
fn stage(
    staging_root: &Path,
    staged: &Path,
    date: NaiveDate,
    formats: Formats,
    rows: &[(Table, u64)],
    write_table: &mut TableWriter<'_>,
) -> anyhow::Result<Vec<FileInfo>> {
    // A leftover of an earlier failed attempt of this very run would otherwise leak stale files.
    remove_dir_if_exists(staged)?;
    let mut files = Vec::new();
    for &(table, row_count) in rows {
        for format in formats.iter() {
            let dir = staged_table_dir(staged, format, table);
            fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create staging directory {}", dir.display()))?;
            let info = write_file_atomically(&dir.join(table.file_name(format)), row_count, |w| {
                write_table(table, format, w)
            })?;
            files.push(FileInfo {
                path: partition_file(format, table, date),
                ..info
            });
        }
    }
    atomic::sync_dir(staged)?;
    atomic::sync_dir(staging_root)?;
    Ok(files)
}

/// Removes a day's staging (whatever the swaps left of it) and the run's staging root if empty:
/// other days of this run may still be staging.
pub(crate) fn discard_staging(staging_root: &Path, staged: &Path) {
    let _ = fs::remove_dir_all(staged);
    let _ = fs::remove_dir(staging_root);
}

/// The run id becomes part of directory names; it must not escape the output directory.
pub(crate) fn check_run_id(run_id: &str) -> anyhow::Result<()> {
    let ok = !run_id.is_empty()
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && run_id != "."
        && run_id != "..";
    if !ok {
        bail!("run id {run_id:?} may only contain letters, digits, '-', '_' and '.'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::sink::cleanup_stale_staging;
    use crate::sink::testdata::{conversation, leg};

    const CONV_CSV: &str = "csv/conversations/date=2026-11-20/conversations.csv";
    const LEGS_CSV: &str = "csv/legs/date=2026-11-20/legs.csv";
    const COMP_CSV: &str = "csv/compliance/date=2026-11-20/compliance.csv";

    /// Sorted relative paths of the files under `dir`.
    fn files(dir: &Path) -> Vec<String> {
        tree(dir)
            .into_iter()
            .filter(|p| !p.ends_with('/'))
            .collect()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap()
    }

    /// Sorted relative paths of every file and directory under `dir` (directories end in `/`).
    fn tree(dir: &Path) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                if p.is_dir() {
                    out.push(format!("{rel}/"));
                    walk(base, &p, out);
                } else {
                    out.push(rel);
                }
            }
        }
        let mut out = Vec::new();
        walk(dir, dir, &mut out);
        out.sort();
        out
    }

    fn csv_of(rows: &[ConversationRow]) -> Vec<u8> {
        let mut buf = Vec::new();
        write_conversations_csv(&mut buf, rows).unwrap();
        buf
    }

    #[test]
    fn partition_layout_and_file_infos() {
        let out = tempfile::tempdir().unwrap();
        let convs = conversation::fixture();
        let legs = leg::fixture();
        let written = write_partition(
            out.path(),
            "run1",
            day(),
            &convs,
            &legs[..1],
            &[],
            Formats::BOTH,
        )
        .unwrap();

        assert_eq!(written.date, day());
        let paths: Vec<_> = written.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(
            paths,
            [
                "csv/conversations/date=2026-11-20/conversations.csv",
                "parquet/conversations/date=2026-11-20/conversations.parquet",
                "csv/legs/date=2026-11-20/legs.csv",
                "parquet/legs/date=2026-11-20/legs.parquet",
                "csv/compliance/date=2026-11-20/compliance.csv",
                "parquet/compliance/date=2026-11-20/compliance.parquet",
            ]
            .map(PathBuf::from)
        );
        let rows: Vec<_> = written.files.iter().map(|f| f.rows).collect();
        assert_eq!(rows, [2, 2, 1, 1, 0, 0]);
        for f in &written.files {
            assert_eq!(
                fs::metadata(out.path().join(&f.path)).unwrap().len(),
                f.bytes
            );
        }
        assert_eq!(fs::read(out.path().join(CONV_CSV)).unwrap(), csv_of(&convs));
        // Each root holds only date= folders; no staging, trash or temp files remain.
        assert_eq!(
            tree(out.path()),
            [
                "csv/",
                "csv/compliance/",
                "csv/compliance/date=2026-11-20/",
                "csv/compliance/date=2026-11-20/compliance.csv",
                "csv/conversations/",
                "csv/conversations/date=2026-11-20/",
                "csv/conversations/date=2026-11-20/conversations.csv",
                "csv/legs/",
                "csv/legs/date=2026-11-20/",
                "csv/legs/date=2026-11-20/legs.csv",
                "parquet/",
                "parquet/compliance/",
                "parquet/compliance/date=2026-11-20/",
                "parquet/compliance/date=2026-11-20/compliance.parquet",
                "parquet/conversations/",
                "parquet/conversations/date=2026-11-20/",
                "parquet/conversations/date=2026-11-20/conversations.parquet",
                "parquet/legs/",
                "parquet/legs/date=2026-11-20/",
                "parquet/legs/date=2026-11-20/legs.parquet",
            ]
        );
    }

    #[test]
    fn rerun_replaces_partition() {
        let out = tempfile::tempdir().unwrap();
        let convs = conversation::fixture();
        write_partition(out.path(), "run1", day(), &convs, &[], &[], Formats::CSV).unwrap();
        write_partition(
            out.path(),
            "run2",
            day(),
            &convs[1..],
            &[],
            &[],
            Formats::CSV,
        )
        .unwrap();
        assert_eq!(
            fs::read(out.path().join(CONV_CSV)).unwrap(),
            csv_of(&convs[1..])
        );
        assert_eq!(files(out.path()), [COMP_CSV, CONV_CSV, LEGS_CSV]);
    }

    #[test]
    fn switching_formats_removes_stale_files() {
        let out = tempfile::tempdir().unwrap();
        let convs = conversation::fixture();
        write_partition(out.path(), "run1", day(), &convs, &[], &[], Formats::BOTH).unwrap();
        write_partition(
            out.path(),
            "run2",
            day(),
            &convs,
            &[],
            &[],
            Formats::PARQUET,
        )
        .unwrap();
        // A format not chosen has no folder at all.
        assert_eq!(
            tree(out.path()),
            [
                "parquet/",
                "parquet/compliance/",
                "parquet/compliance/date=2026-11-20/",
                "parquet/compliance/date=2026-11-20/compliance.parquet",
                "parquet/conversations/",
                "parquet/conversations/date=2026-11-20/",
                "parquet/conversations/date=2026-11-20/conversations.parquet",
                "parquet/legs/",
                "parquet/legs/date=2026-11-20/",
                "parquet/legs/date=2026-11-20/legs.parquet",
            ]
        );
    }

    #[test]
    fn days_of_one_run_share_staging_and_all_land() {
        let out = tempfile::tempdir().unwrap();
        let convs = conversation::fixture();
        let next = day().succ_opt().unwrap();
        write_partition(out.path(), "run1", day(), &convs, &[], &[], Formats::CSV).unwrap();
        write_partition(out.path(), "run1", next, &[], &[], &[], Formats::CSV).unwrap();
        assert_eq!(
            files(out.path()),
            [
                COMP_CSV,
                "csv/compliance/date=2026-11-21/compliance.csv",
                CONV_CSV,
                "csv/conversations/date=2026-11-21/conversations.csv",
                LEGS_CSV,
                "csv/legs/date=2026-11-21/legs.csv",
            ]
        );
    }

    #[test]
    fn failed_write_keeps_previous_partition_and_removes_staging() {
        let out = tempfile::tempdir().unwrap();
        let convs = conversation::fixture();
        let legs = leg::fixture();
        write_partition(out.path(), "run1", day(), &convs, &legs, &[], Formats::BOTH).unwrap();
        let before = tree(out.path());
        let csv_before = fs::read(out.path().join(CONV_CSV)).unwrap();

        // The last file fails half-way, after the others were staged completely.
        let rows = [(Table::Conversations, 1), (Table::Legs, 0)];
        let mut seen_staging = false;
        let err = write_partition_with(
            out.path(),
            "run2",
            day(),
            Formats::BOTH,
            &rows,
            &mut |table, format, w| {
                seen_staging |= out
                    .path()
                    .join(".staging-run2/date=2026-11-20/csv/conversations")
                    .is_dir();
                match (table, format) {
                    (Table::Legs, Format::Parquet) => {
                        w.write_all(b"PAR1 half a file")?;
                        bail!("disk full (simulated)")
                    }
                    (Table::Conversations, Format::Csv) => write_conversations_csv(w, &convs[..1]),
                    _ => Ok(()),
                }
            },
        )
        .unwrap_err();

        assert!(seen_staging);
        assert!(format!("{err:#}").contains("disk full (simulated)"));
        assert_eq!(tree(out.path()), before);
        assert_eq!(fs::read(out.path().join(CONV_CSV)).unwrap(), csv_before);
    }

    #[test]
    fn failed_first_write_creates_nothing() {
        let out = tempfile::tempdir().unwrap();
        let rows = [(Table::Conversations, 0), (Table::Legs, 0)];
        write_partition_with(
            out.path(),
            "run1",
            day(),
            Formats::CSV,
            &rows,
            &mut |_, _, _| bail!("encoder broke"),
        )
        .unwrap_err();
        assert!(tree(out.path()).is_empty());
    }

    #[test]
    fn rejects_run_ids_that_escape_the_output_dir() {
        let out = tempfile::tempdir().unwrap();
        for bad in ["", "..", "a/b", "../x", "a\\b"] {
            assert!(
                write_partition(out.path(), bad, day(), &[], &[], &[], Formats::CSV).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(tree(out.path()).is_empty());
    }

    #[test]
    fn cleanup_removes_leftovers_of_killed_runs_only() {
        let out = tempfile::tempdir().unwrap();
        let o = out.path();
        write_partition(o, "run1", day(), &[], &[], &[], Formats::CSV).unwrap();
        fs::create_dir_all(o.join(".staging-dead/date=2026-11-21")).unwrap();
        fs::write(o.join(".staging-dead/date=2026-11-21/legs.csv"), "x").unwrap();
        fs::create_dir_all(o.join(".trash-dead-2026-11-19")).unwrap();
        fs::write(o.join("summary.json.tmp-4242"), "{").unwrap();
        fs::write(o.join(format!("{LEGS_CSV}.tmp-77")), "x").unwrap();
        fs::create_dir_all(o.join("catalogs")).unwrap();
        fs::write(o.join("catalogs/users.csv.tmp-9"), "x").unwrap();
        // A table root this version does not know is cleaned the same way.
        fs::create_dir_all(o.join("csv/compliance/date=2026-11-20")).unwrap();
        fs::write(
            o.join("csv/compliance/date=2026-11-20/compliance.csv.tmp-5"),
            "x",
        )
        .unwrap();
        fs::write(o.join("summary.json"), "{}").unwrap();
        fs::write(o.join("notes.tmp-draft"), "keep").unwrap();

        let mut removed: Vec<_> = cleanup_stale_staging(o)
            .unwrap()
            .into_iter()
            .map(|p| p.strip_prefix(o).unwrap().to_string_lossy().into_owned())
            .collect();
        removed.sort();
        assert_eq!(
            removed,
            [
                ".staging-dead",
                ".trash-dead-2026-11-19",
                "catalogs/users.csv.tmp-9",
                "csv/compliance/date=2026-11-20/compliance.csv.tmp-5",
                "csv/legs/date=2026-11-20/legs.csv.tmp-77",
                "summary.json.tmp-4242",
            ]
        );
        assert_eq!(
            files(o),
            [
                COMP_CSV,
                CONV_CSV,
                LEGS_CSV,
                "notes.tmp-draft",
                "summary.json"
            ]
        );
        assert!(cleanup_stale_staging(&o.join("missing"))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn cleanup_restores_a_swap_killed_between_its_renames() {
        let out = tempfile::tempdir().unwrap();
        let o = out.path();
        let rows = conversation::fixture();
        write_partition(o, "run1", day(), &rows, &leg::fixture(), &[], Formats::CSV).unwrap();
        let before = fs::read(o.join(CONV_CSV)).unwrap();
        // A kill after the first rename of run2's swap of csv/conversations: the old day moved
        // aside, the new one complete in staging, no csv/conversations/date=2026-11-20.
        let root_day = o.join("csv/conversations/date=2026-11-20");
        fs::rename(
            &root_day,
            o.join(".trash-run2-csv-conversations-2026-11-20"),
        )
        .unwrap();
        let staged = o.join(".staging-run2/date=2026-11-20/csv/conversations");
        fs::create_dir_all(&staged).unwrap();
        fs::write(staged.join("conversations.csv"), "new").unwrap();
        // A format being dropped: its root's day was moved aside on purpose.
        fs::create_dir_all(o.join(".trash-run2-parquet-legs-2026-11-20")).unwrap();

        let mut removed = cleanup_stale_staging(o).unwrap();
        removed.sort();
        assert_eq!(
            removed,
            [
                o.join(".staging-run2"),
                o.join(".trash-run2-parquet-legs-2026-11-20")
            ]
        );
        assert_eq!(
            fs::read(o.join(CONV_CSV)).unwrap(),
            before,
            "the only complete copy is back under its name"
        );
        assert_eq!(files(o), [COMP_CSV, CONV_CSV, LEGS_CSV]);
    }
}
