//! The ledger: one row per applied batch and one per unit run (`batch = -1`), in a table in the
//! target (the truth, written in the same transaction as the rows it describes) and appended to
//! a JSONL log beside the plan (a convenience copy: a kill between a commit and the append loses
//! that line, never the table's row).
//!
//! It holds keys, counts, hashes, timings and error classes — never row values, never
//! credentials: error texts are stored with quoted parts replaced by `'…'`.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

/// The `batch` of a unit's own row.
pub const UNIT_ROW: i64 = -1;

/// The batch number of a run's deletions (`delete_missing`): rows deleted, by key, before the
/// unit's batches are written.
pub const DELETE_ROW: i64 = -2;

/// The status of a unit whose rows were all written but did not verify: its next run writes and
/// verifies them all again (not resumed batch by batch).
pub const VERIFICATION_FAILED: &str = "verification_failed";

/// One ledger row.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct LedgerRow {
    /// The plan's name.
    pub plan: String,
    /// The unit's name.
    pub unit: String,
    /// The unit's run number (1 for the first full run; each `--delta` or `--item` run adds one).
    pub run: i64,
    /// Batch number from 0, or [`UNIT_ROW`].
    pub batch: i64,
    /// `full`, `delta` or `item`.
    pub kind: String,
    /// The unit's position in the plan when applied.
    pub ordinal: i64,
    /// The unit's checksum when applied.
    pub unit_checksum: String,
    /// The plan's checksum when applied.
    pub plan_checksum: String,
    /// Batch rows: `applied`. Unit rows: `completed`, `verification_failed` or `failed`.
    pub status: String,
    /// Rows read from the source (unit row) or in the batch.
    pub rows_read: i64,
    /// Rows the target reports as inserted or changed.
    pub rows_written: i64,
    /// First key of the batch (text).
    pub first_key: Option<String>,
    /// Last key of the batch.
    pub last_key: Option<String>,
    /// Hash of the batch's keys.
    pub key_hash: Option<String>,
    /// Hash of the rows as transformed (batch), or of the source side in verification (unit).
    pub source_hash: Option<String>,
    /// Hash of the target side in verification (unit rows).
    pub target_hash: Option<String>,
    /// Highest `updated_at` seen (unit rows of units with `updated_at`).
    pub watermark: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// Wall time.
    pub seconds: f64,
    /// `transform`, `write`, `verification`, `connection`…
    pub error_class: Option<String>,
    /// The error, with quoted values removed.
    pub error: Option<String>,
}

/// Removes what may be row values from a driver's message: quoted text and `(…)=(…)` details.
pub fn redact(message: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
            }
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    // PostgreSQL's "Key (email)=(a@b) already exists".
    if let Some(i) = out.find(")=(") {
        if let Some(j) = out[i + 3..].find(')') {
            out.replace_range(i + 3..i + 3 + j, "…");
        }
    }
    crate::error::scrub(&out).chars().take(500).collect()
}

/// Appends one row to the JSONL log (best effort: the table is the record).
pub fn append_log(path: &Path, row: &LedgerRow) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let line = serde_json::to_string(row).map_err(std::io::Error::other)?;
    writeln!(f, "{line}")
}

/// Now, RFC 3339 UTC.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_removes_quoted_values_and_key_details() {
        assert_eq!(
            redact("Duplicate entry 'ada@example.com' for key 'email'"),
            "Duplicate entry '…' for key '…'"
        );
        assert_eq!(
            redact("duplicate key value violates unique constraint; Key (email)=(ada@x.org) already exists"),
            "duplicate key value violates unique constraint; Key (email)=(…) already exists"
        );
    }
}
