//! The value layer as a property across engine pairs (CASES.md "Value layer"): random typed
//! values with their edge cases (2^53 ± 1, i64 limits, 38-digit decimals, floats one ulp apart,
//! NaN, -0.0, pre-1970 timestamps with fractions, leap days, NUL bytes, trailing spaces, NFD,
//! emoji, quotes and newlines) are written through each engine, each side in its own native
//! types. Equal data must be `match` (exit 0); one mutated value must be exactly that cell.
//! Seeded, so a failure repeats; the seed and the pair are in every message.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use serde_json::Value;

use crate::common::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Engine {
    Pg,
    My,
    Lite,
    Csv,
    Pq,
}

/// What an engine can hold; values outside it are not generated for a pair that includes it.
#[derive(Clone, Copy)]
struct Caps {
    nul: bool,
    nan: bool,
    neg_zero: bool,
    bytes: bool,
}

fn caps(e: Engine) -> Caps {
    match e {
        // PostgreSQL text holds no NUL; MariaDB has no NaN; SQLite stores NaN as NULL and
        // -0.0 as the integer 0; CSV has no bytes type.
        Engine::Pg => Caps {
            nul: false,
            nan: true,
            neg_zero: true,
            bytes: true,
        },
        Engine::My => Caps {
            nul: true,
            nan: false,
            neg_zero: false,
            bytes: true,
        },
        Engine::Lite => Caps {
            nul: true,
            nan: false,
            neg_zero: false,
            bytes: true,
        },
        Engine::Csv => Caps {
            nul: false,
            nan: true,
            neg_zero: true,
            bytes: false,
        },
        Engine::Pq => Caps {
            nul: true,
            nan: true,
            neg_zero: true,
            bytes: true,
        },
    }
}

fn both(a: Caps, b: Caps) -> Caps {
    Caps {
        nul: a.nul && b.nul,
        nan: a.nan && b.nan,
        neg_zero: a.neg_zero && b.neg_zero,
        bytes: a.bytes && b.bytes,
    }
}

/// One row: key and one value per column (None = NULL). Decimals are (unscaled, scale 10).
#[derive(Clone, Debug)]
struct Row {
    k: i64,
    i: Option<i64>,
    d: Option<i128>,
    f: Option<f64>,
    s: Option<String>,
    dt: Option<i32>,
    ts: Option<i64>,
    b: Option<bool>,
    y: Option<Vec<u8>>,
}

const COLS: [&str; 8] = ["i", "d", "f", "s", "dt", "ts", "b", "y"];
const SCALE: u32 = 10;

