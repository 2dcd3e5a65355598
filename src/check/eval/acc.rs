//! The per-rule accumulator: rows counted, violations and samples kept, the result judged.

use super::*;

/// A row's values by column, as shown (raw; masked when reported).
pub(super) type RowValues = BTreeMap<String, Option<String>>;

/// A spot key's row as found in the target: its key text and its values.
pub(super) type Found = Option<(KeyText, RowValues)>;

/// One rule's running state over a table pass.
pub(super) struct Acc {
    /// Positions of the rule's columns in the pass's columns.
    pub(super) cols: Vec<usize>,
    pub(super) checked: u64,
    pub(super) violations: u64,
    pub(super) distinct: HashSet<u128>,
    pub(super) samples: Samples,
    /// unique: rows per tuple hash (keys of repeated tuples are read in a second pass, so no
    /// key is held per row).
    pub(super) groups: HashMap<u128, u64>,
    /// spot: positions of each key's columns, and what was found.
    pub(super) spot_keys: Vec<Vec<(usize, String)>>,
    pub(super) spot_cols: Vec<(usize, String)>,
    pub(super) found: Vec<Found>,
    pub(super) spot_dupes: u64,
    /// Reused by tuple hashes.
    pub(super) buf: Vec<u8>,
}

impl Acc {
    pub(super) fn new(r: &Resolved, pos: &dyn Fn(&str) -> usize) -> Acc {
        let mut spot_keys = Vec::new();
        if let RuleKind::Spot { keys, .. } = &r.rule.kind {
            for k in keys {
                spot_keys.push(
                    k.iter()
                        .map(|(c, v)| {
                            let real = find_column(&r.meta.columns, c)
                                .map_or(c.clone(), |m| m.name.clone());
                            (pos(&real), v.clone())
                        })
                        .collect(),
                );
            }
        }
        Acc {
            cols: r.rule.columns.iter().map(|c| pos(c)).collect(),
            checked: 0,
            violations: 0,
            distinct: HashSet::new(),
            samples: Samples::default(),
            groups: HashMap::new(),
            found: vec![None; spot_keys.len()],
            spot_keys,
            spot_cols: r.spot_columns.iter().map(|c| (pos(c), c.clone())).collect(),
            spot_dupes: 0,
            buf: Vec::new(),
        }
    }

    pub(super) fn row(
        &mut self,
        r: &Resolved,
        parents: &HashMap<(String, Vec<String>), HashSet<u128>>,
        view: &View,
        i: usize,
        sens: &[bool],
        key: &dyn Fn() -> KeyText,
    ) {
        match &r.rule.kind {
            RuleKind::NotNull => {
                self.checked += 1;
                if let Some(&c) = self
                    .cols
                    .iter()
                    .find(|&&c| split(view.get(c, i)).0 == tag::NULL)
                {
                    self.violations += 1;
                    let name = &r.rule.columns[self.cols.iter().position(|&x| x == c).unwrap_or(0)];
                    self.samples.push(key(), Some(format!("{name} is NULL")));
                }
            }
            RuleKind::Unique => {
                self.checked += 1;
                if let Some(h) = tuple_hash(view, &self.cols, i, &mut self.buf) {
                    *self.groups.entry(h).or_insert(0) += 1;
                }
            }
            RuleKind::References { .. } => {
                self.checked += 1;
                let set = r
                    .parent
                    .as_ref()
                    .and_then(|(pm, pc)| parents.get(&(pm.name.to_string(), pc.clone())));
                if let (Some(h), Some(set)) = (tuple_hash(view, &self.cols, i, &mut self.buf), set)
                {
                    if !set.contains(&h) {
                        self.violations += 1;
                        self.distinct.insert(h);
                        let shown: Vec<String> = self
                            .cols
                            .iter()
                            .map(|&c| show(view.get(c, i), sens[c]).unwrap_or_default())
                            .collect();
                        self.samples.push(key(), Some(shown.join(", ")));
                    }
                }
            }
            RuleKind::RowCount(_) | RuleKind::Sql(_) => {}
            RuleKind::Spot { .. } => {
                for (k, want) in self.spot_keys.iter().enumerate() {
                    let hit = want
                        .iter()
                        .all(|(p, v)| display(view.get(*p, i)).is_some_and(|s| same_value(&s, v)));
                    if hit {
                        if self.found[k].is_some() {
                            self.spot_dupes += 1;
                        }
                        let values = self
                            .spot_cols
                            .iter()
                            .map(|(p, c)| (c.clone(), display(view.get(*p, i))))
                            .collect();
                        self.found[k] = Some((key(), values));
                    }
                }
            }
            kind => {
                let c = self.cols[0];
                let v = view.get(c, i);
                if split(v).0 == tag::NULL {
                    return;
                }
                self.checked += 1;
                if !keeps(kind, v) {
                    self.violations += 1;
                    self.distinct.insert(xxh3_128(v));
                    self.samples.push(key(), show(v, sens[c]));
                }
            }
        }
    }

