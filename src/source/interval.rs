//! What both fetch paths share about intervals: which rows belong to one, and the work list of
//! intervals still to read, where an interval over a result cap is replaced by its two halves; and
//! the filter of a day's pages (in the interval, not seen before).
//! Each path keeps its own cap and shortest interval (the details query's 100 000 results and one
//! minute; a job's pagination cap and `jobs_min_split_minutes`).

use chrono::{DateTime, Utc};

use crate::source::ids::IdSet;
use crate::transform::rows::Fetched;

/// True when a conversation that started at `start` is in `[s, e)`: the rows a (sub-)interval owns.
/// The API also returns conversations that merely overlap the interval; they belong to another one.
pub(crate) fn starts_within(start: DateTime<Utc>, s: DateTime<Utc>, e: DateTime<Utc>) -> bool {
    start >= s && start < e
}

/// Intervals still to read, taken in time order.
pub(crate) struct Intervals {
    pending: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Intervals {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Intervals {
        Intervals {
            pending: vec![(start, end)],
        }
    }

    /// The earliest interval left; empty ones are skipped.
    pub fn next(&mut self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        while let Some((s, e)) = self.pending.pop() {
            if s < e {
                return Some((s, e));
            }
        }
        None
    }

    /// Replaces `[s, e)` by its halves, read next and in order. Returns the midpoint.
    pub fn halve(&mut self, s: DateTime<Utc>, e: DateTime<Utc>) -> DateTime<Utc> {
        let mid = s + (e - s) / 2;
        self.pending.push((mid, e));
        self.pending.push((s, mid));
        mid
    }
}

/// Keeps the conversations of a page that started in `[s, e)` and were not seen before.
pub(crate) struct Collector {
    pub seen: IdSet,
    pub outside: u64,
    pub dupes: u64,
}

impl Collector {
    pub fn take(&mut self, page: Vec<Fetched>, s: DateTime<Utc>, e: DateTime<Utc>) -> Vec<Fetched> {
        let mut out = Vec::with_capacity(page.len());
        for c in page {
            if !starts_within(c.start, s, e) {
                self.outside += 1;
            } else if self.seen.insert(&c.id) {
                out.push(c);
            } else {
                self.dupes += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn halves_are_read_in_time_order_and_empty_intervals_skipped() {
        let t = |h| Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0).unwrap();
        let mut w = Intervals::new(t(0), t(8));
        assert_eq!(w.next(), Some((t(0), t(8))));
        assert_eq!(w.halve(t(0), t(8)), t(4));
        assert_eq!(w.next(), Some((t(0), t(4))));
        w.halve(t(0), t(4));
        let rest: Vec<_> = std::iter::from_fn(|| w.next()).collect();
        assert_eq!(rest, vec![(t(0), t(2)), (t(2), t(4)), (t(4), t(8))]);
        let mut empty = Intervals::new(t(3), t(3));
        assert_eq!(empty.next(), None);
    }
}