fn random_rows(rng: &mut Rng, n: usize, c: Caps) -> Vec<Row> {
    let ints = [
        0,
        1,
        -1,
        (1 << 53) - 1,
        1 << 53,
        (1 << 53) + 1,
        i64::MAX,
        i64::MIN,
        1_000_000_007,
    ];
    let texts = [
        "",
        " ",
        "a",
        "abc ",
        " abc",
        "NULL",
        "\\N",
        "é",
        "e\u{301}",
        "😀 ok",
        "line\nbreak",
        "quote \" and , comma",
        "tab\there",
        "x\u{a0}y",
        "日本語",
        "0.10",
        "007",
    ];
    let mut rows = Vec::with_capacity(n);
    for k in 0..n as i64 {
        let null = |rng: &mut Rng| rng.below(8) == 0;
        let i = (!null(rng)).then(|| {
            if rng.below(2) == 0 {
                *rng.pick(&ints)
            } else {
                rng.next() as i64 >> rng.below(60)
            }
        });
        let d = (!null(rng)).then(|| {
            // Up to 38 digits, scale 10.
            let digits = 1 + rng.below(38) as u32;
            let v = ((i128::from(rng.next()) << 63) ^ i128::from(rng.next()))
                .rem_euclid(10i128.pow(digits));
            if rng.below(2) == 0 {
                -v
            } else {
                v
            }
        });
        let f = (!null(rng)).then(|| match rng.below(8) {
            0 => *rng.pick(&[0.1, 0.3, 1e-7, 1e300, 5e-324, 9007199254740993.0, 0.5]),
            1 if c.nan => f64::NAN,
            2 if c.neg_zero => -0.0,
            3 => (rng.below(1_000_000) as f64) / 1000.0,
            _ => {
                let x = f64::from_bits(rng.next());
                if x.is_finite() {
                    x
                } else {
                    1.5
                }
            }
        });
        let s = (!null(rng)).then(|| {
            let mut t = rng.pick(&texts).to_string();
            if rng.below(3) == 0 {
                let more: &&str = rng.pick(&texts[..]);
                t.push_str(more);
            }
            if c.nul && rng.below(10) == 0 {
                t.push('\0');
            }
            t
        });
        // 1000-01-01 .. 9999-12-31 (MariaDB's range), leap days included.
        let dt = (!null(rng)).then(|| {
            if rng.below(5) == 0 {
                *rng.pick(&[-25_567, 11_016, 19_782, -1, 0, 2_932_896])
            } else {
                rng.below(2_932_896 + 354_285) as i32 - 354_285
            }
        });
        let ts = (!null(rng)).then(|| {
            let secs = rng.below(253_402_300_799 + 30_610_224_000) as i64 - 30_610_224_000;
            secs * 1_000_000 + rng.below(1_000_000) as i64
        });
        let b = (!null(rng)).then(|| rng.below(2) == 0);
        let y = (c.bytes && !null(rng)).then(|| {
            let len = rng.below(6) as usize;
            (0..len).map(|_| rng.below(256) as u8).collect()
        });
        rows.push(Row {
            k,
            i,
            d,
            f,
            s,
            dt,
            ts,
            b,
            y,
        });
    }
    rows
}

/// Changes one cell of one row to a different value of the same type; returns the column.
fn mutate(rng: &mut Rng, row: &mut Row, c: Caps) -> &'static str {
    loop {
        let col = *rng.pick(&COLS);
        match col {
            "i" => {
                row.i = Some(row.i.map_or(7, |v| v.wrapping_add(1)));
            }
            "d" => {
                // The last of 38 digits moves by one.
                row.d = Some(
                    row.d
                        .map_or(1, |v| if v >= 10i128.pow(37) { v - 1 } else { v + 1 }),
                );
            }
            "f" => {
                // One ulp: the smallest change a float can have.
                row.f = Some(match row.f {
                    Some(v) if v.is_finite() && v != 0.0 => f64::from_bits(v.to_bits() + 1),
                    Some(v) if v.is_nan() => 1.0,
                    _ => 5e-324,
                });
            }
            "s" => {
                row.s = Some(match &row.s {
                    Some(t) if t.ends_with(' ') => t.trim_end().to_string(),
                    Some(t) => format!("{t} "),
                    None => String::new(),
                });
            }
            "dt" => row.dt = Some(row.dt.map_or(0, |v| if v > 0 { v - 1 } else { v + 1 })),
            "ts" => row.ts = Some(row.ts.map_or(0, |v| v + 1)),
            "b" => row.b = Some(!row.b.unwrap_or(true)),
            "y" if c.bytes => {
                row.y = Some(match &row.y {
                    Some(v) if !v.is_empty() => {
                        let mut v = v.clone();
                        v[0] ^= 1;
                        v
                    }
                    _ => vec![0x80],
                });
            }
            _ => continue,
        }
        return col;
    }
}

