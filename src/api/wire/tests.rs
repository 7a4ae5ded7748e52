//! The detail records borrow their strings from the body, and decode the same values when they cannot.

use super::*;

/// One conversation with every string the run reads: a customer and an agent leg, a queue, a code.
pub(crate) const RECORD: &str = r#"{
  "conversationId": "c-1", "conversationStart": "2026-11-19T08:00:00.000Z",
  "conversationEnd": "2026-11-19T08:09:00.000Z", "originatingDirection": "inbound",
  "participants": [
    {"participantId": "p-cust", "purpose": "customer", "participantName": "Ann",
     "sessions": [{"mediaType": "voice", "direction": "inbound", "segments": [
       {"segmentType": "interact", "segmentStart": "2026-11-19T08:00:00.000Z",
        "segmentEnd": "2026-11-19T08:05:00.000Z", "queueId": "q-1"}]}]},
    {"participantId": "p-agent", "purpose": "agent", "userId": "u-1", "participantName": null,
     "sessions": [{"mediaType": "voice", "acwSkipped": false,
       "metrics": [{"name": "tAcw", "value": 4000}, {"name": "tTalk", "value": 9}, {"name": "nOther"}],
       "segments": [
         {"segmentType": "interact", "segmentStart": "2026-11-19T08:01:00.000Z",
          "segmentEnd": "2026-11-19T08:05:00.000Z", "queueId": "q-1"},
         {"segmentType": "wrapup", "segmentStart": "2026-11-19T08:05:00.000Z",
          "segmentEnd": "2026-11-19T08:09:00.000Z", "queueId": "q-2", "wrapUpCode": "code-1"}]}]}
  ]
}"#;

/// `json` with every character of every string value written as a `\uXXXX` escape, so no string can
/// be borrowed. Keys stay plain.
pub(crate) fn escaped(json: &str) -> String {
    fn write(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => {
                out.push('"');
                for c in s.chars() {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                }
                out.push('"');
            }
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            serde_json::Value::Object(m) => {
                out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    write(x, out);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(&serde_json::from_str(json).unwrap(), &mut out);
    out
}

/// Every string the record holds, in a fixed order, with whether it was borrowed.
fn strings<'r>(c: &'r AnalyticsConversation<'_>) -> Vec<(&'r str, bool)> {
    let cow = |s: &'r Cow<'_, str>| (s.as_ref(), matches!(s, Cow::Borrowed(_)));
    let mut out = vec![cow(&c.conversation_id)];
    out.extend(c.originating_direction.iter().map(cow));
    for p in &c.participants {
        out.push(cow(&p.participant_id));
        out.extend(p.purpose.iter().chain(&p.user_id).map(cow));
        for s in &p.sessions {
            out.extend(s.media_type.iter().map(cow));
            for g in &s.segments {
                out.extend(
                    g.segment_type
                        .iter()
                        .chain(&g.queue_id)
                        .chain(&g.wrap_up_code)
                        .map(cow),
                );
            }
        }
    }
    out
}

#[test]
fn strings_without_escapes_are_borrowed_and_escaped_ones_decode_to_the_same_values() {
    let plain: AnalyticsConversation = crate::api::decode_json(RECORD.as_bytes()).unwrap();
    let text = escaped(RECORD);
    assert!(
        text.contains(r#""conversationId":"\u0063\u002d\u0031""#),
        "{text}"
    );
    let esc: AnalyticsConversation = crate::api::decode_json(text.as_bytes()).unwrap();
    let (plain_strings, esc_strings) = (strings(&plain), strings(&esc));
    assert_eq!(plain_strings.len(), 16);
    assert!(plain_strings.iter().all(|(_, borrowed)| *borrowed));
    assert!(esc_strings.iter().all(|(_, borrowed)| !*borrowed));
    let values = |v: &[(&str, bool)]| v.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>();
    assert_eq!(values(&plain_strings), values(&esc_strings));
    assert_eq!(
        values(&plain_strings)[..6],
        ["c-1", "inbound", "p-cust", "customer", "voice", "interact"]
    );

    // The owned copy (what `explain` keeps) holds the same record.
    let owned = plain.clone().into_owned();
    assert_eq!(values(&strings(&owned)), values(&plain_strings));
    assert_eq!(format!("{owned:?}"), format!("{plain:?}"));
    let agent = &owned.participants[1];
    assert_eq!(agent.sessions[0].metrics.len(), 3);
    assert_eq!(agent.sessions[0].metrics[0].name, MetricName::Acw);
    assert_eq!(agent.sessions[0].acw_skipped, Some(false));
}

#[test]
fn a_page_borrows_and_absent_or_null_strings_are_none() {
    let body = format!(
        r#"{{"totalHits": 2, "conversations": [{RECORD}, {{"conversationId": "c-2",
        "conversationStart": "2026-11-19T09:00:00Z", "originatingDirection": null,
        "participants": [{{"participantId": "p", "purpose": null, "sessions": [{{"segments": [{{}}]}}]}}]}}]}}"#
    );
    let page: DetailsQueryResponse = crate::api::decode_json(body.as_bytes()).unwrap();
    assert_eq!(page.total_hits, Some(2));
    let c = &page.conversations[1];
    assert!(matches!(c.conversation_id, Cow::Borrowed("c-2")));
    assert_eq!(c.originating_direction, None);
    let p = &c.participants[0];
    assert_eq!((p.purpose.as_deref(), p.user_id.as_deref()), (None, None));
    let g = &p.sessions[0].segments[0];
    assert_eq!(
        (g.segment_type.as_deref(), g.wrap_up_code.as_deref()),
        (None, None)
    );
    // A string of the wrong type is still an error, not `None`.
    let bad = r#"{"conversationId": "c", "conversationStart": "2026-11-19T09:00:00Z", "originatingDirection": 7}"#;
    assert!(crate::api::decode_json::<AnalyticsConversation>(bad.as_bytes()).is_err());
    // An empty page (past the last one) has no `conversations`.
    let empty: DetailsQueryResponse = crate::api::decode_json(br#"{"totalHits": 0}"#).unwrap();
    assert!(empty.conversations.is_empty());
}
