//! `reckon diff --pushdown`: the databases hash their own rows, and only what differs moves.
//!
//! Each side (PostgreSQL, MySQL/MariaDB or SQLite, whose connections carry reckon's SHA-256 and
//! exact sum as registered functions: `src/source/sqlite_pushdown.rs`) computes, in its own
//! SQL (`queries/<dialect>/pushdown.sql`), a **row text** of the compared columns in plan
//! order: per column a tagged field (`n` number, `f` float bits, `t`
//! length-prefixed text, `b` bytes hex, `d` days, `i` instant µs, `l` local date-time µs, `h` time
//! µs, `o` boolean, `Z` NULL…), a grammar that parses one way only. The row hash is the first 8
//! bytes of its SHA-256; the bucket is the first 4 bytes of the SHA-256 of the key's text, modulo
//! the number of buckets. When both sides are PostgreSQL and every column pair is of one type
//! family, PostgreSQL's own extended hash functions replace the row text (several times
//! cheaper; see the notes in `queries/postgres/pushdown.sql` on which of them hash all their
//! input). A summary per bucket (rows, rows hashed, exact sum of the row hashes) comes back from
//! each side, first for a probe (about 1/32 of the rows, grouped as buckets: four narrow ranges
//! of a key of one integer column, read through its index, else 1/32 of the buckets), and only
//! buckets whose summaries differ go further:
//! - every bucket equal (**summaries**): nothing is read;
//! - few rows in differing buckets (**buckets**): those buckets' rows are read in full;
//! - many (**rows**): each side streams (key hash, row hash, key) of those buckets only (of
//!   every row, without full summaries, when the probe found most buckets differing), and full
//!   rows are read only for the keys whose hashes differ, by value through the key's index when
//!   it is one signed integer column.
//!
//! Rows read in full go through the streaming engine ([`super::diff_table`]), which classifies
//! them exactly as a streamed diff would; rows left behind are counted as matched.
//!
//! **Why it is never less exact than streaming.** Equal summaries are the only thing taken on
//! trust, and a field text is injective: two values that the value layer tells apart never give
//! the same text on any pair of engines (docs/design/pushdown-sql.md). The converse need not hold:
//! a value spelt two ways only makes its bucket differ, and then the engine decides. A column
//! whose type has no such text on one side (or that the diff compares by parsing, text against a
//! date, float against decimal), or a key compared under a rule, makes the whole table stream,
//! and the report says which column and why. A row whose text the database cannot hash (MariaDB
//! returns NULL for a text past `max_allowed_packet`) makes its bucket differ.
//!
//! Column aggregates come from the same queries: counts and NULLs of every column, and with
//! `--aggregates` the sums, minima and maxima of integers, decimals, text (byte order),
//! PostgreSQL booleans and dates, read as the streamed diff reads them (`AggregateAcc::add_sql`;
//! they cost about as much again as the hashing, so they are asked for). Never computed when
//! pushed down: those of floats (SQL has no exact float sum), timestamps, times, bytes, CHAR and
//! MySQL dates.
//!
//! The summaries, hashes and rows come from several queries, not one snapshot: compare tables
//! nobody writes to meanwhile.

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

use super::aggregate::AggregateAcc;
use super::engine::{diff_table, DiffOptions, Progress, RowSink};
use super::model::TableDiff;
use super::plan::{Read, TablePlan};
use super::DiffError;
use crate::source::{Dialect, Pushdown, Source, SourceError, TableMeta};
use crate::value::canonical::TextAs;

mod metered;
mod probe;
pub(crate) mod sql;
mod summary;

use metered::Counted;
use sql::*;
use summary::*;

/// Rows per bucket aimed at.
const BUCKET_ROWS: u64 = 2048;

/// At most this many differing keys are read by key; past it, the table streams.
const MAX_KEYS: usize = 250_000;

/// At most this many buckets are named in a query; past it, hashes are read for every row.
const MAX_LISTED: usize = 10_000;

