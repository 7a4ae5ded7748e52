//! The job end to end against the simulator: every label equals the scenario's ground truth.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::support::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_day_run_matches_ground_truth() {
    let sim = sim(7, 150).await;
    let out = tempfile::tempdir().unwrap();
    // The window runs up to the run's clock, so live and just-ended conversations are in it.
    let cmd = run_cmd("2026-11-18", &as_of().to_rfc3339(), out.path());
    let result = run_in_process(&cmd, &sim).await.expect("run succeeds");
    assert_eq!(result.status.code(), 0);

    let truth = sim.ground_truth(utc("2026-11-18T00:00:00Z"), as_of(), 15, as_of());
    assert!(truth.len() > 400, "a real sample: {}", truth.len());
    let rows = read_all(out.path(), "conversations");

    // No conversation missing or duplicated.
    let ids: Vec<&str> = rows.iter().map(|r| r["conversation_id"].as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicated rows");
    let truth_ids: HashSet<&str> = truth.iter().map(|t| t.conversation_id.as_str()).collect();
    assert_eq!(
        unique, truth_ids,
        "reported and generated conversations differ"
    );

    // Every label equals the ground truth; every label of the contract but the lookup-off ones occurs.
    let by_id: HashMap<&str, &std::collections::BTreeMap<String, String>> = rows
        .iter()
        .map(|r| (r["conversation_id"].as_str(), r))
        .collect();
    let mut wrong = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for t in &truth {
        let row = by_id[t.conversation_id.as_str()];
        *seen.entry(row["classification"].clone()).or_default() += 1;
        if row["classification"] != t.label.as_str() {
            wrong.push(format!(
                "{} ({}): got {}, want {}",
                t.conversation_id,
                t.scenario,
                row["classification"],
                t.label.as_str()
            ));
        }
        // Each row sits in the partition of its start day (UTC job).
        assert_eq!(row["date"], t.conversation_start.date_naive().to_string());
    }
    assert!(
        wrong.is_empty(),
        "{} of {} labels differ:\n{}",
        wrong.len(),
        truth.len(),
        wrong.join("\n")
    );
    for label in [
        "coded",
        "system",
        "timeout",
        "recovered",
        "skipped",
        "not_required",
        "no_wrapup_phase",
        "not_connected",
        "missing",
        "lookup_failed",
        "no_agent",
        "in_progress",
        "too_recent",
    ] {
        assert!(
            seen.contains_key(label),
            "label {label} never occurred: {seen:?}"
        );
    }

    // Leg labels equal the scenario's legs, for every conversation whose legs are final.
    let legs = read_all(out.path(), "legs");
    let leg_label: HashMap<(&str, &str), &str> = legs
        .iter()
        .map(|l| {
            (
                (l["conversation_id"].as_str(), l["participant_id"].as_str()),
                l["label"].as_str(),
            )
        })
        .collect();
    let mut leg_count = 0;
    for t in truth
        .iter()
        .filter(|t| !matches!(t.label.as_str(), "too_recent" | "in_progress"))
    {
        for leg in &t.legs {
            leg_count += 1;
            let got = leg_label.get(&(t.conversation_id.as_str(), leg.participant_id.as_str()));
            assert_eq!(
                got.copied(),
                Some(leg.label.as_str()),
                "leg {} of {} ({})",
                leg.participant_id,
                t.conversation_id,
                t.scenario
            );
        }
    }
    assert!(leg_count > 400);

    // Names: every agent and queue name is the simulator's name for the reported id.
    let agents: HashMap<String, String> = sim
        .agents()
        .iter()
        .map(|a| (a.id.to_string(), a.name.to_string()))
        .collect();
    let queues: HashMap<String, String> = sim
        .queues()
        .iter()
        .map(|q| (q.id.to_string(), q.name.to_string()))
        .collect();
    let check_name = |names: &HashMap<String, String>, id: &str, name: &str, what: &str| {
        if id.is_empty() {
            assert_eq!(name, "", "{what} name without an id");
        } else {
            assert_eq!(Some(name), names.get(id).map(String::as_str), "{what} {id}");
        }
    };
    let mut named = 0;
    for l in &legs {
        check_name(&agents, &l["user_id"], &l["agent_name"], "agent");
        check_name(&queues, &l["queue_id"], &l["queue_name"], "queue");
        named += usize::from(!l["agent_name"].is_empty());
    }
    for r in &rows {
        check_name(&queues, &r["queue_id"], &r["queue_name"], "queue");
        // A code is never left without a name.
        assert_eq!(
            r["wrapup_code_id"].is_empty(),
            r["wrapup_code_name"].is_empty()
        );
    }
    assert!(named > 400, "agent names: {named}");

    // Lookups: exactly one per conversation that needed one, and none for any other.
    let looked_up: Vec<String> = sim
        .request_log()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v2/conversations/"))
        .map(|r| {
            r.path
                .trim_start_matches("/api/v2/conversations/")
                .to_string()
        })
        .collect();
    let looked_up_set: HashSet<&str> = looked_up.iter().map(String::as_str).collect();
    assert_eq!(
        looked_up_set.len(),
        looked_up.len(),
        "a conversation was looked up twice"
    );
    let needed: HashSet<&str> = truth
        .iter()
        .filter(|t| t.needs_lookup)
        .map(|t| t.conversation_id.as_str())
        .collect();
    assert_eq!(looked_up_set, needed);

    // The manifest and summary agree with the files.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["status"], "success");
    let parts = manifest["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 4);
    let manifest_rows: u64 = parts
        .iter()
        .map(|p| p["conversations"].as_u64().unwrap())
        .sum();
    assert_eq!(manifest_rows as usize, rows.len());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(
        summary["lookups"]["made"].as_u64().unwrap() as usize,
        needed.len()
    );
    // Every queue and user resolves; codes may not (deleted or other-division codes).
    let unresolved_codes = legs
        .iter()
        .filter(|l| l["wrapup_code_name"].starts_with("(unresolved) "))
        .count()
        + rows
            .iter()
            .filter(|r| r["wrapup_code_name"].starts_with("(unresolved) "))
            .count();
    assert_eq!(
        summary["unresolved"],
        serde_json::json!({"codes": unresolved_codes, "queues": 0, "users": 0})
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parquet_reads_back_with_the_stated_types() {
    use arrow::datatypes::{DataType, TimeUnit};
    let sim = sim(3, 60).await;
    let out = tempfile::tempdir().unwrap();
    let cmd = run_cmd("2026-11-20", "2026-11-21", out.path());
    run_in_process(&cmd, &sim).await.expect("run succeeds");
    let csv_rows = read_csv(&part_file(out.path(), "csv", "conversations", "2026-11-20"));
    let file = std::fs::File::open(part_file(
        out.path(),
        "parquet",
        "conversations",
        "2026-11-20",
    ))
    .unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = reader.schema().clone();
    let ts = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let expect = [
        ("conversation_id", DataType::Utf8, false),
        ("conversation_start", ts.clone(), false),
        ("conversation_end", ts, true),
        ("agent_legs", DataType::Int32, false),
        ("classification", DataType::Utf8, false),
        ("acw_ms", DataType::Int64, false),
        ("handle_ms", DataType::Int64, false),
        ("wrapup_code_id", DataType::Utf8, true),
    ];
    for (name, ty, nullable) in expect {
        let f = schema.field_with_name(name).unwrap();
        assert_eq!(
            (f.data_type(), f.is_nullable()),
            (&ty, nullable),
            "column {name}"
        );
    }
    let batches: Vec<_> = reader.build().unwrap().collect::<Result<_, _>>().unwrap();
    let n: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(n, csv_rows.len());
    let ids = batches[0].column_by_name("conversation_id").unwrap();
    let ids = ids
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .unwrap();
    assert_eq!(ids.value(0), csv_rows[0]["conversation_id"]);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_off_and_budget_leave_legs_unexplained() {
    let sim = sim(11, 100).await;
    let out = tempfile::tempdir().unwrap();
    let mut cmd = run_cmd("2026-11-19", "2026-11-20", out.path());
    cmd.lookup_budget = Some(3);
    run_in_process(&cmd, &sim).await.expect("run succeeds");
    let rows = read_all(out.path(), "conversations");
    let truth = sim.ground_truth(
        utc("2026-11-19T00:00:00Z"),
        utc("2026-11-20T00:00:00Z"),
        15,
        as_of(),
    );
    let needed = truth.iter().filter(|t| t.needs_lookup).count();
    assert!(
        needed > 3,
        "the scenario mix must need more lookups than the budget: {needed}"
    );
    let done = rows
        .iter()
        .filter(|r| r["lookup"] == "done" || r["lookup"] == "failed")
        .count();
    let over = rows.iter().filter(|r| r["lookup"] == "over_budget").count();
    assert_eq!((done, over), (3, needed - 3));
    assert!(rows
        .iter()
        .filter(|r| r["lookup"] == "over_budget")
        .all(|r| r["classification"] == "unexplained"));

    // With lookups off, every needs-lookup conversation is unexplained: the scenario's own answer.
    let sim2 = sim_again(11).await;
    let out2 = tempfile::tempdir().unwrap();
    let mut cmd = run_cmd("2026-11-19", "2026-11-20", out2.path());
    cmd.lookup = Some("off".into());
    run_in_process(&cmd, &sim2).await.expect("run succeeds");
    let rows = read_all(out2.path(), "conversations");
    let by_id: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r["conversation_id"].as_str(), r["classification"].as_str()))
        .collect();
    for t in &truth {
        assert_eq!(
            by_id[t.conversation_id.as_str()],
            t.label_without_lookup.as_str(),
            "{} ({})",
            t.conversation_id,
            t.scenario
        );
    }
    assert!(!sim2
        .request_log()
        .iter()
        .any(|r| r.path.starts_with("/api/v2/conversations/")));
    sim.shutdown().await;
    sim2.shutdown().await;
}

async fn sim_again(seed: u64) -> wrapup_audit::simulator::SimHandle {
    sim(seed, 100).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rerun_replaces_partitions_without_duplicates() {
    let sim = sim(5, 80).await;
    let out = tempfile::tempdir().unwrap();
    let cmd = run_cmd("2026-11-19", "2026-11-21", out.path());
    run_in_process(&cmd, &sim).await.expect("first run");
    let first = read_all(out.path(), "conversations");
    run_in_process(&cmd, &sim).await.expect("second run");
    let second = read_all(out.path(), "conversations");
    assert_eq!(first.len(), second.len());
    let strip = |rows: Vec<BTreeMap<String, String>>| -> Vec<(String, String)> {
        rows.into_iter()
            .map(|r| (r["conversation_id"].clone(), r["classification"].clone()))
            .collect()
    };
    assert_eq!(strip(first), strip(second));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_above_the_result_cap_is_split_and_complete() {
    use wrapup_audit::simulator::SimConfig;
    // A cap of 300 results against 800 conversations a day forces the day to be halved (twice).
    let sim = sim_with(SimConfig {
        seed: 8,
        conversations_per_day: 800,
        now: as_of(),
        result_cap: 300,
        ..SimConfig::default()
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job.toml");
    std::fs::write(&job, "query_result_cap = 300\n").unwrap();
    let out = tmp.path().join("o");
    let mut cmd = run_cmd("2026-11-19", "2026-11-20", &out);
    cmd.job = Some(job);
    run_in_process(&cmd, &sim).await.expect("run succeeds");
    let rows = read_all(&out, "conversations");
    let truth = sim.ground_truth(
        utc("2026-11-19T00:00:00Z"),
        utc("2026-11-20T00:00:00Z"),
        15,
        as_of(),
    );
    let ids: HashSet<&str> = rows.iter().map(|r| r["conversation_id"].as_str()).collect();
    assert_eq!(ids.len(), rows.len(), "duplicates");
    assert_eq!(
        ids,
        truth
            .iter()
            .map(|t| t.conversation_id.as_str())
            .collect::<HashSet<_>>()
    );
    // Never asked for a page past the cap, so no 400 was needed to find out.
    assert!(sim.request_log().iter().all(|r| r.status != 400));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_catalog_permissions_fail_with_their_names() {
    for permission in ["routing:queue:view", "directory:user:view"] {
        let sim = sim_with(wrapup_audit::simulator::SimConfig {
            now: as_of(),
            conversations_per_day: 20,
            denied_permissions: vec![permission.into()],
            ..Default::default()
        })
        .await;
        let out = tempfile::tempdir().unwrap();
        let cmd = run_cmd("2026-11-20", "2026-11-21", out.path());
        let err = run_in_process(&cmd, &sim).await.expect_err("run fails");
        assert_eq!(err.status.code(), 3, "{}", err.message);
        assert!(err.message.contains(permission), "{}", err.message);
        // Refused before the audit: no partition was written.
        assert!(!out.path().join("csv").exists() && !out.path().join("parquet").exists());
        sim.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_overlapping_across_chunks_give_the_same_bytes_and_spend_the_budget_in_order() {
    // 5 000 conversations: three chunks, the writer's bound (about two chunks waiting) reached.
    // Lookups answered out of order (16 in flight) must give the bytes of one at a time, and the
    // budget goes to the first conversations that need one, in row order.
    let sim = sim(21, 5000).await;
    let tmp = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for concurrency in [1, 16] {
        let out = tmp.path().join(format!("c{concurrency}"));
        let mut cmd = run_cmd("2026-11-20", "2026-11-21", &out);
        cmd.concurrency = Some(concurrency);
        cmd.lookup_budget = Some(700);
        let before = sim.request_log().len();
        let r = run_in_process(&cmd, &sim).await.expect("run succeeds");
        let o = r.outcome.unwrap();
        let asked = sim.request_log()[before..]
            .iter()
            .filter(|r| r.path.starts_with("/api/v2/conversations/"))
            .count();
        assert_eq!(asked, 700, "the budget, exactly");
        assert_eq!(o.totals.lookups.made, 700);
        outs.push(out);
    }
    assert_same_partitions(&outs[0], &outs[1]);
    let rows = read_all(&outs[1], "conversations");
    assert!(rows.len() > 4000, "{} rows", rows.len());
    let last_looked = rows
        .iter()
        .rposition(|r| r["lookup"] == "done" || r["lookup"] == "failed")
        .unwrap();
    let first_over = rows
        .iter()
        .position(|r| r["lookup"] == "over_budget")
        .expect("the budget runs out");
    assert!(last_looked < first_over, "{last_looked} >= {first_over}");
    sim.shutdown().await;
}
