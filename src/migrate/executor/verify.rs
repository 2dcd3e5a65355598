//! A unit's verification: its rows, in memory or spilled to a file as they were written,
//! diffed against the target table with the diff engine.

use super::*;

/// The rows a unit wrote, as verification reads them.
pub(super) enum VerifyRows<'r> {
    /// In memory.
    Mem(&'r RecordBatch),
    /// A streamed unit's rows, spilled to an Arrow IPC file as they were written.
    Spilled(&'r Spill),
}

impl VerifyRows<'_> {
    fn schema(&self) -> arrow::datatypes::SchemaRef {
        match self {
            VerifyRows::Mem(b) => b.schema(),
            VerifyRows::Spilled(s) => s.schema.clone(),
        }
    }
}

/// A streamed unit's written rows, in an Arrow IPC file that is removed with it.
pub(super) struct Spill {
    file: tempfile::NamedTempFile,
    writer: Option<arrow::ipc::writer::FileWriter<std::io::BufWriter<std::fs::File>>>,
    schema: arrow::datatypes::SchemaRef,
}

impl Spill {
    /// An empty spill of rows of `schema`, in the system's temporary directory.
    pub(super) fn new(schema: arrow::datatypes::SchemaRef) -> Result<Spill, MigrateError> {
        let io = |e: std::io::Error| {
            MigrateError::Internal(format!(
                "cannot spill the unit's rows for verification: {e}"
            ))
        };
        let file = tempfile::Builder::new()
            .prefix("reckon-unit")
            .suffix(".arrow")
            .tempfile()
            .map_err(io)?;
        let out = std::io::BufWriter::new(file.reopen().map_err(io)?);
        let writer = arrow::ipc::writer::FileWriter::try_new(out, &schema)
            .map_err(|e| MigrateError::Internal(e.to_string()))?;
        Ok(Spill {
            file,
            writer: Some(writer),
            schema,
        })
    }

    /// Appends rows.
    pub(super) fn push(&mut self, rows: &RecordBatch) -> Result<(), MigrateError> {
        let w = self
            .writer
            .as_mut()
            .ok_or_else(|| MigrateError::Internal("spill already finished".into()))?;
        w.write(rows)
            .map_err(|e| MigrateError::Internal(format!("cannot spill the unit's rows: {e}")))
    }

    /// Closes the file for reading.
    pub(super) fn finish(&mut self) -> Result<(), MigrateError> {
        if let Some(mut w) = self.writer.take() {
            w.finish().map_err(|e| {
                MigrateError::Internal(format!("cannot spill the unit's rows: {e}"))
            })?;
        }
        Ok(())
    }
}

/// Rows a verification holds in memory before it spills them (a quarter of `reckon diff`'s
/// default: a migration's peak stays under 1 GiB with its batches and readers).
const VERIFY_MEMORY: u64 = 256 << 20;

/// The diff options of a unit's verification.
pub(super) fn verify_options() -> DiffOptions {
    DiffOptions {
        memory_limit: VERIFY_MEMORY,
        ..DiffOptions::default()
    }
}

/// A unit's rows, as a [`Source`] for the diff engine: the same rows in the same chunks at
/// every read, so the diff reads the rows it must show again instead of keeping every chunk.
struct UnitRows<'r> {
    meta: TableMeta,
    rows: VerifyRows<'r>,
}

impl Source for UnitRows<'_> {
    fn rereadable(&self) -> bool {
        true
    }
    fn display(&self) -> String {
        format!("unit rows ({})", self.meta.name)
    }
    fn tables(&mut self) -> Result<Vec<TableMeta>, SourceError> {
        Ok(vec![self.meta.clone()])
    }
    fn describe_query(&mut self, _sql: &str) -> Result<TableMeta, SourceError> {
        Err(SourceError::query(
            &self.display(),
            "no queries on a unit's rows",
        ))
    }
    fn read(&mut self, _table: &TableMeta) -> Result<ChunkStream, SourceError> {
        let shown = self.display();
        let b = match &self.rows {
            VerifyRows::Mem(b) => (*b).clone(),
            VerifyRows::Spilled(s) => {
                let f = std::fs::File::open(s.file.path())
                    .map_err(|e| SourceError::query(&shown, e))?;
                let r = arrow::ipc::reader::FileReader::try_new(std::io::BufReader::new(f), None)
                    .map_err(|e| SourceError::query(&shown, e))?;
                return Ok(Box::new(r.map(move |b| {
                    b.map(|batch| Chunk {
                        batch,
                        defects: Vec::new(),
                    })
                    .map_err(|e| SourceError::query(&shown, e))
                })));
            }
        };
        let n = b.num_rows();
        let chunks: Vec<Result<Chunk, SourceError>> = (0..n.div_ceil(CHUNK_ROWS).max(1))
            .map(|i| {
                let off = i * CHUNK_ROWS;
                Ok(Chunk {
                    batch: b.slice(off.min(n), CHUNK_ROWS.min(n.saturating_sub(off))),
                    defects: Vec::new(),
                })
            })
            .collect();
        Ok(Box::new(chunks.into_iter()))
    }
}

