//! A day of conversations: the regular scenarios by weight, their start times in business hours, and the
//! dispatch of each scenario name to its family.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeZone, Timelike, Utc};
use rand::Rng;
use uuid::Uuid;

use super::builder::ms;
use super::generator::Gen;
use crate::simulator::model::SimConversation;
use crate::simulator::org::Org;
use crate::simulator::seed::{day_number, rng_for, TAG_DAY};

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

impl Gen<'_> {
    /// Builds one conversation of the named scenario starting at `t0`; each family knows its own names.
    pub(super) fn scenario(&mut self, name: &'static str, t0: DateTime<Utc>) -> SimConversation {
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
