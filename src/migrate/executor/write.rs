//! Writing a unit's rows in batches: each batch skipped when the ledger holds it with the same
//! key and row hashes, else upserted with its id-map rows and its ledger row, in one transaction
//! for the unit (default) or one per batch (`transaction = "batch"`).
//!
//! The batches come whole ([`Executor::write_batches`], a unit read in memory) or one at a time
//! as a streamed unit fills them ([`Executor::begin_batches`], [`Executor::write_batch`],
//! [`Executor::end_batches`]); batch `b` is the same rows either way.

use super::*;

/// A unit's writing, batch after batch.
pub(super) struct Batches {
    /// The target table.
    table: String,
    /// One transaction per batch (`transaction = "batch"`), else one for the unit.
    pub(super) per_batch: bool,
    /// The rows go straight into a table empty at the unit's start (PostgreSQL).
    direct: bool,
    /// Ledger rows written in the unit's open transaction, recorded once it commits.
    uncommitted: Vec<LedgerRow>,
    /// The unit's id map (generated-id units): old key → new id.
    pub(super) known: HashMap<String, i64>,
    /// Rows the target reports as written.
    pub(super) written: u64,
    /// The next batch's number.
    pub(super) next: usize,
    /// The delete done in the unit's transaction, recorded once it commits.
    deleted: Option<super::delete::PendingDelete>,
}

/// A batch's key hash (its keys in order) and row hash (its rows in order, each value by its
/// type's own bytes: NULL marked, a null slot's contents never read), as its ledger row keeps
/// them: a batch whose ledger row holds both is not written again. A batch is the same rows
/// of the same types on every run over the same source, however it was read.
pub(super) fn batch_hashes(slice: &RecordBatch, bkeys: &[String]) -> (String, String) {
    let mut kh = Xxh3::new();
    for k in bkeys {
        kh.update(k.as_bytes());
        kh.update(&[0x1e]);
    }
    let mut rh = Xxh3::new();
    for (i, col) in slice.columns().iter().enumerate() {
        rh.update(format!("{i}:{}\x1e", col.data_type()).as_bytes());
        column_bytes(col, &mut rh);
    }
    (hex128(kh.digest128()), hex128(rh.digest128()))
}

/// Every value of a column into the hash, in order.
fn column_bytes(col: &ArrayRef, h: &mut Xxh3) {
    use arrow::array::AsArray;
    let null = |h: &mut Xxh3| h.update(&[0xff]);
    match col.data_type() {
        DataType::Utf8 => {
            let a = col.as_string::<i32>();
            for r in 0..a.len() {
                if a.is_null(r) {
                    null(h);
                } else {
                    let v = a.value(r).as_bytes();
                    h.update(&(v.len() as u64).to_le_bytes());
                    h.update(v);
                }
            }
        }
        DataType::Binary => {
            let a = col.as_binary::<i32>();
            for r in 0..a.len() {
                if a.is_null(r) {
                    null(h);
                } else {
                    let v = a.value(r);
                    h.update(&(v.len() as u64).to_le_bytes());
                    h.update(v);
                }
            }
        }
        DataType::Boolean => {
            let a = col.as_boolean();
            for r in 0..a.len() {
                match a.is_null(r) {
                    true => null(h),
                    false => h.update(&[a.value(r) as u8]),
                }
            }
        }
        t if t.is_primitive() => {
            let data = col.to_data();
            let width = t.primitive_width().expect("a primitive type has a width");
            let values = &data.buffers()[0].as_slice()[data.offset() * width..];
            for r in 0..col.len() {
                if col.is_null(r) {
                    null(h);
                } else {
                    h.update(&[0]);
                    h.update(&values[r * width..(r + 1) * width]);
                }
            }
        }
        // Any other type: each value's text (`NULL` marked apart from any text).
        _ => {
            let text = arrow::compute::cast(col, &DataType::Utf8);
            match text {
                Ok(t) => column_bytes(&t, h),
                Err(_) => {
                    let cols = vec![(col.clone(), TextAs::Text)];
                    for v in hash_rows(&cols) {
                        h.update(&v.to_le_bytes());
                    }
                }
            }
        }
    }
}

