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

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::aggregate::{AccState, AggregateAcc};
use super::model::{ColumnDiff, DiffReport, TableDiff, Verdict, FORMAT_VERSION};
use super::pushdown::PushdownInfo;

/// Share `index` (1-based) of `count` of the key hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The file beside `diff_rows.parquet` holding each row's key hash.
pub const KEYS_FILE: &str = "shard_keys.bin";

/// A row sink that also writes each row's key hash to `shard_keys.bin`.
pub struct KeyedRows<'a> {
    /// Where the rows go.
    pub rows: &'a mut dyn super::RowSink,
    /// Where their key hashes go.
    pub keys: &'a mut KeyFile,
}

impl super::RowSink for KeyedRows<'_> {
    fn row(
        &mut self,
        table: &super::TableDiffHead,
        row: &super::DiffRow,
    ) -> Result<(), super::DiffError> {
        self.keys.push(row.key_hash)?;
        self.rows.row(table, row)
    }
}

/// `shard_keys.bin` being written.
pub struct KeyFile {
    path: std::path::PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    rows: u64,
}

impl KeyFile {
    /// Creates the file.
    pub fn create(path: &std::path::Path) -> Result<KeyFile, super::DiffError> {
        let f = std::fs::File::create(path).map_err(|e| out_err(path, e))?;
        Ok(KeyFile {
            path: path.to_path_buf(),
            out: std::io::BufWriter::new(f),
            rows: 0,
        })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn push(&mut self, key_hash: u64) -> Result<(), super::DiffError> {
        use std::io::Write;
        self.rows += 1;
        self.out
            .write_all(&key_hash.to_le_bytes())
            .map_err(|e| out_err(&self.path, e))
    }

    /// Writes what is buffered and closes the file.
    pub fn close(mut self) -> Result<(), super::DiffError> {
        use std::io::Write;
        self.out.flush().map_err(|e| out_err(&self.path, e))
    }
}

fn out_err(path: &std::path::Path, e: impl std::fmt::Display) -> super::DiffError {
    super::DiffError::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// Reads `shard_keys.bin` back, key hash by key hash.
pub struct KeyReader {
    input: std::io::BufReader<std::fs::File>,
}

impl KeyReader {
    /// Opens the file.
    pub fn open(path: &std::path::Path) -> std::io::Result<KeyReader> {
        Ok(KeyReader {
            input: std::io::BufReader::new(std::fs::File::open(path)?),
        })
    }

    /// The next key hash; `None` at the end.
    pub fn next_hash(&mut self) -> std::io::Result<Option<u64>> {
        use std::io::Read;
        let mut b = [0u8; 8];
        match self.input.read_exact(&mut b) {
            Ok(()) => Ok(Some(u64::from_le_bytes(b))),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// xxh3-128 of a file's bytes, in hex, read in blocks.
pub fn file_digest(path: &std::path::Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:032x}", h.digest128()))
}

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct MergeError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

fn refuse(message: String, hint: &str) -> MergeError {
    MergeError {
        message,
        hint: hint.into(),
    }
}

/// What must be equal in every shard of one run: the pair, its key, its columns as planned (with
/// rules and sensitivity) and its schema findings.
fn same_plan(a: &TableDiff, b: &TableDiff) -> bool {
    let same_column = |x: &ColumnDiff, y: &ColumnDiff| {
        x.source == y.source
            && x.target == y.target
            && x.source_type == y.source_type
            && x.target_type == y.target_type
            && x.key == y.key
            && x.sensitive == y.sensitive
            && x.rules == y.rules
    };
    a.source_table == b.source_table
        && a.target_table == b.target_table
        && a.key == b.key
        && a.key_origin == b.key_origin
        && a.schema == b.schema
        && (a.columns.is_empty()
            || b.columns.is_empty()
            || (a.columns.len() == b.columns.len()
                && a.columns
                    .iter()
                    .zip(&b.columns)
                    .all(|(x, y)| same_column(x, y))))
}

/// Checks that `shards` are all N shards of one run, and puts them in shard order.
pub fn check_set(mut shards: Vec<ShardState>) -> Result<Vec<ShardState>, MergeError> {
    let hint = "give every shard directory of one run, `reckon diff … --shard I/N --out DIR` for I = 1…N, once each";
    let Some(first) = shards.first() else {
        return Err(refuse("no shard directory given".into(), hint));
    };
    let n = first.shard.count;
    let version = env!("CARGO_PKG_VERSION");
    for s in &shards {
        if s.format_version != FORMAT_VERSION || s.reckon_version != version {
            return Err(refuse(
                format!(
                    "shard {} was written by reckon {} (format {}), this is reckon {version} (format {FORMAT_VERSION})",
                    s.shard, s.reckon_version, s.format_version
                ),
                "run every shard and the merge with the same reckon",
            ));
        }
        if s.shard.count != n {
            return Err(refuse(
                format!(
                    "shards of different splits: {} and {}",
                    first.shard, s.shard
                ),
                hint,
            ));
        }
    }
    shards.sort_by_key(|s| s.shard.index);
    let seen: Vec<u64> = shards.iter().map(|s| s.shard.index).collect();
    let distinct: BTreeSet<u64> = seen.iter().copied().collect();
    if distinct.len() != seen.len() {
        let twice = seen.windows(2).find(|w| w[0] == w[1]).map_or(0, |w| w[0]);
        return Err(refuse(format!("shard {twice}/{n} is given twice"), hint));
    }
    let missing: Vec<String> = (1..=n)
        .filter(|i| !distinct.contains(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(refuse(
            format!("shards missing: {}", missing.join(", ")),
            hint,
        ));
    }
    let base = &shards[0];
    let damaged = |s: &ShardState| MergeError {
        message: format!(
            "the shard.json of shard {} is damaged: its tables do not match its report",
            s.shard
        ),
        hint: "run that shard again".into(),
    };
    for s in &shards {
        let n = s.report.tables.len();
        let parts_ok = s.tables.len() == n
            && s.report.tables.iter().zip(&s.tables).all(|(t, st)| {
                let cols = if t.verdict.is_error() {
                    0
                } else {
                    t.columns.len()
                };
                st.aggregates.iter().all(|a| a.len() == cols)
                    && st
                        .aggregates
                        .iter()
                        .flatten()
                        .all(|a| AggregateAcc::from_state(a).is_some())
                    && st
                        .side_hashes
                        .iter()
                        .all(|h| u128::from_str_radix(h, 16).is_ok())
            });
        if !parts_ok {
            return Err(damaged(s));
        }
    }
    for s in &shards[1..] {
        let (a, b) = (&base.report, &s.report);
        let same = a.source == b.source
            && a.target == b.target
            && s.samples == base.samples
            && s.aggregates == base.aggregates
            && a.tables.len() == b.tables.len()
            && s.tables.len() == b.tables.len()
            && a.unpaired.len() == b.unpaired.len()
            && a.unpaired
                .iter()
                .zip(&b.unpaired)
                .all(|(x, y)| x.table == y.table && x.side == y.side)
            && a.tables.iter().zip(&b.tables).all(|(x, y)| same_plan(x, y));
        if !same {
            return Err(refuse(
                format!(
                    "shard {} is not of the same run as shard {}: its sources, tables, columns, rules, --samples or --aggregates differ",
                    s.shard, base.shard
                ),
                "run every shard with the same arguments except --shard and --out",
            ));
        }
    }
    // Pushed down, a shard's share is a range of the SQL's buckets; streamed, of the engine's
    // key hashes: the shards of one table must all split the same way, by the same buckets.
    for i in 0..base.report.tables.len() {
        let splits: BTreeSet<(bool, u64)> = shards
            .iter()
            .map(|s| &s.report.tables[i])
            .filter(|t| !t.verdict.is_error())
            .map(|t| match &t.pushdown {
                Some(p) if p.strategy != "streamed" => (true, p.buckets),
                _ => (false, 0),
            })
            .collect();
        if splits.len() > 1 {
            return Err(refuse(
                format!(
                    "the shards of {} did not split it the same way: some pushed down, others streamed, or pushed down with different numbers of buckets",
                    base.report.tables[i].source_table
                ),
                "run every shard with the same --buckets N (the default follows the table's row estimate, which can change between shards)",
            ));
        }
    }
    Ok(shards)
}

/// The shards' pushdown sections added up: the strategies each used (in order, once each), the
/// buckets, and the sums of what was probed, found differing and fetched.
fn merge_pushdown(parts: &[(&TableDiff, &TableState)]) -> Option<PushdownInfo> {
    let infos: Vec<&PushdownInfo> = parts
        .iter()
        .filter_map(|(t, _)| t.pushdown.as_ref())
        .collect();
    let first = (*infos.first()?).clone();
    let mut strategies: Vec<&str> = Vec::new();
    for p in &infos {
        if !strategies.contains(&p.strategy.as_str()) {
            strategies.push(&p.strategy);
        }
    }
    let mut out = PushdownInfo {
        strategy: strategies.join("+"),
        differing_buckets: 0,
        probed_buckets: 0,
        probe_differing: 0,
        hashes_fetched: [0, 0],
        rows_fetched: [0, 0],
        bytes_fetched: [0, 0],
        seconds: [0.0, 0.0],
        ..first
    };
    for p in infos {
        out.differing_buckets += p.differing_buckets;
        out.probed_buckets += p.probed_buckets;
        out.probe_differing += p.probe_differing;
        for side in 0..2 {
            out.hashes_fetched[side] += p.hashes_fetched[side];
            out.rows_fetched[side] += p.rows_fetched[side];
            out.bytes_fetched[side] += p.bytes_fetched[side];
            out.seconds[side] += p.seconds[side];
        }
    }
    Some(out)
}

/// Adds up the shards of one table pair (in shard order).
fn merge_table(parts: &[(&TableDiff, &TableState)], samples: usize) -> TableDiff {
    let (first, _) = parts[0];
    if let Some((errored, _)) = parts.iter().find(|(t, _)| t.verdict.is_error()) {
        return TableDiff {
            seconds: parts.iter().map(|(_, s)| s.seconds).sum(),
            ..(*errored).clone()
        };
    }
    let mut out = first.clone();
    out.counts = Default::default();
    out.rules.clear();
    out.classes.clear();
    out.samples.clear();
    out.spilled = false;
    out.seconds = 0.0;
    out.side_hashes = [0, 0];
    let ncols = first.columns.len();
    let mut accs: [Vec<AggregateAcc>; 2] = [
        vec![AggregateAcc::default(); ncols],
        vec![AggregateAcc::default(); ncols],
    ];
    let mut col_rules = vec![std::collections::BTreeMap::<String, u64>::new(); ncols];
    let mut col_classes = vec![std::collections::BTreeMap::<String, u64>::new(); ncols];
    for (t, st) in parts {
        let c = &t.counts;
        let o = &mut out.counts;
        o.source_rows += c.source_rows;
        o.target_rows += c.target_rows;
        o.matched += c.matched;
        o.matched_by_rule += c.matched_by_rule;
        o.mismatched += c.mismatched;
        o.missing += c.missing;
        o.extra += c.extra;
        o.duplicate_keys_source += c.duplicate_keys_source;
        o.duplicate_keys_target += c.duplicate_keys_target;
        for (k, v) in &t.rules {
            *out.rules.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &t.classes {
            *out.classes.entry(k.clone()).or_default() += v;
        }
        for (i, col) in t.columns.iter().enumerate().take(ncols) {
            for (k, v) in &col.matched_by_rule {
                *col_rules[i].entry(k.clone()).or_default() += v;
            }
            for (k, v) in &col.mismatched {
                *col_classes[i].entry(k.clone()).or_default() += v;
            }
        }
        for (side, side_accs) in accs.iter_mut().enumerate() {
            for (acc, s) in side_accs.iter_mut().zip(&st.aggregates[side]) {
                if let Some(a) = AggregateAcc::from_state(s) {
                    acc.merge(a);
                }
            }
            let h = u128::from_str_radix(&st.side_hashes[side], 16).unwrap_or(0);
            out.side_hashes[side] = out.side_hashes[side].wrapping_add(h);
        }
        out.spilled |= t.spilled;
        out.seconds += st.seconds;
    }
    // The first rows of all the shards' rows in key-hash order (ties by shard, then place):
    // each shard's samples are its own first rows.
    let mut firsts: Vec<(u64, usize, usize, &super::DiffRow)> = Vec::new();
    for (s, (t, st)) in parts.iter().enumerate() {
        for (j, r) in t.samples.iter().enumerate() {
            let kh = st.sample_key_hashes.get(j).copied().unwrap_or(r.key_hash);
            firsts.push((kh, s, j, r));
        }
    }
    firsts.sort_by_key(|(kh, s, j, _)| (*kh, *s, *j));
    out.samples = firsts
        .into_iter()
        .take(samples)
        .map(|(kh, _, _, r)| super::DiffRow {
            key_hash: kh,
            ..r.clone()
        })
        .collect();
    let paired = out.counts.matched + out.counts.matched_by_rule + out.counts.mismatched;
    out.columns = first
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let differing: u64 =
                col_rules[i].values().sum::<u64>() + col_classes[i].values().sum::<u64>();
            ColumnDiff {
                compared: paired,
                matched: paired.saturating_sub(differing),
                matched_by_rule: col_rules[i].clone(),
                mismatched: col_classes[i].clone(),
                source_aggregate: accs[0][i].finish(c.sensitive),
                target_aggregate: accs[1][i].finish(c.sensitive),
                ..c.clone()
            }
        })
        .collect();
    let schema_error = out.schema.iter().any(|f| f.severity == "error");
    let o = &out.counts;
    out.verdict = if o.mismatched + o.missing + o.extra > 0 || schema_error {
        Verdict::Mismatch
    } else if o.matched_by_rule > 0 {
        Verdict::MatchByRule
    } else {
        Verdict::Match
    };
    out.accumulators = Some(Box::new(accs));
    out.pushdown = merge_pushdown(parts);
    out
}

/// The report of the whole run from all its shards (checked by [`check_set`], in order).
pub fn merge(shards: &[ShardState]) -> DiffReport {
    let base = &shards[0];
    let tables = (0..base.report.tables.len())
        .map(|i| {
            let parts: Vec<(&TableDiff, &TableState)> = shards
                .iter()
                .map(|s| (&s.report.tables[i], &s.tables[i]))
                .collect();
            merge_table(&parts, base.samples)
        })
        .collect();
    DiffReport::new(
        base.report.source.clone(),
        base.report.target.clone(),
        tables,
        base.report.unpaired.clone(),
    )
}

/// Rows a compared pair lists in `diff_rows.parquet`: changed with a mismatch, missing, extra
/// (`match*` rows are only counted).
pub fn listed_rows(t: &TableDiff) -> u64 {
    t.counts.mismatched + t.counts.missing + t.counts.extra
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
