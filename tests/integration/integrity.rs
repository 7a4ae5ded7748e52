//! Issue 9: a run never reports success over missing, truncated or mislabelled data.

use serde_json::Value;
use wrapup_audit::simulator::SimConfig;

use crate::support::*;

fn manifest(out: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

fn dates(out: &std::path::Path) -> Vec<String> {
    let mut d: Vec<String> = std::fs::read_dir(out.join("csv/conversations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("date="))
        .collect();
    d.sort();
    d
}

/// A panic in the fetching task used to close its channel like the end of the data: exit 0, days missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dying_fetching_task_fails_the_run_and_names_the_day() {
    let sim = sim(5, 40).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let mut env = env_for(&sim);
    // The fetching task panics as it starts its second day.
    env.push((
        wrapup_audit::failpoint::VAR.into(),
        "fetch-day@2:panic".into(),
    ));
    let o = run_bin(
        &[
            "run",
            "--from",
            "2026-11-17",
            "--to",
            "2026-11-20",
            "--as-of",
            &as_of().to_rfc3339(),
            "--requests-per-minute",
            "0",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &env,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("date=2026-11-18") && err.contains("panicked"),
        "{err}"
    );
    let m = manifest(&out);
    assert_eq!(m["exit_code"].as_u64(), Some(4), "{m}");
    assert!(
        m["error"].as_str().unwrap().contains("date=2026-11-18"),
        "{m}"
    );
    // The day before it is kept; it and every later day are absent, never empty.
    assert_eq!(dates(&out), vec!["date=2026-11-17"]);
    sim.shutdown().await;
}

/// Settings that once panicked inside the run (or made it skip data) are usage errors.
#[test]
fn out_of_range_numbers_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("query_result_cap = 50\n", "query_result_cap"),
        ("settle_minutes = 9223372036854775807\n", "settle_minutes"),
        (
            "request_timeout_secs = 9223372036854775807\n",
            "request_timeout_secs",
        ),
        ("jobs_poll_ms = 9223372036854775807\n", "jobs_poll_ms"),
        ("max_retries = 4294967295\n", "max_retries"),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let job = tmp.path().join(format!("j{i}.toml"));
        std::fs::write(
            &job,
            format!("{text}[simulator]\nconversations_per_day = 5\n"),
        )
        .unwrap();
        let out = tmp.path().join(format!("o{i}"));
        let o = run_bin(
            &[
                "run",
                "--job",
                job.to_str().unwrap(),
                "--from",
                "2026-11-19",
                "--to",
                "2026-11-20",
                "--output-dir",
                out.to_str().unwrap(),
            ],
            &[],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(&format!("{key} must be")), "{text}: {err}");
        assert!(!out.exists(), "{text}: nothing written");
    }
    // Dates where day arithmetic would leave chrono's range.
    let out = tmp.path().join("far");
    let o = run_bin(
        &[
            "run",
            "--simulator",
            "--from",
            "+262142-12-30",
            "--to",
            "+262142-12-31",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// An absurd `expires_in` from the token endpoint is clamped, not added to the clock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_token_lifetime_is_clamped() {
    let sim = sim_with(SimConfig {
        seed: 5,
        conversations_per_day: 20,
        now: as_of(),
        rate_limit_per_minute: 1_000_000,
        // Advertised in `expires_in`; the simulator itself keeps tokens for an hour.
        token_ttl_secs: u64::MAX,
        faults: wrapup_audit::simulator::FaultProfile {
            token_ttl_override_secs: Some(3600),
            ..Default::default()
        },
        ..SimConfig::default()
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let cmd = run_cmd("2026-11-19", "2026-11-20", &out);
    let result = run_in_process(&cmd, &sim).await.expect("run succeeds");
    assert_eq!(result.status.code(), 0);
    sim.shutdown().await;
}

fn short_pages_sim(rate: f64, persist: bool) -> SimConfig {
    SimConfig {
        seed: 23,
        conversations_per_day: 1500,
        now: as_of(),
        rate_limit_per_minute: 1_000_000,
        faults: wrapup_audit::simulator::FaultProfile {
            seed: 3,
            short_pages_rate: rate,
            short_pages_persist: persist,
            ..Default::default()
        },
        ..SimConfig::default()
    }
}

fn day_cmd(out: &std::path::Path) -> wrapup_audit::config::RunArgs {
    let mut cmd = run_cmd("2026-11-19", "2026-11-20", out);
    cmd.lookup = Some("off".into());
    cmd
}

/// Pages served half-full the first time they are asked for: once lost 251 of 1 500 rows with exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_pages_are_asked_again_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let clean_sim = sim_with(short_pages_sim(0.0, false)).await;
    let clean = tmp.path().join("clean");
    run_in_process(&day_cmd(&clean), &clean_sim).await.unwrap();
    clean_sim.shutdown().await;

    let sim = sim_with(short_pages_sim(0.3, false)).await;
    let out = tmp.path().join("short");
    let result = run_in_process(&day_cmd(&out), &sim).await.unwrap();
    let shortened = sim
        .request_log()
        .iter()
        .filter(|r| r.fault == Some("short_page"))
        .count();
    assert!(shortened >= 3, "the fault must fire: {shortened}");
    let (a, b) = (
        read_all(&clean, "conversations"),
        read_all(&out, "conversations"),
    );
    assert!(a.len() >= 1500);
    assert_eq!(b.len(), a.len(), "rows lost to short pages");
    assert!(a == b, "the reports differ from the fault-free run");
    assert_eq!(result.status.code(), 0);
    sim.shutdown().await;
}

/// A shortfall that persists is written, marked not final with its reason, exits 1, and lookback heals it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persistent_shortfall_exits_1_and_lookback_redoes_the_day() {
    let tmp = tempfile::tempdir().unwrap();
    let sim = sim_with(short_pages_sim(0.3, true)).await;
    let out = tmp.path().join("o");
    let result = run_in_process(&day_cmd(&out), &sim).await.unwrap();
    assert_eq!(result.status.code(), 1);
    let m = manifest(&out);
    assert_eq!(m["status"], "incomplete", "{}", m["status"]);
    let p = &m["partitions"][0];
    assert_eq!(p["is_final"], false);
    assert!(
        p["incomplete"].as_str().unwrap().contains("totalHits"),
        "{}",
        p["incomplete"]
    );
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(index["2026-11-19"]["is_final"], false);
    let short = read_all(&out, "conversations").len();

    // The next night, with the API whole again: lookback redoes the day.
    sim.set_faults(Default::default());
    let mut cmd = run_cmd("2026-11-20", "2026-11-21", &out);
    cmd.lookup = Some("off".into());
    cmd.lookback_days = Some(2);
    let result = run_in_process(&cmd, &sim).await.unwrap();
    assert_eq!(result.status.code(), 0);
    let healed = read_all(&out, "conversations")
        .iter()
        .filter(|r| r["date"] == "2026-11-19")
        .count();
    assert!(
        healed > short,
        "{healed} rows after healing, {short} before"
    );
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(index["2026-11-19"]["is_final"], true);
    sim.shutdown().await;
}

/// A day that is not wholly before `as_of - settle_minutes` is never final, even with no rows at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_reaching_past_the_settled_clock_are_not_final() {
    let sim = sim(31, 30).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    // as_of is 2026-11-21T00:20Z: with 30 settle minutes, 2026-11-20 ends after 2026-11-20T23:50Z.
    let mut cmd = run_cmd("2026-11-19", "2026-11-23", &out);
    cmd.settle_minutes = Some(30);
    let result = run_in_process(&cmd, &sim).await.unwrap();
    assert_eq!(result.status.code(), 0);
    let m = manifest(&out);
    let finals: Vec<(String, bool)> = m["partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["date"].as_str().unwrap().to_string(),
                p["is_final"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        finals,
        [
            ("2026-11-19".to_string(), true),
            ("2026-11-20".to_string(), false),
            ("2026-11-21".to_string(), false),
            ("2026-11-22".to_string(), false),
        ]
    );
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(index["2026-11-22"]["is_final"], false);
    sim.shutdown().await;
}

/// A window wholly after the run's clock is a usage error, not a set of empty "final" days.
#[test]
fn a_window_wholly_in_the_future_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let o = run_bin(
        &[
            "run",
            "--simulator",
            "--from",
            "2030-01-01",
            "--to",
            "2030-01-03",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &[],
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("after the run's clock"), "{err}");
    assert!(!out.exists(), "nothing written");
}

/// A corrupted `partitions.json` (and manifest) once read as empty: lookback forgot unfinished days and
/// the index was rewritten with the new day only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_index_is_rebuilt_from_the_partition_folders() {
    let sim = sim(34, 60).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let cmd = run_cmd("2026-11-19", &as_of().to_rfc3339(), &out);
    run_in_process(&cmd, &sim).await.expect("first night");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(index["2026-11-19"]["is_final"], true, "{index}");
    assert_eq!(index["2026-11-20"]["is_final"], false, "{index}");
    std::fs::write(out.join("partitions.json"), "{\"2026-11-19\": {\"is_fin").unwrap();
    std::fs::write(out.join("manifest.json"), "\u{0}\u{0}garbage").unwrap();

    let later = as_of() + chrono::Duration::days(1);
    sim.set_now(later);
    let later = later.to_rfc3339();
    let o = run_bin(
        &[
            "run",
            "--from",
            "2026-11-21",
            "--to",
            "2026-11-22",
            "--as-of",
            &later,
            "--lookback-days",
            "3",
            "--requests-per-minute",
            "0",
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &env_for(&sim),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("partitions.json is unreadable") && err.contains("rebuilding it"),
        "{err}"
    );
    assert!(err.contains("manifest.json is unreadable"), "{err}");
    let m = manifest(&out);
    assert_eq!(m["healed_days"], serde_json::json!(["2026-11-20"]), "{m}");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("partitions.json")).unwrap())
            .unwrap();
    let dates: Vec<&String> = index.as_object().unwrap().keys().collect();
    assert_eq!(dates, ["2026-11-19", "2026-11-20", "2026-11-21"], "{index}");
    assert_eq!(index["2026-11-19"]["is_final"], true, "{index}");
    assert_eq!(index["2026-11-20"]["is_final"], true, "{index}");
    sim.shutdown().await;
}

/// A kill between the two renames of a partition swap once lost the day: the next run deleted the
/// `.trash-*` folder holding its only complete copy while `partitions.json` still said final.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_killed_between_its_renames_is_restored_by_the_next_run() {
    let sim = sim(8, 40).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    run_in_process(&run_cmd("2026-11-19", "2026-11-20", &out), &sim)
        .await
        .unwrap();
    let snapshot = |out: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut v = Vec::new();
        for root in [
            "csv/conversations",
            "csv/legs",
            "parquet/conversations",
            "parquet/legs",
        ] {
            let day = out.join(root).join("date=2026-11-19");
            for e in std::fs::read_dir(&day).unwrap_or_else(|e| panic!("{}: {e}", day.display())) {
                let e = e.unwrap();
                v.push((
                    format!("{root}/{}", e.file_name().to_string_lossy()),
                    std::fs::read(e.path()).unwrap(),
                ));
            }
        }
        v.sort();
        v
    };
    let before = snapshot(&out);
    // What a rerun of that day leaves when killed between the two renames of its first root's swap.
    let run = "20261121T010000Z-deadbeef";
    std::fs::rename(
        out.join("csv/conversations/date=2026-11-19"),
        out.join(format!(".trash-{run}-csv-conversations-2026-11-19")),
    )
    .unwrap();
    let staged = out.join(format!(".staging-{run}/date=2026-11-19/csv/conversations"));
    std::fs::create_dir_all(&staged).unwrap();
    std::fs::write(staged.join("conversations.csv"), "half").unwrap();

    run_in_process(&run_cmd("2026-11-20", "2026-11-21", &out), &sim)
        .await
        .unwrap();
    assert!(snapshot(&out) == before, "the restored day differs");
    let leftovers: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".trash-") || n.starts_with(".staging-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("partitions.json")).unwrap())
            .unwrap();
    assert_eq!(index["2026-11-19"]["is_final"], true);
    sim.shutdown().await;
}

