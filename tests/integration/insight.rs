//! Issue 13 end to end: queue ACW settings, expected-vs-actual flags, reportable codes and compliance
//! numbers equal what the simulator's scenarios built (never what the classifier says).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use wrapup_audit::simulator::SimHandle;

use crate::support::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Expected compliance counts of one group, from the scenarios' truth alone.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Expected {
    legs: u64,
    owed: u64,
    with_code: u64,
    timeout: u64,
    missing: u64,
    unknown: u64,
    acw_ms: i64,
    timeout_acw_ms: i64,
    config_mismatches: u64,
}

impl Expected {
    fn from_json(v: &serde_json::Value) -> Expected {
        let u = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
        let i = |k: &str| v[k].as_i64().unwrap();
        Expected {
            legs: u("legs"),
            owed: u("owed"),
            with_code: u("with_code"),
            timeout: u("timeout"),
            missing: u("missing"),
            unknown: u("unknown"),
            acw_ms: i("acw_ms"),
            timeout_acw_ms: i("timeout_acw_ms"),
            config_mismatches: u("config_mismatches"),
        }
    }

    fn add(&mut self, o: &Expected) {
        self.legs += o.legs;
        self.owed += o.owed;
        self.with_code += o.with_code;
        self.timeout += o.timeout;
        self.missing += o.missing;
        self.unknown += o.unknown;
        self.acw_ms += o.acw_ms;
        self.timeout_acw_ms += o.timeout_acw_ms;
        self.config_mismatches += o.config_mismatches;
    }
}

struct Truth {
    by_agent: BTreeMap<String, Expected>,
    by_queue: BTreeMap<String, Expected>,
    total: Expected,
}

