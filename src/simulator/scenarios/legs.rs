//! Agent-leg plans: what happens on each agent leg (ring out, or answer and then some kind of wrap-up), what
//! the Conversations API says about it, and the labels the auditor must give it.

use rand::Rng;

use super::generator::Gen;
use crate::record::LegLabel;
use crate::simulator::model::{ApiLeg, Str};
use crate::simulator::org::{MANDATORY_PROMPTS, OPTIONAL_PROMPTS, TIMED_PROMPTS, TIMEOUT_CODE};

#[derive(Clone)]
pub(super) enum Wrap {
    /// A wrap-up segment with this code lasting the ACW time.
    Code(Str, Str),
    /// A zero-length wrap-up segment with this code and no `tAcw`.
    CodeZero(Str, Str),
    /// A wrap-up segment without a code, `tAcw > 0`.
    NoCodeSegment,
    /// `tAcw > 0` but no wrap-up segment.
    AcwOnly,
    /// `acwSkipped: true`, with or without a short codeless wrap-up segment.
    Skipped { segment: bool },
    /// Nothing after the talk.
    NoPhase,
}

#[derive(Clone)]
pub(super) enum Plan {
    Rona,
    Answered { wrap: Wrap },
}

#[derive(Clone)]
pub(super) struct LegSpec {
    pub(super) plan: Plan,
    /// A direct (non-ACD) leg: purpose `user`, no queue on its segments.
    pub(super) direct: bool,
    pub(super) final_label: LegLabel,
    pub(super) analytics_label: LegLabel,
    pub(super) api: ApiLeg,
    /// Queue prompts this leg is consistent with (empty: any); the queue is picked to match.
    pub(super) accepts: &'static [&'static str],
    /// Set by the drift scenarios, which put the leg on a queue it is not consistent with.
    pub(super) mismatch: Option<crate::record::Mismatch>,
}

pub(super) fn api(required: bool, prompt: &'static str, skipped: bool) -> ApiLeg {
    ApiLeg {
        wrapup_required: required,
        wrapup_prompt: prompt,
        wrapup_skipped: skipped,
        wrapup: None,
        queue_id: None,
    }
}

impl Gen<'_> {
    pub(super) fn coded_leg(&mut self) -> LegSpec {
        let (code, name) = self.code();
        let prompt = *self.pick(&["mandatory", "mandatory", "optional", "timeout"]);
        LegSpec {
            direct: false,
            plan: Plan::Answered {
                wrap: Wrap::Code(code, name),
            },
            final_label: LegLabel::Coded,
            analytics_label: LegLabel::Coded,
            api: api(prompt != "optional", prompt, false),
            accepts: &[],
            mismatch: None,
        }
    }

    pub(super) fn timeout_leg(&self) -> LegSpec {
        let t: Str = Str::from(TIMEOUT_CODE);
        LegSpec {
            direct: false,
            plan: Plan::Answered {
                wrap: Wrap::Code(t.clone(), t),
            },
            final_label: LegLabel::Timeout,
            analytics_label: LegLabel::Timeout,
            api: api(true, "timeout", false),
            accepts: TIMED_PROMPTS,
            mismatch: None,
        }
    }

    pub(super) fn rona_leg(&self) -> LegSpec {
        LegSpec {
            direct: false,
            plan: Plan::Rona,
            final_label: LegLabel::NotConnected,
            analytics_label: LegLabel::NotConnected,
            api: api(false, "mandatory", false),
            accepts: &[],
            mismatch: None,
        }
    }

    /// A leg whose agent skipped ACW (`acwSkipped: true`).
    pub(super) fn skipped_leg(&mut self) -> LegSpec {
        let segment = self.rng.random_bool(0.5);
        LegSpec {
            direct: false,
            plan: Plan::Answered {
                wrap: Wrap::Skipped { segment },
            },
            final_label: LegLabel::Skipped,
            analytics_label: LegLabel::Skipped,
            api: api(false, "agentRequested", true),
            accepts: OPTIONAL_PROMPTS,
            mismatch: None,
        }
    }

    /// A leg with ACW but no code in analytics; `final_label` is what the lookup will show.
    pub(super) fn lookup_leg(&mut self, final_label: LegLabel, api_leg: ApiLeg) -> LegSpec {
        let wrap = if self.rng.random_bool(0.6) {
            Wrap::NoCodeSegment
        } else {
            Wrap::AcwOnly
        };
        LegSpec {
            direct: false,
            plan: Plan::Answered { wrap },
            final_label,
            analytics_label: LegLabel::NeedsLookup,
            api: api_leg,
            accepts: match final_label {
                LegLabel::Missing | LegLabel::Recovered => MANDATORY_PROMPTS,
                LegLabel::NotRequired => OPTIONAL_PROMPTS,
                _ => &[],
            },
            mismatch: None,
        }
    }

    /// A connected leg with no wrap-up phase at all.
    pub(super) fn no_phase_leg(&self) -> LegSpec {
        LegSpec {
            direct: false,
            plan: Plan::Answered {
                wrap: Wrap::NoPhase,
            },
            final_label: LegLabel::NoWrapupPhase,
            analytics_label: LegLabel::NoWrapupPhase,
            api: api(false, "optional", false),
            accepts: OPTIONAL_PROMPTS,
            mismatch: None,
        }
    }

    pub(super) fn with_optional_rona(&mut self, leg: LegSpec) -> Vec<LegSpec> {
        if self.rng.random_bool(0.1) {
            vec![self.rona_leg(), leg]
        } else {
            vec![leg]
        }
    }
}
