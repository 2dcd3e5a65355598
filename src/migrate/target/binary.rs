//! PostgreSQL's binary `COPY` format, for batches whose every column has an exact binary
//! encoding for its target column's type: the server then parses nothing (about a third less
//! of its time than text `COPY` on the standard table).
//!
//! A column pair is encoded only where the binary value is the one the text path would store:
//! - integers into `int2`/`int4`/`int8` (every value in range, checked first) and `numeric`;
//! - floats into `float8`, and 32-bit floats into `float4`;
//! - booleans into `bool`; bytes into `bytea`;
//! - text into `text`/`varchar`/`bpchar` (the server still applies the length and padding of
//!   the column's type), and decimals and decimal text (`-12.30`, digits only) into `numeric`,
//!   whose scale the server applies as it does to text;
//! - dates into `date` and timestamps into `timestamp` (no zone) or `timestamptz` (with one).
//!
//! Any other pair (a domain, an enum, uuid, json, text into a date column, a decimal in
//! exponent form…) makes the whole batch go as text, where the server's input functions decide.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast, max, min};
use arrow::datatypes::{
    DataType, Date32Type, Float32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const PG_EPOCH_US: i64 = 946_684_800_000_000;
/// PostgreSQL's dates: Julian day 0 (4714-11-24 BC) to 5874897-12-31, as days from 1970.
const DATE_MIN: i32 = -2_440_588;
const DATE_MAX: i32 = 2_145_031_948;

/// How one column is written.
enum Col {
    Int(ArrayRef, u8),
    IntNumeric(ArrayRef),
    F8(ArrayRef),
    F4(ArrayRef),
    Bool(ArrayRef),
    Bytes(ArrayRef),
    Text(ArrayRef),
    DecimalText(ArrayRef),
    Date(ArrayRef),
    Ts(ArrayRef),
}

/// A batch ready to be written in binary form.
pub(super) struct Binary {
    cols: Vec<Col>,
}

/// The binary encoding of `batch` into columns of these PostgreSQL types (`typname` per
/// column, in the batch's order; `None`: a type that is not a base type), or `None` when a
/// column has none (the batch goes as text).
pub(super) fn plan(batch: &RecordBatch, types: &[Option<String>]) -> Option<Binary> {
    if types.len() != batch.num_columns() {
        return None;
    }
    let mut cols = Vec::with_capacity(types.len());
    for (a, t) in batch.columns().iter().zip(types) {
        cols.push(column(a, t.as_deref()?)?);
    }
    Some(Binary { cols })
}

fn column(a: &ArrayRef, t: &str) -> Option<Col> {
    let to = |dt: &DataType| cast(a, dt).ok();
    let int_width = match t {
        "int2" => Some(2u8),
        "int4" => Some(4),
        "int8" => Some(8),
        _ => None,
    };
    Some(match a.data_type() {
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32 => {
            let v = to(&DataType::Int64)?;
            match (int_width, t) {
                (Some(w), _) => {
                    let p = v.as_primitive::<Int64Type>();
                    let (lo, hi) = match w {
                        2 => (i16::MIN as i64, i16::MAX as i64),
                        4 => (i32::MIN as i64, i32::MAX as i64),
                        _ => (i64::MIN, i64::MAX),
                    };
                    if min(p).is_some_and(|m| m < lo) || max(p).is_some_and(|m| m > hi) {
                        return None;
                    }
                    Col::Int(v, w)
                }
                (None, "numeric") => Col::IntNumeric(v),
                _ => return None,
            }
        }
        DataType::Float64 | DataType::Float32 | DataType::Float16 if t == "float8" => {
            Col::F8(to(&DataType::Float64)?)
        }
        DataType::Float32 if t == "float4" => Col::F4(a.clone()),
        DataType::Boolean if t == "bool" => Col::Bool(a.clone()),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView if t == "bytea" => {
            Col::Bytes(to(&DataType::Binary)?)
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let s = to(&DataType::Utf8)?;
            match t {
                "text" | "varchar" | "bpchar" => Col::Text(s),
                "numeric" => {
                    let all = s.as_string::<i32>();
                    if !all.iter().flatten().all(|v| decimal_parts(v).is_some()) {
                        return None;
                    }
                    Col::DecimalText(s)
                }
                _ => return None,
            }
        }
        DataType::Decimal128(..) | DataType::Decimal256(..) if t == "numeric" => {
            let s = to(&DataType::Utf8)?;
            let all = s.as_string::<i32>();
            if !all.iter().flatten().all(|v| decimal_parts(v).is_some()) {
                return None;
            }
            Col::DecimalText(s)
        }
        DataType::Date32 | DataType::Date64 if t == "date" => {
            let d = to(&DataType::Date32)?;
            let p = d.as_primitive::<Date32Type>();
            if min(p).is_some_and(|m| m < DATE_MIN) || max(p).is_some_and(|m| m > DATE_MAX) {
                return None;
            }
            Col::Date(d)
        }
        DataType::Timestamp(_, tz)
            if (t == "timestamptz" && tz.is_some()) || (t == "timestamp" && tz.is_none()) =>
        {
            let v = to(&DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))?;
            // A cast that overflowed gives NULL: the batch goes as text then.
            if v.null_count() != a.null_count() {
                return None;
            }
            let p = v.as_primitive::<TimestampMicrosecondType>();
            if min(p).is_some_and(|m| m.checked_sub(PG_EPOCH_US).is_none()) {
                return None;
            }
            Col::Ts(v)
        }
        _ => return None,
    })
}

