//! The diff's results: plain structs every report is written from.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::aggregate::Aggregate;
use super::schema::SchemaFinding;

/// Version of `diff.json`, `diff_summary.parquet` and `diff_rows.parquet`.
pub const FORMAT_VERSION: u32 = 1;

/// A verdict (DESIGN.md), serialised as its text: `match`, `match*`, `mismatch`, `error(class)`
/// for a table pair that could not be compared, and `error` for a run holding one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every value equal.
    Match,
    /// Equal under declared rules (and otherwise equal).
    MatchByRule,
    /// Something differs.
    Mismatch,
    /// Not compared: the class for a table pair, none for a whole run.
    Error(Option<ErrorClass>),
}

/// Why a table pair could not be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A materialized view that was never refreshed.
    Unpopulated,
    /// The server could not be reached.
    Unreachable,
    /// The table or file could not be read.
    Unreadable,
    /// Rows read twice were not the same.
    ChangedWhileRead,
    /// Spill files could not be written or read.
    Spill,
    /// Results could not be written.
    Output,
    /// The pair could not be planned (columns, keys, rules).
    Plan,
}

impl ErrorClass {
    /// The class as written in `error(class)`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Unpopulated => "unpopulated",
            ErrorClass::Unreachable => "unreachable",
            ErrorClass::Unreadable => "unreadable",
            ErrorClass::ChangedWhileRead => "changed-while-read",
            ErrorClass::Spill => "spill",
            ErrorClass::Output => "output",
            ErrorClass::Plan => "plan",
        }
    }
}

impl Verdict {
    /// Whether this is `error` or `error(class)`.
    pub fn is_error(self) -> bool {
        matches!(self, Verdict::Error(_))
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Match => f.write_str("match"),
            Verdict::MatchByRule => f.write_str("match*"),
            Verdict::Mismatch => f.write_str("mismatch"),
            Verdict::Error(None) => f.write_str("error"),
            Verdict::Error(Some(c)) => write!(f, "error({})", c.as_str()),
        }
    }
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;

    /// Reads a verdict as written (`match`, `match*`, `mismatch`, `error`, `error(class)`).
    fn from_str(text: &str) -> Result<Verdict, String> {
        let classes = [
            ErrorClass::Unpopulated,
            ErrorClass::Unreachable,
            ErrorClass::Unreadable,
            ErrorClass::ChangedWhileRead,
            ErrorClass::Spill,
            ErrorClass::Output,
            ErrorClass::Plan,
        ];
        match text {
            "match" => Ok(Verdict::Match),
            "match*" => Ok(Verdict::MatchByRule),
            "mismatch" => Ok(Verdict::Mismatch),
            "error" => Ok(Verdict::Error(None)),
            _ => text
                .strip_prefix("error(")
                .and_then(|c| c.strip_suffix(')'))
                .and_then(|c| classes.into_iter().find(|k| k.as_str() == c))
                .map(|k| Verdict::Error(Some(k)))
                .ok_or_else(|| format!("'{text}' is not a verdict")),
        }
    }
}

impl schemars::JsonSchema for Verdict {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Verdict".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "`match`, `match*` (equal by a declared rule), `mismatch`, or `error(class)` when the pair could not be compared",
            "pattern": "^(match|match\\*|mismatch|error|error\\([a-z-]+\\))$"
        })
    }
}

impl<'de> Deserialize<'de> for Verdict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Verdict, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What became of a differing row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    /// In the source only.
    Missing,
    /// In the target only.
    Extra,
    /// On both sides, with differing cells.
    Changed,
}

impl RowStatus {
    /// The status as written.
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::Missing => "missing",
            RowStatus::Extra => "extra",
            RowStatus::Changed => "changed",
        }
    }
}

impl std::fmt::Display for RowStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RowStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for RowStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<RowStatus, String> {
        [RowStatus::Missing, RowStatus::Extra, RowStatus::Changed]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("'{text}' is not a row status"))
    }
}

impl schemars::JsonSchema for RowStatus {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RowStatus".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string", "enum": ["missing", "extra", "changed"] })
    }
}

impl<'de> Deserialize<'de> for RowStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RowStatus, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A whole diff run.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DiffReport {
    /// Result format version.
    pub format_version: u32,
    /// reckon's version.
    pub reckon_version: String,
    /// The source, redacted.
    pub source: String,
    /// The target, redacted.
    pub target: String,
    /// Overall verdict: `match`, `match*`, `mismatch` or `error`.
    pub verdict: Verdict,
    /// One entry per table pair.
    pub tables: Vec<TableDiff>,
    /// Tables found on one side only (when pairing tables by name).
    pub unpaired: Vec<UnpairedTable>,
    /// The share of the key hashes this run compared (`--shard I/N`); absent for a whole run,
    /// and for the report `reckon merge` makes of all the shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<super::shard::Shard>,
}

/// A table with no counterpart on the other side.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct UnpairedTable {
    /// The table.
    pub table: String,
    /// `source` (missing in the target) or `target` (extra in the target).
    pub side: String,
}

