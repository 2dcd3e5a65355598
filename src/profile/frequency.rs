//! Value frequencies: exact counts while the column has few distinct values, heavy hitters beyond.
//!
//! Entries are keyed by the value's 64-bit hash (computed once per value by the column, see
//! `value.rs`) and keep the value's canonical bytes for display. Up to the limit every value has
//! an exact count, which gives exact top-k, the exact value set for relationship checks and the
//! groups of inconsistent representations. Past the limit the map becomes a Misra–Gries summary
//! with batched decrements: it may grow to twice the limit, then every count drops by the
//! limit-th largest one, so the cost per value stays constant on average. Any value more frequent
//! than `error_bound` is kept, with a count at most `error_bound` under the truth
//! (`error_bound` ≤ rows/limit). In that phase a new value's bytes are stored only when it is seen
//! a second time: near-unique columns would otherwise allocate for every row, for values that the
//! next decrement drops. Unlike exact counts, which values survive depends on the order chunks
//! arrive in; reports flag such lists as approximate.

use std::collections::hash_map::Entry as MapEntry;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use super::distinct::PassThrough;

#[derive(Clone, Default)]
struct Entry {
    count: u64,
    bytes: Option<Box<[u8]>>,
}

/// Counts per value.
#[derive(Clone, Default)]
pub struct Frequencies {
    counts: HashMap<u64, Entry, BuildHasherDefault<PassThrough>>,
    /// Set once the exact map overflowed; counts are Misra–Gries lower bounds from then on.
    pub approximate: bool,
    /// Sum of the decrements applied (the bound on how far any count is under).
    pub error_bound: u64,
    /// Room for the counts while a decrement picks its cut (kept to spare an allocation).
    scratch: Vec<u64>,
    /// Room for a chunk's values not yet counted, and for sorting them (likewise).
    fresh: Vec<(u64, u32)>,
    sorted: Vec<(u64, u32)>,
    buckets: Vec<u32>,
    /// Room for the values met once in a chunk, and the two bitmaps that find them.
    singles: Vec<(u64, u32)>,
    once: Vec<u64>,
    twice: Vec<u64>,
}

/// Below this many new values in a chunk, they are all sorted: the bitmaps would cost more.
const SPLIT_FROM: usize = 4096;

/// Moves out of `fresh` (distinct rows' `(hash, row)`) into `singles` the values that `fresh`
/// holds once, by two bitmaps on the hash's low bits (16 bits per value, so few values share
/// a bit): a bit set by one value alone is certainly a value met once. What stays in `fresh`,
/// in its order, is every value met more than once, and the few met once that share their bit.
fn split_singles(
    fresh: &mut Vec<(u64, u32)>,
    singles: &mut Vec<(u64, u32)>,
    once: &mut Vec<u64>,
    twice: &mut Vec<u64>,
) {
    singles.clear();
    let bits = (usize::BITS - fresh.len().leading_zeros() + 4).clamp(12, 26);
    let mask = (1u64 << bits) - 1;
    let words = 1usize << (bits - 6);
    for map in [&mut *once, &mut *twice] {
        map.clear();
        map.resize(words, 0);
    }
    for &(h, _) in fresh.iter() {
        let b = h & mask;
        let (w, bit) = ((b >> 6) as usize, 1u64 << (b & 63));
        twice[w] |= once[w] & bit;
        once[w] |= bit;
    }
    fresh.retain(|&(h, row)| {
        let b = h & mask;
        let repeated = twice[(b >> 6) as usize] & (1u64 << (b & 63)) != 0;
        if !repeated {
            singles.push((h, row));
        }
        repeated
    });
}

