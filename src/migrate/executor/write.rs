//! Writing a unit's rows in batches: each batch skipped when the ledger holds it with the same
//! key and row hashes, else upserted with its id-map rows and its ledger row, in one transaction
//! for the unit (default) or one per batch (`transaction = "batch"`).

use super::*;

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
        let (unit, name, kind, run) = (u.unit, u.name.clone(), u.kind, u.run);
        let (out, keys, conflict, generated) = (&o.out, &o.keys, &o.conflict, &o.generated);
        let rows_read = out.num_rows() as u64;
        let batch_size = unit.batch_size;
        let nbatches = out.num_rows().div_ceil(batch_size) as u64;
        let mut known = match &generated {
            Some(_) => self.target.read_idmap(&self.plan.name, &name)?,
            None => HashMap::new(),
        };
        progress.unit(&name, rows_read);
        let mut written = 0u64;
        let table = unit.spec.target.clone();
        // One transaction for the unit (default), or one per batch (`transaction = "batch"`).
        let per_batch = unit.spec.transaction.as_deref() == Some("batch");
        let mut uncommitted: Vec<LedgerRow> = Vec::new();
        // In one transaction, a table empty at its start takes the rows straight in.
        let mut direct = false;
        if !per_batch {
            self.target.begin()?;
            direct = match self.target.takes_direct_copy(&table) {
                Ok(empty) => empty,
                Err(e) => {
                    self.target.rollback();
                    return Err(e);
                }
            };
        }
        for b in 0..nbatches as usize {
            let off = b * batch_size;
            let len = batch_size.min(out.num_rows() - off);
            let slice = out.slice(off, len);
            let bkeys = &keys[off..off + len];
            let mut kh = Xxh3::new();
            for k in bkeys {
                kh.update(k.as_bytes());
                kh.update(&[0x1e]);
            }
            let key_hash = hex128(kh.digest128());
            let cols: Vec<(ArrayRef, TextAs)> = slice
                .columns()
                .iter()
                .map(|a| (a.clone(), TextAs::Text))
                .collect();
            let rows_hash = hex128(hash_rows(&cols).into_iter().fold(0u128, u128::wrapping_add));
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
                progress.rows(len as u64);
                continue;
            }
            let bstart = Instant::now();
            let mut row = self.unit_row(unit, run, kind, "applied", bstart, (len as u64, 0));
            row.batch = b as i64;
            row.first_key = bkeys.first().map(|k| show_key(&unit.spec.key, k));
            row.last_key = bkeys.last().map(|k| show_key(&unit.spec.key, k));
            row.key_hash = Some(key_hash);
            row.source_hash = Some(rows_hash);
            let ids = generated.as_ref().map(|_| IdWrite {
                plan: &self.plan.name,
                unit: &name,
                old_keys: bkeys,
                known: &known,
            });
            let w = WriteSpec {
                table: &table,
                conflict,
                generated: generated.as_deref(),
                direct,
            };
            if per_batch {
                self.target.begin()?;
            }
            let result = self.target.apply(&w, &slice, ids, &row);
            if result.is_err() {
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
            if per_batch {
                self.target.commit()?;
                self.record(&row, false)?;
            } else {
                uncommitted.push(row);
            }
            known.extend(applied.new_ids);
            written += applied.written;
            outcome.batches_applied += 1;
            progress.rows(len as u64);
        }
        // Batch rows an earlier attempt of this run wrote past this attempt's last batch (a
        // smaller batch_size then) go, with this attempt's writes when they share a
        // transaction: the unit's batch rows then add up to its unit row.
        let stale = self
            .ledger
            .iter()
            .any(|r| r.unit == name && r.run == run && r.batch >= nbatches as i64);
        if stale {
            let cleared =
                self.target
                    .forget_batches_from(&self.plan.name, &name, run, nbatches as i64);
            if let Err(e) = cleared {
                if !per_batch {
                    self.target.rollback();
                }
                return Err(e);
            }
            self.ledger
                .retain(|r| !(r.unit == name && r.run == run && r.batch >= nbatches as i64));
        }
        if !per_batch {
            self.target.commit()?;
            for row in uncommitted {
                self.record(&row, false)?;
            }
        }
        if generated.is_some() {
            self.idmaps.insert(name.clone(), known.clone());
        }
        Ok((known, written))
    }
}
