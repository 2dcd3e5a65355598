//! The profile as JSON: the whole [`ProfileReport`], stable field order, pretty-printed.

use std::path::Path;

use super::ReportError;
use crate::error::scrub;
use crate::profile::ProfileReport;

/// The report as a JSON string (secrets scrubbed).
pub fn to_string(report: &ProfileReport) -> Result<String, ReportError> {
    serde_json::to_string_pretty(report)
        .map(|s| scrub(&s))
        .map_err(|e| ReportError::write(Path::new("(json)"), e))
}

/// Writes the report as JSON.
pub fn write(report: &ProfileReport, path: &Path) -> Result<(), ReportError> {
    std::fs::write(path, to_string(report)? + "\n").map_err(|e| ReportError::write(path, e))
}
