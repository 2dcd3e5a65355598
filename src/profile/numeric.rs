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
}
