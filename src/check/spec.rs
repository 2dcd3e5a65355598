//! The rules file (TOML): which rules hold for which tables and columns.
//!
//! ```toml
//! source = "sqlite://legacy.db"        # optional: for row_count = "source" and spot checks
//! sensitive = ["email"]                # values never shown; sample keys still are
//! samples = 5                          # sample keys kept per rule (default 5)
//!
//! [keys]                               # sample-key columns for tables without a primary key
//! order_items = ["order_id", "sku"]
//!
//! [[rule]]
//! kind = "not_null"                    # not_null | unique | range | allowed | regex | length |
//! table = "customers"                  # date_format | references | row_count | sql | spot
//! column = "email"                     # or columns = ["a", "b"] (unique, references)
//! name = "every customer has an email" # optional; default "<kind> <table>.<column>"
//! ```
//!
//! Per kind: `range` takes `min`/`max` (numbers, or ISO dates/times as strings); `allowed` takes
//! `values`; `regex` takes `pattern` (must match the whole value unless it anchors itself
//! otherwise: it is used as written); `length` takes `min`/`max` characters; `date_format` takes
//! `format` or `formats` (chrono, e.g. `%Y-%m-%d`); `references` takes `parent` and
//! `parent_columns`; `row_count` takes `equals` (a number or `"source"`) or `min`/`max`; `sql`
//! takes `query` (returning the violating rows, key columns first); `spot` takes `key = { id = 3 }`
//! or `keys = [{ id = 3 }, …]` and `expect = { column = value, … }` or `expect = "source"`.
//!
//! Every error names the file, the line and the rule: a rules file half understood would pass
//! rules nobody checked.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::CheckError;
use crate::config::line_of;

/// Sample keys kept per rule when the file does not say.
pub const DEFAULT_SAMPLES: usize = 5;

/// A parsed rules file.
#[derive(Debug, Clone, Default)]
pub struct RuleFile {
    /// The file, as given (for messages).
    pub path: String,
    /// The source to compare row counts and spot checks with.
    pub source: Option<String>,
    /// Columns whose values are never shown.
    pub sensitive: Vec<String>,
    /// The line of `sensitive` (for an unknown sensitive column).
    pub sensitive_line: usize,
    /// Sample keys kept per rule.
    pub samples: usize,
    /// Sample-key columns per table (else the declared primary key).
    pub keys: BTreeMap<String, Vec<String>>,
    /// The rules, in file order.
    pub rules: Vec<CheckRule>,
}

/// A bound of a range rule, as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Bound {
    /// A number (exact, as decimal text).
    Number(String),
    /// Anything else (ISO dates and times, text): compared as text.
    Text(String),
}

/// What a spot check expects.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// The same values as the source row with the same key.
    Source,
    /// These columns hold these values (`None` = NULL is not expressible in TOML; absent).
    Values(BTreeMap<String, String>),
}

/// What a row count must be.
#[derive(Debug, Clone, PartialEq)]
pub enum CountExpect {
    /// Equal to the source table's.
    Source,
    /// Within these bounds (inclusive).
    Between(Option<u64>, Option<u64>),
}

/// The rule kinds.
#[derive(Debug, Clone)]
pub enum RuleKind {
    /// No NULL in the column(s).
    NotNull,
    /// No two rows share the values of the columns (rows with a NULL in them are skipped, as in
    /// SQL; combine with not_null).
    Unique,
    /// Values within [min, max].
    Range(Option<Bound>, Option<Bound>),
    /// Values among these.
    Allowed(Vec<String>),
    /// Values match this pattern.
    Regex(regex::Regex),
    /// Lengths (characters) within [min, max].
    Length(Option<u64>, Option<u64>),
    /// Text values parse with one of these chrono formats.
    DateFormat(Vec<String>),
    /// Every non-NULL value (tuple) of the columns exists in the parent's columns.
    References {
        /// The parent table.
        parent: String,
        /// The parent's columns, in the same order.
        parent_columns: Vec<String>,
    },
    /// The table's row count.
    RowCount(CountExpect),
    /// A query returning the violating rows.
    Sql(String),
    /// Named rows hold given values, or the source's.
    Spot {
        /// The keys: column → value, as written.
        keys: Vec<BTreeMap<String, String>>,
        /// What the rows must hold.
        expect: Expect,
    },
}

