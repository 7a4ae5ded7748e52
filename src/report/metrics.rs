//! Run metrics for Prometheus: a text-format file for node-exporter's textfile collector (written to a
//! temporary file and renamed, so the collector never reads half a file) and an optional push to a
//! Pushgateway with POST, whose "push-add" semantics replace only the metric families sent.
//!
//! A failed run reports only its own status, exit code, time and duration: the counts and the last
//! success time of the previous successful run stay as they were, in the file and in the Pushgateway.

use std::path::Path;
use std::time::Duration;

use base64::Engine;

use crate::config::Config;
use crate::exit::ExitStatus;
use crate::report::closing::RunFacts;

/// One metric family: its samples are (labels, value).
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

fn gauge(name: &'static str, help: &'static str, value: f64) -> Family {
    Family {
        name,
        help,
        samples: vec![(Vec::new(), value)],
    }
}

/// Success for monitoring: the reports were written and are usable (exit 0 or 1).
fn succeeded(status: ExitStatus) -> bool {
    matches!(status, ExitStatus::Success | ExitStatus::PartialLookups)
}

// Long: the metric families as a flat list, one entry per metric.
fn families(f: &RunFacts) -> Vec<Family> {
    let status = f.status();
    let now = f
        .finished
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
        .unwrap_or(0.0);
    let mut out = vec![
        gauge(
            "wrapup_audit_last_run_timestamp_seconds",
            "When the last run ended (Unix time).",
            now,
        ),
        Family {
            name: "wrapup_audit_last_run_status",
            help: "1 for the status of the last run (success, partial_lookups, quality_gate, ...).",
            samples: vec![(vec![("status", status.as_str().to_string())], 1.0)],
        },
        gauge(
            "wrapup_audit_last_run_exit_code",
            "Exit code of the last run.",
            f64::from(status.code()),
        ),
        gauge(
            "wrapup_audit_last_run_duration_seconds",
            "Duration of the last run.",
            f.duration_secs,
        ),
    ];
    if f.error.is_some() {
        // A failed run has no counts of its own: the last good ones stay.
        return out;
    }
    if succeeded(status) {
        out.push(gauge(
            "wrapup_audit_last_success_timestamp_seconds",
            "When the last run that wrote usable reports (exit 0 or 1) ended (Unix time).",
            now,
        ));
    }
    let c = |v: u64| v as f64;
    out.extend([
        gauge(
            "wrapup_audit_conversations",
            "Conversations audited by the last finished run.",
            c(f.conversations),
        ),
        gauge("wrapup_audit_legs", "Agent legs audited.", c(f.legs)),
        Family {
            name: "wrapup_audit_conversations_by_label",
            help: "Conversations per label.",
            samples: f
                .labels
                .iter()
                .map(|(l, n)| (vec![("label", l.clone())], c(*n)))
                .collect(),
        },
        gauge(
            "wrapup_audit_gaps",
            "Conversations whose missing code is a gap to chase.",
            c(f.gaps),
        ),
        gauge(
            "wrapup_audit_gap_ratio",
            "Gaps per conversation.",
            f.gap_rate(),
        ),
        gauge(
            "wrapup_audit_lookups_made",
            "Conversation lookups made.",
            c(f.lookups_made),
        ),
        gauge(
            "wrapup_audit_lookups_failed",
            "Lookups that ended in lookup_failed.",
            c(f.lookups_failed),
        ),
        gauge(
            "wrapup_audit_api_requests",
            "API requests made (retries included).",
            c(f.requests),
        ),
        gauge(
            "wrapup_audit_api_rate_limited",
            "API answers with status 429.",
            c(f.rate_limited),
        ),
        gauge(
            "wrapup_audit_api_retries",
            "Requests retried.",
            c(f.retries),
        ),
        gauge(
            "wrapup_audit_quality_gates_tripped",
            "fail_if quality gates that tripped.",
            f.gates_tripped.len() as f64,
        ),
    ]);
    out
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The text exposition of `families`, each sample with the `extra` labels first.
fn render(families: &[Family], extra: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for fam in families {
        out.push_str(&format!(
            "# HELP {} {}\n# TYPE {} gauge\n",
            fam.name, fam.help, fam.name
        ));
        for (labels, v) in &fam.samples {
            let all: Vec<String> = extra
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .chain(labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))))
                .collect();
            if all.is_empty() {
                out.push_str(&format!("{} {}\n", fam.name, number(*v)));
            } else {
                out.push_str(&format!(
                    "{}{{{}}} {}\n",
                    fam.name,
                    all.join(","),
                    number(*v)
                ));
            }
        }
    }
    out
}

