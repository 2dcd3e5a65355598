//! `reckon diff` against real PostgreSQL and MariaDB (fixtures/diff/postgres.sql, mariadb.sql):
//! the CASES.md type, encoding and key cases with their verdict and class, across PG↔PG,
//! PG↔MariaDB, MariaDB↔SQLite, PG↔Parquet and MariaDB↔Parquet.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::Value;

use crate::common::*;
use crate::diff_files::{diff_json, sample_map};

static PG_LOADED: Mutex<bool> = Mutex::new(false);
static MY_LOADED: Mutex<bool> = Mutex::new(false);

/// Loads the PostgreSQL fixture once per test binary; None when skipped.
fn postgres() -> Option<String> {
    load_postgres(&PG_LOADED, "fixtures/diff/postgres.sql")
}

/// Loads the MariaDB fixture once; returns the URL of its `reckon_diff` database.
fn mariadb() -> Option<String> {
    load_mariadb(&MY_LOADED, "fixtures/diff/mariadb.sql", "reckon_diff")
}

/// Asserts that each (key, cell) is among the table's samples.
fn assert_cells(t: &Value, expected: &[(&str, &str)]) {
    let got = sample_map(t);
    for (key, cell) in expected {
        let cells = got
            .get(*key)
            .unwrap_or_else(|| panic!("{key} not reported: {got:#?}"));
        assert!(
            cells.iter().any(|c| c == cell),
            "{key}: expected {cell}, got {cells:?}"
        );
    }
}