impl RuleKind {
    /// The kind's name as written in the file.
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::NotNull => "not_null",
            RuleKind::Unique => "unique",
            RuleKind::Range(..) => "range",
            RuleKind::Allowed(_) => "allowed",
            RuleKind::Regex(_) => "regex",
            RuleKind::Length(..) => "length",
            RuleKind::DateFormat(_) => "date_format",
            RuleKind::References { .. } => "references",
            RuleKind::RowCount(_) => "row_count",
            RuleKind::Sql(_) => "sql",
            RuleKind::Spot { .. } => "spot",
        }
    }
}

/// One rule.
#[derive(Debug, Clone)]
pub struct CheckRule {
    /// Its name (unique in the file).
    pub name: String,
    /// What it checks.
    pub kind: RuleKind,
    /// The table.
    pub table: String,
    /// The columns (empty for row_count, sql, spot).
    pub columns: Vec<String>,
    /// The line of the rule in its file.
    pub line: usize,
    /// The line of its `column`/`columns` field (for unknown-column errors).
    pub column_line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    source: Option<String>,
    #[serde(default)]
    sensitive: Vec<String>,
    samples: Option<usize>,
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

/// One `[[rule]]` as written (shared with the sign-off spec).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    name: Option<String>,
    kind: Spanned<String>,
    table: String,
    column: Option<Spanned<String>>,
    columns: Option<Spanned<Vec<String>>>,
    min: Option<Spanned<toml::Value>>,
    max: Option<Spanned<toml::Value>>,
    values: Option<Vec<toml::Value>>,
    pattern: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    formats: Option<Spanned<Vec<String>>>,
    parent: Option<String>,
    parent_columns: Option<Vec<String>>,
    equals: Option<Spanned<toml::Value>>,
    query: Option<String>,
    key: Option<BTreeMap<String, toml::Value>>,
    keys: Option<Vec<BTreeMap<String, toml::Value>>>,
    expect: Option<Spanned<toml::Value>>,
}

/// The line of the first top-level `key = …` in a TOML text (1 when absent).
pub(crate) fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|r| r.trim_start().starts_with('='))
        })
        .map_or(1, |i| i + 1)
}

/// A TOML scalar as text (numbers as written by TOML, dates as ISO).
pub(crate) fn scalar(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        _ => None,
    }
}

impl RuleFile {
    /// Reads and parses a rules file.
    pub fn load(path: &Path) -> Result<RuleFile, CheckError> {
        RuleFile::load_skipping(path, &[])
    }

    /// Reads and parses a rules file whose top-level keys `skip` are given again on the command
    /// line: their `${VAR}` is not expanded (it need not be set).
    pub fn load_skipping(path: &Path, skip: &[&str]) -> Result<RuleFile, CheckError> {
        let text = crate::config::read_text(path).map_err(|e| CheckError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        // `${VAR}` in any value (credentials kept out of the file).
        let text = crate::config::expand_file(&text, skip).map_err(|(line, reason)| {
            CheckError::Parse {
                path: path.display().to_string(),
                line,
                reason,
            }
        })?;
        let mut file = RuleFile::parse(&text, &path.display().to_string())?;
        let dir = path.parent().unwrap_or(Path::new("."));
        file.source = file
            .source
            .map(|s| crate::migrate::plan::resolve_location(&s, dir));
        Ok(file)
    }

    /// Parses rules text; `path` is used in messages.
    pub fn parse(text: &str, path: &str) -> Result<RuleFile, CheckError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| CheckError::Parse {
            path: path.into(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            reason: e.message().trim().to_string(),
        })?;
        if raw.rule.is_empty() {
            // A rules file that checks nothing would pass whatever the data holds.
            return Err(CheckError::Parse {
                path: path.into(),
                line: 1,
                reason: "the file has no [[rule]] entry: nothing would be checked".into(),
            });
        }
        Ok(RuleFile {
            path: path.into(),
            source: raw.source,
            sensitive: raw.sensitive,
            sensitive_line: key_line(text, "sensitive"),
            samples: raw.samples.unwrap_or(DEFAULT_SAMPLES),
            keys: raw.keys,
            rules: rules_from_raw(text, path, raw.rule)?,
        })
    }
}

