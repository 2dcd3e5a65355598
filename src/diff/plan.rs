//! Planning one table pair: which source column is compared with which target column, the key,
//! how each side's values are read for comparison, the rules, and the schema findings.
//!
//! Columns pair by name (exactly, then case-insensitively when that is unambiguous), or through
//! the mapping's `rename`. The key comes from `--key`, then the mapping, then the source's
//! declared primary key, then the target's; with none, the diff is an exact multiset diff of whole
//! rows. Key columns come first in [`TablePlan::columns`].
//!
//! Untyped sides (CSV, SQLite text) are read as their counterpart's type where the text parses
//! (see `canonical::TextAs`); a MySQL `TIMESTAMP` (stored in UTC, read in a `+00:00` session) is
//! an instant; an integer 0/1 facing a boolean (MySQL `tinyint(1)`, SQLite) is a boolean, while 2
//! stays a number and so differs.

use std::collections::BTreeSet;

use super::mapping::TableMapping;
use super::rules::{ColumnRules, Rule};
use super::schema::{compare_column, logical, logical_sqlite, ColumnType, Logical, SchemaFinding};
use super::DiffError;
use crate::source::{ColumnMeta, TableMeta};
use crate::value::canonical::TextAs;
use crate::value::text::FloatWidth;

/// The kind of engine a side is, as far as comparison cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// SQLite (types values, not columns).
    Sqlite,
    /// Parquet files.
    Parquet,
    /// CSV files (all text).
    Csv,
}

/// How one side's column is read for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// How text values are read.
    pub text_as: TextAs,
    /// Integers 0/1 read as booleans (the other side is boolean).
    pub int_as_bool: bool,
    /// Local date-times read as UTC instants (MySQL `TIMESTAMP`).
    pub as_instant: bool,
    /// The column is a 32-bit float that a reader may have widened (PostgreSQL `real` arrives as
    /// float64): its values are narrowed back, exactly, before reading as a decimal.
    pub float32: bool,
    /// Trailing spaces are padding, not data: both sides are `CHAR(n)` (PostgreSQL returns the
    /// padding, MariaDB strips it; in a blank-padded type they are the same value).
    pub char_pad: bool,
}

impl Read {
    /// Values read as `text_as` with no other adjustment.
    pub fn plain(text_as: TextAs) -> Read {
        Read {
            text_as,
            int_as_bool: false,
            as_instant: false,
            float32: false,
            char_pad: false,
        }
    }
}

/// One compared column pair.
#[derive(Debug, Clone)]
pub struct ColumnPlan {
    /// Name in the source.
    pub source: String,
    /// Name in the target.
    pub target: String,
    /// Declared type in the source.
    pub source_type: String,
    /// Declared type in the target.
    pub target_type: String,
    /// How the source side is read.
    pub source_read: Read,
    /// How the target side is read.
    pub target_read: Read,
    /// Declared rules.
    pub rules: ColumnRules,
    /// Never shown raw.
    pub sensitive: bool,
}

/// Everything needed to diff one table pair.
#[derive(Debug, Clone)]
pub struct TablePlan {
    /// The source table.
    pub source: TableMeta,
    /// The target table.
    pub target: TableMeta,
    /// Compared columns, key columns first.
    pub columns: Vec<ColumnPlan>,
    /// How many of `columns` are the key (0: multiset diff of whole rows).
    pub key_len: usize,
    /// Where the key came from: `--key`, `mapping`, `source primary key`, `target primary key`,
    /// or `none (multiset)`.
    pub key_origin: String,
    /// Schema findings.
    pub schema: Vec<SchemaFinding>,
}

/// What the user asked for one table pair, beyond the catalog.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// `--key` (source names).
    pub key: Option<Vec<String>>,
    /// The mapping's entry for this pair.
    pub mapping: Option<TableMapping>,
    /// `--rule COLUMN=RULE` (source names).
    pub rules: Vec<(String, Rule)>,
    /// `--sensitive` (source names).
    pub sensitive: Vec<String>,
    /// `--exclude` (source names).
    pub exclude: Vec<String>,
}

