//! Fetching a day's conversations: the details query (`query`) and the async jobs API (`jobs`).

pub mod jobs;
pub mod jobs_day;
pub mod query;
pub mod spill;
