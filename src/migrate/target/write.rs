//! Writing rows: one batch with its id-map rows and its ledger row in the open transaction
//! (`apply`; binary `COPY` on PostgreSQL, `LOAD DATA` on MySQL/MariaDB into a table empty at the
//! unit's start, else upserts).

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
