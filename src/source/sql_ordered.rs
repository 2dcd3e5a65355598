//! A table read in the order of its one integer key, in bounded memory: pages of
//! [`PAGE_ROWS`] rows (`WHERE key >= last ORDER BY key LIMIT n`, each a range read of an index
//! the key leads; a key no index leads is not read so), fetched by a thread of their own a
//! little ahead of the consumer. `reckon migrate`
//! streams a unit so (`src/migrate/executor/stream.rs`): its batches are then the same as when
//! the unit is read whole and sorted, whatever its size.
//!
//! Each page after the first starts at the last key read (`key >= last`) and drops that one row:
//! a key the source holds twice across a page boundary still reaches the consumer twice, which
//! refuses it. Rows whose key is NULL are not read: the caller checks that there are none
//! first. The pages come from separate queries, not one snapshot.
//!
//! `RECKON_PAGE_ROWS` sets another page size (at least 2), for tests of the page boundaries.

use std::sync::mpsc::sync_channel;

use arrow::array::{Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use connectorx::prelude::CXQuery;

use super::sql::{CxStream, Dialect, SqlSource};
use super::{quote_ident, Chunk, ChunkStream, SourceError, TableMeta};

/// Rows per page.
pub const PAGE_ROWS: usize = 131_072;

/// The page size: [`PAGE_ROWS`], or `RECKON_PAGE_ROWS`.
fn page_rows() -> usize {
    std::env::var("RECKON_PAGE_ROWS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n >= 2)
        .unwrap_or(PAGE_ROWS)
}

/// Chunks waiting between the fetching thread and the consumer, at most.
const AHEAD: usize = 4;

/// Whether a catalog base type is an integer type.
pub(super) fn is_integer_type(base: &str) -> bool {
    matches!(
        base.to_ascii_lowercase().as_str(),
        "int2" | "int4" | "int8" | "int" | "integer" | "bigint" | "smallint" | "mediumint"
    )
}

impl SqlSource {
    /// The rows of `table` in ascending order of `key`, a column of an integer type; `None`
    /// when the key is not one (the caller reads the table whole instead).
    pub(super) fn read_by_integer_key(
        &self,
        table: &TableMeta,
        key: &str,
    ) -> Result<Option<ChunkStream>, SourceError> {
        if table.query.is_some() {
            return Ok(None);
        }
        let Some(col) = table.columns.iter().find(|c| c.name == key) else {
            return Ok(None);
        };
        let base = self
            .base_types
            .get(&(table.name.clone(), col.name.clone()))
            .cloned()
            .unwrap_or_default();
        if !is_integer_type(&base) || !self.leads_an_index(table, &col.name) {
            return Ok(None);
        }
        let select = self.base_select(table, Some("1 = 1"))?;
        let q = quote_ident(&col.name, self.dialect == Dialect::Mysql);
        let (tx, rx) = sync_channel::<Result<Chunk, SourceError>>(AHEAD);
        let source = self.clone();
        let name = col.name.clone();
        let page = page_rows();
        std::thread::spawn(move || {
            let mut last: Option<String> = None;
            loop {
                let after = match &last {
                    None => format!("{q} IS NOT NULL"),
                    Some(v) => format!("{q} >= {v}"),
                };
                let sql = format!("{select} WHERE {after} ORDER BY {q} LIMIT {page}");
                // The row of the last key read comes again first: it is dropped once.
                let mut skip = last.clone();
                let stream = match source.start(&[CXQuery::from(sql.as_str())]) {
                    Ok(iter) => CxStream {
                        inner: Some(iter),
                        display: source.display.clone(),
                    },
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                let mut rows = 0usize;
                for chunk in stream {
                    let mut chunk = match chunk {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    };
                    if chunk.batch.num_rows() > 0 {
                        rows += chunk.batch.num_rows();
                        if let Some(k) = skip.take() {
                            match first_integer(&chunk, &name) {
                                Ok(first) if first == k => {
                                    let n = chunk.batch.num_rows();
                                    chunk.batch = chunk.batch.slice(1, n - 1);
                                    chunk.defects.clear();
                                }
                                Ok(_) => {}
                                Err(e) => {
                                    let _ = tx.send(Err(SourceError::query(&source.display, e)));
                                    return;
                                }
                            }
                            if chunk.batch.num_rows() == 0 {
                                continue;
                            }
                        }
                        match last_integer(&chunk, &name) {
                            Ok(v) => last = Some(v),
                            Err(e) => {
                                let _ = tx.send(Err(SourceError::query(&source.display, e)));
                                return;
                            }
                        }
                    }
                    if tx.send(Ok(chunk)).is_err() {
                        // The consumer is gone.
                        return;
                    }
                }
                if rows < page {
                    return;
                }
            }
        });
        Ok(Some(Box::new(rx.into_iter())))
    }
}

impl SqlSource {
    /// Whether `column` is the first column of an index of the table: each page is then a
    /// range read of that index. Without one, every page would scan and sort the whole table,
    /// and the caller reads the table once, whole, instead.
    fn leads_an_index(&self, table: &TableMeta, column: &str) -> bool {
        let lit = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "''"));
        let sql = match self.dialect {
            Dialect::Postgres => format!(
                "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
                 WHERE i.indrelid = {}::regclass AND a.attname = {} LIMIT 1",
                lit(&self.qualified(&table.name)),
                lit(column)
            ),
            _ => format!(
                "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {} \
                 AND COLUMN_NAME = {} AND SEQ_IN_INDEX = 1 LIMIT 1",
                table.name.schema.as_deref().map_or("DATABASE()".to_string(), lit),
                lit(&table.name.name),
                lit(column)
            ),
        };
        self.fetch_rows(&sql).is_ok_and(|rows| !rows.is_empty())
    }
}

/// The key of a chunk's last row, as an integer literal.
fn last_integer(chunk: &Chunk, key: &str) -> Result<String, String> {
    integer_at(chunk, key, chunk.batch.num_rows() - 1)
}

/// The key of a chunk's first row, as an integer literal.
fn first_integer(chunk: &Chunk, key: &str) -> Result<String, String> {
    integer_at(chunk, key, 0)
}

/// The key of row `r`, as an integer literal.
fn integer_at(chunk: &Chunk, key: &str, r: usize) -> Result<String, String> {
    let b = &chunk.batch;
    let i = b
        .schema()
        .index_of(key)
        .map_err(|_| format!("the ordered read lost key column '{key}'"))?;
    // The one value only, as text.
    let a = b.column(i).slice(r, 1);
    let t = cast(&a, &DataType::Utf8).map_err(|e| e.to_string())?;
    let s = t
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or("key text is not a string array")?;
    if s.is_null(0) {
        return Err(format!("key column '{key}' read a NULL in an ordered read"));
    }
    let v = s.value(0);
    let digits = v.strip_prefix('-').unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "key column '{key}' read {v:?}, which is not an integer"
        ));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_types_are_told_apart() {
        for t in ["int4", "INT8", "bigint", "smallint", "int", "mediumint"] {
            assert!(is_integer_type(t), "{t}");
        }
        for t in ["numeric", "text", "varchar", "float8", "decimal", ""] {
            assert!(!is_integer_type(t), "{t}");
        }
    }
}
