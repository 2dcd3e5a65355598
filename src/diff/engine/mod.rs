//! The row diff, hash first: rows are encoded to be hashed, and only the rows that differ are
//! ever kept encoded.
//!
//! 1. **Hash** (`pass1`): both sides are read at once. Tables a source splits into parts
//!    (Parquet row groups) are decoded and hashed part by part as parallel tasks; other sources
//!    stream, one reader thread each, taken in lockstep by rows read. Each chunk's rows are
//!    canonically encoded (key columns first) into reused buffers, in parallel; the key hash is
//!    xxh3-64 of the key's encoding (in its pairing form under key rules), the row hash xxh3-128
//!    of the whole row's. Per row only a 32-byte tuple is kept: (key hash, row hash, chunk, row).
//!    The chunk's compared columns stay in memory while they fit in `--memory-limit`; past it, a
//!    side that reads the same rows again (files, SQLite) drops them, and a database side writes
//!    them to disk (Arrow IPC).
//! 2. **Cancel**: both sides' tuples are grouped in place by key-hash partition, and per partition
//!    (in parallel) sorted by (key hash, row hash) and merged: a pair present m times on one side
//!    and n on the other cancels min(m, n) times (equal rows).
//!    Duplicated key hashes per side are counted on the way.
//! 3. **Materialise**: the rows left are encoded again from their chunks (in memory, on disk, or
//!    read a second time: only those rows, by position, and each must hash as it did the first
//!    time).
//! 4. **Settle**: per key-hash partition (in parallel, in fixed order), the rows left are grouped
//!    by key hash, then by exact key bytes (so a hash collision can never pair two keys): one row
//!    left on each side is a changed row; anything else under a key is missing/extra (duplicated
//!    keys are never paired many-to-many). No key → the whole row is the key: an exact multiset
//!    diff.
//! 5. **Classify**: each cell of a changed row: equal, `match*(rule)` under a declared rule, or
//!    `mismatch(class)` (see `classify`). Rows go to a [`RowSink`] in partition order, sorted by
//!    hashes within it: the same inputs give the same rows in the same order at any thread count,
//!    memory limit or chunking.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, AsArray, LargeStringArray, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;
use arrow::record_batch::RecordBatch;
use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64};

use super::aggregate::AggregateAcc;
use super::classify::classify;
use super::model::{
    CellDiff, ColumnDiff, DiffRow, RowCounts, RowStatus, RowValue, TableDiff, Verdict,
};
use super::plan::{ColumnPlan, Read, TablePlan};
use super::rules::ColumnRules;
use super::DiffError;
use crate::profile::pattern::shape;
use crate::source::{Chunk, ChunkStream, Part, ReadDefect, Source, SourceError, TableMeta};
use crate::value::canonical::{cells, display, encode_column_with, TextAs};

mod cancel;
mod fetch;
mod hashing;
mod pass1;
mod settle;
mod spill;

use cancel::*;
use fetch::*;
use hashing::*;
use pass1::*;
use settle::*;
use spill::*;

/// Partitions of the pending rows (top bits of the key hash).
const PARTITIONS: usize = 64;

/// Rows encoded per parallel task.
const TASK_ROWS: usize = 8192;

/// What the user sets for a diff.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Bytes of pending rows kept in memory before spilling to disk.
    pub memory_limit: u64,
    /// Differing rows kept as samples per table.
    pub samples: usize,
    /// Where spill files go (default: the system's temporary directory).
    pub spill_dir: Option<PathBuf>,
    /// `--pushdown`: the number of key-hash buckets (default: one per 2,048 rows).
    pub buckets: Option<u64>,
    /// `--pushdown`: also compute column sums, minima and maxima in SQL.
    pub aggregates: bool,
    /// `--shard I/N`: compare only the rows whose key hash falls in share I of N.
    pub shard: Option<super::shard::Shard>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            memory_limit: 1 << 30,
            samples: 20,
            spill_dir: None,
            buckets: None,
            aggregates: false,
            shard: None,
        }
    }
}

