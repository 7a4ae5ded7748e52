//! Quality gates: `fail_if` thresholds in the job that turn a finished run into exit code 7.
//!
//! The reports are written as usual; the manifest then records the gates, which tripped and the
//! value that tripped them, and the run exits with [`ExitStatus::QualityGate`].

use serde::Serialize;

use crate::config::gates::Gate;
use crate::config::Config;
use crate::exit::{ExitStatus, Failure};
use crate::report::closing::RunFacts;
use crate::report::RunResult;

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

#[derive(Debug, Serialize)]
struct Checked<'a> {
    gate: &'a str,
    value: f64,
    tripped: bool,
}

/// Checks the gates of a run that wrote its reports. A tripped gate sets the exit status (over
/// success and partial lookups; an interrupted run keeps its own) and is recorded in the manifest.
pub fn apply(cfg: &Config, result: &mut RunResult, facts: &mut RunFacts) -> Result<(), Failure> {
    if cfg.gates.is_empty()
        || !matches!(
            result.status,
            ExitStatus::Success | ExitStatus::PartialLookups
        )
    {
        return Ok(());
    }
    let checked: Vec<Checked> = cfg
        .gates
        .iter()
        .map(|g| {
            let value = g.value(facts);
            Checked {
                gate: &g.text,
                value,
                tripped: g.tripped(value),
            }
        })
        .collect();
    let tripped: Vec<String> = checked
        .iter()
        .filter(|c| c.tripped)
        .map(|c| c.gate.to_string())
        .collect();
    if !tripped.is_empty() {
        result.status = ExitStatus::QualityGate;
        facts.status = Some(ExitStatus::QualityGate);
        facts.gates_tripped = tripped.clone();
        tracing::warn!(
            gates_tripped = %serde_json::to_string(&tripped).unwrap_or_default(),
            "Quality gate tripped: {}",
            tripped.join(", ")
        );
    }
    record_in_manifest(cfg, result.status, &checked, &tripped).map_err(|e| {
        Failure::new(
            ExitStatus::Output,
            format!(
                "cannot record the quality gates in {}: {e:#}",
                cfg.output_dir.join(crate::report::MANIFEST_FILE).display()
            ),
        )
    })
}

fn record_in_manifest(
    cfg: &Config,
    status: ExitStatus,
    checked: &[Checked],
    tripped: &[String],
) -> anyhow::Result<()> {
    let path = cfg.output_dir.join(crate::report::MANIFEST_FILE);
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
    let m = manifest
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("the manifest is not a JSON object"))?;
    m.insert("status".into(), status.as_str().into());
    m.insert("exit_code".into(), status.code().into());
    m.insert(
        "quality_gates".into(),
        serde_json::json!({ "checked": checked, "tripped": tripped }),
    );
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    crate::sink::write_file_atomically(&path, 0, |w| Ok(w.write_all(text.as_bytes())?))?;
    Ok(())
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