/// Sorts `(hash, row)` pairs (distinct rows) as `sort_unstable` would: a counting sort on the
/// top bits of the hash (about one pair a bucket, as hashes are uniform), then each bucket of
/// more than one pair sorted on its own.
fn sort_by_hash(v: &mut Vec<(u64, u32)>, sorted: &mut Vec<(u64, u32)>, buckets: &mut Vec<u32>) {
    let n = v.len();
    if n < 256 {
        v.sort_unstable();
        return;
    }
    let bits = (usize::BITS - n.leading_zeros()).clamp(8, 16);
    let shift = 64 - bits;
    buckets.clear();
    buckets.resize(1 << bits, 0);
    for &(h, _) in v.iter() {
        buckets[(h >> shift) as usize] += 1;
    }
    let mut sum = 0u32;
    for b in buckets.iter_mut() {
        let c = *b;
        *b = sum;
        sum += c;
    }
    sorted.clear();
    sorted.resize(n, (0, 0));
    for &(h, r) in v.iter() {
        let b = &mut buckets[(h >> shift) as usize];
        sorted[*b as usize] = (h, r);
        *b += 1;
    }
    // Each bucket now ends where the next starts.
    let mut start = 0usize;
    for &end in buckets.iter() {
        let end = end as usize;
        if end - start > 1 {
            sorted[start..end].sort_unstable();
        }
        start = end;
    }
    std::mem::swap(v, sorted);
}

impl Frequencies {
    /// Counts one occurrence of `value`, whose hash is `hash`.
    #[inline]
    pub fn add(&mut self, hash: u64, value: &[u8], limit: usize) {
        self.add_n(hash, Some(value), 1, limit);
    }

    /// Counts values given with their counts, `(hash, rows, bytes)`, in the order of their first
    /// row, when the counts stay exact through them all: then the result is that of counting
    /// their rows one by one. Returns false, having counted nothing, when they could turn the
    /// counts approximate (the caller then counts row by row).
    pub fn add_counts(&mut self, values: &[(u64, u64, &[u8])], limit: usize) -> bool {
        // Exact counts turn approximate when the map reaches twice the limit.
        if self.approximate || self.counts.len() + values.len() >= 2 * limit.max(1) {
            return false;
        }
        for &(h, n, bytes) in values {
            self.add_n(h, Some(bytes), n, limit);
        }
        true
    }

    /// Counts a chunk's values: `batch` holds the `(row, hash)` of its non-null rows in row
    /// order, `value(row)` a row's bytes. While the counts are exact, value by value (so they
    /// turn approximate on the same value as ever). From then on, the rest of the chunk at once:
    /// values already counted are counted in place; the others are grouped (sorted by hash)
    /// into exact counts, merged in, and if the counters reach twice the limit, all drop by the
    /// limit-th largest count, as one Misra–Gries merge. Each drop takes at least `limit` times
    /// itself from the rows counted, so `error_bound` stays at most rows/limit, and a value
    /// kept is under its true count by at most `error_bound`.
    pub fn add_chunk<B: AsRef<[u8]>>(
        &mut self,
        batch: &[(u32, u64)],
        value: impl Fn(u32) -> B,
        limit: usize,
    ) {
        let mut at = 0;
        while !self.approximate && at < batch.len() {
            let (row, h) = batch[at];
            self.add(h, value(row).as_ref(), limit);
            at += 1;
        }
        let limit = limit.max(1);
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.clear();
        fresh.reserve(batch.len() - at);
        for &(row, h) in &batch[at..] {
            match self.counts.get_mut(&h) {
                Some(e) => {
                    e.count += 1;
                    if e.bytes.is_none() {
                        e.bytes = Some(Box::from(value(row).as_ref()));
                    }
                }
                None => fresh.push((h, row)),
            }
        }
        if fresh.is_empty() {
            self.fresh = fresh;
            return;
        }
        // Most new values of a near-unique column are met once: they are only counted (they
        // never outlast the drop, and are inserted only while the counters have room).
        let mut singles = std::mem::take(&mut self.singles);
        singles.clear();
        if fresh.len() >= SPLIT_FROM {
            split_singles(&mut fresh, &mut singles, &mut self.once, &mut self.twice);
        }
        // By hash, then row: each value's first row leads its group.
        sort_by_hash(&mut fresh, &mut self.sorted, &mut self.buckets);
        let mut groups: Vec<(u64, u64, u32)> = Vec::new();
        for &(h, row) in &fresh {
            match groups.last_mut() {
                Some(g) if g.0 == h => g.1 += 1,
                _ => groups.push((h, 1, row)),
            }
        }
        self.fresh = fresh;
        // A value seen once keeps no bytes (the next drop would most likely take it).
        let bytes = |c: u64, row: u32| (c > 1).then(|| Box::from(value(row).as_ref()));
        if self.counts.len() + groups.len() + singles.len() < 2 * limit {
            for (h, c, row) in groups {
                self.counts.insert(
                    h,
                    Entry {
                        count: c,
                        bytes: bytes(c, row),
                    },
                );
            }
            for &(h, _) in &singles {
                self.counts.insert(
                    h,
                    Entry {
                        count: 1,
                        bytes: None,
                    },
                );
            }
            self.singles = singles;
            return;
        }
        let ones = singles.len();
        self.singles = singles;
        // Every count is at least 1, so the cut is too: no value met once is kept.
        let cut = self.drop_counts(groups.iter().map(|g| g.1), ones, limit);
        for (h, c, row) in groups {
            if c > cut {
                self.counts.insert(
                    h,
                    Entry {
                        count: c - cut,
                        bytes: bytes(c, row),
                    },
                );
            }
        }
    }

