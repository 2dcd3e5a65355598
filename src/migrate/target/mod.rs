//! Writing to a target: PostgreSQL (COPY into a staging table, then one upsert), MySQL/MariaDB
//! (multi-row `INSERT … ON DUPLICATE KEY UPDATE` with bound parameters) and SQLite (prepared
//! upserts). Each batch, its id-map rows and its ledger row commit in one transaction.
//!
//! Sessions are pinned: UTC (`TimeZone`, `time_zone = '+00:00'`), UTF-8, and on MySQL a strict
//! `sql_mode`, so a value the column cannot hold is an error instead of a silent truncation.
//!
//! Upserts change nothing when the row is already equal (`IS DISTINCT FROM` on PostgreSQL, the
//! server's own no-op detection on MySQL, `IS NOT` on SQLite): re-running a unit writes 0 rows.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::DateTime;
use url::Url;

use super::ledger::LedgerRow;
use super::MigrateError;
use crate::source::{quote_ident, SourceSpec, TableName};

mod cells;
mod params;
mod statements;

use cells::*;
pub use params::*;
use statements::*;

/// The kind of target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// SQLite.
    Sqlite,
}

enum Conn {
    Pg(Box<postgres::Client>),
    My(Box<mysql::Conn>),
    Lite(rusqlite::Connection),
}

/// An open target.
pub struct Target {
    conn: Conn,
    /// The target as it may be shown.
    pub display: String,
    /// The spec, to read the target back through the source layer.
    pub spec: SourceSpec,
    ledger: String,
    idmap: String,
    sqlite_path: Option<PathBuf>,
    lock_file: Option<File>,
}

/// What one batch writes.
pub struct WriteSpec<'a> {
    /// The target table as the plan names it.
    pub table: &'a str,
    /// Target key columns the upsert matches on (the generated column for generated-id units).
    pub conflict: &'a [String],
    /// The column the target generates, if any.
    pub generated: Option<&'a str>,
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

fn werr(display: &str, e: impl std::fmt::Display) -> MigrateError {
    MigrateError::Target {
        target: display.to_string(),
        reason: crate::error::scrub(&chain(&e.to_string())),
    }
}

fn chain(m: &str) -> String {
    let first = m.lines().next().unwrap_or(m);
    // The mysql driver's Display is its Debug: `MySqlError { ERROR 1049 (42000): … }`.
    let first = first
        .strip_prefix("MySqlError { ")
        .and_then(|r| r.strip_suffix(" }"))
        .unwrap_or(first);
    first.chars().take(600).collect()
}

fn connect_err(display: &str, e: impl std::fmt::Display) -> MigrateError {
    MigrateError::Connect {
        target: display.to_string(),
        reason: crate::error::scrub(&chain(&e.to_string())),
    }
}

fn pg_err(display: &str, e: postgres::Error) -> MigrateError {
    werr(display, pg_message(e))
}

/// A PostgreSQL error as a user reads it: severity, message, detail, column, or the causes.
fn pg_message(e: postgres::Error) -> String {
    let mut m = e.to_string();
    if let Some(db) = e.as_db_error() {
        m = format!("{}: {}", db.severity(), db.message());
        if let Some(d) = db.detail() {
            m = format!("{m} ({d})");
        }
        if let Some(c) = db.column() {
            m = format!("{m} [column {c}]");
        }
    } else {
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            m = format!("{m}: {s}");
            src = s.source();
        }
    }
    m
}

/// Quotes `schema.table` or `table` for a dialect.
pub fn quote_table(name: &str, kind: Kind) -> String {
    let t = TableName::parse(name);
    let my = kind == Kind::Mysql;
    match &t.schema {
        Some(s) if kind != Kind::Sqlite => {
            format!("{}.{}", quote_ident(s, my), quote_ident(&t.name, my))
        }
        _ => quote_ident(&t.name, my),
    }
}

fn q(ident: &str, kind: Kind) -> String {
    quote_ident(ident, kind == Kind::Mysql)
}

