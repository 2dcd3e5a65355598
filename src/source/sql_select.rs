//! Building the SELECT that reads a table from PostgreSQL or MySQL: which columns are cast to
//! text (types connectorx cannot carry exactly, MySQL zero dates), and how a large table with an
//! integer key is split into key ranges read in parallel.

use super::sql::{Dialect, SqlSource};
use super::{quote_ident, ColumnMeta, SourceError, TableMeta, TableName};

impl SqlSource {
    /// Temporal columns holding a value no date type here can carry, which are then read as text
    /// so that value is kept and differs, never turned into NULL, a wrong date or a failed read:
    /// MySQL zero dates (`0000-00-00`) and dates with a zero month or day (`2024-00-15`, allowed
    /// without NO_ZERO_IN_DATE); PostgreSQL dates in or past the year ±262,142, which the driver
    /// cannot decode or cannot tell from `infinity` (it reads `±infinity` as chrono's extreme
    /// values, which the profile names and the diff keeps apart from every real date).
    /// One aggregate scan of the rows to be read (`WHERE rows`), only when the table has
    /// temporal columns. The other values of
    /// such a column still compare as dates: a typed column read as text is read back as its type.
    pub(super) fn zero_date_columns(
        &self,
        table: &TableMeta,
        rows: &str,
    ) -> Result<Vec<String>, SourceError> {
        let mysql = self.dialect == Dialect::Mysql;
        let temporal: Vec<&ColumnMeta> = table
            .columns
            .iter()
            .filter(|c| {
                let base = self.base_types.get(&(table.name.clone(), c.name.clone()));
                let base = base.map(|b| b.to_ascii_lowercase()).unwrap_or_default();
                if mysql {
                    matches!(base.as_str(), "date" | "datetime" | "timestamp")
                } else {
                    matches!(base.as_str(), "date" | "timestamp" | "timestamptz")
                }
            })
            .collect();
        if temporal.is_empty() {
            return Ok(Vec::new());
        }
        let sums: Vec<String> = temporal
            .iter()
            .map(|c| {
                let q = quote_ident(&c.name, mysql);
                if mysql {
                    format!("CAST(COALESCE(SUM(MONTH({q}) = 0 OR DAYOFMONTH({q}) = 0), 0) AS SIGNED)")
                } else {
                    format!(
                        "count(*) FILTER (WHERE isfinite({q}) AND abs(extract(year FROM {q})) >= 262142)"
                    )
                }
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE {rows}",
            sums.join(", "),
            self.qualified(&table.name)
        );
        let rows = self.fetch_rows(&sql)?;
        let counts = rows.into_iter().next().unwrap_or_default();
        Ok(temporal
            .iter()
            .zip(counts)
            .filter(|(_, n)| {
                n.as_deref()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
                    > 0
            })
            .map(|(c, _)| c.name.clone())
            .collect())
    }

    pub(super) fn select_expr(&self, table: &TableName, col: &ColumnMeta) -> String {
        let mysql = self.dialect == Dialect::Mysql;
        let q = quote_ident(&col.name, mysql);
        let base = self
            .base_types
            .get(&(table.clone(), col.name.clone()))
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        let native = match self.dialect {
            Dialect::Postgres => matches!(
                base.as_str(),
                "int2"
                    | "int4"
                    | "int8"
                    | "float4"
                    | "float8"
                    | "bool"
                    | "text"
                    | "varchar"
                    | "bpchar"
                    | "date"
                    | "timestamp"
                    | "timestamptz"
                    | "bytea"
            ),
            Dialect::Mysql => matches!(
                base.as_str(),
                "tinyint"
                    | "smallint"
                    | "mediumint"
                    | "int"
                    | "integer"
                    | "bigint"
                    | "float"
                    | "double"
                    | "char"
                    | "varchar"
                    | "text"
                    | "tinytext"
                    | "mediumtext"
                    | "longtext"
                    | "date"
                    | "datetime"
                    | "timestamp"
                    | "blob"
                    | "tinyblob"
                    | "mediumblob"
                    | "longblob"
                    | "binary"
                    | "varbinary"
            ),
            Dialect::Sqlite => false,
        };
        if native {
            q
        } else if mysql && base == "bit" {
            // Never through a text cast, which turns bytes ≥ 0x80 into '?': the bits as a string
            // of the declared width, as PostgreSQL shows a bit(n).
            let width = col
                .declared_type
                .split(['(', ')'])
                .nth(1)
                .and_then(|w| w.trim().parse::<u32>().ok())
                .unwrap_or(1);
            format!("LPAD(BIN({q}), {width}, '0') AS {q}")
        } else if mysql && is_geometry(&base) {
            // Geometry as its exact well-known binary.
            format!("ST_AsBinary({q}) AS {q}")
        } else if mysql && base == "year" {
            format!("CAST({q} AS SIGNED) AS {q}")
        } else if mysql {
            format!("CAST({q} AS CHAR) AS {q}")
        } else if base == "money" {
            // The amount, not the locale's text ('$1,234.50').
            format!("{q}::numeric::text AS {q}")
        } else {
            format!("{q}::text AS {q}")
        }
    }

    pub(super) fn qualified(&self, t: &TableName) -> String {
        let mysql = self.dialect == Dialect::Mysql;
        match &t.schema {
            Some(s) => format!("{}.{}", quote_ident(s, mysql), quote_ident(&t.name, mysql)),
            None => quote_ident(&t.name, mysql),
        }
    }

    /// Ranges of a large table, each read on its own: PostgreSQL tables by physical block (TID
    /// range scans read only their pages, whatever the row order), else by a single integer
    /// primary key (MySQL's tables are stored in key order).
    pub(super) fn partitions(&self, table: &TableMeta, base: &str) -> Vec<String> {
        let single = [base.to_string()];
        if table.query.is_some() {
            return single.to_vec();
        }
        if self.dialect == Dialect::Postgres {
            if let Some(parts) = self.block_ranges(table, base) {
                return parts;
            }
        }
        if table.primary_key.len() != 1 {
            return single.to_vec();
        }
        let pk = &table.primary_key[0];
        let ty = self
            .base_types
            .get(&(table.name.clone(), pk.clone()))
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        if !matches!(
            ty.as_str(),
            "int2" | "int4" | "int8" | "int" | "integer" | "bigint" | "smallint" | "mediumint"
        ) {
            return single.to_vec();
        }
        let mysql = self.dialect == Dialect::Mysql;
        let qpk = quote_ident(pk, mysql);
        let sql = format!(
            "SELECT CAST(min({qpk}) AS {t}) AS lo, CAST(max({qpk}) AS {t}) AS hi, CAST(count(*) AS {t}) AS n FROM {}",
            self.qualified(&table.name),
            t = if mysql { "SIGNED" } else { "bigint" }
        );
        let Ok(rows) = self.fetch_rows(&sql) else {
            return single.to_vec();
        };
        let parse = |i: usize| {
            rows.first()
                .and_then(|r| r[i].as_deref())
                .and_then(|v| v.parse::<i64>().ok())
        };
        let (Some(lo), Some(hi), Some(n)) = (parse(0), parse(1), parse(2)) else {
            return single.to_vec();
        };
        if n < 1_000_000 {
            return single.to_vec();
        }
        // Ranges of about RANGE_ROWS rows: the reader keeps only a few in flight, which bounds
        // what the driver buffers ahead of the diff (see `sql::Ranges`).
        let parts = (n / RANGE_ROWS + 1).clamp(reading_width() as i64, 4096);
        let span = hi as i128 - lo as i128 + 1;
        let step = (span / parts as i128).max(1);
        let mut out = Vec::new();
        for p in 0..parts {
            let a = lo as i128 + step * p as i128;
            let cond = if p == parts - 1 {
                format!("{qpk} >= {a}")
            } else {
                format!("{qpk} >= {a} AND {qpk} < {}", a + step)
            };
            out.push(format!("{base} WHERE {cond}"));
        }
        out
    }
}

impl SqlSource {
    /// A PostgreSQL table (or materialized view) of a million rows or more as ranges of blocks
    /// (`ctid`, PostgreSQL 14 or later); `None` when it cannot be split so (a view, an older
    /// server, a small table).
    fn block_ranges(&self, table: &TableMeta, base: &str) -> Option<Vec<String>> {
        let rel = self.qualified(&table.name).replace('\'', "''");
        let sql = format!(
            "SELECT current_setting('server_version_num')::bigint AS v, c.relkind::text AS k, \
             (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::bigint AS blocks, \
             c.reltuples::bigint AS est FROM pg_class c WHERE c.oid = '{rel}'::regclass"
        );
        let rows = self.fetch_rows(&sql).ok()?;
        let row = rows.first()?;
        let num = |i: usize| row.get(i)?.as_deref()?.parse::<i64>().ok();
        let (version, blocks) = (num(0)?, num(2)?);
        let kind = row.get(1)?.as_deref()?;
        if version < 140_000 || !matches!(kind, "r" | "m") || blocks < 2 {
            return None;
        }
        // The planner's estimate, else a count (a table never analysed).
        let n = match num(3) {
            Some(n) if n > 0 => n,
            _ => {
                let count = format!(
                    "SELECT count(*)::bigint AS n FROM {}",
                    self.qualified(&table.name)
                );
                let r = self.fetch_rows(&count).ok()?;
                r.first()?.first()?.as_deref()?.parse::<i64>().ok()?
            }
        };
        if n < 1_000_000 {
            return None;
        }
        let parts = (n / RANGE_ROWS + 1)
            .clamp(reading_width() as i64, 4096)
            .min(blocks);
        let step = (blocks + parts - 1) / parts;
        let mut out = Vec::new();
        let mut a = 0;
        while a < blocks {
            let b = a + step;
            // The last range is open: pages added since the size was read are read too.
            let cond = if b >= blocks {
                format!("ctid >= '({a},0)'::tid")
            } else {
                format!("ctid >= '({a},0)'::tid AND ctid < '({b},0)'::tid")
            };
            out.push(format!("{base} WHERE {cond}"));
            a = b;
        }
        Some(out)
    }
}

/// Rows per key range of a large table (about 60 MiB of Arrow for a dozen columns).
pub(super) const RANGE_ROWS: i64 = 262_144;

/// Key ranges read at once (one connection each).
pub(super) fn reading_width() -> usize {
    rayon::current_num_threads().clamp(2, 8)
}

/// MySQL/MariaDB spatial types, read as well-known binary.
fn is_geometry(base: &str) -> bool {
    matches!(
        base,
        "geometry"
            | "point"
            | "linestring"
            | "polygon"
            | "multipoint"
            | "multilinestring"
            | "multipolygon"
            | "geometrycollection"
            | "geomcollection"
    )
}
