//! The sign-off: one spec for a whole migration, and its criteria evaluated on the evidence
//! (both profiles, the diff, the checks) into PASS/FAIL per criterion.
//!
//! ```toml
//! source = "postgres://app@old/crm"
//! target = "mysql://app@new/crm"
//! sensitive = ["email"]
//!
//! [criteria]                     # every field optional; these are the defaults
//! missing = 0                    # rows missing from the target, at most, per table
//! extra = 0                      # rows only in the target, at most, per table
//! mismatch_classes = []          # mismatch classes accepted (e.g. ["whitespace"]); others fail
//! rules = true                   # every rule passes
//! counts_equal_source = false    # target row count = source row count, per table
//! baseline = "runs/pre"          # a profile (or sign-off) run of the source before the move:
//!                                # target row counts must equal its counts
//! baseline_counts = { customers = 40 }   # or the counts written down
//!
//! [[table]]                      # the diff mapping (same fields as a mapping file)
//! source = "crm.customers"
//! target = "customers"
//!
//! [[rule]]                       # the rules (same fields as a rules file) run on the target
//! kind = "not_null"
//! table = "customers"
//! column = "email"
//! ```
//!
//! A criterion that cannot be judged (an unpaired table, a diff error) fails: nothing is passed
//! that was not compared.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::spec::{key_line, rules_from_raw, RawRule, RuleFile, DEFAULT_SAMPLES};
use super::{CheckError, CheckReport};
use crate::config::line_of;
use crate::diff::mapping::{tables_from_raw, RawTable, TableMapping};
use crate::diff::DiffReport;
use crate::migrate::plan::resolve_location;

/// Version of `signoff.json` and `signoff.parquet`.
pub const FORMAT_VERSION: u32 = 1;

/// The criteria a sign-off is judged by.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Criteria {
    /// Rows missing from the target, at most, per table.
    #[serde(default)]
    pub missing: u64,
    /// Rows only in the target, at most, per table.
    #[serde(default)]
    pub extra: u64,
    /// Mismatch classes accepted.
    #[serde(default)]
    pub mismatch_classes: Vec<String>,
    /// Every rule passes.
    #[serde(default = "yes")]
    pub rules: bool,
    /// Target row count equals the source's, per table.
    #[serde(default)]
    pub counts_equal_source: bool,
    /// A run directory whose profile holds the pre-migration counts.
    pub baseline: Option<String>,
    /// Pre-migration counts per table.
    #[serde(default)]
    pub baseline_counts: BTreeMap<String, u64>,
}

fn yes() -> bool {
    true
}

impl Default for Criteria {
    fn default() -> Self {
        Criteria {
            missing: 0,
            extra: 0,
            mismatch_classes: Vec::new(),
            rules: true,
            counts_equal_source: false,
            baseline: None,
            baseline_counts: BTreeMap::new(),
        }
    }
}

/// A parsed sign-off spec.
#[derive(Debug, Clone)]
pub struct SignoffSpec {
    /// The spec file.
    pub path: PathBuf,
    /// The source (as written; `${VAR}` expanded).
    pub source: String,
    /// The target.
    pub target: String,
    /// Table pairs.
    pub tables: Vec<TableMapping>,
    /// Rules run on the target.
    pub rules: RuleFile,
    /// The criteria.
    pub criteria: Criteria,
    /// The baseline run directory, resolved against the spec's directory.
    pub baseline_dir: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    source: String,
    target: String,
    #[serde(default)]
    sensitive: Vec<String>,
    samples: Option<usize>,
    #[serde(default)]
    keys: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    criteria: Option<Criteria>,
    #[serde(default)]
    table: Vec<RawTable>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

impl SignoffSpec {
    /// Reads and parses a spec.
    pub fn load(path: &Path) -> Result<SignoffSpec, CheckError> {
        SignoffSpec::load_skipping(path, &[])
    }

