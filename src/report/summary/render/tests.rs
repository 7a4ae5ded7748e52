use std::collections::BTreeMap;

use super::*;
use crate::api::ApiStatsSnapshot;
use crate::record::ConversationLabel;
use crate::record::Counts;
use crate::report::summary::Finding;
use crate::report::summary::{ComplianceSummary, LabelShare, MismatchGroup, QueueLabels, TrendDay};
use crate::transform::counts::LookupStats;

fn c(owed: u64, with_code: u64, timeout: u64, missing: u64) -> Counts {
    Counts {
        legs: owed + 1,
        owed,
        with_code,
        timeout,
        missing,
        unknown: owed - with_code - timeout - missing,
        acw_ms: 600_000,
        timeout_acw_ms: timeout as i64 * 60_000,
        config_mismatches: 0,
    }
}

fn named(name: &str, prompt: Option<&str>, counts: Counts) -> Named {
    Named {
        name: Some(name.to_string()),
        wrapup_prompt: prompt.map(String::from),
        acw_timeout_ms: None,
        rates: counts.into(),
    }
}

pub(crate) fn summary() -> Summary {
    let label_counts = counts(&[
        ("coded", 40),
        ("timeout", 10),
        ("missing", 20),
        ("no_agent", 5),
        ("lookup_failed", 3),
    ]);
    let total: u64 = label_counts.values().sum();
    let labels = ConversationLabel::ALL
        .iter()
        .map(|l| {
            let n = label_counts.get(l.as_str()).copied().unwrap_or(0);
            LabelShare {
                label: l.as_str(),
                conversations: n,
                share: n as f64 / total as f64,
                null_by_design: l.null_by_design(),
            }
        })
        .collect();
    let mut by_queue = BTreeMap::new();
    by_queue.insert(
        "q-1".to_string(),
        QueueLabels {
            name: Some("Sales <b>&\"".into()),
            labels: counts(&[("missing", 7), ("coded", 3)]),
        },
    );
    let compliance = ComplianceSummary {
        min_owed_to_rank: 5,
        total: c(80, 50, 10, 20).into(),
        by_agent: [
            ("u-1".to_string(), named("Ana Costa", None, c(10, 5, 2, 3))),
            ("u-2".to_string(), named("Bruno <i>", None, c(20, 18, 1, 1))),
        ]
        .into_iter()
        .collect(),
        by_queue: [(
            "q-1".to_string(),
            named("Sales <b>&\"", Some("MANDATORY"), c(80, 50, 10, 20)),
        )]
        .into_iter()
        .collect(),
        by_media: [("voice".to_string(), c(80, 50, 10, 20).into())]
            .into_iter()
            .collect(),
        by_day: [("2026-11-20".to_string(), c(80, 50, 10, 20).into())]
            .into_iter()
            .collect(),
        agents_by_gap_rate: vec!["u-1".into(), "u-2".into()],
    };
    let trend = [
        ("2026-11-18", false, 40, 4, 1),
        ("2026-11-19", true, 50, 10, 2),
    ]
    .into_iter()
    .map(|(d, w, owed, gaps, timeout)| TrendDay {
        date: d.into(),
        in_window: w,
        is_final: true,
        owed,
        gaps,
        timeout,
        gap_rate: Some(gaps as f64 / owed as f64),
        timeout_rate: Some(timeout as f64 / owed as f64),
    })
    .collect();
    Summary {
        run_id: "run-1".into(),
        job: "demo".into(),
        window_from: "2026-11-19T00:00:00.000Z".into(),
        window_to: "2026-11-21T00:00:00.000Z".into(),
        timezone: "UTC".into(),
        as_of: "2026-11-21T00:20:00.000Z".into(),
        status: "success",
        conversations: total,
        legs: 90,
        findings: vec![Finding {
            kind: "queue_gaps",
            title: "Queue Sales: 37.5 % of owed legs got no code".into(),
            detail: "10 timed out".into(),
            action: "Raise the <timeout>".into(),
            conversation_ids: vec!["c-1".into(), "c-2".into()],
            query: Some("SELECT 1 WHERE a = 'x';".into()),
        }],
        labels,
        leg_labels: counts(&[("coded", 50), ("missing", 20), ("not_connected", 4)]),
        by_day: [
            ("2026-11-19".to_string(), label_counts.clone()),
            (
                "2026-11-20".to_string(),
                counts(&[("coded", 2), ("too_recent", 1)]),
            ),
        ]
        .into_iter()
        .collect(),
        compliance,
        config_mismatches: vec![MismatchGroup {
            mismatch: "timeout_without_timed_prompt",
            queue_id: "q-1".into(),
            queue_name: Some("Sales".into()),
            queue_wrapup_prompt: Some("MANDATORY".into()),
            legs: 2,
            example_conversation_ids: vec!["c-9".into()],
        }],
        trend,
        lookups: LookupStats {
            needed: 23,
            made: 23,
            failed: 3,
            ..LookupStats::default()
        },
        api: ApiStatsSnapshot {
            requests: 30,
            requests_by_endpoint: counts(&[("conversation", 23)]),
            ..ApiStatsSnapshot::default()
        },
        dropped_outside_window: 0,
        dropped_duplicates: 0,
        by_queue,
        by_media: BTreeMap::new(),
        unresolved: Default::default(),
    }
}

fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let sec = html.split(&format!("id=\"{id}\"")).nth(1).unwrap();
    &sec[..sec.find("</section>").unwrap()]
}

