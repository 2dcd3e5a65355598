//! Passes 4 and 5: the rows left settled by exact key bytes (changed, missing, extra) and their
//! differing cells classified.

use super::*;

pub(super) enum Item {
    Changed(Box<[u8]>, Box<[u8]>),
    Missing(Box<[u8]>),
    Extra(Box<[u8]>),
}

#[derive(Default)]
pub(super) struct PartOut {
    pub(super) rows: Vec<DiffRow>,
    pub(super) matched: u64,
    pub(super) matched_by_rule: u64,
    pub(super) mismatched: u64,
    pub(super) missing: u64,
    pub(super) extra: u64,
    /// Per column: rule → cells, class → cells.
    pub(super) rules: Vec<BTreeMap<String, u64>>,
    pub(super) classes: Vec<BTreeMap<String, u64>>,
}

/// Multiset matching of one partition's leftover rows: the rows matched, and the items left,
/// each with its key hash (the order `reckon merge` interleaves shards by).
pub(super) fn settle(mut recs: Vec<Record>, pairing: &Pairing) -> (u64, Vec<Item>, Vec<u64>) {
    let key_len = pairing.key_len;
    recs.sort_unstable_by(|a, b| {
        (a.key_hash, a.row_hash, a.side, &a.row).cmp(&(b.key_hash, b.row_hash, b.side, &b.row))
    });
    let mut matched = 0;
    let mut items = Vec::new();
    let mut key_hashes = Vec::new();
    let mut i = 0;
    while i < recs.len() {
        let kh = recs[i].key_hash;
        let mut j = i;
        while j < recs.len() && recs[j].key_hash == kh {
            j += 1;
        }
        // Within one key hash: cancel equal rows (multiset), keep the rest.
        let mut left: [Vec<Box<[u8]>>; 2] = [Vec::new(), Vec::new()];
        let mut a = i;
        while a < j {
            let rh = recs[a].row_hash;
            let mut b = a;
            let mut count = [0usize; 2];
            while b < j && recs[b].row_hash == rh {
                count[recs[b].side as usize] += 1;
                b += 1;
            }
            let both = count[0].min(count[1]);
            matched += both as u64;
            let mut used = [0usize; 2];
            for r in recs[a..b].iter_mut() {
                let s = r.side as usize;
                used[s] += 1;
                if used[s] > both {
                    left[s].push(std::mem::take(&mut r.row));
                }
            }
            a = b;
        }
        if key_len == 0 && pairing.rules.is_empty() {
            items.extend(left[0].drain(..).map(Item::Missing));
            items.extend(left[1].drain(..).map(Item::Extra));
        } else {
            let mut keys: Vec<Cow<[u8]>> = left.iter().flatten().map(|r| pairing.key(r)).collect();
            keys.sort_unstable();
            keys.dedup();
            let keys: Vec<Vec<u8>> = keys.into_iter().map(Cow::into_owned).collect();
            for k in keys {
                let pick = |s: usize| -> Vec<Box<[u8]>> {
                    left[s]
                        .iter()
                        .filter(|r| pairing.key(r).as_ref() == k.as_slice())
                        .cloned()
                        .collect()
                };
                let (mut s, mut t) = (pick(0), pick(1));
                if key_len == 0 {
                    // A keyless diff under pairing rules: rows equal under the rules pair one
                    // to one (in their sorted order), the rest are missing or extra.
                    let both = s.len().min(t.len());
                    let (rest_s, rest_t) = (s.split_off(both), t.split_off(both));
                    items.extend(s.into_iter().zip(t).map(|(a, b)| Item::Changed(a, b)));
                    items.extend(rest_s.into_iter().map(Item::Missing));
                    items.extend(rest_t.into_iter().map(Item::Extra));
                } else if s.len() == 1 && t.len() == 1 {
                    items.push(Item::Changed(s.remove(0), t.remove(0)));
                } else {
                    items.extend(s.into_iter().map(Item::Missing));
                    items.extend(t.into_iter().map(Item::Extra));
                }
            }
        }
        key_hashes.resize(items.len(), kh);
        i = j;
    }
    (matched, items, key_hashes)
}

pub(super) fn show(v: &[u8], sensitive: bool) -> Option<String> {
    display(v).map(|s| if sensitive { shape(&s) } else { s })
}

pub(super) fn key_of(row: &[u8], plan: &TablePlan) -> (Vec<Option<String>>, String) {
    let cs = cells(row);
    let n = if plan.key_len == 0 {
        plan.columns.len()
    } else {
        plan.key_len
    };
    let values: Vec<Option<String>> = cs
        .iter()
        .take(n)
        .zip(&plan.columns)
        .map(|(c, p)| show(c, p.sensitive))
        .collect();
    let text = plan
        .columns
        .iter()
        .zip(&values)
        .map(|(p, v)| format!("{}={}", p.source, v.as_deref().unwrap_or("NULL")))
        .collect::<Vec<_>>()
        .join(", ");
    (values, text)
}

