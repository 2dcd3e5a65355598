//! `references`: rows whose values (tuple) are not among the parent table's key values — orphans.
//! Rows with a NULL in the columns are skipped, as a foreign key does.
//!
//! Why: units loaded out of order, a filtered parent, or keys remapped on one side only leave
//! child rows pointing nowhere; targets often load without their foreign keys.
//!
//! ```toml
//! [[rule]]
//! kind = "references"
//! table = "orders"
//! column = "customer_id"
//! parent = "customers"
//! parent_columns = ["id"]
//! ```

use super::*;

pub(super) struct References<'r> {
    r: &'r Resolved,
    parent: &'r str,
    cols: Vec<usize>,
    tally: Tally,
    buf: Vec<u8>,
}

impl<'r> References<'r> {
    pub(super) fn new(r: &'r Resolved, parent: &'r str, cols: Vec<usize>) -> Self {
        References {
            r,
            parent,
            cols,
            tally: Tally::default(),
            buf: Vec::new(),
        }
    }
}

impl Check for References<'_> {
    fn row(&mut self, row: &Row<'_>) {
        self.tally.checked += 1;
        let set = self
            .r
            .parent
            .as_ref()
            .and_then(|(pm, pc)| row.parents.get(&(pm.name.to_string(), pc.clone())));
        let (Some(h), Some(set)) = (tuple_hash(row.view, &self.cols, row.i, &mut self.buf), set)
        else {
            return;
        };
        if !set.contains(&h) {
            self.tally.violations += 1;
            self.tally.distinct.insert(h);
            let shown: Vec<String> = self
                .cols
                .iter()
                .map(|&c| show(row.view.get(c, row.i), row.sens[c]).unwrap_or_default())
                .collect();
            self.tally.samples.push((row.key)(), Some(shown.join(", ")));
        }
    }

    fn finish(self: Box<Self>, _end: End<'_, '_>) -> Result<Found, CheckError> {
        let pc = self
            .r
            .parent
            .as_ref()
            .map(|p| p.1.join(", "))
            .unwrap_or_default();
        let detail = format!(
            "{} of {} rows are orphans ({} distinct value(s) not in {}({pc}))",
            self.tally.violations,
            self.tally.checked,
            self.tally.distinct.len(),
            self.parent
        );
        Ok(Found::counted(self.tally, detail))
    }
}
