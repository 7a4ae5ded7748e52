//! An embedded Genesys Cloud simulator for tests and demos.
//!
//! It serves the slice of the Platform API that `wrapup-audit` uses (OAuth client credentials, the analytics
//! conversation details query and details jobs, single-conversation detail and Conversations API lookups, and
//! the wrap-up code, queue and user listings) with the real wire shapes and error bodies, on `127.0.0.1`. The org and its
//! conversations are generated deterministically from a seed, one UTC day at a time, and every conversation
//! comes from a named scenario that also states the labels the auditor must give it ([`SimHandle::ground_truth`]).
//!
//! The simulator has its own clock ([`SimConfig::now`], [`SimHandle::set_now`]): regular conversations appear
//! once they have ended, and a handful of conversations are anchored around the initial clock value so that a
//! run sees some still in progress and some that ended only minutes ago.
//!
//! Two additions exercise a client's resilience: a [`FaultProfile`] ([`SimConfig::faults`],
//! [`SimHandle::set_faults`]) injects transient errors, throttling, broken bodies, latency, early token
//! expiry and paging noise, decided deterministically per request; and the async details jobs API
//! (`…/details/jobs`) whose lifecycle advances with each status poll ([`SimConfig::job_polls_to_fulfil`]).

mod config;
mod faults;
mod handlers;
mod job_store;
mod model;
mod org;
mod query;
mod router;
mod scenarios;
mod seed;
mod state;
mod truth;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{LoggedRequest, SimConfig};
pub use faults::FaultProfile;
pub use model::Str;
pub use org::{Agent, Queue, WrapupCode, DEFAULT_WRAPUP_CODE_ID, TIMEOUT_CODE};
pub use scenarios::{ANCHORED_SCENARIOS, SCENARIO_WEIGHTS};
pub use truth::{conversation_label, TruthConversation, TruthLeg};

/// A running simulator. Cloning shares the same server; [`SimHandle::shutdown`] stops it for all clones.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<state::Shared>,
    addr: SocketAddr,
    stop: Arc<Mutex<Option<oneshot::Sender<()>>>>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// Binds `127.0.0.1:cfg.port` and serves the simulator on a tokio task.
pub async fn start(cfg: SimConfig) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(state::Shared::new(cfg));
    let app = router::router(shared.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "simulator server stopped with an error");
        }
    });
    tracing::debug!(%addr, "simulator listening");
    Ok(SimHandle {
        shared,
        addr,
        stop: Arc::new(Mutex::new(Some(tx))),
        task: Arc::new(Mutex::new(Some(task))),
    })
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, usable as both the API and the login base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client_id(&self) -> &str {
        &self.shared.cfg.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.shared.cfg.client_secret
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// The simulator's current clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.now()
    }

    /// Moves the clock: conversations that have ended by `now` become visible, anchored ones progress.
    pub fn set_now(&self, now: DateTime<Utc>) {
        self.shared.set_now(now);
    }

    /// The org's wrap-up code catalog, sorted by name (includes the Default Wrap-up Code).
    pub fn code_catalog(&self) -> &[WrapupCode] {
        &self.shared.org.codes
    }

    pub fn queues(&self) -> &[Queue] {
        &self.shared.org.queues
    }

    pub fn agents(&self) -> &[Agent] {
        &self.shared.org.agents
    }

    /// Expected labels for every conversation with `conversationStart ∈ [from, to)` that exists at the
    /// simulator's current clock, ordered by `(start, id)`. `settle_minutes` and `as_of` are the run's
    /// latency-guard settings.
    pub fn ground_truth(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        settle_minutes: i64,
        as_of: DateTime<Utc>,
    ) -> Vec<TruthConversation> {
        if to <= from {
            return Vec::new();
        }
        let now = self.shared.now();
        let mut out = Vec::new();
        let mut d = from.date_naive();
        let last = (to - chrono::Duration::milliseconds(1)).date_naive();
        while d <= last {
            let day = self.shared.day(d);
            out.extend(
                day.conversations
                    .iter()
                    .filter(|c| {
                        c.conversation_start >= from && c.conversation_start < to && c.visible(now)
                    })
                    .map(|c| truth::truth_for(c, now, settle_minutes, as_of)),
            );
            d = match d.succ_opt() {
                Some(n) => n,
                None => break,
            };
        }
        out
    }

    /// Replaces the fault profile; request numbering for the fault RNG restarts at 0.
    pub fn set_faults(&self, faults: FaultProfile) {
        self.shared.set_faults(faults);
    }

    /// The fault profile in force.
    pub fn faults(&self) -> FaultProfile {
        (*self.shared.faults()).clone()
    }

    /// Marks a details job `EXPIRED` (as if its results had been left unread too long); false when the
    /// simulator has no job with this id.
    pub fn expire_job(&self, job_id: &str) -> bool {
        self.shared.jobs.end(job_id, job_store::JobState::Expired)
    }

    /// Marks a details job `CANCELLED`, as someone else's DELETE would; false when there is no such job.
    pub fn cancel_job(&self, job_id: &str) -> bool {
        self.shared.jobs.end(job_id, job_store::JobState::Cancelled)
    }

    /// Every details job submitted so far: its id, state (`QUEUED`, `PENDING`, `FULFILLED`, `FAILED`,
    /// `CANCELLED`, `EXPIRED`) and interval start. Tests check that a run leaves none running.
    pub fn job_states(&self) -> Vec<(String, &'static str, DateTime<Utc>)> {
        let map = self.shared.jobs.map.lock().expect("jobs");
        map.iter()
            .map(|(id, job)| (id.to_string(), job.state.as_str(), job.query.start))
            .collect()
    }

    /// Every access token issued so far (tests check that none leaks into logs).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared
            .tokens
            .lock()
            .expect("tokens")
            .keys()
            .cloned()
            .collect()
    }

    /// Requests that have arrived so far, answered or not (a hung request is counted at once).
    pub fn requests_started(&self) -> u64 {
        self.shared
            .started
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Every request served so far.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.log.lock().expect("log").clone()
    }

    /// Stops accepting connections, lets in-flight requests finish and waits for the server task.
    pub async fn shutdown(self) {
        if let Some(tx) = self.stop.lock().expect("stop").take() {
            let _ = tx.send(());
        }
        let task = self.task.lock().expect("task").take();
        if let Some(t) = task {
            let _ = t.await;
        }
    }
}
