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
    let mut run_class = '\0';
    let mut run_len = 0usize;
    // Every class is ASCII (other punctuation and symbols are `*`), so until the cut the shape's
    // length in bytes is its length in characters.
    let flush = |out: &mut String, class: char, len: usize| {
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
    };
    for ch in value.chars() {
        let class = classify(ch);
        let runs = matches!(class, 'a' | 'A' | '9' | 'L' | ' ');
        if runs && class == run_class {
            run_len += 1;
            continue;
        }
        flush(out, run_class, run_len);
        if out.len() > 40 {
            out.truncate(40);
            out.push('…');
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
    flush(out, run_class, run_len);
    if out.len() > 40 {
        out.truncate(40);
        out.push('…');
    }
}

fn classify(ch: char) -> char {
    if ch.is_ascii() {
        // The same classes as below, without the Unicode tables.
        return match ch {
            '0'..='9' => '9',
            'A'..='Z' => 'A',
            'a'..='z' => 'a',
            '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' => ' ',
            c if c.is_ascii_punctuation() => c,
            _ => '*',
        };
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
