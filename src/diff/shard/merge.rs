//! `reckon merge`: the checks that a set of shard states is every shard of one run, once, and
//! the adding up of their tables into the unsharded run's report.

use std::collections::BTreeSet;

use super::{ShardState, TableState};
use crate::diff::aggregate::AggregateAcc;
use crate::diff::model::{ColumnDiff, DiffReport, TableDiff, Verdict, FORMAT_VERSION};
use crate::diff::pushdown::PushdownInfo;

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct MergeError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

fn refuse(message: String, hint: &str) -> MergeError {
    MergeError {
        message,
        hint: hint.into(),
    }
}

/// What must be equal in every shard of one run: the pair, its key, its columns as planned (with
/// rules and sensitivity) and its schema findings.
fn same_plan(a: &TableDiff, b: &TableDiff) -> bool {
    let same_column = |x: &ColumnDiff, y: &ColumnDiff| {
        x.source == y.source
            && x.target == y.target
            && x.source_type == y.source_type
            && x.target_type == y.target_type
            && x.key == y.key
            && x.sensitive == y.sensitive
            && x.rules == y.rules
    };
    a.source_table == b.source_table
        && a.target_table == b.target_table
        && a.key == b.key
        && a.key_origin == b.key_origin
        && a.schema == b.schema
        && (a.columns.is_empty()
            || b.columns.is_empty()
            || (a.columns.len() == b.columns.len()
                && a.columns
                    .iter()
                    .zip(&b.columns)
                    .all(|(x, y)| same_column(x, y))))
}

