//! "What to fix first": the few findings a supervisor acts on, each with example conversation ids,
//! the query that lists all of them, and what to change.

use std::collections::BTreeMap;

use super::model::{Finding, Named, Summary, MIN_OWED_TO_RANK};
use crate::record::Mismatch;
use crate::sink::{Format, Formats};

/// At most this many findings open the summary.
pub const MAX_FINDINGS: usize = 5;

/// Leg labels of owed legs without a chosen code.
const GAP_LABELS: &str = "('timeout', 'missing', 'unexplained', 'lookup_failed')";

fn pct(x: Option<f64>) -> String {
    x.map_or("–".to_string(), |r| format!("{:.1} %", r * 100.0))
}

fn minutes(ms: i64) -> String {
    format!("{:.0} min", ms as f64 / 60_000.0)
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The legs dataset as DuckDB reads it from the output folder, in the richer format written.
fn legs_source(formats: Formats) -> &'static str {
    if formats.contains(Format::Parquet) {
        "read_parquet('parquet/legs/*/*.parquet', hive_partitioning = true)"
    } else {
        "read_csv('csv/legs/*/*.csv', hive_partitioning = true)"
    }
}

fn query(formats: Formats, filter: &str) -> Option<String> {
    Some(format!(
        "SELECT DISTINCT conversation_id FROM {} WHERE {filter} ORDER BY conversation_id;",
        legs_source(formats)
    ))
}

fn display(id: &str, n: &Named) -> String {
    n.name.clone().unwrap_or_else(|| id.to_string())
}

fn queue_finding(s: &Summary, ex: &BTreeMap<String, Vec<String>>, f: Formats) -> Option<Finding> {
    let (id, q) = s
        .compliance
        .by_queue
        .iter()
        .filter(|(_, q)| q.rates.counts.owed >= MIN_OWED_TO_RANK && q.rates.gaps > 0)
        .max_by(|a, b| a.1.rates.gaps.cmp(&b.1.rates.gaps).then(b.0.cmp(a.0)))?;
    let c = &q.rates.counts;
    let prompt = match (&q.wrapup_prompt, q.acw_timeout_ms) {
        (Some(p), Some(t)) => format!("configured prompt {p}, ACW timeout {} s", t / 1000),
        (Some(p), None) => format!("configured prompt {p}"),
        _ => "no ACW setting known".to_string(),
    };
    let action = if c.timeout >= c.missing + c.unknown {
        format!(
            "ACW ends on the timer before agents pick a code: raise the queue's ACW timeout (acwSettings.timeoutMs) or coach agents to code before it runs out; these timeouts added {} of ACW.",
            minutes(c.timeout_acw_ms)
        )
    } else if c.missing >= c.unknown {
        "Required wrap-ups are left without a code: check what ends ACW on this queue (agent desktop, scripts, integrations) and coach the agents ranked below.".to_string()
    } else {
        "Most of these legs could not be settled (lookups failed or over budget): rerun with a larger lookup_budget before acting.".to_string()
    };
    Some(Finding {
        kind: "queue_gaps",
        title: format!(
            "Queue {}: {} of owed legs got no code ({} of {})",
            display(id, q),
            pct(q.rates.gap_rate),
            q.rates.gaps,
            c.owed
        ),
        detail: format!(
            "{} timed out, {} missing, {} unknown; {prompt}.",
            c.timeout, c.missing, c.unknown
        ),
        action,
        conversation_ids: ex
            .get(&format!("gap|queue|{id}"))
            .cloned()
            .unwrap_or_default(),
        query: query(
            f,
            &format!("queue_id = {} AND label IN {GAP_LABELS}", sql_str(id)),
        ),
    })
}

fn agent_finding(s: &Summary, ex: &BTreeMap<String, Vec<String>>, f: Formats) -> Option<Finding> {
    let worst: Vec<(&String, &Named)> = s
        .compliance
        .agents_by_gap_rate
        .iter()
        .filter_map(|id| s.compliance.by_agent.get_key_value(id))
        .filter(|(_, n)| n.rates.gaps > 0)
        .take(3)
        .collect();
    if worst.is_empty() {
        return None;
    }
    let who: Vec<String> = worst
        .iter()
        .map(|(id, n)| {
            format!(
                "{} {} ({} of {})",
                display(id, n),
                pct(n.rates.gap_rate),
                n.rates.gaps,
                n.rates.counts.owed
            )
        })
        .collect();
    let (timeout, missing): (u64, u64) = worst.iter().fold((0, 0), |acc, (_, n)| {
        (
            acc.0 + n.rates.counts.timeout,
            acc.1 + n.rates.counts.missing,
        )
    });
    let ids: Vec<String> = worst
        .iter()
        .filter_map(|(id, _)| ex.get(&format!("gap|agent|{id}")))
        .flat_map(|v| v.iter().take(3).cloned())
        .collect();
    let list: Vec<String> = worst.iter().map(|(id, _)| sql_str(id)).collect();
    Some(Finding {
        kind: "agent_gaps",
        title: format!(
            "Agents with the highest gap rates: {}",
            who.join(", ")
        ),
        detail: format!(
            "Ranked by rate among agents with at least {MIN_OWED_TO_RANK} owed legs (of {} overall: {}); their gaps are {timeout} timeouts and {missing} missing codes.",
            s.compliance.total.counts.owed,
            pct(s.compliance.total.gap_rate)
        ),
        action: if timeout > missing {
            "Coach these agents to pick a code before the ACW timer ends.".to_string()
        } else {
            "Coach these agents to pick a code before leaving ACW, and check their desktop for an integration that ends ACW early.".to_string()
        },
        conversation_ids: ids,
        query: query(
            f,
            &format!("user_id IN ({}) AND label IN {GAP_LABELS}", list.join(", ")),
        ),
    })
}

