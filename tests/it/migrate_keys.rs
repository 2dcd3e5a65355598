//! `reckon migrate` keys in their canonical form: the text `NULL` is a key like any other (only a
//! real NULL is refused), and composite keys whose parts hold the separator or the escape never
//! merge: each row lands, verifies, and `--item` finds it.

use super::common::{mysql_url, pg_url, reckon, require};
use super::migrate_servers::{my_exec, pg_exec, Rows};

const SEP: &str = "\u{1f}";

/// A target's URL and how to query it.
type Target = (String, Box<dyn Fn(&str) -> Rows>);

fn source(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("keys.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch(
        "CREATE TABLE pairs (a text, b text, v integer, PRIMARY KEY (a, b));
         CREATE TABLE words (w text PRIMARY KEY, v integer);",
    )
    .unwrap();
    // Pairs whose parts joined by the separator, or with the escape, would read alike.
    let pairs = [
        (format!("x{SEP}y"), "z".to_string()),
        ("x".to_string(), format!("y{SEP}z")),
        ("a\\".to_string(), "_b".to_string()),
        ("a".to_string(), "\\_b".to_string()),
        ("NULL".to_string(), "NULL".to_string()),
    ];
    for (i, (a, b)) in pairs.iter().enumerate() {
        c.execute(
            "INSERT INTO pairs VALUES (?1, ?2, ?3)",
            rusqlite::params![a, b, i as i64],
        )
        .unwrap();
    }
    for (i, w) in ["NULL", "null", "x"].iter().enumerate() {
        c.execute(
            "INSERT INTO words VALUES (?1, ?2)",
            rusqlite::params![w, i as i64],
        )
        .unwrap();
    }
    path
}

