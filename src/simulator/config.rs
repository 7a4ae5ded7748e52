//! The simulator's settings ([`SimConfig`]) and its record of each request served ([`LoggedRequest`]).

use chrono::{DateTime, TimeZone, Utc};

use super::faults::FaultProfile;

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
    /// Length of the token's fixed rate window in seconds (Genesys: a minute). Shorter windows make
    /// quota tests fast; `rate_limit_per_minute` is then the limit per window.
    pub rate_window_secs: u64,
    /// Requests another integration on the same token spends per minute, evenly: counted in
    /// `inin-ratelimit-count` and toward the enforced quota.
    pub other_integration_per_minute: u32,
    /// Faults injected from the start; `SimHandle::set_faults` replaces them at run time.
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
            rate_window_secs: 60,
            other_integration_per_minute: 0,
            faults: FaultProfile::default(),
            job_polls_to_fulfil: 2,
            data_lake_lag_minutes: 60,
            job_result_cap: 400_000,
            fail_jobs_first: 0,
        }
    }
}

impl SimConfig {
    pub(crate) fn rate_window(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.rate_window_secs.max(1))
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