    fn add_n(&mut self, hash: u64, value: Option<&[u8]>, n: u64, limit: usize) {
        match self.counts.entry(hash) {
            MapEntry::Occupied(mut o) => {
                let e = o.get_mut();
                e.count += n;
                if e.bytes.is_none() {
                    e.bytes = value.map(Box::from);
                }
                return;
            }
            MapEntry::Vacant(slot) => {
                let bytes = if self.approximate && n == 1 {
                    None
                } else {
                    value.map(Box::from)
                };
                slot.insert(Entry { count: n, bytes });
            }
        }
        let limit = limit.max(1);
        if self.counts.len() >= 2 * limit {
            self.approximate = true;
            self.drop_counts(std::iter::empty(), 0, limit);
        }
    }

    /// The Misra–Gries drop: every count, those held and those about to be added (`incoming`,
    /// and `ones` more counts of 1), falls by the `limit`-th largest of them all; counts that
    /// reach 0 go. Returns that cut, which `error_bound` takes on.
    fn drop_counts(
        &mut self,
        incoming: impl Iterator<Item = u64>,
        ones: usize,
        limit: usize,
    ) -> u64 {
        let vals = &mut self.scratch;
        vals.clear();
        vals.extend(self.counts.values().map(|e| e.count));
        vals.extend(incoming);
        // Every count is at least 1: the ones decide the cut only when fewer than `limit`
        // counts exceed 1, and it is then 1.
        let cut = if vals.len() >= limit
            && (ones == 0 || vals.iter().filter(|&&c| c > 1).count() >= limit)
        {
            let idx = vals.len() - limit;
            *vals.select_nth_unstable(idx).1
        } else {
            1
        };
        self.error_bound += cut;
        self.counts.retain(|_, e| {
            e.count = e.count.saturating_sub(cut);
            e.count > 0
        });
        cut
    }

    /// Merges another column's frequencies (in hash order, so the result is deterministic).
    pub fn merge(&mut self, other: &Frequencies, limit: usize) {
        self.approximate |= other.approximate;
        self.error_bound += other.error_bound;
        let mut items: Vec<(&u64, &Entry)> = other.counts.iter().collect();
        items.sort_by_key(|(h, _)| **h);
        for (&h, e) in items {
            self.add_n(h, e.bytes.as_deref(), e.count, limit);
        }
    }