impl Binary {
    /// The format's header.
    pub(super) fn header(out: &mut Vec<u8>) {
        out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
    }

    /// The format's trailer.
    pub(super) fn trailer(out: &mut Vec<u8>) {
        out.extend_from_slice(&(-1i16).to_be_bytes());
    }

    /// Row `r`.
    pub(super) fn row(&self, r: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.cols.len() as i16).to_be_bytes());
        for c in &self.cols {
            let a = match c {
                Col::Int(a, _)
                | Col::IntNumeric(a)
                | Col::F8(a)
                | Col::F4(a)
                | Col::Bool(a)
                | Col::Bytes(a)
                | Col::Text(a)
                | Col::DecimalText(a)
                | Col::Date(a)
                | Col::Ts(a) => a,
            };
            if a.is_null(r) {
                out.extend_from_slice(&(-1i32).to_be_bytes());
                continue;
            }
            match c {
                Col::Int(a, w) => {
                    let v = a.as_primitive::<Int64Type>().value(r);
                    out.extend_from_slice(&(*w as i32).to_be_bytes());
                    match w {
                        2 => out.extend_from_slice(&(v as i16).to_be_bytes()),
                        4 => out.extend_from_slice(&(v as i32).to_be_bytes()),
                        _ => out.extend_from_slice(&v.to_be_bytes()),
                    }
                }
                Col::IntNumeric(a) => {
                    let v = a.as_primitive::<Int64Type>().value(r).to_string();
                    let (neg, int, frac) = decimal_parts(&v).expect("integer text");
                    numeric(neg, int, frac, out);
                }
                Col::F8(a) => {
                    out.extend_from_slice(&8i32.to_be_bytes());
                    let v = a.as_primitive::<Float64Type>().value(r);
                    out.extend_from_slice(&v.to_bits().to_be_bytes());
                }
                Col::F4(a) => {
                    out.extend_from_slice(&4i32.to_be_bytes());
                    let v = a.as_primitive::<Float32Type>().value(r);
                    out.extend_from_slice(&v.to_bits().to_be_bytes());
                }
                Col::Bool(a) => {
                    out.extend_from_slice(&1i32.to_be_bytes());
                    out.push(a.as_boolean().value(r) as u8);
                }
                Col::Bytes(a) => bytes(a.as_binary::<i32>().value(r), out),
                Col::Text(a) => bytes(a.as_string::<i32>().value(r).as_bytes(), out),
                Col::DecimalText(a) => {
                    let v = a.as_string::<i32>().value(r);
                    let (neg, int, frac) = decimal_parts(v).expect("checked by plan");
                    numeric(neg, int, frac, out);
                }
                Col::Date(a) => {
                    let d = a.as_primitive::<Date32Type>().value(r);
                    out.extend_from_slice(&4i32.to_be_bytes());
                    out.extend_from_slice(&(d - PG_EPOCH_DAYS).to_be_bytes());
                }
                Col::Ts(a) => {
                    let us = a.as_primitive::<TimestampMicrosecondType>().value(r);
                    out.extend_from_slice(&8i32.to_be_bytes());
                    out.extend_from_slice(&(us - PG_EPOCH_US).to_be_bytes());
                }
            }
        }
    }
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(b.len() as i32).to_be_bytes());
    out.extend_from_slice(b);
}

