//! SQLite through rusqlite, value by value.
//!
//! SQLite types each value, not each column: a NUMERIC column may hold integers, reals and text
//! side by side, and a TEXT value may hold bytes that are not UTF-8. connectorx's SQLite reader
//! rejects the first and cannot hand back the second, so this adapter reads with rusqlite (the
//! same library connectorx links) and:
//! - counts the storage class of every value (one aggregate query, [`StorageClasses`]);
//! - picks the Arrow type from those counts: INTEGER only → Int64, REAL only → Float64, TEXT
//!   only → Utf8, BLOB only → Binary, and any mix → a dense union of those four ([`mixed_type`]),
//!   in which every value keeps its own storage class: nothing is merged before the canonical
//!   encoding sees it (an INTEGER 2^62+1 beside REALs is still that integer; a BLOB never becomes
//!   a TEXT that spells it);
//! - validates TEXT as UTF-8 itself: an invalid value is passed on in lossy form and reported as a
//!   [`ReadDefect::InvalidUtf8`] with its position, so the profile can name the row.
//!
//! Consumers that show or write values rather than compare them bring a union to one plain type
//! with [`crate::value::kind::plain_batch`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

use arrow::array::{
    ArrayBuilder, ArrayRef, BinaryBuilder, Float64Builder, Int64Builder, RecordBatch,
    StringBuilder, UnionArray,
};
use arrow::buffer::ScalarBuffer;
use arrow::datatypes::{DataType, Field, Schema, UnionFields, UnionMode};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::{
    quote_ident, Chunk, ChunkStream, ColumnMeta, ForeignKey, ReadDefect, Source, SourceError,
    StorageClasses, TableMeta, TableName, CHUNK_ROWS,
};

/// An open SQLite database (read-only).
pub struct SqliteSource {
    path: PathBuf,
    conn: Connection,
    /// The storage classes counted per table (column, classes), shared with `--pushdown`.
    classes: ClassesByTable,
}

/// Per table, each column's storage classes (as counted when the table was described).
pub(super) type ClassesByTable = Arc<Mutex<HashMap<String, Vec<(String, StorageClasses)>>>>;

/// Opens the database read-only, with reckon's SQL functions (`--pushdown` queries and the
/// reads of the rows they select call them).
pub(super) fn open_conn(path: &Path) -> Result<Connection, SourceError> {
    let bad = |e: rusqlite::Error| SourceError::BadFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(bad)?;
    super::sqlite_pushdown::register(&conn).map_err(bad)?;
    Ok(conn)
}

