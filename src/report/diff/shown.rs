//! Values as the diff's terminal and HTML reports show them, so that two values that differ
//! never look alike: NULL is `NULL`, any text is in double quotes (so the text `'NULL'` is
//! `"NULL"`, and spaces at either end show against the quotes), and what is invisible is
//! written as an escape — tabs and line breaks (`\t`, `\n`, `\r`), control characters, the BOM,
//! no-break and other non-ASCII spaces, zero-width and direction marks, and combining marks (so
//! `"Zu\u{308}rich"`, in NFD, never looks like `"Zürich"`). The span where the two values of a
//! changed cell differ is marked `⟦…⟧` when they share a beginning or an end.

use std::fmt::Write as _;

/// One value as shown.
pub fn shown(v: Option<&str>) -> String {
    match v {
        None => "NULL".into(),
        Some(s) => format!("\"{}\"", escaped(s)),
    }
}

/// Both values of a changed cell as shown, their differing span marked when they share at
/// least three characters of beginning and end.
pub fn shown_pair(a: Option<&str>, b: Option<&str>) -> (String, String) {
    let (Some(x), Some(y)) = (a, b) else {
        return (shown(a), shown(b));
    };
    let xs: Vec<char> = x.chars().collect();
    let ys: Vec<char> = y.chars().collect();
    let prefix = xs.iter().zip(&ys).take_while(|(p, q)| p == q).count();
    let suffix = xs[prefix..]
        .iter()
        .rev()
        .zip(ys[prefix..].iter().rev())
        .take_while(|(p, q)| p == q)
        .count();
    if x == y || prefix + suffix < 3 {
        return (shown(a), shown(b));
    }
    let mark = |cs: &[char]| {
        let s = |r: &[char]| escaped(&r.iter().collect::<String>());
        format!(
            "\"{}⟦{}⟧{}\"",
            s(&cs[..prefix]),
            s(&cs[prefix..cs.len() - suffix]),
            s(&cs[cs.len() - suffix..])
        )
    };
    (mark(&xs), mark(&ys))
}

/// Text with its invisible characters, quotes and backslashes escaped.
fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            ' ' => out.push(' '),
            c if invisible(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn invisible(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || unicode_normalization::char::is_combining_mark(c)
        || matches!(
            c,
            '\u{00ad}'
                | '\u{034f}'
                | '\u{061c}'
                | '\u{115f}'
                | '\u{1160}'
                | '\u{17b4}'
                | '\u{17b5}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{3164}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{feff}'
                | '\u{ffa0}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_the_text_null_never_look_alike() {
        assert_eq!(shown(None), "NULL");
        assert_eq!(shown(Some("NULL")), "\"NULL\"");
        assert_eq!(shown(Some("")), "\"\"");
    }

    #[test]
    fn invisible_characters_are_escaped() {
        assert_eq!(shown(Some("a\u{a0}b")), "\"a\\u{a0}b\"");
        assert_eq!(shown(Some("\u{feff}x")), "\"\\u{feff}x\"");
        assert_eq!(shown(Some("Zu\u{308}rich")), "\"Zu\\u{308}rich\"");
        assert_eq!(shown(Some("Zürich")), "\"Zürich\"");
        assert_eq!(shown(Some("t\tx\n\"q\"\\")), "\"t\\tx\\n\\\"q\\\"\\\\\"");
        assert_eq!(shown(Some(" pad ")), "\" pad \"");
        assert_eq!(shown(Some("zw\u{200b}j")), "\"zw\\u{200b}j\"");
        assert_eq!(shown(Some("\u{1}")), "\"\\u{1}\"");
    }

    #[test]
    fn the_differing_span_is_marked_when_the_values_share_context() {
        assert_eq!(
            shown_pair(Some("Mönchengladbach"), Some("Möncheng")),
            ("\"Möncheng⟦ladbach⟧\"".into(), "\"Möncheng⟦⟧\"".into())
        );
        assert_eq!(
            shown_pair(Some("Zürich"), Some("Zu\u{308}rich")),
            ("\"Z⟦ü⟧rich\"".into(), "\"Z⟦u\\u{308}⟧rich\"".into())
        );
        assert_eq!(
            shown_pair(Some("Ann "), Some("Ann")),
            ("\"Ann⟦ ⟧\"".into(), "\"Ann⟦⟧\"".into())
        );
        // Too little in common, or a NULL: shown whole.
        assert_eq!(
            shown_pair(Some("true"), Some("false")),
            ("\"true\"".into(), "\"false\"".into())
        );
        assert_eq!(
            shown_pair(Some("NULL"), None),
            ("\"NULL\"".into(), "NULL".into())
        );
    }
}
