//! Relationships across the tables of one source: declared foreign keys checked, and inferred
//! ones found.
//!
//! Detects: orphans — child values with no parent (orders of customers that do not exist).
//! Why it matters: a target with enforced foreign keys rejects them at load time, or a migration
//! that joins drops them silently. Example: `orders.customer_id = 9001` with no customer 9001.
//!
//! A relationship is checked on the exact sets of value hashes the profile kept; a column with
//! more distinct values than the exact limit cannot be checked and says so. Orphan row counts need
//! the child's exact value counts (columns up to the frequency limit); otherwise only distinct
//! orphan values are counted.
//!
//! Inferred relationships: child column A → parent column B in another table when B is unique
//! (every non-null value distinct, exactly known), both have the same kind, A has at least three
//! distinct values and at least 90 % of them are in B. Integer columns also need a name hint
//! (`customer_id` → `customers.id`, or equal names), because small integer ranges contain each
//! other by chance.

use super::column::ColumnAcc;
use super::model::Relationship;
use crate::source::{TableMeta, TableName};
use crate::value::kind::{display, Kind};
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// One table's catalog entry and column accumulators, for relationship checks.
pub struct TableSets<'a> {
    /// The table.
    pub meta: &'a TableMeta,
    /// Accumulators, in column order.
    pub cols: &'a [ColumnAcc],
    /// Which columns are sensitive.
    pub sensitive: &'a [bool],
}

fn singular(t: &str) -> String {
    let t = t.to_ascii_lowercase();
    if let Some(s) = t.strip_suffix("ies") {
        format!("{s}y")
    } else if let Some(s) = t.strip_suffix('s') {
        s.to_string()
    } else {
        t
    }
}

fn check(
    child: &TableSets<'_>,
    ci: usize,
    parent: &TableSets<'_>,
    pi: usize,
    declared: bool,
    samples: usize,
) -> Relationship {
    let c = &child.cols[ci];
    let p = &parent.cols[pi];
    let mut rel = Relationship {
        child_table: child.meta.name.clone(),
        child_column: child.meta.columns[ci].name.clone(),
        parent_table: parent.meta.name.clone(),
        parent_column: parent.meta.columns[pi].name.clone(),
        declared,
        checked: false,
        note: None,
        child_distinct: c.distinct.count().0,
        matched_distinct: 0,
        orphan_distinct: 0,
        orphan_rows: None,
        orphan_samples: Vec::new(),
    };
    let kc = c.kind.clone().unwrap_or(Kind::Text);
    let kp = p.kind.clone().unwrap_or(Kind::Text);
    if kc.seed() != kp.seed() {
        rel.note = Some(format!("types differ ({} vs {})", kc.name(), kp.name()));
        return rel;
    }
    let (Some(cs), Some(ps)) = (c.distinct.exact(), p.distinct.exact()) else {
        rel.note =
            Some("too many distinct values to check exactly (raise --exact-distinct-limit)".into());
        return rel;
    };
    rel.checked = true;
    rel.matched_distinct = cs.iter().filter(|h| ps.contains(h)).count() as u64;
    rel.orphan_distinct = cs.len() as u64 - rel.matched_distinct;
    if let Some(freq) = c.freq.exact() {
        let mut orphans: Vec<(String, u64)> = freq
            .into_iter()
            .filter(|(b, _)| !ps.contains(&xxh3_64_with_seed(b, kc.seed())))
            .map(|(b, n)| (display(&kc, b), n))
            .collect();
        orphans.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rel.orphan_rows = Some(orphans.iter().map(|x| x.1).sum());
        let masked = child.sensitive[ci];
        rel.orphan_samples = orphans
            .into_iter()
            .take(samples)
            .map(|(v, n)| {
                let v = if masked { super::pattern::shape(&v) } else { v };
                format!("{v} ({n} row{})", if n == 1 { "" } else { "s" })
            })
            .collect();
    }
    rel
}

fn find(tables: &[TableSets<'_>], name: &TableName) -> Option<usize> {
    tables
        .iter()
        .position(|t| name.matches(&t.meta.name) || t.meta.name.matches(name))
}

/// Checks declared foreign keys and infers others.
pub fn relationships(tables: &[TableSets<'_>], samples: usize) -> Vec<Relationship> {
    let mut out = Vec::new();
    for child in tables {
        for fk in &child.meta.foreign_keys {
            if fk.columns.len() != 1 || fk.ref_columns.len() != 1 {
                continue;
            }
            let Some(ci) = child
                .meta
                .columns
                .iter()
                .position(|c| c.name == fk.columns[0])
            else {
                continue;
            };
            let Some(pt) = find(tables, &fk.ref_table) else {
                continue;
            };
            let parent = &tables[pt];
            let Some(pi) = parent
                .meta
                .columns
                .iter()
                .position(|c| c.name == fk.ref_columns[0])
            else {
                continue;
            };
            out.push(check(child, ci, parent, pi, true, samples));
        }
    }
    for (ti, child) in tables.iter().enumerate() {
        for (ci, c) in child.cols.iter().enumerate() {
            let (cd, cexact) = c.distinct.count();
            if !cexact || cd < 3 {
                continue;
            }
            for (tj, parent) in tables.iter().enumerate() {
                if ti == tj {
                    continue;
                }
                for (pi, p) in parent.cols.iter().enumerate() {
                    let (pd, pexact) = p.distinct.count();
                    if !pexact
                        || pd != p.rows - p.nulls
                        || pd < 2
                        || c.kind.as_ref().map(Kind::seed) != p.kind.as_ref().map(Kind::seed)
                    {
                        continue;
                    }
                    let cname = child.meta.columns[ci].name.to_ascii_lowercase();
                    let pname = parent.meta.columns[pi].name.to_ascii_lowercase();
                    if matches!(c.kind, Some(Kind::Int)) {
                        let stem = singular(&parent.meta.name.name);
                        let hinted = cname == pname
                            || cname == format!("{stem}_{pname}")
                            || cname == format!("{stem}{pname}");
                        if !hinted {
                            continue;
                        }
                    }
                    if matches!(c.kind, Some(Kind::Bool) | Some(Kind::Float)) {
                        continue;
                    }
                    let declared = out.iter().any(|r: &Relationship| {
                        r.declared
                            && r.child_table == child.meta.name
                            && r.child_column == child.meta.columns[ci].name
                    });
                    if declared {
                        continue;
                    }
                    let rel = check(child, ci, parent, pi, false, samples);
                    if rel.checked
                        && rel.child_distinct > 0
                        && rel.matched_distinct * 10 >= rel.child_distinct * 9
                    {
                        out.push(rel);
                    }
                }
            }
        }
    }
    out
}