fn write_plan(
    dir: &std::path::Path,
    name: &str,
    db: &std::path::Path,
    target: &str,
) -> std::path::PathBuf {
    let text = format!(
        "name = \"{name}\"\nsource = \"sqlite://{}\"\ntarget = \"{target}\"\nledger = \"reckon_mk.reckon_ledger\"\nidmap = \"reckon_mk.reckon_idmap\"\n\n[[unit]]\nname = \"pairs\"\ntable = \"pairs\"\ntarget = \"reckon_mk.pairs\"\nkey = [\"a\", \"b\"]\n\n[[unit]]\nname = \"words\"\ntable = \"words\"\ntarget = \"reckon_mk.words\"\nkey = [\"w\"]\n",
        db.display()
    );
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn keys_holding_the_text_null_the_separator_or_the_escape_migrate_and_verify() {
    let pg_setup = "DROP SCHEMA IF EXISTS reckon_mk CASCADE; CREATE SCHEMA reckon_mk;
        CREATE TABLE reckon_mk.pairs (a text, b text, v integer, PRIMARY KEY (a, b));
        CREATE TABLE reckon_mk.words (w text PRIMARY KEY, v integer);";
    let my_setup = "DROP DATABASE IF EXISTS reckon_mk; CREATE DATABASE reckon_mk CHARACTER SET utf8mb4;
        CREATE TABLE reckon_mk.pairs (a varchar(10) COLLATE utf8mb4_bin, b varchar(10) COLLATE utf8mb4_bin, v integer, PRIMARY KEY (a, b));
        CREATE TABLE reckon_mk.words (w varchar(10) COLLATE utf8mb4_bin PRIMARY KEY, v integer);";
    let Some(_) = require("PostgreSQL", pg_exec(pg_setup)) else {
        return;
    };
    let Some(_) = require("MariaDB", my_exec(&mysql_url(), my_setup)) else {
        return;
    };
    let mut my = url::Url::parse(&mysql_url()).unwrap();
    my.set_path("/reckon_mk");
    let targets: [Target; 2] = [
        (pg_url(), Box::new(|sql: &str| pg_exec(sql).unwrap())),
        (
            my.to_string(),
            Box::new(move |sql: &str| my_exec(&mysql_url(), sql).unwrap()),
        ),
    ];
    for (target, query) in &targets {
        let dir = tempfile::tempdir().unwrap();
        let db = source(dir.path());
        let keys_plan = write_plan(dir.path(), "keys", &db, target);
        let plan = keys_plan.to_str().unwrap();
        // One row first, by the key the text NULL makes.
        let r = reckon(&["migrate", plan, "--item", "words:NULL"]);
        assert_eq!(r.code, 0, "{target}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            query("SELECT w, v FROM reckon_mk.words"),
            vec![vec![Some("NULL".to_string()), Some("0".to_string())]],
            "{target}"
        );
        let r = reckon(&["migrate", plan]);
        assert_eq!(r.code, 0, "{target}: {}{}", r.stdout, r.stderr);
        let pairs = query("SELECT a, b, v FROM reckon_mk.pairs ORDER BY v");
        assert_eq!(pairs.len(), 5, "{target}: {pairs:?}");
        assert_eq!(pairs[0][0].as_deref(), Some(format!("x{SEP}y").as_str()));
        assert_eq!(pairs[1][1].as_deref(), Some(format!("y{SEP}z").as_str()));
        assert_eq!(pairs[2][0].as_deref(), Some("a\\"));
        assert_eq!(pairs[3][1].as_deref(), Some("\\_b"));
        assert_eq!(pairs[4][0].as_deref(), Some("NULL"));
        assert_eq!(
            query("SELECT count(*) FROM reckon_mk.words")[0][0].as_deref(),
            Some("3")
        );
        // Verified, and a second run finds nothing to do.
        let r = reckon(&["migrate", plan, "--json"]);
        assert_eq!(r.code, 0, "{target}: {}{}", r.stdout, r.stderr);
        // A real NULL in a key part is still refused, naming the row (a plan of its own, which
        // has run nothing yet).
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute("INSERT INTO pairs VALUES ('n', NULL, 9)", [])
            .unwrap();
        drop(c);
        let null_plan = write_plan(dir.path(), "keys_null", &db, target);
        let r = reckon(&["migrate", null_plan.to_str().unwrap()]);
        assert_ne!(r.code, 0, "{target}: {}", r.stdout);
        let said = format!("{}{}", r.stdout, r.stderr);
        assert!(
            said.contains("a key is NULL (a=n, b=NULL)"),
            "{target}: {said}"
        );
        assert_eq!(
            query("SELECT count(*) FROM reckon_mk.pairs")[0][0].as_deref(),
            Some("5")
        );
    }
}

#[test]
fn a_delta_run_deletes_rows_whose_text_key_left_the_source_when_told() {
    let pg_setup = "DROP SCHEMA IF EXISTS reckon_mg CASCADE; CREATE SCHEMA reckon_mg;
        CREATE TABLE reckon_mg.items (k text PRIMARY KEY, v integer, ts text);";
    let my_setup = "DROP DATABASE IF EXISTS reckon_mg; CREATE DATABASE reckon_mg CHARACTER SET utf8mb4;
        CREATE TABLE reckon_mg.items (k varchar(10) COLLATE utf8mb4_bin PRIMARY KEY, v integer, ts varchar(30));";
    let Some(_) = require("PostgreSQL", pg_exec(pg_setup)) else {
        return;
    };
    let Some(_) = require("MariaDB", my_exec(&mysql_url(), my_setup)) else {
        return;
    };
    let mut my = url::Url::parse(&mysql_url()).unwrap();
    my.set_path("/reckon_mg");
    for target in [pg_url(), my.to_string()] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("items.db");
        let c = rusqlite::Connection::open(&db).unwrap();
        c.execute_batch(
            "CREATE TABLE items (k text PRIMARY KEY, v integer, ts text);
             INSERT INTO items VALUES ('a', 1, '2024-01-01'), ('B', 2, '2024-01-01'),
               ('b ', 3, '2024-01-01'), ('it''s', 4, '2024-01-01');",
        )
        .unwrap();
        let plan = |delete: bool| {
            let text = format!(
                "name = \"gone\"\nsource = \"sqlite://{}\"\ntarget = \"{target}\"\nledger = \"reckon_mg.reckon_ledger\"\nidmap = \"reckon_mg.reckon_idmap\"\n\n[[unit]]\nname = \"items\"\ntable = \"items\"\ntarget = \"reckon_mg.items\"\nkey = [\"k\"]\nupdated_at = \"ts\"\ndelete_missing = {delete}\n",
                db.display()
            );
            let p = dir.path().join("plan.toml");
            std::fs::write(&p, text).unwrap();
            p
        };
        let p = plan(false);
        let p = p.to_str().unwrap();
        let r = reckon(&["migrate", p]);
        assert_eq!(r.code, 0, "{target}: {}{}", r.stdout, r.stderr);
        // 'B' and the quoted key leave the source; 'b ' and 'a' stay.
        c.execute("DELETE FROM items WHERE k IN ('B', 'it''s')", [])
            .unwrap();
        let r = reckon(&["migrate", p, "--delta", "--json"]);
        assert_eq!(r.code, 0, "{target}: {}{}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["gone"], 2, "{target}: {}", r.stdout);
        assert_eq!(v[0]["deleted"], 0);
        let p = plan(true);
        let r = reckon(&["migrate", p.to_str().unwrap(), "--delta", "--json"]);
        assert_eq!(r.code, 0, "{target}: {}{}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["deleted"], 2, "{target}: {}", r.stdout);
        let query = |sql: &str| match target.starts_with("postgres") {
            true => pg_exec(sql).unwrap(),
            false => my_exec(&mysql_url(), sql).unwrap(),
        };
        let left: Vec<Option<String>> = query("SELECT k FROM reckon_mg.items ORDER BY v")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(
            left,
            [Some("a".to_string()), Some("b ".to_string())],
            "{target}"
        );
        // A source that reads empty (a wrong database, an emptied staging table) is no evidence
        // that every row is gone: refused, nothing deleted.
        c.execute("DELETE FROM items", []).unwrap();
        let r = reckon(&["migrate", p.to_str().unwrap(), "--delta"]);
        assert_eq!(r.code, 1, "{target}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("none of the target's 2 keys"),
            "{target}: {}",
            r.stdout
        );
        assert_eq!(
            query("SELECT count(*) FROM reckon_mg.items")[0][0].as_deref(),
            Some("2")
        );
    }
}

#[test]
fn integer_keys_past_2_pow_53_are_deleted_one_by_one_on_mariadb() {
    // 2^53 and 2^53 + 1 are one double: a key compared through doubles anywhere (the
    // server's string-to-number rules, or reckon's text) would delete both.
    let setup = "DROP DATABASE IF EXISTS reckon_mb; CREATE DATABASE reckon_mb;
        CREATE TABLE reckon_mb.big (k bigint PRIMARY KEY, v integer, ts varchar(30));";
    let Some(_) = require("MariaDB", my_exec(&mysql_url(), setup)) else {
        return;
    };
    let mut target = url::Url::parse(&mysql_url()).unwrap();
    target.set_path("/reckon_mb");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("big.db");
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute_batch(
        "CREATE TABLE big (k integer PRIMARY KEY, v integer, ts text);
         INSERT INTO big VALUES (9007199254740992, 1, '2024-01-01'), (9007199254740993, 2, '2024-01-01'),
           (1, 3, '2024-01-01');",
    )
    .unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"big\"\nsource = \"sqlite://{}\"\ntarget = \"{target}\"\nledger = \"reckon_mb.reckon_ledger\"\nidmap = \"reckon_mb.reckon_idmap\"\n\n[[unit]]\nname = \"big\"\ntable = \"big\"\ntarget = \"reckon_mb.big\"\nkey = [\"k\"]\nupdated_at = \"ts\"\ndelete_missing = true\n",
            db.display()
        ),
    )
    .unwrap();
    let p = plan.to_str().unwrap();
    let r = reckon(&["migrate", p]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    c.execute("DELETE FROM big WHERE k = 9007199254740993", [])
        .unwrap();
    let r = reckon(&["migrate", p, "--delta", "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["deleted"], 1, "{}", r.stdout);
    let left: Vec<Option<String>> = my_exec(&mysql_url(), "SELECT k FROM reckon_mb.big ORDER BY k")
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        left,
        [Some("1".to_string()), Some("9007199254740992".to_string())]
    );
}
