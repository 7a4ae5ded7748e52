//! Quota, faults, locks, signals and reruns: the run finishes correctly or fails loudly.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wrapup_audit::simulator::SimConfig;

use crate::support::*;

fn spawn_bin(args: &[&str], env: &[(String, String)]) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wrapup-audit"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Ok(path) = std::env::var("PATH") {
        c.env("PATH", path);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().expect("binary starts")
}

/// Waits (polling the file system, bounded) until `path` exists.
fn wait_for(path: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before {} appeared",
            path.display()
        );
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} failed");
}

/// Every partition file of `out` (under its dataset roots), path → content (Parquet compared by
/// bytes too: the writer is deterministic).
fn partition_files(out: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, m: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, m);
            } else {
                let key = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                m.insert(key, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut m = std::collections::BTreeMap::new();
    for format in ["csv", "parquet"] {
        if out.join(format).is_dir() {
            walk(out, &out.join(format), &mut m);
        }
    }
    m
}

fn run_args<'a>(out: &'a str, as_of: &'a str, rpm: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--from",
        "2026-11-15",
        "--to",
        "2026-11-20",
        "--as-of",
        as_of,
        "--output-dir",
        out,
        "--requests-per-minute",
        rpm,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_run_resumes_to_the_same_files_as_a_clean_run() {
    let sim = sim(21, 60).await;
    let env = env_for(&sim);
    let as_of = as_of().to_rfc3339();
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    let killed = tmp.path().join("killed");
    let (clean_s, killed_s) = (
        clean.to_str().unwrap().to_string(),
        killed.to_str().unwrap().to_string(),
    );

    let env2 = env.clone();
    let a2 = as_of.clone();
    let o = tokio::task::spawn_blocking(move || run_bin(&run_args(&clean_s, &a2, "0"), &env2))
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // The second run is slowed by the limiter so that it can be killed between days.
    // The last root a day is swapped into.
    let marker = killed.join("parquet/legs/date=2026-11-16");
    let env3 = env.clone();
    let a3 = as_of.clone();
    let k2 = killed_s.clone();
    tokio::task::spawn_blocking(move || {
        let mut child = spawn_bin(&run_args(&k2, &a3, "900"), &env3);
        wait_for(&marker, &mut child);
        signal(&child, "-KILL");
        child.wait().unwrap();
    })
    .await
    .unwrap();
    let manifest = std::fs::read_to_string(killed.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"running\""),
        "a killed run leaves a running manifest: {manifest}"
    );

    let env4 = env.clone();
    let o = tokio::task::spawn_blocking(move || run_bin(&run_args(&killed_s, &as_of, "0"), &env4))
        .await
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("Resuming"), "{err}");
    assert!(err.contains("Skipping date=2026-11-15"), "{err}");

    let (a, b) = (partition_files(&clean), partition_files(&killed));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(
            v == &b[k],
            "{k} differs between the clean and the resumed run"
        );
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(killed.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(m["status"], "success");
    assert!(m["resumed_days"].as_u64().unwrap() >= 1);
    assert_eq!(m["partitions"].as_array().unwrap().len(), 5);
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_with_143() {
    let sim = sim(22, 60).await;
    let env = env_for(&sim);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let out_s = out.to_str().unwrap().to_string();
    let as_of = as_of().to_rfc3339();
    let (code, err) = tokio::task::spawn_blocking(move || {
        let mut child = spawn_bin(&run_args(&out_s, &as_of, "900"), &env);
        wait_for(&out.join("parquet/legs/date=2026-11-15"), &mut child);
        signal(&child, "-TERM");
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(143), "{err}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("o/manifest.json")).unwrap())
            .unwrap();
    // The manifest names the real signal.
    assert_eq!(
        (m["status"].as_str(), m["exit_code"].as_u64()),
        (Some("terminated"), Some(143)),
        "{m}"
    );
    let parts = m["partitions"].as_array().unwrap();
    assert!(!parts.is_empty() && parts.len() < 5, "{parts:?}");
    // Nothing half-written is left under a final name or in staging.
    for e in std::fs::read_dir(tmp.path().join("o")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            !name.starts_with(".staging") && !name.contains(".tmp"),
            "{name} left behind"
        );
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_lock_exits_6() {
    let tmp = tempfile::tempdir().unwrap();
    let _held = wrapup_audit::report::OutputLock::acquire(tmp.path()).unwrap();
    let out = tmp.path().to_str().unwrap().to_string();
    let o = tokio::task::spawn_blocking(move || {
        run_bin(&["run", "--simulator", "--output-dir", &out], &[])
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stderr(&o).contains("another run holds the lock"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_never_exceed_the_configured_rate() {
    let sim = sim(23, 300).await;
    let out = tempfile::tempdir().unwrap();
    let mut cmd = run_cmd("2026-11-19", "2026-11-20", out.path());
    // 1200/min is one request per 50 ms: scaled down, "no 60 s window above the rate" is
    // "no 1 s window above 20", plus one for the server's clock granularity.
    cmd.requests_per_minute = Some(1200);
    run_in_process(&cmd, &sim).await.expect("run succeeds");
    let times: Vec<_> = sim
        .request_log()
        .iter()
        .filter(|r| r.path.starts_with("/api/"))
        .map(|r| r.at)
        .collect();
    assert!(
        times.len() >= 20,
        "too few requests to judge: {}",
        times.len()
    );
    let mut max_in_window = 0;
    for (i, t) in times.iter().enumerate() {
        let n = times[i..]
            .iter()
            .take_while(|u| (**u - *t) < chrono::Duration::seconds(1))
            .count();
        max_in_window = max_in_window.max(n);
    }
    assert!(
        max_in_window <= 21,
        "{max_in_window} requests within one second at 20/s"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permission_exits_3_naming_it() {
    let sim = sim_with(SimConfig {
        seed: 2,
        conversations_per_day: 10,
        now: as_of(),
        denied_permissions: vec!["analytics:conversationDetail:view".into()],
        ..SimConfig::default()
    })
    .await;
    let env = env_for(&sim);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o").to_str().unwrap().to_string();
    let o = tokio::task::spawn_blocking(move || {
        run_bin(
            &["run", "--output-dir", &out, "--requests-per-minute", "0"],
            &env,
        )
    })
    .await
    .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("analytics:conversationDetail:view"), "{err}");
    assert!(!tmp.path().join("o").join("summary.json").exists());
    sim.shutdown().await;
}

#[test]
fn unreachable_host_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job.toml");
    std::fs::write(&job, "max_retries = 1\nrequest_timeout_secs = 5\n").unwrap();
    let env = vec![
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        (
            "GENESYS_API_BASE_URL".to_string(),
            "http://127.0.0.1:1".to_string(),
        ),
        ("GENESYS_CLIENT_ID".to_string(), "id".to_string()),
        ("GENESYS_CLIENT_SECRET".to_string(), "secret".to_string()),
    ];
    let out = tmp.path().join("o");
    let o = run_bin(
        &[
            "run",
            "--job",
            job.to_str().unwrap(),
            "--output-dir",
            out.to_str().unwrap(),
        ],
        &env,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("127.0.0.1:1") && err.contains("connection"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_under_chaos_equal_the_fault_free_run() {
    use wrapup_audit::simulator::FaultProfile;
    let clean_sim = sim(41, 120).await;
    let tmp = tempfile::tempdir().unwrap();
    let (clean, chaos) = (tmp.path().join("clean"), tmp.path().join("chaos"));
    let window_end = as_of().to_rfc3339();
    run_in_process(&run_cmd("2026-11-19", &window_end, &clean), &clean_sim)
        .await
        .expect("clean run");

    // 10 % 5xx, 5 % 429, tokens expiring every 3 s, 3 % connections dropped mid-body, plus
    // pages that repeat earlier rows and a drifting totalHits, as the real API does while data arrives.
    let faults = FaultProfile {
        repeat_rows_rate: 0.3,
        drifting_total_hits: true,
        malformed_json_rate: 0.02,
        ..FaultProfile::chaos(7)
    };
    let chaos_sim = sim_with(SimConfig {
        seed: 41,
        conversations_per_day: 120,
        now: as_of(),
        faults,
        ..SimConfig::default()
    })
    .await;
    let result = run_in_process(&run_cmd("2026-11-19", &window_end, &chaos), &chaos_sim)
        .await
        .expect("chaos run");
    assert_eq!(
        result.status.code(),
        0,
        "{:?}",
        result.outcome.as_ref().map(|o| o
            .partitions
            .iter()
            .map(|p| (p.date, p.incomplete.clone(), p.stats.lookups.clone()))
            .collect::<Vec<_>>())
    );

    let log = chaos_sim.request_log();
    let faulted = log.iter().filter(|r| r.fault.is_some()).count();
    assert!(
        faulted >= 10,
        "the profile must actually inject faults: {faulted} of {}",
        log.len()
    );
    assert!(log.iter().any(|r| r.status == 429) && log.iter().any(|r| r.status >= 502));
    assert!(
        log.iter().any(|r| r.status == 401),
        "tokens must have expired during the run"
    );

    let (a, b) = (partition_files(&clean), partition_files(&chaos));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(
            v == &b[k],
            "{k} differs between the fault-free and the chaos run"
        );
    }
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(chaos.join("manifest.json")).unwrap())
            .unwrap();
    // About 20 % of ~50 requests are faulted: the retries must show in the manifest.
    assert!(m["api"]["retries"].as_u64().unwrap() >= 5, "{}", m["api"]);
    clean_sim.shutdown().await;
    chaos_sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_that_keep_failing_exit_1_with_rows_marked() {
    use wrapup_audit::simulator::FaultProfile;
    // Lookups answer after 1.5 s; the job waits 1 s and does not retry: every lookup times out.
    let faults = FaultProfile {
        slow_lookup_ms: 1500,
        ..FaultProfile::default()
    };
    let sim = sim_with(SimConfig {
        seed: 61,
        conversations_per_day: 80,
        now: as_of(),
        faults,
        rate_limit_per_minute: 1_000_000,
        ..SimConfig::default()
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job.toml");
    std::fs::write(
        &job,
        "max_retries = 0\nrequest_timeout_secs = 1\nlookup_budget = 6\n",
    )
    .unwrap();
    let out = tmp.path().join("o");
    let mut cmd = run_cmd("2026-11-19", "2026-11-20", &out);
    cmd.job = Some(job);
    let result = run_in_process(&cmd, &sim)
        .await
        .expect("the report is still written");
    assert_eq!(result.status.code(), 1);
    let rows = read_all(&out, "conversations");
    let failed: Vec<_> = rows.iter().filter(|r| r["lookup"] == "failed").collect();
    assert_eq!(failed.len(), 6, "every budgeted lookup failed");
    assert!(failed
        .iter()
        .all(|r| r["classification"] == "lookup_failed" && r["reason"].contains("timed out")));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        (m["status"].as_str(), m["exit_code"].as_u64()),
        (Some("partial_lookups"), Some(1))
    );
    sim.shutdown().await;
}
