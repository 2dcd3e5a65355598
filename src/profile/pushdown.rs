//! `reckon profile --pushdown`: what SQL computes exactly over the whole table, in the database
//! (`queries/<dialect>/profile.sql`), laid over the profile reckon streams, from the whole table
//! or, with `--sample-rows N`, from a sample of about N rows. The report says which statistic
//! came from where.
//!
//! What SQL can compute exactly, per column: rows and NULLs (every column); the exact distinct
//! count of integers, text (by bytes, whatever the collation), dates, decimals (as their text),
//! floats (by their bits; MariaDB stores no -0 or NaN), instants, local date-times, times and
//! short byte strings, and on PostgreSQL also of booleans and `bytea`; minimum and maximum of
//! integers, doubles (NaN left out, as the profile leaves it out) and PostgreSQL dates; empty
//! texts and text lengths (shortest, longest, mean, in characters). With a sample, SQL computes all of it.
//! Streaming every row, reckon computes it too, exactly, except distinct counts past
//! `--exact-distinct-limit`: SQL is then asked only for those (a `COUNT(DISTINCT)` costs a sort
//! of the column). Everything else (shapes, top values, encodings, date formats, quantiles, text
//! extremes, which depend on reckon's reading) is streamed. A table that is
//! sampled has no duplicate-row count, no key candidates but SQL's and no inferred relationship:
//! a sample cannot show that a value is unique or missing. Its declared foreign keys are checked
//! in SQL over both whole tables instead ([`check_relationship`]).

use serde::Serialize;

use crate::diff::pushdown::sql::Templates;
use crate::source::{Dialect, Pushdown, SourceError, TableMeta};

use super::model::{Relationship, TableProfile};

/// How a table was profiled under `--pushdown`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProfilePushdown {
    /// The rows reckon read itself, when they were a sample (else every row was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<Sample>,
    /// Per column, the statistics computed in SQL over the whole table.
    pub exact_in_sql: Vec<ExactStats>,
}

/// The sample reckon read.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sample {
    /// Rows read.
    pub rows: u64,
    /// How they were picked.
    pub method: String,
}

