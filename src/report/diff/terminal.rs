//! The diff in a terminal: verdict banner, then per table the counts, classes and rules, schema
//! findings, the worst columns and a few sample keys.

use std::fmt::Write;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, ContentArrangement, Table};

use crate::diff::model::{DiffReport, RowStatus, RowValue, TableDiff, Verdict};
use crate::error::scrub;

fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(header.iter().map(Cell::new));
    t
}

fn banner(report: &DiffReport) -> String {
    let what = match report.verdict {
        Verdict::Match => "MATCH — the target holds the same data",
        Verdict::MatchByRule => "MATCH* — the same data under the declared rules",
        Verdict::Error(_) => "ERROR — some tables could not be compared (never a match)",
        Verdict::Mismatch => "MISMATCH — the target differs from the source",
    };
    format!(
        "reckon diff: {what}\n  source: {}\n  target: {}\n",
        report.source, report.target
    )
}

/// How a `--pushdown` diff split its work.
fn pushdown_line(p: &crate::diff::pushdown::PushdownInfo, out: &mut String) {
    if p.strategy == "streamed" {
        let _ = writeln!(
            out,
            "  pushdown: streamed instead ({})",
            p.reason.as_deref().unwrap_or("no reason given")
        );
        for c in &p.fallback_columns {
            let _ = writeln!(out, "    column {}: {}", c.column, c.why);
        }
        return;
    }
    let probe = if p.probed_buckets > 0 {
        format!(
            " (probe: {} of {} differed)",
            p.probe_differing, p.probed_buckets
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  pushdown: {} ({}); {} buckets{probe}, {} differed; hashes fetched {}/{}, rows fetched {}/{}, {} / {} received; {:.1} s / {:.1} s in the databases",
        p.strategy,
        p.hashing,
        p.buckets,
        p.differing_buckets,
        p.hashes_fetched[0],
        p.hashes_fetched[1],
        p.rows_fetched[0],
        p.rows_fetched[1],
        human_bytes(p.bytes_fetched[0]),
        human_bytes(p.bytes_fetched[1]),
        p.seconds[0],
        p.seconds[1]
    );
}

/// Bytes as `812 B`, `3.4 MB`, `1.2 GB` (decimal units).
fn human_bytes(n: u64) -> String {
    match n {
        0..=999 => format!("{n} B"),
        1_000..=999_999 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.1} GB", n as f64 / 1e9),
    }
}

