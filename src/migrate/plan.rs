//! The migration plan (TOML): source, target, and the units in order.
//!
//! ```toml
//! name = "crm"                          # default: the file's stem
//! source = "sqlite://legacy.db"         # any reckon source; ${VAR} is expanded in any value
//! target = "${TARGET_URL}"              # PostgreSQL, MySQL/MariaDB or SQLite
//! batch_size = 10000                    # rows per transaction (default for every unit)
//!
//! [[unit]]
//! name = "customers"
//! table = "customers"                   # or query = "SELECT …", or query_file = "x.sql"
//! target = "customers"
//! key = ["cust_id"]                     # source columns; unique in the source
//! generated_id = "id"                   # the target generates this column: keep old → new ids
//! updated_at = "modified"               # for --delta
//!
//! [unit.columns]                        # target column = source column, or a transform
//! legacy_id = "cust_id"
//! email = { from = "email", trim = true, case = "lower" }
//! full_name = { concat = ["first", "last"], sep = " " }
//! status = { from = "status", map = { A = "active", I = "inactive" } }
//! signup = { from = "signup", date_formats = ["%d/%m/%Y"] }
//! ```
//!
//! Relative paths (an SQLite file, a query file) are resolved against the plan's directory.
//! Every error names the file, the line and the field.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use super::MigrateError;
use crate::config::{expand_file, line_of};

/// Rows per transaction when the plan does not say.
pub const DEFAULT_BATCH: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    name: Option<String>,
    source: String,
    target: String,
    ledger: Option<String>,
    idmap: Option<String>,
    batch_size: Option<usize>,
    #[serde(default)]
    unit: Vec<toml::Spanned<UnitSpec>>,
}

/// One unit as written in the plan.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitSpec {
    /// The unit's name (unique in the plan).
    pub name: String,
    /// The source table.
    pub table: Option<String>,
    /// A source query instead of a table.
    pub query: Option<String>,
    /// A file holding the source query (relative to the plan).
    pub query_file: Option<String>,
    /// The target table.
    pub target: String,
    /// Source key columns.
    pub key: Vec<String>,
    /// Rows per transaction.
    pub batch_size: Option<usize>,
    /// The source column that tells when a row last changed (for `--delta`).
    pub updated_at: Option<String>,
    /// The target column the target generates (serial, identity, auto-increment).
    pub generated_id: Option<String>,
    /// `unit` (default): all batches and their ledger rows in one transaction, so a failed or
    /// killed unit leaves nothing. `batch`: one transaction per batch, so a large unit resumes
    /// after its last committed batch.
    pub transaction: Option<String>,
    /// Rows in the target that the unit did not write do not fail verification.
    #[serde(default)]
    pub allow_extra: bool,
    /// `reckon migrate --keys-from`: delete the target rows a diff found under keys the source
    /// does not hold (else they are counted and left in place). Not part of the unit's checksum
    /// (it says what a repair may delete, not what the unit writes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_missing: bool,
    /// Target column → how it is computed. Absent: every source column, same name.
    pub columns: Option<BTreeMap<String, ColumnEntry>>,
}

/// How one target column is computed from a source row.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// The source column.
    pub from: Option<String>,
    /// Source columns joined with `sep` (NULLs skipped).
    pub concat: Option<Vec<String>>,
    /// A source column split on `sep` (a space: any run of whitespace); `part` picks the piece
    /// (0-based); a missing piece is NULL.
    pub split: Option<String>,
    /// Separator for `concat`/`split` (default one space).
    pub sep: Option<String>,
    /// Piece of `split` (default 0).
    pub part: Option<usize>,
    /// A constant.
    pub value: Option<String>,
    /// Trim surrounding whitespace.
    #[serde(default)]
    pub trim: bool,
    /// `lower` or `upper`.
    pub case: Option<String>,
    /// Values that become NULL (after trim and case), e.g. `[""]`.
    #[serde(default)]
    pub null_if: Vec<String>,
    /// Value map (after trim/case); unmapped values pass unchanged unless `strict_map`.
    pub map: Option<BTreeMap<String, String>>,
    /// A value the map does not know is an error.
    #[serde(default)]
    pub strict_map: bool,
    /// The value used for NULL.
    pub default: Option<String>,
    /// Parse text with these chrono formats, in order (a date, or a date-time if the format has a
    /// time).
    #[serde(default)]
    pub date_formats: Vec<String>,
    /// Cast: int, bigint, float, double, decimal(P,S), text, bool, date, timestamp, timestamptz.
    pub cast: Option<String>,
    /// Rewrite through the old → new id map of this (earlier) unit.
    pub lookup: Option<String>,
}

