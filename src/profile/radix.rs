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

const SHARDS: usize = 256;

/// A hash that picks its own shard, and what of it the shard keeps.
pub trait Sharded: Copy + Send + Sync {
    /// What a shard's table holds.
    type Stored: Copy + Eq + Hash + Send + Sync;
    /// The hasher of the shard tables.
    type Build: Default + Clone + std::hash::BuildHasher + Send + Sync;
    /// The shard, from bits the shard tables do not use, and the value kept in it.
    fn split(&self) -> (usize, Self::Stored);
}

/// A 64-bit value hash: kept whole.
impl Sharded for u64 {
    type Stored = u64;
    type Build = BuildHasherDefault<PassThrough>;
    #[inline]
    fn split(&self) -> (usize, u64) {
        ((*self >> 48) as u8 as usize, *self)
    }
}

/// A 128-bit row hash: its shard byte (bits 100..108) and its low 64 bits, 72 bits in all, in
/// 8 bytes a row. Two different rows of 50 million share them with a chance of about 3 in 10
/// million (n²/2⁷³), below that of two values colliding in their 64-bit hashes.
impl Sharded for u128 {
    type Stored = u64;
    type Build = BuildHasherDefault<PassThrough>;
    #[inline]
    fn split(&self) -> (usize, u64) {
        ((*self >> 100) as u8 as usize, *self as u64)
    }
}

/// One shard's table.
type Shard<K> = HashSet<<K as Sharded>::Stored, <K as Sharded>::Build>;

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
        let (s, v) = k.split();
        self.shards[s].contains(&v)
    }

    /// Inserts one value; whether it was new.
    pub fn insert(&mut self, k: K) -> bool {
        let (s, v) = k.split();
        let new = self.shards[s].insert(v);
        self.len += usize::from(new);
        new
    }

    /// Every value kept, shard by shard.
    pub fn iter(&self) -> impl Iterator<Item = &K::Stored> {
        self.shards.iter().flat_map(|s| s.iter())
    }

    /// Inserts a batch of `(position, value)`; returns the positions whose value was already in
    /// the set, or earlier in the batch, in ascending order. Shards are filled in parallel when
    /// `parallel` (from outside a column's own task).
    pub fn insert_batch(&mut self, batch: &[(u32, K)], parallel: bool) -> Vec<u32> {
        self.fill(batch, parallel, true)
    }

    /// Inserts a batch, without telling which were there already (in parallel as
    /// [`RadixSet::insert_batch`]).
    pub fn extend_batch(&mut self, batch: &[(u32, K)], parallel: bool) {
        self.fill(batch, parallel, false);
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
        let fill = |(set, part): (&mut Shard<K>, &Vec<(u32, K::Stored)>)| -> (usize, Vec<u32>) {
            let before = set.len();
            let mut d = Vec::new();
            for &(i, v) in part {
                if !set.insert(v) && track {
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

/// The batch split by shard, each part in batch order, as the values the shards keep.
fn partition<K: Sharded>(batch: &[(u32, K)]) -> Vec<Vec<(u32, K::Stored)>> {
    let mut counts = [0usize; SHARDS];
    for (_, k) in batch {
        counts[k.split().0] += 1;
    }
    let mut parts: Vec<Vec<(u32, K::Stored)>> =
        counts.iter().map(|&c| Vec::with_capacity(c)).collect();
    for &(i, k) in batch {
        let (s, v) = k.split();
        parts[s].push((i, v));
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
        assert_eq!((1u64 << 48).split(), (1, 1 << 48));
        assert_eq!((0xABu64 << 48).split().0, 0xAB);
        assert_eq!((0xFEu64 << 56).split().0, 0);
        assert_eq!(((1u64 << 48) - 1).split().0, 0);
        assert_eq!((1u128 << 100).split(), (1, 0));
        assert_eq!((1u128 << 108).split().0, 0);
        assert_eq!(((1u128 << 100) - 1).split(), (0, u64::MAX));
        // A row hash keeps 72 bits: rows differing in the shard byte or the low word differ.
        let mut rows = RadixSet::<u128>::default();
        assert!(rows.insert(5));
        assert!(rows.insert(5 | 1 << 100));
        assert!(rows.insert(6));
        assert!(
            !rows.insert(5 | 1 << 64),
            "bits outside the 72 are not kept"
        );
        assert_eq!(rows.len(), 3);
    }
}
