//! Queue after-call-work settings as evidence, and what they lead one to expect of a leg.
//!
//! `GET /api/v2/routing/queues` returns each queue's `acwSettings` (`wrapupPrompt`, `timeoutMs`); the
//! settings are per queue, not per media type (the queue's `mediaSettings` carry alerting and service
//! level only). `docs/queue-settings.md` says what is evidence and what is inference here.
//!
//! Everything here is pure: labels are never changed, expectations are reported beside them.

use serde::Serialize;

use crate::record::{ConversationRow, LegLabel, LegRow, Mismatch};
use crate::transform::classify;
use crate::transform::names::{Catalogs, DEFAULT_CODE_ID};

/// Prompts under which the platform asks the agent for a code.
fn is_mandatory(prompt: &str) -> bool {
    matches!(
        prompt,
        "MANDATORY" | "MANDATORY_TIMEOUT" | "MANDATORY_FORCED_TIMEOUT"
    )
}

/// Prompts whose ACW can end by a timer (the SDK allows `timeoutMs` only with these).
fn is_timed(prompt: &str) -> bool {
    matches!(
        prompt,
        "MANDATORY_TIMEOUT" | "MANDATORY_FORCED_TIMEOUT" | "AGENT_REQUESTED"
    )
}

/// The expected-vs-actual check of one leg against its queue's configured prompt.
pub fn mismatch(label: LegLabel, queue_prompt: Option<&str>) -> Option<Mismatch> {
    let prompt = queue_prompt?;
    match label {
        LegLabel::NoWrapupPhase | LegLabel::NotRequired if is_mandatory(prompt) => {
            Some(Mismatch::NotAskedOnMandatoryQueue)
        }
        LegLabel::Missing if prompt == "OPTIONAL" => Some(Mismatch::RequiredOnOptionalQueue),
        LegLabel::Timeout if !is_timed(prompt) => Some(Mismatch::TimeoutWithoutTimedPrompt),
        _ => None,
    }
}

/// Where the name written next to a code came from (`explain` shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeNameSource {
    /// The wrap-up code catalog the run read.
    Catalog,
    /// A system disposition (`ININ-*`, `OUTBOUND-*`): the literal is its own name.
    SystemLiteral,
    /// The platform's built-in default code (named even when the listing omits it).
    DefaultCode,
    /// Not in the catalog; the Conversations API sent the name with the code.
    ConversationApi,
    /// Not known anywhere: the name is `(unresolved) <id>`.
    Unresolved,
}

impl CodeNameSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeNameSource::Catalog => "wrap-up code catalog",
            CodeNameSource::SystemLiteral => "system literal",
            CodeNameSource::DefaultCode => "built-in default code",
            CodeNameSource::ConversationApi => "Conversations API",
            CodeNameSource::Unresolved => "unresolved: not in the catalog",
        }
    }

    /// The source of `name` written for `code`, by the same rule that chose it.
    pub fn of(catalogs: &Catalogs, code: &str, name: Option<&str>) -> CodeNameSource {
        // The default code is the platform's own, listed or not.
        if classify::is_system_code(code) {
            CodeNameSource::SystemLiteral
        } else if code == DEFAULT_CODE_ID {
            CodeNameSource::DefaultCode
        } else if catalogs.codes.contains_key(code) {
            CodeNameSource::Catalog
        } else if name.is_some_and(|n| !crate::transform::names::is_unresolved(Some(code), Some(n)))
        {
            CodeNameSource::ConversationApi
        } else {
            CodeNameSource::Unresolved
        }
    }
}

/// The code to use in contact-reason reporting: a real, configured code the agent chose. Null for
/// timeouts and other system dispositions, the built-in default code and ids the catalog lacks.
pub fn reportable_code(catalogs: &Catalogs, code: Option<&str>) -> Option<String> {
    let code = code?;
    let real = !classify::is_system_code(code)
        && code != DEFAULT_CODE_ID
        && catalogs.codes.contains_key(code);
    real.then(|| code.to_string())
}

/// Fills a leg's queue-setting, mismatch and reportable-code columns once its label is final.
pub fn annotate_leg(leg: &mut LegRow, catalogs: &Catalogs) {
    let code = leg
        .lookup_wrapup_code
        .as_deref()
        .or(leg.analytics_wrapup_code.as_deref());
    leg.reportable_code = reportable_code(catalogs, code);
    (leg.queue_wrapup_prompt, leg.queue_acw_timeout_ms) =
        catalogs.queue_acw(leg.queue_id.as_deref());
    leg.config_mismatch = mismatch(leg.label, leg.queue_wrapup_prompt.as_deref());
}

