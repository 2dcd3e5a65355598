//! The terminal report: findings first (most severe on top), then one table per source table.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, ContentArrangement, Table};

use crate::error::scrub;
use crate::profile::model::ColumnProfile;
use crate::profile::ProfileReport;

const MAX_FINDINGS: usize = 40;

fn cut(s: &str, n: usize) -> String {
    let s = s.replace('\n', "⏎");
    if s.chars().count() <= n {
        s
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn distinct(c: &ColumnProfile) -> String {
    if c.distinct_exact {
        c.distinct.to_string()
    } else {
        format!("≈{} (±{:.1} %)", c.distinct, 300.0 * c.distinct_std_error)
    }
}

fn notes(c: &ColumnProfile) -> String {
    let mut v = Vec::new();
    if c.unique {
        v.push("unique".to_string());
    }
    for e in &c.encoding {
        v.push(format!("{} {}", e.kind, e.count));
    }
    if c.date_formats.len() > 1 {
        v.push(format!("{} date formats", c.date_formats.len()));
    }
    if !c.inconsistent.is_empty() {
        v.push(format!("{} inconsistent groups", c.inconsistent.len()));
    }
    if c.empty > 0 {
        v.push(format!("empty {}", c.empty));
    }
    if c.padded + c.whitespace_only > 0 {
        v.push(format!("whitespace {}", c.padded + c.whitespace_only));
    }
    if c.sensitive {
        v.push("masked".into());
    }
    v.join(", ")
}

/// Renders the report for a terminal.
pub fn render(report: &ProfileReport) -> String {
    let mut out = String::new();
    out.push_str(&format!("reckon profile of {}\n\n", report.source));
    if report.findings.is_empty() {
        out.push_str("No findings.\n\n");
    } else {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(160);
        t.set_header(vec!["severity", "where", "finding", "samples"]);
        for f in report.findings.iter().take(MAX_FINDINGS) {
            let place = match &f.column {
                Some(c) => format!("{}.{c}", f.table),
                None => f.table.to_string(),
            };
            t.add_row(vec![
                Cell::new(f.severity.name()),
                Cell::new(place),
                Cell::new(cut(&f.message, 110)),
                Cell::new(cut(&f.samples.join("; "), 50)),
            ]);
        }
        out.push_str(&format!("Findings ({}):\n{t}\n", report.findings.len()));
        if report.findings.len() > MAX_FINDINGS {
            out.push_str(&format!(
                "… and {} more (see --out or --json)\n",
                report.findings.len() - MAX_FINDINGS
            ));
        }
        out.push('\n');
    }
    for tp in &report.tables {
        let dup = tp
            .duplicate_rows
            .map(|d| d.to_string())
            .unwrap_or_else(|| "not counted".into());
        let keys: Vec<String> = tp.candidate_keys.iter().map(|k| k.join("+")).collect();
        out.push_str(&format!(
            "{} — {} rows, {} duplicate rows, primary key: {}, candidate keys: {}\n",
            tp.table,
            tp.rows,
            dup,
            if tp.primary_key.is_empty() {
                "none".into()
            } else {
                tp.primary_key.join(",")
            },
            if keys.is_empty() {
                "none".into()
            } else {
                keys.join(", ")
            }
        ));
        if let Some(p) = &tp.pushdown {
            let stats: usize = p.exact_in_sql.iter().map(|e| e.stats.len()).sum();
            let cols: Vec<&str> = p.exact_in_sql.iter().map(|e| e.column.as_str()).collect();
            let line = match (&p.sample, cols.is_empty()) {
                (Some(s), _) => format!(
                    "{stats} statistics of {} columns computed in SQL over the whole table; everything else from a sample of {} rows ({})",
                    cols.len(),
                    s.rows,
                    s.method
                ),
                (None, false) => format!(
                    "every row streamed; exact distinct counts of {} computed in SQL (past --exact-distinct-limit)",
                    cols.join(", ")
                ),
                (None, true) => {
                    "every row streamed; no distinct count SQL can give was past --exact-distinct-limit: nothing asked of SQL".to_string()
                }
            };
            out.push_str(&format!("  pushdown: {line}\n"));
            if !p.table_in_sql.is_empty() {
                out.push_str(&format!(
                    "  pushdown: declared primary key checked in SQL over the whole table ({})\n",
                    p.table_in_sql.join(", ")
                ));
            }
        }
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(160);
        t.set_header(vec![
            "column",
            "type",
            "nulls",
            "distinct",
            "min",
            "max",
            "top value",
            "top shape",
            "notes",
        ]);
        for c in &tp.columns {
            let top = c
                .top_values
                .first()
                .map(|v| format!("{} ({})", cut(&v.value, 20), v.count))
                .unwrap_or_default();
            let shape = c
                .shapes
                .first()
                .map(|v| format!("{} ({})", cut(&v.value, 16), v.count))
                .unwrap_or_default();
            t.add_row(vec![
                Cell::new(&c.name),
                Cell::new(cut(&c.declared_type, 18)),
                Cell::new(c.nulls),
                Cell::new(distinct(c)),
                Cell::new(c.min.as_deref().map(|s| cut(s, 22)).unwrap_or_default()),
                Cell::new(c.max.as_deref().map(|s| cut(s, 22)).unwrap_or_default()),
                Cell::new(top),
                Cell::new(shape),
                Cell::new(notes(c)),
            ]);
        }
        out.push_str(&format!("{t}\n\n"));
    }
    let rels: Vec<String> = report
        .relationships
        .iter()
        .filter(|r| r.checked)
        .map(|r| {
            format!(
                "  {} {}.{} → {}.{}: {} orphan value(s){}{}",
                if r.declared { "declared" } else { "inferred" },
                r.child_table,
                r.child_column,
                r.parent_table,
                r.parent_column,
                r.orphan_distinct,
                r.orphan_rows
                    .map(|n| format!(" in {n} row(s)"))
                    .unwrap_or_default(),
                if r.note.as_deref() == Some(crate::profile::pushdown::IN_SQL) {
                    " (checked in SQL over the whole tables)"
                } else {
                    ""
                }
            )
        })
        .collect();
    if !rels.is_empty() {
        out.push_str(&format!("Relationships:\n{}\n", rels.join("\n")));
    }
    scrub(&out)
}
