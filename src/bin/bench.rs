//! `wrapup-audit-bench`: the benchmarks behind `docs/benchmarks.md`.
//!
//! Run with `cargo run --release --bin wrapup-audit-bench -- [all|ingest|e2e|quota|rss|auto|stress [runs]]`. Each benchmark
//! prints one block of results; `all` runs them in order. The end-to-end and quota benchmarks run the
//! real `wrapup-audit` binary against `wrapup-audit simulate` in separate processes on 127.0.0.1, so
//! the run's peak RSS (from its manifest) is its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use wrapup_audit::api::wire::DetailsQueryResponse;
use wrapup_audit::config::{Config, RawJob, RunArgs};
use wrapup_audit::simulator::{self, SimConfig};
use wrapup_audit::transform::counts::PartitionStats;
use wrapup_audit::transform::names::Catalogs;
use wrapup_audit::transform::rows::Fetched;

// The same allocator as `wrapup-audit`, so `ingest` measures what a run does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "bench/scale.rs"]
mod scale;
#[path = "bench/stress.rs"]
mod stress;

const AS_OF: &str = "2026-11-21T00:20:00Z";

fn as_of() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(AS_OF)
        .unwrap()
        .with_timezone(&Utc)
}

fn bin(name: &str) -> PathBuf {
    std::env::current_exe().unwrap().with_file_name(name)
}

/// `wrapup-audit simulate` in its own process; returns it and its base URL. It ends with the
/// benchmark, also a killed one: a big day's simulator holds gigabytes, and a few left behind made
/// later runs fail for want of memory.
fn simulator(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(bin("wrapup-audit"))
        .args(["simulate", "--exit-with", &std::process::id().to_string()])
        .args(["--now", AS_OF])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("simulator starts (build the wrapup-audit binary first)");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line.trim().to_string())
}

/// An HTTP client and a token from the simulator at `url`, for requests outside a run.
async fn sim_client(url: &str) -> (reqwest::Client, String) {
    wrapup_audit::api::install_tls_provider();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{url}/oauth/token"))
        .basic_auth("sim-client", Some("sim-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    (http, token)
}

/// Asks the simulator for one conversation of each day in `[from, to)`, so that the days are generated
/// (and cached) before a timed run: otherwise the first run to read a day pays for generating it and
/// runs compared side by side are not alike.
fn warm(url: &str, from: &str, to: &str) {
    let from: chrono::NaiveDate = from.parse().unwrap();
    let to: chrono::NaiveDate = to.parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (http, token) = sim_client(url).await;
        for d in from.iter_days().take_while(|d| *d < to) {
            let next = d.succ_opt().unwrap();
            let body = serde_json::json!({
                "interval": format!("{d}T00:00:00.000Z/{next}T00:00:00.000Z"),
                "paging": {"pageSize": 1, "pageNumber": 1}
            });
            let status = http
                .post(format!(
                    "{url}/api/v2/analytics/conversations/details/query"
                ))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status();
            assert!(status.is_success(), "warming {d}: {status}");
        }
    });
}

struct RunStats {
    wall: Duration,
    manifest: serde_json::Value,
}

