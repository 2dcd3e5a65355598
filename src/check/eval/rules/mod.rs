//! One file per rule kind, each behind [`Check`]: a check looks at the rows of its table one at
//! a time (every rule of a table shares one read) and, once the table is read, says what it
//! found. Each file says what its kind detects, why it matters in a migration, and gives an
//! example. `sql` rules run their own query (`super::sql`).
//!
//! The kinds that judge one non-NULL value at a time (`range`, `allowed`, `regex`, `length`,
//! `date_format`) share one loop, [`Values`], and give only their test and their wording
//! ([`ValueRule`]).

use super::*;

mod allowed;
mod date_format;
mod length;
mod not_null;
mod range;
mod references;
mod regex_match;
mod row_count;
mod spot;
mod unique;

/// The key tuples of every parent table of a `references` rule, by (parent, its columns).
pub(super) type Parents = HashMap<(String, Vec<String>), HashSet<u128>>;

/// What a check sees of one row.
pub(super) struct Row<'a> {
    pub(super) view: &'a View,
    pub(super) i: usize,
    /// Per column of the pass: sensitive (shown as its shape).
    pub(super) sens: &'a [bool],
    /// The row's key, made only when a check samples the row.
    pub(super) key: &'a dyn Fn() -> KeyText,
    pub(super) parents: &'a Parents,
}

/// What a check is given once its table is read.
pub(super) struct End<'a, 's> {
    /// Rows of the table.
    pub(super) rows: u64,
    pub(super) ctx: &'a Ctx,
    /// The source, for the checks that compare with it.
    pub(super) source: Option<&'a mut (dyn Source + 's)>,
}

/// Rows checked, violations, distinct violating values and sample keys.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) checked: u64,
    pub(super) violations: u64,
    pub(super) distinct: HashSet<u128>,
    pub(super) samples: Samples,
}

/// What a check found.
pub(super) struct Found {
    pub(super) tally: Tally,
    /// Distinct violating values (tuples), when the kind counts them.
    pub(super) distinct: Option<u64>,
    /// One line saying what was found.
    pub(super) detail: String,
    /// Failed although no row violates the rule (a spot key that matched two rows).
    pub(super) fail: bool,
}

impl Found {
    /// The tally with its distinct values counted.
    fn counted(tally: Tally, detail: String) -> Found {
        Found {
            distinct: Some(tally.distinct.len() as u64),
            tally,
            detail,
            fail: false,
        }
    }
}

/// One rule kind's evaluation over a read of its table.
pub(super) trait Check {
    /// Looks at one row.
    fn row(&mut self, row: &Row<'_>);
    /// The columns and tuple hashes of the rows whose keys a second read must collect, when
    /// the kind needs one (`unique`: the rows of repeated values).
    fn second_read(&self) -> Option<(&[usize], HashSet<u128>)> {
        None
    }
    /// A key found by the second read.
    fn sample(&mut self, _key: KeyText) {}
    /// What the check found, once every row is seen.
    fn finish(self: Box<Self>, end: End<'_, '_>) -> Result<Found, CheckError>;
}

/// The check of a resolved rule; `pos` gives a column's position in the pass.
pub(super) fn check<'r>(r: &'r Resolved, pos: &dyn Fn(&str) -> usize) -> Box<dyn Check + 'r> {
    let cols: Vec<usize> = r.rule.columns.iter().map(|c| pos(c)).collect();
    let col = cols.first().copied().unwrap_or(0);
    match &r.rule.kind {
        RuleKind::NotNull => Box::new(not_null::NotNull::new(r, cols)),
        RuleKind::Unique => Box::new(unique::Unique::new(r, cols)),
        RuleKind::References { parent, .. } => {
            Box::new(references::References::new(r, parent, cols))
        }
        RuleKind::RowCount(expect) => Box::new(row_count::RowCount { r, expect }),
        RuleKind::Spot { keys, expect } => Box::new(spot::Spot::new(r, keys, expect, pos)),
        RuleKind::Range(min, max) => Values::boxed(col, range::Range { min, max }),
        RuleKind::Allowed(values) => Values::boxed(col, allowed::Allowed { values }),
        RuleKind::Regex(re) => Values::boxed(col, regex_match::RegexMatch { re }),
        RuleKind::Length(min, max) => Values::boxed(
            col,
            length::Length {
                min: *min,
                max: *max,
            },
        ),
        RuleKind::DateFormat(formats) => Values::boxed(col, date_format::DateFormat { formats }),
        // Runs its own query (`super::sql`), never in a table's read.
        RuleKind::Sql(_) => Box::new(NoRows),
    }
}

