//! Scenarios whose ground truth analytics alone tells: coded, timed-out, skipped, ring-no-answer and
//! abandoned legs, and transfers between them.

use chrono::{DateTime, Utc};

use super::generator::Gen;
use super::legs::LegSpec;
use crate::simulator::model::SimConversation;

impl Gen<'_> {
    /// The conversation of a routed scenario; `None` when `name` belongs to another family.
    pub(super) fn routed_scenario(
        &mut self,
        name: &'static str,
        t0: DateTime<Utc>,
    ) -> Option<SimConversation> {
        let c = match name {
            "coded" => {
                let l = self.coded_leg();
                self.routed(name, t0, vec![l])
            }
            "rona_then_coded" => {
                let l = self.coded_leg();
                self.routed(name, t0, vec![self.rona_leg(), l])
            }
            "transfer_coded_then_timeout" => {
                let a = self.coded_leg();
                self.routed(name, t0, vec![a, self.timeout_leg()])
            }
            "transfer_coded_then_no_wrapup_phase" => {
                let a = self.coded_leg();
                self.routed(name, t0, vec![a, self.no_phase_leg()])
            }
            "transfer_coded_then_skipped" => {
                let a = self.coded_leg();
                let b = self.skipped_leg();
                self.routed(name, t0, vec![a, b])
            }
            "transfer_coded_to_user" => {
                let a = self.coded_leg();
                // A transfer to a user directly: no queue, so it does not choose the queue either.
                let b = LegSpec {
                    direct: true,
                    accepts: &[],
                    ..self.no_phase_leg()
                };
                self.routed(name, t0, vec![a, b])
            }
            "timeout" => self.routed(name, t0, vec![self.timeout_leg()]),
            "queue_abandon" => self.routed(name, t0, vec![]),
            "no_wrapup_phase" => {
                let l = self.no_phase_leg();
                let legs = self.with_optional_rona(l);
                self.routed(name, t0, legs)
            }
            "acw_skipped" => {
                let l = self.skipped_leg();
                self.routed(name, t0, vec![l])
            }
            "rona_only" => self.routed(name, t0, vec![self.rona_leg()]),
            _ => return None,
        };
        Some(c)
    }
}