#[test]
fn page_has_no_scripts_and_no_urls() {
    let html = html(&summary()).to_ascii_lowercase();
    assert!(html.starts_with("<!doctype html>"));
    for bad in [
        "<script",
        "javascript:",
        "http://",
        "https://",
        "url(",
        "@import",
        "<link",
        "<img",
    ] {
        assert!(!html.contains(bad), "{bad}");
    }
    assert!(html.contains("@media print"));
    assert!(html.contains("@media (max-width: 640px)"));
    assert!(html.contains("name=\"viewport\""));
}

#[test]
fn findings_open_the_page_with_ids_and_queries() {
    let s = summary();
    let html = html(&s);
    let fix = html.find("id=\"fix-first\"").unwrap();
    for later in ["id=\"trend\"", "id=\"by-queue\"", "id=\"totals\""] {
        assert!(fix < html.find(later).unwrap(), "{later}");
    }
    let sec = section(&html, "fix-first");
    assert!(sec.contains("Queue Sales: 37.5 % of owed legs got no code"));
    assert!(sec.contains("<pre class=\"ids\">c-1\nc-2</pre>"));
    assert!(
        sec.contains("SELECT 1 WHERE a = &#x27;x&#x27;;")
            || sec.contains("SELECT 1 WHERE a = &#39;x&#39;;")
    );
    assert!(sec.contains("Raise the &lt;timeout&gt;"));
    let md = markdown(&s);
    assert!(md.find("## What to fix first").unwrap() < md.find("## Trend").unwrap());
    assert!(md.contains("1. **Queue Sales: 37.5 % of owed legs got no code.**"));
    assert!(md.contains("   c-1\n   c-2\n"));
    assert!(md.contains("SELECT 1 WHERE a = 'x';"));
}

#[test]
fn both_summaries_have_queue_media_agent_and_trend_sections() {
    let s = summary();
    let html = html(&s);
    let md = markdown(&s);
    for (id, heading) in [
        ("trend", "## Trend"),
        ("by-queue", "## By queue"),
        ("agents", "## Agents by gap rate"),
        ("by-media", "## By media type"),
        ("config-mismatches", "## Configuration vs outcome"),
        ("by-day", "## By day"),
        ("leg-labels", "## Agent legs by label"),
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
        assert!(md.contains(heading), "{heading}");
    }
    // Ranked agents in rank order with rates, in both files.
    let agents = section(&html, "agents");
    assert!(agents.find("Ana Costa").unwrap() < agents.find("Bruno &lt;i&gt;").unwrap());
    assert!(agents.contains("<td class=\"num\">50.0 %</td>"));
    assert!(md.contains("| Ana Costa | 11 | 10 | 5 | 5 | 50.0 % | 2 | 3 | 0 | 20.0 % |"));
    // The trend: a table row per day and one chart dot per rate and day.
    let trend = section(&html, "trend");
    assert_eq!(trend.matches("<circle").count(), 4);
    assert!(trend.contains("<tr class=\"earlier\"><td>2026-11-18</td>"));
    assert!(md.contains("| 2026-11-19 | 50 | 10 | 20.0 % | 2 | 4.0 % | yes | yes |"));
    assert!(md.contains("| timeout_without_timed_prompt | Sales | MANDATORY | 2 | c-9 |"));
    assert!(section(&html, "by-queue").contains("<td>MANDATORY</td>"));
}

#[test]
fn every_label_with_a_count_appears() {
    let s = summary();
    let html = html(&s);
    for l in s.labels.iter().filter(|l| l.conversations > 0) {
        assert!(
            html.contains(&format!("<td>{}</td>", l.label)),
            "{}",
            l.label
        );
        assert!(
            html.contains(&format!("<title>{}: {}</title>", l.label, l.conversations)),
            "{} missing from the charts",
            l.label
        );
    }
    let legs = section(&html, "leg-labels");
    assert!(legs.find("<td>coded</td>") < legs.find("<td>not_connected</td>"));
    assert!(legs.find("<td>not_connected</td>") < legs.find("<td>missing</td>"));
}

#[test]
fn text_from_data_is_escaped() {
    let mut s = summary();
    s.job = "<script>alert(1)</script>".into();
    let html = html(&s);
    assert!(!html.contains("<b>&\""));
    assert!(html.contains("Sales &lt;b&gt;&amp;&quot;"));
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;"));
}

#[test]
fn empty_sections_say_no_data() {
    let mut s = summary();
    s.compliance = ComplianceSummary::default();
    s.config_mismatches.clear();
    s.trend.clear();
    s.by_day.clear();
    let html = html(&s);
    for id in [
        "trend",
        "by-queue",
        "agents",
        "by-media",
        "config-mismatches",
        "by-day",
    ] {
        let sec = section(&html, id);
        assert!(sec.contains("No data:"), "{id}");
        assert!(!sec.contains("<svg"), "{id}");
    }
    assert!(markdown(&s).contains("No agent has enough owed legs to rank."));
}

#[test]
fn kinds_follow_the_contract() {
    use crate::report::summary::{conversation_kind, Kind};
    for l in ConversationLabel::ALL {
        let k = conversation_kind(l.as_str());
        assert_eq!(k == Kind::ByDesign, l.null_by_design(), "{}", l.as_str());
    }
    assert_eq!(conversation_kind("recovered"), Kind::Gap);
    assert_eq!(conversation_kind("system"), Kind::Coded);
    assert_eq!(conversation_kind("no_such_label"), Kind::Gap);
    assert_eq!(leg_kind("pending").0, "design");
    assert_eq!(leg_kind("lookup_failed").0, "gap");
}
