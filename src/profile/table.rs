//! Table-level checks: exact duplicate rows, declared primary key, candidate keys.
//!
//! Rows are identified by a 128-bit xxh3 hash of their columns' 64-bit value hashes (NULL has its
//! own hash), of which the row sets keep 72 bits in 8 bytes (see [`super::radix`]): two different
//! rows of 50 million look the same with a chance of about 3 in 10 million, less than that of two
//! of their values colliding in 64 bits. Duplicate rows are counted exactly up to
//! `duplicate_row_limit` distinct rows (9 to 18 bytes each, with the table's free slots: 50
//! million rows take about 600 MB); beyond that the count is not reported rather than guessed.
//! While some integer-like column rises strictly with no NULL from the first row on, no row can
//! repeat another: the row hashes are only held (9 bytes a row), and a table that ends so has no
//! duplicate row, known for certain and at any size; should the rise break, the held hashes go
//! into the set first. Such a column is also a candidate key, past the distinct limit too.
//!
//! Two-column candidate keys are evaluated for tables up to `composite_key_row_limit` rows,
//! among the eight non-null columns with most distinct values.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

use super::column::ColumnAcc;
use super::radix::RadixSet;

/// A hasher for u128 keys that are hashes already.
#[derive(Default)]
pub struct Fold128(u64);

impl Hasher for Fold128 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 = (n as u64) ^ ((n >> 64) as u64);
    }
}

type Set128 = HashSet<u128, BuildHasherDefault<Fold128>>;

/// The row hashes of a chunk vouched for by an ascent, as much of them as the row set keeps:
/// the shard byte and the low 64 bits (9 bytes a row, less than the set itself takes).
#[derive(Default)]
struct Held {
    shards: Vec<u8>,
    lows: Vec<u64>,
}

impl Held {
    fn of(hashes: &[u128]) -> Held {
        Held {
            shards: hashes.iter().map(|&h| (h >> 100) as u8).collect(),
            lows: hashes.iter().map(|&h| h as u64).collect(),
        }
    }

    /// The hashes again, with what the set does not keep left 0.
    fn hashes(&self) -> Vec<(u32, u128)> {
        self.shards
            .iter()
            .zip(&self.lows)
            .map(|(&s, &l)| (0, (u128::from(s) << 100) | u128::from(l)))
            .collect()
    }
}

/// Table-level accumulator.
#[derive(Default)]
pub struct TableAcc {
    /// Rows seen.
    pub rows: u64,
    rows_seen: Option<RadixSet<u128>>,
    /// Row hashes of the chunks read while some column ascended strictly with no NULL from the
    /// first row ([`super::column::Ascent`]): none of those rows can repeat an earlier one, so
    /// their hashes are only kept here, a chunk at a time (a copy costs far less than a set
    /// insert). Should every such column's ascent break, they go into `rows_seen` before the
    /// chunk that broke it; if the table ends with one unbroken, it has no duplicate row,
    /// certainly (not by hash), whatever its size.
    held: Vec<Held>,
    /// Whether every row so far is distinct by an ascending column.
    rows_ascend: bool,
    /// Rows that repeat an earlier row.
    pub duplicate_rows: u64,
    /// Keys of some duplicate rows.
    pub duplicate_samples: Vec<String>,
    pk_seen: RadixSet<u128>,
    /// Rows whose declared key repeats.
    pub pk_duplicates: u64,
    /// Rows with a NULL in a declared key column.
    pub pk_nulls: u64,
    /// Per-column hash vectors, kept for composite keys while the table is small.
    kept: Option<Vec<Vec<u64>>>,
}

/// Limits and inputs for the table accumulator.
pub struct TableOptions<'a> {
    /// Indices of the declared primary key columns.
    pub pk: &'a [usize],
    /// Stop counting duplicate rows past this many distinct rows.
    pub duplicate_row_limit: usize,
    /// Keep hashes for composite keys up to this many rows.
    pub composite_key_row_limit: usize,
    /// Sample keys to keep.
    pub sample_keys: usize,
}

