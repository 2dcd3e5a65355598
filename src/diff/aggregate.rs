//! Column aggregates of each side (count, NULLs, exact sum, min, max), computed while the rows
//! stream by: the cheap second opinion a sign-off shows beside the row diff.
//!
//! Sums are exact for integers and decimals (i128, decimal text included; `None` past 38
//! digits, never a rounded float) and approximate (`≈`) for floats. Min and max are kept as
//! canonical values (see `canonical`), so a PostgreSQL `numeric` 18.00 and a Parquet
//! decimal 18 are the same maximum. Untyped text read as floats or booleans has no min/max
//! (text order would be meaningless there).

use std::cmp::Ordering;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    PrimitiveArray, StringArray,
};
use arrow::datatypes::{
    ArrowPrimitiveType, Date32Type, Decimal128Type, Float64Type, Int64Type, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use serde::Serialize;

use super::plan::Read;
use crate::value::canonical::{
    datetime_parts, decimal_units, display, encode_column_with, number_string, rescale, split, tag,
    TextAs,
};
use crate::value::kind::{cmp_decimal_str, is_plain_decimal, normalize, Kind};

/// One side's aggregates of one column, as shown.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Aggregate {
    /// Non-NULL values.
    pub count: u64,
    /// NULLs.
    pub nulls: u64,
    /// Exact sum (numbers), `≈`-prefixed for floats, count of `true` for booleans.
    pub sum: Option<String>,
    /// Smallest value.
    pub min: Option<String>,
    /// Largest value.
    pub max: Option<String>,
}

#[derive(Debug, Clone, Default)]
enum Sum {
    #[default]
    None,
    Exact(i128, u32),
    Float(f64),
    Overflow,
}

/// Accumulates one side's aggregates of one column.
#[derive(Debug, Clone, Default)]
pub struct AggregateAcc {
    count: u64,
    nulls: u64,
    sum: Sum,
    min: Option<Vec<u8>>,
    max: Option<Vec<u8>>,
}

/// Orders canonical values of one tag (different tags order by tag).
pub fn cmp_canonical(a: &[u8], b: &[u8]) -> Ordering {
    let (ta, pa) = split(a);
    let (tb, pb) = split(b);
    if ta != tb {
        return ta.cmp(&tb);
    }
    let f = |p: &[u8]| {
        p.try_into()
            .map(u64::from_le_bytes)
            .map(f64::from_bits)
            .unwrap_or(0.0)
    };
    let i = |p: &[u8]| p.try_into().map(i64::from_le_bytes).unwrap_or(0);
    match ta {
        tag::NUMBER => cmp_decimal_str(&number_string(pa), &number_string(pb)),
        tag::FLOAT => f(pa).total_cmp(&f(pb)),
        tag::DATE => i32::from_le_bytes(pa.try_into().unwrap_or([0; 4]))
            .cmp(&i32::from_le_bytes(pb.try_into().unwrap_or([0; 4]))),
        tag::INSTANT | tag::LOCAL_DATETIME => datetime_parts(pa).cmp(&datetime_parts(pb)),
        tag::TIME => i(pa).cmp(&i(pb)),
        _ => pa.cmp(pb),
    }
}

fn one<T: ArrowPrimitiveType>(v: T::Native, like: &ArrayRef) -> ArrayRef {
    std::sync::Arc::new(
        PrimitiveArray::<T>::from_iter_values([v]).with_data_type(like.data_type().clone()),
    )
}

fn add_exact(sum: &mut Sum, units: i128, scale: u32) {
    *sum = match std::mem::take(sum) {
        Sum::None => Sum::Exact(units, scale),
        Sum::Exact(s, sc) => {
            let target = sc.max(scale);
            match (rescale(s, sc, target), rescale(units, scale, target)) {
                (Some(a), Some(b)) => a
                    .checked_add(b)
                    .map_or(Sum::Overflow, |v| Sum::Exact(v, target)),
                _ => Sum::Overflow,
            }
        }
        other => other,
    };
}

impl AggregateAcc {
    /// Keeps a canonical value if it is a new minimum or maximum.
    fn consider(&mut self, v: Vec<u8>) {
        if split(&v).0 == tag::NULL {
            return;
        }
        if self
            .min
            .as_ref()
            .is_none_or(|m| cmp_canonical(&v, m).is_lt())
        {
            self.min = Some(v.clone());
        }
        if self
            .max
            .as_ref()
            .is_none_or(|m| cmp_canonical(&v, m).is_gt())
        {
            self.max = Some(v);
        }
    }