/// Counts the storage class of every value of `cols` in `from` (one aggregate query).
pub(super) fn storage_classes(
    conn: &Connection,
    from: &str,
    cols: &[String],
    display: &str,
) -> Result<Vec<StorageClasses>, SourceError> {
    if cols.is_empty() {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    for c in cols {
        let q = quote_ident(c, false);
        for t in ["integer", "real", "text", "blob", "null"] {
            parts.push(format!("coalesce(sum(typeof({q}) = '{t}'), 0)"));
        }
    }
    let sql = format!("SELECT {} FROM {from}", parts.join(", "));
    conn.query_row(&sql, [], |r| {
        let mut out = Vec::with_capacity(cols.len());
        for i in 0..cols.len() {
            let g = |k: usize| r.get::<_, i64>(i * 5 + k).map(|v| v as u64);
            out.push(StorageClasses {
                integer: g(0)?,
                real: g(1)?,
                text: g(2)?,
                blob: g(3)?,
                null: g(4)?,
            });
        }
        Ok(out)
    })
    .map_err(|e| SourceError::query(display, e))
}

impl SqliteSource {
    /// Opens the database read-only; a missing file is an error (never created).
    pub fn open(path: &Path) -> Result<SqliteSource, SourceError> {
        if !path.exists() {
            return Err(SourceError::FileNotFound {
                path: path.display().to_string(),
            });
        }
        let conn = open_conn(path)?;
        // Touch the schema now so that a file that is not a database fails here, clearly.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| SourceError::BadFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(SqliteSource {
            path: path.to_path_buf(),
            conn,
            classes: Arc::default(),
        })
    }

    fn err(&self, e: rusqlite::Error) -> SourceError {
        SourceError::query(&self.display(), e)
    }

    fn storage_classes(
        &self,
        from: &str,
        cols: &[String],
    ) -> Result<Vec<StorageClasses>, SourceError> {
        storage_classes(&self.conn, from, cols, &self.display())
    }

    fn table_meta(&self, name: &str) -> Result<TableMeta, SourceError> {
        let mut stmt = self
            .conn
            .prepare(include_str!("../../queries/sqlite/columns.sql"))
            .map_err(|e| self.err(e))?;
        let mut columns = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        let rows = stmt
            .query_map([name], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (col, ty, notnull, pkpos) = row.map_err(|e| self.err(e))?;
            if pkpos > 0 {
                pk.push((pkpos, col.clone()));
            }
            columns.push(ColumnMeta {
                name: col,
                declared_type: ty,
                nullable: Some(notnull == 0 && pkpos == 0),
                storage_classes: None,
            });
        }
        pk.sort();
        let mut fk_stmt = self
            .conn
            .prepare(include_str!("../../queries/sqlite/foreign_keys.sql"))
            .map_err(|e| self.err(e))?;
        let fk_rows = fk_stmt
            .query_map([name], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut fks: Vec<(i64, ForeignKey)> = Vec::new();
        for row in fk_rows {
            let (id, table, from, to) = row.map_err(|e| self.err(e))?;
            let to = to.unwrap_or_default();
            match fks.iter_mut().find(|(i, _)| *i == id) {
                Some((_, fk)) => {
                    fk.columns.push(from);
                    fk.ref_columns.push(to);
                }
                None => fks.push((
                    id,
                    ForeignKey {
                        columns: vec![from],
                        ref_table: TableName {
                            schema: None,
                            name: table,
                        },
                        ref_columns: vec![to],
                    },
                )),
            }
        }
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        let classes = self.storage_classes(&quote_ident(name, false), &names)?;
        self.classes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                name.to_string(),
                names.into_iter().zip(classes.clone()).collect(),
            );
        for (c, sc) in columns.iter_mut().zip(classes) {
            c.storage_classes = Some(sc);
        }
        let mut foreign_keys: Vec<ForeignKey> = fks.into_iter().map(|(_, f)| f).collect();
        // A foreign key declared without target columns references the parent's primary key.
        for fk in &mut foreign_keys {
            if fk.ref_columns.iter().any(String::is_empty) {
                if let Ok(parent) = self.table_pk(&fk.ref_table.name) {
                    fk.ref_columns = parent;
                }
            }
        }
        Ok(TableMeta {
            name: TableName {
                schema: None,
                name: name.to_string(),
            },
            columns,
            primary_key: pk.into_iter().map(|(_, c)| c).collect(),
            foreign_keys,
            query: None,
        })
    }

    fn table_pk(&self, name: &str) -> Result<Vec<String>, rusqlite::Error> {
        let mut stmt = self
            .conn
            .prepare(include_str!("../../queries/sqlite/columns.sql"))?;
        let mut pk: Vec<(i64, String)> = stmt
            .query_map([name], |r| {
                Ok((r.get::<_, i64>(3)?, r.get::<_, String>(0)?))
            })?
            .filter_map(Result::ok)
            .filter(|(p, _)| *p > 0)
            .collect();
        pk.sort();
        Ok(pk.into_iter().map(|(_, c)| c).collect())
    }
}

/// The Arrow type an SQLite column is read as, from its storage classes.
fn arrow_type_for(sc: &StorageClasses) -> DataType {
    match (sc.integer > 0, sc.real > 0, sc.text > 0, sc.blob > 0) {
        (true, false, false, false) => DataType::Int64,
        (false, true, false, false) => DataType::Float64,
        (false, false, false, true) => DataType::Binary,
        (false, false, _, false) => DataType::Utf8,
        _ => mixed_type(),
    }
}

