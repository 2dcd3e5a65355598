//! The ledger and the id map in the target: created, read, written and forgotten.

use super::*;

impl Target {
    pub(super) fn ledger_sql(&self) -> String {
        let text = match self.kind() {
            Kind::Postgres => include_str!("../../../queries/postgres/ledger.sql"),
            Kind::Mysql => include_str!("../../../queries/mysql/ledger.sql"),
            Kind::Sqlite => include_str!("../../../queries/sqlite/ledger.sql"),
        };
        text.replace("{ledger}", &self.ledger)
            .replace("{idmap}", &self.idmap)
    }

    /// Creates the ledger and id-map tables if they are missing.
    pub fn create_ledger(&mut self) -> Result<(), MigrateError> {
        let sql = self.ledger_sql();
        let display = self.display.clone();
        for stmt in statements(&sql) {
            self.exec(&stmt, &[]).map_err(|e| match e {
                MigrateError::Target { reason, .. } => {
                    werr(&display, format!("creating the ledger: {reason}"))
                }
                other => other,
            })?;
        }
        Ok(())
    }

    /// Whether the ledger table exists.
    pub fn ledger_exists(&mut self) -> Result<bool, MigrateError> {
        let ledger = self.ledger.clone();
        self.exists_quoted(&ledger)
    }

    /// The ledger rows of a plan (empty when there is no ledger yet).
    pub fn read_ledger(&mut self, plan: &str) -> Result<Vec<LedgerRow>, MigrateError> {
        if !self.ledger_exists()? {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE plan = {} ORDER BY ordinal, unit, run, batch",
            LEDGER_COLUMNS.join(", "),
            self.ledger,
            self.placeholder(1)
        );
        let rows = self.query_text(&sql, &[Val::T(Some(plan.to_string()))])?;
        // The server's order does not survive the text-casting wrapper on PostgreSQL.
        let mut rows: Vec<LedgerRow> = rows
            .into_iter()
            .map(|r| ledger_from_text(&r))
            .collect::<Result<_, _>>()?;
        rows.sort_by(|a, b| {
            (a.ordinal, &a.unit, a.run, a.batch).cmp(&(b.ordinal, &b.unit, b.run, b.batch))
        });
        Ok(rows)
    }

    /// The old-key → new-id map of a unit.
    pub fn read_idmap(
        &mut self,
        plan: &str,
        unit: &str,
    ) -> Result<HashMap<String, i64>, MigrateError> {
        if !self.ledger_exists()? {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT old_key, new_id FROM {} WHERE plan = {} AND unit = {}",
            self.idmap,
            self.placeholder(1),
            self.placeholder(2)
        );
        let rows = self.query_text(
            &sql,
            &[Val::T(Some(plan.into())), Val::T(Some(unit.into()))],
        )?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let k = r.first()?.clone()?;
                let v = r.get(1)?.as_ref()?.parse().ok()?;
                Some((k, v))
            })
            .collect())
    }

    /// Writes a ledger row in its own transaction (unit rows).
    pub fn write_ledger(&mut self, row: &LedgerRow) -> Result<(), MigrateError> {
        let sql = ledger_upsert(self.kind(), &self.ledger);
        self.exec(&sql, &ledger_values(row)).map(drop)
    }

    /// Deletes the batch rows of a unit's run from batch `from` on: rows an earlier attempt of
    /// the run wrote with another batch size, which this attempt's batches do not replace.
    pub fn forget_batches_from(
        &mut self,
        plan: &str,
        unit: &str,
        run: i64,
        from: i64,
    ) -> Result<u64, MigrateError> {
        let sql = format!(
            "DELETE FROM {} WHERE plan = {} AND unit = {} AND run = {} AND batch >= {}",
            self.ledger,
            self.placeholder(1),
            self.placeholder(2),
            self.placeholder(3),
            self.placeholder(4)
        );
        self.exec(
            &sql,
            &[
                Val::T(Some(plan.into())),
                Val::T(Some(unit.into())),
                Val::I(run),
                Val::I(from),
            ],
        )
    }

    /// Deletes a unit's ledger rows (its id map stays, so a rerun maps to the same rows).
    pub fn forget(&mut self, plan: &str, unit: &str) -> Result<u64, MigrateError> {
        if !self.ledger_exists()? {
            return Ok(0);
        }
        let sql = format!(
            "DELETE FROM {} WHERE plan = {} AND unit = {}",
            self.ledger,
            self.placeholder(1),
            self.placeholder(2)
        );
        self.exec(
            &sql,
            &[Val::T(Some(plan.into())), Val::T(Some(unit.into()))],
        )
    }
}
