//! Rebuilding `partitions.json` from the partition folders when the file is missing or unreadable.
//!
//! An index read as empty once made lookback forget every unfinished day and the next write keep only
//! the new days. The `<format>/<table>/date=D` folders carry enough to rebuild it: each partition's rows, and whether any row
//! is `in_progress` or `too_recent` (then the day is not final).

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::Path;

use anyhow::Context;
use chrono::NaiveDate;

use crate::report::IndexEntry;
use crate::sink::{dataset_root, partition_file, Format, Table};

/// `run_id` of an entry rebuilt from its folder; `as_of` is not recorded in the files.
pub const REBUILT: &str = "rebuilt";

/// What a partition folder's conversations say.
struct FolderFacts {
    conversations: u64,
    unfinished: bool,
}

fn unfinished_label(label: &str) -> bool {
    matches!(label, "in_progress" | "too_recent")
}

/// Reads one day's conversations file: `csv/conversations/date=D/conversations.csv`, else the
/// Parquet one.
fn day_facts(out: &Path, date: NaiveDate) -> anyhow::Result<FolderFacts> {
    let csv_path = out.join(partition_file(Format::Csv, Table::Conversations, date));
    if csv_path.is_file() {
        let mut r = csv::Reader::from_path(&csv_path)
            .with_context(|| format!("cannot read {}", csv_path.display()))?;
        let col = r
            .headers()?
            .iter()
            .position(|h| h == "classification")
            .context("no classification column")?;
        let mut facts = FolderFacts {
            conversations: 0,
            unfinished: false,
        };
        for rec in r.records() {
            let rec = rec.with_context(|| format!("cannot read {}", csv_path.display()))?;
            facts.conversations += 1;
            facts.unfinished |= rec.get(col).is_some_and(unfinished_label);
        }
        return Ok(facts);
    }
    let pq_path = out.join(partition_file(Format::Parquet, Table::Conversations, date));
    let file =
        File::open(&pq_path).with_context(|| format!("cannot open {}", pq_path.display()))?;
    let builder = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)?;
    let col = builder
        .schema()
        .index_of("classification")
        .context("no classification column")?;
    let mask = parquet::arrow::ProjectionMask::roots(builder.parquet_schema(), [col]);
    let mut facts = FolderFacts {
        conversations: 0,
        unfinished: false,
    };
    for batch in builder.with_projection(mask).build()? {
        let batch = batch?;
        let labels = arrow::compute::cast(batch.column(0), &arrow::datatypes::DataType::Utf8)?;
        let labels = labels
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .context("classification is not text")?;
        facts.conversations += batch.num_rows() as u64;
        facts.unfinished |= labels.iter().flatten().any(unfinished_label);
    }
    Ok(facts)
}

/// The days that have a folder in any dataset root of `out`.
pub(crate) fn partition_dates(out: &Path) -> BTreeSet<NaiveDate> {
    let mut dates = BTreeSet::new();
    for format in Format::ALL {
        for &table in Table::ALL {
            let Ok(entries) = std::fs::read_dir(out.join(dataset_root(format, table))) else {
                continue;
            };
            dates.extend(entries.flatten().filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("date="))
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            }));
        }
    }
    dates
}

/// The index as the partition folders of `out` show it. A day whose conversations cannot be read
/// counts as not final, so lookback redoes it.
pub fn rebuild(out: &Path) -> BTreeMap<NaiveDate, IndexEntry> {
    let mut index = BTreeMap::new();
    for date in partition_dates(out) {
        let (conversations, is_final) = match day_facts(out, date) {
            Ok(f) => (f.conversations, !f.unfinished),
            Err(err) => {
                tracing::warn!(date = %date, "cannot read the conversations of date={date}: {err:#}; the day counts as not final");
                (0, false)
            }
        };
        index.insert(
            date,
            IndexEntry {
                is_final,
                run_id: REBUILT.to_string(),
                as_of: "unknown".to_string(),
                conversations,
                // Not recorded in the files; the day's next run writes it again.
                compliance: None,
            },
        );
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::testdata::{conversation, leg};
    use crate::sink::Formats;

    #[test]
    fn rebuilds_rows_and_finality_from_csv_and_parquet() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        let d1 = NaiveDate::from_ymd_opt(2026, 11, 19).unwrap();
        let d2 = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let mut done = conversation::many(2);
        for r in &mut done {
            r.classification = crate::record::ConversationLabel::Coded;
        }
        let mut open = done.clone();
        open.push(done[0].clone());
        open[2].conversation_id = "c-3".into();
        open[1].classification = crate::record::ConversationLabel::TooRecent;
        let legs = leg::fixture();
        crate::sink::write_partition(out, "r1", d1, &done, &legs, &[], Formats::CSV).unwrap();
        crate::sink::write_partition(out, "r1", d2, &open, &legs, &[], Formats::PARQUET).unwrap();
        let index = rebuild(out);
        assert_eq!(
            index
                .iter()
                .map(|(d, e)| (*d, e.conversations, e.is_final, e.run_id.as_str()))
                .collect::<Vec<_>>(),
            vec![(d1, 2, true, REBUILT), (d2, 3, false, REBUILT)]
        );
    }
}
