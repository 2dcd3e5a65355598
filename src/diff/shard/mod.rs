//! Shards: `reckon diff --shard I/N` compares only the rows whose key hash falls in share I of
//! N, so that N processes or machines split one diff; `reckon merge` adds the shards' results
//! up into the report the whole run would have written.
//!
//! Why the merged report is the whole run's, byte for byte:
//! - Share I holds the key hashes h with ⌊h·N / 2^64⌋ = I − 1: contiguous ranges, in order. The
//!   engine writes differing rows in key-hash order (partitions by the top bits, then sorted by
//!   key hash within each), so the rows of shards 1…N, one after the other, are the whole run's
//!   rows in its order; its samples are the first of them.
//! - A key falls in one shard on both sides (the key hash is that of the pairing form), so every
//!   count adds up: rows, matches, classes, duplicated keys.
//! - Column aggregates are kept exact in each shard ([`AccState`]: exact sums, floats by their
//!   partials) and merged as the engine merges chunks.
//!
//! Each shard reads both tables whole (no source can filter on reckon's key hash), and hashes
//! every row; it keeps, compares and writes only its own.

//!
//! - this module: the shares and the state a shard writes (`shard.json`);
//! - [`files`]: `shard_keys.bin` (each differing row's key hash) and the files' digests;
//! - [`merge`]: the checks that shards are one run, and the adding up.

mod files;
mod merge;

pub use files::{file_digest, KeyFile, KeyReader, KeyedRows, KEYS_FILE};
pub use merge::{check_set, listed_rows, merge, MergeError};

use serde::{Deserialize, Serialize};

use super::aggregate::AccState;
use super::model::{DiffReport, FORMAT_VERSION};

/// Share `index` (1-based) of `count` of the key hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Shard {
    /// Which share, from 1.
    pub index: u64,
    /// How many shares.
    pub count: u64,
}

impl Shard {
    /// Reads `I/N` (1 ≤ I ≤ N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("--shard '{text}' is not I/N"))?;
        let num = |t: &str| t.trim().parse::<u64>().ok();
        match (num(i), num(n)) {
            (Some(index), Some(count)) if count >= 1 && (1..=count).contains(&index) => {
                Ok(Shard { index, count })
            }
            (Some(_), Some(0)) => Err(format!("--shard '{text}': N must be at least 1")),
            (Some(_), Some(_)) => Err(format!(
                "--shard '{text}': I must be from 1 to N (shards are numbered from 1)"
            )),
            _ => Err(format!("--shard '{text}' is not I/N")),
        }
    }

    /// Whether a key hash falls in this share.
    pub fn contains(self, key_hash: u64) -> bool {
        ((u128::from(key_hash) * u128::from(self.count)) >> 64) as u64 == self.index - 1
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What `reckon diff --shard --out DIR` writes beside its report (`shard.json`) for
/// `reckon merge`: the report, and what the report shows only rounded or not at all.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShardState {
    /// Version of this file.
    pub format_version: u32,
    /// reckon's version: shards of different versions are not merged.
    pub reckon_version: String,
    /// The shard.
    pub shard: Shard,
    /// `--samples` of the run (the merged samples are the first this many rows).
    pub samples: usize,
    /// `--aggregates` of the run (pushed down, sums and extremes only with it).
    #[serde(default)]
    pub aggregates: bool,
    /// The shard's report (as `diff.json`).
    pub report: DiffReport,
    /// Per table pair, in report order.
    pub tables: Vec<TableState>,
    /// xxh3-128 of the shard's `diff_rows.parquet` (hex): a merge takes no rows file that is
    /// not the one written with this state.
    pub rows_digest: String,
    /// xxh3-128 of `shard_keys.bin`, the key hash of each row of `diff_rows.parquet` (u64 LE).
    pub keys_digest: String,
}

/// One table pair's exact state in a shard.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TableState {
    /// Each side's column aggregates (empty when the pair was not compared).
    pub aggregates: [Vec<AccState>; 2],
    /// The wrapping sums of each side's row hashes (hex).
    pub side_hashes: [String; 2],
    /// Seconds the shard spent on the pair.
    pub seconds: f64,
    /// The key hash of each sample, in order (the merged samples are the first rows of all the
    /// shards' rows in key-hash order).
    #[serde(default)]
    pub sample_key_hashes: Vec<u64>,
    /// Rows this pair wrote to `diff_rows.parquet` (a pair that failed after writing some has
    /// rows its counts do not show).
    #[serde(default)]
    pub rows_written: u64,
}

impl ShardState {
    /// The state of a sharded run's report, whose rows and key files have the digests
    /// `digests` ([`file_digest`]).
    pub fn of(
        report: &DiffReport,
        shard: Shard,
        (samples, aggregates): (usize, bool),
        digests: [String; 2],
        rows_written: &[u64],
    ) -> ShardState {
        let [rows_digest, keys_digest] = digests;
        let tables = report
            .tables
            .iter()
            .zip(rows_written.iter().copied().chain(std::iter::repeat(0)))
            .map(|(t, rows_written)| TableState {
                aggregates: match &t.accumulators {
                    Some(a) => [0, 1].map(|side| {
                        a[side]
                            .iter()
                            .enumerate()
                            .map(|(c, acc)| {
                                acc.state_shown(t.columns.get(c).is_none_or(|c| c.sensitive))
                            })
                            .collect()
                    }),
                    None => [Vec::new(), Vec::new()],
                },
                side_hashes: [
                    format!("{:x}", t.side_hashes[0]),
                    format!("{:x}", t.side_hashes[1]),
                ],
                seconds: t.seconds,
                sample_key_hashes: t.samples.iter().map(|r| r.key_hash).collect(),
                rows_written,
            })
            .collect();
        ShardState {
            format_version: FORMAT_VERSION,
            reckon_version: env!("CARGO_PKG_VERSION").into(),
            shard,
            samples,
            aggregates,
            report: DiffReport {
                shard: Some(shard),
                ..report.clone()
            },
            tables,
            rows_digest,
            keys_digest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_split_every_hash_once_in_order() {
        for n in [1u64, 2, 3, 7, 64, 1000] {
            let shards: Vec<Shard> = (1..=n).map(|index| Shard { index, count: n }).collect();
            let edges = [0u64, 1, u64::MAX / 3, u64::MAX / 2, u64::MAX - 1, u64::MAX];
            for h in edges
                .iter()
                .copied()
                .chain((0..200).map(|i| i * (u64::MAX / 199)))
            {
                let owners = shards.iter().filter(|s| s.contains(h)).count();
                assert_eq!(owners, 1, "hash {h} is in {owners} of {n} shards");
            }
        }
        // Contiguous and in order: a larger hash never falls in an earlier shard.
        let n = 7;
        let owner = |h: u64| (1..=n).find(|&i| Shard { index: i, count: n }.contains(h));
        let mut prev = 1;
        for i in 0..10_000u64 {
            let h = i.wrapping_mul(u64::MAX / 10_000);
            let o = owner(h).unwrap();
            assert!(o >= prev, "hash {h} in shard {o} after shard {prev}");
            prev = o;
        }
        assert_eq!(owner(0), Some(1));
        assert_eq!(owner(u64::MAX), Some(7));
    }

    #[test]
    fn shard_arguments_are_checked() {
        assert_eq!(
            Shard::parse("3/16").unwrap(),
            Shard {
                index: 3,
                count: 16
            }
        );
        assert_eq!(Shard::parse("1/1").unwrap().to_string(), "1/1");
        assert!(Shard::parse("16/16").is_ok());
        for bad in ["0/4", "5/4", "1/0", "3", "a/b", "-1/4", "1/4/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
