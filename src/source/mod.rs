//! Sources: everything that turns a user's source spec into a stream of Arrow record batches.
//!
//! One abstraction, [`Source`], over PostgreSQL and MySQL/MariaDB (through connectorx, Arrow out),
//! SQLite (through rusqlite, value by value: SQLite types each value, not each column), Parquet
//! (parquet's Arrow reader) and CSV (our own RFC 4180 reader, because `""` and an empty field must
//! stay distinct). Arrow is the one in-memory representation the engines see; each adapter
//! converts at its edge and pins its read-side settings (see CASES.md "Read-side settings").
//!
//! Reading is chunked: a source hands out [`Chunk`]s of at most [`CHUNK_ROWS`] rows, so memory
//! does not grow with the table.

mod credentials;
mod csv;
mod parquet;
pub mod parts;
mod spec;
mod sql;
mod sql_ordered;
mod sql_pushdown;
mod sql_select;
mod sqlite;
mod sqlite_pushdown;

use std::fmt;

use arrow::record_batch::RecordBatch;
use serde::Serialize;

pub use spec::{redact_url, register_url_secrets, SourceSpec};
pub use sql::Dialect;

use crate::error::{scrub, Hinted};

/// Rows per chunk handed to the engines.
pub const CHUNK_ROWS: usize = 65_536;

/// A table name, optionally schema-qualified.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct TableName {
    /// Schema (PostgreSQL schema, MySQL database); `None` for SQLite and files.
    pub schema: Option<String>,
    /// The table's own name.
    pub name: String,
}

impl TableName {
    /// Parses `schema.table` or `table` as given to `--table`.
    pub fn parse(text: &str) -> TableName {
        match text.split_once('.') {
            Some((s, n)) if !s.is_empty() && !n.is_empty() => TableName {
                schema: Some(s.to_string()),
                name: n.to_string(),
            },
            _ => TableName {
                schema: None,
                name: text.to_string(),
            },
        }
    }

    /// Whether `self` (as requested by a user, schema optional) names `other`.
    pub fn matches(&self, other: &TableName) -> bool {
        self.name == other.name && (self.schema.is_none() || self.schema == other.schema)
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// The one name lookup of reckon (columns and tables, in every command): the exact name first;
/// else the one item whose name matches case-insensitively. `Err` holds the case-insensitive
/// candidates: none (not found), or several (ambiguous: never the first of them).
pub fn find_name<'a, T>(
    items: &'a [T],
    name: &str,
    name_of: impl Fn(&T) -> &str,
) -> Result<&'a T, Vec<&'a T>> {
    if let Some(x) = items.iter().find(|x| name_of(x) == name) {
        return Ok(x);
    }
    let ci: Vec<&T> = items
        .iter()
        .filter(|x| name_of(x).eq_ignore_ascii_case(name))
        .collect();
    match ci.as_slice() {
        [one] => Ok(one),
        _ => Err(ci),
    }
}

/// The table `name` (`schema.table` or `table`) of a catalog, by [`find_name`]'s rule: exact
/// (schema optional), else the one case-insensitive match; none or several is an error that
/// names the source.
pub fn find_table<'a>(
    all: &'a [TableMeta],
    name: &str,
    source_name: &str,
) -> Result<&'a TableMeta, SourceError> {
    let want = TableName::parse(name);
    if let Some(t) = all.iter().find(|m| want.matches(&m.name)) {
        return Ok(t);
    }
    // By name case-insensitively; those in the named schema first. A schema that is not there
    // (a rules file written for `staging.orders` checked against SQLite) does not hide the name.
    let by_name: Vec<&TableMeta> = all
        .iter()
        .filter(|m| m.name.name.eq_ignore_ascii_case(&want.name))
        .collect();
    let in_schema: Vec<&TableMeta> = by_name
        .iter()
        .copied()
        .filter(|m| {
            want.schema.as_ref().is_some_and(|s| {
                m.name
                    .schema
                    .as_ref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(s))
            })
        })
        .collect();
    let ci = if in_schema.is_empty() {
        by_name
    } else {
        in_schema
    };
    match ci.as_slice() {
        [one] => Ok(one),
        [] => Err(SourceError::UnknownTable {
            table: name.to_string(),
            source_name: source_name.to_string(),
            available: all.iter().map(|m| m.name.to_string()).collect(),
        }),
        many => Err(SourceError::AmbiguousTable {
            table: name.to_string(),
            source_name: source_name.to_string(),
            candidates: many.iter().map(|m| m.name.to_string()).collect(),
        }),
    }
}

