//! Value shapes: each text value mapped to the shape of its characters.
//!
//! Detects: values that do not follow a column's format (a phone number typed `(555) 123-4567`
//! among `555-123-4567`, a SKU `abc123` among `AAA-999`). Why it matters: a target column with a
//! format constraint rejects them, or worse, a parser misreads them.
//!
//! Classes: an upper-case letter → `A`, a lower-case letter → `a`, a letter without case (CJK…)
//! → `L`, a digit → `9`, a run of white space → one space, a symbol or emoji → `*`, and any other
//! punctuation is kept as itself. Runs of lower-case letters become `a+` (words differ in length,
//! not in kind); runs of upper-case letters, digits or case-less letters up to four long are kept
//! (`AAA-999`), longer ones become `A+`, `9+`, `L+`. Example: `John Smith` → `Aa+ Aa+`,
//! `ABC-123` → `AAA-999`, `2024-01-15` → `9999-99-99`, `12345678` → `9+`.
//! Shapes longer than 40 characters are cut and end in `…`.

/// The shape of a value.
pub fn shape(value: &str) -> String {
    let mut out = String::new();
    shape_into(value, &mut out);
    out
}

/// Writes the shape of a value into `out` (cleared first), reusing its allocation.
pub fn shape_into(value: &str, out: &mut String) {
    out.clear();
    let mut buf = [0u8; 64];
    let (len, cut) = if value.is_ascii() {
        shape_ascii(value.as_bytes(), &mut buf)
    } else {
        // Every class is ASCII: other punctuation and symbols are `*`.
        shape_classes(value.chars().map(|c| classify(c) as u8), &mut buf)
    };
    // Classes are ASCII, so this never fails.
    out.push_str(std::str::from_utf8(&buf[..len]).unwrap_or_default());
    if cut {
        out.push('…');
    }
}

