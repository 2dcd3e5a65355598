//! Pass 2: equal rows cancel as a multiset of (key hash, row hash).

use super::*;

/// Cancels equal rows: both sides sorted by (key hash, row hash) in parallel, then merged; a
/// (key hash, row hash) present m times on one side and n on the other cancels min(m, n) times.
/// Returns the cancelled pairs, the duplicated key hashes per side (keyed diffs), and the rows
/// left.
pub(super) fn cancel(tuples: [Vec<Tuple>; 2], keyed: bool) -> (u64, [u64; 2], Vec<Tuple>) {
    let [mut a, mut b] = tuples;
    // Equal (key hash, row hash) means equal rows: which of them cancel does not matter.
    let order = |t: &Tuple| (t.key_hash, t.row_hash);
    rayon::join(
        || a.par_sort_unstable_by_key(order),
        || b.par_sort_unstable_by_key(order),
    );
    let dups_of = |v: &[Tuple]| -> u64 {
        if !keyed {
            return 0;
        }
        let mut n = 0;
        let mut i = 0;
        while i < v.len() {
            let mut j = i + 1;
            while j < v.len() && v[j].key_hash == v[i].key_hash {
                j += 1;
            }
            n += u64::from(j - i > 1);
            i = j;
        }
        n
    };
    let (da, db) = rayon::join(|| dups_of(&a), || dups_of(&b));
    let key = |t: &Tuple| (t.key_hash, t.row_hash);
    let run = |v: &[Tuple], i: usize| -> usize {
        let k = key(&v[i]);
        let mut j = i + 1;
        while j < v.len() && key(&v[j]) == k {
            j += 1;
        }
        j - i
    };
    let mut matched = 0u64;
    let mut left = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match key(&a[i]).cmp(&key(&b[j])) {
            std::cmp::Ordering::Less => {
                left.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                left.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                let (ra, rb) = (run(&a, i), run(&b, j));
                let m = ra.min(rb);
                matched += m as u64;
                left.extend_from_slice(&a[i + m..i + ra]);
                left.extend_from_slice(&b[j + m..j + rb]);
                i += ra;
                j += rb;
            }
        }
    }
    left.extend_from_slice(&a[i..]);
    left.extend_from_slice(&b[j..]);
    (matched, [da, db], left)
}
