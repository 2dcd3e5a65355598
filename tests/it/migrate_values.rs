//! `reckon migrate` values at the edges of their types: dates and timestamps before Christ and
//! past year 9999 land in PostgreSQL as they were, and verify.

use super::common::{pg_url, reckon};
use super::migrate_servers::{pg_database, pg_exec};

#[test]
fn dates_before_christ_and_past_9999_migrate_to_postgresql_as_they_were() {
    let Some(src) = pg_database("reckon_mv_src") else {
        return;
    };
    let mut c = postgres::Client::connect(&src, postgres::NoTls).unwrap();
    let values =
        "(1, '0044-03-15 BC', '0044-03-15 12:00:00.000001 BC', '0044-03-15 12:00:00.000001+00 BC'),
        (2, '10000-01-01', '10000-01-01 23:59:59.999999', '10000-01-01 00:00:00+00'),
        (3, '0001-01-01 BC', '0001-12-31 23:59:59 BC', '0001-01-01 00:00:00+00'),
        (4, '2024-02-29', '1969-12-31 23:59:59.999999', '1970-01-01 00:00:00.000001+00')";
    c.batch_execute(&format!(
        "DROP TABLE IF EXISTS v; CREATE TABLE v (id int PRIMARY KEY, d date, t timestamp, tz timestamptz);
         INSERT INTO v VALUES {values}"
    ))
    .unwrap();
    pg_exec(
        "DROP SCHEMA IF EXISTS reckon_mv CASCADE; CREATE SCHEMA reckon_mv;
         CREATE TABLE reckon_mv.v (id int PRIMARY KEY, d date, t timestamp, tz timestamptz)",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"values\"\nsource = \"{src}\"\ntarget = \"{}\"\nledger = \"reckon_mv.reckon_ledger\"\nidmap = \"reckon_mv.reckon_idmap\"\n\n[[unit]]\nname = \"v\"\ntable = \"v\"\ntarget = \"reckon_mv.v\"\nkey = [\"id\"]\n",
            pg_url()
        ),
    )
    .unwrap();
    let r = reckon(&["migrate", plan.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["verify"], serde_json::json!([0, 0, 0]), "{}", r.stdout);
    let read = "SELECT id, d::text, t::text, (tz AT TIME ZONE 'UTC')::text FROM ";
    let mut want = Vec::new();
    for row in c.query(&format!("{read} v ORDER BY id"), &[]).unwrap() {
        let cells: Vec<Option<String>> = (1..4).map(|i| row.get(i)).collect();
        want.push(cells);
    }
    let got: Vec<Vec<Option<String>>> = pg_exec(&format!("{read} reckon_mv.v ORDER BY id"))
        .unwrap()
        .into_iter()
        .map(|r| r[1..].to_vec())
        .collect();
    assert_eq!(got, want);
    assert_eq!(got[0][0].as_deref(), Some("0044-03-15 BC"));
}

/// Source and target are PostgreSQL: every column of `table` as the server shows it, by id.
fn as_text(
    c: &mut postgres::Client,
    target: bool,
    table: &str,
    cols: &[&str],
) -> Vec<Vec<Option<String>>> {
    let list: Vec<String> = cols.iter().map(|c| format!("{c}::text")).collect();
    let sql = format!("SELECT {} FROM {table} ORDER BY id", list.join(", "));
    if target {
        return pg_exec(&sql).unwrap();
    }
    c.query(&sql, &[])
        .unwrap()
        .into_iter()
        .map(|r| (0..cols.len()).map(|i| r.get(i)).collect())
        .collect()
}

