//! Encoding findings in text values.
//!
//! Detects, per value:
//! - `mojibake`: UTF-8 that was decoded as Latin-1/cp1252 somewhere upstream (`AndrÃ©` for
//!   `André`, `â€™` for `’`). Signature: a character U+00C2–U+00F4 (a UTF-8 lead byte read as
//!   Latin-1) directly followed by a character whose Latin-1/cp1252 byte is 0x80–0xBF (a
//!   continuation byte). Why it matters: the damage is silent, and a second pass makes it worse.
//! - `c1-control`: characters U+0080–U+009F, which are what cp1252 text (`€`, `–`, `™`) becomes
//!   when read as ISO-8859-1 — MySQL `latin1` means cp1252.
//! - `control-char`: C0 controls other than tab, line feed and carriage return.
//! - `non-nfc`: text not in Unicode Normalization Form C (`e` + U+0301 instead of `é`): equal to
//!   the eye, different to every comparison and unique index.
//! - `bom`: a byte-order mark U+FEFF inside a value (usually a file header pasted into data).
//! - `replacement-char`: U+FFFD, the mark of an earlier lossy decoding.
//! - `invalid-utf8`: bytes that are not UTF-8 at all; reported by the reader (SQLite, CSV), not
//!   found here, because Arrow text is UTF-8 by construction.

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// The kinds of encoding finding, in report order.
pub const KINDS: [&str; 7] = [
    "invalid-utf8",
    "mojibake",
    "c1-control",
    "control-char",
    "non-nfc",
    "bom",
    "replacement-char",
];

/// Index of `invalid-utf8` in [`KINDS`].
pub const INVALID_UTF8: usize = 0;

/// The byte a character had in cp1252 (or Latin-1), if it had one.
fn cp1252_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if u <= 0xFF {
        return Some(u as u8);
    }
    Some(match c {
        '€' => 0x80,
        '‚' => 0x82,
        'ƒ' => 0x83,
        '„' => 0x84,
        '…' => 0x85,
        '†' => 0x86,
        '‡' => 0x87,
        'ˆ' => 0x88,
        '‰' => 0x89,
        'Š' => 0x8A,
        '‹' => 0x8B,
        'Œ' => 0x8C,
        'Ž' => 0x8E,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '˜' => 0x98,
        '™' => 0x99,
        'š' => 0x9A,
        '›' => 0x9B,
        'œ' => 0x9C,
        'ž' => 0x9E,
        'Ÿ' => 0x9F,
        _ => return None,
    })
}

/// Whether a value carries the mojibake signature.
pub fn is_mojibake(v: &str) -> bool {
    let mut prev: Option<char> = None;
    for c in v.chars() {
        if let Some(p) = prev {
            if ('\u{C2}'..='\u{F4}').contains(&p)
                && cp1252_byte(c).is_some_and(|b| (0x80..=0xBF).contains(&b))
            {
                return true;
            }
        }
        prev = Some(c);
    }
    false
}

/// Sets `hits[k]` for every kind `k` of [`KINDS`] found in `v` (all but `invalid-utf8`).
#[inline]
pub fn scan(v: &str, hits: &mut [bool; 7]) {
    if v.is_ascii() {
        for b in v.bytes() {
            if b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r' || b == 0x7F {
                hits[3] = true;
            }
        }
        return;
    }
    hits[1] = is_mojibake(v);
    for c in v.chars() {
        match c {
            '\u{80}'..='\u{9F}' => hits[2] = true,
            '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{7F}' => hits[3] = true,
            '\u{FEFF}' => hits[5] = true,
            '\u{FFFD}' => hits[6] = true,
            _ => {}
        }
    }
    hits[4] = match is_nfc_quick(v.chars()) {
        IsNormalized::Yes => false,
        IsNormalized::No => true,
        IsNormalized::Maybe => !v.chars().eq(v.nfc()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(v: &str) -> Vec<&'static str> {
        let mut h = [false; 7];
        scan(v, &mut h);
        KINDS
            .iter()
            .zip(h)
            .filter(|(_, x)| *x)
            .map(|(k, _)| *k)
            .collect()
    }

    #[test]
    fn detects_each_kind() {
        assert_eq!(kinds("AndrÃ©"), vec!["mojibake"]);
        assert_eq!(kinds("donâ€™t"), vec!["mojibake"]);
        assert_eq!(kinds("a\u{85}b"), vec!["c1-control"]);
        assert_eq!(kinds("Zoe\u{308}"), vec!["non-nfc"]);
        assert_eq!(kinds("\u{feff}id"), vec!["bom"]);
        assert_eq!(kinds("M\u{fffd}ller"), vec!["replacement-char"]);
        assert_eq!(kinds("bell\u{7}"), vec!["control-char"]);
    }

    #[test]
    fn clean_text_has_no_finding() {
        for v in [
            "André",
            "Müller",
            "Zoë",
            "naïve café",
            "Łukasz",
            "李",
            "😀 ok",
            "tab\there",
        ] {
            assert!(kinds(v).is_empty(), "{v}: {:?}", kinds(v));
        }
    }
}
