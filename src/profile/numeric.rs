//! Numeric statistics: mean and standard deviation (Welford, merged with Chan's formula) and
//! quantiles from a coarsening histogram.
//!
//! The histogram keys every value by an order-preserving 64-bit integer (the value itself for
//! integers and temporals, an order-preserving map of the bits for floats) and counts keys
//! shifted right by `shift`. When more than 4,096 buckets are in use, `shift` grows by one and
//! buckets pair up. The final `shift` is the smallest that fits the column's values in 4,096
//! buckets — whatever the order values arrived in or how chunks were merged — so quantiles are
//! deterministic. They are exact while `shift` is 0; otherwise each is the lower edge of its
//! bucket, at most 2^shift units below the true value (for floats: a relative error of about
//! 2^(shift-52)).

use std::collections::HashMap;

use super::distinct::FastBuild;

const MAX_BUCKETS: usize = 4096;

/// Chunks whose keys span fewer buckets than this are counted in an array.
const DENSE: usize = 1 << 14;

/// Running mean and variance.
#[derive(Clone, Copy, Default, Debug)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// Adds a value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// Adds a chunk's values: its mean and squared deviations in two passes over the chunk (as
    /// exact as Welford's, without a division per value), merged in. Values that are not
    /// finite are left out, as by [`Moments::add`].
    pub fn add_slice(&mut self, xs: &[f64]) {
        let n = xs.len();
        let sum = sum8(xs.iter().copied());
        // A non-finite value, or a sum past f64's range: value by value, which never overflows.
        if n == 0 || !sum.is_finite() {
            xs.iter().for_each(|&x| self.add(x));
            return;
        }
        let mean = sum / n as f64;
        let m2 = sum8(xs.iter().map(|&x| (x - mean) * (x - mean)));
        if !m2.is_finite() {
            xs.iter().for_each(|&x| self.add(x));
            return;
        }
        self.merge(&Moments {
            n: n as u64,
            mean,
            m2,
        });
    }

    /// Merges another set of moments (Chan et al.).
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * self.n as f64 * o.n as f64 / n as f64;
        self.n = n;
    }

    /// Mean, when any finite value was seen.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// Sample standard deviation, when two or more values were seen.
    pub fn std(&self) -> Option<f64> {
        (self.n > 1).then(|| (self.m2 / (self.n - 1) as f64).sqrt())
    }
}

/// Order-preserving map of a float into an i64.
#[inline]
pub fn float_key(x: f64) -> i64 {
    let b = x.to_bits() as i64;
    if b < 0 {
        b ^ i64::MAX
    } else {
        b
    }
}

/// Inverse of [`float_key`].
pub fn key_float(k: i64) -> f64 {
    let b = if k < 0 { k ^ i64::MAX } else { k };
    f64::from_bits(b as u64)
}

/// A sum in eight lanes (which the compiler can keep in vector registers), each carrying the
/// rounding error of its additions (Knuth's TwoSum), so that the sum of a million timestamps in
/// microseconds is still right to the microsecond.
fn sum8(xs: impl Iterator<Item = f64>) -> f64 {
    let (mut lanes, mut errs) = ([0f64; 8], [0f64; 8]);
    for (i, x) in xs.enumerate() {
        let (s, e) = (&mut lanes[i & 7], &mut errs[i & 7]);
        let t = *s + x;
        let b = t - *s;
        *e += (*s - (t - b)) + (x - b);
        *s = t;
    }
    let (mut s, mut e) = (0f64, errs.iter().sum::<f64>());
    for x in lanes {
        let t = s + x;
        let b = t - s;
        e += (s - (t - b)) + (x - b);
        s = t;
    }
    s + e
}

/// A histogram that coarsens itself to stay within 4,096 buckets.
#[derive(Clone, Default)]
pub struct Histogram {
    shift: u32,
    buckets: HashMap<i64, u64, FastBuild>,
    n: u64,
}

impl Histogram {
    /// Counts one key.
    #[inline]
    pub fn add(&mut self, key: i64) {
        self.add_n(key >> self.shift, 1);
    }

