//! One report day being written: its staged partition, chunk by chunk, and its finish (swap,
//! index, checkpoint).

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use tokio_util::sync::CancellationToken;

use crate::api::ApiClient;
use crate::config::{Config, LookupMode};
use crate::exit::{ExitStatus, Failure};
use crate::record::ConversationLabel;
use crate::sink;
use crate::source::journaled::{Looked, Lookups};
use crate::source::{DayMeta, ROWS_PER_CHUNK};
use crate::stats::PartitionRecord;
use crate::time::iso_ms;
use crate::transform::counts::PartitionStats;
use crate::transform::enrich::{plan_lookups, Plan};
use crate::transform::names::Catalogs;
use crate::transform::rows::{build_rows, Fetched};

/// What every chunk of a run shares.
#[derive(Clone, Copy)]
pub(super) struct ChunkCtx<'a> {
    pub cfg: &'a Config,
    pub catalogs: &'a Catalogs,
    pub client: &'a Arc<ApiClient>,
    pub progress: &'a crate::progress::Progress,
    pub cancel: &'a CancellationToken,
}

/// Rows of a day in arrival order, with their lookup plan and the answers settled so far. A chunk
/// is sealed at [`ROWS_PER_CHUNK`] rows or at the day's end, and written once all its answers are
/// in, so the partition writer gets the same appends however the lookups overlap.
struct Chunk {
    /// The day's row number of `rows[0]`.
    first: u64,
    rows: Vec<Fetched>,
    plan: Vec<Plan>,
    answers: Vec<Option<Looked>>,
    /// Lookups asked and not answered yet.
    missing: usize,
    sealed: bool,
}

/// The day being written.
pub(super) struct DayState {
    pub date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    writer: sink::stream::PartitionWriter,
    stats: PartitionStats,
    /// Rows waiting for their lookups or their chunk, oldest first.
    chunks: VecDeque<Chunk>,
    /// Rows of the day taken so far: the next row's number.
    taken: u64,
    conversations: u64,
    legs: u64,
    is_final: bool,
    /// The day's lookups and its journal of settled ones (kept until its partition is in place).
    pub lookups: Lookups,
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
        ctx: &ChunkCtx<'_>,
        run_id: &str,
        fingerprint: &serde_json::Value,
        (date, start, end): (NaiveDate, DateTime<Utc>, DateTime<Utc>),
    ) -> Result<DayState, Failure> {
        let cfg = ctx.cfg;
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
            chunks: VecDeque::new(),
            taken: 0,
            conversations: 0,
            legs: 0,
            is_final: true,
            lookups: Lookups::new(ctx.client.clone(), cfg.concurrency, journal),
        })
    }

    /// Rows waiting to be written.
    pub fn rows_waiting(&self) -> usize {
        self.chunks.iter().map(|c| c.rows.len()).sum()
    }

    /// True when every row taken is written.
    pub fn all_written(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Takes a page of rows: plans their lookups within the budget (in arrival order, as chunk by
    /// chunk did) and starts them, then writes what is ready.
    pub fn take(
        &mut self,
        ctx: &ChunkCtx<'_>,
        rows: Vec<Fetched>,
        lookups_left: &mut Option<u64>,
    ) -> Result<(), Failure> {
        if rows.is_empty() {
            return Ok(());
        }
        let plan = plan_lookups(&rows, ctx.cfg.lookup, lookups_left);
        if self.chunks.back().is_none_or(|c| c.sealed) {
            self.chunks.push_back(Chunk {
                first: self.taken,
                rows: Vec::new(),
                plan: Vec::new(),
                answers: Vec::new(),
                missing: 0,
                sealed: false,
            });
        }
        let chunk = self.chunks.back_mut().expect("an open chunk");
        let mut asked = 0;
        for (f, p) in rows.iter().zip(&plan) {
            let answer = match p {
                Plan::Lookup => match self.lookups.ask(self.taken, &f.id) {
                    Some(known) => Some(known),
                    None => {
                        asked += 1;
                        None
                    }
                },
                _ => None,
            };
            chunk.answers.push(answer);
            self.taken += 1;
        }
        ctx.progress.lookups_planned(asked as u64);
        chunk.missing += asked;
        chunk.rows.extend(rows);
        chunk.plan.extend(plan);
        chunk.sealed = chunk.rows.len() >= ROWS_PER_CHUNK;
        self.flush(ctx)
    }

    /// Puts a settled lookup in its row's place and writes what is ready.
    pub fn answered(&mut self, ctx: &ChunkCtx<'_>, key: u64, r: Looked) -> Result<(), Failure> {
        ctx.progress.lookup_done();
        let chunk = self
            .chunks
            .iter_mut()
            .find(|c| key >= c.first && key - c.first < c.rows.len() as u64)
            .expect("an answer belongs to a waiting row");
        chunk.answers[(key - chunk.first) as usize] = Some(r);
        chunk.missing -= 1;
        self.flush(ctx)
    }

    /// The day's rows are all taken: its last chunk is written once its lookups are in.
    pub fn seal(&mut self, ctx: &ChunkCtx<'_>) -> Result<(), Failure> {
        if let Some(c) = self.chunks.back_mut() {
            c.sealed = true;
        }
        self.flush(ctx)
    }

    /// Writes the chunks at the head whose lookups are all in, in order.
    fn flush(&mut self, ctx: &ChunkCtx<'_>) -> Result<(), Failure> {
        while self
            .chunks
            .front()
            .is_some_and(|c| c.sealed && c.missing == 0)
        {
            let chunk = self.chunks.pop_front().expect("a ready chunk");
            self.write_chunk(ctx, chunk)?;
        }
        Ok(())
    }

    /// Classifies and appends one chunk whose lookups are settled (and journaled, made durable here).
    fn write_chunk(&mut self, ctx: &ChunkCtx<'_>, chunk: Chunk) -> Result<(), Failure> {
        let Chunk {
            rows,
            plan,
            answers,
            ..
        } = chunk;
        self.lookups
            .sync()
            .map_err(|e| output_failure(self.date, e))?;
        let lookups = crate::source::lookups::answers(answers);
        let (conv_rows, leg_rows) = build_rows(
            ctx.cfg,
            ctx.catalogs,
            &rows,
            &plan,
            &lookups,
            &mut self.stats,
        );
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
        Ok(())
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
        let journal = self.lookups.into_journal();
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