#[test]
fn postgres_to_postgres_gets_every_type_and_encoding_case_right() {
    let Some(pg) = postgres() else { return };
    let (code, r) = diff_json(&[
        &pg,
        &pg,
        "--table",
        "reckon_diff.cases_src:reckon_diff.cases_tgt",
        "--rule",
        "f8=signed-zero",
        "--rule",
        "c2=char-pad",
        "--rule",
        "tzd=tz-instant",
        "--samples",
        "50",
    ]);
    assert_eq!(code, 1);
    let t = &r["tables"][0];
    let c = &t["counts"];
    assert_eq!(
        (
            c["matched_by_rule"].as_u64(),
            c["mismatched"].as_u64(),
            c["missing"].as_u64(),
            c["extra"].as_u64()
        ),
        (Some(6), Some(13), Some(1), Some(1)),
        "{c}"
    );
    assert_cells(
        t,
        &[
            ("id=2", "wide:mismatch(value)"),
            ("id=3", "big:mismatch(value)"),
            ("id=4", "f8:mismatch(rounding)"),
            ("id=6", "ts6:mismatch(precision-loss)"),
            ("id=7", "tzd:mismatch(tz-dropped)"),
            ("id=9", "vc:mismatch(whitespace)"),
            ("id=10", "note:mismatch(null-vs-empty)"),
            ("id=11", "note:mismatch(value)"),
            ("id=12", "amount:mismatch(rounding)"),
            ("id=13", "note:mismatch(mojibake)"),
            ("id=14", "note:mismatch(nfc-nfd)"),
            ("id=15", "note:mismatch(value)"),
            ("id=16", "n25:mismatch(type-changed)"),
            ("id=17", "missing"),
            ("id=21", "extra"),
        ],
    );
    // Counted rule matches: signed zero, CHAR padding, and the zone-less copy of every instant.
    assert_eq!(
        t["rules"],
        serde_json::json!({"char-pad": 1, "signed-zero": 1, "tz-instant": 18})
    );
    // Equal: 18.00000 vs 18, float round trip, 40 digits, same instant in two offsets, int → bigint.
    let col = |n: &str| {
        t["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["source"] == n)
            .unwrap()
            .clone()
    };
    for n in ["n25", "tstz", "id"] {
        let c = col(n);
        assert_eq!(
            c["compared"].as_u64().unwrap() - c["matched"].as_u64().unwrap(),
            u64::from(n == "n25"),
            "{n}: {c}"
        );
    }
    let schema: Vec<(String, String)> = t["schema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["column"].as_str().unwrap().into(),
                f["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    for want in [
        ("n25", "scale-changed"),
        ("ts6", "precision-cut"),
        ("tzd", "tz-dropped"),
        ("id", "widened"),
        ("c2", "char-to-varchar"),
    ] {
        assert!(
            schema.contains(&(want.0.into(), want.1.into())),
            "schema lacks {want:?}: {schema:?}"
        );
    }
    // Without the rules, the same cells are mismatches, never silent matches.
    let (_, r) = diff_json(&[
        &pg,
        &pg,
        "--table",
        "reckon_diff.cases_src:reckon_diff.cases_tgt",
    ]);
    let t = &r["tables"][0];
    assert_eq!(t["counts"]["matched_by_rule"], 0);
    assert_eq!(
        t["counts"]["matched"], 0,
        "every row has a zone-less timestamp"
    );
}

#[test]
fn composite_keys_that_concatenate_alike_match_without_false_duplicates() {
    let Some(pg) = postgres() else { return };
    let (code, r) = diff_json(&[&pg, &pg, "--table", "reckon_diff.ck_src:reckon_diff.ck_tgt"]);
    let t = &r["tables"][0];
    assert_eq!(code, 0, "{t:#}");
    assert_eq!(t["key"], serde_json::json!(["a", "b"]));
    assert_eq!(t["counts"]["matched"], 2);
}

#[test]
fn postgres_to_mariadb_pins_time_zones_and_keeps_booleans_honest() {
    let (Some(pg), Some(my)) = (postgres(), mariadb()) else {
        return;
    };
    let (code, r) = diff_json(&[&pg, &my, "--table", "reckon_diff.my_src:my_tgt"]);
    assert_eq!(code, 1);
    let t = &r["tables"][0];
    // Row 1: TIMESTAMP(6) written in a +05:30 session equals the timestamptz; tinyint 1 = true.
    // Row 8: tinyint 0 = false.
    assert_eq!(t["counts"]["matched"], 2, "{t:#}");
    assert_cells(
        t,
        &[
            ("id=2", "amount:mismatch(rounding)"),
            ("id=3", "f8:mismatch(rounding)"),
            ("id=4", "flag:mismatch(type-changed)"),
            ("id=5", "vc:mismatch(whitespace)"),
            ("id=6", "note:mismatch(null-vs-empty)"),
            ("id=7", "note:mismatch(mojibake)"),
            ("id=9", "missing"),
            ("id=10", "extra"),
        ],
    );
    assert_eq!(sample_map(t).len(), 8, "nothing else differs");
}

#[test]
fn mariadb_to_sqlite_copy_matches_and_databases_to_parquet_find_the_planted_rows() {
    let (Some(pg), Some(my)) = (postgres(), mariadb()) else {
        return;
    };
    let (code, r) = diff_json(&[
        &my,
        "sqlite://fixtures/diff/legacy.db",
        "--table",
        "customers",
    ]);
    assert_eq!((code, r["verdict"].as_str()), (0, Some("match")), "{r:#}");
    assert_eq!(r["tables"][0]["counts"]["matched"], 30);
    let planted = |src: &str, table: &str| -> BTreeMap<String, Vec<String>> {
        let (code, r) = diff_json(&[src, "fixtures/diff/migrated.parquet", "--table", table]);
        assert_eq!(code, 1);
        sample_map(&r["tables"][0])
    };
    let from_pg = planted(&pg, "reckon_diff.customers:migrated");
    let from_my = planted(&my, "customers:migrated");
    assert_eq!(from_pg.len(), 14, "{from_pg:#?}");
    assert_eq!(
        from_pg, from_my,
        "the same data in PostgreSQL and MariaDB: the same findings"
    );
    assert_eq!(from_pg["id=6"], vec!["name:mismatch(mojibake)".to_string()]);
    assert_eq!(
        from_pg["id=9"],
        vec!["balance:mismatch(rounding)".to_string()]
    );
    assert_eq!(from_pg["id=12"], vec!["active:mismatch(value)".to_string()]);
}

#[test]
fn unknown_table_and_password_never_leak() {
    let Some(pg) = postgres() else { return };
    let r = reckon(&["diff", &pg, &pg, "--table", "reckon_diff.nope"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("table 'reckon_diff.nope' not found"),
        "{}",
        r.stderr
    );
    let mut bad = url::Url::parse(&pg).unwrap();
    bad.set_username("reckon_nobody").unwrap();
    bad.set_password(Some("Sup3rSecret")).unwrap();
    let r = reckon(&[
        "diff",
        &pg,
        bad.as_str(),
        "--table",
        "reckon_diff.customers",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("Sup3rSecret") && !r.stdout.contains("Sup3rSecret"));
}

#[test]
fn database_shards_merge_into_the_unsharded_report() {
    let (Some(pg), Some(my)) = (postgres(), mariadb()) else {
        return;
    };
    let dir = tempdir();
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // PostgreSQL on both sides under rules, every kept chunk spilled to disk (Arrow IPC).
    let pg_pg = strings(&[
        &pg,
        &pg,
        "--table",
        "reckon_diff.cases_src:reckon_diff.cases_tgt",
        "--rule",
        "f8=signed-zero",
        "--rule",
        "c2=char-pad",
        "--memory-limit",
        "1",
        "--samples",
        "4",
    ]);
    let pg_my = strings(&[
        &pg,
        &my,
        "--table",
        "reckon_diff.my_src:my_tgt",
        "--samples",
        "3",
    ]);
    for n in [1, 3, 7] {
        let r = crate::diff_shard::sharded_equals_whole(dir.path(), "pg-pg", &pg_pg, n);
        assert_eq!(r["tables"][0]["spilled"], true);
        let r = crate::diff_shard::sharded_equals_whole(dir.path(), "pg-my", &pg_my, n);
        assert_eq!(r["tables"][0]["counts"]["missing"], 1);
    }
}
