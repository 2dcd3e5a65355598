//! Bad input: a one-line error naming the thing, a hint, exit code 2, no password, no panic.

use crate::common::*;

fn bad(args: &[&str], names: &str) -> Run {
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    let r = reckon(&all);
    assert_eq!(
        r.code, 2,
        "{args:?}: stdout {} stderr {}",
        r.stdout, r.stderr
    );
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(
        r.stderr.contains(names),
        "error should name '{names}': {}",
        r.stderr
    );
    assert!(r.stderr.contains("\nhint: "), "no hint: {}", r.stderr);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert!(
        r.stdout.is_empty(),
        "nothing reported on stdout: {}",
        r.stdout
    );
    r
}

#[test]
fn unreachable_host() {
    let r = bad(
        &["postgres://app:Sup3rS3cret@127.0.0.1:1/crm"],
        "127.0.0.1:1",
    );
    assert!(!r.stderr.contains("Sup3rS3cret"));
    assert!(r.stderr.contains("***"));
}

#[test]
fn unknown_table_lists_what_exists() {
    let r = bad(
        &["sqlite://fixtures/shop/shop.db", "--table", "public.nope"],
        "public.nope",
    );
    assert!(
        r.stderr.contains("customers, order_items, orders"),
        "{}",
        r.stderr
    );
}

#[test]
fn malformed_url_hides_password() {
    let r = bad(&["postgres://app:Pa55word@/"], "postgres://app:***@");
    assert!(!r.stderr.contains("Pa55word"));
    bad(&["ftp://host/db"], "unknown scheme");
}

#[test]
fn missing_file() {
    bad(
        &["fixtures/shop/missing.parquet"],
        "fixtures/shop/missing.parquet",
    );
    bad(&["'fixtures/none/*.csv'"], "fixtures/none");
}

#[test]
fn csv_with_a_broken_quote_names_the_line() {
    bad(&["fixtures/bad/broken_quote.csv"], "line 4");
}

#[test]
fn empty_table() {
    bad(&["sqlite://fixtures/bad/empty.db"], "things");
}

#[test]
fn a_file_that_is_not_a_database() {
    bad(&["sqlite://fixtures/bad/not_a_db.db"], "not_a_db.db");
}

#[test]
fn query_on_a_file_source() {
    bad(
        &["fixtures/shop/orders.parquet", "--query", "SELECT 1"],
        "--query",
    );
}

#[test]
fn a_glob_with_two_files_of_one_name_is_refused() {
    let dir = tempdir();
    for sub in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::copy(
            root().join("fixtures/shop/customers.csv"),
            dir.path().join(sub).join("customers.csv"),
        )
        .unwrap();
    }
    let glob = format!("{}/*/customers.csv", dir.path().display());
    bad(&[&glob], "would both be table 'customers'");
}

/// `reckon … | head`: stdout closed before reckon is done with it ends the run quietly (exit 141,
/// as a program SIGPIPE stops), never as an internal error.
#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    let dir = tempdir();
    let out = dir.path().join("p");
    let runs: [&[&str]; 2] = [
        &[
            "profile",
            "sqlite://fixtures/shop/shop.db",
            "--out",
            out.to_str().unwrap(),
        ],
        &[
            "diff",
            "sqlite://fixtures/diff/legacy.db",
            "fixtures/diff/migrated.parquet",
        ],
    ];
    for args in runs {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reading end goes before reckon writes a byte.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
        // A stdout that cannot take the report (a full disk) is an error, never a silent pass.
        let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            continue;
        };
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to stdout"),
            "{args:?}: {stderr}"
        );
    }
}
