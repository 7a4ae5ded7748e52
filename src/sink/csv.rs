//! CSV encoding of the report rows, in the dialect of `spec/outputs.md`.
//!
//! Owns the dialect (RFC 4180, comma, `\n`, quoting only where needed, empty field for null,
//! `true`/`false`, ISO-8601 UTC timestamps with milliseconds) and the mapping of each row field to
//! its text. Values are written exactly as they are: no formula-injection escaping, because
//! analysts join on these ids. Does not own file naming or atomicity (see [`super::atomic`]).

use std::borrow::Cow;
use std::io::Write;

use ::csv::{QuoteStyle, Terminator, WriterBuilder};
use chrono::{DateTime, Utc};

use super::table::{CONVERSATION_COLUMNS, LEG_COLUMNS};
use crate::record::{ConversationRow, LegRow};

/// Writes `conversations.csv`: header row, then one record per row, in [`CONVERSATION_COLUMNS`]
/// order.
pub fn write_conversations_csv<W: Write>(w: W, rows: &[ConversationRow]) -> anyhow::Result<()> {
    let mut wtr = writer(w);
    wtr.write_record(CONVERSATION_COLUMNS)?;
    append_conversations(&mut wtr, rows)?;
    wtr.flush()?;
    Ok(())
}

/// Appends conversation records (no header) to an open CSV writer.
pub(crate) fn append_conversations<W: Write>(
    wtr: &mut ::csv::Writer<W>,
    rows: &[ConversationRow],
) -> anyhow::Result<()> {
    for r in rows {
        let record: [Cow<'_, str>; CONVERSATION_COLUMNS.len()] = [
            r.conversation_id.as_str().into(),
            ts(&r.conversation_start).into(),
            opt_ts(r.conversation_end.as_ref()),
            opt_str(r.media_type.as_deref()),
            opt_str(r.originating_direction.as_deref()),
            opt_str(r.queue_id.as_deref()),
            opt_str(r.queue_name.as_deref()),
            r.agent_legs.to_string().into(),
            r.classification.as_str().into(),
            r.reason.as_str().into(),
            opt_str(r.wrapup_code_id.as_deref()),
            opt_str(r.wrapup_code_name.as_deref()),
            opt_str(r.code_source.map(|c| c.as_str())),
            r.acw_ms.to_string().into(),
            r.handle_ms.to_string().into(),
            r.lookup.as_str().into(),
            opt_int(r.ended_minutes_before_as_of),
            opt_str(r.reportable_code.as_deref()),
            opt_str(r.queue_wrapup_prompt.as_deref()),
            opt_int(r.queue_acw_timeout_ms),
            opt_str(r.config_mismatch.map(|m| m.as_str())),
        ];
        wtr.write_record(record.iter().map(|f| f.as_bytes()))?;
    }
    Ok(())
}

/// Writes `legs.csv`: header row, then one record per row, in [`LEG_COLUMNS`] order.
pub fn write_legs_csv<W: Write>(w: W, rows: &[LegRow]) -> anyhow::Result<()> {
    let mut wtr = writer(w);
    wtr.write_record(LEG_COLUMNS)?;
    append_legs(&mut wtr, rows)?;
    wtr.flush()?;
    Ok(())
}

/// Appends leg records (no header) to an open CSV writer.
pub(crate) fn append_legs<W: Write>(
    wtr: &mut ::csv::Writer<W>,
    rows: &[LegRow],
) -> anyhow::Result<()> {
    for r in rows {
        let record: [Cow<'_, str>; LEG_COLUMNS.len()] = [
            r.conversation_id.as_str().into(),
            ts(&r.conversation_start).into(),
            r.participant_id.as_str().into(),
            opt_str(r.user_id.as_deref()),
            opt_str(r.agent_name.as_deref()),
            r.purpose.as_str().into(),
            opt_str(r.media_type.as_deref()),
            opt_str(r.queue_id.as_deref()),
            opt_str(r.queue_name.as_deref()),
            boolean(r.connected).into(),
            r.label.as_str().into(),
            opt_str(r.analytics_wrapup_code.as_deref()),
            opt_str(r.lookup_wrapup_code.as_deref()),
            opt_str(r.wrapup_code_name.as_deref()),
            opt_bool(r.wrapup_required),
            opt_str(r.wrapup_prompt.as_deref()),
            opt_bool(r.wrapup_skipped),
            boolean(r.acw_skipped).into(),
            r.acw_ms.to_string().into(),
            r.handle_ms.to_string().into(),
            r.talk_ms.to_string().into(),
            opt_str(r.detail.as_deref()),
            opt_str(r.reportable_code.as_deref()),
            opt_str(r.queue_wrapup_prompt.as_deref()),
            opt_int(r.queue_acw_timeout_ms),
            opt_str(r.config_mismatch.map(|m| m.as_str())),
        ];
        wtr.write_record(record.iter().map(|f| f.as_bytes()))?;
    }
    Ok(())
}

