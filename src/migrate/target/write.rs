//! Writing rows: one batch with its id-map rows and its ledger row in the open transaction
//! (`apply`), or whole tables replaced in one transaction (`restore`).

use super::*;

/// What one batch writes.
pub struct WriteSpec<'a> {
    /// The target table as the plan names it.
    pub table: &'a str,
    /// Target key columns the upsert matches on (the generated column for generated-id units).
    pub conflict: &'a [String],
    /// The column the target generates, if any.
    pub generated: Option<&'a str>,
    /// The table held no row when the unit's transaction began (PostgreSQL): rows are copied
    /// straight in, with no staging table and no upsert (a key that is there after all stops
    /// the copy, which rolls the unit back).
    pub direct: bool,
}

/// The id-map side of a generated-id batch.
pub struct IdWrite<'a> {
    /// Plan name.
    pub plan: &'a str,
    /// Unit name.
    pub unit: &'a str,
    /// Each row's old key (text).
    pub old_keys: &'a [String],
    /// Old keys already mapped (from earlier runs).
    pub known: &'a HashMap<String, i64>,
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Rows the target reports as inserted or changed.
    pub written: u64,
    /// New (old key, new id) pairs, committed.
    pub new_ids: Vec<(String, i64)>,
}

impl Target {
    /// Deletes the id-map rows of these source keys of a unit, inside the open transaction.
    pub fn forget_ids(
        &mut self,
        plan: &str,
        unit: &str,
        old_keys: &[String],
    ) -> Result<u64, MigrateError> {
        let mut n = 0;
        for chunk in old_keys.chunks(500) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| self.placeholder(i + 3)).collect();
            let sql = format!(
                "DELETE FROM {} WHERE plan = {} AND unit = {} AND old_key IN ({})",
                self.idmap,
                self.placeholder(1),
                self.placeholder(2),
                marks.join(", ")
            );
            let mut params = vec![Val::T(Some(plan.into())), Val::T(Some(unit.into()))];
            params.extend(chunk.iter().map(|k| Val::T(Some(k.clone()))));
            n += self.exec(&sql, &params)?;
        }
        Ok(n)
    }

    /// Whether rows may be copied straight into `table`: a plain PostgreSQL table (not a view,
    /// no rules, which `COPY` would bypass) or a MySQL/MariaDB base table, holding no row,
    /// inside the open transaction; `false` for SQLite, which always upserts.
    pub fn takes_direct_copy(&mut self, table: &str) -> Result<bool, MigrateError> {
        if self.kind() == Kind::Mysql {
            let quoted = quote_table(table, Kind::Mysql);
            let t = TableName::parse(table);
            let lit = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "''"));
            let schema = t.schema.as_deref().map_or("DATABASE()".to_string(), lit);
            let sql = format!(
                "SELECT (t.TABLE_TYPE = 'BASE TABLE' AND NOT EXISTS (SELECT 1 FROM {quoted})) \
                 FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = {schema} AND t.TABLE_NAME = {}",
                lit(&t.name)
            );
            return Ok(self
                .query_text(&sql, &[])?
                .first()
                .and_then(|r| r.first().cloned().flatten())
                .as_deref()
                == Some("1"));
        }
        if self.kind() != Kind::Postgres {
            return Ok(false);
        }
        let quoted = quote_table(table, Kind::Postgres);
        let sql = format!(
            "SELECT (c.relkind = 'r' AND NOT c.relhasrules AND NOT EXISTS (SELECT 1 FROM {quoted}))::text \
             FROM pg_class c WHERE c.oid = '{}'::regclass",
            quoted.replace('\'', "''")
        );
        Ok(self
            .query_text(&sql, &[])?
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .as_deref()
            == Some("true"))
    }

    /// Deletes the rows of `table` whose key columns `cols` hold one of `keys` (values as text,
    /// in column order), inside the open transaction; returns the rows deleted. Integer columns
    /// (`ints`) compare with a number, never with a string that the server's conversion rules
    /// might compare as a double (MySQL documents that; MariaDB 10.11 compares exactly); text
    /// as bytes where the dialect allows it (MariaDB: `BINARY`, ignoring case and pad rules).
    pub fn delete_rows(
        &mut self,
        table: &str,
        cols: &[String],
        ints: &[bool],
        keys: &[Vec<String>],
    ) -> Result<u64, MigrateError> {
        let kind = self.kind();
        let display = self.display.clone();
        let table = quote_table(table, kind);
        let lit = |int: bool, v: &str| -> Result<String, MigrateError> {
            if int {
                return v
                    .trim()
                    .parse::<i128>()
                    .map(|n| n.to_string())
                    .map_err(|_| {
                        werr(
                            &display,
                            format!("key value {v:?} of an integer column is not an integer"),
                        )
                    });
            }
            Ok(match kind {
                Kind::Mysql => {
                    format!("BINARY '{}'", v.replace('\\', "\\\\").replace('\'', "''"))
                }
                // E'' reads the same whatever standard_conforming_strings says.
                Kind::Postgres => {
                    format!("E'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
                }
                Kind::Sqlite => format!("'{}'", v.replace('\'', "''")),
            })
        };
        let mut deleted = 0;
        for chunk in keys.chunks(500) {
            let cond: Vec<String> = chunk
                .iter()
                .map(|k| {
                    let parts: Vec<String> = cols
                        .iter()
                        .zip(ints)
                        .zip(k)
                        .map(|((c, &int), v)| {
                            // MySQL text by its UTF-8 bytes, whatever the column's character set.
                            let column = match (int, kind) {
                                (false, Kind::Mysql) => {
                                    format!("BINARY CONVERT({} USING utf8mb4)", q(c, kind))
                                }
                                _ => q(c, kind),
                            };
                            Ok(format!("{column} = {}", lit(int, v)?))
                        })
                        .collect::<Result<_, MigrateError>>()?;
                    Ok(format!("({})", parts.join(" AND ")))
                })
                .collect::<Result<_, MigrateError>>()?;
            deleted += self.exec(
                &format!("DELETE FROM {table} WHERE {}", cond.join(" OR ")),
                &[],
            )?;
        }
        Ok(deleted)
    }

    /// Allocates `n` ids from the generated column's sequence (PostgreSQL).
    pub(super) fn pg_next_ids(
        tx: &mut postgres::Client,
        table: &str,
        column: &str,
        n: usize,
        display: &str,
    ) -> Result<Vec<i64>, MigrateError> {
        let seq: Option<String> = tx
            .query_one(
                "SELECT pg_get_serial_sequence($1, $2)",
                &[&quote_table(table, Kind::Postgres), &column],
            )
            .map_err(|e| pg_err(display, e))?
            .get(0);
        let Some(seq) = seq else {
            return Err(werr(
                display,
                format!("generated_id '{column}' of {table} has no sequence (it must be serial or an identity column)"),
            ));
        };
        let rows = tx
            .query(
                "SELECT nextval($1::text::regclass) FROM generate_series(1, $2::bigint)",
                &[&seq, &(n as i64)],
            )
            .map_err(|e| pg_err(display, e))?;
        Ok(rows.iter().map(|r| r.get::<_, i64>(0)).collect())
    }

    /// Writes one batch, its new id-map rows and its ledger row, inside the transaction opened
    /// with [`Target::begin`].
    pub fn apply(
        &mut self,
        w: &WriteSpec<'_>,
        batch: &RecordBatch,
        ids: Option<IdWrite<'_>>,
        ledger: &LedgerRow,
    ) -> Result<Applied, MigrateError> {
        let kind = self.kind();
        let display = self.display.clone();
        let table = quote_table(w.table, kind);
        let ledger_sql = ledger_upsert(kind, &self.ledger);
        let idmap = self.idmap.clone();
        let mut applied = Applied::default();
        match &mut self.conn {
            Conn::Pg(c) => {
                let tx = c.as_mut();
                let (batch, new_ids) = match (&ids, w.generated) {
                    (Some(ids), Some(gen)) => {
                        let missing = ids
                            .old_keys
                            .iter()
                            .filter(|k| !ids.known.contains_key(*k))
                            .count();
                        let mut fresh =
                            Self::pg_next_ids(tx, w.table, gen, missing, &display)?.into_iter();
                        let mut new_ids = Vec::new();
                        let col: Vec<i64> = ids
                            .old_keys
                            .iter()
                            .map(|k| match ids.known.get(k) {
                                Some(&id) => id,
                                None => {
                                    let id = fresh.next().unwrap_or_default();
                                    new_ids.push((k.clone(), id));
                                    id
                                }
                            })
                            .collect();
                        (with_column(batch, gen, col)?, new_ids)
                    }
                    _ => (batch.clone(), Vec::new()),
                };
                let overriding = match w.generated {
                    Some(gen) => {
                        let ident: Option<String> = tx
                            .query_opt(
                                "SELECT attidentity::text FROM pg_attribute WHERE attrelid = $1::text::regclass AND attname = $2",
                                &[&table, &gen],
                            )
                            .map_err(|e| pg_err(&display, e))?
                            .and_then(|r| r.get(0));
                        ident.as_deref() == Some("a")
                    }
                    None => false,
                };
                let cols = col_list(&batch, kind);
                let into = if w.direct {
                    table.clone()
                } else {
                    tx.batch_execute(&format!(
                        "DROP TABLE IF EXISTS pg_temp.reckon_stage; CREATE TEMP TABLE reckon_stage ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"
                    ))
                    .map_err(|e| pg_err(&display, e))?;
                    "reckon_stage".to_string()
                };
                // Binary when every column has an exact binary form for its type, else text.
                let types = pg_column_types(tx, &table, &batch, &display)?;
                let bin = binary::plan(&batch, &types);
                let format = if bin.is_some() {
                    " (FORMAT binary)"
                } else {
                    ""
                };
                let mut wr = tx
                    .copy_in(&format!("COPY {into} ({cols}) FROM STDIN{format}"))
                    .map_err(|e| pg_err(&display, e))?;
                let mut buf = Vec::with_capacity(1 << 20);
                let enc = match bin {
                    Some(_) => None,
                    None => Some(Encoders::new(&batch)?),
                };
                if bin.is_some() {
                    binary::Binary::header(&mut buf);
                }
                for r in 0..batch.num_rows() {
                    match (&bin, &enc) {
                        (Some(b), _) => b.row(r, &mut buf),
                        (None, Some(e)) => e.copy_row(r, &mut buf),
                        (None, None) => unreachable!("one encoder or the other"),
                    }
                    if buf.len() > (1 << 20) {
                        wr.write_all(&buf).map_err(|e| werr(&display, e))?;
                        buf.clear();
                    }
                }
                if bin.is_some() {
                    binary::Binary::trailer(&mut buf);
                }
                wr.write_all(&buf).map_err(|e| werr(&display, e))?;
                let copied = wr.finish().map_err(|e| pg_err(&display, e))?;
                applied.written = if w.direct {
                    copied
                } else {
                    let upsert =
                        upsert_sql(kind, &table, &batch, w.conflict, overriding, "reckon_stage");
                    tx.execute(&upsert, &[]).map_err(|e| pg_err(&display, e))?
                };
                if !new_ids.is_empty() {
                    let ids = ids.as_ref().expect("generated units pass ids");
                    let (ks, vs): (Vec<String>, Vec<i64>) = new_ids.iter().cloned().unzip();
                    tx.execute(
                        &format!("INSERT INTO {idmap} (plan, unit, old_key, new_id) SELECT $1, $2, k, v FROM unnest($3::text[], $4::bigint[]) AS m(k, v)"),
                        &[&ids.plan, &ids.unit, &ks, &vs],
                    )
                    .map_err(|e| pg_err(&display, e))?;
                }
                let mut l = ledger.clone();
                l.rows_written = applied.written as i64;
                let p = pg_params(&ledger_values(&l));
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    p.iter().map(|b| b.as_ref() as _).collect();
                tx.execute(&ledger_sql, &refs)
                    .map_err(|e| pg_err(&display, e))?;
                applied.new_ids = new_ids;
            }
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                let tx = c.as_mut();
                let mut new_ids = Vec::new();
                match (&ids, w.generated) {
                    (Some(ids), Some(gen)) => {
                        // Rows mapped before: upsert with their id. New rows: insert, then read
                        // the ids the server gave (consecutive within one statement).
                        let (old, new): (Vec<u32>, Vec<u32>) = (0..batch.num_rows() as u32)
                            .partition(|&r| ids.known.contains_key(&ids.old_keys[r as usize]));
                        if !old.is_empty() {
                            let idcol: Vec<i64> = old
                                .iter()
                                .map(|&r| ids.known[&ids.old_keys[r as usize]])
                                .collect();
                            let sub = with_column(&take_rows(batch, &old)?, gen, idcol)?;
                            applied.written += my_upsert(tx, &table, &sub, w.conflict, &display)?;
                        }
                        if !new.is_empty() {
                            let sub = take_rows(batch, &new)?;
                            let inc: Option<i64> = tx
                                .query_first("SELECT @@auto_increment_increment")
                                .map_err(|e| werr(&display, e))?;
                            let inc = inc.unwrap_or(1);
                            let per = rows_per_statement(sub.num_columns());
                            let mut r0 = 0;
                            while r0 < sub.num_rows() {
                                let n = per.min(sub.num_rows() - r0);
                                let part = sub.slice(r0, n);
                                let (sql, params) = my_insert(&table, &part, None)?;
                                tx.exec_drop(&sql, params).map_err(|e| werr(&display, e))?;
                                applied.written += tx.affected_rows();
                                let first = tx.last_insert_id() as i64;
                                for i in 0..n {
                                    new_ids.push((
                                        ids.old_keys[new[r0 + i] as usize].clone(),
                                        first + i as i64 * inc,
                                    ));
                                }
                                r0 += n;
                            }
                            for chunk in new_ids.chunks(2000) {
                                let sql = format!(
                                    "INSERT INTO {idmap} (plan, unit, old_key, new_id) VALUES {}",
                                    vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
                                );
                                let mut params: Vec<mysql::Value> = Vec::new();
                                for (k, v) in chunk {
                                    params.push(ids.plan.into());
                                    params.push(ids.unit.into());
                                    params.push(k.as_str().into());
                                    params.push((*v).into());
                                }
                                tx.exec_drop(&sql, params).map_err(|e| werr(&display, e))?;
                            }
                        }
                    }
                    _ => {
                        // Straight into a table empty at the unit's start: the bulk path.
                        let loaded = match w.direct {
                            true => load_data::my_load(tx, &table, batch, &display)?,
                            false => None,
                        };
                        applied.written = match loaded {
                            Some(n) => n,
                            None => my_upsert(tx, &table, batch, w.conflict, &display)?,
                        };
                    }
                }
                let mut l = ledger.clone();
                l.rows_written = applied.written as i64;
                tx.exec_drop(&ledger_sql, my_params(&ledger_values(&l)))
                    .map_err(|e| werr(&display, e))?;
                applied.new_ids = new_ids;
            }
            Conn::Lite(c) => {
                let tx = &*c;
                let enc = Encoders::new(batch)?;
                let mut new_ids = Vec::new();
                {
                    let cols = col_list(batch, kind);
                    let marks = vec!["?"; batch.num_columns()].join(", ");
                    let upsert = upsert_sql(kind, &table, batch, w.conflict, false, "");
                    let plain = format!("INSERT INTO {table} ({cols}) VALUES ({marks})");
                    match (&ids, w.generated) {
                        (Some(ids), Some(gen)) => {
                            let with_id = format!(
                                "INSERT INTO {table} ({cols}, {g}) VALUES ({marks}, ?) ON CONFLICT ({g}) DO UPDATE SET {}",
                                batch.schema().fields().iter().map(|f| { let c = q(f.name(), kind); format!("{c} = excluded.{c}") }).collect::<Vec<_>>().join(", "),
                                g = q(gen, kind)
                            );
                            let mut s_old =
                                tx.prepare_cached(&with_id).map_err(|e| werr(&display, e))?;
                            let mut s_new =
                                tx.prepare_cached(&plain).map_err(|e| werr(&display, e))?;
                            for r in 0..batch.num_rows() {
                                let mut vals = enc.lite_row(r);
                                match ids.known.get(&ids.old_keys[r]) {
                                    Some(&id) => {
                                        vals.push(rusqlite::types::Value::Integer(id));
                                        applied.written += s_old
                                            .execute(rusqlite::params_from_iter(vals))
                                            .map_err(|e| werr(&display, e))?
                                            as u64;
                                    }
                                    None => {
                                        applied.written += s_new
                                            .execute(rusqlite::params_from_iter(vals))
                                            .map_err(|e| werr(&display, e))?
                                            as u64;
                                        new_ids.push((
                                            ids.old_keys[r].clone(),
                                            tx.last_insert_rowid(),
                                        ));
                                    }
                                }
                            }
                            let mut s_map = tx
                                .prepare_cached(&format!("INSERT INTO {idmap} (plan, unit, old_key, new_id) VALUES (?, ?, ?, ?)"))
                                .map_err(|e| werr(&display, e))?;
                            for (k, v) in &new_ids {
                                s_map
                                    .execute(rusqlite::params![ids.plan, ids.unit, k, v])
                                    .map_err(|e| werr(&display, e))?;
                            }
                        }
                        _ => {
                            let mut s =
                                tx.prepare_cached(&upsert).map_err(|e| werr(&display, e))?;
                            for r in 0..batch.num_rows() {
                                applied.written += s
                                    .execute(rusqlite::params_from_iter(enc.lite_row(r)))
                                    .map_err(|e| werr(&display, e))?
                                    as u64;
                            }
                        }
                    }
                    let mut l = ledger.clone();
                    l.rows_written = applied.written as i64;
                    tx.execute(
                        &ledger_sql,
                        rusqlite::params_from_iter(lite_params(&ledger_values(&l))),
                    )
                    .map_err(|e| werr(&display, e))?;
                }
                applied.new_ids = new_ids;
            }
        }
        Ok(applied)
    }

    /// Replaces the rows of `tables` (in order; deleted in reverse order) in one transaction
    /// (`restore`).
    pub fn replace_all(
        &mut self,
        tables: &[(String, Vec<RecordBatch>)],
    ) -> Result<(), MigrateError> {
        let kind = self.kind();
        let display = self.display.clone();
        match &mut self.conn {
            Conn::Pg(c) => {
                let mut tx = c.transaction().map_err(|e| pg_err(&display, e))?;
                tx.batch_execute("SET CONSTRAINTS ALL DEFERRED")
                    .map_err(|e| pg_err(&display, e))?;
                for (t, _) in tables.iter().rev() {
                    tx.batch_execute(&format!("DELETE FROM {}", quote_table(t, kind)))
                        .map_err(|e| pg_err(&display, e))?;
                }
                for (t, batches) in tables {
                    for b in batches.iter().filter(|b| b.num_rows() > 0) {
                        let cols = col_list(b, kind);
                        let mut wr = tx
                            .copy_in(&format!(
                                "COPY {} ({cols}) FROM STDIN",
                                quote_table(t, kind)
                            ))
                            .map_err(|e| pg_err(&display, e))?;
                        let enc = Encoders::new(b)?;
                        let mut buf = Vec::new();
                        for r in 0..b.num_rows() {
                            enc.copy_row(r, &mut buf);
                        }
                        wr.write_all(&buf).map_err(|e| werr(&display, e))?;
                        wr.finish().map_err(|e| pg_err(&display, e))?;
                    }
                }
                // The sequences of serial and identity columns continue after the restored rows
                // (COPY draws none; without this, the next insert collides with a restored id
                // or skips the ids the backup had not drawn yet).
                for (t, _) in tables {
                    let table = quote_table(t, kind);
                    let owned = tx
                        .query(
                            "SELECT a.attname::text, pg_get_serial_sequence($1::text, a.attname::text) FROM pg_attribute a \
                             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped \
                             AND pg_get_serial_sequence($1::text, a.attname::text) IS NOT NULL",
                            &[&table],
                        )
                        .map_err(|e| pg_err(&display, e))?;
                    for row in owned {
                        let (col, seq): (String, String) = (row.get(0), row.get(1));
                        let col = q(&col, kind);
                        tx.execute(
                            &format!(
                                "SELECT setval($1::text::regclass, COALESCE(CASE WHEN p.seqincrement > 0 \
                                 THEN (SELECT max({col}) FROM {table}) ELSE (SELECT min({col}) FROM {table}) END::bigint, \
                                 p.seqstart), EXISTS (SELECT 1 FROM {table} WHERE {col} IS NOT NULL)) \
                                 FROM pg_sequence p WHERE p.seqrelid = $1::text::regclass"
                            ),
                            &[&seq],
                        )
                        .map_err(|e| pg_err(&display, e))?;
                    }
                }
                tx.commit().map_err(|e| pg_err(&display, e))?;
            }
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                c.query_drop("SET FOREIGN_KEY_CHECKS = 0")
                    .map_err(|e| werr(&display, e))?;
                let mut tx = c
                    .start_transaction(mysql::TxOpts::default())
                    .map_err(|e| werr(&display, e))?;
                for (t, _) in tables.iter().rev() {
                    tx.query_drop(format!("DELETE FROM {}", quote_table(t, kind)))
                        .map_err(|e| werr(&display, e))?;
                }
                for (t, batches) in tables {
                    for b in batches {
                        let per = rows_per_statement(b.num_columns());
                        let mut r0 = 0;
                        while r0 < b.num_rows() {
                            let n = per.min(b.num_rows() - r0);
                            let (sql, params) =
                                my_insert(&quote_table(t, kind), &b.slice(r0, n), None)?;
                            tx.exec_drop(&sql, params).map_err(|e| werr(&display, e))?;
                            r0 += n;
                        }
                    }
                }
                tx.commit().map_err(|e| werr(&display, e))?;
                c.query_drop("SET FOREIGN_KEY_CHECKS = 1")
                    .map_err(|e| werr(&display, e))?;
            }
            Conn::Lite(c) => {
                let tx = c.transaction().map_err(|e| werr(&display, e))?;
                for (t, _) in tables.iter().rev() {
                    tx.execute(&format!("DELETE FROM {}", quote_table(t, kind)), [])
                        .map_err(|e| werr(&display, e))?;
                }
                for (t, batches) in tables {
                    for b in batches {
                        let sql = format!(
                            "INSERT INTO {} ({}) VALUES ({})",
                            quote_table(t, kind),
                            col_list(b, kind),
                            vec!["?"; b.num_columns()].join(", ")
                        );
                        let mut s = tx.prepare_cached(&sql).map_err(|e| werr(&display, e))?;
                        let enc = Encoders::new(b)?;
                        for r in 0..b.num_rows() {
                            s.execute(rusqlite::params_from_iter(enc.lite_row(r)))
                                .map_err(|e| werr(&display, e))?;
                        }
                    }
                }
                tx.commit().map_err(|e| werr(&display, e))?;
            }
        }
        Ok(())
    }
}

/// The base type (`typname`) of each of the batch's columns in `table` (quoted), in the batch's
/// order; `None` for a column that is not there or whose type is not a base type (a domain,
/// an enum, a composite, an array).
fn pg_column_types(
    tx: &mut postgres::Client,
    table: &str,
    batch: &RecordBatch,
    display: &str,
) -> Result<Vec<Option<String>>, MigrateError> {
    let rows = tx
        .query(
            "SELECT a.attname::text, t.typname::text, t.typtype::text FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            &[&table],
        )
        .map_err(|e| pg_err(display, e))?;
    let types: HashMap<String, (String, String)> = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect();
    Ok(batch
        .schema()
        .fields()
        .iter()
        .map(|f| match types.get(f.name()) {
            Some((name, kind)) if kind == "b" => Some(name.clone()),
            _ => None,
        })
        .collect())
}
