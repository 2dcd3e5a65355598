//! Pass 2: equal rows cancel as a multiset of (key hash, row hash).

use super::*;

/// Cancels equal rows: each side grouped in place by key-hash partition, then per partition (in
/// parallel, small enough to sort in cache) both sides sorted by (key hash, row hash) and merged;
/// a (key hash, row hash) present m times on one side and n on the other cancels min(m, n) times.
/// Returns the cancelled pairs, the duplicated key hashes per side (keyed diffs), and the rows
/// left in (key hash, row hash) order.
pub(super) fn cancel(tuples: [Vec<Tuple>; 2], keyed: bool) -> (u64, [u64; 2], Vec<Tuple>) {
    let [mut a, mut b] = tuples;
    let (ba, bb) = rayon::join(|| group(&mut a), || group(&mut b));
    let outs: Vec<(u64, [u64; 2], Vec<Tuple>)> = split(&mut a, &ba)
        .into_par_iter()
        .zip(split(&mut b, &bb))
        .map(|(a, b)| cancel_sorted(a, b, keyed))
        .collect();
    let mut matched = 0;
    let mut dups = [0u64; 2];
    let mut left = Vec::with_capacity(outs.iter().map(|o| o.2.len()).sum());
    for (m, d, l) in outs {
        matched += m;
        dups[0] += d[0];
        dups[1] += d[1];
        left.extend(l);
    }
    (matched, dups, left)
}

/// Groups tuples in place by partition ([`partition_of`], in order) and returns where each
/// partition starts (and the end): one counting pass, then each tuple swapped to its group.
fn group(v: &mut [Tuple]) -> [usize; PARTITIONS + 1] {
    let mut bounds = [0usize; PARTITIONS + 1];
    for t in v.iter() {
        bounds[partition_of(t.key_hash) + 1] += 1;
    }
    for p in 0..PARTITIONS {
        bounds[p + 1] += bounds[p];
    }
    let mut next = bounds;
    for p in 0..PARTITIONS {
        while next[p] < bounds[p + 1] {
            let q = partition_of(v[next[p]].key_hash);
            if q == p {
                next[p] += 1;
            } else {
                v.swap(next[p], next[q]);
                next[q] += 1;
            }
        }
    }
    bounds
}

/// The partitions of grouped tuples, as slices.
fn split<'a>(mut v: &'a mut [Tuple], bounds: &[usize; PARTITIONS + 1]) -> Vec<&'a mut [Tuple]> {
    let mut out = Vec::with_capacity(PARTITIONS);
    for p in 0..PARTITIONS {
        let (head, tail) = std::mem::take(&mut v).split_at_mut(bounds[p + 1] - bounds[p]);
        out.push(head);
        v = tail;
    }
    out
}

/// [`cancel`] within one partition.
pub(super) fn cancel_sorted(
    a: &mut [Tuple],
    b: &mut [Tuple],
    keyed: bool,
) -> (u64, [u64; 2], Vec<Tuple>) {
    // Equal (key hash, row hash) means equal rows: which of them cancel does not matter.
    let order = |t: &Tuple| (t.key_hash, t.row_hash);
    a.sort_unstable_by_key(order);
    b.sort_unstable_by_key(order);
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
    let (da, db) = (dups_of(a), dups_of(b));
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
                let (ra, rb) = (run(a, i), run(b, j));
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
