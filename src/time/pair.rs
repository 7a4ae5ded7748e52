//! An instant as (seconds, nanoseconds) since the Unix epoch, for rows a run writes and reads back
//! itself (a jobs day's spill): no text to format or parse, and every `DateTime<Utc>` fits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

type Pair = (i64, u32);

fn split(t: &DateTime<Utc>) -> Pair {
    (t.timestamp(), t.timestamp_subsec_nanos())
}

fn join<E: serde::de::Error>((secs, nanos): Pair) -> Result<DateTime<Utc>, E> {
    DateTime::from_timestamp(secs, nanos).ok_or_else(|| E::custom("instant out of range"))
}

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    split(t).serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    join(Pair::deserialize(d)?)
}

/// The same for an `Option<DateTime<Utc>>`.
pub mod opt {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        t.as_ref().map(split).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<Pair>::deserialize(d)?.map(join).transpose()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Row {
        #[serde(with = "super")]
        at: chrono::DateTime<chrono::Utc>,
        #[serde(with = "super::opt")]
        end: Option<chrono::DateTime<chrono::Utc>>,
    }

    #[test]
    fn instants_come_back_to_the_nanosecond_over_the_whole_range() {
        let at = [
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 19, 23, 59, 59)
                .unwrap()
                + chrono::Duration::nanoseconds(123_456_789),
            chrono::DateTime::<chrono::Utc>::MIN_UTC,
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
        ];
        for t in at {
            for end in [None, Some(t)] {
                let row = Row { at: t, end };
                let bytes = postcard::to_stdvec(&row).unwrap();
                assert_eq!(postcard::from_bytes::<Row>(&bytes).unwrap(), row);
            }
        }
    }
}
