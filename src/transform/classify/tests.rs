//! Table-driven tests: one row per rule of the contract, including precedence and the latency guard.

use chrono::{TimeZone, Utc};

use super::*;
use crate::api::wire::{AnalyticsMetric, AnalyticsSegment, AnalyticsSession, Wrapup};

fn ev() -> LegEvidence {
    LegEvidence {
        participant_id: "p".into(),
        purpose: "agent".into(),
        ..LegEvidence::default()
    }
}

#[track_caller]
fn check_leg(e: LegEvidence, ended: bool, expect: LegLabel) {
    assert_eq!(
        classify_leg(&e, ended),
        expect,
        "evidence: {e:?}, ended: {ended}"
    );
}

#[test]
fn leg_rules_in_order() {
    let coded = |c: &str| LegEvidence {
        code: Some(c.into()),
        has_wrapup_segment: true,
        ..ev()
    };
    // Rule 1 beats every later rule, even an unfinished conversation.
    check_leg(coded("ININ-WRAP-UP-TIMEOUT"), false, LegLabel::Timeout);
    check_leg(coded("ININ-WRAP-UP-TIMEOUT"), true, LegLabel::Timeout);
    // Rule 2: ININ- and OUTBOUND- literals.
    check_leg(
        coded("ININ-OUTBOUND-PREVIEW-SKIPPED"),
        true,
        LegLabel::System,
    );
    check_leg(coded("OUTBOUND-MESSAGE-SENT"), true, LegLabel::System);
    // Rule 3: any other code, even with acwSkipped or an open segment.
    check_leg(
        coded("659abad8-a6ef-4f03-abde-0346b6b2e814"),
        true,
        LegLabel::Coded,
    );
    check_leg(
        LegEvidence {
            acw_skipped: true,
            wrapup_open: true,
            ..coded("x")
        },
        true,
        LegLabel::Coded,
    );
    // Rule 4: not ended, or an open wrap-up segment.
    check_leg(
        LegEvidence {
            connected: true,
            ..ev()
        },
        false,
        LegLabel::Pending,
    );
    check_leg(
        LegEvidence {
            has_wrapup_segment: true,
            wrapup_open: true,
            ..ev()
        },
        true,
        LegLabel::Pending,
    );
    // Rule 5 beats 6–8.
    check_leg(
        LegEvidence {
            acw_skipped: true,
            acw_ms: 4000,
            ..ev()
        },
        true,
        LegLabel::Skipped,
    );
    // Rule 6 and 7.
    check_leg(ev(), true, LegLabel::NotConnected);
    check_leg(
        LegEvidence {
            connected: true,
            ..ev()
        },
        true,
        LegLabel::NoWrapupPhase,
    );
    // Rule 8: a wrap-up segment, or ACW time, without a code.
    check_leg(
        LegEvidence {
            connected: true,
            has_wrapup_segment: true,
            ..ev()
        },
        true,
        LegLabel::NeedsLookup,
    );
    check_leg(
        LegEvidence {
            connected: true,
            acw_ms: 1,
            ..ev()
        },
        true,
        LegLabel::NeedsLookup,
    );
    check_leg(
        LegEvidence {
            acw_ms: 57_000,
            ..ev()
        },
        true,
        LegLabel::NeedsLookup,
    );
}

fn seg<'a>(
    kind: &'a str,
    start: i64,
    end: Option<i64>,
    code: Option<&'a str>,
) -> AnalyticsSegment<'a> {
    AnalyticsSegment {
        segment_type: Some(kind.into()),
        segment_start: Some(Utc.timestamp_millis_opt(start).unwrap()),
        segment_end: end.map(|e| Utc.timestamp_millis_opt(e).unwrap()),
        queue_id: Some("q1".into()),
        wrap_up_code: code.map(Into::into),
    }
}

fn participant<'a>(
    purpose: &'a str,
    sessions: Vec<AnalyticsSession<'a>>,
) -> AnalyticsParticipant<'a> {
    AnalyticsParticipant {
        participant_id: "p1".into(),
        purpose: Some(purpose.into()),
        user_id: Some("u1".into()),
        sessions,
    }
}

