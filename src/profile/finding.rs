//! Findings: what a migration team should look at, ranked by severity, derived from the profiles.
//!
//! Each finding names its table and column, counts what it saw, and carries sample keys or values
//! (masked for sensitive columns). Severity: `high` — data that will break or be corrupted by a
//! migration (invalid UTF-8, mojibake, orphans, broken keys, mixed date formats, mixed storage
//! classes); `medium` — data that will load but differ (NULLs in a mostly-filled column,
//! duplicates, inconsistent spellings, non-NFC text, format outliers); `low` — hygiene (white
//! space, empty strings, BOMs, control characters); `info` — facts (candidate keys).

use serde::Serialize;

use super::model::{ColumnProfile, Relationship, TableProfile};
use crate::source::TableName;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Will break or corrupt a migration.
    High,
    /// Will load but differ.
    Medium,
    /// Hygiene.
    Low,
    /// A fact worth knowing.
    Info,
}

impl Severity {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Stable code (`mojibake`, `orphans`, `mixed-date-formats`…).
    pub code: String,
    /// Table.
    pub table: TableName,
    /// Column, when the finding is about one.
    pub column: Option<String>,
    /// How many values or rows.
    pub count: u64,
    /// What was seen, in a sentence.
    pub message: String,
    /// Sample keys or values.
    pub samples: Vec<String>,
}

