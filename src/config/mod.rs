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

/// Expands `${VAR}` from the environment (files keep credentials out of themselves); the error
/// names the variable that is not set.
pub fn expand_vars(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let var = &after[..end];
        let v = std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?;
        out.push_str(&v);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    register_url_secrets(&out);
    Ok(out)
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
        let out = expand_vars("target = \"${RECKON_CONFIG_TEST_URL}\"").unwrap();
        assert!(out.contains("Zq9/x#y"));
        assert!(!crate::error::scrub(&out).contains("Zq9/x#y"));
        assert_eq!(line_of("a\nb\nc", 3), 2);
    }
}
