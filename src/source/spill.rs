//! A day's rows sorted in flat memory: sorted runs spilled to a staging folder, then merged.
//!
//! The jobs API hands back a job's rows in pages, and a job's rows count only once the whole job was
//! read (a job that hits the pagination cap is thrown away and split). Rows are buffered per job,
//! sorted by (`conversation_start`, `conversation_id`) and written as postcard records (each after its
//! length: the run's own format, cheap to write and read, never read by anyone else) once a buffer holds
//! [`RUN_ROWS`]; the merge then yields the day in that order, a conversation once, a chunk at a time.
//! Memory holds one buffer (under [`RUN_ROWS`] rows) and one row per run, whatever the day's size.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::api::wire::AnalyticsConversation;
use crate::transform::rows::Fetched;

/// Rows sorted in memory before they go to disk as one run.
pub const RUN_ROWS: usize = 3_000;

/// What a day's jobs produce, row by row.
pub struct DaySpill<F> {
    dir: tempfile::TempDir,
    convert: F,
    run_rows: usize,
    runs: Vec<PathBuf>,
    kept: Vec<Fetched>,
    job: Vec<Fetched>,
    job_runs: Vec<PathBuf>,
    job_outside: u64,
    outside: u64,
    written: usize,
    error: Option<io::Error>,
    /// The report day, when a job reads part of it: rows of its other parts are not "outside".
    day: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl<F: FnMut(&AnalyticsConversation<'_>) -> Fetched> DaySpill<F> {
    /// A spill under `out_dir` (a `.staging-` folder, so a killed run's leftovers are removed).
    pub fn new(out_dir: &Path, convert: F) -> io::Result<DaySpill<F>> {
        Self::with_run_rows(out_dir, convert, RUN_ROWS)
    }

    pub fn with_run_rows(out_dir: &Path, convert: F, run_rows: usize) -> io::Result<DaySpill<F>> {
        std::fs::create_dir_all(out_dir)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}spill-", crate::sink::STAGING_PREFIX))
            .tempdir_in(out_dir)?;
        Ok(DaySpill {
            dir,
            convert,
            run_rows: run_rows.max(1),
            runs: Vec::new(),
            kept: Vec::new(),
            job: Vec::new(),
            job_runs: Vec::new(),
            job_outside: 0,
            outside: 0,
            written: 0,
            error: None,
            day: None,
        })
    }

    /// Counts as outside only rows outside `[start, end)`, the day the jobs read parts of.
    pub fn within_day(mut self, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        self.day = Some((start, end));
        self
    }

    /// A page of the current job; rows outside `[s, e)` are counted and dropped.
    pub fn page(
        &mut self,
        rows: Vec<AnalyticsConversation<'_>>,
        s: DateTime<Utc>,
        e: DateTime<Utc>,
    ) {
        for c in rows {
            let start = c.conversation_start;
            if !crate::source::interval::starts_within(start, s, e) {
                let day = self.day.unwrap_or((s, e));
                if !crate::source::interval::starts_within(start, day.0, day.1) {
                    self.job_outside += 1;
                }
            } else {
                let f = (self.convert)(&c);
                self.job.push(f);
            }
        }
        if self.job.len() >= self.run_rows {
            let run = std::mem::take(&mut self.job);
            if let Some(p) = self.write_run(run) {
                self.job_runs.push(p);
            }
        }
    }

    /// The current job was read to the end: its rows count.
    pub fn keep(&mut self) {
        self.runs.append(&mut self.job_runs);
        self.kept.append(&mut self.job);
        self.outside += std::mem::take(&mut self.job_outside);
        if self.kept.len() >= self.run_rows {
            let run = std::mem::take(&mut self.kept);
            if let Some(p) = self.write_run(run) {
                self.runs.push(p);
            }
        }
    }

    /// The current job is abandoned (failed, expired or capped): its rows never count.
    pub fn discard(&mut self) {
        self.job.clear();
        self.job_outside = 0;
        for p in self.job_runs.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }

    fn write_run(&mut self, mut rows: Vec<Fetched>) -> Option<PathBuf> {
        if self.error.is_some() {
            return None;
        }
        rows.sort_by(order);
        let path = self.dir.path().join(format!("run-{:05}.bin", self.written));
        self.written += 1;
        let res = (|| {
            let mut w = BufWriter::with_capacity(1 << 16, File::create(&path)?);
            let mut bytes = Vec::new();
            for r in &rows {
                bytes.clear();
                bytes = postcard::to_extend(r, bytes).map_err(io::Error::other)?;
                w.write_all(&(bytes.len() as u32).to_le_bytes())?;
                w.write_all(&bytes)?;
            }
            w.flush()
        })();
        match res {
            Ok(()) => Some(path),
            Err(e) => {
                self.error = Some(e);
                None
            }
        }
    }

