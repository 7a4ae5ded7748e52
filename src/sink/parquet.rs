//! Parquet encoding of the report rows: the Arrow schemas, row-to-batch conversion, and writer
//! settings (Snappy, dictionary pages, row groups of at most [`ROW_GROUP_ROWS`] rows, file
//! metadata naming the writer version and schema version).
//!
//! Enum-like columns stay Arrow `Utf8` (dictionary encoding happens only inside the Parquet pages)
//! so every reader sees plain strings. The `date` partition column is not stored: readers derive it
//! from the Hive folder name. Does not own file naming or atomicity (see [`super::atomic`]).

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use arrow::array::{
    ArrayRef, BooleanArray, Int32Array, Int64Array, StringArray, TimestampMillisecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::record::{ConversationRow, LegRow};

/// Largest row group written. The open group of every file is held in memory until it is full, so
/// this bounds the writer's memory: 64k rows held about 36 MB at the peak of a 100k-conversation day,
/// 16k rows cost 2-3 % more file and under 1 % more CPU (issue 14, docs/benchmarks.md). Still large
/// enough for good compression and few enough groups for readers.
pub const ROW_GROUP_ROWS: usize = 16 * 1024;

/// Version of the column layout; bump when a column changes type or meaning.
/// 2: `queue_name` and `agent_name` added; `wrapup_code_name` is null only without a code.
/// 3: `reportable_code`, `queue_wrapup_prompt`, `queue_acw_timeout_ms`, `config_mismatch`; the
/// `compliance` table.
pub const SCHEMA_VERSION: &str = "3";

/// File metadata key holding the crate version that wrote the file.
pub const VERSION_KEY: &str = "wrapup_audit_version";
/// File metadata key holding [`SCHEMA_VERSION`].
pub const SCHEMA_KEY: &str = "wrapup_audit_schema";

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// Arrow schema of `conversations.parquet`; field names are [`super::table::CONVERSATION_COLUMNS`].
pub fn conversations_schema() -> SchemaRef {
    use DataType::{Int32, Int64, Utf8};
    Arc::new(Schema::new(vec![
        Field::new("conversation_id", Utf8, false),
        Field::new("conversation_start", timestamp(), false),
        Field::new("conversation_end", timestamp(), true),
        Field::new("media_type", Utf8, true),
        Field::new("originating_direction", Utf8, true),
        Field::new("queue_id", Utf8, true),
        Field::new("queue_name", Utf8, true),
        Field::new("agent_legs", Int32, false),
        Field::new("classification", Utf8, false),
        Field::new("reason", Utf8, false),
        Field::new("wrapup_code_id", Utf8, true),
        Field::new("wrapup_code_name", Utf8, true),
        Field::new("code_source", Utf8, true),
        Field::new("acw_ms", Int64, false),
        Field::new("handle_ms", Int64, false),
        Field::new("lookup", Utf8, false),
        Field::new("ended_minutes_before_as_of", Int64, true),
        Field::new("reportable_code", Utf8, true),
        Field::new("queue_wrapup_prompt", Utf8, true),
        Field::new("queue_acw_timeout_ms", Int64, true),
        Field::new("config_mismatch", Utf8, true),
    ]))
}

/// Arrow schema of `legs.parquet`; field names are [`super::table::LEG_COLUMNS`].
pub fn legs_schema() -> SchemaRef {
    use DataType::{Boolean, Int64, Utf8};
    Arc::new(Schema::new(vec![
        Field::new("conversation_id", Utf8, false),
        Field::new("conversation_start", timestamp(), false),
        Field::new("participant_id", Utf8, false),
        Field::new("user_id", Utf8, true),
        Field::new("agent_name", Utf8, true),
        Field::new("purpose", Utf8, false),
        Field::new("media_type", Utf8, true),
        Field::new("queue_id", Utf8, true),
        Field::new("queue_name", Utf8, true),
        Field::new("connected", Boolean, false),
        Field::new("label", Utf8, false),
        Field::new("analytics_wrapup_code", Utf8, true),
        Field::new("lookup_wrapup_code", Utf8, true),
        Field::new("wrapup_code_name", Utf8, true),
        Field::new("wrapup_required", Boolean, true),
        Field::new("wrapup_prompt", Utf8, true),
        Field::new("wrapup_skipped", Boolean, true),
        Field::new("acw_skipped", Boolean, false),
        Field::new("acw_ms", Int64, false),
        Field::new("handle_ms", Int64, false),
        Field::new("talk_ms", Int64, false),
        Field::new("detail", Utf8, true),
        Field::new("reportable_code", Utf8, true),
        Field::new("queue_wrapup_prompt", Utf8, true),
        Field::new("queue_acw_timeout_ms", Int64, true),
        Field::new("config_mismatch", Utf8, true),
    ]))
}

/// Converts conversation rows into one record batch of [`conversations_schema`].
pub fn conversations_batch(rows: &[ConversationRow]) -> anyhow::Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        strings(rows, |r| Some(r.conversation_id.as_str())),
        timestamps(rows, |r| Some(r.conversation_start)),
        timestamps(rows, |r| r.conversation_end),
        strings(rows, |r| r.media_type.as_deref()),
        strings(rows, |r| r.originating_direction.as_deref()),
        strings(rows, |r| r.queue_id.as_deref()),
        strings(rows, |r| r.queue_name.as_deref()),
        Arc::new(
            rows.iter()
                .map(|r| Some(r.agent_legs))
                .collect::<Int32Array>(),
        ),
        strings(rows, |r| Some(r.classification.as_str())),
        strings(rows, |r| Some(r.reason.as_str())),
        strings(rows, |r| r.wrapup_code_id.as_deref()),
        strings(rows, |r| r.wrapup_code_name.as_deref()),
        strings(rows, |r| r.code_source.map(|c| c.as_str())),
        int64s(rows, |r| Some(r.acw_ms)),
        int64s(rows, |r| Some(r.handle_ms)),
        strings(rows, |r| Some(r.lookup.as_str())),
        int64s(rows, |r| r.ended_minutes_before_as_of),
        strings(rows, |r| r.reportable_code.as_deref()),
        strings(rows, |r| r.queue_wrapup_prompt.as_deref()),
        int64s(rows, |r| r.queue_acw_timeout_ms),
        strings(rows, |r| r.config_mismatch.map(|m| m.as_str())),
    ];
    RecordBatch::try_new(conversations_schema(), columns).context("building conversations batch")
}

