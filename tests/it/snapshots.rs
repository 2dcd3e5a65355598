//! Snapshots (insta) of what each command prints on the fixtures, and of the Markdown and JUnit
//! files it writes, with paths, timings, rates and versions filtered out. A change to any
//! output shows as a diff to review: `cargo insta review`, or `INSTA_UPDATE=always cargo test`
//! then `git diff tests/it/snapshots/`.

use crate::common::*;

/// Runs reckon; returns what it printed, stdout then stderr, with what changes from run to run
/// replaced.
fn printed(args: &[&str], code: i32) -> String {
    let r = reckon(args);
    assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
    format!("{}\n--- stderr ---\n{}", r.stdout, r.stderr)
}

macro_rules! snapshot {
    ($name:expr, $text:expr) => {
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            filters => vec![
                (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
                (r"\b\d+(\.\d+)? s\b", "[SECONDS] s"),
                (r"\b\d+(\.\d+)?s\b", "[SECONDS]s"),
                (r"time=\x22[0-9.]+\x22", "time=\x22[T]\x22"),
                (r"\b\d+ rows/s\b", "[RATE] rows/s"),
                (r"reckon \d+\.\d+\.\d+", "reckon [VERSION]"),
                (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[TIMESTAMP]"),
                (r"sha256 [0-9a-f]{64}", "sha256 [SHA256]"),
            ],
        }, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

const LEGACY: &str = "sqlite://fixtures/diff/legacy.db";
const PARQUET: &str = "fixtures/diff/migrated.parquet";
const SHOP: &str = "sqlite://fixtures/shop/shop.db";

#[test]
fn profile_prints() {
    snapshot!("profile", printed(&["profile", SHOP], 0));
}

#[test]
fn diff_prints_and_writes_markdown_and_junit() {
    let d = tempdir();
    let (md, junit) = (d.path().join("d.md"), d.path().join("d.xml"));
    let text = printed(
        &[
            "diff",
            LEGACY,
            PARQUET,
            "--markdown",
            md.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        1,
    );
    snapshot!("diff", text);
    snapshot!("diff_markdown", std::fs::read_to_string(md).unwrap());
    snapshot!("diff_junit", std::fs::read_to_string(junit).unwrap());
    snapshot!("diff_quiet", printed(&["diff", LEGACY, PARQUET, "-q"], 1));
}

#[test]
fn check_prints_and_writes_markdown_and_junit() {
    let d = tempdir();
    let rules = d.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nkind = \"not_null\"\ntable = \"customers\"\ncolumn = \"email\"\n\n\
         [[rule]]\nkind = \"allowed\"\ntable = \"orders\"\ncolumn = \"status\"\n\
         values = [\"paid\", \"shipped\", \"cancelled\", \"refunded\"]\n",
    )
    .unwrap();
    let (md, junit) = (d.path().join("c.md"), d.path().join("c.xml"));
    let text = printed(
        &[
            "check",
            SHOP,
            "--rules",
            rules.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        1,
    );
    snapshot!("check", text);
    snapshot!("check_markdown", std::fs::read_to_string(md).unwrap());
    snapshot!("check_junit", std::fs::read_to_string(junit).unwrap());
}

#[test]
fn signoff_and_compare_print() {
    let d = tempdir();
    let legacy = format!(
        "sqlite://{}",
        root().join("fixtures/diff/legacy.db").display()
    );
    let migrated = root().join(PARQUET).display().to_string();
    let spec = |name: &str, missing: u32| {
        let path = d.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "source = \"{legacy}\"\ntarget = \"{migrated}\"\n\n[criteria]\nmissing = {missing}\n\n\
                 [[table]]\nsource = \"customers\"\ntarget = \"migrated\"\nkey = [\"id\"]\n"
            ),
        )
        .unwrap();
        path
    };
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    let text = printed(
        &[
            "signoff",
            spec("a", 0).to_str().unwrap(),
            "--out",
            a.to_str().unwrap(),
        ],
        1,
    );
    // The fixtures' absolute paths differ between checkouts.
    let root = root().display().to_string();
    snapshot!("signoff", text.replace(&root, "[ROOT]"));
    printed(
        &[
            "signoff",
            spec("b", 5).to_str().unwrap(),
            "--out",
            b.to_str().unwrap(),
        ],
        1,
    );
    let text = printed(&["compare", a.to_str().unwrap(), b.to_str().unwrap()], 1);
    // The timings table (seconds of each step, and their ratios) differs from run to run: the
    // snapshot stops at its top border.
    let lines: Vec<&str> = text.lines().collect();
    let timing = lines
        .iter()
        .position(|l| l.contains("│ timing"))
        .expect("a timings table");
    assert!(lines[timing - 1].starts_with('┌'));
    snapshot!(
        "compare",
        lines[..timing - 1].join("\n").replace(&root, "[ROOT]")
    );
}

#[test]
fn init_prints_a_mapping() {
    let d = tempdir();
    let target = super::init::renamed_copy(d.path());
    snapshot!("init", printed(&["init", SHOP, &target], 0));
}