fn decimal_text(v: i128) -> String {
    let neg = v < 0;
    let digits = format!("{:0>11}", v.unsigned_abs());
    let (int, frac) = digits.split_at(digits.len() - SCALE as usize);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

fn date_text(days: i32) -> String {
    (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(days.into()))
        .format("%Y-%m-%d")
        .to_string()
}

fn ts_text(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap()
        .naive_utc()
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string()
}

/// A float as the shortest text that reads back as it (`1e-7`, `0.1`, `NaN`, `-0.0`).
fn float_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v:?}")
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sql_values(rows: &[Row], e: Engine, bytes: bool) -> String {
    let pg = e == Engine::Pg;
    let lit = |v: Option<String>| v.unwrap_or_else(|| "NULL".into());
    rows.iter()
        .map(|r| {
            let mut cells = vec![
                r.k.to_string(),
                lit(r.i.map(|v| v.to_string())),
                lit(r.d.map(|v| format!("'{}'", decimal_text(v)))),
                lit(r.f.map(|v| {
                    if pg {
                        format!("'{}'::float8", float_text(v))
                    } else {
                        format!("{:e}", v)
                    }
                })),
                lit(r.s.as_ref().map(|s| {
                    if pg {
                        format!("convert_from('\\x{}'::bytea, 'UTF8')", hex(s.as_bytes()))
                    } else {
                        format!("X'{}'", hex(s.as_bytes()))
                    }
                })),
                lit(r.dt.map(|v| format!("'{}'", date_text(v)))),
                lit(r.ts.map(|v| format!("'{}'", ts_text(v)))),
                lit(r.b.map(|v| {
                    if pg {
                        v.to_string()
                    } else {
                        u8::from(v).to_string()
                    }
                })),
            ];
            if bytes {
                cells.push(lit(r.y.as_ref().map(|y| {
                    if pg {
                        format!("'\\x{}'::bytea", hex(y))
                    } else {
                        format!("X'{}'", hex(y))
                    }
                })));
            }
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(",\n")
}

/// Writes the rows through one engine; returns (source argument, table name) or None when the
/// server is unreachable (skipped).
fn write(e: Engine, rows: &[Row], name: &str, dir: &Path, bytes: bool) -> Option<(String, String)> {
    let y_col = |decl: &str| {
        if bytes {
            format!(", y {decl}")
        } else {
            String::new()
        }
    };
    match e {
        Engine::Pg => {
            let sql = format!(
                "DROP TABLE IF EXISTS {name};
                 CREATE TABLE {name} (k bigint PRIMARY KEY, i bigint, d numeric(38,10), f float8,
                   s text, dt date, ts timestamp(6), b boolean{});
                 INSERT INTO {name} VALUES {};",
                y_col("bytea"),
                sql_values(rows, e, bytes)
            );
            require("PostgreSQL", postgres_exec(&sql))?;
            Some((pg_url(), name.to_string()))
        }
        Engine::My => {
            let sql = format!(
                "CREATE DATABASE IF NOT EXISTS reckon_prop; USE reckon_prop;
                 DROP TABLE IF EXISTS {name};
                 CREATE TABLE {name} (k BIGINT PRIMARY KEY, i BIGINT, d DECIMAL(38,10), f DOUBLE,
                   s VARCHAR(400) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, dt DATE,
                   ts DATETIME(6), b TINYINT(1){});
                 INSERT INTO {name} VALUES {};",
                y_col("VARBINARY(64)"),
                sql_values(rows, e, bytes)
            );
            require("MariaDB", mariadb_exec(&sql))?;
            let mut u = url::Url::parse(&mysql_url()).unwrap();
            u.set_path("/reckon_prop");
            Some((u.to_string(), name.to_string()))
        }
        Engine::Lite => {
            let p = dir.join(format!("{name}.db"));
            let _ = std::fs::remove_file(&p);
            let c = rusqlite::Connection::open(&p).unwrap();
            c.execute_batch(&format!(
                "CREATE TABLE {name} (k INTEGER PRIMARY KEY, i INTEGER, d TEXT, f REAL, s TEXT,
                   dt DATE, ts DATETIME, b BOOLEAN{});",
                y_col("BLOB")
            ))
            .unwrap();
            let marks = if bytes { ", ?9" } else { "" };
            let mut st = c
                .prepare(&format!(
                    "INSERT INTO {name} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8{marks})"
                ))
                .unwrap();
            for r in rows {
                let mut p: Vec<Box<dyn rusqlite::ToSql>> = vec![
                    Box::new(r.k),
                    Box::new(r.i),
                    Box::new(r.d.map(decimal_text)),
                    Box::new(r.f),
                    Box::new(r.s.clone()),
                    Box::new(r.dt.map(date_text)),
                    Box::new(r.ts.map(ts_text)),
                    Box::new(r.b),
                ];
                if bytes {
                    p.push(Box::new(r.y.clone()));
                }
                st.execute(rusqlite::params_from_iter(p.iter())).unwrap();
            }
            Some((format!("sqlite://{}", p.display()), name.to_string()))
        }
        Engine::Csv => {
            let p = dir.join(format!("{name}.csv"));
            let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            let mut text = String::from("k,i,d,f,s,dt,ts,b\n");
            for r in rows {
                let cells = [
                    r.k.to_string(),
                    r.i.map(|v| v.to_string()).unwrap_or_default(),
                    r.d.map(decimal_text).unwrap_or_default(),
                    r.f.map(float_text).unwrap_or_default(),
                    r.s.as_deref().map(q).unwrap_or_default(),
                    r.dt.map(date_text).unwrap_or_default(),
                    r.ts.map(ts_text).unwrap_or_default(),
                    r.b.map(|v| v.to_string()).unwrap_or_default(),
                ];
                text.push_str(&cells.join(","));
                text.push('\n');
            }
            std::fs::write(&p, text).unwrap();
            Some((p.display().to_string(), name.to_string()))
        }
        Engine::Pq => {
            let p = dir.join(format!("{name}.parquet"));
            let col = |a: ArrayRef, n: &str| (Field::new(n, a.data_type().clone(), n != "k"), a);
            let cols: Vec<(Field, ArrayRef)> = vec![
                col(
                    Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.k))),
                    "k",
                ),
                col(
                    Arc::new(rows.iter().map(|r| r.i).collect::<Int64Array>()),
                    "i",
                ),
                col(
                    Arc::new(
                        rows.iter()
                            .map(|r| r.d)
                            .collect::<Decimal128Array>()
                            .with_precision_and_scale(38, SCALE as i8)
                            .unwrap(),
                    ),
                    "d",
                ),
                col(
                    Arc::new(rows.iter().map(|r| r.f).collect::<Float64Array>()),
                    "f",
                ),
                col(
                    Arc::new(rows.iter().map(|r| r.s.as_deref()).collect::<StringArray>()),
                    "s",
                ),
                col(
                    Arc::new(rows.iter().map(|r| r.dt).collect::<Date32Array>()),
                    "dt",
                ),
                col(
                    Arc::new(
                        rows.iter()
                            .map(|r| r.ts)
                            .collect::<TimestampMicrosecondArray>(),
                    ),
                    "ts",
                ),
                col(
                    Arc::new(rows.iter().map(|r| r.b).collect::<BooleanArray>()),
                    "b",
                ),
            ];
            let mut cols = cols;
            if bytes {
                cols.push(col(
                    Arc::new(rows.iter().map(|r| r.y.as_deref()).collect::<BinaryArray>()),
                    "y",
                ));
            }
            debug_assert!(matches!(
                cols[6].1.data_type(),
                DataType::Timestamp(TimeUnit::Microsecond, None)
            ));
            let (fields, arrays): (Vec<Field>, Vec<ArrayRef>) = cols.into_iter().unzip();
            let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
            let f = std::fs::File::create(&p).unwrap();
            let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), None).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
            Some((p.display().to_string(), name.to_string()))
        }
    }
}

