//! Named fault-injection points for tests (the `fail` crate).
//!
//! They compile to nothing unless `fail`'s `failpoints` feature is on, which only the dev-dependency
//! enables. A point acts only for the run whose output directory matches its argument, so tests that
//! run at the same time in one process never trip each other's points.

use std::path::Path;

/// Test hook: `cfg("fetch-day", "return(<output_dir>@<date>)")` makes the fetching task panic on that day.
pub fn fetch_day(output_dir: &Path, date: chrono::NaiveDate) {
    let _ = (output_dir, date);
    fail::fail_point!("fetch-day", |arg: Option<String>| {
        if arg.as_deref() == Some(format!("{}@{date}", output_dir.display()).as_str()) {
            panic!("failpoint fetch-day at date={date}");
        }
    });
}
