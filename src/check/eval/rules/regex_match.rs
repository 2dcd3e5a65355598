//! `regex`: values that do not match a pattern (Rust `regex` syntax; anchor it with `^…$` to
//! match the whole value). NULLs are skipped; text that was not valid UTF-8 never matches.
//!
//! Why: formats that the type does not enforce (postcodes, phone numbers, IBANs, SKUs) are
//! where trimming, padding and encoding damage show.
//!
//! ```toml
//! [[rule]]
//! kind = "regex"
//! table = "customers"
//! column = "postcode"
//! pattern = '^\d{5}$'
//! ```

use super::*;

pub(super) struct RegexMatch<'r> {
    pub(super) re: &'r ::regex::Regex,
}

impl ValueRule for RegexMatch<'_> {
    fn keeps(&self, v: &[u8]) -> bool {
        split(v).0 != tag::INVALID_TEXT && self.re.is_match(&text_of(v))
    }

    fn detail(&self, t: &Tally) -> String {
        format!(
            "{} of {} values do not match /{}/",
            t.violations,
            t.checked,
            self.re.as_str()
        )
    }
}