/// `totalHits` of one day's details query, asked directly.
async fn total_hits(sim: &wrapup_audit::simulator::SimHandle, day: &str) -> u64 {
    wrapup_audit::api::install_tls_provider();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/oauth/token", sim.base_url()))
        .basic_auth(sim.client_id(), Some(sim.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap() + chrono::Days::new(1);
    let body = serde_json::json!({
        "interval": format!("{day}T00:00:00.000Z/{next}T00:00:00.000Z"),
        "order": "asc", "orderBy": "conversationStart",
        "paging": {"pageSize": 1, "pageNumber": 1}
    });
    let page: Value = http
        .post(format!(
            "{}/api/v2/analytics/conversations/details/query",
            sim.base_url()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["totalHits"].as_u64().unwrap()
}

/// A full last page that a consistent `totalHits` says is the last is not followed by another (issue 14).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_last_page_is_the_last_when_total_hits_says_so() {
    let sim = sim_with(short_pages_sim(0.0, false)).await;
    let total = total_hits(&sim, "2026-11-19").await;
    // A page size that divides the day's conversations, so the last page comes back full.
    let ps = (10..=100)
        .rev()
        .find(|p| total % p == 0)
        .expect("a divisor");
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job.toml");
    std::fs::write(&job, format!("page_size = {ps}\n")).unwrap();
    let out = tmp.path().join("o");
    let mut cmd = day_cmd(&out);
    cmd.job = Some(job);
    let run = run_in_process(&cmd, &sim).await.unwrap();
    assert_eq!(run.status.code(), 0);
    let o = run.outcome.unwrap();
    assert_eq!(o.conversations, total);
    assert_eq!(
        o.api.requests_by_endpoint["details_query"],
        total / ps,
        "{total} conversations in pages of {ps}"
    );
    sim.shutdown().await;
}
