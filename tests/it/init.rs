//! `reckon init`: the mapping written from both catalogs, on the shop fixture against a copy
//! whose tables and columns were renamed, read back by `reckon diff --mapping` unchanged.

use serde_json::Value;

use crate::common::*;

/// A copy of fixtures/shop/shop.db as a migration might leave it: `customers` became `clients`
/// (first_name → given_name, email → email_address, last_name dropped, created_by added),
/// `orders` kept its name, `order_items` became `order_lines` (qty → quantity).
pub(crate) fn renamed_copy(dir: &std::path::Path) -> String {
    let path = dir.join("renamed.db");
    let db = rusqlite::Connection::open(&path).unwrap();
    let shop = root().join("fixtures/shop/shop.db");
    db.execute_batch(&format!(
        "ATTACH DATABASE '{}' AS shop;
         CREATE TABLE clients (id INTEGER PRIMARY KEY, given_name TEXT, email_address TEXT,
             phone TEXT, state TEXT, signup_date TEXT, balance NUMERIC, note TEXT, created_by TEXT);
         INSERT INTO clients SELECT id, first_name, email, phone, state, signup_date, balance,
             note, 'migration' FROM shop.customers;
         CREATE TABLE orders AS SELECT * FROM shop.orders;
         CREATE TABLE order_lines (order_id INTEGER, sku TEXT, quantity INTEGER, unit_price REAL);
         INSERT INTO order_lines SELECT order_id, sku, qty, unit_price FROM shop.order_items;
         DETACH DATABASE shop;",
        shop.display()
    ))
    .unwrap();
    format!("sqlite://{}", path.display())
}

#[test]
fn init_writes_a_mapping_the_diff_reads_unchanged() {
    let d = tempdir();
    let target = renamed_copy(d.path());
    let mapping = d.path().join("mapping.toml");
    let r = reckon(&[
        "init",
        "sqlite://fixtures/shop/shop.db",
        &target,
        "--out",
        mapping.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&mapping).unwrap();
    let m: toml::Value = toml::from_str(&text).unwrap();
    let tables = m["table"].as_array().unwrap();
    let pair = |s: &str| {
        tables
            .iter()
            .find(|t| t["source"].as_str() == Some(s))
            .unwrap_or_else(|| panic!("no pair for {s}:\n{text}"))
    };
    // Tables: by name, and by likeness.
    assert_eq!(pair("customers")["target"].as_str(), Some("clients"));
    assert_eq!(pair("orders")["target"].as_str(), Some("orders"));
    assert_eq!(pair("order_items")["target"].as_str(), Some("order_lines"));
    // Keys: declared.
    assert_eq!(pair("customers")["key"], toml::Value::from(vec!["id"]));
    // Renamed columns, and only those.
    let rename = pair("customers")["rename"].as_table().unwrap();
    let got: Vec<(&str, &str)> = rename
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [("email", "email_address"), ("first_name", "given_name")]
    );
    assert_eq!(
        pair("order_items")["rename"]["qty"].as_str(),
        Some("quantity")
    );
    assert!(pair("orders").get("rename").is_none(), "{text}");
    // Columns on one side only, and the evidence of each guess, in comments.
    assert!(text.contains("# only in the source: last_name"), "{text}");
    assert!(text.contains("# only in the target: created_by"), "{text}");
    assert!(text.contains("renamed? names"), "{text}");
    // The diff takes the file as it is: every value arrived, under its new name.
    let r = reckon(&[
        "diff",
        "sqlite://fixtures/shop/shop.db",
        &target,
        "--mapping",
        mapping.to_str().unwrap(),
        "--json",
    ]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
    let rep: Value = serde_json::from_str(&r.stdout).unwrap();
    for t in rep["tables"].as_array().unwrap() {
        let c = &t["counts"];
        assert_eq!(
            (&c["mismatched"], &c["missing"], &c["extra"]),
            (&Value::from(0), &Value::from(0), &Value::from(0)),
            "{t:#}"
        );
        assert!(c["matched"].as_u64().unwrap() > 0, "{t:#}");
    }
    // The dropped column is not hidden: the diff reports its data as not there.
    let customers = &rep["tables"][0];
    assert_eq!(customers["target_table"], "clients");
    assert!(
        customers["schema"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["column"] == "last_name" && f["kind"] == "only-in-source"),
        "{customers:#}"
    );
    // An existing file is never written over.
    let again = reckon(&[
        "init",
        "sqlite://fixtures/shop/shop.db",
        &target,
        "--out",
        mapping.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    assert_eq!(std::fs::read_to_string(&mapping).unwrap(), text);
}