/// Checks that `shards` are all N shards of one run, and puts them in shard order.
pub fn check_set(mut shards: Vec<ShardState>) -> Result<Vec<ShardState>, MergeError> {
    let hint = "give every shard directory of one run, `reckon diff … --shard I/N --out DIR` for I = 1…N, once each";
    let Some(first) = shards.first() else {
        return Err(refuse("no shard directory given".into(), hint));
    };
    let n = first.shard.count;
    let version = env!("CARGO_PKG_VERSION");
    for s in &shards {
        if s.format_version != FORMAT_VERSION || s.reckon_version != version {
            return Err(refuse(
                format!(
                    "shard {} was written by reckon {} (format {}), this is reckon {version} (format {FORMAT_VERSION})",
                    s.shard, s.reckon_version, s.format_version
                ),
                "run every shard and the merge with the same reckon",
            ));
        }
        if s.shard.count != n {
            return Err(refuse(
                format!(
                    "shards of different splits: {} and {}",
                    first.shard, s.shard
                ),
                hint,
            ));
        }
    }
    shards.sort_by_key(|s| s.shard.index);
    let seen: Vec<u64> = shards.iter().map(|s| s.shard.index).collect();
    let distinct: BTreeSet<u64> = seen.iter().copied().collect();
    if distinct.len() != seen.len() {
        let twice = seen.windows(2).find(|w| w[0] == w[1]).map_or(0, |w| w[0]);
        return Err(refuse(format!("shard {twice}/{n} is given twice"), hint));
    }
    let missing: Vec<String> = (1..=n)
        .filter(|i| !distinct.contains(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(refuse(
            format!("shards missing: {}", missing.join(", ")),
            hint,
        ));
    }
    let base = &shards[0];
    let damaged = |s: &ShardState| MergeError {
        message: format!(
            "the shard.json of shard {} is damaged: its tables do not match its report",
            s.shard
        ),
        hint: "run that shard again".into(),
    };
    for s in &shards {
        let n = s.report.tables.len();
        let parts_ok = s.tables.len() == n
            && s.report.tables.iter().zip(&s.tables).all(|(t, st)| {
                let cols = if t.verdict.is_error() {
                    0
                } else {
                    t.columns.len()
                };
                st.aggregates.iter().all(|a| a.len() == cols)
                    && st
                        .aggregates
                        .iter()
                        .flatten()
                        .all(|a| AggregateAcc::from_state(a).is_some())
                    && st
                        .side_hashes
                        .iter()
                        .all(|h| u128::from_str_radix(h, 16).is_ok())
            });
        if !parts_ok {
            return Err(damaged(s));
        }
    }
    for s in &shards[1..] {
        let (a, b) = (&base.report, &s.report);
        let same = a.source == b.source
            && a.target == b.target
            && s.samples == base.samples
            && s.aggregates == base.aggregates
            && a.tables.len() == b.tables.len()
            && s.tables.len() == b.tables.len()
            && a.unpaired.len() == b.unpaired.len()
            && a.unpaired
                .iter()
                .zip(&b.unpaired)
                .all(|(x, y)| x.table == y.table && x.side == y.side)
            && a.tables.iter().zip(&b.tables).all(|(x, y)| same_plan(x, y));
        if !same {
            return Err(refuse(
                format!(
                    "shard {} is not of the same run as shard {}: its sources, tables, columns, rules, --samples or --aggregates differ",
                    s.shard, base.shard
                ),
                "run every shard with the same arguments except --shard and --out",
            ));
        }
    }
    // Pushed down, a shard's share is a range of the SQL's buckets; streamed, of the engine's
    // key hashes: the shards of one table must all split the same way, by the same buckets.
    for i in 0..base.report.tables.len() {
        let splits: BTreeSet<(bool, u64)> = shards
            .iter()
            .map(|s| &s.report.tables[i])
            .filter(|t| !t.verdict.is_error())
            .map(|t| match &t.pushdown {
                Some(p) if p.strategy != "streamed" => (true, p.buckets),
                _ => (false, 0),
            })
            .collect();
        if splits.len() > 1 {
            return Err(refuse(
                format!(
                    "the shards of {} did not split it the same way: some pushed down, others streamed, or pushed down with different numbers of buckets",
                    base.report.tables[i].source_table
                ),
                "run every shard with the same --buckets N (the default follows the table's row estimate, which can change between shards)",
            ));
        }
    }
    Ok(shards)
}

/// The shards' pushdown sections added up: the strategies each used (in order, once each), the
/// buckets, and the sums of what was probed, found differing and fetched.
fn merge_pushdown(parts: &[(&TableDiff, &TableState)]) -> Option<PushdownInfo> {
    let infos: Vec<&PushdownInfo> = parts
        .iter()
        .filter_map(|(t, _)| t.pushdown.as_ref())
        .collect();
    let first = (*infos.first()?).clone();
    let mut strategies: Vec<&str> = Vec::new();
    for p in &infos {
        if !strategies.contains(&p.strategy.as_str()) {
            strategies.push(&p.strategy);
        }
    }
    let mut out = PushdownInfo {
        strategy: strategies.join("+"),
        differing_buckets: 0,
        probed_buckets: 0,
        probe_differing: 0,
        hashes_fetched: [0, 0],
        rows_fetched: [0, 0],
        bytes_fetched: [0, 0],
        seconds: [0.0, 0.0],
        ..first
    };
    for p in infos {
        out.differing_buckets += p.differing_buckets;
        out.probed_buckets += p.probed_buckets;
        out.probe_differing += p.probe_differing;
        for side in 0..2 {
            out.hashes_fetched[side] += p.hashes_fetched[side];
            out.rows_fetched[side] += p.rows_fetched[side];
            out.bytes_fetched[side] += p.bytes_fetched[side];
            out.seconds[side] += p.seconds[side];
        }
    }
    Some(out)
}

/// Adds up the shards of one table pair (in shard order).
fn merge_table(parts: &[(&TableDiff, &TableState)], samples: usize) -> TableDiff {
    let (first, _) = parts[0];
    if let Some((errored, _)) = parts.iter().find(|(t, _)| t.verdict.is_error()) {
        return TableDiff {
            seconds: parts.iter().map(|(_, s)| s.seconds).sum(),
            ..(*errored).clone()
        };
    }
    let mut out = first.clone();
    out.counts = Default::default();
    out.rules.clear();
    out.classes.clear();
    out.samples.clear();
    out.spilled = false;
    out.seconds = 0.0;
    out.side_hashes = [0, 0];
    let ncols = first.columns.len();
    let mut accs: [Vec<AggregateAcc>; 2] = [
        vec![AggregateAcc::default(); ncols],
        vec![AggregateAcc::default(); ncols],
    ];
    let mut col_rules = vec![std::collections::BTreeMap::<String, u64>::new(); ncols];
    let mut col_classes = vec![std::collections::BTreeMap::<String, u64>::new(); ncols];
    for (t, st) in parts {
        let c = &t.counts;
        let o = &mut out.counts;
        o.source_rows += c.source_rows;
        o.target_rows += c.target_rows;
        o.matched += c.matched;
        o.matched_by_rule += c.matched_by_rule;
        o.mismatched += c.mismatched;
        o.missing += c.missing;
        o.extra += c.extra;
        o.duplicate_keys_source += c.duplicate_keys_source;
        o.duplicate_keys_target += c.duplicate_keys_target;
        for (k, v) in &t.rules {
            *out.rules.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &t.classes {
            *out.classes.entry(k.clone()).or_default() += v;
        }
        for (i, col) in t.columns.iter().enumerate().take(ncols) {
            for (k, v) in &col.matched_by_rule {
                *col_rules[i].entry(k.clone()).or_default() += v;
            }
            for (k, v) in &col.mismatched {
                *col_classes[i].entry(k.clone()).or_default() += v;
            }
        }
        for (side, side_accs) in accs.iter_mut().enumerate() {
            for (acc, s) in side_accs.iter_mut().zip(&st.aggregates[side]) {
                if let Some(a) = AggregateAcc::from_state(s) {
                    acc.merge(a);
                }
            }
            let h = u128::from_str_radix(&st.side_hashes[side], 16).unwrap_or(0);
            out.side_hashes[side] = out.side_hashes[side].wrapping_add(h);
        }
        out.spilled |= t.spilled;
        out.seconds += st.seconds;
    }
    // The first rows of all the shards' rows in key-hash order (ties by shard, then place):
    // each shard's samples are its own first rows.
    let mut firsts: Vec<(u64, usize, usize, &crate::diff::DiffRow)> = Vec::new();
    for (s, (t, st)) in parts.iter().enumerate() {
        for (j, r) in t.samples.iter().enumerate() {
            let kh = st.sample_key_hashes.get(j).copied().unwrap_or(r.key_hash);
            firsts.push((kh, s, j, r));
        }
    }
    firsts.sort_by_key(|(kh, s, j, _)| (*kh, *s, *j));
    out.samples = firsts
        .into_iter()
        .take(samples)
        .map(|(kh, _, _, r)| crate::diff::DiffRow {
            key_hash: kh,
            ..r.clone()
        })
        .collect();
    let paired = out.counts.matched + out.counts.matched_by_rule + out.counts.mismatched;
    out.columns = first
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let differing: u64 =
                col_rules[i].values().sum::<u64>() + col_classes[i].values().sum::<u64>();
            ColumnDiff {
                compared: paired,
                matched: paired.saturating_sub(differing),
                matched_by_rule: col_rules[i].clone(),
                mismatched: col_classes[i].clone(),
                source_aggregate: accs[0][i].finish(c.sensitive),
                target_aggregate: accs[1][i].finish(c.sensitive),
                ..c.clone()
            }
        })
        .collect();
    let schema_error = out.schema.iter().any(|f| f.severity == "error");
    let o = &out.counts;
    out.verdict = if o.mismatched + o.missing + o.extra > 0 || schema_error {
        Verdict::Mismatch
    } else if o.matched_by_rule > 0 {
        Verdict::MatchByRule
    } else {
        Verdict::Match
    };
    out.accumulators = Some(Box::new(accs));
    out.pushdown = merge_pushdown(parts);
    out
}

/// The report of the whole run from all its shards (checked by [`check_set`], in order).
pub fn merge(shards: &[ShardState]) -> DiffReport {
    let base = &shards[0];
    let tables = (0..base.report.tables.len())
        .map(|i| {
            let parts: Vec<(&TableDiff, &TableState)> = shards
                .iter()
                .map(|s| (&s.report.tables[i], &s.tables[i]))
                .collect();
            merge_table(&parts, base.samples)
        })
        .collect();
    DiffReport::new(
        base.report.source.clone(),
        base.report.target.clone(),
        tables,
        base.report.unpaired.clone(),
    )
}

/// Rows a compared pair lists in `diff_rows.parquet`: changed with a mismatch, missing, extra
/// (`match*` rows are only counted).
pub fn listed_rows(t: &TableDiff) -> u64 {
    t.counts.mismatched + t.counts.missing + t.counts.extra
}