    pub(super) fn finish(
        mut self,
        r: &Resolved,
        rows: u64,
        ctx: &Ctx,
        source: Option<&mut (dyn Source + '_)>,
    ) -> Result<RuleResult, CheckError> {
        let rule = &r.rule;
        let n = ctx.samples;
        let mut distinct = Some(self.distinct.len() as u64);
        let detail = match &rule.kind {
            RuleKind::NotNull => {
                distinct = None;
                format!(
                    "{} of {} rows have a NULL in {}",
                    self.violations,
                    self.checked,
                    rule.columns.join(", ")
                )
            }
            RuleKind::Unique => {
                let mut repeated = 0u64;
                for count in self.groups.values() {
                    if *count > 1 {
                        repeated += 1;
                        self.violations += count;
                    }
                }
                distinct = Some(repeated);
                format!(
                    "{repeated} value(s) of ({}) repeated, in {} rows",
                    rule.columns.join(", "),
                    self.violations
                )
            }
            RuleKind::Range(min, max) => {
                let b = |b: &Option<Bound>| match b {
                    Some(Bound::Number(s) | Bound::Text(s)) => s.clone(),
                    None => "…".into(),
                };
                format!(
                    "{} of {} values outside [{}, {}]",
                    self.violations,
                    self.checked,
                    b(min),
                    b(max)
                )
            }
            RuleKind::Allowed(values) => format!(
                "{} of {} values not among the {} allowed ({} distinct)",
                self.violations,
                self.checked,
                values.len(),
                self.distinct.len()
            ),
            RuleKind::Regex(re) => format!(
                "{} of {} values do not match /{}/",
                self.violations,
                self.checked,
                re.as_str()
            ),
            RuleKind::Length(min, max) => format!(
                "{} of {} values have a length outside [{}, {}]",
                self.violations,
                self.checked,
                min.map_or("…".into(), |m| m.to_string()),
                max.map_or("…".into(), |m| m.to_string())
            ),
            RuleKind::DateFormat(f) => format!(
                "{} of {} values are not dates in {}",
                self.violations,
                self.checked,
                f.join(" or ")
            ),
            RuleKind::References { parent, .. } => {
                let pc = r
                    .parent
                    .as_ref()
                    .map(|p| p.1.join(", "))
                    .unwrap_or_default();
                format!(
                    "{} of {} rows are orphans ({} distinct value(s) not in {parent}({pc}))",
                    self.violations,
                    self.checked,
                    self.distinct.len()
                )
            }
            RuleKind::RowCount(expect) => {
                distinct = None;
                self.checked = rows;
                let (lo, hi, what) = match expect {
                    CountExpect::Between(lo, hi) => (*lo, *hi, String::new()),
                    CountExpect::Source => {
                        let src = source.ok_or_else(|| CheckError::Eval {
                            rule: rule.name.clone(),
                            reason: "no source".into(),
                        })?;
                        let sm = r.source_meta.as_ref().ok_or_else(|| CheckError::Eval {
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
                self.violations = match (lo, hi) {
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
                format!("{rows} rows; expected {expected}{what}")
            }
            RuleKind::Sql(_) => String::new(),
            RuleKind::Spot { keys, expect } => {
                distinct = None;
                self.checked = keys.len() as u64;
                let source_rows: Vec<Option<RowValues>> = match expect {
                    Expect::Source => spot_source(r, keys, source)?,
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
                    let want: Vec<(String, Option<String>)> = match expect {
                        Expect::Values(v) => v
                            .iter()
                            .map(|(c, x)| {
                                let real = find_column(&r.meta.columns, c)
                                    .map_or(c.clone(), |m| m.name.clone());
                                (real, Some(x.clone()))
                            })
                            .collect(),
                        Expect::Source => match &source_rows[k] {
                            None => {
                                problems.push((
                                    kt.text.clone(),
                                    "no row with this key in the source".into(),
                                ));
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
                self.violations = problems.len() as u64;
                for (k, p) in problems {
                    self.samples.push(
                        KeyText {
                            order: vec![Some(k.clone())],
                            text: k,
                        },
                        Some(p),
                    );
                }
                let dup = if self.spot_dupes > 0 {
                    format!("; {} key(s) matched more than one row", self.spot_dupes)
                } else {
                    String::new()
                };
                format!(
                    "{} of {} key(s) differ or are missing{dup}",
                    self.violations,
                    keys.len()
                )
            }
        };
        Ok(RuleResult {
            name: rule.name.clone(),
            kind: rule.kind.name().into(),
            table: r.meta.name.to_string(),
            columns: rule.columns.clone(),
            status: if self.violations == 0 && self.spot_dupes == 0 {
                "pass"
            } else {
                "fail"
            }
            .into(),
            checked: self.checked,
            violations: self.violations,
            distinct,
            detail,
            samples: self.samples.finish(n),
            seconds: 0.0,
        })
    }
}

/// The source rows of a spot check's keys, with every column the target also has.
pub(super) fn spot_source(
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
