//! The planted defects in real PostgreSQL and MariaDB tables (loaded from fixtures/shop/*.sql),
//! found by `reckon profile` through connectorx, plus a wrong password that never leaks.

use std::sync::Mutex;

use crate::common::*;
use serde_json::Value;

static PG_LOADED: Mutex<bool> = Mutex::new(false);
static MY_LOADED: Mutex<bool> = Mutex::new(false);

fn pg_url() -> String {
    std::env::var("RECKON_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn mysql_url() -> String {
    std::env::var("RECKON_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// Loads the PostgreSQL fixture once per test binary; None when skipped.
fn postgres() -> Option<String> {
    let url = pg_url();
    let mut loaded = PG_LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if !*loaded {
        let sql = std::fs::read_to_string(root().join("fixtures/shop/postgres.sql")).unwrap();
        let res = url
            .parse::<postgres::Config>()
            .map_err(|e| e.to_string())
            .and_then(|mut c| {
                c.connect_timeout(std::time::Duration::from_secs(5));
                let mut client = c.connect(postgres::NoTls).map_err(|e| e.to_string())?;
                client
                    .batch_execute(&sql)
                    .map_err(|e| format!("loading fixture: {e}"))
            });
        require("PostgreSQL", res)?;
        *loaded = true;
    }
    Some(url)
}

/// Loads the MariaDB fixture once; returns the URL of its `reckon_fx` database.
fn mariadb() -> Option<String> {
    let url = mysql_url();
    let mut loaded = MY_LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if !*loaded {
        let sql = std::fs::read_to_string(root().join("fixtures/shop/mariadb.sql")).unwrap();
        let res = mysql::Opts::from_url(&url)
            .map_err(|e| e.to_string())
            .and_then(|o| {
                use mysql::prelude::Queryable;
                let o = mysql::OptsBuilder::from_opts(o)
                    .tcp_connect_timeout(Some(std::time::Duration::from_secs(5)));
                let mut conn = mysql::Conn::new(o).map_err(|e| e.to_string())?;
                conn.query_drop(&sql)
                    .map_err(|e| format!("loading fixture: {e}"))
            });
        require("MariaDB", res)?;
        *loaded = true;
    }
    let mut u = url::Url::parse(&url).unwrap();
    u.set_path("/reckon_fx");
    Some(u.to_string())
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
