//! One module per command (`run`, `validate`, `simulate`, `explain`, `check`, `plan`) and what
//! they share (`connect`).

pub mod check;
pub mod connect;
pub mod explain;
pub mod plan;
pub mod run;
pub mod simulate;
pub mod validate;
