//! Turning a finished [`ColumnAcc`] into a [`ColumnProfile`]: top values, dominant shapes,
//! date families, inconsistent representations, and masking of sensitive columns.
//!
//! Masking: for a `--sensitive` column every raw value (min, max, top values, quantiles, mean,
//! inconsistent variants, numeric range) is replaced by its shape (`Aa+ Aa+`), or dropped where
//! a shape says nothing (mean, deviation). Counts stay.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

use super::column::ColumnAcc;
use super::datefmt;
use super::distinct::HLL_STD_ERROR;
use super::encoding::KINDS;
use super::model::{
    ColumnProfile, EncodingFinding, HistBin, InconsistentGroup, Quantile, ValueCount,
};
use super::numeric::key_float;
use super::pattern::shape;
use crate::source::ColumnMeta;
use crate::value::kind::{
    date_string, decimal_string, display, per_second, timestamp_string, Kind,
};

const QS: [f64; 5] = [0.05, 0.25, 0.5, 0.75, 0.95];

fn share(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

/// Shows an integer-like value (ints, unscaled decimals, days, timestamps) in its kind.
pub(crate) fn show_i(kind: &Kind, v: i128) -> String {
    match kind {
        Kind::Decimal { scale, .. } => decimal_string(v, *scale),
        Kind::Date => date_string(v as i64),
        Kind::Timestamp { unit, tz } => timestamp_string(v as i64, unit, tz.is_some()),
        Kind::Time { .. } => display(kind, &(v as i64).to_le_bytes()),
        _ => v.to_string(),
    }
}

/// Folds a value for the inconsistent-representation check: trim, lower case, no accents.
pub fn fold(v: &str) -> String {
    v.trim()
        .nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Rounds to 12 significant digits: floating-point sums depend on the order values were added
/// in (chunking, partitions); the digits beyond that are noise, and would make reports differ.
pub(crate) fn round_sig(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let mag = x.abs().log10().floor() as i32;
    let factor = 10f64.powi(11 - mag);
    if !factor.is_finite() || factor == 0.0 {
        return x;
    }
    (x * factor).round() / factor
}

/// Bins in a histogram, at most.
const BINS: i128 = 20;

/// A float shown with six significant digits (a bin edge, not a value of the column).
fn short(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if !(1e-6..1e15).contains(&a) {
        return format!("{x:.5e}");
    }
    let mag = a.log10().floor() as i32;
    let factor = 10f64.powi(5 - mag);
    let r = (x * factor).round() / factor;
    let digits = (5 - mag).max(0) as usize;
    let s = format!("{r:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The equal-width histogram of a numeric or temporal column's finite values (see
/// [`HistBin`]), from the buckets of its quantile histogram.
fn histogram(kind: &Kind, acc: &ColumnAcc) -> Vec<HistBin> {
    let buckets = acc.hist.buckets();
    if buckets.is_empty() {
        return Vec::new();
    }
    match kind {
        Kind::Float | Kind::Decimal { .. } => {
            // Bucket edges as values; an edge at ±infinity or NaN holds infinities only.
            let xs: Vec<(f64, u64)> = buckets
                .iter()
                .map(|&(k, c)| (key_float(k), c))
                .filter(|(x, _)| x.is_finite())
                .collect();
            let (Some(first), Some(last)) = (xs.first(), xs.last()) else {
                return Vec::new();
            };
            let (lo, hi) = match kind {
                Kind::Decimal { scale, .. } => {
                    let div = 10f64.powi(i32::from(*scale));
                    (
                        acc.min_i.map_or(first.0, |v| v as f64 / div),
                        acc.max_i.map_or(last.0, |v| v as f64 / div),
                    )
                }
                _ => (
                    acc.min_f.filter(|v| v.is_finite()).unwrap_or(first.0),
                    acc.max_f.filter(|v| v.is_finite()).unwrap_or(last.0),
                ),
            };
            let (lo, hi) = (lo.min(first.0), hi.max(lo));
            let n = if hi > lo { BINS as usize } else { 1 };
            // A range wider than the largest float (−1e308 to 1e308) is divided before it is
            // subtracted, so that its width stays finite.
            let nf = n as f64;
            let wide = !(hi - lo).is_finite();
            let width = if wide {
                hi / nf - lo / nf
            } else {
                (hi - lo) / nf
            };
            let mut counts = vec![0u64; n];
            for (x, c) in xs {
                let pos = if wide {
                    (x / nf - lo / nf) / width * nf
                } else {
                    (x - lo) / width
                };
                let i = if width > 0.0 {
                    (pos.floor().max(0.0) as usize).min(n - 1)
                } else {
                    0
                };
                counts[i] += c;
            }
            counts
                .into_iter()
                .enumerate()
                .map(|(i, count)| HistBin {
                    lo: short(lo + width * i as f64),
                    hi: short(if i + 1 == n {
                        hi
                    } else {
                        lo + width * (i + 1) as f64
                    }),
                    count,
                })
                .collect()
        }
        _ => {
            let (Some(lo), Some(hi)) = (acc.min_i, acc.max_i) else {
                return Vec::new();
            };
            let span = hi - lo + 1;
            let width = (span + BINS - 1) / BINS;
            let n = ((span + width - 1) / width) as usize;
            let mut counts = vec![0u64; n];
            for (k, c) in buckets {
                let i = ((i128::from(k) - lo).max(0) / width) as usize;
                counts[i.min(n - 1)] += c;
            }
            counts
                .into_iter()
                .enumerate()
                .map(|(i, count)| {
                    let a = lo + width * i as i128;
                    HistBin {
                        lo: show_i(kind, a),
                        hi: show_i(kind, (a + width - 1).min(hi)),
                        count,
                    }
                })
                .collect()
        }
    }
}

/// Builds the column's profile.
pub fn summarize(
    meta: &ColumnMeta,
    ordinal: usize,
    acc: &ColumnAcc,
    sensitive: bool,
    top_k: usize,
) -> ColumnProfile {
    let kind = acc.kind.clone().unwrap_or(Kind::Text);
    let non_null = acc.rows - acc.nulls;
    let (distinct, distinct_exact) = acc.distinct_count();
    let mask = |s: String| if sensitive { shape(&s) } else { s };
    let t = &acc.text;

    let (mut min, mut max) = match &kind {
        Kind::Float => (
            acc.min_f.map(|v| format!("{v:?}")),
            acc.max_f.map(|v| format!("{v:?}")),
        ),
        Kind::Text => (t.min.clone(), t.max.clone()),
        Kind::Bool => (None, None),
        Kind::Bytes => (None, None),
        _ => (
            acc.min_i.map(|v| show_i(&kind, v)),
            acc.max_i.map(|v| show_i(&kind, v)),
        ),
    };
    // A text column of numbers (PostgreSQL numeric read as text, a CSV column) is ranged as numbers.
    if kind == Kind::Text && t.numeric_like > 0 && t.numeric_like == non_null {
        min = t.num_min.clone();
        max = t.num_max.clone();
    }
    let hist_value = |k: i64| -> String {
        match &kind {
            Kind::Float | Kind::Decimal { .. } => format!("{}", key_float(k)),
            _ => show_i(&kind, i128::from(k)),
        }
    };
    let numeric = kind.is_numeric_or_temporal();
    let quantiles: Vec<Quantile> = if numeric && !sensitive {
        QS.iter()
            .zip(acc.hist.quantiles(&QS))
            .map(|(&q, k)| Quantile {
                q,
                value: hist_value(k),
            })
            .collect()
    } else {
        Vec::new()
    };
    let (mean, std, mean_display) = if sensitive {
        (None, None, None)
    } else {
        match &kind {
            Kind::Int | Kind::Float | Kind::Decimal { .. } => {
                (acc.moments.mean(), acc.moments.std(), None)
            }
            Kind::Date | Kind::Timestamp { .. } | Kind::Time { .. } => {
                let md = acc.moments.mean().map(|m| show_i(&kind, m.round() as i128));
                let std = match &kind {
                    Kind::Timestamp { unit, .. } => {
                        acc.moments.std().map(|s| s / per_second(unit) as f64)
                    }
                    Kind::Date => acc.moments.std().map(|s| s * 86_400.0),
                    _ => acc.moments.std(),
                };
                (None, std, md)
            }
            Kind::Text if t.numeric_like > 0 && t.numeric_like == non_null => {
                (t.num_moments.mean(), t.num_moments.std(), None)
            }
            _ => (None, None, None),
        }
    };

    let top_values: Vec<ValueCount> = acc
        .freq
        .top(top_k)
        .into_iter()
        .map(|(b, c)| ValueCount {
            value: mask(display(&kind, b)),
            count: c,
            share: share(c, non_null),
        })
        .collect();

    let mut shapes_sorted: Vec<(&String, &u64)> = t.shapes.iter().collect();
    shapes_sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let shaped: u64 = t.shapes.values().sum::<u64>() + t.shape_other;
    let mut dominant = Vec::new();
    let mut covered = 0u64;
    for (s, &c) in shapes_sorted.iter().take(3) {
        if share(covered, shaped) >= 0.8 {
            break;
        }
        dominant.push((*s).clone());
        covered += c;
    }
    let shapes: Vec<ValueCount> = shapes_sorted
        .iter()
        .take(top_k)
        .map(|(s, &c)| ValueCount {
            value: (*s).clone(),
            count: c,
            share: share(c, shaped),
        })
        .collect();

    let mut dates: Vec<(String, u64)> = t.dates.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    datefmt::resolve_ambiguous(&mut dates);
    let date_formats = dates
        .into_iter()
        .map(|(value, count)| ValueCount {
            value,
            count,
            share: share(count, non_null),
        })
        .collect();

    let encoding = KINDS
        .iter()
        .enumerate()
        .filter(|(k, _)| acc.encoding[*k] > 0)
        .map(|(k, name)| EncodingFinding {
            kind: name.to_string(),
            count: acc.encoding[k],
            sample_keys: acc.encoding_samples[k].clone(),
        })
        .collect();

    let mut inconsistent = Vec::new();
    if kind == Kind::Text {
        if let Some(all) = acc.freq.exact() {
            let mut groups: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
            for (b, c) in all {
                let v = String::from_utf8_lossy(b).into_owned();
                let f = fold(&v);
                if !f.is_empty() {
                    groups.entry(f).or_default().push((v, c));
                }
            }
            for (folded, mut vs) in groups {
                if vs.len() < 2 {
                    continue;
                }
                vs.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                inconsistent.push(InconsistentGroup {
                    folded: mask(folded),
                    variants: vs
                        .into_iter()
                        .map(|(v, c)| ValueCount {
                            value: mask(v),
                            count: c,
                            share: share(c, non_null),
                        })
                        .collect(),
                });
            }
            inconsistent.sort_by(|a, b| {
                let n = |g: &InconsistentGroup| g.variants.iter().map(|v| v.count).sum::<u64>();
                n(b).cmp(&n(a)).then_with(|| a.folded.cmp(&b.folded))
            });
            inconsistent.truncate(20);
        }
    }

    let is_text = matches!(kind, Kind::Text | Kind::Bytes);
    ColumnProfile {
        name: meta.name.clone(),
        ordinal,
        declared_type: meta.declared_type.clone(),
        kind: kind.name(),
        declared_nullable: meta.nullable,
        sensitive,
        rows: acc.rows,
        nulls: acc.nulls,
        null_sample_keys: acc.null_samples.clone(),
        empty: t.empty,
        whitespace_only: t.whitespace_only,
        padded: t.padded,
        distinct,
        distinct_exact,
        distinct_std_error: if distinct_exact { 0.0 } else { HLL_STD_ERROR },
        unique: acc.unique(),
        min: min.map(mask),
        max: max.map(mask),
        mean: mean.map(round_sig),
        std: std.map(round_sig),
        mean_display,
        quantiles,
        quantiles_exact: acc.hist.exact(),
        histogram: if numeric && !sensitive {
            histogram(&kind, acc)
        } else {
            Vec::new()
        },
        nan: acc.nan,
        infinite: acc.infinite,
        true_count: (kind == Kind::Bool).then_some(acc.bools[1]),
        false_count: (kind == Kind::Bool).then_some(acc.bools[0]),
        len_min: if is_text { t.len_min } else { None },
        len_max: if is_text { t.len_max } else { None },
        len_mean: (is_text && non_null > 0).then(|| t.len_sum as f64 / non_null as f64),
        top_values,
        top_exact: !acc.freq.approximate,
        top_error_bound: acc.freq.error_bound,
        shapes,
        outside_dominant_shapes: shaped - covered,
        dominant_shapes: dominant,
        date_formats,
        numeric_like: t.numeric_like,
        zero_dates: t.zero_dates,
        numeric_min: if sensitive { None } else { t.num_min.clone() },
        numeric_max: if sensitive { None } else { t.num_max.clone() },
        storage_classes: meta.storage_classes.clone(),
        encoding,
        inconsistent,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Date32Array, Float64Array, Int64Array};

    use super::{fold, summarize};
    use crate::profile::column::ColumnAcc;
    use crate::profile::model::HistBin;
    use crate::profile::ProfileOptions;
    use crate::source::ColumnMeta;

    fn bins_of(a: ArrayRef, sensitive: bool) -> Vec<HistBin> {
        let acc = ColumnAcc::of_chunk(&a, &ProfileOptions::default());
        let meta = ColumnMeta {
            name: "c".into(),
            declared_type: "x".into(),
            nullable: None,
            storage_classes: None,
        };
        summarize(&meta, 0, &acc, sensitive, 10).histogram
    }

    fn bin(lo: &str, hi: &str, count: u64) -> HistBin {
        HistBin {
            lo: lo.into(),
            hi: hi.into(),
            count,
        }
    }

    #[test]
    fn integer_histogram_bins_are_equal_and_cover_min_to_max() {
        // 1..=100: twenty bins of five.
        let b = bins_of(Arc::new(Int64Array::from_iter_values(1..=100)), false);
        assert_eq!(b.len(), 20);
        assert_eq!(b[0], bin("1", "5", 5));
        assert_eq!(b[19], bin("96", "100", 5));
        assert!(b.iter().all(|x| x.count == 5));
        // 1..=101 and a NULL: width 6, seventeen bins, the last one short; NULL is not counted.
        let mut v: Vec<Option<i64>> = (1..=101).map(Some).collect();
        v.push(None);
        let b = bins_of(Arc::new(Int64Array::from(v)), false);
        assert_eq!(b.len(), 17);
        assert_eq!(b[0], bin("1", "6", 6));
        assert_eq!(b[16], bin("97", "101", 5));
        assert_eq!(b.iter().map(|x| x.count).sum::<u64>(), 101);
        // One value: one bin.
        let b = bins_of(Arc::new(Int64Array::from(vec![7, 7, 7])), false);
        assert_eq!(b, vec![bin("7", "7", 3)]);
        // Sensitive columns show no distribution.
        assert!(bins_of(Arc::new(Int64Array::from_iter_values(1..=100)), true).is_empty());
    }

    #[test]
    fn temporal_histogram_is_labelled_in_the_column_type() {
        // 2024-01-01 (day 19723) to 2024-01-20: one day per bin.
        let b = bins_of(Arc::new(Date32Array::from_iter_values(19723..19743)), false);
        assert_eq!(b.len(), 20);
        assert_eq!(b[0], bin("2024-01-01", "2024-01-01", 1));
        assert_eq!(b[19], bin("2024-01-20", "2024-01-20", 1));
    }

    #[test]
    fn float_histogram_counts_finite_values_and_puts_the_max_in_the_last_bin() {
        // 0, 0.5, …, 10 and infinities: twenty bins of width 0.5; the maximum closes the last.
        let mut v: Vec<f64> = (0..=20).map(|i| f64::from(i) / 2.0).collect();
        v.extend([f64::INFINITY, f64::NEG_INFINITY, f64::NAN]);
        let b = bins_of(Arc::new(Float64Array::from(v)), false);
        assert_eq!(b.len(), 20);
        assert_eq!(b[0], bin("0", "0.5", 1));
        assert_eq!(b[19], bin("9.5", "10", 2));
        assert_eq!(b.iter().map(|x| x.count).sum::<u64>(), 21);
        // A range wider than the largest float still bins: -1e308 first, 1e308 last.
        let b = bins_of(
            Arc::new(Float64Array::from(vec![-1e308, 0.0, 1e308])),
            false,
        );
        assert_eq!(b.len(), 20);
        assert_eq!((b[0].count, b[10].count, b[19].count), (1, 1, 1));
        assert_eq!(b[0].lo, "-1.00000e308");
        assert_eq!(b[19].hi, "1.00000e308");
    }

    #[test]
    fn decimal_histogram_is_in_the_decimal_value_not_the_unscaled_integer() {
        // 0.00 .. 19.00 by 1: twenty bins of width 0.95 over [0, 19].
        let a =
            arrow::array::Decimal128Array::from((0..20).map(|i| i * 100).collect::<Vec<i128>>())
                .with_precision_and_scale(10, 2)
                .unwrap();
        let b = bins_of(Arc::new(a), false);
        assert_eq!(b.len(), 20);
        assert_eq!(b[0].lo, "0");
        assert_eq!(b[19].hi, "19");
        assert_eq!(b.iter().map(|x| x.count).sum::<u64>(), 20);
    }

    #[test]
    fn fold_joins_case_space_and_accent_variants() {
        assert_eq!(fold("Ca "), "ca");
        assert_eq!(fold("CA"), "ca");
        assert_eq!(fold("Café"), fold("cafe"));
    }
}
