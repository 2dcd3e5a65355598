//! Config plumbing shared by every file reckon reads (diff mappings, rules files, sign-off specs,
//! migration plans): reading a file safely, `${VAR}` expansion, and TOML spans as line numbers.
//!
//! Every text read here, and every expansion, has the passwords of the database URLs in it
//! registered with [`crate::error::register_secret`] before anything else can print it: a value
//! error that quotes a URL never shows its password.

use std::path::Path;

use crate::source::register_url_secrets;

/// Reads a config file as text. Only regular files are read: a FIFO or a device would block or
/// never end, so it is refused with a reason (as is a directory).
pub fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a directory, FIFO or device is never read)".into());
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    register_url_secrets(&text);
    Ok(text)
}

/// Expands `${VAR}` (and `${VAR:-default}`, used when VAR is unset or empty) in one string.
/// `$${` is a literal `${`; a `${` not followed by a variable name and `}` (a regex's `x${1,3}`,
/// say) is kept as written. The error names the variable that is not set. Every URL password in
/// the result, and the value of any variable whose name says it is secret (`PASSWORD`, `PWD`,
/// `SECRET`, `TOKEN`), is registered so that no output shows it.
pub fn expand_vars(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            // `$${`: the `$` escapes the expansion.
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some((name, default, len)) = reference(after) else {
            out.push_str("${");
            rest = after;
            continue;
        };
        let value = std::env::var(name).ok();
        if is_secret_name(name) {
            if let Some(v) = &value {
                crate::error::register_secret(v);
            }
        }
        match (value, default) {
            (Some(v), Some(_)) if !v.is_empty() => out.push_str(&v),
            (_, Some(d)) => out.push_str(d),
            (Some(v), None) => out.push_str(&v),
            (None, None) => {
                return Err(format!(
                    "environment variable {name} is not set (set it, or give a default: ${{{name}:-value}})"
                ))
            }
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    register_url_secrets(&out);
    Ok(out)
}

/// A variable reference after `${`: its name, its `:-` default, and its length up to and
/// including the `}`; `None` when what follows is not a name (then nothing is expanded).
fn reference(after: &str) -> Option<(&str, Option<&str>, usize)> {
    let name_len = after
        .char_indices()
        .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(after.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let name = &after[..name_len];
    let tail = &after[name_len..];
    if tail.starts_with('}') {
        return Some((name, None, name_len + 1));
    }
    let default = tail.strip_prefix(":-")?;
    let end = default.find('}')?;
    Some((name, Some(&default[..end]), name_len + 2 + end + 1))
}

fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN"]
        .iter()
        .any(|s| n.contains(s))
}

/// Expands `${VAR}` in every string value of a TOML config file (mapping, rules, sign-off spec,
/// plan), at any depth: tables, arrays of tables, arrays and inline tables. Comments and keys are
/// left alone, so a commented-out line never needs its variable set. Each expanded string is
/// written back in place of the original as a TOML string that spans the same lines, so the line
/// numbers of later errors still point into the file as written. `skip` names top-level keys not
/// expanded (a `source` given again on the command line). Text that is not valid TOML is returned
/// as it is: the caller's parser reports the syntax error. The error is `(line, reason)`.
pub fn expand_file(text: &str, skip: &[&str]) -> Result<String, (usize, String)> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let Ok(doc) = toml_edit::ImDocument::parse(text) else {
        return Ok(text.to_string());
    };
    let mut edits = Vec::new();
    for (key, item) in doc.as_table().iter() {
        if !skip.contains(&key) {
            expand_item(item, text, &mut edits)?;
        }
    }
    edits.sort_by_key(|(span, _): &(std::ops::Range<usize>, String)| span.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (span, repr) in edits {
        out.push_str(&text[at..span.start]);
        out.push_str(&repr);
        at = span.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

type Edits = Vec<(std::ops::Range<usize>, String)>;

fn expand_item(
    item: &toml_edit::Item,
    text: &str,
    edits: &mut Edits,
) -> Result<(), (usize, String)> {
    match item {
        toml_edit::Item::Value(v) => expand_value(v, text, edits),
        toml_edit::Item::Table(t) => {
            for (_, i) in t.iter() {
                expand_item(i, text, edits)?;
            }
            Ok(())
        }
        toml_edit::Item::ArrayOfTables(a) => {
            for t in a.iter() {
                for (_, i) in t.iter() {
                    expand_item(i, text, edits)?;
                }
            }
            Ok(())
        }
        toml_edit::Item::None => Ok(()),
    }
}

fn expand_value(
    v: &toml_edit::Value,
    text: &str,
    edits: &mut Edits,
) -> Result<(), (usize, String)> {
    match v {
        toml_edit::Value::String(s) if s.value().contains("${") => {
            let Some(span) = s.span() else {
                return Ok(());
            };
            let expanded =
                expand_vars(s.value()).map_err(|reason| (line_of(text, span.start), reason))?;
            if expanded != *s.value() {
                let lines = text[span.clone()].matches('\n').count();
                edits.push((span, toml_string(&expanded, lines)));
            }
            Ok(())
        }
        toml_edit::Value::Array(a) => a.iter().try_for_each(|x| expand_value(x, text, edits)),
        toml_edit::Value::InlineTable(t) => {
            t.iter().try_for_each(|(_, x)| expand_value(x, text, edits))
        }
        _ => Ok(()),
    }
}

/// `value` as a TOML basic string on one line; when the string it replaces spanned `lines` line
/// breaks, a multi-line string whose line-ending backslash swallows as many, so that the lines
/// after it keep their numbers.
fn toml_string(value: &str, lines: usize) -> String {
    let mut body = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' => body.push_str("\\\""),
            '\\' => body.push_str("\\\\"),
            '\n' => body.push_str("\\n"),
            '\t' => body.push_str("\\t"),
            '\r' => body.push_str("\\r"),
            c if c.is_control() => body.push_str(&format!("\\u{:04X}", c as u32)),
            c => body.push(c),
        }
    }
    if lines == 0 {
        format!("\"{body}\"")
    } else {
        format!("\"\"\"{body}\\{}\"\"\"", "\n".repeat(lines))
    }
}

/// The 1-based line of a byte offset (TOML error spans → line numbers).
pub fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifo_or_directory_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_text(dir.path())
            .unwrap_err()
            .contains("not a regular file"));
        let fifo = dir.path().join("f");
        let ok = std::process::Command::new("mkfifo").arg(&fifo).status();
        if ok.is_ok_and(|s| s.success()) {
            assert!(read_text(&fifo).unwrap_err().contains("FIFO"));
        }
    }

    #[test]
    fn expanded_urls_have_their_passwords_registered() {
        std::env::set_var("RECKON_CONFIG_TEST_URL", "postgres://u:Zq9/x#y@h/db");
        let out = expand_vars("${RECKON_CONFIG_TEST_URL}").unwrap();
        assert!(out.contains("Zq9/x#y"));
        assert!(!crate::error::scrub(&out).contains("Zq9/x#y"));
        assert_eq!(line_of("a\nb\nc", 3), 2);
        // A variable whose name says it is secret is hidden wherever it lands.
        std::env::set_var("RECKON_CONFIG_TEST_DB_PASSWORD", "Kw7!pq");
        let out = expand_vars("pw=${RECKON_CONFIG_TEST_DB_PASSWORD}").unwrap();
        assert_eq!(out, "pw=Kw7!pq");
        assert_eq!(crate::error::scrub(&out), "pw=***");
    }

    #[test]
    fn defaults_escapes_and_what_is_not_a_variable() {
        std::env::remove_var("RECKON_CONFIG_TEST_UNSET");
        std::env::set_var("RECKON_CONFIG_TEST_EMPTY", "");
        std::env::set_var("RECKON_CONFIG_TEST_SET", "v");
        let e = |t: &str| expand_vars(t).unwrap();
        assert_eq!(e("a${RECKON_CONFIG_TEST_UNSET:-d}b"), "adb");
        assert_eq!(e("${RECKON_CONFIG_TEST_EMPTY:-d}"), "d");
        assert_eq!(e("${RECKON_CONFIG_TEST_EMPTY}"), "");
        assert_eq!(
            e("${RECKON_CONFIG_TEST_SET:-d}${RECKON_CONFIG_TEST_SET}"),
            "vv"
        );
        assert_eq!(
            e("$${RECKON_CONFIG_TEST_UNSET}"),
            "${RECKON_CONFIG_TEST_UNSET}"
        );
        assert_eq!(e("^x${1,3}$ and ${} and ${"), "^x${1,3}$ and ${} and ${");
        let err = expand_vars("x ${RECKON_CONFIG_TEST_UNSET} y").unwrap_err();
        assert!(
            err.starts_with("environment variable RECKON_CONFIG_TEST_UNSET is not set"),
            "{err}"
        );
    }

    #[test]
    fn every_string_of_a_file_is_expanded_and_lines_hold() {
        std::env::set_var("RECKON_CONFIG_TEST_Q", "a \"quoted\" \\ line\nand\tmore");
        std::env::set_var("RECKON_CONFIG_TEST_S", "sales");
        std::env::remove_var("RECKON_CONFIG_TEST_UNSET");
        let text = r#"# target = "${RECKON_CONFIG_TEST_UNSET}" in a comment is not read
source = "${RECKON_CONFIG_TEST_UNSET:-sqlite://a.db}"
[[table]]
source = "${RECKON_CONFIG_TEST_S}.orders"
note = """
${RECKON_CONFIG_TEST_Q}
"""
tags = ["x", '${RECKON_CONFIG_TEST_S}', { t = "${RECKON_CONFIG_TEST_Q}" }]
[table.deep]
k = "${RECKON_CONFIG_TEST_S}"
n = 3
"#;
        let out = expand_file(text, &[]).unwrap();
        assert_eq!(out.lines().count(), text.lines().count());
        // What is below the multi-line string stays on its line.
        let line = |t: &str, s: &str| line_of(t, t.find(s).unwrap());
        assert_eq!(line(&out, "n = 3"), line(text, "n = 3"));
        assert_eq!(line(&out, "[table.deep]"), line(text, "[table.deep]"));
        let v: toml::Table = toml::from_str(&out).unwrap();
        let q = "a \"quoted\" \\ line\nand\tmore";
        assert_eq!(v["source"].as_str(), Some("sqlite://a.db"));
        let t = &v["table"][0];
        assert_eq!(t["source"].as_str(), Some("sales.orders"));
        // A multi-line string keeps its last line break (TOML trims only the first).
        assert_eq!(t["note"].as_str(), Some(format!("{q}\n").as_str()));
        assert_eq!(t["tags"][1].as_str(), Some("sales"));
        assert_eq!(t["tags"][2]["t"].as_str(), Some(q));
        assert_eq!(t["deep"]["k"].as_str(), Some("sales"));
        assert!(out.contains("# target = \"${RECKON_CONFIG_TEST_UNSET}\""));

        // An unset variable is named, with the line of its value.
        let bad = "a = 1\n[x]\nb = [\"${RECKON_CONFIG_TEST_UNSET}\"]\n";
        let (l, reason) = expand_file(bad, &[]).unwrap_err();
        assert_eq!(l, 3);
        assert!(reason.contains("RECKON_CONFIG_TEST_UNSET"), "{reason}");
        // A key given on the command line instead is not expanded.
        let skipped = "target = \"${RECKON_CONFIG_TEST_UNSET}\"\n";
        assert_eq!(expand_file(skipped, &["target"]).unwrap(), skipped);
        // Not TOML: returned as it is, for the parser to report.
        assert_eq!(expand_file("a = \"${X", &[]).unwrap(), "a = \"${X");
    }
}
