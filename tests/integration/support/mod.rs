//! Helpers: start a simulator, run the job in-process or as the binary, read the reports back.

#![allow(dead_code)]

pub mod emulator;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::{DateTime, TimeZone, Utc};
use tokio_util::sync::CancellationToken;
use wrapup_audit::config::RunArgs;
use wrapup_audit::simulator::{self, SimConfig, SimHandle};

/// The fixed clock of most tests: 00:20 UTC, so yesterday's late conversations are still fresh.
pub fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 0, 20, 0).unwrap()
}

pub async fn sim(seed: u64, per_day: u32) -> SimHandle {
    sim_with(SimConfig {
        seed,
        conversations_per_day: per_day,
        now: as_of(),
        // So large it is never near: tests of the real quota set their own.
        rate_limit_per_minute: 1_000_000,
        ..SimConfig::default()
    })
    .await
}

pub async fn sim_with(cfg: SimConfig) -> SimHandle {
    simulator::start(cfg).await.expect("simulator starts")
}

/// The environment that points a run at `sim`.
pub fn env_for(sim: &SimHandle) -> Vec<(String, String)> {
    vec![
        ("GENESYS_API_BASE_URL".into(), sim.base_url()),
        ("GENESYS_LOGIN_BASE_URL".into(), sim.base_url()),
        ("GENESYS_CLIENT_ID".into(), sim.client_id().into()),
        ("GENESYS_CLIENT_SECRET".into(), sim.client_secret().into()),
    ]
}

pub fn run_cmd(from: &str, to: &str, out: &Path) -> RunArgs {
    RunArgs {
        from: Some(from.into()),
        to: Some(to.into()),
        as_of: Some(as_of().to_rfc3339()),
        output_dir: Some(out.to_path_buf()),
        requests_per_minute: Some(0),
        ..RunArgs::default()
    }
}

/// Runs the job in-process against `sim`.
pub async fn run_in_process(
    cmd: &RunArgs,
    sim: &SimHandle,
) -> Result<wrapup_audit::report::RunResult, wrapup_audit::exit::Failure> {
    wrapup_audit::commands::run::run_command(
        cmd,
        &env_for(sim),
        Utc::now(),
        CancellationToken::new(),
    )
    .await
}

/// Runs the real binary with a clean environment plus `env`, from the crate root.
pub fn run_bin(args: &[&str], env: &[(String, String)]) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wrapup-audit"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear();
    if let Ok(path) = std::env::var("PATH") {
        c.env("PATH", path);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("binary runs")
}

/// A CSV file as header → values rows.
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Every row of `table` (`conversations` or `legs`) across the `date=` partitions of its CSV
/// dataset root (`<out>/csv/<table>/`), with its date.
pub fn read_all(out: &Path, table: &str) -> Vec<BTreeMap<String, String>> {
    let root = out.join("csv").join(table);
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&root) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    assert!(
        dirs.iter().all(|p| p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("date=")),
        "{} holds more than date= folders: {dirs:?}",
        root.display()
    );
    dirs.sort();
    let mut rows = Vec::new();
    for d in dirs {
        let date = d.file_name().unwrap().to_string_lossy()[5..].to_string();
        for mut row in read_csv(&d.join(format!("{table}.csv"))) {
            row.insert("date".into(), date.clone());
            rows.push(row);
        }
    }
    rows
}

/// `<out>/<format>/<table>/date=D/<table>.<format>`: where a partition file lives.
pub fn part_file(out: &Path, format: &str, table: &str, date: &str) -> PathBuf {
    out.join(format)
        .join(table)
        .join(format!("date={date}"))
        .join(format!("{table}.{format}"))
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Starts the real binary with a clean environment plus `env`; stderr is captured.
pub fn spawn_bin(args: &[&str], env: &[(String, String)]) -> std::process::Child {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wrapup-audit"));
    c.args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Ok(path) = std::env::var("PATH") {
        c.env("PATH", path);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().expect("binary starts")
}

/// Polls `cond` (bounded: 60 s) while `child` runs; fails if the child ends first.
pub fn wait_until(what: &str, child: &mut std::process::Child, cond: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !cond() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("the run ended ({status}) before {what}:\n{err}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} never happened"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Waits at most `limit` for `child` to end; kills it and fails the test if it does not.
pub fn wait_at_most(
    child: std::process::Child,
    limit: std::time::Duration,
) -> (Option<i32>, String, std::time::Duration) {
    let started = std::time::Instant::now();
    let mut child = child;
    loop {
        if child.try_wait().unwrap().is_some() {
            let out = child.wait_with_output().unwrap();
            return (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
                started.elapsed(),
            );
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running {limit:?} later; killed. stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Sends a signal (`-TERM`, `-INT`, `-KILL`) to `child`.
pub fn send_signal(child: &std::process::Child, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} failed");
}

/// `manifest.json` of `out`, parsed.
pub fn manifest(out: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(out.join("manifest.json"))
        .unwrap_or_else(|e| panic!("no manifest in {}: {e}", out.display()));
    serde_json::from_str(&text).unwrap()
}

/// Every partition file of `out` (any file under a `date=` folder, at any depth), path → bytes.
pub fn partition_bytes(out: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, m: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            if rel.starts_with('.') {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, m);
            } else if rel.contains("date=") {
                m.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut m = BTreeMap::new();
    walk(out, out, &mut m);
    m
}

/// Asserts that two output folders hold byte-identical partitions.
#[track_caller]
pub fn assert_same_partitions(a: &Path, b: &Path) {
    let (x, y) = (partition_bytes(a), partition_bytes(b));
    assert_eq!(
        x.keys().collect::<Vec<_>>(),
        y.keys().collect::<Vec<_>>(),
        "partition files differ"
    );
    for (k, v) in &x {
        assert!(
            v == &y[k],
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}