    fn extreme(&mut self, value: ArrayRef, read: &Read) {
        let mut rows = vec![Vec::new()];
        encode_column_with(&value, read.text_as, read.int_as_bool, &[], &mut rows);
        self.consider(rows.remove(0));
    }

    fn add_float(&mut self, f: f64) {
        self.sum = match std::mem::take(&mut self.sum) {
            Sum::Float(x) => Sum::Float(x + f),
            _ => Sum::Float(f),
        };
    }

    /// Adds one chunk of a column (as read, before normalisation).
    pub fn update(&mut self, array: &ArrayRef, read: &Read) {
        // Large strings compared as text: min and max read in place (no copy to 32-bit offsets).
        if array.data_type() == &arrow::datatypes::DataType::LargeUtf8
            && !matches!(
                read.text_as,
                TextAs::Decimal | TextAs::Float(_) | TextAs::Bool
            )
        {
            let a = array.as_string::<i64>();
            self.nulls += a.null_count() as u64;
            self.count += (a.len() - a.null_count()) as u64;
            for v in [arrow::compute::min_string(a), arrow::compute::max_string(a)]
                .into_iter()
                .flatten()
            {
                self.extreme(std::sync::Arc::new(StringArray::from(vec![v])), read);
            }
            return;
        }
        let (kind, arr) = normalize(array);
        self.nulls += arr.null_count() as u64;
        self.count += (arr.len() - arr.null_count()) as u64;
        if arr.len() == arr.null_count() {
            return;
        }
        macro_rules! prim {
            ($t:ty) => {{
                let a = arr.as_primitive::<$t>();
                if let (Some(lo), Some(hi)) = (arrow::compute::min(a), arrow::compute::max(a)) {
                    self.extreme(one::<$t>(lo, &arr), read);
                    self.extreme(one::<$t>(hi, &arr), read);
                }
            }};
        }
        match &kind {
            Kind::Int => {
                let a = arr.as_primitive::<Int64Type>();
                let s: i128 = a.iter().flatten().map(i128::from).sum();
                add_exact(&mut self.sum, s, 0);
                if let (Some(lo), Some(hi)) = (arrow::compute::min(a), arrow::compute::max(a)) {
                    self.extreme(std::sync::Arc::new(Int64Array::from(vec![lo])), read);
                    self.extreme(std::sync::Arc::new(Int64Array::from(vec![hi])), read);
                }
            }
            Kind::Decimal { precision, scale } => {
                let a = arr.as_primitive::<Decimal128Type>();
                let mut s: Option<i128> = Some(0);
                for v in a.iter().flatten() {
                    s = s.and_then(|x| x.checked_add(v));
                }
                match s {
                    Some(v) if *scale >= 0 => add_exact(&mut self.sum, v, *scale as u32),
                    _ => self.sum = Sum::Overflow,
                }
                if let (Some(lo), Some(hi)) = (arrow::compute::min(a), arrow::compute::max(a)) {
                    for v in [lo, hi] {
                        let d = Decimal128Array::from(vec![v])
                            .with_precision_and_scale(*precision, *scale)
                            .map(|d| std::sync::Arc::new(d) as ArrayRef);
                        if let Ok(d) = d {
                            self.extreme(d, read);
                        }
                    }
                }
            }
            Kind::Float => {
                let a = arr.as_primitive::<Float64Type>();
                self.add_float(a.iter().flatten().sum());
                let finite = a.iter().flatten().filter(|v| !v.is_nan());
                let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                    (l.min(v), h.max(v))
                });
                if lo <= hi {
                    self.extreme(std::sync::Arc::new(Float64Array::from(vec![lo])), read);
                    self.extreme(std::sync::Arc::new(Float64Array::from(vec![hi])), read);
                }
            }
            Kind::Bool => {
                let a = arr.as_boolean();
                let t = a.true_count() as i128;
                add_exact(&mut self.sum, t, 0);
                for v in [
                    arrow::compute::min_boolean(a),
                    arrow::compute::max_boolean(a),
                ]
                .into_iter()
                .flatten()
                {
                    self.extreme(std::sync::Arc::new(BooleanArray::from(vec![v])), read);
                }
            }
            Kind::Text => {
                let a = arr.as_string::<i32>();
                match read.text_as {
                    TextAs::Decimal => {
                        let (mut lo, mut hi): (Option<&str>, Option<&str>) = (None, None);
                        for v in a.iter().flatten().filter(|v| is_plain_decimal(v)) {
                            match decimal_units(v) {
                                Some((u, s)) => add_exact(&mut self.sum, u, s),
                                None => self.sum = Sum::Overflow,
                            }
                            if lo.is_none_or(|m| cmp_decimal_str(v, m).is_lt()) {
                                lo = Some(v);
                            }
                            if hi.is_none_or(|m| cmp_decimal_str(v, m).is_gt()) {
                                hi = Some(v);
                            }
                        }
                        for v in [lo, hi].into_iter().flatten() {
                            self.extreme(std::sync::Arc::new(StringArray::from(vec![v])), read);
                        }
                    }
                    TextAs::Float(_) | TextAs::Bool => {}
                    _ => {
                        for v in [arrow::compute::min_string(a), arrow::compute::max_string(a)]
                            .into_iter()
                            .flatten()
                        {
                            self.extreme(std::sync::Arc::new(StringArray::from(vec![v])), read);
                        }
                    }
                }
            }
            Kind::Date => {
                let a = arr.as_primitive::<Date32Type>();
                if let (Some(lo), Some(hi)) = (arrow::compute::min(a), arrow::compute::max(a)) {
                    self.extreme(std::sync::Arc::new(Date32Array::from(vec![lo])), read);
                    self.extreme(std::sync::Arc::new(Date32Array::from(vec![hi])), read);
                }
            }
            Kind::Timestamp { unit, .. } => match unit {
                TimeUnit::Second => prim!(TimestampSecondType),
                TimeUnit::Millisecond => prim!(TimestampMillisecondType),
                TimeUnit::Microsecond => prim!(TimestampMicrosecondType),
                TimeUnit::Nanosecond => prim!(TimestampNanosecondType),
            },
            Kind::Bytes | Kind::Time { .. } => {}
        }
    }

    /// Adds another accumulator (chunks processed apart).
    pub fn merge(&mut self, other: AggregateAcc) {
        self.count += other.count;
        self.nulls += other.nulls;
        match other.sum {
            Sum::None => {}
            Sum::Exact(u, s) => add_exact(&mut self.sum, u, s),
            Sum::Float(f) => self.add_float(f),
            Sum::Overflow => self.sum = Sum::Overflow,
        }
        for v in [other.min, other.max].into_iter().flatten() {
            self.consider(v);
        }
    }

    /// The aggregates as shown; min/max/sum hidden for sensitive columns.
    pub fn finish(&self, sensitive: bool) -> Aggregate {
        let sum = match &self.sum {
            Sum::None => None,
            Sum::Exact(u, s) => Some(number_string_of(*u, *s)),
            Sum::Float(f) => Some(format!("≈{f}")),
            Sum::Overflow => Some("(beyond 38 digits)".into()),
        };
        let hide = |v: Option<String>| {
            if sensitive {
                v.map(|_| "(sensitive)".to_string())
            } else {
                v
            }
        };
        Aggregate {
            count: self.count,
            nulls: self.nulls,
            sum: hide(sum),
            min: hide(self.min.as_deref().and_then(display)),
            max: hide(self.max.as_deref().and_then(display)),
        }
    }
}

