//! `reckon profile --pushdown`: what SQL computes exactly over the whole table, in the database
//! (`queries/<dialect>/profile.sql`), laid over the profile reckon streams, from the whole table
//! or, with `--sample-rows N`, from a sample of about N rows. The report says which statistic
//! came from where.
//!
//! What SQL can compute exactly, per column ([`Family`]):
//! - rows and NULLs, of every column;
//! - the exact distinct count of integers, text (by bytes, whatever the collation; MariaDB's
//!   TEXT and BLOB types by their SHA-256), dates, decimals (as their text), floats (by their
//!   bits; MariaDB stores no -0 or NaN), instants, local date-times, times and short byte
//!   strings, and on PostgreSQL also of booleans and `bytea`;
//! - minimum and maximum of integers, decimals of a declared scale, doubles and PostgreSQL reals
//!   (NaN left out, as the profile leaves it out), PostgreSQL dates, instants and local
//!   date-times (as epoch microseconds; infinities left out), and text (in code-point order,
//!   as reckon orders it);
//! - mean and standard deviation of integers and decimals (the mean from the exact sum);
//! - empty texts and text lengths (shortest, longest, mean, in characters);
//! - for a sampled table, its declared primary key's NULLs and repeats ([`keys`]) and its
//!   declared foreign keys, over both whole tables.
//!
//! With a sample, SQL computes all of it. Streaming every row, reckon computes it too, exactly,
//! except distinct counts past `--exact-distinct-limit`: SQL is then asked only for those (a
//! `COUNT(DISTINCT)` costs a sort of the column). Everything else (shapes, top values,
//! encodings, date formats, quantiles, which depend on reckon's reading) is streamed. A table
//! that is sampled has no duplicate-row count, no key candidates but SQL's and no inferred
//! relationship: a sample cannot show that a value is unique or missing.

use serde::Serialize;

use crate::diff::pushdown::sql::Templates;
use crate::source::{Dialect, Pushdown, SourceError, TableMeta};

mod keys;
mod overlay;

pub use keys::{check_relationship, IN_SQL};
pub use overlay::{overlay, overlay_whole};

/// How a table was profiled under `--pushdown`.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct ProfilePushdown {
    /// The rows reckon read itself, when they were a sample (else every row was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<Sample>,
    /// Per column, the statistics computed in SQL over the whole table.
    pub exact_in_sql: Vec<ExactStats>,
    /// The table's statistics computed in SQL over the whole table (`primary_key_duplicates`,
    /// `primary_key_nulls`), beside its rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub table_in_sql: Vec<String>,
}

/// The sample reckon read.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Sample {
    /// Rows read.
    pub rows: u64,
    /// How they were picked.
    pub method: String,
}