impl Executor<'_> {
    /// Diffs the unit's rows (key: `key`, target names) against the target table: the rows of
    /// the same keys only when `only_rows` (and the keys allow it, see [`rows_with_keys`]),
    /// else the whole table.
    pub(super) fn verify(
        &mut self,
        unit: &Unit,
        rows: VerifyRows<'_>,
        key: &[String],
        only_rows: bool,
    ) -> Result<(u64, u64, u64, [u128; 2], String), MigrateError> {
        let mut tmeta = self.target_meta(&unit.spec.target)?;
        let names: Vec<String> = rows
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        tmeta
            .columns
            .retain(|c| names.iter().any(|n| n.eq_ignore_ascii_case(&c.name)));
        let mem_meta = TableMeta {
            name: TableName {
                schema: None,
                name: unit.spec.name.clone(),
            },
            columns: names
                .iter()
                .map(|n| ColumnMeta {
                    name: n.clone(),
                    declared_type: "text".into(),
                    nullable: None,
                    storage_classes: None,
                })
                .collect(),
            primary_key: key.to_vec(),
            foreign_keys: Vec::new(),
            query: None,
        };
        if let (true, VerifyRows::Mem(rows)) = (only_rows, &rows) {
            let reader = self.target_reader.as_ref().expect("opened by target_meta");
            if let Some(pd) = reader.pushdown() {
                if let Some(cond) = rows_with_keys(pd.dialect(), rows, key) {
                    let select = pd
                        .select(&tmeta, Some(&cond))
                        .map_err(MigrateError::Source)?;
                    tmeta.query = Some(format!("{select} WHERE {cond}"));
                }
            }
        }
        let tengine = match self.target.kind() {
            Kind::Postgres => Engine::Postgres,
            Kind::Mysql => Engine::Mysql,
            Kind::Sqlite => Engine::Sqlite,
        };
        let req = PlanRequest {
            key: Some(key.to_vec()),
            rules: instants_into_local(
                rows.schema()
                    .fields()
                    .iter()
                    .filter(|f| matches!(f.data_type(), DataType::Timestamp(_, Some(_))))
                    .map(|f| f.name().as_str()),
                &tmeta,
            ),
            ..PlanRequest::default()
        };
        let p = diff_plan(&mem_meta, Engine::Csv, &tmeta, tengine, &req).map_err(|e| {
            MigrateError::Unit {
                unit: unit.spec.name.clone(),
                reason: format!("cannot verify: {e}"),
                hint: "the unit's columns and key must exist in the target table".into(),
            }
        })?;
        let mut mem = UnitRows {
            meta: mem_meta,
            rows,
        };
        let reader = self.target_reader.as_mut().expect("opened by target_meta");

        let d = diff_table(
            &mut mem,
            reader.as_mut(),
            &p,
            &verify_options(),
            &mut NullSink,
            &|_, _| {},
        )
        .map_err(|e| MigrateError::Unit {
            unit: unit.spec.name.clone(),
            reason: format!("verification could not run: {e}"),
            hint: "check that the target table is readable".into(),
        })?;
        let detail = changed_columns(&d);
        Ok((
            d.counts.missing,
            d.counts.mismatched,
            d.counts.extra,
            d.side_hashes,
            detail,
        ))
    }
}

/// The columns where the unit writes an instant (a date-time with a zone) into a zone-less
/// date-time column (MySQL/MariaDB `DATETIME`, PostgreSQL `timestamp`): every writer stores the
/// instant's UTC digits there, so verification compares them as such (`tz-instant`: equal only
/// when the UTC digits are), instead of calling every row changed for a zone the column cannot
/// hold. A shifted value (a session zone applied on the way) still differs.
/// `instants` names the unit's columns that hold instants.
pub(super) fn instants_into_local<'a>(
    instants: impl Iterator<Item = &'a str>,
    target: &TableMeta,
) -> Vec<(String, crate::diff::rules::Rule)> {
    use crate::diff::schema::{logical, Logical};
    instants
        .filter(|name| {
            target
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
                .is_some_and(|c| matches!(logical(&c.declared_type), Logical::Timestamp(_, false)))
        })
        .map(|name| (name.to_string(), crate::diff::rules::Rule::TzInstant))
        .collect()
}

