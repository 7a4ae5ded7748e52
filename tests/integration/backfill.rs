//! Long windows: the auto mode's jobs path against the ground truth, failures, caps and the lake horizon.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use wrapup_audit::simulator::SimConfig;

use crate::support::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn job_file(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let p = dir.join("job.toml");
    std::fs::write(&p, format!("jobs_poll_ms = 1\n{extra}")).unwrap();
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ninety_day_backfill_in_auto_mode_matches_the_ground_truth() {
    // The first job fails and is resubmitted; a small cursor cap forces jobs to split their interval.
    let sim = sim_with(SimConfig {
        seed: 51,
        conversations_per_day: 12,
        now: as_of(),
        fail_jobs_first: 1,
        job_result_cap: 8,
        // The quota headers would (rightly) pause a run after 300 requests a minute.
        rate_limit_per_minute: 1_000_000,
        ..SimConfig::default()
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let mut cmd = run_cmd("2026-08-23", "2026-11-21", &out);
    cmd.job = Some(job_file(tmp.path(), ""));
    let result = run_in_process(&cmd, &sim).await.expect("backfill succeeds");
    assert_eq!(result.status.code(), 0);

    let truth = sim.ground_truth(
        utc("2026-08-23T00:00:00Z"),
        utc("2026-11-21T00:00:00Z"),
        15,
        as_of(),
    );
    let rows = read_all(&out, "conversations");
    let by_id: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r["conversation_id"].as_str(), r["classification"].as_str()))
        .collect();
    assert_eq!(by_id.len(), rows.len(), "duplicates");
    assert_eq!(
        by_id.keys().copied().collect::<HashSet<_>>(),
        truth.iter().map(|t| t.conversation_id.as_str()).collect()
    );
    let wrong: Vec<String> = truth
        .iter()
        .filter(|t| by_id[t.conversation_id.as_str()] != t.label.as_str())
        .map(|t| {
            format!(
                "{} {}: {} vs {}",
                t.conversation_id,
                t.scenario,
                by_id[t.conversation_id.as_str()],
                t.label.as_str()
            )
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");

    let log = sim.request_log();
    let submits = log
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/details/jobs"))
        .count();
    assert!(
        submits >= 89,
        "historical days go to the jobs API: {submits} jobs"
    );
    assert!(
        log.iter().any(|r| r.method == "DELETE"),
        "capped jobs are deleted before splitting"
    );
    assert!(
        log.iter().any(|r| r.path.ends_with("/details/query")),
        "the last day is after the lake's horizon: query"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["partitions"].as_array().unwrap().len(), 90);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_mode_treats_rows_past_the_lake_horizon_as_too_recent() {
    let sim = sim(52, 150).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let mut cmd = run_cmd("2026-11-20", "2026-11-21", &out);
    cmd.job = Some(job_file(tmp.path(), "mode = \"jobs\"\n"));
    run_in_process(&cmd, &sim).await.expect("run succeeds");
    // The simulator's lake lags its clock by 60 minutes.
    let horizon = as_of() - chrono::Duration::minutes(60);
    let rows = read_all(&out, "conversations");
    let late: Vec<_> = rows
        .iter()
        .filter(|r| !r["conversation_end"].is_empty() && utc(&r["conversation_end"]) > horizon)
        .collect();
    assert!(
        !late.is_empty(),
        "the day must have conversations past the horizon"
    );
    for r in &late {
        assert!(
            matches!(
                r["classification"].as_str(),
                "too_recent" | "coded" | "system" | "timeout"
            ),
            "{} ended after the horizon but is {}",
            r["conversation_id"],
            r["classification"]
        );
    }
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(
        index["2026-11-20"]["is_final"], false,
        "a day past the horizon is redone later"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_leaves_no_job_of_its_own_running() {
    // Jobs take 12 status polls (about 4 s at 1 ms doubling). The first day's job is cancelled by
    // someone else as soon as it exists, which fails the run at once, with the second day's job
    // still running and later days' jobs starting: none of them may be left behind.
    let sim = sim_with(SimConfig {
        seed: 54,
        conversations_per_day: 40,
        now: as_of(),
        job_polls_to_fulfil: 12,
        ..SimConfig::default()
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = run_cmd("2026-11-14", "2026-11-20", &tmp.path().join("o"));
    cmd.job = Some(job_file(tmp.path(), "mode = \"jobs\"\n"));
    let first_day = utc("2026-11-14T00:00:00Z");
    let cancel_first = async {
        loop {
            let states = sim.job_states();
            if let Some((id, _, _)) = states.iter().find(|(_, _, start)| *start == first_day) {
                assert!(sim.cancel_job(id));
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    };
    let (result, ()) = tokio::join!(run_in_process(&cmd, &sim), cancel_first);
    let err = result.expect_err("the first day's job was cancelled");
    assert!(err.to_string().contains("cancelled"), "{err}");
    let states = sim.job_states();
    assert!(states.len() >= 2, "{states:?}");
    let log = sim.request_log();
    let read = |id: &str| {
        log.iter()
            .any(|r| r.method == "GET" && r.path.ends_with(&format!("{id}/results")))
    };
    for (id, state, start) in &states {
        let left = match *state {
            "QUEUED" | "PENDING" => true,
            "FULFILLED" => !read(id),
            _ => false,
        };
        assert!(!left, "the job of {start} left {state}: {states:?}");
    }
    sim.shutdown().await;
}
