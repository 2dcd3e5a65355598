//! Classifying a differing cell: given the canonical encodings of a source and a target value
//! that differ, say how they differ (DESIGN.md "Verdicts"), so a team sees "412 trailing spaces,
//! 37 time-zone shifts" rather than "449 differences".
//!
//! Classes, checked in this order (the first that explains the difference wins):
//! `null-vs-empty` (NULL on one side, '' or empty bytes on the other); `type-changed` (different kinds, e.g. a
//! number became text) — except an instant that became a local date-time with the same digits,
//! which is `tz-dropped`; for text: `whitespace` (equal once trimmed), `case` (equal once
//! lower-cased), `nfc-nfd` (equal once both are NFC), `mojibake` (one side is the other's UTF-8
//! read as cp1252/Latin-1), `truncated` (one side is a strict prefix of the other); for exact
//! numbers: `precision-loss` (the side with fewer decimals is the other rounded or cut to them),
//! `rounding` (same number of decimals, at least one, one unit in the last place apart); for floats:
//! `rounding` (a few units in the last place apart); for date-times: `tz-shift` (a whole
//! number of quarter hours apart, at most 18 h), `precision-loss` (one side is the other with
//! its fraction cut to ms or s); anything else is `value`.
//!
//! Declared rules (`trim`, `case-insensitive`, `nfc`, tolerances…) are applied by the caller on
//! top of the class; the classifier never turns a difference into a match.

use unicode_normalization::UnicodeNormalization;

use crate::value::canonical::{datetime_parts, split, tag};

/// How two values differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Fewer digits on one side (decimals cut, timestamp fraction cut).
    PrecisionLoss,
    /// One unit in the last place apart.
    Rounding,
    /// The same local time, a whole number of quarter hours apart.
    TzShift,
    /// An instant became a local date-time.
    TzDropped,
    /// Equal once trimmed.
    Whitespace,
    /// Equal once lower-cased.
    Case,
    /// NULL on one side, empty string on the other.
    NullVsEmpty,
    /// UTF-8 read as cp1252/Latin-1 on one side.
    Mojibake,
    /// Equal once both are in NFC.
    NfcNfd,
    /// One side is a strict prefix of the other.
    Truncated,
    /// Different kinds of value.
    TypeChanged,
    /// Just a different value.
    Value,
}

impl Class {
    /// The class's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Class::PrecisionLoss => "precision-loss",
            Class::Rounding => "rounding",
            Class::TzShift => "tz-shift",
            Class::TzDropped => "tz-dropped",
            Class::Whitespace => "whitespace",
            Class::Case => "case",
            Class::NullVsEmpty => "null-vs-empty",
            Class::Mojibake => "mojibake",
            Class::NfcNfd => "nfc-nfd",
            Class::Truncated => "truncated",
            Class::TypeChanged => "type-changed",
            Class::Value => "value",
        }
    }
}

/// An exact number's (negative, digits, exponent), or zero.
fn number(p: &[u8]) -> Option<(bool, &[u8], i32)> {
    match p.first()? {
        0 => Some((false, &[], 0)),
        s => {
            let e = i32::from_le_bytes(p.get(1..5)?.try_into().ok()?);
            Some((*s == 1, &p[5..], e))
        }
    }
}

/// Decimal places of an exact number (0 for integers).
fn places(digits: &[u8], exp: i32) -> i32 {
    if digits.is_empty() {
        0
    } else {
        (-exp).max(0)
    }
}

