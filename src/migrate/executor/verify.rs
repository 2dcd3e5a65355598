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