/// Converts leg rows into one record batch of [`legs_schema`].
pub fn legs_batch(rows: &[LegRow]) -> anyhow::Result<RecordBatch> {
    let columns: Vec<ArrayRef> = vec![
        strings(rows, |r| Some(r.conversation_id.as_str())),
        timestamps(rows, |r| Some(r.conversation_start)),
        strings(rows, |r| Some(r.participant_id.as_str())),
        strings(rows, |r| r.user_id.as_deref()),
        strings(rows, |r| r.agent_name.as_deref()),
        strings(rows, |r| Some(r.purpose.as_str())),
        strings(rows, |r| r.media_type.as_deref()),
        strings(rows, |r| r.queue_id.as_deref()),
        strings(rows, |r| r.queue_name.as_deref()),
        booleans(rows, |r| Some(r.connected)),
        strings(rows, |r| Some(r.label.as_str())),
        strings(rows, |r| r.analytics_wrapup_code.as_deref()),
        strings(rows, |r| r.lookup_wrapup_code.as_deref()),
        strings(rows, |r| r.wrapup_code_name.as_deref()),
        booleans(rows, |r| r.wrapup_required),
        strings(rows, |r| r.wrapup_prompt.as_deref()),
        booleans(rows, |r| r.wrapup_skipped),
        booleans(rows, |r| Some(r.acw_skipped)),
        int64s(rows, |r| Some(r.acw_ms)),
        int64s(rows, |r| Some(r.handle_ms)),
        int64s(rows, |r| Some(r.talk_ms)),
        strings(rows, |r| r.detail.as_deref()),
        strings(rows, |r| r.reportable_code.as_deref()),
        strings(rows, |r| r.queue_wrapup_prompt.as_deref()),
        int64s(rows, |r| r.queue_acw_timeout_ms),
        strings(rows, |r| r.config_mismatch.map(|m| m.as_str())),
    ];
    RecordBatch::try_new(legs_schema(), columns).context("building legs batch")
}

