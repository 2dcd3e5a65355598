//! `--dry-run`: what a unit would write, checked against the target's columns, and nothing
//! written.

use super::*;

impl Executor<'_> {
    /// The outcome a unit would have: its statements, its batches (those the ledger already
    /// holds counted as skipped), and the target columns its rows need.
    pub(super) fn dry_run(
        &mut self,
        u: &UnitRun<'_>,
        meta: &TableMeta,
        o: &Outgoing,
        mut outcome: UnitOutcome,
    ) -> Result<UnitOutcome, MigrateError> {
        let (unit, name, kind, run, started) = (u.unit, u.name.clone(), u.kind, u.run, u.started);
        let (out, keys, conflict, generated) = (&o.out, &o.keys, &o.conflict, &o.generated);
        let tkind = self.target.kind();
        if generated.is_some() {
            // Later units' lookups are checked against the ids this unit would create.
            let mut m = self.target.read_idmap(&self.plan.name, &name)?;
            for (i, k) in keys.iter().enumerate() {
                m.entry(k.clone()).or_insert(-(i as i64) - 1);
            }
            self.idmaps.insert(name.clone(), m);
        }
        let tmeta = self.target_meta(&unit.spec.target)?;
        for f in out.schema().fields() {
            if !tmeta
                .columns
                .iter()
                .any(|c| c.name.eq_ignore_ascii_case(f.name()))
            {
                return Err(MigrateError::Unit {
                    unit: name,
                    reason: format!(
                        "the target table {} has no column '{}'",
                        unit.spec.target,
                        f.name()
                    ),
                    hint: format!(
                        "the target has: {}",
                        tmeta
                            .columns
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        outcome.statements = vec![
            match &unit.query {
                Some(q) => format!("source: {}", q.trim()),
                None => format!("source: table {}", meta.name),
            },
            format!(
                "target: upsert into {} ({}) by ({}){}",
                quote_table(&unit.spec.target, tkind),
                out.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                conflict.join(", "),
                if generated.is_some() {
                    ", new ids recorded in the id map"
                } else {
                    ""
                }
            ),
        ];
        outcome.batches_skipped = self
            .ledger
            .iter()
            .filter(|r| r.unit == name && r.run == run && r.batch >= 0 && r.kind == kind)
            .count() as u64;
        outcome.status = "dry run".into();
        outcome.seconds = started.elapsed().as_secs_f64();
        Ok(outcome)
    }
}