    /// Reads and parses a spec whose top-level keys `skip` (`source`, `target`) are given again
    /// on the command line: their `${VAR}` is not expanded (it need not be set).
    pub fn load_skipping(path: &Path, skip: &[&str]) -> Result<SignoffSpec, CheckError> {
        let p = path.display().to_string();
        let text = crate::config::read_text(path).map_err(|e| CheckError::Read {
            path: p.clone(),
            reason: e.to_string(),
        })?;
        let text = crate::config::expand_file(&text, skip).map_err(|(line, reason)| {
            CheckError::Parse {
                path: p.clone(),
                line,
                reason,
            }
        })?;
        let raw: RawSpec = toml::from_str(&text).map_err(|e| CheckError::Parse {
            path: p.clone(),
            line: e.span().map_or(1, |s| line_of(&text, s.start)),
            reason: e.message().trim().to_string(),
        })?;
        let tables = tables_from_raw(&text, &p, raw.table).map_err(|e| CheckError::Parse {
            path: p.clone(),
            line: match &e {
                crate::diff::mapping::MappingError::Rule { line, .. } => *line,
                _ => 1,
            },
            reason: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let resolve = |s: &str| resolve_location(s, dir);
        let criteria = raw.criteria.unwrap_or_default();
        let baseline_dir = criteria.baseline.as_ref().map(|b| dir.join(b));
        Ok(SignoffSpec {
            source: resolve(&raw.source),
            target: resolve(&raw.target),
            tables,
            rules: RuleFile {
                path: p.clone(),
                source: None,
                sensitive: raw.sensitive,
                sensitive_line: key_line(&text, "sensitive"),
                samples: raw.samples.unwrap_or(DEFAULT_SAMPLES),
                keys: raw.keys,
                rules: rules_from_raw(&text, &p, raw.rule)?,
            },
            criteria,
            baseline_dir,
            path: path.to_path_buf(),
        })
    }
}

/// Reads the per-table row counts of a baseline run directory (its `profile.json`, or the
/// source profile of a sign-off).
pub fn baseline_counts(dir: &Path) -> Result<BTreeMap<String, u64>, CheckError> {
    for name in ["profile.json", "profile_source.json"] {
        let p = dir.join(name);
        if let Ok(text) = std::fs::read_to_string(&p) {
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| CheckError::Manifest {
                    path: p.display().to_string(),
                    reason: format!("not a reckon profile: {e}"),
                })?;
            let mut out = BTreeMap::new();
            for t in v["tables"].as_array().into_iter().flatten() {
                let name = t["table"]["name"].as_str().unwrap_or_default().to_string();
                out.insert(name, t["rows"].as_u64().unwrap_or(0));
            }
            return Ok(out);
        }
    }
    Err(CheckError::Manifest {
        path: dir.display().to_string(),
        reason: "no profile.json or profile_source.json: not a profile or sign-off run".into(),
    })
}

/// One criterion judged.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Criterion {
    /// Its id (`missing`, `extra`, `mismatch_classes`, `rules`, `counts_equal_source`,
    /// `baseline`, `compared`).
    pub id: String,
    /// What it demands, in words.
    pub description: String,
    /// `pass` or `fail`.
    pub status: String,
    /// The evidence: one line per table or rule.
    pub evidence: Vec<String>,
}

/// One table pair in the sign-off.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SignoffTable {
    /// Source table.
    pub source_table: String,
    /// Target table.
    pub target_table: String,
    /// The diff's verdict.
    pub diff_verdict: String,
    /// Rows in the source.
    pub source_rows: u64,
    /// Rows in the target.
    pub target_rows: u64,
    /// Rows equal (exactly or by rule).
    pub matched: u64,
    /// Rows missing from the target.
    pub missing: u64,
    /// Rows only in the target.
    pub extra: u64,
    /// Rows that differ.
    pub mismatched: u64,
    /// Mismatched cells per class.
    pub classes: BTreeMap<String, u64>,
    /// Rules on the target table that passed.
    pub rules_passed: u64,
    /// Rules on the target table that failed.
    pub rules_failed: u64,
}

/// The sign-off document.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SignoffReport {
    /// Result format version.
    pub format_version: u32,
    /// reckon's version.
    pub reckon_version: String,
    /// The source, redacted.
    pub source: String,
    /// The target, redacted.
    pub target: String,
    /// `PASS` when every criterion passed, else `FAIL`.
    pub verdict: String,
    /// The criteria, judged.
    pub criteria: Vec<Criterion>,
    /// The table pairs.
    pub tables: Vec<SignoffTable>,
}

/// Whether a table name (schema optional) names one of the candidates.
pub fn table_matches(name: &str, candidates: &[&str]) -> bool {
    let want = crate::source::TableName::parse(name);
    candidates.iter().any(|c| {
        let c = crate::source::TableName::parse(c);
        want.name.eq_ignore_ascii_case(&c.name)
            && (want.schema.is_none() || c.schema.is_none() || want.schema == c.schema)
    })
}

