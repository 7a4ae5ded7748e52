//! Instants as the reports and the API spell them.

use chrono::{DateTime, SecondsFormat, Utc};

/// An instant in UTC with milliseconds, as the API and every report write it.
pub fn iso_ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}
