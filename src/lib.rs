//! wrapup-audit: explains why Genesys Cloud conversations have no wrap-up code.
//!
//! The binary's `main` only parses the command line and maps the result of [`run`] to an exit code.

pub mod record;
pub mod simulator;
