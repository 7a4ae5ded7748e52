//! The one request limiter every API call awaits, plus a pause fed by the server's rate headers.
//!
//! The governor quota replenishes one request every `60 s / requests_per_minute` with a burst of one,
//! so no 60-second window ever holds more requests than configured: the hard ceiling. With adaptive
//! pacing, requests are also spaced by what the `inin-ratelimit-*` headers show free in the token's
//! window ([`super::pacing`]). In both modes, when `inin-ratelimit-count` comes within a small margin
//! of `inin-ratelimit-allowed`, new requests wait until the server's window resets instead of running
//! into a 429.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Jitter, Quota, RateLimiter};
use tokio::time::Instant;

use super::pacing::Pacer;

/// How requests are spaced below the `requests_per_minute` ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pacing {
    /// Use what the rate headers show free in the token's window, up to the ceiling.
    #[default]
    Adaptive,
    /// Evenly at the ceiling; the headers only trigger a pause when the quota is nearly used.
    Fixed,
}

impl Pacing {
    pub fn as_str(self) -> &'static str {
        match self {
            Pacing::Adaptive => "adaptive",
            Pacing::Fixed => "fixed",
        }
    }
}

/// Requests left in the server's window below which we pause until it resets.
const HEADROOM: u64 = 2;
/// Longest pause believed from a server's header; larger values are not added to the clock as they are.
const MAX_PAUSE: Duration = Duration::from_secs(180);

pub struct Limiter {
    governor: Option<DefaultDirectRateLimiter>,
    pause_until: Mutex<Option<Instant>>,
    /// `Some` with adaptive pacing.
    pacer: Option<Mutex<Pacer>>,
    requests_per_minute: u32,
}

/// Gives a handed-out slot back when the waiting request is dropped before it goes out.
struct Slot<'a>(Option<&'a Mutex<Pacer>>);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.0 {
            p.lock().expect("pacer lock").unreserve();
        }
    }
}

impl Limiter {
    /// `requests_per_minute == 0` turns limiting off (benchmarks against a local simulator only).
    pub fn new(requests_per_minute: u32, pacing: Pacing) -> Limiter {
        let governor = NonZeroU32::new(requests_per_minute).map(|_| {
            let period = Duration::from_secs(60).div_f64(f64::from(requests_per_minute));
            let quota = Quota::with_period(period)
                .expect("period is positive")
                .allow_burst(NonZeroU32::MIN);
            RateLimiter::direct(quota)
        });
        Limiter {
            governor,
            pause_until: Mutex::new(None),
            pacer: (pacing == Pacing::Adaptive).then(|| Mutex::new(Pacer::new())),
            requests_per_minute,
        }
    }

    pub fn requests_per_minute(&self) -> u32 {
        self.requests_per_minute
    }

    /// Waits until a request may be sent; returns when it goes out, for [`Limiter::observe`].
    /// Never busy-waits.
    pub async fn ready(&self) -> Instant {
        loop {
            let pause = *self.pause_until.lock().expect("limiter lock");
            match pause {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until).await,
                _ => break,
            }
        }
        let mut slot = Slot(None);
        if let Some(p) = &self.pacer {
            let at = p.lock().expect("pacer lock").reserve(Instant::now());
            slot = Slot(Some(p));
            tokio::time::sleep_until(at).await;
        }
        if let Some(g) = &self.governor {
            g.until_ready_with_jitter(Jitter::up_to(Duration::from_millis(5)))
                .await;
        }
        let now = Instant::now();
        if let Some(p) = slot.0.take() {
            p.lock().expect("pacer lock").sent(now);
        }
        now
    }

    /// Reads the server's rate headers after a response to a request sent at `sent`.
    pub fn observe(
        &self,
        sent: Instant,
        allowed: Option<u64>,
        count: Option<u64>,
        reset_secs: Option<u64>,
    ) {
        if let (Some(allowed), Some(count), Some(reset)) = (allowed, count, reset_secs) {
            if let Some(p) = &self.pacer {
                let reset = Duration::from_secs(reset).min(MAX_PAUSE);
                p.lock()
                    .expect("pacer lock")
                    .observe(allowed, count, reset, sent, Instant::now());
            }
            // One line per pause, not one per response that saw the quota nearly used.
            if count.saturating_add(HEADROOM) >= allowed
                && self.pause_for(Duration::from_secs(reset))
            {
                tracing::info!(
                    ratelimit.allowed = allowed,
                    ratelimit.count = count,
                    ratelimit.reset_s = reset,
                    "Pausing {reset} s: the token's quota is nearly used ({count} of {allowed} this minute, other integrations included)"
                );
            }
        }
    }

    /// Holds every new request back for `wait` (used after a 429 too). True when no pause was
    /// running before: a new pause, worth one log line.
    pub fn pause_for(&self, wait: Duration) -> bool {
        let wait = wait.min(MAX_PAUSE);
        let now = Instant::now();
        let until = now + wait;
        let mut p = self.pause_until.lock().expect("limiter lock");
        let new = p.is_none_or(|cur| cur <= now);
        if p.is_none_or(|cur| cur < until) {
            *p = Some(until);
            // The progress bars show the pause as their state.
            crate::progress::quota_pause(std::time::Instant::now() + wait);
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn eight_responses_near_the_quota_make_one_pause() {
        let limiter = Limiter::new(0, Pacing::Fixed);
        let new: Vec<bool> = (0..8)
            .map(|_| limiter.pause_for(Duration::from_secs(59)))
            .collect();
        assert_eq!(new, [true, false, false, false, false, false, false, false]);
    }

    #[tokio::test]
    async fn absurd_rate_headers_are_clamped_not_added() {
        let limiter = Limiter::new(0, Pacing::Adaptive);
        limiter.observe(Instant::now(), Some(300), Some(u64::MAX), Some(u64::MAX));
        let until = limiter.pause_until.lock().unwrap().expect("a pause");
        assert!(until <= Instant::now() + MAX_PAUSE);
    }

    /// Lower bounds only: a loaded machine can make requests later, never earlier.
    #[tokio::test]
    async fn fixed_pacing_spaces_requests_evenly_with_a_burst_of_one() {
        // 1 200 a minute: one request per 50 ms.
        let limiter = Limiter::new(1_200, Pacing::Fixed);
        let first = limiter.ready().await;
        let mut last = first;
        for _ in 0..4 {
            last = limiter.ready().await;
        }
        assert!(
            last - first >= Duration::from_millis(195),
            "{:?}",
            last - first
        );
    }

    #[tokio::test]
    async fn a_pause_holds_the_next_request_back() {
        let limiter = Limiter::new(0, Pacing::Fixed);
        let before = Instant::now();
        assert!(limiter.pause_for(Duration::from_millis(150)));
        let sent = limiter.ready().await;
        assert!(sent - before >= Duration::from_millis(150));
    }

    #[tokio::test]
    async fn quota_headers_near_the_limit_pause_and_far_from_it_do_not() {
        let limiter = Limiter::new(0, Pacing::Fixed);
        limiter.observe(Instant::now(), Some(300), Some(10), Some(30));
        assert!(limiter.pause_until.lock().unwrap().is_none());
        limiter.observe(Instant::now(), Some(300), Some(299), Some(30));
        let until = limiter.pause_until.lock().unwrap().expect("a pause");
        assert!(until > Instant::now() + Duration::from_secs(25));
    }
}