impl Target {
    /// Opens a target (PostgreSQL, MySQL/MariaDB or SQLite) with a pinned session.
    pub fn open(spec: &SourceSpec, ledger: &str, idmap: &str) -> Result<Target, MigrateError> {
        let display = spec.display();
        let (conn, sqlite_path) = match spec {
            SourceSpec::Postgres(url) => {
                let mut cfg: postgres::Config =
                    url.as_str().parse().map_err(|e| connect_err(&display, e))?;
                cfg.connect_timeout(Duration::from_secs(10));
                cfg.application_name("reckon migrate");
                let mut c = cfg
                    .connect(postgres::NoTls)
                    .map_err(|e| connect_err(&display, pg_message(e)))?;
                c.batch_execute(include_str!("../../../queries/postgres/write_session.sql"))
                    .map_err(|e| connect_err(&display, pg_message(e)))?;
                (Conn::Pg(Box::new(c)), None)
            }
            SourceSpec::Mysql(url) => {
                let s = url.as_str().replacen("mariadb://", "mysql://", 1);
                let u = Url::parse(&s).map_err(|e| connect_err(&display, e))?;
                let opts =
                    mysql::Opts::from_url(u.as_str()).map_err(|e| connect_err(&display, e))?;
                let init = statements(include_str!("../../../queries/mysql/write_session.sql"));
                let opts = mysql::OptsBuilder::from_opts(opts)
                    .tcp_connect_timeout(Some(Duration::from_secs(10)))
                    .init(init);
                let c = mysql::Conn::new(opts).map_err(|e| connect_err(&display, e))?;
                (Conn::My(Box::new(c)), None)
            }
            SourceSpec::Sqlite(path) => {
                if !path.exists() {
                    return Err(MigrateError::Connect {
                        target: display,
                        reason: "the SQLite file does not exist (reckon writes into an existing schema; create the target tables first)".into(),
                    });
                }
                let c = rusqlite::Connection::open(path).map_err(|e| connect_err(&display, e))?;
                c.busy_timeout(Duration::from_secs(10))
                    .map_err(|e| connect_err(&display, e))?;
                (Conn::Lite(c), Some(path.clone()))
            }
            SourceSpec::Parquet(_) | SourceSpec::Csv(_) => return Err(MigrateError::Target {
                target: display,
                reason:
                    "a migration target must be a database (PostgreSQL, MySQL/MariaDB or SQLite)"
                        .into(),
            }),
        };
        let kind = match conn {
            Conn::Pg(_) => Kind::Postgres,
            Conn::My(_) => Kind::Mysql,
            Conn::Lite(_) => Kind::Sqlite,
        };
        Ok(Target {
            conn,
            display,
            spec: spec.clone(),
            ledger: quote_table(ledger, kind),
            idmap: quote_table(idmap, kind),
            sqlite_path,
            lock_file: None,
        })
    }

    /// The kind of target.
    pub fn kind(&self) -> Kind {
        match self.conn {
            Conn::Pg(_) => Kind::Postgres,
            Conn::My(_) => Kind::Mysql,
            Conn::Lite(_) => Kind::Sqlite,
        }
    }

