//! `reckon diff --pushdown` with SQLite on either side. SQLite computes the same row text in its
//! own SQL (with the SHA-256 and exact sums reckon registers on its connections), so a pair of
//! SQLite with PostgreSQL, MariaDB or SQLite is pushed down, and must report exactly what the
//! streamed diff reports on the seeded random tables of `diff_pushdown` (every strategy, both
//! directions). What SQLite holds in no canonical form (decimals and dates as text facing typed
//! columns, a column whose values mix storage classes) streams and says so; text that is not
//! UTF-8 is hashed by its bytes.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::Value;

use crate::diff_files::diff_json;
use crate::diff_pushdown::{agree, agree_with, reads_only_differences, strategies};
use crate::pushdown_tables::{load, micros};

static FILE: OnceLock<String> = OnceLock::new();

/// Columns SQLite holds as text that typed engines hold as decimals, dates and times: compared
/// by parsing, so pairs with a server leave them out to be pushed down.
pub(crate) const TEXT_TYPED: &str = "amount,day,at,lt,tm";

fn thousandths(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:03}",
        v.unsigned_abs() / 1000,
        v.unsigned_abs() % 1000
    )
}

/// The tables of `diff_pushdown` in an SQLite file (integers, reals, text and blobs in their own
/// storage classes; decimals, dates and times as text; `name` under NOCASE, where byte order must
/// still rule its extremes), with near pairs, text that is not UTF-8, and a column of mixed
/// storage classes. Returns its URL.
pub(crate) fn sqlite() -> String {
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("reckon_pd_{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut c = rusqlite::Connection::open(&path).unwrap();
        let tx = c.transaction().unwrap();
        for (name, rows) in crate::pushdown_tables::tables() {
            tx.execute_batch(&format!(
                "CREATE TABLE {name} (id INTEGER PRIMARY KEY, qty INTEGER, amount TEXT, price REAL, name TEXT COLLATE NOCASE, flag INTEGER, day TEXT, at TEXT, lt TEXT, tm TEXT, bin BLOB)"
            ))
            .unwrap();
            let mut ins = tx
                .prepare(&format!(
                    "INSERT INTO {name} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ))
                .unwrap();
            for r in &rows {
                ins.execute(rusqlite::params![
                    r.id,
                    r.qty,
                    r.amount.map(thousandths),
                    r.price,
                    r.name,
                    r.flag.map(i64::from),
                    r.day.map(|d| d.to_string()),
                    r.at.map(micros),
                    r.lt.map(micros),
                    r.tm.map(|t| t.to_string()),
                    r.blob,
                ])
                .unwrap();
            }
        }
        // The near pairs of diff_pushdown (text moved across a column boundary, NULL against ''
        // and 'Z', a zero's sign), and an integer decimal 100 against 1.
        tx.execute_batch(
            "CREATE TABLE near_a (id INTEGER PRIMARY KEY, t1 TEXT, t2 TEXT, f REAL, d INTEGER);
             CREATE TABLE near_b (id INTEGER PRIMARY KEY, t1 TEXT, t2 TEXT, f REAL, d INTEGER);
             INSERT INTO near_a VALUES (1, 'ab', 'c', 1.0, 100), (2, NULL, 'x', 1.0, 100),
               (3, 'Z', NULL, 1.0, 100), (4, 'NULL', '', 1.0, 100), (5, 't1:a', '', 1.0, 100),
               (6, 'a;', 'n1;', 1.0, 100), (7, 'same', 'same', 0.5, 100), (8, '', 'x', 2.0, 100),
               (9, 'at', 'b', 1.0, 100), (10, 'd', 'd', 1.0, 100);
             INSERT INTO near_b VALUES (1, 'a', 'bc', 1.0, 100), (2, '', 'x', 1.0, 100),
               (3, NULL, NULL, 1.0, 100), (4, NULL, '', 1.0, 100), (5, 't1:', 'a', 1.0, 100),
               (6, 'a;n1;', '', 1.0, 100), (7, 'same', 'same', 0.5000000000000001, 100),
               (8, '', 'x', 2.0, 100), (9, 'a', 'tb', 1.0, 100), (10, 'd', 'd', 1.0, 1);",
        )
        .unwrap();
        // 40 texts of bytes that are not UTF-8; every other one differs in its last byte.
        tx.execute_batch(
            "CREATE TABLE bad_a (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE bad_b (id INTEGER PRIMARY KEY, name TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
               INSERT INTO bad_a SELECT i, CAST(X'4DC3FC6CFF' AS TEXT) FROM n;
             INSERT INTO bad_b SELECT id, CASE WHEN id % 2 = 0 THEN CAST(X'4DC3FC6CFE' AS TEXT) ELSE name END FROM bad_a;
             CREATE TABLE mixed_a (id INTEGER PRIMARY KEY, v);
             CREATE TABLE mixed_b (id INTEGER PRIMARY KEY, v);
             INSERT INTO mixed_a VALUES (1, 1), (2, 1.5), (3, 'x'), (4, X'00');
             INSERT INTO mixed_b VALUES (1, '1'), (2, 1.5), (3, 'x'), (4, X'00');
             CREATE TABLE bunched_a (id INTEGER PRIMARY KEY, v INTEGER);
             CREATE TABLE bunched_b (id INTEGER PRIMARY KEY, v INTEGER);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
               INSERT INTO bunched_a SELECT i, i FROM n UNION ALL SELECT 1000000000 + i, i FROM n;
             INSERT INTO bunched_b SELECT id, v + id % 2 FROM bunched_a;",
        )
        .unwrap();
        tx.commit().unwrap();
        format!("sqlite://{}", path.display())
    })
    .clone()
}

fn fallback_columns(p: &Value) -> BTreeSet<String> {
    p["fallback_columns"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|c| c["column"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pushdown_agrees_with_streaming_sqlite_to_sqlite() {
    let db = sqlite();
    // Summaries only for identical tables, one bucket for one change, hashes then the differing
    // rows for many: each agreeing with the streamed diff, aggregates included.
    strategies(&db, &db, "", &[]);
    for args in [&[][..], &["--buckets", "1"][..]] {
        let p = agree_with(&db, &db, "near_a:near_b", &[], args);
        assert_ne!(p["strategy"], "streamed", "{p:#}");
    }
    let (_, r) = diff_json(&[&db, &db, "--table", "near_a:near_b", "--pushdown"]);
    let c = &r["tables"][0]["counts"];
    assert_eq!(
        c["mismatched"], 9,
        "every near row but row 8 differs: {c:#}"
    );
}

#[test]
fn pushdown_agrees_with_streaming_between_sqlite_and_servers_both_ways() {
    let Some((pg, my)) = load() else { return };
    let db = sqlite();
    let skip = ["--exclude", TEXT_TYPED];
    for t in ["same", "one", "many"] {
        for (s, tgt, table) in [
            (&pg, &db, format!("reckon_pd.src:{t}")),
            (&db, &pg, format!("src:reckon_pd.{t}")),
            (&my, &db, format!("src:{t}")),
        ] {
            let p = agree(s, tgt, &table, &skip);
            assert_eq!(p["hashing"], "canonical text", "{table}: {p:#}");
            // PostgreSQL keeps -0, which SQLite (as MariaDB) stores as 0: facing PostgreSQL,
            // even the copy differs in those rows, and the strategy follows.
            let want = match (t, s.starts_with("postgres") || tgt.starts_with("postgres")) {
                ("same", false) => "summaries",
                ("one", false) => "buckets",
                ("many", _) => "rows",
                _ => "",
            };
            if !want.is_empty() {
                assert_eq!(p["strategy"], want, "{s} → {tgt} {table}: {p:#}");
            }
            assert_ne!(p["strategy"], "streamed", "{s} → {tgt} {table}: {p:#}");
        }
    }
    // Equal values gave equal hashes in both engines: only the differing rows were read.
    reads_only_differences(&pg, &db, "reckon_pd.src:many", &skip);
    reads_only_differences(&db, &pg, "src:reckon_pd.many", &skip);
    reads_only_differences(&db, &my, "src:many", &skip);
    // Decimals, dates and instants that SQLite holds as text face typed columns: compared by
    // parsing, which the SQL does not do. Those columns, and only they, stream the table.
    let p = agree(&pg, &db, "reckon_pd.src:many", &[]);
    assert_eq!(p["strategy"], "streamed", "{p:#}");
    let want: BTreeSet<String> = TEXT_TYPED.split(',').map(String::from).collect();
    assert_eq!(fallback_columns(&p), want, "{p:#}");
}

#[test]
fn sqlite_text_is_hashed_by_its_bytes_and_mixed_classes_stream() {
    let db = sqlite();
    // Not UTF-8: the lossy text shown is the same on both sides, the bytes differ in half the
    // rows. Pushed down, the hash reads the bytes.
    let p = agree(&db, &db, "bad_a:bad_b", &[]);
    assert_ne!(p["strategy"], "streamed", "{p:#}");
    let (code, r) = diff_json(&[&db, &db, "--table", "bad_a:bad_b", "--pushdown"]);
    assert_eq!(code, 1);
    let c = &r["tables"][0]["counts"];
    assert_eq!(c["mismatched"], 20, "{c:#}");
    assert_eq!(c["matched"], 20, "{c:#}");
    // Integer 1 against text '1', among reals, text and blobs: values of several storage
    // classes are read one by one, as only the stream does.
    let p = agree(&db, &db, "mixed_a:mixed_b", &[]);
    assert_eq!(p["strategy"], "streamed", "{p:#}");
    assert_eq!(
        fallback_columns(&p),
        BTreeSet::from(["v".to_string()]),
        "{p:#}"
    );
    let why = p["fallback_columns"][0]["why"].as_str().unwrap();
    assert!(why.contains("storage classes"), "{why}");
    let (code, r) = diff_json(&[&db, &db, "--table", "mixed_a:mixed_b", "--pushdown"]);
    assert_eq!(code, 1);
    assert_eq!(r["tables"][0]["counts"]["mismatched"], 1, "{r:#}");
}

#[test]
fn a_probe_of_keys_bunched_away_from_its_ranges_takes_buckets_instead() {
    let db = sqlite();
    // Keys 1–600 and 10^9 + 1–600: the probe's four key ranges (in the middle of the span) hold
    // no row, so it probes 1/32 of the buckets instead, and still finds half the rows changed
    // everywhere: no full summary, every row's hashes.
    let p = agree_with(&db, &db, "bunched_a:bunched_b", &[], &["--buckets", "256"]);
    assert_eq!(p["probed_buckets"], 8, "{p:#}");
    assert!(p["probe_differing"].as_u64().unwrap() > 4, "{p:#}");
    assert_eq!(p["strategy"], "rows", "{p:#}");
    assert_eq!(p["differing_buckets"], 0, "{p:#}");
    assert_eq!(p["hashes_fetched"][0], 1200, "{p:#}");
}
