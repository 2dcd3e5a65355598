//! `reckon diff --pushdown` against real PostgreSQL and MariaDB: on seeded random tables of every
//! type it pushes down, with planted differences of every class (1 ulp, 1 µs, a trailing space,
//! NULL against '', a flipped boolean, a byte more, missing and extra rows), the pushed-down diff
//! reports exactly what the streamed diff reports (counts, classes, columns, rows) for PG↔PG,
//! PG↔MariaDB and MariaDB↔MariaDB, under each strategy (identical tables, a few differing
//! buckets, differences in every bucket). Pairs it cannot push down stream, and say why.

use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use crate::common::*;
use crate::diff_files::diff_json;

const ROWS: usize = 1500;

#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) id: i64,
    pub(crate) qty: Option<i32>,
    /// Thousandths (numeric(14,3)).
    pub(crate) amount: Option<i64>,
    pub(crate) price: Option<f64>,
    pub(crate) name: Option<String>,
    pub(crate) flag: Option<bool>,
    /// Days since 1970-01-01.
    pub(crate) day: Option<i32>,
    /// µs since the epoch, UTC (1971–2037: MariaDB's TIMESTAMP).
    pub(crate) at: Option<i64>,
    /// µs since 1970-01-01 00:00, local (1900–2100).
    pub(crate) lt: Option<i64>,
    /// µs since midnight.
    pub(crate) tm: Option<i64>,
    pub(crate) blob: Option<Vec<u8>>,
}

const TEXTS: [&str; 14] = [
    "",
    " ",
    "a",
    "a ",
    "NULL",
    "Z",
    "t3:abc",
    "n1;",
    "é",
    "e\u{301}",
    "日本語",
    "O'Brien",
    "back\\slash",
    "tab\there",
];

fn random_row(rng: &mut Rng, id: i64) -> Row {
    let null = |rng: &mut Rng| rng.below(12) == 0;
    let price = f64::from_bits(rng.next());
    let price = match rng.below(20) {
        // Zero of either sign (MariaDB stores -0 as 0; PostgreSQL keeps it).
        0 => 0.0,
        1 => -0.0,
        // The edges of the bit layout: subnormals, the smallest normal, the largest, powers of
        // two (where LOG2 may be off by one), a tie PostgreSQL prints unlike the others.
        2 => *rng.pick(&[
            5e-324,
            f64::from_bits(0x8000_0000_0000_0064),
            f64::from_bits(0x000f_ffff_ffff_ffff),
            2.2250738585072014e-308,
            1.7976931348623157e308,
            -0.5,
            1024.0,
            0.125,
            1e23,
            2559071047564.0312,
        ]),
        _ if price.is_finite() && (1e-300..1e300).contains(&price.abs()) => price,
        _ => 0.1,
    };
    let name = if rng.below(2) == 0 {
        rng.pick(&TEXTS).to_string()
    } else {
        (0..rng.below(12))
            .map(|_| char::from(b'a' + rng.below(26) as u8))
            .collect()
    };
    Row {
        id,
        qty: (!null(rng)).then(|| rng.below(2000) as i32 - 1000),
        amount: (!null(rng)).then(|| rng.below(2_000_000_000) as i64 - 1_000_000_000),
        price: (!null(rng)).then_some(price),
        name: (!null(rng)).then_some(name),
        flag: (!null(rng)).then(|| rng.below(2) == 0),
        day: (!null(rng)).then(|| rng.below(200_000) as i32 - 150_000),
        at: (!null(rng)).then(|| {
            (31_536_000 + rng.below(2_100_000_000) as i64) * 1_000_000 + rng.below(1_000_000) as i64
        }),
        lt: (!null(rng)).then(|| {
            rng.below(6_311_000_000) as i64 * 1_000_000 - 2_208_988_800_000_000
                + rng.below(1_000_000) as i64
        }),
        tm: (!null(rng)).then(|| rng.below(86_400_000_000) as i64),
        blob: (!null(rng)).then(|| (0..rng.below(9)).map(|_| rng.below(256) as u8).collect()),
    }
}

