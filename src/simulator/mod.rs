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

mod faults;
mod jobs;
mod model;
mod org;
mod query;
mod server;
mod truth;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::FaultProfile;
pub use model::Str;
pub use org::{
    Agent, Queue, WrapupCode, ANCHORED_SCENARIOS, DEFAULT_WRAPUP_CODE_ID, SCENARIO_WEIGHTS,
    TIMEOUT_CODE,
};
pub use truth::{conversation_label, TruthConversation, TruthLeg};

/// Settings of one simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// Regular conversations generated per UTC day (the anchored ones come on top).
    pub conversations_per_day: u32,
    /// The simulator's clock; also the anchor of the in-progress and just-ended scenarios.
    pub now: DateTime<Utc>,
    /// The org's business-hours time zone: conversations cluster between 07:00 and 22:00 local time.
    pub timezone: chrono_tz::Tz,
    pub client_id: String,
    pub client_secret: String,
    pub token_ttl_secs: u64,
    /// `details/query` page size limit; larger sizes get a 400.
    pub max_page_size: u32,
    /// `pageNumber × pageSize` limit; beyond it a 400 "Pagination may not exceed … results.".
    pub result_cap: u64,
    pub queues: u32,
    pub agents: u32,
    pub wrapup_codes: u32,
    /// Permissions the OAuth client lacks; routes needing one of them answer 403.
    pub denied_permissions: Vec<String>,
    /// 0 picks an ephemeral port.
    pub port: u16,
    /// Reported in `inin-ratelimit-allowed`, and enforced with 429s when `enforce_rate_limit` is set.
    pub rate_limit_per_minute: u32,
    pub enforce_rate_limit: bool,
    /// Faults injected from the start; [`SimHandle::set_faults`] replaces them at run time.
    pub faults: FaultProfile,
    /// Status polls a details job answers `QUEUED`/`PENDING` before it finishes (2: FULFILLED on the 3rd).
    pub job_polls_to_fulfil: u32,
    /// How far the jobs data lake lags the clock: `dataAvailabilityDate = now - lag`.
    pub data_lake_lag_minutes: u32,
    /// Rows a details job pages out; a larger job refuses results past it with a 400.
    pub job_result_cap: u64,
    /// The first N submitted details jobs end `FAILED`.
    pub fail_jobs_first: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            conversations_per_day: 200,
            // A fixed Wednesday afternoon keeps default runs reproducible.
            now: Utc
                .with_ymd_and_hms(2025, 6, 4, 15, 0, 0)
                .single()
                .expect("valid date"),
            timezone: chrono_tz::UTC,
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            token_ttl_secs: 86_399,
            max_page_size: 100,
            result_cap: 100_000,
            queues: 6,
            agents: 40,
            wrapup_codes: 30,
            denied_permissions: Vec::new(),
            port: 0,
            rate_limit_per_minute: 300,
            enforce_rate_limit: false,
            faults: FaultProfile::default(),
            job_polls_to_fulfil: 2,
            data_lake_lag_minutes: 60,
            job_result_cap: 400_000,
            fail_jobs_first: 0,
        }
    }
}

/// One request as the simulator saw it; `at` is wall-clock time.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    pub at: DateTime<Utc>,
    pub method: String,
    pub path: String,
    /// The status sent; for a dropped connection, the status that was started (200).
    pub status: u16,
    /// The injected fault, if any: `http_502`, `http_503`, `http_504`, `http_429`, `drop_connection`,
    /// `malformed_json`, `repeat_rows`, `total_hits_drift`, or `token_ttl` (a 401 caused by the TTL override).
    pub fault: Option<&'static str>,
}

/// A running simulator. Cloning shares the same server; [`SimHandle::shutdown`] stops it for all clones.
#[derive(Clone)]
pub struct SimHandle {
    shared: Arc<server::Shared>,
    addr: SocketAddr,
    stop: Arc<Mutex<Option<oneshot::Sender<()>>>>,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// Binds `127.0.0.1:cfg.port` and serves the simulator on a tokio task.
pub async fn start(cfg: SimConfig) -> std::io::Result<SimHandle> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(server::Shared::new(cfg));
    let app = server::router(shared.clone());
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
        self.shared.jobs.expire(job_id)
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
