//! Drift scenarios: the leg's outcome disagrees with its queue's configured ACW prompt, so the run must flag
//! the mismatch the scenario built in.

use chrono::{DateTime, Utc};

use super::generator::Gen;
use super::legs::api;
use crate::record::LegLabel;
use crate::record::Mismatch;
use crate::simulator::model::SimConversation;
use crate::simulator::org::MANDATORY_PROMPTS;

impl Gen<'_> {
    /// The conversation of a drift scenario; `None` when `name` belongs to another family.
    pub(super) fn drift_scenario(
        &mut self,
        name: &'static str,
        t0: DateTime<Utc>,
    ) -> Option<SimConversation> {
        let c = match name {
            "drift_no_wrapup_phase" => {
                let mut l = self.no_phase_leg();
                l.mismatch = Some(Mismatch::NotAskedOnMandatoryQueue);
                let q = self.queue_with(MANDATORY_PROMPTS);
                self.routed_in(name, t0, vec![l], q)
            }
            "drift_required_on_optional" => {
                let mut l = self.lookup_leg(LegLabel::Missing, api(true, "mandatory", false));
                l.mismatch = Some(Mismatch::RequiredOnOptionalQueue);
                let q = self.queue_with(&["OPTIONAL"]);
                self.routed_in(name, t0, vec![l], q)
            }
            "drift_timeout_untimed" => {
                let mut l = self.timeout_leg();
                l.mismatch = Some(Mismatch::TimeoutWithoutTimedPrompt);
                let q = self.queue_with(&["MANDATORY", "OPTIONAL"]);
                self.routed_in(name, t0, vec![l], q)
            }
            _ => return None,
        };
        Some(c)
    }
}
