//! Runs: the `run.json` every `profile`, `diff`, `check`, `signoff` and `migrate` writes beside
//! its results (`--out`), and [`compare`], which says what changed between two runs (staging
//! rehearsal 1 vs 2).
//!
//! `run.json` holds reckon's version, the command, its arguments and inputs with credentials
//! redacted, start and end (UTC), the exit code, and a timing per table, rule or unit.

pub mod compare;

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::scrub;

/// Version of `run.json`.
pub const FORMAT_VERSION: u32 = 1;

/// The file name.
pub const RUN_FILE: &str = "run.json";

/// Time spent on one table, rule or unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct Timing {
    /// What was timed: `profile customers`, `diff customers → customers`, `unit orders`…
    pub item: String,
    /// Seconds.
    pub seconds: f64,
    /// Rows handled, when known.
    pub rows: Option<u64>,
}

/// One run of a command.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunRecord {
    /// Format version.
    pub format_version: u32,
    /// reckon's version.
    pub reckon_version: String,
    /// The subcommand (`profile`, `diff`, `check`, `signoff`, `migrate`).
    pub command: String,
    /// The command line, credentials redacted.
    pub args: Vec<String>,
    /// The sources read, credentials redacted.
    pub inputs: Vec<String>,
    /// Start, UTC, RFC 3339.
    pub started_at: String,
    /// End, UTC, RFC 3339.
    pub finished_at: String,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// The exit code the command returned.
    pub exit_code: i32,
    /// Per table, rule or unit.
    pub timings: Vec<Timing>,
}

/// A command-line argument with any URL password removed.
pub fn redact_arg(arg: &str) -> String {
    let shown = match url::Url::parse(arg) {
        Ok(u) if u.password().is_some() => crate::source::redact_url(&u),
        _ => arg.to_string(),
    };
    scrub(&shown)
}

/// A run being timed.
pub struct RunClock {
    started: std::time::Instant,
    started_at: chrono::DateTime<chrono::Utc>,
}

impl Default for RunClock {
    fn default() -> Self {
        RunClock::start()
    }
}

impl RunClock {
    /// Starts the clock.
    pub fn start() -> RunClock {
        RunClock {
            started: std::time::Instant::now(),
            started_at: chrono::Utc::now(),
        }
    }

    /// The record of a run that ends now.
    pub fn finish(
        &self,
        command: &str,
        inputs: Vec<String>,
        exit_code: i32,
        timings: Vec<Timing>,
    ) -> RunRecord {
        let fmt = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        RunRecord {
            format_version: FORMAT_VERSION,
            reckon_version: env!("CARGO_PKG_VERSION").into(),
            command: command.into(),
            args: std::env::args().skip(1).map(|a| redact_arg(&a)).collect(),
            inputs: inputs.iter().map(|i| redact_arg(i)).collect(),
            started_at: fmt(self.started_at),
            finished_at: fmt(chrono::Utc::now()),
            seconds: self.started.elapsed().as_secs_f64(),
            exit_code,
            timings,
        }
    }
}

/// Writes `run.json` into `dir`.
pub fn write(record: &RunRecord, dir: &Path) -> Result<(), std::io::Error> {
    let text = serde_json::to_string_pretty(record).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(RUN_FILE), scrub(&text) + "\n")
}

/// Reads `run.json` from `dir`.
pub fn read(dir: &Path) -> Result<RunRecord, String> {
    let p = dir.join(RUN_FILE);
    let text =
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a reckon run record: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_arguments() {
        let a = redact_arg("postgres://app:hunter2@db:5432/crm");
        assert!(!a.contains("hunter2"), "{a}");
        assert!(a.contains("db:5432/crm"), "{a}");
        assert_eq!(redact_arg("--out"), "--out");
    }
}
