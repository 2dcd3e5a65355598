//! Reading canonical encodings back: a row into its cells, a cell into tag and payload, payloads
//! into numbers, date-times and the text a user reads ([`display`]). The classifier, the rules,
//! the aggregates and every report read values through here.

use super::canonical::tag;

/// Splits a row's canonical bytes into its values (each with its tag and length).
pub fn cells(row: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 5 <= row.len() {
        let len = u32::from_le_bytes([row[i + 1], row[i + 2], row[i + 3], row[i + 4]]) as usize;
        let end = (i + 5 + len).min(row.len());
        out.push(&row[i..end]);
        i = end;
    }
    out
}

/// The tag and payload of one canonical value.
pub fn split(v: &[u8]) -> (u8, &[u8]) {
    match v.split_first() {
        Some((t, rest)) if rest.len() >= 4 => (*t, &rest[4..]),
        Some((t, _)) => (*t, &[]),
        None => (tag::NULL, &[]),
    }
}

/// An exact number's payload as a plain decimal string (`-12.5`, `1800`).
pub fn number_string(p: &[u8]) -> String {
    match p.first() {
        None | Some(0) => "0".into(),
        Some(&s) => {
            let e = p
                .get(1..5)
                .and_then(|b| b.try_into().ok())
                .map_or(0, i32::from_le_bytes);
            let digits = std::str::from_utf8(p.get(5..).unwrap_or(&[])).unwrap_or("");
            let sign = if s == 1 { "-" } else { "" };
            if e >= 0 {
                format!("{sign}{digits}{}", "0".repeat(e as usize))
            } else {
                let frac = (-e) as usize;
                if digits.len() > frac {
                    let (a, b) = digits.split_at(digits.len() - frac);
                    format!("{sign}{a}.{b}")
                } else {
                    format!("{sign}0.{}{digits}", "0".repeat(frac - digits.len()))
                }
            }
        }
    }
}

/// A plain decimal string (`-12.50`) as (units of 10^-scale, scale); `None` past 38 digits.
pub fn decimal_units(s: &str) -> Option<(i128, u32)> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (i, f) = body.split_once('.').unwrap_or((body, ""));
    let digits = format!("{i}{f}");
    let v: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    Some((if neg { -v } else { v }, f.len() as u32))
}

/// `units` at scale `from` expressed at the finer scale `to`; `None` on overflow.
pub fn rescale(units: i128, from: u32, to: u32) -> Option<i128> {
    10i128
        .checked_pow(to.checked_sub(from)?)
        .and_then(|m| units.checked_mul(m))
}

/// (seconds, nanoseconds) of an instant or local date-time payload.
pub fn datetime_parts(p: &[u8]) -> Option<(i64, u32)> {
    Some((
        i64::from_le_bytes(p.get(..8)?.try_into().ok()?),
        u32::from_le_bytes(p.get(8..12)?.try_into().ok()?),
    ))
}

/// Shows a canonical value as a user would write it; `None` for NULL.
pub fn display(v: &[u8]) -> Option<String> {
    let (t, p) = split(v);
    Some(match t {
        tag::NULL => return None,
        tag::NUMBER => number_string(p),
        tag::FLOAT => p
            .try_into()
            .map(u64::from_le_bytes)
            .map(f64::from_bits)
            .map(|f| format!("{f:?}"))
            .unwrap_or_default(),
        tag::TEXT => String::from_utf8_lossy(p).into_owned(),
        tag::INVALID_TEXT => format!(
            "{} (invalid UTF-8: {})",
            String::from_utf8_lossy(p),
            p.iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        tag::BYTES => format!(
            "\\x{}",
            p.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        tag::BOOL => (p.first() == Some(&1)).to_string(),
        tag::DATE => {
            let days = p.try_into().map(i32::from_le_bytes).unwrap_or(0);
            let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
            let since = |d: chrono::NaiveDate| d.signed_duration_since(epoch).num_days();
            // PostgreSQL's ±infinity, as its driver delivers them.
            if i64::from(days) == since(chrono::NaiveDate::MAX) {
                "infinity".into()
            } else if i64::from(days) == since(chrono::NaiveDate::MIN) {
                "-infinity".into()
            } else {
                crate::value::kind::date_string(i64::from(days))
            }
        }
        tag::INSTANT | tag::LOCAL_DATETIME => {
            let (s, n) = datetime_parts(p).unwrap_or((0, 0));
            let (hi, lo) = (
                chrono::NaiveDateTime::MAX.and_utc().timestamp(),
                chrono::NaiveDateTime::MIN.and_utc().timestamp(),
            );
            // PostgreSQL's ±infinity, as its driver delivers them (at any unit).
            if s == hi && n >= 999_000_000 {
                return Some("infinity".into());
            }
            if s == lo && n == 0 {
                return Some("-infinity".into());
            }
            let text = match chrono::DateTime::from_timestamp(s, n) {
                Some(d) if n == 0 => d.format("%Y-%m-%d %H:%M:%S").to_string(),
                Some(d) => format!(
                    "{}.{}",
                    d.format("%Y-%m-%d %H:%M:%S"),
                    format!("{n:09}").trim_end_matches('0')
                ),
                None => format!("{s} s"),
            };
            if t == tag::INSTANT {
                format!("{text}Z")
            } else {
                text
            }
        }
        tag::TIME => {
            // A MySQL TIME can be a negative interval: the sign once, in front.
            let ns = p.try_into().map(i64::from_le_bytes).unwrap_or(0);
            let sign = if ns < 0 { "-" } else { "" };
            let ns = ns.unsigned_abs();
            let (s, f) = (ns / 1_000_000_000, ns % 1_000_000_000);
            let base = format!("{sign}{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
            if f == 0 {
                base
            } else {
                format!("{base}.{}", format!("{f:09}").trim_end_matches('0'))
            }
        }
        tag::UUID => {
            let h: String = p.iter().map(|b| format!("{b:02x}")).collect();
            if h.len() == 32 {
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            } else {
                h
            }
        }
        tag::LIST => format!(
            "[{}]",
            cells(p)
                .iter()
                .map(|c| nested_display(c))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        tag::STRUCT => {
            let mut parts = Vec::new();
            let mut i = 0;
            while i + 4 <= p.len() {
                let len = u32::from_le_bytes([p[i], p[i + 1], p[i + 2], p[i + 3]]) as usize;
                let name = String::from_utf8_lossy(p.get(i + 4..i + 4 + len).unwrap_or(&[]));
                i += 4 + len;
                let Some(value) = cells(&p[i.min(p.len())..]).first().copied() else {
                    break;
                };
                i += value.len();
                parts.push(format!("{name}: {}", nested_display(value)));
            }
            format!("{{{}}}", parts.join(", "))
        }
        _ => String::from_utf8_lossy(p).into_owned(),
    })
}

/// An element inside a list or struct: NULL as `NULL`, text quoted so that `["p, q"]` and
/// `["p", "q"]` never look alike.
fn nested_display(v: &[u8]) -> String {
    match split(v).0 {
        tag::TEXT | tag::INVALID_TEXT => format!("{:?}", display(v).unwrap_or_default()),
        _ => display(v).unwrap_or_else(|| "NULL".into()),
    }
}
