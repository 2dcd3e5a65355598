//! The value kinds the profile engine works with, and how Arrow arrays are brought to them.
//!
//! Arrays are normalised once per chunk with Arrow's cast kernels, never per value: every integer
//! width → Int64 (UInt64 → Decimal128(20,0), so no value wraps), Float16/32 → Float64 (exact
//! widening), every string and dictionary-of-string type → Utf8, every binary type → Binary,
//! Date64 → Timestamp(ms), Time32 → Time64. Decimal128 keeps its precision and scale; Decimal256
//! and types the engine does not know are profiled as their text form.
//!
//! Each value has canonical bytes (little-endian integers, float bits, UTF-8 text), which key the
//! frequency map, and a 64-bit hash of those bytes seeded by the kind, which feeds distinct
//! counting, duplicate rows and relationship checks: int32 1 and int64 1 hash alike.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit};

/// The kind of a profiled column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Integers (any width), as i64.
    Int,
    /// Floats, as f64.
    Float,
    /// Exact decimals: i128 unscaled with this scale.
    Decimal {
        /// Declared precision.
        precision: u8,
        /// Declared scale.
        scale: i8,
    },
    /// Booleans.
    Bool,
    /// UTF-8 text.
    Text,
    /// Raw bytes.
    Bytes,
    /// Dates, as days since 1970-01-01.
    Date,
    /// Timestamps in a unit, with or without a time zone.
    Timestamp {
        /// The unit.
        unit: TimeUnit,
        /// The time zone, when the values are instants.
        tz: Option<Arc<str>>,
    },
    /// Times of day, as microseconds or nanoseconds.
    Time {
        /// The unit.
        unit: TimeUnit,
    },
}

impl Kind {
    /// A short name for reports (`int`, `decimal(10,2)`, `timestamp[us, UTC]`).
    pub fn name(&self) -> String {
        match self {
            Kind::Int => "int".into(),
            Kind::Float => "float".into(),
            Kind::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            Kind::Bool => "bool".into(),
            Kind::Text => "text".into(),
            Kind::Bytes => "bytes".into(),
            Kind::Date => "date".into(),
            Kind::Timestamp { unit, tz } => format!(
                "timestamp[{}{}]",
                unit_name(unit),
                tz.as_ref().map(|t| format!(", {t}")).unwrap_or_default()
            ),
            Kind::Time { unit } => format!("time[{}]", unit_name(unit)),
        }
    }

    /// The kind a [`Kind::name`] names (`None`: not a name it gives).
    pub fn from_name(name: &str) -> Option<Kind> {
        let unit = |u: &str| match u {
            "s" => Some(TimeUnit::Second),
            "ms" => Some(TimeUnit::Millisecond),
            "us" => Some(TimeUnit::Microsecond),
            "ns" => Some(TimeUnit::Nanosecond),
            _ => None,
        };
        let inner = |prefix: &str| {
            name.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(if prefix.ends_with('(') { ")" } else { "]" }))
        };
        Some(match name {
            "int" => Kind::Int,
            "float" => Kind::Float,
            "bool" => Kind::Bool,
            "text" => Kind::Text,
            "bytes" => Kind::Bytes,
            "date" => Kind::Date,
            _ => {
                if let Some(ps) = inner("decimal(") {
                    let (p, s) = ps.split_once(',')?;
                    Kind::Decimal {
                        precision: p.parse().ok()?,
                        scale: s.parse().ok()?,
                    }
                } else if let Some(r) = inner("timestamp[") {
                    let (u, tz) = match r.split_once(", ") {
                        Some((u, tz)) => (u, Some(Arc::from(tz))),
                        None => (r, None),
                    };
                    Kind::Timestamp { unit: unit(u)?, tz }
                } else {
                    Kind::Time {
                        unit: unit(inner("time[")?)?,
                    }
                }
            }
        })
    }

    /// Whether mean, deviation and quantiles make sense.
    pub fn is_numeric_or_temporal(&self) -> bool {
        !matches!(self, Kind::Bool | Kind::Text | Kind::Bytes)
    }

    /// The hash seed that keeps kinds apart.
    pub fn seed(&self) -> u64 {
        match self {
            Kind::Int => 1,
            Kind::Float => 2,
            Kind::Decimal { .. } => 3,
            Kind::Bool => 4,
            Kind::Text => 5,
            Kind::Bytes => 6,
            Kind::Date => 7,
            Kind::Timestamp { .. } => 8,
            Kind::Time { .. } => 9,
        }
    }
}

