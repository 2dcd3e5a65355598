//! The value layer across engine pairs (CASES.md "Value layer" and "Names"): values reach the
//! canonical form exactly as stored, so equal data is `match` and one changed value is exactly
//! that cell, with its class. Each test builds both sides itself, equal first, then with one
//! planted difference, so the known answer is in the test.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float32Array, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{Field, Schema};
use serde_json::Value;

use crate::common::*;

/// (key text, column, verdict, class) of every differing cell, and the table's counts.
fn cells(r: &Value) -> Vec<(String, String, String, String)> {
    let mut out = Vec::new();
    for t in r["tables"].as_array().unwrap() {
        for s in t["samples"].as_array().unwrap() {
            for c in s["cells"].as_array().unwrap() {
                out.push((
                    s["key_text"].as_str().unwrap().to_string(),
                    c["column"].as_str().unwrap().to_string(),
                    c["verdict"].as_str().unwrap().to_string(),
                    c["class"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn diff(args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", "--samples", "100"]);
    let r = reckon(&all);
    let v = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
    (r.code, v, r.stderr)
}

fn counts(r: &Value) -> (u64, u64, u64, u64) {
    let c = &r["tables"][0]["counts"];
    (
        c["matched"].as_u64().unwrap(),
        c["mismatched"].as_u64().unwrap(),
        c["missing"].as_u64().unwrap(),
        c["extra"].as_u64().unwrap(),
    )
}

fn sqlite(dir: &Path, name: &str, sql: &str) -> String {
    let p = dir.join(name);
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(sql).unwrap();
    format!("sqlite://{}", p.display())
}

fn csv(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn parquet(dir: &Path, name: &str, columns: Vec<(&str, ArrayRef)>) -> String {
    let p: PathBuf = dir.join(name);
    let fields: Vec<Field> = columns
        .iter()
        .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
        .collect();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let f = std::fs::File::create(&p).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    p.display().to_string()
}

#[test]
fn sqlite_mixed_storage_classes_keep_each_value_exact() {
    let d = tempdir();
    // A column holding an INTEGER beyond 2^53 beside REALs, a BLOB beside TEXT.
    let make = |name: &str, big: &str, blob: &str| {
        sqlite(
            d.path(),
            name,
            &format!(
                "CREATE TABLE t (k INTEGER PRIMARY KEY, n, b);
                 INSERT INTO t VALUES (1, {big}, 'plain'), (2, 0.5, {blob}), (3, 7, 'x');"
            ),
        )
    };
    let a = make("a.db", "4611686018427387905", "x'4869'");
    let same = make("same.db", "4611686018427387905", "x'4869'");
    let (code, r, err) = diff(&[&a, &same]);
    assert_eq!(code, 0, "{err} {r}");
    assert_eq!(counts(&r), (3, 0, 0, 0));
    // 2^62 + 1 vs 2^62: equal as floats, different as the integers they are.
    let b = make("b.db", "4611686018427387904", "'Hi'");
    let (code, r, err) = diff(&[&a, &b]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        cells(&r),
        vec![
            ("k=1".into(), "n".into(), "mismatch".into(), "value".into()),
            // A BLOB never equals the TEXT that spells it.
            (
                "k=2".into(),
                "b".into(),
                "mismatch".into(),
                "type-changed".into()
            ),
        ]
    );
    // Nor the text of its hex form.
    let c = make("c.db", "4611686018427387905", "'x''4869'''");
    let (code, r, _) = diff(&[&a, &c]);
    assert_eq!(code, 1);
    assert_eq!(counts(&r), (2, 1, 0, 0));
}

#[test]
fn text_is_read_as_a_type_only_when_the_parse_is_exact() {
    let d = tempdir();
    let nanos = 1_709_632_800_123_456_789i64; // 2024-03-05 10:00:00.123456789
    let pq = parquet(
        d.path(),
        "t.parquet",
        vec![
            ("k", Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5]))),
            ("i", Arc::new(Int64Array::from(vec![42, 42, 42, 42, 42]))),
            (
                "ts",
                Arc::new(arrow::array::TimestampNanosecondArray::from(vec![nanos; 5])),
            ),
            ("f32", Arc::new(Float32Array::from(vec![0.3f32; 5]))),
            ("f64", Arc::new(Float64Array::from(vec![2f64.powi(54); 5]))),
        ],
    );
    let good = "2024-03-05 10:00:00.123456789";
    let mut text = String::from("k,i,ts,f32,f64\n");
    for k in 1..=5 {
        text.push_str(&format!("{k},42,{good},0.3,18014398509481984\n"));
    }
    let equal = csv(d.path(), "equal.csv", &text);
    let (code, r, err) = diff(&[&pq, &equal, "--key", "k"]);
    assert_eq!(code, 0, "{err} {}", r);
    // One lenient spelling per row: each must differ, alone.
    let bad = format!(
        "k,i,ts,f32,f64\n\
         1, 42,{good},0.3,18014398509481984\n\
         2,42,{good}1,0.3,18014398509481984\n\
         3,42,{good},0.3,18014398509481985\n\
         4,42,2024-3-05 10:00:00.123456789,0.3,18014398509481984\n\
         5,42,{good},0.30000001192092896,18014398509481984\n"
    );
    let lenient = csv(d.path(), "lenient.csv", &bad);
    let (code, r, _) = diff(&[&pq, &lenient, "--key", "k"]);
    assert_eq!(code, 1);
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        got,
        vec![
            ("k=1".into(), "i".into()),
            ("k=2".into(), "ts".into()),
            ("k=3".into(), "f64".into()),
            ("k=4".into(), "ts".into()),
            ("k=5".into(), "f32".into()),
        ]
    );
}

#[test]
fn booleans_match_zero_and_one_in_both_directions() {
    let d = tempdir();
    let s = sqlite(
        d.path(),
        "b.db",
        "CREATE TABLE t (k INTEGER PRIMARY KEY, flag BOOLEAN);
         INSERT INTO t VALUES (1, 1), (2, 0), (3, 2);",
    );
    let c = csv(d.path(), "b.csv", "k,flag\n1,true\n2,0\n3,2\n");
    for (a, b) in [(&s, &c), (&c, &s)] {
        let (code, r, err) = diff(&[a, b, "--key", "k"]);
        assert_eq!(code, 0, "{a} vs {b}: {err} {r}");
    }
    // 2 is not true.
    let t = csv(d.path(), "t.csv", "k,flag\n1,true\n2,0\n3,true\n");
    let (code, r, _) = diff(&[&s, &t, "--key", "k"]);
    assert_eq!(code, 1);
    assert_eq!(cells(&r).len(), 1);
    assert_eq!(cells(&r)[0].0, "k=3");
}

#[test]
fn duplicate_column_names_are_refused_and_paired_columns_are_never_reused() {
    let d = tempdir();
    let dup = csv(d.path(), "dup.csv", "k,amount,amount\n1,5,6\n");
    let one = csv(d.path(), "one.csv", "k,amount\n1,5\n");
    let r = reckon(&["diff", &dup, &one, "--key", "k"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("'amount'") && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    let rules = csv(
        d.path(),
        "r.toml",
        "[[rule]]\nkind = \"not_null\"\ntable = \"dup\"\ncolumn = \"amount\"\n",
    );
    let r = reckon(&["check", &dup, "--rules", &rules]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("amount"), "{}", r.stderr);
    // An empty rules file checks nothing: an error, never a PASS.
    let empty = csv(d.path(), "empty.toml", "# nothing\n");
    let r = reckon(&["check", &one, "--rules", &empty]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Source `code` and `CODE`, target `code`: CODE is missing in the target, never paired twice.
    let src = csv(d.path(), "src.csv", "k,code,CODE\n1,a,b\n");
    let tgt = csv(d.path(), "tgt.csv", "k,code\n1,a\n");
    let (code, r, err) = diff(&[&src, &tgt, "--key", "k"]);
    assert_eq!(code, 1, "{err}");
    let schema = r["tables"][0]["schema"].as_array().unwrap();
    assert!(
        schema
            .iter()
            .any(|f| f["column"] == "CODE" && f["kind"] == "only-in-source"),
        "{schema:?}"
    );
    assert_eq!(counts(&r), (1, 0, 0, 0));
}

#[test]
fn nested_and_many_typed_parquet_values_compare_element_by_element() {
    use arrow::array::{ListBuilder, StringBuilder};
    let d = tempdir();
    let list = |rows: &[&[&str]]| -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            for v in *r {
                b.values().append_value(v);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    };
    let a = parquet(
        d.path(),
        "a.parquet",
        vec![
            ("k", Arc::new(Int64Array::from(vec![1, 2]))),
            ("l", list(&[&["p", "q"], &["r"]])),
        ],
    );
    let same = parquet(
        d.path(),
        "same.parquet",
        vec![
            ("k", Arc::new(Int64Array::from(vec![1, 2]))),
            ("l", list(&[&["p", "q"], &["r"]])),
        ],
    );
    let joined = parquet(
        d.path(),
        "joined.parquet",
        vec![
            ("k", Arc::new(Int64Array::from(vec![1, 2]))),
            ("l", list(&[&["p, q"], &["r"]])),
        ],
    );
    assert_eq!(diff(&[&a, &same, "--key", "k"]).0, 0);
    let (code, r, _) = diff(&[&a, &joined, "--key", "k"]);
    assert_eq!(code, 1);
    assert_eq!(
        cells(&r)
            .into_iter()
            .map(|c| (c.0, c.1))
            .collect::<Vec<_>>(),
        vec![("k=1".to_string(), "l".to_string())]
    );
}

/// Runs SQL on PostgreSQL; the server URL, or None when skipped.
fn pg_exec(sql: &str) -> Option<String> {
    require("PostgreSQL", postgres_exec(sql))?;
    Some(pg_url())
}

/// Runs SQL in a MariaDB database (created if missing); its URL, or None when skipped.
fn my_exec(database: &str, sql: &str) -> Option<String> {
    require(
        "MariaDB",
        mariadb_exec(&format!(
            "CREATE DATABASE IF NOT EXISTS {database}; USE {database}; {sql}"
        )),
    )?;
    let mut u = url::Url::parse(&mysql_url()).unwrap();
    u.set_path(&format!("/{database}"));
    Some(u.to_string())
}

#[test]
fn mariadb_bit_time_and_zero_dates_are_read_exactly() {
    let Some(my) = my_exec(
        "reckon_vl_my",
        "SET SESSION sql_mode = '';
         DROP TABLE IF EXISTS a, b;
         CREATE TABLE a (k INT PRIMARY KEY, bits BIT(16), t TIME(6), d DATE, y YEAR);
         CREATE TABLE b LIKE a;
         INSERT INTO a VALUES (1, b'1111111100000000', '08:15:00.25', '2024-01-02', 2024),
                              (2, b'0000000000000001', '-838:59:59', '0000-00-00', 1999),
                              (3, b'1000000000000000', '23:59:59.999999', '2024-02-29', 2000);
         INSERT INTO b SELECT * FROM a;",
    ) else {
        return;
    };
    let (code, r, err) = diff(&[&my, &my, "--table", "a:b"]);
    assert_eq!(code, 0, "{err} {r}");
    assert_eq!(counts(&r), (3, 0, 0, 0));
    // 0xFF00 → 0xFE00: bytes ≥ 0x80 must not both read as '?'.
    my_exec(
        "reckon_vl_my",
        "UPDATE b SET bits = b'1111111000000000' WHERE k = 1;
         UPDATE b SET t = '23:59:59.999998' WHERE k = 3;",
    );
    let (code, r, _) = diff(&[&my, &my, "--table", "a:b"]);
    assert_eq!(code, 1);
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        got,
        vec![("k=1".into(), "bits".into()), ("k=3".into(), "t".into())]
    );
}

#[test]
fn one_zero_date_changes_one_row_and_time_of_day_matches_across_engines() {
    let Some(pg) = pg_exec(
        "DROP SCHEMA IF EXISTS reckon_vl CASCADE; CREATE SCHEMA reckon_vl;
         CREATE DOMAIN reckon_vl.qty AS integer;
         CREATE TABLE reckon_vl.ev (k int PRIMARY KEY, d date, t time(6), q reckon_vl.qty, u uuid);
         INSERT INTO reckon_vl.ev VALUES
           (1, '2024-01-02', '08:15:00.25', 5, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
           (2, NULL, '00:00:00', 6, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'),
           (3, '2024-02-29', '23:59:59.999999', 7, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13');",
    ) else {
        return;
    };
    let Some(my) = my_exec(
        "reckon_vl_my2",
        "SET SESSION sql_mode = '';
         DROP TABLE IF EXISTS ev;
         CREATE TABLE ev (k INT PRIMARY KEY, d DATE, t TIME(6), q INT, u CHAR(36));
         INSERT INTO ev VALUES
           (1, '2024-01-02', '08:15:00.250000', 5, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'),
           (2, '0000-00-00', '00:00:00', 6, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'),
           (3, '2024-02-29', '23:59:59.999999', 7, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a13');",
    ) else {
        return;
    };
    let (code, r, err) = diff(&[&pg, &my, "--table", "reckon_vl.ev:ev"]);
    assert_eq!(code, 1, "{err}");
    // Exactly the zero date differs: the other dates still compare as dates, the domain as its
    // integer, time(6) as a time of day, the uuid in any case.
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(got, vec![("k=2".into(), "d".into())], "{r}");
    assert_eq!(counts(&r), (2, 1, 0, 0));
}

#[test]
fn mariadb_time_intervals_and_dates_with_a_zero_month_or_day_read_per_value() {
    let Some(pg) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_iv;
         CREATE TABLE reckon_vl_iv (k int PRIMARY KEY, t interval, d date);
         INSERT INTO reckon_vl_iv VALUES
           (1, '-12:00:00.5', '2024-01-15'), (2, '838:59:59', NULL),
           (3, '-00:30:00', '2024-03-04'), (4, '00:00:00.001', '2024-03-05');",
    ) else {
        return;
    };
    let Some(my) = my_exec(
        "reckon_vl_my3",
        "SET SESSION sql_mode = '';
         DROP TABLE IF EXISTS iv;
         CREATE TABLE iv (k INT PRIMARY KEY, t TIME(3), d DATE);
         INSERT INTO iv VALUES
           (1, '-12:00:00.5', '2024-01-15'), (2, '838:59:59', '2024-03-00'),
           (3, '-00:30:00', '2024-03-04'), (4, '00:00:00.001', '2024-00-05');",
    ) else {
        return;
    };
    // A zero month or day is read (not a failed read), and differs alone; a PostgreSQL interval
    // equals the MySQL TIME of the same duration, negative and past 24 hours included.
    let (code, r, err) = diff(&[&pg, &my, "--table", "reckon_vl_iv:iv"]);
    assert_eq!(code, 1, "{err}");
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        got,
        vec![("k=2".into(), "d".into()), ("k=4".into(), "d".into())],
        "{r}"
    );
    assert_eq!(counts(&r), (2, 2, 0, 0));
    my_exec(
        "reckon_vl_my3",
        "UPDATE iv SET t = '-00:30:01' WHERE k = 3; UPDATE iv SET t = '00:00:00.002' WHERE k = 4;",
    );
    let (code, r, _) = diff(&[&pg, &my, "--table", "reckon_vl_iv:iv"]);
    assert_eq!(code, 1);
    let shown: Vec<(String, String, String)> = r["tables"][0]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["cells"].as_array().unwrap().clone())
        .filter(|c| c["column"] == "t")
        .map(|c| {
            (
                c["source"].as_str().unwrap().to_string(),
                c["target"].as_str().unwrap().to_string(),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut shown = shown;
    shown.sort();
    assert_eq!(
        shown,
        vec![
            ("-00:30:00".into(), "-00:30:01".into(), "mismatch".into()),
            (
                "00:00:00.001".into(),
                "00:00:00.002".into(),
                "mismatch".into()
            ),
        ]
    );
}

#[test]
fn a_declared_primary_key_is_no_promise_duplicates_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    // SQLite lets a declared TEXT primary key hold NULL many times.
    let src = sqlite(
        dir.path(),
        "s.db",
        "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (NULL, 'a'), (NULL, 'a'), ('x', 'b');",
    );
    let tgt = sqlite(
        dir.path(),
        "t.db",
        "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (NULL, 'a'), ('x', 'b');",
    );
    let (code, r, err) = diff(&[&src, &tgt, "--table", "t"]);
    assert_eq!(code, 1, "{err} {r}");
    let c = &r["tables"][0]["counts"];
    assert_eq!(c["duplicate_keys_source"], 1, "{r}");
    assert_eq!(c["duplicate_keys_target"], 0, "{r}");
    assert_eq!(counts(&r), (2, 0, 1, 0));
    // The same with every chunk and tuple past the memory limit (partitions on disk).
    let (code, low, _) = diff(&[&src, &tgt, "--table", "t", "--memory-limit", "1"]);
    assert_eq!(code, 1);
    assert_eq!(low["tables"][0]["spilled"], true);
    assert_eq!(low["tables"][0]["counts"], r["tables"][0]["counts"]);
}

#[test]
fn rules_on_key_columns_apply_before_rows_are_paired() {
    let dir = tempfile::tempdir().unwrap();
    let src = csv(dir.path(), "s.csv", "k,v\nA1 ,x\nB2,y\nC3,z\n");
    let tgt = sqlite(
        dir.path(),
        "t.db",
        "CREATE TABLE t (k TEXT, v TEXT);
         INSERT INTO t VALUES ('A1', 'x'), ('b2', 'y'), ('C3', 'z');",
    );
    // Without rules the keys differ: two missing, two extra.
    let (code, r, err) = diff(&[&src, &tgt, "--table", "s:t", "--key", "k"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(counts(&r), (1, 0, 2, 2), "{r}");
    // With trim and case-insensitive on the key, the rows pair and the key cells are match*.
    let (code, r, err) = diff(&[
        &src,
        &tgt,
        "--table",
        "s:t",
        "--key",
        "k",
        "--rule",
        "k=trim",
        "--rule",
        "k=case-insensitive",
    ]);
    assert_eq!(code, 0, "{err} {r}");
    let c = &r["tables"][0]["counts"];
    assert_eq!(
        (c["matched"].as_u64(), c["matched_by_rule"].as_u64()),
        (Some(1), Some(2)),
        "{r}"
    );
    // Only trim: 'B2' and 'b2' stay two keys.
    let (code, r, _) = diff(&[
        &src, &tgt, "--table", "s:t", "--key", "k", "--rule", "k=trim",
    ]);
    assert_eq!(code, 1);
    assert_eq!(counts(&r), (1, 0, 1, 1), "{r}");

    // signed-zero on a float key: -0.0 pairs with 0.0; without the rule it does not.
    let ks = Arc::new(Float64Array::from(vec![-0.0, 1.5])) as ArrayRef;
    let kt = Arc::new(Float64Array::from(vec![0.0, 1.5])) as ArrayRef;
    let vs = Arc::new(Int64Array::from(vec![7, 8])) as ArrayRef;
    let a = parquet(dir.path(), "a.parquet", vec![("k", ks), ("v", vs.clone())]);
    let b = parquet(dir.path(), "b.parquet", vec![("k", kt), ("v", vs)]);
    let (code, r, _) = diff(&[&a, &b, "--key", "k"]);
    assert_eq!(code, 1);
    assert_eq!(counts(&r), (1, 0, 1, 1), "{r}");
    let (code, r, err) = diff(&[&a, &b, "--key", "k", "--rule", "k=signed-zero"]);
    assert_eq!(code, 0, "{err} {r}");
    assert_eq!(r["tables"][0]["counts"]["matched_by_rule"], 1, "{r}");

    // A keyless diff: whole rows pair under the rules, one to one. (C3,z) matches exactly; one
    // 'A1 ' pairs with 'A1' as match*(trim), the other is missing; 'C3 ' is extra.
    let src = csv(dir.path(), "s2.csv", "k,v\nA1 ,x\nA1 ,x\nC3,z\n");
    let tgt = csv(dir.path(), "t2.csv", "k,v\nA1,x\nC3,z\nC3 ,z\n");
    let (code, r, err) = diff(&[&src, &tgt, "--rule", "k=trim"]);
    assert_eq!(code, 1, "{err}");
    let c = &r["tables"][0]["counts"];
    let got = ["matched", "matched_by_rule", "missing", "extra"].map(|k| c[k].as_u64().unwrap());
    assert_eq!(got, [1, 1, 1, 1], "{r}");
    // With the missing 'A1 ' gone, the whole diff is a match under the rule.
    let src = csv(dir.path(), "s3.csv", "k,v\nA1 ,x\nC3,z\nC3,z\n");
    let (code, r, err) = diff(&[&src, &tgt, "--rule", "k=trim"]);
    assert_eq!(code, 0, "{err} {r}");
    assert_eq!(r["tables"][0]["counts"]["matched_by_rule"], 2, "{r}");
}

#[test]
fn char_padding_is_not_data_between_two_char_columns() {
    let Some(pg) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_ch;
         CREATE TABLE reckon_vl_ch (k int PRIMARY KEY, c char(5), v varchar(5));
         INSERT INTO reckon_vl_ch VALUES (1, 'ab', 'ab'), (2, '', ''), (3, ' a', 'y ');",
    ) else {
        return;
    };
    let Some(my) = my_exec(
        "reckon_vl_my4",
        "DROP TABLE IF EXISTS ch;
         CREATE TABLE ch (k INT PRIMARY KEY, c CHAR(5), v VARCHAR(5));
         INSERT INTO ch VALUES (1, 'ab', 'ab'), (2, '', ''), (3, 'a', 'y');",
    ) else {
        return;
    };
    // PostgreSQL returns 'ab   ', MariaDB 'ab': the same CHAR(5) value. A leading space, and a
    // trailing space in a VARCHAR, are still data.
    let (code, r, err) = diff(&[&pg, &my, "--table", "reckon_vl_ch:ch"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        cells(&r),
        vec![
            (
                "k=3".into(),
                "c".into(),
                "mismatch".into(),
                "whitespace".into()
            ),
            (
                "k=3".into(),
                "v".into(),
                "mismatch".into(),
                "whitespace".into()
            ),
        ],
        "{r}"
    );
    assert_eq!(counts(&r), (2, 1, 0, 0));
}

#[test]
fn a_text_facing_a_number_keeps_its_spelling_and_untyped_sides_read_declared_numbers() {
    let Some(pg) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_lz;
         CREATE TABLE reckon_vl_lz (k int PRIMARY KEY, n bigint, m numeric, f float8);
         INSERT INTO reckon_vl_lz VALUES (1, 7, 1000, 1000), (2, 42, 42, 0.5), (3, 5, 1.5, 1e-7);",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let equal = sqlite(
        dir.path(),
        "eq.db",
        "CREATE TABLE reckon_vl_lz (k INTEGER PRIMARY KEY, n TEXT, m VARCHAR(10), f TEXT);
         INSERT INTO reckon_vl_lz VALUES (1, '7', '1000', '1000.0'), (2, '42', '42.0', '0.5'),
                                         (3, '5', '1.50', '1e-07');",
    );
    let (code, r, err) = diff(&[&pg, &equal, "--table", "reckon_vl_lz"]);
    assert_eq!(code, 0, "{err} {r}");
    // A leading zero, a plus sign, an exponent on a decimal: the text loses its spelling as a
    // number, so it stays text and differs.
    let spelt = sqlite(
        dir.path(),
        "sp.db",
        "CREATE TABLE reckon_vl_lz (k INTEGER PRIMARY KEY, n TEXT, m VARCHAR(10), f TEXT);
         INSERT INTO reckon_vl_lz VALUES (1, '007', '1e3', '01000'), (2, '+42', '42.0', '0.5'),
                                         (3, '5', '1.50', '1e-07');",
    );
    let (code, r, _) = diff(&[&pg, &spelt, "--table", "reckon_vl_lz"]);
    assert_eq!(code, 1);
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        got,
        vec![
            ("k=1".into(), "f".into()),
            ("k=1".into(), "m".into()),
            ("k=1".into(), "n".into()),
            ("k=2".into(), "n".into()),
        ],
        "{r}"
    );
    // SQLite NUMERIC and REAL columns (REAL 1.5 stored by affinity) against a CSV: numbers.
    let db = sqlite(
        dir.path(),
        "sc.db",
        "CREATE TABLE sc (id INTEGER PRIMARY KEY, n NUMERIC, r REAL);
         INSERT INTO sc VALUES (1, 1.5, 0.1), (2, 2.25, 1e-7), (3, 7, 3.0);",
    );
    let c = csv(
        dir.path(),
        "sc.csv",
        "id,n,r\n1,1.5,0.1\n2,2.25,1e-07\n3,7,3.0\n",
    );
    let (code, r, err) = diff(&[&db, &c, "--table", "sc:sc"]);
    assert_eq!(code, 0, "{err} {r}");
    let c = csv(
        dir.path(),
        "sc2.csv",
        "id,n,r\n1,1.50,0.1\n2,2.26,1e-07\n3,7,3.0000001\n",
    );
    let (code, r, _) = diff(&[&db, &c, "--table", "sc:sc2"]);
    assert_eq!(code, 1);
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        got,
        vec![("id=2".into(), "n".into()), ("id=3".into(), "r".into())],
        "{r}"
    );
}

#[test]
fn postgres_infinity_and_far_dates_are_kept_as_they_are_never_a_real_date() {
    let Some(pg) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_inf_a, reckon_vl_inf_b;
         CREATE TABLE reckon_vl_inf_a (k int PRIMARY KEY, ts timestamp(3), tz timestamptz, d date);
         CREATE TABLE reckon_vl_inf_b (LIKE reckon_vl_inf_a);
         INSERT INTO reckon_vl_inf_a VALUES
           (1, 'infinity', '-infinity', 'infinity'),
           (2, '2024-01-02 03:04:05.123', '2024-01-02 03:04:05.123456+02', '2024-01-02'),
           (3, '1999-12-31 23:59:59', '1960-01-01 00:00:00.5+00', '0044-03-15 BC'),
           (4, NULL, NULL, '5874897-12-31');
         INSERT INTO reckon_vl_inf_b VALUES
           (1, '262142-12-31 23:59:59.999', '4713-01-01 00:00:00+00 BC', '262142-12-31'),
           (2, '2024-01-02 03:04:05.123', '2024-01-02 01:04:05.123456+00', '2024-01-02'),
           (3, '1999-12-31 23:59:59', '1960-01-01 00:00:00.5+00', '0044-03-15 BC'),
           (4, NULL, NULL, '5874897-12-31');",
    ) else {
        return;
    };
    // `infinity` is not the largest date the driver can hold; a date past year 262,142 is read,
    // not a failed table; the other rows still compare as instants and dates.
    let (code, r, err) = diff(&[&pg, &pg, "--table", "reckon_vl_inf_a:reckon_vl_inf_b"]);
    assert_eq!(code, 1, "{err}");
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        got,
        vec![
            ("k=1".into(), "d".into()),
            ("k=1".into(), "ts".into()),
            ("k=1".into(), "tz".into()),
        ],
        "{r}"
    );
    assert_eq!(counts(&r), (3, 1, 0, 0));
    // Shown as what it is.
    let shown: Vec<String> = r["tables"][0]["samples"][0]["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["column"] == "ts" || c["column"] == "tz")
        .map(|c| c["source"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(shown, vec!["infinity", "-infinity"], "{r}");
    // One changed instant among the text-read column is still found.
    pg_exec("UPDATE reckon_vl_inf_b SET tz = '2024-01-02 01:04:05.123457+00' WHERE k = 2;");
    let (_, r, _) = diff(&[&pg, &pg, "--table", "reckon_vl_inf_a:reckon_vl_inf_b"]);
    assert_eq!(counts(&r), (2, 2, 0, 0), "{r}");
}

#[test]
fn mysql_latin1_is_read_as_cp1252() {
    let Some(pg) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_l1;
         CREATE TABLE reckon_vl_l1 (k int PRIMARY KEY, s text);
         INSERT INTO reckon_vl_l1 VALUES (1, '€–™'), (2, 'abc');",
    ) else {
        return;
    };
    let Some(my) = my_exec(
        "reckon_vl_my5",
        "DROP TABLE IF EXISTS l1;
         CREATE TABLE l1 (k INT PRIMARY KEY, s VARCHAR(10) CHARACTER SET latin1);
         INSERT INTO l1 VALUES (1, 0x809699), (2, 'abc');",
    ) else {
        return;
    };
    let (code, r, err) = diff(&[&pg, &my, "--table", "reckon_vl_l1:l1"]);
    assert_eq!(code, 0, "{err} {r}");
    assert_eq!(counts(&r), (2, 0, 0, 0));
}

#[test]
fn a_float_equals_an_exact_number_only_as_its_shortest_round_trip() {
    let Some(pg) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_fd;
         CREATE TABLE reckon_vl_fd (k int PRIMARY KEY, a numeric, b float8, c int, r real);
         INSERT INTO reckon_vl_fd VALUES (1, 0.5, 0.5, 1, 0.3), (2, 0.1, 0.1, 2, 0.1),
                                         (3, 0.3, 1.5, 3, 2.5);",
    ) else {
        return;
    };
    let Some(my) = my_exec(
        "reckon_vl_my6",
        "DROP TABLE IF EXISTS fd;
         CREATE TABLE fd (k INT PRIMARY KEY, a DOUBLE, b DECIMAL(10,2), c DOUBLE, r DECIMAL(5,1));
         INSERT INTO fd VALUES (1, 0.5, 0.5, 1, 0.3), (2, 0.1, 0.1, 2, 0.1), (3, 0.3, 1.5, 3, 2.5);",
    ) else {
        return;
    };
    // double 0.1 = numeric 0.1; real 0.3 = decimal 0.3 (at its own width); double 1 = int 1.
    let (code, r, err) = diff(&[&pg, &my, "--table", "reckon_vl_fd:fd"]);
    assert_eq!(code, 0, "{err} {r}");
    // 0.30000000000000004 is not 0.3, and 3.0000001 is not 3.
    my_exec(
        "reckon_vl_my6",
        "UPDATE fd SET a = CAST(0.1 AS DOUBLE) + CAST(0.2 AS DOUBLE), c = 3.0000001 WHERE k = 3;",
    );
    let (code, r, _) = diff(&[&pg, &my, "--table", "reckon_vl_fd:fd"]);
    assert_eq!(code, 1);
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(
        got,
        vec![("k=3".into(), "a".into()), ("k=3".into(), "c".into())],
        "{r}"
    );
    // Parquet: float32 0.3 and float64 0.1 against decimals.
    let dir = tempfile::tempdir().unwrap();
    let dec = |v: Vec<i128>| {
        Arc::new(
            arrow::array::Decimal128Array::from(v)
                .with_precision_and_scale(10, 2)
                .unwrap(),
        ) as ArrayRef
    };
    let k = Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef;
    let a = parquet(
        dir.path(),
        "a.parquet",
        vec![
            ("k", k.clone()),
            (
                "x",
                Arc::new(Float32Array::from(vec![0.3f32, 2.5])) as ArrayRef,
            ),
            (
                "y",
                Arc::new(Float64Array::from(vec![0.1, 0.25])) as ArrayRef,
            ),
        ],
    );
    let b = parquet(
        dir.path(),
        "b.parquet",
        vec![
            ("k", k),
            ("x", dec(vec![30, 250])),
            ("y", dec(vec![10, 26])),
        ],
    );
    let (code, r, _) = diff(&[&a, &b, "--key", "k"]);
    assert_eq!(code, 1);
    let got: Vec<(String, String)> = cells(&r).into_iter().map(|c| (c.0, c.1)).collect();
    assert_eq!(got, vec![("k=2".into(), "y".into())], "{r}");
}

#[test]
fn postgres_money_is_its_amount() {
    let Some(pg) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_mo;
         CREATE TABLE reckon_vl_mo (k int PRIMARY KEY, m money);
         INSERT INTO reckon_vl_mo VALUES (1, 1234.5), (2, -0.01);",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let c = csv(dir.path(), "mo.csv", "k,m\n1,1234.50\n2,-0.01\n");
    let (code, r, err) = diff(&[&pg, &c, "--table", "reckon_vl_mo:mo"]);
    assert_eq!(code, 0, "{err} {r}");
    let c = csv(dir.path(), "mo2.csv", "k,m\n1,1234.51\n2,-0.01\n");
    let (code, r, _) = diff(&[&pg, &c, "--table", "reckon_vl_mo:mo2"]);
    assert_eq!(code, 1);
    assert_eq!(counts(&r), (1, 1, 0, 0), "{r}");
}

#[test]
fn a_password_in_any_part_of_a_url_stays_hidden_on_a_run_that_succeeds() {
    let Some(_) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_pw; CREATE TABLE reckon_vl_pw (k int PRIMARY KEY, v text);
         INSERT INTO reckon_vl_pw VALUES (1, 'a');",
    ) else {
        return;
    };
    // The local server trusts the login, so every run below succeeds and writes every output.
    let base = url::Url::parse(&pg_url()).unwrap();
    let (host, port, db) = (
        base.host_str().unwrap().to_string(),
        base.port().unwrap_or(5432),
        base.path().to_string(),
    );
    let user = if base.username().is_empty() {
        "postgres"
    } else {
        base.username()
    };
    for (url, pw) in [
        (
            format!("postgres://{user}@{host}:{port}{db}?password=Qv9%2Fx%23y"),
            "Qv9",
        ),
        (
            format!("postgres://{user}:Kq7%2Fz@{host}:{port}{db}"),
            "Kq7",
        ),
    ] {
        let d = tempdir();
        let out = d.path().join("out");
        let o = out.to_str().unwrap();
        let rules = d.path().join("rules.toml");
        std::fs::write(
            &rules,
            "[[rule]]\nkind = \"not_null\"\ntable = \"reckon_vl_pw\"\ncolumn = \"v\"\n",
        )
        .unwrap();
        let runs = [
            reckon(&["profile", &url, "--table", "reckon_vl_pw", "--out", o]),
            reckon(&["diff", &url, &url, "--table", "reckon_vl_pw", "--out", o]),
            reckon(&["diff", &url, &url, "--table", "reckon_vl_pw", "--json"]),
            reckon(&[
                "check",
                &url,
                "--rules",
                rules.to_str().unwrap(),
                "--out",
                o,
            ]),
        ];
        for r in runs {
            assert_eq!(r.code, 0, "{}", r.stderr);
            for text in [&r.stdout, &r.stderr] {
                // The output directory is printed, and its random name could hold the three
                // characters by chance: only what reckon wrote around it counts.
                let text = text.replace(o, "<out>");
                assert!(!text.contains(pw), "{url} leaked: {text}");
            }
            for f in std::fs::read_dir(&out).unwrap() {
                let text = std::fs::read(f.unwrap().path()).unwrap();
                assert!(
                    !String::from_utf8_lossy(&text).contains(pw),
                    "{url} in a file"
                );
            }
        }
    }
}

#[test]
fn mariadb_reads_cannot_write() {
    let Some(my) = my_exec(
        "reckon_vl_my7",
        "DROP TABLE IF EXISTS victim; CREATE TABLE victim (k INT PRIMARY KEY);
         INSERT INTO victim VALUES (1), (2);
         DROP FUNCTION IF EXISTS sidefx;
         CREATE FUNCTION sidefx() RETURNS INT MODIFIES SQL DATA
           BEGIN DELETE FROM victim; RETURN 1; END;
         CREATE OR REPLACE VIEW v AS SELECT sidefx() AS x;",
    ) else {
        return;
    };
    let r = reckon(&["profile", &my, "--query", "SELECT sidefx() AS x"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let r = reckon(&["diff", &my, &my, "--table", "v"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let left = mariadb_query("SELECT count(*) FROM reckon_vl_my7.victim");
    assert_eq!(left.as_deref(), Some("2"), "a read deleted rows");
}

#[test]
fn check_bounds_on_dates_times_and_float32_compare_by_value() {
    let Some(pg) = pg_exec(
        "DROP TABLE IF EXISTS reckon_vl_rt;
         CREATE TABLE reckon_vl_rt (k int PRIMARY KEY, t timestamptz, ts timestamp, r real, d date);
         INSERT INTO reckon_vl_rt VALUES
           (1, '2024-01-01 12:00:00+00', '2024-01-01 12:00:00', 0.3, '2024-01-01'),
           (2, '2024-01-01 00:00:00+00', '2024-01-01 00:00:00', 0.1, '2023-12-31');",
    ) else {
        return;
    };
    let d = tempdir();
    let rules = d.path().join("rules.toml");
    let rule = |name: &str, col: &str, bounds: &str| {
        format!("[[rule]]\nkind = \"range\"\nname = \"{name}\"\ntable = \"reckon_vl_rt\"\ncolumn = \"{col}\"\n{bounds}\n\n")
    };
    let text = [
        rule("t_max", "t", "max = \"2024-01-01T06:00:00Z\""),
        rule("ts_max", "ts", "max = \"2024-01-01T06:00:00\""),
        rule("t_offset", "t", "max = \"2024-01-01 13:00:00+05:00\""),
        rule("t_min_equal", "t", "min = \"2024-01-01T00:00:00Z\""),
        rule("d_min", "d", "min = \"2024-01-01\""),
        rule("r", "r", "min = 0.1\nmax = 0.3"),
        "[[rule]]\nkind = \"allowed\"\nname = \"r_allowed\"\ntable = \"reckon_vl_rt\"\ncolumn = \"r\"\nvalues = [0.1, 0.3]\n".to_string(),
    ]
    .concat();
    std::fs::write(&rules, text).unwrap();
    let r = reckon(&["check", &pg, "--rules", rules.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
    let got: Vec<(String, u64)> = v["rules"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|x| {
            (
                x["name"].as_str().unwrap().to_string(),
                x["violations"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = [
        ("t_max", 1),
        ("ts_max", 1),
        ("t_offset", 1),
        ("t_min_equal", 0),
        ("d_min", 1),
        ("r", 0),
        ("r_allowed", 0),
    ]
    .iter()
    .map(|(n, c)| (n.to_string(), *c))
    .collect();
    assert_eq!(got, want, "{}", r.stderr);
    assert_eq!(r.code, 1);
}

#[test]
fn one_target_column_never_pairs_with_two_source_columns() {
    let dir = tempfile::tempdir().unwrap();
    let src = csv(dir.path(), "s.csv", "id,a,b\n1,x,x\n");
    let tgt = csv(dir.path(), "t.csv", "id,b\n1,x\n");
    let tgt2 = csv(dir.path(), "t2.csv", "id,x\n1,x\n");
    let mapping = |body: &str| {
        let p = dir.path().join("m.toml");
        std::fs::write(
            &p,
            format!("[[table]]\nsource = \"s\"\ntarget = \"t\"\nkey = [\"id\"]\n{body}"),
        )
        .unwrap();
        p.display().to_string()
    };
    // A rename onto a name another source column has.
    let m = mapping("rename = { a = \"b\" }\n");
    let (code, _, err) = diff(&[&src, &tgt, "--mapping", &m]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("'b'") && err.contains("a"), "{err}");
    // Two renames onto one name.
    let p = dir.path().join("m2.toml");
    std::fs::write(
        &p,
        "[[table]]\nsource = \"s\"\ntarget = \"t2\"\nkey = [\"id\"]\nrename = { a = \"x\", b = \"x\" }\n",
    )
    .unwrap();
    let (code, _, err) = diff(&[&src, &tgt2, "--mapping", p.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    // Two source columns that match one target column only case-insensitively.
    let src = csv(dir.path(), "c.csv", "id,Val,val\n1,x,y\n");
    let tgt = csv(dir.path(), "d.csv", "id,VAL\n1,x\n");
    let (code, _, err) = diff(&[&src, &tgt, "--table", "c:d", "--key", "id"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Val") && err.contains("val"), "{err}");
}

#[test]
fn a_run_killed_mid_way_leaves_the_earlier_out_directory_as_it_was() {
    let Some(pg) = pg_exec(
        "DROP VIEW IF EXISTS reckon_vl_slow;
         CREATE VIEW reckon_vl_slow AS
           SELECT g AS k, (SELECT 1 FROM pg_sleep(1)) AS v FROM generate_series(1, 4) g;
         DROP TABLE IF EXISTS reckon_vl_quick; CREATE TABLE reckon_vl_quick (k int PRIMARY KEY);
         INSERT INTO reckon_vl_quick VALUES (1);",
    ) else {
        return;
    };
    let d = tempdir();
    let out = d.path().join("D");
    let o = out.to_str().unwrap();
    let r = reckon(&["diff", &pg, &pg, "--table", "reckon_vl_quick", "--out", o]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = files_of(&out);
    // The slow view takes four seconds to read: kill -9 once the run is writing its results.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args(["diff", &pg, &pg, "--table", "reckon_vl_slow", "--out", o])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let staging = |d: &Path| {
        std::fs::read_dir(d).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".D.reckon-")
        })
    };
    let started = std::time::Instant::now();
    while !staging(d.path()) {
        assert!(
            started.elapsed().as_secs() < 20,
            "no staging directory appeared"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it was killed"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let after = files_of(&out);
    assert_eq!(after, before, "a killed run changed the earlier result");
    assert!(
        staging(d.path()),
        "the killed run's staging directory is there"
    );
    // The next run replaces the result whole and clears what the killed run left.
    let r = reckon(&["diff", &pg, &pg, "--table", "reckon_vl_quick", "--out", o]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!staging(d.path()), "a killed run's staging directory stays");
}

#[test]
fn a_side_that_reads_differently_the_second_time_is_an_error_never_a_result() {
    let dir = tempfile::tempdir().unwrap();
    // A view whose values change at every read: past the memory limit, the rows left are read a
    // second time, and they no longer hash as they did.
    let src = sqlite(
        dir.path(),
        "s.db",
        "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);
         INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
         CREATE VIEW moving AS SELECT k, v || random() AS v FROM t;",
    );
    let tgt = csv(dir.path(), "moving.csv", "k,v\n1,a\n2,b\n3,c\n");
    let (code, r, err) = diff(&[
        &src,
        &tgt,
        "--table",
        "moving",
        "--key",
        "k",
        "--memory-limit",
        "1",
    ]);
    assert_eq!(code, 2, "{err} {r}");
    assert_eq!(
        r["tables"][0]["verdict"], "error(changed-while-read)",
        "{r}"
    );
    assert!(err.contains("changed while it was being compared"), "{err}");
}

#[test]
fn passwords_never_show_whatever_characters_they_hold() {
    let d = tempdir();
    let out = d.path().join("out");
    let canaries = [
        ("postgres://u:5432/CanaryA1@127.0.0.1:1/db", "5432/CanaryA1"),
        ("postgres://u:Can#aryB2@127.0.0.1:1/db", "Can#aryB2"),
        ("mysql://u:Can?aryC3@127.0.0.1:1/db", "Can?aryC3"),
        ("postgres://u:Can@aryD4@127.0.0.1:1/db", "Can@aryD4"),
        ("postgres://u:Can%40aryE5@127.0.0.1:1/db", "Can@aryE5"),
    ];
    for (url, pw) in canaries {
        let runs = [
            reckon(&["profile", url, "--out", out.to_str().unwrap()]),
            reckon(&["diff", url, url, "--out", out.to_str().unwrap()]),
            reckon(&["check", url, "--rules", "nonexistent.toml"]),
            // clap's own error quotes arguments.
            reckon(&["diff", url, url, "--samples", url]),
        ];
        for r in runs {
            assert_eq!(r.code, 2, "{url}: {}", r.stderr);
            for text in [&r.stdout, &r.stderr] {
                assert!(!text.contains(pw), "{url} leaked: {text}");
                let raw = pw.replace('@', "%40");
                assert!(!text.contains(&raw) || raw == pw, "{url} leaked: {text}");
            }
        }
        if out.exists() {
            for f in std::fs::read_dir(&out).unwrap() {
                let text = std::fs::read(f.unwrap().path()).unwrap();
                assert!(!String::from_utf8_lossy(&text).contains(pw));
            }
        }
    }
}

#[test]
fn case_only_twin_tables_pair_by_exact_name_first() {
    let d = tempdir();
    let src = d.path().join("src");
    let tgt = d.path().join("tgt");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&tgt).unwrap();
    csv(&src, "orders.csv", "k,v\n1,a\n");
    csv(&src, "items.csv", "k,v\n1,a\n");
    csv(&tgt, "Orders.csv", "k,v\n1,WRONG\n");
    csv(&tgt, "orders.csv", "k,v\n1,a\n");
    csv(&tgt, "items.csv", "k,v\n1,a\n");
    let s = format!("{}/*.csv", src.display());
    let t = format!("{}/*.csv", tgt.display());
    let (code, r, err) = diff(&[&s, &t, "--key", "k"]);
    // `Orders` is on the target only (exit 1); `orders` meets `orders` and matches.
    assert_eq!(code, 1, "{err}");
    let tables = r["tables"].as_array().unwrap();
    let orders = tables
        .iter()
        .find(|t| t["source_table"].to_string().contains("orders"))
        .unwrap();
    assert!(
        orders["target_table"].to_string().contains("\"orders"),
        "{orders}"
    );
    assert_eq!(orders["verdict"], "match", "{orders}");
    assert!(
        r["unpaired"].to_string().contains("Orders"),
        "{}",
        r["unpaired"]
    );
}

#[test]
fn a_failing_query_shows_the_servers_reason() {
    let Some(pg) = pg_exec("SELECT 1") else {
        return;
    };
    let r = reckon(&[
        "profile",
        &pg,
        "--query",
        "SELECT no_such_col FROM pg_class",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("column \"no_such_col\" does not exist"),
        "{}",
        r.stderr
    );
    let d = tempdir();
    let rules = csv(
        d.path(),
        "r.toml",
        "[[rule]]\nkind = \"sql\"\ntable = \"x\"\nquery = \"SELECT no_such_col2 FROM pg_class\"\n",
    );
    let r = reckon(&["check", &pg, "--rules", &rules]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("\"no_such_col2\" does not exist"),
        "{}",
        r.stderr
    );
}