    /// Takes the one-executor-per-target lock (released when this session ends, even on kill -9):
    /// one lock for the ledger and one for every table the run writes (`tables`, as the plan names
    /// them), so two plans that write the same table cannot run at once whatever their `ledger =`.
    /// SQLite: one lock file beside the database.
    pub fn lock(&mut self, tables: &[String], wait: Duration) -> Result<(), MigrateError> {
        let started = Instant::now();
        let display = self.display.clone();
        let mut names = vec![format!("reckon migrate {}", self.ledger)];
        let home = match &mut self.conn {
            Conn::Pg(c) => c
                .query_one("SELECT current_schema()::text", &[])
                .map_err(|e| pg_err(&display, e))?
                .get::<_, Option<String>>(0)
                .unwrap_or_default(),
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                let r: Option<Option<String>> = c
                    .query_first("SELECT DATABASE()")
                    .map_err(|e| werr(&display, e))?;
                r.flatten().unwrap_or_default()
            }
            Conn::Lite(_) => String::new(),
        };
        for t in tables {
            let t = TableName::parse(t);
            let schema = t.schema.unwrap_or_else(|| home.clone());
            names.push(format!("reckon migrate table {schema}.{}", t.name));
        }
        names.sort();
        names.dedup();
        let keys: Vec<i64> = names
            .iter()
            .map(|n| xxhash_rust::xxh3::xxh3_64(n.as_bytes()) as i64)
            .collect();
        loop {
            let got = match &mut self.conn {
                Conn::Pg(c) => {
                    let mut held = Vec::new();
                    let mut all = true;
                    for key in &keys {
                        let ok = c
                            .query_one("SELECT pg_try_advisory_lock($1)", &[key])
                            .map_err(|e| pg_err(&display, e))?
                            .get::<_, bool>(0);
                        if !ok {
                            all = false;
                            break;
                        }
                        held.push(*key);
                    }
                    if !all {
                        for key in &held {
                            c.query_one("SELECT pg_advisory_unlock($1)", &[key])
                                .map_err(|e| pg_err(&display, e))?;
                        }
                    }
                    all
                }
                Conn::My(c) => {
                    use mysql::prelude::Queryable;
                    let mut held = Vec::new();
                    let mut all = true;
                    for key in &keys {
                        let lock_name: String = format!("reckon:{:016x}", *key as u64);
                        let r: Option<Option<i64>> = c
                            .exec_first("SELECT GET_LOCK(?, 0)", (lock_name.clone(),))
                            .map_err(|e| werr(&display, e))?;
                        if r.flatten() != Some(1) {
                            all = false;
                            break;
                        }
                        held.push(lock_name);
                    }
                    if !all {
                        for name in held {
                            let _: Option<Option<i64>> = c
                                .exec_first("SELECT RELEASE_LOCK(?)", (name,))
                                .map_err(|e| werr(&display, e))?;
                        }
                    }
                    all
                }
                Conn::Lite(_) => {
                    let path = self.sqlite_path.clone().unwrap_or_default();
                    let lock_path = PathBuf::from(format!("{}.reckon-lock", path.display()));
                    let f = File::options()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&lock_path)
                        .map_err(|e| werr(&display, format!("{}: {e}", lock_path.display())))?;
                    match f.try_lock() {
                        Ok(()) => {
                            self.lock_file = Some(f);
                            true
                        }
                        Err(_) => false,
                    }
                }
            };
            if got {
                return Ok(());
            }
            if started.elapsed() >= wait {
                return Err(MigrateError::Locked {
                    target: display,
                    waited: wait.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn ledger_sql(&self) -> String {
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
    pub fn ledger_exists(&mut self) -> bool {
        let ledger = self.ledger.clone();
        self.exists_quoted(&ledger)
    }

    fn exists_quoted(&mut self, quoted: &str) -> bool {
        let sql = format!("SELECT COUNT(*) FROM {quoted} WHERE 1 = 0");
        self.query_text(&sql, &[]).is_ok()
    }

    /// Runs a statement outside any transaction.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, MigrateError> {
        let display = self.display.clone();
        match &mut self.conn {
            Conn::Pg(c) => {
                let p = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    p.iter().map(|b| b.as_ref() as _).collect();
                c.execute(sql, &refs).map_err(|e| pg_err(&display, e))
            }
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                c.exec_drop(sql, my_params(params))
                    .map_err(|e| werr(&display, e))?;
                Ok(c.affected_rows())
            }
            Conn::Lite(c) => c
                .execute(sql, rusqlite::params_from_iter(lite_params(params)))
                .map(|n| n as u64)
                .map_err(|e| werr(&display, e)),
        }
    }

    /// Runs a query; every value as text (NULL as None).
    fn query_text(
        &mut self,
        sql: &str,
        params: &[Val],
    ) -> Result<Vec<Vec<Option<String>>>, MigrateError> {
        let display = self.display.clone();
        match &mut self.conn {
            Conn::Pg(c) => {
                let p = pg_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    p.iter().map(|b| b.as_ref() as _).collect();
                let rows = c
                    .simple_query_or_typed(sql, &refs)
                    .map_err(|e| pg_err(&display, e))?;
                Ok(rows)
            }
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                let rows: Vec<mysql::Row> = c
                    .exec(sql, my_params(params))
                    .map_err(|e| werr(&display, e))?;
                Ok(rows
                    .into_iter()
                    .map(|r| r.unwrap().into_iter().map(my_text).collect())
                    .collect())
            }
            Conn::Lite(c) => {
                let mut stmt = c.prepare(sql).map_err(|e| werr(&display, e))?;
                let n = stmt.column_count();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(lite_params(params)), |r| {
                        (0..n)
                            .map(|i| {
                                let v: rusqlite::types::Value = r.get(i)?;
                                Ok(lite_text(v))
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .map_err(|e| werr(&display, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| werr(&display, e))?;
                Ok(rows)
            }
        }
    }

    /// The ledger rows of a plan (empty when there is no ledger yet).
    pub fn read_ledger(&mut self, plan: &str) -> Result<Vec<LedgerRow>, MigrateError> {
        if !self.ledger_exists() {
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

    fn placeholder(&self, i: usize) -> String {
        match self.kind() {
            Kind::Postgres => format!("${i}"),
            _ => "?".into(),
        }
    }

    /// The old-key → new-id map of a unit.
    pub fn read_idmap(
        &mut self,
        plan: &str,
        unit: &str,
    ) -> Result<HashMap<String, i64>, MigrateError> {
        if !self.ledger_exists() {
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

    /// Deletes a unit's ledger rows (its id map stays, so a rerun maps to the same rows).
    pub fn forget(&mut self, plan: &str, unit: &str) -> Result<u64, MigrateError> {
        if !self.ledger_exists() {
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

    /// Allocates `n` ids from the generated column's sequence (PostgreSQL).
    fn pg_next_ids(
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

    /// Starts the transaction batches are written in.
    pub fn begin(&mut self) -> Result<(), MigrateError> {
        self.simple("BEGIN")
    }

    /// Commits it.
    pub fn commit(&mut self) -> Result<(), MigrateError> {
        self.simple("COMMIT")
    }

    /// Rolls it back (best effort: a dead session has rolled back already).
    pub fn rollback(&mut self) {
        let _ = self.simple("ROLLBACK");
    }

    fn simple(&mut self, sql: &str) -> Result<(), MigrateError> {
        let display = self.display.clone();
        match &mut self.conn {
            Conn::Pg(c) => c.batch_execute(sql).map_err(|e| pg_err(&display, e)),
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                c.query_drop(sql).map_err(|e| werr(&display, e))
            }
            Conn::Lite(c) => c.execute_batch(sql).map_err(|e| werr(&display, e)),
        }
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
                tx.batch_execute(&format!(
                    "DROP TABLE IF EXISTS pg_temp.reckon_stage; CREATE TEMP TABLE reckon_stage ON COMMIT DROP AS SELECT {cols} FROM {table} WITH NO DATA"
                ))
                .map_err(|e| pg_err(&display, e))?;
                let mut wr = tx
                    .copy_in(&format!("COPY reckon_stage ({cols}) FROM STDIN"))
                    .map_err(|e| pg_err(&display, e))?;
                let mut buf = Vec::with_capacity(1 << 20);
                let enc = Encoders::new(&batch)?;
                for r in 0..batch.num_rows() {
                    enc.copy_row(r, &mut buf);
                    if buf.len() > (1 << 20) {
                        wr.write_all(&buf).map_err(|e| werr(&display, e))?;
                        buf.clear();
                    }
                }
                wr.write_all(&buf).map_err(|e| werr(&display, e))?;
                wr.finish().map_err(|e| pg_err(&display, e))?;
                let upsert =
                    upsert_sql(kind, &table, &batch, w.conflict, overriding, "reckon_stage");
                applied.written = tx.execute(&upsert, &[]).map_err(|e| pg_err(&display, e))?;
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
                        applied.written = my_upsert(tx, &table, batch, w.conflict, &display)?;
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

    /// Whether a table exists in the target.
    pub fn table_exists(&mut self, table: &str) -> bool {
        let quoted = quote_table(table, self.kind());
        self.exists_quoted(&quoted)
    }
}

/// Ledger columns, in table order.
pub const LEDGER_COLUMNS: [&str; 22] = [
    "plan",
    "unit",
    "run",
    "batch",
    "kind",
    "ordinal",
    "unit_checksum",
    "plan_checksum",
    "status",
    "rows_read",
    "rows_written",
    "first_key",
    "last_key",
    "key_hash",
    "source_hash",
    "target_hash",
    "watermark",
    "started_at",
    "finished_at",
    "seconds",
    "error_class",
    "error",
];
