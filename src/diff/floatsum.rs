//! An exact sum of floats, for the column aggregates: the same sum whatever the order of the
//! values, the chunking, the threads or the shards.

/// An exact sum of floats (Shewchuk's partials, as Python's `math.fsum`): the result is the
/// float nearest the exact sum, whatever the order of the values or how they were chunked, so
/// two reads of the same column always show the same sum.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FloatSum {
    /// Non-overlapping partials, increasing in magnitude; their exact sum is the sum so far.
    pub(super) partials: Vec<f64>,
    /// The sum of the non-finite values (NaN, ±infinity), which the partials cannot hold.
    pub(super) special: f64,
}

/// x × 2^k, exact whenever the result is a float (x holds at most 50 significant bits).
fn scale2(x: f64, k: i32) -> f64 {
    let pow2 = |k: i32| {
        if k >= -1022 {
            f64::from_bits(((k + 1023) as u64) << 52)
        } else {
            f64::from_bits(1u64 << (k + 1074))
        }
    };
    if k > 1000 {
        x * pow2(k - 100) * pow2(100)
    } else {
        x * pow2(k)
    }
}

impl FloatSum {
    /// Adds one value, exactly.
    pub fn add(&mut self, v: f64) {
        if !v.is_finite() {
            self.special += v;
            return;
        }
        let mut x = v;
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            if !hi.is_finite() {
                // Past the float range the sum is no longer exact: it is the infinity.
                self.special += hi;
                return;
            }
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    /// Adds many values, exactly: each value's integer significand is summed per binary exponent
    /// in an i128 (no rounding, no overflow below 2^64 values), and the few bins are added at the
    /// end, split into pieces a float holds exactly.
    pub fn add_all(&mut self, values: impl Iterator<Item = f64>) {
        let mut bins = vec![0i128; 2047];
        let mut used = false;
        for v in values {
            let bits = v.to_bits();
            let exp = ((bits >> 52) & 0x7ff) as usize;
            if exp == 0x7ff {
                self.special += v;
                continue;
            }
            let frac = (bits & ((1 << 52) - 1)) as i128;
            // Subnormals have no implicit bit and the exponent of the smallest normals.
            let (m, e) = if exp == 0 {
                (frac, 1)
            } else {
                (frac | (1 << 52), exp)
            };
            bins[e] += if bits >> 63 == 1 { -m } else { m };
            used = true;
        }
        if !used {
            return;
        }
        for (e, &b) in bins.iter().enumerate() {
            if b == 0 {
                continue;
            }
            let (neg, mut mag) = (b < 0, b.unsigned_abs());
            // bin × 2^(e − 1075), in pieces of 50 bits (each exact as a float).
            let mut shift = e as i32 - 1075;
            while mag != 0 {
                let piece = (mag & ((1 << 50) - 1)) as f64;
                let x = scale2(if neg { -piece } else { piece }, shift);
                self.add(x);
                mag >>= 50;
                shift += 50;
            }
        }
    }

    /// Adds another exact sum.
    pub fn merge(&mut self, other: &FloatSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.special += other.special;
    }

    /// The float nearest the exact sum (ties to even).
    pub fn value(&self) -> f64 {
        if self.special != 0.0 || self.special.is_nan() {
            return self.special;
        }
        let p = &self.partials;
        let mut n = p.len();
        if n == 0 {
            return 0.0;
        }
        n -= 1;
        let mut hi = p[n];
        let mut lo = 0.0;
        while n > 0 {
            let x = hi;
            n -= 1;
            let y = p[n];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        // Half-way cases: round by the sign of what lies below.
        if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            if y == x - hi {
                hi = x;
            }
        }
        hi
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array};

    use super::*;
    use crate::diff::aggregate::AggregateAcc;
    use crate::diff::plan::Read;
    use crate::value::canonical::TextAs;

    fn read(t: TextAs) -> Read {
        Read::plain(t)
    }

    fn fsum(vs: &[f64]) -> f64 {
        let mut s = FloatSum::default();
        for &v in vs {
            s.add(v);
        }
        s.value()
    }

    #[test]
    fn float_sums_are_exact_and_correctly_rounded() {
        // Naively 0.0 (1e100 absorbs 1.0); exactly 1.0.
        assert_eq!(fsum(&[1e100, 1.0, -1e100]), 1.0);
        // Naively 0.9999999999999999.
        assert_eq!(fsum(&[0.1; 10]), 1.0);
        // 2^53 + 1 + 2^-50 lies just above the half-way point: rounds up, not to even.
        let two53 = 9_007_199_254_740_992.0;
        assert_eq!(fsum(&[two53, 1.0, 2f64.powi(-50)]), two53 + 2.0);
        // Exactly half-way: ties to even (down).
        assert_eq!(fsum(&[two53, 1.0]), two53);
        assert_eq!(fsum(&[]), 0.0);
        assert_eq!(fsum(&[-0.5, 0.25]), -0.25);
    }

    #[test]
    fn float_sums_do_not_depend_on_order_or_chunking() {
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut vals = Vec::new();
        for _ in 0..5000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let exp = (rng % 60) as i32 - 30;
            let sign = if rng & 1 == 0 { 1.0 } else { -1.0 };
            vals.push(sign * ((rng >> 11) as f64 / (1u64 << 53) as f64) * 2f64.powi(exp));
        }
        let whole = fsum(&vals);
        let mut rev = vals.clone();
        rev.reverse();
        assert_eq!(fsum(&rev).to_bits(), whole.to_bits());
        // In chunks of 7, merged.
        let mut merged = FloatSum::default();
        for c in vals.chunks(7) {
            let mut part = FloatSum::default();
            for &v in c {
                part.add(v);
            }
            merged.merge(&part);
        }
        assert_eq!(merged.value().to_bits(), whole.to_bits());
        // Through the accumulator, in two chunk sizes.
        let by = |n: usize| {
            let mut acc = AggregateAcc::default();
            for c in vals.chunks(n) {
                let mut a = AggregateAcc::default();
                a.update(
                    &(Arc::new(Float64Array::from(c.to_vec())) as ArrayRef),
                    &read(TextAs::Text),
                );
                acc.merge(a);
            }
            acc.finish(false).sum
        };
        assert_eq!(by(100), by(333));
        assert_eq!(by(100), Some(format!("≈{whole}")));
    }

