//! The facts of a finished run, shared by its closing log line, its metrics and its quality gates.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::exit::{ExitStatus, Failure};
use crate::report::summary::{conversation_kind, Kind};
use crate::report::RunResult;
use crate::stats::RunOutcome;

/// What an operator (or a scheduler) needs to know about a run once it ended.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    pub run_id: String,
    pub job: String,
    pub status: Option<ExitStatus>,
    pub output_dir: PathBuf,
    /// Present when the run wrote it.
    pub summary_html: Option<PathBuf>,
    pub finished: Option<DateTime<Utc>>,
    pub duration_secs: f64,
    pub conversations: u64,
    pub legs: u64,
    /// Conversations whose label is a gap (a missing code an analyst must chase).
    pub gaps: u64,
    /// Of those, `unexplained`.
    pub unexplained: u64,
    pub labels: BTreeMap<String, u64>,
    pub lookups_made: u64,
    pub lookups_failed: u64,
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    /// Quality gates that tripped, as written in the job (`gap_rate > 0.05`).
    pub gates_tripped: Vec<String>,
    /// The error of a failed run.
    pub error: Option<String>,
}

impl RunFacts {
    /// The facts of a run that wrote its reports.
    pub fn finished(
        job: &str,
        result: &RunResult,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> RunFacts {
        let mut f = RunFacts {
            run_id: result.run_id.clone(),
            job: job.to_string(),
            status: Some(result.status),
            output_dir: result.output_dir.clone(),
            finished: Some(finished),
            duration_secs: (finished - started).num_milliseconds() as f64 / 1000.0,
            ..RunFacts::default()
        };
        let html = result.output_dir.join(crate::report::SUMMARY_HTML);
        f.summary_html = html.is_file().then_some(html);
        if let Some(o) = &result.outcome {
            f.count(o);
        }
        f.gates_tripped = result.gates_tripped.clone();
        f
    }

    /// The counts of a run's outcome (what the quality gates measure).
    pub fn count(&mut self, o: &RunOutcome) {
        self.conversations = o.conversations;
        self.legs = o.legs;
        self.labels = o.totals.labels.clone();
        self.gaps = o
            .totals
            .labels
            .iter()
            .filter(|(l, _)| conversation_kind(l) == Kind::Gap)
            .map(|(_, n)| n)
            .sum();
        self.unexplained = o.totals.labels.get("unexplained").copied().unwrap_or(0);
        self.lookups_made = o.totals.lookups.made;
        self.lookups_failed = o.totals.lookups.failed;
        self.requests = o.api.requests;
        self.retries = o.api.retries;
        self.rate_limited = o.api.rate_limited;
    }

    /// The facts of a run that failed before its reports were complete.
    pub fn failed(
        job: &str,
        run_id: &str,
        output_dir: PathBuf,
        failure: &Failure,
        started: DateTime<Utc>,
        finished: DateTime<Utc>,
    ) -> RunFacts {
        RunFacts {
            run_id: run_id.to_string(),
            job: job.to_string(),
            status: Some(failure.status),
            output_dir,
            finished: Some(finished),
            duration_secs: (finished - started).num_milliseconds() as f64 / 1000.0,
            error: Some(failure.message.clone()),
            ..RunFacts::default()
        }
    }

    pub fn status(&self) -> ExitStatus {
        self.status.unwrap_or(ExitStatus::Success)
    }

    /// Gaps per conversation; 0 for an empty run.
    pub fn gap_rate(&self) -> f64 {
        ratio(self.gaps, self.conversations)
    }

    /// Failed lookups per lookup made; 0 without lookups.
    pub fn lookup_failed_rate(&self) -> f64 {
        ratio(self.lookups_failed, self.lookups_made)
    }

    /// The run's last log line: where the reports are, the status and the counts that matter. Under
    /// `--log-format json` the same facts are its fields.
    pub fn log_closing(&self) {
        let status = self.status();
        let html = self
            .summary_html
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let gates = if self.gates_tripped.is_empty() {
            String::new()
        } else {
            format!("; quality gate tripped: {}", self.gates_tripped.join(", "))
        };
        tracing::info!(
            status = status.as_str(),
            exit_code = status.code(),
            output_dir = %self.output_dir.display(),
            summary_html = %html,
            conversations = self.conversations,
            legs = self.legs,
            gaps = self.gaps,
            gap_rate = self.gap_rate(),
            lookups = self.lookups_made,
            lookups_failed = self.lookups_failed,
            requests = self.requests,
            retries = self.retries,
            rate_limited = self.rate_limited,
            duration_s = self.duration_secs,
            labels = %serde_json::to_string(&self.labels).unwrap_or_default(),
            gates_tripped = %serde_json::to_string(&self.gates_tripped).unwrap_or_default(),
            "Run {} finished with status {} (exit {}): reports in {}, open {html}; {} conversations, {} gaps ({:.1} %), {} lookups ({} failed), {} requests{gates}",
            self.run_id,
            status.as_str(),
            status.code(),
            self.output_dir.display(),
            self.conversations,
            self.gaps,
            self.gap_rate() * 100.0,
            self.lookups_made,
            self.lookups_failed,
            self.requests,
        );
    }
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}
