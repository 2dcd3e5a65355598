//! SQL's statistics laid over the streamed profile, each shown exactly as the stream shows it.

use super::{ExactStats, Extremes, ProfilePushdown, Sample, TableSql};
use crate::profile::model::{ColumnProfile, TableProfile};
use crate::profile::summary::{round_sig, show_i};
use crate::value::kind::{decimal_string, Kind};

/// A YYYY-MM-DD date as the profile shows it (other texts, such as BC dates, are left to the
/// streamed value).
fn plain_date(s: &str) -> bool {
    s.len() == 10 && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Lays SQL's distinct counts over the profile of every row (`None`: SQL had nothing to add).
pub fn overlay_whole(p: &mut TableProfile, sql: Option<&TableSql>) {
    match sql {
        Some(sql) => overlay(p, sql, None),
        None => {
            p.pushdown = Some(ProfilePushdown {
                sample: None,
                exact_in_sql: Vec::new(),
                table_in_sql: Vec::new(),
            })
        }
    }
}

/// Lays SQL's statistics over a streamed profile; `sample` when the stream was a sample. Only
/// what SQL was asked for is laid over, and listed.
pub fn overlay(p: &mut TableProfile, sql: &TableSql, sample: Option<Sample>) {
    let sampled = sample.is_some();
    let mut exact = Vec::new();
    p.rows = sql.rows;
    for (col, s) in p.columns.iter_mut().zip(&sql.columns) {
        let mut stats: Vec<String> = Vec::new();
        // What the stream saw, before SQL's counts replace it.
        let streamed_non_null = col.rows.saturating_sub(col.nulls);
        let streamed_numeric = col.numeric_like;
        if sampled {
            col.rows = sql.rows;
            stats.push("rows".into());
        }
        if let Some(n) = s.nulls {
            col.nulls = n;
            stats.push("nulls".into());
        }
        if let Some(d) = s.distinct {
            col.distinct = d;
            col.distinct_exact = true;
            col.distinct_std_error = 0.0;
            col.unique = col.nulls == 0 && d == sql.rows && sql.rows > 0;
            stats.push("distinct".into());
        } else if sampled {
            // A sample's distinct count says nothing of the table's.
            col.distinct_exact = false;
            col.unique = false;
        }
        if !col.sensitive {
            if let Some((min, max)) = extremes(col, s, streamed_non_null, streamed_numeric) {
                if s.extremes == Extremes::Decimal && col.kind == "text" {
                    // A column of decimals read as text is ranged as numbers.
                    col.numeric_min = Some(min.clone());
                    col.numeric_max = Some(max.clone());
                }
                col.min = Some(min);
                col.max = Some(max);
                stats.extend(["min".into(), "max".into()]);
            }
            if let Some((mean, std)) = moments(col, s) {
                col.mean = mean;
                col.std = std;
                stats.extend(["mean".into(), "std".into()]);
            }
        }
        if let Some(e) = s.empty {
            col.empty = e;
            stats.push("empty".into());
        }
        if let Some([min, max, sum]) = s.lengths {
            let non_null = col.rows.saturating_sub(col.nulls);
            col.len_min = min;
            col.len_max = max;
            col.len_mean = sum
                .filter(|_| non_null > 0)
                .map(|sum| sum as f64 / non_null as f64);
            stats.extend(["len_min".into(), "len_max".into(), "len_mean".into()]);
        }
        if !stats.is_empty() {
            exact.push(ExactStats {
                column: col.name.clone(),
                stats,
            });
        }
    }
    let mut table_in_sql = Vec::new();
    if sampled {
        p.duplicate_rows = None;
        p.duplicate_samples.clear();
        p.primary_key_duplicates = None;
        if let Some(k) = sql.primary_key {
            p.primary_key_duplicates = Some(k.duplicates);
            p.primary_key_nulls = k.nulls;
            table_in_sql.extend(["primary_key_duplicates".into(), "primary_key_nulls".into()]);
        }
        p.candidate_keys.clear();
        p.composite_keys_evaluated = false;
    }
    // Key candidates are single columns unique and without NULLs, else pairs: a column SQL
    // found so is one, whatever was streamed (a distinct count past --exact-distinct-limit, or
    // a sample, cannot show it), beside those the stream found.
    let singles: Vec<Vec<String>> = p
        .columns
        .iter()
        .filter(|col| {
            let in_sql = exact
                .iter()
                .any(|e| e.column == col.name && e.stats.iter().any(|s| s == "distinct"));
            let streamed = p
                .candidate_keys
                .iter()
                .any(|k| k == std::slice::from_ref(&col.name));
            (in_sql && col.unique) || streamed
        })
        .map(|col| vec![col.name.clone()])
        .collect();
    if !singles.is_empty() {
        p.candidate_keys = singles;
        p.composite_keys_evaluated = false;
    }
    p.pushdown = Some(ProfilePushdown {
        sample,
        exact_in_sql: exact,
        table_in_sql,
    });
}

/// A plain decimal text (`-12.500`, `7`): what a decimal column's text is.
fn plain_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

/// A plain decimal text as an unscaled integer of `scale` digits after the point (`None`:
/// more digits than that, or not a decimal).
fn scaled(s: &str, scale: i8) -> Option<i128> {
    if !plain_decimal(s) || scale < 0 {
        return None;
    }
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let scale = scale as usize;
    if frac.len() > scale {
        return None;
    }
    let all = format!("{int}{frac:0<scale$}");
    let v: i128 = all.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// The column's extremes as the stream shows them, from SQL's (`None`: SQL gave none, or none
/// the stream would show as they are).
fn extremes(
    col: &ColumnProfile,
    s: &super::ColumnSql,
    streamed_non_null: u64,
    streamed_numeric: u64,
) -> Option<(String, String)> {
    let (min, max) = (s.min.as_deref()?.trim(), s.max.as_deref()?.trim());
    let kind = Kind::from_name(&col.kind)?;
    let both = |f: &dyn Fn(&str) -> Option<String>| f(min).zip(f(max));
    match (s.extremes, &kind) {
        (Extremes::Plain, Kind::Int) => both(&|v| v.parse::<i64>().ok().map(|v| v.to_string())),
        (Extremes::Plain, Kind::Date) => both(&|v| plain_date(v).then(|| v.to_string())),
        // A double's text (shortest round trip, `Infinity`) read back: the same f64, shown as
        // the profile shows it.
        (Extremes::Float, Kind::Float) => both(&|v| {
            v.parse::<f64>()
                .ok()
                .filter(|v| !v.is_nan())
                .map(|v| format!("{v:?}"))
        }),
        (Extremes::Decimal, Kind::Decimal { scale, .. }) => {
            both(&|v| scaled(v, *scale).map(|v| decimal_string(v, *scale)))
        }
        // Read as text, every value a number ('NaN' and 'Infinity' sort past every number, and
        // are not plain decimals): ranged as numbers, shown as SQL gives them (one scale).
        (Extremes::Decimal, Kind::Text) => both(&|v| plain_decimal(v).then(|| v.to_string())),
        (Extremes::Micros, Kind::Timestamp { unit, .. }) => {
            let per_us = crate::value::kind::per_second(unit) as i128;
            both(&|v| {
                let us: i128 = v.parse().ok()?;
                // Shown in the column's unit, when it holds the value exactly.
                let v = match per_us {
                    1_000_000_000 => us * 1000,
                    ps if (1_000_000 % ps) == 0 && us % (1_000_000 / ps) == 0 => {
                        us / (1_000_000 / ps)
                    }
                    _ => return None,
                };
                Some(show_i(&kind, v))
            })
        }
        // Text, unless the stream ranges it as numbers: the sample held only numbers, and the
        // table may too (a sample holding any other text shows the table does).
        (Extremes::Text, Kind::Text)
            if streamed_non_null > 0 && streamed_numeric < streamed_non_null =>
        {
            Some((min.to_string(), max.to_string()))
        }
        _ => None,
    }
}

/// Mean and sample deviation from SQL's exact sum and deviation, rounded as the stream rounds
/// them (`None`: not asked, or not a column whose moments the stream shows).
fn moments(col: &ColumnProfile, s: &super::ColumnSql) -> Option<(Option<f64>, Option<f64>)> {
    if !s.moments {
        return None;
    }
    let shown = match Kind::from_name(&col.kind)? {
        Kind::Int | Kind::Decimal { .. } => true,
        // Decimals read as text: moments when every value is a number, as SQL's extremes show
        // (checked by the caller's extremes: both plain decimals).
        Kind::Text => {
            s.extremes == Extremes::Decimal
                && s.min.as_deref().is_some_and(|v| plain_decimal(v.trim()))
                && s.max.as_deref().is_some_and(|v| plain_decimal(v.trim()))
        }
        _ => false,
    };
    if !shown {
        return None;
    }
    let non_null = col.rows.saturating_sub(col.nulls);
    let sum: Option<f64> = s.sum.as_deref().and_then(|v| v.trim().parse().ok());
    let mean = sum
        .filter(|_| non_null > 0)
        .map(|s| round_sig(s / non_null as f64));
    let std = s
        .std
        .as_deref()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|_| non_null > 1)
        .map(round_sig);
    Some((mean, std))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_texts_are_read_at_their_scale_exactly() {
        assert_eq!(scaled("-12.5", 3), Some(-12500));
        assert_eq!(scaled("7", 2), Some(700));
        assert_eq!(scaled("0.001", 3), Some(1));
        // More digits than the scale holds, or not a plain decimal: nothing.
        assert_eq!(scaled("0.0001", 3), None);
        for bad in ["NaN", "Infinity", "1e5", "", "-", ".5", "5.", "1.2.3", " 1"] {
            assert!(!plain_decimal(bad), "{bad}");
            assert_eq!(scaled(bad, 3), None, "{bad}");
        }
        assert!(plain_decimal("-0.500"));
    }
}
