//! A crash at any point, then a rerun: the partitions equal an uninterrupted run's byte for byte,
//! and at most the lookups that were in flight are asked twice.

use std::path::Path;
use std::time::Duration;

use wrapup_audit::simulator::SimHandle;

use crate::support::*;

const CONCURRENCY: u64 = 8;

fn args<'a>(out: &'a str, rpm: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "--from",
        "2026-11-16",
        "--to",
        "2026-11-20",
        "--as-of",
        "2026-11-21T00:20:00Z",
        "--output-dir",
        out,
        "--requests-per-minute",
        rpm,
        "--mode",
        "query",
    ]
}

fn lookups(sim: &SimHandle) -> u64 {
    sim.request_log()
        .iter()
        .filter(|r| r.path.starts_with("/api/v2/conversations/"))
        .count() as u64
}

/// Runs the binary to its end; returns exit code and stderr.
async fn run_to_end(
    sim: &SimHandle,
    out: &Path,
    rpm: &'static str,
    failpoint: Option<String>,
    force: bool,
) -> (Option<i32>, String) {
    let mut env = env_for(sim);
    if let Some(f) = failpoint {
        env.push((wrapup_audit::failpoint::VAR.into(), f));
    }
    let out = out.to_str().unwrap().to_string();
    tokio::task::spawn_blocking(move || {
        let mut a = args(&out, rpm);
        if force {
            a.push("--force");
        }
        let o = run_bin(&a, &env);
        (o.status.code(), stderr(&o))
    })
    .await
    .unwrap()
}

/// A clean run of the window against `sim`, and the lookups it made.
async fn clean_run(sim: &SimHandle, out: &Path) -> u64 {
    let before = lookups(sim);
    let (code, err) = run_to_end(sim, out, "0", None, false).await;
    assert_eq!(code, Some(0), "{err}");
    let made = lookups(sim) - before;
    assert!(made > 3 * CONCURRENCY, "too few lookups to judge: {made}");
    made
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_lookups_repeats_only_those_in_flight() {
    let sim = sim(31, 80).await;
    let tmp = tempfile::tempdir().unwrap();
    let (clean, crashed) = (tmp.path().join("clean"), tmp.path().join("crashed"));
    let made = clean_run(&sim, &clean).await;

    // The process dies right after the journal took the n-th settled lookup of the run.
    let before = lookups(&sim);
    let n = made / 2;
    let (code, err) = run_to_end(
        &sim,
        &crashed,
        "0",
        Some(format!("journal-after-record@{n}")),
        false,
    )
    .await;
    assert_eq!(code, Some(wrapup_audit::failpoint::CRASH_CODE), "{err}");
    let (code, err) = run_to_end(&sim, &crashed, "0", None, false).await;
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("Reusing"), "{err}");
    let repeated = lookups(&sim) - before - made;
    assert!(
        repeated <= CONCURRENCY,
        "{repeated} lookups asked twice after a crash (at most the {CONCURRENCY} in flight may be)"
    );
    assert_same_partitions(&clean, &crashed);
    assert_eq!(manifest(&crashed)["status"], "success");
    // Journals go once their day is in place.
    let left: Vec<_> = std::fs::read_dir(&crashed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".journal"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_any_moment_then_a_rerun_gives_the_same_partitions() {
    let sim = sim(32, 80).await;
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    let made = clean_run(&sim, &clean).await;
    for (i, after_ms) in [1000u64, 2500, 4000, 7000].into_iter().enumerate() {
        let out = tmp.path().join(format!("killed-{i}"));
        let out_s = out.to_str().unwrap().to_string();
        let env = env_for(&sim);
        let before = lookups(&sim);
        // 600 requests a minute: the run takes well over 7 s.
        let ended_early = tokio::task::spawn_blocking(move || {
            let mut child = spawn_bin(&args(&out_s, "600"), &env);
            let deadline = std::time::Instant::now() + Duration::from_millis(after_ms);
            while std::time::Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            send_signal(&child, "-KILL");
            child.wait().unwrap();
            false
        })
        .await
        .unwrap();
        assert!(
            !ended_early,
            "the run ended before {after_ms} ms: slow it down"
        );
        let (code, err) = run_to_end(&sim, &out, "0", None, false).await;
        assert_eq!(code, Some(0), "rerun after a kill at {after_ms} ms: {err}");
        assert_same_partitions(&clean, &out);
        let repeated = lookups(&sim) - before - made;
        assert!(
            repeated <= CONCURRENCY,
            "kill at {after_ms} ms: {repeated} lookups asked twice"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_at_every_rename_of_a_partition_swap_loses_nothing() {
    let sim = sim(33, 40).await;
    let tmp = tempfile::tempdir().unwrap();
    let clean = tmp.path().join("clean");
    clean_run(&sim, &clean).await;
    for point in [
        "swap-before-renames",
        "swap-between-renames",
        "swap-after-renames",
    ] {
        // A first run into an empty folder, and a rerun that replaces existing partitions; each
        // day is four swaps (two tables, two formats): the 2nd is mid-first-day, the 7th mid-second.
        for (replace, nth) in [(false, 2), (false, 7), (true, 2), (true, 7)] {
            let out = tmp.path().join(format!("{point}-{replace}-{nth}"));
            if replace {
                let (code, err) = run_to_end(&sim, &out, "0", None, false).await;
                assert_eq!(code, Some(0), "{err}");
            }
            let (code, err) =
                run_to_end(&sim, &out, "0", Some(format!("{point}@{nth}")), replace).await;
            assert_eq!(
                code,
                Some(wrapup_audit::failpoint::CRASH_CODE),
                "{point}@{nth}: {err}"
            );
            let (code, err) = run_to_end(&sim, &out, "0", None, false).await;
            assert_eq!(code, Some(0), "{point}, replace {replace}: {err}");
            assert_same_partitions(&clean, &out);
            let m = manifest(&out);
            assert_eq!(m["partitions"].as_array().unwrap().len(), 4, "{m}");
        }
    }
}
