//! Scenarios whose ground truth only the Conversations API lookup tells: analytics shows ACW without a code,
//! and the lookup recovers the code, says none was required or missing, or fails (purged, other division).

use chrono::{DateTime, Utc};

use super::generator::Gen;
use super::legs::api;
use crate::record::LegLabel;
use crate::simulator::model::{ApiWrapup, LookupOutcome, SimConversation};

impl Gen<'_> {
    /// The conversation of a lookup scenario; `None` when `name` belongs to another family.
    pub(super) fn lookup_scenario(
        &mut self,
        name: &'static str,
        t0: DateTime<Utc>,
    ) -> Option<SimConversation> {
        let c = match name {
            "recovered" => {
                let (code, cname) = self.code();
                let mut a = api(true, "mandatory", false);
                a.wrapup = Some(ApiWrapup {
                    code,
                    name: cname,
                    notes: "",
                    duration_seconds: 0,
                    end_time: t0,
                });
                let l = self.lookup_leg(LegLabel::Recovered, a);
                let legs = self.with_optional_rona(l);
                self.routed(name, t0, legs)
            }
            "lookup_skipped" => {
                let l = self.lookup_leg(LegLabel::Skipped, api(true, "optional", true));
                self.routed(name, t0, vec![l])
            }
            "not_required" => {
                let l = self.lookup_leg(LegLabel::NotRequired, api(false, "optional", false));
                let legs = self.with_optional_rona(l);
                self.routed(name, t0, legs)
            }
            "missing" => {
                let l = self.lookup_leg(LegLabel::Missing, api(true, "mandatory", false));
                let legs = self.with_optional_rona(l);
                self.routed(name, t0, legs)
            }
            "purged" | "other_division" => {
                let l = self.lookup_leg(LegLabel::LookupFailed, api(true, "mandatory", false));
                let mut c = self.routed(name, t0, vec![l]);
                if name == "purged" {
                    c.meta.lookup = LookupOutcome::Purged;
                } else {
                    c.meta.lookup = LookupOutcome::OtherDivision;
                    c.division_ids = [self.org.other_division];
                }
                c
            }
            _ => return None,
        };
        Some(c)
    }
}
