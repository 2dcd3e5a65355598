//! `reckon profile` on the bundled SQLite shop: every planted defect of fixtures/README.md found,
//! with its exact count and keys.

use crate::common::*;
use serde_json::Value;

fn shop() -> Value {
    profile_json(&["sqlite://fixtures/shop/shop.db"])
}

#[test]
fn row_counts_nulls_and_distinct_match_the_fixture() {
    let r = shop();
    assert_eq!(table(&r, "customers")["rows"], 40);
    assert_eq!(table(&r, "orders")["rows"], 60);
    assert_eq!(table(&r, "order_items")["rows"], 120);
    let email = column(&r, "customers", "email");
    assert_eq!(email["nulls"], 3);
    assert_eq!(email["distinct"], 37);
    assert_eq!(email["distinct_exact"], true);
    assert_eq!(
        email["null_sample_keys"],
        serde_json::json!(["id=7", "id=19", "id=33"])
    );
    assert!(finding_codes(&r, "customers", Some("email")).contains(&"sparse-nulls".to_string()));
    assert_eq!(column(&r, "customers", "state")["distinct"], 11);
    assert_eq!(column(&r, "orders", "status")["distinct"], 4);
    assert_eq!(column(&r, "orders", "customer_id")["distinct"], 38);
}

#[test]
fn four_date_formats_in_signup_date() {
    let r = shop();
    let col = column(&r, "customers", "signup_date");
    let mut got = date_formats(col);
    got.sort();
    let mut want = vec![
        ("iso-date".to_string(), 30),
        ("m/d/Y".to_string(), 4),
        ("d.m.Y".to_string(), 3),
        ("Y-m-d H:M:S".to_string(), 3),
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(finding_codes(&r, "customers", Some("signup_date"))
        .contains(&"mixed-date-formats".to_string()));
    // order_date is all ISO: one family, no finding.
    assert_eq!(
        date_formats(column(&r, "orders", "order_date")),
        vec![("iso-date".to_string(), 60)]
    );
    assert!(!finding_codes(&r, "orders", Some("order_date"))
        .contains(&"mixed-date-formats".to_string()));
}

#[test]
fn state_spellings_are_grouped_and_names_stand_out_by_shape() {
    let r = shop();
    let col = column(&r, "customers", "state");
    let groups = col["inconsistent"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let variants: Vec<(&str, u64)> = groups[0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["value"].as_str().unwrap(), v["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(variants, vec![("CA", 15), ("Ca ", 1), ("ca", 1)]);
    assert_eq!(col["padded"], 1);
    // Full state names (California 2, Texas 1) plus 'ca' and 'Ca ' fall outside the AA shape.
    assert_eq!(col["dominant_shapes"], serde_json::json!(["AA"]));
    assert_eq!(col["outside_dominant_shapes"], 5);
}

#[test]
fn encoding_damage_is_found_with_row_keys() {
    let r = shop();
    assert_eq!(
        encoding(column(&r, "customers", "first_name"), "mojibake"),
        (2, vec!["id=5".into(), "id=23".into()])
    );
    assert_eq!(
        encoding(column(&r, "customers", "last_name"), "invalid-utf8"),
        (1, vec!["id=27".into()])
    );
    // The invalid value is reported once, as invalid UTF-8, not also as a replacement character.
    assert_eq!(
        encoding(column(&r, "customers", "last_name"), "replacement-char").0,
        0
    );
    let note = column(&r, "customers", "note");
    assert_eq!(encoding(note, "c1-control"), (1, vec!["id=4".into()]));
    assert_eq!(
        encoding(note, "replacement-char"),
        (1, vec!["id=11".into()])
    );
    assert_eq!(encoding(note, "bom"), (1, vec!["id=16".into()]));
    assert_eq!(encoding(note, "non-nfc"), (1, vec!["id=20".into()]));
    assert_eq!(encoding(note, "mojibake").0, 0);
    assert_eq!(note["empty"], 2);
    assert_eq!(note["whitespace_only"], 1);
    assert_eq!(note["padded"], 1);
    assert_eq!(note["nulls"], 26);
    // No other column carries encoding damage.
    for t in r["tables"].as_array().unwrap() {
        for c in t["columns"].as_array().unwrap() {
            let name = format!(
                "{}.{}",
                t["table"]["name"].as_str().unwrap(),
                c["name"].as_str().unwrap()
            );
            if ![
                "customers.first_name",
                "customers.last_name",
                "customers.note",
            ]
            .contains(&name.as_str())
            {
                assert!(
                    c["encoding"].as_array().unwrap().is_empty(),
                    "{name}: {}",
                    c["encoding"]
                );
            }
        }
    }
}

#[test]
fn sqlite_storage_classes_are_counted_not_dropped() {
    let r = shop();
    let bal = column(&r, "customers", "balance");
    assert_eq!(bal["rows"], 40);
    assert_eq!(bal["nulls"], 0);
    assert_eq!(
        bal["storage_classes"],
        serde_json::json!({"integer": 13, "real": 26, "text": 1, "blob": 0, "null": 0})
    );
    assert_eq!(bal["numeric_like"], 39);
    assert_eq!(bal["numeric_min"], "6.25");
    assert_eq!(bal["numeric_max"], "384.75");
    let codes = finding_codes(&r, "customers", Some("balance"));
    assert!(
        codes.contains(&"mixed-storage-classes".to_string()),
        "{codes:?}"
    );
    assert!(codes.contains(&"numbers-as-text".to_string()), "{codes:?}");
}

#[test]
fn shapes_find_the_format_outliers() {
    let r = shop();
    let phone = column(&r, "customers", "phone");
    assert_eq!(
        phone["dominant_shapes"],
        serde_json::json!(["999-999-9999"])
    );
    assert_eq!(phone["outside_dominant_shapes"], 3);
    let sku = column(&r, "order_items", "sku");
    assert_eq!(sku["dominant_shapes"], serde_json::json!(["AAA-999"]));
    assert_eq!(sku["outside_dominant_shapes"], 3);
}

#[test]
fn duplicates_and_keys() {
    let r = shop();
    let items = table(&r, "order_items");
    assert_eq!(items["duplicate_rows"], 2);
    assert_eq!(
        items["duplicate_samples"],
        serde_json::json!(["row 119", "row 120"])
    );
    assert_eq!(items["candidate_keys"], serde_json::json!([]));
    assert_eq!(items["composite_keys_evaluated"], true);
    assert_eq!(
        table(&r, "customers")["candidate_keys"],
        serde_json::json!([["id"]])
    );
    assert_eq!(table(&r, "customers")["primary_key_duplicates"], 0);
    assert_eq!(
        table(&r, "orders")["candidate_keys"],
        serde_json::json!([["id"]])
    );
    assert_eq!(table(&r, "customers")["duplicate_rows"], 0);
}

#[test]
fn declared_foreign_keys_and_inferred_relationship() {
    let r = shop();
    let rels = r["relationships"].as_array().unwrap();
    let find = |child: &str, col: &str| {
        rels.iter()
            .find(|x| x["child_table"]["name"] == child && x["child_column"] == col)
            .unwrap_or_else(|| panic!("no relationship from {child}.{col}: {rels:?}"))
    };
    let fk = find("orders", "customer_id");
    assert_eq!(fk["declared"], true);
    assert_eq!(fk["orphan_rows"], 2);
    assert_eq!(
        fk["orphan_samples"],
        serde_json::json!(["9001 (1 row)", "9002 (1 row)"])
    );
    let clean = find("order_items", "order_id");
    assert_eq!(clean["declared"], true);
    assert_eq!(clean["orphan_rows"], 0);
    let email = find("orders", "customer_email");
    assert_eq!(email["declared"], false);
    assert_eq!(email["parent_table"]["name"], "customers");
    assert_eq!(email["parent_column"], "email");
    assert_eq!(email["orphan_rows"], 1);
    assert_eq!(
        email["orphan_samples"],
        serde_json::json!(["ghost.buyer@example.com (1 row)"])
    );
    // qty (1, 2) is not mistaken for a reference to some id column.
    assert!(!rels.iter().any(|x| x["child_column"] == "qty"));
    assert!(finding_codes(&r, "orders", Some("customer_id")).contains(&"orphans".to_string()));
}

#[test]
fn findings_are_ranked_most_severe_first() {
    let r = shop();
    let sev: Vec<u8> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| match f["severity"].as_str().unwrap() {
            "high" => 0,
            "medium" => 1,
            "low" => 2,
            _ => 3,
        })
        .collect();
    assert!(sev.windows(2).all(|w| w[0] <= w[1]), "{sev:?}");
    assert_eq!(sev.first(), Some(&0));
}

#[test]
fn table_and_query_selection() {
    let r = profile_json(&["sqlite://fixtures/shop/shop.db", "--table", "orders"]);
    assert_eq!(r["tables"].as_array().unwrap().len(), 1);
    let q = profile_json(&[
        "sqlite://fixtures/shop/shop.db",
        "--query",
        "SELECT status, total FROM orders WHERE status = 'paid'",
    ]);
    assert_eq!(table(&q, "query")["rows"], 24);
    assert_eq!(column(&q, "query", "status")["distinct"], 1);
}

#[test]
fn terminal_output_shows_findings_then_tables() {
    let run = reckon(&["profile", "sqlite://fixtures/shop/shop.db"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let f = run.stdout.find("Findings").expect("findings section");
    let t = run
        .stdout
        .find("customers — 40 rows")
        .expect("customers table");
    assert!(f < t);
    assert!(run.stdout.contains("mojibake"));
    assert!(
        run.stderr.is_empty() || !run.stderr.contains("error"),
        "{}",
        run.stderr
    );
}
