//! Date-format families of text values.
//!
//! Detects: text columns holding dates written in several ways (`2023-01-15`, `01/15/2023`,
//! `15.01.2023`). Why it matters: a migration that parses one format turns the others into NULLs,
//! errors, or — worst — swaps day and month without a sound.
//!
//! Families: `iso-date` (`Y-m-d`), `iso-datetime` (`Y-m-dTH:M[:S][.f][Z|±hh:mm]`), `Y-m-d H:M:S`,
//! `Y/m/d`, `m/d/Y`, `d/m/Y`, `d.m.Y`, `Ymd` (eight digits), `epoch-s` and `epoch-ms` (ten or
//! thirteen digits within 2000–2100). A slash date whose day and month are both ≤ 12 is
//! `m/d/Y|d/m/Y` (ambiguous); when the column shows evidence of only one of the two, the
//! ambiguous values are counted in that one. Fields are checked for range (month 1–12, day 1–31).

/// A value's date-format family, if it looks like a date.
pub fn family(v: &str) -> Option<&'static str> {
    let b = v.trim().as_bytes();
    // Every family starts with a digit and is 6 to 35 bytes long: reject the rest cheaply.
    if b.len() < 6 || b.len() > 35 || !b[0].is_ascii_digit() {
        return None;
    }
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let num = |s: usize, e: usize| -> u32 {
        b[s..e]
            .iter()
            .fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'))
    };
    let ymd_ok = |y: u32, m: u32, dd: u32| {
        (1000..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&dd)
    };
    let n = b.len();
    // Y-m-d prefix.
    if n >= 10
        && d(0)
        && d(1)
        && d(2)
        && d(3)
        && d(5)
        && d(6)
        && d(8)
        && d(9)
        && (b[4] == b'-' || b[4] == b'/')
        && b[7] == b[4]
    {
        if !ymd_ok(num(0, 4), num(5, 7), num(8, 10)) {
            return None;
        }
        if b[4] == b'/' {
            return (n == 10).then_some("Y/m/d");
        }
        if n == 10 {
            return Some("iso-date");
        }
        let time_ok = n >= 16 && d(11) && d(12) && b[13] == b':' && d(14) && d(15);
        if time_ok && b[10] == b'T' {
            return Some("iso-datetime");
        }
        if time_ok && b[10] == b' ' {
            return Some("Y-m-d H:M:S");
        }
        return None;
    }
    // d/m/Y, m/d/Y, d.m.Y with one- or two-digit fields.
    for sep in [b'/', b'.', b'-'] {
        let parts: Vec<&[u8]> = b.split(|&c| c == sep).collect();
        if parts.len() == 3
            && parts[0].len() <= 2
            && parts[1].len() <= 2
            && parts[2].len() == 4
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit))
        {
            let p = |x: &[u8]| x.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
            let (a, m, y) = (p(parts[0]), p(parts[1]), p(parts[2]));
            if !(1000..=9999).contains(&y) || a == 0 || m == 0 || a > 31 || m > 31 {
                return None;
            }
            return match sep {
                b'.' => (m <= 12).then_some("d.m.Y"),
                b'-' => (m <= 12).then_some("d-m-Y"),
                _ => {
                    if a > 12 && m <= 12 {
                        Some("d/m/Y")
                    } else if m > 12 && a <= 12 {
                        Some("m/d/Y")
                    } else if a <= 12 && m <= 12 {
                        Some("m/d/Y|d/m/Y")
                    } else {
                        None
                    }
                }
            };
        }
    }
    if b.iter().all(u8::is_ascii_digit) {
        if n == 8 {
            let (y, m, dd) = (num(0, 4), num(4, 6), num(6, 8));
            if (1900..=2100).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&dd) {
                return Some("Ymd");
            }
        }
        if n == 10 {
            let s = v.trim().parse::<u64>().ok()?;
            if (946_684_800..=4_102_444_800).contains(&s) {
                return Some("epoch-s");
            }
        }
        if n == 13 {
            let s = v.trim().parse::<u64>().ok()?;
            if (946_684_800_000..=4_102_444_800_000).contains(&s) {
                return Some("epoch-ms");
            }
        }
    }
    None
}

/// Folds the ambiguous slash family into `m/d/Y` or `d/m/Y` when the column shows only one.
pub fn resolve_ambiguous(counts: &mut Vec<(String, u64)>) {
    let has = |c: &Vec<(String, u64)>, f: &str| c.iter().any(|(k, _)| k == f);
    let amb = counts.iter().position(|(k, _)| k == "m/d/Y|d/m/Y");
    if let Some(i) = amb {
        let target = match (has(counts, "m/d/Y"), has(counts, "d/m/Y")) {
            (true, false) => Some("m/d/Y"),
            (false, true) => Some("d/m/Y"),
            _ => None,
        };
        if let Some(t) = target {
            let n = counts.remove(i).1;
            if let Some(e) = counts.iter_mut().find(|(k, _)| k == t) {
                e.1 += n;
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families() {
        assert_eq!(family("2023-01-15"), Some("iso-date"));
        assert_eq!(family("2023-01-15T10:30:00Z"), Some("iso-datetime"));
        assert_eq!(family("2023-01-15 10:30:00"), Some("Y-m-d H:M:S"));
        assert_eq!(family("01/15/2023"), Some("m/d/Y"));
        assert_eq!(family("15/01/2023"), Some("d/m/Y"));
        assert_eq!(family("05/06/2023"), Some("m/d/Y|d/m/Y"));
        assert_eq!(family("15.01.2023"), Some("d.m.Y"));
        assert_eq!(family("20230115"), Some("Ymd"));
        assert_eq!(family("1700000000"), Some("epoch-s"));
        assert_eq!(family("2023-13-15"), None);
        assert_eq!(family("hello"), None);
        assert_eq!(family("555-123-4567"), None);
    }

    #[test]
    fn ambiguous_folds_into_the_evidenced_family() {
        let mut c = vec![
            ("m/d/Y".to_string(), 3),
            ("m/d/Y|d/m/Y".to_string(), 2),
            ("iso-date".to_string(), 10),
        ];
        resolve_ambiguous(&mut c);
        assert_eq!(
            c,
            vec![("iso-date".to_string(), 10), ("m/d/Y".to_string(), 5)]
        );
    }
}
