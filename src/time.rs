//! Time arithmetic, pure: instants as the reports and the API spell them, the run window and its
//! report days, local midnights (also in a daylight-saving gap), and the instants flags name.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

pub mod pair;
pub mod rfc3339;

/// An instant in UTC with milliseconds, as the API and every report write it.
pub fn iso_ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The half-open run window and its report days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub timezone: Tz,
}

impl Window {
    /// The calendar days (in the job's time zone) the window touches, each with its clipped UTC interval.
    pub fn days(&self) -> Vec<(NaiveDate, DateTime<Utc>, DateTime<Utc>)> {
        let first = self.from.with_timezone(&self.timezone).date_naive();
        let last = (self.to - chrono::Duration::milliseconds(1))
            .with_timezone(&self.timezone)
            .date_naive();
        let mut out = Vec::new();
        let mut d = first;
        while d <= last {
            let next = d.checked_add_days(Days::new(1)).expect("date in range");
            let start = local_midnight(self.timezone, d).max(self.from);
            let end = local_midnight(self.timezone, next).min(self.to);
            if start < end {
                out.push((d, start, end));
            }
            d = next;
        }
        out
    }
}

/// The first instant of `date` in `tz`, also where midnight falls into a DST gap.
pub fn local_midnight(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let mut t = date.and_hms_opt(0, 0, 0).expect("midnight");
    // A gap is at most a few hours; step forward until the local time exists.
    for _ in 0..24 * 4 {
        if let Some(dt) = tz.from_local_datetime(&t).earliest() {
            return dt.with_timezone(&Utc);
        }
        t += chrono::Duration::minutes(15);
    }
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight"))
}

/// Earliest and latest year a window or `as_of` may name; chrono's own limits are far beyond.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// Parses `--from`/`--to`: a date (local midnight), a local date-time, or an RFC 3339 instant.
pub fn parse_instant(s: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let t = parse_instant_any(s, tz)?;
    // Day arithmetic near chrono's own limits would panic; no audit needs such dates.
    if !YEARS.contains(&t.year()) {
        return Err(format!(
            "'{}' is outside the years {} to {}",
            s.trim(),
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(t)
}

fn parse_instant_any(s: &str, tz: Tz) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(local_midnight(tz, d));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(ndt) = NaiveDateTime::parse_from_str(s, fmt) {
            return tz
                .from_local_datetime(&ndt)
                .earliest()
                .map(|d| d.with_timezone(&Utc))
                .ok_or_else(|| format!("{s} does not exist in {tz} (daylight-saving gap)"));
        }
    }
    Err(format!("cannot read '{s}' as a date (2026-11-20), local date-time (2026-11-20T08:00) or RFC 3339 instant"))
}