/// "1 row", "2 rows".
fn count_of(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// "1 value", "2 values".
fn values(n: u64) -> String {
    count_of(n, "value")
}

fn pct(n: u64, of: u64) -> String {
    if of == 0 {
        return "0 %".into();
    }
    let p = 100.0 * n as f64 / of as f64;
    if p < 0.1 {
        format!("{p:.3} %")
    } else {
        format!("{p:.1} %")
    }
}

fn col_findings(t: &TableName, c: &ColumnProfile, out: &mut Vec<Finding>) {
    let mut push = |severity, code: &str, count, message: String, samples: Vec<String>| {
        out.push(Finding {
            severity,
            code: code.into(),
            table: t.clone(),
            column: Some(c.name.clone()),
            count,
            message,
            samples,
        });
    };
    let non_null = c.rows - c.nulls;
    for e in &c.encoding {
        let (sev, what) = match e.kind.as_str() {
            "invalid-utf8" => (Severity::High, "not valid UTF-8"),
            "mojibake" => (
                Severity::High,
                "with mojibake (UTF-8 decoded as Latin-1/cp1252, e.g. 'Ã©' for 'é')",
            ),
            "c1-control" => (
                Severity::High,
                "with C1 control characters (U+0080–U+009F: cp1252 text read as Latin-1?)",
            ),
            "replacement-char" => (
                Severity::High,
                "with U+FFFD replacement characters (an earlier lossy decoding)",
            ),
            "non-nfc" => (
                Severity::Medium,
                "not in Unicode NFC (look equal, compare different)",
            ),
            "bom" => (Severity::Low, "containing a byte-order mark U+FEFF"),
            _ => (Severity::Low, "with control characters"),
        };
        push(
            sev,
            &e.kind,
            e.count,
            format!("{} {what}", values(e.count)),
            e.sample_keys.clone(),
        );
    }
    if c.rows > 0 && c.nulls > 0 && c.nulls * 10 <= c.rows && c.declared_nullable != Some(false) {
        push(
            Severity::Medium,
            "sparse-nulls",
            c.nulls,
            format!(
                "{} NULLs ({}) in a column otherwise filled: a required field with gaps?",
                c.nulls,
                pct(c.nulls, c.rows)
            ),
            c.null_sample_keys.clone(),
        );
    }
    if c.declared_nullable == Some(false) && c.nulls > 0 {
        push(
            Severity::High,
            "null-in-not-null",
            c.nulls,
            format!("{} NULLs in a column declared NOT NULL", c.nulls),
            c.null_sample_keys.clone(),
        );
    }
    if c.rows > 0 && c.nulls == c.rows {
        push(
            Severity::Low,
            "all-null",
            c.nulls,
            "every value is NULL".into(),
            vec![],
        );
    }
    if c.date_formats.len() > 1 {
        let dated: u64 = c.date_formats.iter().map(|d| d.count).sum();
        if dated * 2 >= non_null {
            let list: Vec<String> = c
                .date_formats
                .iter()
                .map(|d| format!("{} {}", d.value, d.count))
                .collect();
            push(
                Severity::High,
                "mixed-date-formats",
                c.date_formats.len() as u64,
                format!(
                    "{} date formats in one column: {}",
                    c.date_formats.len(),
                    list.join(", ")
                ),
                vec![],
            );
        }
    }
    if let Some(sc) = &c.storage_classes {
        if sc.non_null_kinds() > 1 && (sc.text > 0 || sc.blob > 0) {
            push(Severity::High, "mixed-storage-classes", sc.text + sc.blob,
                format!("SQLite storage classes mixed: integer {}, real {}, text {}, blob {} (declared {})", sc.integer, sc.real, sc.text, sc.blob, c.declared_type), vec![]);
        }
    }
    for g in &c.inconsistent {
        let n: u64 = g.variants.iter().map(|v| v.count).sum();
        let list: Vec<String> = g
            .variants
            .iter()
            .map(|v| format!("'{}' {}", v.value, v.count))
            .collect();
        push(
            Severity::Medium,
            "inconsistent-values",
            n,
            format!(
                "{} spellings of one value (differ by case, white space or accents): {}",
                g.variants.len(),
                list.join(", ")
            ),
            vec![],
        );
    }
    let shaped: u64 = non_null;
    let dated: u64 = c.date_formats.iter().map(|d| d.count).sum();
    // Numbers and dates have better findings of their own (numbers-as-text, mixed-date-formats).
    let numbery = c.numeric_like * 10 >= non_null * 9 || dated * 2 >= non_null;
    if !numbery
        && !c.dominant_shapes.is_empty()
        && c.outside_dominant_shapes > 0
        && c.outside_dominant_shapes * 5 <= shaped
        && c.distinct > 5
    {
        push(
            Severity::Medium,
            "shape-outliers",
            c.outside_dominant_shapes,
            format!(
                "{} ({}) outside the dominant shape{} {}",
                values(c.outside_dominant_shapes),
                pct(c.outside_dominant_shapes, shaped),
                if c.dominant_shapes.len() > 1 { "s" } else { "" },
                c.dominant_shapes.join(", ")
            ),
            c.shapes
                .iter()
                .filter(|s| !c.dominant_shapes.contains(&s.value))
                .take(5)
                .map(|s| format!("{} ({})", s.value, s.count))
                .collect(),
        );
    }
    if c.whitespace_only > 0 {
        push(
            Severity::Low,
            "whitespace-only",
            c.whitespace_only,
            format!("{} made only of white space", values(c.whitespace_only)),
            vec![],
        );
    }
    if c.padded > 0 {
        push(
            Severity::Low,
            "padded",
            c.padded,
            format!("{} with leading or trailing white space", values(c.padded)),
            vec![],
        );
    }
    if c.empty > 0 && c.nulls > 0 {
        push(
            Severity::Low,
            "empty-and-null",
            c.empty,
            format!(
                "{} empty strings beside {} NULLs: two ways of saying nothing",
                c.empty, c.nulls
            ),
            vec![],
        );
    } else if c.empty > 0 {
        push(
            Severity::Low,
            "empty-strings",
            c.empty,
            format!("{} empty strings", c.empty),
            vec![],
        );
    }
    if c.kind == "text"
        && c.numeric_like > 0
        && c.numeric_like < non_null
        && c.numeric_like * 10 >= non_null * 9
    {
        push(
            Severity::Medium,
            "numbers-as-text",
            non_null - c.numeric_like,
            format!(
                "{} of {} values are numbers, {} are not",
                c.numeric_like,
                non_null,
                non_null - c.numeric_like
            ),
            vec![],
        );
    }
    if c.zero_dates > 0 {
        push(Severity::High, "zero-dates", c.zero_dates,
            format!("{} zero dates (0000-00-00): no other engine has such a date; decide NULL or a sentinel before migrating", c.zero_dates), vec![]);
    }
    if c.infinite > 0 {
        let sev = if c.kind.starts_with("date") || c.kind.starts_with("timestamp") {
            Severity::High
        } else {
            Severity::Medium
        };
        push(
            sev,
            "infinity",
            c.infinite,
            format!(
                "±infinity: {}; most engines have no such value, map them before migrating",
                values(c.infinite)
            ),
            vec![],
        );
    }
    if c.nan > 0 {
        push(
            Severity::Medium,
            "nan",
            c.nan,
            format!("NaN: {}", values(c.nan)),
            vec![],
        );
    }
}

/// All findings for a set of profiled tables and their relationships, most severe first.
pub fn findings(tables: &[TableProfile], rels: &[Relationship]) -> Vec<Finding> {
    let mut out = Vec::new();
    for t in tables {
        if t.rows == 0 {
            out.push(Finding {
                severity: Severity::High,
                code: "empty-table".into(),
                table: t.table.clone(),
                column: None,
                count: 0,
                message: "the table has no rows".into(),
                samples: vec![],
            });
        }
        if let Some(d) = t.duplicate_rows.filter(|&d| d > 0) {
            out.push(Finding {
                severity: Severity::Medium,
                code: "duplicate-rows".into(),
                table: t.table.clone(),
                column: None,
                count: d,
                message: format!("{d} rows repeat an earlier row exactly (all columns equal)"),
                samples: t.duplicate_samples.clone(),
            });
        }
        if let Some(d) = t.primary_key_duplicates.filter(|&d| d > 0) {
            out.push(Finding {
                severity: Severity::High,
                code: "duplicate-key".into(),
                table: t.table.clone(),
                column: Some(t.primary_key.join(",")),
                count: d,
                message: format!("{d} rows repeat the declared primary key"),
                samples: vec![],
            });
        }
        if t.primary_key_nulls > 0 {
            out.push(Finding {
                severity: Severity::High,
                code: "null-key".into(),
                table: t.table.clone(),
                column: Some(t.primary_key.join(",")),
                count: t.primary_key_nulls,
                message: format!(
                    "{} rows with NULL in the declared primary key",
                    t.primary_key_nulls
                ),
                samples: vec![],
            });
        }
        // A name that two columns share (a CSV header `k,amount,amount`): every consumer that
        // goes by name (a mapping, a diff, a target table) sees only one of them.
        let mut seen: Vec<(&str, Vec<usize>)> = Vec::new();
        for (i, c) in t.columns.iter().enumerate() {
            match seen.iter_mut().find(|(n, _)| *n == c.name) {
                Some((_, at)) => at.push(i + 1),
                None => seen.push((&c.name, vec![i + 1])),
            }
        }
        for (name, at) in seen.into_iter().filter(|(_, at)| at.len() > 1) {
            let positions: Vec<String> = at.iter().map(ToString::to_string).collect();
            out.push(Finding {
                severity: Severity::High,
                code: "duplicate-column-name".into(),
                table: t.table.clone(),
                column: Some(name.to_string()),
                count: at.len() as u64,
                message: format!(
                    "{} columns are named '{name}' (positions {}): diff and check refuse the table until they are renamed",
                    at.len(),
                    positions.join(", ")
                ),
                samples: vec![],
            });
        }
        if t.primary_key.is_empty() && t.rows > 0 {
            let msg = if t.candidate_keys.is_empty() {
                "no declared primary key and no candidate key found".to_string()
            } else {
                let keys: Vec<String> = t.candidate_keys.iter().map(|k| k.join("+")).collect();
                format!(
                    "no declared primary key; candidate keys: {}",
                    keys.join(", ")
                )
            };
            out.push(Finding {
                severity: Severity::Info,
                code: "no-primary-key".into(),
                table: t.table.clone(),
                column: None,
                count: t.candidate_keys.len() as u64,
                message: msg,
                samples: vec![],
            });
        }
        for c in &t.columns {
            col_findings(&t.table, c, &mut out);
        }
    }
    for r in rels {
        let column = Some(r.child_column.clone());
        if !r.checked {
            out.push(Finding {
                severity: Severity::Info,
                code: "relationship-unchecked".into(),
                table: r.child_table.clone(),
                column,
                count: 0,
                message: format!(
                    "{} → {}.{} not checked: {}",
                    r.child_column,
                    r.parent_table,
                    r.parent_column,
                    r.note.clone().unwrap_or_default()
                ),
                samples: vec![],
            });
            continue;
        }
        let kind = if r.declared {
            "declared foreign key"
        } else {
            "inferred relationship"
        };
        if r.orphan_distinct > 0 {
            let rows = r
                .orphan_rows
                .map(|n| format!("{}, ", count_of(n, "row")))
                .unwrap_or_default();
            out.push(Finding {
                severity: if r.declared {
                    Severity::High
                } else {
                    Severity::Medium
                },
                code: if r.declared {
                    "orphans".into()
                } else {
                    "inferred-orphans".into()
                },
                table: r.child_table.clone(),
                column,
                count: r.orphan_rows.unwrap_or(r.orphan_distinct),
                message: format!(
                    "{kind} {} → {}.{}: {rows}{} with no parent",
                    r.child_column,
                    r.parent_table,
                    r.parent_column,
                    count_of(r.orphan_distinct, "distinct value")
                ),
                samples: r.orphan_samples.clone(),
            });
        } else if !r.declared {
            out.push(Finding {
                severity: Severity::Info,
                code: "inferred-relationship".into(),
                table: r.child_table.clone(),
                column,
                count: r.child_distinct,
                message: format!(
                    "inferred relationship {} → {}.{}: every value has a parent",
                    r.child_column, r.parent_table, r.parent_column
                ),
                samples: vec![],
            });
        }
    }
    sort(&mut out);
    out
}

/// Most severe first, then by table, column and code.
pub fn sort(out: &mut [Finding]) {
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.table.cmp(&b.table))
            .then_with(|| a.column.cmp(&b.column))
            .then_with(|| a.code.cmp(&b.code))
    });
}