/// A decimal's sign, integer digits and fraction digits: `-?[0-9]+(\.[0-9]+)?`, and nothing
/// else (no exponent, no spaces, no NaN).
fn decimal_parts(v: &str) -> Option<(bool, &str, &str)> {
    let (neg, rest) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let (int, frac) = match rest.split_once('.') {
        Some((i, f)) => (i, f),
        None => (rest, ""),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let ok = !int.is_empty()
        && digits(int)
        && digits(frac)
        && (!frac.is_empty() || !rest.contains('.'))
        && frac.len() <= i16::MAX as usize
        && int.len() <= 4 * (i16::MAX as usize);
    ok.then_some((neg, int, frac))
}

/// A `numeric` in PostgreSQL's binary form: base-10000 digits, the weight of the first, the
/// sign and the display scale (the fraction's digits, as the text had them).
fn numeric(neg: bool, int: &str, frac: &str, out: &mut Vec<u8>) {
    let int = int.trim_start_matches('0');
    // Base-10000 groups, the integer part aligned on the decimal point from the right, the
    // fraction from the left.
    let mut groups: Vec<i16> = Vec::with_capacity(int.len() / 4 + frac.len() / 4 + 2);
    let lead = int.len() % 4;
    let group = |s: &str| s.bytes().fold(0i16, |n, b| n * 10 + (b - b'0') as i16);
    if lead > 0 {
        groups.push(group(&int[..lead]));
    }
    for i in (lead..int.len()).step_by(4) {
        groups.push(group(&int[i..i + 4]));
    }
    let int_groups = groups.len() as i32;
    for i in (0..frac.len()).step_by(4) {
        let end = (i + 4).min(frac.len());
        let mut g = group(&frac[i..end]);
        for _ in end - i..4 {
            g *= 10;
        }
        groups.push(g);
    }
    let mut weight = int_groups - 1;
    // Leading zero groups (a value below 1) move the weight down; trailing ones go.
    let first = groups.iter().position(|&g| g != 0);
    let digits: &[i16] = match first {
        None => &[],
        Some(f) => {
            weight -= f as i32;
            let last = groups
                .iter()
                .rposition(|&g| g != 0)
                .expect("one is non-zero");
            &groups[f..=last]
        }
    };
    let (weight, sign) = if digits.is_empty() {
        (0, 0u16)
    } else if neg {
        (weight, 0x4000u16)
    } else {
        (weight, 0u16)
    };
    let len = 8 + 2 * digits.len();
    out.extend_from_slice(&(len as i32).to_be_bytes());
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&(weight as i16).to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&(frac.len() as i16).to_be_bytes());
    for d in digits {
        out.extend_from_slice(&d.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (ndigits, weight, sign, dscale, digits) of a decimal text.
    fn fields(v: &str) -> (i16, i16, u16, i16, Vec<i16>) {
        let (neg, i, f) = decimal_parts(v).unwrap();
        let mut out = Vec::new();
        numeric(neg, i, f, &mut out);
        let n = |k: usize| i16::from_be_bytes([out[k], out[k + 1]]);
        let len = i32::from_be_bytes([out[0], out[1], out[2], out[3]]) as usize;
        assert_eq!(len, out.len() - 4);
        let nd = n(4);
        let digits = (0..nd as usize).map(|d| n(12 + 2 * d)).collect();
        (nd, n(6), n(8) as u16, n(10), digits)
    }

    #[test]
    fn numerics_take_postgresql_binary_form() {
        assert_eq!(fields("0"), (0, 0, 0, 0, vec![]));
        assert_eq!(fields("-0.00"), (0, 0, 0, 2, vec![]));
        assert_eq!(fields("1"), (1, 0, 0, 0, vec![1]));
        assert_eq!(fields("10000"), (1, 1, 0, 0, vec![1]));
        assert_eq!(fields("12345.678"), (3, 1, 0, 3, vec![1, 2345, 6780]));
        assert_eq!(fields("-0.0001"), (1, -1, 0x4000, 4, vec![1]));
        assert_eq!(fields("0.00001"), (1, -2, 0, 5, vec![1000]));
        assert_eq!(fields("9999.9999"), (2, 0, 0, 4, vec![9999, 9999]));
        assert_eq!(fields("100000000.5"), (4, 2, 0, 1, vec![1, 0, 0, 5000]));
        assert_eq!(fields("007.10"), (2, 0, 0, 2, vec![7, 1000]));
    }

    #[test]
    fn only_plain_decimals_are_encoded() {
        for v in [
            "1e5", "NaN", " 1", "1.", ".5", "+1", "1.2.3", "", "-", "Infinity",
        ] {
            assert!(decimal_parts(v).is_none(), "{v}");
        }
        assert_eq!(decimal_parts("-1.50"), Some((true, "1", "50")));
    }

    #[test]
    fn a_batch_of_every_encodable_pair_goes_binary() {
        use arrow::array::*;
        use std::sync::Arc;
        let cols: Vec<(ArrayRef, &str)> = vec![
            (Arc::new(Int64Array::from(vec![Some(1), None])), "int8"),
            (Arc::new(Int32Array::from(vec![1, 2])), "int4"),
            (Arc::new(Int16Array::from(vec![1, 2])), "int2"),
            (Arc::new(Int64Array::from(vec![1, 2])), "numeric"),
            (Arc::new(Float64Array::from(vec![0.1, f64::NAN])), "float8"),
            (Arc::new(Float32Array::from(vec![0.1, 2.0])), "float4"),
            (Arc::new(BooleanArray::from(vec![true, false])), "bool"),
            (Arc::new(BinaryArray::from(vec![&b"\0"[..], b""])), "bytea"),
            (Arc::new(StringArray::from(vec!["a", "b"])), "text"),
            (Arc::new(StringArray::from(vec!["a", "b"])), "varchar"),
            (Arc::new(StringArray::from(vec!["a", "b"])), "bpchar"),
            (
                Arc::new(StringArray::from(vec![Some("-1.50"), None])),
                "numeric",
            ),
            (
                Arc::new(
                    Decimal128Array::from(vec![-15_000, 1])
                        .with_precision_and_scale(18, 4)
                        .unwrap(),
                ),
                "numeric",
            ),
            (Arc::new(Date32Array::from(vec![0, -719_528])), "date"),
            (
                Arc::new(TimestampMicrosecondArray::from(vec![0, 1])),
                "timestamp",
            ),
            (
                Arc::new(TimestampMicrosecondArray::from(vec![0, 1]).with_timezone("UTC")),
                "timestamptz",
            ),
        ];
        let fields: Vec<arrow::datatypes::Field> = cols
            .iter()
            .enumerate()
            .map(|(i, (a, _))| {
                arrow::datatypes::Field::new(format!("c{i}"), a.data_type().clone(), true)
            })
            .collect();
        let batch = RecordBatch::try_new(
            Arc::new(arrow::datatypes::Schema::new(fields)),
            cols.iter().map(|(a, _)| a.clone()).collect(),
        )
        .unwrap();
        let types: Vec<Option<String>> = cols.iter().map(|(_, t)| Some(t.to_string())).collect();
        let b = plan(&batch, &types).expect("every pair has a binary form");
        let mut out = Vec::new();
        b.row(1, &mut out);
        // 16 fields; the first is NULL (-1).
        assert_eq!(&out[..6], &[0, 16, 0xff, 0xff, 0xff, 0xff]);
        // One type that is not a base type, or unknown, sends the batch as text.
        let mut t2 = types.clone();
        t2[3] = None;
        assert!(plan(&batch, &t2).is_none());
        let mut t3 = types;
        t3[13] = Some("timestamptz".into());
        assert!(plan(&batch, &t3).is_none());
    }

    #[test]
    fn dates_and_timestamps_count_from_2000() {
        use arrow::array::*;
        use std::sync::Arc;
        let d: ArrayRef = Arc::new(Date32Array::from(vec![10_957, 10_956]));
        let t: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![PG_EPOCH_US + 1]));
        let batch = RecordBatch::try_from_iter(vec![("d", d)]).unwrap();
        let b = plan(&batch, &[Some("date".into())]).unwrap();
        let mut out = Vec::new();
        b.row(0, &mut out);
        b.row(1, &mut out);
        assert_eq!(&out[2..10], &[0, 0, 0, 4, 0, 0, 0, 0]);
        assert_eq!(&out[12..20], &[0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff]);
        let batch = RecordBatch::try_from_iter(vec![("t", t)]).unwrap();
        let b = plan(&batch, &[Some("timestamp".into())]).unwrap();
        let mut out = Vec::new();
        b.row(0, &mut out);
        assert_eq!(&out[2..], &[0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn integers_out_of_a_column_range_go_as_text() {
        let a: ArrayRef = std::sync::Arc::new(arrow::array::Int64Array::from(vec![1, 32768]));
        assert!(column(&a, "int2").is_none());
        assert!(column(&a, "int4").is_some());
        let a: ArrayRef = std::sync::Arc::new(arrow::array::Int64Array::from(vec![-32768, 32767]));
        assert!(column(&a, "int2").is_some());
        let a: ArrayRef =
            std::sync::Arc::new(arrow::array::Int64Array::from(vec![i32::MAX as i64 + 1]));
        assert!(column(&a, "int4").is_none());
        // Text into a date column, or a float into float4, is the server's to parse.
        let t: ArrayRef = std::sync::Arc::new(arrow::array::StringArray::from(vec!["2024-01-01"]));
        assert!(column(&t, "date").is_none());
        let f: ArrayRef = std::sync::Arc::new(arrow::array::Float64Array::from(vec![0.1]));
        assert!(column(&f, "float4").is_none());
    }
}
