//! Adaptive pacing: spend what the token has free in the server's rate window, other integrations on
//! the same token included, read from the `inin-ratelimit-*` headers.
//!
//! Evidence (`shared/genesys-api.md` §9.2): `inin-ratelimit-allowed` is the bucket's limit,
//! `inin-ratelimit-count` the requests used in the current window, `inin-ratelimit-reset` the seconds
//! until it resets [OBS + third-party code]. Inferred, not documented: the window is fixed (the count
//! starts again after a reset), it is as long as the largest `reset` seen (60-61 s in the one real
//! trace), every request on the token counts when it arrives, and other integrations keep roughly
//! their recent rate.
//!
//! The arithmetic, at a slot time `t` with `R` seconds left in the window: the others, at their rate
//! `o`, will spend `o·S` after the highest `count` was taken (`S` seconds before the window's end);
//! what is left, `allowed − count − ours not yet in count − MARGIN − o·S`, is spread evenly over `R`.
//! `o` comes from the growth of `count` minus our own requests sent meanwhile, between answers at
//! least 10 s apart (or the last window's), so it does not depend on where the window began.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Requests left free in every window: rounding of `reset`, a burst of another integration.
pub const MARGIN: f64 = 3.0;
/// The window length believed until a `reset` shows one.
const DEFAULT_WINDOW: Duration = Duration::from_secs(60);
/// Longest window believed from a header.
const MAX_WINDOW: Duration = Duration::from_secs(300);
/// How much of a window must be seen before its own count of the others is trusted over the last one.
const TRUST_AFTER: Duration = Duration::from_secs(10);
/// The shortest look at the others that is turned into a rate.
const MIN_SEEN: Duration = Duration::from_secs(2);
/// After a full window, start the next request this much after the estimated reset.
const AFTER_RESET: Duration = Duration::from_millis(20);
/// Slack on each side of a window end derived from one answer (clocks, rounding other than up).
const TOLERANCE: Duration = Duration::from_millis(250);

/// What the headers showed about the current window.
#[derive(Debug, Clone)]
struct Win {
    /// Where the window's end can be, from every answer in it: the request arrived between sending
    /// and answering, and `reset` is the time left rounded up to whole seconds.
    lo: Instant,
    end: Instant,
    allowed: u64,
    /// The highest count reported, and when the request that reported it was sent.
    count: u64,
    count_sent: Instant,
    /// The most requests of others seen in the window so far, and when that was measured; and the
    /// first such measure, so that their rate comes from a difference, free of where the window began.
    others: u64,
    others_sent: Instant,
    first_others: Option<(u64, Instant)>,
}

impl Win {
    /// The window's earliest start. Our requests are counted from there: a run's first requests
    /// open the window, and missing them would count them as the others'. Time left is taken from
    /// the latest end instead, the safe side for spending.
    fn start(&self, len: Duration) -> Instant {
        self.lo.checked_sub(len).unwrap_or(self.lo)
    }
}

/// The pacing state; every method takes the time so that the arithmetic is testable.
#[derive(Debug)]
pub struct Pacer {
    window_len: Option<Duration>,
    win: Option<Win>,
    /// Requests per second of the others in the last finished window.
    prior_others: Option<f64>,
    /// When our requests went out, oldest first (two windows' worth).
    sends: VecDeque<Instant>,
    /// Slots handed out whose request has not gone out yet.
    reserved: u32,
    next: Option<Instant>,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new()
    }
}

impl Pacer {
    pub fn new() -> Pacer {
        Pacer {
            window_len: None,
            win: None,
            prior_others: None,
            sends: VecDeque::new(),
            reserved: 0,
            next: None,
        }
    }

    fn window(&self) -> Duration {
        self.window_len.unwrap_or(DEFAULT_WINDOW)
    }

    /// Our requests sent in `[from, to]`.
    fn ours(&self, from: Instant, to: Instant) -> u64 {
        let a = self.sends.partition_point(|t| *t < from);
        let b = self.sends.partition_point(|t| *t <= to);
        b.saturating_sub(a) as u64
    }

    /// A request went out at `at`, after its slot.
    pub fn sent(&mut self, at: Instant) {
        self.reserved = self.reserved.saturating_sub(1);
        self.sends.push_back(at);
        let keep = self.window() * 2 + Duration::from_secs(5);
        while self
            .sends
            .front()
            .is_some_and(|t| at.saturating_duration_since(*t) > keep)
        {
            self.sends.pop_front();
        }
    }

    /// A slot handed out was given up before its request went out.
    pub fn unreserve(&mut self) {
        self.reserved = self.reserved.saturating_sub(1);
    }

