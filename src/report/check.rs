//! Check results: the terminal table, and `check.parquet` (one row per rule).
//!
//! `check.parquet`, version 1: format_version uint64; rule, kind, table_name, columns, status,
//! detail utf8; checked, violations, distinct uint64; sample_keys utf8 (`; `-separated);
//! seconds float64. `check.json` is the whole [`CheckReport`].

use std::path::Path;

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

use super::table_file::{write as write_parquet, Col};
use super::ReportError;
use crate::check::{CheckReport, RuleResult, Sample};
use crate::error::scrub;

/// A sample as one line: `id=7` or `id=7 (value)`.
pub fn sample_text(s: &Sample) -> String {
    match &s.value {
        Some(v) => format!("{} ({})", s.key, v.replace('\n', "⏎")),
        None => s.key.clone(),
    }
}

/// The rules as a terminal table.
pub fn rules_table(rules: &[RuleResult]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["rule", "status", "violations", "found", "samples"]);
    for r in rules {
        let samples: Vec<String> = r.samples.iter().take(3).map(sample_text).collect();
        t.add_row(vec![
            r.name.clone(),
            r.status.to_uppercase(),
            r.violations.to_string(),
            r.detail.clone(),
            samples.join("; "),
        ]);
    }
    t.to_string()
}

/// Renders a check run for a terminal.
pub fn render(report: &CheckReport) -> String {
    let failed = report.rules.iter().filter(|r| r.status != "pass").count();
    scrub(&format!(
        "reckon check of {}: {} ({} rule(s), {} failed)\n{}\n",
        report.target,
        report.verdict.to_uppercase(),
        report.rules.len(),
        failed,
        rules_table(&report.rules)
    ))
}

/// Writes `check.parquet`.
pub fn write_parquet_file(report: &CheckReport, path: &Path) -> Result<(), ReportError> {
    let r = &report.rules;
    let s = |f: &dyn Fn(&RuleResult) -> String| Col::Str(r.iter().map(|x| Some(f(x))).collect());
    write_parquet(
        path,
        vec![
            ("format_version", Col::U64(vec![Some(1); r.len()])),
            ("rule", s(&|x| x.name.clone())),
            ("kind", s(&|x| x.kind.clone())),
            ("table_name", s(&|x| x.table.clone())),
            ("columns", s(&|x| x.columns.join(","))),
            ("status", s(&|x| x.status.clone())),
            (
                "checked",
                Col::U64(r.iter().map(|x| Some(x.checked)).collect()),
            ),
            (
                "violations",
                Col::U64(r.iter().map(|x| Some(x.violations)).collect()),
            ),
            ("distinct", Col::U64(r.iter().map(|x| x.distinct).collect())),
            ("detail", s(&|x| x.detail.clone())),
            (
                "sample_keys",
                s(&|x| {
                    x.samples
                        .iter()
                        .map(sample_text)
                        .collect::<Vec<_>>()
                        .join("; ")
                }),
            ),
            (
                "seconds",
                Col::F64(r.iter().map(|x| Some(x.seconds)).collect()),
            ),
        ],
    )
}
