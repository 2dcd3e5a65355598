//! Diff report sinks, all written from the same [`crate::diff::DiffReport`]:
//! - [`terminal`]: verdict banner, counts, classes, worst columns, samples;
//! - [`parquet`]: `diff_summary.parquet` and `diff_rows.parquet` (schemas in its module doc);
//! - [`html`]: the sign-off page `diff.html`, rendered from `reports/diff.html`;
//! - `diff.json`: the report, serde ([`write_json`]).

pub mod html;
pub mod parquet;
pub mod shown;
pub mod terminal;

use std::path::Path;

use crate::diff::{DiffError, DiffReport};
use crate::error::scrub;

/// The report as JSON (passwords scrubbed).
pub fn to_json(report: &DiffReport) -> Result<String, DiffError> {
    serde_json::to_string_pretty(report)
        .map(|s| scrub(&s))
        .map_err(|e| DiffError::Output {
            path: "diff.json".into(),
            reason: e.to_string(),
        })
}

/// Writes `diff.json`, `diff_summary.parquet` and `diff.html` into `dir` (`diff_rows.parquet`
/// is streamed apart, through the row sink).
pub fn write_files(report: &DiffReport, dir: &Path) -> Result<(), DiffError> {
    write_json(report, &dir.join("diff.json"))?;
    parquet::write_summary(report, &dir.join("diff_summary.parquet"))?;
    html::write(report, &dir.join("diff.html"))
}

/// Writes `diff.json`.
pub fn write_json(report: &DiffReport, path: &Path) -> Result<(), DiffError> {
    std::fs::write(path, to_json(report)? + "\n").map_err(|e| DiffError::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
