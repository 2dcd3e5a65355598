//! PostgreSQL and MySQL/MariaDB through connectorx (Arrow out).
//!
//! Read-side settings are pinned with connectorx's pre-execution queries (`queries/*/session.sql`):
//! UTC, `extra_float_digits = 3` (PostgreSQL; the binary protocol reads floats exactly anyway),
//! utf8mb4 and `time_zone = '+00:00'` (MySQL), read-only repeatable-read sessions.
//!
//! Types connectorx cannot carry exactly are cast to text in the SELECT: PostgreSQL `numeric`
//! (connectorx goes through rust_decimal: 28 digits, no NaN) and every type outside a known-good
//! list (uuid, json, intervals, arrays…); MySQL `decimal`, `json`, `enum`, `set`, `time`, `bit`.
//! The profile treats a text column whose declared type is numeric/decimal as exact decimal text.
//!
//! A table with a single integer primary key is read as key ranges of about 256 Ki rows when it
//! is large, a few in parallel (one connection each) and in key order, never more in flight than
//! that: connectorx buffers a range without bound. A table written to during the read is not read
//! from one snapshot: profile a quiet source.
//!
//! connectorx's streaming reader panics when its producer fails; every call into it runs under
//! `catch_unwind` and a panic becomes a [`SourceError`] with the message scrubbed of secrets.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use arrow::array::{Array, RecordBatch};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use connectorx::prelude::{get_arrow, CXQuery, SourceConn};
use url::Url;

use super::sql_select;
use super::{
    quote_ident, spec::redact_url, Chunk, ChunkStream, ColumnMeta, ForeignKey, Source, SourceError,
    TableMeta, TableName, CHUNK_ROWS,
};

/// The SQL dialect of a database source.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// SQLite (in this process; never a [`SqlSource`]).
    Sqlite,
}

/// A PostgreSQL or MySQL/MariaDB database.
#[derive(Clone)]
pub struct SqlSource {
    pub(super) dialect: Dialect,
    pub(super) conn_str: String,
    pub(super) display: String,
    /// Base type per (table, column), to choose casts when reading.
    pub(super) base_types: BTreeMap<(TableName, String), String>,
    /// PostgreSQL materialized views never populated (reading one fails).
    unpopulated: Vec<TableName>,
    /// Pushdown queries run without parallel workers (the other side is on the same server).
    pub(super) serial: bool,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else {
        "the database driver failed".to_string()
    }
}

/// Turns a driver message into something a user can read: the first line, no Rust debug noise.
/// An error with its causes: the PostgreSQL driver says only "db error" and keeps the server's
/// reason (`column "nope" does not exist`) in its source.
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        cause = c.source();
    }
    text
}

pub(super) fn clean_driver_message(msg: &str) -> String {
    let m = msg.trim();
    let m = m.strip_prefix("cx writer failed: ").unwrap_or(m);
    let first = m.lines().next().unwrap_or(m);
    first.chars().take(400).collect()
}

impl SqlSource {
    /// Connects to PostgreSQL (checked at once with a trivial query).
    pub fn postgres(url: Url) -> Result<SqlSource, SourceError> {
        let mut u = url.clone();
        if u.scheme() == "postgres" {
            let _ = u.set_scheme("postgresql");
        }
        Self::connect(Dialect::Postgres, u, redact_url(&url))
    }

    /// Connects to MySQL or MariaDB (checked at once with a trivial query).
    pub fn mysql(url: Url) -> Result<SqlSource, SourceError> {
        let mut s = url.to_string();
        if let Some(rest) = s.strip_prefix("mariadb://") {
            s = format!("mysql://{rest}");
        }
        let u = Url::parse(&s).map_err(|e| SourceError::BadSpec {
            spec: redact_url(&url),
            reason: e.to_string(),
        })?;
        Self::connect(Dialect::Mysql, u, redact_url(&url))
    }

    fn connect(dialect: Dialect, url: Url, display: String) -> Result<SqlSource, SourceError> {
        let src = SqlSource {
            dialect,
            conn_str: url.to_string(),
            display,
            base_types: BTreeMap::new(),
            unpopulated: Vec::new(),
            serial: false,
        };
        src.preflight(&url)?;
        src.fetch("SELECT 1 AS ok").map_err(|e| match e {
            SourceError::Query { reason, .. } => SourceError::connect(&src.display, reason),
            other => other,
        })?;
        Ok(src)
    }

