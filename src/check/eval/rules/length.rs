//! `length`: values whose length is outside `[min, max]`: characters for text, bytes for binary
//! values. NULLs are skipped.
//!
//! Why: a target column narrower than the source truncates silently on some engines, and
//! padding (CHAR) or stray whitespace lengthens values that look the same.
//!
//! ```toml
//! [[rule]]
//! kind = "length"
//! table = "customers"
//! column = "country"
//! min = 2
//! max = 2
//! ```

use super::*;

pub(super) struct Length {
    pub(super) min: Option<u64>,
    pub(super) max: Option<u64>,
}

impl ValueRule for Length {
    fn keeps(&self, v: &[u8]) -> bool {
        let (t, p) = split(v);
        let n = match t {
            tag::BYTES => p.len() as u64,
            _ => text_of(v).chars().count() as u64,
        };
        self.min.is_none_or(|m| n >= m) && self.max.is_none_or(|m| n <= m)
    }

    fn detail(&self, t: &Tally) -> String {
        format!(
            "{} of {} values have a length outside [{}, {}]",
            t.violations,
            t.checked,
            self.min.map_or("…".into(), |m| m.to_string()),
            self.max.map_or("…".into(), |m| m.to_string())
        )
    }
}
