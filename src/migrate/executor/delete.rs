//! Target rows whose key the source does not hold: on a delta run, the keys gone from the source
//! since the target was written; under `--keys-from`, the keys a diff found extra. They are
//! counted, and deleted when the unit says `delete_missing = true`, with their ledger row (batch
//! [`DELETE_ROW`](crate::migrate::ledger::DELETE_ROW)), before the unit's rows are written (a row
//! written under a key the target takes for a deleted one is written afresh). A unit in one
//! transaction (the default) deletes in that transaction: a unit that fails after the delete
//! leaves every row it would have deleted, and no ledger row claiming the delete. A unit with a
//! transaction per batch deletes in a transaction of its own first.

use super::rows::{key_class, SourceKeys};
use super::*;
use crate::migrate::key::key_parts;

/// The target's key columns, the key values (text, in their order) of the rows to delete, and
/// for a generated-id unit the source keys whose id-map rows go with them.
type Doomed = (Vec<String>, Vec<Vec<String>>, Vec<String>);

/// A delete decided, not yet done: done in the unit's transaction when it opens.
pub(super) struct PendingDelete {
    /// The target table.
    table: String,
    cols: Vec<String>,
    ints: Vec<bool>,
    keys: Vec<Vec<String>>,
    old_keys: Vec<String>,
    row: LedgerRow,
}

impl PendingDelete {
    /// The rows deleted (once done).
    pub(super) fn rows(&self) -> u64 {
        self.row.rows_written.max(0) as u64
    }
}

