//! Incremental day partitions: rows arrive in chunks and go straight to the staged files, so a day of
//! any size is written with the memory of one chunk. At `finish` every file is closed (Parquet footer),
//! fsynced and renamed, and the staged folders replace `date=D` in every dataset root exactly as
//! [`super::partition::write_partition`] does. Dropped without `finish`, nothing under a final name changes and the staging is removed.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use parquet::arrow::ArrowWriter;

use super::atomic::{self, AtomicFile};
use super::file_info::{FileInfo, PartitionFiles};
use super::format::{Format, Formats};
use super::layout::{
    self, partition_dir_name, partition_file, remove_dir_if_exists, staged_table_dir, staging_paths,
};
use super::partition::{check_run_id, discard_staging};
use super::table::Table;
use crate::record::ComplianceRow;
use crate::record::{ConversationRow, LegRow};

/// One table's open file in one format.
enum Open {
    Csv(::csv::Writer<AtomicFile>),
    Parquet(ArrowWriter<AtomicFile>),
}

pub struct PartitionWriter {
    out_dir: PathBuf,
    run_id: String,
    date: NaiveDate,
    formats: Formats,
    staging_root: PathBuf,
    staged: PathBuf,
    files: Vec<(Table, Format, Open)>,
    conversations: u64,
    legs: u64,
    compliance: u64,
    finished: bool,
}