pub(crate) fn writer<W: Write>(w: W) -> ::csv::Writer<W> {
    WriterBuilder::new()
        .delimiter(b',')
        .terminator(Terminator::Any(b'\n'))
        .quote_style(QuoteStyle::Necessary)
        .double_quote(true)
        // Records are written by hand; the header comes from the column constants.
        .has_headers(false)
        .from_writer(w)
}

/// Timestamp text of every CSV file: `2026-11-20T08:15:00.000Z`.
pub const TIMESTAMP_FORMAT: &str = crate::time::rfc3339::CSV_FORMAT;

/// [`TIMESTAMP_FORMAT`], written without chrono's format-string machinery.
fn ts(t: &DateTime<Utc>) -> String {
    crate::time::rfc3339::format_ms(*t)
}

fn opt_ts(t: Option<&DateTime<Utc>>) -> Cow<'static, str> {
    t.map_or(Cow::Borrowed(""), |t| Cow::Owned(ts(t)))
}

fn opt_str(s: Option<&str>) -> Cow<'_, str> {
    Cow::Borrowed(s.unwrap_or(""))
}

fn opt_int(v: Option<i64>) -> Cow<'static, str> {
    v.map_or(Cow::Borrowed(""), |v| Cow::Owned(v.to_string()))
}

