//! Random streams and ids derived from the seed.
//!
//! Each stream is keyed by `(seed, tag, n)`, so the org, any day and the anchor can each be rebuilt on their
//! own; conversation ids hide their start day so a lookup by id finds its day without an index.

use chrono::{Duration, NaiveDate};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

pub(super) const TAG_ORG: u64 = 1;
pub(super) const TAG_DAY: u64 = 2;
pub(super) const TAG_ANCHOR: u64 = 3;

pub(super) fn rng_for(seed: u64, tag: u64, n: i64) -> ChaCha8Rng {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&seed.to_le_bytes());
    s[8..16].copy_from_slice(&tag.to_le_bytes());
    s[16..24].copy_from_slice(&n.to_le_bytes());
    ChaCha8Rng::from_seed(s)
}

pub(super) fn uuid(rng: &mut impl RngCore) -> Uuid {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid()
}

pub(super) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(super) fn day_mask(seed: u64, head: &[u8]) -> u32 {
    let mut h = [0u8; 8];
    h[..6].copy_from_slice(&head[..6]);
    splitmix(seed ^ u64::from_le_bytes(h)) as u32
}

/// Days since 1970-01-01 (UTC).
pub(crate) fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days()
}

pub(crate) fn day_from_number(n: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(Duration::try_days(n)?)
}

/// A conversation id that looks random but hides its start day, so a lookup by id can find its day.
pub(super) fn conversation_id(rng: &mut impl RngCore, seed: u64, day: i64) -> Uuid {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    let code = (day as u32) ^ day_mask(seed, &b[..6]);
    b[10..14].copy_from_slice(&code.to_be_bytes());
    uuid::Builder::from_random_bytes(b).into_uuid()
}

/// The start day a simulator conversation id encodes (garbage for foreign ids; callers check existence).
pub(crate) fn day_of_id(seed: u64, id: Uuid) -> Option<NaiveDate> {
    let b = id.as_bytes();
    let code = u32::from_be_bytes([b[10], b[11], b[12], b[13]]);
    let n = i64::from(code ^ day_mask(seed, &b[..6]));
    // Only days from 1990 to 2200 are plausible; anything else is not ours.
    if !(7_300..=84_000).contains(&n) {
        return None;
    }
    day_from_number(n)
}
