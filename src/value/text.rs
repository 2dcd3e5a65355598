//! Strict, lossless readers of text as a typed value.
//!
//! An untyped side (CSV, SQLite TEXT) is read "as the other side's type", and a typed column that a
//! reader had to deliver as text (PostgreSQL numeric, a MySQL column holding a zero date, a MySQL
//! `TIME`) is read back as its declared type. Either way the parse must be **exact**: no
//! whitespace skipped, no fractional digit dropped, no rounding, no lenient date forms. A text
//! that does not parse exactly stays text, and so differs from every typed value: a lenient
//! parser is a false match waiting to happen (`' 42'` = 42, `'…02.1234567891'` = `…02.123456789`,
//! `'18014398509481985'` = float64 2^54).
//!
//! Examples:
//! - [`decimal`]: `-12.50`, `7`, `1e3`; not ` 42`, `.5`, `1,000`, `0x10`;
//! - [`float`]: a text equals a float only when it names the same decimal number as the float's
//!   shortest round-trip representation at the float's width: `0.3` = float32 0.3, `0.30` too,
//!   `18014398509481985` ≠ float64 2^54;
//! - [`date`]: `YYYY-MM-DD`, four-digit year, two-digit month and day, a real day;
//! - [`datetime`]: `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH[:MM]]`;
//! - [`time_of_day`]: `[-]H{1,3}:MM:SS[.f{1,9}]` (MySQL `TIME` spans ±838 hours);
//! - [`uuid`]: 8-4-4-4-12 hexadecimal digits in any case.

/// An exact decimal number: sign, significant digits (ASCII, no leading zeros) and a base-10
/// exponent, so that the value is `±digits × 10^exponent`. Zero has no digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    /// True for a negative number (never for zero).
    pub negative: bool,
    /// Significant digits without leading or trailing zeros.
    pub digits: Vec<u8>,
    /// The power of ten of the last digit.
    pub exponent: i64,
}

impl Decimal {
    /// Builds the normal form from raw digits and the exponent of their last digit.
    pub fn from_digits(negative: bool, digits: &[u8], exponent: i64) -> Decimal {
        let start = digits
            .iter()
            .position(|&d| d != b'0')
            .unwrap_or(digits.len());
        let digits = &digits[start..];
        let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
        let trailing = (digits.len() - end) as i64;
        let digits = digits[..end].to_vec();
        Decimal {
            negative: negative && !digits.is_empty(),
            exponent: if digits.is_empty() {
                0
            } else {
                exponent + trailing
            },
            digits,
        }
    }
}