fn unit_name(u: &TimeUnit) -> &'static str {
    match u {
        TimeUnit::Second => "s",
        TimeUnit::Millisecond => "ms",
        TimeUnit::Microsecond => "us",
        TimeUnit::Nanosecond => "ns",
    }
}

/// Units per second.
pub fn per_second(u: &TimeUnit) -> i64 {
    match u {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// Brings an array to one of the engine's kinds.
pub fn normalize(array: &ArrayRef) -> (Kind, ArrayRef) {
    use DataType::*;
    let dt = array.data_type().clone();
    if let Union(..) = dt {
        return union_plain(array);
    }
    if let Dictionary(_, v) = &dt {
        if !matches!(v.as_ref(), Utf8 | LargeUtf8 | Utf8View) {
            if let Ok(plain) = cast(array, v) {
                return normalize(&plain);
            }
        }
    }
    let to = |t: DataType| cast(array, &t).ok();
    let (kind, target): (Kind, Option<DataType>) = match &dt {
        Int64 => (Kind::Int, None),
        Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32 => (Kind::Int, Some(Int64)),
        UInt64 => (
            Kind::Decimal {
                precision: 20,
                scale: 0,
            },
            Some(Decimal128(20, 0)),
        ),
        Float64 => (Kind::Float, None),
        Float16 | Float32 => (Kind::Float, Some(Float64)),
        Decimal32(p, s) | Decimal64(p, s) => (
            Kind::Decimal {
                precision: *p,
                scale: *s,
            },
            Some(Decimal128(*p, *s)),
        ),
        Decimal128(p, s) => (
            Kind::Decimal {
                precision: *p,
                scale: *s,
            },
            None,
        ),
        Boolean => (Kind::Bool, None),
        Utf8 => (Kind::Text, None),
        LargeUtf8 | Utf8View => (Kind::Text, Some(Utf8)),
        Dictionary(_, v) if matches!(v.as_ref(), Utf8 | LargeUtf8 | Utf8View) => {
            (Kind::Text, Some(Utf8))
        }
        Binary => (Kind::Bytes, None),
        LargeBinary | BinaryView | FixedSizeBinary(_) => (Kind::Bytes, Some(Binary)),
        Date32 => (Kind::Date, None),
        Date64 => (
            Kind::Timestamp {
                unit: TimeUnit::Millisecond,
                tz: None,
            },
            Some(Timestamp(TimeUnit::Millisecond, None)),
        ),
        Timestamp(u, tz) => (
            Kind::Timestamp {
                unit: *u,
                tz: tz.clone(),
            },
            None,
        ),
        Time64(u) => (Kind::Time { unit: *u }, None),
        Time32(_) => (
            Kind::Time {
                unit: TimeUnit::Microsecond,
            },
            Some(Time64(TimeUnit::Microsecond)),
        ),
        _ => (Kind::Text, Some(Utf8)),
    };
    match target {
        None => (kind, array.clone()),
        Some(t) => match to(t) {
            Some(a) => (kind, a),
            None => (Kind::Text, text_of(array)),
        },
    }
}

/// A column whose values each keep their own type (an SQLite column mixing storage classes, read
/// as a dense union of int, real, text and blob) brought to one kind for the statistics of a
/// profile: integers and reals alone as floats, any other mix as SQLite's own text form of each
/// value (integers in decimal, reals in shortest round-trip form, blobs as `x'…'`). The diff and
/// the checks never use this: the canonical encoding reads each value in its own type.
fn union_plain(array: &ArrayRef) -> (Kind, ArrayRef) {
    use arrow::array::{AsArray, Float64Builder, StringBuilder, UnionArray};
    let Some(u) = array.as_any().downcast_ref::<UnionArray>() else {
        return (Kind::Text, text_of(array));
    };
    let DataType::Union(fields, _) = u.data_type() else {
        return (Kind::Text, text_of(array));
    };
    let used = |t: &DataType| {
        (0..u.len()).any(|i| {
            let tid = u.type_id(i);
            fields.iter().any(|(id, f)| id == tid && f.data_type() == t)
                && u.child(tid).is_valid(u.value_offset(i))
        })
    };
    let numeric_only = !used(&DataType::Utf8) && !used(&DataType::Binary);
    let child = |i: usize| {
        let tid = u.type_id(i);
        (u.child(tid), u.value_offset(i))
    };
    if numeric_only {
        let mut b = Float64Builder::with_capacity(u.len());
        for i in 0..u.len() {
            let (c, o) = child(i);
            match c.data_type() {
                _ if c.is_null(o) => b.append_null(),
                DataType::Int64 => {
                    b.append_value(c.as_primitive::<arrow::datatypes::Int64Type>().value(o) as f64)
                }
                DataType::Float64 => {
                    b.append_value(c.as_primitive::<arrow::datatypes::Float64Type>().value(o))
                }
                _ => b.append_null(),
            }
        }
        return (Kind::Float, Arc::new(b.finish()));
    }
    let mut b = StringBuilder::new();
    for i in 0..u.len() {
        let (c, o) = child(i);
        match c.data_type() {
            _ if c.is_null(o) => b.append_null(),
            DataType::Int64 => b.append_value(
                c.as_primitive::<arrow::datatypes::Int64Type>()
                    .value(o)
                    .to_string(),
            ),
            DataType::Float64 => b.append_value(format!(
                "{:?}",
                c.as_primitive::<arrow::datatypes::Float64Type>().value(o)
            )),
            DataType::Utf8 => b.append_value(c.as_string::<i32>().value(o)),
            DataType::Binary => {
                let hex: String = c
                    .as_binary::<i32>()
                    .value(o)
                    .iter()
                    .map(|x| format!("{x:02X}"))
                    .collect();
                b.append_value(format!("x'{hex}'"));
            }
            _ => b.append_null(),
        }
    }
    (Kind::Text, Arc::new(b.finish()))
}

/// A batch with every union column (values of mixed types) replaced by its plain form
/// ([`normalize`]), for consumers that write or show values rather than compare them (the
/// migration writer, backups, key display).
pub fn plain_batch(batch: &arrow::array::RecordBatch) -> arrow::array::RecordBatch {
    if !batch
        .schema()
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Union(..)))
    {
        return batch.clone();
    }
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if matches!(f.data_type(), DataType::Union(..)) {
            let (_, plain) = normalize(c);
            fields.push(arrow::datatypes::Field::new(
                f.name(),
                plain.data_type().clone(),
                true,
            ));
            columns.push(plain);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
        }
    }
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    arrow::array::RecordBatch::try_new(schema, columns).unwrap_or_else(|_| batch.clone())
}

