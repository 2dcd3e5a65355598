//! Whether one value keeps a row-level rule (range, allowed, regex, length, date_format).

use super::*;

/// Two shown values are equal: same text, or both numbers of the same value.
pub(super) fn same_value(a: &str, b: &str) -> bool {
    a == b || (is_plain_decimal(a) && is_plain_decimal(b) && cmp_decimal_str(a, b).is_eq())
}

/// A date/date-time/time bound as the canonical value of the kind `t` it is compared with;
/// `None` when the text is not one (then every value is outside, never inside).
pub(super) fn temporal_bound(t: u8, b: &str) -> Option<Vec<u8>> {
    let text_as = match t {
        tag::DATE => TextAs::Date,
        tag::INSTANT => TextAs::Instant,
        tag::LOCAL_DATETIME => TextAs::Timestamp,
        tag::TIME => TextAs::Time,
        _ => return None,
    };
    let arr: arrow::array::ArrayRef =
        std::sync::Arc::new(arrow::array::StringArray::from(vec![b.trim()]));
    let mut rows = vec![Vec::new()];
    encode_column_with(&arr, text_as, false, &[], &mut rows);
    let v = rows.pop()?;
    (split(&v).0 == t).then_some(v)
}

/// Whether a non-NULL value keeps a row-level rule (range, allowed, regex, length, date_format).
pub(super) fn keeps(kind: &RuleKind, v: &[u8]) -> bool {
    let (t, p) = split(v);
    let text = || match t {
        tag::TEXT => String::from_utf8_lossy(p).into_owned(),
        _ => display(v).unwrap_or_default(),
    };
    match kind {
        RuleKind::Range(min, max) => {
            let cmp = |b: &Bound| -> Option<Ordering> {
                match (t, b) {
                    (tag::NUMBER, Bound::Number(n)) => Some(cmp_decimal_str(&number_string(p), n)),
                    (tag::FLOAT, Bound::Number(n)) => {
                        let f = f64::from_bits(u64::from_le_bytes(p.try_into().ok()?));
                        f.partial_cmp(&n.parse::<f64>().ok()?)
                    }
                    (tag::TEXT, Bound::Number(n)) => {
                        let s = text();
                        is_plain_decimal(&s).then(|| cmp_decimal_str(&s, n))
                    }
                    (tag::INVALID_TEXT, _) => None,
                    // Dates, date-times and times against a bound of the same kind, by value
                    // (an offset in the bound is honoured; a bound without one, facing an
                    // instant, is UTC): never as text, where ' ' sorts before 'T'.
                    (
                        tag::DATE | tag::INSTANT | tag::LOCAL_DATETIME | tag::TIME,
                        Bound::Text(b),
                    ) => {
                        let bound = temporal_bound(t, b)?;
                        Some(crate::diff::aggregate::cmp_canonical(v, &bound))
                    }
                    (_, Bound::Text(b)) => {
                        let s = text();
                        Some(s.trim_end_matches('Z').cmp(b.trim_end_matches('Z')))
                    }
                    _ => None,
                }
            };
            min.as_ref()
                .is_none_or(|b| cmp(b).is_some_and(|o| o.is_ge()))
                && max
                    .as_ref()
                    .is_none_or(|b| cmp(b).is_some_and(|o| o.is_le()))
        }
        RuleKind::Allowed(values) => {
            t != tag::INVALID_TEXT && {
                let s = text();
                values.iter().any(|a| same_value(a, &s))
            }
        }
        RuleKind::Regex(re) => t != tag::INVALID_TEXT && re.is_match(&text()),
        RuleKind::Length(min, max) => {
            let n = match t {
                tag::BYTES => p.len() as u64,
                _ => text().chars().count() as u64,
            };
            min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m)
        }
        RuleKind::DateFormat(formats) => match t {
            tag::DATE | tag::INSTANT | tag::LOCAL_DATETIME => true,
            tag::TEXT => {
                let s = text();
                formats.iter().any(|f| {
                    chrono::NaiveDateTime::parse_from_str(&s, f).is_ok()
                        || chrono::NaiveDate::parse_from_str(&s, f).is_ok()
                        || chrono::DateTime::parse_from_str(&s, f).is_ok()
                })
            }
            _ => false,
        },
        _ => true,
    }
}
