//! The fetching task against the simulator: how far jobs days run ahead of a writer that waits.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::api::auth::Credentials;
use crate::api::{ClientOptions, Endpoints};
use crate::config::{RawJob, RunArgs};
use crate::simulator::{self, LoggedRequest, SimConfig, SimHandle};

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

/// A client of `sim` with limiting off (the jobs tests' too).
pub(crate) fn client_for(sim: &SimHandle) -> Arc<ApiClient> {
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
    Arc::new(client)
}

/// The fetching task over `days` jobs days ending yesterday (by the simulator's clock).
fn fetch_days(
    sim: &SimHandle,
    dir: &std::path::Path,
    days: i64,
) -> (mpsc::Receiver<Msg>, AbortOnDrop) {
    let args = RunArgs {
        simulator: true,
        output_dir: Some(dir.to_path_buf()),
        ..RunArgs::default()
    };
    let env: Vec<(String, String)> = Vec::new();
    let mut cfg = Config::build(RawJob::default(), &args, &env, sim.now()).unwrap();
    cfg.jobs.poll_initial = Duration::from_millis(1);
    cfg.jobs.poll_max = Duration::from_millis(4);
    let client = client_for(sim);
    let last = sim.now().date_naive().pred_opt().unwrap();
    let todo: Vec<DayTodo> = (0..days)
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
    spawn_fetching(
        client,
        Arc::new(cfg),
        todo,
        crate::progress::Progress::new(days as u64, false),
        CancellationToken::new(),
    )
}

/// The days (interval starts' dates) that have a job at the simulator.
fn days_with_jobs(sim: &SimHandle) -> BTreeSet<chrono::NaiveDate> {
    sim.job_states()
        .iter()
        .map(|(_, _, start)| start.date_naive())
        .collect()
}

// A writer that never reads: the days ahead run their jobs anyway, two at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_days_ahead_take_free_job_slots_while_the_writer_waits() {
    let sim = simulator::start(SimConfig::default()).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (rx, task) = fetch_days(&sim, tmp.path(), 8);
    // The first day's parts and its Done fill the channel's eight messages in the second day: days 3
    // to 5 are the ones ahead of it (a day ahead of the writer used to be the limit: 4 days).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while days_with_jobs(&sim).len() < 5 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        days_with_jobs(&sim).len(),
        5,
        "days whose jobs ran while the writer waits"
    );
    let most = most_jobs_at_once(&sim.request_log());
    assert!(most <= jobs_day::JOBS_AT_ONCE, "{most} jobs at once");
    drop(rx);
    task.finish(Duration::from_secs(20)).await;
    sim.shutdown().await;
}

// Jobs take 8 status polls (about a quarter of a second): the first day's rows reach the writer when
// its first part is read, while its last parts are still running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_days_rows_are_sent_before_its_last_part_is_read() {
    let sim = simulator::start(SimConfig {
        job_polls_to_fulfil: 8,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (mut rx, task) = fetch_days(&sim, tmp.path(), 2);
    let Some(Msg::Day(first, start, _)) = rx.recv().await else {
        panic!("a day first");
    };
    let Some(Msg::Rows(rows)) = rx.recv().await else {
        panic!("rows next");
    };
    let states = sim.job_states();
    let parts: Vec<_> = states
        .iter()
        .filter(|(_, _, s)| s.date_naive() == first)
        .collect();
    // Parts still to read: not yet submitted, or not yet fulfilled.
    assert!(
        parts.len() < jobs_day::FIRST_DAY_PARTS as usize
            || parts.iter().any(|(_, state, _)| *state != "FULFILLED"),
        "a part of the day was still to read: {parts:?}"
    );
    assert!(rows.iter().all(|r| r.start >= start));
    // The whole day, in order, once: the parts' rows follow each other.
    let mut ids: Vec<_> = rows.iter().map(|r| (r.start, r.id.clone())).collect();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Rows(rows) => ids.extend(rows.iter().map(|r| (r.start, r.id.clone()))),
            Msg::Done(done) => {
                done.unwrap();
                break;
            }
            _ => panic!("rows or done"),
        }
    }
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "in (start, id) order, each once"
    );
    let truth = sim.ground_truth(start, start + chrono::Duration::days(1), 0, sim.now());
    assert_eq!(ids.len(), truth.len());
    let parts = sim
        .job_states()
        .iter()
        .filter(|(_, _, s)| s.date_naive() == first)
        .count();
    assert_eq!(parts, jobs_day::FIRST_DAY_PARTS as usize);
    drop(rx);
    task.finish(Duration::from_secs(20)).await;
    sim.shutdown().await;
}
