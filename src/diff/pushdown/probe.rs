//! The probe of `diff --pushdown`: the summaries of about 1/32 of the rows, in 1/32 as many
//! groups as buckets (each of about a bucket's rows), from which the run tells whether most
//! buckets will differ. A key of one integer column gives the rows of four narrow key ranges,
//! read through its index ([`key_windows`]); any other key, or ranges that hold too few rows,
//! the rows of 1/32 of the buckets, which costs a scan.

use super::sql::SideSql;
use super::summary::{compare, parse_summary, Summary};
use super::{both, DiffError};
use crate::source::Pushdown;

/// What the probe found.
pub(super) struct Probe {
    /// Groups of rows compared.
    pub(super) groups: u64,
    /// Groups whose summaries differed.
    pub(super) differing: u64,
    /// Seconds spent in each database.
    pub(super) seconds: [f64; 2],
}

/// Probes the buckets `[lo, hi)` of `nbuckets` (a shard's share, `share` per side); `None` when
/// they are too few (under 64) to be worth it. `estimate` is the table's rows.
pub(super) fn probe(
    dbs: [&dyn Pushdown; 2],
    sql: &[SideSql; 2],
    share: &[String; 2],
    nbuckets: u64,
    (lo, hi): (u64, u64),
    estimate: u64,
) -> Result<Option<Probe>, DiffError> {
    if hi - lo < 64 {
        return Ok(None);
    }
    let m = (hi - lo) / 32;
    let probe_by = |windows: Option<&[String; 2]>| {
        both(dbs, |side, db| {
            let b = sql[side].bucket(nbuckets);
            let (n, cond) = match windows {
                Some(w) => (m, format!("({}) AND ({})", w[side], share[side])),
                None if lo == 0 => (nbuckets, format!("{b} < {m}")),
                None => (nbuckets, format!("({b}) >= {lo} AND ({b}) < {}", lo + m)),
            };
            Ok(parse_summary(db, db.rows(&sql[side].summary(n, &cond, false))?, 0, 0)?.0)
        })
    };
    let windows = match (&sql[0].int_key, &sql[1].int_key) {
        (Some(_), Some(_)) => key_windows(dbs, sql)?,
        _ => None,
    };
    let mut probed = match &windows {
        Some(w) => Some(probe_by(Some(w))?),
        None => None,
    };
    // Keys bunched away from the ranges leave the probe (nearly) empty: it then takes 1/32 of
    // the buckets after all.
    let rows_in = |p: &Summary| p.buckets.values().map(|b| b.rows).sum::<u64>();
    let want = estimate.saturating_mul(hi - lo) / nbuckets.max(1) / 32;
    if let Some(([a, b], _)) = &probed {
        if rows_in(a).max(rows_in(b)) * 4 < want {
            probed = None;
        }
    }
    let (probe, seconds) = match probed {
        Some(p) => p,
        None => probe_by(None)?,
    };
    let (d, _, _) = compare(&probe[0], &probe[1]);
    Ok(Some(Probe {
        groups: m,
        differing: d.len() as u64,
        seconds,
    }))
}

/// Four key ranges of 1/128 of the key span both sides hold each, centred at 1/8, 3/8, 5/8 and
/// 7/8 of it, as a condition per side (through the index of a key of one integer column); `None`
/// when that span is too narrow to split or a side is empty.
fn key_windows(
    dbs: [&dyn Pushdown; 2],
    sql: &[SideSql; 2],
) -> Result<Option<[String; 2]>, DiffError> {
    let (ranges, _) = both(dbs, |side, db| {
        let Some(k) = &sql[side].int_key else {
            return Ok(None);
        };
        let q = sql[side]
            .tpl
            .fill("key_range", &[("c", k), ("table", &sql[side].table)]);
        let rows = db.rows(&q)?;
        let num = |i: usize| -> Option<i128> {
            rows.first()?
                .get(i)?
                .as_deref()?
                .trim()
                .parse::<i128>()
                .ok()
        };
        Ok(num(0).zip(num(1)))
    })?;
    let [Some((a0, b0)), Some((a1, b1))] = ranges else {
        return Ok(None);
    };
    // The span both sides hold (rows added past one side's end would leave the ranges empty).
    let (lo, hi) = (a0.max(a1), b0.min(b1));
    let span = hi - lo + 1;
    let width = span / 128;
    if width <= 0 {
        return Ok(None);
    }
    let conds = [0, 1].map(|side| {
        let k = sql[side].int_key.as_deref().unwrap_or_default();
        (0..4)
            .map(|j| {
                let from = lo + span * (2 * j + 1) / 8 - width / 2;
                format!("({k} >= {from} AND {k} < {})", from + width)
            })
            .collect::<Vec<_>>()
            .join(" OR ")
    });
    Ok(Some(conds))
}
