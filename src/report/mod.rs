//! Report sinks: one per format, all written from the same [`crate::profile::ProfileReport`].
//!
//! - [`terminal`]: comfy-table tables for a human at a terminal, findings first;
//! - [`json`]: the whole report, serde;
//! - [`parquet`]: one row per column, every statistic a typed column (schema in its module doc);
//! - [`html`]: one self-contained page rendered from `reports/profile.html`;
//! - [`diff`]: the same four sinks for a diff report;
//! - [`check`], [`signoff`], [`compare`]: check runs, the sign-off document, run comparisons;
//! - [`table_file`]: the flat Parquet writer they share.

pub mod check;
pub mod ci;
pub mod compare;
pub mod diff;
pub mod html;
pub mod json;
pub mod parquet;
pub mod signoff;
pub mod table_file;
pub mod terminal;

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing the file failed.
    #[error("cannot write {path}: {reason}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl ReportError {
    fn write(path: &std::path::Path, reason: impl std::fmt::Display) -> ReportError {
        ReportError::Write {
            path: path.display().to_string(),
            reason: reason.to_string(),
        }
    }
}