fn boolean(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

fn opt_bool(b: Option<bool>) -> Cow<'static, str> {
    Cow::Borrowed(b.map_or("", boolean))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::testdata::{conversation, leg};

    fn to_string(f: impl FnOnce(&mut Vec<u8>) -> anyhow::Result<()>) -> String {
        let mut buf = Vec::new();
        f(&mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    fn read_back(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
        let mut rdr = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let header = rdr.headers().unwrap().iter().map(String::from).collect();
        let records = rdr
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        (header, records)
    }

    #[test]
    fn conversations_csv_exact_bytes() {
        let rows = conversation::fixture();
        let text = to_string(|buf| write_conversations_csv(buf, &rows));
        let expected = concat!(
            "conversation_id,conversation_start,conversation_end,media_type,originating_direction,",
            "queue_id,queue_name,agent_legs,classification,reason,wrapup_code_id,wrapup_code_name,",
            "code_source,acw_ms,handle_ms,lookup,ended_minutes_before_as_of,reportable_code,",
            "queue_wrapup_prompt,queue_acw_timeout_ms,config_mismatch\n",
            "c-1,2026-11-20T08:15:00.000Z,2026-11-20T08:20:30.123Z,voice,inbound,q-1,\"Sales, EU\",",
            "2,coded,\"Agent said \"\"done\"\", then left,\nlater\",code-1,\"Sales, Won\",analytics,",
            "1500,300000,not_needed,42,code-1,MANDATORY_TIMEOUT,60000,timeout_without_timed_prompt\n",
            "c-2,2026-11-20T23:59:59.999Z,,,,,,0,in_progress,Still running.,,,,0,0,disabled,,,,,\n",
        );
        assert_eq!(text, expected);
        assert!(!text.starts_with('\u{feff}'));
    }

    #[test]
    fn legs_csv_exact_bytes() {
        let rows = leg::fixture();
        let text = to_string(|buf| write_legs_csv(buf, &rows));
        let expected = concat!(
            "conversation_id,conversation_start,participant_id,user_id,agent_name,purpose,media_type,",
            "queue_id,queue_name,connected,label,analytics_wrapup_code,lookup_wrapup_code,",
            "wrapup_code_name,wrapup_required,wrapup_prompt,wrapup_skipped,acw_skipped,acw_ms,",
            "handle_ms,talk_ms,detail,reportable_code,queue_wrapup_prompt,queue_acw_timeout_ms,",
            "config_mismatch\n",
            "c-1,2026-11-20T08:15:00.000Z,p-1,u-1,\"Zoë \"\"Z\"\" Ng\",agent,voice,q-1,(unresolved) q-1,",
            "true,coded,code-1,,\"Sales, Won\",",
            "true,MANDATORY_TIMEOUT,false,false,1500,300000,200000,\"=HYPERLINK(\"\"x\"\")\",",
            "code-1,MANDATORY_TIMEOUT,60000,timeout_without_timed_prompt\n",
            "c-2,2026-11-20T23:59:59.999Z,p-2,,,user,,,,false,not_connected,,,,,,,true,0,0,0,,,,,\n",
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn conversations_csv_reads_back_field_by_field() {
        let rows = conversation::fixture();
        let text = to_string(|buf| write_conversations_csv(buf, &rows));
        let (header, records) = read_back(&text);
        assert_eq!(header, CONVERSATION_COLUMNS);
        assert_eq!(records.len(), rows.len());
        for (r, rec) in rows.iter().zip(&records) {
            assert_eq!(rec.len(), CONVERSATION_COLUMNS.len());
            assert_eq!(rec[0], r.conversation_id);
            assert_eq!(
                DateTime::parse_from_rfc3339(&rec[1]).unwrap(),
                r.conversation_start
            );
            assert_eq!(
                (!rec[2].is_empty()).then(|| DateTime::parse_from_rfc3339(&rec[2]).unwrap()),
                r.conversation_end.map(|t| t.fixed_offset())
            );
            assert_eq!(rec[3], r.media_type.clone().unwrap_or_default());
            assert_eq!(rec[4], r.originating_direction.clone().unwrap_or_default());
            assert_eq!(rec[5], r.queue_id.clone().unwrap_or_default());
            assert_eq!(rec[6], r.queue_name.clone().unwrap_or_default());
            assert_eq!(rec[7].parse::<i32>().unwrap(), r.agent_legs);
            assert_eq!(rec[8], r.classification.as_str());
            assert_eq!(rec[9], r.reason);
            assert_eq!(rec[10], r.wrapup_code_id.clone().unwrap_or_default());
            assert_eq!(rec[11], r.wrapup_code_name.clone().unwrap_or_default());
            assert_eq!(rec[12], r.code_source.map_or("", |c| c.as_str()));
            assert_eq!(rec[13].parse::<i64>().unwrap(), r.acw_ms);
            assert_eq!(rec[14].parse::<i64>().unwrap(), r.handle_ms);
            assert_eq!(rec[15], r.lookup.as_str());
            assert_eq!(
                (!rec[16].is_empty()).then(|| rec[16].parse::<i64>().unwrap()),
                r.ended_minutes_before_as_of
            );
            assert_eq!(rec[17], r.reportable_code.clone().unwrap_or_default());
            assert_eq!(rec[18], r.queue_wrapup_prompt.clone().unwrap_or_default());
            assert_eq!(
                rec[19],
                r.queue_acw_timeout_ms
                    .map_or(String::new(), |v| v.to_string())
            );
            assert_eq!(rec[20], r.config_mismatch.map_or("", |m| m.as_str()));
        }
    }

    #[test]
    fn legs_csv_reads_back_field_by_field() {
        let rows = leg::fixture();
        let text = to_string(|buf| write_legs_csv(buf, &rows));
        let (header, records) = read_back(&text);
        assert_eq!(header, LEG_COLUMNS);
        assert_eq!(records.len(), rows.len());
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        let ob = |b: Option<bool>| b.map_or(String::new(), |b| b.to_string());
        for (r, rec) in rows.iter().zip(&records) {
            let expected = vec![
                r.conversation_id.clone(),
                r.conversation_start.format(TIMESTAMP_FORMAT).to_string(),
                r.participant_id.clone(),
                opt(&r.user_id),
                opt(&r.agent_name),
                r.purpose.clone(),
                opt(&r.media_type),
                opt(&r.queue_id),
                opt(&r.queue_name),
                r.connected.to_string(),
                r.label.as_str().to_string(),
                opt(&r.analytics_wrapup_code),
                opt(&r.lookup_wrapup_code),
                opt(&r.wrapup_code_name),
                ob(r.wrapup_required),
                opt(&r.wrapup_prompt),
                ob(r.wrapup_skipped),
                r.acw_skipped.to_string(),
                r.acw_ms.to_string(),
                r.handle_ms.to_string(),
                r.talk_ms.to_string(),
                opt(&r.detail),
                opt(&r.reportable_code),
                opt(&r.queue_wrapup_prompt),
                r.queue_acw_timeout_ms
                    .map_or(String::new(), |v| v.to_string()),
                r.config_mismatch
                    .map_or(String::new(), |m| m.as_str().to_string()),
            ];
            assert_eq!(rec, &expected);
        }
    }

    #[test]
    fn empty_input_writes_header_only() {
        let text = to_string(|buf| write_legs_csv(buf, &[]));
        assert_eq!(text, format!("{}\n", LEG_COLUMNS.join(",")));
    }
}