/// The target columns the unit's key lands in (plain copies of the key columns).
pub(super) fn target_key(unit: &Unit, out: &RecordBatch) -> Result<Vec<String>, MigrateError> {
    unit.spec
        .key
        .iter()
        .map(|k| {
            if unit.columns.is_empty() {
                if out.schema().index_of(k).is_ok() {
                    return Ok(k.clone());
                }
            } else if let Some((t, _)) = unit
                .columns
                .iter()
                .find(|(_, c)| c.from.as_deref() == Some(k.as_str()) && c.lookup.is_none() && c.cast.is_none() && c.date_formats.is_empty())
            {
                return Ok(t.clone());
            }
            Err(MigrateError::Unit {
                unit: unit.spec.name.clone(),
                reason: format!("key column '{k}' is not written to the target"),
                hint: format!("add `<target column> = \"{k}\"` to [unit.columns] so upserts can find the row again, or set generated_id if the target makes its own ids"),
            })
        })
        .collect()
}

impl Executor<'_> {
    /// Verifies a unit read whole: its rows (with the ids the target generated, for
    /// generated-id units) against the target.
    pub(super) fn verify_unit(
        &mut self,
        u: &UnitRun<'_>,
        o: &Outgoing,
        (known, written): (&HashMap<String, i64>, u64),
        new_watermark: Option<String>,
        outcome: UnitOutcome,
        progress: &mut dyn Progress,
    ) -> Result<UnitOutcome, MigrateError> {
        let (out, keys, conflict, generated) = (&o.out, &o.keys, &o.conflict, &o.generated);
        let verify_rows = match &generated {
            Some(g) => {
                let ids: Vec<Option<i64>> = keys.iter().map(|k| known.get(k).copied()).collect();
                let mut fields: Vec<Field> = out
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.as_ref().clone())
                    .collect();
                let mut cols: Vec<ArrayRef> = out.columns().to_vec();
                fields.push(Field::new(g, DataType::Int64, true));
                cols.push(Arc::new(arrow::array::Int64Array::from(ids)));
                RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
                    .map_err(|e| MigrateError::Internal(e.to_string()))?
            }
            None => out.clone(),
        };
        let done = Written {
            rows: VerifyRows::Mem(&verify_rows),
            conflict,
            rows_read: out.num_rows() as u64,
            written,
        };
        self.verify_written(u, done, new_watermark, outcome, progress)
    }

    /// Verifies what a unit wrote against the target and records it `completed` or
    /// `verification_failed`.
    pub(super) fn verify_written(
        &mut self,
        u: &UnitRun<'_>,
        done: Written<'_>,
        new_watermark: Option<String>,
        outcome: UnitOutcome,
        progress: &mut dyn Progress,
    ) -> Result<UnitOutcome, MigrateError> {
        let (unit, name, kind) = (u.unit, u.name.clone(), u.kind);
        // 6. Verify: the unit's rows against what the target holds.
        progress.phase(&name, "verifying");
        // A full run answers for the whole table; an --item or --delta run for its own rows,
        // which alone are read back.
        let (missing, changed, extra, hashes, detail) =
            self.verify(unit, done.rows, done.conflict, kind != "full")?;
        let v = Verified {
            counts: (missing, changed, extra),
            hashes: Some(hashes),
            detail,
        };
        self.conclude(u, v, (done.rows_read, done.written), new_watermark, outcome)
    }

    /// Records a verified unit `completed`, or `verification_failed` when rows are missing or
    /// changed (or extra, on a full run without `allow_extra`).
    pub(super) fn conclude(
        &mut self,
        u: &UnitRun<'_>,
        v: Verified,
        (rows_read, written): (u64, u64),
        new_watermark: Option<String>,
        mut outcome: UnitOutcome,
    ) -> Result<UnitOutcome, MigrateError> {
        let (unit, kind, run, started) = (u.unit, u.kind, u.run, u.started);
        let (missing, changed, extra) = v.counts;
        let extra_counts = kind == "full" && !unit.spec.allow_extra;
        let ok = missing == 0 && changed == 0 && (extra == 0 || !extra_counts);
        outcome.verify = Some((missing, changed, extra));
        outcome.written = written;
        let status = if ok { "completed" } else { VERIFICATION_FAILED };
        let mut row = self.unit_row(unit, run, kind, status, started, (rows_read, written));
        row.source_hash = v.hashes.map(|h| hex128(h[0]));
        row.target_hash = v.hashes.map(|h| hex128(h[1]));
        row.watermark = if kind == "item" { None } else { new_watermark };
        if !ok {
            let msg = format!(
                "verification: {missing} row(s) missing in the target, {changed} changed{}, {extra} not written by the unit{}; once the cause is fixed, run the unit again: its next run writes and verifies every row again",
                v.detail,
                if extra > 0 && extra_counts { " (set allow_extra = true if the target holds other rows)" } else { "" }
            );
            row.error_class = Some("verification".into());
            row.error = Some(redact(&msg));
            outcome.error = Some(msg);
        }
        self.record(&row, true)?;
        outcome.status = status.into();
        outcome.seconds = started.elapsed().as_secs_f64();
        Ok(outcome)
    }
}