/// How the work of one table pair was split, as the reports show it.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, schemars::JsonSchema)]
pub struct PushdownInfo {
    /// `summaries` (every bucket equal), `buckets`, `rows`, or `streamed` (not pushed down).
    pub strategy: String,
    /// How rows were hashed: `canonical text` (SHA-256 of reckon's row text, any pair of
    /// engines) or `postgres native` (PostgreSQL's own hash functions, PostgreSQL on both sides).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hashing: String,
    /// Why the table was streamed instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Columns that have no canonical SQL (and so made the table stream), with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_columns: Vec<FallbackColumn>,
    /// Buckets the key hashes were split into.
    pub buckets: u64,
    /// Buckets whose summaries differed (not counted when the probe found most differing, and
    /// the full summaries were skipped).
    pub differing_buckets: u64,
    /// Groups of rows summarised first, as a probe (about 1/32 of the rows in 1/32 as many
    /// groups as buckets: of four narrow key ranges for a key of one integer column, else of 1/32
    /// of the buckets; 0 for small tables).
    pub probed_buckets: u64,
    /// Probe groups whose summaries differed.
    pub probe_differing: u64,
    /// (key hash, row hash) pairs streamed from each side (strategy `rows`).
    pub hashes_fetched: [u64; 2],
    /// Rows read in full from each side.
    pub rows_fetched: [u64; 2],
    /// Bytes of values received from each side: the text of summaries, counts and hashes as
    /// the database sends it, and the Arrow buffers of the rows read in full.
    #[serde(default)]
    pub bytes_fetched: [u64; 2],
    /// Seconds spent waiting on each database for summaries and hashes (terminal and run.json
    /// only: result files stay byte-identical across runs).
    #[serde(skip)]
    pub seconds: [f64; 2],
}

/// A column compared by streaming, and why.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct FallbackColumn {
    /// Source column.
    pub column: String,
    /// Why it has no canonical SQL.
    pub why: String,
}

/// Runs one query on each side at once; returns both results and each side's seconds.
pub(super) fn both<T: Send>(
    dbs: [&dyn Pushdown; 2],
    f: impl Fn(usize, &dyn Pushdown) -> Result<T, DiffError> + Sync,
) -> Result<([T; 2], [f64; 2]), DiffError> {
    let timed = |side: usize| {
        let t = Instant::now();
        f(side, dbs[side]).map(|v| (v, t.elapsed().as_secs_f64()))
    };
    let (a, b) = std::thread::scope(|s| {
        let h = s.spawn(|| timed(0));
        let b = timed(1);
        (
            h.join()
                .unwrap_or_else(|_| Err(DiffError::Spill("a pushdown thread failed".into()))),
            b,
        )
    });
    let ((a, ta), (b, tb)) = (a?, b?);
    Ok(([a, b], [ta, tb]))
}

fn in_list<T: ToString>(what: &str, items: impl Iterator<Item = T>) -> String {
    let list: Vec<String> = items.map(|x| x.to_string()).collect();
    if list.is_empty() {
        "1 = 0".into()
    } else {
        format!("{what} IN ({})", list.join(", "))
    }
}

/// Whether a side's declared primary key is exactly the key (then no key occurs twice there).
fn key_declared(meta: &TableMeta, key: &[String]) -> bool {
    let mut pk: Vec<&str> = meta.primary_key.iter().map(String::as_str).collect();
    let mut k: Vec<&str> = key.iter().map(String::as_str).collect();
    pk.sort_unstable();
    k.sort_unstable();
    !pk.is_empty() && pk == k
}

