//! `--keys-from` on a unit with `delete_missing = true`: the target rows a diff found under keys
//! the source does not hold are deleted, in one transaction with their ledger row (the batch
//! after the unit's last), after the unit's rows are written and before they are verified.

use super::*;

impl Executor<'_> {
    /// Deletes the unit's rows named by `--keys-from` (none unless the unit says
    /// `delete_missing = true`). A delete that would remove more rows than keys were named is
    /// rolled back: a key compares as bytes, but a target collation or a table without a unique
    /// key could match more.
    pub(super) fn delete_missing(
        &mut self,
        u: &UnitRun<'_>,
        o: &Outgoing,
        outcome: &mut UnitOutcome,
    ) -> Result<(), MigrateError> {
        let (unit, name, kind, run) = (u.unit, u.name.clone(), u.kind, u.run);
        let Some(keys) = self.opts.delete.as_ref().and_then(|d| d.get(&name)) else {
            return Ok(());
        };
        if !unit.spec.delete_missing || keys.is_empty() {
            return Ok(());
        }
        if unit.spec.generated_id.is_some() {
            return Err(MigrateError::Unit {
                unit: name,
                reason: "delete_missing: the target rows of a generated-id unit are found by their new ids, which the diff does not name".into(),
                hint: "delete those rows by hand (the diff lists them as extra), or set delete_missing = false".into(),
            });
        }
        let cols = target_key(unit, &o.out)?;
        let keys = keys.clone();
        let started = Instant::now();
        let mut row = self.unit_row(unit, run, kind, "applied", started, (0, 0));
        row.batch = o.out.num_rows().div_ceil(unit.batch_size) as i64;
        row.first_key = keys
            .first()
            .map(|k| show_key(&unit.spec.key, &key_of_parts(k)));
        row.last_key = keys
            .last()
            .map(|k| show_key(&unit.spec.key, &key_of_parts(k)));
        self.target.begin()?;
        let deleted = match self.target.delete_rows(&unit.spec.target, &cols, &keys) {
            Ok(n) if n as usize <= keys.len() => n,
            Ok(n) => {
                self.target.rollback();
                return Err(MigrateError::Unit {
                    unit: name,
                    reason: format!(
                        "delete_missing: {n} target rows match the {} key(s) the diff found extra; nothing was deleted",
                        keys.len()
                    ),
                    hint: "the target's key is not unique or its collation merges keys: delete those rows by hand".into(),
                });
            }
            Err(e) => {
                self.target.rollback();
                return Err(e);
            }
        };
        row.rows_written = deleted as i64;
        row.rows_read = keys.len() as i64;
        if let Err(e) = self.target.write_ledger(&row) {
            self.target.rollback();
            return Err(e);
        }
        self.target.commit()?;
        let _ = append_log(&self.log, &row);
        self.ledger
            .retain(|r| !(r.unit == row.unit && r.run == row.run && r.batch == row.batch));
        self.ledger.push(row);
        outcome.deleted = deleted;
        Ok(())
    }
}