/// The storage class every value of a column shares, as `--pushdown` names its base type
/// (`text` also for a column of NULLs only, which the read takes as text), or `mixed`.
pub(super) fn class_name(sc: &StorageClasses) -> &'static str {
    match arrow_type_for(sc) {
        DataType::Int64 => "integer",
        DataType::Float64 => "real",
        DataType::Binary => "blob",
        DataType::Utf8 => "text",
        _ => "mixed",
    }
}

/// Type ids of the union a mixed column is read as, one per storage class (NULLs sit in `int`).
const INT: i8 = 0;
const REAL: i8 = 1;
const TEXT: i8 = 2;
const BLOB: i8 = 3;

/// The dense union of a column whose values mix storage classes.
pub fn mixed_type() -> DataType {
    DataType::Union(
        UnionFields::new(
            vec![INT, REAL, TEXT, BLOB],
            vec![
                Field::new("integer", DataType::Int64, true),
                Field::new("real", DataType::Float64, true),
                Field::new("text", DataType::Utf8, true),
                Field::new("blob", DataType::Binary, true),
            ],
        ),
        UnionMode::Dense,
    )
}

/// The builders of a mixed column: per value its storage class, its offset in that class's
/// child, and the children.
struct MixedBuilder {
    types: Vec<i8>,
    offsets: Vec<i32>,
    int: Int64Builder,
    real: Float64Builder,
    text: StringBuilder,
    blob: BinaryBuilder,
}

enum ColBuilder {
    Int(Int64Builder),
    Float(Float64Builder),
    Text(StringBuilder),
    Bytes(BinaryBuilder),
    Mixed(Box<MixedBuilder>),
}

impl ColBuilder {
    fn new(dt: &DataType) -> ColBuilder {
        match dt {
            DataType::Int64 => ColBuilder::Int(Int64Builder::with_capacity(CHUNK_ROWS)),
            DataType::Float64 => ColBuilder::Float(Float64Builder::with_capacity(CHUNK_ROWS)),
            DataType::Binary => ColBuilder::Bytes(BinaryBuilder::new()),
            DataType::Union(..) => ColBuilder::Mixed(Box::new(MixedBuilder {
                types: Vec::with_capacity(CHUNK_ROWS),
                offsets: Vec::with_capacity(CHUNK_ROWS),
                int: Int64Builder::new(),
                real: Float64Builder::new(),
                text: StringBuilder::new(),
                blob: BinaryBuilder::new(),
            })),
            _ => ColBuilder::Text(StringBuilder::new()),
        }
    }

