//! Value frequencies: exact counts while the column has few distinct values, heavy hitters beyond.
//!
//! Values are kept as their canonical bytes (see `value.rs`). Up to the limit every value has an
//! exact count, which gives exact top-k, the exact value set for relationship checks and the
//! groups of inconsistent representations. Past the limit the map becomes a Misra–Gries summary
//! of at most 2×`limit` counters: any value more frequent than `error_bound` is kept, and its
//! count is a lower bound at most `error_bound` under the truth (`error_bound` ≤ rows/limit).
//! Unlike exact counts, which values survive depends on the order chunks arrive in; reports
//! flag such lists as approximate. Reports say which of the two a top-k list is.

use std::collections::HashMap;

use xxhash_rust::xxh3::Xxh3Builder;

/// Counts per value.
#[derive(Clone, Default)]
pub struct Frequencies {
    counts: HashMap<Box<[u8]>, u64, Xxh3Builder>,
    /// Set once the exact map overflowed; counts are Misra–Gries lower bounds from then on.
    pub approximate: bool,
    /// Sum of the decrements applied (the bound on how far any count is under).
    pub error_bound: u64,
}

impl Frequencies {
    /// Counts one occurrence of `value`.
    #[inline]
    pub fn add(&mut self, value: &[u8], limit: usize) {
        self.add_n(value, 1, limit);
    }

    /// Counts `n` occurrences of `value`.
    ///
    /// Past `limit` distinct values this is Misra–Gries with batched decrements: the map may grow
    /// to twice the limit, then every counter drops by the limit-th largest count, which keeps the
    /// cost per value constant on average.
    pub fn add_n(&mut self, value: &[u8], n: u64, limit: usize) {
        if let Some(c) = self.counts.get_mut(value) {
            *c += n;
            return;
        }
        self.counts.insert(value.into(), n);
        if self.counts.len() >= 2 * limit.max(1) {
            self.approximate = true;
            let mut vals: Vec<u64> = self.counts.values().copied().collect();
            let idx = vals.len() - limit.max(1);
            let (_, &mut cut, _) = vals.select_nth_unstable(idx);
            self.error_bound += cut;
            self.counts.retain(|_, c| {
                *c = c.saturating_sub(cut);
                *c > 0
            });
        }
    }

    /// Merges another column's frequencies.
    pub fn merge(&mut self, other: &Frequencies, limit: usize) {
        self.approximate |= other.approximate;
        self.error_bound += other.error_bound;
        let mut items: Vec<(&Box<[u8]>, &u64)> = other.counts.iter().collect();
        items.sort();
        for (k, &n) in items {
            self.add_n(k, n, limit);
        }
    }

    /// The `k` most frequent values, most frequent first, ties by value bytes (deterministic).
    pub fn top(&self, k: usize) -> Vec<(&[u8], u64)> {
        let mut v: Vec<(&[u8], u64)> = self.counts.iter().map(|(a, &b)| (a.as_ref(), b)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(k);
        v
    }

    /// Every value with its count, when the counts are exact.
    pub fn exact(&self) -> Option<&HashMap<Box<[u8]>, u64, Xxh3Builder>> {
        (!self.approximate).then_some(&self.counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_hitter_survives_overflow() {
        let mut f = Frequencies::default();
        for i in 0..10_000u32 {
            f.add(&i.to_le_bytes(), 100);
            f.add(b"hot", 100);
        }
        assert!(f.approximate);
        let top = f.top(1);
        assert_eq!(top[0].0, b"hot");
        assert!(
            top[0].1 + f.error_bound >= 10_000 && top[0].1 <= 10_000,
            "{:?} {}",
            top,
            f.error_bound
        );
    }
}
