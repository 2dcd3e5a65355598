//! Column aggregates of each side (count, NULLs, exact sum, min, max), computed while the rows
//! stream by: the cheap second opinion a sign-off shows beside the row diff.
//!
//! Sums are exact for integers and decimals (i128, decimal text included; `None` past 38
//! digits, never a rounded float); for floats, the float nearest their exact sum, marked `≈`
//! (the same whatever the order or chunking of the values). Min and max are kept as
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

use super::floatsum::FloatSum;
use super::plan::Read;
use crate::value::canonical::{
    datetime_parts, decimal_units, display, encode_column_with, number_string, rescale, split, tag,
    TextAs,
};
use crate::value::kind::{cmp_decimal_str, is_plain_decimal, normalize, Kind};

/// One side's aggregates of one column, as shown.
#[derive(
    Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
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

#[derive(Debug, Clone, Default, PartialEq)]
enum Sum {
    #[default]
    None,
    Exact(i128, u32),
    Float(FloatSum),
    Overflow,
}

/// An [`AggregateAcc`] as written down between runs (`reckon diff --shard` for `reckon merge`):
/// every part exact, so that the shards' accumulators add up to the whole run's. Floats are kept
/// by their bits and canonical values in hex, since JSON holds neither exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct AccState {
    count: u64,
    nulls: u64,
    /// `none`, `exact:UNITS:SCALE`, `float:SPECIAL_BITS:PARTIAL_BITS,…` or `overflow`.
    sum: String,
    min: Option<String>,
    max: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    unknown_extremes: bool,
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn from_hex(t: &str) -> Option<Vec<u8>> {
    if !t.len().is_multiple_of(2) {
        return None;
    }
    (0..t.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(t.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Accumulates one side's aggregates of one column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AggregateAcc {
    count: u64,
    nulls: u64,
    sum: Sum,
    min: Option<Vec<u8>>,
    max: Option<Vec<u8>>,
    /// The extremes cannot be known (a database gave extremes that do not decide them): none
    /// is shown, whatever else is merged in.
    unknown_extremes: bool,
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
        if split(&v).0 == tag::NULL || self.unknown_extremes {
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

    /// Weighs every value of a chunk as it encodes (columns whose values encode under more
    /// than one tag, where the extremes of the raw values are not those of the encoded ones).
    fn consider_each(&mut self, array: &ArrayRef, read: &Read) {
        let mut rows = vec![Vec::new(); array.len()];
        encode_column_with(array, read.text_as, read.int_as_bool, &[], &mut rows);
        for r in rows {
            self.consider(r);
        }
    }

    fn add_floats(&mut self, f: &FloatSum) {
        self.sum = match std::mem::take(&mut self.sum) {
            Sum::Float(mut x) => {
                x.merge(f);
                Sum::Float(x)
            }
            _ => Sum::Float(f.clone()),
        };
    }

    /// Adds one chunk of a column (as read, before normalisation).
    pub fn update(&mut self, array: &ArrayRef, read: &Read) {
        // Large strings compared as text: min and max read in place (no copy to 32-bit offsets).
        if array.data_type() == &arrow::datatypes::DataType::LargeUtf8
            && read.text_as == TextAs::Text
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
                if read.int_as_bool {
                    // 0 and 1 are booleans, other integers numbers: the extremes in canonical
                    // order are among the numbers' extremes and whichever booleans occur, never
                    // only the integers' extremes (a chunk of 0, 1, 2 has the maximum `true` or
                    // 2, whatever its numeric maximum).
                    let (mut lo, mut hi, mut bools) = (None::<i64>, None::<i64>, [false; 2]);
                    for v in a.iter().flatten() {
                        match v {
                            0 | 1 => bools[v as usize] = true,
                            _ => {
                                lo = Some(lo.map_or(v, |l| l.min(v)));
                                hi = Some(hi.map_or(v, |h| h.max(v)));
                            }
                        }
                    }
                    let present = [bools[0].then_some(0), bools[1].then_some(1)];
                    for v in [lo, hi].into_iter().chain(present).flatten() {
                        self.extreme(std::sync::Arc::new(Int64Array::from(vec![v])), read);
                    }
                } else if matches!(read.text_as, TextAs::Float(_)) {
                    // Facing a float, an integer the float holds is that float, others stay
                    // numbers: every value is weighed as it encodes.
                    self.consider_each(&arr, read);
                } else if let (Some(lo), Some(hi)) =
                    (arrow::compute::min(a), arrow::compute::max(a))
                {
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
                let mut sum = FloatSum::default();
                sum.add_all(a.iter().flatten());
                self.add_floats(&sum);
                let finite = a.iter().flatten().filter(|v| !v.is_nan());
                let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
                    (l.min(v), h.max(v))
                });
                if read.text_as == TextAs::Decimal {
                    // Facing a decimal, finite floats are numbers and the infinities floats:
                    // every value is weighed as it encodes.
                    self.consider_each(&arr, read);
                } else if lo <= hi {
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
                    TextAs::Date
                    | TextAs::Timestamp
                    | TextAs::Instant
                    | TextAs::Time
                    | TextAs::Uuid => {
                        // Read as dates, instants, times or UUIDs, texts order by what they
                        // read as (and those that do not read stay text): their byte order is
                        // not that order, so every value is encoded and weighed.
                        self.consider_each(&arr, read);
                    }
                    TextAs::Text => {
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

    /// An accumulator of counts computed elsewhere (a database, under `--pushdown`).
    pub fn counted(count: u64, nulls: u64) -> AggregateAcc {
        AggregateAcc {
            count,
            nulls,
            ..AggregateAcc::default()
        }
    }

    /// Adds a sum, minimum and maximum a database computed over some of the rows (their text
    /// as it prints them), read as the streamed column would read its values: `kind` is `int`
    /// (integers), `dec` (exact decimals as text), `text`, `bool` (sum: the `true` count;
    /// `t`/`f` or `true`/`false`) or `date` (`YYYY-MM-DD`). A value that does not read so is
    /// left out, and the sum becomes unknown.
    pub fn add_sql(
        &mut self,
        kind: &str,
        sum: Option<&str>,
        min: Option<&str>,
        max: Option<&str>,
        read: &Read,
    ) {
        match (kind, sum) {
            ("int" | "bool", Some(s)) => match s.trim().parse::<i128>() {
                Ok(v) => add_exact(&mut self.sum, v, 0),
                Err(_) => self.sum = Sum::Overflow,
            },
            ("dec", Some(s)) => match decimal_units(s.trim()) {
                Some((u, sc)) => add_exact(&mut self.sum, u, sc),
                None => self.sum = Sum::Overflow,
            },
            _ => {}
        }
        // Integers facing a boolean (0 and 1 are booleans, others numbers): a database's numeric
        // extremes decide the canonical ones only when both are booleans.
        if kind == "int" && read.int_as_bool {
            let bit = |v: Option<&str>| v.is_some_and(|v| matches!(v.trim(), "0" | "1"));
            if (min.is_some() || max.is_some()) && !(bit(min) && bit(max)) {
                self.forget_extremes();
                return;
            }
        }
        for v in [min, max].into_iter().flatten() {
            let array: Option<ArrayRef> = match kind {
                "int" => v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .map(|i| std::sync::Arc::new(Int64Array::from(vec![i])) as ArrayRef),
                "dec" | "text" => Some(std::sync::Arc::new(StringArray::from(vec![v]))),
                "bool" => match v {
                    "t" | "true" => Some(std::sync::Arc::new(BooleanArray::from(vec![true]))),
                    "f" | "false" => Some(std::sync::Arc::new(BooleanArray::from(vec![false]))),
                    _ => None,
                },
                "date" => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| {
                        let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
                        i32::try_from((d - epoch).num_days()).ok()
                    })
                    .map(|d| std::sync::Arc::new(Date32Array::from(vec![d])) as ArrayRef),
                _ => None,
            };
            if let Some(a) = array {
                self.extreme(a, read);
            }
        }
    }

    /// The accumulator as written down (see [`AccState`]).
    pub fn state(&self) -> AccState {
        self.state_shown(false)
    }

    /// As [`AggregateAcc::state`], for a column shown or not: a sensitive column's extremes are
    /// written as a placeholder (never shown, only whether there is one matters), and a text
    /// extreme holding a password is written with it scrubbed, as every output is.
    pub fn state_shown(&self, sensitive: bool) -> AccState {
        let written = |v: &Vec<u8>| -> String {
            let (t, payload) = split(v);
            let mut out = Vec::new();
            if sensitive {
                crate::value::canonical::push(&mut out, tag::TEXT, &[]);
                return to_hex(&out);
            }
            match std::str::from_utf8(payload) {
                Ok(text) if t == tag::TEXT && crate::error::scrub(text) != text => {
                    crate::value::canonical::push(
                        &mut out,
                        tag::TEXT,
                        crate::error::scrub(text).as_bytes(),
                    );
                    to_hex(&out)
                }
                _ => to_hex(v),
            }
        };
        let sum = match &self.sum {
            Sum::None => "none".to_string(),
            Sum::Exact(u, sc) => format!("exact:{u}:{sc}"),
            Sum::Float(f) => {
                let parts: Vec<String> = f
                    .partials
                    .iter()
                    .map(|p| format!("{:x}", p.to_bits()))
                    .collect();
                format!("float:{:x}:{}", f.special.to_bits(), parts.join(","))
            }
            Sum::Overflow => "overflow".to_string(),
        };
        AccState {
            count: self.count,
            nulls: self.nulls,
            sum,
            min: self.min.as_ref().map(written),
            max: self.max.as_ref().map(written),
            unknown_extremes: self.unknown_extremes,
        }
    }

    /// The accumulator written down by [`AggregateAcc::state`]; `None` when the text is not
    /// such a state.
    pub fn from_state(st: &AccState) -> Option<AggregateAcc> {
        let bits = |t: &str| u64::from_str_radix(t, 16).ok().map(f64::from_bits);
        let mut parts = st.sum.splitn(3, ':');
        let sum = match (parts.next()?, parts.next(), parts.next()) {
            ("none", None, None) => Sum::None,
            ("overflow", None, None) => Sum::Overflow,
            ("exact", Some(u), Some(sc)) => Sum::Exact(u.parse().ok()?, sc.parse().ok()?),
            ("float", Some(sp), Some(ps)) => Sum::Float(FloatSum {
                special: bits(sp)?,
                partials: ps
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(bits)
                    .collect::<Option<Vec<f64>>>()?,
            }),
            _ => return None,
        };
        let value = |v: &Option<String>| match v {
            None => Some(None),
            Some(h) => from_hex(h).map(Some),
        };
        Some(AggregateAcc {
            count: st.count,
            nulls: st.nulls,
            sum,
            min: value(&st.min)?,
            max: value(&st.max)?,
            unknown_extremes: st.unknown_extremes,
        })
    }

    /// Adds another accumulator (chunks processed apart).
    pub fn merge(&mut self, other: AggregateAcc) {
        self.count += other.count;
        self.nulls += other.nulls;
        match other.sum {
            Sum::None => {}
            Sum::Exact(u, s) => add_exact(&mut self.sum, u, s),
            Sum::Float(f) => self.add_floats(&f),
            Sum::Overflow => self.sum = Sum::Overflow,
        }
        if other.unknown_extremes {
            self.forget_extremes();
        }
        for v in [other.min, other.max].into_iter().flatten() {
            self.consider(v);
        }
    }

    fn forget_extremes(&mut self) {
        self.unknown_extremes = true;
        self.min = None;
        self.max = None;
    }

    /// The aggregates as shown; min/max/sum hidden for sensitive columns.
    pub fn finish(&self, sensitive: bool) -> Aggregate {
        let sum = match &self.sum {
            Sum::None => None,
            Sum::Exact(u, s) => Some(number_string_of(*u, *s)),
            Sum::Float(f) => Some(format!("≈{}", f.value())),
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
#[path = "aggregate_tests.rs"]
mod tests;
