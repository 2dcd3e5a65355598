//! `unique`: values (or tuples of the rule's columns) that more than one row holds. Rows with a
//! NULL in the columns are skipped, as in SQL; combine with `not_null`.
//!
//! Why: a target without the source's constraint takes a batch that was loaded twice, or two
//! source rows merged onto one key, without a word.
//!
//! ```toml
//! [[rule]]
//! kind = "unique"
//! table = "order_items"
//! columns = ["order_id", "line_no"]
//! ```
//!
//! Only a count per tuple hash is kept while reading; the keys of the rows whose tuple repeats
//! are read in a second pass, only when some do, so no key is held per row.

use super::*;

pub(super) struct Unique<'r> {
    r: &'r Resolved,
    cols: Vec<usize>,
    /// Rows per tuple hash.
    groups: HashMap<u128, u64>,
    tally: Tally,
    buf: Vec<u8>,
}

impl<'r> Unique<'r> {
    pub(super) fn new(r: &'r Resolved, cols: Vec<usize>) -> Self {
        Unique {
            r,
            cols,
            groups: HashMap::new(),
            tally: Tally::default(),
            buf: Vec::new(),
        }
    }
}

impl Check for Unique<'_> {
    fn row(&mut self, row: &Row<'_>) {
        self.tally.checked += 1;
        if let Some(h) = tuple_hash(row.view, &self.cols, row.i, &mut self.buf) {
            *self.groups.entry(h).or_insert(0) += 1;
        }
    }

    fn second_read(&self) -> Option<(&[usize], HashSet<u128>)> {
        let repeated: HashSet<u128> = self
            .groups
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(h, _)| *h)
            .collect();
        (!repeated.is_empty()).then_some((self.cols.as_slice(), repeated))
    }

    fn sample(&mut self, key: KeyText) {
        self.tally.samples.push(key, None);
    }

    fn finish(mut self: Box<Self>, _end: End<'_, '_>) -> Result<Found, CheckError> {
        let mut repeated = 0u64;
        for count in self.groups.values() {
            if *count > 1 {
                repeated += 1;
                self.tally.violations += count;
            }
        }
        let detail = format!(
            "{repeated} value(s) of ({}) repeated, in {} rows",
            self.r.rule.columns.join(", "),
            self.tally.violations
        );
        Ok(Found {
            tally: self.tally,
            distinct: Some(repeated),
            detail,
            fail: false,
        })
    }
}