impl PartitionWriter {
    /// Opens every file of the partition in a fresh staging folder.
    pub fn create(
        out_dir: &Path,
        run_id: &str,
        date: NaiveDate,
        formats: Formats,
    ) -> anyhow::Result<PartitionWriter> {
        check_run_id(run_id)?;
        anyhow::ensure!(!formats.is_empty(), "no output format chosen");
        let (staging_root, staged) = staging_paths(out_dir, run_id, date);
        let mut w = PartitionWriter {
            out_dir: out_dir.to_path_buf(),
            run_id: run_id.to_string(),
            date,
            formats,
            staging_root,
            staged,
            files: Vec::new(),
            conversations: 0,
            legs: 0,
            compliance: 0,
            finished: false,
        };
        remove_dir_if_exists(&w.staged)?;
        for &table in Table::ALL {
            for format in formats.iter() {
                let dir = staged_table_dir(&w.staged, format, table);
                fs::create_dir_all(&dir).with_context(|| {
                    format!("cannot create staging directory {}", dir.display())
                })?;
                let path = dir.join(table.file_name(format));
                let file = AtomicFile::create(&path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                let open = match format {
                    Format::Csv => {
                        let mut csv = super::csv::writer(file);
                        csv.write_record(table.columns())?;
                        Open::Csv(csv)
                    }
                    Format::Parquet => {
                        let schema = match table {
                            Table::Conversations => super::parquet::conversations_schema(),
                            Table::Legs => super::parquet::legs_schema(),
                            Table::Compliance => super::compliance::compliance_schema(),
                        };
                        Open::Parquet(ArrowWriter::try_new(
                            file,
                            schema,
                            Some(super::parquet::writer_properties()),
                        )?)
                    }
                };
                w.files.push((table, format, open));
            }
        }
        Ok(w)
    }

    /// Appends a chunk of rows to every file.
    pub fn append(
        &mut self,
        conversations: &[ConversationRow],
        legs: &[LegRow],
    ) -> anyhow::Result<()> {
        for (table, _, open) in &mut self.files {
            match (table, open) {
                (Table::Conversations, Open::Csv(w)) => {
                    super::csv::append_conversations(w, conversations)?
                }
                (Table::Legs, Open::Csv(w)) => super::csv::append_legs(w, legs)?,
                (Table::Conversations, Open::Parquet(w)) if !conversations.is_empty() => {
                    w.write(&super::parquet::conversations_batch(conversations)?)?
                }
                (Table::Legs, Open::Parquet(w)) if !legs.is_empty() => {
                    w.write(&super::parquet::legs_batch(legs)?)?
                }
                _ => {}
            }
        }
        self.conversations += conversations.len() as u64;
        self.legs += legs.len() as u64;
        Ok(())
    }

    /// Writes the day's `compliance` rows (once, when the day's legs are all counted).
    pub fn write_compliance(&mut self, rows: &[ComplianceRow]) -> anyhow::Result<()> {
        for (table, _, open) in &mut self.files {
            match (table, open) {
                (Table::Compliance, Open::Csv(w)) => super::compliance::append_csv(w, rows)?,
                (Table::Compliance, Open::Parquet(w)) if !rows.is_empty() => {
                    w.write(&super::compliance::compliance_batch(rows)?)?
                }
                _ => {}
            }
        }
        self.compliance += rows.len() as u64;
        Ok(())
    }

    /// Closes, syncs and commits every file, then swaps the partition into place.
    pub fn finish(mut self) -> anyhow::Result<PartitionFiles> {
        let part_name = partition_dir_name(self.date);
        let mut infos = Vec::new();
        for (table, format, open) in std::mem::take(&mut self.files) {
            let file = match open {
                Open::Csv(w) => w
                    .into_inner()
                    .map_err(|e| anyhow::anyhow!("cannot flush csv: {}", e.error()))?,
                // into_inner writes the footer; without it the file is unreadable.
                Open::Parquet(w) => w.into_inner().context("finishing parquet file")?,
            };
            let bytes = file.commit()?;
            let rows = match table {
                Table::Conversations => self.conversations,
                Table::Legs => self.legs,
                Table::Compliance => self.compliance,
            };
            infos.push(FileInfo {
                path: partition_file(format, table, self.date),
                bytes,
                rows,
            });
        }
        atomic::sync_dir(&self.staged)?;
        atomic::sync_dir(&self.staging_root)?;
        layout::commit_staged(
            &self.out_dir,
            &self.run_id,
            self.date,
            self.formats,
            &self.staged,
        )
        .with_context(|| format!("cannot replace partition {part_name}"))?;
        self.finished = true;
        discard_staging(&self.staging_root, &self.staged);
        Ok(PartitionFiles {
            date: self.date,
            files: infos,
        })
    }
}

impl Drop for PartitionWriter {
    fn drop(&mut self) {
        if !self.finished {
            // Open files delete their temporaries when dropped; then the folder goes.
            self.files.clear();
            discard_staging(&self.staging_root, &self.staged);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::testdata::{conversation, leg};

    #[test]
    fn chunked_writes_equal_one_shot_writes() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let convs: Vec<ConversationRow> = conversation::many(10);
        let legs: Vec<LegRow> = leg::fixture();
        assert!(legs.len() >= 2);
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        super::super::write_partition(a.path(), "r1", day, &convs, &legs, &[], Formats::BOTH)
            .unwrap();
        let mut w = PartitionWriter::create(b.path(), "r1", day, Formats::BOTH).unwrap();
        w.append(&convs[..3], &legs[..1]).unwrap();
        w.append(&[], &[]).unwrap();
        w.append(&convs[3..], &legs[1..]).unwrap();
        let files = w.finish().unwrap();
        assert_eq!(files.files.len(), 6);
        for (table, format) in [
            (Table::Conversations, Format::Csv),
            (Table::Legs, Format::Csv),
        ] {
            let p = partition_file(format, table, day);
            let name = p.display();
            assert_eq!(
                fs::read(a.path().join(&p)).unwrap(),
                fs::read(b.path().join(&p)).unwrap(),
                "{name}"
            );
        }
        for table in [Table::Conversations, Table::Legs] {
            let name = partition_file(Format::Parquet, table, day);
            let name = name.display();
            let read = |dir: &Path| {
                let f =
                    fs::File::open(dir.join(partition_file(Format::Parquet, table, day))).unwrap();
                let r = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
                    .unwrap()
                    .build()
                    .unwrap();
                r.map(|b| b.unwrap()).collect::<Vec<_>>()
            };
            let (x, y) = (read(a.path()), read(b.path()));
            let cat = |v: Vec<arrow::record_batch::RecordBatch>| {
                arrow::compute::concat_batches(&v[0].schema(), &v).unwrap()
            };
            assert_eq!(cat(x), cat(y), "{name}");
        }
        assert!(!b.path().join(".staging-r1").exists());
    }

    #[test]
    fn dropped_writer_leaves_the_old_partition() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let rows = conversation::many(3);
        super::super::write_partition(dir.path(), "r1", day, &rows[..1], &[], &[], Formats::CSV)
            .unwrap();
        let conv_csv = partition_file(Format::Csv, Table::Conversations, day);
        let before = fs::read(dir.path().join(&conv_csv)).unwrap();
        let mut w = PartitionWriter::create(dir.path(), "r2", day, Formats::BOTH).unwrap();
        w.append(&rows[1..], &[]).unwrap();
        drop(w);
        assert_eq!(fs::read(dir.path().join(&conv_csv)).unwrap(), before);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("csv")]);
        assert!(!dir.path().join("parquet").exists());
    }
}