impl ColumnSpec {
    fn plain(from: &str) -> ColumnSpec {
        ColumnSpec {
            from: Some(from.to_string()),
            ..ColumnSpec::default()
        }
    }

    /// The source columns this column reads.
    pub fn inputs(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        v.extend(self.from.as_deref());
        v.extend(self.split.as_deref());
        if let Some(c) = &self.concat {
            v.extend(c.iter().map(String::as_str));
        }
        v
    }

    /// Whether the column is a plain copy of one source column.
    pub fn is_plain(&self) -> bool {
        self.from.is_some() && *self == ColumnSpec::plain(self.from.as_deref().unwrap_or(""))
    }
}

// A column is either `"source_col"` or a table of options; the derived struct keeps its exact
// error messages (unknown field, wrong type) for the table form.
struct SpecVisitor;

impl<'de> Visitor<'de> for SpecVisitor {
    type Value = ColumnSpec;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a source column name or a table such as { from = \"col\", trim = true }")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<ColumnSpec, E> {
        Ok(ColumnSpec::plain(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ColumnSpec, A::Error> {
        ColumnSpec::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

/// A column as written: `"source_col"` or a table of options.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct ColumnEntry(pub ColumnSpec);

impl<'de> Deserialize<'de> for ColumnEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ColumnEntry, D::Error> {
        d.deserialize_any(SpecVisitor).map(ColumnEntry)
    }
}

#[derive(Deserialize)]
struct RawColumns(BTreeMap<String, toml::Spanned<ColumnEntry>>);

/// A unit, resolved: query text read, checksum computed, columns in order.
#[derive(Debug, Clone)]
pub struct Unit {
    /// As written.
    pub spec: UnitSpec,
    /// 0-based position in the plan.
    pub ordinal: usize,
    /// The query text (from `query` or `query_file`).
    pub query: Option<String>,
    /// Target column → spec, in target-column order.
    pub columns: Vec<(String, ColumnSpec)>,
    /// Rows per transaction.
    pub batch_size: usize,
    /// SHA-256 of the unit's definition (with the query file's text).
    pub checksum: String,
    /// Line of the unit in the plan file.
    pub line: usize,
}

impl Unit {
    /// Whether the unit reads source column `name`: a key column, `updated_at`, or an input of a
    /// mapped column; every column when the unit maps none (it copies them all). A value the
    /// unit does not read cannot stop it.
    pub fn reads(&self, name: &str) -> bool {
        let is = |c: &str| c.eq_ignore_ascii_case(name);
        self.columns.is_empty()
            || self.spec.key.iter().any(|k| is(k))
            || self.spec.updated_at.as_deref().is_some_and(is)
            || self
                .columns
                .iter()
                .any(|(_, c)| c.inputs().into_iter().any(is))
    }
}

/// A parsed plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The plan's name (the ledger's `plan` column).
    pub name: String,
    /// The plan file.
    pub path: PathBuf,
    /// The source as written (expanded; may hold a password: never print it).
    pub source: String,
    /// The target as written (expanded; may hold a password: never print it).
    pub target: String,
    /// The ledger table in the target.
    pub ledger: String,
    /// The id-map table in the target.
    pub idmap: String,
    /// Units in order.
    pub units: Vec<Unit>,
    /// SHA-256 over the units' checksums, in order.
    pub checksum: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Resolves a relative SQLite or file path against the plan's directory.
/// A source or target location as written in a file, with a relative SQLite or file path made
/// relative to the file's directory (plans, rules files and sign-off specs alike).
pub(crate) fn resolve_location(loc: &str, dir: &Path) -> String {
    if let Some(p) = loc.strip_prefix("sqlite://") {
        if Path::new(p).is_relative() {
            return format!("sqlite://{}", dir.join(p).display());
        }
        return loc.to_string();
    }
    if !loc.contains("://") && Path::new(loc).is_relative() {
        return dir.join(loc).display().to_string();
    }
    loc.to_string()
}

impl Plan {
    /// Reads and checks a plan file. `source`/`target` override the plan's.
    pub fn load(
        path: &Path,
        source: Option<&str>,
        target: Option<&str>,
    ) -> Result<Plan, MigrateError> {
        let shown = path.display().to_string();
        let text = crate::config::read_text(path).map_err(|e| MigrateError::Plan {
            path: shown.clone(),
            line: 0,
            reason: format!("cannot read the plan: {e}"),
        })?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // `${VAR}` in any value, except a source or target given again on the command line.
        let mut skip = Vec::new();
        skip.extend(source.map(|_| "source"));
        skip.extend(target.map(|_| "target"));
        let text = expand_file(&text, &skip).map_err(|(line, reason)| MigrateError::Plan {
            path: shown.clone(),
            line,
            reason,
        })?;
        Plan::parse(&text, &shown, dir, source, target)
    }

    /// Parses plan text; `path` is used in messages, `dir` to resolve relative paths.
    pub fn parse(
        text: &str,
        path: &str,
        dir: &Path,
        source: Option<&str>,
        target: Option<&str>,
    ) -> Result<Plan, MigrateError> {
        let perr = |line: usize, reason: String| MigrateError::Plan {
            path: path.into(),
            line,
            reason,
        };
        let raw: RawPlan = toml::from_str(text).map_err(|e| {
            perr(
                e.span().map_or(1, |s| line_of(text, s.start)),
                e.message().trim().to_string(),
            )
        })?;
        // The columns tables again, with spans, for per-column line numbers.
        let raw_columns: Vec<Option<RawColumns>> = {
            #[derive(Deserialize)]
            struct U {
                columns: Option<RawColumns>,
            }
            #[derive(Deserialize)]
            struct P {
                #[serde(default)]
                unit: Vec<U>,
            }
            let p: P = toml::from_str(text).map_err(|e| perr(1, e.message().to_string()))?;
            p.unit.into_iter().map(|u| u.columns).collect()
        };
        let source = match source {
            Some(s) => s.to_string(),
            None => resolve_location(&raw.source, dir),
        };
        let target = match target {
            Some(t) => t.to_string(),
            None => resolve_location(&raw.target, dir),
        };
        let name = raw.name.clone().unwrap_or_else(|| {
            Path::new(path)
                .file_stem()
                .map_or("plan".into(), |s| s.to_string_lossy().to_string())
        });
        if raw.unit.is_empty() {
            return Err(perr(1, "the plan has no [[unit]]".into()));
        }
        let default_batch = raw.batch_size.unwrap_or(DEFAULT_BATCH);
        let mut units: Vec<Unit> = Vec::new();
        for (ordinal, (spanned, cols)) in raw.unit.into_iter().zip(raw_columns).enumerate() {
            let line = line_of(text, spanned.span().start);
            let spec = spanned.into_inner();
            let uerr =
                |line: usize, reason: String| perr(line, format!("unit '{}': {reason}", spec.name));
            if units.iter().any(|u| u.spec.name == spec.name) {
                return Err(uerr(
                    line,
                    "a second unit has this name; names must be unique".into(),
                ));
            }
            let sources = [
                spec.table.is_some(),
                spec.query.is_some(),
                spec.query_file.is_some(),
            ];
            if sources.iter().filter(|b| **b).count() != 1 {
                return Err(uerr(
                    line,
                    "give exactly one of table, query or query_file".into(),
                ));
            }
            if spec.key.is_empty() {
                return Err(uerr(
                    line,
                    "key is empty: name the source columns that identify a row".into(),
                ));
            }
            let batch_size = spec.batch_size.unwrap_or(default_batch);
            if batch_size == 0 {
                return Err(uerr(line, "batch_size must be at least 1".into()));
            }
            if let Some(t) = &spec.transaction {
                if t != "unit" && t != "batch" {
                    return Err(uerr(
                        line,
                        format!("transaction = '{t}': write \"unit\" or \"batch\""),
                    ));
                }
            }
            let query = match (&spec.query, &spec.query_file) {
                (Some(q), _) => Some(q.clone()),
                (None, Some(f)) => {
                    let p = dir.join(f);
                    Some(
                        crate::config::read_text(&p)
                            .map_err(|e| uerr(line, format!("query_file {}: {e}", p.display())))?,
                    )
                }
                _ => None,
            };
            let mut columns: Vec<(String, ColumnSpec)> = Vec::new();
            if let Some(cols) = cols {
                for (target_col, s) in cols.0 {
                    let cline = line_of(text, s.span().start);
                    let c = s.into_inner().0;
                    check_column(&c, &units)
                        .map_err(|r| uerr(cline, format!("columns.{target_col}: {r}")))?;
                    columns.push((target_col, c));
                }
            }
            if spec.delete_missing && spec.allow_extra {
                return Err(uerr(line, "delete_missing and allow_extra: the target holds rows the unit did not write, which delete_missing would delete; choose one".to_string()));
            }
            if let Some(g) = &spec.generated_id {
                if columns.iter().any(|(t, _)| t == g) {
                    return Err(uerr(line, format!("generated_id '{g}' is also in columns: the target generates it, so reckon does not write it")));
                }
            }
            // batch_size changes how rows are grouped, not what is written.
            let mut for_sum = spec.clone();
            for_sum.batch_size = None;
            for_sum.transaction = None;
            // Nor does delete_missing (what a repair may delete).
            for_sum.delete_missing = false;
            let mut sum_input = serde_json::to_vec(&for_sum).unwrap_or_default();
            if let Some(q) = &query {
                sum_input.extend_from_slice(q.as_bytes());
            }
            units.push(Unit {
                checksum: sha256_hex(&sum_input),
                spec,
                ordinal,
                query,
                columns,
                batch_size,
                line,
            });
        }
        let all: String = units.iter().map(|u| u.checksum.as_str()).collect();
        Ok(Plan {
            name,
            path: PathBuf::from(path),
            source,
            target,
            ledger: raw.ledger.unwrap_or_else(|| "reckon_ledger".into()),
            idmap: raw.idmap.unwrap_or_else(|| "reckon_idmap".into()),
            checksum: sha256_hex(all.as_bytes()),
            units,
        })
    }

    /// The unit with this name.
    pub fn unit(&self, name: &str) -> Option<&Unit> {
        self.units.iter().find(|u| u.spec.name == name)
    }
}

fn check_column(c: &ColumnSpec, earlier: &[Unit]) -> Result<(), String> {
    let producers = [
        c.from.is_some(),
        c.concat.is_some(),
        c.split.is_some(),
        c.value.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if producers != 1 {
        return Err("give exactly one of from, concat, split or value".into());
    }
    if let Some(case) = &c.case {
        if case != "lower" && case != "upper" {
            return Err(format!("case = '{case}': write \"lower\" or \"upper\""));
        }
    }
    if let Some(cast) = &c.cast {
        super::transform::parse_cast(cast)?;
    }
    if c.cast.is_some() && !c.date_formats.is_empty() {
        return Err("date_formats already gives the type; drop cast".into());
    }
    for f in &c.date_formats {
        super::transform::check_format(f)?;
    }
    if let Some(u) = &c.lookup {
        match earlier.iter().find(|x| &x.spec.name == u) {
            None => {
                return Err(format!(
                    "lookup = '{u}': no earlier unit has this name (a lookup reads the id map of a unit that runs before)"
                ))
            }
            Some(x) if x.spec.key.len() != 1 => {
                return Err(format!(
                    "lookup = '{u}': unit '{u}' has a composite key; a lookup maps one column"
                ))
            }
            Some(x) if x.spec.generated_id.is_none() => {
                return Err(format!(
                    "lookup = '{u}': unit '{u}' has no generated_id, so it keeps no id map"
                ))
            }
            _ => {}
        }
    }
    if c.strict_map && c.map.is_none() {
        return Err("strict_map without map".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"
name = "crm"
source = "sqlite://legacy.db"
target = "postgres://u@h/db"

[[unit]]
name = "customers"
table = "customers"
target = "customers"
key = ["id"]
generated_id = "id"

[unit.columns]
legacy_id = "id"
email = { from = "email", trim = true, case = "lower" }

[[unit]]
name = "orders"
table = "orders"
target = "orders"
key = ["id"]

[unit.columns]
customer_id = { from = "cust", lookup = "customers" }
"#;

    #[test]
    fn variables_in_unit_fields_are_expanded_and_overrides_need_none() {
        std::env::set_var("RECKON_PLAN_TEST_SCHEMA", "crm");
        std::env::remove_var("RECKON_PLAN_TEST_UNSET");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        let text = PLAN
            .replace(
                "target = \"postgres://u@h/db\"",
                "target = \"${RECKON_PLAN_TEST_UNSET}\"",
            )
            .replace(
                "target = \"orders\"",
                "target = \"${RECKON_PLAN_TEST_SCHEMA}.orders\"",
            )
            .replace(
                "lookup = \"customers\"",
                "lookup = \"${RECKON_PLAN_TEST_UNSET:-customers}\"",
            );
        std::fs::write(&path, &text).unwrap();
        // The target is given on the command line: its unset variable does not matter.
        let p = Plan::load(&path, None, Some("postgres://u@h/db")).unwrap();
        assert_eq!(p.units[1].spec.target, "crm.orders");
        // Without the override, the unset variable is named with its line.
        let e = Plan::load(&path, None, None).unwrap_err().to_string();
        assert!(e.contains("RECKON_PLAN_TEST_UNSET is not set"), "{e}");
        assert!(e.contains(&format!("line {}", 4)), "{e}");
    }

    #[test]
    fn parses_units_columns_and_checksums() {
        let p = Plan::parse(PLAN, "p.toml", Path::new("/plans"), None, None).unwrap();
        assert_eq!(p.name, "crm");
        assert_eq!(p.source, "sqlite:///plans/legacy.db");
        assert_eq!(p.units.len(), 2);
        assert_eq!(p.units[0].columns.len(), 2);
        assert!(p.units[0]
            .columns
            .iter()
            .any(|(t, c)| t == "legacy_id" && c.is_plain()));
        assert_eq!(p.units[0].checksum.len(), 64);
        // Editing a unit changes its checksum and the plan's; batch_size does not.
        let edited = PLAN.replace("case = \"lower\"", "case = \"upper\"");
        let q = Plan::parse(&edited, "p.toml", Path::new("/plans"), None, None).unwrap();
        assert_ne!(p.units[0].checksum, q.units[0].checksum);
        assert_eq!(p.units[1].checksum, q.units[1].checksum);
        let rebatched = PLAN.replace(
            "key = [\"id\"]\ngenerated_id",
            "key = [\"id\"]\nbatch_size = 7\ngenerated_id",
        );
        let r = Plan::parse(&rebatched, "p.toml", Path::new("/plans"), None, None).unwrap();
        assert_eq!(r.units[0].batch_size, 7);
        assert_eq!(p.units[0].checksum, r.units[0].checksum);
    }

    #[test]
    fn errors_name_line_unit_and_field() {
        let bad = PLAN.replace("trim = true", "trimm = true");
        let e = Plan::parse(&bad, "p.toml", Path::new("."), None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.toml") && e.contains("trimm") && e.contains("line 15"),
            "{e}"
        );
        let bad = PLAN.replace("lookup = \"customers\"", "lookup = \"clients\"");
        let e = Plan::parse(&bad, "p.toml", Path::new("."), None, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 24") && e.contains("columns.customer_id") && e.contains("clients"),
            "{e}"
        );
        let bad = PLAN.replace("case = \"lower\"", "case = \"title\"");
        let e = Plan::parse(&bad, "p.toml", Path::new("."), None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unit 'customers'") && e.contains("title"), "{e}");
    }
}
