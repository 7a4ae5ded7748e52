//! The quota to the last request (issue 14): adaptive pacing spends what another integration on the
//! same token leaves of the quota, read from the `inin-ratelimit-*` headers, without a 429; lookups
//! start as rows arrive, not when a day's pages are all in.

use std::time::Duration;

use wrapup_audit::simulator::{FaultProfile, SimConfig};

use crate::support::*;

/// Our API requests in each of the simulator's rate windows, counted from its request log (the
/// token's window starts with its first API request).
fn per_window(log: &[wrapup_audit::simulator::LoggedRequest], len: Duration) -> Vec<u64> {
    let api: Vec<_> = log
        .iter()
        .filter(|r| r.path.starts_with("/api/v2/"))
        .collect();
    let Some(first) = api.first().map(|r| r.at) else {
        return Vec::new();
    };
    // The simulator's rule: a window starts with the first request after the last one ended.
    let len = chrono::Duration::from_std(len).unwrap();
    let mut out: Vec<u64> = vec![0];
    let mut start = first;
    for r in api {
        if r.at - start >= len {
            start = r.at;
            out.push(0);
        }
        *out.last_mut().unwrap() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adaptive_pacing_fills_what_another_integration_leaves_without_a_429() {
    // Ten-second windows keep the test short: 300 requests a window, another integration spending
    // 600 a minute (100 a window), so 200 a window are free for the run.
    let window = Duration::from_secs(10);
    let sim = sim_with(SimConfig {
        seed: 14,
        conversations_per_day: 2000,
        now: as_of(),
        rate_limit_per_minute: 300,
        enforce_rate_limit: true,
        rate_window_secs: window.as_secs(),
        other_integration_per_minute: 600,
        ..SimConfig::default()
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = run_cmd("2026-11-19", "2026-11-21", &tmp.path().join("o"));
    // A ceiling far above what is free: the headers alone must hold the run back.
    cmd.requests_per_minute = Some(6000);
    cmd.concurrency = Some(8);
    let r = run_in_process(&cmd, &sim).await.unwrap();
    let o = r.outcome.unwrap();
    assert_eq!(o.api.rate_limited, 0, "no 429");
    let log = sim.request_log();
    assert!(log.iter().all(|r| r.status != 429), "no 429 in the log");
    let windows = per_window(&log, window);
    eprintln!("requests per window: {windows:?}");
    assert!(
        windows.len() >= 4,
        "the run must span several windows: {windows:?}"
    );
    // The first window starts blind and the last is partial; every full one in between is filled.
    let free = 200.0;
    for (i, n) in windows[1..windows.len() - 1].iter().enumerate() {
        assert!(
            *n as f64 >= 0.95 * free,
            "window {}: {n} of {free} free requests used ({windows:?})",
            i + 1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_start_before_the_days_last_details_page_is_answered() {
    // Every details page takes 1 s. A day of 1 100 conversations is 12 pages of 100; after the first,
    // eight are asked at once and the rest as those come back, so the last page is answered in the
    // third round, about 2 s after the first. Its first rows need lookups (about one in five).
    let sim = sim_with(SimConfig {
        seed: 15,
        conversations_per_day: 1100,
        now: as_of(),
        rate_limit_per_minute: 1_000_000,
        faults: FaultProfile {
            slow_details_ms: 1000,
            ..FaultProfile::default()
        },
        ..SimConfig::default()
    })
    .await;
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = run_cmd("2026-11-20", "2026-11-21", &tmp.path().join("o"));
    cmd.concurrency = Some(8);
    let r = run_in_process(&cmd, &sim).await.unwrap();
    assert_eq!(r.outcome.unwrap().partitions.len(), 1);
    // The log is in the order requests were answered.
    let log = sim.request_log();
    let is_page = |r: &wrapup_audit::simulator::LoggedRequest| r.path.ends_with("/details/query");
    let is_lookup =
        |r: &wrapup_audit::simulator::LoggedRequest| r.path.starts_with("/api/v2/conversations/");
    let pages = log.iter().filter(|r| is_page(r)).count();
    assert!(pages > 9, "the day needs a third round of pages: {pages}");
    let last_page = log.iter().rposition(is_page).unwrap();
    let first_lookup = log.iter().position(is_lookup).expect("lookups were made");
    assert!(
        first_lookup < last_page,
        "the first lookup was answered after the day's last details page ({first_lookup} > {last_page} in the request log)"
    );
}