impl DiffReport {
    /// Builds a report; the verdict follows from the tables: any pair in `error(class)` makes it
    /// `error`; else any mismatch or unpaired table is a `mismatch`; otherwise `match*` when any
    /// rule was needed; otherwise `match`.
    pub fn new(
        source: String,
        target: String,
        tables: Vec<TableDiff>,
        unpaired: Vec<UnpairedTable>,
    ) -> DiffReport {
        let verdict = if tables.iter().any(|t| t.verdict.is_error()) {
            // A pair that could not be compared: never a match, and the run exits 2.
            Verdict::Error(None)
        } else if !unpaired.is_empty() || tables.iter().any(|t| t.verdict == Verdict::Mismatch) {
            Verdict::Mismatch
        } else if tables.iter().any(|t| t.verdict == Verdict::MatchByRule) {
            Verdict::MatchByRule
        } else {
            Verdict::Match
        };
        DiffReport {
            format_version: FORMAT_VERSION,
            reckon_version: env!("CARGO_PKG_VERSION").into(),
            source,
            target,
            verdict,
            tables,
            unpaired,
            shard: None,
        }
    }

    /// The exit code DESIGN.md gives this outcome.
    pub fn exit_code(&self) -> i32 {
        match self.verdict {
            Verdict::Match | Verdict::MatchByRule => crate::error::EXIT_CLEAN,
            Verdict::Error(_) => crate::error::EXIT_ERROR,
            Verdict::Mismatch => crate::error::EXIT_FINDINGS,
        }
    }
}

/// Counts of one table pair.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct RowCounts {
    /// Rows read from the source.
    pub source_rows: u64,
    /// Rows read from the target.
    pub target_rows: u64,
    /// Rows equal in canonical form.
    pub matched: u64,
    /// Rows equal only under declared rules.
    pub matched_by_rule: u64,
    /// Rows with at least one mismatched cell.
    pub mismatched: u64,
    /// Rows (keys) only in the source.
    pub missing: u64,
    /// Rows (keys) only in the target.
    pub extra: u64,
    /// Keys that occur more than once in the source.
    pub duplicate_keys_source: u64,
    /// Keys that occur more than once in the target.
    pub duplicate_keys_target: u64,
}

/// One column pair's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ColumnDiff {
    /// Name in the source.
    pub source: String,
    /// Name in the target.
    pub target: String,
    /// Declared type in the source.
    pub source_type: String,
    /// Declared type in the target.
    pub target_type: String,
    /// Part of the key.
    pub key: bool,
    /// Never shown raw.
    pub sensitive: bool,
    /// Rules declared on it.
    pub rules: Vec<String>,
    /// Cells compared (rows present on both sides).
    pub compared: u64,
    /// Cells equal in canonical form.
    pub matched: u64,
    /// Cells equal only under a rule, per rule.
    pub matched_by_rule: BTreeMap<String, u64>,
    /// Mismatched cells, per class.
    pub mismatched: BTreeMap<String, u64>,
    /// Source aggregates.
    pub source_aggregate: Aggregate,
    /// Target aggregates.
    pub target_aggregate: Aggregate,
}

impl ColumnDiff {
    /// Mismatched cells in all classes.
    pub fn mismatched_total(&self) -> u64 {
        self.mismatched.values().sum()
    }
}

/// One differing cell of a changed row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct CellDiff {
    /// The column (source name).
    pub column: String,
    /// `mismatch` or `match*`.
    pub verdict: Verdict,
    /// The class (for `mismatch`) or the rule (for `match*`).
    pub class: String,
    /// The source value as shown (`None` = NULL; a shape when sensitive).
    pub source: Option<String>,
    /// The target value as shown.
    pub target: Option<String>,
}

impl DiffRow {
    /// The order of two rows' keys as a reader expects it: value by value, NULL first, numbers
    /// by value (`9` before `10`), other text by its bytes. The reports show samples in it.
    pub fn cmp_key(&self, other: &DiffRow) -> std::cmp::Ordering {
        fn one(a: &Option<String>, b: &Option<String>) -> std::cmp::Ordering {
            let (Some(a), Some(b)) = (a, b) else {
                return a.is_some().cmp(&b.is_some());
            };
            if let (Ok(x), Ok(y)) = (a.parse::<i128>(), b.parse::<i128>()) {
                return x.cmp(&y);
            }
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() && x != y => x.total_cmp(&y),
                _ => a.cmp(b),
            }
        }
        self.key
            .iter()
            .zip(&other.key)
            .map(|(a, b)| one(a, b))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| self.key.len().cmp(&other.key.len()))
    }
}

/// One value of a row found on one side only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct RowValue {
    /// The column (source name).
    pub column: String,
    /// The value as shown (`None` = NULL; a shape when sensitive).
    pub value: Option<String>,
}

/// One differing row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct DiffRow {
    /// Key values as shown, in key order (the whole row for a keyless diff).
    pub key: Vec<Option<String>>,
    /// The key as `id=42, line=3`.
    pub key_text: String,
    /// `missing`, `extra` or `changed` (`match*` rows are counted, not listed).
    pub status: RowStatus,
    /// The differing cells of a changed row.
    pub cells: Vec<CellDiff>,
    /// The values of a missing row (the source's) or an extra row (the target's), every
    /// column but the key's, in column order (source names); a shape for a sensitive column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<RowValue>,
    /// The engine's key hash (rows come in its order): kept by a shard for `reckon merge`,
    /// written nowhere else.
    #[serde(skip)]
    pub key_hash: u64,
}

