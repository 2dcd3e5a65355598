//! The planted defects in real PostgreSQL and MariaDB tables (loaded from fixtures/shop/*.sql),
//! found by `reckon profile` through connectorx, plus a wrong password that never leaks.

use std::sync::Mutex;

use crate::common::*;
use serde_json::Value;

static PG_LOADED: Mutex<bool> = Mutex::new(false);
static MY_LOADED: Mutex<bool> = Mutex::new(false);

/// Loads the PostgreSQL fixture once per test binary; None when skipped.
fn postgres() -> Option<String> {
    load_postgres(&PG_LOADED, "fixtures/shop/postgres.sql")
}

/// Loads the MariaDB fixture once; returns the URL of its `reckon_fx` database.
fn mariadb() -> Option<String> {
    load_mariadb(&MY_LOADED, "fixtures/shop/mariadb.sql", "reckon_fx")
}

/// The findings every engine must report on the shop fixture.
fn assert_shop_findings(r: &Value) {
    let t = |n: &str| table(r, n);
    assert_eq!(t("customers")["rows"], 40);
    assert_eq!(t("orders")["rows"], 60);
    let email = column(r, "customers", "email");
    assert_eq!(email["nulls"], 3);
    assert_eq!(
        email["null_sample_keys"],
        serde_json::json!(["id=7", "id=19", "id=33"])
    );
    assert_eq!(date_formats(column(r, "customers", "signup_date")).len(), 4);
    assert_eq!(
        column(r, "customers", "state")["inconsistent"][0]["variants"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        encoding(column(r, "customers", "first_name"), "mojibake"),
        (2, vec!["id=5".into(), "id=23".into()])
    );
    let note = column(r, "customers", "note");
    assert_eq!(encoding(note, "c1-control").1, vec!["id=4".to_string()]);
    assert_eq!(encoding(note, "non-nfc").1, vec!["id=20".to_string()]);
    assert_eq!(note["empty"], 2);
    assert_eq!(note["nulls"], 26);
    // numeric(10,2) read exactly, as a decimal, never as a float.
    let total = column(r, "orders", "total");
    assert_eq!(total["min"], "5.00");
    assert_eq!(total["max"], "797.99");
    // Orphans: customer_id has no FK constraint on the servers, so it is found by inference.
    let rels = r["relationships"].as_array().unwrap();
    let cid = rels
        .iter()
        .find(|x| x["child_column"] == "customer_id")
        .expect("customer_id relationship");
    assert_eq!(cid["orphan_rows"], 2);
    let mail = rels
        .iter()
        .find(|x| x["child_column"] == "customer_email")
        .expect("email relationship");
    assert_eq!(
        mail["orphan_samples"],
        serde_json::json!(["ghost.buyer@example.com (1 row)"])
    );
    assert_eq!(t("order_items")["duplicate_rows"], 2);
}

#[test]
fn postgres_shop_defects() {
    let Some(url) = postgres() else { return };
    let r = profile_json(&[
        &url,
        "--table",
        "reckon_fx.customers",
        "--table",
        "reckon_fx.orders",
        "--table",
        "reckon_fx.order_items",
    ]);
    assert_shop_findings(&r);
    assert_eq!(
        table(&r, "customers")["primary_key"],
        serde_json::json!(["id"])
    );
    let items_fk = r["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["child_column"] == "order_id")
        .unwrap();
    assert_eq!(
        items_fk["declared"], true,
        "FK read from the PostgreSQL catalog"
    );
    assert_eq!(items_fk["orphan_rows"], 0);
}

#[test]
fn mariadb_shop_defects() {
    let Some(url) = mariadb() else { return };
    let r = profile_json(&[&url]);
    assert_shop_findings(&r);
    let items_fk = r["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["child_column"] == "order_id")
        .unwrap();
    assert_eq!(
        items_fk["declared"], true,
        "FK read from information_schema"
    );
}

#[test]
fn mariadb_wrong_password_is_clear_and_redacted() {
    let Some(url) = mariadb() else { return };
    let mut u = url::Url::parse(&url).unwrap();
    u.set_password(Some("Wr0ngPassw0rd")).unwrap();
    let r = reckon(&["profile", u.as_str()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("Access denied"), "{}", r.stderr);
    assert!(
        r.stderr.contains("hint: check the user name and password"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("Wr0ngPassw0rd") && !r.stdout.contains("Wr0ngPassw0rd"));
}

#[test]
fn postgres_unknown_table_and_query() {
    let Some(url) = postgres() else { return };
    let r = reckon(&["profile", &url, "--table", "reckon_fx.nope"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("reckon_fx.nope") && r.stderr.contains("reckon_fx.customers"),
        "{}",
        r.stderr
    );
    let q = profile_json(&[
        &url,
        "--query",
        "SELECT status FROM reckon_fx.orders WHERE status = 'paid'",
    ]);
    assert_eq!(table(&q, "query")["rows"], 24);
}

fn exec_pg(url: &str, sql: &str) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    c.batch_execute(sql).expect("setup");
}

fn exec_mysql(url: &str, sql: &str) {
    use mysql::prelude::Queryable;
    let mut c = mysql::Conn::new(mysql::Opts::from_url(url).unwrap()).expect("connect");
    c.query_drop(sql).expect("setup");
}

#[test]
fn an_unpopulated_materialized_view_is_a_finding_and_the_rest_is_profiled() {
    let Some(url) = postgres() else { return };
    exec_pg(
        &url,
        "DROP SCHEMA IF EXISTS reckon_mv CASCADE; CREATE SCHEMA reckon_mv;
         CREATE TABLE reckon_mv.t (id int PRIMARY KEY, v int);
         INSERT INTO reckon_mv.t VALUES (1, 2), (2, 3);
         CREATE MATERIALIZED VIEW reckon_mv.empty AS SELECT * FROM reckon_mv.t WITH NO DATA;
         CREATE MATERIALIZED VIEW reckon_mv.full AS SELECT * FROM reckon_mv.t;
         CREATE VIEW reckon_mv.plain AS SELECT id FROM reckon_mv.t;",
    );
    let r = profile_json(&[
        &url,
        "--table",
        "reckon_mv.t",
        "--table",
        "reckon_mv.empty",
        "--table",
        "reckon_mv.full",
        "--table",
        "reckon_mv.plain",
    ]);
    let names: Vec<&str> = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["t", "full", "plain"], "{r}");
    assert_eq!(table(&r, "full")["rows"], 2);
    assert_eq!(table(&r, "plain")["rows"], 2);
    assert_eq!(finding_codes(&r, "empty", None), vec!["unpopulated-view"]);
    // Diffing it alone is a clear error, exit 2.
    let d = reckon(&["diff", &url, &url, "--table", "reckon_mv.empty"]);
    assert_eq!(d.code, 2);
    assert!(d.stderr.contains("has not been populated"), "{}", d.stderr);
    assert!(
        d.stderr.contains("REFRESH MATERIALIZED VIEW"),
        "{}",
        d.stderr
    );
    // Beside a table that can be compared: that one is, the whole report is written, the pair
    // that cannot ends in error(unpopulated), and the run exits 2, never a match.
    let dir = tempdir();
    let out = dir.path().join("out");
    let d = reckon(&[
        "diff",
        &url,
        &url,
        "--table",
        "reckon_mv.empty",
        "--table",
        "reckon_mv.t",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(d.code, 2, "{}", d.stderr);
    let v: Value = serde_json::from_slice(&std::fs::read(out.join("diff.json")).unwrap()).unwrap();
    assert_eq!(v["verdict"], "error");
    assert_eq!(v["tables"][0]["verdict"], "error(unpopulated)");
    assert!(v["tables"][0]["error"]
        .as_str()
        .unwrap()
        .contains("has not been populated"));
    assert_eq!(v["tables"][1]["verdict"], "match");
    assert_eq!(v["tables"][1]["counts"]["matched"], 2);
    assert!(out.join("diff_rows.parquet").exists() && out.join("diff.html").exists());
}

#[test]
fn postgres_type_fidelity_edges() {
    let Some(url) = postgres() else { return };
    exec_pg(
        &url,
        "DROP SCHEMA IF EXISTS reckon_edge CASCADE; CREATE SCHEMA reckon_edge;
         CREATE TABLE reckon_edge.edge (id int PRIMARY KEY, ts timestamptz, n numeric, f float8, d date);
         INSERT INTO reckon_edge.edge VALUES
           (1, '2024-01-01 00:00:01-01:00', 'NaN', 0.36640625, '2024-01-01'),
           (2, '2024-01-01 01:00:02+00', 12345678901234567890123456789012345678901.5, 9007199254740991, '-infinity'),
           (3, NULL, 18.00000, NULL, '2024-02-01'),
           (4, 'infinity', 1, 1, NULL);",
    );
    let r = profile_json(&[&url, "--table", "reckon_edge.edge"]);
    let ts = column(&r, "edge", "ts");
    // The session is pinned to UTC: -01:00 at 00:00:01 is 01:00:01Z.
    assert_eq!(ts["min"], "2024-01-01 01:00:01.000000Z");
    // 'infinity' is named, counted, and kept out of the range.
    assert_eq!(ts["infinite"], 1);
    assert_eq!(ts["max"], "2024-01-01 01:00:02.000000Z");
    assert!(
        ts["top_values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["value"] == "infinity"),
        "{}",
        ts["top_values"]
    );
    let d = column(&r, "edge", "d");
    assert_eq!(d["infinite"], 1);
    assert_eq!(d["min"], "2024-01-01");
    assert!(d["top_values"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["value"] == "-infinity"));
    assert!(finding_codes(&r, "edge", Some("ts")).contains(&"infinity".to_string()));
    let n = column(&r, "edge", "n");
    let values: Vec<&str> = n["top_values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"NaN"), "{values:?}");
    assert!(
        values.contains(&"12345678901234567890123456789012345678901.5"),
        "never through f64: {values:?}"
    );
    assert!(values.contains(&"18.00000"), "{values:?}");
    let f = column(&r, "edge", "f");
    assert_eq!(f["max"], "9007199254740991.0", "floats read exactly");
    assert_eq!(f["min"], "0.36640625");
}

#[test]
fn mariadb_zero_dates_are_kept_and_reported() {
    let Some(url) = mariadb() else { return };
    exec_mysql(
        &url,
        "SET SESSION sql_mode = '';
         CREATE DATABASE IF NOT EXISTS reckon_edge;
         DROP TABLE IF EXISTS reckon_edge.edge;
         CREATE TABLE reckon_edge.edge (id int PRIMARY KEY, d date, dt datetime, b tinyint(1));
         INSERT INTO reckon_edge.edge VALUES (1, '0000-00-00', '0000-00-00 00:00:00', 2), (2, '2024-01-01', '2024-01-01 10:00:00', 1);",
    );
    let mut u = url::Url::parse(&url).unwrap();
    u.set_path("/reckon_edge");
    let r = profile_json(&[u.as_str(), "--table", "edge"]);
    let d = column(&r, "edge", "d");
    assert_eq!(d["zero_dates"], 1);
    assert_eq!(d["nulls"], 0, "a zero date is not a NULL");
    assert_eq!(column(&r, "edge", "dt")["zero_dates"], 1);
    assert!(finding_codes(&r, "edge", Some("d")).contains(&"zero-dates".to_string()));
    // tinyint(1) is read as an integer: 2 stays 2.
    assert_eq!(column(&r, "edge", "b")["max"], "2");
}

#[test]
fn mariadb_partitioned_read_loses_and_repeats_no_row() {
    let Some(url) = mariadb() else { return };
    // Over a million rows with an integer key: read as key ranges, a few at a time. Negative keys
    // and a gap make the ranges uneven; every row must be read exactly once.
    exec_mysql(
        &url,
        "CREATE DATABASE IF NOT EXISTS reckon_big;
         DROP TABLE IF EXISTS reckon_big.wide;
         CREATE TABLE reckon_big.wide (id bigint PRIMARY KEY, v int);
         INSERT INTO reckon_big.wide SELECT g, g % 7 FROM (SELECT CAST(seq AS SIGNED) - 400001 AS g FROM seq_1_to_1100001) s WHERE g NOT BETWEEN 1000 AND 1999;",
    );
    let mut u = url::Url::parse(&url).unwrap();
    u.set_path("/reckon_big");
    assert_every_row_read_once(u.as_str(), "wide", 1_100_001 - 1_000);
}

/// Profiles `table` (ids -400000..=700000, `v` = id % 7) and checks that each of its `rows` rows
/// was read once.
fn assert_every_row_read_once(url: &str, table_name: &str, rows: u64) {
    let r = profile_json(&[
        url,
        "--table",
        table_name,
        "--exact-distinct-limit",
        "2000000",
    ]);
    let t = table(&r, "wide");
    assert_eq!(t["rows"], rows);
    let id = column(&r, "wide", "id");
    assert_eq!(id["distinct_exact"], true);
    assert_eq!(id["distinct"], rows, "no row read twice");
    assert_eq!(id["min"], "-400000");
    assert_eq!(id["max"], "700000");
    assert_eq!(t["primary_key_duplicates"], 0);
    assert_eq!(column(&r, "wide", "v")["distinct"], 13, "-6..=6");
}

#[test]
fn postgres_partitioned_read_loses_and_repeats_no_row() {
    let Some(url) = postgres() else { return };
    // Over a million rows: read as ranges of blocks, a few at a time. Rows updated after the load
    // (new versions at the end of the table, dead ones left behind) and deleted rows (holes)
    // make the ranges uneven; every live row must be read exactly once.
    exec_pg(
        &url,
        "CREATE SCHEMA IF NOT EXISTS reckon_big;
         DROP TABLE IF EXISTS reckon_big.wide;
         CREATE TABLE reckon_big.wide (id bigint PRIMARY KEY, v int);
         INSERT INTO reckon_big.wide SELECT g, g % 7 FROM generate_series(-400000, 700000) g WHERE g NOT BETWEEN 1000 AND 1999;
         UPDATE reckon_big.wide SET v = -v WHERE id % 10 = 3;
         DELETE FROM reckon_big.wide WHERE id BETWEEN 200000 AND 200999;
         UPDATE reckon_big.wide SET v = -v WHERE id % 10 = 3;",
    );
    assert_every_row_read_once(&url, "reckon_big.wide", 1_100_001 - 2_000);
}