/// Per-value storage classes of an SQLite column (SQLite types values, not columns).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StorageClasses {
    /// Values stored as INTEGER.
    pub integer: u64,
    /// Values stored as REAL.
    pub real: u64,
    /// Values stored as TEXT.
    pub text: u64,
    /// Values stored as BLOB.
    pub blob: u64,
    /// NULLs.
    pub null: u64,
}

impl StorageClasses {
    /// How many storage classes other than NULL occur.
    pub fn non_null_kinds(&self) -> usize {
        [self.integer, self.real, self.text, self.blob]
            .iter()
            .filter(|&&n| n > 0)
            .count()
    }
}

/// What the catalog says about one column.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ColumnMeta {
    /// Column name as the source spells it.
    pub name: String,
    /// Declared type as the source spells it (`numeric(10,2)`, `TEXT`, `decimal128(10, 2)`).
    pub declared_type: String,
    /// Declared nullability, when the source declares it.
    pub nullable: Option<bool>,
    /// SQLite only: the storage class of every value.
    pub storage_classes: Option<StorageClasses>,
}

/// A declared foreign key.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ForeignKey {
    /// Referencing columns, in this table.
    pub columns: Vec<String>,
    /// Referenced table.
    pub ref_table: TableName,
    /// Referenced columns.
    pub ref_columns: Vec<String>,
}

/// What the catalog says about one table.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TableMeta {
    /// The table's name.
    pub name: TableName,
    /// Columns in declared order.
    pub columns: Vec<ColumnMeta>,
    /// Declared primary key columns (empty when none).
    pub primary_key: Vec<String>,
    /// Declared foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// The SQL text when this "table" is a user query.
    #[serde(skip)]
    pub query: Option<String>,
}

/// Something the reader saw that Arrow cannot carry, reported beside the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadDefect {
    /// A TEXT value that is not valid UTF-8; the batch holds its lossy decoding.
    InvalidUtf8 {
        /// Column index in the batch.
        column: usize,
        /// Row index in the batch.
        row: usize,
        /// The raw bytes as stored.
        bytes: Vec<u8>,
    },
}

/// One chunk of rows: an Arrow batch plus what the reader saw that the batch cannot show.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The rows.
    pub batch: RecordBatch,
    /// Per-value defects found while reading (invalid UTF-8…).
    pub defects: Vec<ReadDefect>,
}

/// A stream of chunks.
pub type ChunkStream = Box<dyn Iterator<Item = Result<Chunk, SourceError>> + Send>;

/// An independent part of a table (a Parquet row group): its row count, and how to read it, on
/// any thread.
pub struct Part {
    /// Rows in the part.
    pub rows: u64,
    /// Reads the part's chunks, in order.
    pub read: Box<dyn FnOnce() -> Result<Vec<Chunk>, SourceError> + Send>,
}

