//! `wrapup-audit plan`: what a run of a window will cost, before running it.
//!
//! Per day one details-query probe with `pageSize = 1` reads `totalHits`; the run will fetch
//! `ceil(totalHits / page_size)` pages of that day. Lookups are estimated from a rate (given, or the
//! last run's manifest in the output directory), capped by the lookup budget. The catalogs are read
//! once, as the run reads them, and counted. From the requests: the time at the configured rate, the
//! share of a monthly allowance, and a split into shards of contiguous days.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::cli::PlanCmd;
use crate::config::{Config, Env, Mode};
use crate::exit::{ExitStatus, Failure};

/// Status polls assumed per async job: at the default first wait of 250 ms, doubling, a job done in
/// about 4 s.
const JOB_POLLS: u64 = 4;
/// Rows per page of a job's results (`JobsOptions::page_size`).
const JOBS_PAGE: u64 = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct DayPlan {
    pub date: NaiveDate,
    /// `query` (details-query pages) or `jobs` (an async details job).
    pub via: &'static str,
    /// `totalHits` of the day's interval.
    pub total_hits: u64,
    /// Details requests for the day: query pages, or a job's submit, polls and result pages.
    pub pages: u64,
    /// Lookups estimated for the day.
    pub lookups: u64,
}

impl DayPlan {
    fn requests(&self) -> u64 {
        self.pages + self.lookups
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Shard {
    pub index: usize,
    pub from: NaiveDate,
    /// Exclusive.
    pub to: NaiveDate,
    pub days: usize,
    pub requests: u64,
    pub minutes: Option<f64>,
    /// A separate output root per shard, so locks and partitions never collide.
    pub output_dir: PathBuf,
    /// Each shard needs its own OAuth client (its own quota): a Secret per shard.
    pub secret: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub job: String,
    pub window_from: String,
    pub window_to: String,
    pub timezone: String,
    pub mode: &'static str,
    pub page_size: u32,
    pub requests_per_minute: u32,
    pub days: Vec<DayPlan>,
    pub conversations: u64,
    pub lookup_rate: f64,
    /// `--lookup-rate`, `manifest <path>`, or `none` (no lookups assumed).
    pub lookup_rate_source: String,
    pub lookups: u64,
    /// Requests every run makes once: catalog pages, and the jobs availability check unless mode is query.
    pub setup_requests: u64,
    /// Requests the run will make: catalogs, details pages and lookups (retries aside).
    pub requests: u64,
    /// Requests this plan itself made (probes and catalogs).
    pub probe_requests: u64,
    /// At the configured rate; `None` without a limit.
    pub minutes: Option<f64>,
    pub monthly_allowance: Option<u64>,
    /// `requests / monthly_allowance`.
    pub allowance_share: Option<f64>,
    pub shards: Vec<Shard>,
    pub notes: Vec<String>,
}

/// The lookup rate of the last run in `dir`: lookups made per conversation.
fn manifest_rate(dir: &Path) -> Option<f64> {
    let path = dir.join(crate::report::MANIFEST_FILE);
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let made = m["lookups"]["made"].as_f64()?;
    let conversations: f64 = m["partitions"]
        .as_array()?
        .iter()
        .filter_map(|p| p["conversations"].as_f64())
        .sum();
    (conversations > 0.0).then(|| made / conversations)
}

fn minutes(requests: u64, rpm: u32) -> Option<f64> {
    (rpm > 0).then(|| requests as f64 / f64::from(rpm))
}

/// Contiguous day ranges with about equal requests (each shard also makes the setup requests).
fn shards(cfg: &Config, days: &[DayPlan], n: usize, setup: u64) -> Vec<Shard> {
    if days.is_empty() {
        return Vec::new();
    }
    let n = n.clamp(1, days.len());
    let total: u64 = days.iter().map(DayPlan::requests).sum();
    let mut out = Vec::new();
    let (mut i, mut acc) = (0, 0u64);
    for k in 0..n {
        let later_shards = n - k - 1;
        let target = total * (k as u64 + 1) / n as u64;
        let begin = i;
        loop {
            acc += days[i].requests();
            i += 1;
            let days_left = days.len() - i;
            // Every later shard keeps at least one day; the last takes the rest.
            if days_left == later_shards || (later_shards > 0 && acc >= target) {
                break;
            }
        }
        let part = &days[begin..i];
        let requests = part.iter().map(DayPlan::requests).sum::<u64>() + setup;
        out.push(Shard {
            index: k,
            from: part[0].date,
            to: part[part.len() - 1].date + chrono::Duration::days(1),
            days: part.len(),
            requests,
            minutes: minutes(requests, cfg.client.requests_per_minute),
            output_dir: cfg.output_dir.join(format!("shard={k}")),
            secret: format!("wrapup-audit-genesys-{k}"),
        });
    }
    out
}

/// Builds the plan: probes, catalogs, estimates.
pub async fn plan(cmd: &PlanCmd, env: &dyn Env, now: DateTime<Utc>) -> Result<Plan, Failure> {
    let cfg = crate::commands::connect::load_config(&cmd.run, env, now)?;
    if let Some(r) = cmd.lookup_rate {
        if !(0.0..=1.0).contains(&r) {
            return Err(Failure::new(
                ExitStatus::Usage,
                format!("--lookup-rate must be between 0 and 1, not {r}"),
            ));
        }
    }
    let conn = crate::commands::connect::connect(&cfg).await?;
    let result = probe(cmd, &cfg, &conn).await;
    conn.close().await;
    result
}

// Long: one probe per day and its error cases side by side; splitting scatters the request accounting.
async fn probe(
    cmd: &PlanCmd,
    cfg: &Config,
    conn: &crate::commands::connect::Connection,
) -> Result<Plan, Failure> {
    let client = &conn.client;
    client
        .authenticate()
        .await
        .map_err(|e| crate::commands::connect::auth_failure(&e, &conn.endpoints))?;
    let before = client.stats().requests;
    crate::report::load_catalogs(client).await?;
    // Catalog pages, and in jobs or auto mode the run's one data-availability check.
    let setup_requests =
        client.stats().requests - before + u64::from(cfg.mode != crate::config::Mode::Query);

    let (lookup_rate, lookup_rate_source) = match (cmd.lookup_rate, manifest_rate(&cfg.output_dir))
    {
        (Some(r), _) => (r, "--lookup-rate".to_string()),
        (None, Some(r)) => (
            r,
            format!(
                "manifest {}",
                cfg.output_dir.join(crate::report::MANIFEST_FILE).display()
            ),
        ),
        (None, None) => (0.0, "none".to_string()),
    };
    let mut notes = Vec::new();
    if lookup_rate_source == "none" && cfg.lookup != crate::config::LookupMode::Off {
        notes.push("no lookup rate: give --lookup-rate, or plan after a run has written a manifest in the output directory; lookups counted as 0".to_string());
    }
    let ps = u64::from(cfg.page_size);
    let mut days = Vec::new();
    let mut budget = cfg.lookup_budget;
    let window_days = cfg.window.days();
    // Which days the run reads through the async jobs API: the pipeline's own rule.
    let availability = match cfg.mode {
        Mode::Query => None,
        Mode::Jobs | Mode::Auto => Some(
            crate::source::jobs::data_availability(client)
                .await
                .map_err(|e| {
                    Failure::new(
                        ExitStatus::ApiUnavailable,
                        format!("cannot read the jobs data availability: {e}"),
                    )
                })?,
        ),
    };
    for (date, start, end) in window_days.iter().copied() {
        let by_jobs = match cfg.mode {
            Mode::Query => false,
            Mode::Jobs => true,
            Mode::Auto => {
                window_days.len() >= crate::source::AUTO_JOBS_MIN_DAYS
                    && availability.is_some_and(|a| end <= a)
            }
        };
        let q = crate::source::query::build_query(&cfg.filters, start, end, 1, 1);
        let resp = client
            .details_query(&q)
            .await
            .map_err(|e| crate::source::fetch_failure(&e, date))?;
        let total = resp.total_hits.unwrap_or(0);
        if total > cfg.query_result_cap {
            notes.push(format!(
                "{date}: {total} conversations exceed the query's {}-result cap; the run splits the day, which adds a probe per split",
                cfg.query_result_cap
            ));
        }
        let pages = if by_jobs {
            // Per job: submit, status polls, result pages of JOBS_PAGE rows. The run's first jobs
            // day is read in parts, a job each.
            let first = !days.iter().any(|d: &DayPlan| d.via == "jobs");
            let parts = if first {
                u64::from(crate::source::FIRST_DAY_PARTS)
            } else {
                1
            };
            parts * (1 + JOB_POLLS + total.div_ceil(parts).div_ceil(JOBS_PAGE).max(1))
        } else {
            // A full last page is the last when `totalHits` is consistent (issue 14).
            total.div_ceil(ps).max(1)
        };
        let mut lookups = if cfg.lookup == crate::config::LookupMode::Off {
            0
        } else {
            (total as f64 * lookup_rate).round() as u64
        };
        if let Some(b) = budget.as_mut() {
            lookups = lookups.min(*b);
            *b -= lookups;
        }
        days.push(DayPlan {
            date,
            via: if by_jobs { "jobs" } else { "query" },
            total_hits: total,
            pages,
            lookups,
        });
    }
    let conversations = days.iter().map(|d| d.total_hits).sum();
    let lookups = days.iter().map(|d| d.lookups).sum();
    let requests = setup_requests + days.iter().map(DayPlan::requests).sum::<u64>();
    let rpm = cfg.client.requests_per_minute;
    if days.iter().any(|d| d.via == "jobs") {
        notes.push(format!("days read through the async jobs API count a submit, {JOB_POLLS} status polls (a job done within about 4 s) and result pages of {JOBS_PAGE} rows; slower jobs poll more; the first such day is read in {} parts, a job each", crate::source::FIRST_DAY_PARTS));
    }
    Ok(Plan {
        job: cfg.job_name.clone(),
        window_from: crate::time::iso_ms(cfg.window.from),
        window_to: crate::time::iso_ms(cfg.window.to),
        timezone: cfg.window.timezone.to_string(),
        mode: cfg.mode.as_str(),
        page_size: cfg.page_size,
        requests_per_minute: rpm,
        shards: shards(cfg, &days, cmd.shards, setup_requests),
        days,
        conversations,
        lookup_rate,
        lookup_rate_source,
        lookups,
        setup_requests,
        requests,
        probe_requests: client.stats().requests,
        minutes: minutes(requests, rpm),
        monthly_allowance: cmd.monthly_allowance,
        allowance_share: cmd
            .monthly_allowance
            .filter(|a| *a > 0)
            .map(|a| requests as f64 / a as f64),
        notes,
    })
}

fn duration_text(minutes: Option<f64>) -> String {
    match minutes {
        None => "no rate limit set".into(),
        Some(m) if m < 60.0 => format!("{m:.1} min"),
        Some(m) => format!("{:.1} h", m / 60.0),
    }
}

/// The plan for people.
pub fn render_text(p: &Plan) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Plan for job '{}': {} to {} ({}), {} days, mode {}\n\n",
        p.job,
        p.window_from,
        p.window_to,
        p.timezone,
        p.days.len(),
        p.mode
    ));
    s.push_str("date        via    conversations  details  lookups\n");
    for d in &p.days {
        s.push_str(&format!(
            "{}  {:<5}  {:>13}  {:>7}  {:>7}\n",
            d.date, d.via, d.total_hits, d.pages, d.lookups
        ));
    }
    s.push_str(&format!(
        "\nconversations  {}\nlookups        {} (rate {:.3} per conversation, from {})\nrequests       {} ({} setup, {} details, {} lookups; retries aside)\ntime           {} at {} requests/min\n",
        p.conversations,
        p.lookups,
        p.lookup_rate,
        p.lookup_rate_source,
        p.requests,
        p.setup_requests,
        p.days.iter().map(|d| d.pages).sum::<u64>(),
        p.lookups,
        duration_text(p.minutes),
        p.requests_per_minute
    ));
    match (p.monthly_allowance, p.allowance_share) {
        (Some(a), Some(share)) => s.push_str(&format!(
            "fair use       {:.2} % of the monthly allowance of {a} requests\n",
            share * 100.0
        )),
        _ => s.push_str("fair use       give --monthly-allowance N to see the share of the org's monthly allowance\n"),
    }
    s.push_str(&format!("this plan made {} requests\n", p.probe_requests));
    if p.shards.len() > 1 {
        s.push_str(
            "\nShards (contiguous days; each its own OAuth client, Secret and output root):\n",
        );
        s.push_str("index  from        to (excl.)  days  requests  time      output_dir\n");
        for sh in &p.shards {
            s.push_str(&format!(
                "{:>5}  {}  {}  {:>4}  {:>8}  {:<8}  {}\n",
                sh.index,
                sh.from,
                sh.to,
                sh.days,
                sh.requests,
                duration_text(sh.minutes),
                sh.output_dir.display()
            ));
        }
        s.push_str("Kubernetes: an Indexed Job, row i for JOB_COMPLETION_INDEX=i (jobs/kubernetes/backfill-indexed-job.yaml).\n");
        s.push_str(
            "Airflow: a task group with one task per row (jobs/airflow/wrapup_audit_dag.py).\n",
        );
    }
    for n in &p.notes {
        s.push_str(&format!("note: {n}\n"));
    }
    s
}

/// `wrapup-audit plan`.
pub async fn command(cmd: &PlanCmd, env: &dyn Env) -> Result<ExitStatus, Failure> {
    let p = plan(cmd, env, Utc::now()).await?;
    if cmd.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&p).expect("a plan serialises")
        );
    } else {
        print!("{}", render_text(&p));
    }
    Ok(ExitStatus::Success)
}
