//! The profile engine: per-column accumulators run in parallel over chunks, then table checks,
//! relationships across tables, and findings.
//!
//! For each chunk the columns are profiled in parallel (rayon), each into its own mergeable
//! [`column::ColumnAcc`]; the per-row value hashes they return feed the table accumulator
//! (duplicate rows, declared key, candidate keys). Results are plain structs ([`model`]) that
//! every report is written from.

pub mod ascent;
pub mod column;
pub mod datefmt;
pub mod distinct;
pub mod encoding;
pub mod finding;
pub mod frequency;
pub mod model;
pub mod numeric;
pub mod pattern;
pub mod pushdown;
pub mod radix;
pub mod relation;
pub mod summary;
pub mod table;
pub mod text;

use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::util::display::array_value_to_string;
use serde::Serialize;

use crate::source::{parts, Chunk, ReadDefect, Source, SourceError, TableMeta};
use column::{ChunkContext, ColumnAcc};
use finding::Finding;
use model::{Relationship, TableProfile};
use table::{TableAcc, TableOptions};

/// What the user sets for a profile run.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProfileOptions {
    /// Distinct values counted exactly up to this many per column, then HyperLogLog.
    pub exact_distinct_limit: usize,
    /// Value frequencies kept exactly up to this many distinct values per column.
    pub frequency_limit: usize,
    /// Top values and shapes shown per column.
    pub top_k: usize,
    /// Sample keys kept per finding.
    pub sample_keys: usize,
    /// Columns whose raw values never appear in any output.
    pub sensitive: Vec<String>,
    /// Stop counting duplicate rows past this many distinct rows.
    pub duplicate_row_limit: usize,
    /// Evaluate two-column candidate keys up to this many rows.
    pub composite_key_row_limit: usize,
    /// `--pushdown`: compute in SQL what SQL computes exactly (database tables only).
    pub pushdown: bool,
    /// `--sample-rows N` (with `--pushdown`): stream about this many rows of a larger table.
    pub sample_rows: Option<u64>,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            exact_distinct_limit: 1_000_000,
            frequency_limit: 10_000,
            top_k: 10,
            sample_keys: 5,
            sensitive: Vec::new(),
            duplicate_row_limit: 50_000_000,
            composite_key_row_limit: 1_000_000,
            pushdown: false,
            sample_rows: None,
        }
    }
}

impl ProfileOptions {
    fn is_sensitive(&self, column: &str) -> bool {
        self.sensitive
            .iter()
            .any(|s| s.eq_ignore_ascii_case(column))
    }
}

/// What a whole profile run found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ProfileReport {
    /// Version of the report format (bump on incompatible change).
    pub format_version: u32,
    /// reckon's version.
    pub reckon_version: String,
    /// The source, redacted.
    pub source: String,
    /// The options in force.
    pub options: ProfileOptions,
    /// Per-table profiles.
    pub tables: Vec<TableProfile>,
    /// Declared and inferred relationships, checked.
    pub relationships: Vec<Relationship>,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
}

/// Progress events, for a progress bar.
pub enum Progress<'a> {
    /// A table starts; the row estimate when known.
    Start(&'a str, Option<u64>),
    /// Rows done in the current table.
    Rows(u64),
    /// The table is done.
    Done,
}

/// A profiled table with the accumulators relationship checks need.
pub struct ScannedTable {
    /// The catalog entry.
    pub meta: TableMeta,
    /// The profile.
    pub profile: TableProfile,
    /// The column accumulators.
    pub cols: Vec<ColumnAcc>,
    /// Sensitive flags per column.
    pub sensitive: Vec<bool>,
    /// Under `--sample-rows`, the profile of the sample alone: findings are worked out from it,
    /// so that their counts and shares are the sample's throughout.
    pub sample_profile: Option<TableProfile>,
}

