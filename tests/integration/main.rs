//! The single integration-test binary: the job end to end against the embedded simulator, in-process
//! and through the real binary. Tests bind 127.0.0.1:0 only.

mod support;

mod backfill;
mod cli;
mod cloud;
mod crash;
mod docs;
mod e2e;
mod errors;
mod faults;
mod insight;
mod integrity;
mod jobs;
mod layout;
mod operate;
mod operators;
mod pacing;
mod ranking;
mod s3;
mod sample_output;
mod stops;
mod summary_page;
mod tidy;
mod tidy_graph;