/// Turns `[[rule]]` entries into rules, checking each kind's fields.
pub(crate) fn rules_from_raw(
    text: &str,
    path: &str,
    raw: Vec<Spanned<RawRule>>,
) -> Result<Vec<CheckRule>, CheckError> {
    let mut out: Vec<CheckRule> = Vec::new();
    for spanned in raw {
        let line = line_of(text, spanned.span().start);
        let r = spanned.into_inner();
        let rule = build(text, path, line, r)?;
        if out.iter().any(|o| o.name == rule.name) {
            return Err(CheckError::Rule {
                path: path.into(),
                line,
                rule: rule.name,
                reason: "two rules have this name".into(),
            });
        }
        out.push(rule);
    }
    Ok(out)
}

fn build(text: &str, path: &str, line: usize, r: RawRule) -> Result<CheckRule, CheckError> {
    let kind_name = r.kind.get_ref().clone();
    let mut columns: Vec<String> = Vec::new();
    let mut column_line = line;
    if let Some(c) = &r.column {
        columns.push(c.get_ref().clone());
        column_line = line_of(text, c.span().start);
    }
    if let Some(cs) = &r.columns {
        columns.extend(cs.get_ref().iter().cloned());
        column_line = line_of(text, cs.span().start);
    }
    let name = r.name.clone().unwrap_or_else(|| match columns.as_slice() {
        [] => format!("{kind_name} {}", r.table),
        cs => format!("{kind_name} {}.{}", r.table, cs.join(",")),
    });
    let fail = |line: usize, reason: String| CheckError::Rule {
        path: path.into(),
        line,
        rule: name.clone(),
        reason,
    };
    // Fields each kind takes; anything else given is refused (a misplaced field is a typo).
    let given: Vec<(&str, bool)> = vec![
        ("column/columns", !columns.is_empty()),
        ("min", r.min.is_some()),
        ("max", r.max.is_some()),
        ("values", r.values.is_some()),
        ("pattern", r.pattern.is_some()),
        ("format/formats", r.format.is_some() || r.formats.is_some()),
        ("parent", r.parent.is_some()),
        ("parent_columns", r.parent_columns.is_some()),
        ("equals", r.equals.is_some()),
        ("query", r.query.is_some()),
        ("key/keys", r.key.is_some() || r.keys.is_some()),
        ("expect", r.expect.is_some()),
    ];
    let takes: &[&str] = match kind_name.as_str() {
        "not_null" | "unique" => &["column/columns"],
        "range" | "length" => &["column/columns", "min", "max"],
        "allowed" => &["column/columns", "values"],
        "regex" => &["column/columns", "pattern"],
        "date_format" => &["column/columns", "format/formats"],
        "references" => &["column/columns", "parent", "parent_columns"],
        "row_count" => &["equals", "min", "max"],
        "sql" => &["query"],
        "spot" => &["key/keys", "expect"],
        other => {
            return Err(fail(
                line_of(text, r.kind.span().start),
                format!("unknown kind '{other}'"),
            ))
        }
    };
    for (field, present) in &given {
        if *present && !takes.contains(field) {
            return Err(fail(line, format!("{kind_name} does not take '{field}'")));
        }
    }
    if takes.contains(&"column/columns") && columns.is_empty() {
        return Err(fail(
            line,
            format!("{kind_name} needs 'column' or 'columns'"),
        ));
    }
    let one_column = |what: &str| {
        if columns.len() > 1 && !matches!(what, "not_null") {
            Err(fail(
                column_line,
                format!("{what} takes one column per rule (give 'column')"),
            ))
        } else {
            Ok(())
        }
    };
    let number_bound = |v: &Option<Spanned<toml::Value>>| -> Result<Option<u64>, CheckError> {
        match v {
            None => Ok(None),
            Some(s) => match s.get_ref() {
                toml::Value::Integer(i) if *i >= 0 => Ok(Some(*i as u64)),
                _ => Err(fail(
                    line_of(text, s.span().start),
                    "must be a whole number ≥ 0".into(),
                )),
            },
        }
    };
    let kind = match kind_name.as_str() {
        "not_null" => RuleKind::NotNull,
        "unique" => RuleKind::Unique,
        "range" => {
            one_column("range")?;
            let bound = |v: &Option<Spanned<toml::Value>>| -> Result<Option<Bound>, CheckError> {
                Ok(match v {
                    None => None,
                    Some(s) => Some(match s.get_ref() {
                        toml::Value::Integer(i) => Bound::Number(i.to_string()),
                        toml::Value::Float(f) if f.is_finite() => Bound::Number(f.to_string()),
                        toml::Value::String(t) => Bound::Text(t.clone()),
                        toml::Value::Datetime(d) => Bound::Text(d.to_string().replace('T', " ")),
                        _ => {
                            return Err(fail(
                                line_of(text, s.span().start),
                                "a bound is a number, a date or a string".into(),
                            ))
                        }
                    }),
                })
            };
            let (min, max) = (bound(&r.min)?, bound(&r.max)?);
            if min.is_none() && max.is_none() {
                return Err(fail(line, "range needs 'min', 'max' or both".into()));
            }
            if let (Some(Bound::Number(lo)), Some(Bound::Number(hi))) = (&min, &max) {
                if crate::value::kind::cmp_decimal_str(lo, hi).is_gt() {
                    return Err(fail(
                        line,
                        format!("range min {lo} is above max {hi}: no value could pass"),
                    ));
                }
            }
            RuleKind::Range(min, max)
        }
        "allowed" => {
            one_column("allowed")?;
            let values = r.values.unwrap_or_default();
            let mut out = Vec::new();
            for v in &values {
                out.push(
                    scalar(v).ok_or_else(|| {
                        fail(line, "values are strings, numbers or booleans".into())
                    })?,
                );
            }
            if out.is_empty() {
                return Err(fail(line, "allowed needs a non-empty 'values' list".into()));
            }
            RuleKind::Allowed(out)
        }
        "regex" => {
            one_column("regex")?;
            let p = r
                .pattern
                .ok_or_else(|| fail(line, "regex needs 'pattern'".into()))?;
            let re = regex::Regex::new(p.get_ref()).map_err(|e| {
                fail(
                    line_of(text, p.span().start),
                    format!(
                        "bad pattern: {}",
                        e.to_string().lines().last().unwrap_or("").trim()
                    ),
                )
            })?;
            RuleKind::Regex(re)
        }
        "length" => {
            one_column("length")?;
            let (min, max) = (number_bound(&r.min)?, number_bound(&r.max)?);
            if min.is_none() && max.is_none() {
                return Err(fail(line, "length needs 'min', 'max' or both".into()));
            }
            RuleKind::Length(min, max)
        }
        "date_format" => {
            one_column("date_format")?;
            let (formats, fline) = match (r.format, r.formats) {
                (Some(f), None) => (vec![f.get_ref().clone()], line_of(text, f.span().start)),
                (None, Some(fs)) => (fs.get_ref().clone(), line_of(text, fs.span().start)),
                _ => {
                    return Err(fail(
                        line,
                        "give 'format' or 'formats' (one of them)".into(),
                    ))
                }
            };
            if formats.is_empty() {
                return Err(fail(fline, "'formats' is empty".into()));
            }
            for f in &formats {
                crate::migrate::transform::check_format(f)
                    .map_err(|e| fail(fline, e.replace("date_formats: ", "")))?;
            }
            RuleKind::DateFormat(formats)
        }
        "references" => {
            let parent = r
                .parent
                .ok_or_else(|| fail(line, "references needs 'parent'".into()))?;
            let parent_columns = r.parent_columns.unwrap_or_else(|| columns.clone());
            if parent_columns.len() != columns.len() {
                return Err(fail(
                    line,
                    format!(
                        "{} column(s) reference {} parent column(s)",
                        columns.len(),
                        parent_columns.len()
                    ),
                ));
            }
            RuleKind::References {
                parent,
                parent_columns,
            }
        }
        "row_count" => match (&r.equals, &r.min, &r.max) {
            (Some(e), None, None) => match e.get_ref() {
                toml::Value::String(s) if s == "source" => RuleKind::RowCount(CountExpect::Source),
                toml::Value::Integer(i) if *i >= 0 => {
                    RuleKind::RowCount(CountExpect::Between(Some(*i as u64), Some(*i as u64)))
                }
                _ => {
                    return Err(fail(
                        line_of(text, e.span().start),
                        "equals is a row count or \"source\"".into(),
                    ))
                }
            },
            (None, _, _) if r.min.is_some() || r.max.is_some() => RuleKind::RowCount(
                CountExpect::Between(number_bound(&r.min)?, number_bound(&r.max)?),
            ),
            _ => {
                return Err(fail(
                    line,
                    "row_count needs 'equals' or 'min'/'max' (not both)".into(),
                ))
            }
        },
        "sql" => {
            let q = r.query.unwrap_or_default();
            if q.trim().is_empty() {
                return Err(fail(
                    line,
                    "sql needs a 'query' returning violating rows".into(),
                ));
            }
            RuleKind::Sql(q)
        }
        "spot" => {
            let mut keys = Vec::new();
            for k in r.key.into_iter().chain(r.keys.into_iter().flatten()) {
                let mut m = BTreeMap::new();
                for (c, v) in k {
                    let v = scalar(&v)
                        .ok_or_else(|| fail(line, format!("key value of '{c}' is not a scalar")))?;
                    m.insert(c, v);
                }
                if m.is_empty() {
                    return Err(fail(line, "a spot key names at least one column".into()));
                }
                keys.push(m);
            }
            if keys.is_empty() {
                return Err(fail(line, "spot needs 'key' or 'keys'".into()));
            }
            let e = r
                .expect
                .ok_or_else(|| fail(line, "spot needs 'expect'".into()))?;
            let eline = line_of(text, e.span().start);
            let expect = match e.into_inner() {
                toml::Value::String(s) if s == "source" => Expect::Source,
                toml::Value::Table(t) => {
                    if keys.len() > 1 {
                        return Err(fail(
                            eline,
                            "expected values go with one 'key'; several 'keys' need expect = \"source\"".into(),
                        ));
                    }
                    let mut m = BTreeMap::new();
                    for (c, v) in t {
                        let v = scalar(&v).ok_or_else(|| {
                            fail(eline, format!("expected '{c}' is not a scalar"))
                        })?;
                        m.insert(c, v);
                    }
                    Expect::Values(m)
                }
                _ => {
                    return Err(fail(
                        eline,
                        "expect is a table of column = value, or \"source\"".into(),
                    ))
                }
            };
            RuleKind::Spot { keys, expect }
        }
        _ => unreachable!("kind checked above"),
    };
    Ok(CheckRule {
        name,
        kind,
        table: r.table,
        columns,
        line,
        column_line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        let f = RuleFile::parse(
            r#"
[[rule]]
kind = "not_null"
table = "t"
column = "a"
[[rule]]
kind = "range"
table = "t"
column = "n"
min = 0
max = 9.5
[[rule]]
kind = "spot"
table = "t"
key = { id = 3 }
expect = { a = "x", n = 2 }
[[rule]]
kind = "row_count"
table = "t"
equals = "source"
"#,
            "r.toml",
        )
        .unwrap();
        assert_eq!(f.rules.len(), 4);
        assert_eq!(f.rules[0].name, "not_null t.a");
        assert!(matches!(
            &f.rules[1].kind,
            RuleKind::Range(Some(Bound::Number(a)), Some(Bound::Number(b))) if a == "0" && b == "9.5"
        ));
        assert!(matches!(
            &f.rules[3].kind,
            RuleKind::RowCount(CountExpect::Source)
        ));
    }

    #[test]
    fn errors_name_line_and_rule() {
        let e = RuleFile::parse(
            "[[rule]]\nkind = \"regex\"\ntable = \"t\"\ncolumn = \"a\"\npattern = \"[a-\"\n",
            "r.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("r.toml, line 5") && e.contains("regex t.a") && e.contains("pattern"),
            "{e}"
        );
        let e = RuleFile::parse(
            "[[rule]]\nkind = \"not_null\"\ntable = \"t\"\ncolumn = \"a\"\npattern = \"x\"\n",
            "r.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("does not take 'pattern'"), "{e}");
        let e = RuleFile::parse("[[rule]]\nkind = \"nul\"\ntable = \"t\"\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("unknown kind 'nul'"),
            "{e}"
        );
    }
}
