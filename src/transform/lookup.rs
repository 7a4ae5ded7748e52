//! A conversation's lookup as the rows see it: what was planned, and what it answered.

use crate::api::wire::Conversation;

/// What happens to each conversation's lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    NotNeeded,
    Lookup,
    OverBudget,
    Disabled,
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