/// Any array as text, through Arrow's display formatter.
fn text_of(array: &ArrayRef) -> ArrayRef {
    use arrow::array::StringBuilder;
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let opts = FormatOptions::default();
    let mut b = StringBuilder::new();
    match ArrayFormatter::try_new(array.as_ref(), &opts) {
        Ok(f) => {
            for i in 0..array.len() {
                if array.is_null(i) {
                    b.append_null();
                } else {
                    b.append_value(f.value(i).to_string());
                }
            }
        }
        Err(_) => {
            for _ in 0..array.len() {
                b.append_null();
            }
        }
    }
    Arc::new(b.finish())
}

/// Shows a value from its canonical bytes.
pub fn display(kind: &Kind, bytes: &[u8]) -> String {
    let i64_of = |b: &[u8]| b.try_into().map(i64::from_le_bytes).unwrap_or(0);
    match kind {
        Kind::Int => i64_of(bytes).to_string(),
        Kind::Float => {
            let v = f64::from_bits(bytes.try_into().map(u64::from_le_bytes).unwrap_or(0));
            format!("{v:?}")
        }
        Kind::Decimal { scale, .. } => {
            let v = bytes.try_into().map(i128::from_le_bytes).unwrap_or(0);
            decimal_string(v, *scale)
        }
        Kind::Bool => if bytes.first() == Some(&1) {
            "true"
        } else {
            "false"
        }
        .into(),
        Kind::Text => String::from_utf8_lossy(bytes).into_owned(),
        Kind::Bytes => {
            let hex: String = bytes.iter().take(32).map(|b| format!("{b:02x}")).collect();
            format!("0x{hex}{}", if bytes.len() > 32 { "…" } else { "" })
        }
        Kind::Date => {
            let d = bytes
                .try_into()
                .map(i32::from_le_bytes)
                .map(i64::from)
                .unwrap_or_else(|_| i64_of(bytes));
            temporal_infinity(kind, d)
                .map(String::from)
                .unwrap_or_else(|| date_string(d))
        }
        Kind::Timestamp { unit, tz } => {
            let v = i64_of(bytes);
            temporal_infinity(kind, v)
                .map(String::from)
                .unwrap_or_else(|| timestamp_string(v, unit, tz.is_some()))
        }
        Kind::Time { unit } => {
            let v = i64_of(bytes);
            let ps = per_second(unit);
            let secs = v.div_euclid(ps);
            let frac = v.rem_euclid(ps);
            let width = ps.to_string().len() - 1;
            format!(
                "{:02}:{:02}:{:02}.{:0width$}",
                secs / 3600,
                (secs / 60) % 60,
                secs % 60,
                frac
            )
        }
    }
}