/// The number as an exact integer count of 10^-scale units, if it fits.
fn units(neg: bool, digits: &[u8], exp: i32, scale: i32) -> Option<i128> {
    let s = std::str::from_utf8(digits).ok()?;
    let mut v: i128 = if s.is_empty() { 0 } else { s.parse().ok()? };
    let shift = exp + scale;
    if shift >= 0 {
        for _ in 0..shift {
            v = v.checked_mul(10)?;
        }
    } else {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// The number rounded (half away from zero) and cut to `scale` decimals, in 10^-scale units.
fn round_and_cut(neg: bool, digits: &[u8], exp: i32, scale: i32) -> Option<(i128, i128)> {
    let fine = places(digits, exp);
    let exact = units(neg, digits, exp, fine)?;
    let div = 10i128.checked_pow(u32::try_from(fine - scale).ok()?)?;
    let cut = exact / div;
    let rem = (exact % div).abs();
    let rounded = if rem * 2 >= div {
        cut + exact.signum()
    } else {
        cut
    };
    Some((rounded, cut))
}

fn classify_numbers(a: &[u8], b: &[u8]) -> Class {
    let (Some((na, da, ea)), Some((nb, db, eb))) = (number(a), number(b)) else {
        return Class::Value;
    };
    let (pa, pb) = (places(da, ea), places(db, eb));
    if pa != pb {
        // The coarser side may be the finer side rounded or cut to its decimals.
        let (fine, coarse, scale) = if pa > pb {
            ((na, da, ea), (nb, db, eb), pb)
        } else {
            ((nb, db, eb), (na, da, ea), pa)
        };
        if let (Some((r, c)), Some(x)) = (
            round_and_cut(fine.0, fine.1, fine.2, scale),
            units(coarse.0, coarse.1, coarse.2, scale),
        ) {
            if r == x || c == x {
                return Class::PrecisionLoss;
            }
        }
    }
    let scale = pa.max(pb);
    match (units(na, da, ea, scale), units(nb, db, eb, scale)) {
        // One unit in the last decimal place; integers one apart are just different values.
        (Some(x), Some(y)) if (x - y).abs() == 1 && pa == pb && pa > 0 => Class::Rounding,
        _ => Class::Value,
    }
}

fn classify_floats(a: &[u8], b: &[u8]) -> Class {
    let f = |p: &[u8]| {
        p.try_into()
            .map(u64::from_le_bytes)
            .map(f64::from_bits)
            .ok()
    };
    let (Some(x), Some(y)) = (f(a), f(b)) else {
        return Class::Value;
    };
    if x.is_finite() && y.is_finite() && x != 0.0 && y != 0.0 && x.signum() == y.signum() {
        let (kx, ky) = (x.to_bits() as i64, y.to_bits() as i64);
        if (kx - ky).abs() <= 4 {
            return Class::Rounding;
        }
    }
    Class::Value
}

fn classify_datetimes(a: &[u8], b: &[u8]) -> Class {
    let (Some((sa, fa)), Some((sb, fb))) = (datetime_parts(a), datetime_parts(b)) else {
        return Class::Value;
    };
    if fa == fb && sa != sb && (sa - sb) % 900 == 0 && (sa - sb).abs() <= 18 * 3600 {
        return Class::TzShift;
    }
    if sa == sb && fa != fb {
        for step in [1_000u32, 1_000_000, 1_000_000_000] {
            if fa / step * step == fb || fb / step * step == fa {
                return Class::PrecisionLoss;
            }
        }
    }
    Class::Value
}

/// One byte read as cp1252 (Latin-1 with the 0x80–0x9F block of Windows).
fn cp1252(b: u8) -> char {
    const CP1252: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    if (0x80..0xA0).contains(&b) {
        CP1252[usize::from(b - 0x80)]
    } else {
        char::from(b)
    }
}

/// UTF-8 bytes read as cp1252 (or Latin-1): what `s` would look like after that mistake.
fn as_mojibake(s: &str) -> String {
    s.bytes().map(cp1252).collect()
}

/// Whether `damaged` is `good` with some (at least one) of its non-ASCII characters replaced by
/// their mojibake (a fix-up that replaced only `é` leaves `ü` intact, and is still mojibake).
fn partly_mojibake(good: &str, damaged: &str) -> bool {
    if good.is_ascii() {
        return false;
    }
    let mut rest = damaged;
    let mut any = false;
    let mut buf = [0u8; 4];
    for c in good.chars() {
        if let Some(r) = rest.strip_prefix(c) {
            rest = r;
            continue;
        }
        if c.is_ascii() {
            return false;
        }
        let m = as_mojibake(c.encode_utf8(&mut buf));
        match rest.strip_prefix(m.as_str()) {
            Some(r) => {
                rest = r;
                any = true;
            }
            None => return false,
        }
    }
    any && rest.is_empty()
}

fn classify_text(a: &str, b: &str) -> Class {
    if a.trim() == b.trim() {
        return Class::Whitespace;
    }
    if a.to_lowercase() == b.to_lowercase() {
        return Class::Case;
    }
    if a.nfc().eq(b.nfc()) {
        return Class::NfcNfd;
    }
    if partly_mojibake(a, b) || partly_mojibake(b, a) {
        return Class::Mojibake;
    }
    if (b.len() < a.len() && a.starts_with(b)) || (a.len() < b.len() && b.starts_with(a)) {
        return Class::Truncated;
    }
    Class::Value
}

/// Classifies two differing canonical values (source, target).
pub fn classify(source: &[u8], target: &[u8]) -> Class {
    let (ta, pa) = split(source);
    let (tb, pb) = split(target);
    match (ta, tb) {
        (tag::NULL, tag::TEXT | tag::BYTES) if pb.is_empty() => Class::NullVsEmpty,
        (tag::TEXT | tag::BYTES, tag::NULL) if pa.is_empty() => Class::NullVsEmpty,
        (tag::NULL, _) | (_, tag::NULL) => Class::Value,
        (tag::INSTANT, tag::LOCAL_DATETIME) | (tag::LOCAL_DATETIME, tag::INSTANT) => {
            if pa == pb || classify_datetimes(pa, pb) == Class::TzShift {
                Class::TzDropped
            } else {
                Class::TypeChanged
            }
        }
        (tag::INVALID_TEXT, tag::TEXT) | (tag::TEXT, tag::INVALID_TEXT) => {
            // Bytes that were not UTF-8 on one side, text on the other: an encoding problem
            // when the text is those bytes read as cp1252 (`file\x96name` → `file–name`).
            let (raw, text) = if ta == tag::INVALID_TEXT {
                (pa, pb)
            } else {
                (pb, pa)
            };
            let decoded: String = raw.iter().map(|&b| cp1252(b)).collect();
            if std::str::from_utf8(text).is_ok_and(|t| t == decoded) {
                Class::Mojibake
            } else {
                Class::Value
            }
        }
        (x, y) if x != y => Class::TypeChanged,
        (tag::TEXT, _) => match (std::str::from_utf8(pa), std::str::from_utf8(pb)) {
            (Ok(a), Ok(b)) => classify_text(a, b),
            _ => Class::Value,
        },
        (tag::NUMBER, _) => classify_numbers(pa, pb),
        (tag::FLOAT, _) => classify_floats(pa, pb),
        (tag::INSTANT, _) | (tag::LOCAL_DATETIME, _) => classify_datetimes(pa, pb),
        _ => Class::Value,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, Float64Array, Int64Array, StringArray, TimestampMicrosecondArray,
    };

    use super::*;
    use crate::value::canonical::{encode_column, TextAs};

    fn one(a: ArrayRef, t: TextAs) -> Vec<u8> {
        let mut rows = vec![Vec::new()];
        encode_column(&a, t, &mut rows);
        rows.remove(0)
    }
    fn s(v: Option<&str>) -> Vec<u8> {
        one(Arc::new(StringArray::from(vec![v])), TextAs::Text)
    }
    fn d(v: &str) -> Vec<u8> {
        one(Arc::new(StringArray::from(vec![v])), TextAs::Decimal)
    }
    fn ts(micros: i64, tz: bool) -> Vec<u8> {
        let a = TimestampMicrosecondArray::from(vec![micros]);
        one(
            Arc::new(if tz { a.with_timezone("UTC") } else { a }),
            TextAs::Text,
        )
    }

    #[test]
    fn text_classes_from_cases() {
        assert_eq!(
            classify(&s(Some("abc ")), &s(Some("abc"))),
            Class::Whitespace
        );
        assert_eq!(
            classify(&s(Some("john@x.com")), &s(Some("JOHN@X.COM"))),
            Class::Case
        );
        assert_eq!(classify(&s(None), &s(Some(""))), Class::NullVsEmpty);
        // Empty bytes against NULL, either way.
        let empty_bytes = {
            let mut v = Vec::new();
            crate::value::canonical::push(&mut v, tag::BYTES, &[]);
            v
        };
        assert_eq!(classify(&s(None), &empty_bytes), Class::NullVsEmpty);
        assert_eq!(classify(&empty_bytes, &s(None)), Class::NullVsEmpty);
        assert_eq!(classify(&s(None), &s(Some("NULL"))), Class::Value);
        assert_eq!(
            classify(&s(Some("André")), &s(Some("AndrÃ©"))),
            Class::Mojibake
        );
        assert_eq!(
            classify(&s(Some("don’t")), &s(Some("donâ€™t"))),
            Class::Mojibake
        );
        // Only some characters damaged (é fixed up, ü left alone): still mojibake.
        assert_eq!(
            classify(&s(Some("Zoë Müller-André")), &s(Some("Zoë Müller-AndrÃ©"))),
            Class::Mojibake
        );
        assert_eq!(
            classify(&s(Some("\u{e9}")), &s(Some("e\u{301}"))),
            Class::NfcNfd
        );
        assert_eq!(
            classify(&s(Some("Hauptstraße 5")), &s(Some("Hauptstra"))),
            Class::Truncated
        );
        assert_eq!(classify(&s(Some("😀 ok")), &s(Some("? ok"))), Class::Value);
    }

    #[test]
    fn number_classes_from_cases() {
        assert_eq!(classify(&d("296685.43"), &d("296685.44")), Class::Rounding);
        assert_eq!(classify(&d("1.23456"), &d("1.2346")), Class::PrecisionLoss);
        assert_eq!(classify(&d("1.23456"), &d("1.2345")), Class::PrecisionLoss);
        assert_eq!(
            classify(
                &d("1234567890123456789012345"),
                &d("1234567890123456789012340")
            ),
            Class::Value
        );
        assert_eq!(classify(&d("NaN"), &d("0")), Class::TypeChanged);
        let two = one(Arc::new(Int64Array::from(vec![2])), TextAs::Text);
        assert_eq!(classify(&two, &s(Some("true"))), Class::TypeChanged);
        let f = |x: f64| one(Arc::new(Float64Array::from(vec![x])), TextAs::Text);
        assert_eq!(
            classify(&f(0.1), &f(f64::from_bits(0.1f64.to_bits() + 1))),
            Class::Rounding
        );
        assert_eq!(
            classify(&f(9007199254740991.0), &f(9007199254740990.0)),
            Class::Rounding
        );
        assert_eq!(classify(&f(1.0), &f(2.0)), Class::Value);
    }

    #[test]
    fn datetime_classes_from_cases() {
        let t = 1_704_070_802_020_409i64; // 2024-01-01 01:00:02.020409
        assert_eq!(
            classify(&ts(t, true), &ts(t - t % 1000, true)),
            Class::PrecisionLoss
        );
        assert_eq!(
            classify(&ts(t, true), &ts(t + 2 * 3_600_000_000, true)),
            Class::TzShift
        );
        assert_eq!(classify(&ts(t, true), &ts(t, false)), Class::TzDropped);
        assert_eq!(
            classify(&ts(t, true), &ts(t + 7_000_000, true)),
            Class::Value
        );
    }
}
