//! The row diff, hash first: rows are encoded to be hashed, and only the rows that differ are
//! ever kept encoded.
//!
//! 1. **Hash**: both sides are read at once (one thread each), in lockstep by rows read. Each
//!    chunk's rows are canonically encoded (key columns first) into reused buffers, in parallel;
//!    the key hash is xxh3-64 of the key's encoding (in its pairing form under key rules), the row
//!    hash xxh3-128 of the whole row's. Per row only a 32-byte tuple is kept: (key hash, row hash,
//!    chunk, row). The chunk's compared columns stay in memory while they fit in
//!    `--memory-limit`; past it, a side that reads the same chunks again (files, SQLite) drops
//!    them, and a database side writes them to disk (Arrow IPC).
//! 2. **Cancel**: both sides' tuples are sorted by (key hash, row hash) in parallel and merged: a
//!    pair present m times on one side and n on the other cancels min(m, n) times (equal rows).
//!    Duplicated key hashes per side are counted on the way.
//! 3. **Materialise**: the rows left are encoded again from their chunks (in memory, on disk, or
//!    read a second time, where each row must hash as it did the first time).
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
use super::model::{CellDiff, ColumnDiff, DiffRow, RowCounts, TableDiff};
use super::plan::{ColumnPlan, Read, TablePlan};
use super::rules::ColumnRules;
use super::DiffError;
use crate::profile::pattern::shape;
use crate::source::{Chunk, ChunkStream, ReadDefect, Source, SourceError};
use crate::value::canonical::{cells, display, encode_column_with, TextAs};

mod cancel;
mod fetch;
mod hashing;
mod settle;
mod spill;