/// Fills the same columns of a conversation row from its own queue and code, and its legs.
pub fn annotate_conversation(row: &mut ConversationRow, legs: &[LegRow], catalogs: &Catalogs) {
    row.reportable_code = reportable_code(catalogs, row.wrapup_code_id.as_deref());
    (row.queue_wrapup_prompt, row.queue_acw_timeout_ms) =
        catalogs.queue_acw(row.queue_id.as_deref());
    row.config_mismatch = legs.iter().find_map(|l| l.config_mismatch);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatches_follow_the_prompt() {
        use LegLabel::*;
        let m = |l, p: &str| mismatch(l, Some(p));
        for p in ["MANDATORY", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT"] {
            assert_eq!(
                m(NoWrapupPhase, p),
                Some(Mismatch::NotAskedOnMandatoryQueue)
            );
            assert_eq!(m(NotRequired, p), Some(Mismatch::NotAskedOnMandatoryQueue));
            assert_eq!(m(Missing, p), None);
        }
        for p in ["OPTIONAL", "AGENT_REQUESTED"] {
            assert_eq!(m(NoWrapupPhase, p), None);
            assert_eq!(m(NotRequired, p), None);
        }
        assert_eq!(
            m(Missing, "OPTIONAL"),
            Some(Mismatch::RequiredOnOptionalQueue)
        );
        assert_eq!(m(Missing, "AGENT_REQUESTED"), None);
        for p in ["MANDATORY", "OPTIONAL"] {
            assert_eq!(m(Timeout, p), Some(Mismatch::TimeoutWithoutTimedPrompt));
        }
        for p in [
            "MANDATORY_TIMEOUT",
            "MANDATORY_FORCED_TIMEOUT",
            "AGENT_REQUESTED",
        ] {
            assert_eq!(m(Timeout, p), None);
        }
        // Coded legs, and legs without a known queue setting, are never flagged.
        assert_eq!(m(Coded, "OPTIONAL"), None);
        assert_eq!(mismatch(Missing, None), None);
        for x in Mismatch::ALL {
            assert_eq!(Mismatch::parse(x.as_str()), Some(x));
        }
    }

    fn catalogs() -> Catalogs {
        let mut c = Catalogs::default();
        c.codes.insert("code-1".into(), "Sales".into());
        c
    }

    #[test]
    fn reportable_codes_are_real_configured_codes_only() {
        let c = catalogs();
        assert_eq!(
            reportable_code(&c, Some("code-1")).as_deref(),
            Some("code-1")
        );
        assert_eq!(reportable_code(&c, Some("ININ-WRAP-UP-TIMEOUT")), None);
        assert_eq!(reportable_code(&c, Some("OUTBOUND-CONTACT-INVALID")), None);
        assert_eq!(reportable_code(&c, Some(DEFAULT_CODE_ID)), None);
        assert_eq!(reportable_code(&c, Some("code-9")), None);
        assert_eq!(reportable_code(&c, None), None);
        // Even when the listing has the default code, it is not a contact reason.
        let mut with_default = c.clone();
        with_default
            .codes
            .insert(DEFAULT_CODE_ID.into(), "Default Wrap-up Code".into());
        assert_eq!(reportable_code(&with_default, Some(DEFAULT_CODE_ID)), None);
    }

    #[test]
    fn code_name_sources() {
        let c = catalogs();
        let of = |code: &str, name: Option<&str>| CodeNameSource::of(&c, code, name);
        assert_eq!(of("code-1", Some("Sales")), CodeNameSource::Catalog);
        assert_eq!(
            of("ININ-WRAP-UP-TIMEOUT", Some("ININ-WRAP-UP-TIMEOUT")),
            CodeNameSource::SystemLiteral
        );
        assert_eq!(
            of(DEFAULT_CODE_ID, Some("Default Wrap-up Code")),
            CodeNameSource::DefaultCode
        );
        assert_eq!(
            of("code-9", Some("From the API")),
            CodeNameSource::ConversationApi
        );
        assert_eq!(
            of("code-9", Some("(unresolved) code-9")),
            CodeNameSource::Unresolved
        );
        assert_eq!(of("code-9", None), CodeNameSource::Unresolved);
    }
}