/// Diffs two written tables by `k` (with `extra` arguments): exit code, report, stderr.
fn run_diff(a: &(String, String), b: &(String, String), extra: &[&str]) -> (i32, Value, String) {
    let tables = format!("{}:{}", a.1, b.1);
    let mut args = vec![
        "diff",
        &a.0,
        &b.0,
        "--table",
        &tables,
        "--key",
        "k",
        "--json",
        "--samples",
        "1000",
    ];
    args.extend_from_slice(extra);
    let r = reckon(&args);
    let v = serde_json::from_str(&r.stdout).unwrap_or(Value::Null);
    (r.code, v, r.stderr)
}

fn differing(v: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for t in v["tables"].as_array().into_iter().flatten() {
        for s in t["samples"].as_array().into_iter().flatten() {
            let key = s["key_text"].as_str().unwrap_or("").to_string();
            if s["status"] != "changed" {
                out.push((key.clone(), String::new(), s["status"].to_string()));
            }
            for c in s["cells"].as_array().into_iter().flatten() {
                out.push((
                    key.clone(),
                    c["column"].as_str().unwrap_or("").to_string(),
                    c["verdict"].as_str().unwrap_or("").to_string(),
                ));
            }
        }
    }
    out
}

fn pair(a: Engine, b: Engine, seeds: &[u64]) {
    let dir = tempfile::tempdir().unwrap();
    let c = both(caps(a), caps(b));
    for &seed in seeds {
        let mut rng = Rng(seed);
        let rows = random_rows(&mut rng, ROWS, c);
        let tag = format!("{a:?}_{b:?}").to_lowercase();
        let Some(left) = write(
            a,
            &rows,
            &format!("reckon_prop_{tag}_a"),
            dir.path(),
            c.bytes,
        ) else {
            return;
        };
        let Some(right) = write(
            b,
            &rows,
            &format!("reckon_prop_{tag}_b"),
            dir.path(),
            c.bytes,
        ) else {
            return;
        };
        let (code, v, err) = run_diff(&left, &right, &[]);
        assert_eq!(
            (code, differing(&v)),
            (0, vec![]),
            "{a:?}↔{b:?} seed {seed}: equal data must match: {err}\n{rows:?}"
        );
        assert_eq!(
            v["tables"][0]["counts"]["matched"], ROWS,
            "{a:?}↔{b:?} seed {seed}"
        );
        // One value changes on one side: exactly that cell differs.
        let mut changed = rows.clone();
        let at = rng.below(changed.len() as u64) as usize;
        let col = mutate(&mut rng, &mut changed[at], c);
        let Some(right) = write(
            b,
            &changed,
            &format!("reckon_prop_{tag}_b"),
            dir.path(),
            c.bytes,
        ) else {
            return;
        };
        let (code, v, err) = run_diff(&left, &right, &[]);
        assert_eq!(
            (code, differing(&v)),
            (
                1,
                vec![(format!("k={at}"), col.to_string(), "mismatch".to_string())]
            ),
            "{a:?}↔{b:?} seed {seed}: one change in row {at} column {col}: {err}\n{:?} → {:?}",
            rows[at],
            changed[at]
        );
        // Past a memory limit of one byte (chunks to disk, or read again): the same answer.
        let (_, low, err) = run_diff(&left, &right, &["--memory-limit", "1"]);
        assert_eq!(low["tables"][0]["spilled"], true, "{err}");
        assert_eq!(low["tables"][0]["counts"], v["tables"][0]["counts"]);
        assert_eq!(
            differing(&low),
            differing(&v),
            "{a:?}↔{b:?} seed {seed}: spilled"
        );
    }
}

const ROWS: usize = 100;
const SEEDS: [u64; 6] = [0x9E37_79B9_7F4A_7C15, 17, 4242, 0xDEAD_BEEF, 7, 2026];

#[test]
fn postgres_and_mariadb_agree_on_every_type() {
    pair(Engine::Pg, Engine::My, &SEEDS);
}

#[test]
fn postgres_and_parquet_agree_on_every_type() {
    pair(Engine::Pg, Engine::Pq, &SEEDS);
}

#[test]
fn mariadb_and_sqlite_agree_on_every_type() {
    pair(Engine::My, Engine::Lite, &SEEDS);
}

#[test]
fn postgres_and_sqlite_agree_on_every_type() {
    pair(Engine::Pg, Engine::Lite, &SEEDS);
}

#[test]
fn sqlite_and_csv_agree_on_every_type() {
    pair(Engine::Lite, Engine::Csv, &SEEDS);
}

#[test]
fn parquet_and_csv_agree_on_every_type() {
    pair(Engine::Pq, Engine::Csv, &SEEDS);
}