    /// Counts a chunk's keys. Where they fall within a narrow range of buckets, they are
    /// counted in an array first, then added bucket by bucket: the same counts, and the same
    /// coarsening, as key by key.
    pub fn add_keys(&mut self, keys: &[i64]) {
        let Some((&lo, &hi)) = keys.iter().min().zip(keys.iter().max()) else {
            return;
        };
        let s = self.shift;
        let (lo, hi) = (lo >> s, hi >> s);
        let span = i128::from(hi) - i128::from(lo);
        if span >= DENSE as i128 {
            keys.iter().for_each(|&k| self.add(k));
            return;
        }
        let mut counts = vec![0u64; span as usize + 1];
        for &k in keys {
            counts[((k >> s) - lo) as usize] += 1;
        }
        for (i, &c) in counts.iter().enumerate() {
            if c > 0 {
                // The shift may have grown while adding: buckets at `s` map down to it.
                let b = (lo + i as i64) >> (self.shift - s);
                self.add_n(b, c);
            }
        }
    }

    fn add_n(&mut self, bucket: i64, n: u64) {
        *self.buckets.entry(bucket).or_insert(0) += n;
        self.n += n;
        while self.buckets.len() > MAX_BUCKETS {
            self.coarsen();
        }
    }

    fn coarsen(&mut self) {
        self.shift += 1;
        let old = std::mem::take(&mut self.buckets);
        for (k, c) in old {
            *self.buckets.entry(k >> 1).or_insert(0) += c;
        }
    }

    /// Merges another histogram.
    pub fn merge(&mut self, o: &Histogram) {
        while self.shift < o.shift {
            self.coarsen();
        }
        let mut items: Vec<(i64, u64)> = o.buckets.iter().map(|(&k, &c)| (k, c)).collect();
        items.sort_unstable();
        for (k, c) in items {
            self.add_n(k >> (self.shift - o.shift), c);
        }
    }

    /// Whether quantiles are exact.
    pub fn exact(&self) -> bool {
        self.shift == 0
    }

    /// Every bucket in key order: the lowest key it holds (its lower edge) and its count.
    pub fn buckets(&self) -> Vec<(i64, u64)> {
        let mut items: Vec<(i64, u64)> = self
            .buckets
            .iter()
            .map(|(&k, &c)| (k.checked_shl(self.shift).unwrap_or(k), c))
            .collect();
        items.sort_unstable();
        items
    }