    /// The `k` most frequent values, most frequent first, ties by value bytes (deterministic).
    pub fn top(&self, k: usize) -> Vec<(&[u8], u64)> {
        let mut v: Vec<(&[u8], u64)> = self
            .counts
            .values()
            .filter_map(|e| e.bytes.as_deref().map(|b| (b, e.count)))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(k);
        v
    }

    /// Every value with its count, when the counts are exact.
    pub fn exact(&self) -> Option<Vec<(&[u8], u64)>> {
        (!self.approximate).then(|| {
            self.counts
                .values()
                .filter_map(|e| e.bytes.as_deref().map(|b| (b, e.count)))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xxhash_rust::xxh3::xxh3_64;

    #[test]
    fn heavy_hitter_survives_overflow() {
        let mut f = Frequencies::default();
        for i in 0..10_000u32 {
            let b = i.to_le_bytes();
            f.add(xxh3_64(&b), &b, 100);
            f.add(xxh3_64(b"hot"), b"hot", 100);
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

    /// A stream with heavy values among many values seen once or twice.
    fn stream(n: u32) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| match i % 10 {
                0 | 5 => b"hot".to_vec(),
                3 => b"warm".to_vec(),
                _ => (i / 2).to_le_bytes().to_vec(),
            })
            .collect()
    }

    fn by_chunks(values: &[Vec<u8>], chunk: usize, limit: usize) -> Frequencies {
        let mut f = Frequencies::default();
        for c in values.chunks(chunk) {
            let batch: Vec<(u32, u64)> = c
                .iter()
                .enumerate()
                .map(|(i, v)| (i as u32, xxh3_64(v)))
                .collect();
            f.add_chunk(&batch, |r| c[r as usize].as_slice(), limit);
        }
        f
    }

    #[test]
    fn chunks_count_exactly_like_values_while_exact_and_keep_the_bound_after() {
        // Under the limit: the same exact counts as value by value, whatever the chunking.
        let few: Vec<Vec<u8>> = (0..5000u32)
            .map(|i| (i % 37).to_le_bytes().to_vec())
            .collect();
        let mut one = Frequencies::default();
        for v in &few {
            one.add(xxh3_64(v), v, 100);
        }
        for chunk in [1, 7, 1000, 5000] {
            let f = by_chunks(&few, chunk, 100);
            assert!(!f.approximate);
            let mut a = f.exact().unwrap();
            let mut b = one.exact().unwrap();
            a.sort();
            b.sort();
            assert_eq!(a, b, "chunks of {chunk}");
        }
        // Past it: every value more frequent than the bound is kept, under by at most the
        // bound, and the bound is at most rows/limit.
        let values = stream(100_000);
        for chunk in [10, 4096, 65_536] {
            let f = by_chunks(&values, chunk, 100);
            assert!(f.approximate);
            assert!(f.error_bound <= 100_000 / 100, "bound {}", f.error_bound);
            let top = f.top(2);
            assert_eq!(top[0].0, b"hot", "chunks of {chunk}");
            assert!(top[0].1 <= 20_000 && top[0].1 + f.error_bound >= 20_000);
            assert_eq!(top[1].0, b"warm", "chunks of {chunk}");
            assert!(top[1].1 <= 10_000 && top[1].1 + f.error_bound >= 10_000);
            assert!(f.counts.len() < 2 * 100);
            assert!(f.counts.values().all(|e| e.count >= 1), "a value kept at 0");
        }
    }

    #[test]
    fn the_bucket_sort_sorts_like_sort_unstable() {
        let (mut sorted, mut buckets) = (Vec::new(), Vec::new());
        for n in [0usize, 1, 255, 256, 257, 5000, 70_000] {
            // Hashes with repeats (and a few equal top bits), rows ascending as in a chunk.
            let mut v: Vec<(u64, u32)> = (0..n)
                .map(|i| {
                    (
                        xxh3_64(&((i % 997) as u64).to_le_bytes()) | (i as u64 % 3),
                        i as u32,
                    )
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            sort_by_hash(&mut v, &mut sorted, &mut buckets);
            assert_eq!(v, want, "{n} pairs");
        }
    }

    #[test]
    fn exact_while_under_the_limit() {
        let mut f = Frequencies::default();
        for v in [b"a", b"b", b"a"] {
            f.add(xxh3_64(v), v, 10);
        }
        let mut all = f.exact().unwrap();
        all.sort();
        assert_eq!(all, vec![(&b"a"[..], 2), (&b"b"[..], 1)]);
    }

    #[test]
    fn values_met_once_are_told_apart_without_losing_a_repeated_one() {
        let (mut once, mut twice, mut singles) = (Vec::new(), Vec::new(), Vec::new());
        for n in [SPLIT_FROM, 20_000, 70_000] {
            // Every third value repeats (twice or three times); hashes are xxh3 of the value.
            let mut fresh: Vec<(u64, u32)> = Vec::new();
            for i in 0..n as u64 {
                let v = if i % 3 == 0 { i / 6 } else { 1_000_000 + i };
                fresh.push((xxh3_64(&v.to_le_bytes()), i as u32));
            }
            let mut counts = std::collections::HashMap::new();
            for &(h, _) in &fresh {
                *counts.entry(h).or_insert(0) += 1;
            }
            let all = fresh.clone();
            split_singles(&mut fresh, &mut singles, &mut once, &mut twice);
            // Nothing lost or doubled; every repeated value's rows all stay; singles are single.
            assert_eq!(fresh.len() + singles.len(), all.len());
            assert!(singles.iter().all(|(h, _)| counts[h] == 1));
            let kept: usize = fresh.iter().filter(|(h, _)| counts[h] > 1).count();
            let repeated: usize = counts.values().filter(|&&c| c > 1).sum();
            assert_eq!(kept, repeated, "{n} values");
            // Few values met once share a bit with another (16 bits per value: about 1 in 16).
            let shared = fresh.len() - kept;
            assert!(shared * 8 < counts.len(), "{shared} of {n} left to sort");
            // The order of each part is the order of the input.
            assert!(fresh.windows(2).all(|w| w[0].1 < w[1].1));
            assert!(singles.windows(2).all(|w| w[0].1 < w[1].1));
        }
    }

    #[test]
    fn counts_of_one_cut_as_if_they_were_listed() {
        // The cut over held counts, incoming counts and `ones` counts of 1 is the cut over them
        // all listed, and so are the counts left.
        for (held, incoming, ones, limit) in [
            (vec![5u64, 4, 3, 2, 2, 1], vec![7u64, 1, 1], 10usize, 4usize),
            (vec![9, 9, 9, 9, 9], vec![2, 2], 30, 3),
            (vec![1, 1], vec![], 40, 10),
            (vec![3, 3, 3], vec![2, 2, 2, 2], 5, 6),
            (vec![3, 3, 3], vec![2, 2, 2, 2], 5, 7),
        ] {
            let fill = || {
                let mut f = Frequencies::default();
                for (i, &c) in held.iter().enumerate() {
                    f.counts.insert(
                        i as u64,
                        Entry {
                            count: c,
                            bytes: None,
                        },
                    );
                }
                f
            };
            let (mut short, mut long) = (fill(), fill());
            let a = short.drop_counts(incoming.iter().copied(), ones, limit);
            let listed = incoming.iter().copied().chain(std::iter::repeat_n(1, ones));
            let b = long.drop_counts(listed, 0, limit);
            assert_eq!(a, b, "{held:?} {incoming:?} {ones} {limit}");
            let left = |f: &Frequencies| {
                let mut v: Vec<(u64, u64)> = f.counts.iter().map(|(&h, e)| (h, e.count)).collect();
                v.sort_unstable();
                v
            };
            assert_eq!(left(&short), left(&long));
            assert_eq!(short.error_bound, long.error_bound);
        }
    }
}
