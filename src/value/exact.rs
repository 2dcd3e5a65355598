//! Exact decimal arithmetic for tolerance rules (`abs=`, `rel=`): never through f64, never capped
//! at 38 digits. A value is sign × digits × 10^exponent; a float enters as the exact decimal
//! expansion of its binary value (every finite float has one), so `abs=0.01` on 45-digit
//! decimals 0.005 apart holds, and on 0.0100000001 apart does not.

use std::cmp::Ordering;

use super::text;

/// An exact decimal: magnitude digits (least significant first, no leading zeros), sign and the
/// power of ten of the last digit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exact {
    negative: bool,
    mag: Vec<u8>,
    exp: i64,
}

impl Exact {
    /// Parses an exact decimal text (`-12.50`, `1e-3`).
    pub fn parse(s: &str) -> Option<Exact> {
        let d = text::decimal(s)?;
        Some(Exact {
            negative: d.negative,
            mag: d.digits.iter().rev().map(|c| c - b'0').collect(),
            exp: d.exponent,
        })
    }

    /// The exact value of a finite float.
    pub fn of_float(f: f64) -> Option<Exact> {
        // 800 fractional digits in scientific form hold every finite f64 exactly (at most 767
        // significant digits).
        f.is_finite().then(|| Exact::parse(&format!("{f:.800e}")))?
    }

    fn zero() -> Exact {
        Exact {
            negative: false,
            mag: Vec::new(),
            exp: 0,
        }
    }

    /// |self|.
    fn abs(&self) -> Exact {
        Exact {
            negative: false,
            ..self.clone()
        }
    }
}

fn trim(mut v: Vec<u8>) -> Vec<u8> {
    while v.last() == Some(&0) {
        v.pop();
    }
    v
}

/// Both magnitudes at the smaller exponent.
fn align(a: &Exact, b: &Exact) -> (Vec<u8>, Vec<u8>, i64) {
    let e = a.exp.min(b.exp);
    let shift = |x: &Exact| {
        if x.mag.is_empty() {
            return Vec::new();
        }
        let mut v = vec![0u8; (x.exp - e) as usize];
        v.extend_from_slice(&x.mag);
        v
    };
    (shift(a), shift(b), e)
}

fn cmp_mag(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (trim(a.to_vec()), trim(b.to_vec()));
    a.len()
        .cmp(&b.len())
        .then_with(|| a.iter().rev().cmp(b.iter().rev()))
}

fn add_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let mut carry = 0;
    for i in 0..a.len().max(b.len()) {
        let s = a.get(i).copied().unwrap_or(0) + b.get(i).copied().unwrap_or(0) + carry;
        out.push(s % 10);
        carry = s / 10;
    }
    if carry > 0 {
        out.push(carry);
    }
    trim(out)
}

/// a − b for a ≥ b.
fn sub_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(a.len());
    let mut borrow = 0i8;
    for (i, &x) in a.iter().enumerate() {
        let mut d = x as i8 - b.get(i).copied().unwrap_or(0) as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out.push(d as u8);
    }
    trim(out)
}

fn mul_mag(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut acc = vec![0u32; a.len() + b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        for (j, &y) in b.iter().enumerate() {
            acc[i + j] += u32::from(x) * u32::from(y);
        }
    }
    let mut carry = 0u32;
    let mut out = Vec::with_capacity(acc.len());
    for v in acc {
        let s = v + carry;
        out.push((s % 10) as u8);
        carry = s / 10;
    }
    while carry > 0 {
        out.push((carry % 10) as u8);
        carry /= 10;
    }
    trim(out)
}

/// |a − b|.
fn distance(a: &Exact, b: &Exact) -> Exact {
    let (x, y, exp) = align(a, b);
    let mag = if a.negative != b.negative {
        add_mag(&x, &y)
    } else if cmp_mag(&x, &y).is_ge() {
        sub_mag(&x, &y)
    } else {
        sub_mag(&y, &x)
    };
    Exact {
        negative: false,
        mag,
        exp,
    }
}

fn le(a: &Exact, b: &Exact) -> bool {
    let (x, y, _) = align(a, b);
    cmp_mag(&x, &y).is_le()
}

/// |a − b| ≤ tol, exactly.
pub fn within_abs(a: &Exact, b: &Exact, tol: &Exact) -> bool {
    le(&distance(a, b), &tol.abs())
}

/// |a − b| ≤ rel × max(|a|, |b|), exactly.
pub fn within_rel(a: &Exact, b: &Exact, rel: &Exact) -> bool {
    let (a_abs, b_abs) = (a.abs(), b.abs());
    let m = if le(&a_abs, &b_abs) { b_abs } else { a_abs };
    let bound = if m.mag.is_empty() || rel.mag.is_empty() {
        Exact::zero()
    } else {
        Exact {
            negative: false,
            mag: mul_mag(&m.mag, &rel.mag),
            exp: m.exp + rel.exp,
        }
    };
    le(&distance(a, b), &bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(s: &str) -> Exact {
        Exact::parse(s).unwrap()
    }

    #[test]
    fn tolerances_are_exact_at_any_length() {
        let a = e("123456789012345678901234567890123456789012.345");
        let b = e("123456789012345678901234567890123456789012.340");
        assert!(within_abs(&a, &b, &e("0.005")));
        assert!(!within_abs(&a, &b, &e("0.004999999999999999999999")));
        assert!(within_abs(&e("-0.004"), &e("0.001"), &e("0.005")));
        assert!(!within_abs(&e("-0.004"), &e("0.0011"), &e("0.005")));
        // rel: |100 − 101| = 1 ≤ 0.01 × 101 = 1.01; not ≤ 0.0099 × 101.
        assert!(within_rel(&e("100"), &e("101"), &e("0.01")));
        assert!(!within_rel(&e("100"), &e("101"), &e("0.0099")));
        assert!(within_rel(&e("0"), &e("0"), &e("0")));
        // Floats by their exact value: 0.1 is 0.1000000000000000055511151231257827…
        let f = Exact::of_float(0.1).unwrap();
        assert!(!within_abs(&f, &e("0.1"), &e("0.00000000000000000555")));
        assert!(within_abs(&f, &e("0.1"), &e("0.0000000000000000056")));
    }
}
