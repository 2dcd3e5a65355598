//! The seeded random tables of the pushdown tests, loaded into PostgreSQL (schema `reckon_pd`)
//! and MariaDB (database `reckon_pd`): every type pushdown handles, with planted differences of
//! every class (1 ulp, 1 µs, a trailing space, NULL against '', a flipped boolean, a byte more,
//! missing and extra rows), and near pairs a careless row text would merge.

use chrono::{DateTime, NaiveDate};

use crate::common::*;

pub(crate) const ROWS: usize = 1500;

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
