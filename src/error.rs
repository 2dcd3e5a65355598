//! Error types shared across engines, and the mapping from an outcome to an exit code.
//!
//! Every engine module has its own `thiserror` enum with structured fields; this file holds the
//! pieces they share: [`Hinted`] (an error that can tell the user what to do next), the exit codes
//! from DESIGN.md, and [`scrub`], the last line of defence that removes registered secrets
//! (passwords) from any text before it is printed or written.

use std::sync::Mutex;

/// Exit code: the audit ran and everything is clean.
pub const EXIT_CLEAN: i32 = 0;
/// Exit code: the audit ran and found differences or failed checks.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: the tool could not do its job (bad input, unreachable source, internal error).
pub const EXIT_ERROR: i32 = 2;

/// An error that knows what the user should try next.
pub trait Hinted {
    /// A one-line suggestion, shown after `hint:`.
    fn hint(&self) -> Option<String>;
}

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Registers a secret (a password from a URL) so that [`scrub`] removes it from any output.
///
/// Both the raw and the percent-decoded forms should be registered by the caller.
pub fn register_secret(secret: &str) {
    if secret.is_empty() {
        return;
    }
    if let Ok(mut s) = SECRETS.lock() {
        if !s.iter().any(|x| x == secret) {
            s.push(secret.to_string());
            // Longest first, so a secret that contains another is replaced whole.
            s.sort_by_key(|x| std::cmp::Reverse(x.len()));
        }
    }
}

/// Replaces every registered secret in `text` by `***`.
pub fn scrub(text: &str) -> String {
    let mut out = text.to_string();
    if let Ok(s) = SECRETS.lock() {
        for secret in s.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_registered_secret_everywhere() {
        register_secret("s3cr3t-pw");
        let text = "could not connect to postgres://app:s3cr3t-pw@db/x (password s3cr3t-pw)";
        let out = scrub(text);
        assert!(!out.contains("s3cr3t-pw"), "{out}");
        assert_eq!(out.matches("***").count(), 2);
    }
}