/// A database that runs the SQL of `reckon diff --pushdown` (one connection per call; the
/// session settings of its reads apply).
pub trait Pushdown: Send + Sync {
    /// Its dialect.
    fn dialect(&self) -> Dialect;
    /// The server it runs on (engine, host and port), to tell whether two sides share one.
    fn server(&self) -> String;
    /// Both sides are on this server and query it at once: each query keeps to one core
    /// (PostgreSQL parallel workers would only contend with the other side's).
    fn share_cores(&mut self);
    /// The base type of a column, lower case (`int4`, `numeric`, `varchar`, `datetime`).
    fn base_type(&self, table: &TableName, column: &str) -> Option<String>;
    /// The table's name, quoted and qualified.
    fn qualified(&self, table: &TableName) -> String;
    /// Runs a query; every value as text. PostgreSQL runs it as a plain query, so that it may
    /// use parallel workers (a `COPY`, which bulk reads use, never does).
    fn rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, SourceError>;
    /// Runs a query of three integer columns named `k`, `h` and `v` (`bigint` on PostgreSQL,
    /// which packs them per group of rows), for instance (key hash, row hash, key); `None` for a
    /// row holding a NULL. The rows come in no particular order.
    fn triples(&self, sql: &str) -> Result<Vec<Option<[i64; 3]>>, SourceError>;
    /// The SELECT that [`Source::read`] runs for a whole table, to be followed by `WHERE rows`
    /// (`None`: it will read no row). Temporal columns are scanned, among those rows only, for
    /// values that must be read as text.
    fn select(&self, table: &TableMeta, rows: Option<&str>) -> Result<String, SourceError>;
    /// The table's rows: the catalog's estimate, else a count.
    fn estimate(&self, table: &TableMeta) -> Result<u64, SourceError>;
}

/// A readable source: a database or a set of files.
pub trait Source: Send {
    /// The database behind the source, for work pushed down into it; `None` for files.
    fn pushdown(&self) -> Option<Box<dyn Pushdown>> {
        None
    }
    /// The source as it may be shown (URLs redacted).
    fn display(&self) -> String;
    /// The tables the catalog knows, with their columns and declared keys.
    fn tables(&mut self) -> Result<Vec<TableMeta>, SourceError>;
    /// Describes a user query (`--query`) as a table named `query`.
    fn describe_query(&mut self, sql: &str) -> Result<TableMeta, SourceError>;
    /// Streams the rows of a table (or a query described by [`Source::describe_query`]).
    fn read(&mut self, table: &TableMeta) -> Result<ChunkStream, SourceError>;
    /// The rows of a table in ascending order of its key columns `key`, streamed in bounded
    /// memory, when the source can read them so (a database table keyed by one integer
    /// column); `None` otherwise. Rows whose key is NULL are left out.
    fn read_in_key_order(
        &mut self,
        _table: &TableMeta,
        _key: &[String],
    ) -> Result<Option<ChunkStream>, SourceError> {
        Ok(None)
    }
    /// A row-count estimate, cheap, for progress bars.
    fn estimate_rows(&mut self, _table: &TableMeta) -> Option<u64> {
        None
    }
    /// Whether reading a table twice gives the same rows in the same chunks (files; SQLite's
    /// rowid order). The diff then reads the few rows it must show a second time instead of
    /// keeping every chunk; a server's scan order can change between two reads.
    fn rereadable(&self) -> bool {
        false
    }
    /// The table as parts that read on their own, in order, when the source can split it (the
    /// rows of the parts in order are the rows of [`Source::read`]); `None` when it streams.
    fn read_parts(&mut self, _table: &TableMeta) -> Result<Option<Vec<Part>>, SourceError> {
        Ok(None)
    }
    /// [`Source::read_parts`], where text the source stores dictionary-encoded may come as
    /// Arrow dictionary arrays (`Dictionary(Int32, Utf8 | LargeUtf8)`), for a reader that works
    /// per distinct value (the profile). The default reads plain.
    fn read_parts_with_dictionaries(
        &mut self,
        table: &TableMeta,
    ) -> Result<Option<Vec<Part>>, SourceError> {
        self.read_parts(table)
    }
    /// Reads again only the rows at `rows` (ascending positions in read order) of a table that
    /// is [`Source::rereadable`]: the chunks hold exactly those rows, in that order. Files skip
    /// what is not asked for without decoding it; the default reads everything and keeps them.
    fn read_rows(&mut self, table: &TableMeta, rows: &[u64]) -> Result<ChunkStream, SourceError> {
        let stream = self.read(table)?;
        Ok(Box::new(SelectRows {
            stream,
            rows: rows.to_vec(),
            next: 0,
            offset: 0,
        }))
    }
}

/// A stream keeping only some rows (ascending positions) of another.
struct SelectRows {
    stream: ChunkStream,
    rows: Vec<u64>,
    next: usize,
    offset: u64,
}