fn row_hash(
    hashes: &[Vec<u64>],
    cols: impl Iterator<Item = usize>,
    r: usize,
    buf: &mut Vec<u8>,
) -> u128 {
    buf.clear();
    for c in cols {
        buf.extend_from_slice(&hashes[c][r].to_le_bytes());
    }
    xxh3_128(buf)
}

impl TableAcc {
    /// A fresh accumulator.
    pub fn new() -> TableAcc {
        TableAcc {
            rows_seen: Some(RadixSet::default()),
            pk_seen: RadixSet::default(),
            kept: Some(Vec::new()),
            ..Default::default()
        }
    }

    /// Adds one chunk, given each column's per-row value hashes, and whether some column has
    /// ascended strictly with no NULL from the table's first row through this chunk.
    pub fn update(
        &mut self,
        hashes: &[Vec<u64>],
        rows_ascend: bool,
        opts: &TableOptions<'_>,
        key_of: &(dyn Fn(usize) -> String + Sync),
    ) {
        let n = hashes.first().map_or(0, Vec::len);
        let ncols = hashes.len();
        self.rows_ascend = rows_ascend;
        if rows_ascend && self.rows_seen.is_some() {
            let seen = self.rows_seen.as_ref().map_or(0, RadixSet::len);
            let held_rows: usize = self.held.iter().map(|h| h.lows.len()).sum();
            if seen + held_rows + n > opts.duplicate_row_limit {
                // More rows than the set would count: while the ascent holds, they are known
                // distinct without it; once it breaks, duplicates are not known.
                self.rows_seen = None;
                self.held = Vec::new();
            } else {
                let held: Vec<u128> = (0..n)
                    .into_par_iter()
                    .map_init(Vec::new, |buf, r| row_hash(hashes, 0..ncols, r, buf))
                    .collect();
                self.held.push(Held::of(&held));
            }
        } else if let Some(seen) = self.rows_seen.as_mut() {
            // The ascent broke: the rows it vouched for go in first, a chunk at a time, each
            // vector freed once in.
            for held in std::mem::take(&mut self.held) {
                seen.extend_batch(&held.hashes(), true);
            }
            let row_hashes: Vec<(u32, u128)> = (0..n)
                .into_par_iter()
                .map_init(Vec::new, |buf, r| {
                    (r as u32, row_hash(hashes, 0..ncols, r, buf))
                })
                .collect();
            let dups = seen.insert_batch(&row_hashes, true);
            self.duplicate_rows += dups.len() as u64;
            for &r in dups.iter().take(
                opts.sample_keys
                    .saturating_sub(self.duplicate_samples.len()),
            ) {
                self.duplicate_samples.push(key_of(r as usize));
            }
            if seen.len() > opts.duplicate_row_limit {
                self.rows_seen = None;
            }
        }
        if !opts.pk.is_empty() {
            let pk_hashes: Vec<Option<u128>> = (0..n)
                .into_par_iter()
                .map_init(Vec::new, |buf, r| {
                    let null = opts
                        .pk
                        .iter()
                        .any(|&c| hashes[c][r] == super::column::NULL_HASH);
                    (!null).then(|| row_hash(hashes, opts.pk.iter().copied(), r, buf))
                })
                .collect();
            self.pk_nulls += pk_hashes.iter().filter(|h| h.is_none()).count() as u64;
            let pk_hashes: Vec<(u32, u128)> = pk_hashes
                .into_iter()
                .enumerate()
                .filter_map(|(r, h)| h.map(|h| (r as u32, h)))
                .collect();
            self.pk_duplicates += self.pk_seen.insert_batch(&pk_hashes, true).len() as u64;
        }
        self.rows += n as u64;
        if self.rows > opts.composite_key_row_limit as u64 {
            self.kept = None;
        }
        if let Some(kept) = self.kept.as_mut() {
            if kept.is_empty() {
                kept.resize(ncols, Vec::new());
            }
            for (k, h) in kept.iter_mut().zip(hashes) {
                k.extend_from_slice(h);
            }
        }
    }

    /// Whether duplicate rows were counted for the whole table (or are known to be none).
    pub fn duplicates_known(&self) -> bool {
        self.rows_seen.is_some() || self.rows_ascend
    }