    /// The keys at the given quantiles (nearest rank), lower bucket edges.
    pub fn quantiles(&self, qs: &[f64]) -> Vec<i64> {
        if self.n == 0 {
            return Vec::new();
        }
        let mut items: Vec<(i64, u64)> = self.buckets.iter().map(|(&k, &c)| (k, c)).collect();
        items.sort_unstable();
        qs.iter()
            .map(|q| {
                let rank = ((q * (self.n - 1) as f64).round() as u64).min(self.n - 1);
                let mut seen = 0u64;
                for &(k, c) in &items {
                    seen += c;
                    if seen > rank {
                        return k.checked_shl(self.shift).unwrap_or(k);
                    }
                }
                items.last().map(|x| x.0 << self.shift).unwrap_or(0)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_key_preserves_order() {
        let xs = [-1e300, -2.0, -1.0, -0.0, 0.0, 1e-300, 1.0, 2.0, 1e300];
        for w in xs.windows(2) {
            assert!(float_key(w[0]) <= float_key(w[1]), "{:?}", w);
        }
        for x in xs {
            assert_eq!(key_float(float_key(x)).to_bits(), x.to_bits());
        }
    }

    #[test]
    fn exact_quantiles_on_small_data_and_order_independent_when_coarse() {
        let mut h = Histogram::default();
        for i in 1..=101 {
            h.add(i);
        }
        assert_eq!(h.quantiles(&[0.0, 0.5, 1.0]), vec![1, 51, 101]);
        let (mut a, mut b) = (Histogram::default(), Histogram::default());
        for i in 0..100_000i64 {
            a.add(i * 7);
            b.add((99_999 - i) * 7);
        }
        assert!(!a.exact());
        assert_eq!(a.quantiles(&[0.25, 0.5]), b.quantiles(&[0.25, 0.5]));
    }

    #[test]
    fn moments_merge_matches_single_pass() {
        let (mut a, mut b, mut all) = (Moments::default(), Moments::default(), Moments::default());
        for i in 0..1000 {
            let x = (i as f64).sin() * 100.0;
            if i < 300 {
                a.add(x)
            } else {
                b.add(x)
            }
            all.add(x);
        }
        a.merge(&b);
        assert!((a.mean().unwrap() - all.mean().unwrap()).abs() < 1e-9);
        assert!((a.std().unwrap() - all.std().unwrap()).abs() < 1e-9);
    }

    #[test]
    fn a_chunk_at_once_gives_the_moments_of_value_by_value() {
        let xs: Vec<f64> = (0..10_000).map(|i| (i as f64).sin() * 1e3 + 5e3).collect();
        let (mut one, mut chunked) = (Moments::default(), Moments::default());
        xs.iter().for_each(|&x| one.add(x));
        for c in xs.chunks(777) {
            chunked.add_slice(c);
        }
        assert_eq!(chunked.n, one.n);
        assert!((chunked.mean().unwrap() - one.mean().unwrap()).abs() < 1e-9);
        assert!((chunked.std().unwrap() / one.std().unwrap() - 1.0).abs() < 1e-12);
        // Large timestamps (µs since 1970): the chunk's mean is exact where a running mean
        // drifts. The true mean of these is T + 499,999.5.
        let t = 1_577_793_486_000_000i64;
        let ts: Vec<f64> = (0..1_000_000).map(|i| (t + i) as f64).collect();
        let mut m = Moments::default();
        m.add_slice(&ts);
        assert_eq!(m.mean(), Some(t as f64 + 499_999.5));
        // Values whose sum leaves f64's range, and infinities, fall back to value by value.
        for xs in [
            vec![1.5e308, 1.5e308, 1.5e308],
            vec![1.0, f64::INFINITY, 3.0, f64::NEG_INFINITY],
        ] {
            let (mut one, mut at_once) = (Moments::default(), Moments::default());
            xs.iter().for_each(|&x| one.add(x));
            at_once.add_slice(&xs);
            assert_eq!(
                (at_once.n, at_once.mean(), at_once.std()),
                (one.n, one.mean(), one.std())
            );
            assert!(at_once.mean().unwrap().is_finite(), "{xs:?}");
        }
    }

    #[test]
    fn keys_counted_by_chunk_give_the_histogram_of_key_by_key() {
        // Narrow chunks (counted in an array, coarsening on the way), wide ones (key by key),
        // negative keys, and one chunk that spans exactly the array's width.
        let chunks: Vec<Vec<i64>> = vec![
            (0..10_000).map(|i| i * 3 - 15_000).collect(),
            (0..50_000).map(|i| (i * 7919) % 16_384).collect(),
            vec![0, DENSE as i64 - 1],
            vec![0, DENSE as i64],
            (0..5_000).map(|i| i * 1_000_003).collect(),
            vec![i64::MIN, i64::MAX, -1, 0],
            Vec::new(),
        ];
        let (mut one, mut chunked) = (Histogram::default(), Histogram::default());
        for c in &chunks {
            c.iter().for_each(|&k| one.add(k));
            chunked.add_keys(c);
            assert_eq!((chunked.shift, chunked.n), (one.shift, one.n));
            assert_eq!(chunked.buckets(), one.buckets());
        }
        assert!(!one.exact());
        // A chunk of few distinct keys while the shift is 0 stays exact.
        let mut h = Histogram::default();
        h.add_keys(&[5, 5, 7, 16_000, 5]);
        assert!(h.exact());
        assert_eq!(h.buckets(), vec![(5, 3), (7, 1), (16_000, 1)]);
    }
}