    /// The kept rows in order, a conversation once; the first write error, if there was one.
    pub fn merge(mut self) -> io::Result<Merge> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        // The last rows (under a run) stay in memory: writing and reading them back costs CPU for
        // every small day or part, to save at most a run per part or day waiting for the writer.
        let mut memory = std::mem::take(&mut self.kept);
        memory.sort_by(order);
        let mut readers = Vec::with_capacity(self.runs.len());
        for p in &self.runs {
            readers.push(Run {
                file: BufReader::with_capacity(1 << 14, File::open(p)?),
                buf: Vec::new(),
            });
        }
        let mut m = Merge {
            _dir: self.dir,
            readers,
            memory: memory.into_iter(),
            heads: Vec::new(),
            heap: BinaryHeap::new(),
            last_id: None,
            outside: self.outside,
            duplicates: 0,
        };
        let sources = m.readers.len() + 1;
        m.heads = (0..sources).map(|_| None).collect();
        for i in 0..sources {
            m.advance(i)?;
        }
        Ok(m)
    }
}

/// A run on disk, being read back.
struct Run {
    file: BufReader<File>,
    buf: Vec<u8>,
}

impl Run {
    /// The run's next row, if any.
    fn next_row(&mut self) -> io::Result<Option<Fetched>> {
        // Only a run that ends between rows has ended: a cut length or row is an error, not fewer rows.
        if self.file.fill_buf()?.is_empty() {
            return Ok(None);
        }
        let mut len = [0u8; 4];
        self.file.read_exact(&mut len)?;
        self.buf.resize(u32::from_le_bytes(len) as usize, 0);
        self.file.read_exact(&mut self.buf)?;
        postcard::from_bytes(&self.buf)
            .map(Some)
            .map_err(io::Error::other)
    }
}

fn order(a: &Fetched, b: &Fetched) -> std::cmp::Ordering {
    (a.start, &a.id).cmp(&(b.start, &b.id))
}

/// The merge of a day's runs.
pub struct Merge {
    _dir: tempfile::TempDir,
    readers: Vec<Run>,
    memory: std::vec::IntoIter<Fetched>,
    heads: Vec<Option<Fetched>>,
    heap: BinaryHeap<Reverse<(DateTime<Utc>, String, usize)>>,
    last_id: Option<String>,
    /// Rows outside their job's interval (kept jobs only).
    pub outside: u64,
    /// Rows of a conversation already yielded.
    pub duplicates: u64,
}

impl Merge {
    /// Loads source `i`'s next row (the last source is the rows kept in memory).
    fn advance(&mut self, i: usize) -> io::Result<()> {
        let next = match self.readers.get_mut(i) {
            Some(run) => run.next_row()?,
            None => self.memory.next(),
        };
        if let Some(f) = &next {
            self.heap.push(Reverse((f.start, f.id.clone(), i)));
        }
        self.heads[i] = next;
        Ok(())
    }