use cancel::*;
use fetch::*;
use hashing::*;
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
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions {
            memory_limit: 1 << 30,
            samples: 20,
            spill_dir: None,
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

/// Reads a stream on its own thread into a small bounded channel.
fn spawn_reader<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    stream: crate::source::ChunkStream,
) -> Receiver<Result<Chunk, SourceError>> {
    let (tx, rx) = sync_channel(2);
    scope.spawn(move || {
        for c in stream {
            let stop = c.is_err();
            if tx.send(c).is_err() || stop {
                break;
            }
        }
    });
    rx
}

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
    let table_names = [head.source_table.clone(), head.target_table.clone()];
    let pairing = Pairing::new(plan);
    let mut aggs: [Vec<AggregateAcc>; 2] = [
        vec![AggregateAcc::default(); plan.columns.len()],
        vec![AggregateAcc::default(); plan.columns.len()],
    ];
    let mut tuples: [Vec<Tuple>; 2] = Default::default();
    let mut kept: [Vec<KeptChunk>; 2] = Default::default();
    let mut kept_bytes = 0usize;
    let mut spill: Option<BatchSpill> = None;
    let mut tuple_spill: Option<TupleSpill> = None;
    // Kept chunks and tuples get three quarters of `--memory-limit`: the rest is for the chunks
    // being read and encoded.
    let budget = opts.memory_limit / 4 * 3;
    let mut counts = RowCounts::default();
    let mut side_hashes = [0u128; 2];
    // Chunks are kept in memory while they fit. Past `--memory-limit`, a side that reads the same
    // chunks twice (files, SQLite) keeps nothing and reads its few rows left again; a database
    // side writes its chunks to disk.
    let rereadable = [source.rereadable(), target.rereadable()];
    let mut keep = [true, true];
    let mut over_limit = false;
    let streams = [source.read(&plan.source)?, target.read(&plan.target)?];
    // Pass 1: every row of both sides to (key hash, row hash, where it is kept).
    std::thread::scope(|scope| -> Result<(), DiffError> {
        let [s0, s1] = streams;
        let rx = [spawn_reader(scope, s0), spawn_reader(scope, s1)];
        let mut done = [false, false];
        let mut read = [0u64, 0u64];
        while !(done[0] && done[1]) {
            // Lockstep: take from the side that has read fewer rows.
            let side = if done[0] {
                1
            } else if done[1] || read[0] <= read[1] {
                0
            } else {
                1
            };
            let chunk = match rx[side].recv() {
                Ok(c) => c?,
                Err(_) => {
                    done[side] = true;
                    continue;
                }
            };
            let (batch, defects) = prepared(&mut sides[side], &chunk, &table_names[side])?;
            let reads = sides[side].reads.clone();
            let arrays: Vec<ArrayRef> = batch.columns().to_vec();
            let ((kh, rh), chunk_aggs) = rayon::join(
                || hash_chunk(&arrays, &defects, &reads, &pairing),
                || {
                    arrays
                        .par_iter()
                        .zip(reads.par_iter())
                        .map(|(a, r)| {
                            let mut acc = AggregateAcc::default();
                            acc.update(a, r);
                            acc
                        })
                        .collect::<Vec<_>>()
                },
            );
            for (acc, a) in aggs[side].iter_mut().zip(chunk_aggs) {
                acc.merge(a);
            }
            let n = kh.len();
            read[side] += n as u64;
            let chunk_no = u32::try_from(kept[side].len())
                .ok()
                .filter(|c| c & SIDE_BIT == 0)
                .ok_or_else(|| DiffError::Spill("more than 2^31 chunks on one side".into()))?;
            let tag = chunk_no | if side == 1 { SIDE_BIT } else { 0 };
            tuples[side].reserve(n);
            for (i, (k, r)) in kh.into_iter().zip(rh).enumerate() {
                side_hashes[side] = side_hashes[side].wrapping_add(r);
                tuples[side].push(Tuple {
                    row_hash: r,
                    key_hash: k,
                    chunk: tag,
                    row: i as u32,
                });
            }
            if keep[side] {
                kept_bytes += batch.get_array_memory_size();
                kept[side].push(KeptChunk {
                    data: Kept::Mem(batch),
                    defects,
                });
            } else {
                kept[side].push(KeptChunk {
                    data: Kept::Reread(n),
                    defects: Vec::new(),
                });
            }
            // Past the memory limit the kept chunks leave memory (the tuples stay): dropped, to
            // be read again, or written to disk.
            let tuple_bytes = (tuples[0].len() + tuples[1].len()) * std::mem::size_of::<Tuple>();
            if (kept_bytes + tuple_bytes) as u64 > budget && kept_bytes > 0 {
                over_limit = true;
                for (s, list) in kept.iter_mut().enumerate() {
                    if rereadable[s] {
                        keep[s] = false;
                        for k in list.iter_mut() {
                            if let Kept::Mem(b) = &k.data {
                                k.data = Kept::Reread(b.num_rows());
                                k.defects = Vec::new();
                            }
                        }
                        continue;
                    }
                    if spill.is_none() {
                        spill = Some(BatchSpill::new(&opts.spill_dir)?);
                    }
                    if let Some(sp) = spill.as_mut() {
                        for k in list.iter_mut() {
                            if let Kept::Mem(b) = &k.data {
                                let at = sp.write(s, b)?;
                                k.data = Kept::Disk(at);
                            }
                        }
                    }
                }
                kept_bytes = 0;
            }
            // Tuples past half the limit go to their partitions on disk.
            if (tuple_bytes as u64).saturating_mul(2) > budget {
                over_limit = true;
                if tuple_spill.is_none() {
                    tuple_spill = Some(TupleSpill::new(&opts.spill_dir)?);
                }
                if let Some(ts) = tuple_spill.as_mut() {
                    ts.write(&mut tuples)?;
                }
            }
            progress(read[0], read[1]);
        }
        counts.source_rows = read[0];
        counts.target_rows = read[1];
        Ok(())
    })?;
    if let Some(sp) = spill.as_mut() {
        sp.finish()?;
    }
    // Pass 2: equal (key hash, row hash) pairs cancel as a multiset, per radix partition.
    let keyed = plan.key_len > 0;
    let (matched, dups, leftover) = match tuple_spill.as_mut() {
        None => cancel(std::mem::take(&mut tuples), keyed),
        Some(ts) => {
            ts.write(&mut tuples)?;
            ts.finish()?;
            let (mut matched, mut dups, mut left) = (0u64, [0u64; 2], Vec::new());
            for p in 0..PARTITIONS {
                let (m, d, l) = cancel(ts.read(p)?, keyed);
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
        kept[side].iter().any(|k| matches!(k.data, Kept::Reread(_)))
            && tuples_left_on(&leftover, side)
    };
    let reread = [
        needs(0)
            .then(|| {
                source
                    .read(&plan.source)
                    .map(|s| (s, head.source_table.clone()))
            })
            .transpose()?,
        needs(1)
            .then(|| {
                target
                    .read(&plan.target)
                    .map(|s| (s, head.target_table.clone()))
            })
            .transpose()?,
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
                let (matched, items) = settle(recs, &pairing);
                let mut out = PartOut {
                    matched,
                    ..PartOut::default()
                };
                classify_items(items, plan, &mut out);
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
        "mismatch"
    } else if counts.matched_by_rule > 0 {
        "match*"
    } else {
        "match"
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
        verdict: verdict.into(),
        counts,
        rules: all_rules,
        classes: all_classes,
        schema: plan.schema.clone(),
        columns,
        samples,
        spilled: over_limit,
        seconds: started.elapsed().as_secs_f64(),
        side_hashes,
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
