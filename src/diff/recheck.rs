//! `reckon diff --recheck DIR`: compare again only the keys an earlier `reckon diff --out DIR`
//! found differing (missing, extra or changed), for instance once replication lag has settled.
//! Both sides read only the rows of those keys, in SQL (`WHERE`), so the two sides must be
//! database tables keyed by integers or text (whose key text is the value on every engine). The
//! report says the counts are those keys', never the table's.

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, AsArray};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::plan::TablePlan;
use super::DiffError;
use crate::source::{Dialect, Source, TableMeta};

/// The keys of an earlier report, per source table (key values as shown, in key order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recheck {
    /// Source table → keys.
    pub keys: BTreeMap<String, Vec<Vec<String>>>,
    /// Source table → the key columns of the earlier report (source names), in order.
    pub key_columns: BTreeMap<String, Vec<String>>,
}

fn bad(dir: &Path, reason: impl std::fmt::Display) -> DiffError {
    DiffError::Recheck(format!("--recheck {}: {reason}", dir.display()))
}

/// Reads the differing keys of `DIR/diff_rows.parquet`.
pub fn read(dir: &Path) -> Result<Recheck, DiffError> {
    let path = dir.join("diff_rows.parquet");
    let file = std::fs::File::open(&path).map_err(|e| {
        bad(
            dir,
            format!("cannot read diff_rows.parquet ({e}): give the --out directory of an earlier `reckon diff`"),
        )
    })?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| bad(dir, format!("diff_rows.parquet: {e}")))?;
    let mut out = Recheck::default();
    let report: serde_json::Value = std::fs::read(dir.join("diff.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            bad(
                dir,
                "cannot read diff.json: give the --out directory of an earlier `reckon diff`",
            )
        })?;
    for t in report["tables"].as_array().into_iter().flatten() {
        let table = t["source_table"].as_str().unwrap_or_default().to_string();
        let masked =
            t["columns"].as_array().into_iter().flatten().any(|c| {
                c["key"].as_bool() == Some(true) && c["sensitive"].as_bool() == Some(true)
            });
        if masked {
            return Err(bad(dir, format!("the diff of {table} masked its key (--sensitive): its keys are shapes, not values")));
        }
        let key = t["key"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect();
        out.key_columns.insert(table, key);
    }
    for batch in reader {
        let batch = batch.map_err(|e| bad(dir, format!("diff_rows.parquet: {e}")))?;
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .cloned()
                .ok_or_else(|| bad(dir, format!("diff_rows.parquet has no column {name}")))
        };
        let (tables, values) = (col("source_table")?, col("key_values")?);
        let wrong = || {
            bad(
                dir,
                "diff_rows.parquet: a column is not of the type reckon writes",
            )
        };
        let (tables, values) = (
            tables.as_string_opt::<i32>().ok_or_else(wrong)?,
            values.as_list_opt::<i32>().ok_or_else(wrong)?,
        );
        for r in 0..batch.num_rows() {
            let parts = values.value(r);
            let parts = parts.as_string_opt::<i32>().ok_or_else(wrong)?;
            if parts.null_count() > 0 {
                return Err(bad(dir, "a key of diff_rows.parquet holds a NULL: such a row cannot be picked by its key"));
            }
            out.keys
                .entry(tables.value(r).to_string())
                .or_default()
                .push(
                    (0..parts.len())
                        .map(|i| parts.value(i).to_string())
                        .collect(),
                );
        }
    }
    Ok(out)
}

/// Whether a column of this base type keeps its value as its text on every engine: integers
/// and text (not fixed-width `char`, which pads).
fn by_text(dialect: Dialect, base: &str) -> Option<char> {
    let b = base.to_ascii_lowercase();
    match (dialect, b.as_str()) {
        (Dialect::Postgres, "int2" | "int4" | "int8") => Some('i'),
        (Dialect::Postgres, "text" | "varchar") => Some('t'),
        (Dialect::Mysql, "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint") => {
            Some('i')
        }
        (Dialect::Mysql, "varchar" | "text" | "tinytext" | "mediumtext" | "longtext") => Some('t'),
        (Dialect::Sqlite, "integer") => Some('i'),
        (Dialect::Sqlite, "text") => Some('t'),
        _ => None,
    }
}

