//! The clock-anchored scenarios: a handful of conversations placed around the simulator's initial clock, so
//! a run sees some still in progress and some that ended only minutes ago.

use chrono::{DateTime, Utc};
use rand::Rng;

use super::builder::ms;
use super::generator::Gen;
use crate::simulator::model::SimConversation;
use crate::simulator::org::Org;
use crate::simulator::seed::{conversation_id, day_number, rng_for, TAG_ANCHOR};

/// Names of the clock-anchored scenarios.
pub const ANCHORED_SCENARIOS: &[&str] = &[
    "in_progress_talking",
    "in_progress_wrapup",
    "in_progress_rona_talking",
    "too_recent_missing",
    "too_recent_recovered",
    "too_recent_not_required",
];
/// The clock-anchored conversations around `anchor`: three still running, three that just ended.
pub(crate) fn generate_anchored(org: &Org, anchor: DateTime<Utc>) -> Vec<SimConversation> {
    let mut g = Gen {
        org,
        rng: rng_for(org.seed, TAG_ANCHOR, anchor.timestamp_millis()),
        day: 0,
    };
    let mut out = Vec::new();
    for name in ANCHORED_SCENARIOS {
        let mut c = match *name {
            "in_progress_talking" | "in_progress_wrapup" => g.scenario("coded", anchor),
            "in_progress_rona_talking" => g.scenario("rona_then_coded", anchor),
            "too_recent_missing" => g.scenario("missing", anchor),
            "too_recent_recovered" => g.scenario("recovered", anchor),
            _ => g.scenario("not_required", anchor),
        };
        c.meta.scenario = name;
        c.meta.anchored = true;
        let shift_target = if name.starts_with("too_recent") {
            // Ended 3–10 minutes before the anchor.
            c.end() + ms(g.range(180_000, 600_000))
        } else {
            let agent = c
                .participants
                .iter()
                .rev()
                .find(|p| SimConversation::is_agent_leg(p))
                .expect("agent");
            let segs = &agent.sessions[0].segments;
            let kind = if *name == "in_progress_wrapup" {
                "wrapup"
            } else {
                "interact"
            };
            let s = segs
                .iter()
                .find(|s| s.segment_type == kind)
                .expect("segment");
            let e = segs
                .iter()
                .rev()
                .find(|s| s.segment_type == kind)
                .and_then(|s| s.segment_end)
                .expect("end");
            let frac = g.rng.random_range(0.3..0.7);
            s.segment_start + ms(((e - s.segment_start).num_milliseconds() as f64 * frac) as i64)
        };
        c.shift(anchor - shift_target);
        g.day = day_number(c.conversation_start.date_naive());
        c.conversation_id = conversation_id(&mut g.rng, org.seed, g.day);
        out.push(c);
    }
    out
}
