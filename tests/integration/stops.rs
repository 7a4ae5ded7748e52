//! Stopping: a signal is honoured at once whatever the run waits on, `max_runtime` bounds a run, and
//! the manifest records how it ended.

use std::time::Duration;

use wrapup_audit::simulator::{FaultProfile, SimConfig, SimHandle};

use crate::support::*;

/// A simulator whose login host or API never answers (10 minutes is "never" for these tests).
async fn hanging(token: bool, api: bool) -> SimHandle {
    sim_with(SimConfig {
        seed: 5,
        conversations_per_day: 20,
        now: as_of(),
        rate_limit_per_minute: 1_000_000,
        faults: FaultProfile {
            slow_token_ms: if token { 600_000 } else { 0 },
            slow_ms: if api { 600_000 } else { 0 },
            ..FaultProfile::default()
        },
        ..SimConfig::default()
    })
    .await
}

fn args(out: &str) -> Vec<&str> {
    vec![
        "run",
        "--from",
        "2026-11-19",
        "--to",
        "2026-11-20",
        "--as-of",
        "2026-11-21T00:20:00Z",
        "--output-dir",
        out,
        "--requests-per-minute",
        "0",
    ]
}

/// Signals the run once `started` requests reached the simulator, and checks it ends at once.
async fn signal_while_hanging(
    sim: &SimHandle,
    started: u64,
    sig: &'static str,
) -> (i32, String, serde_json::Value) {
    let env = env_for(sim);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let out_s = out.to_str().unwrap().to_string();
    let sim2 = sim.clone();
    let (code, err, took) = tokio::task::spawn_blocking(move || {
        let mut child = spawn_bin(&args(&out_s), &env);
        wait_until("the hanging request", &mut child, || {
            sim2.requests_started() >= started
        });
        send_signal(&child, sig);
        wait_at_most(child, Duration::from_secs(20))
    })
    .await
    .unwrap();
    assert!(
        took < Duration::from_secs(3),
        "the signal took {took:?} to stop the run:\n{err}"
    );
    let m = manifest(&out);
    let code = code.expect("exited, not killed");
    assert_eq!(m["exit_code"].as_i64(), Some(i64::from(code)), "{m}");
    assert!(m["error"].is_string(), "{m}");
    (code, format!("{err}\n{m}"), m)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_the_login_host_hangs_stops_at_once_with_143() {
    let sim = hanging(true, false).await;
    let (code, text, m) = signal_while_hanging(&sim, 1, "-TERM").await;
    assert_eq!(code, 143, "{text}");
    assert_eq!(m["status"], "terminated", "{text}");
    assert!(text.contains("getting a token"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_while_a_catalog_request_hangs_stops_at_once_with_130() {
    let sim = hanging(false, true).await;
    // The token, then the first catalog page, which hangs.
    let (code, text, m) = signal_while_hanging(&sim, 2, "-INT").await;
    assert_eq!(code, 130, "{text}");
    assert_eq!(m["status"], "interrupted", "{text}");
    assert!(text.contains("reading the catalogs"), "{text}");
    // The manifest counts what was asked, the hanging request included.
    assert_eq!(m["api"]["token_requests"].as_u64(), Some(1), "{text}");
    assert_eq!(m["api"]["requests"].as_u64(), Some(1), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_runtime_stops_a_hanging_run_with_124() {
    let sim = hanging(true, false).await;
    let env = env_for(&sim);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let out_s = out.to_str().unwrap().to_string();
    let (code, err, took) = tokio::task::spawn_blocking(move || {
        let mut a = args(&out_s);
        a.extend(["--max-runtime", "1500ms"]);
        wait_at_most(spawn_bin(&a, &env), Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert_eq!(code, Some(124), "{err}");
    assert!(
        took < Duration::from_secs(6),
        "max_runtime 1.5 s took {took:?}"
    );
    assert!(err.contains("max_runtime"), "{err}");
    let m = manifest(&out);
    assert_eq!(
        (m["status"].as_str(), m["exit_code"].as_u64()),
        (Some("timed_out"), Some(124)),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_runtime_keeps_finished_days_and_the_rerun_completes() {
    // Every details page takes 1 s: five days cannot finish in 1.5 s, also with the next day's first
    // page asked while a day pages (two pages in flight).
    let sim = sim_with(SimConfig {
        seed: 6,
        conversations_per_day: 30,
        now: as_of(),
        rate_limit_per_minute: 1_000_000,
        faults: FaultProfile {
            slow_details_ms: 1000,
            ..FaultProfile::default()
        },
        ..SimConfig::default()
    })
    .await;
    let env = env_for(&sim);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let out_s = out.to_str().unwrap().to_string();
    let base = [
        "run",
        "--from",
        "2026-11-15",
        "--to",
        "2026-11-20",
        "--as-of",
        "2026-11-21T00:20:00Z",
        "--output-dir",
        &out_s,
        "--requests-per-minute",
        "0",
    ]
    .map(String::from);
    let (b, e) = (base.clone(), env.clone());
    let (code, err, _) = tokio::task::spawn_blocking(move || {
        let mut a: Vec<&str> = b.iter().map(String::as_str).collect();
        a.extend(["--max-runtime", "1500ms"]);
        wait_at_most(spawn_bin(&a, &e), Duration::from_secs(30))
    })
    .await
    .unwrap();
    assert_eq!(code, Some(124), "{err}");
    let m = manifest(&out);
    assert_eq!(m["status"], "timed_out", "{m}");
    let kept = m["partitions"].as_array().unwrap().len();
    assert!(kept < 5, "{m}");
    for e in std::fs::read_dir(&out).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with(".staging"), "{name} left behind");
    }
    let o = tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = base.iter().map(String::as_str).collect();
        run_bin(&a, &env)
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let m = manifest(&out);
    assert_eq!(m["partitions"].as_array().unwrap().len(), 5);
    assert_eq!(m["resumed_days"].as_u64(), Some(kept as u64), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_login_host_fails_within_the_token_bounds() {
    // Each token attempt is bounded by the request timeout (here 1 s) and token requests are
    // retried at most 3 times: about 8 s in all, where 9 attempts and the full backoff took ~100 s.
    let sim = hanging(true, false).await;
    let env = env_for(&sim);
    let tmp = tempfile::tempdir().unwrap();
    let job = tmp.path().join("job.toml");
    std::fs::write(&job, "request_timeout_secs = 1\n").unwrap();
    let out = tmp.path().join("o");
    let (job_s, out_s) = (
        job.to_str().unwrap().to_string(),
        out.to_str().unwrap().to_string(),
    );
    let (code, err, took) = tokio::task::spawn_blocking(move || {
        let mut a = args(&out_s);
        a.extend(["--job", &job_s]);
        wait_at_most(spawn_bin(&a, &env), Duration::from_secs(40))
    })
    .await
    .unwrap();
    assert_eq!(code, Some(4), "{err}");
    assert!(err.contains("token") && err.contains("timed out"), "{err}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let m = manifest(&out);
    assert_eq!(m["status"], "api_unavailable", "{m}");
    assert_eq!(m["api"]["token_requests"].as_u64(), Some(4), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_a_lookup_hangs_stops_at_once() {
    // Lookups never answer: the first day's chunk waits on them when the signal comes.
    let sim = sim_with(SimConfig {
        seed: 7,
        conversations_per_day: 30,
        now: as_of(),
        rate_limit_per_minute: 1_000_000,
        faults: FaultProfile {
            slow_lookup_ms: 600_000,
            ..FaultProfile::default()
        },
        ..SimConfig::default()
    })
    .await;
    let env = env_for(&sim);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let out_s = out.to_str().unwrap().to_string();
    let sim2 = sim.clone();
    let (code, err, took) = tokio::task::spawn_blocking(move || {
        let mut a = args(&out_s);
        a.extend(["--mode", "query"]);
        let mut child = spawn_bin(&a, &env);
        // Requests that arrived but were never answered are the hanging lookups.
        wait_until("a hanging lookup", &mut child, || {
            sim2.requests_started() > sim2.request_log().len() as u64
                && sim2
                    .request_log()
                    .iter()
                    .any(|r| r.path.contains("details/query"))
        });
        send_signal(&child, "-TERM");
        wait_at_most(child, Duration::from_secs(20))
    })
    .await
    .unwrap();
    assert_eq!(code, Some(143), "{err}");
    assert!(took < Duration::from_secs(3), "took {took:?}: {err}");
    let m = manifest(&out);
    assert_eq!(
        (m["status"].as_str(), m["exit_code"].as_u64()),
        (Some("terminated"), Some(143)),
        "{m}"
    );
    assert!(m["api"]["requests"].as_u64().unwrap() >= 5, "{m}");
}
