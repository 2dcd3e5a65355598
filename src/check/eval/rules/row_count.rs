//! `row_count`: the table's row count, within bounds or equal to the source table's.
//!
//! Why: the first thing anyone asks after a move, and the cheapest: a unit that stopped early,
//! a filter that was too wide, or a batch loaded twice shows here first.
//!
//! ```toml
//! [[rule]]
//! kind = "row_count"
//! table = "orders"
//! equals = "source"          # or min = 1000, max = 2000
//! ```

use super::*;

pub(super) struct RowCount<'r> {
    pub(super) r: &'r Resolved,
    pub(super) expect: &'r CountExpect,
}

impl Check for RowCount<'_> {
    fn row(&mut self, _row: &Row<'_>) {}

    fn finish(self: Box<Self>, end: End<'_, '_>) -> Result<Found, CheckError> {
        let rule = &self.r.rule;
        let rows = end.rows;
        let (lo, hi, what) = match self.expect {
            CountExpect::Between(lo, hi) => (*lo, *hi, String::new()),
            CountExpect::Source => {
                let src = end.source.ok_or_else(|| CheckError::Eval {
                    rule: rule.name.clone(),
                    reason: "no source".into(),
                })?;
                let sm = self
                    .r
                    .source_meta
                    .as_ref()
                    .ok_or_else(|| CheckError::Eval {
                        rule: rule.name.clone(),
                        reason: "no source table".into(),
                    })?;
                let first: Vec<String> =
                    sm.columns.iter().take(1).map(|c| c.name.clone()).collect();
                let mut count = 0u64;
                scan(src, sm, &first, |v| count += v.rows as u64)?;
                (
                    Some(count),
                    Some(count),
                    format!(" (the source's {})", sm.name),
                )
            }
        };
        let violations = match (lo, hi) {
            (Some(lo), _) if rows < lo => lo - rows,
            (_, Some(hi)) if rows > hi => rows - hi,
            _ => 0,
        };
        let expected = match (lo, hi) {
            (Some(a), Some(b)) if a == b => format!("{a}"),
            (a, b) => format!(
                "between {} and {}",
                a.map_or("…".into(), |x| x.to_string()),
                b.map_or("…".into(), |x| x.to_string())
            ),
        };
        Ok(Found {
            tally: Tally {
                checked: rows,
                violations,
                ..Tally::default()
            },
            distinct: None,
            detail: format!("{rows} rows; expected {expected}{what}"),
            fail: false,
        })
    }
}