/// One table pair's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TableDiff {
    /// The source table.
    pub source_table: String,
    /// The target table.
    pub target_table: String,
    /// Key columns (source names); empty for a multiset diff.
    pub key: Vec<String>,
    /// Where the key came from.
    pub key_origin: String,
    /// `match`, `match*`, `mismatch`, or `error(class)` when the pair could not be compared.
    pub verdict: Verdict,
    /// Why the pair could not be compared (`error(class)` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Row counts.
    pub counts: RowCounts,
    /// Matched-by-rule cells per rule, all columns.
    pub rules: BTreeMap<String, u64>,
    /// Mismatched cells per class, all columns.
    pub classes: BTreeMap<String, u64>,
    /// Schema findings.
    pub schema: Vec<SchemaFinding>,
    /// Column pairs, key first.
    pub columns: Vec<ColumnDiff>,
    /// The first differing rows, in the order of `diff_rows.parquet`.
    pub samples: Vec<DiffRow>,
    /// Whether `--memory-limit` was reached: the kept chunks then went to disk (databases) or
    /// were dropped and the rows left read again (files, SQLite).
    pub spilled: bool,
    /// Seconds spent (terminal only: result files stay byte-identical across runs).
    #[serde(skip)]
    pub seconds: f64,
    /// Order-independent hash of each side's rows in canonical form (the wrapping sum of the
    /// row hashes): equal when every row matched exactly. Kept by `reckon migrate`'s ledger.
    #[serde(skip)]
    pub side_hashes: [u128; 2],
    /// Bytes of values read from each side (the Arrow buffers of the chunks read).
    #[serde(skip)]
    pub bytes_read: [u64; 2],
    /// How the work was split under `--pushdown` (absent when streamed without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushdown: Option<super::pushdown::PushdownInfo>,
    /// `--recheck`: only the rows of this many keys (those an earlier report found differing)
    /// were read and compared; the counts are theirs, never the table's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recheck: Option<u64>,
    /// Each side's column aggregates before they are shown (kept for `reckon merge`, which
    /// adds the shards' up); `None` when the pair was not compared.
    #[serde(skip)]
    pub accumulators: Option<Box<[Vec<super::aggregate::AggregateAcc>; 2]>>,
}

impl TableDiff {
    /// A pair that could not be compared: `error(class)`, with the reason; no counts are claimed.
    pub fn errored(plan: &super::plan::TablePlan, class: ErrorClass, reason: String) -> TableDiff {
        TableDiff {
            source_table: plan.source.name.to_string(),
            target_table: plan.target.name.to_string(),
            key: plan.columns[..plan.key_len]
                .iter()
                .map(|c| c.source.clone())
                .collect(),
            key_origin: plan.key_origin.clone(),
            verdict: Verdict::Error(Some(class)),
            error: Some(reason),
            counts: RowCounts::default(),
            rules: BTreeMap::new(),
            classes: BTreeMap::new(),
            schema: plan.schema.clone(),
            columns: Vec::new(),
            samples: Vec::new(),
            spilled: false,
            recheck: None,
            seconds: 0.0,
            side_hashes: [0, 0],
            bytes_read: [0, 0],
            pushdown: None,
            accumulators: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: &[Option<&str>]) -> DiffRow {
        DiffRow {
            key: key.iter().map(|k| k.map(str::to_string)).collect(),
            key_text: String::new(),
            status: RowStatus::Missing,
            cells: Vec::new(),
            values: Vec::new(),
            key_hash: 0,
        }
    }

    #[test]
    fn keys_order_as_a_reader_expects() {
        let mut rows = [
            row(&[Some("b"), Some("10")]),
            row(&[Some("b"), Some("9")]),
            row(&[Some("a"), Some("2.5")]),
            row(&[Some("a"), Some("-3")]),
            row(&[None, Some("1")]),
            row(&[Some("a"), Some("10.25")]),
            row(&[Some("a"), Some("x")]),
        ];
        rows.sort_by(|a, b| a.cmp_key(b));
        let keys: Vec<Vec<Option<&str>>> = rows
            .iter()
            .map(|r| r.key.iter().map(|k| k.as_deref()).collect())
            .collect();
        assert_eq!(
            keys,
            vec![
                vec![None, Some("1")],
                vec![Some("a"), Some("-3")],
                vec![Some("a"), Some("2.5")],
                vec![Some("a"), Some("10.25")],
                vec![Some("a"), Some("x")],
                vec![Some("b"), Some("9")],
                vec![Some("b"), Some("10")],
            ]
        );
        // Integers past f64's precision keep their order.
        let (a, b) = (
            row(&[Some("9007199254740993")]),
            row(&[Some("9007199254740992")]),
        );
        assert!(a.cmp_key(&b).is_gt());
    }
}