/// The statistics of one column that SQL computed.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExactStats {
    /// The column.
    pub column: String,
    /// `rows`, `nulls`, `distinct`, `min`, `max`, `empty`, `len_min`, `len_max`, `len_mean`.
    pub stats: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Family {
    Int,
    Date,
    Text,
    /// Doubles: the distinct count by the named template, and extremes (NaN left out, as the
    /// profile leaves it out), shown as reckon shows a float.
    Float(&'static str),
    /// Only the distinct count, by the named template (`distinct.NAME`): values SQL counts as
    /// reckon does, but whose extremes it would not show as reckon does.
    Distinct(&'static str),
    Other,
}

fn family(dialect: Dialect, base: &str, declared: &str) -> Family {
    let declared = declared.to_ascii_lowercase();
    match (dialect, base) {
        (Dialect::Postgres, "int2" | "int4" | "int8") => Family::Int,
        (Dialect::Postgres, "date") => Family::Date,
        (Dialect::Postgres, "text" | "varchar") => Family::Text,
        // Decimals are read as their text (1.0 and 1.00 apart); floats by their bits (-0 and 0
        // apart); instants, times, booleans and bytes by value.
        (Dialect::Postgres, "numeric") => Family::Distinct("distinct.numeric"),
        (Dialect::Postgres, "float8") => Family::Float("distinct.float8"),
        (Dialect::Postgres, "timestamp" | "timestamptz" | "time" | "bool" | "bytea") => {
            Family::Distinct("distinct.value")
        }
        // tinyint(1) may be read as a boolean; an unsigned bigint may pass i64.
        (Dialect::Mysql, "tinyint") if declared.starts_with("tinyint(1)") => Family::Other,
        (Dialect::Mysql, "bigint") if declared.contains("unsigned") => Family::Other,
        (Dialect::Mysql, "tinyint" | "smallint" | "mediumint" | "int" | "bigint") => Family::Int,
        // TEXT types are compared on their first max_sort_length bytes when sorted: varchar
        // only.
        (Dialect::Mysql, "varchar") => Family::Text,
        (
            Dialect::Mysql,
            "decimal" | "numeric" | "date" | "datetime" | "timestamp" | "time" | "binary"
            | "varbinary",
        ) => Family::Distinct("distinct.value"),
        (Dialect::Mysql, "double") => Family::Float("distinct.value"),
        _ => Family::Other,
    }
}

/// What SQL said of one column (`None`: not asked).
#[derive(Debug, Clone, Default, PartialEq)]
struct ColumnSql {
    nulls: Option<u64>,
    distinct: Option<u64>,
    min: Option<String>,
    max: Option<String>,
    extremes: bool,
    /// The extremes are doubles' (SQL's text, read back and shown as reckon shows a float).
    float: bool,
    empty: Option<u64>,
    /// Shortest and longest text, and the sum of the lengths (characters).
    lengths: Option<[Option<u64>; 3]>,
}

/// What SQL said of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSql {
    rows: u64,
    columns: Vec<ColumnSql>,
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
            include_str!("../../queries/postgres/profile.sql"),
        ),
        Dialect::Mysql => Templates::parse(
            dialect,
            "profile.sql",
            include_str!("../../queries/mysql/profile.sql"),
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
    let results: Vec<Result<TableSql, SourceError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .iter()
            .map(|mask| scope.spawn(move || table_sql_one(db, meta, ask, mask)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(SourceError::query(
                        &meta.name.to_string(),
                        "a query thread failed",
                    ))
                })
            })
            .collect()
    });
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let rows = results.first().map_or(0, |r| r.rows);
    let columns = (0..columns.len())
        .map(|i| {
            groups
                .iter()
                .zip(&results)
                .find(|(mask, _)| mask[i])
                .map(|(_, r)| r.columns[i].clone())
                .unwrap_or_default()
        })
        .collect();
    Ok(TableSql { rows, columns })
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
            (Ask::All, Family::Int) => {
                fields.extend(["nulls", "distinct.int", "min.int", "max.int"])
            }
            (Ask::All, Family::Date) => {
                fields.extend(["nulls", "distinct.date", "min.date", "max.date"])
            }
            (Ask::All, Family::Text) => fields.extend([
                "nulls",
                "distinct.text",
                "empty.text",
                "lenmin.text",
                "lenmax.text",
                "lensum.text",
            ]),
            (Ask::All, Family::Distinct(d)) => fields.extend(["nulls", d]),
            (Ask::All, Family::Float(d)) => fields.extend(["nulls", d, "min.float", "max.float"]),
            (Ask::Distinct, Family::Distinct(d) | Family::Float(d)) => fields.push(d),
            (Ask::Distinct, Family::Int) => fields.push("distinct.int"),
            (Ask::Distinct, Family::Date) => fields.push("distinct.date"),
            (Ask::Distinct, Family::Text) => fields.push("distinct.text"),
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
                    c.extremes = true;
                    c.float = f == "min.float";
                }
                "max" => c.max = row.get(at).cloned().flatten(),
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

/// A YYYY-MM-DD date as the profile shows it (other texts, such as BC dates, are left to the
/// streamed value).
fn plain_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Lays SQL's distinct counts over the profile of every row (`None`: SQL had nothing to add).
pub fn overlay_whole(p: &mut TableProfile, sql: Option<&TableSql>) {
    match sql {
        Some(sql) => overlay(p, sql, None),
        None => {
            p.pushdown = Some(ProfilePushdown {
                sample: None,
                exact_in_sql: Vec::new(),
            })
        }
    }
}

