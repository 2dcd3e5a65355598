//! `profile.html`: one self-contained page (CSS, JS and SVG inline, nothing fetched), rendered
//! with minijinja from the top-level template `reports/profile.html`. Values are HTML-escaped by
//! the template engine (auto-escaping is on for `.html` templates).

use std::path::Path;

use minijinja::{context, Environment};

use super::ReportError;
use crate::error::scrub;
use crate::profile::ProfileReport;

/// Renders the page.
pub fn render(report: &ProfileReport) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.add_template("profile.html", include_str!("../../reports/profile.html"))
        .map_err(|e| ReportError::write(Path::new("reports/profile.html"), e))?;
    env.add_function("pct", |n: u64, of: u64| -> String {
        if of == 0 {
            "0 %".into()
        } else {
            format!("{:.1} %", 100.0 * n as f64 / of as f64)
        }
    });
    let total_rows: u64 = report.tables.iter().map(|t| t.rows).sum();
    let table_findings: Vec<usize> = report
        .tables
        .iter()
        .map(|t| {
            report
                .findings
                .iter()
                .filter(|f| f.table == t.table)
                .count()
        })
        .collect();
    let tmpl = env
        .get_template("profile.html")
        .map_err(|e| ReportError::write(Path::new("profile.html"), e))?;
    let html = tmpl
        .render(context! { report => report, total_rows => total_rows, table_findings => table_findings })
        .map_err(|e| ReportError::write(Path::new("profile.html"), e))?;
    Ok(scrub(&html))
}

/// Writes the page.
pub fn write(report: &ProfileReport, path: &Path) -> Result<(), ReportError> {
    let html = render(report)?;
    std::fs::write(path, html).map_err(|e| ReportError::write(path, e))
}