fn find<'a>(cols: &'a [ColumnMeta], name: &str) -> Option<&'a ColumnMeta> {
    crate::source::find_name(cols, name, |c| c.name.as_str()).ok()
}

/// Refuses a table in which two columns have the same name: values could be read from the wrong
/// one (a CSV header `k,amount,amount`).
fn refuse_duplicate_names(t: &TableMeta, side: &str) -> Result<(), DiffError> {
    let mut seen = BTreeSet::new();
    for c in &t.columns {
        if !seen.insert(c.name.as_str()) {
            return Err(DiffError::AmbiguousColumn {
                table: format!("{side} {}", t.name),
                column: c.name.clone(),
                why: "two columns have this name".into(),
                candidates: t
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, x)| x.name == c.name)
                    .map(|(i, x)| format!("{} (column {})", x.name, i + 1))
                    .collect(),
            });
        }
    }
    Ok(())
}

fn column_type(c: &ColumnMeta, engine: Engine) -> ColumnType {
    let logical = match engine {
        Engine::Sqlite => match &c.storage_classes {
            // A column whose values are all text is text, whatever it declares.
            Some(sc) if sc.text > 0 && sc.integer + sc.real + sc.blob == 0 => Logical::Untyped,
            _ => logical_sqlite(&c.declared_type),
        },
        Engine::Csv => Logical::Untyped,
        // A MySQL TIMESTAMP is stored in UTC and read in a +00:00 session: an instant.
        Engine::Mysql => match logical(&c.declared_type) {
            Logical::Timestamp(p, _)
                if c.declared_type
                    .to_ascii_lowercase()
                    .starts_with("timestamp") =>
            {
                Logical::Timestamp(p, true)
            }
            l => l,
        },
        _ => logical(&c.declared_type),
    };
    ColumnType {
        declared: c.declared_type.clone(),
        logical,
        nullable: c.nullable,
    }
}

/// How a text value is read to meet a declared type: the strict reader of that type.
fn text_as_type(l: &Logical) -> Option<TextAs> {
    Some(match l {
        Logical::Int(_) | Logical::Decimal(_) => TextAs::Decimal,
        Logical::Float(32) => TextAs::Float(FloatWidth::F32),
        Logical::Float(_) => TextAs::Float(FloatWidth::F64),
        Logical::Bool => TextAs::Bool,
        Logical::Date => TextAs::Date,
        Logical::Timestamp(..) => TextAs::Timestamp,
        Logical::Time => TextAs::Time,
        Logical::Uuid => TextAs::Uuid,
        _ => return None,
    })
}

