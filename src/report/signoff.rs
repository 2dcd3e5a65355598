//! The sign-off document: terminal summary, `signoff.html` (from `reports/signoff.html`: the
//! PASS/FAIL banner, each criterion with its evidence, a drill-down per table with its diff
//! counts, classes, samples and rules) and `signoff.parquet`.
//!
//! `signoff.parquet`, version 1, one row per evidence line: format_version uint64; verdict,
//! criterion, description, status, evidence utf8.

use std::path::Path;

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use minijinja::{context, Environment};

use super::table_file::{write as write_parquet, Col};
use super::ReportError;
use crate::check::signoff::{table_matches, SignoffReport};
use crate::check::CheckReport;
use crate::diff::DiffReport;
use crate::error::scrub;

/// Renders the sign-off for a terminal.
pub fn render(s: &SignoffReport) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["criterion", "status", "evidence"]);
    for c in &s.criteria {
        let shown: Vec<&String> = c.evidence.iter().take(6).collect();
        let mut ev = shown
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        if c.evidence.len() > 6 {
            ev.push_str(&format!("\n… {} more", c.evidence.len() - 6));
        }
        t.add_row(vec![c.description.clone(), c.status.to_uppercase(), ev]);
    }
    scrub(&format!(
        "reckon sign-off: {}\n  source: {}\n  target: {}\n{t}\n",
        s.verdict, s.source, s.target
    ))
}

/// Writes `signoff.parquet`.
pub fn write_parquet_file(s: &SignoffReport, path: &Path) -> Result<(), ReportError> {
    let mut rows: Vec<[String; 4]> = Vec::new();
    for c in &s.criteria {
        for e in &c.evidence {
            rows.push([
                c.id.clone(),
                c.description.clone(),
                c.status.clone(),
                e.clone(),
            ]);
        }
        if c.evidence.is_empty() {
            rows.push([
                c.id.clone(),
                c.description.clone(),
                c.status.clone(),
                String::new(),
            ]);
        }
    }
    let col = |i: usize| Col::Str(rows.iter().map(|r| Some(r[i].clone())).collect());
    write_parquet(
        path,
        vec![
            ("format_version", Col::U64(vec![Some(1); rows.len()])),
            (
                "verdict",
                Col::Str(vec![Some(s.verdict.clone()); rows.len()]),
            ),
            ("criterion", col(0)),
            ("description", col(1)),
            ("status", col(2)),
            ("evidence", col(3)),
        ],
    )
}

/// Renders `signoff.html`.
pub fn render_html(
    s: &SignoffReport,
    diff: &DiffReport,
    checks: Option<&CheckReport>,
) -> Result<String, String> {
    let mut env = Environment::new();
    env.add_template("signoff.html", include_str!("../../reports/signoff.html"))
        .map_err(|e| e.to_string())?;
    let table_rules: Vec<Vec<&crate::check::RuleResult>> = diff
        .tables
        .iter()
        .map(|t| {
            checks
                .map(|c| {
                    c.rules
                        .iter()
                        .filter(|r| table_matches(&r.table, &[&t.target_table]))
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    let html = env
        .get_template("signoff.html")
        .and_then(|t| {
            t.render(
                context! { s => s, diff => diff, checks => checks, table_rules => table_rules },
            )
        })
        .map_err(|e| e.to_string())?;
    Ok(scrub(&html))
}

/// Writes `signoff.html`.
pub fn write_html(
    s: &SignoffReport,
    diff: &DiffReport,
    checks: Option<&CheckReport>,
    path: &Path,
) -> Result<(), ReportError> {
    let html = render_html(s, diff, checks).map_err(|e| ReportError::write(path, e))?;
    std::fs::write(path, html).map_err(|e| ReportError::write(path, e))
}
