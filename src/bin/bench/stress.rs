//! `stress [runs]`: big runs with limiting off, many times, each under a watchdog (issue 14).
//!
//! A run that makes no progress for good (the futurelock this guards against) is killed by the
//! watchdog and counted as a hang; the benchmark then exits non-zero.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{bin, simulator, AS_OF};

/// (conversations per day, mode) cycled through by the runs.
const CONFIGS: [(u32, &str); 4] = [
    (100_000, "query"),
    (300_000, "query"),
    (100_000, "jobs"),
    (200_000, "query"),
];

/// A run taking longer than this is declared hung (the slowest config takes well under a minute).
const WATCHDOG: Duration = Duration::from_secs(300);

// Long: one benchmark read top to bottom: start, watchdog, tally, report.
pub fn stress(runs: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let mut sims: Vec<(u32, std::process::Child, String)> = Vec::new();
    let (mut hangs, mut failures) = (0, 0);
    let mut walls: Vec<(u32, &str, f64)> = Vec::new();
    println!(
        "## stress: {runs} runs with limiting off, watchdog {} s",
        WATCHDOG.as_secs()
    );
    for i in 0..runs {
        let (per_day, mode) = CONFIGS[i % CONFIGS.len()];
        if !sims.iter().any(|(n, _, _)| *n == per_day) {
            let (child, url) = simulator(&[
                "--conversations-per-day",
                &per_day.to_string(),
                "--rate-limit-per-minute",
                "100000000",
            ]);
            sims.push((per_day, child, url));
        }
        let url = sims
            .iter()
            .find(|(n, _, _)| *n == per_day)
            .unwrap()
            .2
            .clone();
        let out = tmp.path().join(format!("s{i}"));
        let t = Instant::now();
        let mut child = Command::new(bin("wrapup-audit"))
            .arg("run")
            .args(["--as-of", AS_OF, "--quiet", "--output-dir"])
            .arg(&out)
            .args(["--from", "2026-11-19", "--to", "2026-11-20"])
            .args(["--requests-per-minute", "0", "--concurrency", "16"])
            .args(["--mode", mode])
            .env("GENESYS_API_BASE_URL", &url)
            .env("GENESYS_CLIENT_ID", "sim-client")
            .env("GENESYS_CLIENT_SECRET", "sim-secret")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if t.elapsed() > WATCHDOG {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let wall = t.elapsed().as_secs_f64();
        match status {
            None => {
                hangs += 1;
                println!("run {i:>3} ({per_day}/day, {mode}): HUNG, killed after {wall:.0} s");
            }
            Some(s) if !s.success() => {
                failures += 1;
                println!("run {i:>3} ({per_day}/day, {mode}): failed ({s}) after {wall:.1} s");
            }
            Some(_) => walls.push((per_day, mode, wall)),
        }
        let _ = std::fs::remove_dir_all(&out);
    }
    for (_, mut child, _) in sims {
        let _ = child.kill();
        let _ = child.wait();
    }
    for (per_day, mode) in CONFIGS {
        let w: Vec<f64> = walls
            .iter()
            .filter(|(n, m, _)| *n == per_day && *m == mode)
            .map(|(_, _, w)| *w)
            .collect();
        if !w.is_empty() {
            let max = w.iter().cloned().fold(0.0, f64::max);
            let mean = w.iter().sum::<f64>() / w.len() as f64;
            println!(
                "{per_day}/day {mode}: {} runs, mean {mean:.1} s, max {max:.1} s",
                w.len()
            );
        }
    }
    println!(
        "finished {} of {runs}; hung {hangs}; failed {failures}\n",
        walls.len()
    );
    if hangs + failures > 0 {
        std::process::exit(1);
    }
}