#[test]
fn every_type_lands_in_postgresql_as_it_was_in_binary_copy_and_in_text() {
    let Some(src) = pg_database("reckon_mb_src") else {
        return;
    };
    let mut c = postgres::Client::connect(&src, postgres::NoTls).unwrap();
    // `b` has a binary form for every column; `t` adds jsonb and a NaN numeric, which go as text.
    let cols = "id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, n numeric, n2 numeric(10,3), \
                f8 float8, f4 real, t text, vc varchar(10), ch char(5), bo bool, by bytea, d date, \
                ts timestamp, tz timestamptz";
    let rows = r"(1, -32768, -2147483648, -9223372036854775808, '0', '-0.000', 'NaN', 'NaN', E'tab\there', 'ünï', 'ab', true, '\x00ff', '0044-03-15 BC', '0044-03-15 12:00:00.000001 BC', '1969-12-31 23:59:59.999999+00'),
        (2, 32767, 2147483647, 9223372036854775807, '-12345678901234567890.123456789', '1234567.125', '-0', '0.1', E'line\nbreak\\back', '', NULL, false, '\x', '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00+00'),
        (3, 0, 0, 0, '0.00001', '0.0005', '1e308', '3.4e38', 'NULL', 'ten chars!', 'abcde', NULL, NULL, '1999-12-31', '1999-12-31 23:59:59.999999', '2262-04-11 23:47:16.854775+00'),
        (4, NULL, NULL, NULL, '100000000', '-0.001', '5e-324', '-1e-45', NULL, NULL, 'x', true, '\xdeadbeef', '9999-12-31', '1900-02-28 12:34:56.5', '1901-12-13 20:45:52+00'),
        (5, 1, 2, 3, '0.1000', NULL, 'Infinity', '-Infinity', 'x', 'y', 'z', false, '\x01', NULL, NULL, NULL)";
    c.batch_execute(&format!(
        "DROP TABLE IF EXISTS b, t; CREATE TABLE b ({cols}); INSERT INTO b VALUES {rows};
         UPDATE b SET f8 = 1.5, f4 = 2.5 WHERE id = 1;
         CREATE TABLE t ({cols}, j jsonb); INSERT INTO t SELECT *, '{{\"a\": [1, 2.50]}}' FROM b;
         UPDATE t SET n = 'NaN' WHERE id = 2"
    ))
    .unwrap();
    pg_exec(&format!(
        "DROP SCHEMA IF EXISTS reckon_mb CASCADE; CREATE SCHEMA reckon_mb;
         CREATE TABLE reckon_mb.b ({cols}); CREATE TABLE reckon_mb.t ({cols}, j jsonb)"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        format!(
            "name = \"types\"\nsource = \"{src}\"\ntarget = \"{}\"\nledger = \"reckon_mb.reckon_ledger\"\nidmap = \"reckon_mb.reckon_idmap\"\nbatch_size = 2\n\n[[unit]]\nname = \"b\"\ntable = \"b\"\ntarget = \"reckon_mb.b\"\nkey = [\"id\"]\n\n[[unit]]\nname = \"t\"\ntable = \"t\"\ntarget = \"reckon_mb.t\"\nkey = [\"id\"]\n",
            pg_url()
        ),
    )
    .unwrap();
    let r = reckon(&["migrate", plan.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    for u in 0..2 {
        assert_eq!(v[u]["verify"], serde_json::json!([0, 0, 0]), "{}", r.stdout);
    }
    let names = [
        "id", "i2", "i4", "i8", "n", "n2", "f8", "f4", "t", "vc", "ch", "bo", "by", "d", "ts", "tz",
    ];
    assert_eq!(
        as_text(&mut c, true, "reckon_mb.b", &names),
        as_text(&mut c, false, "b", &names)
    );
    let mut with_json = names.to_vec();
    with_json.push("j");
    assert_eq!(
        as_text(&mut c, true, "reckon_mb.t", &with_json),
        as_text(&mut c, false, "t", &with_json)
    );
    // A value the target column cannot hold is the server's error in binary form too: the
    // server applies the column's length.
    pg_exec(
        "DELETE FROM reckon_mb.b; DELETE FROM reckon_mb.reckon_ledger;
         ALTER TABLE reckon_mb.b ALTER COLUMN vc TYPE varchar(3)",
    )
    .unwrap();
    let r = reckon(&["migrate", plan.to_str().unwrap()]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("too long"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

/// An instant (`timestamptz`) migrated into a zone-less date-time (MariaDB `DATETIME(6)`,
/// PostgreSQL `timestamp`) lands as its UTC digits, and verification compares it as such:
/// the unit completes instead of failing every row for the zone the column cannot hold. Both
/// verification paths: a unit copied as it is (diffed against the source) and a mapped unit
/// (its transformed rows diffed against the target).
#[test]
fn instants_into_zone_less_date_times_land_as_utc_and_verify() {
    use super::common::{mariadb_exec, mariadb_query, mysql_url, require};
    let Some(src) = pg_database("reckon_mv_tz") else {
        return;
    };
    if require("MariaDB", mariadb_exec("SELECT 1")).is_none() {
        return;
    }
    let mut c = postgres::Client::connect(&src, postgres::NoTls).unwrap();
    c.batch_execute(
        "DROP TABLE IF EXISTS i; CREATE TABLE i (id int PRIMARY KEY, ts timestamptz);
         INSERT INTO i VALUES (1, '2024-03-01 10:00:00+02'), (2, '1999-12-31 23:59:59.123456+00'),
         (3, NULL), (4, '2024-10-27 01:30:00-05')",
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (mapped, target, create) in [
        (false, mysql_url(), "mariadb"),
        (true, mysql_url(), "mariadb"),
        (false, pg_url(), "pg"),
        (true, pg_url(), "pg"),
    ] {
        let columns = if mapped {
            "\n[unit.columns]\nid = \"id\"\nts = \"ts\"\n"
        } else {
            ""
        };
        let (table, ledger) = if create == "mariadb" {
            mariadb_exec(
                "DROP TABLE IF EXISTS reckon_mv_i; DROP TABLE IF EXISTS reckon_mv_ledger; \
                 DROP TABLE IF EXISTS reckon_mv_idmap; \
                 CREATE TABLE reckon_mv_i (id int PRIMARY KEY, ts DATETIME(6))",
            )
            .unwrap();
            (
                "reckon_mv_i",
                "ledger = \"reckon_mv_ledger\"\nidmap = \"reckon_mv_idmap\"",
            )
        } else {
            pg_exec(
                "DROP SCHEMA IF EXISTS reckon_mvi CASCADE; CREATE SCHEMA reckon_mvi;
                 CREATE TABLE reckon_mvi.i (id int PRIMARY KEY, ts timestamp)",
            )
            .unwrap();
            (
                "reckon_mvi.i",
                "ledger = \"reckon_mvi.reckon_ledger\"\nidmap = \"reckon_mvi.reckon_idmap\"",
            )
        };
        let plan = dir.path().join("plan.toml");
        std::fs::write(
            &plan,
            format!(
                "name = \"tz\"\nsource = \"{src}\"\ntarget = \"{target}\"\n{ledger}\n\n\
                 [[unit]]\nname = \"i\"\ntable = \"i\"\ntarget = \"{table}\"\nkey = [\"id\"]\n{columns}"
            ),
        )
        .unwrap();
        let r = reckon(&["migrate", plan.to_str().unwrap(), "--json"]);
        assert_eq!(
            r.code, 0,
            "{create} mapped={mapped}: {}{}",
            r.stdout, r.stderr
        );
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["verify"], serde_json::json!([0, 0, 0]), "{}", r.stdout);
        let stored = if create == "mariadb" {
            mariadb_query("SELECT GROUP_CONCAT(COALESCE(CAST(ts AS CHAR), 'NULL') ORDER BY id SEPARATOR '|') FROM reckon_mv_i")
                .unwrap()
        } else {
            pg_exec(
                "SELECT string_agg(COALESCE(ts::text, 'NULL'), '|' ORDER BY id) FROM reckon_mvi.i",
            )
            .unwrap()[0][0]
                .clone()
                .unwrap()
        };
        // The UTC digits of each instant (PostgreSQL's text drops a zero fraction).
        let want = if create == "mariadb" {
            "2024-03-01 08:00:00.000000|1999-12-31 23:59:59.123456|NULL|2024-10-27 06:30:00.000000"
        } else {
            "2024-03-01 08:00:00|1999-12-31 23:59:59.123456|NULL|2024-10-27 06:30:00"
        };
        assert_eq!(stored, want, "{create} mapped={mapped}");
    }
}
