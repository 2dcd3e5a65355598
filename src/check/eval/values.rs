//! Values as rules compare them: shown values equal by number, and temporal bounds.

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