/// Receives every differing row, in a deterministic order (ripgrep's sink pattern).
pub trait RowSink {
    /// One differing row of `table`.
    fn row(&mut self, table: &TableDiffHead, row: &DiffRow) -> Result<(), DiffError>;
}

/// What a sink needs to know about the table its rows belong to.
#[derive(Debug, Clone)]
pub struct TableDiffHead {
    /// The source table.
    pub source_table: String,
    /// The target table.
    pub target_table: String,
    /// Key columns (source names), or every column for a keyless diff.
    pub key_columns: Vec<String>,
}

/// A sink that drops rows (no `--out`).
pub struct NullSink;

impl RowSink for NullSink {
    fn row(&mut self, _: &TableDiffHead, _: &DiffRow) -> Result<(), DiffError> {
        Ok(())
    }
}

/// Progress of a table diff: rows read so far on each side.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Sync);

/// Diffs one planned table pair.
pub fn diff_table(
    source: &mut dyn Source,
    target: &mut dyn Source,
    plan: &TablePlan,
    opts: &DiffOptions,
    sink: &mut dyn RowSink,
    progress: Progress<'_>,
) -> Result<TableDiff, DiffError> {
    let started = Instant::now();
    let head = TableDiffHead {
        source_table: plan.source.name.to_string(),
        target_table: plan.target.name.to_string(),
        key_columns: if plan.key_len == 0 {
            plan.columns.iter().map(|c| c.source.clone()).collect()
        } else {
            plan.columns[..plan.key_len]
                .iter()
                .map(|c| c.source.clone())
                .collect()
        },
    };
    let mut sides = [
        SideCols {
            names: plan.columns.iter().map(|c| c.source.clone()).collect(),
            reads: plan.columns.iter().map(|c| c.source_read).collect(),
            index: None,
        },
        SideCols {
            names: plan.columns.iter().map(|c| c.target.clone()).collect(),
            reads: plan.columns.iter().map(|c| c.target_read).collect(),
            index: None,
        },
    ];
    let pairing = Pairing::new(plan);
    // Pass 1: every row of both sides to (key hash, row hash, where it is kept).
    let Pass1 {
        mut tuples,
        kept,
        spill,
        mut tuple_spill,
        aggs,
        read,
        side_hashes,
        over_limit,
        bytes_read,
        ..
    } = pass1(source, target, plan, opts, &mut sides, &pairing, progress)?;
    let mut counts = RowCounts {
        source_rows: read[0],
        target_rows: read[1],
        ..RowCounts::default()
    };
    // Pass 2: equal (key hash, row hash) pairs cancel as a multiset, per radix partition.
    let keyed = plan.key_len > 0;
    let (matched, dups, leftover) = match tuple_spill.as_mut() {
        None => cancel(std::mem::take(&mut tuples), keyed),
        Some(ts) => {
            ts.write(&mut tuples)?;
            ts.finish()?;
            let (mut matched, mut dups, mut left) = (0u64, [0u64; 2], Vec::new());
            for p in 0..PARTITIONS {
                let [mut a, mut b] = ts.read(p)?;
                let (m, d, l) = cancel_sorted(&mut a, &mut b, keyed);
                matched += m;
                dups[0] += d[0];
                dups[1] += d[1];
                left.extend(l);
            }
            (matched, dups, left)
        }
    };
    counts.matched += matched;
    counts.duplicate_keys_source = dups[0];
    counts.duplicate_keys_target = dups[1];
    // Pass 3: only the rows that did not cancel are encoded, from their kept chunks.
    let needs = |side: usize| {
        kept[side].iter().any(|k| matches!(k.data, Kept::Reread)) && tuples_left_on(&leftover, side)
    };
    let reread: [Reread<'_>; 2] = [
        needs(0).then(|| {
            (
                source as &mut dyn Source,
                &plan.source,
                head.source_table.clone(),
            )
        }),
        needs(1).then(|| {
            (
                target as &mut dyn Source,
                &plan.target,
                head.target_table.clone(),
            )
        }),
    ];
    let mut parts = materialise(leftover, &kept, spill.as_ref(), &mut sides, reread)?;
    let ncols = plan.columns.len();
    let mut rules: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); ncols];
    let mut classes: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); ncols];
    let mut samples = Vec::new();
    let window = (rayon::current_num_threads() * 2).max(2);
    let mut p0 = 0;
    while p0 < PARTITIONS {
        let p1 = (p0 + window).min(PARTITIONS);
        let mine: Vec<(usize, Vec<Record>)> = (p0..p1)
            .map(|p| (p, std::mem::take(&mut parts[p])))
            .collect();
        let outs: Vec<Result<PartOut, DiffError>> = mine
            .into_par_iter()
            .map(|(_, recs)| {
                let (matched, items, key_hashes) = settle(recs, &pairing);
                let mut out = PartOut {
                    matched,
                    ..PartOut::default()
                };
                classify_items(items, key_hashes, plan, &mut out);
                Ok(out)
            })
            .collect();
        for o in outs {
            let o = o?;
            counts.matched += o.matched;
            counts.matched_by_rule += o.matched_by_rule;
            counts.mismatched += o.mismatched;
            counts.missing += o.missing;
            counts.extra += o.extra;
            for c in 0..ncols {
                for (k, v) in &o.rules[c] {
                    *rules[c].entry(k.clone()).or_default() += v;
                }
                for (k, v) in &o.classes[c] {
                    *classes[c].entry(k.clone()).or_default() += v;
                }
            }
            for r in o.rows {
                sink.row(&head, &r)?;
                if samples.len() < opts.samples {
                    samples.push(r);
                }
            }
        }
        p0 = p1;
    }
    let paired = counts.matched + counts.matched_by_rule + counts.mismatched;
    let columns: Vec<ColumnDiff> = plan
        .columns
        .iter()
        .enumerate()
        .map(|(c, p)| column_diff(c, p, plan, paired, &rules[c], &classes[c], &aggs))
        .collect();
    let mut all_rules = BTreeMap::new();
    let mut all_classes = BTreeMap::new();
    for c in 0..ncols {
        for (k, v) in &rules[c] {
            *all_rules.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &classes[c] {
            *all_classes.entry(k.clone()).or_default() += v;
        }
    }
    let schema_error = plan.schema.iter().any(|f| f.severity == "error");
    let verdict = if counts.mismatched + counts.missing + counts.extra > 0 || schema_error {
        Verdict::Mismatch
    } else if counts.matched_by_rule > 0 {
        Verdict::MatchByRule
    } else {
        Verdict::Match
    };
    Ok(TableDiff {
        error: None,
        source_table: head.source_table,
        target_table: head.target_table,
        key: plan.columns[..plan.key_len]
            .iter()
            .map(|c| c.source.clone())
            .collect(),
        key_origin: plan.key_origin.clone(),
        verdict,
        counts,
        rules: all_rules,
        classes: all_classes,
        schema: plan.schema.clone(),
        columns,
        samples,
        spilled: over_limit,
        recheck: None,
        seconds: started.elapsed().as_secs_f64(),
        side_hashes,
        bytes_read,
        pushdown: None,
        accumulators: Some(Box::new(aggs)),
    })
}

fn column_diff(
    c: usize,
    p: &ColumnPlan,
    plan: &TablePlan,
    paired: u64,
    rules: &BTreeMap<String, u64>,
    classes: &BTreeMap<String, u64>,
    aggs: &[Vec<AggregateAcc>; 2],
) -> ColumnDiff {
    let differing: u64 = rules.values().sum::<u64>() + classes.values().sum::<u64>();
    ColumnDiff {
        source: p.source.clone(),
        target: p.target.clone(),
        source_type: p.source_type.clone(),
        target_type: p.target_type.clone(),
        key: c < plan.key_len,
        sensitive: p.sensitive,
        rules: p.rules.0.iter().map(|r| r.name()).collect(),
        compared: paired,
        matched: paired.saturating_sub(differing),
        matched_by_rule: rules.clone(),
        mismatched: classes.clone(),
        source_aggregate: aggs[0][c].finish(p.sensitive),
        target_aggregate: aggs[1][c].finish(p.sensitive),
    }
}
