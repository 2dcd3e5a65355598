//! `diff.html`: the sign-off page (verdict, per-table and per-column tables, class breakdown
//! chart, samples), self-contained, rendered with minijinja from `reports/diff.html`.

use std::path::Path;

use minijinja::{context, Environment};

use crate::diff::{DiffError, DiffReport};
use crate::error::scrub;

fn err(e: impl std::fmt::Display) -> DiffError {
    DiffError::Output {
        path: "diff.html".into(),
        reason: e.to_string(),
    }
}

/// Renders the page.
pub fn render(report: &DiffReport) -> Result<String, DiffError> {
    let mut env = Environment::new();
    env.add_template("diff.html", include_str!("../../../reports/diff.html"))
        .map_err(err)?;
    // A changed cell's two values as the terminal shows them (NULL apart from any text,
    // invisible characters escaped, the differing span marked).
    env.add_function("shown_pair", |a: Option<String>, b: Option<String>| {
        let (x, y) = super::shown::shown_pair(a.as_deref(), b.as_deref());
        vec![x, y]
    });
    // A value of a row on one side only, shown the same way.
    env.add_function("shown", |a: Option<String>| {
        super::shown::shown(a.as_deref())
    });
    // The longest bar of each table's class chart.
    let tops: Vec<u64> = report
        .tables
        .iter()
        .map(|t| {
            t.classes
                .values()
                .chain(t.rules.values())
                .copied()
                .max()
                .unwrap_or(1)
                .max(1)
        })
        .collect();
    // Samples in key order.
    let mut report = report.clone();
    for t in &mut report.tables {
        t.samples.sort_by(|a, b| a.cmp_key(b));
    }
    let html = env
        .get_template("diff.html")
        .map_err(err)?
        .render(context! { report => report, tops => tops })
        .map_err(err)?;
    Ok(scrub(&html))
}

/// Writes the page.
pub fn write(report: &DiffReport, path: &Path) -> Result<(), DiffError> {
    std::fs::write(path, render(report)?).map_err(|e| DiffError::Output {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