/// A kind that judges one non-NULL value at a time.
pub(super) trait ValueRule {
    /// Whether the value (canonical, never NULL) keeps the rule.
    fn keeps(&self, v: &[u8]) -> bool;
    /// What was found, from the tally.
    fn detail(&self, t: &Tally) -> String;
}

/// The shared loop of the value kinds: NULLs are skipped, every other value is checked, and a
/// value that fails is counted, kept as a distinct value and sampled.
struct Values<K> {
    col: usize,
    rule: K,
    tally: Tally,
}

impl<'r, K: ValueRule + 'r> Values<K> {
    fn boxed(col: usize, rule: K) -> Box<dyn Check + 'r> {
        Box::new(Values {
            col,
            rule,
            tally: Tally::default(),
        })
    }
}

impl<K: ValueRule> Check for Values<K> {
    fn row(&mut self, row: &Row<'_>) {
        let v = row.view.get(self.col, row.i);
        if split(v).0 == tag::NULL {
            return;
        }
        self.tally.checked += 1;
        if !self.rule.keeps(v) {
            self.tally.violations += 1;
            self.tally.distinct.insert(xxh3_128(v));
            self.tally
                .samples
                .push((row.key)(), show(v, row.sens[self.col]));
        }
    }

    fn finish(self: Box<Self>, _end: End<'_, '_>) -> Result<Found, CheckError> {
        let detail = self.rule.detail(&self.tally);
        Ok(Found::counted(self.tally, detail))
    }
}

/// The text of a non-NULL value, as the value kinds read it.
fn text_of(v: &[u8]) -> String {
    let (t, p) = split(v);
    match t {
        tag::TEXT => String::from_utf8_lossy(p).into_owned(),
        _ => display(v).unwrap_or_default(),
    }
}

/// `sql` rules in a table's read: nothing to see.
struct NoRows;

impl Check for NoRows {
    fn row(&mut self, _row: &Row<'_>) {}
    fn finish(self: Box<Self>, _end: End<'_, '_>) -> Result<Found, CheckError> {
        Ok(Found {
            tally: Tally::default(),
            distinct: None,
            detail: String::new(),
            fail: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::check::spec::RuleFile;

    /// Every kind's file gives an example, and the example is a rule of that kind.
    #[test]
    fn each_kind_file_has_an_example_that_parses() {
        let files = [
            ("not_null", include_str!("not_null.rs")),
            ("unique", include_str!("unique.rs")),
            ("references", include_str!("references.rs")),
            ("row_count", include_str!("row_count.rs")),
            ("spot", include_str!("spot.rs")),
            ("range", include_str!("range.rs")),
            ("allowed", include_str!("allowed.rs")),
            ("regex", include_str!("regex_match.rs")),
            ("length", include_str!("length.rs")),
            ("date_format", include_str!("date_format.rs")),
            ("sql", include_str!("../sql.rs")),
        ];
        for (kind, src) in files {
            let example: Vec<&str> = src
                .lines()
                .skip_while(|l| *l != "//! ```toml")
                .skip(1)
                .take_while(|l| *l != "//! ```")
                .map(|l| l.trim_start_matches("//!").trim_start())
                .collect();
            assert!(!example.is_empty(), "{kind}: no example");
            let file = RuleFile::parse(&example.join("\n"), kind)
                .unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(file.rules.len(), 1, "{kind}");
            assert_eq!(file.rules[0].kind.name(), kind);
        }
    }
}
