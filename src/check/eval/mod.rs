//! Evaluating rules: each target table is read once for all its rules; parents of `references`
//! rules, the tables `row_count = "source"` and `spot … expect = "source"` compare with, and
//! `sql` queries are read on their own.
//!
//! Values are read through the diff's canonical encoding, so a rule sees typed values: a range on
//! a decimal column compares exactly (never through f64), dates compare as dates, and text that
//! was not valid UTF-8 in the source is never taken for the text it was decoded to.
//!
//! NULL: only `not_null` counts it. `range`, `allowed`, `regex`, `length` and `date_format` skip
//! NULLs; `unique` and `references` skip rows with a NULL in their columns (as SQL constraints do).
//!
//! Samples: sample keys are kept in key order (numbers by value), so two runs over the same data
//! give the same samples whatever order the database returns rows in. Values of sensitive columns
//! (and sensitive key columns) are shown as their shape (`aaaa.aaaa@aaaa.aaa`), never raw.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use arrow::array::AsArray;
use xxhash_rust::xxh3::xxh3_128;

use super::spec::{Bound, CheckRule, CountExpect, Expect, RuleFile, RuleKind};
use super::{CheckError, RuleResult, Sample};
use crate::profile::pattern::shape;
use crate::source::{ColumnMeta, ReadDefect, Source, SourceError, TableMeta, TableName};
use crate::value::canonical::{display, encode_column_with, number_string, split, tag, TextAs};
use crate::value::kind::{cmp_decimal_str, is_plain_decimal};

mod read;
mod rules;
mod samples;
mod sql;
mod values;

use read::*;
use rules::{check, Check, End, Parents, Row};
use samples::*;
use sql::*;
use values::*;

/// Samples kept between compactions: when the pool holds twice this many, it is sorted and cut
/// back, so the samples are the first in key order over the whole table, not the first read.
const SAMPLE_POOL: usize = 1_000;

