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
            "--junit",
            d.path().join("s.xml").to_str().unwrap(),
            "--markdown",
            d.path().join("s.md").to_str().unwrap(),
        ],
        1,
    );
    // The fixtures' absolute paths differ between checkouts.
    let root = root().display().to_string();
    snapshot!("signoff", text.replace(&root, "[ROOT]"));
    let file = |name: &str| {
        std::fs::read_to_string(d.path().join(name))
            .unwrap()
            .replace(&root, "[ROOT]")
    };
    snapshot!("signoff_junit", file("s.xml"));
    snapshot!("signoff_markdown", file("s.md"));
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

/// A migrate table's column widths follow its timings: seconds and rates are replaced, then runs
/// of spaces and rules are collapsed so that the widths do not matter.
fn migrate_text(text: &str, root: &str) -> String {
    let text = text.replace(root, "[ROOT]");
    let text = regex::Regex::new(r"\b\d+\.\d\d\b")
        .unwrap()
        .replace_all(&text, "[S]");
    let text = regex::Regex::new(r"(\[S\] +┆ +)\d+")
        .unwrap()
        .replace_all(&text, "$1[RATE]");
    let text = regex::Regex::new(r" {2,}").unwrap().replace_all(&text, " ");
    let text = regex::Regex::new(r"─+").unwrap().replace_all(&text, "─");
    let text = regex::Regex::new(r"═+").unwrap().replace_all(&text, "═");
    text.into_owned()
}

/// `reckon migrate` (a run, a second run, `status`, a failing unit) and `reckon runbook`, on an
/// SQLite target. The fixture's `customers.last_name` holds a value that is not UTF-8: a unit
/// that does not copy that column completes; one that copies it fails, writes nothing, and the
/// runbook written from that plan says its dry run failed instead of expecting 0 rows.
#[test]
fn migrate_and_runbook_print() {
    let d = tempdir();
    let root = root().display().to_string();
    let target = d.path().join("t.db");
    rusqlite::Connection::open(&target)
        .unwrap()
        .execute_batch(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, state TEXT);
             CREATE TABLE names (id INTEGER PRIMARY KEY, last_name TEXT);",
        )
        .unwrap();
    let plan = |name: &str, unit: &str| {
        let path = d.path().join(format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "name = \"{name}\"\nsource = \"sqlite://{root}/fixtures/shop/shop.db\"\n\
                 target = \"sqlite://t.db\"\nbatch_size = 25\n\n{unit}"
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let good = plan(
        "shop",
        "[[unit]]\nname = \"customers\"\ntable = \"customers\"\ntarget = \"customers\"\n\
         key = [\"id\"]\n\n[unit.columns]\nid = \"id\"\n\
         email = { from = \"email\", trim = true, case = \"lower\" }\nstate = \"state\"\n",
    );
    let runbook = printed(&["runbook", &good], 0);
    assert!(
        runbook.contains("Expect 40 rows read and verified"),
        "{runbook}"
    );
    snapshot!("runbook", migrate_text(&runbook, &root));
    let (junit, md) = (d.path().join("m.xml"), d.path().join("m.md"));
    let first = printed(
        &[
            "migrate",
            &good,
            "--junit",
            junit.to_str().unwrap(),
            "--markdown",
            md.to_str().unwrap(),
        ],
        0,
    );
    let file = |p: &std::path::Path| migrate_text(&std::fs::read_to_string(p).unwrap(), &root);
    snapshot!("migrate_junit", file(&junit));
    snapshot!("migrate_markdown", file(&md));
    assert!(
        first.contains("1 of 1 unit(s) completed and verified"),
        "{first}"
    );
    snapshot!("migrate", migrate_text(&first, &root));
    let again = printed(&["migrate", &good], 0);
    assert!(again.contains("already completed"), "{again}");
    snapshot!("migrate_again", migrate_text(&again, &root));
    snapshot!("migrate_quiet", printed(&["migrate", &good, "-q"], 0));
    let status = printed(&["migrate", "status", &good], 0);
    snapshot!("migrate_status", migrate_text(&status, &root));
    // Backup, forget and restore. The ledger's rows (and so its hashes) hold timestamps.
    let ledger_line =
        regex::Regex::new(r"(reckon_ledger ┆ \d+ ┆ )[0-9a-f]{16} ┆ [0-9a-f]{16}").unwrap();
    let backup_text = |t: &str| {
        let t = migrate_text(t, &root);
        ledger_line
            .replace_all(&t, "$1[HASH] ┆ [HASH]")
            .into_owned()
    };
    let dir = d.path().join("backup");
    let dir = dir.to_str().unwrap();
    let backup = printed(&["migrate", "backup", &good, "--dir", dir], 0);
    snapshot!("migrate_backup", backup_text(&backup));
    let forget = printed(&["migrate", "forget", &good, "--unit", "customers"], 0);
    snapshot!("migrate_forget", migrate_text(&forget, &root));
    assert!(printed(&["migrate", "status", &good], 0).contains("pending"));
    let restore = printed(&["migrate", "restore", &good, "--from", dir], 0);
    snapshot!("migrate_restore", backup_text(&restore));
    // The ledger came back with the rows: the unit is completed again.
    let status = printed(&["migrate", "status", &good], 0);
    assert!(status.contains("completed"), "{status}");

    let bad = plan(
        "names",
        "[[unit]]\nname = \"names\"\ntable = \"customers\"\ntarget = \"names\"\nkey = [\"id\"]\n\n\
         [unit.columns]\nid = \"id\"\nlast_name = \"last_name\"\n",
    );
    let failed = printed(&["migrate", &bad], 1);
    assert!(
        failed.contains("source column 'last_name' are not valid UTF-8"),
        "{failed}"
    );
    let rows: i64 = rusqlite::Connection::open(&target)
        .unwrap()
        .query_row("SELECT count(*) FROM names", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "a failed unit wrote rows");
    snapshot!("migrate_failed", migrate_text(&failed, &root));

    let runbook = printed(&["runbook", &bad], 0);
    assert!(
        runbook.contains("**dry run failed**") && !runbook.contains(" 0 rows read"),
        "{runbook}"
    );
    snapshot!("runbook_failed_dry_run", migrate_text(&runbook, &root));
    // Written again once the unit is done, the runbook says so rather than expect 0 rows.
    let runbook = printed(&["runbook", &good], 0);
    assert!(
        runbook.contains("already holds a completed run") && !runbook.contains(" 0 rows read"),
        "{runbook}"
    );
}

/// `reckon merge` of two shards prints the whole run's report, and says what it wrote.
#[test]
fn merge_prints() {
    let d = tempdir();
    let shard = |i: u32| {
        let dir = d.path().join(format!("s{i}"));
        let share = format!("{i}/2");
        printed(
            &[
                "diff",
                LEGACY,
                PARQUET,
                "--shard",
                &share,
                "--out",
                dir.to_str().unwrap(),
                "-q",
            ],
            1,
        );
        dir.display().to_string()
    };
    let (a, b) = (shard(1), shard(2));
    let out = d.path().join("merged");
    let text = printed(&["merge", &a, &b, "--out", out.to_str().unwrap()], 1);
    let whole = printed(&["diff", LEGACY, PARQUET], 1);
    // The merged report prints as the unsharded run's does (timings aside).
    let report = |t: &str| {
        let stdout = t.split("--- stderr ---").next().unwrap_or_default();
        regex::Regex::new(r"\d+\.\d+ s\b")
            .unwrap()
            .replace_all(stdout, "[SECONDS] s")
            .into_owned()
    };
    assert_eq!(report(&text), report(&whole));
    snapshot!("merge", text);
}