impl Executor<'_> {
    /// Writes the rows; returns the id map of the unit (old key → new id, generated-id units) and
    /// the rows the target reports as written.
    pub(super) fn write_batches(
        &mut self,
        u: &UnitRun<'_>,
        o: &Outgoing,
        outcome: &mut UnitOutcome,
        progress: &mut dyn Progress,
    ) -> Result<(HashMap<String, i64>, u64), MigrateError> {
        let (out, keys) = (&o.out, &o.keys);
        let batch_size = u.unit.batch_size;
        progress.unit(&u.name, out.num_rows() as u64);
        let mut w = self.begin_batches(u, o.generated.is_some())?;
        for off in (0..out.num_rows()).step_by(batch_size) {
            let len = batch_size.min(out.num_rows() - off);
            let slice = out.slice(off, len);
            let dest = (o.conflict.as_slice(), o.generated.as_deref());
            let bkeys = &keys[off..off + len];
            let hashes = batch_hashes(&slice, bkeys);
            let r = self.write_batch(u, &mut w, dest, &slice, bkeys, hashes, outcome);
            if r.is_err() && !w.per_batch {
                self.target.rollback();
            }
            r?;
            progress.rows(len as u64);
        }
        let deleted = w.deleted.as_ref().map(|p| p.rows());
        let done = self.end_batches(u, w, o.generated.is_some())?;
        if let Some(n) = deleted {
            outcome.deleted = n;
        }
        Ok(done)
    }

    /// Opens the unit's transaction (unless it has one per batch) and reads its id map.
    pub(super) fn begin_batches(
        &mut self,
        u: &UnitRun<'_>,
        generated: bool,
    ) -> Result<Batches, MigrateError> {
        let known = match generated {
            true => self.target.read_idmap(&self.plan.name, &u.name)?,
            false => HashMap::new(),
        };
        let table = u.unit.spec.target.clone();
        let per_batch = u.unit.spec.transaction.as_deref() == Some("batch");
        // In one transaction, a table empty at its start takes the rows straight in.
        let mut direct = false;
        let mut deleted = None;
        if !per_batch {
            self.target.begin()?;
            // The unit's delete (`delete_missing`), in its transaction.
            if let Some(mut p) = self.pending_delete.take() {
                if let Err(e) = self.apply_delete(&u.name, &mut p) {
                    self.target.rollback();
                    return Err(e);
                }
                deleted = Some(p);
            }
            direct = match self.target.takes_direct_copy(&table) {
                Ok(empty) => empty,
                Err(e) => {
                    self.target.rollback();
                    return Err(e);
                }
            };
        }
        Ok(Batches {
            table,
            per_batch,
            direct,
            uncommitted: Vec::new(),
            known,
            written: 0,
            next: 0,
            deleted,
        })
    }

    /// Writes the next batch (`slice`, whose source keys are `bkeys`), or skips it when the
    /// ledger holds it already. On an error in a per-unit transaction, the caller rolls back.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_batch(
        &mut self,
        u: &UnitRun<'_>,
        w: &mut Batches,
        (conflict, generated): (&[String], Option<&str>),
        slice: &RecordBatch,
        bkeys: &[String],
        hashes: (String, String),
        outcome: &mut UnitOutcome,
    ) -> Result<(), MigrateError> {
        let (unit, name, kind, run) = (u.unit, u.name.as_str(), u.kind, u.run);
        let b = w.next;
        w.next += 1;
        let len = slice.num_rows();
        let (key_hash, rows_hash) = hashes;
        let done = self.ledger.iter().any(|r| {
            r.unit == name
                && r.run == run
                && r.batch == b as i64
                && r.status == "applied"
                && r.key_hash.as_deref() == Some(&key_hash)
                && r.source_hash.as_deref() == Some(&rows_hash)
        });
        if done {
            outcome.batches_skipped += 1;
            return Ok(());
        }
        let bstart = Instant::now();
        let mut row = self.unit_row(unit, run, kind, "applied", bstart, (len as u64, 0));
        row.batch = b as i64;
        row.first_key = bkeys.first().map(|k| show_key(&unit.spec.key, k));
        row.last_key = bkeys.last().map(|k| show_key(&unit.spec.key, k));
        row.key_hash = Some(key_hash);
        row.source_hash = Some(rows_hash);
        let ids = generated.map(|_| IdWrite {
            plan: &self.plan.name,
            unit: name,
            old_keys: bkeys,
            known: &w.known,
        });
        let spec = WriteSpec {
            table: &w.table,
            conflict,
            generated,
            direct: w.direct,
        };
        if w.per_batch {
            self.target.begin()?;
        }
        let result = self.target.apply(&spec, slice, ids, &row);
        if result.is_err() && w.per_batch {
            self.target.rollback();
        }
        let applied = result.map_err(|e| match e {
            MigrateError::Target { target, reason } => MigrateError::Target {
                target,
                reason: format!(
                    "unit '{name}', batch {b} (keys {} … {}): {reason}",
                    row.first_key.clone().unwrap_or_default(),
                    row.last_key.clone().unwrap_or_default()
                ),
            },
            other => other,
        })?;
        row.rows_written = applied.written as i64;
        row.finished_at = now();
        row.seconds = bstart.elapsed().as_secs_f64();
        if w.per_batch {
            self.target.commit()?;
            self.record(&row, false)?;
        } else {
            w.uncommitted.push(row);
        }
        w.known.extend(applied.new_ids);
        w.written += applied.written;
        outcome.batches_applied += 1;
        Ok(())
    }

    /// After the last batch: drops the batch rows of an earlier attempt past this one's last
    /// batch, commits the unit's transaction and records its batch rows; returns the unit's id
    /// map and the rows written.
    pub(super) fn end_batches(
        &mut self,
        u: &UnitRun<'_>,
        w: Batches,
        generated: bool,
    ) -> Result<(HashMap<String, i64>, u64), MigrateError> {
        let (name, run) = (u.name.clone(), u.run);
        let nbatches = w.next as i64;
        // Batch rows an earlier attempt of this run wrote past this attempt's last batch (a
        // smaller batch_size then) go, with this attempt's writes when they share a
        // transaction: the unit's batch rows then add up to its unit row.
        let stale = self
            .ledger
            .iter()
            .any(|r| r.unit == name && r.run == run && r.batch >= nbatches);
        if stale {
            let cleared = self
                .target
                .forget_batches_from(&self.plan.name, &name, run, nbatches);
            if let Err(e) = cleared {
                if !w.per_batch {
                    self.target.rollback();
                }
                return Err(e);
            }
            self.ledger
                .retain(|r| !(r.unit == name && r.run == run && r.batch >= nbatches));
        }
        if !w.per_batch {
            self.target.commit()?;
            for row in w.uncommitted {
                self.record(&row, false)?;
            }
        }
        if generated {
            self.idmaps.insert(name.clone(), w.known.clone());
        }
        // After the id map: the deleted rows' old keys leave it.
        if let Some(p) = w.deleted {
            self.deleted(&name, p)?;
        }
        Ok((w.known, w.written))
    }
}