    /// Logs in once with the plain driver, with a short timeout, so that a wrong password, an
    /// unknown database or an unreachable host is reported in seconds and in the driver's words
    /// (connectorx's pool would retry for 30 s and then say only "timed out").
    fn preflight(&self, url: &Url) -> Result<(), SourceError> {
        let timeout = std::time::Duration::from_secs(5);
        let result: Result<(), String> = match self.dialect {
            Dialect::Postgres => url
                .as_str()
                .parse::<postgres::Config>()
                .map_err(|e| e.to_string())
                .and_then(|mut c| {
                    c.connect_timeout(timeout);
                    c.connect(postgres::NoTls).map(drop).map_err(|e| {
                        let mut m = e.to_string();
                        let mut src = std::error::Error::source(&e);
                        while let Some(s) = src {
                            m = format!("{m}: {s}");
                            src = s.source();
                        }
                        m
                    })
                }),
            Dialect::Mysql => mysql::Opts::from_url(url.as_str())
                .map_err(|e| e.to_string())
                .and_then(|o| {
                    let o = mysql::OptsBuilder::from_opts(o).tcp_connect_timeout(Some(timeout));
                    mysql::Conn::new(o).map(drop).map_err(|e| e.to_string())
                }),
            Dialect::Sqlite => unreachable!("an SQL source is PostgreSQL or MySQL/MariaDB"),
        };
        match result {
            Ok(()) => Ok(()),
            // A server that insists on TLS: leave it to connectorx, which speaks TLS.
            Err(m)
                if m.to_ascii_lowercase().contains("ssl")
                    || m.to_ascii_lowercase().contains("tls") =>
            {
                Ok(())
            }
            Err(m) => Err(SourceError::connect(
                &self.display,
                clean_driver_message(&m),
            )),
        }
    }

    pub(super) fn session_queries(&self) -> Vec<String> {
        let text = match self.dialect {
            Dialect::Postgres => include_str!("../../queries/postgres/session.sql"),
            Dialect::Mysql => include_str!("../../queries/mysql/session.sql"),
            Dialect::Sqlite => "",
        };
        text.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    fn source_conn(&self) -> Result<SourceConn, SourceError> {
        SourceConn::try_from(self.conn_str.as_str())
            .map_err(|e| SourceError::connect(&self.display, e))
    }

    /// Runs a small query and returns all its batches (catalog queries, min/max).
    fn fetch(&self, sql: &str) -> Result<Vec<RecordBatch>, SourceError> {
        let conn = self.source_conn()?;
        let pre = self.session_queries();
        let queries = [CXQuery::from(sql)];
        let result = catch_unwind(AssertUnwindSafe(|| {
            get_arrow(&conn, None, &queries, Some(&pre))
                .map(|d| d.arrow().map_err(|e| e.to_string()))
        }));
        match result {
            Ok(Ok(Ok(b))) => Ok(b),
            Ok(Ok(Err(e))) => Err(SourceError::query(&self.display, clean_driver_message(&e))),
            Ok(Err(e)) => Err(SourceError::query(
                &self.display,
                clean_driver_message(&with_causes(&e)),
            )),
            Err(p) => Err(SourceError::query(
                &self.display,
                clean_driver_message(&panic_message(p)),
            )),
        }
    }

    /// Runs a catalog query and returns every value as text.
    pub(super) fn fetch_rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, SourceError> {
        let batches = self.fetch(sql)?;
        let mut rows = Vec::new();
        let opts = FormatOptions::default();
        for b in &batches {
            let fmts: Vec<ArrayFormatter> = b
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
                .collect::<Result<_, _>>()
                .map_err(|e| SourceError::query(&self.display, e))?;
            for r in 0..b.num_rows() {
                rows.push(
                    b.columns()
                        .iter()
                        .zip(&fmts)
                        .map(|(c, f)| (!c.is_null(r)).then(|| f.value(r).to_string()))
                        .collect(),
                );
            }
        }
        Ok(rows)
    }
}

pub(super) struct CxStream {
    pub(super) inner: Option<Box<dyn connectorx::arrow_batch_iter::RecordBatchIterator>>,
    pub(super) display: String,
}

impl Iterator for CxStream {
    type Item = Result<Chunk, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        let it = self.inner.as_mut()?;
        match catch_unwind(AssertUnwindSafe(|| it.next_batch())) {
            Ok(Some(batch)) => Some(Ok(Chunk {
                batch,
                defects: Vec::new(),
            })),
            Ok(None) => {
                self.inner = None;
                None
            }
            Err(p) => {
                self.inner = None;
                Some(Err(SourceError::query(
                    &self.display,
                    clean_driver_message(&panic_message(p)),
                )))
            }
        }
    }
}

impl Source for SqlSource {
    fn display(&self) -> String {
        self.display.clone()
    }

    fn pushdown(&self) -> Option<Box<dyn super::Pushdown>> {
        Some(Box::new(self.clone()))
    }

