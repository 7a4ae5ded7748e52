//! The read-only commands: `explain`, `check`, `plan`.

pub mod check;
pub mod explain;
pub mod plan;
