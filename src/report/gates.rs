//! Quality gates: `fail_if` thresholds in the job that turn a finished run into exit code 7.
//!
//! The reports are written as usual; the manifest records the gates, which tripped and the value
//! that tripped them, and the run exits with [`ExitStatus::QualityGate`].

use serde::Serialize;

use crate::config::gates::Gate;
use crate::config::Config;
use crate::exit::ExitStatus;
use crate::report::closing::RunFacts;

impl Gate {
    /// The measured value in this run.
    pub fn value(&self, f: &RunFacts) -> f64 {
        match self.measure.as_str() {
            "conversations" => f.conversations as f64,
            "gaps" => f.gaps as f64,
            "gap_rate" => f.gap_rate(),
            "unexplained" => f.unexplained as f64,
            "lookups_failed" => f.lookups_failed as f64,
            "lookup_failed_rate" => f.lookup_failed_rate(),
            label => f.labels.get(label).copied().unwrap_or(0) as f64,
        }
    }
}

/// One gate as checked: the text as written, the measured value, whether it tripped.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub gate: String,
    pub value: f64,
    pub tripped: bool,
}

/// `quality_gates` in the manifest: every gate checked and those that tripped.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QualityGates {
    pub checked: Vec<Checked>,
    pub tripped: Vec<String>,
}

/// Checks the gates of a run that wrote its reports with `status`. `None` when the job has no
/// gates, or the run ended otherwise than success or partial lookups (an interrupted run keeps its
/// own status and is not judged). A tripped gate is logged here; the caller sets exit code 7.
pub fn check(cfg: &Config, status: ExitStatus, facts: &RunFacts) -> Option<QualityGates> {
    if cfg.gates.is_empty() || !matches!(status, ExitStatus::Success | ExitStatus::PartialLookups) {
        return None;
    }
    let checked: Vec<Checked> = cfg
        .gates
        .iter()
        .map(|g| {
            let value = g.value(facts);
            Checked {
                gate: g.text.clone(),
                value,
                tripped: g.tripped(value),
            }
        })
        .collect();
    let tripped: Vec<String> = checked
        .iter()
        .filter(|c| c.tripped)
        .map(|c| c.gate.clone())
        .collect();
    if !tripped.is_empty() {
        tracing::warn!(
            gates_tripped = %serde_json::to_string(&tripped).unwrap_or_default(),
            "Quality gate tripped: {}",
            tripped.join(", ")
        );
    }
    Some(QualityGates { checked, tripped })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_parse_and_trip() {
        let g = Gate::parse("gap_rate > 0.05").unwrap();
        assert!(g.tripped(0.06) && !g.tripped(0.05));
        let g = Gate::parse("conversations  <  100").unwrap();
        assert_eq!(g.text, "conversations < 100");
        assert!(g.tripped(99.0) && !g.tripped(100.0));
        assert!(Gate::parse("missing >= 1").unwrap().tripped(1.0));
        for bad in [
            "gap_rate",
            "gap_rate => 1",
            "nonsense > 1",
            "gaps > x",
            "gaps > inf",
        ] {
            assert!(Gate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_problem_is_reported() {
        let mut errors = Vec::new();
        let gates = crate::config::gates::parse_all(
            &["unexplained > 0".into(), "x > 1".into(), "gaps ~ 2".into()],
            &mut errors,
        );
        assert_eq!(gates.len(), 1);
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