fn session<'a>(
    segments: Vec<AnalyticsSegment<'a>>,
    metrics: &[(&str, i64)],
    skipped: Option<bool>,
) -> AnalyticsSession<'a> {
    AnalyticsSession {
        media_type: Some("voice".into()),
        acw_skipped: skipped,
        segments,
        metrics: metrics
            .iter()
            .map(|(n, v)| AnalyticsMetric {
                name: serde_json::from_value(serde_json::json!(n)).unwrap(),
                value: *v,
            })
            .collect(),
    }
}

#[test]
fn evidence_takes_the_last_coded_wrapup_segment_and_sums_metrics() {
    let p = participant(
        "agent",
        vec![
            session(
                vec![
                    seg("interact", 0, Some(10), None),
                    seg("wrapup", 10, Some(20), Some("late")),
                    seg("wrapup", 5, Some(15), Some("early")),
                    seg("wrapup", 20, Some(30), Some("")),
                ],
                &[("tAcw", 3000), ("tHandle", 9000), ("tTalk", 6000)],
                None,
            ),
            session(vec![], &[("tAcw", 1000)], Some(true)),
        ],
    );
    let e = leg_evidence(&p);
    assert_eq!(e.code.as_deref(), Some("late"));
    assert!(e.connected && e.has_wrapup_segment && !e.wrapup_open && e.acw_skipped);
    assert_eq!((e.acw_ms, e.handle_ms, e.talk_ms), (4000, 9000, 6000));
    assert_eq!(e.queue_id.as_deref(), Some("q1"));
    assert_eq!(e.media_type.as_deref(), Some("voice"));
}

#[test]
fn open_wrapup_segment_is_seen() {
    let p = participant(
        "user",
        vec![session(vec![seg("wrapup", 0, None, None)], &[], None)],
    );
    let e = leg_evidence(&p);
    assert!(e.wrapup_open);
    assert_eq!(classify_leg(&e, true), LegLabel::Pending);
    assert!(is_agent_leg(&p));
    assert!(!is_agent_leg(&participant("acd", vec![])));
    assert!(!is_agent_leg(&participant("customer", vec![])));
}

fn cp(
    wrapup: Option<&str>,
    skipped: Option<bool>,
    required: Option<bool>,
) -> ConversationParticipant {
    ConversationParticipant {
        id: "p1".into(),
        purpose: Some("agent".into()),
        user_id: None,
        wrapup_required: required,
        wrapup_prompt: None,
        wrapup_skipped: skipped,
        wrapup: wrapup.map(|c| Wrapup {
            code: Some(c.into()),
            name: Some(format!("name of {c}")),
        }),
    }
}

#[track_caller]
fn check_settle(analytics: LegLabel, p: Option<ConversationParticipant>, expect: LegLabel) {
    let s = settle_leg(analytics, p.as_ref());
    assert_eq!(s.label, expect, "participant: {p:?}");
}

#[test]
fn lookup_rules_in_order() {
    use LegLabel::*;
    check_settle(
        NeedsLookup,
        Some(cp(Some("c"), Some(true), Some(true))),
        Recovered,
    );
    check_settle(NeedsLookup, Some(cp(None, Some(true), Some(true))), Skipped);
    check_settle(
        NeedsLookup,
        Some(cp(None, Some(false), Some(false))),
        NotRequired,
    );
    check_settle(NeedsLookup, Some(cp(None, None, Some(true))), Missing);
    check_settle(NeedsLookup, Some(cp(None, None, None)), LookupFailed);
    check_settle(NeedsLookup, None, LookupFailed);
    // all-null mode: looked-up legs may improve, never degrade to lookup_failed.
    check_settle(NoWrapupPhase, Some(cp(None, None, Some(true))), Missing);
    check_settle(
        NotConnected,
        Some(cp(None, None, Some(false))),
        NotConnected,
    );
    check_settle(NoWrapupPhase, None, NoWrapupPhase);
    let s = settle_leg(NeedsLookup, Some(&cp(Some("c9"), None, None)));
    assert_eq!(
        (s.code.as_deref(), s.code_name.as_deref()),
        (Some("c9"), Some("name of c9"))
    );
    assert!(settle_leg(NeedsLookup, None).detail.is_some());
}