    /// Appends one value; returns the raw bytes of a TEXT value that was not valid UTF-8.
    fn push(&mut self, v: ValueRef<'_>) -> Option<Vec<u8>> {
        match self {
            ColBuilder::Int(b) => match v {
                ValueRef::Integer(i) => b.append_value(i),
                _ => b.append_null(),
            },
            ColBuilder::Float(b) => match v {
                ValueRef::Integer(i) => b.append_value(i as f64),
                ValueRef::Real(f) => b.append_value(f),
                _ => b.append_null(),
            },
            ColBuilder::Bytes(b) => match v {
                ValueRef::Blob(x) | ValueRef::Text(x) => b.append_value(x),
                _ => b.append_null(),
            },
            ColBuilder::Mixed(m) => {
                let mut bad = None;
                let (tid, len) = match v {
                    ValueRef::Null => {
                        m.int.append_null();
                        (INT, m.int.len())
                    }
                    ValueRef::Integer(i) => {
                        m.int.append_value(i);
                        (INT, m.int.len())
                    }
                    ValueRef::Real(f) => {
                        m.real.append_value(f);
                        (REAL, m.real.len())
                    }
                    ValueRef::Text(x) => {
                        match std::str::from_utf8(x) {
                            Ok(s) => m.text.append_value(s),
                            Err(_) => {
                                m.text.append_value(String::from_utf8_lossy(x));
                                bad = Some(x.to_vec());
                            }
                        }
                        (TEXT, m.text.len())
                    }
                    ValueRef::Blob(x) => {
                        m.blob.append_value(x);
                        (BLOB, m.blob.len())
                    }
                };
                m.types.push(tid);
                m.offsets.push(len as i32 - 1);
                return bad;
            }
            ColBuilder::Text(b) => match v {
                ValueRef::Null => b.append_null(),
                ValueRef::Integer(i) => b.append_value(i.to_string()),
                ValueRef::Real(f) => b.append_value(format_real(f)),
                ValueRef::Text(x) => match std::str::from_utf8(x) {
                    Ok(s) => b.append_value(s),
                    Err(_) => {
                        b.append_value(String::from_utf8_lossy(x));
                        return Some(x.to_vec());
                    }
                },
                ValueRef::Blob(x) => {
                    let hex: String = x.iter().map(|b| format!("{b:02X}")).collect();
                    b.append_value(format!("x'{hex}'"));
                }
            },
        }
        None
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColBuilder::Int(b) => Arc::new(b.finish()),
            ColBuilder::Float(b) => Arc::new(b.finish()),
            ColBuilder::Text(b) => Arc::new(b.finish()),
            ColBuilder::Bytes(b) => Arc::new(b.finish()),
            ColBuilder::Mixed(m) => {
                let DataType::Union(fields, _) = mixed_type() else {
                    unreachable!("mixed_type is a union")
                };
                let children: Vec<ArrayRef> = vec![
                    Arc::new(m.int.finish()),
                    Arc::new(m.real.finish()),
                    Arc::new(m.text.finish()),
                    Arc::new(m.blob.finish()),
                ];
                let types = ScalarBuffer::from(std::mem::take(&mut m.types));
                let offsets = ScalarBuffer::from(std::mem::take(&mut m.offsets));
                Arc::new(
                    UnionArray::try_new(fields, types, Some(offsets), children)
                        .expect("type ids and offsets are built together"),
                )
            }
        }
    }
}

/// SQLite's REAL in the shortest form that reads back to the same double, always with a point.
fn format_real(f: f64) -> String {
    let s = format!("{f:?}");
    s
}

impl Source for SqliteSource {
    fn pushdown(&self) -> Option<Box<dyn super::Pushdown>> {
        Some(Box::new(super::sqlite_pushdown::SqlitePushdown {
            path: self.path.clone(),
            display: self.display(),
            classes: self.classes.clone(),
        }))
    }

    fn rereadable(&self) -> bool {
        true
    }