/// One planted difference (what the streamed diff must find, and so the pushed-down one).
fn mutate(rng: &mut Rng, r: &mut Row) {
    match rng.below(13) {
        // A zero's sign flipped (only PostgreSQL keeps it: on MariaDB both are 0).
        12 => {
            r.price = Some(match r.price {
                Some(p) if p == 0.0 => -p,
                _ => -0.0,
            })
        }
        0 => r.qty = Some(r.qty.unwrap_or(0) + 1),
        1 => r.amount = Some(r.amount.unwrap_or(0) + 1),
        2 => r.price = Some(f64::from_bits(r.price.unwrap_or(0.5).to_bits() + 1)),
        3 => r.name = Some(format!("{} ", r.name.clone().unwrap_or_default())),
        4 => {
            r.name = match &r.name {
                Some(s) if s.is_empty() => None,
                _ => Some(String::new()),
            }
        }
        5 => r.flag = Some(!r.flag.unwrap_or(false)),
        6 => r.day = Some(r.day.unwrap_or(0) + 1),
        7 => r.at = Some(r.at.unwrap_or(100_000_000_000_000) + 1),
        8 => r.lt = Some(r.lt.unwrap_or(0) + 1),
        9 => r.tm = Some((r.tm.unwrap_or(0) + 1) % 86_400_000_000),
        10 => r.blob.get_or_insert_with(Vec::new).push(0),
        _ => r.name = r.name.as_ref().map(|s| s.to_uppercase() + "X"),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Db {
    Pg,
    My,
}

fn text_lit(db: Db, s: &str) -> String {
    match db {
        Db::Pg => format!("'{}'", s.replace('\'', "''")),
        Db::My => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")),
    }
}

pub(crate) fn micros(us: i64) -> String {
    DateTime::from_timestamp_micros(us)
        .unwrap()
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

fn values(db: Db, r: &Row) -> String {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "NULL".into());
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let fields = [
        r.id.to_string(),
        opt(r.qty.map(|v| v.to_string())),
        opt(r.amount.map(|v| {
            let sign = if v < 0 { "-" } else { "" };
            format!(
                "{sign}{}.{:03}",
                v.unsigned_abs() / 1000,
                v.unsigned_abs() % 1000
            )
        })),
        opt(r.price.map(|v| match db {
            // Quoted: float8's own input keeps -0 (an unquoted -0e0 is a numeric zero).
            Db::Pg => format!("'{v:e}'"),
            Db::My => format!("{v:e}"),
        })),
        opt(r.name.as_deref().map(|s| text_lit(db, s))),
        opt(r.flag.map(|b| match db {
            Db::Pg => b.to_string(),
            Db::My => u8::from(b).to_string(),
        })),
        opt(r.day.map(|d| {
            let d = epoch + chrono::Duration::days(d.into());
            format!("'{}'", d.format("%Y-%m-%d"))
        })),
        opt(r.at.map(|us| match db {
            Db::Pg => format!("'{}+00'", micros(us)),
            Db::My => format!("'{}'", micros(us)),
        })),
        opt(r.lt.map(|us| format!("'{}'", micros(us)))),
        opt(r.tm.map(|us| {
            let s = us / 1_000_000;
            format!(
                "'{:02}:{:02}:{:02}.{:06}'",
                s / 3600,
                s / 60 % 60,
                s % 60,
                us % 1_000_000
            )
        })),
        opt(r.blob.as_ref().map(|b| {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            match db {
                Db::Pg => format!("'\\x{hex}'::bytea"),
                Db::My => format!("X'{hex}'"),
            }
        })),
    ];
    format!("({})", fields.join(", "))
}

fn create(db: Db, table: &str, rows: &[Row]) -> String {
    let cols = match db {
        // A linguistic collation ('a' < 'B'): text order in SQL must still be byte order.
        Db::Pg => "id bigint PRIMARY KEY, qty int, amount numeric(14,3), price float8, name varchar(40) COLLATE \"und-x-icu\", flag bool, day date, at timestamptz, lt timestamp, tm time, bin bytea",
        Db::My => "id bigint PRIMARY KEY, qty int, amount decimal(14,3), price double, name varchar(40), flag tinyint(1), day date, at timestamp(6) NULL, lt datetime(6), tm time(6), bin varbinary(40)",
    };
    let mut sql = format!("DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({cols});\n");
    for chunk in rows.chunks(500) {
        let v: Vec<String> = chunk.iter().map(|r| values(db, r)).collect();
        sql.push_str(&format!("INSERT INTO {table} VALUES {};\n", v.join(", ")));
    }
    sql
}

/// The source table, and targets: identical, one row changed, and many changes of every kind
/// (with rows missing and extra).
pub(crate) fn tables() -> Vec<(&'static str, Vec<Row>)> {
    let mut rng = Rng(0x5eed_0f9d);
    let src: Vec<Row> = (0..ROWS as i64)
        .map(|i| random_row(&mut rng, i * 3 - 700))
        .collect();
    // One change every engine stores: a quantity.
    let mut one = src.clone();
    one[ROWS / 2].qty = Some(one[ROWS / 2].qty.unwrap_or(0) + 1);
    let mut many = Vec::new();
    for r in &src {
        match rng.below(10) {
            0 => continue,
            1 | 2 => {
                let mut m = r.clone();
                mutate(&mut rng, &mut m);
                many.push(m);
            }
            _ => many.push(r.clone()),
        }
    }
    for i in 0..40 {
        many.push(random_row(&mut rng, 100_000 + i));
    }
    vec![
        ("src", src.clone()),
        ("same", src),
        ("one", one),
        ("many", many),
    ]
}

static LOADED: std::sync::Mutex<Option<bool>> = std::sync::Mutex::new(None);

/// Loads the tables into PostgreSQL (schema reckon_pd) and MariaDB (database reckon_pd) once.
pub(crate) fn load() -> Option<(String, String)> {
    let mut done = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if done.is_none() {
        let ts = tables();
        let mut pg =
            "DROP SCHEMA IF EXISTS reckon_pd CASCADE; CREATE SCHEMA reckon_pd;\n".to_string();
        let mut my =
            "SET time_zone = '+00:00'; CREATE DATABASE IF NOT EXISTS reckon_pd; USE reckon_pd;\n"
                .to_string();
        for (name, rows) in &ts {
            pg.push_str(&create(Db::Pg, &format!("reckon_pd.{name}"), rows));
            my.push_str(&create(Db::My, name, rows));
        }
        pg.push_str(&near_pairs(Db::Pg, "reckon_pd."));
        my.push_str(&near_pairs(Db::My, ""));
        // A target whose `name` is a date: compared by parsing, so never pushed down.
        my.push_str(
            "DROP TABLE IF EXISTS wide; CREATE TABLE wide (id bigint PRIMARY KEY, qty int, amount decimal(14,3), price double, name date, flag tinyint(1), day date, at timestamp(6) NULL, lt datetime(6), tm time(6)); INSERT INTO wide (id) SELECT id FROM src;\n",
        );
        let ok = require("PostgreSQL", postgres_exec(&pg)).is_some()
            && require("MariaDB", mariadb_exec(&my)).is_some();
        if ok {
            // A statement that failed past the first would not be reported: count the rows.
            assert_eq!(
                mariadb_query("SELECT COUNT(*) FROM reckon_pd.src").as_deref(),
                Some(ROWS.to_string().as_str()),
                "the MariaDB tables were not loaded"
            );
        }
        *done = Some(ok);
    }
    if *done != Some(true) {
        return None;
    }
    let mut my = url::Url::parse(&mysql_url()).unwrap();
    my.set_path("/reckon_pd");
    Some((pg_url(), my.to_string()))
}

/// Rows that a careless row text would merge: a value moved across a column boundary, NULL
/// against '' and against the texts 'Z' and 'NULL', a separator inside a text, zero against
/// minus zero. Each `near_a` row differs from the `near_b` row of its id in one such way. The
/// key is int on one side and bigint on the other, so PostgreSQL hashes canonical text.
fn near_pairs(db: Db, schema: &str) -> String {
    let rows: [(i64, Option<&str>, Option<&str>, f64); 10] = [
        (1, Some("ab"), Some("c"), 1.0),
        (2, None, Some("x"), 1.0),
        (3, Some("Z"), None, 1.0),
        (4, Some("NULL"), Some(""), 1.0),
        (5, Some("t1:a"), Some(""), 1.0),
        (6, Some("a;"), Some("n1;"), 1.0),
        (7, Some("same"), Some("same"), 0.0),
        (8, Some(""), Some("x"), 2.0),
        (9, Some("at"), Some("b"), 1.0),
        (10, Some("d"), Some("d"), 1.0),
    ];
    let other: [(i64, Option<&str>, Option<&str>, f64); 10] = [
        (1, Some("a"), Some("bc"), 1.0),
        (2, Some(""), Some("x"), 1.0),
        (3, None, None, 1.0),
        (4, None, Some(""), 1.0),
        (5, Some("t1:"), Some("a"), 1.0),
        (6, Some("a;n1;"), Some(""), 1.0),
        (7, Some("same"), Some("same"), -0.0),
        (8, Some(""), Some("x"), 2.0),
        // Without lengths, "t" + "at" + "t" + "b" would read as "t" + "a" + "t" + "tb".
        (9, Some("a"), Some("tb"), 1.0),
        (10, Some("d"), Some("d"), 1.0),
    ];
    let lit = |v: Option<&str>| v.map_or("NULL".to_string(), |s| text_lit(db, s));
    // `d` is an integral decimal, 100 but in row 10 of near_b (1): its zeros must not be lost.
    let vals = |rows: &[(i64, Option<&str>, Option<&str>, f64)], d10: i64| {
        rows.iter()
            .map(|(id, a, b, f)| {
                let f = match db {
                    Db::Pg => format!("'{f:e}'"),
                    Db::My => format!("{f:e}"),
                };
                let d = if *id == 10 { d10 } else { 100 };
                format!("({id}, {}, {}, {f}, {d})", lit(*a), lit(*b))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    // t1 under a linguistic collation ('Z' after 't1:a'), where its maximum in byte order is
    // another value.
    let (int, big, float, dec, coll) = match db {
        Db::Pg => (
            "int",
            "bigint",
            "float8",
            "numeric(10,0)",
            " COLLATE \"und-x-icu\"",
        ),
        Db::My => (
            "int",
            "bigint",
            "double",
            "decimal(10,0)",
            " COLLATE utf8mb4_unicode_ci",
        ),
    };
    format!(
        "DROP TABLE IF EXISTS {schema}near_a; DROP TABLE IF EXISTS {schema}near_b;
         CREATE TABLE {schema}near_a (id {int} PRIMARY KEY, t1 varchar(10){coll}, t2 varchar(10), f {float}, d {dec});
         CREATE TABLE {schema}near_b (id {big} PRIMARY KEY, t1 varchar(10){coll}, t2 varchar(10), f {float}, d {dec});
         INSERT INTO {schema}near_a VALUES {};
         INSERT INTO {schema}near_b VALUES {};\n",
        vals(&rows, 100),
        vals(&other, 1)
    )
}

/// A table's report without its `pushdown` section, and without the sums, minima and maxima
/// pushdown does not compute: of floats, timestamps, times and bytes (`price`, `at`, `lt`, `tm`,
/// `bin`, `f`), and of dates on MariaDB (`day`, left out when a side is MariaDB). Every other
/// aggregate must be the streamed one.
pub(crate) fn comparable(t: &Value, mariadb: bool) -> Value {
    let mut t = t.clone();
    t.as_object_mut().unwrap().remove("pushdown");
    let mut uncomputed = vec!["price", "at", "lt", "tm", "bin", "f"];
    if mariadb {
        uncomputed.push("day");
    }
    for c in t["columns"].as_array_mut().unwrap() {
        let name = c["source"].as_str().unwrap().to_string();
        if !uncomputed.contains(&name.as_str()) {
            continue;
        }
        for side in ["source_aggregate", "target_aggregate"] {
            let a = c[side].as_object_mut().unwrap();
            a.retain(|k, _| k == "count" || k == "nulls");
        }
    }
    t
}

/// Under the `rows` strategy, the rows read in full are exactly the differing ones: equal values
/// gave equal hashes on both engines (a hash that merely differed would not be wrong, only slow,
/// and agreement alone would not see it).
pub(crate) fn reads_only_differences(source: &str, target: &str, table: &str, extra: &[&str]) {
    let mut args = vec![source, target, "--table", table, "--pushdown"];
    args.extend_from_slice(extra);
    let (_, r) = diff_json(&args);
    let t = &r["tables"][0];
    let (c, p) = (&t["counts"], &t["pushdown"]);
    assert_eq!(p["strategy"], "rows", "{p:#}");
    let n = |v: &Value| v.as_u64().unwrap();
    let paired = n(&c["mismatched"]) + n(&c["matched_by_rule"]);
    assert_eq!(
        n(&p["rows_fetched"][0]),
        paired + n(&c["missing"]),
        "{table}: {p:#} {c:#}"
    );
    assert_eq!(
        n(&p["rows_fetched"][1]),
        paired + n(&c["extra"]),
        "{table}: {p:#} {c:#}"
    );
}

/// Diffs a pair streamed and pushed down; both must say the same. Returns the pushdown section.
pub(crate) fn agree(source: &str, target: &str, table: &str, extra: &[&str]) -> Value {
    agree_with(source, target, table, extra, &[])
}

/// As [`agree`], with options for the pushed-down run only.
pub(crate) fn agree_with(
    source: &str,
    target: &str,
    table: &str,
    extra: &[&str],
    pushed: &[&str],
) -> Value {
    let mut args = vec![source, target, "--table", table, "--samples", "100000"];
    args.extend_from_slice(extra);
    let (code_s, streamed) = diff_json(&args);
    args.extend(["--pushdown", "--aggregates"]);
    args.extend_from_slice(pushed);
    let (code_p, pushed) = diff_json(&args);
    let (s, p) = (&streamed["tables"][0], &pushed["tables"][0]);
    let mariadb = source.starts_with("mysql") || target.starts_with("mysql");
    assert!(s["error"].is_null(), "{s:#}");
    assert_eq!(code_s, code_p, "{table}: exit codes differ");
    assert_eq!(
        comparable(s, mariadb),
        comparable(p, mariadb),
        "{table}: pushdown and streaming disagree ({source} → {target})"
    );
    assert!(
        s.get("pushdown").is_none(),
        "only --pushdown reports a split"
    );
    p["pushdown"].clone()
}

pub(crate) fn strategies(source: &str, target: &str, schema: &str, extra: &[&str]) {
    let q = |t: &str| format!("{schema}src:{t}");
    let p = agree(source, target, &q("same"), extra);
    assert_eq!(p["strategy"], "summaries", "{p:#}");
    let native = source == target && source.starts_with("postgres");
    assert_eq!(
        p["hashing"],
        if native {
            "postgres native"
        } else {
            "canonical text"
        },
        "{p:#}"
    );
    assert_eq!(p["differing_buckets"], 0);
    assert_eq!(p["rows_fetched"], serde_json::json!([0, 0]));
    // Only the summaries crossed (with --aggregates, a few hundred bytes a bucket), not the
    // rows (some 180 bytes each).
    let n = |v: &Value| v.as_u64().unwrap();
    for side in 0..2 {
        let bytes = n(&p["bytes_fetched"][side]);
        assert!(bytes > 0 && bytes < 10 * ROWS as u64, "{p:#}");
    }
    let p = agree(source, target, &q("one"), extra);
    assert_eq!(p["strategy"], "buckets", "{p:#}");
    assert_eq!(p["differing_buckets"], 1, "{p:#}");
    let fetched = p["rows_fetched"][0].as_u64().unwrap();
    assert!(fetched > 0 && fetched < ROWS as u64 / 4, "{p:#}");
    let p = agree(source, target, &q("many"), extra);
    assert_eq!(p["strategy"], "rows", "{p:#}");
    assert_eq!(p["hashes_fetched"][0], ROWS as u64, "{p:#}");
    // Each hash tuple is three 64-bit integers, and the rows read in full come on top.
    for side in 0..2 {
        let bytes = n(&p["bytes_fetched"][side]);
        let floor = 24 * n(&p["hashes_fetched"][side]) + 8 * n(&p["rows_fetched"][side]);
        assert!(bytes > floor, "{p:#}");
    }
    // Full rows only for the keys that differ: about a third of the table, not all of it.
    let fetched = p["rows_fetched"][0].as_u64().unwrap();
    assert!(fetched > 0 && fetched < ROWS as u64 / 2, "{p:#}");
    reads_only_differences(source, target, &q("many"), extra);
}

#[test]
fn pushdown_agrees_with_streaming_postgres_to_postgres() {
    let Some((pg, _)) = load() else { return };
    strategies(&pg, &pg, "reckon_pd.", &[]);
    // The planted classes are really there (so agreement is not agreement on nothing).
    let (code, r) = diff_json(&[
        &pg,
        &pg,
        "--table",
        "reckon_pd.src:reckon_pd.many",
        "--pushdown",
    ]);
    assert_eq!(code, 1);
    let t = &r["tables"][0];
    assert!(t["counts"]["mismatched"].as_u64().unwrap() > 200, "{t:#}");
    assert!(t["counts"]["missing"].as_u64().unwrap() > 100);
    assert_eq!(t["counts"]["extra"], 40);
    for class in ["whitespace", "null-vs-empty", "rounding"] {
        assert!(
            t["classes"].get(class).is_some(),
            "{class}: {:#}",
            t["classes"]
        );
    }
}

#[test]
fn values_a_careless_row_text_would_merge_differ_pushed_down() {
    let Some((pg, my)) = load() else { return };
    // Row 8 is the same on both sides. PostgreSQL keeps -0 (row 7 differs there); MariaDB stores
    // it as 0 (row 7 matches there,
    // and PostgreSQL's 0 matches MariaDB's).
    for (s, t, table, differing) in [
        (&pg, &pg, "reckon_pd.near_a:reckon_pd.near_b", 9),
        (&my, &my, "near_a:near_b", 8),
        (&pg, &my, "reckon_pd.near_a:near_b", 8),
    ] {
        let p = agree(s, t, table, &[]);
        // One bucket: the database's own minimum and maximum decide (with one row a bucket,
        // reckon would order the buckets' values itself).
        agree_with(s, t, table, &[], &["--buckets", "1"]);
        assert_eq!(p["hashing"], "canonical text", "{table}: {p:#}");
        assert_ne!(p["strategy"], "streamed", "{p:#}");
        let (_, r) = diff_json(&[s, t, "--table", table, "--pushdown"]);
        let c = &r["tables"][0]["counts"];
        assert_eq!(c["mismatched"], differing, "{table}: {c:#}");
        assert_eq!(c["matched"], 10 - differing, "{table}: {c:#}");
    }
}

#[test]
fn a_probe_that_finds_differences_everywhere_skips_the_summaries() {
    let Some((pg, my)) = load() else { return };
    // 256 buckets: a probe of 8, each of about 6 rows.
    for (s, t, table) in [
        (&pg, &pg, "reckon_pd.src:reckon_pd.many"),
        (&pg, &my, "reckon_pd.src:many"),
        (&my, &my, "src:many"),
    ] {
        let p = agree_with(s, t, table, &[], &["--buckets", "256"]);
        assert_eq!(p["buckets"], 256, "{p:#}");
        assert_eq!(p["probed_buckets"], 8, "{p:#}");
        assert!(p["probe_differing"].as_u64().unwrap() > 4, "{p:#}");
        assert_eq!(p["strategy"], "rows", "{p:#}");
        // No full summary was taken: every row's hashes were read instead.
        assert_eq!(p["differing_buckets"], 0, "{p:#}");
        assert_eq!(p["hashes_fetched"][0], ROWS as u64, "{p:#}");
        // Each hash tuple is three 64-bit integers, and the rows read in full come on top.
        let n = |v: &Value| v.as_u64().unwrap();
        for side in 0..2 {
            let bytes = n(&p["bytes_fetched"][side]);
            let floor = 24 * n(&p["hashes_fetched"][side]) + 8 * n(&p["rows_fetched"][side]);
            assert!(bytes > floor, "{p:#}");
        }
    }
    // One change: the probe sees none (or one), the summaries find its bucket.
    let p = agree_with(
        &pg,
        &pg,
        "reckon_pd.src:reckon_pd.one",
        &[],
        &["--buckets", "256"],
    );
    assert_eq!(p["strategy"], "buckets", "{p:#}");
    assert_eq!(p["differing_buckets"], 1, "{p:#}");
    assert!(p["rows_fetched"][0].as_u64().unwrap() < 30, "{p:#}");
}

#[test]
fn a_key_that_is_not_declared_counts_its_duplicates_in_sql() {
    let Some((pg, my)) = load() else { return };
    // qty repeats (and is sometimes NULL): duplicated keys on both sides, counted in SQL as the
    // streamed diff counts them.
    for (s, t, table) in [
        (&pg, &pg, "reckon_pd.src:reckon_pd.one"),
        (&pg, &my, "reckon_pd.src:one"),
    ] {
        agree(s, t, table, &["--key", "qty"]);
        let (_, r) = diff_json(&[s, t, "--table", table, "--key", "qty", "--pushdown"]);
        let c = &r["tables"][0]["counts"];
        assert!(c["duplicate_keys_source"].as_u64().unwrap() > 100, "{c:#}");
        assert!(c["duplicate_keys_target"].as_u64().unwrap() > 100, "{c:#}");
    }
}

#[test]
fn reports_say_how_the_work_was_split() {
    let Some((pg, _)) = load() else { return };
    let dir = tempdir();
    let out = dir.path().join("r");
    let r = reckon(&[
        "diff",
        &pg,
        &pg,
        "--table",
        "reckon_pd.src:reckon_pd.one",
        "--pushdown",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("pushdown: buckets (postgres native); 16 buckets, 1 differed"),
        "{}",
        r.stdout
    );
    let html = std::fs::read_to_string(out.join("diff.html")).unwrap();
    assert!(
        html.contains("pushdown: buckets (postgres native); 16 buckets, 1 differed"),
        "the page says how the work was split"
    );
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("diff.json")).unwrap()).unwrap();
    let p = &json["tables"][0]["pushdown"];
    assert_eq!(p["strategy"], "buckets");
    // The bytes received, in every report.
    let bytes = [0, 1].map(|side| p["bytes_fetched"][side].as_u64().unwrap());
    assert!(bytes[0] > 0 && bytes[1] > 0, "{p:#}");
    assert!(
        html.contains(&format!("bytes received {} / {}", bytes[0], bytes[1])),
        "the page gives the bytes received"
    );
    assert!(r.stdout.contains(" received; "), "{}", r.stdout);
    // Without --aggregates: counts and NULLs, no sums, minima or maxima.
    let qty = &json["tables"][0]["columns"][1];
    assert_eq!(qty["source"], "qty");
    assert!(qty["source_aggregate"]["count"].as_u64().unwrap() > 1000);
    assert!(qty["source_aggregate"]["sum"].is_null(), "{qty:#}");
    assert!(qty["source_aggregate"]["max"].is_null(), "{qty:#}");
    let run: Value = serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert!(
        run.to_string().contains("source database"),
        "run.json times each database: {run:#}"
    );
}

#[test]
fn pushdown_agrees_with_streaming_mariadb_to_mariadb() {
    let Some((_, my)) = load() else { return };
    strategies(&my, &my, "", &[]);
}

#[test]
fn pushdown_agrees_with_streaming_postgres_to_mariadb() {
    let Some((pg, my)) = load() else { return };
    // PostgreSQL's -0 is MariaDB's 0: the tables differ where the source holds a -0, in both
    // paths alike.
    let q = |t: &str| format!("reckon_pd.src:{t}");
    for t in ["same", "one", "many"] {
        let p = agree(&pg, &my, &q(t), &[]);
        assert_eq!(p["hashing"], "canonical text", "{p:#}");
        assert_ne!(p["strategy"], "streamed", "{p:#}");
    }
    // Both engines spell equal values alike: floats by their bits (extremes included), numbers,
    // instants, local date-times, times, dates, bytes, booleans.
    reads_only_differences(&pg, &my, &q("many"), &[]);
    // A PostgreSQL text facing a MariaDB date is compared by parsing: that column streams.
    let p = agree(&pg, &my, "reckon_pd.src:wide", &["--exclude", "bin"]);
    assert_eq!(p["strategy"], "streamed", "{p:#}");
    let cols = p["fallback_columns"].as_array().unwrap();
    assert_eq!(cols.len(), 1, "{p:#}");
    assert_eq!(cols[0]["column"], "name", "{p:#}");
}

#[test]
fn pushdown_streams_a_file_side_and_says_so() {
    let (db, file) = (
        "sqlite://fixtures/diff/legacy.db",
        "fixtures/diff/migrated.parquet",
    );
    let p = agree(db, file, "customers:migrated", &["--key", "id"]);
    assert_eq!(p["strategy"], "streamed");
    let reason = p["reason"].as_str().unwrap();
    assert!(reason.contains("the target is not a database"), "{p:#}");
}

#[test]
fn pushdown_reaches_a_server_over_tls_as_streaming_does() {
    let Some((pg, _)) = load() else { return };
    // sslmode=require: the pushdown connections must speak TLS, as the bulk reads do (the local
    // server has TLS on; a connection without it would be refused by sslmode=require).
    let mut u = url::Url::parse(&pg).unwrap();
    u.query_pairs_mut().append_pair("sslmode", "require");
    let tls = u.to_string();
    // A server without TLS cannot be asked for it: skipped, unless services are required.
    let r = reckon(&[
        "diff",
        &tls,
        &tls,
        "--table",
        "reckon_pd.src:reckon_pd.one",
        "--json",
    ]);
    let reached = if r.code == 1 {
        Ok(())
    } else {
        Err(format!(
            "streaming over TLS failed: {}{}",
            r.stdout, r.stderr
        ))
    };
    if require("PostgreSQL with TLS on", reached).is_none() {
        return;
    }
    let p = agree(&tls, &tls, "reckon_pd.src:reckon_pd.one", &[]);
    assert_eq!(p["strategy"], "buckets", "{p:#}");
    assert_eq!(p["hashing"], "postgres native", "{p:#}");
}
