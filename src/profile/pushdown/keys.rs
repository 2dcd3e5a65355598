//! The declared keys of a sampled table, checked in SQL over the whole table: a sample cannot
//! show that a key repeats, or that a value has no parent.

use serde::Serialize;

use super::{column_family, tpl, Family};
use crate::profile::model::Relationship;
use crate::source::{Pushdown, SourceError, TableMeta};

/// The three counts of a check's one row (`None`: not three counts).
fn three_counts(rows: Vec<Vec<Option<String>>>) -> Option<[u64; 3]> {
    let row = rows.into_iter().next()?;
    let counts: Vec<u64> = row
        .iter()
        .map(|v| v.as_deref().and_then(|v| v.trim().parse::<u64>().ok()))
        .collect::<Option<_>>()?;
    counts.try_into().ok()
}

/// What SQL found of a declared primary key.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct KeyCounts {
    /// Rows with a NULL in a key column.
    pub nulls: u64,
    /// Rows whose key repeats an earlier row's (rows less NULL ones less distinct keys).
    pub duplicates: u64,
}

/// Whether SQL compares a key column of this family as reckon compares it (and so counts its
/// distinct values as the key check would).
pub fn counts_as_key(f: Family) -> bool {
    matches!(
        f,
        Family::Int
            | Family::Date
            | Family::Temporal(_)
            | Family::Text { blob: false }
            | Family::Decimal(_)
    )
}

/// Checks the table's declared primary key as the streamed profile checks it: rows holding a
/// NULL in it, and rows repeating another's key, each column compared as reckon compares it
/// (integers, dates and date-times by value, text by its bytes, decimals by their text).
/// `None` when a key column is of a type SQL does not compare so.
pub fn check_primary_key(
    db: &dyn Pushdown,
    meta: &TableMeta,
) -> Result<Option<KeyCounts>, SourceError> {
    let t = tpl(db.dialect());
    let mut values = Vec::new();
    let mut nulls = Vec::new();
    for col in &meta.primary_key {
        let value = match column_family(db, meta, col) {
            Family::Int | Family::Date | Family::Temporal(_) => "key.value.plain",
            Family::Text { blob: false } => "key.value.text",
            Family::Decimal(_) => "key.value.decimal",
            _ => return Ok(None),
        };
        let q = t.quote(col);
        values.push(t.fill(value, &[("c", &q)]));
        nulls.push(format!("{q} IS NULL"));
    }
    let sql = t.fill(
        "key.check",
        &[
            ("values", &values.join(", ")),
            ("any_null", &nulls.join(" OR ")),
            ("table", &db.qualified(&meta.name)),
        ],
    );
    let bad = || {
        SourceError::query(
            &meta.name.to_string(),
            "the primary-key check's SQL returned no counts",
        )
    };
    let counts = three_counts(db.rows(&sql)?)
        .filter(|c| c[1] + c[2] <= c[0])
        .ok_or_else(bad)?;
    Ok(Some(KeyCounts {
        nulls: counts[1],
        duplicates: counts[0] - counts[1] - counts[2],
    }))
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
    let fam = |meta: &TableMeta, col: &str| column_family(db, meta, col);
    let value = match (fam(child, &r.child_column), fam(parent, &r.parent_column)) {
        (Family::Int, Family::Int) => "fk.value.int",
        (Family::Text { blob: false }, Family::Text { blob: false }) => "fk.value.text",
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
    let counts =
        three_counts(db.rows(&t.fill("fk.check", &[("pairs", &pairs)]))?).ok_or_else(bad)?;
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
            let v = if masked {
                crate::profile::pattern::shape(&v)
            } else {
                v
            };
            Some(format!("{v} ({n} row{})", if n == 1 { "" } else { "s" }))
        })
        .collect();
    r.note = Some(IN_SQL.into());
    Ok(true)
}

/// The note of a relationship checked in SQL.
pub const IN_SQL: &str =
    "checked in SQL over both whole tables (a side was profiled from a sample)";