fn run(url: &str, out: &Path, args: &[&str]) -> RunStats {
    let _ = std::fs::remove_dir_all(out);
    let t = Instant::now();
    let status = Command::new(bin("wrapup-audit"))
        .arg("run")
        .args([
            "--as-of",
            AS_OF,
            "--output-dir",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .args(args)
        .env("GENESYS_API_BASE_URL", url)
        .env("GENESYS_CLIENT_ID", "sim-client")
        .env("GENESYS_CLIENT_SECRET", "sim-secret")
        .status()
        .unwrap();
    let wall = t.elapsed();
    assert!(status.success(), "run failed: {status}");
    let manifest =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    RunStats { wall, manifest }
}

/// CPU time this thread has run, from `/proc/thread-self/schedstat` (nanoseconds, not clock ticks):
/// other processes on the shared cores stretch the wall time, not this.
fn thread_cpu() -> Duration {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = s.split_whitespace().next().and_then(|v| v.parse().ok());
    Duration::from_nanos(ns.unwrap_or(0))
}

fn u(v: &serde_json::Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// 1. Parse, classify and write recorded detail pages on one core.
// Long: one benchmark read top to bottom: setup, timed phases, the report line.
fn ingest() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let per_day = 50_000u32;
    let pages: Vec<Vec<u8>> = rt.block_on(async {
        let sim = simulator::start(SimConfig {
            conversations_per_day: per_day,
            now: as_of(),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let (http, token) = sim_client(&sim.base_url()).await;
        let mut pages = Vec::new();
        for n in 1.. {
            let body = serde_json::json!({
                "interval": "2026-11-19T00:00:00.000Z/2026-11-20T00:00:00.000Z",
                "order": "asc", "orderBy": "conversationStart",
                "paging": {"pageSize": 100, "pageNumber": n}
            });
            let bytes = http
                .post(format!(
                    "{}/api/v2/analytics/conversations/details/query",
                    sim.base_url()
                ))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let done = !bytes.windows(15).any(|w| w == b"\"conversations\"");
            if done {
                break;
            }
            pages.push(bytes.to_vec());
        }
        sim.shutdown().await;
        pages
    });
    let args = RunArgs {
        simulator: true,
        lookup: Some("off".into()),
        ..RunArgs::default()
    };
    let cfg = Config::build(RawJob::default(), &args, &[("", ""); 0], as_of()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let bytes: usize = pages.iter().map(Vec::len).sum();
    let t = Instant::now();
    let cpu0 = thread_cpu();
    let mut fetched = Vec::new();
    for p in &pages {
        // Decoded as the client decodes an answer.
        let resp: DetailsQueryResponse = wrapup_audit::api::decode_json(p).unwrap();
        fetched.extend(
            resp.conversations
                .iter()
                .map(|c| Fetched::new(c, &cfg, None)),
        );
    }
    let parsed = t.elapsed();
    let cpu_parsed = thread_cpu() - cpu0;
    let mut budget = None;
    let plan = wrapup_audit::transform::enrich::plan_lookups(&fetched, cfg.lookup, &mut budget);
    let lookups: Vec<_> = (0..fetched.len()).map(|_| None).collect();
    let mut stats = PartitionStats::default();
    let (rows, legs) = wrapup_audit::transform::rows::build_rows(
        &cfg,
        &Catalogs::default(),
        &fetched,
        &plan,
        &lookups,
        &mut stats,
    );
    let built = t.elapsed();
    let cpu_built = thread_cpu() - cpu0;
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 19).unwrap();
    wrapup_audit::sink::write_partition(out.path(), "bench", date, &rows, &legs, &[], cfg.formats)
        .unwrap();
    let total = t.elapsed();
    let cpu = thread_cpu() - cpu0;
    let n = rows.len() as f64;
    println!(
        "## ingest (one core, recorded pages: {} conversations, {:.1} MB of JSON)",
        rows.len(),
        bytes as f64 / 1e6
    );
    println!(
        "parse+classify: {:.0} ms, rows: {:.0} ms, write csv+parquet: {:.0} ms",
        parsed.as_secs_f64() * 1e3,
        (built - parsed).as_secs_f64() * 1e3,
        (total - built).as_secs_f64() * 1e3
    );
    println!(
        "cpu time: parse+classify: {:.0} ms, rows: {:.0} ms, write csv+parquet: {:.0} ms",
        cpu_parsed.as_secs_f64() * 1e3,
        (cpu_built - cpu_parsed).as_secs_f64() * 1e3,
        (cpu - cpu_built).as_secs_f64() * 1e3
    );
    println!(
        "throughput: {:.0} conversations/s per core (target >= 50000), {:.0} per CPU second\n",
        n / total.as_secs_f64(),
        n / cpu.as_secs_f64().max(1e-9)
    );
}

/// 2 and 3. One million conversations over ten days with limiting off; request economy.
fn e2e() {
    let per_day = 100_000;
    let (mut sim, url) = simulator(&[
        "--conversations-per-day",
        &per_day.to_string(),
        "--rate-limit-per-minute",
        "100000000",
    ]);
    warm(&url, "2026-11-10", "2026-11-20");
    let tmp = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for (days, from) in [(1u64, "2026-11-19"), (10, "2026-11-10")] {
        let r = run(
            &url,
            &tmp.path().join(format!("d{days}")),
            &[
                "--from",
                from,
                "--to",
                "2026-11-20",
                "--requests-per-minute",
                "0",
                "--concurrency",
                "16",
                // The query path is the reference for the request economy.
                "--mode",
                "query",
            ],
        );
        results.push((days, r));
    }
    let _ = sim.kill();
    println!(
        "## end to end, limiting off ({per_day} conversations/day, simulator in its own process)"
    );
    for (days, r) in &results {
        let m = &r.manifest;
        let convs: u64 = m["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| u(&p["conversations"]))
            .sum();
        println!(
            "{days:>2} day(s): {convs} conversations in {:.1} s ({:.0}/s), peak RSS {} MB, {} requests",
            r.wall.as_secs_f64(),
            convs as f64 / r.wall.as_secs_f64(),
            u(&m["peak_rss_kb"]) / 1024,
            u(&m["api"]["requests"])
        );
    }
    let m = &results[1].1.manifest;
    let parts = m["partitions"].as_array().unwrap();
    let min_pages: u64 = parts
        .iter()
        .map(|p| u(&p["conversations"]).div_ceil(100).max(1))
        .sum();
    let by = &m["api"]["requests_by_endpoint"];
    let pages = u(&by["details_query"]);
    let lookups = u(&by["conversation"]);
    let needed = u(&m["lookups"]["needed"]);
    let catalogs: u64 = ["wrapup_codes", "queues", "users"]
        .iter()
        .map(|k| u(&by[*k]))
        .sum();
    let minimum = min_pages + needed + catalogs;
    let made = u(&m["api"]["requests"]);
    println!("## request economy (10 days)");
    println!("details pages {pages} (minimum {min_pages}), lookups {lookups} (needed {needed}), catalog pages {catalogs}");
    println!(
        "requests {made} vs minimum {minimum}: {:+.2} % (target within 2 %)\n",
        (made as f64 / minimum as f64 - 1.0) * 100.0
    );
}

fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    match which.as_str() {
        "ingest" => ingest(),
        "e2e" => e2e(),
        "quota" => scale::quota(),
        "rss" => scale::rss(),
        "auto" => scale::auto(),
        "stress" => stress::stress(
            std::env::args()
                .nth(2)
                .map(|n| n.parse().expect("stress [runs]"))
                .unwrap_or(50),
        ),
        "all" => {
            ingest();
            e2e();
            scale::quota();
            scale::rss();
            scale::auto();
        }
        other => {
            eprintln!("unknown benchmark '{other}': use all, ingest, e2e, quota, rss, auto or stress [runs]");
            std::process::exit(2);
        }
    }
}
