//! Issue 14's table: quota-bound and adaptive-fill runs, peak RSS per mode and day size, a 10-day
//! `auto` window, and conversations per CPU second. Each run is the real binary against
//! `wrapup-audit simulate` in its own process.

use std::path::Path;

use super::{run, simulator, u, warm, RunStats};

/// CPU seconds (user + system) of this process's waited-for children, from `/proc/self/stat`.
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    stat_cpu(&stat, 13)
}

/// CPU seconds (user + system) a running process has used so far: the simulator's share of a run.
fn process_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat_cpu(&stat, 11)
}

/// The sum of two adjacent clock-tick fields of a `/proc/…/stat` line, counted after the command name.
fn stat_cpu(stat: &str, at: usize) -> f64 {
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime/stime are fields 14/15 of the whole line (11/12 here), cutime/cstime 16/17 (13/14 here);
    // clock ticks of 1/100 s.
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(at) + ticks(at + 1)) / 100.0
}

/// A run with its CPU time.
fn timed(url: &str, out: &Path, args: &[&str]) -> (RunStats, f64) {
    let before = children_cpu();
    let r = run(url, out, args);
    (r, children_cpu() - before)
}

fn conversations(m: &serde_json::Value) -> u64 {
    m["partitions"]
        .as_array()
        .map(|p| p.iter().map(|p| u(&p["conversations"])).sum())
        .unwrap_or(0)
}

/// Quota-bound at 300/min (fixed pacing, the floor is requests ÷ rate) and adaptive fill next to
/// another integration spending 100/min: 2 days × 1 500, 0.8 s pages, 150 ms lookups.
pub fn quota() {
    let tmp = tempfile::tempdir().unwrap();
    let slow = [
        "--conversations-per-day",
        "1500",
        "--enforce-rate-limit",
        "--slow-details-ms",
        "800",
        "--slow-lookup-ms",
        "150",
    ];
    let window = ["--from", "2026-11-19", "--to", "2026-11-21"];
    println!("## quota-bound (server: 300/min enforced, 0.8 s per details page, 150 ms per lookup, 2 days x 1500)");
    for mode in ["query", "jobs"] {
        let (mut sim, url) = simulator(&slow);
        let mut args = window.to_vec();
        args.extend([
            "--requests-per-minute",
            "300",
            "--pacing",
            "fixed",
            "--concurrency",
            "8",
            "--mode",
            mode,
        ]);
        let (r, _) = timed(&url, &tmp.path().join(format!("q-{mode}")), &args);
        let _ = sim.kill();
        let api = &r.manifest["api"];
        let requests = u(&api["requests"]);
        let floor = requests as f64 * 60.0 / 300.0;
        println!(
            "{mode}: {requests} requests in {:.1} s, floor {floor:.1} s: {:.3} x (target <= 1.03), 429s: {}",
            r.wall.as_secs_f64(),
            r.wall.as_secs_f64() / floor,
            u(&api["rate_limited"])
        );
    }
    println!("## adaptive fill (server: 300/min enforced, another integration 100/min in its headers; job defaults)");
    for mode in ["query", "jobs"] {
        let mut sim_args = slow.to_vec();
        sim_args.extend(["--other-integration-per-minute", "100"]);
        let (mut sim, url) = simulator(&sim_args);
        let mut args = window.to_vec();
        args.extend(["--concurrency", "8", "--mode", mode]);
        let (r, _) = timed(&url, &tmp.path().join(format!("a-{mode}")), &args);
        let _ = sim.kill();
        let api = &r.manifest["api"];
        let requests = u(&api["requests"]);
        let rate = requests as f64 * 60.0 / r.wall.as_secs_f64();
        println!(
            "{mode}: {requests} requests in {:.1} s = {rate:.0}/min of 200 free: {:.3} (target >= 0.95), 429s: {}",
            r.wall.as_secs_f64(),
            rate / 200.0,
            u(&api["rate_limited"])
        );
    }
    println!();
}

/// Peak RSS of one day, query and jobs mode, at 10k, 100k and 300k conversations, limiting off;
/// with conversations per CPU second of the run process.
pub fn rss() {
    let tmp = tempfile::tempdir().unwrap();
    println!("## peak RSS, one day, limiting off (simulator in its own process)");
    for per_day in [10_000u32, 100_000, 300_000] {
        let (mut sim, url) = simulator(&[
            "--conversations-per-day",
            &per_day.to_string(),
            "--rate-limit-per-minute",
            "100000000",
        ]);
        warm(&url, "2026-11-19", "2026-11-20");
        for mode in ["query", "jobs"] {
            let (r, cpu) = timed(
                &url,
                &tmp.path().join(format!("r{per_day}{mode}")),
                &[
                    "--from",
                    "2026-11-19",
                    "--to",
                    "2026-11-20",
                    "--requests-per-minute",
                    "0",
                    "--concurrency",
                    "16",
                    "--mode",
                    mode,
                ],
            );
            let n = conversations(&r.manifest);
            println!(
                "{per_day:>6}/day {mode:<5}: peak RSS {:>4} MB, {n} conversations in {:.1} s, {:.0} conversations per CPU second of the run",
                u(&r.manifest["peak_rss_kb"]) / 1024,
                r.wall.as_secs_f64(),
                n as f64 / cpu.max(1e-9)
            );
        }
        let _ = sim.kill();
    }
    println!();
}

/// `auto` over 7 and 10 days of 100k (jobs for historical days), against the query path over 10 days.
pub fn auto() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut sim, url) = simulator(&[
        "--conversations-per-day",
        "100000",
        "--rate-limit-per-minute",
        "100000000",
    ]);
    println!(
        "## auto mode, 100k/day, limiting off (the days generated before the first timed run)"
    );
    warm(&url, "2026-11-10", "2026-11-20");
    for (days, from, mode) in [
        (7, "2026-11-13", "auto"),
        (10, "2026-11-10", "auto"),
        (10, "2026-11-10", "query"),
    ] {
        let sim_before = process_cpu(sim.id());
        let (r, cpu) = timed(
            &url,
            &tmp.path().join(format!("auto{days}{mode}")),
            &[
                "--from",
                from,
                "--to",
                "2026-11-20",
                "--requests-per-minute",
                "0",
                "--concurrency",
                "16",
                "--mode",
                mode,
            ],
        );
        let sim_cpu = process_cpu(sim.id()) - sim_before;
        let n = conversations(&r.manifest);
        println!(
            "{days:>2} days {mode:<5}: peak RSS {} MB, {n} conversations in {:.1} s ({:.0}/s wall, {:.0} per CPU second; CPU run {cpu:.1} s + simulator {sim_cpu:.1} s)",
            u(&r.manifest["peak_rss_kb"]) / 1024,
            r.wall.as_secs_f64(),
            n as f64 / r.wall.as_secs_f64(),
            n as f64 / cpu.max(1e-9)
        );
    }
    let _ = sim.kill();
    println!();
}