    fn display(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    fn tables(&mut self) -> Result<Vec<TableMeta>, SourceError> {
        let names: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare(include_str!("../../queries/sqlite/tables.sql"))
                .map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| self.err(e))?;
            rows.filter_map(Result::ok).collect()
        };
        names.iter().map(|n| self.table_meta(n)).collect()
    }

    fn describe_query(&mut self, sql: &str) -> Result<TableMeta, SourceError> {
        let names: Vec<(String, String)> = {
            let stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            stmt.columns()
                .iter()
                .map(|c| {
                    (
                        c.name().to_string(),
                        c.decl_type().unwrap_or("").to_string(),
                    )
                })
                .collect()
        };
        let cols: Vec<String> = names.iter().map(|(n, _)| n.clone()).collect();
        let classes = self.storage_classes(&format!("({sql}) AS reckon_q"), &cols)?;
        Ok(TableMeta {
            name: TableName {
                schema: None,
                name: "query".into(),
            },
            columns: names
                .into_iter()
                .zip(classes)
                .map(|((name, ty), sc)| ColumnMeta {
                    name,
                    declared_type: ty,
                    nullable: None,
                    storage_classes: Some(sc),
                })
                .collect(),
            primary_key: Vec::new(),
            foreign_keys: Vec::new(),
            query: Some(sql.to_string()),
        })
    }

    fn read(&mut self, table: &TableMeta) -> Result<ChunkStream, SourceError> {
        let fields: Vec<Field> = table
            .columns
            .iter()
            .map(|c| {
                let dt = c
                    .storage_classes
                    .as_ref()
                    .map(arrow_type_for)
                    .unwrap_or(DataType::Utf8);
                Field::new(&c.name, dt, true)
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let sql = match &table.query {
            Some(q) => q.clone(),
            None => {
                let cols: Vec<String> = table
                    .columns
                    .iter()
                    .map(|c| quote_ident(&c.name, false))
                    .collect();
                format!(
                    "SELECT {} FROM {}",
                    cols.join(", "),
                    quote_ident(&table.name.name, false)
                )
            }
        };
        let path = self.path.clone();
        let display = self.display();
        let (tx, rx) = sync_channel::<Result<Chunk, SourceError>>(2);
        std::thread::spawn(move || {
            let run = || -> Result<(), SourceError> {
                let conn = open_conn(&path)?;
                let qerr = |e: rusqlite::Error| SourceError::query(&display, e);
                let mut stmt = conn.prepare(&sql).map_err(qerr)?;
                let ncols = schema.fields().len();
                let mut rows = stmt.query([]).map_err(qerr)?;
                let mut builders: Vec<ColBuilder> = schema
                    .fields()
                    .iter()
                    .map(|f| ColBuilder::new(f.data_type()))
                    .collect();
                let mut defects = Vec::new();
                let mut n = 0usize;
                let flush = |builders: &mut Vec<ColBuilder>,
                             defects: &mut Vec<ReadDefect>|
                 -> Result<Chunk, SourceError> {
                    let arrays: Vec<ArrayRef> =
                        builders.iter_mut().map(ColBuilder::finish).collect();
                    let batch = RecordBatch::try_new(schema.clone(), arrays)
                        .map_err(|e| SourceError::query(&display, e))?;
                    Ok(Chunk {
                        batch,
                        defects: std::mem::take(defects),
                    })
                };
                while let Some(row) = rows.next().map_err(qerr)? {
                    for (i, b) in builders.iter_mut().enumerate().take(ncols) {
                        let v = row.get_ref(i).map_err(qerr)?;
                        if let Some(bytes) = b.push(v) {
                            defects.push(ReadDefect::InvalidUtf8 {
                                column: i,
                                row: n,
                                bytes,
                            });
                        }
                    }
                    n += 1;
                    if n == CHUNK_ROWS {
                        let chunk = flush(&mut builders, &mut defects)?;
                        if tx.send(Ok(chunk)).is_err() {
                            return Ok(());
                        }
                        n = 0;
                    }
                }
                if n > 0 {
                    let chunk = flush(&mut builders, &mut defects)?;
                    let _ = tx.send(Ok(chunk));
                }
                Ok(())
            };
            if let Err(e) = run() {
                let _ = tx.send(Err(e));
            }
        });
        Ok(Box::new(rx.into_iter()))
    }

    fn estimate_rows(&mut self, table: &TableMeta) -> Option<u64> {
        table
            .columns
            .first()
            .and_then(|c| c.storage_classes.as_ref())
            .map(|s| s.integer + s.real + s.text + s.blob + s.null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_class_mix_picks_a_type_that_keeps_every_value() {
        let mut sc = StorageClasses {
            integer: 3,
            ..Default::default()
        };
        assert_eq!(arrow_type_for(&sc), DataType::Int64);
        sc.real = 2;
        assert_eq!(arrow_type_for(&sc), mixed_type());
        sc.integer = 0;
        assert_eq!(arrow_type_for(&sc), DataType::Float64);
        sc.text = 1;
        assert_eq!(arrow_type_for(&sc), mixed_type());
        let text_only = StorageClasses {
            text: 4,
            null: 1,
            ..Default::default()
        };
        assert_eq!(arrow_type_for(&text_only), DataType::Utf8);
    }

    #[test]
    fn reals_keep_every_digit() {
        assert_eq!(format_real(0.1).parse::<f64>().unwrap(), 0.1);
        assert_eq!(format_real(10.0), "10.0");
    }
}
