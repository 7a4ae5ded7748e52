//! Contract §2 step 4 (revised): a null by design never outranks a code, and reasons state only what the
//! record shows.

use std::collections::{BTreeMap, HashMap};

use crate::support::*;

type Row = BTreeMap<String, String>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_with_a_null_by_design_leg_are_coded_with_the_coded_legs_code() {
    let sim = sim(11, 400).await;
    let out = tempfile::tempdir().unwrap();
    let cmd = run_cmd("2026-11-19", "2026-11-20", out.path());
    let result = run_in_process(&cmd, &sim).await.expect("run succeeds");
    assert_eq!(result.status.code(), 0);

    let truth = sim.ground_truth(
        "2026-11-19T00:00:00Z".parse().unwrap(),
        "2026-11-20T00:00:00Z".parse().unwrap(),
        15,
        as_of(),
    );
    let rows = read_all(out.path(), "conversations");
    let legs = read_all(out.path(), "legs");
    let by_id: HashMap<&str, &Row> = rows
        .iter()
        .map(|r| (r["conversation_id"].as_str(), r))
        .collect();
    let mut legs_of: HashMap<&str, Vec<&Row>> = HashMap::new();
    for l in &legs {
        legs_of
            .entry(l["conversation_id"].as_str())
            .or_default()
            .push(l);
    }

    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &truth {
        let shape = match t.scenario {
            "transfer_coded_then_no_wrapup_phase" => ("agent", "no_wrapup_phase"),
            "transfer_coded_then_skipped" => ("agent", "skipped"),
            "transfer_coded_to_user" => ("user", "no_wrapup_phase"),
            _ => continue,
        };
        *seen.entry(t.scenario).or_default() += 1;
        let id = t.conversation_id.as_str();
        let row = by_id[id];
        let l = &legs_of[id];
        assert_eq!(l.len(), 2, "{id} ({})", t.scenario);
        assert_eq!(l[0]["label"], "coded", "{id}");
        assert_eq!((l[1]["purpose"].as_str(), l[1]["label"].as_str()), shape);
        assert_eq!(
            row["classification"], "coded",
            "{id} ({}): {row:?}",
            t.scenario
        );
        assert_eq!(
            row["wrapup_code_id"], l[0]["analytics_wrapup_code"],
            "{id}: the row carries A's code"
        );
        assert_eq!(
            row["reason"],
            format!(
                "Agent {} recorded wrap-up code {}.",
                l[0]["agent_name"], l[0]["wrapup_code_name"]
            )
        );
        if shape.0 == "user" {
            assert_eq!(l[1]["queue_id"], "", "a direct leg has no queue: {id}");
        }
    }
    for s in [
        "transfer_coded_then_no_wrapup_phase",
        "transfer_coded_then_skipped",
        "transfer_coded_to_user",
    ] {
        assert!(
            seen.contains_key(s),
            "scenario {s} never occurred: {seen:?}"
        );
    }

    // A reason names a queue only when its deciding leg has one.
    let mut queueless = 0;
    for row in &rows {
        let l = &legs_of.get(row["conversation_id"].as_str());
        let Some(l) = l else { continue };
        if l.iter().all(|leg| leg["queue_id"].is_empty()) {
            queueless += 1;
            assert!(
                !["on queue", "on a queue", "the queue"]
                    .iter()
                    .any(|q| row["reason"].contains(q)),
                "names a queue its legs do not have: {row:?}"
            );
        }
    }
    assert!(
        queueless > 0,
        "no conversation without a queue in the sample"
    );
}
