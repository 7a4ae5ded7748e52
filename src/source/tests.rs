//! The fetching task against the simulator: how far jobs days run ahead of a writer that waits.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::api::auth::Credentials;
use crate::api::{ClientOptions, Endpoints};
use crate::config::{RawJob, RunArgs};
use crate::simulator::{self, LoggedRequest, SimConfig};

const JOBS: &str = "/api/v2/analytics/conversations/details/jobs";

/// The most jobs whose requests overlap in time: each job from its first status poll to its
/// last results page (a DELETE on stopping does not count).
fn most_jobs_at_once(log: &[LoggedRequest]) -> usize {
    let mut spans: HashMap<&str, (DateTime<Utc>, DateTime<Utc>)> = HashMap::new();
    for r in log.iter().filter(|r| r.method == "GET") {
        let Some(rest) = r.path.strip_prefix(JOBS).and_then(|p| p.strip_prefix('/')) else {
            continue;
        };
        let id = rest.split('/').next().unwrap_or_default();
        if id == "availability" {
            continue;
        }
        let span = spans.entry(id).or_insert((r.at, r.at));
        if r.path.ends_with("/results") {
            span.1 = r.at;
        }
    }
    spans
        .values()
        .map(|&(start, _)| {
            spans
                .values()
                .filter(|(s, e)| *s <= start && start <= *e)
                .count()
        })
        .max()
        .unwrap_or(0)
}

// A writer that never reads: with eight jobs days, the days ahead run their jobs anyway, two at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_days_ahead_take_free_job_slots_while_the_writer_waits() {
    let sim = simulator::start(SimConfig::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let args = RunArgs {
        simulator: true,
        output_dir: Some(tmp.path().to_path_buf()),
        ..RunArgs::default()
    };
    let env: Vec<(String, String)> = Vec::new();
    let mut cfg = Config::build(RawJob::default(), &args, &env, sim.now()).unwrap();
    cfg.jobs.poll_initial = Duration::from_millis(1);
    cfg.jobs.poll_max = Duration::from_millis(4);
    let client = ApiClient::new(
        Endpoints {
            api_base: sim.base_url(),
            login_base: sim.base_url(),
        },
        Credentials::new(sim.client_id(), sim.client_secret()),
        &ClientOptions {
            requests_per_minute: 0,
            ..Default::default()
        },
    )
    .unwrap();
    let last = sim.now().date_naive().pred_opt().unwrap();
    let todo: Vec<DayTodo> = (0..8)
        .rev()
        .map(|back| {
            let date = last - chrono::Duration::days(back);
            let start = date.and_hms_opt(0, 0, 0).unwrap().and_utc();
            DayTodo {
                date,
                start,
                end: start + chrono::Duration::days(1),
                jobs: true,
            }
        })
        .collect();
    let cancel = CancellationToken::new();
    let (rx, task) = spawn_fetching(
        Arc::new(client),
        Arc::new(cfg),
        todo,
        crate::progress::Progress::new(8, false),
        cancel.clone(),
    );
    // Eight messages fill the channel in the third day: days 4 to 6 are the ones ahead of it.
    let submits = || {
        sim.request_log()
            .iter()
            .filter(|r| r.method == "POST" && r.path == JOBS)
            .count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while submits() < 6 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(submits(), 6, "jobs submitted while the writer waits");
    let log = sim.request_log();
    let most = most_jobs_at_once(&log);
    assert!(most <= jobs_day::JOBS_AT_ONCE, "{most} jobs at once");
    drop(rx);
    task.finish(Duration::from_secs(20)).await;
    sim.shutdown().await;
}
