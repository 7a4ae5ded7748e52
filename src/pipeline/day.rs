//! One report day being written: its staged partition, chunk by chunk, and its finish (swap,
//! index, checkpoint).

use chrono::{DateTime, NaiveDate, Utc};
use tokio_util::sync::CancellationToken;

use crate::api::ApiClient;
use crate::config::{Config, LookupMode};
use crate::exit::{ExitStatus, Failure};
use crate::record::ConversationLabel;
use crate::sink;
use crate::source::DayMeta;
use crate::stats::PartitionRecord;
use crate::time::iso_ms;
use crate::transform::counts::PartitionStats;
use crate::transform::enrich::plan_lookups;
use crate::transform::names::Catalogs;
use crate::transform::rows::{build_rows, Fetched};

/// What every chunk of a run shares.
#[derive(Clone, Copy)]
pub(super) struct ChunkCtx<'a> {
    pub cfg: &'a Config,
    pub catalogs: &'a Catalogs,
    pub client: &'a ApiClient,
    pub progress: &'a crate::progress::Progress,
    pub cancel: &'a CancellationToken,
}

/// The day being written.
pub(super) struct DayState {
    pub date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    writer: sink::stream::PartitionWriter,
    stats: PartitionStats,
    pub buffer: Vec<Fetched>,
    conversations: u64,
    legs: u64,
    is_final: bool,
    /// Settled lookups of this day, kept until its partition is in place.
    journal: Option<sink::journal::LookupJournal>,
}

pub(super) fn output_failure(date: NaiveDate, e: anyhow::Error) -> Failure {
    Failure::new(
        ExitStatus::Output,
        format!("cannot write partition date={date}: {e:#}"),
    )
}

impl DayState {
    /// Stages the day's partition and opens its lookup journal (reusing an interrupted run's).
    pub fn open(
        cfg: &Config,
        run_id: &str,
        fingerprint: &serde_json::Value,
        (date, start, end): (NaiveDate, DateTime<Utc>, DateTime<Utc>),
    ) -> Result<DayState, Failure> {
        let writer =
            sink::stream::PartitionWriter::create(&cfg.output_dir, run_id, date, cfg.formats)
                .map_err(|e| output_failure(date, e))?;
        let mut journal = None;
        if cfg.lookup != LookupMode::Off {
            let j = sink::journal::LookupJournal::open(
                &cfg.output_dir,
                date,
                &iso_ms(cfg.as_of),
                fingerprint,
            )
            .map_err(|e| output_failure(date, e))?;
            if !j.is_empty() {
                tracing::info!(date = %date, lookups = j.len(), "Reusing {} settled lookups of date={date} from an interrupted run", j.len());
            }
            journal = Some(j);
        }
        Ok(DayState {
            date,
            start,
            end,
            writer,
            stats: PartitionStats::default(),
            buffer: Vec::new(),
            conversations: 0,
            legs: 0,
            is_final: true,
            journal,
        })
    }

    /// Plans, looks up, classifies and appends one chunk. False when the run was cancelled.
    pub async fn write_chunk(
        &mut self,
        ctx: &ChunkCtx<'_>,
        chunk: Vec<Fetched>,
        lookups_left: &mut Option<u64>,
    ) -> Result<bool, Failure> {
        let ChunkCtx {
            cfg,
            catalogs,
            client,
            progress,
            cancel,
        } = *ctx;
        if chunk.is_empty() {
            return Ok(true);
        }
        let plan = plan_lookups(&chunk, cfg.lookup, lookups_left);
        let lookups = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Ok(false),
            r = crate::source::journaled::enrich(client, &chunk, &plan, cfg.concurrency, progress, &mut self.journal) => r,
        }
        .map_err(|e| output_failure(self.date, e))?;
        let lookups = crate::source::lookups::answers(lookups);
        let (conv_rows, leg_rows) =
            build_rows(cfg, catalogs, &chunk, &plan, &lookups, &mut self.stats);
        self.is_final &= !conv_rows.iter().any(|r| {
            matches!(
                r.classification,
                ConversationLabel::InProgress | ConversationLabel::TooRecent
            )
        });
        self.conversations += conv_rows.len() as u64;
        self.legs += leg_rows.len() as u64;
        self.writer
            .append(&conv_rows, &leg_rows)
            .map_err(|e| output_failure(self.date, e))?;
        Ok(true)
    }

    /// Writes the compliance table, swaps the partition into place and says what it holds. The
    /// journal is handed back: it may go only once the partition is recorded.
    pub fn finish(
        mut self,
        cfg: &Config,
        catalogs: &Catalogs,
        meta: DayMeta,
    ) -> Result<(PartitionRecord, Option<sink::journal::LookupJournal>), Failure> {
        let date = self.date;
        if let Some(why) = &meta.shortfall {
            tracing::warn!(date = %date, "date={date} may lack conversations: the details query kept serving fewer rows than it counted ({why}); the partition is written, marked not final, and a later run (or --lookback-days) redoes it");
        }
        self.stats.dropped_outside_window = meta.dropped_outside;
        self.stats.dropped_duplicates = meta.dropped_duplicates;
        let compliance = crate::transform::compliance::table_rows(&self.stats.compliance, catalogs);
        self.writer
            .write_compliance(&compliance)
            .map_err(|e| output_failure(date, e))?;
        let journal = self.journal.take();
        let files = self.writer.finish().map_err(|e| output_failure(date, e))?;
        let record = PartitionRecord {
            date,
            interval_start: iso_ms(self.start),
            interval_end: iso_ms(self.end),
            conversations: self.conversations,
            legs: self.legs,
            // Rows after the lake's horizon may be missing, not only too recent: redo the day later.
            is_final: self.is_final
                && day_settled(cfg, date)
                && meta.complete_until.is_none_or(|t| t >= self.end)
                && meta.shortfall.is_none(),
            incomplete: meta.shortfall,
            files: files.files,
            stats: self.stats,
        };
        Ok((record, journal))
    }
}

/// True when the whole of `date` (job time zone) lies before `as_of - settle_minutes`: only then can
/// its partition be final, whatever its rows say (a day still running, or in the future, is not).
pub(super) fn day_settled(cfg: &Config, date: NaiveDate) -> bool {
    date.checked_add_days(chrono::Days::new(1))
        .map(|next| crate::time::local_midnight(cfg.window.timezone, next))
        .is_some_and(|end| end <= cfg.as_of - chrono::Duration::minutes(cfg.settle_minutes))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::config::{RawJob, RunArgs};

    fn cfg_at(now: DateTime<Utc>) -> Config {
        let args = RunArgs {
            simulator: true,
            from: Some("2026-03-01".into()),
            to: Some("2026-03-02".into()),
            timezone: Some("America/New_York".into()),
            settle_minutes: Some(60),
            ..RunArgs::default()
        };
        let env: [(&str, &str); 0] = [];
        Config::build(RawJob::default(), &args, &env, now).unwrap()
    }

    #[test]
    fn a_day_is_settled_only_once_its_local_end_is_settle_minutes_past() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        // The New York day ends at 05:00 UTC; with 60 settle minutes it is settled from 06:00.
        let before = cfg_at(Utc.with_ymd_and_hms(2026, 3, 2, 5, 59, 0).unwrap());
        let after = cfg_at(Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap());
        assert!(!day_settled(&before, d));
        assert!(day_settled(&after, d));
    }
}
