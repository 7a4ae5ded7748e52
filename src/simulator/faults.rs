//! Fault injection: transient errors, throttling, broken bodies, latency and paging noise.
//!
//! A [`FaultProfile`] says how often each fault happens. Whether a given request is faulted is decided by a
//! ChaCha RNG seeded from `(profile.seed, n)`, where `n` counts the authenticated `/api/v2/*` requests since
//! the profile was installed, so a failing run replays exactly when its requests arrive in the same order.
//! `/oauth/token` is never faulted (only [`FaultProfile::token_ttl_override_secs`] and
//! [`FaultProfile::slow_token_ms`] touch auth) and neither is a request without a valid token:
//! authentication answers first.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How often each fault is injected. [`Default`] is no faults at all.
///
/// The rates of the per-request faults (`error_rate_5xx`, `rate_429`, `drop_connection_rate`,
/// `malformed_json_rate`) partition one uniform draw, so they are exact shares of the requests and at most
/// one of them hits a request; their sum is effectively capped at 1.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultProfile {
    /// Seeds the per-request fault RNG.
    pub seed: u64,
    /// Share of `/api/v2/*` requests answered 502, 503 or 504 (evenly mixed) with an `ErrorBody`.
    pub error_rate_5xx: f64,
    /// Share answered 429 `too.many.requests` with `Retry-After: 1`, as if another limit bucket tripped.
    pub rate_429: f64,
    /// Share whose 200 response announces the full `Content-Length` but is cut off half-way and the
    /// connection closed. Logged with the status that was started (200) and fault `drop_connection`.
    pub drop_connection_rate: f64,
    /// Share whose 200 response carries a truncated (invalid) JSON body with a matching `Content-Length`.
    pub malformed_json_rate: f64,
    /// Latency added to every authenticated `/api/v2/*` request.
    pub slow_ms: u64,
    /// Extra latency for `POST …/details/query` only.
    pub slow_details_ms: u64,
    /// Extra latency for `GET /api/v2/conversations/{id}` only.
    pub slow_lookup_ms: u64,
    /// Latency of `POST /oauth/token`; a very large value is a login host that hangs.
    pub slow_token_ms: u64,
    /// Tokens issued while set expire this many seconds after issue. `expires_in` still advertises
    /// `SimConfig::token_ttl_secs`: the early expiry is silent, like a revoked token, so a client
    /// must cope with 401 `credentials.expired`.
    pub token_ttl_override_secs: Option<u64>,
    /// `totalHits` of `details/query` answers is off by up to ±5 %, differently on each page.
    pub drifting_total_hits: bool,
    /// Share of `details/query` pages with `pageNumber > 1` that start with 1–3 rows repeated from the end
    /// of the previous page (the page is longer than `pageSize`; no row is ever dropped).
    pub repeat_rows_rate: f64,
    /// Share of `details/query` pages served half-full the first time they are asked for (as if the data
    /// set shifted between page requests); `totalHits` stays whole, and asking again serves the page whole.
    pub short_pages_rate: f64,
    /// The pages `short_pages_rate` picks come back half-full every time, not only the first time.
    pub short_pages_persist: bool,
}

impl FaultProfile {
    /// The mixed profile used by resilience tests: 10 % 5xx, 5 % 429, 3 % dropped connections and tokens
    /// that die after 3 s.
    pub fn chaos(seed: u64) -> FaultProfile {
        FaultProfile {
            seed,
            error_rate_5xx: 0.10,
            rate_429: 0.05,
            drop_connection_rate: 0.03,
            token_ttl_override_secs: Some(3),
            ..FaultProfile::default()
        }
    }

    /// The fault (if any) for the `n`-th authenticated request under this profile.
    pub(crate) fn decide(&self, n: u64) -> Option<Injected> {
        let mut rng = self.rng(n, 0);
        let u: f64 = rng.random();
        let mut edge = self.error_rate_5xx.max(0.0);
        if u < edge {
            let status = [502, 503, 504][rng.random_range(0..3)];
            return Some(Injected::ServerError(status));
        }
        edge += self.rate_429.max(0.0);
        if u < edge {
            return Some(Injected::TooManyRequests);
        }
        edge += self.drop_connection_rate.max(0.0);
        if u < edge {
            return Some(Injected::DropConnection);
        }
        edge += self.malformed_json_rate.max(0.0);
        if u < edge {
            return Some(Injected::MalformedJson);
        }
        None
    }

    /// An RNG for request `n`; `salt` separates independent decisions about the same request.
    pub(crate) fn rng(&self, n: u64, salt: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(mix(mix(self.seed) ^ n) ^ mix(salt.wrapping_add(0x5eed)))
    }
}

/// SplitMix64 finaliser: spreads neighbouring inputs over the whole seed space.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A per-request fault chosen by [`FaultProfile::decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Injected {
    ServerError(u16),
    TooManyRequests,
    DropConnection,
    MalformedJson,
}

impl Injected {
    /// The name recorded in `LoggedRequest::fault`.
    pub fn name(self) -> &'static str {
        match self {
            Injected::ServerError(502) => "http_502",
            Injected::ServerError(503) => "http_503",
            Injected::ServerError(_) => "http_504",
            Injected::TooManyRequests => "http_429",
            Injected::DropConnection => "drop_connection",
            Injected::MalformedJson => "malformed_json",
        }
    }
}

/// What a handler knows about faults for its request: the profile in force and the request's number.
#[derive(Debug, Clone)]
pub(crate) struct ReqFaults {
    pub profile: std::sync::Arc<FaultProfile>,
    pub n: u64,
}

impl ReqFaults {
    pub fn rng(&self, salt: u64) -> ChaCha8Rng {
        self.profile.rng(self.n, salt)
    }
}

/// Set by a handler on its response to name a fault it applied itself (paging noise).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FaultTag(pub &'static str);

/// Which `details/query` pages were asked for already, for [`FaultProfile::short_pages_rate`].
#[derive(Debug, Default)]
pub(crate) struct AskedPages(std::sync::Mutex<std::collections::HashSet<u64>>);

impl AskedPages {
    /// True when this request body (interval, filters, page) is asked for the first time and the
    /// profile shortens it. The choice depends on the body, not on request order.
    pub fn shorten_first_ask(&self, profile: &FaultProfile, body: &[u8]) -> bool {
        if profile.short_pages_rate <= 0.0 {
            return false;
        }
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        body.hash(&mut h);
        let key = h.finish();
        let first = self.0.lock().expect("asked pages lock").insert(key);
        (first || profile.short_pages_persist)
            && profile
                .rng(key, 3)
                .random_bool(profile.short_pages_rate.clamp(0.0, 1.0))
    }

    /// Forgets every page, when a new profile is installed.
    pub fn clear(&self) {
        self.0.lock().expect("asked pages lock").clear();
    }
}
