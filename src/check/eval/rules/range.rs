//! `range`: values outside `[min, max]`. Numbers compare exactly as decimals (never through
//! f64), dates and times by value against a bound of the same kind, other text as text. NULLs
//! are skipped.
//!
//! Why: a unit or scale error (cents as euros), a sign flipped, a date shifted by a time zone
//! or a century keeps the row and its type, and only its value shows it.
//!
//! ```toml
//! [[rule]]
//! kind = "range"
//! table = "orders"
//! column = "total"
//! min = 0
//! max = 100000
//! ```

use super::*;

pub(super) struct Range<'r> {
    pub(super) min: &'r Option<Bound>,
    pub(super) max: &'r Option<Bound>,
}

impl Range<'_> {
    /// The value against one bound; `None` when they cannot be compared (then it is outside).
    fn cmp(v: &[u8], b: &Bound) -> Option<Ordering> {
        let (t, p) = split(v);
        match (t, b) {
            (tag::NUMBER, Bound::Number(n)) => Some(cmp_decimal_str(&number_string(p), n)),
            (tag::FLOAT, Bound::Number(n)) => {
                let f = f64::from_bits(u64::from_le_bytes(p.try_into().ok()?));
                f.partial_cmp(&n.parse::<f64>().ok()?)
            }
            (tag::TEXT, Bound::Number(n)) => {
                let s = text_of(v);
                is_plain_decimal(&s).then(|| cmp_decimal_str(&s, n))
            }
            (tag::INVALID_TEXT, _) => None,
            // Dates, date-times and times against a bound of the same kind, by value (an offset
            // in the bound is honoured; a bound without one, facing an instant, is UTC): never
            // as text, where ' ' sorts before 'T'.
            (tag::DATE | tag::INSTANT | tag::LOCAL_DATETIME | tag::TIME, Bound::Text(b)) => {
                let bound = temporal_bound(t, b)?;
                Some(crate::diff::aggregate::cmp_canonical(v, &bound))
            }
            (_, Bound::Text(b)) => {
                let s = text_of(v);
                Some(s.trim_end_matches('Z').cmp(b.trim_end_matches('Z')))
            }
            _ => None,
        }
    }
}

impl ValueRule for Range<'_> {
    fn keeps(&self, v: &[u8]) -> bool {
        self.min
            .as_ref()
            .is_none_or(|b| Range::cmp(v, b).is_some_and(|o| o.is_ge()))
            && self
                .max
                .as_ref()
                .is_none_or(|b| Range::cmp(v, b).is_some_and(|o| o.is_le()))
    }

    fn detail(&self, t: &Tally) -> String {
        let b = |b: &Option<Bound>| match b {
            Some(Bound::Number(s) | Bound::Text(s)) => s.clone(),
            None => "…".into(),
        };
        format!(
            "{} of {} values outside [{}, {}]",
            t.violations,
            t.checked,
            b(self.min),
            b(self.max)
        )
    }
}
