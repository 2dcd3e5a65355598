//! `reckon migrate` values at the edges of their types: dates and timestamps before Christ and
//! past year 9999 land in PostgreSQL as they were, and verify.

use super::common::{pg_url, reckon, require};
use super::migrate_servers::pg_exec;

#[test]
fn dates_before_christ_and_past_9999_migrate_to_postgresql_as_they_were() {
    // The source is another database (a plan's source and target must differ).
    let Some(have) = require(
        "PostgreSQL",
        pg_exec("SELECT 1 FROM pg_database WHERE datname = 'reckon_mv_src'"),
    ) else {
        return;
    };
    if have.is_empty() {
        pg_exec("CREATE DATABASE reckon_mv_src").unwrap();
    }
    let mut src = url::Url::parse(&pg_url()).unwrap();
    src.set_path("/reckon_mv_src");
    let mut c = postgres::Client::connect(src.as_str(), postgres::NoTls).unwrap();
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