impl Iterator for SelectRows {
    type Item = Result<Chunk, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.next < self.rows.len() {
            let chunk = match self.stream.next()? {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            };
            let n = chunk.batch.num_rows() as u64;
            let (start, end) = (self.offset, self.offset + n);
            self.offset = end;
            let mut take = Vec::new();
            while self.next < self.rows.len() && self.rows[self.next] < end {
                take.push((self.rows[self.next] - start) as u32);
                self.next += 1;
            }
            if take.is_empty() {
                continue;
            }
            let idx = arrow::array::UInt32Array::from(take.clone());
            let batch = match arrow::compute::take_record_batch(&chunk.batch, &idx) {
                Ok(b) => b,
                Err(e) => {
                    return Some(Err(SourceError::BadFile {
                        path: "rows read again".into(),
                        reason: e.to_string(),
                    }))
                }
            };
            let defects = chunk
                .defects
                .into_iter()
                .filter_map(|d| match d {
                    ReadDefect::InvalidUtf8 { column, row, bytes } => take
                        .iter()
                        .position(|t| *t as usize == row)
                        .map(|row| ReadDefect::InvalidUtf8 { column, row, bytes }),
                })
                .collect();
            return Some(Ok(Chunk { batch, defects }));
        }
        None
    }
}

/// Opens a source from its spec.
pub fn open(spec: &SourceSpec) -> Result<Box<dyn Source>, SourceError> {
    Ok(match spec {
        SourceSpec::Postgres(url) => Box::new(sql::SqlSource::postgres(url.clone())?),
        SourceSpec::Mysql(url) => Box::new(sql::SqlSource::mysql(url.clone())?),
        SourceSpec::Sqlite(path) => Box::new(sqlite::SqliteSource::open(path)?),
        SourceSpec::Parquet(paths) => Box::new(parquet::ParquetSource::new(paths.clone())),
        SourceSpec::Csv(paths) => Box::new(csv::CsvSource::new(paths.clone())),
    })
}

/// What went wrong reading a source. Every variant names the thing at fault.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The source spec could not be understood.
    #[error("cannot understand source '{spec}': {reason}")]
    BadSpec {
        /// The spec, redacted.
        spec: String,
        /// Why.
        reason: String,
    },
    /// A file or glob matched nothing.
    #[error("file not found: {path}")]
    FileNotFound {
        /// The path or glob.
        path: String,
    },
    /// The server could not be reached or refused the login.
    #[error("cannot connect to {source_name}: {reason}")]
    Connect {
        /// The source, redacted.
        source_name: String,
        /// The driver's message, scrubbed.
        reason: String,
    },
    /// A materialized view that was created `WITH NO DATA` and never refreshed: it has no rows
    /// to read (not an empty table).
    #[error("materialized view '{table}' in {source_name} has not been populated")]
    Unpopulated {
        /// The view.
        table: String,
        /// The source, redacted.
        source_name: String,
    },
    /// A table asked for does not exist.
    #[error("table '{table}' not found in {source_name}")]
    UnknownTable {
        /// The table as asked.
        table: String,
        /// The source, redacted.
        source_name: String,
        /// Some tables that do exist.
        available: Vec<String>,
    },
    /// A name matches several tables case-insensitively and none exactly.
    #[error("table '{table}' is ambiguous in {source_name}: it matches {} tables case-insensitively and none exactly", candidates.len())]
    AmbiguousTable {
        /// The table as asked.
        table: String,
        /// The source, redacted.
        source_name: String,
        /// The tables it matches.
        candidates: Vec<String>,
    },
    /// A table holds no rows (nothing can be profiled).
    #[error("table '{table}' in {source_name} is empty: it has no rows to profile")]
    EmptyTable {
        /// The table.
        table: String,
        /// The source, redacted.
        source_name: String,
    },
    /// A file is not what its name says, or is damaged.
    #[error("cannot read {path}: {reason}")]
    BadFile {
        /// The file.
        path: String,
        /// Why, with a line number where there is one.
        reason: String,
    },
    /// A query failed on the server.
    #[error("query failed on {source_name}: {reason}")]
    Query {
        /// The source, redacted.
        source_name: String,
        /// The server's message, scrubbed.
        reason: String,
    },
}

