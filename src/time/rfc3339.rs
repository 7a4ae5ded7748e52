//! RFC 3339 instants as the analytics API writes them (`2026-11-20T08:15:00.123Z`), read without
//! chrono's general format parser, and written the way the CSV files spell them without its format
//! strings: a detail record carries two per segment and a row one or two, and chrono's parser and
//! formatter were a measurable share of a run's CPU (issue 14). Anything not in the fixed shape (a
//! space for the `T`, a lower-case `z`, a leap second, more than nine fractional digits, a year past
//! 9999) goes to chrono, so what is accepted, its value and the text written are exactly chrono's.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Timelike, Utc};
use serde::de::{self, Deserializer, Visitor};

/// The CSV files' timestamp text: UTC, milliseconds (truncated), `Z`.
pub const CSV_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// `t` as [`CSV_FORMAT`] spells it: `2026-11-20T08:15:00.123Z`.
pub fn format_ms(t: DateTime<Utc>) -> String {
    let (year, nanos) = (t.year(), t.nanosecond());
    // A leap second's nanoseconds run past 10^9; chrono knows how to write it.
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return t.format(CSV_FORMAT).to_string();
    }
    let mut b = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for c in b[at..at + width].iter_mut().rev() {
            *c = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 3, nanos / 1_000_000);
    std::str::from_utf8(&b).expect("ASCII digits").to_owned()
}

