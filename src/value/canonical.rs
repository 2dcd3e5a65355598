//! Canonical encoding of values, and row hashes built on it.
//!
//! Two values are `match` exactly when their canonical encodings are equal; everything the diff
//! says rests on this, so the rules are strict (DESIGN.md "Canonical encoding and hashing"):
//! - every value is a tag byte, a 4-byte little-endian length, and the bytes: no separator can
//!   make `('ab','c')` equal `('a','bc')`, and NULL (tag only) differs from every value, the
//!   empty string included;
//! - exact numbers (integers of any width, decimals of any scale, PostgreSQL numeric read as
//!   text) are encoded by value: sign, significant digits without leading or trailing zeros,
//!   and a base-10 exponent. `int32 1 = int64 1 = decimal(10,2) 1.00`; never through f64;
//! - floats are their IEEE bits (after widening f32 → f64, which is exact): `-0.0 ≠ 0.0` and a NaN
//!   equals only the same NaN bits; rules (`signed-zero`, `nan-eq`) relax this in the classifier,
//!   never here;
//! - timestamps with a time zone are instants (seconds and nanoseconds since the epoch, UTC);
//!   timestamps without one are a different tag, so a dropped time zone never matches silently;
//!   the unit is not part of the value (`…02.020` in ms equals `…02.020000` in µs; a precision
//!   change is a schema finding), but any difference in the value is kept;
//! - text is its UTF-8 bytes, byte-exact (trim, case, NFC are opt-in rules); bytes are bytes;
//!   text that was not valid UTF-8 in the source keeps its raw bytes under its own tag, so two
//!   different invalid sequences (both shown as U+FFFD) never match;
//! - text read as a type ([`TextAs`]) only when the parse is exact ([`super::text`]); a value
//!   that does not parse stays text (and so differs): parsing never turns a value into NULL;
//! - booleans: `int_as_bool` makes integers 0/1 booleans on the side facing a boolean (both
//!   directions); any other integer stays a number;
//! - nested values (lists, large lists, fixed-size lists, maps, structs) element by element under
//!   [`tag::LIST`] / [`tag::STRUCT`], struct fields with their names; unions (SQLite columns
//!   mixing storage classes) value by value in their own child's type; dictionaries of any value
//!   type as their values; Decimal32/64/256 by value; Date64 of a whole day as that date.
//!
//! The equivalence table users read is README.md "Values"; it must say what this file does.
//!
//! Row hashes are xxh3-128 over the concatenated encodings of a row's values, in column order:
//! they depend on the values only, not on chunking, row order or threads.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float64Type, Int64Type, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use xxhash_rust::xxh3::xxh3_128;

use super::composite::encode_composite;
use super::kind::{normalize, per_second, Kind};
use super::text::{self, FloatWidth};

pub use super::payload::{
    cells, datetime_parts, decimal_units, display, number_string, rescale, split,
};

/// Tag bytes of the canonical encoding.
pub mod tag {
    /// SQL NULL.
    pub const NULL: u8 = 0;
    /// An exact number (integer or decimal), by value.
    pub const NUMBER: u8 = 1;
    /// A binary floating-point number, by bits.
    pub const FLOAT: u8 = 2;
    /// UTF-8 text.
    pub const TEXT: u8 = 3;
    /// Raw bytes.
    pub const BYTES: u8 = 4;
    /// A boolean.
    pub const BOOL: u8 = 5;
    /// A calendar date.
    pub const DATE: u8 = 6;
    /// An instant (timestamp with time zone).
    pub const INSTANT: u8 = 7;
    /// A local date-time (timestamp without time zone).
    pub const LOCAL_DATETIME: u8 = 8;
    /// A time of day.
    pub const TIME: u8 = 9;
    /// Text that was not valid UTF-8: its raw bytes.
    pub const INVALID_TEXT: u8 = 10;
    /// A list (or map entries): the elements' encodings, in order.
    pub const LIST: u8 = 11;
    /// A struct: each field's name (length-prefixed) and encoding, in order.
    pub const STRUCT: u8 = 12;
    /// A UUID: its 16 bytes.
    pub const UUID: u8 = 13;
}

