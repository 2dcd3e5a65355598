//! Sets of hashes split into 256 shards by one byte of the hash, filled a batch at a time.
//!
//! A set of a million 64-bit hashes is 18 MB of table: inserting values one by one in arrival
//! order misses the cache on nearly every insert. Here a batch is first partitioned by shard (a
//! counting sort: two sequential passes), then each shard takes its part of the batch at once,
//! while its small table stays in cache. The shard byte is taken from bits the tables' own
//! hashing does not use (hashbrown takes its control byte from the top seven bits and its slot
//! from the low bits), so the shards do not degrade the tables.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash};

use rayon::prelude::*;

use super::distinct::PassThrough;
use super::table::Fold128;

const SHARDS: usize = 256;

/// A hash that picks its own shard.
pub trait Sharded: Copy + Eq + Hash + Send + Sync {
    /// The hasher of the shard tables.
    type Build: Default + Clone + std::hash::BuildHasher + Send + Sync;
    /// The shard, from bits the shard tables do not use.
    fn shard(&self) -> usize;
}

impl Sharded for u64 {
    type Build = BuildHasherDefault<PassThrough>;
    #[inline]
    fn shard(&self) -> usize {
        (*self >> 48) as u8 as usize
    }
}

impl Sharded for u128 {
    type Build = BuildHasherDefault<Fold128>;
    #[inline]
    fn shard(&self) -> usize {
        (*self >> 100) as u8 as usize
    }
}

/// One shard's table.
type Shard<K> = HashSet<K, <K as Sharded>::Build>;

/// A set of hashes in 256 shards.
#[derive(Clone)]
pub struct RadixSet<K: Sharded> {
    shards: Vec<Shard<K>>,
    len: usize,
}

impl<K: Sharded> Default for RadixSet<K> {
    fn default() -> Self {
        RadixSet {
            shards: (0..SHARDS).map(|_| HashSet::default()).collect(),
            len: 0,
        }
    }
}

impl<K: Sharded> RadixSet<K> {
    /// Values in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `k` is in the set.
    pub fn contains(&self, k: &K) -> bool {
        self.shards[k.shard()].contains(k)
    }

    /// Inserts one value; whether it was new.
    pub fn insert(&mut self, k: K) -> bool {
        let new = self.shards[k.shard()].insert(k);
        self.len += usize::from(new);
        new
    }

    /// Every value, shard by shard.
    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.shards.iter().flat_map(|s| s.iter())
    }

    /// Inserts a batch of `(position, value)`; returns the positions whose value was already in
    /// the set, or earlier in the batch, in ascending order. Shards are filled in parallel when
    /// `parallel` (from outside a column's own task).
    pub fn insert_batch(&mut self, batch: &[(u32, K)], parallel: bool) -> Vec<u32> {
        self.fill(batch, parallel, true)
    }

    /// Inserts a batch, without telling which were there already.
    pub fn extend_batch(&mut self, batch: &[(u32, K)]) {
        self.fill(batch, false, false);
    }

    fn fill(&mut self, batch: &[(u32, K)], parallel: bool, track: bool) -> Vec<u32> {
        let mut dups = Vec::new();
        if self.len < DIRECT {
            // A small set stays in cache as it is: no partitioning.
            for &(i, k) in batch {
                if !self.insert(k) && track {
                    dups.push(i);
                }
            }
            return dups;
        }
        let parts = partition(batch);
        let fill = |(set, part): (&mut Shard<K>, &Vec<(u32, K)>)| -> (usize, Vec<u32>) {
            let before = set.len();
            let mut d = Vec::new();
            for &(i, k) in part {
                if !set.insert(k) && track {
                    d.push(i);
                }
            }
            (set.len() - before, d)
        };
        let results: Vec<(usize, Vec<u32>)> = if parallel {
            self.shards
                .par_iter_mut()
                .zip(parts.par_iter())
                .with_min_len(16)
                .map(fill)
                .collect()
        } else {
            self.shards.iter_mut().zip(parts.iter()).map(fill).collect()
        };
        for (added, d) in results {
            self.len += added;
            dups.extend(d);
        }
        dups.sort_unstable();
        dups
    }
}

/// Below this many values the set is filled value by value (it fits in cache anyway).
const DIRECT: usize = 1 << 16;

/// The batch split by shard, each part in batch order.
fn partition<K: Sharded>(batch: &[(u32, K)]) -> Vec<Vec<(u32, K)>> {
    let mut counts = [0usize; SHARDS];
    for (_, k) in batch {
        counts[k.shard()] += 1;
    }
    let mut parts: Vec<Vec<(u32, K)>> = counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    for &(i, k) in batch {
        parts[k.shard()].push((i, k));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

    #[test]
    fn batches_find_repeats_within_and_across_batches_like_a_plain_set() {
        let mut plain = std::collections::HashSet::new();
        let mut set = RadixSet::<u64>::default();
        let mut wide = RadixSet::<u128>::default();
        // The first batch goes in value by value (the set is small), the next ones partitioned.
        for (b, parallel) in [(0u64, false), (1, true), (2, false), (3, true)] {
            // 100,000 values of 0..150,000 in steps of 7: batches overlap one another, and the
            // last one repeats inside itself too.
            let n = if b == 3 { 200_000 } else { 100_000 };
            let batch: Vec<(u32, u64)> = (0..n)
                .map(|i| {
                    (
                        i as u32,
                        xxh3_64(&((i * 7 + b * 30_000) % 150_000).to_le_bytes()),
                    )
                })
                .collect();
            let expected: Vec<u32> = batch
                .iter()
                .filter(|(_, k)| !plain.insert(*k))
                .map(|(i, _)| *i)
                .collect();
            assert_eq!(set.insert_batch(&batch, parallel), expected);
            let batch128: Vec<(u32, u128)> = batch
                .iter()
                .map(|&(i, k)| (i, xxh3_128(&k.to_le_bytes())))
                .collect();
            assert_eq!(wide.insert_batch(&batch128, parallel), expected);
            assert_eq!(set.len(), plain.len());
            assert_eq!(wide.len(), plain.len());
        }
        assert_eq!(set.len(), 150_000);
        assert!(plain.iter().all(|k| set.contains(k)));
        assert!(!set.contains(&xxh3_64(b"not there")));
        let mut all: Vec<u64> = set.iter().copied().collect();
        all.sort_unstable();
        let mut want: Vec<u64> = plain.into_iter().collect();
        want.sort_unstable();
        assert_eq!(all, want);
    }

    #[test]
    fn shards_use_the_middle_bits() {
        // The shard is bits 48..56 (u64) or 100..108 (u128): never the top bits (the tables'
        // control byte) nor the low ones (their slots).
        assert_eq!((1u64 << 48).shard(), 1);
        assert_eq!((0xABu64 << 48).shard(), 0xAB);
        assert_eq!((0xFEu64 << 56).shard(), 0);
        assert_eq!(((1u64 << 48) - 1).shard(), 0);
        assert_eq!((1u128 << 100).shard(), 1);
        assert_eq!((1u128 << 108).shard(), 0);
        assert_eq!(((1u128 << 100) - 1).shard(), 0);
    }
}