/// The statistics of one column that SQL computed.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct ExactStats {
    /// The column.
    pub column: String,
    /// `rows`, `nulls`, `distinct`, `min`, `max`, `mean`, `std`, `empty`, `len_min`,
    /// `len_max`, `len_mean`.
    pub stats: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Family {
    /// Integers: distinct, extremes, mean and deviation (from the exact sum).
    Int,
    /// Dates: distinct and extremes (ISO text).
    Date,
    /// Text, by its bytes: distinct, empties, lengths, and extremes in code-point order. A
    /// `blob` (MariaDB's TEXT types, which `DISTINCT` compares on their first `max_sort_length`
    /// bytes) is counted by its SHA-256 and has no extremes.
    Text {
        blob: bool,
    },
    /// Decimals of a declared scale: distinct (by the named template), extremes (their text,
    /// one scale), mean and deviation.
    Decimal(&'static str),
    /// Instants and local date-times: distinct by value, extremes as epoch microseconds (by
    /// the named template: `micros.tz` or `micros.local`).
    Temporal(&'static str),
    /// Doubles: the distinct count by the named template, and extremes (NaN left out, as the
    /// profile leaves it out), shown as reckon shows a float.
    Float(&'static str),
    /// Only the distinct count, by the named template (`distinct.NAME`): values SQL counts as
    /// reckon does, but whose extremes it would not show as reckon does.
    Distinct(&'static str),
    Other,
}

/// The declared scale of `numeric(p,s)` / `decimal(p,s)` (`None`: none declared).
fn declared_scale(declared: &str) -> Option<i8> {
    let inner = declared.split_once('(')?.1.split_once(')')?.0;
    inner.split_once(',')?.1.trim().parse().ok()
}

fn family(dialect: Dialect, base: &str, declared: &str) -> Family {
    let declared = declared.to_ascii_lowercase();
    match (dialect, base) {
        (Dialect::Postgres, "int2" | "int4" | "int8") => Family::Int,
        (Dialect::Postgres, "date") => Family::Date,
        (Dialect::Postgres, "text" | "varchar") => Family::Text { blob: false },
        // Decimals are read as their text (1.0 and 1.00 apart): one declared scale gives one
        // text per value, so extremes and sums are the text's.
        (Dialect::Postgres, "numeric") if declared_scale(&declared).is_some() => {
            Family::Decimal("distinct.numeric")
        }
        (Dialect::Postgres, "numeric") => Family::Distinct("distinct.numeric"),
        // Floats by their bits (-0 and 0 apart); reals widened to doubles, as reckon reads them.
        (Dialect::Postgres, "float8") => Family::Float("distinct.float8"),
        (Dialect::Postgres, "float4") => Family::Float("distinct.float4"),
        (Dialect::Postgres, "timestamptz") => Family::Temporal("micros.tz"),
        (Dialect::Postgres, "timestamp") => Family::Temporal("micros.local"),
        // Times are read as text; booleans and bytes by value.
        (Dialect::Postgres, "time" | "bool" | "bytea") => Family::Distinct("distinct.value"),
        // tinyint(1) may be read as a boolean; an unsigned bigint may pass i64.
        (Dialect::Mysql, "tinyint") if declared.starts_with("tinyint(1)") => Family::Other,
        (Dialect::Mysql, "bigint") if declared.contains("unsigned") => Family::Other,
        (Dialect::Mysql, "tinyint" | "smallint" | "mediumint" | "int" | "bigint") => Family::Int,
        (Dialect::Mysql, "varchar") => Family::Text { blob: false },
        (Dialect::Mysql, "tinytext" | "text" | "mediumtext" | "longtext") => {
            Family::Text { blob: true }
        }
        (Dialect::Mysql, "tinyblob" | "blob" | "mediumblob" | "longblob") => {
            Family::Distinct("distinct.blob")
        }
        (Dialect::Mysql, "decimal" | "numeric") => Family::Decimal("distinct.value"),
        // Date-times: a zero date has no epoch time, and leaves the extremes to the stream.
        (Dialect::Mysql, "datetime") => Family::Temporal("micros.local"),
        (Dialect::Mysql, "timestamp") => Family::Temporal("micros.tz"),
        // Dates' extremes may be zero dates, which reckon reads as text.
        (Dialect::Mysql, "date" | "time" | "binary" | "varbinary") => {
            Family::Distinct("distinct.value")
        }
        (Dialect::Mysql, "double") => Family::Float("distinct.value"),
        _ => Family::Other,
    }
}

/// The family of a column of the table.
fn column_family(db: &dyn Pushdown, meta: &TableMeta, col: &str) -> Family {
    let declared = meta
        .columns
        .iter()
        .find(|c| c.name == col)
        .map(|c| c.declared_type.as_str())
        .unwrap_or_default();
    family(
        db.dialect(),
        &db.base_type(&meta.name, col).unwrap_or_default(),
        declared,
    )
}

/// How SQL gave a column's extremes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Extremes {
    #[default]
    None,
    /// Integers and ISO dates, shown as SQL gives them.
    Plain,
    /// Doubles' text, read back and shown as reckon shows a float.
    Float,
    /// Decimal text of the column's one scale.
    Decimal,
    /// Epoch microseconds, shown in the column's kind.
    Micros,
    /// Text, in code-point order.
    Text,
}

/// What SQL said of one column (`None`: not asked).
#[derive(Debug, Clone, Default, PartialEq)]
struct ColumnSql {
    nulls: Option<u64>,
    distinct: Option<u64>,
    min: Option<String>,
    max: Option<String>,
    extremes: Extremes,
    empty: Option<u64>,
    /// Shortest and longest text, and the sum of the lengths (characters).
    lengths: Option<[Option<u64>; 3]>,
    /// The exact sum of the values (decimal text), and their sample standard deviation.
    sum: Option<String>,
    std: Option<String>,
    /// Whether the sum and deviation were asked (they are NULL when every value is).
    moments: bool,
}

/// What SQL said of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSql {
    rows: u64,
    columns: Vec<ColumnSql>,
    /// The declared primary key's rows holding a NULL and rows repeating an earlier row's key,
    /// when SQL checked it (a sampled table).
    primary_key: Option<keys::KeyCounts>,
}

/// What to ask SQL for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ask {
    /// Everything SQL computes exactly (the stream is a sample).
    All,
    /// Only the distinct counts of these columns (the stream read every row, and counted the
    /// other columns' distinct values exactly).
    Distinct,
}

fn tpl(dialect: Dialect) -> Templates {
    match dialect {
        Dialect::Postgres => Templates::parse(
            dialect,
            "profile.sql",
            include_str!("../../../queries/postgres/profile.sql"),
        ),
        Dialect::Mysql => Templates::parse(
            dialect,
            "profile.sql",
            include_str!("../../../queries/mysql/profile.sql"),
        ),
        Dialect::Sqlite => unreachable!("SQLite tables are profiled streaming (profile_tables)"),
    }
}

/// The columns whose distinct values SQL counts exactly (by their family).
pub fn countable(db: &dyn Pushdown, meta: &TableMeta) -> Vec<bool> {
    meta.columns
        .iter()
        .map(|c| {
            let base = db.base_type(&meta.name, &c.name).unwrap_or_default();
            family(db.dialect(), &base, &c.declared_type) != Family::Other
        })
        .collect()
}

/// Computes the table's statistics: `ask` says what, `columns` for which. The columns are split
/// into one query per core, run at once on their own connections (a `COUNT(DISTINCT)` is a sort
/// the database runs on one core).
pub fn table_sql(
    db: &dyn Pushdown,
    meta: &TableMeta,
    ask: Ask,
    columns: &[bool],
) -> Result<TableSql, SourceError> {
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let asked: Vec<usize> = (0..columns.len()).filter(|&i| columns[i]).collect();
    let groups: Vec<Vec<bool>> = (0..cores.min(asked.len()).max(1))
        .map(|g| {
            let mut mask = vec![false; columns.len()];
            for &i in asked.iter().skip(g).step_by(cores) {
                mask[i] = true;
            }
            mask
        })
        .collect();
    // A sampled table's declared key is checked at once, on a connection of its own.
    // A key of one column that SQL counts is read off that column's counts (no second sort).
    let single = match meta.primary_key.as_slice() {
        [k] => meta
            .columns
            .iter()
            .position(|c| &c.name == k)
            .filter(|&i| columns[i] && keys::counts_as_key(column_family(db, meta, k))),
        _ => None,
    };
    let check_key = ask == Ask::All && !meta.primary_key.is_empty() && single.is_none();
    let (results, key) = std::thread::scope(|scope| {
        let failed = || SourceError::query(&meta.name.to_string(), "a query thread failed");
        let key = check_key.then(|| scope.spawn(|| keys::check_primary_key(db, meta)));
        let handles: Vec<_> = groups
            .iter()
            .map(|mask| scope.spawn(move || table_sql_one(db, meta, ask, mask)))
            .collect();
        let results: Vec<Result<TableSql, SourceError>> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(failed())))
            .collect();
        let key = key.map(|h| h.join().unwrap_or_else(|_| Err(failed())));
        (results, key)
    });
    let primary_key = key.transpose()?.flatten();
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let rows = results.first().map_or(0, |r| r.rows);
    let of = |i: usize| {
        groups
            .iter()
            .zip(&results)
            .find(|(mask, _)| mask[i])
            .map(|(_, r)| (r.rows, r.columns[i].clone()))
    };
    let primary_key = match (ask, single) {
        (Ask::All, Some(i)) => of(i).and_then(|(rows, c)| {
            // Rows, NULLs and distinct values of one query: one snapshot.
            let (nulls, distinct) = (c.nulls?, c.distinct?);
            Some(keys::KeyCounts {
                nulls,
                duplicates: rows.saturating_sub(nulls).saturating_sub(distinct),
            })
        }),
        _ => primary_key,
    };
    let columns = (0..columns.len())
        .map(|i| of(i).map(|(_, c)| c).unwrap_or_default())
        .collect();
    Ok(TableSql {
        rows,
        columns,
        primary_key,
    })
}

