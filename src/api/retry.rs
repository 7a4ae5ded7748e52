//! The retry policy: a pure function from (attempt, error) to a decision.
//!
//! Retried: 429 (waiting `Retry-After`, else `inin-ratelimit-reset`, else backoff), 502, 503, 504,
//! timeouts, connection failures and unreadable bodies (a 200 cut short by a proxy; every request we
//! make is a read, so repeating it is safe), with capped exponential backoff and full jitter. Never
//! retried: 400, 403, 404 and 500. A 401 gets one fresh token and one more try.

use std::time::Duration;

use super::error::ApiError;

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Fetch a new token, then try again at once.
    Reauthenticate,
    /// Stop and report the error.
    GiveUp,
}

/// Knobs of the policy. Defaults follow the official SDKs: a 429 asking for more than 180 s is not waited.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts after the first one.
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A 429 asking to wait longer than this gives up (a daily quota, not a per-minute one).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(180),
        }
    }
}

impl RetryPolicy {
    /// `attempt` counts failures so far (1 after the first failure); `reauthenticated` says whether a
    /// 401 was already answered with a new token; `jitter` in `[0, 1)` scales the backoff (full jitter).
    pub fn decide(
        &self,
        attempt: u32,
        err: &ApiError,
        reauthenticated: bool,
        jitter: f64,
    ) -> RetryDecision {
        if attempt > self.max_retries {
            return RetryDecision::GiveUp;
        }
        match err {
            ApiError::Unauthorized { .. } if !reauthenticated => RetryDecision::Reauthenticate,
            ApiError::RateLimited {
                retry_after: Some(wait),
                ..
            } => {
                if *wait > self.max_retry_after {
                    RetryDecision::GiveUp
                } else {
                    RetryDecision::Retry(*wait)
                }
            }
            ApiError::RateLimited {
                retry_after: None, ..
            }
            | ApiError::Timeout { .. }
            | ApiError::Connect { .. }
            | ApiError::Decode { .. } => RetryDecision::Retry(self.backoff(attempt, jitter)),
            ApiError::Status {
                status: 502..=504, ..
            } => RetryDecision::Retry(self.backoff(attempt, jitter)),
            _ => RetryDecision::GiveUp,
        }
    }

    /// Capped exponential backoff with full jitter; never below a tenth of the base delay.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let floor = self.base_delay / 10;
        capped.mul_f64(jitter.clamp(0.0, 1.0)).max(floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op() -> String {
        "test".into()
    }

    #[track_caller]
    fn check(attempt: u32, err: ApiError, reauth: bool, expect: RetryDecision) {
        let p = RetryPolicy::default();
        assert_eq!(p.decide(attempt, &err, reauth, 1.0), expect, "{err:?}");
    }

    #[test]
    fn decisions() {
        use RetryDecision::*;
        let s = |status| ApiError::Status {
            op: op(),
            status,
            code: "x".into(),
        };
        check(1, s(502), false, Retry(Duration::from_millis(500)));
        check(2, s(503), false, Retry(Duration::from_millis(1000)));
        check(3, s(504), false, Retry(Duration::from_millis(2000)));
        check(1, s(500), false, GiveUp);
        check(1, ApiError::NotFound { op: op() }, false, GiveUp);
        check(
            1,
            ApiError::Forbidden {
                op: op(),
                code: "c".into(),
                message: "m".into(),
            },
            false,
            GiveUp,
        );
        check(
            1,
            ApiError::BadRequest {
                op: op(),
                code: "c".into(),
                message: "m".into(),
            },
            false,
            GiveUp,
        );
        let unauthorized = ApiError::Unauthorized {
            op: op(),
            code: "c".into(),
            message: "m".into(),
        };
        check(1, unauthorized.clone(), false, Reauthenticate);
        check(2, unauthorized, true, GiveUp);
        check(
            1,
            ApiError::RateLimited {
                op: op(),
                retry_after: Some(Duration::from_secs(7)),
            },
            false,
            Retry(Duration::from_secs(7)),
        );
        check(
            1,
            ApiError::RateLimited {
                op: op(),
                retry_after: Some(Duration::from_secs(181)),
            },
            false,
            GiveUp,
        );
        check(
            1,
            ApiError::RateLimited {
                op: op(),
                retry_after: None,
            },
            false,
            Retry(Duration::from_millis(500)),
        );
        check(
            1,
            ApiError::Timeout { op: op() },
            false,
            Retry(Duration::from_millis(500)),
        );
        check(
            1,
            ApiError::Connect {
                op: op(),
                detail: "d".into(),
            },
            false,
            Retry(Duration::from_millis(500)),
        );
        check(9, ApiError::Timeout { op: op() }, false, GiveUp);
        check(
            1,
            ApiError::Decode {
                op: op(),
                detail: "d".into(),
            },
            false,
            Retry(Duration::from_millis(500)),
        );
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(20, 1.0), Duration::from_secs(30));
        assert_eq!(p.backoff(3, 0.5), Duration::from_millis(1000));
        assert_eq!(p.backoff(3, 0.0), Duration::from_millis(50));
    }
}
