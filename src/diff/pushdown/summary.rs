//! What comes back from each side: bucket summaries, counts and column aggregates, and the
//! (key hash, row hash, key) triples, compared.

use super::*;

/// The buckets whose summaries differ (or that hold a row the database could not hash), the
/// rows of the others, and the rows of the differing ones (the larger side).
pub(super) fn compare(s0: &Summary, s1: &Summary) -> (Vec<u64>, u64, u64) {
    let mut all: Vec<u64> = s0
        .buckets
        .keys()
        .chain(s1.buckets.keys())
        .copied()
        .collect();
    all.sort_unstable();
    all.dedup();
    let none = Bucket::default();
    let (mut dirty, mut clean_rows, mut dirty_rows) = (Vec::new(), 0u64, 0u64);
    for b in all {
        let x = s0.buckets.get(&b).unwrap_or(&none);
        let y = s1.buckets.get(&b).unwrap_or(&none);
        if x == y && x.hashed == x.rows {
            clean_rows += x.rows;
        } else {
            dirty.push(b);
            dirty_rows += x.rows.max(y.rows);
        }
    }
    (dirty, clean_rows, dirty_rows)
}

/// One bucket's summary on one side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Bucket {
    pub(super) rows: u64,
    pub(super) hashed: u64,
    pub(super) sum: i128,
}

/// A side's summary, per bucket.
#[derive(Default)]
pub(super) struct Summary {
    pub(super) buckets: BTreeMap<u64, Bucket>,
}

/// A side's rows, the non-NULL values of each compared column, and (sum, min, max) texts of
/// the columns whose aggregates SQL computes, per group.
pub(super) struct Counts {
    pub(super) rows: u64,
    pub(super) non_null: Vec<u64>,
    pub(super) aggs: Vec<[Option<String>; 3]>,
}

/// The (sum, min, max) texts of a result row from `at` on, three per aggregated column.
pub(super) fn agg_texts(
    row: &[Option<String>],
    at: usize,
    naggs: usize,
) -> Vec<[Option<String>; 3]> {
    (0..naggs)
        .map(|j| {
            let g = |k: usize| row.get(at + 3 * j + k).cloned().flatten();
            [g(0), g(1), g(2)]
        })
        .collect()
}

pub(super) fn parse_counts(
    db: &dyn Pushdown,
    rows: Vec<Vec<Option<String>>>,
    ncols: usize,
    naggs: usize,
) -> Result<Counts, DiffError> {
    let row = rows.first().ok_or_else(|| bad(db, "count"))?;
    if row.len() != 1 + ncols + 3 * naggs {
        return Err(bad(db, "row width"));
    }
    let n = |v: &Option<String>| {
        v.as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| bad(db, "count"))
    };
    Ok(Counts {
        rows: n(&row[0])?,
        non_null: row[1..=ncols].iter().map(n).collect::<Result<_, _>>()?,
        aggs: agg_texts(row, 1 + ncols, naggs),
    })
}

pub(super) fn bad(db: &dyn Pushdown, what: &str) -> DiffError {
    DiffError::Source(SourceError::query(
        &format!("{:?} (pushdown)", db.dialect()),
        format!("unexpected {what} in a pushdown result"),
    ))
}

/// Parses summaries; with `ncols` counts (and `naggs` aggregates) per bucket, also the counts
/// of the whole (and the aggregates of each bucket, in `aggs` one after the other).
pub(super) fn parse_summary(
    db: &dyn Pushdown,
    rows: Vec<Vec<Option<String>>>,
    ncols: usize,
    naggs: usize,
) -> Result<(Summary, Counts), DiffError> {
    let mut s = Summary::default();
    let mut counts = Counts {
        rows: 0,
        non_null: vec![0; ncols],
        aggs: Vec::new(),
    };
    let num = |v: &Option<String>| -> Option<i128> { v.as_deref()?.trim().parse::<i128>().ok() };
    for r in rows {
        if r.len() != 4 + ncols + 3 * naggs {
            return Err(bad(db, "row width"));
        }
        counts.aggs.extend(agg_texts(&r, 4 + ncols, naggs));
        let b = num(&r[0]).ok_or_else(|| bad(db, "bucket"))? as u64;
        let rows = num(&r[1]).ok_or_else(|| bad(db, "count"))? as u64;
        let hashed = num(&r[2]).ok_or_else(|| bad(db, "count"))? as u64;
        // No row hashed: the sum is NULL.
        let sum = match &r[3] {
            None => 0,
            v => num(v).ok_or_else(|| bad(db, "sum"))?,
        };
        for (i, n) in counts.non_null.iter_mut().enumerate() {
            *n += num(&r[4 + i]).ok_or_else(|| bad(db, "count"))? as u64;
        }
        counts.rows += rows;
        s.buckets.insert(b, Bucket { rows, hashed, sum });
    }
    Ok((s, counts))
}

