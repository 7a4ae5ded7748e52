//! The simulator's shared state: the org, the clock, the cache of generated days, issued tokens and their
//! rate-limit windows, the request log, the details jobs and the fault profile in force.
//!
//! The router hands one [`Shared`] to every handler; `SimHandle` holds the same one.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::config::{LoggedRequest, SimConfig};
use super::faults::FaultProfile;
use super::job_store::Jobs;
use super::model::SimConversation;
use super::org::Org;
use super::scenarios::{self, Day};
use super::seed;

/// How many generated days stay cached (a 7-day query plus some slack).
const DAY_CACHE: usize = 10;
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    started: Instant,
    count: u32,
}

impl Window {
    pub(crate) fn new() -> Window {
        Window {
            started: Instant::now(),
            count: 0,
        }
    }

    /// Counts one request in a fixed window of `len`, on top of another integration spending
    /// `others_per_minute` evenly through the window; returns (count, seconds to reset).
    pub(crate) fn hit(&mut self, len: StdDuration, others_per_minute: u32) -> (u32, u64) {
        let now = Instant::now();
        if now.duration_since(self.started) >= len {
            self.started = now;
            self.count = 0;
        }
        self.count += 1;
        let into = now.duration_since(self.started);
        let others = (f64::from(others_per_minute) * into.as_secs_f64() / 60.0) as u32;
        let left = len.saturating_sub(into);
        (
            self.count.saturating_add(others),
            left.as_secs_f64().ceil().max(1.0) as u64,
        )
    }
}

pub(crate) struct TokenState {
    pub(crate) expires: Instant,
    /// Issued under a fault profile's TTL override.
    pub(crate) shortened: bool,
    pub(crate) window: Window,
}

#[derive(Default)]
struct DayCache {
    map: HashMap<NaiveDate, Arc<Day>>,
    order: VecDeque<NaiveDate>,
}

/// State shared by the server task and every `SimHandle`.
pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub org: Org,
    anchored: Vec<SimConversation>,
    now: RwLock<DateTime<Utc>>,
    days: Mutex<DayCache>,
    pub(crate) tokens: Mutex<HashMap<String, TokenState>>,
    pub(crate) anonymous: Mutex<Window>,
    pub log: Mutex<Vec<LoggedRequest>>,
    pub jobs: Jobs,
    faults: RwLock<Arc<FaultProfile>>,
    /// Authenticated `/api/v2/*` requests since the fault profile was installed.
    fault_counter: AtomicU64,
    /// Every request on arrival (the log has them only once answered): tests wait on a hung one.
    pub(crate) started: AtomicU64,
    pub(crate) asked_pages: super::faults::AskedPages,
}

impl Shared {
    pub fn new(cfg: SimConfig) -> Shared {
        let org = Org::generate(cfg.seed, cfg.queues, cfg.agents, cfg.wrapup_codes);
        let anchored = scenarios::generate_anchored(&org, cfg.now);
        Shared {
            now: RwLock::new(cfg.now),
            org,
            anchored,
            days: Mutex::new(DayCache::default()),
            tokens: Mutex::new(HashMap::new()),
            anonymous: Mutex::new(Window::new()),
            log: Mutex::new(Vec::new()),
            jobs: Jobs::default(),
            faults: RwLock::new(Arc::new(cfg.faults.clone())),
            fault_counter: AtomicU64::new(0),
            started: AtomicU64::new(0),
            asked_pages: Default::default(),
            cfg,
        }
    }

    pub fn faults(&self) -> Arc<FaultProfile> {
        self.faults.read().expect("faults lock").clone()
    }

    /// Installs a profile and restarts its request numbering, so its fault sequence is reproducible.
    pub fn set_faults(&self, f: FaultProfile) {
        let mut slot = self.faults.write().expect("faults lock");
        *slot = Arc::new(f);
        self.fault_counter.store(0, Ordering::SeqCst);
        self.asked_pages.clear();
    }

    /// The profile in force and this request's number under it.
    pub(crate) fn next_fault_draw(&self) -> (Arc<FaultProfile>, u64) {
        let slot = self.faults.read().expect("faults lock");
        (
            slot.clone(),
            self.fault_counter.fetch_add(1, Ordering::SeqCst),
        )
    }

    pub fn now(&self) -> DateTime<Utc> {
        *self.now.read().expect("clock lock")
    }

    pub fn set_now(&self, now: DateTime<Utc>) {
        *self.now.write().expect("clock lock") = now;
    }

    /// The conversations of one UTC day, generated on first use.
    pub fn day(&self, d: NaiveDate) -> Arc<Day> {
        if let Some(day) = self.days.lock().expect("day cache").map.get(&d) {
            return day.clone();
        }
        // Generate outside the lock so other days stay available meanwhile.
        let day = Arc::new(scenarios::generate_day(
            &self.org,
            self.cfg.conversations_per_day,
            self.cfg.timezone,
            d,
            &self.anchored,
        ));
        let mut cache = self.days.lock().expect("day cache");
        let cache = &mut *cache;
        if let std::collections::hash_map::Entry::Vacant(slot) = cache.map.entry(d) {
            slot.insert(day.clone());
            cache.order.push_back(d);
            while cache.order.len() > DAY_CACHE {
                if let Some(old) = cache.order.pop_front() {
                    cache.map.remove(&old);
                }
            }
        }
        day
    }

    /// The conversation with this id, if it is visible at the current clock.
    pub fn find(&self, id: &str) -> Option<(Arc<Day>, usize)> {
        let id: Uuid = id.parse().ok()?;
        let d = seed::day_of_id(self.org.seed, id)?;
        if d > self.now().date_naive() {
            return None;
        }
        let day = self.day(d);
        let ix = *day.index.get(&id)?;
        day.conversations[ix]
            .visible(self.now())
            .then_some((day, ix))
    }

    pub(crate) fn token_limit(&self) -> u32 {
        self.cfg.rate_limit_per_minute
    }
}
