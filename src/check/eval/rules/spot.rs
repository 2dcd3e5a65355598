//! `spot`: named rows (by key) hold the given values, or the source row's values. A key with no
//! row, a value that differs, and a key that matches more than one row all fail it.
//!
//! Why: the rows a business knows by heart (the largest customer, the oldest contract, the row
//! with the accented name) are the ones a sign-off is asked about; counts and checksums do not
//! say which row went wrong.
//!
//! ```toml
//! [[rule]]
//! kind = "spot"
//! table = "customers"
//! keys = [{ id = 1126 }, { id = 7 }]
//! expect = "source"          # or expect = { email = "ann@example.com" } (one key)
//! ```

use super::*;

/// A row's values by column, as shown (raw; masked when reported).
type RowValues = BTreeMap<String, Option<String>>;

pub(super) struct Spot<'r> {
    r: &'r Resolved,
    keys: &'r [BTreeMap<String, String>],
    expect: &'r Expect,
    /// Positions of each key's columns in the pass, with the value wanted.
    spot_keys: Vec<Vec<(usize, String)>>,
    /// The columns kept of a found row.
    spot_cols: Vec<(usize, String)>,
    /// Per key: the row found (its key text and values).
    found: Vec<Option<(KeyText, RowValues)>>,
    /// Keys that matched a second row.
    dupes: u64,
}

impl<'r> Spot<'r> {
    pub(super) fn new(
        r: &'r Resolved,
        keys: &'r [BTreeMap<String, String>],
        expect: &'r Expect,
        pos: &dyn Fn(&str) -> usize,
    ) -> Self {
        let spot_keys: Vec<Vec<(usize, String)>> = keys
            .iter()
            .map(|k| {
                k.iter()
                    .map(|(c, v)| {
                        let real =
                            find_column(&r.meta.columns, c).map_or(c.clone(), |m| m.name.clone());
                        (pos(&real), v.clone())
                    })
                    .collect()
            })
            .collect();
        Spot {
            r,
            keys,
            expect,
            found: vec![None; spot_keys.len()],
            spot_keys,
            spot_cols: r.spot_columns.iter().map(|c| (pos(c), c.clone())).collect(),
            dupes: 0,
        }
    }
}

impl Check for Spot<'_> {
    fn row(&mut self, row: &Row<'_>) {
        let (view, i) = (row.view, row.i);
        for (k, want) in self.spot_keys.iter().enumerate() {
            let hit = want
                .iter()
                .all(|(p, v)| display(view.get(*p, i)).is_some_and(|s| same_value(&s, v)));
            if hit {
                if self.found[k].is_some() {
                    self.dupes += 1;
                }
                let values = self
                    .spot_cols
                    .iter()
                    .map(|(p, c)| (c.clone(), display(view.get(*p, i))))
                    .collect();
                self.found[k] = Some(((row.key)(), values));
            }
        }
    }

    fn finish(self: Box<Self>, end: End<'_, '_>) -> Result<Found, CheckError> {
        let (r, keys, ctx) = (self.r, self.keys, end.ctx);
        let source_rows: Vec<Option<RowValues>> = match self.expect {
            Expect::Source => spot_source(r, keys, end.source)?,
            Expect::Values(_) => Vec::new(),
        };
        let mut problems = Vec::new();
        for (k, found) in self.found.iter().enumerate() {
            let key_text = keys[k]
                .iter()
                .map(|(c, v)| {
                    format!(
                        "{c}={}",
                        if ctx.sensitive(c) {
                            shape(v)
                        } else {
                            v.clone()
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let Some((kt, values)) = found else {
                problems.push((key_text, "no row with this key in the target".to_string()));
                continue;
            };
            let want: Vec<(String, Option<String>)> = match self.expect {
                Expect::Values(v) => v
                    .iter()
                    .map(|(c, x)| {
                        let real =
                            find_column(&r.meta.columns, c).map_or(c.clone(), |m| m.name.clone());
                        (real, Some(x.clone()))
                    })
                    .collect(),
                Expect::Source => match &source_rows[k] {
                    None => {
                        problems
                            .push((kt.text.clone(), "no row with this key in the source".into()));
                        continue;
                    }
                    Some(sv) => sv.iter().map(|(c, x)| (c.clone(), x.clone())).collect(),
                },
            };
            let mut diffs = Vec::new();
            for (c, w) in want {
                let Some(got) = values
                    .iter()
                    .find(|(t, _)| t.eq_ignore_ascii_case(&c))
                    .map(|x| x.1.clone())
                else {
                    continue;
                };
                let equal = match (&w, &got) {
                    (None, None) => true,
                    (Some(a), Some(b)) => same_value(a, b),
                    _ => false,
                };
                if !equal {
                    let s = |x: &Option<String>| match x {
                        None => "NULL".to_string(),
                        Some(v) if ctx.sensitive(&c) => shape(v),
                        Some(v) => format!("'{v}'"),
                    };
                    diffs.push(format!("{c}: expected {} got {}", s(&w), s(&got)));
                }
            }
            if !diffs.is_empty() {
                problems.push((kt.text.clone(), diffs.join("; ")));
            }
        }
        let mut tally = Tally {
            checked: keys.len() as u64,
            violations: problems.len() as u64,
            ..Tally::default()
        };
        for (k, p) in problems {
            tally.samples.push(
                KeyText {
                    order: vec![Some(k.clone())],
                    text: k,
                },
                Some(p),
            );
        }
        let dup = if self.dupes > 0 {
            format!("; {} key(s) matched more than one row", self.dupes)
        } else {
            String::new()
        };
        let detail = format!(
            "{} of {} key(s) differ or are missing{dup}",
            tally.violations,
            keys.len()
        );
        Ok(Found {
            tally,
            distinct: None,
            detail,
            fail: self.dupes > 0,
        })
    }
}

/// The source rows of a spot check's keys, with every column the target also has.
fn spot_source(
    r: &Resolved,
    keys: &[BTreeMap<String, String>],
    source: Option<&mut (dyn Source + '_)>,
) -> Result<Vec<Option<RowValues>>, CheckError> {
    let (Some(src), Some(sm)) = (source, r.source_meta.as_ref()) else {
        return Err(CheckError::Eval {
            rule: r.rule.name.clone(),
            reason: "no source to compare with".into(),
        });
    };
    // Columns both sides have, by name (case-insensitive); source names.
    let cols: Vec<String> = r
        .spot_columns
        .iter()
        .filter_map(|c| find_column(&sm.columns, c).map(|m| m.name.clone()))
        .collect();
    let mut key_pos = Vec::new();
    for k in keys {
        let mut v = Vec::new();
        for (c, val) in k {
            let p = cols
                .iter()
                .position(|x| x.eq_ignore_ascii_case(c))
                .ok_or_else(|| CheckError::Eval {
                    rule: r.rule.name.clone(),
                    reason: format!("key column '{c}' is not in the source table {}", sm.name),
                })?;
            v.push((p, val.clone()));
        }
        key_pos.push(v);
    }
    let mut found: Vec<Option<RowValues>> = vec![None; keys.len()];
    scan(src, sm, &cols, |view| {
        for i in 0..view.rows {
            for (k, want) in key_pos.iter().enumerate() {
                if want
                    .iter()
                    .all(|(p, v)| display(view.get(*p, i)).is_some_and(|s| same_value(&s, v)))
                {
                    let values = cols
                        .iter()
                        .enumerate()
                        .map(|(p, c)| (c.clone(), display(view.get(p, i))))
                        .collect();
                    found[k] = Some(values);
                }
            }
        }
    })?;
    Ok(found)
}