/// How one side's column is read. The one rule, per value and never per column:
/// - an untyped side (CSV, SQLite) reads a text as its counterpart's type when it parses exactly
///   (`text::*`), an SQLite integer facing a float as that float when it holds it exactly, and
///   an SQLite REAL facing a decimal as the decimal its shortest round-trip text names; facing
///   another untyped side, it reads as its own declared type (SQLite `NUMERIC`), if any;
/// - a typed side that a reader delivered as text (PostgreSQL numeric, time, uuid; MySQL `TIME`
///   or a column holding a zero date) reads it back as its own declared type, so one odd value
///   (a zero date) stays text and differs while the rest compare as dates;
/// - a text column facing a UUID reads UUIDs in any case;
/// - a PostgreSQL interval facing a time reads `[-]H:MM:SS[.f]` as that duration;
/// - a float facing an integer or a decimal reads as the decimal its shortest round-trip text
///   names, at its own width (float32 0.3 is 0.3);
/// - when either side is boolean, integers 0/1 are booleans on both sides (MySQL `tinyint(1)`,
///   SQLite `BOOLEAN`, `'1'`/`'0'`), and any other integer stays a number (2 is not true).
fn read_for(own: &ColumnType, engine: Engine, other: &ColumnType) -> Read {
    let untyped = matches!(engine, Engine::Csv | Engine::Sqlite);
    let as_instant =
        engine == Engine::Mysql && own.declared.to_ascii_lowercase().starts_with("timestamp");
    let mut text_as = if untyped && other.logical == Logical::Untyped {
        // Two untyped sides (SQLite and CSV): the declared type, where there is one, says how
        // both read (an SQLite NUMERIC column and a CSV both read numbers as decimals).
        text_as_type(&own.logical)
    } else if untyped {
        text_as_type(&other.logical)
    } else if matches!(own.logical, Logical::Text(_) | Logical::Char(_))
        && other.logical == Logical::Uuid
    {
        Some(TextAs::Uuid)
    } else if matches!(own.logical, Logical::Float(_))
        && matches!(other.logical, Logical::Int(_) | Logical::Decimal(_))
    {
        // A float facing an exact number is the decimal its shortest round-trip text names
        // (double 0.5 = numeric 0.5, double 0.1 = numeric 0.1, 0.30000000000000004 ≠ 0.3).
        Some(TextAs::Decimal)
    } else if matches!(&own.logical, Logical::Other(t) if t == "interval")
        && other.logical == Logical::Time
    {
        // A MySQL TIME is an interval of up to ±838 hours: a PostgreSQL interval holding only
        // hours, minutes and seconds (IntervalStyle postgres) is the same value.
        Some(TextAs::Time)
    } else {
        text_as_type(&own.logical)
    }
    .unwrap_or(TextAs::Text);
    if as_instant && text_as == TextAs::Timestamp {
        text_as = TextAs::Instant;
    }
    let boolean = own.logical == Logical::Bool || other.logical == Logical::Bool;
    Read {
        float32: !untyped && own.logical == Logical::Float(32),
        char_pad: matches!(own.logical, Logical::Char(_))
            && matches!(other.logical, Logical::Char(_)),
        text_as,
        int_as_bool: boolean && (untyped || matches!(own.logical, Logical::Bool | Logical::Int(_))),
        as_instant,
    }
}

fn key_compatible(a: &Logical, b: &Logical) -> bool {
    a.family() == b.family() || matches!(a, Logical::Untyped) || matches!(b, Logical::Untyped)
}

