//! What an SQLite source offers `reckon diff --pushdown`: the functions its SQL lacks, and plain
//! queries.
//!
//! SQLite has no SHA-256 and no exact sum past 64 bits, both of which the row text's summaries
//! need, so reckon registers them on every connection it opens ([`register`]); the pushed-down
//! SQL (`queries/sqlite/pushdown.sql`) then runs as it does on a server, and the rows of the
//! differing buckets are read through the same connection type. A column's "base type" is the
//! storage class all its values share (`integer`, `real`, `text`, `blob`), or `mixed`: SQLite types
//! values, not columns, and a mixed column is streamed, as the streamed read gives it a union.

use std::path::PathBuf;

use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::ValueRef;
use sha2::{Digest, Sha256};

use super::sql::Dialect;
use super::sqlite::{class_name, open_conn, storage_classes, ClassesByTable};
use super::{quote_ident, SourceError, TableMeta, TableName};

/// The first bytes of the SHA-256 of a value's bytes (text as stored, UTF-8).
fn sha256_of(ctx: &Context<'_>) -> Option<[u8; 32]> {
    match ctx.get_raw(0) {
        ValueRef::Text(b) | ValueRef::Blob(b) => Some(Sha256::digest(b).into()),
        _ => None,
    }
}

/// The exact sum of integers, as text; NULL when there were none (as SQL's `sum`).
struct Sum128;

impl Aggregate<Option<i128>, Option<String>> for Sum128 {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<i128>> {
        Ok(None)
    }

    fn step(&self, ctx: &mut Context<'_>, acc: &mut Option<i128>) -> rusqlite::Result<()> {
        match ctx.get_raw(0) {
            ValueRef::Null => Ok(()),
            ValueRef::Integer(i) => {
                *acc = Some(acc.unwrap_or(0) + i128::from(i));
                Ok(())
            }
            // Only integer columns are summed: anything else is a fault of the caller, never a
            // sum rounded in silence.
            _ => Err(rusqlite::Error::UserFunctionError(
                "reckon_sum: a value that is not an integer".into(),
            )),
        }
    }

    fn finalize(
        &self,
        _: &mut Context<'_>,
        acc: Option<Option<i128>>,
    ) -> rusqlite::Result<Option<String>> {
        Ok(acc.flatten().map(|s| s.to_string()))
    }
}

/// Registers reckon's SQL functions on a connection: `reckon_hash(t)` (the first 8 bytes of
/// SHA-256, big-endian, signed, as PostgreSQL's `('x' || left(encode(sha256(…), 'hex'),
/// 16))::bit(64)::bigint`), `reckon_bucket(t)` (the first 4, unsigned), `reckon_f64bits(x)`
/// (a REAL's bits as 16 lower-case hex digits, as `encode(float8send(x), 'hex')`) and
/// `reckon_sum(x)`.
pub(super) fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("reckon_hash", 1, flags, |ctx| {
        Ok(sha256_of(ctx).map(|d| i64::from_be_bytes(d[..8].try_into().expect("8 bytes"))))
    })?;
    conn.create_scalar_function("reckon_bucket", 1, flags, |ctx| {
        Ok(sha256_of(ctx)
            .map(|d| i64::from(u32::from_be_bytes(d[..4].try_into().expect("4 bytes")))))
    })?;
    conn.create_scalar_function("reckon_f64bits", 1, flags, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Real(f) => Some(format!("{:016x}", f.to_bits())),
            _ => None,
        })
    })?;
    conn.create_aggregate_function("reckon_sum", 1, flags, Sum128)?;
    Ok(())
}

/// An SQLite database as `reckon diff --pushdown` queries it.
pub(super) struct SqlitePushdown {
    pub(super) path: PathBuf,
    pub(super) display: String,
    /// The storage classes of each table's columns, as the source counted them when it read its
    /// catalog (counted here again for a table it has not).
    pub(super) classes: ClassesByTable,
}

impl SqlitePushdown {
    fn conn(&self) -> Result<rusqlite::Connection, SourceError> {
        open_conn(&self.path)
    }

    fn err(&self, e: rusqlite::Error) -> SourceError {
        SourceError::query(&self.display, e)
    }
}

impl super::Pushdown for SqlitePushdown {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn server(&self) -> String {
        format!("SQLite {}", self.path.display())
    }

    /// SQLite runs in this process, one core per query already.
    fn share_cores(&mut self) {}

