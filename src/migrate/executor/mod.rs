//! Running a plan: for each unit, read its source rows, transform them, sort them by key, write
//! them in batches (each batch in one transaction with its ledger row), then verify the unit with
//! the diff engine and record it `completed` or `verification_failed`.
//!
//! Resuming: a unit that is `completed` is skipped. Otherwise its run goes on: a batch whose
//! ledger row holds the same key hash and row hash is skipped; any other batch is (re)applied,
//! which is harmless because writes are upserts by key. A batch is all or nothing, so after a
//! kill -9 nothing is half-written: the batch being written was rolled back by the server.
//!
//! A unit's rows are in key order before batching, so batches are the same on every run
//! whatever order the source returns rows in: a full run of a unit whose source reads in key
//! order streams (`stream.rs`, bounded memory); any other unit is read whole and sorted
//! (`rows.rs`), which holds it in memory.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, StringArray};
use arrow::compute::kernels::cmp::gt_eq;
use arrow::compute::{
    cast, concat_batches, filter_record_batch, lexsort_to_indices, take_record_batch, SortColumn,
};
use arrow::datatypes::{DataType, Field, Schema};
use xxhash_rust::xxh3::Xxh3;

use super::key::{key_of_parts, key_texts, show_key, show_row_key};
use super::ledger::{append_log, now, redact, LedgerRow, UNIT_ROW, VERIFICATION_FAILED};
use super::plan::{Plan, Unit};
use super::target::{quote_table, IdWrite, Kind, Target, WriteSpec};
use super::transform::{IdMaps, Transformer};
use super::MigrateError;
use crate::diff::plan::{plan as diff_plan, Engine, PlanRequest};
use crate::diff::{diff_table, DiffOptions, NullSink};
use crate::source::{
    self, Chunk, ChunkStream, ColumnMeta, ReadDefect, Source, SourceError, SourceSpec, TableMeta,
    TableName, CHUNK_ROWS,
};
use crate::value::canonical::{hash_rows, TextAs};

mod delete;
mod dry_run;
mod rows;
mod runs;
mod sort;
mod stream;
mod verify;
mod write;

use rows::*;
pub use runs::check_applied;
use verify::*;

/// One unit's run, as the ledger sees it.
struct UnitRun<'u> {
    unit: &'u Unit,
    name: String,
    /// `full`, `delta` or `item`.
    kind: &'static str,
    run: i64,
    started: Instant,
}

/// A unit's rows, transformed, and where they go.
struct Outgoing {
    out: RecordBatch,
    /// Each row's source key as text.
    keys: Vec<String>,
    /// The target columns the upsert matches on.
    conflict: Vec<String>,
    /// The column the target generates, if any.
    generated: Option<String>,
}

/// What the user asked for.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Show the units, their statements and rows; write nothing.
    pub dry_run: bool,
    /// Only this unit.
    pub unit: Option<String>,
    /// One record: (unit, key text; composite parts joined with ',').
    pub item: Option<(String, String)>,
    /// Records to copy again, per unit (canonical keys; `--keys-from`): an `item`-kind run of
    /// the units named, over those keys only.
    pub keys: Option<BTreeMap<String, HashSet<String>>>,
    /// Target rows to delete, per unit, by their key values in key order (`--keys-from`, units
    /// with `delete_missing = true`).
    pub delete: Option<BTreeMap<String, Vec<Vec<String>>>>,
    /// Only rows changed since the last completed run's watermark.
    pub delta: bool,
    /// Stop at the first failed unit.
    pub fail_fast: bool,
    /// How long to wait for another executor's lock.
    pub wait: Duration,
    /// The JSONL log (default: beside the plan).
    pub log: Option<PathBuf>,
}