/// Evaluates every rule of `file` on `target` (and `source`, for the rules that compare with it).
pub fn run_checks(
    target: &mut dyn Source,
    mut source: Option<&mut dyn Source>,
    file: &RuleFile,
) -> Result<Vec<RuleResult>, CheckError> {
    let tables = target.tables()?;
    let source_tables = match source.as_deref_mut() {
        Some(s) => Some(s.tables()?),
        None => None,
    };
    let resolved = resolve(file, &tables, source_tables.as_deref(), target)?;
    let ctx = Ctx::new(file);

    // Parents of references rules: the set of their key tuples.
    let mut parents: Parents = HashMap::new();
    for r in &resolved {
        if let (RuleKind::References { .. }, Some((pmeta, pcols))) = (&r.rule.kind, &r.parent) {
            let k = (pmeta.name.to_string(), pcols.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = parents.entry(k) {
                let mut set = HashSet::new();
                let all: Vec<usize> = (0..pcols.len()).collect();
                let mut buf = Vec::new();
                scan(target, pmeta, pcols, |view| {
                    for i in 0..view.rows {
                        if let Some(h) = tuple_hash(view, &all, i, &mut buf) {
                            set.insert(h);
                        }
                    }
                })?;
                slot.insert(set);
            }
        }
    }

    let mut results: Vec<Option<RuleResult>> = vec![None; resolved.len()];
    // One pass per target table, in the order tables first appear in the file.
    let mut order: Vec<String> = Vec::new();
    for r in &resolved {
        let t = r.meta.name.to_string();
        if !order.contains(&t) && !matches!(r.rule.kind, RuleKind::Sql(_)) {
            order.push(t);
        }
    }
    for tname in &order {
        let idx: Vec<usize> = (0..resolved.len())
            .filter(|&i| {
                resolved[i].meta.name.to_string() == *tname
                    && !matches!(resolved[i].rule.kind, RuleKind::Sql(_))
            })
            .collect();
        let meta = resolved[idx[0]].meta.clone();
        let key_cols = ctx.key_columns(&meta);
        // The columns this pass reads: key columns first, then every rule's.
        let mut cols: Vec<String> = key_cols.clone();
        for &i in &idx {
            for c in resolved[i]
                .rule
                .columns
                .iter()
                .chain(resolved[i].spot_columns.iter())
            {
                if !cols.contains(c) {
                    cols.push(c.clone());
                }
            }
        }
        // A table whose only rule is a row count, without a key, still needs a column to read.
        if cols.is_empty() {
            cols.extend(meta.columns.iter().take(1).map(|c| c.name.clone()));
        }
        let pos = |c: &str| cols.iter().position(|x| x == c).unwrap_or(0);
        let mut checks: Vec<Box<dyn Check>> =
            idx.iter().map(|&i| check(&resolved[i], &pos)).collect();
        let started = Instant::now();
        let mut row_base = 0u64;
        let sens: Vec<bool> = cols.iter().map(|c| ctx.sensitive(c)).collect();
        let key_pos: Vec<usize> = (0..key_cols.len()).collect();
        scan(target, &meta, &cols, |view| {
            for i in 0..view.rows {
                let row_no = row_base + i as u64 + 1;
                let key = || row_key(view, &key_pos, &key_cols, &sens, i, row_no);
                let row = Row {
                    view,
                    i,
                    sens: &sens,
                    key: &key,
                    parents: &parents,
                };
                for c in checks.iter_mut() {
                    c.row(&row);
                }
            }
            row_base += view.rows as u64;
        })?;
        // unique: a second read for the keys of the rows whose values repeat, only when some do.
        for c in checks.iter_mut() {
            let Some((tuple_cols, repeated)) = c.second_read() else {
                continue;
            };
            let tuple_cols = tuple_cols.to_vec();
            let mut row_no = 0u64;
            let mut buf = Vec::new();
            scan(target, &meta, &cols, |view| {
                for i in 0..view.rows {
                    row_no += 1;
                    if tuple_hash(view, &tuple_cols, i, &mut buf)
                        .is_some_and(|h| repeated.contains(&h))
                    {
                        c.sample(row_key(view, &key_pos, &key_cols, &sens, i, row_no));
                    }
                }
            })?;
        }
        let seconds = started.elapsed().as_secs_f64();
        for (c, &ri) in checks.into_iter().zip(&idx) {
            let rule = &resolved[ri].rule;
            let found = c.finish(End {
                rows: row_base,
                ctx: &ctx,
                source: source.as_deref_mut(),
            })?;
            results[ri] = Some(RuleResult {
                name: rule.name.clone(),
                kind: rule.kind.name().into(),
                table: resolved[ri].meta.name.to_string(),
                columns: rule.columns.clone(),
                status: if found.tally.violations == 0 && !found.fail {
                    "pass"
                } else {
                    "fail"
                }
                .into(),
                checked: found.tally.checked,
                violations: found.tally.violations,
                distinct: found.distinct,
                detail: found.detail,
                samples: found.tally.samples.finish(ctx.samples),
                seconds,
            });
        }
    }
    for (i, r) in resolved.iter().enumerate() {
        if let RuleKind::Sql(_) = r.rule.kind {
            let started = Instant::now();
            let mut res = sql_rule(target, r, &ctx)?;
            res.seconds = started.elapsed().as_secs_f64();
            results[i] = Some(res);
        }
    }
    Ok(results.into_iter().flatten().collect())
}

/// Refuses a sensitive column of a rules file that is in no table of the target: a misspelt
/// sensitive column would show its values.
pub fn require_known_sensitive(file: &RuleFile, tables: &[TableMeta]) -> Result<(), CheckError> {
    for c in &file.sensitive {
        if !tables
            .iter()
            .any(|t| t.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c)))
        {
            return Err(CheckError::Parse {
                path: file.path.clone(),
                line: file.sensitive_line,
                reason: format!(
                    "sensitive column '{c}' is in no table of the target: a sensitive column that is not found protects nothing"
                ),
            });
        }
    }
    Ok(())
}

/// A rule with its tables and columns found in the catalog.
struct Resolved {
    rule: CheckRule,
    meta: TableMeta,
    /// references: the parent table and columns.
    parent: Option<(TableMeta, Vec<String>)>,
    /// spot: the key and expected columns (target names).
    spot_columns: Vec<String>,
    /// row_count/spot against the source: the source table.
    source_meta: Option<TableMeta>,
}

struct Ctx {
    sensitive: Vec<String>,
    samples: usize,
    keys: BTreeMap<String, Vec<String>>,
}

impl Ctx {
    fn new(file: &RuleFile) -> Ctx {
        Ctx {
            sensitive: file.sensitive.clone(),
            samples: file.samples,
            keys: file.keys.clone(),
        }
    }

    fn sensitive(&self, column: &str) -> bool {
        self.sensitive
            .iter()
            .any(|s| s.eq_ignore_ascii_case(column))
    }

    fn key_columns(&self, meta: &TableMeta) -> Vec<String> {
        let named = self
            .keys
            .iter()
            .find(|(t, _)| TableName::parse(t).matches(&meta.name) || **t == meta.name.name)
            .map(|(_, k)| k.clone());
        named
            .unwrap_or_else(|| meta.primary_key.clone())
            .iter()
            .filter_map(|k| find_column(&meta.columns, k).map(|c| c.name.clone()))
            .collect()
    }
}