/// One query for the columns of `columns`.
fn table_sql_one(
    db: &dyn Pushdown,
    meta: &TableMeta,
    ask: Ask,
    columns: &[bool],
) -> Result<TableSql, SourceError> {
    let dialect = db.dialect();
    let t = tpl(dialect);
    let mut cols = String::new();
    // Per column: its family and which fields were asked, in order.
    let mut layout: Vec<Vec<&'static str>> = Vec::new();
    for (c, &wanted) in meta.columns.iter().zip(columns) {
        let base = db.base_type(&meta.name, &c.name).unwrap_or_default();
        let fam = family(dialect, &base, &c.declared_type);
        let q = t.quote(&c.name);
        let mut fields: Vec<&'static str> = Vec::new();
        match (ask, fam) {
            _ if !wanted => {}
            (Ask::All, Family::Other) => fields.push("nulls"),
            (Ask::All, Family::Int) => fields.extend([
                "nulls",
                "distinct.int",
                "min.int",
                "max.int",
                "sum.num",
                "std.num",
            ]),
            (Ask::All, Family::Date) => {
                fields.extend(["nulls", "distinct.date", "min.date", "max.date"])
            }
            (Ask::All, Family::Text { blob }) => {
                fields.extend([
                    "nulls",
                    if blob {
                        "distinct.blobtext"
                    } else {
                        "distinct.text"
                    },
                    "empty.text",
                    "lenmin.text",
                    "lenmax.text",
                    "lensum.text",
                ]);
                if !blob {
                    fields.extend(["min.text", "max.text"]);
                }
            }
            (Ask::All, Family::Decimal(d)) => fields.extend([
                "nulls",
                d,
                "min.decimal",
                "max.decimal",
                "sum.num",
                "std.num",
            ]),
            (Ask::All, Family::Temporal(m)) => fields.extend([
                "nulls",
                "distinct.value",
                if m == "micros.tz" {
                    "min.micros.tz"
                } else {
                    "min.micros.local"
                },
                if m == "micros.tz" {
                    "max.micros.tz"
                } else {
                    "max.micros.local"
                },
            ]),
            (Ask::All, Family::Distinct(d)) => fields.extend(["nulls", d]),
            (Ask::All, Family::Float(d)) => fields.extend(["nulls", d, "min.float", "max.float"]),
            (Ask::Distinct, Family::Distinct(d) | Family::Float(d) | Family::Decimal(d)) => {
                fields.push(d)
            }
            (Ask::Distinct, Family::Int) => fields.push("distinct.int"),
            (Ask::Distinct, Family::Date) => fields.push("distinct.date"),
            (Ask::Distinct, Family::Text { blob: false }) => fields.push("distinct.text"),
            (Ask::Distinct, Family::Text { blob: true }) => fields.push("distinct.blobtext"),
            (Ask::Distinct, Family::Temporal(_)) => fields.push("distinct.value"),
            (Ask::Distinct, Family::Other) => {}
        }
        for f in &fields {
            cols.push_str(", ");
            cols.push_str(&t.fill(f, &[("c", &q)]));
        }
        layout.push(fields);
    }
    let sql = t.fill(
        "table",
        &[("cols", &cols), ("table", &db.qualified(&meta.name))],
    );
    let rows = db.rows(&sql)?;
    let bad = |what: &str| {
        SourceError::query(
            &meta.name.to_string(),
            format!("the profile's SQL returned no {what}"),
        )
    };
    let row = rows.first().ok_or_else(|| bad("row"))?;
    let num = |i: usize| -> Result<u64, SourceError> {
        row.get(i)
            .cloned()
            .flatten()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| bad("count"))
    };
    let mut at = 1;
    let mut out = Vec::new();
    for fields in layout {
        let mut c = ColumnSql::default();
        for f in fields {
            match f.split('.').next().unwrap_or(f) {
                "nulls" => c.nulls = Some(num(at)?),
                "distinct" => c.distinct = Some(num(at)?),
                "min" => {
                    c.min = row.get(at).cloned().flatten();
                    c.extremes = match f {
                        "min.float" => Extremes::Float,
                        "min.decimal" => Extremes::Decimal,
                        "min.text" => Extremes::Text,
                        _ if f.starts_with("min.micros") => Extremes::Micros,
                        _ => Extremes::Plain,
                    };
                }
                "max" => c.max = row.get(at).cloned().flatten(),
                "sum" => {
                    c.sum = row.get(at).cloned().flatten();
                    c.moments = true;
                }
                "std" => c.std = row.get(at).cloned().flatten(),
                // NULL when every value is NULL.
                f @ ("lenmin" | "lenmax" | "lensum") => {
                    let v = row
                        .get(at)
                        .cloned()
                        .flatten()
                        .map(|v| v.trim().parse::<u64>().map_err(|_| bad("length")))
                        .transpose()?;
                    let l = c.lengths.get_or_insert([None; 3]);
                    l[match f {
                        "lenmin" => 0,
                        "lenmax" => 1,
                        _ => 2,
                    }] = v;
                }
                _ => c.empty = Some(num(at)?),
            }
            at += 1;
        }
        out.push(c);
    }
    Ok(TableSql {
        rows: num(0)?,
        columns: out,
        primary_key: None,
    })
}