#[test]
fn lookup_modes() {
    assert!(LookupMode::NeedsLookup.wants(LegLabel::NeedsLookup));
    assert!(!LookupMode::NeedsLookup.wants(LegLabel::NoWrapupPhase));
    assert!(LookupMode::AllNull.wants(LegLabel::NotConnected));
    assert!(LookupMode::AllNull.wants(LegLabel::NoWrapupPhase));
    assert!(!LookupMode::AllNull.wants(LegLabel::Coded));
    assert!(!LookupMode::Off.wants(LegLabel::NeedsLookup));
}

#[track_caller]
fn check_conv(ended: bool, legs: &[LegLabel], expect: ConversationLabel, decisive: Option<usize>) {
    assert_eq!(
        conversation_label(ended, legs),
        (expect, decisive),
        "legs: {legs:?}"
    );
}

#[test]
fn conversation_rules_and_precedence() {
    use ConversationLabel as C;
    use LegLabel::*;
    check_conv(false, &[Coded], C::InProgress, None);
    check_conv(true, &[Coded, Pending], C::InProgress, Some(1));
    check_conv(true, &[], C::NoAgent, None);
    check_conv(false, &[], C::InProgress, None);
    check_conv(
        true,
        &[NotConnected, NotConnected],
        C::NotConnected,
        Some(0),
    );
    check_conv(true, &[NotConnected, Coded], C::Coded, Some(1));
    check_conv(true, &[Coded, Timeout], C::Timeout, Some(1));
    check_conv(
        true,
        &[NoWrapupPhase, NotConnected],
        C::NoWrapupPhase,
        Some(0),
    );
    // The full severity order, each beating all that follow it.
    let order = [
        LookupFailed,
        Missing,
        Unexplained,
        Recovered,
        Timeout,
        System,
        Coded,
        Skipped,
        NotRequired,
        NoWrapupPhase,
    ];
    let expect = [
        C::LookupFailed,
        C::Missing,
        C::Unexplained,
        C::Recovered,
        C::Timeout,
        C::System,
        C::Coded,
        C::Skipped,
        C::NotRequired,
        C::NoWrapupPhase,
    ];
    for (i, l) in order.iter().enumerate() {
        let mut legs: Vec<LegLabel> = order[i..].iter().rev().copied().collect();
        legs.push(NotConnected);
        let pos = legs.iter().position(|x| x == l);
        check_conv(true, &legs, expect[i], pos);
    }
    // A leg still needing a lookup counts as unexplained.
    check_conv(true, &[Coded, NeedsLookup], C::Unexplained, Some(1));
    // A null by design never outranks a code (§2 step 4, revised): the coded leg decides.
    check_conv(true, &[Coded, NoWrapupPhase], C::Coded, Some(0));
    check_conv(true, &[Coded, Skipped], C::Coded, Some(0));
    check_conv(true, &[Skipped, Coded], C::Coded, Some(1));
    check_conv(true, &[Coded, NotRequired], C::Coded, Some(0));
    check_conv(true, &[NoWrapupPhase, System], C::System, Some(1));
}

#[test]
fn latency_guard() {
    use ConversationLabel as C;
    let as_of = Utc.with_ymd_and_hms(2026, 11, 21, 6, 0, 0).unwrap();
    let ended = |m: i64| Some(as_of - chrono::Duration::minutes(m));
    assert!(is_too_recent(ended(3), as_of, 15, None, C::Unexplained));
    assert!(is_too_recent(ended(14), as_of, 15, None, C::NoWrapupPhase));
    assert!(is_too_recent(ended(3), as_of, 15, None, C::NoAgent));
    assert!(!is_too_recent(ended(15), as_of, 15, None, C::Unexplained));
    for decided in [C::Coded, C::System, C::Timeout] {
        assert!(!is_too_recent(ended(1), as_of, 15, None, decided));
    }
    assert!(!is_too_recent(None, as_of, 15, None, C::InProgress));
    // Jobs mode: ended after the data lake's availability date.
    let avail = Some(as_of - chrono::Duration::hours(2));
    assert!(is_too_recent(ended(60), as_of, 15, avail, C::Unexplained));
    assert!(!is_too_recent(ended(180), as_of, 15, avail, C::Unexplained));
}