/// How a text value is to be read: as text, or as the type its counterpart (or its own declared
/// type, when a reader had to deliver it as text) has. Every parse is strict ([`text`]): a text
/// that does not parse exactly stays text, and so differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextAs {
    /// Text compares byte-exact.
    Text,
    /// Exact decimal numbers (`-12.50`, `1e3`) by value, any number of digits; `NaN`, ` 42` stay
    /// text.
    Decimal,
    /// A float of this width: only the text of the float's shortest round trip (`0.3` = float32
    /// 0.3; `18014398509481985` ≠ float64 2^54). Untyped integers facing a float column are
    /// that float when it holds them exactly.
    Float(FloatWidth),
    /// Facing a boolean: `true`/`false`/`t`/`f` (any case) and `1`/`0` are booleans; other
    /// integers are numbers (`2` is not `true`).
    Bool,
    /// A strict `YYYY-MM-DD` date.
    Date,
    /// A strict ISO date-time: with an offset it is an instant, without one a local date-time
    /// (never silently assumed to be UTC).
    Timestamp,
    /// As `Timestamp`, but a local date-time is a UTC instant (MySQL `TIMESTAMP`, stored in UTC
    /// and read in a `+00:00` session).
    Instant,
    /// A time of day (`08:15:00.25`, any number of fractional digits up to 9; MySQL's ±838 h).
    Time,
    /// A UUID in any case (`A0EE…` = `a0ee…`).
    Uuid,
}

