//! CSV and Parquet encoding of the `compliance` table ([`ComplianceRow`]), in
//! [`super::table::COMPLIANCE_COLUMNS`] order. Rates are Float64, rounded to 4 decimals in both formats.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use crate::record::ComplianceRow;

pub fn compliance_schema() -> SchemaRef {
    use DataType::{Float64, Int64, Utf8};
    let text = |n: &str| Field::new(n, Utf8, true);
    let count = |n: &str| Field::new(n, Int64, false);
    Arc::new(Schema::new(vec![
        text("user_id"),
        text("agent_name"),
        text("queue_id"),
        text("queue_name"),
        text("media_type"),
        text("queue_wrapup_prompt"),
        Field::new("queue_acw_timeout_ms", Int64, true),
        count("legs"),
        count("owed"),
        count("with_code"),
        count("gaps"),
        count("timeout"),
        count("missing"),
        count("unknown"),
        Field::new("gap_rate", Float64, true),
        Field::new("timeout_rate", Float64, true),
        count("acw_ms"),
        count("timeout_acw_ms"),
        count("config_mismatches"),
    ]))
}

/// The counts of a row in column order, after the text columns.
fn numbers(r: &ComplianceRow) -> [i64; 7] {
    let c = &r.counts;
    [
        c.legs as i64,
        c.owed as i64,
        c.with_code as i64,
        c.gaps() as i64,
        c.timeout as i64,
        c.missing as i64,
        c.unknown as i64,
    ]
}

pub fn compliance_batch(rows: &[ComplianceRow]) -> anyhow::Result<RecordBatch> {
    let text = |f: fn(&ComplianceRow) -> Option<&str>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<StringArray>())
    };
    let int = |f: &dyn Fn(&ComplianceRow) -> Option<i64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Int64Array>())
    };
    let float = |f: fn(&ComplianceRow) -> Option<f64>| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<Float64Array>())
    };
    let mut columns: Vec<ArrayRef> = vec![
        text(|r| r.user_id.as_deref()),
        text(|r| r.agent_name.as_deref()),
        text(|r| r.queue_id.as_deref()),
        text(|r| r.queue_name.as_deref()),
        text(|r| r.media_type.as_deref()),
        text(|r| r.queue_wrapup_prompt.as_deref()),
        int(&|r| r.queue_acw_timeout_ms),
    ];
    for i in 0..7 {
        columns.push(int(&|r| Some(numbers(r)[i])));
    }
    columns.push(float(ComplianceRow::gap_rate));
    columns.push(float(ComplianceRow::timeout_rate));
    columns.push(int(&|r| Some(r.counts.acw_ms)));
    columns.push(int(&|r| Some(r.counts.timeout_acw_ms)));
    columns.push(int(&|r| Some(r.counts.config_mismatches as i64)));
    RecordBatch::try_new(compliance_schema(), columns).context("building compliance batch")
}

/// Appends compliance records (no header) to an open CSV writer.
pub(crate) fn append_csv<W: Write>(
    wtr: &mut ::csv::Writer<W>,
    rows: &[ComplianceRow],
) -> anyhow::Result<()> {
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    // Always with decimals, so CSV readers type the column as floating point on every day.
    let rate = |x: Option<f64>| x.map(|x| format!("{x:.4}")).unwrap_or_default();
    for r in rows {
        let mut record = vec![
            opt(&r.user_id),
            opt(&r.agent_name),
            opt(&r.queue_id),
            opt(&r.queue_name),
            opt(&r.media_type),
            opt(&r.queue_wrapup_prompt),
            r.queue_acw_timeout_ms
                .map(|v| v.to_string())
                .unwrap_or_default(),
        ];
        record.extend(numbers(r).iter().map(i64::to_string));
        record.push(rate(r.gap_rate()));
        record.push(rate(r.timeout_rate()));
        record.push(r.counts.acw_ms.to_string());
        record.push(r.counts.timeout_acw_ms.to_string());
        record.push(r.counts.config_mismatches.to_string());
        wtr.write_record(&record)?;
    }
    Ok(())
}

/// Writes `compliance.csv` (header and rows) to `w`.
pub fn write_csv<W: Write>(w: W, rows: &[ComplianceRow]) -> anyhow::Result<()> {
    let mut wtr = super::csv::writer(w);
    wtr.write_record(super::table::COMPLIANCE_COLUMNS)?;
    append_csv(&mut wtr, rows)?;
    wtr.flush()?;
    Ok(())
}

/// Writes `compliance.parquet` to `w` and finishes the file.
pub fn write_parquet<W: Write + Send>(w: W, rows: &[ComplianceRow]) -> anyhow::Result<()> {
    let mut writer = parquet::arrow::ArrowWriter::try_new(
        w,
        compliance_schema(),
        Some(super::parquet::writer_properties()),
    )
    .context("creating parquet writer")?;
    if !rows.is_empty() {
        writer.write(&compliance_batch(rows)?)?;
    }
    writer.close().context("finishing parquet file")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Counts;

    fn rows() -> Vec<ComplianceRow> {
        vec![
            ComplianceRow {
                user_id: Some("u-1".into()),
                agent_name: Some("Ana, \"A\"".into()),
                queue_id: Some("q-1".into()),
                queue_name: Some("Billing".into()),
                media_type: Some("voice".into()),
                queue_wrapup_prompt: Some("MANDATORY_TIMEOUT".into()),
                queue_acw_timeout_ms: Some(60_000),
                counts: Counts {
                    legs: 4,
                    owed: 3,
                    with_code: 1,
                    timeout: 1,
                    missing: 1,
                    unknown: 0,
                    acw_ms: 90_000,
                    timeout_acw_ms: 60_000,
                    config_mismatches: 1,
                },
            },
            ComplianceRow {
                user_id: None,
                agent_name: None,
                queue_id: None,
                queue_name: None,
                media_type: None,
                queue_wrapup_prompt: None,
                queue_acw_timeout_ms: None,
                counts: Counts {
                    legs: 1,
                    ..Counts::default()
                },
            },
        ]
    }

    #[test]
    fn csv_exact_bytes() {
        let mut buf = Vec::new();
        write_csv(&mut buf, &rows()).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            format!(
                "{}\n{}\n{}\n",
                super::super::COMPLIANCE_COLUMNS.join(","),
                "u-1,\"Ana, \"\"A\"\"\",q-1,Billing,voice,MANDATORY_TIMEOUT,60000,4,3,1,2,1,1,0,0.6667,0.3333,90000,60000,1",
                ",,,,,,,1,0,0,0,0,0,0,,,0,0,0"
            )
        );
    }

    #[test]
    fn parquet_round_trip_keeps_counts_rates_and_nulls() {
        use std::io::{Seek, SeekFrom};
        let mut file = tempfile::tempfile().unwrap();
        write_parquet(&mut file, &rows()).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!(b.schema(), compliance_schema());
        let names: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, super::super::COMPLIANCE_COLUMNS);
        let col = |n: &str| b.column_by_name(n).unwrap().clone();
        let gaps = col("gaps");
        let gaps = gaps.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(gaps.values(), &[2, 0]);
        let rate = col("gap_rate");
        let rate = rate.as_any().downcast_ref::<Float64Array>().unwrap();
        assert_eq!(rate.value(0), 0.6667);
        assert!(arrow::array::Array::is_null(rate, 1));
        let user = col("user_id");
        let user = user.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(user.value(0), "u-1");
        assert!(arrow::array::Array::is_null(user, 1));
    }
}
