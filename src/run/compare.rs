//! `reckon compare RUN_A RUN_B`: what changed between two runs (rehearsal 1 vs 2).
//!
//! It reads what each run directory holds — profiles (`profile.json`, or a sign-off's
//! `profile_source.json`/`profile_target.json`), `diff.json`, `check.json`, `signoff.json` — and
//! reports, as changes from A to B:
//! - profile drift per table and column: rows, nulls (and their share), empties, distinct, min,
//!   max, dominant shapes, encoding findings per kind, and columns that appeared or went away;
//! - diff outcomes per table pair: verdict, row counts (missing, extra, mismatched…) and
//!   mismatched cells per class;
//! - rule results that flipped (pass ↔ fail) and changed violation counts; sign-off verdict and
//!   criteria that flipped;
//! - timings per table, rule or unit with the ratio B/A (timings are shown, never counted as a
//!   change: two runs are never equally fast).
//!
//! The files are read as JSON values, not as today's structs, so runs of an older reckon compare.
//! A run compared with itself reports no change.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{read, Timing};

/// Version of `compare.json` and `compare.parquet`.
pub const FORMAT_VERSION: u32 = 1;

/// One thing that differs between the runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct Change {
    /// `profile`, `diff`, `rule` or `signoff`.
    pub section: String,
    /// Where: `target customers.email`, `customers → customers`, a rule's name.
    pub scope: String,
    /// What: `nulls`, `distinct`, `class case`, `status`…
    pub metric: String,
    /// In run A (`None`: absent).
    pub a: Option<String>,
    /// In run B.
    pub b: Option<String>,
}

/// A timing in both runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
pub struct TimingChange {
    /// The table, rule or unit.
    pub item: String,
    /// Seconds in A.
    pub a_seconds: Option<f64>,
    /// Seconds in B.
    pub b_seconds: Option<f64>,
    /// B / A.
    pub ratio: Option<f64>,
}

/// The comparison.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// Format version.
    pub format_version: u32,
    /// reckon's version.
    pub reckon_version: String,
    /// Run A's directory.
    pub run_a: String,
    /// Run B's directory.
    pub run_b: String,
    /// Run A's command and start time.
    pub a_command: String,
    /// Run B's command and start time.
    pub b_command: String,
    /// `no change` or `changed`.
    pub verdict: String,
    /// The changes, by section, scope and metric.
    pub changes: Vec<Change>,
    /// Timings of both runs.
    pub timings: Vec<TimingChange>,
}

impl Comparison {
    /// 0 when nothing changed, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.changes.is_empty() {
            crate::error::EXIT_CLEAN
        } else {
            crate::error::EXIT_FINDINGS
        }
    }
}

fn load(dir: &Path, name: &str) -> Option<Value> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    serde_json::from_str(&text).ok()
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Metrics per scope: scope → metric → value.
type Metrics = BTreeMap<String, BTreeMap<String, Option<String>>>;

/// Adds a change for every key whose values differ between the two maps.
fn diff_maps(
    out: &mut Vec<Change>,
    section: &str,
    scope: &str,
    a: &BTreeMap<String, Option<String>>,
    b: &BTreeMap<String, Option<String>>,
) {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (x, y) = (a.get(k).cloned().flatten(), b.get(k).cloned().flatten());
        if x != y {
            out.push(Change {
                section: section.into(),
                scope: scope.into(),
                metric: k.clone(),
                a: x,
                b: y,
            });
        }
    }
}

fn table_name(t: &Value) -> String {
    match (t["schema"].as_str(), t["name"].as_str()) {
        (Some(s), Some(n)) => format!("{s}.{n}"),
        (None, Some(n)) => n.to_string(),
        _ => text(t).unwrap_or_default(),
    }
}

/// Shortens table names: a schema-qualified name loses its schema when no other table of the
/// run has the same name, so rehearsals into differently named schemas or databases
/// (`staging1.customers`, `staging2.customers`) line up.
struct Names(BTreeMap<String, BTreeMap<String, String>>);

