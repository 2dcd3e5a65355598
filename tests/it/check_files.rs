//! `reckon check` on the bundled SQLite fixture (no server): results, and bad rule files that
//! must be refused with the file, the line and the rule named (exit 2).

use serde_json::Value;

use super::common::{reckon, tempdir};

fn check(rules: &str) -> (super::common::Run, tempfile::TempDir) {
    let dir = tempdir();
    let file = dir.path().join("rules.toml");
    std::fs::write(&file, rules).unwrap();
    let r = reckon(&[
        "check",
        "sqlite://fixtures/shop/shop.db",
        "--rules",
        file.to_str().unwrap(),
        "--json",
    ]);
    (r, dir)
}

#[test]
fn check_on_sqlite_counts_the_planted_defects() {
    let (r, _d) = check(
        "[[rule]]\nkind = \"not_null\"\ntable = \"customers\"\ncolumn = \"email\"\n\n[[rule]]\nkind = \"unique\"\ntable = \"order_items\"\ncolumns = [\"order_id\", \"sku\"]\n\n[[rule]]\nkind = \"regex\"\ntable = \"order_items\"\ncolumn = \"sku\"\npattern = '^[A-Z]{3}-\\d{3}$'\n",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules[0]["violations"], 3);
    // order_items has no key: two duplicated (order_id, sku) pairs, four rows, by row number.
    assert_eq!(rules[1]["violations"], 4);
    assert_eq!(rules[1]["distinct"], 2);
    let keys: Vec<&str> = rules[1]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["row 22", "row 59", "row 119", "row 120"]);
    // SKU outliers: abc123, ZZ-99, AAA-9999 (rows 9, 44, 102).
    assert_eq!(rules[2]["violations"], 3);
    let vals: Vec<&str> = rules[2]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["value"].as_str().unwrap())
        .collect();
    assert_eq!(vals, ["abc123", "ZZ-99", "AAA-9999"]);
}

/// Asserts a refused rules file: exit 2, nothing on stdout, the message names file/line/rule.
fn refused(rules: &str, wants: &[&str]) {
    let (r, _d) = check(rules);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "nothing reported: {}", r.stdout);
    for w in wants {
        assert!(r.stderr.contains(w), "missing {w:?} in: {}", r.stderr);
    }
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
}

#[test]
fn bad_rule_files_name_file_line_and_rule() {
    refused(
        "[[rule]]\nkind = \"not_null\"\ntable = \"customers\"\ncolumn = \"emial\"\n",
        &[
            "rules.toml, line 4",
            "rule 'not_null customers.emial'",
            "has no column 'emial'",
        ],
    );
    refused(
        "[[rule]]\nname = \"sku shape\"\nkind = \"regex\"\ntable = \"order_items\"\ncolumn = \"sku\"\npattern = \"[A-Z\"\n",
        &["rules.toml, line 6", "rule 'sku shape'", "bad pattern"],
    );
    refused(
        "[[rule]]\nkind = \"not_null\"\ntable = \"custmers\"\ncolumn = \"id\"\n",
        &["line 1", "table 'custmers' not found"],
    );
    refused(
        "[[rule]]\nkind = \"not_nul\"\ntable = \"customers\"\n",
        &["line 2", "unknown kind 'not_nul'"],
    );
    refused(
        "[[rule]]\nkind = \"range\"\ntable = \"customers\"\ncolumn = \"balance\"\nminimum = 0\n",
        &["rules.toml, line", "minimum"],
    );
    refused(
        "[[rule]]\nkind = \"row_count\"\ntable = \"customers\"\nequals = \"source\"\n",
        &["no source was given"],
    );
    refused(
        "[[rule]]\nkind = \"date_format\"\ntable = \"customers\"\ncolumn = \"signup_date\"\nformat = \"%Q\"\n",
        &["line 5", "not a valid chrono format"],
    );
}

#[test]
fn row_count_alone_on_a_table_without_key_reads_a_column() {
    let (r, _d) = check(
        "[[rule]]\nkind = \"row_count\"\ntable = \"order_items\"\nequals = 120\n\n[[rule]]\nkind = \"row_count\"\ntable = \"order_items\"\nname = \"too few\"\nmin = 121\n",
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["rules"][0]["status"], "pass");
    assert_eq!(v["rules"][0]["checked"], 120);
    assert_eq!(v["rules"][1]["violations"], 1);
}

#[test]
fn misspelt_sensitive_column_is_refused_not_ignored() {
    refused(
        "samples = 3\nsensitive = [\"emial\"]\n\n[[rule]]\nkind = \"not_null\"\ntable = \"customers\"\ncolumn = \"email\"\n",
        &["rules.toml, line 2", "sensitive column 'emial'", "protects nothing"],
    );
}

/// The samples of the first rule, as text.
fn samples_text(v: &Value) -> String {
    v["rules"][0]["samples"].to_string()
}

#[test]
fn sql_rule_values_that_may_hold_a_sensitive_column_are_masked_even_when_renamed() {
    let rules = |query: &str| {
        format!(
            "sensitive = [\"email\"]\n\n[[rule]]\nkind = \"sql\"\ntable = \"customers\"\nname = \"q\"\nquery = \"{query}\"\n"
        )
    };
    // Renamed, computed, hidden behind a CTE or a subquery: shown as a shape.
    for q in [
        "SELECT upper(email) AS e, id FROM customers WHERE email LIKE '%example.com' ORDER BY id LIMIT 3",
        "SELECT email AS id FROM customers WHERE email LIKE '%example.com' ORDER BY 1 LIMIT 3",
        "WITH x AS (SELECT email AS id FROM customers) SELECT id FROM x WHERE id LIKE '%example.com' LIMIT 3",
        "SELECT id FROM (SELECT email AS id FROM customers) s WHERE id LIKE '%example.com' LIMIT 3",
    ] {
        let (r, _d) = check(&rules(q));
        assert_eq!(r.code, 1, "{q}: {}", r.stderr);
        let v: Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["rules"][0]["violations"], 3, "{q}: {v}");
        let text = r.stdout.to_lowercase();
        assert!(!text.contains("example.com"), "{q}: {}", r.stdout);
        assert!(!text.contains(".com"), "{q}: {}", r.stdout);
    }
    // A bare column that is not sensitive keeps its value, even when the query filters on a
    // sensitive one; `*` is judged by the real column names.
    let q = "SELECT id FROM customers WHERE email LIKE '%example.com' ORDER BY id LIMIT 3";
    let (r, _d) = check(&rules(q));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let (plain, _d) = check(&rules(q).replace("sensitive = [\"email\"]", ""));
    let pv: Value = serde_json::from_str(&plain.stdout).unwrap();
    assert_eq!(samples_text(&v), samples_text(&pv));
    assert!(samples_text(&v).contains("id=1"), "{v}");
    let (r, _d) = check(&rules(
        "SELECT * FROM customers WHERE email LIKE '%example.com' ORDER BY id LIMIT 3",
    ));
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(!r.stdout.to_lowercase().contains("example.com"), "{v}");
}

#[test]
fn a_range_no_value_could_pass_is_refused() {
    let (r, _d) = check(
        "[[rule]]\nkind = \"range\"\ntable = \"order_items\"\ncolumn = \"qty\"\nmin = 10\nmax = 2\n",
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("min 10 is above max 2"), "{}", r.stderr);
    assert!(r.stderr.contains("line 1"), "{}", r.stderr);
}