fn all_digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]` exactly; `None` for anything else.
pub fn decimal(s: &str) -> Option<Decimal> {
    let b = s.as_bytes();
    let (negative, b) = match b.first()? {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let (mantissa, exp) = match b.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&b[..i], Some(&b[i + 1..])),
        None => (b, None),
    };
    let (int, frac) = match mantissa.iter().position(|&c| c == b'.') {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return None;
    }
    let frac = frac.unwrap_or(&[]);
    let e: i64 = match exp {
        None => 0,
        Some(e) => {
            let digits = e.strip_prefix(b"-").or(e.strip_prefix(b"+")).unwrap_or(e);
            if !all_digits(digits) || digits.len() > 9 {
                return None;
            }
            std::str::from_utf8(e).ok()?.parse().ok()?
        }
    };
    let mut digits = Vec::with_capacity(int.len() + frac.len());
    digits.extend_from_slice(int);
    digits.extend_from_slice(frac);
    Some(Decimal::from_digits(
        negative,
        &digits,
        e - frac.len() as i64,
    ))
}

/// Whether a text spells a number the way a column of numbers would print it: an optional `-`,
/// integer digits without a leading zero (`0` alone excepted), an optional `.` with at least one
/// digit after it, and (only where `exponent` allows, as floats print) `e`/`E` with a signed
/// exponent. `'007'`, `'+42'`, `'.5'`, `'5.'` and `'1e3'` (as a decimal) are not: a text that
/// loses its spelling when read as a number stays text and differs.
pub fn plain_number(s: &str, exponent: bool) -> bool {
    let b = s.as_bytes();
    let b = b.strip_prefix(b"-").unwrap_or(b);
    let (mantissa, exp) = match b.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) if exponent => (&b[..i], Some(&b[i + 1..])),
        Some(_) => return false,
        None => (b, None),
    };
    let (int, frac) = match mantissa.iter().position(|&c| c == b'.') {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let int_ok = all_digits(int) && (int.len() == 1 || int[0] != b'0');
    let frac_ok = frac.is_none_or(all_digits);
    let exp_ok = exp.is_none_or(|e| {
        let d = e.strip_prefix(b"-").or(e.strip_prefix(b"+")).unwrap_or(e);
        all_digits(d)
    });
    int_ok && frac_ok && exp_ok
}

/// A decimal number as a column of numbers prints it ([`plain_number`], no exponent): the strict
/// reading of a text facing an integer or decimal column.
pub fn numeral(s: &str) -> Option<Decimal> {
    if plain_number(s, false) {
        decimal(s)
    } else {
        None
    }
}

/// The width of a binary float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatWidth {
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
}

/// Reads a text as a float of `width` only when it names exactly the decimal number of a
/// shortest round-trip representation of the float at that width (no more digits than the
/// shortest, and reads back as the same float), or is `NaN`, `Infinity`, `inf`, signed, in any
/// case. Returns the value widened to f64 (exact).
pub fn float(s: &str, width: FloatWidth) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let special = match lower.as_str() {
        "nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    };
    if special.is_some() {
        return special;
    }
    if !plain_number(s, true) {
        return None;
    }
    let named = decimal(s)?;
    let (value, shortest) = match width {
        FloatWidth::F64 => {
            let v: f64 = s.parse().ok()?;
            (v, format!("{v:e}"))
        }
        FloatWidth::F32 => {
            let v: f32 = s.parse().ok()?;
            (f64::from(v), format!("{v:e}"))
        }
    };
    if !value.is_finite() {
        return None;
    }
    // `Decimal` keeps no sign on zero; the parse keeps it (`-0` is -0.0), which is what is kept.
    let shortest = decimal(&shortest)?;
    (shortest == named || tie_twin(&shortest, &named, value)).then_some(value)
}

/// Whether `named` is the other shortest text of a float whose exact value lies exactly halfway
/// between two texts of the shortest length (2559071047564.03125, between …0312 and …0313):
/// Rust prints the upper one where ryu, C, Python, PostgreSQL and MariaDB round to even. Any
/// other text of that length, even one that reads back as the same float (2^54 + 1 reads as
/// 2^54), names another number.
fn tie_twin(shortest: &Decimal, named: &Decimal, value: f64) -> bool {
    let k = shortest.digits.len();
    if named.digits.len() > k || named.negative != shortest.negative || k == 0 {
        return false;
    }
    // The float's exact value, in full (a double has at most 767 significant digits).
    let Some(exact) = decimal(&format!("{value:.800e}")) else {
        return false;
    };
    if exact.digits.len() != k + 1 || exact.digits[k] != b'5' {
        return false;
    }
    let lo = Decimal::from_digits(exact.negative, &exact.digits[..k], exact.exponent + 1);
    let mut up = exact.digits[..k].to_vec();
    let mut carry = true;
    for d in up.iter_mut().rev() {
        if !carry {
            break;
        }
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            carry = false;
        }
    }
    if carry {
        up.insert(0, b'1');
    }
    let hi = Decimal::from_digits(exact.negative, &up, exact.exponent + 1);
    (*named == lo && *shortest == hi) || (*named == hi && *shortest == lo)
}

fn num(b: &[u8]) -> Option<u32> {
    if all_digits(b) {
        std::str::from_utf8(b).ok()?.parse().ok()
    } else {
        None
    }
}

/// Days since 1970-01-01 of a strict `YYYY-MM-DD`.
pub fn date(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = chrono::NaiveDate::from_ymd_opt(num(&b[..4])? as i32, num(&b[5..7])?, num(&b[8..])?)?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    i32::try_from(d.signed_duration_since(epoch).num_days()).ok()
}

/// Nanoseconds of a fraction of 1 to 9 digits (`.25` → 250,000,000).
fn fraction(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let n = num(b)?;
    Some(n * 10u32.pow(9 - b.len() as u32))
}

/// `HH:MM:SS[.f]` → (seconds of the day part, nanoseconds); hours up to `max_hour_digits` digits.
fn clock(b: &[u8], max_hour_digits: usize) -> Option<(i64, u32)> {
    let colon = b.iter().position(|&c| c == b':')?;
    if colon == 0 || colon > max_hour_digits || (max_hour_digits == 2 && colon != 2) {
        return None;
    }
    let h = num(&b[..colon])?;
    let rest = &b[colon + 1..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let m = num(&rest[..2])?;
    let sec = num(&rest[3..5])?;
    if m > 59 || sec > 59 {
        return None;
    }
    let nanos = match &rest[5..] {
        [] => 0,
        [b'.', f @ ..] => fraction(f)?,
        _ => return None,
    };
    Some((
        i64::from(h) * 3600 + i64::from(m) * 60 + i64::from(sec),
        nanos,
    ))
}

/// A date-time read from text: seconds and nanoseconds since the epoch, and whether the text
/// carried an offset (an instant, already brought to UTC) or not (a local date-time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Seconds since 1970-01-01 00:00:00 (UTC for an instant).
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
    /// The text had an offset (`Z`, `+02`, `-05:30`).
    pub instant: bool,
}

/// Parses `YYYY-MM-DD[T ]HH:MM:SS[.f{1,9}][Z|±HH[[:]MM]]` strictly.
pub fn datetime(s: &str) -> Option<DateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    let days = i64::from(date(std::str::from_utf8(&b[..10]).ok()?)?);
    let rest = &b[11..];
    let zone_at = rest
        .iter()
        .position(|&c| c == b'Z' || c == b'+' || c == b'-');
    let (clock_part, zone) = match zone_at {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (secs, nanos) = clock(clock_part, 2)?;
    if secs >= 86_400 {
        return None;
    }
    let offset = match zone {
        None => None,
        Some(b"Z") => Some(0),
        Some(z) => {
            let sign = if z[0] == b'-' { -1 } else { 1 };
            let z = &z[1..];
            let (h, m) = match z.len() {
                2 => (num(z)?, 0),
                4 => (num(&z[..2])?, num(&z[2..])?),
                5 if z[2] == b':' => (num(&z[..2])?, num(&z[3..])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            Some(sign * (i64::from(h) * 3600 + i64::from(m) * 60))
        }
    };
    Some(DateTime {
        seconds: days * 86_400 + secs - offset.unwrap_or(0),
        nanos,
        instant: offset.is_some(),
    })
}

/// Nanoseconds of a time of day (or a MySQL `TIME` interval) `[-]H{1,3}:MM:SS[.f{1,9}]`.
pub fn time_of_day(s: &str) -> Option<i64> {
    let (neg, b) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        b => (false, b),
    };
    let (secs, nanos) = clock(b, 3)?;
    let v = secs * 1_000_000_000 + i64::from(nanos);
    Some(if neg { -v } else { v })
}

/// The 16 bytes of a UUID written as 8-4-4-4-12 hexadecimal digits, in any case.
pub fn uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hex: Vec<u8> = b.iter().copied().filter(|&c| c != b'-').collect();
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        out[i] = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// A boolean spelled `true`/`false`/`t`/`f` (any case) or `1`/`0`.
pub fn boolean(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("t") || s == "1" {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") || s.eq_ignore_ascii_case("f") || s == "0" {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_read_from_text_keeps_its_spelling() {
        for ok in [
            "0",
            "-0",
            "7",
            "-12.50",
            "0.001",
            "18.00000",
            "123456789012345678901234567890",
        ] {
            assert!(numeral(ok).is_some(), "{ok}");
        }
        for bad in [
            "007", "+42", "1e3", ".5", "5.", "00", "-", "", " 4", "4 ", "0x1F", "1_000",
        ] {
            assert!(numeral(bad).is_none(), "{bad}");
        }
        // Floats print with exponents (`1e-07`), never with a leading zero or plus.
        assert_eq!(float("1e-07", FloatWidth::F64), Some(1e-7));
        assert_eq!(float("1000.0", FloatWidth::F64), Some(1000.0));
        assert_eq!(float("01000", FloatWidth::F64), None);
        assert_eq!(float("+1000", FloatWidth::F64), None);
        assert_eq!(float(".3", FloatWidth::F32), None);
    }

    #[test]
    fn decimals_are_strict_and_exact() {
        assert_eq!(decimal("18.00000"), decimal("18"));
        assert_eq!(decimal("1e3"), decimal("1000"));
        assert_eq!(decimal("-0.000"), decimal("0"));
        assert_ne!(
            decimal("1234567890123456789012345"),
            decimal("1234567890123456789012340")
        );
        for bad in [
            " 42", "42 ", ".5", "5.", "1,000", "0x10", "", "-", "1e", "NaN", "+-1",
        ] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
        let seventy = format!("{}.{}", "9".repeat(70), "0".repeat(12));
        assert_eq!(decimal(&seventy), decimal(&"9".repeat(70)));
    }

    #[test]
    fn floats_match_only_their_round_trip_text() {
        assert_eq!(float("0.3", FloatWidth::F32), Some(f64::from(0.3f32)));
        assert_eq!(float("0.30", FloatWidth::F32), Some(f64::from(0.3f32)));
        assert_eq!(float("0.3", FloatWidth::F64), Some(0.3));
        // 2^54 + 1 names a number float64 cannot hold: no match with 2^54.
        assert_eq!(float("18014398509481985", FloatWidth::F64), None);
        assert_eq!(
            float("18014398509481984", FloatWidth::F64),
            Some(2f64.powi(54))
        );
        // float32 0.3 widened is 0.30000001192092896: a text of that is not "0.3" at width 32.
        assert_eq!(float("0.30000001192092896", FloatWidth::F32), None);
        assert_eq!(float(" 1.5", FloatWidth::F64), None);
        assert!(float("-0", FloatWidth::F64).unwrap().is_sign_negative());
        assert!(float("0", FloatWidth::F64).unwrap().is_sign_positive());
        assert!(float("NaN", FloatWidth::F64).unwrap().is_nan());
        // An exact tie: both 17-digit texts are shortest round-trip texts of the same double
        // (Rust prints …0313, ryu and the databases …0312); the exact 18-digit value is not.
        let v = 2_559_071_047_564.0_f64 + 0.031_25; // exact: the ulp here is 2^-11
        assert_eq!(format!("{v}"), "2559071047564.0313");
        assert_eq!(float("2559071047564.0312", FloatWidth::F64), Some(v));
        assert_eq!(float("2559071047564.0313", FloatWidth::F64), Some(v));
        assert_eq!(float("2559071047564.03125", FloatWidth::F64), None);
        // One digit fewer names another float, which is what it is read as.
        assert_ne!(float("2559071047564.031", FloatWidth::F64), Some(v));
    }

    #[test]
    fn dates_and_times_drop_nothing() {
        assert_eq!(date("1970-01-02"), Some(1));
        assert_eq!(date("2024-3-05"), None);
        assert_eq!(date("2024-02-30"), None);
        assert_eq!(date(" 2024-03-05"), None);
        let t = datetime("2024-03-05 10:00:00.123456789").unwrap();
        assert_eq!((t.nanos, t.instant), (123_456_789, false));
        assert_eq!(datetime("2024-03-05 10:00:00.1234567891"), None);
        assert_eq!(datetime("2024-03-05 10:00:00 "), None);
        let a = datetime("2024-01-01T00:00:01-01:00").unwrap();
        let b = datetime("2024-01-01 01:00:01+00").unwrap();
        assert_eq!(a, b);
        assert!(a.instant);
        assert_eq!(time_of_day("08:15:00.25"), time_of_day("08:15:00.250000"));
        assert_eq!(
            time_of_day("-838:59:59"),
            Some(-(838 * 3600 + 59 * 60 + 59) * 1_000_000_000)
        );
        assert_eq!(time_of_day("8:15"), None);
        assert_eq!(
            uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
            uuid("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        );
        assert_eq!(uuid("a0eebc999c0b4ef8bb6d6bb9bd380a11"), None);
    }
}
