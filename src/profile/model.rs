//! The profile's results: plain typed structs, the one thing every report is written from.

use serde::Serialize;

use crate::source::{StorageClasses, TableName};

/// A value (or shape, or format) with its count and share of non-null values.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct ValueCount {
    /// The value as shown (masked for sensitive columns).
    pub value: String,
    /// How many rows hold it.
    pub count: u64,
    /// Share of the column's non-null values, 0–1.
    pub share: f64,
}

/// One kind of encoding damage found in a column.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct EncodingFinding {
    /// `invalid-utf8`, `mojibake`, `c1-control`, `control-char`, `non-nfc`, `bom`, `replacement-char`.
    pub kind: String,
    /// Values affected.
    pub count: u64,
    /// Keys of some affected rows.
    pub sample_keys: Vec<String>,
}

/// Values that differ only by case, surrounding white space or accents.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct InconsistentGroup {
    /// The folded form they share.
    pub folded: String,
    /// The raw variants, most frequent first.
    pub variants: Vec<ValueCount>,
}

/// A quantile of a numeric or temporal column.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Quantile {
    /// 0.05, 0.25, 0.5, 0.75, 0.95.
    pub q: f64,
    /// The value, displayed in the column's type.
    pub value: String,
}

/// One bin of a column's histogram: values from `lo` to `hi` (both shown in the column's type).
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct HistBin {
    /// Lowest value of the bin.
    pub lo: String,
    /// Highest value of the bin.
    pub hi: String,
    /// Values in the bin.
    pub count: u64,
}

/// Everything the profile says about one column.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ColumnProfile {
    /// Column name.
    pub name: String,
    /// Position in the table, from 0.
    pub ordinal: usize,
    /// Declared type, as the source spells it.
    pub declared_type: String,
    /// The kind the engine profiled it as (`int`, `text`, `decimal(10,2)`…).
    pub kind: String,
    /// Declared nullability, when declared.
    pub declared_nullable: Option<bool>,
    /// Whether values are masked (`--sensitive`).
    pub sensitive: bool,
    /// Rows.
    pub rows: u64,
    /// NULLs.
    pub nulls: u64,
    /// Keys of some rows holding NULL.
    pub null_sample_keys: Vec<String>,
    /// Empty strings.
    pub empty: u64,
    /// Whitespace-only values.
    pub whitespace_only: u64,
    /// Values with leading or trailing white space.
    pub padded: u64,
    /// Distinct non-null values.
    pub distinct: u64,
    /// Whether `distinct` is exact (else a HyperLogLog estimate).
    pub distinct_exact: bool,
    /// Relative standard error of `distinct` (0 when exact).
    pub distinct_std_error: f64,
    /// Every non-null value distinct and no NULLs (exactly known).
    pub unique: bool,
    /// Smallest value (typed order; exact decimals).
    pub min: Option<String>,
    /// Largest value.
    pub max: Option<String>,
    /// Mean, for numeric columns (for temporal ones: as a value, in `mean_display`).
    pub mean: Option<f64>,
    /// Sample standard deviation, in the column's unit.
    pub std: Option<f64>,
    /// Mean shown in the column's type (temporal columns).
    pub mean_display: Option<String>,
    /// Quantiles.
    pub quantiles: Vec<Quantile>,
    /// Whether the quantiles are exact.
    pub quantiles_exact: bool,
    /// Equal-width histogram of the finite values of a numeric or temporal column, at most
    /// twenty bins from min to max (not for sensitive columns). Built from the quantile
    /// histogram: exact while `quantiles_exact`, else each value is counted in the bin of its
    /// bucket's lower edge.
    pub histogram: Vec<HistBin>,
    /// NaN values (floats).
    pub nan: u64,
    /// ±Infinity values (floats; PostgreSQL `infinity` dates and timestamps).
    pub infinite: u64,
    /// true count (booleans).
    pub true_count: Option<u64>,
    /// false count (booleans).
    pub false_count: Option<u64>,
    /// Shortest value, in characters (bytes for binary).
    pub len_min: Option<u64>,
    /// Longest value.
    pub len_max: Option<u64>,
    /// Mean length.
    pub len_mean: Option<f64>,
    /// Most frequent values.
    pub top_values: Vec<ValueCount>,
    /// Whether the top-value counts are exact (else lower bounds, within `top_error_bound`).
    pub top_exact: bool,
    /// How far under the truth a top-value count can be.
    pub top_error_bound: u64,
    /// Most frequent value shapes.
    pub shapes: Vec<ValueCount>,
    /// The dominant shapes (covering at least 80 % of values, at most 3).
    pub dominant_shapes: Vec<String>,
    /// Values outside the dominant shapes.
    pub outside_dominant_shapes: u64,
    /// Date-format families among text values.
    pub date_formats: Vec<ValueCount>,
    /// Text values that are plain decimal numbers.
    pub numeric_like: u64,
    /// Zero dates (`0000-00-00…`, MySQL): not a date in any other engine.
    pub zero_dates: u64,
    /// Smallest plain-decimal text value (exact), when the column holds numbers as text.
    pub numeric_min: Option<String>,
    /// Largest plain-decimal text value.
    pub numeric_max: Option<String>,
    /// SQLite: the storage class of every value.
    pub storage_classes: Option<StorageClasses>,
    /// Encoding damage.
    pub encoding: Vec<EncodingFinding>,
    /// Values that differ only by case, white space or accents.
    pub inconsistent: Vec<InconsistentGroup>,
}

/// A declared or inferred relationship between two columns, checked.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Relationship {
    /// The referencing table.
    pub child_table: TableName,
    /// The referencing column.
    pub child_column: String,
    /// The referenced table.
    pub parent_table: TableName,
    /// The referenced column.
    pub parent_column: String,
    /// Declared in the catalog (else inferred from the data).
    pub declared: bool,
    /// Whether it could be checked; else why not.
    pub checked: bool,
    /// Why it could not be checked, or that it was checked in SQL (a side was sampled).
    pub note: Option<String>,
    /// Distinct non-null child values.
    pub child_distinct: u64,
    /// Distinct child values found in the parent.
    pub matched_distinct: u64,
    /// Distinct child values missing from the parent.
    pub orphan_distinct: u64,
    /// Child rows whose value is missing from the parent, when counts are exact.
    pub orphan_rows: Option<u64>,
    /// Some orphan values (masked for sensitive columns).
    pub orphan_samples: Vec<String>,
}

/// What the profile says about one table.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TableProfile {
    /// The table.
    pub table: TableName,
    /// Rows.
    pub rows: u64,
    /// Rows that repeat an earlier row exactly (all columns equal), when known.
    pub duplicate_rows: Option<u64>,
    /// Keys of some duplicate rows.
    pub duplicate_samples: Vec<String>,
    /// Declared primary key.
    pub primary_key: Vec<String>,
    /// Rows whose declared key repeats an earlier row's.
    pub primary_key_duplicates: Option<u64>,
    /// Rows with a NULL in a declared key column.
    pub primary_key_nulls: u64,
    /// Columns or small combinations that are unique and non-null.
    pub candidate_keys: Vec<Vec<String>>,
    /// Whether two-column combinations were evaluated.
    pub composite_keys_evaluated: bool,
    /// Per-column profiles.
    pub columns: Vec<ColumnProfile>,
    /// Seconds spent reading and profiling.
    pub seconds: f64,
    /// Under `--pushdown`: which statistics SQL computed, and the sample reckon read, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushdown: Option<super::pushdown::ProfilePushdown>,
}
