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

    // The missing-values chart: one bar per column, NULLs and blanks apart. customers.note holds
    // 26 NULLs in 40 rows, 2 empty strings and 1 of white space only.
    assert_eq!(dom.matches("class=\"bar miss\"").count(), 19);
    let note = dom
        .split("data-column=\"note\"")
        .nth(1)
        .expect("a missing-values bar for note");
    assert!(
        note.starts_with(" data-nulls=\"26\" data-blank=\"3\""),
        "{}",
        &note[..80]
    );
    let note_bar = &note[..note.find("</div>").unwrap()];
    assert!(note_bar.contains("class=\"nulls\" x=\"0\" y=\"1\" width=\"65.0\""));
    assert!(note_bar.contains("class=\"blank\" x=\"65.0\" y=\"1\" width=\"7.5\""));
    assert!(note_bar.contains("72.5 %"));

    // Histograms: only numeric and temporal columns have one, and its bins hold exactly the
    // column's finite values (the report's own counts).
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("profile.json")).unwrap()).unwrap();
    let mut expected = Vec::new();
    for t in report["tables"].as_array().unwrap() {
        for c in t["columns"].as_array().unwrap() {
            let bins = c["histogram"].as_array().unwrap();
            let numeric = ["int", "float"].contains(&c["kind"].as_str().unwrap());
            assert_eq!(!bins.is_empty(), numeric, "histogram of {}", c["name"]);
            if numeric {
                let finite = c["rows"].as_u64().unwrap()
                    - c["nulls"].as_u64().unwrap()
                    - c["nan"].as_u64().unwrap()
                    - c["infinite"].as_u64().unwrap();
                let sum: u64 = bins.iter().map(|b| b["count"].as_u64().unwrap()).sum();
                assert_eq!(sum, finite, "histogram of {}", c["name"]);
                expected.push(bins.len());
            }
        }
    }
    let hists: Vec<&str> = dom.split("<svg class=\"hist\"").skip(1).collect();
    assert_eq!(
        hists
            .iter()
            .map(|h| h[..h.find("</svg>").unwrap()]
                .matches("class=\"hbin\"")
                .count())
            .collect::<Vec<_>>(),
        expected
    );
    // customers.id is 1..40: twenty bins of two, all drawn full height.
    let id = hists[0];
    let id = &id[..id.find("</svg>").unwrap()];
    assert_eq!(id.matches("data-count=\"2\"").count(), 20);
    assert_eq!(id.matches("height=\"39.0\"").count(), 20);
}
