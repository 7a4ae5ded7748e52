//! Ranges of the numeric settings. Every value from the job file or flags is checked here, so no
//! later arithmetic on it can overflow or panic (a panic in the fetching task once ended a run
//! as if the data had ended).

/// Longest settle time: a week.
pub const MAX_SETTLE_MINUTES: i64 = 7 * 24 * 60;
/// Longest per-request timeout: an hour.
pub const MAX_REQUEST_TIMEOUT_SECS: u64 = 3_600;
/// Largest result cap: pages of the cap must stay countable in a `u32`.
pub const MAX_QUERY_RESULT_CAP: u64 = 1_000_000_000;
/// Longest first wait before polling an async job: a minute.
pub const MAX_JOBS_POLL_MS: u64 = 60_000;
/// Most retries of one request.
pub const MAX_RETRIES: u32 = 50;

/// The numeric settings as given (defaults applied), before they go into a `Config`.
pub struct Numbers {
    pub settle_minutes: i64,
    pub page_size: u32,
    pub query_result_cap: u64,
    pub request_timeout_secs: u64,
    pub jobs_poll_ms: u64,
    pub max_retries: u32,
}

/// Appends one message per value out of range.
pub fn check(n: &Numbers, errors: &mut Vec<String>) {
    if !(0..=MAX_SETTLE_MINUTES).contains(&n.settle_minutes) {
        errors.push(format!(
            "settle_minutes must be between 0 and {MAX_SETTLE_MINUTES} (7 days), not {}",
            n.settle_minutes
        ));
    }
    if !(1..=MAX_REQUEST_TIMEOUT_SECS).contains(&n.request_timeout_secs) {
        errors.push(format!(
            "request_timeout_secs must be between 1 and {MAX_REQUEST_TIMEOUT_SECS}, not {}",
            n.request_timeout_secs
        ));
    }
    if n.query_result_cap < u64::from(n.page_size) || n.query_result_cap > MAX_QUERY_RESULT_CAP {
        errors.push(format!(
            "query_result_cap must be between page_size ({}) and {MAX_QUERY_RESULT_CAP}, not {}",
            n.page_size, n.query_result_cap
        ));
    }
    if !(1..=MAX_JOBS_POLL_MS).contains(&n.jobs_poll_ms) {
        errors.push(format!(
            "jobs_poll_ms must be between 1 and {MAX_JOBS_POLL_MS}, not {}",
            n.jobs_poll_ms
        ));
    }
    if n.max_retries > MAX_RETRIES {
        errors.push(format!(
            "max_retries must be {MAX_RETRIES} or less, not {}",
            n.max_retries
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Numbers {
        Numbers {
            settle_minutes: 15,
            page_size: 100,
            query_result_cap: 100_000,
            request_timeout_secs: 60,
            jobs_poll_ms: crate::config::DEFAULT_JOBS_POLL_MS,
            max_retries: 8,
        }
    }

    #[test]
    fn defaults_pass_and_each_bound_is_checked() {
        let mut e = Vec::new();
        check(&ok(), &mut e);
        assert!(e.is_empty(), "{e:?}");
        type Spoil = fn(&mut Numbers);
        let bad: [(&str, Spoil); 8] = [
            ("settle_minutes", |n| n.settle_minutes = -1),
            ("settle_minutes", |n| n.settle_minutes = i64::MAX),
            ("request_timeout_secs", |n| n.request_timeout_secs = 0),
            ("request_timeout_secs", |n| {
                n.request_timeout_secs = u64::MAX
            }),
            ("query_result_cap", |n| n.query_result_cap = 99),
            ("query_result_cap", |n| n.query_result_cap = u64::MAX),
            ("jobs_poll_ms", |n| n.jobs_poll_ms = u64::MAX),
            ("max_retries", |n| n.max_retries = u32::MAX),
        ];
        for (key, spoil) in bad {
            let mut n = ok();
            spoil(&mut n);
            let mut e = Vec::new();
            check(&n, &mut e);
            assert_eq!(e.len(), 1, "{key}: {e:?}");
            assert!(e[0].starts_with(key), "{e:?}");
        }
    }
}
