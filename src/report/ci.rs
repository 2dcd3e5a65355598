//! Results as CI systems read them: JUnit XML (`--junit FILE`: one test case per table pair,
//! rule, criterion or unit; GitLab, Azure DevOps and Jenkins read this format) and a short
//! Markdown summary (`--markdown FILE`, and appended to `$GITHUB_STEP_SUMMARY` when it is set).
//!
//! Both carry counts and keys only: values never (a sample key is a key, as everywhere else).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use crate::check::signoff::SignoffReport;
use crate::check::CheckReport;
use crate::diff::{DiffReport, Verdict};

/// One test case.
#[derive(Debug, Clone)]
pub struct Case {
    /// What was tested: a table pair, a rule, a criterion, a unit.
    pub name: String,
    /// Its group (the command and table).
    pub classname: String,
    /// Seconds it took.
    pub seconds: f64,
    /// How it went.
    pub outcome: Outcome,
}

/// A test case's outcome.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Passed.
    Passed,
    /// Failed: a short message, and the details.
    Failed(String, String),
    /// Could not run.
    Error(String, String),
}

/// A JUnit XML document: one suite of these cases.
pub fn junit_xml(suite: &str, cases: &[Case]) -> String {
    let failures = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Failed(..)))
        .count();
    let errors = cases
        .iter()
        .filter(|c| matches!(c.outcome, Outcome::Error(..)))
        .count();
    let total: f64 = cases.iter().map(|c| c.seconds).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"reckon\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{total:.3}\">",
        cases.len()
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{total:.3}\">",
        esc(suite),
        cases.len()
    );
    for c in cases {
        let _ = write!(
            x,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
            esc(&c.name),
            esc(&c.classname),
            c.seconds
        );
        match &c.outcome {
            Outcome::Passed => x.push_str("/>\n"),
            Outcome::Failed(m, t) | Outcome::Error(m, t) => {
                let tag = match c.outcome {
                    Outcome::Failed(..) => "failure",
                    _ => "error",
                };
                let _ = writeln!(
                    x,
                    ">\n      <{tag} message=\"{}\" type=\"{tag}\">{}</{tag}>\n    </testcase>",
                    esc(m),
                    esc(t)
                );
            }
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// XML text: markup escaped, and characters XML 1.0 cannot carry (control characters but tab
/// and line breaks) written as `\u{…}`.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A diff's cases: one per table pair (and one per table found on one side only).
pub fn diff_cases(r: &DiffReport) -> Vec<Case> {
    let mut cases: Vec<Case> = r
        .tables
        .iter()
        .map(|t| {
            let c = &t.counts;
            let name = format!("{} → {}", t.source_table, t.target_table);
            let outcome = match t.verdict {
                Verdict::Match | Verdict::MatchByRule => Outcome::Passed,
                Verdict::Error(_) => Outcome::Error(
                    format!("not compared: {}", t.verdict),
                    t.error.clone().unwrap_or_default(),
                ),
                Verdict::Mismatch => {
                    let mut text = format!(
                        "source rows {}, target rows {}, matched {}, changed {}, missing {}, extra {}, duplicate keys {}/{}",
                        c.source_rows, c.target_rows, c.matched, c.mismatched, c.missing, c.extra,
                        c.duplicate_keys_source, c.duplicate_keys_target
                    );
                    if !t.classes.is_empty() {
                        let classes: Vec<String> =
                            t.classes.iter().map(|(k, v)| format!("{k} {v}")).collect();
                        let _ = write!(text, "\nclasses: {}", classes.join(", "));
                    }
                    for s in t.schema.iter().filter(|s| s.severity != "info") {
                        let _ = write!(text, "\nschema: {}", schema_line(s));
                    }
                    let keys: Vec<String> = t
                        .samples
                        .iter()
                        .take(10)
                        .map(|s| format!("{} ({})", s.key_text, s.status.as_str()))
                        .collect();
                    if !keys.is_empty() {
                        let _ = write!(text, "\nsample keys: {}", keys.join("; "));
                    }
                    Outcome::Failed(
                        format!(
                            "{} changed, {} missing, {} extra",
                            c.mismatched, c.missing, c.extra
                        ),
                        text,
                    )
                }
            };
            Case {
                name,
                classname: "reckon.diff".into(),
                seconds: t.seconds,
                outcome,
            }
        })
        .collect();
    for u in &r.unpaired {
        let where_ = if u.side == "source" {
            "in the source only (missing in the target)"
        } else {
            "in the target only"
        };
        cases.push(Case {
            name: u.table.clone(),
            classname: "reckon.diff.unpaired".into(),
            seconds: 0.0,
            outcome: Outcome::Failed(format!("table {where_}"), format!("{} {where_}", u.table)),
        });
    }
    cases
}

fn schema_line(s: &crate::diff::schema::SchemaFinding) -> String {
    format!("{} {} ({}): {}", s.column, s.kind, s.severity, s.detail)
}

/// A check's cases: one per rule.
pub fn check_cases(r: &CheckReport) -> Vec<Case> {
    r.rules
        .iter()
        .map(|rule| {
            let outcome = if rule.status == "pass" {
                Outcome::Passed
            } else {
                let keys: Vec<String> = rule
                    .samples
                    .iter()
                    .take(10)
                    .map(|s| s.key.clone())
                    .collect();
                let mut text = format!(
                    "{} of {} rows violate it{}",
                    rule.violations,
                    rule.checked,
                    if rule.detail.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", rule.detail)
                    }
                );
                if !keys.is_empty() {
                    let _ = write!(text, "\nsample keys: {}", keys.join("; "));
                }
                Outcome::Failed(format!("{} violation(s)", rule.violations), text)
            };
            Case {
                name: rule.name.clone(),
                classname: format!("reckon.check.{}", rule.table),
                seconds: rule.seconds,
                outcome,
            }
        })
        .collect()
}

/// A sign-off's cases: one per criterion.
pub fn signoff_cases(r: &SignoffReport) -> Vec<Case> {
    r.criteria
        .iter()
        .map(|c| Case {
            name: format!("{}: {}", c.id, c.description),
            classname: "reckon.signoff".into(),
            seconds: 0.0,
            outcome: if c.status == "pass" {
                Outcome::Passed
            } else {
                Outcome::Failed(format!("{} failed", c.id), c.evidence.join("\n"))
            },
        })
        .collect()
}

/// A migration's cases: one per unit.
pub fn migrate_cases(outcomes: &[crate::migrate::executor::UnitOutcome]) -> Vec<Case> {
    outcomes
        .iter()
        .map(|o| {
            let detail = format!(
                "{} run {}: {} rows read, {} written, batches {} applied / {} skipped of {}{}",
                o.kind,
                o.run,
                o.rows,
                o.written,
                o.batches_applied,
                o.batches_skipped,
                o.batches,
                o.verify
                    .map(|(m, c, e)| format!("; verification: {m} missing, {c} changed, {e} extra"))
                    .unwrap_or_default()
            );
            let outcome = match o.status.as_str() {
                "failed" => Outcome::Error(
                    "failed".into(),
                    format!("{detail}\n{}", o.error.clone().unwrap_or_default()),
                ),
                "verification_failed" => Outcome::Failed(
                    "verification failed".into(),
                    format!("{detail}\n{}", o.error.clone().unwrap_or_default()),
                ),
                "skipped" => Outcome::Error("skipped".into(), o.error.clone().unwrap_or_default()),
                _ => Outcome::Passed,
            };
            Case {
                name: o.unit.clone(),
                classname: "reckon.migrate".into(),
                seconds: o.seconds,
                outcome,
            }
        })
        .collect()
}

/// A diff's Markdown summary: the verdict, a line per table pair, the most frequent classes.
pub fn diff_markdown(r: &DiffReport) -> String {
    let mut m = format!(
        "### reckon diff: {}\n\n`{}` → `{}`\n\n| table | verdict | source rows | target rows | changed | missing | extra |\n|---|---|---:|---:|---:|---:|---:|\n",
        r.verdict, r.source, r.target
    );
    let mut classes: std::collections::BTreeMap<&str, u64> = Default::default();
    for t in &r.tables {
        let c = &t.counts;
        let _ = writeln!(
            m,
            "| {} → {} | {} | {} | {} | {} | {} | {} |",
            md(&t.source_table),
            md(&t.target_table),
            t.verdict,
            c.source_rows,
            c.target_rows,
            c.mismatched,
            c.missing,
            c.extra
        );
        for (k, v) in &t.classes {
            *classes.entry(k.as_str()).or_default() += v;
        }
    }
    for u in &r.unpaired {
        let _ = writeln!(m, "| {} | {} only | | | | | |", md(&u.table), u.side);
    }
    if !classes.is_empty() {
        let mut top: Vec<(&str, u64)> = classes.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let list: Vec<String> = top
            .iter()
            .take(5)
            .map(|(k, v)| format!("`{k}` {v}"))
            .collect();
        let _ = writeln!(m, "\nTop classes of changed cells: {}", list.join(", "));
    }
    m
}

/// A Markdown summary of named cases (check, sign-off, migrate): the verdict and a line per case.
pub fn cases_markdown(title: &str, verdict: &str, cases: &[Case]) -> String {
    let mut m = format!("### {title}: {verdict}\n\n| | case | result |\n|---|---|---|\n");
    for c in cases {
        let (mark, text) = match &c.outcome {
            Outcome::Passed => ("✅", "passed".to_string()),
            Outcome::Failed(msg, _) => ("❌", msg.clone()),
            Outcome::Error(msg, _) => ("⚠️", msg.clone()),
        };
        let _ = writeln!(m, "| {mark} | {} | {} |", md(&c.name), md(&text));
    }
    m
}

/// Markdown table cell text: pipes and line breaks escaped.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Writes the JUnit file and the Markdown file when asked, and appends the Markdown to
/// `$GITHUB_STEP_SUMMARY` when that is set. Every text goes through the secret scrubber.
pub fn write(
    junit: Option<&Path>,
    markdown: Option<&Path>,
    suite: &str,
    cases: &[Case],
    summary: &str,
) -> std::io::Result<()> {
    let scrub = crate::error::scrub;
    if let Some(p) = junit {
        std::fs::write(p, scrub(&junit_xml(suite, cases)))?;
    }
    if let Some(p) = markdown {
        std::fs::write(p, scrub(summary))?;
    }
    if let Some(p) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)?;
        f.write_all(scrub(summary).as_bytes())?;
        f.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_counts_and_escapes() {
        let cases = vec![
            Case {
                name: "a<b>\"c\" & 'd'".into(),
                classname: "x".into(),
                seconds: 1.5,
                outcome: Outcome::Passed,
            },
            Case {
                name: "t".into(),
                classname: "x".into(),
                seconds: 0.25,
                outcome: Outcome::Failed("1 changed".into(), "key id=\u{1}7".into()),
            },
            Case {
                name: "e".into(),
                classname: "x".into(),
                seconds: 0.0,
                outcome: Outcome::Error("unreachable".into(), String::new()),
            },
        ];
        let x = junit_xml("s", &cases);
        assert!(x.contains("tests=\"3\" failures=\"1\" errors=\"1\""), "{x}");
        assert!(
            x.contains("name=\"a&lt;b&gt;&quot;c&quot; &amp; &apos;d&apos;\""),
            "{x}"
        );
        assert!(
            x.contains("<failure message=\"1 changed\" type=\"failure\">key id=\\u{1}7</failure>"),
            "{x}"
        );
        assert!(x.contains("<error message=\"unreachable\""), "{x}");
        assert!(x.contains("time=\"1.750\""), "{x}");
    }
}