    fn base_type(&self, table: &TableName, column: &str) -> Option<String> {
        let mut classes = self.classes.lock().unwrap_or_else(|e| e.into_inner());
        if !classes.contains_key(&table.name) {
            let conn = self.conn().ok()?;
            let cols: Vec<String> = conn
                .prepare(&format!(
                    "SELECT * FROM {} LIMIT 0",
                    quote_ident(&table.name, false)
                ))
                .ok()?
                .column_names()
                .into_iter()
                .map(String::from)
                .collect();
            let counted = storage_classes(
                &conn,
                &quote_ident(&table.name, false),
                &cols,
                &self.display,
            )
            .ok()?;
            classes.insert(table.name.clone(), cols.into_iter().zip(counted).collect());
        }
        classes
            .get(&table.name)?
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, sc)| class_name(sc).to_string())
    }

    fn qualified(&self, table: &TableName) -> String {
        quote_ident(&table.name, false)
    }

    fn rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, SourceError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(sql).map_err(|e| self.err(e))?;
        let n = stmt.column_count();
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(match row.get_ref(i).map_err(|e| self.err(e))? {
                    ValueRef::Null => None,
                    ValueRef::Integer(v) => Some(v.to_string()),
                    ValueRef::Real(v) => Some(format!("{v:?}")),
                    // Text extremes as the streamed read passes them on (lossy where not UTF-8).
                    ValueRef::Text(b) => Some(String::from_utf8_lossy(b).into_owned()),
                    ValueRef::Blob(b) => Some(b.iter().map(|x| format!("{x:02x}")).collect()),
                });
            }
            out.push(values);
        }
        Ok(out)
    }

    fn triples(&self, sql: &str) -> Result<Vec<Option<[i64; 3]>>, SourceError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(sql).map_err(|e| self.err(e))?;
        if stmt.column_count() != 3 {
            return Err(SourceError::query(
                &self.display,
                "a pushdown query returned other columns",
            ));
        }
        let mut rows = stmt.query([]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let mut t = [0i64; 3];
            let mut whole = true;
            for (i, v) in t.iter_mut().enumerate() {
                match row.get_ref(i).map_err(|e| self.err(e))? {
                    ValueRef::Integer(x) => *v = x,
                    _ => whole = false,
                }
            }
            out.push(whole.then_some(t));
        }
        Ok(out)
    }

    fn select(&self, table: &TableMeta, _rows: Option<&str>) -> Result<String, SourceError> {
        let cols: Vec<String> = table
            .columns
            .iter()
            .map(|c| quote_ident(&c.name, false))
            .collect();
        Ok(format!(
            "SELECT {} FROM {}",
            cols.join(", "),
            quote_ident(&table.name.name, false)
        ))
    }

    fn estimate(&self, table: &TableMeta) -> Result<u64, SourceError> {
        let sql = format!(
            "SELECT count(*) FROM {}",
            quote_ident(&table.name.name, false)
        );
        let conn = self.conn()?;
        let n: i64 = conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> rusqlite::Connection {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        c
    }

    #[test]
    fn hashes_are_those_postgres_computes() {
        let c = conn();
        // SHA-256('abc') = ba7816bf 8f01cfea 414140de …: PostgreSQL's
        // ('x' || left(encode(sha256('abc'), 'hex'), 16))::bit(64)::bigint and its 8-digit bucket.
        let (h, b): (i64, i64) = c
            .query_row("SELECT reckon_hash('abc'), reckon_bucket('abc')", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(h, 0xba78_16bf_8f01_cfea_u64 as i64);
        assert!(
            h < 0,
            "the high bit makes it negative, as bit(64)::bigint does"
        );
        assert_eq!(b, 0xba78_16bf);
        let n: Option<i64> = c
            .query_row("SELECT reckon_hash(NULL)", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, None);
    }

    #[test]
    fn float_bits_are_float8send_hex() {
        let c = conn();
        let bits = |sql: &str| -> Option<String> { c.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(
            bits("SELECT reckon_f64bits(1.0)").as_deref(),
            Some("3ff0000000000000")
        );
        assert_eq!(
            bits("SELECT reckon_f64bits(-0.5)").as_deref(),
            Some("bfe0000000000000")
        );
        // Only REALs have bits: an INTEGER is not spelt as one.
        assert_eq!(bits("SELECT reckon_f64bits(1)"), None);
    }

    #[test]
    fn sums_are_exact_past_64_bits() {
        let c = conn();
        c.execute_batch(
            "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (9223372036854775807), (9223372036854775807), (NULL), (-1);",
        )
        .unwrap();
        let s: Option<String> = c
            .query_row("SELECT reckon_sum(x) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(s.as_deref(), Some("18446744073709551613"));
        let none: Option<String> = c
            .query_row("SELECT reckon_sum(x) FROM t WHERE x IS NULL", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(none, None, "NULL when no integer was summed, as sum()");
        let refused = c.query_row("SELECT reckon_sum(1.5)", [], |r| {
            r.get::<_, Option<String>>(0)
        });
        assert!(refused.is_err(), "a REAL is never summed in silence");
    }
}