/// Appends one canonical value: its tag, the payload's length (u32 LE), the payload.
#[inline]
pub fn push(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.reserve(5 + bytes.len());
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// The canonical bytes of an exact number given as sign, digits and a base-10 exponent:
/// `[sign][exponent i32 LE][digits]` after stripping leading and trailing zeros. Zero has one form.
pub(super) fn number(out: &mut Vec<u8>, negative: bool, digits: &[u8], exponent: i32) {
    let d = text::Decimal::from_digits(negative, digits, i64::from(exponent));
    encode_decimal(out, &d);
}

/// The canonical bytes of a normalised decimal; false when its exponent does not fit.
fn encode_decimal(out: &mut Vec<u8>, d: &text::Decimal) -> bool {
    let Ok(exponent) = i32::try_from(d.exponent) else {
        return false;
    };
    let mut buf = Vec::with_capacity(d.digits.len() + 5);
    if d.digits.is_empty() {
        buf.push(0);
    } else {
        buf.push(if d.negative { 1 } else { 2 });
        buf.extend_from_slice(&exponent.to_le_bytes());
        buf.extend_from_slice(&d.digits);
    }
    push(out, tag::NUMBER, &buf);
    true
}

/// The texts of a string array (invalid UTF-8 values from `invalid`, by row, in any order).
fn text_rows<O: arrow::array::OffsetSizeTrait>(
    a: &arrow::array::GenericStringArray<O>,
    text_as: TextAs,
    invalid: &[(usize, &[u8])],
    rows: &mut [Vec<u8>],
) {
    let n = a.len().min(rows.len());
    // Walked in row order: callers may list them in any order (rows taken by hash order).
    let sorted: std::borrow::Cow<'_, [(usize, &[u8])]> =
        if invalid.windows(2).all(|w| w[0].0 <= w[1].0) {
            std::borrow::Cow::Borrowed(invalid)
        } else {
            let mut v = invalid.to_vec();
            v.sort_by_key(|(r, _)| *r);
            std::borrow::Cow::Owned(v)
        };
    let mut bad = sorted.iter().peekable();
    for (i, out) in rows.iter_mut().enumerate().take(n) {
        while bad.next_if(|(r, _)| *r < i).is_some() {}
        if let Some((_, raw)) = bad.next_if(|(r, _)| *r == i) {
            push(out, tag::INVALID_TEXT, raw);
        } else if a.is_null(i) {
            push(out, tag::NULL, &[]);
        } else {
            text_value(out, text_as, a.value(i));
        }
    }
}

/// An integer or unscaled decimal (`v` × 10^-scale), written straight into `out` without an
/// allocation: the same bytes as [`number`] on its digits, built on the stack and appended once.
fn unscaled(out: &mut Vec<u8>, v: i128, scale: i8) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut n = v.unsigned_abs();
    if n == 0 {
        push(out, tag::NUMBER, &[0]);
        return;
    }
    let mut trailing = 0i32;
    // [tag][len u32][sign][exponent i32][digits…], digits written from the end.
    let mut buf = [0u8; 50];
    let mut i = buf.len();
    if let Ok(mut m) = u64::try_from(n) {
        // Most values fit in 64 bits, where division is cheap.
        while m.is_multiple_of(10) {
            m /= 10;
            trailing += 1;
        }
        while m >= 100 {
            let d = (m % 100) as usize * 2;
            m /= 100;
            i -= 2;
            buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
        }
        if m >= 10 {
            let d = m as usize * 2;
            i -= 2;
            buf[i..i + 2].copy_from_slice(&PAIRS[d..d + 2]);
        } else {
            i -= 1;
            buf[i] = b'0' + m as u8;
        }
    } else {
        while n.is_multiple_of(10) {
            n /= 10;
            trailing += 1;
        }
        while n > 0 {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    }
    let digits = buf.len() - i;
    let exponent = trailing - i32::from(scale);
    let start = i - 10;
    buf[start] = tag::NUMBER;
    buf[start + 1..start + 5].copy_from_slice(&((digits + 5) as u32).to_le_bytes());
    buf[start + 5] = if v < 0 { 1 } else { 2 };
    buf[start + 6..start + 10].copy_from_slice(&exponent.to_le_bytes());
    out.extend_from_slice(&buf[start..]);
}

/// Encodes a decimal text spelt as a column prints it (`-12.50`, any number of digits; not
/// `007`, `+4` or `1e3`, see [`text::plain_number`]); false when it is not one.
fn decimal_text(out: &mut Vec<u8>, s: &str) -> bool {
    text::numeral(s).is_some_and(|d| encode_decimal(out, &d))
}

#[inline]
pub(super) fn instant(out: &mut Vec<u8>, tag: u8, v: i64, unit: &TimeUnit) {
    let ps = per_second(unit);
    let secs = v.div_euclid(ps);
    let nanos = v.rem_euclid(ps) * (1_000_000_000 / ps);
    let mut b = [0u8; 12];
    b[..8].copy_from_slice(&secs.to_le_bytes());
    b[8..].copy_from_slice(&(nanos as u32).to_le_bytes());
    push(out, tag, &b);
}

fn text_value(out: &mut Vec<u8>, text_as: TextAs, v: &str) {
    let done = match text_as {
        TextAs::Text => false,
        TextAs::Decimal => decimal_text(out, v),
        TextAs::Float(w) => match text::float(v, w) {
            Some(f) => {
                push(out, tag::FLOAT, &f.to_bits().to_le_bytes());
                true
            }
            None => false,
        },
        // Facing a boolean: the spellings of true and false, and 0/1; any other integer is a
        // number (a `tinyint(1)` 2 meets a `'2'`), never a boolean.
        TextAs::Bool => match text::boolean(v) {
            Some(b) => {
                push(out, tag::BOOL, &[u8::from(b)]);
                true
            }
            None => decimal_text(out, v),
        },
        TextAs::Date => match text::date(v) {
            Some(d) => {
                push(out, tag::DATE, &d.to_le_bytes());
                true
            }
            None => false,
        },
        TextAs::Timestamp | TextAs::Instant => match text::datetime(v) {
            Some(t) => {
                let tag = if t.instant || text_as == TextAs::Instant {
                    tag::INSTANT
                } else {
                    tag::LOCAL_DATETIME
                };
                let mut b = [0u8; 12];
                b[..8].copy_from_slice(&t.seconds.to_le_bytes());
                b[8..].copy_from_slice(&t.nanos.to_le_bytes());
                push(out, tag, &b);
                true
            }
            None => false,
        },
        TextAs::Time => match text::time_of_day(v) {
            Some(ns) => {
                push(out, tag::TIME, &ns.to_le_bytes());
                true
            }
            None => false,
        },
        TextAs::Uuid => match text::uuid(v) {
            Some(u) => {
                push(out, tag::UUID, &u);
                true
            }
            None => false,
        },
    };
    if !done {
        push(out, tag::TEXT, v.as_bytes());
    }
}

/// Appends the canonical encoding of every row of `array` to `rows[i]`.
pub fn encode_column(array: &ArrayRef, text_as: TextAs, rows: &mut [Vec<u8>]) {
    encode_column_with(array, text_as, false, &[], rows);
}

/// As [`encode_column`], with two read-side adjustments: `int_as_bool` encodes integers 0 and 1
/// as booleans (the counterpart is boolean; other integers stay numbers), and `invalid` holds the
/// raw bytes of values that were not valid UTF-8 (row, bytes; in any order), encoded as
/// [`tag::INVALID_TEXT`].
pub fn encode_column_with(
    array: &ArrayRef,
    text_as: TextAs,
    int_as_bool: bool,
    invalid: &[(usize, &[u8])],
    rows: &mut [Vec<u8>],
) {
    if encode_composite(array, text_as, int_as_bool, invalid, rows) {
        return;
    }
    // Large strings (polars writes them) are read in place: no copy into 32-bit offsets.
    if array.data_type() == &DataType::LargeUtf8 {
        text_rows(array.as_string::<i64>(), text_as, invalid, rows);
        return;
    }
    let float32 = matches!(array.data_type(), DataType::Float32 | DataType::Float16);
    let (kind, arr) = normalize(array);
    let n = arr.len().min(rows.len());
    macro_rules! each {
        ($a:expr, |$out:ident, $v:ident| $body:expr) => {{
            let a = $a;
            for (i, $out) in rows.iter_mut().enumerate().take(n) {
                if a.is_null(i) {
                    push($out, tag::NULL, &[]);
                } else {
                    let $v = a.value(i);
                    $body;
                }
            }
        }};
    }
    match &kind {
        Kind::Int => each!(arr.as_primitive::<Int64Type>(), |out, v| {
            match text_as {
                _ if int_as_bool && (v == 0 || v == 1) => push(out, tag::BOOL, &[v as u8]),
                // An untyped integer (SQLite) facing a float column: the same float when the
                // float holds it exactly, else a number (and so it differs).
                TextAs::Float(w) if int_fits_float(v, w) => {
                    push(out, tag::FLOAT, &(v as f64).to_bits().to_le_bytes())
                }
                _ => unscaled(out, i128::from(v), 0),
            }
        }),
        Kind::Decimal { scale, .. } => {
            each!(arr.as_primitive::<Decimal128Type>(), |out, v| unscaled(
                out, v, *scale
            ))
        }
        Kind::Float => each!(arr.as_primitive::<Float64Type>(), |out, v| {
            // A float facing an exact number (an SQLite REAL in a NUMERIC column, a double facing
            // a numeric): the decimal its shortest round-trip text names at its own width (1.5 is
            // 1.5, 0.1 is 0.1, float32 0.3 is 0.3), as a text facing a float is read; NaN and
            // the infinities stay floats.
            let as_decimal = text_as == TextAs::Decimal
                && v.is_finite()
                && decimal_text(
                    out,
                    &if float32 {
                        format!("{}", v as f32)
                    } else {
                        format!("{v}")
                    },
                );
            if !as_decimal {
                push(out, tag::FLOAT, &v.to_bits().to_le_bytes())
            }
        }),
        Kind::Bool => each!(arr.as_boolean(), |out, v| push(
            out,
            tag::BOOL,
            &[u8::from(v)]
        )),
        Kind::Text => text_rows(arr.as_string::<i32>(), text_as, invalid, rows),
        Kind::Bytes => each!(arr.as_binary::<i32>(), |out, v| push(out, tag::BYTES, v)),
        Kind::Date => each!(arr.as_primitive::<Date32Type>(), |out, v| push(
            out,
            tag::DATE,
            &v.to_le_bytes()
        )),
        Kind::Timestamp { unit, tz } => {
            let t = if tz.is_some() || text_as == TextAs::Instant {
                tag::INSTANT
            } else {
                tag::LOCAL_DATETIME
            };
            match unit {
                TimeUnit::Second => {
                    each!(arr.as_primitive::<TimestampSecondType>(), |out, v| instant(
                        out, t, v, unit
                    ))
                }
                TimeUnit::Millisecond => {
                    each!(arr.as_primitive::<TimestampMillisecondType>(), |out, v| {
                        instant(out, t, v, unit)
                    })
                }
                TimeUnit::Microsecond => {
                    each!(arr.as_primitive::<TimestampMicrosecondType>(), |out, v| {
                        instant(out, t, v, unit)
                    })
                }
                TimeUnit::Nanosecond => {
                    each!(arr.as_primitive::<TimestampNanosecondType>(), |out, v| {
                        instant(out, t, v, unit)
                    })
                }
            }
        }
        Kind::Time { .. } => {
            // Times of day as nanoseconds, whatever the unit.
            let nanos = arrow::compute::cast(&arr, &DataType::Time64(TimeUnit::Nanosecond))
                .unwrap_or(arr.clone());
            each!(nanos.as_primitive::<Time64NanosecondType>(), |out, v| push(
                out,
                tag::TIME,
                &v.to_le_bytes()
            ))
        }
    }
}

/// Whether a float of width `w` holds the integer exactly (compared in i128, so that i64::MAX,
/// which rounds up to 2^63, is not taken for it).
fn int_fits_float(v: i64, w: FloatWidth) -> bool {
    match w {
        FloatWidth::F64 => (v as f64) as i128 == i128::from(v),
        FloatWidth::F32 => (v as f32) as i128 == i128::from(v),
    }
}

/// The 128-bit hash of each row of a batch's columns (canonical encodings, in column order).
pub fn hash_rows(columns: &[(ArrayRef, TextAs)]) -> Vec<u128> {
    let n = columns.first().map_or(0, |(a, _)| a.len());
    let mut rows: Vec<Vec<u8>> = vec![Vec::new(); n];
    for (a, t) in columns {
        encode_column(a, *t, &mut rows);
    }
    rows.iter().map(|r| xxh3_128(r)).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray,
        TimestampMicrosecondArray, TimestampMillisecondArray,
    };

    use super::*;

    fn enc(a: ArrayRef, t: TextAs) -> Vec<Vec<u8>> {
        let mut rows = vec![Vec::new(); a.len()];
        encode_column(&a, t, &mut rows);
        rows
    }

    fn text(v: &[Option<&str>]) -> ArrayRef {
        Arc::new(StringArray::from(v.to_vec()))
    }

    #[test]
    fn integers_match_across_widths_and_decimals_by_value() {
        let a = enc(
            Arc::new(Int32Array::from(vec![1, 18, -5, 0, 1800])),
            TextAs::Text,
        );
        let b = enc(
            Arc::new(Int64Array::from(vec![1, 18, -5, 0, 1800])),
            TextAs::Text,
        );
        assert_eq!(a, b);
        // 1.00, 18.00, -5.00, 0.00, 1800.00 as decimal(10,2).
        let d = Decimal128Array::from(vec![100, 1_800, -500, 0, 180_000])
            .with_precision_and_scale(10, 2)
            .unwrap();
        assert_eq!(a, enc(Arc::new(d), TextAs::Text));
        // PostgreSQL numeric read as text: by value too.
        let t = enc(
            text(&[
                Some("1"),
                Some("18.00000"),
                Some("-5.0"),
                Some("-0.000"),
                Some("1800"),
            ]),
            TextAs::Decimal,
        );
        assert_eq!(a, t);
    }

    #[test]
    fn wide_decimals_keep_their_last_digit() {
        let a = enc(text(&[Some("1234567890123456789012345")]), TextAs::Decimal);
        let b = enc(text(&[Some("1234567890123456789012340")]), TextAs::Decimal);
        assert_ne!(a, b);
        let forty = "1234567890123456789012345678901234567890";
        let c = enc(text(&[Some(forty)]), TextAs::Decimal);
        let d = enc(
            text(&[Some("1234567890123456789012345678901234567891")]),
            TextAs::Decimal,
        );
        assert_ne!(c, d);
        assert_eq!(
            c,
            enc(text(&[Some(&format!("{forty}.000"))]), TextAs::Decimal)
        );
        // NaN is not a number that equals 0.
        assert_ne!(
            enc(text(&[Some("NaN")]), TextAs::Decimal),
            enc(text(&[Some("0")]), TextAs::Decimal)
        );
    }

    #[test]
    fn floats_are_bit_exact() {
        let a = enc(
            Arc::new(Float64Array::from(vec![
                0.36640625,
                9007199254740991.0,
                -0.0,
            ])),
            TextAs::Text,
        );
        let b = enc(
            Arc::new(Float64Array::from(vec![
                0.36640625,
                9007199254740990.0,
                0.0,
            ])),
            TextAs::Text,
        );
        assert_eq!(a[0], b[0]);
        assert_ne!(a[1], b[1]);
        assert_ne!(a[2], b[2], "signed zero only matches under a declared rule");
        // A float never equals an exact number silently.
        assert_ne!(
            enc(Arc::new(Float64Array::from(vec![1.0])), TextAs::Text),
            enc(Arc::new(Int64Array::from(vec![1])), TextAs::Text)
        );
    }

    #[test]
    fn null_empty_and_column_boundaries_stay_apart() {
        let e = enc(
            text(&[None, Some(""), Some("NULL"), Some("\\N")]),
            TextAs::Text,
        );
        assert_ne!(e[0], e[1]);
        assert_ne!(e[0], e[2]);
        assert_ne!(e[0], e[3]);
        let left = hash_rows(&[
            (text(&[Some("ab")]), TextAs::Text),
            (text(&[Some("c")]), TextAs::Text),
        ]);
        let right = hash_rows(&[
            (text(&[Some("a")]), TextAs::Text),
            (text(&[Some("bc")]), TextAs::Text),
        ]);
        assert_ne!(left, right);
        assert_ne!(
            enc(text(&[Some("abc ")]), TextAs::Text),
            enc(text(&[Some("abc")]), TextAs::Text)
        );
    }

    #[test]
    fn instants_compare_as_instants_and_a_dropped_zone_never_matches() {
        // 2024-01-01 01:00:01.020 UTC in ms and in µs: the same instant.
        let ms = 1_704_070_801_020i64;
        let a = enc(
            Arc::new(TimestampMillisecondArray::from(vec![ms]).with_timezone("UTC")),
            TextAs::Text,
        );
        let b = enc(
            Arc::new(TimestampMicrosecondArray::from(vec![ms * 1000]).with_timezone("+00:00")),
            TextAs::Text,
        );
        assert_eq!(a, b);
        let c = enc(
            Arc::new(TimestampMicrosecondArray::from(vec![ms * 1000 + 409])),
            TextAs::Text,
        );
        assert_ne!(b, c);
        let naive = enc(
            Arc::new(TimestampMicrosecondArray::from(vec![ms * 1000])),
            TextAs::Text,
        );
        assert_ne!(
            b, naive,
            "timestamptz vs timestamp: tz-dropped, never a silent match"
        );
    }

    #[test]
    fn row_hashes_do_not_depend_on_chunking() {
        let a: ArrayRef = Arc::new(Int64Array::from((0..100).collect::<Vec<i64>>()));
        let s: ArrayRef = text(
            &(0..100)
                .map(|i| if i % 3 == 0 { None } else { Some("x") })
                .collect::<Vec<_>>(),
        );
        let whole = hash_rows(&[(a.clone(), TextAs::Text), (s.clone(), TextAs::Text)]);
        let mut parts = hash_rows(&[
            (a.slice(0, 37), TextAs::Text),
            (s.slice(0, 37), TextAs::Text),
        ]);
        parts.extend(hash_rows(&[
            (a.slice(37, 63), TextAs::Text),
            (s.slice(37, 63), TextAs::Text),
        ]));
        assert_eq!(whole, parts);
    }

    #[test]
    fn encodings_of_one_type_meet_and_nested_values_compare_element_by_element() {
        use arrow::array::{
            Date32Array, Date64Array, Decimal256Array, Decimal64Array, DictionaryArray, Int16Array,
            StructArray,
        };
        use arrow::datatypes::{i256, Field, Int16Type};
        // dictionary<int16 → int16> 3 = int64 3.
        let dict: DictionaryArray<Int16Type> = DictionaryArray::new(
            Int16Array::from(vec![0, 1]),
            Arc::new(Int16Array::from(vec![3, 4])),
        );
        assert_eq!(
            enc(Arc::new(dict), TextAs::Text),
            enc(Arc::new(Int64Array::from(vec![3, 4])), TextAs::Text)
        );
        // date64 of a whole day = date32 of that day; a time of day is not dropped.
        let day = 19_723i64;
        assert_eq!(
            enc(
                Arc::new(Date64Array::from(vec![day * 86_400_000])),
                TextAs::Text
            ),
            enc(Arc::new(Date32Array::from(vec![day as i32])), TextAs::Text)
        );
        assert_ne!(
            enc(
                Arc::new(Date64Array::from(vec![day * 86_400_000 + 1])),
                TextAs::Text
            ),
            enc(Arc::new(Date32Array::from(vec![day as i32])), TextAs::Text)
        );
        // decimal64(10,2) 1.50 = decimal128 1.5 = numeric text; decimal256 by value, 40 digits.
        let d64 = Decimal64Array::from(vec![150])
            .with_precision_and_scale(10, 2)
            .unwrap();
        assert_eq!(
            enc(Arc::new(d64), TextAs::Text),
            enc(text(&[Some("1.5")]), TextAs::Decimal)
        );
        let forty = "1234567890123456789012345678901234567890";
        let d256 = Decimal256Array::from(vec![i256::from_string(forty).unwrap()])
            .with_precision_and_scale(76, 0)
            .unwrap();
        assert_eq!(
            enc(Arc::new(d256), TextAs::Text),
            enc(text(&[Some(forty)]), TextAs::Decimal)
        );
        // {a: NULL} ≠ {a: ""}.
        let st = |v: Option<&str>| -> ArrayRef {
            Arc::new(StructArray::from(vec![(
                Arc::new(Field::new("a", DataType::Utf8, true)),
                text(&[v]),
            )]))
        };
        assert_ne!(enc(st(None), TextAs::Text), enc(st(Some("")), TextAs::Text));
        assert_eq!(
            enc(st(Some("x")), TextAs::Text),
            enc(st(Some("x")), TextAs::Text)
        );
        // Fields pair by name: {x: 1, y: 2} = {y: 2, x: 1}; {x: 1, y: 2} ≠ {x: 2, y: 1}.
        let xy = |names: [&str; 2], vals: [i64; 2]| -> ArrayRef {
            Arc::new(StructArray::from(vec![
                (
                    Arc::new(Field::new(names[0], DataType::Int64, true)),
                    Arc::new(Int64Array::from(vec![vals[0]])) as ArrayRef,
                ),
                (
                    Arc::new(Field::new(names[1], DataType::Int64, true)),
                    Arc::new(Int64Array::from(vec![vals[1]])) as ArrayRef,
                ),
            ]))
        };
        let a = enc(xy(["x", "y"], [1, 2]), TextAs::Text);
        assert_eq!(a, enc(xy(["y", "x"], [2, 1]), TextAs::Text));
        assert_ne!(a, enc(xy(["y", "x"], [1, 2]), TextAs::Text));
    }

    #[test]
    fn integers_and_decimals_encode_as_their_digits_do() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values: Vec<i128> = vec![
            0,
            1,
            -1,
            10,
            -100,
            7_000,
            i128::from(i64::MAX),
            i128::from(i64::MIN),
        ];
        values.push(i128::MAX);
        values.push(i128::MIN + 1);
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (i128::from(x) << (x % 50)) * if x.is_multiple_of(3) { -1 } else { 1 };
            values.push(v / 10i128.pow((x % 5) as u32) * 10i128.pow((x % 4) as u32));
        }
        for v in values {
            for scale in [0i8, 2, 4, 10, 38] {
                let mut fast = Vec::new();
                unscaled(&mut fast, v, scale);
                let mut slow = Vec::new();
                let digits = v.unsigned_abs().to_string();
                number(&mut slow, v < 0, digits.as_bytes(), -i32::from(scale));
                assert_eq!(fast, slow, "{v} scale {scale}");
            }
        }
    }

    #[test]
    fn untyped_integers_meet_floats_only_when_the_float_holds_them() {
        let big = (1i64 << 53) + 1;
        let ints = enc(
            Arc::new(Int64Array::from(vec![3, big])),
            TextAs::Float(FloatWidth::F64),
        );
        let floats = enc(
            Arc::new(Float64Array::from(vec![3.0, (1i64 << 53) as f64])),
            TextAs::Text,
        );
        assert_eq!(ints[0], floats[0]);
        assert_ne!(ints[1], floats[1], "2^53 + 1 is not the float 2^53");
    }
}