/// The instant `s` names, in UTC; chrono's error where it is not RFC 3339.
pub fn parse(s: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match fast(s.as_bytes()) {
        Some(t) => Ok(t),
        None => s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`, or `None` for chrono to decide.
fn fast(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20 || [b[4], b[7], b[10], b[13], b[16]] != *b"--T::" {
        return None;
    }
    let digit = |i: usize| -> Option<u32> {
        let d = b.get(i)?.wrapping_sub(b'0');
        (d < 10).then_some(u32::from(d))
    };
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let year = two(0)? * 100 + two(2)?;
    let (month, day, hour, minute, second) = (two(5)?, two(8)?, two(11)?, two(14)?, two(17)?);
    // 60 (a leap second) is chrono's to read.
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0;
    if b[i] == b'.' {
        let first = i + 1;
        i = first;
        while let Some(d) = digit(i) {
            nanos = nanos * 10 + d;
            i += 1;
        }
        let digits = i - first;
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos *= 10u32.pow(9 - digits as u32);
    }
    let offset = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (two(i + 1)?, two(i + 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let local = NaiveDate::from_ymd_opt(year as i32, month, day)?
        .and_hms_nano_opt(hour, minute, second, nanos)?;
    let t = FixedOffset::east_opt(offset)?
        .from_local_datetime(&local)
        .single()?;
    Some(t.with_timezone(&Utc))
}

struct InstantVisitor;

impl Visitor<'_> for InstantVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<DateTime<Utc>, E> {
        parse(s).map_err(E::custom)
    }
}

struct OptionVisitor;

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<DateTime<Utc>>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 formatted date and time string or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(InstantVisitor).map(Some)
    }
}

/// `#[serde(deserialize_with = "…::instant")]` for a `DateTime<Utc>` field.
pub fn instant<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(InstantVisitor)
}

/// `#[serde(default, deserialize_with = "…::opt_instant")]` for an `Option<DateTime<Utc>>` field.
pub fn opt_instant<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    d.deserialize_option(OptionVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path and chrono agree on every input: the same instant, or both refuse.
    #[track_caller]
    fn check(s: &str, fast_path: bool) {
        let chrono = s
            .parse::<DateTime<FixedOffset>>()
            .map(|t| t.with_timezone(&Utc));
        assert_eq!(parse(s).ok(), chrono.ok(), "{s}");
        assert_eq!(fast(s.as_bytes()).is_some(), fast_path, "{s}");
    }

    #[test]
    fn the_api_shapes_take_the_fast_path_and_agree_with_chrono() {
        for s in [
            "2026-11-20T08:15:00.123Z",
            "2026-11-20T08:15:00Z",
            "2026-11-20T08:15:00.1Z",
            "2026-11-20T08:15:00.12Z",
            "2026-11-20T08:15:00.123456Z",
            "2026-11-20T08:15:00.123456789Z",
            "2026-11-20T08:15:00.000Z",
            "2026-11-20T23:59:59.999Z",
            "2026-11-20T08:15:00.123+01:00",
            "2026-11-20T00:15:00.123+01:00",
            "2026-11-20T23:15:00-05:30",
            "2026-12-31T23:59:59.999-00:00",
            "2026-01-01T00:00:00+23:59",
            "2024-02-29T12:00:00Z",
            "1970-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
        ] {
            check(s, true);
        }
    }

    #[test]
    fn other_shapes_go_to_chrono() {
        for s in [
            "2026-11-20 08:15:00Z",
            "2026-11-20t08:15:00z",
            "2026-11-20T08:15:00.1234567891Z",
            "2016-12-31T23:59:60Z",
            "2026-11-20T08:15:00.Z",
            "2026-11-20T08:15:00",
            "2026-11-20T08:15:00+0100",
            "2026-11-20T08:15:00+01",
            "2026-11-20T08:15:00ZZ",
            "2026-11-20T08:15:00Z ",
            "2026-02-30T08:15:00Z",
            "2025-02-29T08:15:00Z",
            "2026-13-01T08:15:00Z",
            "2026-11-20T24:00:00Z",
            "2026-11-20T08:60:00Z",
            "2026-11-20T08:15:00+24:00",
            "2026-11-20T08:15:00+01:60",
            "2026-11-2OT08:15:00Z",
            "+2026-11-20T08:15:00Z",
            "2026-11-20T08:15:0Z",
            "",
            "2026-11-20T08:15:00.123Zjunk",
            "2026-11-20T08:15:00.１２Z",
        ] {
            check(s, false);
        }
    }

    #[test]
    fn format_ms_writes_what_chrono_writes() {
        let check = |t: DateTime<Utc>| assert_eq!(format_ms(t), t.format(CSV_FORMAT).to_string());
        // Every field's carries and widths: a stride through the years 0 to 9999 that lands on
        // every millisecond digit, hour and minute sooner or later.
        let (first, last) = (
            NaiveDate::from_ymd_opt(0, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap(),
            NaiveDate::from_ymd_opt(9999, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 999_999_999)
                .unwrap(),
        );
        let (first, last) = (first.and_utc(), last.and_utc());
        let mut t = first;
        while t <= last {
            check(t);
            t += chrono::Duration::nanoseconds(3_155_760_000_123_457);
        }
        check(first);
        check(last);
        check(Utc.with_ymd_and_hms(2026, 11, 20, 8, 15, 0).unwrap());
        check("2026-11-20T08:15:00.9999Z".parse().unwrap());
        // Chrono's own text where the fixed shape ends.
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_milli_opt(23, 59, 59, 1_500)
            .unwrap()
            .and_utc();
        check(leap);
        check(
            NaiveDate::from_ymd_opt(-1, 6, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc(),
        );
        check(
            NaiveDate::from_ymd_opt(10_000, 6, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc(),
        );
    }

    #[test]
    fn fields_decode_through_serde() {
        #[derive(Debug, serde::Deserialize)]
        struct R {
            #[serde(deserialize_with = "instant")]
            a: DateTime<Utc>,
            #[serde(default, deserialize_with = "opt_instant")]
            b: Option<DateTime<Utc>>,
            #[serde(default, deserialize_with = "opt_instant")]
            c: Option<DateTime<Utc>>,
        }
        let r: R = serde_json::from_str(r#"{"a":"2026-11-20T08:15:00.123Z","b":null}"#).unwrap();
        assert_eq!(r.a.timestamp_millis(), 1_795_162_500_123);
        assert_eq!((r.b, r.c), (None, None));
        // An escaped string is decoded before it is parsed.
        let r: R = serde_json::from_str(
            r#"{"a":"2026-11-20T08:15:00\u002e5Z","c":"2026-11-20T09:15:00.5+01:00"}"#,
        )
        .unwrap();
        assert_eq!(Some(r.a), r.c);
        let bad = serde_json::from_str::<R>(r#"{"a":"2026-11-20"}"#).unwrap_err();
        assert!(bad.to_string().contains("premature end of input"), "{bad}");
        assert!(serde_json::from_str::<R>(r#"{"a":1}"#).is_err());
    }
}