    fn tables(&mut self) -> Result<Vec<TableMeta>, SourceError> {
        let (cols_sql, keys_sql) = match self.dialect {
            Dialect::Postgres => (
                include_str!("../../queries/postgres/columns.sql"),
                include_str!("../../queries/postgres/keys.sql"),
            ),
            Dialect::Mysql => (
                include_str!("../../queries/mysql/columns.sql"),
                include_str!("../../queries/mysql/keys.sql"),
            ),
            Dialect::Sqlite => unreachable!("an SQL source is PostgreSQL or MySQL/MariaDB"),
        };
        let mut tables: Vec<TableMeta> = Vec::new();
        for r in self.fetch_rows(cols_sql)? {
            let get = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            let name = TableName {
                schema: Some(get(0)),
                name: get(1),
            };
            let nullable = matches!(get(5).as_str(), "true" | "1");
            self.base_types.insert((name.clone(), get(2)), get(4));
            let col = ColumnMeta {
                name: get(2),
                declared_type: get(3),
                nullable: Some(nullable),
                storage_classes: None,
            };
            match tables.last_mut() {
                Some(t) if t.name == name => t.columns.push(col),
                _ => tables.push(TableMeta {
                    name,
                    columns: vec![col],
                    primary_key: Vec::new(),
                    foreign_keys: Vec::new(),
                    query: None,
                }),
            }
        }
        if self.dialect == Dialect::Postgres {
            self.unpopulated = self
                .fetch_rows(
                    "SELECT schemaname::text, matviewname::text FROM pg_matviews WHERE NOT ispopulated",
                )?
                .into_iter()
                .map(|r| TableName {
                    schema: r.first().cloned().flatten(),
                    name: r.get(1).cloned().flatten().unwrap_or_default(),
                })
                .collect();
        }
        let key_rows = self.fetch_rows(keys_sql)?;
        let sep = '\u{1f}';
        let mut last_fk: Option<(TableName, String)> = None;
        for r in key_rows {
            let get = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            let name = TableName {
                schema: Some(get(0)),
                name: get(1),
            };
            let Some(t) = tables.iter_mut().find(|t| t.name == name) else {
                continue;
            };
            match self.dialect {
                Dialect::Postgres => {
                    let cols: Vec<String> = get(3).split(sep).map(String::from).collect();
                    if get(2) == "p" {
                        t.primary_key = cols;
                    } else {
                        t.foreign_keys.push(ForeignKey {
                            columns: cols,
                            ref_table: TableName {
                                schema: Some(get(4)),
                                name: get(5),
                            },
                            ref_columns: get(6).split(sep).map(String::from).collect(),
                        });
                    }
                }
                Dialect::Mysql => {
                    if get(2) == "p" {
                        t.primary_key.push(get(4));
                    } else {
                        let cname = get(3);
                        // Rows of one constraint arrive together, in key order.
                        let ref_table = TableName {
                            schema: Some(get(5)),
                            name: get(6),
                        };
                        let same = last_fk.as_ref() == Some(&(name.clone(), cname.clone()));
                        last_fk = Some((name.clone(), cname));
                        match t.foreign_keys.last_mut() {
                            Some(fk) if same => {
                                fk.columns.push(get(4));
                                fk.ref_columns.push(get(7));
                            }
                            _ => t.foreign_keys.push(ForeignKey {
                                columns: vec![get(4)],
                                ref_table,
                                ref_columns: vec![get(7)],
                            }),
                        }
                    }
                }
                Dialect::Sqlite => {
                    unreachable!("an SQL source is PostgreSQL or MySQL/MariaDB")
                }
            }
        }
        Ok(tables)
    }

    fn describe_query(&mut self, sql: &str) -> Result<TableMeta, SourceError> {
        let probe = format!("SELECT * FROM ({sql}) AS reckon_q LIMIT 0");
        let batches = self.fetch(&probe)?;
        let schema = batches
            .first()
            .map(|b| b.schema())
            .ok_or_else(|| SourceError::query(&self.display, "the query returned no schema"))?;
        Ok(TableMeta {
            name: TableName {
                schema: None,
                name: "query".into(),
            },
            columns: schema
                .fields()
                .iter()
                .map(|f| ColumnMeta {
                    name: f.name().clone(),
                    declared_type: f.data_type().to_string(),
                    nullable: None,
                    storage_classes: None,
                })
                .collect(),
            primary_key: Vec::new(),
            foreign_keys: Vec::new(),
            query: Some(sql.to_string()),
        })
    }

    fn read_in_key_order(
        &mut self,
        table: &TableMeta,
        key: &[String],
    ) -> Result<Option<ChunkStream>, SourceError> {
        match key {
            [one] if !self.unpopulated.contains(&table.name) => {
                self.read_by_integer_key(table, one)
            }
            _ => Ok(None),
        }
    }