impl Names {
    /// The names of each side (`source`, `target`, `profile`) of a run.
    fn of(dir: &Path) -> Names {
        let mut sides: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (label, p) in profiles(dir) {
            for t in p["tables"].as_array().into_iter().flatten() {
                sides
                    .entry(label.clone())
                    .or_default()
                    .push(table_name(&t["table"]));
            }
        }
        if let Some(d) = load(dir, "diff.json") {
            for t in d["tables"].as_array().into_iter().flatten() {
                for (side, key) in [("source", "source_table"), ("target", "target_table")] {
                    sides
                        .entry(side.to_string())
                        .or_default()
                        .push(t[key].as_str().unwrap_or_default().to_string());
                }
            }
        }
        let base = |n: &str| n.rsplit('.').next().unwrap_or(n).to_string();
        let mut out = BTreeMap::new();
        for (side, mut all) in sides {
            all.sort();
            all.dedup();
            let mut map = BTreeMap::new();
            for n in &all {
                let b = base(n);
                let clash = all.iter().filter(|m| base(m) == b).count() > 1;
                map.insert(n.clone(), if clash { n.clone() } else { b });
            }
            out.insert(side, map);
        }
        Names(out)
    }

    fn short(&self, side: &str, name: &str) -> String {
        self.0
            .get(side)
            .and_then(|m| m.get(name))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// Shortens every known name inside a text (timing items).
    fn in_text(&self, text: &str) -> String {
        let mut names: Vec<(&String, &String)> = self.0.values().flatten().collect();
        names.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        let mut out = text.to_string();
        for (long, short) in names {
            if long != short {
                out = out.replace(long.as_str(), short);
            }
        }
        out
    }
}

/// The metrics of every column of a profile: scope → metric → value.
fn profile_metrics(label: &str, p: &Value, names: &Names) -> Metrics {
    let mut out = BTreeMap::new();
    for t in p["tables"].as_array().into_iter().flatten() {
        let tname = names.short(label, &table_name(&t["table"]));
        let rows = t["rows"].as_u64().unwrap_or(0);
        let mut tm = BTreeMap::new();
        tm.insert("rows".to_string(), Some(rows.to_string()));
        out.insert(format!("{label} {tname}"), tm);
        for c in t["columns"].as_array().into_iter().flatten() {
            let mut m = BTreeMap::new();
            let nulls = c["nulls"].as_u64().unwrap_or(0);
            m.insert("present".to_string(), Some("yes".to_string()));
            m.insert("nulls".to_string(), Some(nulls.to_string()));
            let pct = if rows == 0 {
                0.0
            } else {
                nulls as f64 * 100.0 / rows as f64
            };
            m.insert("null %".to_string(), Some(format!("{pct:.2}")));
            for k in ["empty", "distinct", "min", "max"] {
                m.insert(k.to_string(), text(&c[k]));
            }
            let shapes: Vec<String> = c["dominant_shapes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(String::from))
                .collect();
            m.insert("dominant shapes".to_string(), Some(shapes.join(" | ")));
            m.insert(
                "outside dominant shapes".to_string(),
                text(&c["outside_dominant_shapes"]),
            );
            for e in c["encoding"].as_array().into_iter().flatten() {
                if let Some(kind) = e["kind"].as_str() {
                    m.insert(format!("encoding {kind}"), text(&e["count"]));
                }
            }
            let cname = c["name"].as_str().unwrap_or_default();
            out.insert(format!("{label} {tname}.{cname}"), m);
        }
    }
    out
}

fn profiles(dir: &Path) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (file, label) in [
        ("profile.json", "profile"),
        ("profile_source.json", "source"),
        ("profile_target.json", "target"),
    ] {
        if let Some(v) = load(dir, file) {
            out.push((label.to_string(), v));
        }
    }
    out
}

fn diff_metrics(d: &Value, names: &Names) -> Metrics {
    let mut out = BTreeMap::new();
    for t in d["tables"].as_array().into_iter().flatten() {
        let scope = format!(
            "{} → {}",
            names.short("source", t["source_table"].as_str().unwrap_or_default()),
            names.short("target", t["target_table"].as_str().unwrap_or_default())
        );
        let mut m = BTreeMap::new();
        m.insert("verdict".to_string(), text(&t["verdict"]));
        if let Some(counts) = t["counts"].as_object() {
            for (k, v) in counts {
                m.insert(k.clone(), text(v));
            }
        }
        for (k, v) in t["classes"].as_object().into_iter().flatten() {
            m.insert(format!("class {k}"), text(v));
        }
        for (k, v) in t["rules"].as_object().into_iter().flatten() {
            m.insert(format!("match* {k}"), text(v));
        }
        out.insert(scope, m);
    }
    for u in d["unpaired"].as_array().into_iter().flatten() {
        let mut m = BTreeMap::new();
        m.insert("unpaired".to_string(), text(&u["side"]));
        out.insert(u["table"].as_str().unwrap_or_default().to_string(), m);
    }
    out
}

fn rule_metrics(c: &Value) -> Metrics {
    let mut out = BTreeMap::new();
    for r in c["rules"].as_array().into_iter().flatten() {
        let mut m = BTreeMap::new();
        m.insert("status".to_string(), text(&r["status"]));
        m.insert("violations".to_string(), text(&r["violations"]));
        out.insert(r["name"].as_str().unwrap_or_default().to_string(), m);
    }
    out
}

fn signoff_metrics(s: &Value) -> Metrics {
    let mut out = BTreeMap::new();
    let mut top = BTreeMap::new();
    top.insert("verdict".to_string(), text(&s["verdict"]));
    out.insert("sign-off".to_string(), top);
    for c in s["criteria"].as_array().into_iter().flatten() {
        let mut m = BTreeMap::new();
        m.insert("status".to_string(), text(&c["status"]));
        out.insert(
            format!("criterion {}", c["id"].as_str().unwrap_or_default()),
            m,
        );
    }
    out
}

fn section(out: &mut Vec<Change>, name: &str, a: Metrics, b: Metrics) {
    let mut scopes: Vec<&String> = a.keys().chain(b.keys()).collect();
    scopes.sort();
    scopes.dedup();
    let empty = BTreeMap::new();
    for s in scopes {
        diff_maps(
            out,
            name,
            s,
            a.get(s).unwrap_or(&empty),
            b.get(s).unwrap_or(&empty),
        );
    }
}

fn short_timings(t: &[Timing], names: &Names) -> Vec<Timing> {
    t.iter()
        .map(|x| Timing {
            item: names.in_text(&x.item),
            ..x.clone()
        })
        .collect()
}

fn timings(a: &[Timing], b: &[Timing]) -> Vec<TimingChange> {
    let mut items: Vec<&str> = a.iter().chain(b).map(|t| t.item.as_str()).collect();
    let mut seen = Vec::new();
    items.retain(|i| {
        let new = !seen.contains(i);
        seen.push(*i);
        new
    });
    items
        .into_iter()
        .map(|item| {
            let x = a.iter().find(|t| t.item == item).map(|t| t.seconds);
            let y = b.iter().find(|t| t.item == item).map(|t| t.seconds);
            let ratio = match (x, y) {
                (Some(x), Some(y)) if x > 0.0 => Some(y / x),
                (Some(x), Some(y)) if x == y => Some(1.0),
                _ => None,
            };
            TimingChange {
                item: item.into(),
                a_seconds: x,
                b_seconds: y,
                ratio,
            }
        })
        .collect()
}

/// Compares two run directories.
pub fn compare(a: &Path, b: &Path) -> Result<Comparison, String> {
    let (ra, rb) = (read(a)?, read(b)?);
    let (na, nb) = (Names::of(a), Names::of(b));
    let mut changes = Vec::new();
    let collect = |dir: &Path, names: &Names| {
        let mut m = BTreeMap::new();
        for (label, v) in profiles(dir) {
            m.extend(profile_metrics(&label, &v, names));
        }
        m
    };
    section(&mut changes, "profile", collect(a, &na), collect(b, &nb));
    let (da, db) = (
        load(a, "diff.json")
            .map(|v| diff_metrics(&v, &na))
            .unwrap_or_default(),
        load(b, "diff.json")
            .map(|v| diff_metrics(&v, &nb))
            .unwrap_or_default(),
    );
    section(&mut changes, "diff", da, db);
    let pair = |f: fn(&Value) -> Metrics, name: &str| {
        (
            load(a, name).map(|v| f(&v)).unwrap_or_default(),
            load(b, name).map(|v| f(&v)).unwrap_or_default(),
        )
    };
    let (ca, cb) = pair(rule_metrics, "check.json");
    section(&mut changes, "rule", ca, cb);
    let (sa, sb) = pair(signoff_metrics, "signoff.json");
    section(&mut changes, "signoff", sa, sb);
    let verdict = if changes.is_empty() {
        "no change"
    } else {
        "changed"
    };
    Ok(Comparison {
        format_version: FORMAT_VERSION,
        reckon_version: env!("CARGO_PKG_VERSION").into(),
        run_a: a.display().to_string(),
        run_b: b.display().to_string(),
        a_command: format!("{} at {}", ra.command, ra.started_at),
        b_command: format!("{} at {}", rb.command, rb.started_at),
        verdict: verdict.into(),
        changes,
        timings: timings(
            &short_timings(&ra.timings, &na),
            &short_timings(&rb.timings, &nb),
        ),
    })
}