/// Plans the diff of one table pair.
pub fn plan(
    source: &TableMeta,
    source_engine: Engine,
    target: &TableMeta,
    target_engine: Engine,
    req: &PlanRequest,
) -> Result<TablePlan, DiffError> {
    let table = source.name.to_string();
    refuse_duplicate_names(source, "source")?;
    refuse_duplicate_names(target, "target")?;
    let m = req.mapping.clone().unwrap_or_default();
    let unknown = |column: &str, field: &str| DiffError::UnknownColumn {
        table: table.clone(),
        column: column.to_string(),
        side: "source".into(),
        field: field.into(),
        available: source.columns.iter().map(|c| c.name.clone()).collect(),
    };
    // Every column the user named must exist in the source.
    let mut named: Vec<(&str, &str)> = Vec::new();
    named.extend(m.exclude.iter().map(|c| (c.as_str(), "exclude")));
    named.extend(req.exclude.iter().map(|c| (c.as_str(), "--exclude")));
    named.extend(m.sensitive.iter().map(|c| (c.as_str(), "sensitive")));
    named.extend(m.rename.keys().map(|c| (c.as_str(), "rename")));
    named.extend(m.rules.keys().map(|c| (c.as_str(), "rules")));
    named.extend(req.rules.iter().map(|(c, _)| (c.as_str(), "--rule")));
    for (c, field) in &named {
        if find(&source.columns, c).is_none() {
            return Err(unknown(c, field));
        }
    }
    let excluded: BTreeSet<String> = m
        .exclude
        .iter()
        .chain(&req.exclude)
        .filter_map(|c| find(&source.columns, c).map(|x| x.name.clone()))
        .collect();
    let sensitive: Vec<&String> = m.sensitive.iter().chain(&req.sensitive).collect();
    let mut schema = Vec::new();
    let mut pairs: Vec<ColumnPlan> = Vec::new();
    // Targets paired by exact name (or a rename) first, so that a case-insensitive match can
    // never take a column that another source column names exactly.
    let wanted: Vec<(String, bool)> = source
        .columns
        .iter()
        .map(|sc| {
            let renamed = m
                .rename
                .iter()
                .find(|(k, _)| find(std::slice::from_ref(sc), k).is_some())
                .map(|(_, v)| v.clone());
            let r = renamed.is_some();
            (renamed.unwrap_or_else(|| sc.name.clone()), r)
        })
        .collect();
    // One target column pairs with one source column: two renames onto one name, a rename onto
    // a name another source column has, or two source columns that match one target column only
    // case-insensitively (`Val`, `val` → `VAL`) are refused, never paired twice.
    let live: Vec<(&ColumnMeta, &String)> = source
        .columns
        .iter()
        .zip(&wanted)
        .filter(|(sc, _)| !excluded.contains(&sc.name))
        .map(|(sc, (w, _))| (sc, w))
        .collect();
    for t in &target.columns {
        let exact: Vec<&str> = live
            .iter()
            .filter(|(_, w)| **w == t.name)
            .map(|(sc, _)| sc.name.as_str())
            .collect();
        let loose: Vec<&str> = live
            .iter()
            .filter(|(_, w)| {
                w.eq_ignore_ascii_case(&t.name) && !target.columns.iter().any(|o| &o.name == *w)
            })
            .map(|(sc, _)| sc.name.as_str())
            .collect();
        let (why, who) = if exact.len() > 1 {
            (
                "several source columns pair with it (by name or by a rename)",
                exact,
            )
        } else if exact.is_empty() && loose.len() > 1 {
            (
                "several source columns match it case-insensitively and none exactly",
                loose,
            )
        } else {
            continue;
        };
        return Err(DiffError::AmbiguousColumn {
            table: format!("target {}", target.name),
            column: t.name.clone(),
            why: why.into(),
            candidates: who.into_iter().map(String::from).collect(),
        });
    }
    let mut used_targets: BTreeSet<String> = wanted
        .iter()
        .zip(&source.columns)
        .filter(|(_, sc)| !excluded.contains(&sc.name))
        .filter_map(|((w, _), _)| target.columns.iter().find(|t| &t.name == w))
        .map(|t| t.name.clone())
        .collect();
    for (sc, (want, renamed)) in source.columns.iter().zip(wanted) {
        if excluded.contains(&sc.name) {
            schema.push(SchemaFinding {
                column: sc.name.clone(),
                kind: "excluded".into(),
                severity: "info".into(),
                detail: "excluded from the comparison by the user".into(),
            });
            continue;
        }
        let renamed = renamed.then(|| want.clone());
        let exact = target.columns.iter().find(|t| t.name == want);
        let tc = match exact {
            Some(t) => Some(t),
            None => {
                let ci: Vec<&ColumnMeta> = target
                    .columns
                    .iter()
                    .filter(|t| {
                        t.name.eq_ignore_ascii_case(&want) && !used_targets.contains(&t.name)
                    })
                    .collect();
                if ci.len() > 1 {
                    return Err(DiffError::AmbiguousColumn {
                        table: format!("target {}", target.name),
                        column: want.clone(),
                        why: "several columns match it case-insensitively and none exactly".into(),
                        candidates: ci.iter().map(|c| c.name.clone()).collect(),
                    });
                }
                ci.first().copied()
            }
        };
        let Some(tc) = tc else {
            if renamed.is_some() {
                return Err(DiffError::UnknownColumn {
                    table: target.name.to_string(),
                    column: want,
                    side: "target".into(),
                    field: "rename".into(),
                    available: target.columns.iter().map(|c| c.name.clone()).collect(),
                });
            }
            schema.push(SchemaFinding {
                column: sc.name.clone(),
                kind: "only-in-source".into(),
                severity: "error".into(),
                detail: format!("{} is not in the target: its data is not there", sc.name),
            });
            continue;
        };
        used_targets.insert(tc.name.clone());
        if tc.name != sc.name {
            schema.push(SchemaFinding {
                column: sc.name.clone(),
                kind: "renamed".into(),
                severity: "info".into(),
                detail: format!("{} → {}", sc.name, tc.name),
            });
        }
        let (st, tt) = (
            column_type(sc, source_engine),
            column_type(tc, target_engine),
        );
        schema.extend(compare_column(&sc.name, &st, &tt));
        let mut rules: Vec<Rule> = m
            .rules
            .iter()
            .filter(|(k, _)| find(std::slice::from_ref(sc), k).is_some())
            .flat_map(|(_, v)| v.iter().cloned())
            .collect();
        rules.extend(
            req.rules
                .iter()
                .filter(|(k, _)| find(std::slice::from_ref(sc), k).is_some())
                .map(|(_, r)| r.clone()),
        );
        pairs.push(ColumnPlan {
            source: sc.name.clone(),
            target: tc.name.clone(),
            source_type: sc.declared_type.clone(),
            target_type: tc.declared_type.clone(),
            source_read: read_for(&st, source_engine, &tt),
            target_read: read_for(&tt, target_engine, &st),
            rules: ColumnRules(rules),
            sensitive: sensitive
                .iter()
                .any(|s| s.eq_ignore_ascii_case(&sc.name) || s.eq_ignore_ascii_case(&tc.name)),
        });
    }
    for tc in &target.columns {
        if !used_targets.contains(&tc.name)
            && !excluded.iter().any(|e| e.eq_ignore_ascii_case(&tc.name))
        {
            schema.push(SchemaFinding {
                column: tc.name.clone(),
                kind: "only-in-target".into(),
                severity: "warning".into(),
                detail: format!("{} is only in the target (not compared)", tc.name),
            });
        }
    }
    // The key, in source names.
    let pair_of = |name: &str| {
        crate::source::find_name(&pairs, name, |p| p.source.as_str())
            .ok()
            .and_then(|p| pairs.iter().position(|x| std::ptr::eq(x, p)))
    };
    let (key, origin): (Vec<String>, &str) = if let Some(k) = &req.key {
        (k.clone(), "--key")
    } else if let Some(k) = &m.key {
        (k.clone(), "mapping")
    } else if !source.primary_key.is_empty()
        && source.primary_key.iter().all(|k| pair_of(k).is_some())
    {
        (source.primary_key.clone(), "source primary key")
    } else if !target.primary_key.is_empty()
        && target
            .primary_key
            .iter()
            .all(|k| pairs.iter().any(|p| p.target.eq_ignore_ascii_case(k)))
    {
        let k = target
            .primary_key
            .iter()
            .filter_map(|k| pairs.iter().find(|p| p.target.eq_ignore_ascii_case(k)))
            .map(|p| p.source.clone())
            .collect();
        (k, "target primary key")
    } else {
        (Vec::new(), "none (multiset of whole rows)")
    };
    let mut ordered = Vec::new();
    for k in &key {
        let k = k.trim();
        let Some(i) = pair_of(k) else {
            let in_source = find(&source.columns, k).is_some();
            return Err(DiffError::KeyColumn {
                table: table.clone(),
                column: k.to_string(),
                side: if in_source { "target" } else { "source" }.into(),
                available: if in_source {
                    &target.columns
                } else {
                    &source.columns
                }
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            });
        };
        if ordered.contains(&i) {
            continue;
        }
        let p = &pairs[i];
        let st = column_type(
            find(&source.columns, &p.source).expect("paired"),
            source_engine,
        );
        let tt = column_type(
            find(&target.columns, &p.target).expect("paired"),
            target_engine,
        );
        if !key_compatible(&st.logical, &tt.logical) {
            return Err(DiffError::KeyType {
                table: table.clone(),
                column: p.source.clone(),
                source_type: p.source_type.clone(),
                target_type: p.target_type.clone(),
            });
        }
        ordered.push(i);
    }
    let key_len = ordered.len();
    let mut columns: Vec<ColumnPlan> = ordered.iter().map(|&i| pairs[i].clone()).collect();
    columns.extend(
        pairs
            .iter()
            .enumerate()
            .filter(|(i, _)| !ordered.contains(i))
            .map(|(_, p)| p.clone()),
    );
    if columns.is_empty() {
        return Err(DiffError::NoColumns {
            source_table: table,
            target_table: target.name.to_string(),
        });
    }
    Ok(TablePlan {
        source: source.clone(),
        target: target.clone(),
        columns,
        key_len,
        key_origin: origin.into(),
        schema,
    })
}
