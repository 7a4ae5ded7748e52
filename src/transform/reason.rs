//! The one-sentence, analyst-facing `reason` of every conversation label.

use crate::record::ConversationLabel;

/// What a reason sentence may mention.
#[derive(Debug, Default)]
pub struct ReasonFacts<'a> {
    /// The deciding agent's name, or its user id when the name is unknown.
    pub agent: Option<&'a str>,
    /// The reported code's name, or the code itself.
    pub code: Option<&'a str>,
    /// The deciding leg's queue name; `None` when the leg has no queue (a direct, non-ACD leg).
    pub queue: Option<&'a str>,
    /// Why a lookup failed.
    pub detail: Option<&'a str>,
    /// Minutes between the end of the conversation and `as_of`.
    pub ended_minutes_ago: Option<i64>,
    /// The conversation had not ended (as opposed to an agent still in after-call work).
    pub not_ended: bool,
    /// Why there was no lookup (`disabled`, `over the lookup budget`).
    pub no_lookup_because: Option<&'a str>,
}

/// Writes the sentence for `label`.
pub fn reason(label: ConversationLabel, f: &ReasonFacts<'_>) -> String {
    let agent = f.agent.unwrap_or("(unknown agent)");
    let code = f.code.unwrap_or("(unknown code)");
    match label {
        ConversationLabel::Coded => format!("Agent {agent} recorded wrap-up code {code}."),
        ConversationLabel::System => {
            format!("The system recorded disposition {code} for agent {agent}; no agent choice was expected.")
        }
        ConversationLabel::Timeout => format!(
            "The timed after-call work of agent {agent} expired before a code was chosen, so the system recorded ININ-WRAP-UP-TIMEOUT."
        ),
        ConversationLabel::Recovered => format!(
            "Analytics lost the wrap-up code of agent {agent}; the Conversations API still has {code}."
        ),
        ConversationLabel::Skipped => match f.queue {
            Some(q) => format!("Agent {agent} skipped wrap-up on queue {q}, so no code was recorded."),
            None => format!("Agent {agent} skipped wrap-up, so no code was recorded."),
        },
        ConversationLabel::NotRequired => {
            format!("Wrap-up was optional for agent {agent} and no code was chosen.")
        }
        // Only what the record shows: the queue is named when the leg has one.
        ConversationLabel::NoWrapupPhase => match f.queue {
            Some(q) => format!(
                "Agent {agent} handled the conversation on queue {q} and had no wrap-up phase, so no code was due."
            ),
            None => format!(
                "Agent {agent} handled the conversation without a queue and had no wrap-up phase, so no code was due."
            ),
        },
        ConversationLabel::NotConnected => {
            "Agents were alerted but none answered, so no wrap-up was due.".to_string()
        }
        ConversationLabel::Missing => format!(
            "Wrap-up was required for agent {agent} but no code was recorded in analytics or on the conversation."
        ),
        ConversationLabel::Unexplained => format!(
            "Agent {agent} had after-call work without a code in analytics, and no lookup was made ({}).",
            f.no_lookup_because.unwrap_or("lookups off")
        ),
        ConversationLabel::LookupFailed => format!(
            "Agent {agent} had after-call work without a code in analytics, and the Conversations API lookup failed: {}.",
            f.detail.unwrap_or("unknown error")
        ),
        ConversationLabel::NoAgent => {
            "No agent took part (self-service, abandoned in queue, voicemail or flow only), so no wrap-up was due."
                .to_string()
        }
        ConversationLabel::InProgress => {
            if f.not_ended {
                "The conversation had not ended when the run looked; a later run will classify it.".to_string()
            } else {
                format!("Agent {agent} was still in after-call work when the run looked; a later run will classify it.")
            }
        }
        ConversationLabel::TooRecent => format!(
            "The conversation ended {} minute(s) before the run, too recently for analytics to be complete; a later run will classify it.",
            f.ended_minutes_ago.unwrap_or(0)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_one_sentence() {
        let f = ReasonFacts {
            agent: Some("Ana"),
            code: Some("Sale"),
            ..Default::default()
        };
        for label in ConversationLabel::ALL {
            let r = reason(label, &f);
            assert!(r.ends_with('.'), "{label:?}: {r}");
            assert!(
                !r.trim_end_matches('.').contains(". "),
                "{label:?} has more than one sentence: {r}"
            );
        }
        assert_eq!(
            reason(ConversationLabel::Missing, &f),
            "Wrap-up was required for agent Ana but no code was recorded in analytics or on the conversation."
        );
    }

    #[test]
    fn a_queue_is_named_only_for_a_leg_that_has_one() {
        let no_queue = ReasonFacts {
            agent: Some("Ana"),
            ..Default::default()
        };
        // `no_agent` lists what may have happened (abandoned in queue); every other label speaks of a leg.
        for label in ConversationLabel::ALL
            .into_iter()
            .filter(|l| *l != ConversationLabel::NoAgent)
        {
            let r = reason(label, &no_queue);
            assert!(
                !["on queue", "on a queue", "the queue"]
                    .iter()
                    .any(|q| r.contains(q)),
                "{label:?} names a queue: {r}"
            );
        }
        let on_queue = ReasonFacts {
            agent: Some("Ana"),
            queue: Some("Billing"),
            ..Default::default()
        };
        assert_eq!(
            reason(ConversationLabel::NoWrapupPhase, &on_queue),
            "Agent Ana handled the conversation on queue Billing and had no wrap-up phase, so no code was due."
        );
        assert_eq!(
            reason(ConversationLabel::NoWrapupPhase, &no_queue),
            "Agent Ana handled the conversation without a queue and had no wrap-up phase, so no code was due."
        );
        assert_eq!(
            reason(ConversationLabel::Skipped, &no_queue),
            "Agent Ana skipped wrap-up, so no code was recorded."
        );
        assert_eq!(
            reason(ConversationLabel::Skipped, &on_queue),
            "Agent Ana skipped wrap-up on queue Billing, so no code was recorded."
        );
    }
}
