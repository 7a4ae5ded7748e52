//! The details jobs a simulator holds: each job's query, lifecycle state and fixed result set.
//!
//! Kept apart from the HTTP side (`handlers/jobs.rs`) so that the shared state can own the jobs
//! without importing a handler.

use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::query::Query;
use super::scenarios::Day;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobState {
    Queued,
    Pending,
    Fulfilled,
    Failed,
    Cancelled,
    Expired,
}

impl JobState {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "QUEUED",
            JobState::Pending => "PENDING",
            JobState::Fulfilled => "FULFILLED",
            JobState::Failed => "FAILED",
            JobState::Cancelled => "CANCELLED",
            JobState::Expired => "EXPIRED",
        }
    }

    pub(crate) fn finished(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Pending)
    }
}

/// The result set, fixed when the job is fulfilled: records rendered as of `as_of`.
pub(crate) struct Results {
    pub(crate) as_of: DateTime<Utc>,
    pub(crate) rows: Vec<(Arc<Day>, usize)>,
}

pub(crate) struct Job {
    pub(crate) query: Query,
    pub(crate) start_of_day: bool,
    pub(crate) limit: Option<usize>,
    /// Decided at submission for the first `fail_jobs_first` jobs.
    pub(crate) will_fail: bool,
    pub(crate) polls: u32,
    pub(crate) state: JobState,
    pub(crate) submitted: DateTime<Utc>,
    pub(crate) completed: Option<DateTime<Utc>>,
    pub(crate) results: Option<Arc<Results>>,
}

/// All jobs of one simulator.
#[derive(Default)]
pub(crate) struct Jobs {
    pub(crate) map: Mutex<HashMap<Uuid, Job>>,
    pub(crate) submitted: AtomicU32,
}

impl Jobs {
    /// Ends a job as `state` (EXPIRED or CANCELLED) and drops its results; false when there is no
    /// such job.
    pub fn end(&self, id: &str, state: JobState) -> bool {
        let Ok(id) = id.parse::<Uuid>() else {
            return false;
        };
        let mut map = self.map.lock().expect("jobs");
        match map.get_mut(&id) {
            Some(job) => {
                job.state = state;
                job.results = None;
                true
            }
            None => false,
        }
    }
}
