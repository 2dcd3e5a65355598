//! `reckon profile --pushdown` on a sampled table: its declared keys checked in SQL over the
//! whole table (primary keys repeated through inheritance, foreign keys under constraints the
//! databases do not check), and statistics whose SQL must not follow the column's collation.

use serde_json::Value;

use crate::common::*;
use crate::profile_pushdown::{column, exact_stats, profile};

/// The declared relationships of a profile.
fn declared(r: &Value) -> Vec<Value> {
    r["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["declared"] == true)
        .cloned()
        .collect()
}

/// What a relationship check found (not how it was made).
fn found(r: &Value) -> Value {
    serde_json::json!([
        r["child_column"],
        r["checked"],
        r["child_distinct"],
        r["matched_distinct"],
        r["orphan_distinct"],
        r["orphan_rows"],
        r["orphan_samples"],
    ])
}

#[test]
fn declared_keys_of_a_sampled_table_are_checked_in_sql_as_streaming_checks_them() {
    // Orphans planted under constraints the databases do not check (NOT VALID, checks off):
    // numbers 9001 (3 rows) and 9002; texts 'B' and 'b ' where the parent has 'b', which
    // MariaDB's case- and pad-insensitive collation would call the same.
    let setup = "DROP SCHEMA IF EXISTS reckon_pp CASCADE; CREATE SCHEMA reckon_pp;
        CREATE TABLE reckon_pp.parent (id int PRIMARY KEY, code text UNIQUE);
        CREATE TABLE reckon_pp.child (id int PRIMARY KEY, parent_id int, pcode text);
        INSERT INTO reckon_pp.parent SELECT g, chr(97 + g % 26) || (g / 26)::text FROM generate_series(1, 400) g;
        UPDATE reckon_pp.parent SET code = 'b' WHERE id = 1;
        INSERT INTO reckon_pp.child SELECT g, 1 + g % 400, 'b' FROM generate_series(1, 400) g;
        UPDATE reckon_pp.child SET parent_id = 9001 WHERE id IN (5, 6, 7);
        UPDATE reckon_pp.child SET parent_id = 9002, pcode = 'B' WHERE id = 8;
        UPDATE reckon_pp.child SET pcode = 'b ' WHERE id IN (9, 10);
        ALTER TABLE reckon_pp.child ADD FOREIGN KEY (parent_id) REFERENCES reckon_pp.parent (id) NOT VALID;
        ALTER TABLE reckon_pp.child ADD FOREIGN KEY (pcode) REFERENCES reckon_pp.parent (code) NOT VALID;
        CREATE VIEW reckon_pp.v_child AS SELECT id, parent_id FROM reckon_pp.child;";
    let my_setup = "CREATE DATABASE IF NOT EXISTS reckon_pp; USE reckon_pp;
        DROP TABLE IF EXISTS child; DROP TABLE IF EXISTS parent;
        CREATE TABLE parent (id int PRIMARY KEY, code varchar(20) COLLATE utf8mb4_general_ci UNIQUE);
        CREATE TABLE child (id int PRIMARY KEY, parent_id int, pcode varchar(20) COLLATE utf8mb4_general_ci,
          FOREIGN KEY (parent_id) REFERENCES parent (id), FOREIGN KEY (pcode) REFERENCES parent (code));
        SET FOREIGN_KEY_CHECKS = 0;
        INSERT INTO parent SELECT seq, CONCAT(CHAR(97 + seq % 26), seq DIV 26) FROM seq_1_to_400;
        UPDATE parent SET code = 'b' WHERE id = 1;
        INSERT INTO child SELECT seq, 1 + seq % 400, 'b' FROM seq_1_to_400;
        UPDATE child SET parent_id = 9001 WHERE id IN (5, 6, 7);
        UPDATE child SET parent_id = 9002, pcode = 'B' WHERE id = 8;
        UPDATE child SET pcode = 'b ' WHERE id IN (9, 10);
        SET FOREIGN_KEY_CHECKS = 1;";
    if require("PostgreSQL", postgres_exec(setup)).is_none()
        || require("MariaDB", mariadb_exec(my_setup)).is_none()
    {
        return;
    }
    let pg = pg_url();
    let mut my = url::Url::parse(&mysql_url()).unwrap();
    my.set_path("/reckon_pp");
    let my = my.to_string();
    for (db, schema) in [(&pg, "reckon_pp."), (&my, "")] {
        let run = |extra: &[&str]| {
            let (p, c) = (format!("{schema}parent"), format!("{schema}child"));
            let mut args = vec![db.as_str(), "--table", &p, "--table", &c];
            args.extend_from_slice(extra);
            profile(&args)
        };
        // Streamed whole: reckon checks every row itself.
        let whole = run(&[]);
        let streamed = declared(&whole);
        assert_eq!(streamed.len(), 2, "{streamed:#?}");
        for r in &streamed {
            assert_eq!(r["checked"], true, "{r:#}");
        }
        let ids = streamed
            .iter()
            .find(|r| r["child_column"] == "parent_id")
            .unwrap();
        assert_eq!(ids["orphan_distinct"], 2, "{ids:#}");
        assert_eq!(ids["orphan_rows"], 4, "{ids:#}");
        assert_eq!(
            ids["orphan_samples"],
            serde_json::json!(["9001 (3 rows)", "9002 (1 row)"])
        );
        let codes = streamed
            .iter()
            .find(|r| r["child_column"] == "pcode")
            .unwrap();
        assert_eq!(
            codes["orphan_rows"], 3,
            "'B' and 'b ' are not 'b': {codes:#}"
        );
        // Sampled: a sample cannot show that a value has no parent, so SQL checks both whole
        // tables, and finds what the stream finds.
        let some = run(&["--pushdown", "--sample-rows", "100"]);
        let sampled = declared(&some);
        assert_eq!(
            sampled.iter().map(found).collect::<Vec<_>>(),
            streamed.iter().map(found).collect::<Vec<_>>(),
            "{db}: the SQL check differs from the streamed one"
        );
        for r in &sampled {
            assert!(r["note"].as_str().unwrap().contains("SQL"), "{r:#}");
        }
        assert!(
            some["relationships"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["declared"] == true),
            "nothing is inferred from a sample: {some:#}"
        );
        // The orphans finding counts the whole table's rows, and is not marked as a sample's.
        let f: Vec<&Value> = some["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "orphans")
            .collect();
        assert_eq!(f.len(), 2, "{f:#?}");
        for f in f {
            assert!(!f["message"].as_str().unwrap().contains("sample"), "{f:#}");
        }
    }
    let pg = pg_url();
    // A view has no physical row place: it is sampled by its rows' text like a table.
    let v = profile(&[
        &pg,
        "--table",
        "reckon_pp.v_child",
        "--pushdown",
        "--sample-rows",
        "100",
    ]);
    let t = &v["tables"][0];
    let read = t["pushdown"]["sample"]["rows"].as_u64().unwrap();
    assert!((40..=200).contains(&read), "{t:#}");
    assert_eq!(t["rows"], 400);
    assert_eq!(column(&v, "id")["distinct"], 400);
}

#[test]
fn sql_compares_by_bytes_whatever_the_collation_and_counts_inherited_key_repeats() {
    // PostgreSQL: an ICU collation orders 'a' before 'B' (bytes put 'B' first); rows of a child
    // table are read with its parent's, whose key does not cover them: (5,'k5') and (6,'k6')
    // repeat, (7,'K7') does not ('k7' differs by a byte), and (NULL,'k9') holds a NULL. In
    // `q`, a key of one column: 1 repeats once, 2 twice, and one row has none.
    let setup = "DROP SCHEMA IF EXISTS reckon_px CASCADE; CREATE SCHEMA reckon_px;
        CREATE TABLE reckon_px.p (id int, code text COLLATE \"und-x-icu\", amount numeric(10,2),
          at timestamptz, lt timestamp, PRIMARY KEY (id, code));
        INSERT INTO reckon_px.p SELECT g, 'k' || g, g * 1.25 - 200, timestamptz '2020-01-01 00:00:00.000001+00' + g * interval '1 hour 1 microsecond',
          timestamp '1950-06-01' - g * interval '1 day 1 microsecond' FROM generate_series(1, 400) g;
        UPDATE reckon_px.p SET code = 'a' WHERE id = 1;
        UPDATE reckon_px.p SET code = 'B' WHERE id = 2;
        UPDATE reckon_px.p SET code = 'é', at = 'infinity', lt = '-infinity' WHERE id = 3;
        UPDATE reckon_px.p SET code = 'z ' WHERE id = 4;
        CREATE TABLE reckon_px.c () INHERITS (reckon_px.p);
        INSERT INTO reckon_px.c SELECT id, code, amount, at, lt FROM reckon_px.p WHERE id IN (5, 6);
        INSERT INTO reckon_px.c VALUES (7, 'K7', -999.99, NULL, NULL);
        ALTER TABLE reckon_px.c ALTER COLUMN id DROP NOT NULL;
        INSERT INTO reckon_px.c VALUES (NULL, 'k9', 1, NULL, NULL);
        CREATE TABLE reckon_px.q (id int PRIMARY KEY, v text);
        INSERT INTO reckon_px.q SELECT g, 'v' FROM generate_series(1, 400) g;
        CREATE TABLE reckon_px.qc () INHERITS (reckon_px.q);
        ALTER TABLE reckon_px.qc ALTER COLUMN id DROP NOT NULL;
        INSERT INTO reckon_px.qc VALUES (1, 'a'), (2, 'b'), (2, 'c'), (NULL, 'd');";
    // MariaDB: a case-insensitive collation on VARCHAR and TEXT ('a' = 'A', 'a' before 'B').
    let my_setup = "CREATE DATABASE IF NOT EXISTS reckon_px; USE reckon_px; DROP TABLE IF EXISTS p;
        CREATE TABLE p (id int, code varchar(20) COLLATE utf8mb4_general_ci, amount decimal(10,2),
          lt datetime(6), body text COLLATE utf8mb4_general_ci, PRIMARY KEY (id, code));
        INSERT INTO p SELECT seq, CONCAT('k', seq), seq * 1.25 - 200,
          TIMESTAMPADD(MICROSECOND, seq * 86400000001, '1950-06-01'), CONCAT(REPEAT('x', 1100), seq % 40) FROM seq_1_to_400;
        UPDATE p SET code = 'a', body = 'a' WHERE id = 1;
        UPDATE p SET code = 'B', body = 'A' WHERE id = 2;
        UPDATE p SET code = 'é', body = 'a ' WHERE id = 3;
        UPDATE p SET code = 'z ', amount = -999.99 WHERE id = 4;";
    if require("PostgreSQL", postgres_exec(setup)).is_none()
        || require("MariaDB", mariadb_exec(my_setup)).is_none()
    {
        return;
    }
    let pg = pg_url();
    let mut my = url::Url::parse(&mysql_url()).unwrap();
    my.set_path("/reckon_px");
    let my = my.to_string();
    for sample in [false, true] {
        let mut args = vec![pg.as_str(), "--table", "reckon_px.q"];
        if sample {
            args.extend(["--pushdown", "--sample-rows", "60"]);
        }
        let t = &profile(&args)["tables"][0];
        assert_eq!(t["primary_key_duplicates"], 3, "sampled: {sample}: {t:#}");
        assert_eq!(t["primary_key_nulls"], 1, "sampled: {sample}");
        // Sampled, the counts are SQL's (read off the key column's own counts).
        assert_eq!(
            t["pushdown"]["table_in_sql"].as_array().map(Vec::len),
            sample.then_some(2),
            "{t:#}"
        );
    }
    for (db, table) in [(&pg, "reckon_px.p"), (&my, "p")] {
        let whole = profile(&[db, "--table", table]);
        let sampled = profile(&[db, "--table", table, "--pushdown", "--sample-rows", "60"]);
        let (w, s) = (&whole["tables"][0], &sampled["tables"][0]);
        assert!(
            s["pushdown"]["sample"]["rows"].as_u64().unwrap() < 200,
            "{s:#}"
        );
        let (repeats, nulls) = if db.starts_with("postgres") {
            (2, 1)
        } else {
            (0, 0)
        };
        for t in [w, s] {
            assert_eq!(t["primary_key_duplicates"], repeats, "{db}: {t:#}");
            assert_eq!(t["primary_key_nulls"], nulls, "{db}");
        }
        assert_eq!(
            s["pushdown"]["table_in_sql"],
            serde_json::json!(["primary_key_duplicates", "primary_key_nulls"])
        );
        // Text in code-point order: 'B' first, 'é' last, as the stream orders it.
        let code = column(&whole, "code");
        assert_eq!(code["min"], "B", "{db}");
        assert_eq!(code["max"], "é", "{db}");
        for c in ["code", "amount", "lt"] {
            let stats = exact_stats(&sampled, c);
            assert!(stats.iter().any(|s| s == "min"), "{db} {c}: {stats:?}");
            for f in ["min", "max", "distinct"] {
                assert_eq!(
                    column(&sampled, c)[f],
                    column(&whole, c)[f],
                    "{db} {c}: {f} is the whole table's"
                );
            }
        }
        // A decimal column's extremes are its text at its scale; its mean the exact sum's.
        assert_eq!(column(&whole, "amount")["min"], "-999.99", "{db}");
        let (a, b) = (
            column(&sampled, "amount")["mean"].as_f64().unwrap(),
            column(&whole, "amount")["mean"].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 1e-10 * b.abs(),
            "{db}: mean {a} against {b}"
        );
        if db.starts_with("postgres") {
            // Infinities are counted apart, never an extreme.
            let at = column(&sampled, "at");
            assert_eq!(at["min"], column(&whole, "at")["min"]);
            assert_eq!(at["max"], "2020-01-17 16:00:00.000401Z", "{at:#}");
            assert_eq!(column(&whole, "lt")["min"], "1949-04-26 23:59:59.999600");
        } else {
            // TEXT counted by its bytes ('a', 'A' and 'a ' apart; values longer than
            // max_sort_length apart), sampled or past the limit.
            let body = column(&whole, "body");
            assert_eq!(body["distinct"], 43, "{body:#}");
            assert_eq!(column(&sampled, "body")["distinct"], 43);
            assert_eq!(column(&sampled, "body")["distinct_exact"], true);
            let limited = profile(&[
                db,
                "--table",
                table,
                "--pushdown",
                "--exact-distinct-limit",
                "5",
            ]);
            assert_eq!(exact_stats(&limited, "body"), ["distinct"]);
            assert_eq!(column(&limited, "body")["distinct"], 43);
        }
    }
}
