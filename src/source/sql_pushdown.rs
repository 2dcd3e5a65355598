//! What a PostgreSQL or MySQL/MariaDB source offers `reckon diff --pushdown`: plain queries
//! (PostgreSQL through its own driver, so that they may run parallel workers, which the `COPY`
//! of bulk reads never does), triples of integers, the catalog's row estimate, and the session
//! settings of pushdown connections.

use arrow::array::Array;
use connectorx::prelude::CXQuery;
use url::Url;

use super::sql::{clean_driver_message, with_causes, CxStream, Dialect, SqlSource};
use super::{SourceError, TableMeta, TableName};

impl SqlSource {
    /// A plain PostgreSQL connection (for pushdown queries) with the session settings of the
    /// reads, hash aggregation over sorting, and one core per query when the other side shares
    /// the server.
    fn pg_client(&self) -> Result<postgres::Client, SourceError> {
        // TLS as the bulk reads speak it (connectorx's reading of sslmode, sslrootcert, sslcert
        // and sslkey), so that a server that requires TLS is reached the same way.
        let url = Url::parse(&self.conn_str).map_err(|e| {
            SourceError::connect(&self.display, clean_driver_message(&e.to_string()))
        })?;
        let (mut cfg, tls) =
            connectorx::sources::postgres::rewrite_tls_args(&url).map_err(|e| {
                SourceError::connect(&self.display, clean_driver_message(&with_causes(&e)))
            })?;
        cfg.connect_timeout(std::time::Duration::from_secs(10));
        let connected = match tls {
            Some(tls) => cfg.connect(tls),
            None => cfg.connect(postgres::NoTls),
        };
        let mut client = connected.map_err(|e| {
            SourceError::connect(&self.display, clean_driver_message(&with_causes(&e)))
        })?;
        let mut session = self.session_queries();
        // Pushdown groups rows by bucket, which the planner cannot estimate: it would sort.
        session.push("SET enable_sort = off".into());
        if self.serial {
            session.push("SET max_parallel_workers_per_gather = 0".into());
        }
        client.batch_execute(&session.join(";\n")).map_err(|e| {
            SourceError::query(&self.display, clean_driver_message(&with_causes(&e)))
        })?;
        Ok(client)
    }
}

impl super::Pushdown for SqlSource {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn server(&self) -> String {
        let u = Url::parse(&self.conn_str).ok();
        let host = u.as_ref().and_then(|u| u.host_str().map(String::from));
        let port = u.as_ref().and_then(|u| u.port());
        format!("{:?} {host:?}:{port:?}", self.dialect)
    }

    fn share_cores(&mut self) {
        self.serial = true;
    }

    fn base_type(&self, table: &TableName, column: &str) -> Option<String> {
        self.base_types
            .get(&(table.clone(), column.to_string()))
            .map(|s| s.to_ascii_lowercase())
    }

    fn qualified(&self, table: &TableName) -> String {
        SqlSource::qualified(self, table)
    }

    fn rows(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>, SourceError> {
        if self.dialect == Dialect::Mysql {
            return self.fetch_rows(sql);
        }
        let mut client = self.pg_client()?;
        let msgs = client.simple_query(sql).map_err(|e| {
            SourceError::query(&self.display, clean_driver_message(&with_causes(&e)))
        })?;
        let mut rows = Vec::new();
        for m in msgs {
            if let postgres::SimpleQueryMessage::Row(r) = m {
                rows.push((0..r.len()).map(|i| r.get(i).map(String::from)).collect());
            }
        }
        Ok(rows)
    }

    fn triples(&self, sql: &str) -> Result<Vec<Option<[i64; 3]>>, SourceError> {
        let mut out = Vec::new();
        if self.dialect == Dialect::Postgres {
            // Packed by PostgreSQL into one bytea of 24 bytes a row per group of rows, through
            // COPY's binary format: a message per row costs the client more than the server's
            // packing (5M rows: 6.1 s as query rows, 3.9 s as COPY rows). Rows holding a NULL are
            // counted apart (a NULL would vanish from the packing).
            let err = |e: postgres::Error| {
                SourceError::query(&self.display, clean_driver_message(&with_causes(&e)))
            };
            let packed = format!(
                "COPY (SELECT string_agg(int8send(k) || int8send(h) || int8send(v), ''::bytea), \
                 count(*) FILTER (WHERE k IS NULL OR h IS NULL OR v IS NULL) \
                 FROM ({sql} OFFSET 0) q GROUP BY k & 1023) TO STDOUT (FORMAT binary)"
            );
            let mut client = self.pg_client()?;
            let reader = client.copy_out(&packed).map_err(err)?;
            read_packed_triples(std::io::BufReader::with_capacity(1 << 16, reader), &mut out)
                .map_err(|e| SourceError::query(&self.display, e))?;
            return Ok(out);
        }
        for chunk in self.start(&[CXQuery::from(sql)]).map(|iter| CxStream {
            inner: Some(iter),
            display: self.display.clone(),
        })? {
            let batch = chunk?.batch;
            let bad =
                || SourceError::query(&self.display, "a pushdown query returned other columns");
            if batch.num_columns() != 3 {
                return Err(bad());
            }
            let cols = (0..3)
                .map(|i| arrow::compute::cast(batch.column(i), &arrow::datatypes::DataType::Int64))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| bad())?;
            let cols: Vec<&arrow::array::Int64Array> = cols
                .iter()
                .map(|c| {
                    arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(c.as_ref())
                })
                .collect();
            for r in 0..batch.num_rows() {
                out.push(
                    (!cols.iter().any(|c| c.is_null(r)))
                        .then(|| [cols[0].value(r), cols[1].value(r), cols[2].value(r)]),
                );
            }
        }
        Ok(out)
    }