/// Lays SQL's statistics over a streamed profile; `sample` when the stream was a sample. Only
/// what SQL was asked for is laid over, and listed.
pub fn overlay(p: &mut TableProfile, sql: &TableSql, sample: Option<Sample>) {
    let sampled = sample.is_some();
    let mut exact = Vec::new();
    p.rows = sql.rows;
    for (col, s) in p.columns.iter_mut().zip(&sql.columns) {
        let mut stats: Vec<String> = Vec::new();
        if sampled {
            col.rows = sql.rows;
            stats.push("rows".into());
        }
        if let Some(n) = s.nulls {
            col.nulls = n;
            stats.push("nulls".into());
        }
        if let Some(d) = s.distinct {
            col.distinct = d;
            col.distinct_exact = true;
            col.distinct_std_error = 0.0;
            col.unique = col.nulls == 0 && d == sql.rows && sql.rows > 0;
            stats.push("distinct".into());
        } else if sampled {
            // A sample's distinct count says nothing of the table's.
            col.distinct_exact = false;
            col.unique = false;
        }
        let int = s.min.as_deref().is_some_and(|v| v.parse::<i128>().is_ok());
        let date =
            s.min.as_deref().is_some_and(plain_date) && s.max.as_deref().is_some_and(plain_date);
        // A double's text (shortest round trip, `Infinity`) read back: the same f64, shown as
        // the profile shows it.
        let float = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<f64>().ok());
        let floats = (s.float)
            .then(|| float(&s.min).zip(float(&s.max)))
            .flatten();
        if s.extremes && !col.sensitive && s.float {
            if let Some((a, b)) = floats {
                col.min = Some(format!("{a:?}"));
                col.max = Some(format!("{b:?}"));
                stats.push("min".into());
                stats.push("max".into());
            }
        } else if s.extremes && !col.sensitive && (int || date) {
            col.min = s.min.clone();
            col.max = s.max.clone();
            stats.push("min".into());
            stats.push("max".into());
        }
        if let Some(e) = s.empty {
            col.empty = e;
            stats.push("empty".into());
        }
        if let Some([min, max, sum]) = s.lengths {
            let non_null = col.rows.saturating_sub(col.nulls);
            col.len_min = min;
            col.len_max = max;
            col.len_mean = sum
                .filter(|_| non_null > 0)
                .map(|sum| sum as f64 / non_null as f64);
            stats.extend(["len_min".into(), "len_max".into(), "len_mean".into()]);
        }
        if !stats.is_empty() {
            exact.push(ExactStats {
                column: col.name.clone(),
                stats,
            });
        }
    }
    if sampled {
        p.duplicate_rows = None;
        p.duplicate_samples.clear();
        p.primary_key_duplicates = None;
        p.candidate_keys.clear();
        p.composite_keys_evaluated = false;
    }
    // Key candidates are single columns unique and without NULLs, else pairs: a column SQL
    // found so is one, whatever was streamed (a distinct count past --exact-distinct-limit, or
    // a sample, cannot show it), beside those the stream found.
    let singles: Vec<Vec<String>> = p
        .columns
        .iter()
        .filter(|col| {
            let in_sql = exact
                .iter()
                .any(|e| e.column == col.name && e.stats.iter().any(|s| s == "distinct"));
            let streamed = p
                .candidate_keys
                .iter()
                .any(|k| k == std::slice::from_ref(&col.name));
            (in_sql && col.unique) || streamed
        })
        .map(|col| vec![col.name.clone()])
        .collect();
    if !singles.is_empty() {
        p.candidate_keys = singles;
        p.composite_keys_evaluated = false;
    }
    p.pushdown = Some(ProfilePushdown {
        sample,
        exact_in_sql: exact,
    });
}