/// [`shape_classes`] for ASCII text: a run is measured in one go, then written.
fn shape_ascii(v: &[u8], buf: &mut [u8; 64]) -> (usize, bool) {
    let mut len = 0usize;
    let mut i = 0usize;
    while i < v.len() {
        // Checked where a new class starts, as in `shape_classes`: never past 44 bytes.
        if len > 40 {
            return (40, true);
        }
        let class = ASCII_CLASS[usize::from(v[i])];
        if !matches!(class, b'a' | b'A' | b'9' | b' ') {
            buf[len] = class;
            len += 1;
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < v.len() && ASCII_CLASS[usize::from(v[j])] == class {
            j += 1;
        }
        let run = j - i;
        i = j;
        let (first, second) = match (class, run) {
            (b'a', 2..) | (b'A' | b'9', 5..) => (class, Some(b'+')),
            (b' ', _) | (_, 1) => (class, None),
            // Two to four capitals or digits, kept as they are.
            _ => {
                buf[len..len + run].fill(class);
                len += run;
                continue;
            }
        };
        buf[len] = first;
        len += 1;
        if let Some(b) = second {
            buf[len] = b;
            len += 1;
        }
    }
    if len > 40 {
        (40, true)
    } else {
        (len, false)
    }
}

/// The shape of a sequence of classes, in `buf`: its length, and whether it was cut at 40.
fn shape_classes(classes: impl Iterator<Item = u8>, buf: &mut [u8; 64]) -> (usize, bool) {
    let mut len = 0usize;
    let mut run_class = 0u8;
    let mut run_len = 0usize;
    // At most 4 bytes a run (`AAAA`), and the length is checked before each new class: the
    // shape never passes 45 bytes before it is cut.
    let flush = |buf: &mut [u8; 64], len: &mut usize, class: u8, n: usize| {
        let mut put = |b: u8| {
            buf[*len] = b;
            *len += 1;
        };
        match (class, n) {
            (_, 0) => {}
            (b'a', 2..) => {
                put(b'a');
                put(b'+');
            }
            (b'A' | b'9' | b'L', 5..) => {
                put(class);
                put(b'+');
            }
            (b' ', _) => put(b' '),
            (c, n) => {
                for _ in 0..n {
                    put(c);
                }
            }
        }
    };
    for class in classes {
        let runs = matches!(class, b'a' | b'A' | b'9' | b'L' | b' ');
        if runs && class == run_class {
            run_len += 1;
            continue;
        }
        flush(buf, &mut len, run_class, run_len);
        if len > 40 {
            return (40, true);
        }
        if runs {
            run_class = class;
            run_len = 1;
        } else {
            buf[len] = class;
            len += 1;
            run_class = 0;
            run_len = 0;
        }
    }
    flush(buf, &mut len, run_class, run_len);
    if len > 40 {
        (40, true)
    } else {
        (len, false)
    }
}

/// The classes of ASCII characters (see the module's documentation).
const ASCII_CLASS: [u8; 128] = {
    let mut t = [b'*'; 128];
    let mut b = 0u8;
    while b < 128 {
        t[b as usize] = match b {
            b'0'..=b'9' => b'9',
            b'A'..=b'Z' => b'A',
            b'a'..=b'z' => b'a',
            b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' => b' ',
            c if c.is_ascii_punctuation() => c,
            _ => b'*',
        };
        b += 1;
    }
    t
};

fn classify(ch: char) -> char {
    if ch.is_ascii() {
        // The same classes as below, without the Unicode tables.
        return char::from(ASCII_CLASS[ch as usize]);
    }
    if ch.is_ascii_digit() {
        '9'
    } else if ch.is_uppercase() {
        'A'
    } else if ch.is_lowercase() {
        'a'
    } else if ch.is_alphabetic() {
        'L'
    } else if ch.is_whitespace() {
        ' '
    } else if ch.is_ascii_punctuation() {
        ch
    } else if ch.is_numeric() {
        '9'
    } else {
        '*'
    }
}

#[cfg(test)]
mod tests {
    use super::shape;

    #[test]
    fn shapes_of_common_formats() {
        assert_eq!(shape("ABC-123"), "AAA-999");
        assert_eq!(shape("John Smith"), "Aa+ Aa+");
        assert_eq!(shape("2024-01-15"), "9999-99-99");
        assert_eq!(shape("(555) 123-4567"), "(999) 999-9999");
        assert_eq!(shape("12345678"), "9+");
        assert_eq!(shape("Ça va"), "Aa a+");
        assert_eq!(shape("a"), "a");
        assert_eq!(shape(""), "");
        assert_eq!(shape("😀 ok"), "* a+");
        assert_eq!(shape("a\tb\u{1}"), "a a*");
        assert_eq!(shape("x\u{b}\u{c}\r\ny"), "a a");
        assert_eq!(shape("«Ünïcode» №5"), "*Aa+* *9");
    }

    #[test]
    fn ascii_classes_agree_with_the_unicode_ones() {
        for b in 0u8..128 {
            let ch = char::from(b);
            let slow = if ch.is_ascii_digit() {
                '9'
            } else if ch.is_uppercase() {
                'A'
            } else if ch.is_lowercase() {
                'a'
            } else if ch.is_whitespace() {
                ' '
            } else if ch.is_ascii_punctuation() {
                ch
            } else {
                '*'
            };
            assert_eq!(super::classify(ch), slow, "byte {b}");
        }
    }

    /// The first implementation (value by value through `char`s, counting characters), kept
    /// to check the faster one against.
    fn reference(value: &str, out: &mut String) {
        out.clear();
        let mut run_class = '\0';
        let mut run_len = 0usize;
        let mut emitted = 0usize;
        let flush = |out: &mut String, class: char, len: usize, emitted: &mut usize| {
            if len == 0 {
                return;
            }
            match class {
                'a' if len >= 2 => out.push_str("a+"),
                'A' | '9' | 'L' if len > 4 => {
                    out.push(class);
                    out.push('+');
                }
                ' ' => out.push(' '),
                c => {
                    for _ in 0..len {
                        out.push(c);
                    }
                }
            }
            *emitted = if out.is_ascii() {
                out.len()
            } else {
                out.chars().count()
            };
        };
        for ch in value.chars() {
            let class = super::classify(ch);
            let runs = matches!(class, 'a' | 'A' | '9' | 'L' | ' ');
            if runs && class == run_class {
                run_len += 1;
                continue;
            }
            flush(out, run_class, run_len, &mut emitted);
            if emitted > 40 {
                let cut: String = out.chars().take(40).collect();
                *out = format!("{cut}…");
                return;
            }
            if runs {
                run_class = class;
                run_len = 1;
            } else {
                out.push(class);
                run_class = '\0';
                run_len = 0;
            }
        }
        flush(out, run_class, run_len, &mut emitted);
        if out.chars().count() > 40 {
            let cut: String = out.chars().take(40).collect();
            *out = format!("{cut}…");
        }
    }

    #[test]
    fn the_fast_shape_agrees_with_the_first_one_on_random_text() {
        let unicode: Vec<char> = "aZ9 \t\r\n.,-_@/()+\u{1}\u{7f}éÉ李ß٣😀\u{301}«"
            .chars()
            .collect();
        // ASCII text takes its own path: half the values are ASCII only.
        let ascii: Vec<char> = "aZ9 b\t\r\n.,-_@/()+\u{1}\u{7f}Q0".chars().collect();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let (mut fast, mut slow) = (String::new(), String::new());
        for k in 0..20_000 {
            let alphabet = if k % 2 == 0 { &ascii } else { &unicode };
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 90) as usize;
            let v: String = (0..len)
                .map(|i| {
                    let r = x.rotate_left(i as u32 * 5);
                    // Long runs of one character as well as mixtures.
                    alphabet
                        [((r >> 3) % if i % 3 == 0 { 3 } else { alphabet.len() as u64 }) as usize]
                })
                .collect();
            super::shape_into(&v, &mut fast);
            reference(&v, &mut slow);
            assert_eq!(fast, slow, "{v:?}");
        }
    }

    #[test]
    fn long_shapes_are_cut() {
        let s = shape(&"a-".repeat(50));
        assert!(s.ends_with('…'));
        assert_eq!(s.chars().count(), 41);
        assert_eq!(s, format!("{}…", "a-".repeat(20)));
        // Exactly 40 is not cut; one more is.
        assert_eq!(shape(&"a-".repeat(20)), "a-".repeat(20));
        assert_eq!(
            shape(&format!("{}a", "a-".repeat(20))),
            format!("{}…", "a-".repeat(20))
        );
    }
}