/// The table `name` in `side` by the one name rule; the reason says what exists, or which
/// tables the name could mean.
fn find_table(all: &[TableMeta], name: &str, side: &str) -> Result<TableMeta, String> {
    crate::source::find_table(all, name, side)
        .cloned()
        .map_err(|e| match e {
            SourceError::AmbiguousTable { ref candidates, .. } => {
                format!("{e} ({})", candidates.join(", "))
            }
            _ => format!(
                "{e} (it has: {})",
                all.iter()
                    .map(|m| m.name.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
}

fn find_column<'a>(cols: &'a [ColumnMeta], name: &str) -> Option<&'a ColumnMeta> {
    crate::source::find_name(cols, name, |c| c.name.as_str()).ok()
}

/// The name of `table`'s column `c` as the catalog spells it, or why it has none (`which`
/// names the table in the message: "table", "parent table").
fn real_column(table: &TableMeta, c: &str, which: &str) -> Result<String, String> {
    find_column(&table.columns, c)
        .map(|m| m.name.clone())
        .ok_or_else(|| {
            let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
            format!(
                "{which} '{}' has no column '{c}' (it has: {})",
                table.name,
                names.join(", ")
            )
        })
}

fn resolve(
    file: &RuleFile,
    tables: &[TableMeta],
    source_tables: Option<&[TableMeta]>,
    target: &mut dyn Source,
) -> Result<Vec<Resolved>, CheckError> {
    let fail = |r: &CheckRule, line: usize, reason: String| CheckError::Rule {
        path: file.path.clone(),
        line,
        rule: r.name.clone(),
        reason,
    };
    let mut out = Vec::new();
    for rule in &file.rules {
        let rule = rule.clone();
        let mut meta = if let RuleKind::Sql(q) = &rule.kind {
            target.describe_query(q).map_err(|e| {
                fail(
                    &rule,
                    rule.line,
                    format!("the query fails: {}", crate::error::scrub(&e.to_string())),
                )
            })?
        } else {
            find_table(tables, &rule.table, "the target")
                .map_err(|why| fail(&rule, rule.line, why))?
        };
        let mut columns = Vec::new();
        for c in &rule.columns {
            let twins = meta.columns.iter().filter(|m| m.name == *c).count();
            if twins > 1 {
                // Two columns share the name (a CSV header `k,amount,amount`): the rule could
                // read either one, so it reads neither.
                return Err(fail(
                    &rule,
                    rule.column_line,
                    format!(
                        "table '{}' has {twins} columns named '{c}': give them unique names",
                        meta.name
                    ),
                ));
            }
            columns.push(
                real_column(&meta, c, "table").map_err(|why| fail(&rule, rule.column_line, why))?,
            );
        }
        let rule = CheckRule { columns, ..rule };
        let mut parent = None;
        let mut spot_columns = Vec::new();
        let mut source_meta = None;
        let needs_source = matches!(
            &rule.kind,
            RuleKind::RowCount(CountExpect::Source)
                | RuleKind::Spot {
                    expect: Expect::Source,
                    ..
                }
        );
        match &rule.kind {
            RuleKind::References {
                parent: p,
                parent_columns,
            } => {
                let pm = find_table(tables, p, "the target")
                    .map_err(|why| fail(&rule, rule.line, format!("parent: {why}")))?;
                let mut pcs = Vec::new();
                for c in parent_columns.iter() {
                    pcs.push(
                        real_column(&pm, c, "parent table")
                            .map_err(|why| fail(&rule, rule.line, why))?,
                    );
                }
                parent = Some((pm, pcs));
            }
            RuleKind::Spot { keys, expect } => {
                let mut named: Vec<String> = keys.iter().flat_map(|k| k.keys().cloned()).collect();
                if let Expect::Values(v) = expect {
                    named.extend(v.keys().cloned());
                }
                if let Expect::Source = expect {
                    named.extend(meta.columns.iter().map(|c| c.name.clone()));
                }
                for c in named {
                    let real = real_column(&meta, &c, "table")
                        .map_err(|why| fail(&rule, rule.line, why))?;
                    if !spot_columns.contains(&real) {
                        spot_columns.push(real);
                    }
                }
            }
            _ => {}
        }
        if needs_source {
            let st = source_tables.ok_or_else(|| {
                fail(
                    &rule,
                    rule.line,
                    "compares with the source, but no source was given (add `source = \"…\"` to the rules file or pass --source)".into(),
                )
            })?;
            source_meta = Some(
                find_table(st, &rule.table, "the source")
                    .map_err(|why| fail(&rule, rule.line, why))?,
            );
        }
        if let RuleKind::Sql(_) = rule.kind {
            meta.name.name = rule.name.clone();
        }
        out.push(Resolved {
            rule,
            meta,
            parent,
            spot_columns,
            source_meta,
        });
    }
    Ok(out)
}