/// Profiles one database table under `--pushdown`: its exact statistics in SQL, the rest
/// streamed from the whole table or from a sample.
fn profile_pushed_down(
    source: &mut dyn Source,
    db: &dyn crate::source::Pushdown,
    meta: &TableMeta,
    opts: &ProfileOptions,
    progress: &dyn Fn(Progress<'_>),
) -> Result<ScannedTable, SourceError> {
    let started = Instant::now();
    let countable = pushdown::countable(db, meta);
    // Sampled by the catalog's row estimate, so that SQL and the sample run at once: SQL on its
    // own connections, the sample through the source.
    let estimate = match opts.sample_rows {
        Some(_) => db.estimate(meta)?,
        None => 0,
    };
    let sampling = opts.sample_rows.filter(|&want| want < estimate);
    let (mut s, sql) = match sampling {
        Some(want) => {
            let (cond, _) =
                pushdown::sample_condition(db.dialect(), want, estimate, &meta.name.name);
            let mut m = meta.clone();
            // Temporal values that must be read as text are looked for in the whole table: a
            // plain scan costs less than one that hashes every row's text for the sample.
            m.query = Some(format!("{} WHERE {cond}", db.select(meta, Some("1 = 1"))?));
            let every = vec![true; meta.columns.len()];
            let (sql, streamed) = std::thread::scope(|scope| {
                let h = scope.spawn(|| pushdown::table_sql(db, meta, pushdown::Ask::All, &every));
                let streamed = profile_table(source, &m, opts, progress);
                let sql = h.join().unwrap_or_else(|_| {
                    Err(SourceError::query(
                        &meta.name.to_string(),
                        "the SQL thread failed",
                    ))
                });
                (sql, streamed)
            });
            let mut s = streamed?;
            s.meta = meta.clone();
            (s, Some(sql?))
        }
        None => (profile_table(source, meta, opts, progress)?, None),
    };
    match (sampling, sql) {
        (Some(want), Some(sql)) => {
            let (_, method) =
                pushdown::sample_condition(db.dialect(), want, estimate, &meta.name.name);
            let sample = pushdown::Sample {
                rows: s.profile.rows,
                method,
            };
            s.sample_profile = Some(s.profile.clone());
            pushdown::overlay(&mut s.profile, &sql, Some(sample));
        }
        _ => {
            // Every row was read: SQL is asked only for the distinct counts the stream could
            // not keep exact (past --exact-distinct-limit), when it can count them.
            let inexact: Vec<bool> = s
                .profile
                .columns
                .iter()
                .zip(&countable)
                .map(|(c, &ok)| ok && !c.distinct_exact)
                .collect();
            let sql = if inexact.iter().any(|&b| b) {
                Some(pushdown::table_sql(
                    db,
                    meta,
                    pushdown::Ask::Distinct,
                    &inexact,
                )?)
            } else {
                None
            };
            pushdown::overlay_whole(&mut s.profile, sql.as_ref());
        }
    }
    s.profile.seconds = started.elapsed().as_secs_f64();
    Ok(s)
}

/// Profiles one table.
pub fn profile_table(
    source: &mut dyn Source,
    meta: &TableMeta,
    opts: &ProfileOptions,
    progress: &dyn Fn(Progress<'_>),
) -> Result<ScannedTable, SourceError> {
    let started = Instant::now();
    let est = source.estimate_rows(meta);
    let label = meta.name.to_string();
    progress(Progress::Start(&label, est));
    let display = source.display();
    let ncols = meta.columns.len();
    let mut cols: Vec<ColumnAcc> = (0..ncols).map(|_| ColumnAcc::default()).collect();
    let sensitive: Vec<bool> = meta
        .columns
        .iter()
        .map(|c| opts.is_sensitive(&c.name))
        .collect();
    let pk: Vec<usize> = meta
        .primary_key
        .iter()
        .filter_map(|k| meta.columns.iter().position(|c| &c.name == k))
        .collect();
    let pk_shown =
        !pk.is_empty() && pk.len() == meta.primary_key.len() && pk.iter().all(|&i| !sensitive[i]);
    let mut tacc = TableAcc::new();
    let topts = TableOptions {
        pk: &pk,
        duplicate_row_limit: opts.duplicate_row_limit,
        composite_key_row_limit: opts.composite_key_row_limit,
        sample_keys: opts.sample_keys,
    };
    // The key of a row of a chunk (for samples): the declared key's values, else its position.
    let key_of = |batch: &RecordBatch, offset: u64, row: usize| -> String {
        if pk_shown {
            pk.iter()
                .map(|&i| {
                    let v = array_value_to_string(batch.column(i), row).unwrap_or_default();
                    format!("{}={v}", meta.columns[i].name)
                })
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            format!("row {}", offset + row as u64 + 1)
        }
    };
    let mut offset = 0u64;
    // The table checks of a chunk run beside the column work of the next one: the chunk's row
    // hashes, the chunk, and where it starts.
    let mut pending: Option<(Vec<Vec<u64>>, bool, RecordBatch, u64)> = None;
    // What each column's work, and the table checks, took on the last chunk.
    let mut cost = vec![std::time::Duration::ZERO; ncols];
    let mut cost_checks = std::time::Duration::ZERO;
    let table_checks =
        |tacc: &mut TableAcc, done: Option<(Vec<Vec<u64>>, bool, RecordBatch, u64)>| {
            if let Some((hashes, ascend, batch, at)) = done {
                tacc.update(&hashes, ascend, &topts, &|row| key_of(&batch, at, row));
            }
        };
    let mut take = |chunk: Chunk| -> Result<(), SourceError> {
        // Mixed-type (union) columns as one plain type: a profile shows and counts values.
        let batch = crate::value::kind::plain_batch(&chunk.batch);
        if batch.num_columns() != ncols {
            return Err(SourceError::query(
                &display,
                format!(
                    "table {label}: the reader returned {} columns, the catalog {ncols}",
                    batch.num_columns()
                ),
            ));
        }
        let mut invalid: Vec<Vec<usize>> = vec![Vec::new(); ncols];
        for d in &chunk.defects {
            let ReadDefect::InvalidUtf8 { column, row, .. } = d;
            if let Some(v) = invalid.get_mut(*column) {
                v.push(*row);
            }
        }
        for v in &mut invalid {
            v.sort_unstable();
        }
        let chunk_key = |row: usize| key_of(&batch, offset, row);
        // One task per column and one for the previous chunk's table checks, started longest
        // first (by what each took on the last chunk) so that no thread waits long at the end.
        let mut hashes: Vec<Vec<u64>> = vec![Vec::new(); ncols];
        let mut tasks: Vec<_> = cols
            .iter_mut()
            .zip(batch.columns())
            .zip(invalid.iter())
            .zip(hashes.iter_mut())
            .zip(cost.iter_mut())
            .collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(*t.1));
        let (mut checks, mut checks_cost, last_checks) = (pending.take(), cost_checks, cost_checks);
        rayon::scope_fifo(|s| {
            let (chunk_key, tacc, checks, checks_cost) =
                (&chunk_key, &mut tacc, &mut checks, &mut checks_cost);
            let table_checks = &table_checks;
            let mut checks_task = Some(move |_: &rayon::ScopeFifo<'_>| {
                let t = Instant::now();
                table_checks(tacc, checks.take());
                *checks_cost = t.elapsed();
            });
            for ((((acc, arr), inv), out), took) in tasks {
                if let Some(f) = checks_task.take_if(|_| *took < last_checks) {
                    s.spawn_fifo(f);
                }
                s.spawn_fifo(move |_| {
                    let t = Instant::now();
                    let ctx = ChunkContext {
                        opts,
                        invalid_utf8_rows: inv,
                        key_of: chunk_key,
                    };
                    acc.update_into(arr, &ctx, out);
                    *took = t.elapsed();
                });
            }
            if let Some(f) = checks_task {
                s.spawn_fifo(f);
            }
        });
        cost_checks = checks_cost;
        let rows = batch.num_rows() as u64;
        // Whether some column has ascended from the first row through this chunk (the
        // column work of the chunk is done).
        let ascend = cols.iter().any(|c| c.ascent.holds());
        pending = Some((hashes, ascend, batch, offset));
        offset += rows;
        progress(Progress::Rows(offset));
        Ok(())
    };
    let ps = source.read_parts_with_dictionaries(meta)?;
    let ahead = ps.as_deref().and_then(|p| parts::ahead(&[p]));
    match (ps, ahead) {
        // Files split into parts small enough to decode whole are decoded as parallel tasks, a
        // few parts ahead of the one being profiled, and profiled in their order (the same
        // chunks at any thread count); huge row groups stream.
        (Some(ps), Some(ahead)) => parts::in_order(
            ps,
            ahead,
            |p| (p.read)(),
            |chunks| chunks?.into_iter().try_for_each(&mut take),
        )?,
        _ => {
            for chunk in source.read(meta)? {
                take(chunk?)?;
            }
        }
    }
    // The last chunk's table checks (`take` is done with `tacc` and `pending`).
    table_checks(&mut tacc, pending.take());
    progress(Progress::Done);
    let (cands, composite_evaluated) = tacc.candidate_keys(&cols);
    let columns = meta
        .columns
        .iter()
        .enumerate()
        .map(|(i, m)| summary::summarize(m, i, &cols[i], sensitive[i], opts.top_k))
        .collect();
    let profile = TableProfile {
        table: meta.name.clone(),
        rows: tacc.rows,
        duplicate_rows: tacc.duplicates_known().then_some(tacc.duplicate_rows),
        duplicate_samples: tacc.duplicate_samples.clone(),
        primary_key: meta.primary_key.clone(),
        primary_key_duplicates: (!pk.is_empty()).then_some(tacc.pk_duplicates),
        primary_key_nulls: tacc.pk_nulls,
        candidate_keys: cands
            .into_iter()
            .map(|k| {
                k.into_iter()
                    .map(|i| meta.columns[i].name.clone())
                    .collect()
            })
            .collect(),
        composite_keys_evaluated: composite_evaluated,
        columns,
        seconds: started.elapsed().as_secs_f64(),
        pushdown: None,
    };
    Ok(ScannedTable {
        meta: meta.clone(),
        profile,
        cols,
        sensitive,
        sample_profile: None,
    })
}

