//! The conversations of the simulated org: what each generated conversation is and its ground truth.
//!
//! Days are generated on demand from `(seed, day)` alone ([`day`]), so any day can be rebuilt identically at
//! any time; the clock-anchored scenarios ([`anchored`]) are derived from `(seed, anchor)` and slotted into
//! the day they start on. Both draw from one [`generator::Gen`] each. The regular scenarios come in families,
//! one file each: [`routed`] (analytics alone tells the outcome), [`lookup`] (the Conversations API tells
//! it), [`drift`] (the outcome disagrees with the queue's prompt) and [`unrouted`] (IVR, dialer, direct
//! calls). Each scenario states its ground-truth labels on the legs it builds ([`legs`]); [`acd`] gives routed
//! conversations their shape, from the record pieces in [`builder`]. Files depend one way: `anchored` →
//! `day` → families → `acd` → `legs` → `builder` → `generator`; this file only re-exports.

mod acd;
mod anchored;
mod builder;
mod day;
mod drift;
mod generator;
mod legs;
mod lookup;
mod routed;
mod unrouted;

pub(crate) use self::anchored::generate_anchored;
pub use self::anchored::ANCHORED_SCENARIOS;
pub use self::day::SCENARIO_WEIGHTS;
pub(crate) use self::day::{generate_day, Day};