/// The plan with both sides reading only the rows of `keys` (`dir` names the report, for
/// errors). An empty list reads no row.
pub fn restrict(
    src: &dyn Source,
    tgt: &dyn Source,
    plan: &TablePlan,
    recheck: &Recheck,
    dir: &Path,
) -> Result<TablePlan, DiffError> {
    let name = plan.source.name.to_string();
    let keys = recheck.keys.get(&name).map_or(&[][..], Vec::as_slice);
    let mut p = plan.clone();
    let key_len = plan.key_len;
    let now: Vec<&str> = plan.columns[..key_len.min(plan.columns.len())]
        .iter()
        .map(|c| c.source.as_str())
        .collect();
    match recheck.key_columns.get(&name) {
        Some(before)
            if before.len() == now.len()
                && before
                    .iter()
                    .zip(&now)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b)) => {}
        Some(before) => {
            return Err(bad(
                dir,
                format!(
                    "the earlier diff keyed {name} by ({}), this one by ({}): give the same --key",
                    before.join(", "),
                    now.join(", ")
                ),
            ))
        }
        // Not in the earlier report: nothing to compare again.
        None => {}
    }
    if key_len == 0 {
        return Err(bad(
            dir,
            format!(
                "{} has no key: a keyless diff cannot pick rows again",
                plan.source.name
            ),
        ));
    }
    for (side, source, meta, names) in [
        (
            "source",
            src,
            &mut p.source,
            plan.columns[..key_len]
                .iter()
                .map(|c| c.source.clone())
                .collect::<Vec<_>>(),
        ),
        (
            "target",
            tgt,
            &mut p.target,
            plan.columns[..key_len]
                .iter()
                .map(|c| c.target.clone())
                .collect::<Vec<_>>(),
        ),
    ] {
        let Some(pd) = source.pushdown() else {
            return Err(bad(
                dir,
                format!("the {side} is not a database: --recheck reads rows by key in SQL (rerun the whole diff on files)"),
            ));
        };
        if meta.query.is_some() {
            return Err(bad(
                dir,
                format!("the {side} is a --query: --recheck reads tables"),
            ));
        }
        let dialect = pd.dialect();
        let mut classes = Vec::new();
        for n in &names {
            let base = pd.base_type(&meta.name, n).unwrap_or_default();
            classes.push(by_text(dialect, &base).ok_or_else(|| {
                bad(
                    dir,
                    format!("key column {n} of {} is {base}: --recheck picks rows by integer or text keys only", meta.name),
                )
            })?);
        }
        let ident = |n: &str| match dialect {
            Dialect::Mysql => format!("`{}`", n.replace('`', "``")),
            _ => format!("\"{}\"", n.replace('"', "\"\"")),
        };
        let literal = |class: char, v: &str| -> Result<String, DiffError> {
            Ok(match (class, dialect) {
                ('i', _) => v
                    .parse::<i128>()
                    .map(|i| i.to_string())
                    .map_err(|_| bad(dir, format!("key value {v:?} is not an integer")))?,
                (_, Dialect::Mysql) => {
                    format!("BINARY '{}'", v.replace('\\', "\\\\").replace('\'', "''"))
                }
                // E'' reads the same whatever standard_conforming_strings says.
                (_, Dialect::Postgres) => {
                    format!("E'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
                }
                _ => format!("'{}'", v.replace('\'', "''")),
            })
        };
        let mut any = Vec::with_capacity(keys.len());
        for k in keys {
            if k.len() != key_len {
                return Err(bad(
                    dir,
                    format!(
                        "a key of {} has {} parts, the diff's key {key_len}",
                        plan.source.name,
                        k.len()
                    ),
                ));
            }
            let parts: Vec<String> = names
                .iter()
                .zip(&classes)
                .zip(k)
                .map(|((n, &c), v)| {
                    // MySQL text by its UTF-8 bytes, whatever the column's character set.
                    let column = match (c, dialect) {
                        ('t', Dialect::Mysql) => {
                            format!("BINARY CONVERT({} USING utf8mb4)", ident(n))
                        }
                        _ => ident(n),
                    };
                    Ok(format!("{column} = {}", literal(c, v)?))
                })
                .collect::<Result<_, DiffError>>()?;
            any.push(format!("({})", parts.join(" AND ")));
        }
        let cond = if any.is_empty() {
            "1 = 0".to_string()
        } else {
            format!("({})", any.join(" OR "))
        };
        let select = pd
            .select(meta, Some(&cond))
            .map_err(|e| bad(dir, e.to_string()))?;
        let restricted: TableMeta = TableMeta {
            query: Some(format!("{select} WHERE {cond}")),
            ..meta.clone()
        };
        *meta = restricted;
    }
    Ok(p)
}
