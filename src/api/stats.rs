//! Request counters: what the manifest, the summary and the metrics report of the API.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

/// Request counters for the manifest and the summary.
#[derive(Debug, Default)]
pub struct ApiStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
    pub server_errors: AtomicU64,
    pub transport_errors: AtomicU64,
    pub token_requests: AtomicU64,
    per_op: Mutex<std::collections::BTreeMap<&'static str, u64>>,
}

/// A copy of [`ApiStats`] at one moment.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ApiStatsSnapshot {
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub server_errors: u64,
    pub transport_errors: u64,
    pub token_requests: u64,
    pub requests_by_endpoint: std::collections::BTreeMap<String, u64>,
}

impl ApiStats {
    pub fn snapshot(&self) -> ApiStatsSnapshot {
        ApiStatsSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            transport_errors: self.transport_errors.load(Ordering::Relaxed),
            token_requests: self.token_requests.load(Ordering::Relaxed),
            requests_by_endpoint: self
                .per_op
                .lock()
                .expect("stats lock")
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
        }
    }

    pub(crate) fn count(&self, op: &'static str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self
            .per_op
            .lock()
            .expect("stats lock")
            .entry(op)
            .or_default() += 1;
    }
}