fn table_section(t: &TableDiff, out: &mut String) {
    let _ = writeln!(
        out,
        "\n== {} → {}: {} (key: {}; {}) {:.1} s{}",
        t.source_table,
        t.target_table,
        t.verdict.to_string().to_uppercase(),
        if t.key.is_empty() {
            "whole rows".to_string()
        } else {
            t.key.join(", ")
        },
        t.key_origin,
        t.seconds,
        if t.spilled {
            ", past --memory-limit (spilled or read twice)"
        } else {
            ""
        }
    );
    if let Some(reason) = &t.error {
        let _ = writeln!(out, "  could not be compared: {reason}");
        return;
    }
    if let Some(p) = &t.pushdown {
        pushdown_line(p, out);
    }
    if let Some(n) = t.recheck {
        let _ = writeln!(
            out,
            "  recheck: only the {n} key(s) the earlier report found differing were read and compared; these counts are theirs, not the table's"
        );
    }
    let c = &t.counts;
    let mut counts = new_table(&[
        "source rows",
        "target rows",
        "matched",
        "match*",
        "mismatched",
        "missing",
        "extra",
        "dup keys src/tgt",
    ]);
    counts.add_row(vec![
        c.source_rows.to_string(),
        c.target_rows.to_string(),
        c.matched.to_string(),
        c.matched_by_rule.to_string(),
        c.mismatched.to_string(),
        c.missing.to_string(),
        c.extra.to_string(),
        format!("{}/{}", c.duplicate_keys_source, c.duplicate_keys_target),
    ]);
    let _ = writeln!(out, "{counts}");
    if !t.classes.is_empty() || !t.rules.is_empty() {
        let mut k = new_table(&["verdict", "class / rule", "cells"]);
        for (name, n) in &t.classes {
            k.add_row(vec!["mismatch".to_string(), name.clone(), n.to_string()]);
        }
        for (name, n) in &t.rules {
            k.add_row(vec!["match*".to_string(), name.clone(), n.to_string()]);
        }
        let _ = writeln!(out, "{k}");
    }
    let notable: Vec<_> = t.schema.iter().filter(|f| f.severity != "info").collect();
    if !notable.is_empty() {
        let mut s = new_table(&["schema", "column", "finding", "detail"]);
        for f in notable {
            s.add_row(vec![
                f.severity.clone(),
                f.column.clone(),
                f.kind.clone(),
                f.detail.clone(),
            ]);
        }
        let _ = writeln!(out, "{s}");
    }
    let mut worst: Vec<_> = t
        .columns
        .iter()
        .filter(|c| c.mismatched_total() > 0 || !c.matched_by_rule.is_empty())
        .collect();
    worst.sort_by_key(|c| std::cmp::Reverse(c.mismatched_total()));
    if !worst.is_empty() {
        let mut w = new_table(&["column", "types", "mismatched", "classes", "match*"]);
        for c in worst.iter().take(8) {
            let classes: Vec<String> = c
                .mismatched
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let rules: Vec<String> = c
                .matched_by_rule
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            let types = if c.source_type == c.target_type {
                c.source_type.clone()
            } else {
                format!("{} → {}", c.source_type, c.target_type)
            };
            w.add_row(vec![
                if c.source == c.target {
                    c.source.clone()
                } else {
                    format!("{} → {}", c.source, c.target)
                },
                types,
                c.mismatched_total().to_string(),
                classes.join(", "),
                rules.join(", "),
            ]);
        }
        let _ = writeln!(out, "{w}");
    }
    if !t.samples.is_empty() {
        let mut s = new_table(&["key", "status", "column", "verdict", "source", "target"]);
        let mut rows: Vec<&crate::diff::DiffRow> = t.samples.iter().collect();
        rows.sort_by(|a, b| a.cmp_key(b));
        for r in rows.into_iter().take(8) {
            let key = r.key_text.clone();
            if r.cells.is_empty() {
                // A row on one side only: its values on that side, on one line.
                let values = one_line(&r.values);
                let (source, target) = match r.status {
                    RowStatus::Extra => (String::new(), values),
                    _ => (values, String::new()),
                };
                s.add_row(vec![
                    key.clone(),
                    r.status.to_string(),
                    String::new(),
                    String::new(),
                    source,
                    target,
                ]);
            }
            for (i, c) in r.cells.iter().enumerate() {
                let (source, target) =
                    super::shown::shown_pair(c.source.as_deref(), c.target.as_deref());
                s.add_row(vec![
                    if i == 0 { key.clone() } else { String::new() },
                    if i == 0 {
                        r.status.to_string()
                    } else {
                        String::new()
                    },
                    c.column.clone(),
                    format!("{}({})", c.verdict, c.class),
                    source,
                    target,
                ]);
            }
        }
        let _ = writeln!(out, "sample differing rows:\n{s}");
    }
}

/// A row's values as `column=value, …` (each as [`super::shown::shown`]), cut at 120
/// characters.
fn one_line(values: &[RowValue]) -> String {
    let text = values
        .iter()
        .map(|v| format!("{}={}", v.column, super::shown::shown(v.value.as_deref())))
        .collect::<Vec<_>>()
        .join(", ");
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Renders the whole report.
pub fn render(report: &DiffReport) -> String {
    let mut out = banner(report);
    for u in &report.unpaired {
        let _ = writeln!(
            out,
            "  table {} is only in the {}{}",
            u.table,
            u.side,
            if u.side == "source" {
                " (missing in the target)"
            } else {
                ""
            }
        );
    }
    for t in &report.tables {
        table_section(t, &mut out);
    }
    let _ = writeln!(out, "\nverdict: {}", report.verdict);
    scrub(&out)
}