    fn read(&mut self, table: &TableMeta) -> Result<ChunkStream, SourceError> {
        if table.query.is_none() && self.unpopulated.contains(&table.name) {
            return Err(SourceError::Unpopulated {
                table: table.name.to_string(),
                source_name: self.display.clone(),
            });
        }
        let base = match &table.query {
            Some(q) => q.clone(),
            None => self.base_select(table, Some("1 = 1"))?,
        };
        let queries: Vec<CXQuery<String>> = self
            .partitions(table, &base)
            .iter()
            .map(|q| CXQuery::from(q.as_str()))
            .collect();
        if queries.len() == 1 {
            let iter = self.start(&queries)?;
            return Ok(Box::new(CxStream {
                inner: Some(iter),
                display: self.display.clone(),
            }));
        }
        Ok(Box::new(Ranges {
            source: self.clone(),
            pending: queries.into_iter().collect(),
            live: std::collections::VecDeque::new(),
            width: sql_select::reading_width(),
        }))
    }
}

impl SqlSource {
    /// The SELECT that reads a whole table (before it is split into ranges): each column through
    /// [`SqlSource::select_expr`], temporal columns holding values no date type carries as text
    /// (found by a scan of the rows that will be read, `WHERE rows`; none when no row will be:
    /// `None`). A column read as text still compares as its type, so reading some rows of it
    /// typed and others as text changes no result.
    pub(super) fn base_select(
        &self,
        table: &TableMeta,
        rows: Option<&str>,
    ) -> Result<String, SourceError> {
        let zero = match rows {
            Some(cond) => self.zero_date_columns(table, cond)?,
            None => Vec::new(),
        };
        let mysql = self.dialect == Dialect::Mysql;
        let cols: Vec<String> = table
            .columns
            .iter()
            .map(|c| {
                if zero.contains(&c.name) {
                    let q = quote_ident(&c.name, mysql);
                    if mysql {
                        format!("CAST({q} AS CHAR) AS {q}")
                    } else {
                        format!("{q}::text AS {q}")
                    }
                } else {
                    self.select_expr(&table.name, c)
                }
            })
            .collect();
        Ok(format!(
            "SELECT {} FROM {}",
            cols.join(", "),
            self.qualified(&table.name)
        ))
    }

    /// Starts reading some queries (connectorx partitions, one connection each).
    pub(super) fn start(
        &self,
        queries: &[CXQuery<String>],
    ) -> Result<Box<dyn connectorx::arrow_batch_iter::RecordBatchIterator>, SourceError> {
        let conn = self.source_conn()?;
        let pre = self.session_queries();
        let display = self.display.clone();
        let made = catch_unwind(AssertUnwindSafe(|| {
            connectorx::get_arrow::new_record_batch_iter(
                &conn,
                None,
                queries,
                CHUNK_ROWS,
                Some(&pre),
            )
        }));
        let mut iter = match made {
            Ok(Ok(it)) => it,
            Ok(Err(e)) => {
                return Err(SourceError::query(
                    &display,
                    clean_driver_message(&with_causes(&e)),
                ))
            }
            Err(p) => {
                return Err(SourceError::query(
                    &display,
                    clean_driver_message(&panic_message(p)),
                ))
            }
        };
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| iter.prepare())) {
            return Err(SourceError::query(
                &display,
                clean_driver_message(&panic_message(p)),
            ));
        }
        Ok(iter)
    }
}

/// A large table read as key ranges, in key order, a few at once. connectorx's reader runs ahead
/// of its consumer without bound, so a range starts only when fewer than `width` are in flight:
/// what is buffered stays within a few ranges, whatever the table's size.
struct Ranges {
    source: SqlSource,
    pending: std::collections::VecDeque<CXQuery<String>>,
    live: std::collections::VecDeque<CxStream>,
    width: usize,
}

impl Iterator for Ranges {
    type Item = Result<Chunk, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            while self.live.len() < self.width {
                let Some(q) = self.pending.pop_front() else {
                    break;
                };
                match self.source.start(std::slice::from_ref(&q)) {
                    Ok(iter) => self.live.push_back(CxStream {
                        inner: Some(iter),
                        display: self.source.display.clone(),
                    }),
                    Err(e) => {
                        self.pending.clear();
                        self.live.clear();
                        return Some(Err(e));
                    }
                }
            }
            let first = self.live.front_mut()?;
            match first.next() {
                Some(Err(e)) => {
                    self.pending.clear();
                    self.live.clear();
                    return Some(Err(e));
                }
                Some(ok) => return Some(ok),
                None => {
                    self.live.pop_front();
                }
            }
        }
    }
}
