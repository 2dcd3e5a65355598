//! A unit's verification: its rows, in memory, diffed against the target table with the diff
//! engine.

use super::*;

/// An in-memory table, as a [`Source`] for the diff engine.
pub(super) struct MemSource {
    pub(super) meta: TableMeta,
    pub(super) batch: RecordBatch,
}

impl Source for MemSource {
    /// The same rows in the same chunks at every read: the diff reads the rows left again
    /// instead of keeping every chunk.
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
            "no queries on in-memory rows",
        ))
    }
    fn read(&mut self, _table: &TableMeta) -> Result<ChunkStream, SourceError> {
        let b = self.batch.clone();
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
    /// Diffs the unit's rows (key: `key`, target names) against the target table.
    pub(super) fn verify(
        &mut self,
        unit: &Unit,
        rows: &RecordBatch,
        key: &[String],
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
        let tengine = match self.target.kind() {
            Kind::Postgres => Engine::Postgres,
            Kind::Mysql => Engine::Mysql,
            Kind::Sqlite => Engine::Sqlite,
        };
        let req = PlanRequest {
            key: Some(key.to_vec()),
            ..PlanRequest::default()
        };
        let p = diff_plan(&mem_meta, Engine::Csv, &tmeta, tengine, &req).map_err(|e| {
            MigrateError::Unit {
                unit: unit.spec.name.clone(),
                reason: format!("cannot verify: {e}"),
                hint: "the unit's columns and key must exist in the target table".into(),
            }
        })?;
        let mut mem = MemSource {
            meta: mem_meta,
            batch: rows.clone(),
        };
        let reader = self.target_reader.as_mut().expect("opened by target_meta");
        let d = diff_table(
            &mut mem,
            reader.as_mut(),
            &p,
            &DiffOptions::default(),
            &mut NullSink,
            &|_, _| {},
        )
        .map_err(|e| MigrateError::Unit {
            unit: unit.spec.name.clone(),
            reason: format!("verification could not run: {e}"),
            hint: "check that the target table is readable".into(),
        })?;
        let mut detail = String::new();
        if !d.classes.is_empty() {
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
            detail = format!(" in columns {}", cols.join("; "));
        }
        Ok((
            d.counts.missing,
            d.counts.mismatched,
            d.counts.extra,
            d.side_hashes,
            detail,
        ))
    }
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
    /// Verifies a written unit against the target and records it `completed` or
    /// `verification_failed`.
    pub(super) fn verify_unit(
        &mut self,
        u: &UnitRun<'_>,
        o: &Outgoing,
        (known, written): (&HashMap<String, i64>, u64),
        new_watermark: Option<String>,
        mut outcome: UnitOutcome,
        progress: &mut dyn Progress,
    ) -> Result<UnitOutcome, MigrateError> {
        let (unit, name, kind, run, started) = (u.unit, u.name.clone(), u.kind, u.run, u.started);
        let (out, keys, conflict, generated) = (&o.out, &o.keys, &o.conflict, &o.generated);
        let rows_read = out.num_rows() as u64;
        // 6. Verify: the unit's rows against what the target holds.
        progress.phase(&name, "verifying");
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
        let (missing, changed, extra, hashes, detail) =
            self.verify(unit, &verify_rows, conflict)?;
        let extra_counts = kind == "full" && !unit.spec.allow_extra;
        let ok = missing == 0 && changed == 0 && (extra == 0 || !extra_counts);
        outcome.verify = Some((missing, changed, extra));
        outcome.written = written;
        let status = if ok { "completed" } else { VERIFICATION_FAILED };
        let mut row = self.unit_row(unit, run, kind, status, started, (rows_read, written));
        row.source_hash = Some(hex128(hashes[0]));
        row.target_hash = Some(hex128(hashes[1]));
        row.watermark = if kind == "item" { None } else { new_watermark };
        if !ok {
            let msg = format!(
                "verification: {missing} row(s) missing in the target, {changed} changed{}, {extra} not written by the unit{}; once the cause is fixed, run the unit again: its next run writes and verifies every row again",
                detail,
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
