//! `date_format`: text values that parse with none of the given chrono formats. Values typed as
//! dates or date-times keep the rule; other types never do. NULLs are skipped.
//!
//! Why: dates kept as text in legacy systems mix formats (`03/04/2021` and `2021-04-03`), and a
//! migration that parses them with one format swaps days and months or drops the rest.
//!
//! ```toml
//! [[rule]]
//! kind = "date_format"
//! table = "customers"
//! column = "signup"
//! formats = ["%Y-%m-%d", "%d/%m/%Y"]
//! ```

use super::*;

pub(super) struct DateFormat<'r> {
    pub(super) formats: &'r [String],
}

impl ValueRule for DateFormat<'_> {
    fn keeps(&self, v: &[u8]) -> bool {
        match split(v).0 {
            tag::DATE | tag::INSTANT | tag::LOCAL_DATETIME => true,
            tag::TEXT => {
                let s = text_of(v);
                self.formats.iter().any(|f| {
                    chrono::NaiveDateTime::parse_from_str(&s, f).is_ok()
                        || chrono::NaiveDate::parse_from_str(&s, f).is_ok()
                        || chrono::DateTime::parse_from_str(&s, f).is_ok()
                })
            }
            _ => false,
        }
    }

    fn detail(&self, t: &Tally) -> String {
        format!(
            "{} of {} values are not dates in {}",
            t.violations,
            t.checked,
            self.formats.join(" or ")
        )
    }
}