    /// Candidate keys: unique non-null single columns, else unique non-null pairs.
    /// Returns the keys (as column indices) and whether pairs were evaluated.
    pub fn candidate_keys(&self, cols: &[ColumnAcc]) -> (Vec<Vec<usize>>, bool) {
        let singles: Vec<Vec<usize>> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.unique())
            .map(|(i, _)| vec![i])
            .collect();
        if !singles.is_empty() || self.rows < 2 {
            return (singles, false);
        }
        let Some(kept) = self.kept.as_ref() else {
            return (singles, false);
        };
        let mut pool: Vec<(u64, usize)> = cols
            .iter()
            .enumerate()
            .filter(|(_, c)| c.nulls == 0 && c.rows > 0)
            .map(|(i, c)| (c.distinct_count().0, i))
            .collect();
        pool.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        pool.truncate(8);
        let mut out = Vec::new();
        for a in 0..pool.len() {
            for b in a + 1..pool.len() {
                let (i, j) = (pool[a].1.min(pool[b].1), pool[a].1.max(pool[b].1));
                let mut set = Set128::default();
                let unique = (0..kept[i].len()).all(|r| {
                    let k = (u128::from(kept[i][r]) << 64) | u128::from(kept[j][r]);
                    set.insert(k)
                });
                if unique {
                    out.push(vec![i, j]);
                }
            }
        }
        out.sort();
        (out, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of one column whose row hashes are `values` (one column: the row is the value).
    fn chunk(values: &[u64]) -> Vec<Vec<u64>> {
        vec![values.to_vec()]
    }

    fn opts(limit: usize) -> TableOptions<'static> {
        TableOptions {
            pk: &[],
            duplicate_row_limit: limit,
            composite_key_row_limit: 0,
            sample_keys: 5,
        }
    }

    #[test]
    fn rows_vouched_for_by_an_ascent_still_meet_later_repeats() {
        let o = opts(100);
        let mut t = TableAcc::new();
        let key = |tag: &'static str| move |r: usize| format!("{tag} {r}");
        // Two chunks while a column ascends: held, not counted.
        t.update(&chunk(&[1, 2, 3]), true, &o, &key("a"));
        t.update(&chunk(&[4, 5]), true, &o, &key("b"));
        assert!(t.duplicates_known());
        assert_eq!(t.duplicate_rows, 0);
        // The ascent breaks: rows 2 (held, first chunk), 5 (held, second) and 6 (this chunk)
        // repeat.
        t.update(&chunk(&[9, 2, 6, 5, 6]), false, &o, &key("c"));
        assert!(t.duplicates_known());
        assert_eq!(t.duplicate_rows, 3);
        assert_eq!(t.duplicate_samples, ["c 1", "c 3", "c 4"]);
        t.update(&chunk(&[1, 10]), false, &o, &key("d"));
        assert_eq!(t.duplicate_rows, 4);
        assert_eq!(t.duplicate_samples[3], "d 0");
    }

    #[test]
    fn an_ascent_knows_rows_distinct_past_the_limit_and_no_longer_once_broken() {
        // Exactly the limit of distinct rows is counted: a repeat after the ascent breaks
        // is found among them.
        let key = |r: usize| format!("row {r}");
        let mut t = TableAcc::new();
        t.update(&chunk(&[1, 2, 3, 4, 5]), true, &opts(10), &key);
        t.update(&chunk(&[6, 7, 8, 9, 10]), true, &opts(10), &key);
        assert!(t.duplicates_known());
        t.update(&chunk(&[3]), false, &opts(10), &key);
        assert_eq!((t.duplicates_known(), t.duplicate_rows), (true, 1));
        // One row past the limit: while the ascent holds, no duplicate, for certain.
        let mut t = TableAcc::new();
        t.update(&chunk(&[1, 2, 3, 4, 5, 6]), true, &opts(10), &key);
        t.update(&chunk(&[7, 8, 9, 10, 11]), true, &opts(10), &key);
        assert!(t.duplicates_known());
        assert_eq!(t.duplicate_rows, 0);
        // Broken after that: not known.
        t.update(&chunk(&[12]), false, &opts(10), &key);
        assert!(!t.duplicates_known());
    }
}