impl SourceError {
    /// Builds a connect error, scrubbing the driver's message.
    pub fn connect(source_name: &str, reason: impl fmt::Display) -> SourceError {
        SourceError::Connect {
            source_name: source_name.to_string(),
            reason: scrub(&reason.to_string()),
        }
    }

    /// Builds a query error, scrubbing the server's message.
    pub fn query(source_name: &str, reason: impl fmt::Display) -> SourceError {
        SourceError::Query {
            source_name: source_name.to_string(),
            reason: scrub(&reason.to_string()),
        }
    }
}

impl Hinted for SourceError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            SourceError::BadSpec { .. } => "use postgres://USER@HOST:5432/DB, mysql://USER@HOST:3306/DB, sqlite://PATH.db, or a .parquet/.csv path or glob".into(),
            SourceError::FileNotFound { .. } => "check the path (globs must be quoted so the shell does not expand them)".into(),
            SourceError::Connect { reason, .. } => {
                let r = reason.to_ascii_lowercase();
                if r.contains("password") || r.contains("access denied") || r.contains("authentication") {
                    "check the user name and password in the URL".into()
                } else if r.contains("does not exist") || r.contains("unknown database") {
                    "check the database name at the end of the URL".into()
                } else {
                    "check that the server is running and that host and port are right".into()
                }
            }
            SourceError::UnknownTable { available, table, .. } => {
                if available.is_empty() {
                    "the source has no tables reckon can see".into()
                } else {
                    // Closest first: the same name in another schema, then the same schema.
                    let want = TableName::parse(table);
                    let rank = |t: &str| {
                        let t = TableName::parse(t);
                        if t.name.eq_ignore_ascii_case(&want.name) {
                            0
                        } else if want.schema.is_some() && t.schema == want.schema {
                            1
                        } else {
                            2
                        }
                    };
                    let mut ranked: Vec<&str> = available.iter().map(String::as_str).collect();
                    ranked.sort_by_key(|t| rank(t));
                    let mut list: Vec<&str> = ranked.into_iter().take(10).collect();
                    if available.len() > 10 {
                        list.push("…");
                    }
                    format!("tables here: {}", list.join(", "))
                }
            }
            SourceError::AmbiguousTable { candidates, .. } => format!(
                "name one of them exactly (case matters when several match): {}",
                candidates.join(", ")
            ),
            SourceError::EmptyTable { .. } => "load the table first, or profile a table that has rows".into(),
            SourceError::Unpopulated { table, .. } => format!("run REFRESH MATERIALIZED VIEW {table}, or leave the view out"),
            SourceError::BadFile { path, .. } => {
                let p = path.to_ascii_lowercase();
                if p.ends_with(".csv") || p.ends_with(".tsv") {
                    "check the CSV: quotes must be balanced, quotes inside a quoted field doubled, every row as wide as the header".into()
                } else if p.ends_with(".parquet") {
                    "check that the file is a complete Parquet file".into()
                } else {
                    "check that the file is an SQLite database (sqlite://PATH.db)".into()
                }
            }
            SourceError::Query { .. } => "check the table and column names, and that the user may read them".into(),
        })
    }
}

/// Quotes an identifier for the given dialect: `"x"` (PostgreSQL, SQLite) or `` `x` `` (MySQL).
pub fn quote_ident(ident: &str, mysql: bool) -> String {
    if mysql {
        format!("`{}`", ident.replace('`', "``"))
    } else {
        format!("\"{}\"", ident.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_identifiers_are_quoted() {
        assert_eq!(
            quote_ident("a\"; drop table x; --", false),
            "\"a\"\"; drop table x; --\""
        );
        assert_eq!(quote_ident("a`b", true), "`a``b`");
    }

    #[test]
    fn table_name_parse_and_match() {
        let t = TableName::parse("public.customers");
        assert_eq!(t.schema.as_deref(), Some("public"));
        let bare = TableName::parse("customers");
        assert!(bare.matches(&t));
        assert!(!TableName::parse("other.customers").matches(&t));
    }
}
