//! A day's conversation ids, kept until the day ends (de-duplication across pages and intervals,
//! and the distinct rows an interval served) in a quarter of the memory of `HashSet<String>`: at
//! 100 000 conversations a day the two sets of strings held about 11 MB (issue 14).

use std::collections::HashSet;

/// A set of conversation ids. An id in the API's form, a lowercase hyphenated UUID, is kept as its
/// 128-bit value, which that form spells in exactly one way; any other id is kept as its text. So
/// two ids are one entry exactly when their texts are equal, as in a set of strings.
#[derive(Debug, Default)]
pub(crate) struct IdSet {
    uuids: HashSet<u128>,
    other: HashSet<Box<str>>,
}

impl IdSet {
    pub fn with_capacity(n: usize) -> IdSet {
        IdSet {
            uuids: HashSet::with_capacity(n),
            other: HashSet::new(),
        }
    }

    /// Room for `n` more ids without growing (a resize holds the old and the new table at once).
    pub fn reserve(&mut self, n: usize) {
        self.uuids.reserve(n);
    }

    /// Adds `id`; false when it was already there.
    pub fn insert(&mut self, id: &str) -> bool {
        match uuid_value(id) {
            Some(v) => self.uuids.insert(v),
            None if self.other.contains(id) => false,
            None => self.other.insert(id.into()),
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        match uuid_value(id) {
            Some(v) => self.uuids.contains(&v),
            None => self.other.contains(id),
        }
    }

    pub fn len(&self) -> usize {
        self.uuids.len() + self.other.len()
    }
}

/// Hex digit values by byte; 0xFF for a byte that is not a lowercase hex digit.
const HEX: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        t[b"0123456789abcdef"[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// The value of `id` when it is a lowercase hyphenated UUID (8-4-4-4-12 hex digits).
fn uuid_value(id: &str) -> Option<u128> {
    let b: &[u8; 36] = id.as_bytes().try_into().ok()?;
    if [b[8], b[13], b[18], b[23]] != [b'-'; 4] {
        return None;
    }
    let (mut v, mut bad) = (0u128, 0u8);
    for group in [0..8, 9..13, 14..18, 19..23, 24..36] {
        for &c in &b[group] {
            let d = HEX[usize::from(c)];
            bad |= d;
            v = v << 4 | u128::from(d & 0xF);
        }
    }
    (bad & 0xF0 == 0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0f8b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c3";

    #[test]
    fn a_uuid_is_read_as_its_value() {
        assert_eq!(uuid_value(ID), Some(0x0f8b1c2d_3e4f_4a5b_8c6d_7e8f90a1b2c3));
        assert_eq!(
            uuid_value("ffffffff-ffff-ffff-ffff-ffffffffffff"),
            Some(u128::MAX)
        );
        for other in [
            "0F8B1C2D-3E4F-4A5B-8C6D-7E8F90A1B2C3", // upper case: its own text
            "0f8b1c2d3e4f4a5b8c6d7e8f90a1b2c3",     // no hyphens
            "{0f8b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c3}", // braces
            "0f8b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c",  // short
            "0f8b1c2d-3e4f-4a5b-8c6d_7e8f90a1b2c3", // a wrong separator
            "0f8b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2cg", // not hex
            "0f8b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c3 ", // trailing space (37 bytes)
            "0f8b1c2d03e4f-4a5b-8c6d-7e8f90a1b2c3", // a digit where a hyphen goes
            "c-1",
            "",
        ] {
            assert_eq!(uuid_value(other), None, "{other}");
        }
    }

    #[test]
    fn ids_are_one_entry_exactly_when_their_texts_are_equal() {
        let mut set = IdSet::default();
        let upper = ID.to_uppercase();
        let ids = [
            ID,
            upper.as_str(),
            "c-1",
            "",
            "00000000-0000-0000-0000-000000000000",
        ];
        for id in ids {
            assert!(!set.contains(id), "{id}");
            assert!(set.insert(id), "{id} is new");
        }
        for id in ids {
            assert!(set.contains(id), "{id}");
            assert!(!set.insert(id), "{id} again");
        }
        assert_eq!(set.len(), ids.len());
        assert!(!set.contains("c-2"));
        assert!(!set.contains("0f8b1c2d-3e4f-4a5b-8c6d-7e8f90a1b2c4"));
    }
}