    /// The headers of an answer that arrived at `now` to a request sent at `sent`.
    pub fn observe(
        &mut self,
        allowed: u64,
        count: u64,
        reset: Duration,
        sent: Instant,
        now: Instant,
    ) {
        let reset = reset.min(MAX_WINDOW);
        // The first answer in a window shows its whole length; a run may start mid-window.
        let w_len = self.window_len.map_or(reset, |w| w.max(reset));
        self.window_len = Some(w_len.max(Duration::from_secs(1)));
        let lo = (sent + reset)
            .checked_sub(Duration::from_secs(1) + TOLERANCE)
            .unwrap_or(sent);
        let end = now + reset + TOLERANCE;
        let fresh = Win {
            lo,
            end,
            allowed,
            count: 0,
            count_sent: sent,
            others: 0,
            others_sent: sent,
            first_others: None,
        };
        match &mut self.win {
            // A late answer from a window that has ended.
            Some(w) if end < w.lo => return,
            Some(w) if lo <= w.end => {
                w.lo = w.lo.max(lo);
                w.end = w.end.min(end).max(w.lo);
            }
            old => {
                if let Some(w) = old.take() {
                    let (rate, seen) = Self::rate_of(&w, self.window_len);
                    if seen >= TRUST_AFTER {
                        self.prior_others = Some(rate);
                    }
                }
                *old = Some(fresh);
            }
        }
        let start = self.win.as_ref().expect("set").start(self.window());
        let ours = self.ours(start, sent);
        let w = self.win.as_mut().expect("set");
        w.allowed = allowed;
        if count >= w.count {
            w.count = count;
            w.count_sent = sent;
        }
        let others = count.saturating_sub(ours);
        if w.first_others.is_none_or(|(_, at)| sent < at) {
            w.first_others = Some((others, sent));
        }
        if others >= w.others {
            w.others = others;
            w.others_sent = sent;
        }
    }

    /// The others' requests per second as seen in `w` so far.
    /// The others' requests per second seen in `w`, and over how long they were seen.
    fn rate_of(w: &Win, window_len: Option<Duration>) -> (f64, Duration) {
        if let Some((first, at)) = w.first_others {
            let span = w.others_sent.saturating_duration_since(at);
            if span >= TRUST_AFTER {
                return (
                    (w.others - first.min(w.others)) as f64 / span.as_secs_f64(),
                    span,
                );
            }
        }
        // A short look: from the middle of where the window can have started, not stretched into
        // a huge rate.
        let len = window_len.unwrap_or(DEFAULT_WINDOW);
        let mid = w.lo + (w.end - w.lo) / 2;
        let seen = w
            .others_sent
            .saturating_duration_since(mid.checked_sub(len).unwrap_or(mid));
        (
            w.others as f64 / seen.max(MIN_SEEN).as_secs_f64(),
            seen.min(TRUST_AFTER / 2),
        )
    }

    fn others_rate(&self, w: &Win) -> f64 {
        let (rate, seen) = Self::rate_of(w, self.window_len);
        match self.prior_others {
            Some(prior) if seen < TRUST_AFTER => prior,
            _ => rate,
        }
    }

    /// Requests this run may still send in the window around `t`, and the seconds left in it.
    /// `None`: no header seen yet.
    pub fn free_at(&self, t: Instant) -> Option<(f64, f64)> {
        let w = self.win.as_ref()?;
        let len = self.window();
        let o = self.others_rate(w);
        // Past the estimated end, a fresh window with nothing counted yet but what we sent in it.
        let (end, count, since) = if t < w.end {
            (w.end, w.count, w.count_sent)
        } else if t < w.end + len {
            (w.end + len, 0, w.end)
        } else {
            (t + len, 0, t)
        };
        let left = end.saturating_duration_since(t).as_secs_f64().max(0.05);
        let uncounted = self.ours(since + Duration::from_nanos(1), t) + u64::from(self.reserved);
        // The others keep spending from when `count` was taken, not only from `t`, up to the likeliest
        // end (the middle of where it can be; the latest end is only for waiting out a reset).
        let likely_end = end - (w.end - w.lo) / 2;
        let theirs = o * likely_end
            .saturating_duration_since(since.min(t))
            .as_secs_f64();
        let free = w.allowed as f64 - count as f64 - uncounted as f64 - MARGIN - theirs;
        Some((free, left))
    }

    /// Hands out the time the next request may go, no earlier than `now`.
    pub fn reserve(&mut self, now: Instant) -> Instant {
        let slot = self.next.map_or(now, |n| n.max(now));
        let at = match self.free_at(slot) {
            None => slot,
            Some((free, left)) if free >= 1.0 => {
                self.next = Some(slot + Duration::from_secs_f64(left / free));
                slot
            }
            // Nothing free before the reset: the first request after it.
            Some((_, left)) => {
                let at = slot + Duration::from_secs_f64(left) + AFTER_RESET;
                self.next = Some(at);
                at
            }
        };
        self.reserved += 1;
        at
    }
}

#[cfg(test)]
#[path = "pacing_tests.rs"]
mod tests;
