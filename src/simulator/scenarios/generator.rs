//! The generator of one random stream: a day's conversations, or the anchored ones, come from one [`Gen`].

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::simulator::model::Str;
use crate::simulator::org::Org;

/// Builds conversations for one day (or for the anchor) from one rng stream.
pub(super) struct Gen<'a> {
    pub(super) org: &'a Org,
    pub(super) rng: ChaCha8Rng,
    pub(super) day: i64,
}

impl Gen<'_> {
    pub(super) fn pick<'b, T>(&mut self, xs: &'b [T]) -> &'b T {
        &xs[self.rng.random_range(0..xs.len())]
    }

    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..hi)
    }

    pub(super) fn code(&mut self) -> (Str, Str) {
        let c = &self.org.codes[self.rng.random_range(0..self.org.codes.len())];
        (c.id_str.clone(), c.name.clone())
    }

    pub(super) fn agents(&mut self, n: usize) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::with_capacity(n);
        while out.len() < n {
            let a = self.rng.random_range(0..self.org.agents.len());
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    pub(super) fn phone(&mut self) -> Str {
        Str::from(format!(
            "+1555{:07}",
            self.rng.random_range(0..10_000_000u32)
        ))
    }
}
