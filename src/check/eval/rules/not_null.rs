//! `not_null`: rows with a NULL in any of the rule's columns.
//!
//! Why: a migration that maps a column wrongly, or a source value that did not convert, often
//! lands as NULL in the target, and the row count still matches.
//!
//! ```toml
//! [[rule]]
//! kind = "not_null"
//! table = "customers"
//! columns = ["email", "created_at"]
//! ```

use super::*;

pub(super) struct NotNull<'r> {
    r: &'r Resolved,
    cols: Vec<usize>,
    tally: Tally,
}

impl<'r> NotNull<'r> {
    pub(super) fn new(r: &'r Resolved, cols: Vec<usize>) -> Self {
        NotNull {
            r,
            cols,
            tally: Tally::default(),
        }
    }
}

impl Check for NotNull<'_> {
    fn row(&mut self, row: &Row<'_>) {
        self.tally.checked += 1;
        let null = self
            .cols
            .iter()
            .position(|&c| split(row.view.get(c, row.i)).0 == tag::NULL);
        if let Some(n) = null {
            self.tally.violations += 1;
            let name = &self.r.rule.columns[n];
            self.tally
                .samples
                .push((row.key)(), Some(format!("{name} is NULL")));
        }
    }

    fn finish(self: Box<Self>, _end: End<'_, '_>) -> Result<Found, CheckError> {
        let detail = format!(
            "{} of {} rows have a NULL in {}",
            self.tally.violations,
            self.tally.checked,
            self.r.rule.columns.join(", ")
        );
        Ok(Found {
            tally: self.tally,
            distinct: None,
            detail,
            fail: false,
        })
    }
}