/// How one unit went.
#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct UnitOutcome {
    /// The unit.
    pub unit: String,
    /// `completed`, `already completed`, `verification_failed`, `failed`, `dry run`, `skipped`.
    pub status: String,
    /// `full`, `delta` or `item`.
    pub kind: String,
    /// Run number in the ledger.
    pub run: i64,
    /// Rows read from the source (after delta/item filtering).
    pub rows: u64,
    /// Rows the target reported as inserted or changed.
    pub written: u64,
    /// Batches written this time.
    pub batches_applied: u64,
    /// Batches found already applied.
    pub batches_skipped: u64,
    /// Batches in all.
    pub batches: u64,
    /// Verification: rows only in the unit's rows / rows differing / rows only in the target.
    pub verify: Option<(u64, u64, u64)>,
    /// Target rows deleted (`delete_missing = true`: `--keys-from` extras, or on a delta run
    /// the keys gone from the source).
    pub deleted: u64,
    /// Delta runs: target rows whose key the source no longer holds (deleted when the unit
    /// says `delete_missing = true`, else left and counted here).
    pub gone: u64,
    /// Read in key order and written as read, in bounded memory (`false`: read whole and
    /// sorted first).
    pub streamed: bool,
    /// The error, in full (terminal only; the ledger keeps a redacted copy).
    pub error: Option<String>,
    /// Dry run: the source read and the target statement.
    pub statements: Vec<String>,
    /// Seconds.
    pub seconds: f64,
}

/// Progress callbacks (the command draws bars).
pub trait Progress {
    /// A unit starts; `rows` to write.
    fn unit(&mut self, unit: &str, rows: u64);
    /// `rows` more rows written (or skipped as already applied).
    fn rows(&mut self, rows: u64);
    /// A phase of the unit (`reading`, `verifying`).
    fn phase(&mut self, unit: &str, phase: &str);
    /// The unit is over (whatever its outcome).
    fn done(&mut self);
}

/// No progress display.
pub struct NoProgress;

impl Progress for NoProgress {
    fn unit(&mut self, _: &str, _: u64) {}
    fn rows(&mut self, _: u64) {}
    fn phase(&mut self, _: &str, _: &str) {}
    fn done(&mut self) {}
}

fn hex128(v: u128) -> String {
    format!("{v:032x}")
}

/// The executor's state for one plan run.
pub struct Executor<'a> {
    plan: &'a Plan,
    opts: RunOptions,
    source: Box<dyn Source>,
    target: Target,
    target_reader: Option<Box<dyn Source>>,
    source_tables: Option<Vec<TableMeta>>,
    ledger: Vec<LedgerRow>,
    idmaps: IdMaps,
    log: PathBuf,
    /// A unit's delete, done when its transaction opens (`delete.rs`).
    pending_delete: Option<delete::PendingDelete>,
}

/// Opens the plan's target.
pub fn open_target(plan: &Plan) -> Result<Target, MigrateError> {
    let spec = SourceSpec::parse(&plan.target)?;
    Target::open(&spec, &plan.ledger, &plan.idmap)
}