pub(super) fn row_of(
    row: &[u8],
    plan: &TablePlan,
    status: RowStatus,
    cells: Vec<CellDiff>,
    key_hash: u64,
) -> DiffRow {
    let (key, key_text) = key_of(row, plan);
    // A row on one side only carries its other values (a keyless row is all key).
    let values = match status {
        RowStatus::Missing | RowStatus::Extra if plan.key_len > 0 => {
            crate::value::canonical::cells(row)
                .iter()
                .zip(&plan.columns)
                .skip(plan.key_len)
                .map(|(c, p)| RowValue {
                    column: p.source.clone(),
                    value: show(c, p.sensitive),
                })
                .collect()
        }
        _ => Vec::new(),
    };
    DiffRow {
        key_hash,
        key,
        key_text,
        status,
        cells,
        values,
    }
}

pub(super) fn classify_items(
    items: Vec<Item>,
    key_hashes: Vec<u64>,
    plan: &TablePlan,
    out: &mut PartOut,
) {
    let ncols = plan.columns.len();
    out.rules = vec![BTreeMap::new(); ncols];
    out.classes = vec![BTreeMap::new(); ncols];
    for (item, kh) in items.into_iter().zip(key_hashes) {
        match item {
            Item::Missing(r) => {
                out.missing += 1;
                out.rows
                    .push(row_of(&r, plan, RowStatus::Missing, Vec::new(), kh));
            }
            Item::Extra(r) => {
                out.extra += 1;
                out.rows
                    .push(row_of(&r, plan, RowStatus::Extra, Vec::new(), kh));
            }
            Item::Changed(a, b) => {
                let (ca, cb) = (cells(&a), cells(&b));
                let mut diffs = Vec::new();
                let mut any_mismatch = false;
                for (c, p) in plan.columns.iter().enumerate() {
                    let (x, y) = (
                        ca.get(c).copied().unwrap_or(&[]),
                        cb.get(c).copied().unwrap_or(&[]),
                    );
                    if x == y {
                        continue;
                    }
                    let (verdict, class) = match p.rules.matching(x, y) {
                        Some(rule) => {
                            *out.rules[c].entry(rule.clone()).or_default() += 1;
                            (Verdict::MatchByRule, rule)
                        }
                        None => {
                            any_mismatch = true;
                            let k = classify(x, y).name().to_string();
                            *out.classes[c].entry(k.clone()).or_default() += 1;
                            (Verdict::Mismatch, k)
                        }
                    };
                    diffs.push(CellDiff {
                        column: p.source.clone(),
                        verdict,
                        class,
                        source: show(x, p.sensitive),
                        target: show(y, p.sensitive),
                    });
                }
                if any_mismatch {
                    out.mismatched += 1;
                    out.rows
                        .push(row_of(&a, plan, RowStatus::Changed, diffs, kh));
                } else if diffs.is_empty() {
                    out.matched += 1;
                } else {
                    out.matched_by_rule += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_key() -> Pairing {
        Pairing {
            key_len: 1,
            rules: Vec::new(),
        }
    }

    fn rec(side: u8, key: u8, val: u8) -> Record {
        let mut row = Vec::new();
        for (t, v) in [(3u8, key), (3u8, val)] {
            row.push(t);
            row.extend_from_slice(&1u32.to_le_bytes());
            row.push(v);
        }
        Record {
            side,
            key_hash: xxh3_64(&row[..6]),
            row_hash: xxh3_128(&row),
            row: row.into(),
        }
    }

    fn kinds(items: &[Item]) -> Vec<&'static str> {
        items
            .iter()
            .map(|i| match i {
                Item::Changed(..) => "changed",
                Item::Missing(_) => "missing",
                Item::Extra(_) => "extra",
            })
            .collect()
    }

    #[test]
    fn duplicates_are_a_multiset_never_paired_many_to_many() {
        // (1,'a'),(1,'a') vs (1,'a'): one missing duplicate.
        let (m, items, _) = settle(
            vec![rec(0, 1, b'a'), rec(0, 1, b'a'), rec(1, 1, b'a')],
            &by_key(),
        );
        assert_eq!((m, kinds(&items)), (1, vec!["missing"]));
        // (1,'A'),(1,'B') vs (1,'B'),(1,'A'): a multiset match.
        let (m, items, _) = settle(
            vec![
                rec(0, 1, b'A'),
                rec(0, 1, b'B'),
                rec(1, 1, b'B'),
                rec(1, 1, b'A'),
            ],
            &by_key(),
        );
        assert_eq!((m, items.len()), (2, 0));
        // (1,'A'),(1,'B') vs (1,'C'),(1,'D'): never paired.
        let (_, items, _) = settle(
            vec![
                rec(0, 1, b'A'),
                rec(0, 1, b'B'),
                rec(1, 1, b'C'),
                rec(1, 1, b'D'),
            ],
            &by_key(),
        );
        assert_eq!(kinds(&items), vec!["missing", "missing", "extra", "extra"]);
        // One row each side under a key: changed.
        let (_, items, _) = settle(vec![rec(0, 2, b'x'), rec(1, 2, b'y')], &by_key());
        assert_eq!(kinds(&items), vec!["changed"]);
    }

    #[test]
    fn a_key_hash_collision_never_pairs_two_keys() {
        let mut a = rec(0, 1, b'x');
        let mut b = rec(1, 2, b'y');
        a.key_hash = 7;
        b.key_hash = 7;
        let (_, items, _) = settle(vec![a, b], &by_key());
        assert_eq!(kinds(&items), vec!["missing", "extra"]);
    }
}
