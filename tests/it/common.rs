//! Helpers shared by the test modules.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The outcome of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `reckon` with these arguments from the crate root.
pub fn reckon(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run reckon");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `reckon profile ARGS --json` and parses the report; panics with stderr on failure.
pub fn profile_json(args: &[&str]) -> Value {
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.push("--json");
    let r = reckon(&all);
    assert_eq!(r.code, 0, "reckon {all:?} failed: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

/// The profile of one table.
pub fn table<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

/// The profile of one column.
pub fn column<'a>(report: &'a Value, t: &str, c: &str) -> &'a Value {
    table(report, t)["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == c)
        .unwrap_or_else(|| panic!("no column {t}.{c}"))
}

/// The encoding finding of a kind in a column: (count, sample keys).
pub fn encoding(col: &Value, kind: &str) -> (u64, Vec<String>) {
    col["encoding"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .map(|e| {
            (
                e["count"].as_u64().unwrap(),
                e["sample_keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .unwrap_or((0, vec![]))
}

/// Date formats of a column as (family, count), most frequent first.
pub fn date_formats(col: &Value) -> Vec<(String, u64)> {
    col["date_formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["value"].as_str().unwrap().to_string(),
                d["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Finding codes present for a table/column.
pub fn finding_codes(report: &Value, t: &str, c: Option<&str>) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["table"]["name"] == t && f["column"].as_str() == c)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Runs `reckon profile ARGS --out DIR/NAME`, asserts it succeeded, returns the run and the dir.
pub fn profile_out(dir: &tempfile::TempDir, name: &str, args: &[&str]) -> (Run, PathBuf) {
    let out = dir.path().join(name);
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let run = reckon(&all);
    assert_eq!(run.code, 0, "reckon {all:?} failed: {}", run.stderr);
    (run, out)
}

/// Whether tests must fail instead of skipping when a service is missing.
pub fn services_required() -> bool {
    std::env::var("RECKON_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Skips (returns None) or fails when a service is missing.
pub fn require<T>(what: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(v) => Some(v),
        Err(e) if services_required() => {
            panic!("{what} is required (RECKON_REQUIRE_SERVICES=1) but unavailable: {e}")
        }
        Err(e) => {
            eprintln!("SKIP: {what} unavailable ({e}); set it up or see README");
            None
        }
    }
}

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
