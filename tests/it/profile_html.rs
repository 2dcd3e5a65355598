//! The HTML report in headless Chromium: it loads with no console errors, its script runs, and it
//! shows the expected findings; it references nothing outside the file.

use std::process::Command;

use crate::common::*;

pub(crate) fn chromium() -> Result<String, String> {
    let bin = std::env::var("RECKON_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    match Command::new(&bin).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(bin),
        Ok(o) => Err(String::from_utf8_lossy(&o.stderr).into_owned()),
        Err(e) => Err(format!("{bin}: {e}")),
    }
}

/// Loads a page in headless Chromium and returns its process output (the DOM on stdout).
pub(crate) fn dump_dom(
    bin: &str,
    dir: &tempfile::TempDir,
    html_path: &std::path::Path,
) -> std::process::Output {
    let profile_dir = dir.path().join("chrome-profile");
    Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            &format!("--user-data-dir={}", profile_dir.display()),
            "--virtual-time-budget=3000",
            "--dump-dom",
            &format!("file://{}", html_path.display()),
        ])
        .output()
        .expect("run chromium")
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let dir = tempdir();
    let (_, out) = profile_out(&dir, "r", &["sqlite://fixtures/shop/shop.db"]);
    let html_path = out.join("profile.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(
            !html.contains(external),
            "the page must be self-contained: {external}"
        );
    }
    let Some(bin) = require("headless Chromium", chromium()) else {
        return;
    };
    let o = dump_dom(&bin, &dir, &html_path);
    let dom = String::from_utf8_lossy(&o.stdout);
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "chromium failed: {log}");
    let console_errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Error") || l.contains("Uncaught")))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors: {console_errors:?}"
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "the page's script did not run"
    );
    for expected in [
        "mixed-date-formats",
        "mojibake",
        "orphans",
        "ghost.buyer@example.com",
        "inferred-orphans",
        "AndrÃ©",
    ] {
        assert!(dom.contains(expected), "rendered page lacks {expected}");
    }
    assert_eq!(
        dom.matches("class=\"card\"").count(),
        19,
        "one card per column"
    );
}
