//! `allowed`: values not among a list. Numbers match by value (`1.50` is `1.5`); NULLs are
//! skipped; text that was not valid UTF-8 in the source never matches.
//!
//! Why: a code mapping that missed a value (`S` left as `S` where the target speaks
//! `suspended`), or a case or spelling change, keeps the column filled and wrong.
//!
//! ```toml
//! [[rule]]
//! kind = "allowed"
//! table = "orders"
//! column = "status"
//! values = ["paid", "shipped", "cancelled"]
//! ```

use super::*;

pub(super) struct Allowed<'r> {
    pub(super) values: &'r [String],
}

impl ValueRule for Allowed<'_> {
    fn keeps(&self, v: &[u8]) -> bool {
        split(v).0 != tag::INVALID_TEXT && {
            let s = text_of(v);
            self.values.iter().any(|a| same_value(a, &s))
        }
    }

    fn detail(&self, t: &Tally) -> String {
        format!(
            "{} of {} values not among the {} allowed ({} distinct)",
            t.violations,
            t.checked,
            self.values.len(),
            t.distinct.len()
        )
    }
}