/// PostgreSQL `infinity`/`-infinity` dates and timestamps: connectorx reads them as chrono's
/// extreme values (`NaiveDate::MAX`, `DateTime::MAX_UTC`…), which no real row holds. Returns the
/// sign when `v` (days, or the timestamp's unit) is one of them.
pub fn temporal_infinity(kind: &Kind, v: i64) -> Option<&'static str> {
    let (max, min) = infinity_bounds(kind)?;
    if v == max {
        Some("infinity")
    } else if v == min {
        Some("-infinity")
    } else {
        None
    }
}

/// The values (max, min) that stand for ±infinity in a date or timestamp kind.
pub fn infinity_bounds(kind: &Kind) -> Option<(i64, i64)> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let (max, min) = match kind {
        Kind::Date => (
            chrono::NaiveDate::MAX
                .signed_duration_since(epoch)
                .num_days(),
            chrono::NaiveDate::MIN
                .signed_duration_since(epoch)
                .num_days(),
        ),
        Kind::Timestamp { unit, .. } => {
            let (hi, lo) = (
                chrono::NaiveDateTime::MAX.and_utc(),
                chrono::NaiveDateTime::MIN.and_utc(),
            );
            match unit {
                TimeUnit::Second => (hi.timestamp(), lo.timestamp()),
                TimeUnit::Millisecond => (hi.timestamp_millis(), lo.timestamp_millis()),
                TimeUnit::Microsecond => (hi.timestamp_micros(), lo.timestamp_micros()),
                TimeUnit::Nanosecond => return None,
            }
        }
        _ => return None,
    };
    Some((max, min))
}

