//! The conversations of the simulated org: what each generated conversation is and its ground truth.
//!
//! Days are generated on demand from `(seed, day)` alone, so any day can be rebuilt identically at any time;
//! the clock-anchored scenarios ([`anchored`]) are derived from `(seed, anchor)` and slotted into the day they
//! start on. The regular scenarios come in families, one file each: [`routed`] (analytics alone tells the
//! outcome), [`lookup`] (the Conversations API tells it), [`drift`] (the outcome disagrees with the queue's
//! prompt) and [`unrouted`] (IVR, dialer, direct calls). Each scenario states its ground-truth labels on the
//! legs it builds ([`legs`]); [`acd`] gives routed conversations their shape, from the record pieces in
//! [`builder`].

mod acd;
mod anchored;
mod builder;
mod drift;
mod legs;
mod lookup;
mod routed;
mod unrouted;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use self::builder::ms;
use super::model::{SimConversation, Str};
use super::org::Org;
use super::seed::{day_number, rng_for, TAG_DAY};

pub(crate) use self::anchored::generate_anchored;
pub use self::anchored::ANCHORED_SCENARIOS;

/// One UTC day of conversations, sorted by `(conversationStart, conversationId)`.
#[derive(Debug)]
pub(crate) struct Day {
    pub conversations: Vec<SimConversation>,
    pub index: HashMap<Uuid, usize>,
}

/// The regular scenarios and their weights (out of the sum of all weights).
pub const SCENARIO_WEIGHTS: &[(&str, u32)] = &[
    ("coded", 30),
    ("rona_then_coded", 5),
    ("transfer_coded_then_timeout", 4),
    ("transfer_coded_then_no_wrapup_phase", 3),
    ("transfer_coded_then_skipped", 2),
    ("transfer_coded_to_user", 2),
    ("timeout", 3),
    ("system", 6),
    ("ivr_self_service", 7),
    ("queue_abandon", 5),
    ("no_wrapup_phase", 6),
    ("acw_skipped", 4),
    ("rona_only", 3),
    ("recovered", 4),
    ("lookup_skipped", 3),
    ("not_required", 4),
    ("missing", 4),
    ("purged", 2),
    ("other_division", 2),
    ("user_direct", 3),
    ("drift_no_wrapup_phase", 1),
    ("drift_required_on_optional", 1),
    ("drift_timeout_untimed", 1),
];

/// Builds conversations for one day (or for the anchor) from one rng stream.
struct Gen<'a> {
    org: &'a Org,
    rng: ChaCha8Rng,
    day: i64,
}

impl Gen<'_> {
    fn pick<'b, T>(&mut self, xs: &'b [T]) -> &'b T {
        &xs[self.rng.random_range(0..xs.len())]
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..hi)
    }

    fn code(&mut self) -> (Str, Str) {
        let c = &self.org.codes[self.rng.random_range(0..self.org.codes.len())];
        (c.id_str.clone(), c.name.clone())
    }

    fn agents(&mut self, n: usize) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::with_capacity(n);
        while out.len() < n {
            let a = self.rng.random_range(0..self.org.agents.len());
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    fn phone(&mut self) -> Str {
        Str::from(format!(
            "+1555{:07}",
            self.rng.random_range(0..10_000_000u32)
        ))
    }

    /// Builds one conversation of the named scenario starting at `t0`; each family knows its own names.
    fn scenario(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
        self.routed_scenario(name, t0)
            .or_else(|| self.lookup_scenario(name, t0))
            .or_else(|| self.drift_scenario(name, t0))
            .or_else(|| self.unrouted_scenario(name, t0))
            .unwrap_or_else(|| panic!("unknown scenario {name}"))
    }

    /// A start time on this UTC day, clustered in the org's local business hours.
    fn start_time(&mut self, day_start: DateTime<Utc>, tz: chrono_tz::Tz) -> DateTime<Utc> {
        loop {
            let t = day_start + ms(self.range(0, 86_400_000));
            let h = t.with_timezone(&tz).hour();
            if (7..22).contains(&h) || self.rng.random_bool(0.08) {
                return t;
            }
        }
    }

    fn weighted_scenario(&mut self) -> &'static str {
        let total: u32 = SCENARIO_WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut x = self.rng.random_range(0..total);
        for (name, w) in SCENARIO_WEIGHTS {
            if x < *w {
                return name;
            }
            x -= w;
        }
        SCENARIO_WEIGHTS[0].0
    }
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// Generates the regular conversations of `day` plus the anchored ones that start on it.
pub(crate) fn generate_day(
    org: &Org,
    per_day: u32,
    tz: chrono_tz::Tz,
    day: NaiveDate,
    anchored: &[SimConversation],
) -> Day {
    let n = day_number(day);
    let mut g = Gen {
        org,
        rng: rng_for(org.seed, TAG_DAY, n),
        day: n,
    };
    let start = day_start(day);
    let mut conversations = Vec::with_capacity(per_day as usize + anchored.len());
    for _ in 0..per_day {
        let t0 = g.start_time(start, tz);
        let name = g.weighted_scenario();
        conversations.push(g.scenario(name, t0));
    }
    conversations.extend(
        anchored
            .iter()
            .filter(|c| c.conversation_start.date_naive() == day)
            .cloned(),
    );
    conversations.sort_by(|a, b| {
        a.conversation_start
            .cmp(&b.conversation_start)
            .then(a.conversation_id.cmp(&b.conversation_id))
    });
    let index = conversations
        .iter()
        .enumerate()
        .map(|(i, c)| (c.conversation_id, i))
        .collect();
    Day {
        conversations,
        index,
    }
}