    #[test]
    fn float_sums_by_exponent_bins_equal_the_partials() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for round in 0..40 {
            // Any bit pattern: subnormals, the largest exponents, both signs, NaN and infinity.
            let vals: Vec<f64> = (0..200)
                .map(|_| {
                    let b = next();
                    match round % 4 {
                        0 => f64::from_bits(b),
                        1 => f64::from_bits(b & 0x800f_ffff_ffff_ffff),
                        2 => f64::from_bits(b & 0x800f_ffff_ffff_ffff | 0x7c00_0000_0000_0000),
                        _ => (b % 2001) as f64 - 1000.0,
                    }
                })
                .collect();
            let mut one = FloatSum::default();
            for &v in &vals {
                one.add(v);
            }
            let mut all = FloatSum::default();
            all.add_all(vals.iter().copied());
            let (x, y) = (one.value(), all.value());
            assert!(
                x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
                "round {round}: {x} vs {y}"
            );
        }
        // The smallest subnormal and the largest finite value, exactly.
        let tiny = f64::from_bits(1);
        let mut s = FloatSum::default();
        s.add_all([tiny, tiny, -tiny, 1.0, f64::MAX, -f64::MAX].into_iter());
        assert_eq!(s.value(), 1.0);
        let mut s = FloatSum::default();
        s.add_all([tiny, tiny, tiny].into_iter());
        assert_eq!(s.value(), 3.0 * tiny);
    }

    #[test]
    fn float_sums_keep_nan_and_infinities() {
        assert!(fsum(&[1.0, f64::NAN]).is_nan());
        assert_eq!(fsum(&[1.0, f64::INFINITY]), f64::INFINITY);
        assert!(fsum(&[f64::INFINITY, f64::NEG_INFINITY]).is_nan());
        // Past the float range: infinity, not a wrapped finite value.
        assert_eq!(fsum(&[f64::MAX, f64::MAX]), f64::INFINITY);
    }
}