/// Reads (key hash, row hash, key value) of some rows, sorted.
pub(super) fn read_tuples(db: &dyn Pushdown, sql: &str) -> Result<Vec<(i64, i64, i64)>, DiffError> {
    let mut out = Vec::new();
    for t in db.triples(sql)? {
        // A row the database could not hash: read in full by its bucket instead.
        let [k, h, v] = t.ok_or_else(|| bad(db, "NULL hash"))?;
        out.push((k, h, v));
    }
    out.sort_unstable();
    Ok(out)
}

/// The keys (hash, value) whose multisets of row hashes differ between the sides, and the rows
/// of the other keys (matched on both sides). Both inputs are sorted.
pub(super) fn differing_keys(
    a: &[(i64, i64, i64)],
    b: &[(i64, i64, i64)],
) -> (Vec<(i64, i64)>, u64) {
    let (mut i, mut j) = (0, 0);
    let mut keys = Vec::new();
    let mut matched = 0u64;
    let run = |v: &[(i64, i64, i64)], at: usize| {
        let k = v[at].0;
        let mut e = at;
        while e < v.len() && v[e].0 == k {
            e += 1;
        }
        e
    };
    while i < a.len() || j < b.len() {
        let ka = a.get(i).map(|t| t.0);
        let kb = b.get(j).map(|t| t.0);
        match (ka, kb) {
            (Some(x), Some(y)) if x == y => {
                let (ei, ej) = (run(a, i), run(b, j));
                let hashes = |v: &[(i64, i64, i64)]| v.iter().map(|t| t.1).collect::<Vec<_>>();
                if hashes(&a[i..ei]) == hashes(&b[j..ej]) {
                    matched += (ei - i) as u64;
                } else {
                    push_run(&mut keys, &a[i..ei]);
                    push_run(&mut keys, &b[j..ej]);
                }
                i = ei;
                j = ej;
            }
            (Some(x), Some(y)) if x < y => {
                let e = run(a, i);
                push_run(&mut keys, &a[i..e]);
                i = e;
            }
            (Some(_), None) => {
                let e = run(a, i);
                push_run(&mut keys, &a[i..e]);
                i = e;
            }
            (_, Some(_)) => {
                let e = run(b, j);
                push_run(&mut keys, &b[j..e]);
                j = e;
            }
            (None, None) => break,
        }
    }
    keys.sort_unstable();
    keys.dedup();
    (keys, matched)
}

/// Every (key hash, key value) of a run of one key hash: two keys may share a hash, and each
/// must be read.
pub(super) fn push_run(keys: &mut Vec<(i64, i64)>, run: &[(i64, i64, i64)]) {
    keys.extend(run.iter().map(|t| (t.0, t.2)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differing_keys_compare_multisets_per_key() {
        let a = vec![(1, 10, 0), (2, 20, 0), (2, 21, 0), (3, 30, 3), (5, 50, 5)];
        let b = vec![(1, 10, 0), (2, 21, 0), (2, 20, 0), (3, 31, 3), (4, 40, 4)];
        let (mut sa, mut sb) = (a.clone(), b.clone());
        sa.sort_unstable();
        sb.sort_unstable();
        let (keys, matched) = differing_keys(&sa, &sb);
        // Each differing key with its value, from whichever side has it.
        assert_eq!(keys, vec![(3, 3), (4, 4), (5, 5)]);
        // Key 1 (one row) and key 2 (two rows, in another order) match on both sides.
        assert_eq!(matched, 3);
        // A key twice on one side and once on the other differs.
        let (keys, matched) = differing_keys(&[(7, 1, 0), (7, 1, 0)], &[(7, 1, 0)]);
        assert_eq!((keys, matched), (vec![(7, 0)], 0));
        // Two keys sharing a hash, one of them changed: both are read, by their values.
        let (keys, matched) = differing_keys(&[(9, 1, 20), (9, 5, 30)], &[(9, 1, 20), (9, 6, 30)]);
        assert_eq!((keys, matched), (vec![(9, 20), (9, 30)], 0));
        // Only one side: every key differs, nothing matched.
        let (keys, matched) = differing_keys(&[], &[(8, 1, 0), (9, 1, 0)]);
        assert_eq!((keys, matched), (vec![(8, 0), (9, 0)], 0));
    }
}
