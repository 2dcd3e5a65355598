//! Runs as the ledger sees them: which run a unit continues or starts, the unit's ledger rows
//! (in the target and in the JSONL log), and the refusal of a plan whose applied units were
//! edited, reordered or removed.

use super::*;

/// Refuses a plan whose applied units were edited, reordered or removed.
pub fn check_applied(plan: &Plan, ledger: &[LedgerRow]) -> Result<(), MigrateError> {
    let mut seen: BTreeMap<&str, &LedgerRow> = BTreeMap::new();
    for r in ledger.iter().filter(|r| r.kind != "item") {
        seen.entry(r.unit.as_str()).or_insert(r);
    }
    let forget = |u: &str| {
        format!(
            "revert the plan to what was applied and add a new unit for the change; or, to redo the unit from scratch, run `reckon migrate forget {} --unit {u}` (its rows stay in the target and are upserted again)",
            plan.path.display()
        )
    };
    for (name, row) in &seen {
        match plan.unit(name) {
            None => {
                return Err(MigrateError::Changed {
                    message: format!(
                        "unit '{name}' was applied to this target (run {}, {}) but is no longer in the plan",
                        row.run, row.started_at
                    ),
                    hint: format!(
                        "put the unit back, or run `reckon migrate forget {} --unit {name}` to drop it from the ledger",
                        plan.path.display()
                    ),
                })
            }
            Some(u) if u.checksum != row.unit_checksum => {
                return Err(MigrateError::Changed {
                    message: format!(
                        "unit '{name}' was applied with checksum {}… but the plan's unit '{name}' is now {}… (line {}): an applied unit must not be edited",
                        &row.unit_checksum[..12.min(row.unit_checksum.len())],
                        &u.checksum[..12],
                        u.line
                    ),
                    hint: forget(name),
                })
            }
            Some(u) if u.ordinal as i64 != row.ordinal => {
                return Err(MigrateError::Changed {
                    message: format!(
                        "unit '{name}' was applied as unit #{} but is unit #{} in the plan now: applied units must keep their order",
                        row.ordinal + 1,
                        u.ordinal + 1
                    ),
                    hint: "move the unit back to its place; add new units after the applied ones".into(),
                })
            }
            _ => {}
        }
    }
    Ok(())
}

impl Executor<'_> {
    pub(super) fn record(&mut self, row: &LedgerRow, in_table: bool) -> Result<(), MigrateError> {
        if in_table {
            self.target.write_ledger(row)?;
        }
        let _ = append_log(&self.log, row);
        self.ledger
            .retain(|r| !(r.unit == row.unit && r.run == row.run && r.batch == row.batch));
        self.ledger.push(row.clone());
        Ok(())
    }

    pub(super) fn kind(&self) -> &'static str {
        if self.opts.item.is_some() || self.opts.keys.is_some() {
            "item"
        } else if self.opts.delta {
            "delta"
        } else {
            "full"
        }
    }

    /// The run this unit continues or starts, and whether its last full run completed.
    pub(super) fn current_run(&self, unit: &Unit) -> (i64, Option<&LedgerRow>) {
        let rows: Vec<&LedgerRow> = self
            .ledger
            .iter()
            .filter(|r| r.unit == unit.spec.name && r.batch == UNIT_ROW)
            .collect();
        let all_runs = self
            .ledger
            .iter()
            .filter(|r| r.unit == unit.spec.name)
            .map(|r| r.run)
            .max()
            .unwrap_or(0);
        let completed = rows
            .iter()
            .filter(|r| r.status == "completed" && r.kind != "item")
            .max_by_key(|r| r.run)
            .copied();
        let kind = self.kind();
        let run = match kind {
            "item" => all_runs + 1,
            _ => {
                // The latest run of this kind is resumed unless it ended: completed (a full run
                // then has nothing left to do), or failed verification (every batch was written,
                // yet the target differs: a new run writes and verifies them all again, once
                // the cause is fixed).
                let latest = self
                    .ledger
                    .iter()
                    .filter(|r| r.unit == unit.spec.name && r.kind == kind)
                    .map(|r| r.run)
                    .max();
                let ended = |run: i64, status: &str| {
                    rows.iter().any(|r| r.run == run && r.status == status)
                };
                match (kind, latest, completed) {
                    (_, Some(run), _) if ended(run, VERIFICATION_FAILED) => all_runs + 1,
                    (_, Some(run), _) if !ended(run, "completed") => run,
                    ("full", _, Some(c)) => c.run,
                    _ => all_runs + 1,
                }
            }
        };
        (run, completed)
    }

    pub(super) fn unit_row(
        &self,
        unit: &Unit,
        run: i64,
        kind: &str,
        status: &str,
        started: Instant,
        (rows_read, rows_written): (u64, u64),
    ) -> LedgerRow {
        let elapsed = started.elapsed();
        LedgerRow {
            plan: self.plan.name.clone(),
            unit: unit.spec.name.clone(),
            run,
            batch: UNIT_ROW,
            kind: kind.into(),
            ordinal: unit.ordinal as i64,
            unit_checksum: unit.checksum.clone(),
            plan_checksum: self.plan.checksum.clone(),
            status: status.into(),
            rows_read: rows_read as i64,
            rows_written: rows_written as i64,
            first_key: None,
            last_key: None,
            key_hash: None,
            source_hash: None,
            target_hash: None,
            watermark: None,
            started_at: (chrono::Utc::now()
                - chrono::Duration::from_std(elapsed).unwrap_or_default())
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            finished_at: now(),
            seconds: elapsed.as_secs_f64(),
            error_class: None,
            error: None,
        }
    }
}