/// The table's rows, as SQL counted them.
pub fn rows_of(sql: &TableSql) -> u64 {
    sql.rows
}

/// The condition that picks about `want` of `rows` rows of the table named `rel` (unqualified),
/// the same ones on every run of an unchanged table, and how it picks them.
pub fn sample_condition(dialect: Dialect, want: u64, rows: u64, rel: &str) -> (String, String) {
    let t = tpl(dialect);
    let fraction = want as f64 / rows.max(1) as f64;
    match dialect {
        Dialect::Postgres => {
            let limit = ((fraction * 2_147_483_648.0) as u64).min(2_147_483_648);
            (
                t.fill(
                    "sample",
                    &[("limit", &limit.to_string()), ("rel", &t.quote(rel))],
                ),
                format!("rows whose text hashes below {fraction:.6} of the range"),
            )
        }
        Dialect::Sqlite => unreachable!("SQLite tables are profiled streaming (profile_tables)"),
        Dialect::Mysql => (
            t.fill("sample", &[("fraction", &format!("{fraction:.9}"))]),
            format!("RAND(1) below {fraction:.6}, in scan order"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_leave_out_what_sql_cannot_count_as_reckon_reads_it() {
        use Dialect::*;
        assert!(family(Postgres, "int8", "bigint") == Family::Int);
        assert!(
            family(Postgres, "varchar", "character varying(40)") == Family::Text { blob: false }
        );
        assert!(family(Postgres, "bpchar", "character(3)") == Family::Other);
        assert!(family(Postgres, "float8", "double precision") == Family::Float("distinct.float8"));
        assert!(
            family(Postgres, "numeric", "numeric(14,3)") == Family::Decimal("distinct.numeric")
        );
        // Without a declared scale, 1.0 and 1.00 are two texts of one number: counted by text,
        // never ranged.
        assert!(family(Postgres, "numeric", "numeric") == Family::Distinct("distinct.numeric"));
        assert!(
            family(Postgres, "timestamptz", "timestamp with time zone")
                == Family::Temporal("micros.tz")
        );
        assert!(
            family(Postgres, "timestamp", "timestamp without time zone")
                == Family::Temporal("micros.local")
        );
        assert!(family(Postgres, "float4", "real") == Family::Float("distinct.float4"));
        assert!(family(Postgres, "json", "json") == Family::Other);
        assert!(family(Mysql, "tinyint", "tinyint(1)") == Family::Other);
        assert!(family(Mysql, "tinyint", "tinyint(4)") == Family::Int);
        assert!(family(Mysql, "bigint", "bigint(20) unsigned") == Family::Other);
        // MariaDB dates: counted, but their extremes may be zero dates, which reckon reads as
        // text; BLOBs compare on their first max_sort_length bytes only.
        assert!(family(Mysql, "date", "date") == Family::Distinct("distinct.value"));
        assert!(family(Mysql, "blob", "blob") == Family::Distinct("distinct.blob"));
        assert!(family(Mysql, "text", "text") == Family::Text { blob: true });
        assert!(family(Mysql, "varchar", "varchar(20)") == Family::Text { blob: false });
        assert!(family(Mysql, "decimal", "decimal(14,3)") == Family::Decimal("distinct.value"));
        assert!(family(Mysql, "datetime", "datetime(6)") == Family::Temporal("micros.local"));
        assert!(family(Mysql, "double", "double") == Family::Float("distinct.value"));
        assert!(family(Mysql, "char", "char(3)") == Family::Other);
    }

    #[test]
    fn samples_ask_for_the_fraction_wanted() {
        let (pg, _) = sample_condition(Dialect::Postgres, 1000, 4000, "t");
        assert!(pg.ends_with("< 536870912"), "{pg}");
        assert!(pg.contains("ROW(\"t\".*)"), "{pg}");
        let (all, _) = sample_condition(Dialect::Postgres, 5000, 4000, "t");
        assert!(all.ends_with("< 2147483648"), "{all}");
        let (my, _) = sample_condition(Dialect::Mysql, 1, 3, "t");
        assert!(my.contains("< 0.333333333"), "{my}");
    }
}