    /// Up to `n` more rows; empty at the end.
    pub fn next_chunk(&mut self, n: usize) -> io::Result<Vec<Fetched>> {
        let mut out = Vec::with_capacity(n.min(4096));
        while out.len() < n {
            let Some(Reverse((_, _, i))) = self.heap.pop() else {
                break;
            };
            let f = self.heads[i].take().expect("a head per heap entry");
            self.advance(i)?;
            // Equal ids have equal starts, so a repeated conversation is adjacent.
            if self.last_id.as_deref() == Some(f.id.as_str()) {
                self.duplicates += 1;
                continue;
            }
            self.last_id = Some(f.id.clone());
            out.push(f);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::record::{ConversationLabel, LegLabel};
    use crate::transform::classify::LegEvidence;
    use crate::transform::rows::Classified;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 19, 0, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn rec(id: &str, min: i64) -> AnalyticsConversation<'static> {
        let json = serde_json::json!({
            "conversationId": id,
            "conversationStart": t(min).to_rfc3339(),
        });
        serde_json::from_str::<AnalyticsConversation>(&json.to_string())
            .unwrap()
            .into_owned()
    }

    fn fetched(c: &AnalyticsConversation<'_>) -> Fetched {
        Fetched {
            id: c.conversation_id.to_string(),
            start: c.conversation_start,
            end: None,
            direction: Some("inbound".into()),
            media: None,
            queue: None,
            classified: Classified {
                legs: vec![(
                    LegEvidence {
                        participant_id: format!("p-{}", c.conversation_id),
                        acw_ms: 7,
                        ..LegEvidence::default()
                    },
                    LegLabel::NeedsLookup,
                )],
                analytics_label: ConversationLabel::Missing,
                too_recent: false,
                ended_minutes_before_as_of: Some(3),
            },
        }
    }

    fn drain(m: &mut Merge, chunk: usize) -> Vec<(DateTime<Utc>, String)> {
        let mut out = Vec::new();
        loop {
            let rows = m.next_chunk(chunk).unwrap();
            if rows.is_empty() {
                return out;
            }
            out.extend(rows.into_iter().map(|f| (f.start, f.id)));
        }
    }

    #[test]
    fn runs_on_disk_merge_into_one_order_a_conversation_once() {
        let out = tempfile::tempdir().unwrap();
        let mut s = DaySpill::with_run_rows(out.path(), fetched, 3).unwrap();
        let (lo, hi) = (t(0), t(100));
        // Job 1, unordered, one row outside the interval and one repeated.
        s.page(vec![rec("c", 5), rec("a", 9), rec("b", 5)], lo, hi);
        s.page(vec![rec("z", 200), rec("d", 1), rec("a", 9)], lo, hi);
        s.keep();
        // Job 2 fails half-way: none of its rows count, even those already on disk.
        s.page(vec![rec("x", 2), rec("y", 3), rec("w", 4)], lo, hi);
        s.page(vec![rec("v", 150)], lo, hi);
        s.discard();
        // Job 3 (its resubmission) is kept.
        s.page(vec![rec("e", 0), rec("f", 99)], lo, hi);
        s.keep();
        let spill_dirs = || {
            std::fs::read_dir(out.path())
                .unwrap()
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    name.to_str().unwrap().starts_with(".staging-spill-")
                })
                .count()
        };
        assert_eq!(spill_dirs(), 1);
        let mut m = s.merge().unwrap();
        let got = drain(&mut m, 2);
        let want: Vec<_> = [("e", 0), ("d", 1), ("b", 5), ("c", 5), ("a", 9), ("f", 99)]
            .iter()
            .map(|(id, min)| (t(*min), id.to_string()))
            .collect();
        assert_eq!(got, want);
        assert_eq!((m.outside, m.duplicates), (1, 1));
        drop(m);
        assert_eq!(spill_dirs(), 0, "the spill is removed with the merge");
    }

    #[test]
    fn rows_of_another_part_of_the_day_are_not_outside_it() {
        let out = tempfile::tempdir().unwrap();
        // The job reads the part [10, 20) of the day [0, 100).
        let mut s = DaySpill::with_run_rows(out.path(), fetched, 10)
            .unwrap()
            .within_day(t(0), t(100));
        s.page(vec![rec("a", 5), rec("b", 15), rec("c", 150)], t(10), t(20));
        s.keep();
        let mut m = s.merge().unwrap();
        let ids: Vec<_> = m
            .next_chunk(10)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["b"], "only the part's own rows");
        assert_eq!(m.outside, 1, "only the row outside the day");
    }

    #[test]
    fn rows_survive_the_round_trip_through_disk() {
        let out = tempfile::tempdir().unwrap();
        let mut s = DaySpill::with_run_rows(out.path(), fetched, 1).unwrap();
        s.page(vec![rec("a", 1)], t(0), t(10));
        s.keep();
        let row = s.merge().unwrap().next_chunk(10).unwrap().remove(0);
        let want = fetched(&rec("a", 1));
        assert_eq!(format!("{row:?}"), format!("{want:?}"));
        // Thousands of read-back rows wait in the channel: the format carries the legs' count, so
        // they hold no spare room (JSON lines grew each row's legs to room for four).
        let legs = &row.classified.legs;
        assert_eq!(
            legs.capacity(),
            legs.len(),
            "legs read back take no spare room"
        );
    }

    #[test]
    fn a_run_cut_short_is_an_error_not_fewer_rows() {
        for keep in [2u64, 6] {
            let out = tempfile::tempdir().unwrap();
            let mut s = DaySpill::with_run_rows(out.path(), fetched, 1).unwrap();
            s.page(vec![rec("a", 1), rec("b", 2)], t(0), t(10));
            s.keep();
            let dir = std::fs::read_dir(out.path())
                .unwrap()
                .next()
                .unwrap()
                .unwrap();
            let run = std::fs::read_dir(dir.path())
                .unwrap()
                .next()
                .unwrap()
                .unwrap();
            // Cut inside the length (2 bytes) or inside the row (6 bytes).
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(run.path())
                .unwrap();
            f.set_len(keep).unwrap();
            let got = s.merge().and_then(|mut m| m.next_chunk(10));
            assert!(got.is_err(), "cut after {keep} bytes: {got:?}");
        }
    }
}