/// The previous file's families that this run does not replace (blocks start at `# HELP name`).
fn carried_over(previous: &str, replaced: &[&str]) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in previous.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split_whitespace().next().unwrap_or("");
            keep = !replaced.contains(&name);
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The text file for `facts`, keeping what a failed run does not replace from `previous`.
pub fn textfile_contents(facts: &RunFacts, previous: Option<&str>) -> String {
    let fams = families(facts);
    let mut text = render(&fams, &[("job_name", &facts.job)]);
    if let Some(prev) = previous {
        let names: Vec<&str> = fams.iter().map(|f| f.name).collect();
        text.push_str(&carried_over(prev, &names));
    }
    text
}

/// Writes the text file: a temporary file beside it, then a rename.
pub fn write_textfile(path: &Path, facts: &RunFacts) -> anyhow::Result<()> {
    let previous = std::fs::read_to_string(path).ok();
    let text = textfile_contents(facts, previous.as_deref());
    crate::sink::write_file_atomically(path, 0, |w| Ok(w.write_all(text.as_bytes())?))?;
    Ok(())
}

/// The Pushgateway URL of this job's group: `job` and `instance` labels, base64-encoded so that any
/// value (slashes included) is a valid path segment.
pub fn push_url(base: &str, job: &str, instance: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE.encode(s.as_bytes());
    format!(
        "{base}/metrics/job@base64/{}/instance@base64/{}",
        b64(job),
        b64(instance)
    )
}

/// POSTs the run's families (push-add: families not sent are kept).
pub async fn push(base: &str, instance: &str, facts: &RunFacts) -> anyhow::Result<()> {
    crate::api::install_tls_provider();
    let body = render(&families(facts), &[]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let resp = client
        .post(push_url(base, &facts.job, instance))
        .header("content-type", "text/plain; version=0.0.4")
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        anyhow::bail!("HTTP {status}: {}", text.trim());
    }
    Ok(())
}

/// Writes and pushes the metrics a job asks for. Failing to do so is logged, never fatal: the reports
/// are what the run is for, and a missing metric raises its own staleness alert.
pub async fn publish(cfg: &Config, facts: &RunFacts) {
    let m = &cfg.metrics;
    if let Some(path) = &m.textfile {
        match write_textfile(path, facts) {
            Ok(()) => {
                tracing::info!(metrics_file = %path.display(), "Wrote metrics to {}", path.display())
            }
            Err(e) => {
                tracing::warn!(metrics_file = %path.display(), "cannot write the metrics file {}: {e:#}", path.display())
            }
        }
    }
    if let Some(url) = &m.pushgateway_url {
        let instance = m
            .instance
            .clone()
            .unwrap_or_else(|| facts.output_dir.display().to_string());
        match push(url, &instance, facts).await {
            Ok(()) => {
                tracing::info!(pushgateway = %url, instance = %instance, "Pushed metrics to {url}")
            }
            Err(e) => tracing::warn!(pushgateway = %url, "cannot push metrics to {url}: {e:#}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_keeps_the_last_success_and_counts() {
        let ok = RunFacts {
            job: "nightly".into(),
            status: Some(ExitStatus::Success),
            finished: Some(chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap()),
            conversations: 120,
            ..RunFacts::default()
        };
        let first = textfile_contents(&ok, None);
        assert!(
            first.contains(
                "wrapup_audit_last_success_timestamp_seconds{job_name=\"nightly\"} 1700000000\n"
            ),
            "{first}"
        );
        let failed = RunFacts {
            status: Some(ExitStatus::ApiUnavailable),
            finished: Some(chrono::DateTime::from_timestamp(1_700_086_400, 0).unwrap()),
            error: Some("down".into()),
            ..ok.clone()
        };
        let second = textfile_contents(&failed, Some(&first));
        assert!(
            second.contains(
                "wrapup_audit_last_success_timestamp_seconds{job_name=\"nightly\"} 1700000000\n"
            ),
            "{second}"
        );
        assert!(
            second.contains("wrapup_audit_conversations{job_name=\"nightly\"} 120\n"),
            "{second}"
        );
        assert!(
            second.contains("wrapup_audit_last_run_exit_code{job_name=\"nightly\"} 4\n"),
            "{second}"
        );
        assert_eq!(
            second
                .matches("# HELP wrapup_audit_last_run_exit_code ")
                .count(),
            1
        );
    }

    #[test]
    fn push_urls_encode_any_label_value() {
        assert_eq!(
            push_url("http://pg:9091", "nightly", "/reports/wrapup"),
            "http://pg:9091/metrics/job@base64/bmlnaHRseQ==/instance@base64/L3JlcG9ydHMvd3JhcHVw"
        );
    }
}
