//! The job's `fail_if` entries, parsed; `report::gates` measures and applies them.

use serde::Serialize;

use crate::record::ConversationLabel;

/// What a gate measures. Besides these, any conversation label counts (`missing > 10`).
const MEASURES: &[&str] = &[
    "conversations",
    "gaps",
    "gap_rate",
    "unexplained",
    "lookups_failed",
    "lookup_failed_rate",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
}

/// One `fail_if` entry, e.g. `gap_rate > 0.05`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gate {
    pub measure: String,
    pub op: Op,
    pub threshold: f64,
    /// As written in the job.
    pub text: String,
}

impl Gate {
    pub fn parse(text: &str) -> Result<Gate, String> {
        let bad = || {
            format!(
                "fail_if entry '{text}' must read 'MEASURE OP NUMBER' with OP one of > >= < <= (e.g. 'gap_rate > 0.05'); MEASURE is one of {} or a conversation label",
                MEASURES.join(", ")
            )
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let [measure, op, number] = parts.as_slice() else {
            return Err(bad());
        };
        let op = match *op {
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            _ => return Err(bad()),
        };
        let threshold: f64 = number.parse().map_err(|_| bad())?;
        if !threshold.is_finite() {
            return Err(bad());
        }
        if !MEASURES.contains(measure) && ConversationLabel::parse(measure).is_none() {
            return Err(bad());
        }
        Ok(Gate {
            measure: measure.to_string(),
            op,
            threshold,
            text: parts.join(" "),
        })
    }

    pub fn tripped(&self, value: f64) -> bool {
        match self.op {
            Op::Gt => value > self.threshold,
            Op::Ge => value >= self.threshold,
            Op::Lt => value < self.threshold,
            Op::Le => value <= self.threshold,
        }
    }
}

/// Parses the job's `fail_if` list, collecting every problem.
pub fn parse_all(entries: &[String], errors: &mut Vec<String>) -> Vec<Gate> {
    entries
        .iter()
        .filter_map(|e| Gate::parse(e).map_err(|m| errors.push(m)).ok())
        .collect()
}
