//! The simulator's request handlers, one file per API area, plus the [`gate`](gate::gate) middleware that
//! guards them all.

pub(crate) mod auth;
pub(crate) mod conversations;
pub(crate) mod details;
pub(crate) mod error;
pub(crate) mod gate;
pub(crate) mod jobs;
pub(crate) mod listings;