fn mismatch_finding(s: &Summary, f: Formats) -> Option<Finding> {
    let groups = &s.config_mismatches;
    let top = groups.iter().max_by_key(|g| g.legs)?;
    let total: u64 = groups.iter().map(|g| g.legs).sum();
    let what = match Mismatch::parse(top.mismatch)? {
        Mismatch::NotAskedOnMandatoryQueue => "had no wrap-up phase or were not asked for a code",
        Mismatch::RequiredOnOptionalQueue => "were required to code (and did not)",
        Mismatch::TimeoutWithoutTimedPrompt => "timed out",
    };
    Some(Finding {
        kind: "config_mismatch",
        title: format!(
            "{} legs on queue {} (configured {}) {what}",
            top.legs,
            top.queue_name.as_deref().unwrap_or(&top.queue_id),
            top.queue_wrapup_prompt.as_deref().unwrap_or("unknown"),
        ),
        detail: format!(
            "{total} legs in {} queue/kind pairs disagree with their queue's configured prompt (column config_mismatch); labels are unchanged.",
            groups.len()
        ),
        action: Mismatch::parse(top.mismatch)?.advice().to_string(),
        conversation_ids: top.example_conversation_ids.clone(),
        query: query(
            f,
            &format!(
                "config_mismatch = {} AND queue_id = {}",
                sql_str(top.mismatch),
                sql_str(&top.queue_id)
            ),
        ),
    })
}

fn trend_finding(s: &Summary, f: Formats) -> Option<Finding> {
    let days: Vec<_> = s.trend.iter().filter(|d| d.owed > 0).collect();
    let (last, earlier) = days.split_last()?;
    if earlier.is_empty() {
        return None;
    }
    let (owed, gaps) = earlier
        .iter()
        .fold((0u64, 0u64), |a, d| (a.0 + d.owed, a.1 + d.gaps));
    let before = gaps as f64 / owed.max(1) as f64;
    let now = last.gap_rate.unwrap_or(0.0);
    let points = (now - before) * 100.0;
    let direction = if points > 2.0 {
        "rose"
    } else if points < -2.0 {
        "fell"
    } else {
        "held"
    };
    Some(Finding {
        kind: "trend",
        title: format!(
            "Gap rate {direction}: {} on {} against {} over the {} earlier days",
            pct(last.gap_rate),
            last.date,
            pct(Some(crate::record::round4(before))),
            earlier.len()
        ),
        detail: format!(
            "{} of {} owed legs on {} got no code; timeout rate {}.{}",
            last.gaps,
            last.owed,
            last.date,
            pct(last.timeout_rate),
            if last.is_final {
                ""
            } else {
                " The day is not final yet: a later run may still settle some legs."
            }
        ),
        action: if points > 2.0 {
            format!("Find what changed on {} (queue settings, new agents, a desktop release) before it becomes the norm.", last.date)
        } else {
            "Keep the nightly run going; act on the queue and agent findings above.".to_string()
        },
        conversation_ids: Vec::new(),
        query: query(
            f,
            &format!("date = {} AND label IN {GAP_LABELS}", sql_str(&last.date)),
        ),
    })
}

fn timeout_acw_finding(
    s: &Summary,
    ex: &BTreeMap<String, Vec<String>>,
    f: Formats,
) -> Option<Finding> {
    let total = &s.compliance.total.counts;
    if total.timeout_acw_ms <= 0 {
        return None;
    }
    let (id, q) = s
        .compliance
        .by_queue
        .iter()
        .max_by_key(|(_, q)| q.rates.counts.timeout_acw_ms)?;
    Some(Finding {
        kind: "timeout_acw",
        title: format!(
            "Timeouts inflated ACW by {} ({} of all ACW)",
            minutes(total.timeout_acw_ms),
            pct(Some(total.timeout_acw_ms as f64 / total.acw_ms.max(1) as f64)),
        ),
        detail: format!(
            "ININ-WRAP-UP-TIMEOUT legs: {}; most on queue {} ({}).",
            total.timeout,
            display(id, q),
            minutes(q.rates.counts.timeout_acw_ms)
        ),
        action: "ACW time of a timeout leg is the timer running, not work: leave timeout legs out of handle-time and contact-reason reports (use reportable_code), and size the timer to the real ACW.".to_string(),
        conversation_ids: ex.get(&format!("timeout|queue|{id}")).cloned().unwrap_or_default(),
        query: query(f, &format!("label = 'timeout' AND queue_id = {}", sql_str(id))),
    })
}