/// Checks a declared foreign key in SQL over both whole tables, as the streamed check would on
/// every row (a side of it was profiled from a sample, which cannot show that a value has no
/// parent). Only an integer column facing an integer one, or text facing text, is checked: SQL
/// compares those as reckon does (numbers by value, text by its bytes). Returns whether it was
/// checked; `masked` shows orphan values by their shape (a sensitive child column).
pub fn check_relationship(
    db: &dyn Pushdown,
    child: &TableMeta,
    parent: &TableMeta,
    r: &mut Relationship,
    samples: usize,
    masked: bool,
) -> Result<bool, SourceError> {
    let dialect = db.dialect();
    let fam = |meta: &TableMeta, col: &str| {
        let declared = meta
            .columns
            .iter()
            .find(|c| c.name == col)
            .map(|c| c.declared_type.clone())
            .unwrap_or_default();
        family(
            dialect,
            &db.base_type(&meta.name, col).unwrap_or_default(),
            &declared,
        )
    };
    let value = match (fam(child, &r.child_column), fam(parent, &r.parent_column)) {
        (Family::Int, Family::Int) => "fk.value.int",
        (Family::Text, Family::Text) => "fk.value.text",
        _ => return Ok(false),
    };
    let t = tpl(dialect);
    let (cq, pq) = (t.quote(&r.child_column), t.quote(&r.parent_column));
    let pairs = t.fill(
        "fk.pairs",
        &[
            ("child_value", &t.fill(value, &[("c", &cq)])),
            ("parent_value", &t.fill(value, &[("c", &pq)])),
            ("child", &db.qualified(&child.name)),
            ("parent", &db.qualified(&parent.name)),
            ("child_col", &cq),
            ("parent_col", &pq),
        ],
    );
    let bad = || {
        SourceError::query(
            &child.name.to_string(),
            "the foreign-key check's SQL returned no counts",
        )
    };
    let rows = db.rows(&t.fill("fk.check", &[("pairs", &pairs)]))?;
    let counts: Vec<u64> = rows
        .first()
        .ok_or_else(bad)?
        .iter()
        .map(|v| v.as_deref().and_then(|v| v.trim().parse::<u64>().ok()))
        .collect::<Option<Vec<u64>>>()
        .filter(|c| c.len() == 3)
        .ok_or_else(bad)?;
    let orphans = if counts[1] > 0 && samples > 0 {
        db.rows(&t.fill(
            "fk.orphans",
            &[("pairs", &pairs), ("n", &samples.to_string())],
        ))?
    } else {
        Vec::new()
    };
    r.checked = true;
    r.child_distinct = counts[0];
    r.orphan_distinct = counts[1];
    r.matched_distinct = counts[0] - counts[1].min(counts[0]);
    r.orphan_rows = Some(counts[2]);
    r.orphan_samples = orphans
        .into_iter()
        .filter_map(|row| {
            let v = row.first()?.clone()?;
            let n: u64 = row.get(1)?.as_deref()?.trim().parse().ok()?;
            let v = if masked { super::pattern::shape(&v) } else { v };
            Some(format!("{v} ({n} row{})", if n == 1 { "" } else { "s" }))
        })
        .collect();
    r.note = Some(IN_SQL.into());
    Ok(true)
}

/// The note of a relationship checked in SQL.
pub const IN_SQL: &str =
    "checked in SQL over both whole tables (a side was profiled from a sample)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_leave_out_what_sql_cannot_count_as_reckon_reads_it() {
        use Dialect::*;
        assert!(family(Postgres, "int8", "bigint") == Family::Int);
        assert!(family(Postgres, "varchar", "character varying(40)") == Family::Text);
        assert!(family(Postgres, "bpchar", "character(3)") == Family::Other);
        assert!(family(Postgres, "float8", "double precision") == Family::Float("distinct.float8"));
        assert!(
            family(Postgres, "numeric", "numeric(14,3)") == Family::Distinct("distinct.numeric")
        );
        assert!(family(Postgres, "float4", "real") == Family::Other);
        assert!(family(Postgres, "json", "json") == Family::Other);
        assert!(family(Mysql, "tinyint", "tinyint(1)") == Family::Other);
        assert!(family(Mysql, "tinyint", "tinyint(4)") == Family::Int);
        assert!(family(Mysql, "bigint", "bigint(20) unsigned") == Family::Other);
        // MariaDB dates: counted, but their extremes may be zero dates, which reckon reads as
        // text; BLOBs compare on their first max_sort_length bytes only.
        assert!(family(Mysql, "date", "date") == Family::Distinct("distinct.value"));
        assert!(family(Mysql, "blob", "blob") == Family::Other);
        assert!(family(Mysql, "text", "text") == Family::Other);
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