/// Writes `conversations.parquet` to `w` and finishes the file (footer included).
pub fn write_conversations_parquet<W: Write + Send>(
    w: W,
    rows: &[ConversationRow],
) -> anyhow::Result<()> {
    write_chunked(w, conversations_schema(), rows, conversations_batch)
}

/// Writes `legs.parquet` to `w` and finishes the file (footer included).
pub fn write_legs_parquet<W: Write + Send>(w: W, rows: &[LegRow]) -> anyhow::Result<()> {
    write_chunked(w, legs_schema(), rows, legs_batch)
}

/// Writer settings shared by both files.
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        // `created_by` keeps parquet-rs's own value: readers use it to work around known writer
        // bugs, so our identity goes into key-value metadata instead.
        .set_key_value_metadata(Some(vec![
            KeyValue::new(
                VERSION_KEY.to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            KeyValue::new(SCHEMA_KEY.to_string(), SCHEMA_VERSION.to_string()),
        ]))
        .build()
}

/// Converts and writes `rows` one row group's worth at a time, so memory holds at most one
/// chunk of Arrow arrays besides the rows themselves.
fn write_chunked<W: Write + Send, R>(
    w: W,
    schema: SchemaRef,
    rows: &[R],
    to_batch: fn(&[R]) -> anyhow::Result<RecordBatch>,
) -> anyhow::Result<()> {
    let mut writer = ArrowWriter::try_new(w, schema, Some(writer_properties()))
        .context("creating parquet writer")?;
    for chunk in rows.chunks(ROW_GROUP_ROWS) {
        writer
            .write(&to_batch(chunk)?)
            .context("writing parquet rows")?;
    }
    // close() writes the footer; without it the file is unreadable.
    writer.close().context("finishing parquet file")?;
    Ok(())
}

fn strings<'a, R>(rows: &'a [R], f: impl Fn(&'a R) -> Option<&'a str>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<StringArray>())
}

fn timestamps<R>(rows: &[R], f: impl Fn(&R) -> Option<DateTime<Utc>>) -> ArrayRef {
    let array: TimestampMillisecondArray = rows
        .iter()
        .map(|r| f(r).map(|t| t.timestamp_millis()))
        .collect();
    Arc::new(array.with_timezone("UTC"))
}

fn int64s<R>(rows: &[R], f: impl Fn(&R) -> Option<i64>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<Int64Array>())
}