/// An exact decimal string from an unscaled integer.
pub fn decimal_string(v: i128, scale: i8) -> String {
    if scale <= 0 {
        let mut s = v.to_string();
        for _ in 0..(-scale) {
            s.push('0');
        }
        return s;
    }
    let neg = v < 0;
    let digits = v.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

/// A date from days since the epoch.
pub fn date_string(days: i64) -> String {
    chrono::DateTime::from_timestamp(days.saturating_mul(86_400), 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("day {days}"))
}

/// A timestamp in its unit, with full precision.
pub fn timestamp_string(v: i64, unit: &TimeUnit, utc: bool) -> String {
    let ps = per_second(unit);
    let secs = v.div_euclid(ps);
    let frac = v.rem_euclid(ps) * (1_000_000_000 / ps);
    match chrono::DateTime::from_timestamp(secs, frac as u32) {
        Some(d) => {
            let digits = match unit {
                TimeUnit::Second => "%Y-%m-%d %H:%M:%S",
                TimeUnit::Millisecond => "%Y-%m-%d %H:%M:%S%.3f",
                TimeUnit::Microsecond => "%Y-%m-%d %H:%M:%S%.6f",
                TimeUnit::Nanosecond => "%Y-%m-%d %H:%M:%S%.9f",
            };
            format!("{}{}", d.format(digits), if utc { "Z" } else { "" })
        }
        None => format!("{v} {}", unit_name(unit)),
    }
}

/// Compares two plain decimal strings (`-12.50`, `3`) exactly, without going through floats.
pub fn cmp_decimal_str(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn parts(s: &str) -> (bool, &str, &str) {
        let (neg, s) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (i, f) = s.split_once('.').unwrap_or((s, ""));
        let i = i.trim_start_matches('0');
        let f = f.trim_end_matches('0');
        let zero = i.is_empty() && f.is_empty();
        (neg && !zero, i, f)
    }
    let (na, ia, fa) = parts(a);
    let (nb, ib, fb) = parts(b);
    let mag = || {
        ia.len()
            .cmp(&ib.len())
            .then_with(|| ia.cmp(ib))
            .then_with(|| fa.cmp(fb))
    };
    match (na, nb) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => mag(),
        (true, true) => mag().reverse(),
    }
}

/// Whether a text is a plain decimal number (`-12.50`, `7`, `.5` excluded).
pub fn is_plain_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let b = match b.first() {
        Some(b'-') | Some(b'+') => &b[1..],
        _ => b,
    };
    if b.is_empty() || b.len() > 60 {
        return false;
    }
    let mut dot = false;
    let mut digits_before = 0;
    let mut digits_after = 0;
    for &c in b {
        match c {
            b'0'..=b'9' if dot => digits_after += 1,
            b'0'..=b'9' => digits_before += 1,
            b'.' if !dot => dot = true,
            _ => return false,
        }
    }
    digits_before > 0 && (!dot || digits_after > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn kinds_are_read_back_from_their_names() {
        let kinds = [
            Kind::Int,
            Kind::Float,
            Kind::Bool,
            Kind::Text,
            Kind::Bytes,
            Kind::Date,
            Kind::Decimal {
                precision: 14,
                scale: -3,
            },
            Kind::Timestamp {
                unit: TimeUnit::Microsecond,
                tz: Some(Arc::from("UTC")),
            },
            Kind::Timestamp {
                unit: TimeUnit::Millisecond,
                tz: None,
            },
            Kind::Time {
                unit: TimeUnit::Nanosecond,
            },
        ];
        for k in kinds {
            assert_eq!(Kind::from_name(&k.name()), Some(k.clone()), "{}", k.name());
        }
        for bad in ["decimal(14)", "timestamp[h]", "time[us", "varchar", ""] {
            assert_eq!(Kind::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimal_strings_are_exact() {
        assert_eq!(
            decimal_string(1234567890123456789012345, 0),
            "1234567890123456789012345"
        );
        assert_eq!(decimal_string(-5, 2), "-0.05");
        assert_eq!(decimal_string(1800000, 5), "18.00000");
    }

    #[test]
    fn decimal_text_compares_exactly() {
        assert_eq!(
            cmp_decimal_str("1234567890123456789012345", "1234567890123456789012340"),
            Ordering::Greater
        );
        assert_eq!(cmp_decimal_str("-2.5", "-10"), Ordering::Greater);
        assert_eq!(cmp_decimal_str("18.00000", "18"), Ordering::Equal);
        assert_eq!(cmp_decimal_str("-0.0", "0"), Ordering::Equal);
        assert!(is_plain_decimal("-12.50") && !is_plain_decimal("1e5") && !is_plain_decimal("n/a"));
    }

    #[test]
    fn int_widths_normalise_to_one_kind() {
        let a: ArrayRef = Arc::new(arrow::array::Int32Array::from(vec![1, 2]));
        let (k, n) = normalize(&a);
        assert_eq!(k, Kind::Int);
        assert_eq!(n.data_type(), &DataType::Int64);
    }
}