    fn select(&self, table: &TableMeta, rows: Option<&str>) -> Result<String, SourceError> {
        self.base_select(table, rows)
    }

    fn estimate(&self, table: &TableMeta) -> Result<u64, SourceError> {
        let name = &table.name;
        // MySQL string literals also escape backslashes.
        let lit = |s: &str| s.replace('\\', "\\\\").replace('\'', "''");
        let sql = match self.dialect {
            Dialect::Postgres => format!(
                "SELECT c.reltuples::bigint AS n FROM pg_class c WHERE c.oid = '{}'::regclass",
                self.qualified(name).replace('\'', "''")
            ),
            Dialect::Mysql => format!(
                "SELECT CAST(TABLE_ROWS AS SIGNED) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = {} AND TABLE_NAME = '{}'",
                name.schema
                    .as_deref()
                    .map(|s| format!("'{}'", lit(s)))
                    .unwrap_or_else(|| "DATABASE()".into()),
                lit(&name.name)
            ),
            Dialect::Sqlite => unreachable!("an SQL source is PostgreSQL or MySQL/MariaDB"),
        };
        let first = |rows: Vec<Vec<Option<String>>>| {
            rows.first()
                .and_then(|r| r.first().cloned().flatten())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        match first(self.fetch_rows(&sql)?) {
            Some(n) if n > 0 => Ok(n as u64),
            _ => {
                let count = format!("SELECT count(*) AS n FROM {}", self.qualified(name));
                Ok(first(self.fetch_rows(&count)?).unwrap_or(0).max(0) as u64)
            }
        }
    }
}

/// Reads the packed triples in PostgreSQL's binary COPY format (signature, flags, header
/// extension; per row a field count, then per field its length, -1 for NULL, and its bytes; a
/// field count of -1 ends it): per row, a bytea of 24 bytes a triple (three big-endian `int8`)
/// or NULL, and the `int8` count of rows that held a NULL (each a `None`).
fn read_packed_triples(
    mut r: impl std::io::Read,
    out: &mut Vec<Option<[i64; 3]>>,
) -> Result<(), String> {
    let bad = |what: &str| format!("a pushdown COPY returned {what}");
    let mut exact = |buf: &mut [u8]| r.read_exact(buf).map_err(|e| e.to_string());
    let mut head = [0u8; 19];
    exact(&mut head)?;
    if &head[..11] != b"PGCOPY\n\xff\r\n\0" {
        return Err(bad("no binary header"));
    }
    let ext = u32::from_be_bytes([head[15], head[16], head[17], head[18]]) as usize;
    let mut skip = vec![0u8; ext];
    exact(&mut skip)?;
    let field = |exact: &mut dyn FnMut(&mut [u8]) -> Result<(), String>| {
        let mut len = [0u8; 4];
        exact(&mut len)?;
        match i32::from_be_bytes(len) {
            -1 => Ok(None),
            n if n >= 0 => {
                let mut b = vec![0u8; n as usize];
                exact(&mut b)?;
                Ok(Some(b))
            }
            _ => Err(bad("a negative length")),
        }
    };
    loop {
        let mut n = [0u8; 2];
        exact(&mut n)?;
        match i16::from_be_bytes(n) {
            -1 => return Ok(()),
            2 => {}
            _ => return Err(bad("other columns")),
        }
        if let Some(b) = field(&mut exact)? {
            if b.len() % 24 != 0 {
                return Err(bad("a packing that is not of triples"));
            }
            for t in b.chunks_exact(24) {
                let at =
                    |i: usize| i64::from_be_bytes(t[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
                out.push(Some([at(0), at(1), at(2)]));
            }
        }
        let nulls = field(&mut exact)?.ok_or_else(|| bad("no count"))?;
        let nulls: [u8; 8] = nulls
            .try_into()
            .map_err(|_| bad("a count that is not an int8"))?;
        out.extend((0..i64::from_be_bytes(nulls).max(0)).map(|_| None));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_triples_are_read_and_rows_with_a_null_counted() {
        let mut b: Vec<u8> = b"PGCOPY\n\xff\r\n\0".to_vec();
        b.extend(0u32.to_be_bytes());
        b.extend(2u32.to_be_bytes());
        b.extend([9u8, 9]);
        // A group of two triples and no NULL row.
        b.extend(2i16.to_be_bytes());
        b.extend(48i32.to_be_bytes());
        for v in [-1i64, i64::MAX, 7, 5, i64::MIN, 6] {
            b.extend(v.to_be_bytes());
        }
        b.extend(8i32.to_be_bytes());
        b.extend(0i64.to_be_bytes());
        // A group of rows that all held a NULL: no packing, a count of 2.
        b.extend(2i16.to_be_bytes());
        b.extend((-1i32).to_be_bytes());
        b.extend(8i32.to_be_bytes());
        b.extend(2i64.to_be_bytes());
        b.extend((-1i16).to_be_bytes());
        let mut out = Vec::new();
        read_packed_triples(&b[..], &mut out).unwrap();
        assert_eq!(
            out,
            vec![Some([-1, i64::MAX, 7]), Some([5, i64::MIN, 6]), None, None]
        );
        // Cut short, a packing not of whole triples, other columns: an error, never a row made
        // up or lost.
        assert!(read_packed_triples(&b[..b.len() - 2], &mut Vec::new()).is_err());
        let mut odd = b.clone();
        odd[26] = 47;
        assert!(read_packed_triples(&odd[..], &mut Vec::new()).is_err());
        let mut three = b.clone();
        three[22] = 3;
        assert!(read_packed_triples(&three[..], &mut Vec::new()).is_err());
    }
}
