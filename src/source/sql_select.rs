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
    /// One aggregate scan of the table, only when it has temporal columns. The other values of
    /// such a column still compare as dates: a typed column read as text is read back as its type.
    pub(super) fn zero_date_columns(&self, table: &TableMeta) -> Result<Vec<String>, SourceError> {
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
            "SELECT {} FROM {}",
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

    /// Key-range partitions for a table with a single integer primary key, when it is large.
    pub(super) fn partitions(&self, table: &TableMeta, base: &str) -> Vec<String> {
        let single = [base.to_string()];
        if table.primary_key.len() != 1 || table.query.is_some() {
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
        let parts = rayon::current_num_threads().clamp(2, 8) as i64;
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
