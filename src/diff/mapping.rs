//! The mapping file (TOML): for each table pair, the names on both sides, the key, renamed and
//! excluded columns, per-column rules and sensitive columns.
//!
//! ```toml
//! [[table]]
//! source = "legacy_customers"      # table in the source
//! target = "customers"             # table in the target (default: same name)
//! key = ["id"]                     # source column names (default: the declared primary key)
//! exclude = ["updated_at"]         # source columns not compared
//! sensitive = ["email"]            # never shown raw in any output
//! rename = { cust_name = "name" }  # source column = target column
//!
//! [table.rules]                    # source column = rules (see `rules.rs`)
//! name = ["trim", "nfc"]
//! balance = ["abs=0.005"]
//! active = ["map=Y:true;N:false"]
//! ```
//!
//! Every error names the file, the line and the field: a mapping that is silently half-read
//! would compare the wrong columns.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::rules::Rule;
use crate::error::Hinted;

/// A parsed mapping file.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    /// The table pairs, in file order.
    pub tables: Vec<TableMapping>,
}

/// One table pair.
#[derive(Debug, Clone, Default)]
pub struct TableMapping {
    /// The table in the source (`schema.table` or `table`).
    pub source: String,
    /// The table in the target.
    pub target: String,
    /// Key columns (source names); `None` = the declared primary key.
    pub key: Option<Vec<String>>,
    /// Source columns not compared.
    pub exclude: Vec<String>,
    /// Source columns never shown raw.
    pub sensitive: Vec<String>,
    /// Source column → target column.
    pub rename: BTreeMap<String, String>,
    /// Source column → rules.
    pub rules: BTreeMap<String, Vec<Rule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    table: Vec<RawTable>,
}

/// One `[[table]]` as written (shared with the sign-off spec).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTable {
    source: String,
    target: Option<String>,
    key: Option<Vec<String>>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    sensitive: Vec<String>,
    #[serde(default)]
    rename: BTreeMap<String, String>,
    #[serde(default)]
    rules: BTreeMap<String, Vec<Spanned<String>>>,
}

/// What is wrong with a mapping file.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("cannot read mapping file {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The TOML is malformed or has an unknown or mistyped field.
    #[error("mapping file {path}, line {line}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The parser's message.
        reason: String,
    },
    /// A rule cannot be understood.
    #[error("mapping file {path}, line {line}: table '{table}', rules.{column}: {reason}")]
    Rule {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The table pair (source name).
        table: String,
        /// The column.
        column: String,
        /// Why.
        reason: String,
    },
}

impl Hinted for MappingError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            MappingError::Read { .. } => "check the path given to --mapping".into(),
            MappingError::Parse { .. } => "each pair is a [[table]] with source, target, key, exclude, sensitive, rename and [table.rules]; see README.md".into(),
            MappingError::Rule { .. } => "rules: trim, char-pad, case-insensitive, nfc, signed-zero, nan-eq, abs=X, rel=X, precision=s|ms|us, tz-instant, json-semantic, map=FROM:TO;…".into(),
        })
    }
}

impl Mapping {
    /// Reads and parses a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let text = crate::config::read_text(path).map_err(|e| MappingError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let shown = path.display().to_string();
        // `${VAR}` in any value (a schema that differs per environment, say).
        let text = crate::config::expand_file(&text, &[]).map_err(|(line, reason)| {
            MappingError::Parse {
                path: shown.clone(),
                line,
                reason,
            }
        })?;
        Mapping::parse(&text, &shown)
    }

    /// Parses mapping text; `path` is only used in messages.
    pub fn parse(text: &str, path: &str) -> Result<Mapping, MappingError> {
        let raw: RawMapping = toml::from_str(text).map_err(|e| MappingError::Parse {
            path: path.into(),
            line: e
                .span()
                .map_or(1, |s| crate::config::line_of(text, s.start)),
            reason: e.message().trim().to_string(),
        })?;
        Ok(Mapping {
            tables: tables_from_raw(text, path, raw.table)?,
        })
    }
}

/// Turns `[[table]]` entries into table pairs, parsing their rules.
pub(crate) fn tables_from_raw(
    text: &str,
    path: &str,
    raw: Vec<RawTable>,
) -> Result<Vec<TableMapping>, MappingError> {
    let mut tables = Vec::new();
    for t in raw {
        let mut rules = BTreeMap::new();
        for (column, list) in t.rules {
            let mut parsed = Vec::new();
            for r in list {
                let line = crate::config::line_of(text, r.span().start);
                parsed.push(
                    Rule::parse(r.get_ref()).map_err(|reason| MappingError::Rule {
                        path: path.into(),
                        line,
                        table: t.source.clone(),
                        column: column.clone(),
                        reason,
                    })?,
                );
            }
            rules.insert(column, parsed);
        }
        tables.push(TableMapping {
            target: t.target.unwrap_or_else(|| t.source.clone()),
            source: t.source,
            key: t.key,
            exclude: t.exclude,
            sensitive: t.sensitive,
            rename: t.rename,
            rules,
        });
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_full_table_pair() {
        let m = Mapping::parse(
            "[[table]]\nsource = \"a\"\ntarget = \"b\"\nkey = [\"id\"]\nexclude = [\"x\"]\nrename = { n = \"name\" }\n[table.rules]\nname = [\"trim\", \"abs=0.5\"]\n",
            "m.toml",
        )
        .unwrap();
        let t = &m.tables[0];
        assert_eq!((t.source.as_str(), t.target.as_str()), ("a", "b"));
        assert_eq!(t.rename["n"], "name");
        assert_eq!(t.rules["name"].len(), 2);
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = Mapping::parse("[[table]]\nsource = \"a\"\nkeys = [\"id\"]\n", "m.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("keys"), "{e}");
        let e = Mapping::parse(
            "[[table]]\nsource = \"a\"\n[table.rules]\nname = [\"trim\",\n  \"bogus\"]\n",
            "m.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 5") && e.contains("rules.name") && e.contains("bogus"),
            "{e}"
        );
    }
}