/// A verification's result.
pub(super) struct Verified {
    /// Rows missing in the target, changed, and extra.
    pub(super) counts: (u64, u64, u64),
    /// The order-free hashes of both sides' rows (`None` when the databases compared them).
    pub(super) hashes: Option<[u128; 2]>,
    /// The changed columns, as the message shows them.
    pub(super) detail: String,
}

/// The columns whose values differ, and how, as a verification message shows them.
pub(super) fn changed_columns(d: &crate::diff::TableDiff) -> String {
    if d.classes.is_empty() {
        return String::new();
    }
    let cols: Vec<String> = d
        .columns
        .iter()
        .filter(|c| !c.mismatched.is_empty())
        .map(|c| {
            format!(
                "{} ({})",
                c.target,
                c.mismatched.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    format!(" in columns {}", cols.join("; "))
}

/// What a unit wrote, for its verification.
pub(super) struct Written<'r> {
    /// The rows, as the target should hold them.
    pub(super) rows: VerifyRows<'r>,
    /// The target key columns.
    pub(super) conflict: &'r [String],
    /// Rows read from the source.
    pub(super) rows_read: u64,
    /// Rows the target reported as written.
    pub(super) written: u64,
}

/// Keys listed in one condition, at most: more rows are verified against the whole table.
const MAX_LISTED_KEYS: usize = 20_000;

/// The SQL condition that picks the target rows of the same keys as `rows` (`None`: too many
/// rows, or a key column that is neither integers nor text, whose literal the target might read
/// otherwise than the value it holds). Integers are written as numbers, text as quoted
/// literals (a case-insensitive collation may pick more rows: extra rows only count on full
/// runs, never read here).
pub(super) fn rows_with_keys(
    dialect: crate::source::Dialect,
    rows: &RecordBatch,
    key: &[String],
) -> Option<String> {
    use crate::source::Dialect;
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;
    if rows.num_rows() == 0 || rows.num_rows() > MAX_LISTED_KEYS {
        return None;
    }
    let ident = |n: &str| match dialect {
        Dialect::Mysql => format!("`{}`", n.replace('`', "``")),
        _ => format!("\"{}\"", n.replace('"', "\"\"")),
    };
    let text = |v: &str| match dialect {
        Dialect::Mysql => format!("'{}'", v.replace('\\', "\\\\").replace('\'', "''")),
        // E'' reads the same whatever standard_conforming_strings says.
        Dialect::Postgres => format!("E'{}'", v.replace('\\', "\\\\").replace('\'', "''")),
        _ => format!("'{}'", v.replace('\'', "''")),
    };
    let mut cols: Vec<(String, &ArrayRef)> = Vec::new();
    for k in key {
        let i = rows
            .schema()
            .fields()
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(k))?;
        let a = rows.column(i);
        if !matches!(a.data_type(), DataType::Int64 | DataType::Utf8) {
            return None;
        }
        cols.push((ident(rows.schema().field(i).name()), a));
    }
    let literal = |a: &ArrayRef, r: usize| -> Option<String> {
        if a.is_null(r) {
            return None;
        }
        Some(match a.data_type() {
            DataType::Int64 => a.as_primitive::<Int64Type>().value(r).to_string(),
            _ => text(a.as_string::<i32>().value(r)),
        })
    };
    if let [(c, a)] = cols.as_slice() {
        let values: Vec<String> = (0..rows.num_rows())
            .map(|r| literal(a, r))
            .collect::<Option<_>>()?;
        return Some(format!("{c} IN ({})", values.join(", ")));
    }
    let mut parts = Vec::with_capacity(rows.num_rows());
    for r in 0..rows.num_rows() {
        let one: Vec<String> = cols
            .iter()
            .map(|(c, a)| literal(a, r).map(|v| format!("{c} = {v}")))
            .collect::<Option<_>>()?;
        parts.push(format!("({})", one.join(" AND ")));
    }
    Some(format!("({})", parts.join(" OR ")))
}
