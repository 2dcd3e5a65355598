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

mod binary;
mod cells;
mod delete;
mod ledger;
mod load_data;
mod lock;
mod params;
mod restore;
mod statements;
mod write;

use cells::*;
pub use params::*;
use statements::*;
pub use write::{Applied, IdWrite, WriteSpec};

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

    /// Whether a table exists: `false` only when the database says so (no such table, or no
    /// such schema or database). Any other failure, a lost connection or a refused permission,
    /// is an error: read as a missing table, it would give an empty ledger or id map.
    fn exists_quoted(&mut self, quoted: &str) -> Result<bool, MigrateError> {
        let sql = format!("SELECT COUNT(*) FROM {quoted} WHERE 1 = 0");
        let display = self.display.clone();
        match &mut self.conn {
            Conn::Pg(c) => match c.simple_query(&sql) {
                Ok(_) => Ok(true),
                Err(e) => {
                    use postgres::error::SqlState;
                    match e.code() {
                        Some(c)
                            if *c == SqlState::UNDEFINED_TABLE
                                || *c == SqlState::INVALID_SCHEMA_NAME =>
                        {
                            Ok(false)
                        }
                        _ => Err(pg_err(&display, e)),
                    }
                }
            },
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                match c.query_drop(&sql) {
                    Ok(()) => Ok(true),
                    // ER_NO_SUCH_TABLE, ER_BAD_DB_ERROR.
                    Err(mysql::Error::MySqlError(e)) if e.code == 1146 || e.code == 1049 => {
                        Ok(false)
                    }
                    Err(e) => Err(werr(&display, e)),
                }
            }
            Conn::Lite(c) => match c.prepare(&sql) {
                Ok(_) => Ok(true),
                Err(e) => {
                    let m = e.to_string();
                    if m.contains("no such table") || m.contains("unknown database") {
                        Ok(false)
                    } else {
                        Err(werr(&display, e))
                    }
                }
            },
        }
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

    fn placeholder(&self, i: usize) -> String {
        match self.kind() {
            Kind::Postgres => format!("${i}"),
            _ => "?".into(),
        }
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

    /// Whether a table exists in the target.
    pub fn table_exists(&mut self, table: &str) -> Result<bool, MigrateError> {
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