/// Profiles a set of tables of one source, then checks relationships and derives findings.
pub fn profile_tables(
    source: &mut dyn Source,
    tables: &[TableMeta],
    opts: &ProfileOptions,
    progress: &dyn Fn(Progress<'_>),
) -> Result<ProfileReport, SourceError> {
    let mut scanned = Vec::with_capacity(tables.len());
    let mut unread = Vec::new();
    for t in tables {
        let db = opts
            .pushdown
            .then(|| source.pushdown())
            .flatten()
            // SQLite runs in this process: its SQL would read every row as the stream does.
            .filter(|db| db.dialect() != crate::source::Dialect::Sqlite)
            .filter(|_| t.query.is_none());
        let result = match db {
            None => profile_table(source, t, opts, progress),
            Some(db) => profile_pushed_down(source, db.as_ref(), t, opts, progress),
        };
        match result {
            Ok(s) => scanned.push(s),
            // A view with no data to read is reported; the other tables are still profiled.
            Err(e @ SourceError::Unpopulated { .. }) => unread.push((t.name.clone(), e)),
            Err(e) => return Err(e),
        }
    }
    // Declared foreign keys that touch a sampled table are checked in SQL, over both whole
    // tables, in the database that holds them.
    let db = opts
        .pushdown
        .then(|| source.pushdown())
        .flatten()
        .filter(|db| db.dialect() != crate::source::Dialect::Sqlite);
    let in_sql = |r: &mut Relationship, masked: bool| -> Result<bool, SourceError> {
        let Some(db) = db.as_deref() else {
            return Ok(false);
        };
        let meta = |name: &crate::source::TableName| tables.iter().find(|t| &t.name == name);
        match (meta(&r.child_table), meta(&r.parent_table)) {
            (Some(c), Some(p)) => {
                pushdown::check_relationship(db, c, p, r, opts.sample_keys, masked)
            }
            _ => Ok(false),
        }
    };
    let mut report = report_of(source.display(), scanned, opts, &in_sql)?;
    for (table, e) in unread {
        report.findings.push(finding::Finding {
            severity: finding::Severity::Medium,
            code: "unpopulated-view".into(),
            table,
            column: None,
            count: 0,
            message: format!("{e}: not profiled (REFRESH MATERIALIZED VIEW fills it)"),
            samples: vec![],
        });
    }
    finding::sort(&mut report.findings);
    Ok(report)
}

/// Assembles the report of scanned tables.
/// `in_sql` checks a declared relationship that touches a sampled table over the whole tables,
/// when the database can (`Ok(false)`: it cannot; the relationship stays unchecked).
pub fn report_of(
    source: String,
    scanned: Vec<ScannedTable>,
    opts: &ProfileOptions,
    in_sql: &dyn Fn(&mut Relationship, bool) -> Result<bool, SourceError>,
) -> Result<ProfileReport, SourceError> {
    let sets: Vec<relation::TableSets<'_>> = scanned
        .iter()
        .map(|s| relation::TableSets {
            meta: &s.meta,
            cols: &s.cols,
            sensitive: &s.sensitive,
        })
        .collect();
    let mut relationships = relation::relationships(&sets, opts.sample_keys);
    // A sample cannot show that a value has no parent, nor that every value has one: a
    // declared key of a sampled table is not checked, and none is inferred.
    let sampled: Vec<&crate::source::TableName> = scanned
        .iter()
        .filter(|s| {
            s.profile
                .pushdown
                .as_ref()
                .is_some_and(|p| p.sample.is_some())
        })
        .map(|s| &s.meta.name)
        .collect();
    let touches =
        |r: &Relationship| sampled.contains(&&r.child_table) || sampled.contains(&&r.parent_table);
    relationships.retain(|r| r.declared || !touches(r));
    for r in relationships.iter_mut().filter(|r| touches(r)) {
        let masked = scanned
            .iter()
            .find(|s| s.meta.name == r.child_table)
            .and_then(|s| {
                let i = s
                    .meta
                    .columns
                    .iter()
                    .position(|c| c.name == r.child_column)?;
                s.sensitive.get(i).copied()
            })
            .unwrap_or(true);
        if !in_sql(r, masked)? {
            r.checked = false;
            r.matched_distinct = 0;
            r.orphan_distinct = 0;
            r.orphan_rows = None;
            r.orphan_samples.clear();
            r.note = Some("not checked: a side was profiled from a sample (--sample-rows)".into());
        }
    }
    let tables: Vec<TableProfile> = scanned.iter().map(|s| s.profile.clone()).collect();
    // A sampled table's findings are the sample's (counts and shares of its rows), and say so.
    let for_findings: Vec<TableProfile> = scanned
        .iter()
        .map(|s| {
            s.sample_profile
                .clone()
                .unwrap_or_else(|| s.profile.clone())
        })
        .collect();
    let mut findings = finding::findings(&for_findings, &relationships);
    for f in &mut findings {
        // Relationships of sampled tables are checked over the whole tables, or not at all.
        if matches!(f.code.as_str(), "orphans" | "relationship-unchecked") {
            continue;
        }
        if let Some(p) = scanned
            .iter()
            .find(|s| s.meta.name == f.table)
            .and_then(|s| s.sample_profile.as_ref())
        {
            f.message = format!("{} (in a sample of {} rows)", f.message, p.rows);
        }
    }
    Ok(ProfileReport {
        format_version: 1,
        reckon_version: env!("CARGO_PKG_VERSION").to_string(),
        source,
        options: opts.clone(),
        tables,
        relationships,
        findings,
    })
}