/// The compliance numbers the scenarios imply, by the definition in docs/columns.md: every leg
/// counts toward `legs` and ACW; a leg owes a code unless its label is a null by design or its
/// conversation is not final; of those, coded, recovered and system legs have a code.
fn expected(sim: &SimHandle, from: &str) -> Truth {
    let truth = sim.ground_truth(utc(from), as_of(), 15, as_of());
    let mut t = Truth {
        by_agent: BTreeMap::new(),
        by_queue: BTreeMap::new(),
        total: Expected::default(),
    };
    for c in &truth {
        let settled = !matches!(c.label.as_str(), "in_progress" | "too_recent");
        for leg in &c.legs {
            let label = leg.label.as_str();
            let mut e = Expected {
                legs: 1,
                acw_ms: leg.acw_ms,
                config_mismatches: u64::from(leg.mismatch.is_some()),
                ..Expected::default()
            };
            if label == "timeout" {
                e.timeout_acw_ms = leg.acw_ms;
            }
            let owed = settled
                && matches!(
                    label,
                    "coded"
                        | "recovered"
                        | "system"
                        | "timeout"
                        | "missing"
                        | "unexplained"
                        | "lookup_failed"
                );
            if owed {
                e.owed = 1;
                match label {
                    "timeout" => e.timeout = 1,
                    "missing" => e.missing = 1,
                    "unexplained" | "lookup_failed" => e.unknown = 1,
                    _ => e.with_code = 1,
                }
            }
            let agent = if leg.user_id.is_empty() {
                "(none)".to_string()
            } else {
                leg.user_id.clone()
            };
            let queue = leg.queue_id.clone().unwrap_or_else(|| "(none)".into());
            t.by_agent.entry(agent).or_default().add(&e);
            t.by_queue.entry(queue).or_default().add(&e);
            t.total.add(&e);
        }
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_per_agent_and_queue_equals_the_scenarios() {
    let sim = sim(13, 250).await;
    let out = tempfile::tempdir().unwrap();
    let cmd = run_cmd("2026-11-18", &as_of().to_rfc3339(), out.path());
    let result = run_in_process(&cmd, &sim).await.expect("run succeeds");
    assert_eq!(result.status.code(), 0);
    let want = expected(&sim, "2026-11-18T00:00:00Z");
    assert!(want.total.owed > 500, "a real sample: {:?}", want.total);
    assert!(want.total.timeout > 0 && want.total.missing > 0 && want.total.unknown > 0);
    assert!(want.total.config_mismatches > 0);

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    let comp = &summary["compliance"];
    assert_eq!(Expected::from_json(&comp["total"]), want.total);
    let got = |key: &str| -> BTreeMap<String, Expected> {
        comp[key]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), Expected::from_json(v)))
            .collect()
    };
    assert_eq!(got("by_agent"), want.by_agent);
    assert_eq!(got("by_queue"), want.by_queue);

    // The compliance table (one row per day, agent, queue and media) sums to the same numbers.
    let table = read_all(out.path(), "compliance");
    let mut by_agent: BTreeMap<String, Expected> = BTreeMap::new();
    let mut by_queue: BTreeMap<String, Expected> = BTreeMap::new();
    let mut keys = std::collections::HashSet::new();
    for r in &table {
        let n = |k: &str| r[k].parse::<u64>().unwrap_or_else(|_| panic!("{k}: {r:?}"));
        let e = Expected {
            legs: n("legs"),
            owed: n("owed"),
            with_code: n("with_code"),
            timeout: n("timeout"),
            missing: n("missing"),
            unknown: n("unknown"),
            acw_ms: n("acw_ms") as i64,
            timeout_acw_ms: n("timeout_acw_ms") as i64,
            config_mismatches: n("config_mismatches"),
        };
        assert_eq!(n("gaps"), e.timeout + e.missing + e.unknown);
        if e.owed > 0 {
            let rate: f64 = r["gap_rate"].parse().unwrap();
            assert!((rate - n("gaps") as f64 / e.owed as f64).abs() < 0.0001);
        } else {
            assert_eq!(r["gap_rate"], "");
        }
        let or_none = |k: &str| {
            if r[k].is_empty() {
                "(none)".to_string()
            } else {
                r[k].clone()
            }
        };
        assert!(
            keys.insert((
                r["date"].clone(),
                r["user_id"].clone(),
                r["queue_id"].clone(),
                r["media_type"].clone()
            )),
            "one row per day, agent, queue and media"
        );
        by_agent.entry(or_none("user_id")).or_default().add(&e);
        by_queue.entry(or_none("queue_id")).or_default().add(&e);
    }
    assert_eq!(by_agent, want.by_agent);
    assert_eq!(by_queue, want.by_queue);
    // The Parquet root holds the same rows.
    let parquet_rows: usize = std::fs::read_dir(out.path().join("parquet/compliance"))
        .unwrap()
        .map(|d| {
            let f = std::fs::File::open(d.unwrap().path().join("compliance.parquet")).unwrap();
            parquet::file::reader::FileReader::metadata(
                &parquet::file::reader::SerializedFileReader::new(f).unwrap(),
            )
            .file_metadata()
            .num_rows() as usize
        })
        .sum();
    assert_eq!(parquet_rows, table.len());

    // Names sit beside the ids; queues carry their configured prompt.
    let agents: HashMap<String, String> = sim
        .agents()
        .iter()
        .map(|a| (a.id.to_string(), a.name.to_string()))
        .collect();
    for (id, v) in comp["by_agent"].as_object().unwrap() {
        assert_eq!(
            v["name"].as_str(),
            agents.get(id).map(String::as_str),
            "{id}"
        );
    }
    for q in sim.queues() {
        let v = &comp["by_queue"][q.id.to_string()];
        if v.is_null() {
            continue;
        }
        assert_eq!(v["name"], q.name.to_string());
        assert_eq!(v["wrapup_prompt"], q.acw_prompt);
    }
    // Ranked by rate, worst first, only agents with enough owed legs.
    let min = comp["min_owed_to_rank"].as_u64().unwrap();
    let ranked: Vec<&str> = comp["agents_by_gap_rate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!ranked.is_empty());
    let rate = |id: &str| {
        let e = want.by_agent[id];
        (e.owed - e.with_code) as f64 / e.owed as f64
    };
    for pair in ranked.windows(2) {
        assert!(rate(pair[0]) >= rate(pair[1]), "{pair:?}");
    }
    for (id, e) in &want.by_agent {
        assert_eq!(
            ranked.contains(&id.as_str()),
            e.owed >= min && id != "(none)",
            "{id}"
        );
    }
    // The summary opens with findings, each with something to copy.
    let findings = summary["findings"].as_array().unwrap();
    assert!((3..=5).contains(&findings.len()), "{findings:?}");
    assert_eq!(findings[0]["kind"], "queue_gaps");
    for f in findings {
        assert!(f["query"].is_string() || !f["conversation_ids"].as_array().unwrap().is_empty());
    }
    // The trend covers every day of the run.
    let trend = summary["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 4);
    let trend_owed: u64 = trend.iter().map(|d| d["owed"].as_u64().unwrap()).sum();
    assert_eq!(trend_owed, want.total.owed);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_settings_mismatch_flags_and_reportable_codes_follow_the_scenarios() {
    let sim = sim(17, 300).await;
    let out = tempfile::tempdir().unwrap();
    let cmd = run_cmd("2026-11-19", &as_of().to_rfc3339(), out.path());
    let result = run_in_process(&cmd, &sim).await.expect("run succeeds");
    assert_eq!(result.status.code(), 0);
    let truth = sim.ground_truth(utc("2026-11-19T00:00:00Z"), as_of(), 15, as_of());
    let queues: HashMap<String, (String, Option<i64>)> = sim
        .queues()
        .iter()
        .map(|q| {
            (
                q.id.to_string(),
                (q.acw_prompt.to_string(), q.acw_timeout_ms),
            )
        })
        .collect();
    // Real codes: in the catalog and not the built-in default.
    let real: Vec<String> = sim
        .code_catalog()
        .iter()
        .map(|c| c.id.to_string())
        .filter(|c| c != wrapup_audit::transform::names::DEFAULT_CODE_ID)
        .collect();
    let legs = read_all(out.path(), "legs");
    let by_leg: HashMap<(&str, &str), &BTreeMap<String, String>> = legs
        .iter()
        .map(|l| {
            (
                (l["conversation_id"].as_str(), l["participant_id"].as_str()),
                l,
            )
        })
        .collect();
    let convs = read_all(out.path(), "conversations");
    let conv_by_id: HashMap<&str, &BTreeMap<String, String>> = convs
        .iter()
        .map(|r| (r["conversation_id"].as_str(), r))
        .collect();
    let mut flagged: BTreeMap<String, usize> = BTreeMap::new();
    let (mut reportable, mut not_reportable) = (0, 0);
    for t in &truth {
        let conv = conv_by_id[t.conversation_id.as_str()];
        let mut first_mismatch = String::new();
        for leg in &t.legs {
            let row = by_leg[&(t.conversation_id.as_str(), leg.participant_id.as_str())];
            let what = format!(
                "{} leg {} ({})",
                t.conversation_id, leg.participant_id, t.scenario
            );
            // The queue's configured settings sit next to the leg.
            let (prompt, timeout) = match leg.queue_id.as_deref().map(|q| &queues[q]) {
                Some((p, t)) => (p.clone(), t.map(|t| t.to_string()).unwrap_or_default()),
                None => (String::new(), String::new()),
            };
            assert_eq!(row["queue_wrapup_prompt"], prompt, "{what}");
            assert_eq!(row["queue_acw_timeout_ms"], timeout, "{what}");
            // Flags only where a drift scenario built one.
            let want = leg.mismatch.map(|m| m.as_str()).unwrap_or("");
            assert_eq!(row["config_mismatch"], want, "{what}");
            if !want.is_empty() {
                *flagged.entry(want.to_string()).or_default() += 1;
                if first_mismatch.is_empty() {
                    first_mismatch = want.to_string();
                }
            }
            // The reportable code: the scenario's code when it is a real, configured one.
            let want_code = leg
                .code
                .clone()
                .filter(|c| real.contains(c))
                .unwrap_or_default();
            assert_eq!(row["reportable_code"], want_code, "{what}");
            if want_code.is_empty() {
                not_reportable += usize::from(leg.code.is_some());
            } else {
                reportable += 1;
            }
        }
        assert_eq!(
            conv["config_mismatch"], first_mismatch,
            "{}",
            t.conversation_id
        );
        let conv_prompt = conv["queue_id"]
            .is_empty()
            .then(String::new)
            .unwrap_or_else(|| queues[&conv["queue_id"]].0.clone());
        assert_eq!(conv["queue_wrapup_prompt"], conv_prompt);
        let conv_code = &conv["wrapup_code_id"];
        let want_code = if real.contains(conv_code) {
            conv_code.as_str()
        } else {
            ""
        };
        assert_eq!(conv["reportable_code"], want_code, "{}", t.conversation_id);
    }
    // Every kind of drift occurred, and codes of both kinds were seen.
    for kind in [
        "not_asked_on_mandatory_queue",
        "required_on_optional_queue",
        "timeout_without_timed_prompt",
    ] {
        assert!(
            flagged.contains_key(kind),
            "{kind} never flagged: {flagged:?}"
        );
    }
    assert!(
        reportable > 100 && not_reportable > 20,
        "{reportable} {not_reportable}"
    );
    // summary.json lists the same flags per kind and queue.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    let mut listed: BTreeMap<String, usize> = BTreeMap::new();
    for g in summary["config_mismatches"].as_array().unwrap() {
        *listed
            .entry(g["mismatch"].as_str().unwrap().to_string())
            .or_default() += g["legs"].as_u64().unwrap() as usize;
        assert!(!g["example_conversation_ids"].as_array().unwrap().is_empty());
    }
    assert_eq!(listed, flagged);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_names_the_source_of_each_code_name_and_the_queue_setting() {
    let sim = sim(17, 300).await;
    let env = env_for(&sim);
    let run = wrapup_audit::config::RunArgs {
        as_of: Some(as_of().to_rfc3339()),
        ..Default::default()
    };
    let cfg = wrapup_audit::commands::connect::load_config(&run, &env, Utc::now()).unwrap();
    let conn = wrapup_audit::commands::connect::connect(&cfg)
        .await
        .unwrap();
    let truth = sim.ground_truth(utc("2026-11-19T00:00:00Z"), as_of(), 15, as_of());
    let queues: HashMap<String, &'static str> = sim
        .queues()
        .iter()
        .map(|q| (q.id.to_string(), q.acw_prompt))
        .collect();
    let default = wrapup_audit::transform::names::DEFAULT_CODE_ID;
    // One single-leg conversation of each kind: (what the leg must show, how to find it).
    type Pick = fn(&wrapup_audit::simulator::TruthLeg) -> bool;
    let cases: [(&str, Pick); 4] = [
        ("(wrap-up code catalog), reportable", |l| {
            l.label.as_str() == "coded"
                && l.code.as_deref() != Some(wrapup_audit::transform::names::DEFAULT_CODE_ID)
        }),
        ("(system literal), not reportable", |l| {
            l.label.as_str() == "timeout"
        }),
        ("(built-in default code), not reportable", |l| {
            l.code.as_deref() == Some(wrapup_audit::transform::names::DEFAULT_CODE_ID)
        }),
        ("expected vs actual: timeout_without_timed_prompt", |l| {
            l.mismatch.map(|m| m.as_str()) == Some("timeout_without_timed_prompt")
        }),
    ];
    for (want, pick) in cases {
        let t = truth
            .iter()
            .find(|t| t.legs.len() == 1 && pick(&t.legs[0]) && t.label.as_str() != "too_recent")
            .unwrap_or_else(|| panic!("no conversation for {want}"));
        let e = wrapup_audit::commands::explain::explain_with(&cfg, &conn, &t.conversation_id)
            .await
            .unwrap();
        let text = wrapup_audit::commands::explain::render_text(&e);
        assert!(text.contains(want), "{want}:\n{text}");
        let leg = &t.legs[0];
        if let Some(q) = &leg.queue_id {
            let line = format!("queue setting:     acwSettings.wrapupPrompt {}", queues[q]);
            assert!(text.contains(&line), "{line}:\n{text}");
        }
        if leg.code.as_deref() == Some(default) {
            assert_eq!(
                e.legs[0].wrapup_code_name_source,
                Some("built-in default code")
            );
            assert_eq!(e.legs[0].reportable_code, None);
        }
    }
    conn.close().await;
    sim.shutdown().await;
}
