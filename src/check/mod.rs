//! Checks: rules a migrated table must obey (`reckon check`), the sign-off that combines profile,
//! diff and checks into PASS/FAIL per criterion (`reckon signoff`), and the evidence manifest.
//!
//! - [`spec`]: the rules file (TOML), parsed with file/line/rule in every error;
//! - [`eval`]: evaluates the rules, one read of each table for all its rules, with counts, sample
//!   keys and masked values;
//! - [`signoff`]: the sign-off spec, its criteria and their evaluation;
//! - [`manifest`]: SHA-256 of every result file, written last and verified by `--verify`.
//!
//! A rule that cannot be evaluated is an error (exit 2), never a pass.

pub mod eval;
pub mod manifest;
pub mod signoff;
pub mod spec;

use serde::{Deserialize, Serialize};

use crate::error::Hinted;
use crate::source::SourceError;

/// Version of `check.json` and `check.parquet`.
pub const FORMAT_VERSION: u32 = 1;

/// What stops a check run. Every variant names the file, the rule or the table at fault.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// Reading a source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The TOML is malformed or has an unknown or mistyped field.
    #[error("{path}, line {line}: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The parser's message.
        reason: String,
    },
    /// A rule is wrong (unknown column, bad pattern, missing field…).
    #[error("{path}, line {line}: rule '{rule}': {reason}")]
    Rule {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The rule's name.
        rule: String,
        /// Why.
        reason: String,
    },
    /// A rule failed while it was evaluated (a custom query the database refused…).
    #[error("rule '{rule}' could not be evaluated: {reason}")]
    Eval {
        /// The rule's name.
        rule: String,
        /// Why.
        reason: String,
    },
    /// A result file could not be written or read back.
    #[error("cannot write {path}: {reason}")]
    Output {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The evidence directory is not a sign-off (no or unreadable manifest).
    #[error("{path}: {reason}")]
    Manifest {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl Hinted for CheckError {
    fn hint(&self) -> Option<String> {
        match self {
            CheckError::Source(e) => e.hint(),
            CheckError::Read { .. } => Some("check the path".into()),
            CheckError::Parse { .. } => Some(
                "rules are [[rule]] entries with kind, table, column(s) and the kind's fields; see README.md \"reckon check\"".into(),
            ),
            CheckError::Rule { .. } => Some(
                "fix the rule in the file; kinds: not_null, unique, range, allowed, regex, length, date_format, references, row_count, sql, spot".into(),
            ),
            CheckError::Eval { .. } => {
                Some("run the rule's query by hand against the target to see the error".into())
            }
            CheckError::Output { .. } => Some("check that the output directory is writable".into()),
            CheckError::Manifest { .. } => {
                Some("give the directory a `reckon signoff --out` wrote".into())
            }
        }
    }
}

/// One sample of a violation: the row's key and the value at fault (masked when sensitive).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Sample {
    /// The key as `id=42` (or `row 17` when the table has no key).
    pub key: String,
    /// The value at fault as shown, its shape when sensitive; `None` for NULL or none.
    pub value: Option<String>,
}

/// The outcome of one rule.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RuleResult {
    /// The rule's name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// The table.
    pub table: String,
    /// The columns.
    pub columns: Vec<String>,
    /// `pass` or `fail`.
    pub status: String,
    /// Rows (or values, keys) checked.
    pub checked: u64,
    /// Rows that break the rule (for row_count: the difference from what was expected).
    pub violations: u64,
    /// Distinct values (or groups) that break it, when meaningful.
    pub distinct: Option<u64>,
    /// One line saying what was found.
    pub detail: String,
    /// Some violating rows.
    pub samples: Vec<Sample>,
    /// Seconds spent on the rule's table (shared by the table's rules).
    pub seconds: f64,
}

/// A whole check run.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CheckReport {
    /// Result format version.
    pub format_version: u32,
    /// reckon's version.
    pub reckon_version: String,
    /// The checked target, redacted.
    pub target: String,
    /// The source compared with (row counts, spot checks), redacted.
    pub source: Option<String>,
    /// `pass` when every rule passed, else `fail`.
    pub verdict: String,
    /// One result per rule, in file order.
    pub rules: Vec<RuleResult>,
}

impl CheckReport {
    /// Builds a report; the verdict follows from the rules.
    pub fn new(target: String, source: Option<String>, rules: Vec<RuleResult>) -> CheckReport {
        let verdict = if rules.iter().all(|r| r.status == "pass") {
            "pass"
        } else {
            "fail"
        };
        CheckReport {
            format_version: FORMAT_VERSION,
            reckon_version: env!("CARGO_PKG_VERSION").into(),
            target,
            source,
            verdict: verdict.into(),
            rules,
        }
    }

    /// The exit code: 0 when every rule passed, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.verdict == "pass" {
            crate::error::EXIT_CLEAN
        } else {
            crate::error::EXIT_FINDINGS
        }
    }
}