impl Executor<'_> {
    /// Finds and (with `delete_missing = true`) deletes the unit's target rows the source does
    /// not hold. A delete that would remove more rows than keys were named is rolled back: a
    /// key compares as bytes, but a target collation or a table without a unique key could
    /// match more.
    pub(super) fn delete_missing(
        &mut self,
        u: &UnitRun<'_>,
        o: &Outgoing,
        source_keys: Option<&SourceKeys>,
        outcome: &mut UnitOutcome,
    ) -> Result<(), MigrateError> {
        let (unit, name, kind, run) = (u.unit, u.name.clone(), u.kind, u.run);
        let from_diff = self.opts.keys.is_some();
        let (cols, keys, old_keys) = match source_keys {
            Some(src) if !from_diff => match self.gone_keys(u, o, src)? {
                Some(found) => found,
                None => return Ok(()),
            },
            _ => {
                let Some(keys) = self.opts.delete.as_ref().and_then(|d| d.get(&name)) else {
                    return Ok(());
                };
                // Only keys copied as they are compare with the source's; an extra the source
                // holds again (inserted since the diff) stays.
                if !plain_key(unit) {
                    return Err(MigrateError::Unit {
                        unit: name,
                        reason: "delete_missing: the unit transforms its key columns, so the diff's extra keys cannot be told from the source's".into(),
                        hint: "delete those rows by hand (the diff lists them as extra), or set delete_missing = false".into(),
                    });
                }
                let keys: Vec<Vec<String>> = keys
                    .iter()
                    .filter(|k| !source_keys.is_some_and(|s| s.keys.contains(&key_of_parts(k))))
                    .cloned()
                    .collect();
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
                (target_key(unit, &o.out)?, keys, Vec::new())
            }
        };
        if !from_diff && source_keys.is_some() {
            outcome.gone = keys.len() as u64;
        }
        if !unit.spec.delete_missing || keys.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let mut row = self.unit_row(unit, run, kind, "applied", started, (0, 0));
        row.batch = crate::migrate::ledger::DELETE_ROW;
        row.first_key = keys.first().map(|k| format!("delete {}", k.join(", ")));
        row.last_key = keys.last().map(|k| format!("delete {}", k.join(", ")));
        // Integer key columns compare with numbers (by the target's declared types).
        let tmeta = self.target_meta(&unit.spec.target)?;
        let ints: Vec<bool> = cols
            .iter()
            .map(|c| {
                tmeta
                    .columns
                    .iter()
                    .find(|m| m.name.eq_ignore_ascii_case(c))
                    .is_some_and(|m| integer_type(&m.declared_type))
            })
            .collect();
        let mut pending = PendingDelete {
            table: unit.spec.target.clone(),
            cols,
            ints,
            keys,
            old_keys,
            row,
        };
        if unit.spec.transaction.as_deref() != Some("batch") {
            // Done by `begin_batches`, in the unit's transaction.
            self.pending_delete = Some(pending);
            return Ok(());
        }
        self.target.begin()?;
        if let Err(e) = self.apply_delete(&name, &mut pending) {
            self.target.rollback();
            return Err(e);
        }
        self.target.commit()?;
        outcome.deleted = self.deleted(&name, pending)?;
        Ok(())
    }

    /// Deletes a pending delete's rows (and id-map rows) and writes its ledger row, in the
    /// transaction the caller opened (which the caller rolls back on an error). A delete that
    /// would remove more rows than keys were named is refused.
    pub(super) fn apply_delete(
        &mut self,
        name: &str,
        p: &mut PendingDelete,
    ) -> Result<(), MigrateError> {
        let deleted = self
            .target
            .delete_rows(&p.table, &p.cols, &p.ints, &p.keys)
            .and_then(|n| {
                self.target
                    .forget_ids(&self.plan.name, name, &p.old_keys)
                    .map(|_| n)
            })?;
        if deleted as usize > p.keys.len() {
            return Err(MigrateError::Unit {
                unit: name.to_string(),
                reason: format!(
                    "delete_missing: {deleted} target rows match the {} key(s) the source does not hold; nothing was deleted",
                    p.keys.len()
                ),
                hint: "the target's key is not unique or its collation merges keys: delete those rows by hand".into(),
            });
        }
        p.row.rows_written = deleted as i64;
        p.row.rows_read = p.keys.len() as i64;
        self.target.write_ledger(&p.row)
    }

    /// Once a delete is committed: its ledger row recorded, its id-map rows forgotten here too;
    /// the rows it deleted.
    pub(super) fn deleted(&mut self, name: &str, p: PendingDelete) -> Result<u64, MigrateError> {
        self.record(&p.row, false)?;
        if let Some(m) = self.idmaps.get_mut(name) {
            for k in &p.old_keys {
                m.remove(k);
            }
        }
        Ok(p.row.rows_written.max(0) as u64)
    }

    /// The target's key columns and the key values (text, column order) of its rows whose key
    /// the source no longer holds (`None`: keys that do not compare as text between the two, or
    /// key columns the unit transforms). A generated-id unit's keys are its id map's (source
    /// keys, exactly), deleted by their new ids.
    fn gone_keys(
        &mut self,
        u: &UnitRun<'_>,
        o: &Outgoing,
        src: &SourceKeys,
    ) -> Result<Option<Doomed>, MigrateError> {
        let unit = u.unit;
        let refuse = |seen: usize, gone: usize| {
            // Every key gone: the source is empty or its keys do not compare with the target's
            // (a wrong source, an emptied staging table); nothing is deleted on such evidence.
            (seen > 0 && gone == seen).then(|| MigrateError::Unit {
                unit: u.name.clone(),
                reason: format!("none of the target's {seen} keys is in the source ({} rows): nothing is taken for gone on such evidence", src.keys.len()),
                hint: "check the plan's source and the unit's key columns; to empty the target, do it by hand".into(),
            })
        };
        if let Some(g) = &unit.spec.generated_id {
            let map = self.target.read_idmap(&self.plan.name, &u.name)?;
            let mut gone: Vec<(String, i64)> = map
                .iter()
                .filter(|(k, _)| !src.keys.contains(*k))
                .map(|(k, id)| (k.clone(), *id))
                .collect();
            gone.sort();
            if let Some(e) = refuse(map.len(), gone.len()) {
                return Err(e);
            }
            let (old, ids): (Vec<String>, Vec<Vec<String>>) = gone
                .into_iter()
                .map(|(k, id)| (k, vec![id.to_string()]))
                .unzip();
            return Ok(Some((vec![g.clone()], ids, old)));
        }
        // Key columns copied as they are (a trim or a map would make every key look gone).
        if !plain_key(unit) || src.classes.iter().any(Option::is_none) {
            return Ok(None);
        }
        let cols = target_key(unit, &o.out)?;
        let mut tmeta = self.target_meta(&unit.spec.target)?;
        tmeta.columns = cols
            .iter()
            .filter_map(|k| {
                tmeta
                    .columns
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(k))
                    .cloned()
            })
            .collect();
        if tmeta.columns.len() != cols.len() {
            return Ok(None);
        }
        let reader = self.target_reader.as_mut().expect("opened by target_meta");
        let (mut seen, mut gone) = (0usize, Vec::new());
        let idx: Vec<usize> = (0..cols.len()).collect();
        for chunk in reader.read(&tmeta)? {
            let b = crate::value::kind::plain_batch(&chunk?.batch);
            let classes: Vec<Option<char>> = b
                .columns()
                .iter()
                .map(|a| key_class(a.data_type()))
                .collect();
            if classes != src.classes {
                return Ok(None);
            }
            for k in key_texts(&b, &idx)?.into_iter().flatten() {
                seen += 1;
                if !src.keys.contains(&k) {
                    gone.push(key_parts(&k, cols.len()));
                }
            }
        }
        gone.sort();
        if let Some(e) = refuse(seen, gone.len()) {
            return Err(e);
        }
        Ok(Some((cols, gone, Vec::new())))
    }
}

/// Whether the unit copies its key columns as they are (no transform), so that the target's key
/// values are the source's.
fn plain_key(unit: &Unit) -> bool {
    unit.spec.key.iter().all(|k| {
        unit.columns.is_empty()
            || unit.columns.iter().any(|(_, c)| {
                *c == crate::migrate::plan::ColumnSpec {
                    from: Some(k.clone()),
                    ..Default::default()
                }
            })
    })
}

/// Whether a declared column type is an integer type, on any target (`bigint(20) unsigned`,
/// `INTEGER`, `int8`, `serial`).
fn integer_type(declared: &str) -> bool {
    let d = declared.trim().to_ascii_lowercase();
    let first = d
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    matches!(
        first,
        "int"
            | "integer"
            | "bigint"
            | "smallint"
            | "tinyint"
            | "mediumint"
            | "int2"
            | "int4"
            | "int8"
            | "serial"
            | "bigserial"
            | "smallserial"
    )
}

#[cfg(test)]
mod tests {
    use super::integer_type;

    #[test]
    fn integer_types_are_told_from_others_that_contain_int() {
        for t in [
            "int",
            "INTEGER",
            "bigint(20) unsigned",
            "int8",
            "smallint",
            "serial",
        ] {
            assert!(integer_type(t), "{t}");
        }
        for t in [
            "point",
            "interval",
            "text",
            "numeric(10,0)",
            "varchar(10)",
            "",
        ] {
            assert!(!integer_type(t), "{t}");
        }
    }
}