impl<'a> Executor<'a> {
    /// Connects to both sides; unless this is a dry run, takes the lock and creates the ledger.
    pub fn new(plan: &'a Plan, opts: RunOptions) -> Result<Executor<'a>, MigrateError> {
        let sspec = SourceSpec::parse(&plan.source)?;
        let tspec = SourceSpec::parse(&plan.target)?;
        if sspec.display() == tspec.display() {
            return Err(MigrateError::Plan {
                path: plan.path.display().to_string(),
                line: 0,
                reason: "source and target are the same database".into(),
            });
        }
        let mut target = Target::open(&tspec, &plan.ledger, &plan.idmap)?;
        if !opts.dry_run {
            let tables: Vec<String> = plan.units.iter().map(|u| u.spec.target.clone()).collect();
            target.lock(&tables, opts.wait)?;
            target.create_ledger()?;
        }
        let source = source::open(&sspec)?;
        let ledger = target.read_ledger(&plan.name)?;
        check_applied(plan, &ledger)?;
        let log = opts.log.clone().unwrap_or_else(|| {
            let p = &plan.path;
            let stem = p
                .file_stem()
                .map_or("plan".into(), |s| s.to_string_lossy().to_string());
            p.with_file_name(format!("{stem}.ledger.jsonl"))
        });
        Ok(Executor {
            plan,
            opts,
            source,
            target,
            target_reader: None,
            source_tables: None,
            ledger,
            idmaps: IdMaps::new(),
            log,
            pending_delete: None,
        })
    }

    /// Runs the plan (or the units the options select).
    pub fn run(&mut self, progress: &mut dyn Progress) -> Result<Vec<UnitOutcome>, MigrateError> {
        let units: Vec<&Unit> = match (&self.opts.item, &self.opts.unit) {
            (Some((u, _)), _) | (None, Some(u)) => {
                let found = self.plan.unit(u).ok_or_else(|| MigrateError::Plan {
                    path: self.plan.path.display().to_string(),
                    line: 0,
                    reason: format!(
                        "no unit named '{u}' (units: {})",
                        self.plan
                            .units
                            .iter()
                            .map(|u| u.spec.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })?;
                vec![found]
            }
            _ => match &self.opts.keys {
                Some(keys) => self
                    .plan
                    .units
                    .iter()
                    .filter(|u| keys.contains_key(&u.spec.name))
                    .collect(),
                None => self.plan.units.iter().collect(),
            },
        };
        let mut out = Vec::new();
        let mut failed = false;
        for unit in units {
            if failed && self.opts.fail_fast {
                out.push(UnitOutcome {
                    unit: unit.spec.name.clone(),
                    status: "skipped".into(),
                    error: Some("an earlier unit failed and --fail-fast is set".into()),
                    ..UnitOutcome::default()
                });
                continue;
            }
            let started = Instant::now();
            let o = match self.run_unit(unit, progress) {
                Ok(o) => o,
                Err(e) => {
                    let message = e.to_string();
                    let class = error_class(&e);
                    let run = self.current_run(unit).0;
                    let kind = self.kind().to_string();
                    if !self.opts.dry_run {
                        let row = self.unit_row(unit, run, &kind, "failed", started, (0, 0));
                        let row = LedgerRow {
                            error_class: Some(class.into()),
                            error: Some(redact(&message)),
                            ..row
                        };
                        // A target that is down cannot take the row; the log still does.
                        if self.record(&row, true).is_err() {
                            let _ = append_log(&self.log, &row);
                        }
                    }
                    UnitOutcome {
                        unit: unit.spec.name.clone(),
                        status: "failed".into(),
                        kind,
                        run,
                        error: Some(format!(
                            "{message}{}",
                            crate::error::Hinted::hint(&e)
                                .map(|h| format!("\n  hint: {h}"))
                                .unwrap_or_default()
                        )),
                        seconds: started.elapsed().as_secs_f64(),
                        ..UnitOutcome::default()
                    }
                }
            };
            if o.status == "failed" || o.status == VERIFICATION_FAILED {
                failed = true;
            }
            progress.done();
            out.push(o);
        }
        Ok(out)
    }

    fn source_meta(&mut self, unit: &Unit) -> Result<TableMeta, MigrateError> {
        if let Some(q) = &unit.query {
            return Ok(self.source.describe_query(q)?);
        }
        let name = unit.spec.table.clone().unwrap_or_default();
        if self.source_tables.is_none() {
            self.source_tables = Some(self.source.tables()?);
        }
        let all = self.source_tables.as_ref().expect("just set");
        let shown = format!("{} (source)", self.source.display());
        Ok(source::find_table(all, &name, &shown)?.clone())
    }

    fn target_meta(&mut self, table: &str) -> Result<TableMeta, MigrateError> {
        // Opened per call: a new connection sees every committed write.
        let reader = source::open(&self.target.spec)?;
        let reader = self.target_reader.insert(reader);
        let all = reader.tables()?;
        let shown = format!("{} (target)", self.target.display);
        Ok(source::find_table(&all, table, &shown)?.clone())
    }

    fn run_unit(
        &mut self,
        unit: &Unit,
        progress: &mut dyn Progress,
    ) -> Result<UnitOutcome, MigrateError> {
        let started = Instant::now();
        self.pending_delete = None;
        let name = unit.spec.name.clone();
        let kind = self.kind();
        let (run, completed) = self.current_run(unit);
        let completed_run = completed.map(|c| c.run);
        let watermark = completed.and_then(|c| c.watermark.clone());
        let mut outcome = UnitOutcome {
            unit: name.clone(),
            kind: kind.into(),
            run,
            ..UnitOutcome::default()
        };
        if kind == "full" && completed_run.is_some() {
            outcome.status = "already completed".into();
            return Ok(outcome);
        }
        if kind == "delta" && unit.spec.updated_at.is_none() {
            return Err(MigrateError::Unit {
                unit: name,
                reason: "--delta needs the unit's updated_at column".into(),
                hint: "add updated_at = \"<column>\" to the unit, or run without --delta".into(),
            });
        }
        progress.phase(&name, "reading");
        let u = UnitRun {
            unit,
            name: name.clone(),
            kind,
            run,
            started,
        };
        // A full run of a unit its source reads in key order streams.
        if let Some(done) = self.run_streamed(&u, watermark.clone(), outcome.clone(), progress)? {
            return Ok(done);
        }
        // 1–3. The source rows: read, filtered, sorted by key, keys checked.
        let SourceRows {
            meta,
            all,
            keys,
            new_watermark,
            source_keys,
        } = self.source_rows(&u, watermark)?;
        // 4. Transform.
        self.load_lookups(unit)?;
        let t = Transformer {
            unit,
            idmaps: &self.idmaps,
        };
        let out = t.apply(&all, &keys)?;
        // The source rows are not needed past the transform (the unit may be large).
        drop(all);
        let rows_read = out.num_rows() as u64;
        // 5. Where the rows go.
        let generated = unit.spec.generated_id.clone();
        let conflict: Vec<String> = match &generated {
            Some(g) => vec![g.clone()],
            None => target_key(unit, &out)?,
        };
        outcome.rows = rows_read;
        outcome.batches = out.num_rows().div_ceil(unit.batch_size) as u64;
        let o = Outgoing {
            out,
            keys,
            conflict,
            generated,
        };
        if self.opts.dry_run {
            return self.dry_run(&u, &meta, &o, outcome);
        }
        // Deletions first: a row the unit then writes under a key its target compares as equal
        // (a case-insensitive collation, a trimmed key) is written afresh, never deleted after.
        self.delete_missing(&u, &o, source_keys.as_ref(), &mut outcome)?;
        let (known, written) = self.write_batches(&u, &o, &mut outcome, progress)?;
        self.verify_unit(&u, &o, (&known, written), new_watermark, outcome, progress)
    }
}

impl Executor<'_> {
    /// Reads the id maps the unit's lookups use.
    fn load_lookups(&mut self, unit: &Unit) -> Result<(), MigrateError> {
        for (_, spec) in &unit.columns {
            if let Some(l) = &spec.lookup {
                if !self.idmaps.contains_key(l) {
                    let m = self.target.read_idmap(&self.plan.name, l)?;
                    self.idmaps.insert(l.clone(), m);
                }
            }
        }
        Ok(())
    }
}

/// The table a plan names, by the one name rule ([`crate::source::find_table`]).
pub(crate) fn find_table(all: &[TableMeta], name: &str) -> Option<TableMeta> {
    crate::source::find_table(all, name, "").ok().cloned()
}

fn error_class(e: &MigrateError) -> &'static str {
    match e {
        MigrateError::Source(_) => "source",
        MigrateError::Transform { .. } | MigrateError::UnknownColumn { .. } => "transform",
        MigrateError::Unit { .. } => "unit",
        MigrateError::Target { reason, .. } => {
            let r = reason.to_ascii_lowercase();
            if r.contains("connect") || r.contains("closed") || r.contains("broken pipe") {
                "connection"
            } else {
                "write"
            }
        }
        _ => "other",
    }
}
