//! The migration executor: a plan of units, each applied in batches that commit together with
//! their ledger row, verified with the diff engine before the unit is called completed.
//!
//! - [`plan`]: the TOML plan, its units, column transforms and checksums.
//! - [`transform`]: source rows → the rows a unit writes.
//! - [`key`]: a unit's keys in their canonical text form.
//! - [`target`]: writing to PostgreSQL, MySQL/MariaDB and SQLite; the lock; the ledger table.
//! - [`ledger`]: ledger rows and the JSONL log.
//! - [`executor`]: run, resume, delta, item, dry run, verification.
//! - [`keys_from`]: the keys a diff found missing or changed, for `--keys-from`.
//! - [`backup`]: snapshot the target tables to Parquet, verified; restore them, verified.

pub mod backup;
pub mod executor;
pub mod key;
pub mod keys_from;
pub mod ledger;
pub mod plan;
pub mod runbook;
pub mod target;
pub mod transform;

use crate::error::Hinted;
use crate::source::SourceError;

/// What stops a migration command. Every variant names the unit, table or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Reading the source (or reading the target back) failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The plan file is wrong.
    #[error("plan {path}{}: {reason}", if *line > 0 { format!(", line {line}") } else { String::new() })]
    Plan {
        /// The plan file.
        path: String,
        /// 1-based line (0: unknown).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A column the unit names is not in its source rows.
    #[error("unit '{unit}': column '{column}' ({field}) is not in the source rows")]
    UnknownColumn {
        /// The unit.
        unit: String,
        /// The column.
        column: String,
        /// Where it was named.
        field: String,
        /// The source's columns.
        available: Vec<String>,
    },
    /// A value could not be transformed.
    #[error("unit '{unit}', key {key}, column '{column}': {reason}")]
    Transform {
        /// The unit.
        unit: String,
        /// The row's key (`id=42`).
        key: String,
        /// The target column.
        column: String,
        /// What is wrong (with the value's shape, never its text).
        reason: String,
    },
    /// The unit's source rows cannot be migrated as they are.
    #[error("unit '{unit}': {reason}")]
    Unit {
        /// The unit.
        unit: String,
        /// What is wrong.
        reason: String,
        /// What to do.
        hint: String,
    },
    /// The target cannot be opened (host, login, database).
    #[error("cannot connect to target {target}: {reason}")]
    Connect {
        /// The target, redacted.
        target: String,
        /// The driver's message.
        reason: String,
    },
    /// Writing to the target failed.
    #[error("target {target}: {reason}")]
    Target {
        /// The target, redacted.
        target: String,
        /// The driver's message.
        reason: String,
    },
    /// Another executor holds the target's lock.
    #[error("another `reckon migrate` is running against {target} (it holds the target's migration lock){}", if *waited > 0 { format!("; waited {waited} s") } else { String::new() })]
    Locked {
        /// The target, redacted.
        target: String,
        /// Seconds waited.
        waited: u64,
    },
    /// An applied unit was edited, reordered or removed.
    #[error("{message}")]
    Changed {
        /// Which unit and what changed.
        message: String,
        /// What to do.
        hint: String,
    },
    /// A backup that does not check out, or a restore that did not land.
    #[error("backup {path}: {reason}")]
    Backup {
        /// The backup directory or file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The position of `column` in the rows a unit reads, or the error naming the unit, the column,
/// where the plan named it (`field`) and the columns there are.
pub(crate) fn column_index(
    schema: &arrow::datatypes::Schema,
    unit: &str,
    column: &str,
    field: &str,
) -> Result<usize, MigrateError> {
    schema
        .index_of(column)
        .map_err(|_| MigrateError::UnknownColumn {
            unit: unit.to_string(),
            column: column.to_string(),
            field: field.to_string(),
            available: schema.fields().iter().map(|f| f.name().clone()).collect(),
        })
}

impl Hinted for MigrateError {
    fn hint(&self) -> Option<String> {
        match self {
            MigrateError::Source(e) => e.hint(),
            MigrateError::Plan { .. } => Some(
                "a plan has source, target and [[unit]]s with name, table|query|query_file, target, key and [unit.columns]; see README.md".into(),
            ),
            MigrateError::UnknownColumn { available, .. } => Some(format!(
                "the source rows have: {}",
                available.join(", ")
            )),
            MigrateError::Transform { .. } => Some(
                "fix the row in the source, or change the unit's transform (date_formats, map, null_if, default); test it with --item UNIT:KEY"
                    .into(),
            ),
            MigrateError::Unit { hint, .. } => Some(hint.clone()),
            MigrateError::Connect { reason, .. } => Some(connect_hint(reason)),
            MigrateError::Target { reason, .. } => Some(target_hint(reason)),
            MigrateError::Locked { .. } => Some(
                "wait for the other run to finish, or pass --wait SECONDS; the lock dies with the other run's session, so a killed run does not hold it"
                    .into(),
            ),
            MigrateError::Changed { hint, .. } => Some(hint.clone()),
            MigrateError::Backup { .. } => Some(
                "a backup is restored only if every file's SHA-256 and every table's row hash match its manifest; take a new backup".into(),
            ),
            MigrateError::Internal(_) => {
                Some("this is a bug in reckon; please report it with the plan you ran".into())
            }
        }
    }
}

fn connect_hint(reason: &str) -> String {
    let r = reason.to_ascii_lowercase();
    if r.contains("password") || r.contains("access denied") || r.contains("authentication") {
        "check the user and password of the target URL"
    } else if r.contains("role") {
        "the user in the target URL does not exist on the server"
    } else if r.contains("database") {
        "the database in the target URL does not exist: create it (reckon creates only its ledger and id-map tables)"
    } else if r.contains("sqlite") {
        "give the path of an existing SQLite file that holds the target tables"
    } else {
        "check that the target database is running and reachable at the URL's host and port"
    }
    .into()
}

fn target_hint(reason: &str) -> String {
    let r = reason.to_ascii_lowercase();
    if r.contains("no unique or exclusion constraint") || r.contains("on conflict") {
        "an idempotent upsert needs a primary key or unique constraint on the unit's key columns in the target table".into()
    } else if r.contains("does not exist")
        || r.contains("doesn't exist")
        || r.contains("no such table")
    {
        "reckon writes into an existing schema: create the target table (and columns) first, or fix the unit's target/columns".into()
    } else {
        "nothing of a failed batch is kept (it rolls back with its ledger row); fix the cause and run again: finished batches and units are not redone".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn an_unknown_column_names_the_unit_the_field_and_the_columns_there_are() {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("email", DataType::Utf8, true),
        ]);
        assert_eq!(
            column_index(&schema, "customers", "email", "key").unwrap(),
            1
        );
        let e = column_index(&schema, "customers", "mail", "columns.email").unwrap_err();
        assert_eq!(
            e.to_string(),
            "unit 'customers': column 'mail' (columns.email) is not in the source rows"
        );
        assert_eq!(e.hint().as_deref(), Some("the source rows have: id, email"));
    }
}