/// An exact number (units of 10^-scale) as its shortest plain decimal string.
fn number_string_of(units: i128, scale: u32) -> String {
    let mut rows = vec![Vec::new()];
    let d = Decimal128Array::from(vec![units]).with_precision_and_scale(38, scale.min(38) as i8);
    match d {
        Ok(d) => {
            encode_column_with(
                &(std::sync::Arc::new(d) as ArrayRef),
                TextAs::Text,
                false,
                &[],
                &mut rows,
            );
            display(&rows[0]).unwrap_or_default()
        }
        Err(_) => units.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn read(t: TextAs) -> Read {
        Read {
            text_as: t,
            int_as_bool: false,
            as_instant: false,
            char_pad: false,
            float32: false,
        }
    }

    #[test]
    fn decimal_text_and_decimals_agree_exactly() {
        let mut a = AggregateAcc::default();
        a.update(
            &(Arc::new(StringArray::from(vec![
                Some("18.00000"),
                Some("0.10"),
                None,
            ])) as ArrayRef),
            &read(TextAs::Decimal),
        );
        let mut b = AggregateAcc::default();
        let d = Decimal128Array::from(vec![Some(1800), Some(10), None])
            .with_precision_and_scale(10, 2)
            .unwrap();
        b.update(&(Arc::new(d) as ArrayRef), &read(TextAs::Text));
        let (x, y) = (a.finish(false), b.finish(false));
        assert_eq!(x, y);
        assert_eq!(x.sum.as_deref(), Some("18.1"));
        assert_eq!(x.max.as_deref(), Some("18"));
        assert_eq!(x.nulls, 1);
        assert_eq!(a.finish(true).max.as_deref(), Some("(sensitive)"));
    }
}
