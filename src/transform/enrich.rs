//! Which conversations get a lookup, within the budget (contract §3). Pure.

use crate::config::LookupMode;
use crate::record::ConversationLabel;
pub use crate::transform::lookup::{Answer, Plan};
use crate::transform::rows::Fetched;

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