fn booleans<R>(rows: &[R], f: impl Fn(&R) -> Option<bool>) -> ArrayRef {
    Arc::new(rows.iter().map(f).collect::<BooleanArray>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{
        CodeSource, ConversationLabel, ConversationRow, LegLabel, LegRow, LookupStatus,
    };
    use crate::sink::testdata::{conversation, leg};
    use crate::sink::{CONVERSATION_COLUMNS, LEG_COLUMNS};
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Int32Type, Int64Type, TimestampMillisecondType};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::metadata::ParquetMetaData;
    use std::io::{Seek, SeekFrom};

    /// Reads a Parquet file from memory. parquet 60 reads from `bytes::Bytes` or `File`; this crate
    /// does not depend on `bytes`, so the buffer goes through an anonymous temp file.
    fn read_all(buf: &[u8]) -> (SchemaRef, Arc<ParquetMetaData>, Vec<RecordBatch>) {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(buf).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        let schema = builder.schema().clone();
        let metadata = builder.metadata().clone();
        let batches = builder
            .build()
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        (schema, metadata, batches)
    }

    fn strs(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        batch
            .column_by_name(name)
            .unwrap()
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(String::from))
            .collect()
    }

    fn i64s(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
        let col = batch.column_by_name(name).unwrap();
        col.as_primitive::<Int64Type>().iter().collect()
    }

    fn bools(batch: &RecordBatch, name: &str) -> Vec<Option<bool>> {
        batch
            .column_by_name(name)
            .unwrap()
            .as_boolean()
            .iter()
            .collect()
    }

    fn times(batch: &RecordBatch, name: &str) -> Vec<Option<DateTime<Utc>>> {
        batch
            .column_by_name(name)
            .unwrap()
            .as_primitive::<TimestampMillisecondType>()
            .iter()
            .map(|v| v.map(|ms| DateTime::from_timestamp_millis(ms).unwrap()))
            .collect()
    }

    fn enum_from<T: Copy>(all: &[T], name: fn(T) -> &'static str, s: &str) -> T {
        *all.iter()
            .find(|v| name(**v) == s)
            .unwrap_or_else(|| panic!("unknown value {s}"))
    }

    /// Rebuilds conversation rows from a batch read back from Parquet.
    fn conversations_from(batch: &RecordBatch) -> Vec<ConversationRow> {
        let agent_legs: Vec<i32> = batch
            .column_by_name("agent_legs")
            .unwrap()
            .as_primitive::<Int32Type>()
            .values()
            .to_vec();
        let (ids, starts, ends) = (
            strs(batch, "conversation_id"),
            times(batch, "conversation_start"),
            times(batch, "conversation_end"),
        );
        let (media, dir, queue, queue_name) = (
            strs(batch, "media_type"),
            strs(batch, "originating_direction"),
            strs(batch, "queue_id"),
            strs(batch, "queue_name"),
        );
        let (class, reason, code, name, source) = (
            strs(batch, "classification"),
            strs(batch, "reason"),
            strs(batch, "wrapup_code_id"),
            strs(batch, "wrapup_code_name"),
            strs(batch, "code_source"),
        );
        let (acw, handle, lookup, ended) = (
            i64s(batch, "acw_ms"),
            i64s(batch, "handle_ms"),
            strs(batch, "lookup"),
            i64s(batch, "ended_minutes_before_as_of"),
        );
        let (rep, qp, qt, mm) = (
            strs(batch, "reportable_code"),
            strs(batch, "queue_wrapup_prompt"),
            i64s(batch, "queue_acw_timeout_ms"),
            strs(batch, "config_mismatch"),
        );
        let sources = [CodeSource::Analytics, CodeSource::ConversationApi];
        let lookups = [
            LookupStatus::NotNeeded,
            LookupStatus::Done,
            LookupStatus::Failed,
            LookupStatus::OverBudget,
            LookupStatus::Disabled,
        ];
        (0..batch.num_rows())
            .map(|i| ConversationRow {
                conversation_id: ids[i].clone().unwrap(),
                conversation_start: starts[i].unwrap(),
                conversation_end: ends[i],
                media_type: media[i].clone(),
                originating_direction: dir[i].clone(),
                queue_id: queue[i].clone(),
                queue_name: queue_name[i].clone(),
                agent_legs: agent_legs[i],
                classification: ConversationLabel::parse(class[i].as_deref().unwrap()).unwrap(),
                reason: reason[i].clone().unwrap(),
                wrapup_code_id: code[i].clone(),
                wrapup_code_name: name[i].clone(),
                code_source: source[i]
                    .as_deref()
                    .map(|s| enum_from(&sources, CodeSource::as_str, s)),
                acw_ms: acw[i].unwrap(),
                handle_ms: handle[i].unwrap(),
                lookup: enum_from(
                    &lookups,
                    LookupStatus::as_str,
                    lookup[i].as_deref().unwrap(),
                ),
                ended_minutes_before_as_of: ended[i],
                reportable_code: rep[i].clone(),
                queue_wrapup_prompt: qp[i].clone(),
                queue_acw_timeout_ms: qt[i],
                config_mismatch: mm[i]
                    .as_deref()
                    .map(|m| crate::record::Mismatch::parse(m).unwrap()),
            })
            .collect()
    }

    fn legs_from(batch: &RecordBatch) -> Vec<LegRow> {
        let labels = LegLabel::ALL;
        let s = |n| strs(batch, n);
        let (ids, starts, pids, users, purposes) = (
            s("conversation_id"),
            times(batch, "conversation_start"),
            s("participant_id"),
            s("user_id"),
            s("purpose"),
        );
        let (agents, queue_names) = (s("agent_name"), s("queue_name"));
        let (media, queue, connected, label) = (
            s("media_type"),
            s("queue_id"),
            bools(batch, "connected"),
            s("label"),
        );
        let (a_code, l_code, name, required, prompt, skipped, acw_skipped) = (
            s("analytics_wrapup_code"),
            s("lookup_wrapup_code"),
            s("wrapup_code_name"),
            bools(batch, "wrapup_required"),
            s("wrapup_prompt"),
            bools(batch, "wrapup_skipped"),
            bools(batch, "acw_skipped"),
        );
        let (acw, handle, talk, detail) = (
            i64s(batch, "acw_ms"),
            i64s(batch, "handle_ms"),
            i64s(batch, "talk_ms"),
            s("detail"),
        );
        let (rep, qp, qt, mm) = (
            strs(batch, "reportable_code"),
            strs(batch, "queue_wrapup_prompt"),
            i64s(batch, "queue_acw_timeout_ms"),
            strs(batch, "config_mismatch"),
        );
        (0..batch.num_rows())
            .map(|i| LegRow {
                conversation_id: ids[i].clone().unwrap(),
                conversation_start: starts[i].unwrap(),
                participant_id: pids[i].clone().unwrap(),
                user_id: users[i].clone(),
                agent_name: agents[i].clone(),
                purpose: purposes[i].clone().unwrap(),
                media_type: media[i].clone(),
                queue_id: queue[i].clone(),
                queue_name: queue_names[i].clone(),
                connected: connected[i].unwrap(),
                label: enum_from(&labels, LegLabel::as_str, label[i].as_deref().unwrap()),
                analytics_wrapup_code: a_code[i].clone(),
                lookup_wrapup_code: l_code[i].clone(),
                wrapup_code_name: name[i].clone(),
                wrapup_required: required[i],
                wrapup_prompt: prompt[i].clone(),
                wrapup_skipped: skipped[i],
                acw_skipped: acw_skipped[i].unwrap(),
                acw_ms: acw[i].unwrap(),
                handle_ms: handle[i].unwrap(),
                talk_ms: talk[i].unwrap(),
                detail: detail[i].clone(),
                reportable_code: rep[i].clone(),
                queue_wrapup_prompt: qp[i].clone(),
                queue_acw_timeout_ms: qt[i],
                config_mismatch: mm[i]
                    .as_deref()
                    .map(|m| crate::record::Mismatch::parse(m).unwrap()),
            })
            .collect()
    }

    fn assert_fields_match(read: &Schema, expected: &Schema) {
        assert_eq!(read.fields().len(), expected.fields().len());
        for (r, e) in read.fields().iter().zip(expected.fields()) {
            assert_eq!(r.name(), e.name());
            assert_eq!(r.data_type(), e.data_type(), "type of {}", e.name());
            assert_eq!(
                r.is_nullable(),
                e.is_nullable(),
                "nullability of {}",
                e.name()
            );
        }
    }

    #[test]
    fn schemas_match_column_constants() {
        let names =
            |s: SchemaRef| -> Vec<String> { s.fields().iter().map(|f| f.name().clone()).collect() };
        assert_eq!(names(conversations_schema()), CONVERSATION_COLUMNS);
        assert_eq!(names(legs_schema()), LEG_COLUMNS);
    }

    #[test]
    fn conversations_parquet_round_trip() {
        let rows = conversation::fixture();
        let mut buf = Vec::new();
        write_conversations_parquet(&mut buf, &rows).unwrap();
        assert_eq!(&buf[..4], b"PAR1");

        let (schema, metadata, batches) = read_all(&buf);
        assert_fields_match(&schema, &conversations_schema());
        assert!(schema.field_with_name("date").is_err());
        let read: Vec<_> = batches.iter().flat_map(conversations_from).collect();
        assert_eq!(read, rows);

        let kv = metadata.file_metadata().key_value_metadata().unwrap();
        let get = |k: &str| kv.iter().find(|e| e.key == k).and_then(|e| e.value.clone());
        assert_eq!(get(VERSION_KEY).as_deref(), Some(env!("CARGO_PKG_VERSION")));
        assert_eq!(get(SCHEMA_KEY).as_deref(), Some(SCHEMA_VERSION));
        for col in metadata.row_group(0).columns() {
            assert_eq!(col.compression(), Compression::SNAPPY);
        }
    }

    #[test]
    fn legs_parquet_round_trip() {
        let rows = leg::fixture();
        let mut buf = Vec::new();
        write_legs_parquet(&mut buf, &rows).unwrap();
        let (schema, _, batches) = read_all(&buf);
        assert_fields_match(&schema, &legs_schema());
        let read: Vec<_> = batches.iter().flat_map(legs_from).collect();
        assert_eq!(read, rows);
    }

    #[test]
    fn enum_columns_are_plain_utf8_with_dictionary_pages() {
        let rows = conversation::many(1000);
        let mut buf = Vec::new();
        write_conversations_parquet(&mut buf, &rows).unwrap();
        let (schema, metadata, _) = read_all(&buf);
        assert_eq!(
            schema
                .field_with_name("classification")
                .unwrap()
                .data_type(),
            &DataType::Utf8
        );
        let idx = CONVERSATION_COLUMNS
            .iter()
            .position(|c| *c == "classification")
            .unwrap();
        let chunk = metadata.row_group(0).column(idx);
        assert!(chunk.dictionary_page_offset().is_some());
    }

    #[test]
    fn many_rows_split_into_row_groups_in_order() {
        let rows = conversation::many(ROW_GROUP_ROWS + ROW_GROUP_ROWS / 2);
        let mut buf = Vec::new();
        write_conversations_parquet(&mut buf, &rows).unwrap();
        let (_, metadata, batches) = read_all(&buf);
        let groups: Vec<i64> = metadata.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(
            groups,
            vec![ROW_GROUP_ROWS as i64, (ROW_GROUP_ROWS / 2) as i64]
        );
        let read: Vec<_> = batches.iter().flat_map(conversations_from).collect();
        assert_eq!(read.len(), rows.len());
        assert!(read == rows, "rows differ after round trip");
    }

    #[test]
    fn empty_input_writes_a_readable_file() {
        let mut buf = Vec::new();
        write_legs_parquet(&mut buf, &[]).unwrap();
        let (schema, metadata, batches) = read_all(&buf);
        assert_fields_match(&schema, &legs_schema());
        assert_eq!(metadata.file_metadata().num_rows(), 0);
        assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    }

    #[test]
    fn batches_reject_nothing_and_keep_nulls() {
        let batch = conversations_batch(&conversation::fixture()).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let end = batch.column_by_name("conversation_end").unwrap();
        assert!(end.is_valid(0) && end.is_null(1));
        let legs = legs_batch(&leg::fixture()).unwrap();
        assert_eq!(
            legs.column_by_name("wrapup_required").unwrap().null_count(),
            1
        );
    }
}