/// Judges the criteria on the evidence.
pub fn judge(
    criteria: &Criteria,
    diff: &DiffReport,
    checks: Option<&CheckReport>,
    baseline: Option<&BTreeMap<String, u64>>,
) -> SignoffReport {
    let mut out: Vec<Criterion> = Vec::new();
    let mut push = |id: &str, description: String, evidence: Vec<(bool, String)>| {
        let ok = evidence.iter().all(|(ok, _)| *ok);
        out.push(Criterion {
            id: id.into(),
            description,
            status: if ok { "pass" } else { "fail" }.into(),
            evidence: evidence
                .into_iter()
                .map(|(ok, e)| format!("{} {e}", if ok { "ok:" } else { "FAIL:" }))
                .collect(),
        });
    };
    let pair = |t: &crate::diff::TableDiff| format!("{} → {}", t.source_table, t.target_table);
    let mut compared: Vec<(bool, String)> = diff
        .tables
        .iter()
        .map(|t| match &t.error {
            Some(reason) => (
                false,
                format!("{}: not compared, {}: {reason}", pair(t), t.verdict),
            ),
            None => (true, format!("{}: compared, {}", pair(t), t.verdict)),
        })
        .collect();
    compared.extend(diff.unpaired.iter().map(|u| {
        (
            false,
            format!("{}: only in the {}, not compared", u.table, u.side),
        )
    }));
    push("compared", "every table pair compared".into(), compared);
    push(
        "missing",
        format!("all tables: at most {} missing row(s)", criteria.missing),
        diff.tables
            .iter()
            .map(|t| {
                (
                    t.counts.missing <= criteria.missing,
                    format!("{}: {} missing", pair(t), t.counts.missing),
                )
            })
            .collect(),
    );
    push(
        "extra",
        format!("all tables: at most {} extra row(s)", criteria.extra),
        diff.tables
            .iter()
            .map(|t| {
                (
                    t.counts.extra <= criteria.extra,
                    format!("{}: {} extra", pair(t), t.counts.extra),
                )
            })
            .collect(),
    );
    let accepted = if criteria.mismatch_classes.is_empty() {
        "none".to_string()
    } else {
        criteria.mismatch_classes.join(", ")
    };
    push(
        "mismatch_classes",
        format!("mismatches only of the declared classes ({accepted})"),
        diff.tables
            .iter()
            .map(|t| {
                let bad: Vec<String> = t
                    .classes
                    .iter()
                    .filter(|(c, n)| **n > 0 && !criteria.mismatch_classes.contains(c))
                    .map(|(c, n)| format!("{c} {n}"))
                    .collect();
                let all: Vec<String> = t
                    .classes
                    .iter()
                    .filter(|(_, n)| **n > 0)
                    .map(|(c, n)| format!("{c} {n}"))
                    .collect();
                let text = if all.is_empty() {
                    format!("{}: no mismatched cells", pair(t))
                } else if bad.is_empty() {
                    format!("{}: {} (accepted)", pair(t), all.join(", "))
                } else {
                    format!("{}: {} not accepted", pair(t), bad.join(", "))
                };
                (bad.is_empty(), text)
            })
            .collect(),
    );
    if let Some(c) = checks.filter(|_| criteria.rules) {
        push(
            "rules",
            "every rule passes".into(),
            c.rules
                .iter()
                .map(|r| (r.status == "pass", format!("{}: {}", r.name, r.detail)))
                .collect(),
        );
    }
    if criteria.counts_equal_source {
        push(
            "counts_equal_source",
            "target row count equals the source's, per table".into(),
            diff.tables
                .iter()
                .map(|t| {
                    (
                        t.counts.source_rows == t.counts.target_rows,
                        format!(
                            "{}: {} source, {} target",
                            pair(t),
                            t.counts.source_rows,
                            t.counts.target_rows
                        ),
                    )
                })
                .collect(),
        );
    }
    if let Some(b) = baseline {
        push(
            "baseline",
            "target row count equals the pre-migration baseline, per table".into(),
            diff.tables
                .iter()
                .map(|t| {
                    let want = b
                        .iter()
                        .find(|(name, _)| table_matches(name, &[&t.source_table, &t.target_table]))
                        .map(|(_, n)| *n);
                    match want {
                        Some(n) => (
                            n == t.counts.target_rows,
                            format!("{}: baseline {n}, target {}", pair(t), t.counts.target_rows),
                        ),
                        None => (false, format!("{}: not in the baseline", pair(t))),
                    }
                })
                .collect(),
        );
    }
    let tables = diff
        .tables
        .iter()
        .map(|t| {
            let rules: Vec<&super::RuleResult> = checks
                .map(|c| {
                    c.rules
                        .iter()
                        .filter(|r| table_matches(&r.table, &[&t.target_table]))
                        .collect()
                })
                .unwrap_or_default();
            SignoffTable {
                source_table: t.source_table.clone(),
                target_table: t.target_table.clone(),
                diff_verdict: t.verdict.to_string(),
                source_rows: t.counts.source_rows,
                target_rows: t.counts.target_rows,
                matched: t.counts.matched + t.counts.matched_by_rule,
                missing: t.counts.missing,
                extra: t.counts.extra,
                mismatched: t.counts.mismatched,
                classes: t.classes.clone(),
                rules_passed: rules.iter().filter(|r| r.status == "pass").count() as u64,
                rules_failed: rules.iter().filter(|r| r.status != "pass").count() as u64,
            }
        })
        .collect();
    let verdict = if out.iter().all(|c| c.status == "pass") {
        "PASS"
    } else {
        "FAIL"
    };
    SignoffReport {
        format_version: FORMAT_VERSION,
        reckon_version: env!("CARGO_PKG_VERSION").into(),
        source: diff.source.clone(),
        target: diff.target.clone(),
        verdict: verdict.into(),
        criteria: out,
        tables,
    }
}
