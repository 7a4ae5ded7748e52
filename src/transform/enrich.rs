//! Which conversations get a lookup, within the budget (contract §3). Pure.

use crate::api::wire::Conversation;
use crate::config::LookupMode;
use crate::record::ConversationLabel;
use crate::transform::rows::Fetched;

/// What happens to each conversation's lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    NotNeeded,
    Lookup,
    OverBudget,
    Disabled,
}

pub fn plan_lookups(fetched: &[Fetched], mode: LookupMode, budget: &mut Option<u64>) -> Vec<Plan> {
    fetched
        .iter()
        .map(|f| &f.classified)
        .map(|c| {
            // With lookups off, the conversations that would have needed one say `disabled`.
            let asked = if mode == LookupMode::Off {
                LookupMode::NeedsLookup
            } else {
                mode
            };
            let decided = c.too_recent || c.analytics_label == ConversationLabel::InProgress;
            if decided || !c.legs.iter().any(|(_, l)| asked.wants(*l)) {
                return Plan::NotNeeded;
            }
            if mode == LookupMode::Off {
                return Plan::Disabled;
            }
            match budget {
                Some(0) => Plan::OverBudget,
                Some(n) => {
                    *n -= 1;
                    Plan::Lookup
                }
                None => Plan::Lookup,
            }
        })
        .collect()
}

/// What a lookup answered, as the rows need it: the conversation, or why there is none.
#[derive(Debug, Clone)]
pub enum Answer {
    Found(Conversation),
    Failed {
        /// The `detail` a leg left `lookup_failed` shows.
        reason: String,
        /// True when a rerun would get the same answer (404, 403, 400).
        permanent: bool,
    },
}