/// Diffs one planned table pair with the work pushed down into both databases; a pair that
/// cannot be pushed down is streamed, and the result says why.
pub fn diff_pushdown(
    source: &mut dyn Source,
    target: &mut dyn Source,
    plan: &TablePlan,
    opts: &DiffOptions,
    sink: &mut dyn RowSink,
    progress: Progress<'_>,
) -> Result<TableDiff, DiffError> {
    let started = Instant::now();
    let streamed = |source: &mut dyn Source,
                    target: &mut dyn Source,
                    sink: &mut dyn RowSink,
                    reason: String,
                    fallback_columns: Vec<FallbackColumn>| {
        let mut t = diff_table(source, target, plan, opts, sink, progress)?;
        t.pushdown = Some(PushdownInfo {
            strategy: "streamed".into(),
            reason: Some(reason),
            fallback_columns,
            ..PushdownInfo::default()
        });
        Ok(t)
    };
    let (ps, pt) = match (source.pushdown(), target.pushdown()) {
        (Some(mut a), Some(mut b)) => {
            if a.server() == b.server() {
                a.share_cores();
                b.share_cores();
            }
            (a, b)
        }
        (a, _) => {
            let side = if a.is_none() { "source" } else { "target" };
            return streamed(
                source,
                target,
                sink,
                format!("the {side} is not a database (PostgreSQL, MySQL/MariaDB or SQLite)"),
                Vec::new(),
            );
        }
    };
    if plan.source.query.is_some() || plan.target.query.is_some() {
        return streamed(
            source,
            target,
            sink,
            "a side is a query, not a table".into(),
            Vec::new(),
        );
    }
    let metered = [Counted::new(ps.as_ref()), Counted::new(pt.as_ref())];
    let dbs: [&dyn Pushdown; 2] = [&metered[0], &metered[1]];
    let sql = match side_sql(plan, dbs, opts.aggregates) {
        Ok(s) => s,
        Err((reason, cols)) => return streamed(source, target, sink, reason, cols),
    };
    let ncols = plan.columns.len();
    let estimate = ps.estimate(&plan.source)?.max(pt.estimate(&plan.target)?);
    let nbuckets = opts
        .buckets
        .unwrap_or((estimate / BUCKET_ROWS).clamp(16, 1 << 20));
    // Under `--shard I/N`, this run's share of the buckets: every query reads only its rows.
    let (lo, hi) = match opts.shard {
        Some(sh) => (
            ((u128::from(sh.index - 1) * u128::from(nbuckets)) / u128::from(sh.count)) as u64,
            ((u128::from(sh.index) * u128::from(nbuckets)) / u128::from(sh.count)) as u64,
        ),
        None => (0, nbuckets),
    };
    let share: [String; 2] = [0, 1].map(|side| match opts.shard {
        Some(_) => {
            let b = sql[side].bucket(nbuckets);
            format!("({b}) >= {lo} AND ({b}) < {hi}")
        }
        None => "1 = 1".to_string(),
    });
    let mut info = PushdownInfo {
        hashing: if sql[0].native {
            "postgres native".into()
        } else {
            "canonical text".into()
        },
        buckets: nbuckets,
        ..PushdownInfo::default()
    };
    // 1. A probe (see [`probe::probe`]): when most of its groups differ, so will most buckets,
    //    the full summaries are skipped (only counts are taken), and the hashes of every row
    //    are read.
    let mut dense = false;
    if let Some(p) = probe::probe(dbs, &sql, &share, nbuckets, (lo, hi), estimate)? {
        info.seconds = p.seconds;
        info.probed_buckets = p.groups;
        info.probe_differing = p.differing;
        dense = p.differing * 2 > p.groups;
    }
    // 2. Counts, and the summaries (none when dense).
    let (sides, secs) = both(dbs, |side, db| {
        let naggs = sql[side].aggs.iter().flatten().count();
        if dense {
            let counts = parse_counts(db, db.rows(&sql[side].counts(&share[side]))?, ncols, naggs)?;
            Ok((counts, Summary::default()))
        } else {
            let rows = db.rows(&sql[side].summary(nbuckets, &share[side], true))?;
            let (summary, counts) = parse_summary(db, rows, ncols, naggs)?;
            Ok((counts, summary))
        }
    })?;
    info.seconds[0] += secs[0];
    info.seconds[1] += secs[1];
    let [(c0, s0), (c1, s1)] = &sides;
    let (dirty, clean_rows, dirty_rows) = if dense {
        (Vec::new(), 0, 0)
    } else {
        compare(s0, s1)
    };
    info.differing_buckets = dirty.len() as u64;
    let total: [u64; 2] = [c0.rows, c1.rows];
    // 3. What to read in full: nothing, the differing buckets, or the differing keys.
    let listed = !dense && dirty.len() <= MAX_LISTED;
    let bucket_cond = |side: usize| {
        if listed {
            in_list(&sql[side].bucket(nbuckets), dirty.iter())
        } else {
            share[side].clone()
        }
    };
    let mut matched_elsewhere = clean_rows;
    let conds: [String; 2] = if !dense && dirty.is_empty() {
        info.strategy = "summaries".into();
        ["1 = 0".into(), "1 = 0".into()]
    } else if listed && dirty_rows.saturating_mul(4) <= total[0].max(total[1]) {
        info.strategy = "buckets".into();
        [bucket_cond(0), bucket_cond(1)]
    } else {
        let by_value = sql[0].int_key.is_some() && sql[1].int_key.is_some();
        let tuples = both(dbs, |side, db| {
            read_tuples(db, &sql[side].tuples(&bucket_cond(side), by_value))
        });
        match tuples {
            Ok(([a, b], secs)) => {
                info.seconds[0] += secs[0];
                info.seconds[1] += secs[1];
                info.hashes_fetched = [a.len() as u64, b.len() as u64];
                let (keys, matched) = differing_keys(&a, &b);
                if keys.len() > MAX_KEYS && opts.shard.is_some() {
                    // A shard never streams for a reason of its own: streamed shards split the
                    // rows by another hash. It reads its share of the rows in full instead.
                    info.strategy = "buckets".into();
                    matched_elsewhere = 0;
                    [share[0].clone(), share[1].clone()]
                } else if keys.len() > MAX_KEYS {
                    return streamed(
                        source,
                        target,
                        sink,
                        format!(
                            "more than {MAX_KEYS} keys differ: reading them by key would cost more than streaming"
                        ),
                        Vec::new(),
                    );
                } else {
                    info.strategy = "rows".into();
                    // Unlisted, the hashes covered every row: the equal ones are the matched.
                    matched_elsewhere = if listed {
                        clean_rows + matched
                    } else {
                        matched
                    };
                    [0, 1].map(|side| match &sql[side].int_key {
                        Some(q) if by_value => in_list(q, keys.iter().map(|k| k.1)),
                        _ => in_list(&sql[side].key_hash, keys.iter().map(|k| k.0)),
                    })
                }
            }
            // A row the database could not hash: its buckets are read whole (a shard's, its
            // whole share).
            Err(_) if listed || opts.shard.is_some() => {
                info.strategy = "buckets".into();
                if !listed {
                    matched_elsewhere = 0;
                }
                [bucket_cond(0), bucket_cond(1)]
            }
            Err(e) => {
                return streamed(
                    source,
                    target,
                    sink,
                    format!("a row could not be hashed in SQL ({e})"),
                    Vec::new(),
                )
            }
        }
    };
    // 4. The rows read in full, through the streaming engine.
    let mut sub = plan.clone();
    let none = info.strategy == "summaries";
    let rows: [String; 2] = [0, 1].map(|side| format!("({}) AND ({})", conds[side], share[side]));
    let read = |side: usize| (!none).then_some(rows[side].as_str());
    sub.source.query = Some(format!(
        "{} WHERE {}",
        ps.select(&plan.source, read(0))?,
        rows[0]
    ));
    sub.target.query = Some(format!(
        "{} WHERE {}",
        pt.select(&plan.target, read(1))?,
        rows[1]
    ));
    // The rows read are the shard's already: the engine keeps them all.
    let whole = DiffOptions {
        shard: None,
        ..opts.clone()
    };
    // Keys that occur twice where no summary shows them, counted before any row is written (a
    // pair that fails writes none).
    let mut dup_counts: [Option<u64>; 2] = [None, None];
    if plan.key_len > 0 {
        let key: [Vec<String>; 2] = [
            plan.columns[..plan.key_len]
                .iter()
                .map(|c| c.source.clone())
                .collect(),
            plan.columns[..plan.key_len]
                .iter()
                .map(|c| c.target.clone())
                .collect(),
        ];
        let declared = [
            key_declared(&plan.source, &key[0]),
            key_declared(&plan.target, &key[1]),
        ];
        if !(declared[0] && declared[1]) {
            let (dups, secs) = both(dbs, |side, db| {
                if declared[side] {
                    return Ok(0);
                }
                let rows = db.rows(&sql[side].duplicates(&share[side]))?;
                rows.first()
                    .and_then(|r| r.first().cloned().flatten())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .ok_or_else(|| bad(db, "duplicate count"))
            })?;
            info.seconds[0] += secs[0];
            info.seconds[1] += secs[1];
            for side in 0..2 {
                if !declared[side] {
                    dup_counts[side] = Some(dups[side]);
                }
            }
        }
    }
    let mut t = diff_table(source, target, &sub, &whole, sink, progress)?;
    info.rows_fetched = [t.counts.source_rows, t.counts.target_rows];
    if let Some(d) = dup_counts[0] {
        t.counts.duplicate_keys_source = d;
    }
    if let Some(d) = dup_counts[1] {
        t.counts.duplicate_keys_target = d;
    }
    t.counts.source_rows = total[0];
    t.counts.target_rows = total[1];
    t.counts.matched += matched_elsewhere;
    let counted = [c0, c1];
    let mut accs: [Vec<AggregateAcc>; 2] = [Vec::new(), Vec::new()];
    for (i, c) in t.columns.iter_mut().enumerate() {
        c.compared += matched_elsewhere;
        c.matched += matched_elsewhere;
        let reads = [&plan.columns[i].source_read, &plan.columns[i].target_read];
        let [a0, a1] = [0, 1].map(|side| {
            let s = counted[side];
            let mut acc = AggregateAcc::counted(s.non_null[i], s.rows - s.non_null[i].min(s.rows));
            if let Some(kind) = sql[side].aggs[i] {
                // This column's place among the aggregated ones, in every group's texts.
                let j = sql[side].aggs[..i].iter().flatten().count();
                let naggs = sql[side].aggs.iter().flatten().count();
                for group in s.aggs.chunks(naggs.max(1)) {
                    let [sum, min, max] = &group[j];
                    acc.add_sql(
                        kind,
                        sum.as_deref(),
                        min.as_deref(),
                        max.as_deref(),
                        reads[side],
                    );
                }
            }
            acc
        });
        c.source_aggregate = a0.finish(plan.columns[i].sensitive);
        c.target_aggregate = a1.finish(plan.columns[i].sensitive);
        accs[0].push(a0);
        accs[1].push(a1);
    }
    t.accumulators = Some(Box::new(accs));
    t.side_hashes = [0, 0];
    t.seconds = started.elapsed().as_secs_f64();
    info.bytes_fetched = [0, 1].map(|side| metered[side].bytes() + t.bytes_read[side]);
    t.pushdown = Some(info);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_declared_key_is_the_whole_key_in_any_order() {
        let mut m = TableMeta {
            name: crate::source::TableName::parse("t"),
            columns: Vec::new(),
            primary_key: vec!["b".into(), "a".into()],
            foreign_keys: Vec::new(),
            query: None,
        };
        assert!(key_declared(&m, &["a".into(), "b".into()]));
        assert!(!key_declared(&m, &["a".into()]));
        m.primary_key.clear();
        assert!(!key_declared(&m, &[]));
    }
}
