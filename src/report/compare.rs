//! Comparison results: terminal tables, `compare.html` (from `reports/compare.html`) and
//! `compare.parquet`.
//!
//! `compare.parquet`, version 1, one row per change and one per timing: format_version uint64;
//! section utf8 (`profile`, `diff`, `rule`, `signoff`, `timing`); scope, metric, a, b utf8;
//! a_seconds, b_seconds, ratio float64 (timing rows only).

use std::path::Path;

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use minijinja::{context, Environment};

use super::table_file::{write as write_parquet, Col};
use super::ReportError;
use crate::error::scrub;
use crate::run::compare::Comparison;

fn secs(x: Option<f64>) -> String {
    x.map_or("—".into(), |s| format!("{s:.3}"))
}

/// Renders the comparison for a terminal.
pub fn render(c: &Comparison) -> String {
    let mut out = format!(
        "reckon compare\n  A: {} ({})\n  B: {} ({})\n{}\n",
        c.run_a,
        c.a_command,
        c.run_b,
        c.b_command,
        if c.changes.is_empty() {
            "No change.".to_string()
        } else {
            format!("{} change(s).", c.changes.len())
        }
    );
    if !c.changes.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec!["section", "where", "what", "A", "B"]);
        for ch in &c.changes {
            t.add_row(vec![
                ch.section.clone(),
                ch.scope.clone(),
                ch.metric.clone(),
                ch.a.clone().unwrap_or_else(|| "—".into()),
                ch.b.clone().unwrap_or_else(|| "—".into()),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    if !c.timings.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec!["timing", "A s", "B s", "B/A"]);
        for x in &c.timings {
            t.add_row(vec![
                x.item.clone(),
                secs(x.a_seconds),
                secs(x.b_seconds),
                x.ratio.map_or("—".into(), |r| format!("{r:.2}×")),
            ]);
        }
        out.push_str(&format!("{t}\n"));
    }
    scrub(&out)
}

/// Writes `compare.parquet`.
pub fn write_parquet_file(c: &Comparison, path: &Path) -> Result<(), ReportError> {
    let n = c.changes.len() + c.timings.len();
    let mut section = Vec::with_capacity(n);
    let mut scope = Vec::with_capacity(n);
    let mut metric = Vec::with_capacity(n);
    let (mut a, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut sa, mut sb, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for ch in &c.changes {
        section.push(Some(ch.section.clone()));
        scope.push(Some(ch.scope.clone()));
        metric.push(Some(ch.metric.clone()));
        a.push(ch.a.clone());
        b.push(ch.b.clone());
        sa.push(None);
        sb.push(None);
        ratio.push(None);
    }
    for t in &c.timings {
        section.push(Some("timing".to_string()));
        scope.push(Some(t.item.clone()));
        metric.push(Some("seconds".to_string()));
        a.push(None);
        b.push(None);
        sa.push(t.a_seconds);
        sb.push(t.b_seconds);
        ratio.push(t.ratio);
    }
    write_parquet(
        path,
        vec![
            ("format_version", Col::U64(vec![Some(1); n])),
            ("section", Col::Str(section)),
            ("scope", Col::Str(scope)),
            ("metric", Col::Str(metric)),
            ("a", Col::Str(a)),
            ("b", Col::Str(b)),
            ("a_seconds", Col::F64(sa)),
            ("b_seconds", Col::F64(sb)),
            ("ratio", Col::F64(ratio)),
        ],
    )
}

/// Writes `compare.html`.
pub fn write_html(c: &Comparison, path: &Path) -> Result<(), ReportError> {
    let mut env = Environment::new();
    env.add_template("compare.html", include_str!("../../reports/compare.html"))
        .map_err(|e| ReportError::write(path, e))?;
    let html = env
        .get_template("compare.html")
        .and_then(|t| t.render(context! { c => c }))
        .map_err(|e| ReportError::write(path, e))?;
    std::fs::write(path, scrub(&html)).map_err(|e| ReportError::write(path, e))
}