/// The findings that open the summary, most important first.
pub fn findings(
    s: &Summary,
    examples: &BTreeMap<String, Vec<String>>,
    formats: Formats,
) -> Vec<Finding> {
    let mut out: Vec<Finding> = [
        queue_finding(s, examples, formats),
        agent_finding(s, examples, formats),
        mismatch_finding(s, formats),
        trend_finding(s, formats),
        timeout_acw_finding(s, examples, formats),
    ]
    .into_iter()
    .flatten()
    .collect();
    if out.is_empty() {
        out.push(Finding {
            kind: "no_gaps",
            title: format!(
                "No gaps to chase: {} owed legs, every one with a code",
                s.compliance.total.counts.owed
            ),
            detail: "No queue or agent has legs that owed a code and got none.".to_string(),
            action: "Nothing to change.".to_string(),
            conversation_ids: Vec::new(),
            query: None,
        });
    }
    out.truncate(MAX_FINDINGS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::summary::render::tests::summary;
    use crate::report::summary::TrendDay;

    fn examples() -> BTreeMap<String, Vec<String>> {
        [
            ("gap|queue|q-1", vec!["c-1", "c-2"]),
            ("gap|agent|u-1", vec!["c-1"]),
            ("timeout|queue|q-1", vec!["c-2"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect()
    }

    #[test]
    fn findings_name_queue_agents_mismatch_trend_and_timeouts_in_order() {
        let mut s = summary();
        s.trend.push(TrendDay {
            date: "2026-11-20".into(),
            in_window: true,
            is_final: true,
            owed: 50,
            gaps: 20,
            timeout: 5,
            gap_rate: Some(0.4),
            timeout_rate: Some(0.1),
        });
        let f = findings(&s, &examples(), Formats::BOTH);
        let kinds: Vec<&str> = f.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                "queue_gaps",
                "agent_gaps",
                "config_mismatch",
                "trend",
                "timeout_acw"
            ]
        );
        // The queue: its name, rate with denominator, configured prompt, ids and a query over it.
        assert_eq!(
            f[0].title,
            "Queue Sales <b>&\": 37.5 % of owed legs got no code (30 of 80)"
        );
        assert!(f[0].detail.contains("configured prompt MANDATORY"));
        assert_eq!(f[0].conversation_ids, ["c-1", "c-2"]);
        let q = f[0].query.as_deref().unwrap();
        assert!(q.contains("read_parquet('parquet/legs/*/*.parquet', hive_partitioning = true)"));
        assert!(q.contains("queue_id = 'q-1'"));
        // Agents ranked by rate, the worst first, with their denominators.
        assert!(
            f[1].title.contains("Ana Costa 50.0 % (5 of 10)"),
            "{}",
            f[1].title
        );
        assert!(f[1].title.find("Ana Costa") < f[1].title.find("Bruno"));
        assert!(f[1]
            .query
            .as_deref()
            .unwrap()
            .contains("user_id IN ('u-1', 'u-2')"));
        // Mismatch: the group, its advice, its ids.
        assert!(f[2]
            .title
            .starts_with("2 legs on queue Sales (configured MANDATORY) timed out"));
        assert_eq!(f[2].action, Mismatch::TimeoutWithoutTimedPrompt.advice());
        assert_eq!(f[2].conversation_ids, ["c-9"]);
        // Trend: the last day against the earlier ones, owed-weighted (14 of 90 = 15.6 %).
        assert_eq!(
            f[3].title,
            "Gap rate rose: 40.0 % on 2026-11-20 against 15.6 % over the 2 earlier days"
        );
        assert!(f[3]
            .query
            .as_deref()
            .unwrap()
            .contains("date = '2026-11-20'"));
        assert!(f[4].title.starts_with("Timeouts inflated ACW by 10 min"));
        assert_eq!(f[4].conversation_ids, ["c-2"]);
    }

    #[test]
    fn a_clean_run_says_so_and_csv_only_queries_read_csv() {
        let mut s = summary();
        s.compliance = Default::default();
        s.config_mismatches.clear();
        s.trend.clear();
        let f = findings(&s, &BTreeMap::new(), Formats::CSV);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, "no_gaps");
        let s = summary();
        let f = findings(&s, &examples(), Formats::CSV);
        assert!(f[0]
            .query
            .as_deref()
            .unwrap()
            .contains("read_csv('csv/legs/*/*.csv'"));
        assert!(f.len() <= MAX_FINDINGS);
        // Names with quotes cannot break out of the SQL string.
        assert_eq!(sql_str("it's"), "'it''s'");
    }
}
