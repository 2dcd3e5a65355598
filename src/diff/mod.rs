//! The diff engine: does the target hold the same data as the source, cell by cell?
//!
//! - [`plan`]: pair columns (renames, exclusions), pick the key, decide how each side is read,
//!   and the schema findings ([`schema`]).
//! - the canonical encoding every comparison rests on lives in [`crate::value`].
//! - [`engine`]: stream both sides, cancel equal rows, spill past the memory limit, settle by
//!   key as a multiset, classify differing cells.
//! - [`classify`]: how two values differ; [`rules`]: declared relaxations (`match*(rule)`).
//! - [`aggregate`]: counts, exact sums, min/max per column and side.
//! - [`mapping`]: the TOML mapping file; [`model`]: the results every report is written from.

pub mod aggregate;
pub mod classify;
pub mod engine;
pub mod floatsum;
pub mod init;
pub mod mapping;
pub mod model;
pub mod pairing;
pub mod plan;
pub mod pushdown;
pub mod recheck;
pub mod rules;
pub mod schema;
pub mod shard;

pub use engine::{diff_table, DiffOptions, NullSink, Progress, RowSink, TableDiffHead};
pub use model::{DiffReport, DiffRow, ErrorClass, RowStatus, RowValue, TableDiff, Verdict};
pub use pushdown::diff_pushdown;

use crate::error::Hinted;
use crate::source::SourceError;

/// What stops a diff. Every variant names the table and column at fault.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// Reading a side failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A column named by the user (or a rename) does not exist.
    #[error("column '{column}' ({field}) not found in the {side} table '{table}'")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// `source` or `target`.
        side: String,
        /// Where it was named (`--key`, `rename`, `rules`…).
        field: String,
        /// The columns that exist.
        available: Vec<String>,
    },
    /// A key column is missing on one side.
    #[error("key column '{column}' of table '{table}' is not in the {side}")]
    KeyColumn {
        /// The table (source name).
        table: String,
        /// The key column.
        column: String,
        /// The side that lacks it.
        side: String,
        /// The columns that side has.
        available: Vec<String>,
    },
    /// A key column's types cannot be compared.
    #[error("key column '{column}' of table '{table}' is {source_type} in the source but {target_type} in the target: keys of different kinds never match")]
    KeyType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Source type.
        source_type: String,
        /// Target type.
        target_type: String,
    },
    /// A name that cannot be resolved to exactly one column: two columns of one table share it,
    /// or it matches several columns case-insensitively and none exactly.
    #[error("column name '{column}' of table '{table}' is ambiguous: {why}")]
    AmbiguousColumn {
        /// The table, with its side (`source customers`).
        table: String,
        /// The name.
        column: String,
        /// Why (duplicate, or several case-insensitive candidates).
        why: String,
        /// The candidates.
        candidates: Vec<String>,
    },
    /// Nothing to compare.
    #[error("tables '{source_table}' and '{target_table}' have no column in common")]
    NoColumns {
        /// Source table.
        source_table: String,
        /// Target table.
        target_table: String,
    },
    /// No table pair could be formed.
    #[error("no table to compare: {reason}")]
    NoTables {
        /// Why.
        reason: String,
    },
    /// The spill directory failed.
    #[error("cannot spill to disk: {0}")]
    Spill(String),
    /// A side read twice (the rows that differ are read again) did not give the same rows.
    #[error("the {side} '{table}' changed while it was being compared: its second read differs from its first")]
    Changed {
        /// `source` or `target`.
        side: String,
        /// The table.
        table: String,
    },
    /// `--recheck` cannot pick the rows of an earlier report again.
    #[error("{0}")]
    Recheck(String),
    /// Writing a result file failed.
    #[error("cannot write {path}: {reason}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

fn list(names: &[String]) -> String {
    let mut v: Vec<&str> = names.iter().map(String::as_str).take(12).collect();
    if names.len() > 12 {
        v.push("…");
    }
    v.join(", ")
}

impl Hinted for DiffError {
    fn hint(&self) -> Option<String> {
        match self {
            DiffError::Source(e) => e.hint(),
            DiffError::UnknownColumn { available, side, .. } => {
                Some(format!("columns in the {side}: {}", list(available)))
            }
            DiffError::KeyColumn { available, side, .. } => Some(format!(
                "columns in the {side}: {}; rename it in a mapping file (rename = {{ old = \"new\" }}) or choose another --key",
                list(available)
            )),
            DiffError::AmbiguousColumn { candidates, .. } => Some(format!(
                "candidates: {}; exclude one (--exclude, or exclude in a mapping file), or pair each with its own target column by rename in a mapping file",
                list(candidates)
            )),
            DiffError::KeyType { .. } => Some(
                "key on another column (--key), or cast the key in a view on one side and diff the view".into(),
            ),
            DiffError::NoColumns { .. } => {
                Some("pair the columns with rename in a mapping file (--mapping)".into())
            }
            DiffError::NoTables { .. } => Some(
                "name the table with --table NAME (or --table SOURCE:TARGET), or pair tables in a mapping file".into(),
            ),
            DiffError::Changed { .. } => Some(
                "compare files that are not being written, or a database (whose rows are kept while compared)".into(),
            ),
            DiffError::Spill(_) => {
                Some("check free space in the spill directory (--spill-dir), or raise --memory-limit".into())
            }
            DiffError::Output { .. } => Some("check that the --out directory is writable".into()),
            DiffError::Recheck(_) => Some(
                "give --recheck the --out directory of an earlier diff of the same tables, on databases keyed by integers or text; or run the whole diff again".into(),
            ),
        }
    }
}

impl DiffError {
    /// The class of an `error(class)` verdict for a pair that could not be compared.
    pub fn class(&self) -> ErrorClass {
        match self {
            DiffError::Source(SourceError::Unpopulated { .. }) => ErrorClass::Unpopulated,
            DiffError::Source(SourceError::Connect { .. }) => ErrorClass::Unreachable,
            DiffError::Source(_) => ErrorClass::Unreadable,
            DiffError::Changed { .. } => ErrorClass::ChangedWhileRead,
            DiffError::Spill(_) => ErrorClass::Spill,
            DiffError::Output { .. } => ErrorClass::Output,
            _ => ErrorClass::Plan,
        }
    }
}
