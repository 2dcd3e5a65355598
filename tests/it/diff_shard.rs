//! `reckon diff --shard I/N` and `reckon merge`: N shards merged give the unsharded run's
//! diff.json, diff_summary.parquet, diff_rows.parquet and diff.html byte for byte (N = 1, 3, 7),
//! on random tables with every kind of difference, on the fixtures read again under a tiny
//! memory limit, and with invalid UTF-8; pushed down (PG↔PG, PG↔MariaDB), the same rows, counts
//! and aggregates; and a set of shards that is not one whole run is refused.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::*;
use crate::diff_property::{mutate, random_table, shuffled, write, COLUMNS};
use crate::diff_pushdown::comparable;
use crate::pushdown_tables::load;

const LEGACY: &str = "sqlite://fixtures/diff/legacy.db";
const PARQUET: &str = "fixtures/diff/migrated.parquet";

/// The files a merge must reproduce exactly (run.json holds times and arguments).
const SAME: [&str; 4] = [
    "diff.json",
    "diff_summary.parquet",
    "diff_rows.parquet",
    "diff.html",
];

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// Runs `reckon diff ARGS --out DIR` (plus `extra`); asserts it compared (exit 0 or 1).
fn diff_to(args: &[String], extra: &[String], out: &Path) -> i32 {
    let mut all: Vec<String> = vec!["diff".into()];
    all.extend(args.iter().cloned());
    all.extend(extra.iter().cloned());
    all.extend(["--out".to_string(), s(out)]);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let r = reckon(&refs);
    assert!(r.code == 0 || r.code == 1, "{all:?}: {}", r.stderr);
    r.code
}

fn json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Diffs whole, then in `n` shards merged; asserts the merge equals the whole run, file by file,
/// and that the shards really split the rows. Returns the whole run's report.
pub(crate) fn sharded_equals_whole(dir: &Path, name: &str, args: &[String], n: u64) -> Value {
    let whole = dir.join(format!("{name}-whole"));
    let code = diff_to(args, &[], &whole);
    let mut shards: Vec<PathBuf> = Vec::new();
    for i in 1..=n {
        let d = dir.join(format!("{name}-{n}-{i}"));
        diff_to(args, &["--shard".into(), format!("{i}/{n}")], &d);
        assert!(d.join("shard.json").is_file());
        shards.push(d);
    }
    let merged = dir.join(format!("{name}-{n}-merged"));
    let mut margs: Vec<String> = vec!["merge".into()];
    // Given in reverse: the merge orders shards by their number, not by the command line.
    margs.extend(shards.iter().rev().map(|p| s(p)));
    margs.extend(["--out".into(), s(&merged)]);
    let refs: Vec<&str> = margs.iter().map(String::as_str).collect();
    let r = reckon(&refs);
    assert_eq!(r.code, code, "merge exits as the whole run: {}", r.stderr);
    for f in SAME {
        let (a, b) = (
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(merged.join(f)).unwrap(),
        );
        assert!(
            a == b,
            "{name}, {n} shards: merged {f} differs from the unsharded run's"
        );
    }
    assert!(!merged.join("shard.json").exists(), "a merge is no shard");
    // Each shard compared only its share: rows and differing rows add up across shards, and
    // with several shards none holds them all.
    let report = json(&whole.join("diff.json"));
    for (t, table) in report["tables"].as_array().unwrap().iter().enumerate() {
        let counts = &table["counts"];
        let (mut rows, mut missing, mut nonempty) = (0, 0, 0);
        for d in &shards {
            let sj = json(&d.join("diff.json"));
            assert_eq!(sj["shard"]["count"], n);
            let c = &sj["tables"][t]["counts"];
            rows += c["source_rows"].as_u64().unwrap();
            missing += c["missing"].as_u64().unwrap();
            nonempty += u64::from(c["source_rows"].as_u64().unwrap() > 0);
        }
        assert_eq!(rows, counts["source_rows"].as_u64().unwrap());
        assert_eq!(missing, counts["missing"].as_u64().unwrap());
        if n > 1 && counts["source_rows"].as_u64().unwrap() > 100 {
            assert!(nonempty > 1, "{name}: one shard held every row");
            for d in &shards {
                let c = &json(&d.join("diff.json"))["tables"][t]["counts"];
                assert!(
                    c["source_rows"].as_u64().unwrap() < counts["source_rows"].as_u64().unwrap()
                );
            }
        }
    }
    report
}

/// Random source and target Parquet files: cells changed, rows missing, rows extra, a key
/// duplicated, rows shuffled and grouped differently.
fn random_pair(dir: &Path, seed: u64) -> (PathBuf, PathBuf) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let n = 3000;
    let t = random_table(&mut rng, n);
    let mut changed = t.clone();
    for _ in 0..80 {
        let row = rng.below(n as u64) as usize;
        let col = rng.below(COLUMNS.len() as u64) as usize;
        mutate(&mut changed, row, col, &mut rng);
    }
    let gone: Vec<usize> = (0..40).map(|_| rng.below(n as u64) as usize).collect();
    let new: Vec<usize> = (0..40).map(|_| rng.below(n as u64) as usize).collect();
    let src_order: Vec<usize> = (0..n).filter(|i| !new.contains(i)).collect();
    let mut tgt_order: Vec<usize> = shuffled(&mut rng, n)
        .into_iter()
        .filter(|i| !gone.contains(i))
        .collect();
    tgt_order.extend([5, 6, 6]);
    let (a, b) = (
        dir.join(format!("src{seed}.parquet")),
        dir.join(format!("tgt{seed}.parquet")),
    );
    write(&t, &src_order, false, 500, &a);
    write(&changed, &tgt_order, true, 700, &b);
    (a, b)
}

#[test]
fn shards_merge_into_the_unsharded_report_on_random_tables() {
    let dir = tempdir();
    for seed in 1..=2u64 {
        let (a, b) = random_pair(dir.path(), seed);
        let keyed = vec![
            s(&a),
            s(&b),
            "--key".into(),
            "id".into(),
            "--samples".into(),
            "7".into(),
        ];
        // No key: an exact multiset diff, paired under a rule on a text column.
        let keyless = vec![s(&a), s(&b), "--rule".into(), "name=trim".into()];
        for n in [1, 3, 7] {
            let r = sharded_equals_whole(dir.path(), &format!("k{seed}"), &keyed, n);
            let c = &r["tables"][0]["counts"];
            for what in ["mismatched", "missing", "extra", "duplicate_keys_target"] {
                assert!(
                    c[what].as_u64().unwrap() > 0,
                    "seed {seed}: no {what} planted"
                );
            }
            // More differing rows than samples: the merged samples are the first 7 overall.
            assert_eq!(r["tables"][0]["samples"].as_array().unwrap().len(), 7);
            sharded_equals_whole(dir.path(), &format!("m{seed}"), &keyless, n);
        }
    }
}

#[test]
fn shards_merge_into_the_unsharded_report_when_rows_are_read_again() {
    // SQLite streams, the Parquet file is read in parts; a 1-byte memory limit drops every kept
    // chunk, so the rows left are read again by their position among all rows, shard or not.
    let dir = tempdir();
    let args = vec![
        LEGACY.to_string(),
        PARQUET.to_string(),
        "--memory-limit".into(),
        "1".into(),
        "--samples".into(),
        "3".into(),
    ];
    for n in [1, 3, 7] {
        let r = sharded_equals_whole(dir.path(), "fixtures", &args, n);
        assert_eq!(r["tables"][0]["spilled"], true);
        assert!(r["tables"][0]["counts"]["mismatched"].as_u64().unwrap() > 3);
    }
}

#[test]
fn shards_merge_into_the_unsharded_report_with_invalid_utf8() {
    // Invalid UTF-8 bytes in SQLite TEXT (kept aside by the reader, by row) in rows of every
    // shard: each shard encodes its rows apart from the others, at new positions.
    let dir = tempdir();
    let make = |name: &str, changed: bool| -> String {
        let p = dir.path().join(name);
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT, code TEXT)")
            .unwrap();
        for i in 0..600i64 {
            let bad = i % 7 == 0;
            let differs = changed && i % 5 == 0;
            let sql = match (bad, differs) {
                (true, false) => "INSERT INTO t VALUES (?1, CAST(x'4dc3fc6cff' AS TEXT), 'a')",
                (true, true) => "INSERT INTO t VALUES (?1, CAST(x'4dc3fc6cfe' AS TEXT), 'a')",
                (false, false) => "INSERT INTO t VALUES (?1, 'Müller', 'a')",
                (false, true) => "INSERT INTO t VALUES (?1, 'Müller', 'b')",
            };
            c.execute(sql, [i]).unwrap();
        }
        format!("sqlite://{}", p.display())
    };
    let (a, b) = (make("a.db", false), make("b.db", true));
    let args = vec![a, b, "--samples".to_string(), "5".into()];
    for n in [3, 7] {
        let r = sharded_equals_whole(dir.path(), "utf8", &args, n);
        // Rows 0, 35, 70…: the invalid bytes differ (and the code); the others only the code.
        assert_eq!(r["tables"][0]["counts"]["mismatched"], 120);
    }
}

#[test]
fn a_set_of_shards_that_is_not_one_whole_run_is_refused() {
    let dir = tempdir();
    let d = |name: &str| dir.path().join(name);
    let shard = |name: &str, spec: &str, extra: &[&str]| {
        let mut args = vec![LEGACY.to_string(), PARQUET.to_string()];
        args.extend(extra.iter().map(|x| x.to_string()));
        diff_to(&args, &["--shard".into(), spec.into()], &d(name));
    };
    shard("a1", "1/3", &[]);
    shard("a2", "2/3", &[]);
    shard("a3", "3/3", &[]);
    shard("b2", "2/2", &[]);
    shard("c2", "2/3", &["--samples", "4"]);
    diff_to(&[LEGACY.to_string(), PARQUET.to_string()], &[], &d("plain"));
    let merge = |dirs: &[&str]| {
        let mut args = vec!["merge".to_string()];
        args.extend(dirs.iter().map(|x| s(&d(x))));
        args.extend(["--out".into(), s(&d("out"))]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        reckon(&refs)
    };
    let refused = |dirs: &[&str], words: &[&str]| {
        let r = merge(dirs);
        assert_eq!(r.code, 2, "{dirs:?} merged: {}", r.stdout);
        for w in words {
            assert!(r.stderr.contains(w), "{dirs:?}: '{w}' not in {}", r.stderr);
        }
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
        assert!(
            !d("out").exists(),
            "{dirs:?}: a refused merge wrote its output"
        );
    };
    refused(&["a1", "a3"], &["shards missing: 2/3"]);
    refused(&["a1", "a2", "a2", "a3"], &["2/3 is given twice"]);
    refused(&["a1", "a2", "a3", "b2"], &["different splits"]);
    refused(&["a1", "c2", "a3"], &["not of the same run"]);
    refused(&["a1", "a2", "plain"], &["holds no shard.json"]);
    // A shard whose rows file is not the one its counts describe.
    let a1_rows = std::fs::read(d("a1").join("diff_rows.parquet")).unwrap();
    let a2_rows = d("a2").join("diff_rows.parquet");
    let kept = std::fs::read(&a2_rows).unwrap();
    assert_ne!(
        a1_rows, kept,
        "the fixtures put differing rows in shards 1 and 2"
    );
    std::fs::write(&a2_rows, &a1_rows).unwrap();
    refused(&["a1", "a2", "a3"], &["does not match its shard.json"]);
    // The same rows shown otherwise (a sensitive column shows shapes): same counts, other file.
    shard("s2", "2/3", &["--sensitive", "name"]);
    let masked = std::fs::read(d("s2").join("diff_rows.parquet")).unwrap();
    assert_ne!(masked, kept);
    std::fs::write(&a2_rows, &masked).unwrap();
    refused(&["a1", "a2", "a3"], &["does not match its shard.json"]);
    std::fs::write(&a2_rows, kept).unwrap();
    let r = merge(&["a3", "a1", "a2"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Bad --shard values are refused before any work.
    for (bad, words) in [
        ("0/3", "numbered from 1"),
        ("4/3", "numbered from 1"),
        ("1/0", "at least 1"),
        ("three", "is not I/N"),
    ] {
        let r = reckon(&["diff", LEGACY, PARQUET, "--shard", bad]);
        assert_eq!(r.code, 2, "--shard {bad}: {}", r.stdout);
        assert!(r.stderr.contains(words), "--shard {bad}: {}", r.stderr);
    }
    // Files cannot push down: a pushed-down shard of them streams its share, and says so.
    let r = reckon(&[
        "diff",
        LEGACY,
        PARQUET,
        "--shard",
        "1/2",
        "--pushdown",
        "--json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(j["shard"]["index"], 1);
    assert_eq!(j["tables"][0]["pushdown"]["strategy"], "streamed");
}

/// Runs `reckon ARGS`; asserts it compared (exit 0 or 1).
fn run_ok(args: &[String]) -> i32 {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = reckon(&refs);
    assert!(r.code == 0 || r.code == 1, "{args:?}: {}", r.stderr);
    r.code
}

fn read_json(p: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn pushed_down_shards_merge_into_the_pushed_down_report() {
    let Some((pg, my)) = load() else { return };
    let dir = tempdir();
    let d = |name: &str| dir.path().join(name);
    let s = |p: std::path::PathBuf| p.to_str().unwrap().to_string();
    let sq = crate::diff_pushdown_sqlite::sqlite();
    // SQLite holds decimals and dates as text, compared by parsing: left out to push down.
    let skip = ["--exclude", crate::diff_pushdown_sqlite::TEXT_TYPED];
    for (label, target, schema, extra) in [
        ("pg", &pg, "reckon_pd.", &[][..]),
        ("my", &my, "", &[][..]),
        ("sq", &sq, "", &skip[..]),
    ] {
        // The last: a key that is not declared (qty repeats), its duplicates counted in SQL.
        for (table, n, key) in [
            ("one", 3u64, "id"),
            ("many", 3, "id"),
            ("many", 7, "id"),
            ("many", 3, "qty"),
        ] {
            let name = format!("{label}-{table}-{n}-{key}");
            let base: Vec<String> = [
                "--key",
                key,
                pg.as_str(),
                target.as_str(),
                "--table",
                &format!("reckon_pd.src:{schema}{table}"),
                "--pushdown",
                "--aggregates",
                "--buckets",
                "256",
                "--samples",
                "6",
            ]
            .iter()
            .chain(extra)
            .map(|x| x.to_string())
            .collect();
            let with = |extra: &[String]| -> Vec<String> {
                let mut v = vec!["diff".to_string()];
                v.extend(base.iter().cloned());
                v.extend(extra.iter().cloned());
                v
            };
            let whole = d(&format!("{name}-whole"));
            let code = run_ok(&with(&["--out".into(), s(whole.clone())]));
            let mut merge = vec!["merge".to_string()];
            let mut fetched = 0;
            for i in 1..=n {
                let out = d(&format!("{name}-{i}"));
                run_ok(&with(&[
                    "--shard".into(),
                    format!("{i}/{n}"),
                    "--out".into(),
                    s(out.clone()),
                ]));
                let p = &read_json(&out.join("diff.json"))["tables"][0]["pushdown"];
                assert_ne!(p["strategy"], "streamed", "{name} shard {i}: {p:#}");
                assert_eq!(p["buckets"], 256);
                fetched += p["rows_fetched"][0].as_u64().unwrap();
                merge.push(s(out));
            }
            let merged = d(&format!("{name}-merged"));
            merge.extend(["--out".into(), s(merged.clone())]);
            assert_eq!(
                run_ok(&merge),
                code,
                "{name}: the merge exits as the whole run"
            );
            // Rows, samples, counts, classes and aggregates: the whole pushed-down run's.
            for f in ["diff_rows.parquet", "diff_summary.parquet"] {
                assert!(
                    std::fs::read(whole.join(f)).unwrap() == std::fs::read(merged.join(f)).unwrap(),
                    "{name}: merged {f} differs"
                );
            }
            let (mut a, mut b) = (
                read_json(&whole.join("diff.json")),
                read_json(&merged.join("diff.json")),
            );
            let (pa, pb) = (
                a["tables"][0]["pushdown"].take(),
                b["tables"][0]["pushdown"].take(),
            );
            if pa["strategy"] == "streamed" {
                // The whole run streamed for a reason of its own (here: a NULL key has no hash
                // in SQL); a shard reads its share of the buckets instead, whose float and
                // temporal extremes SQL does not compute. All else is the same.
                assert_eq!(
                    comparable(&a["tables"][0], schema.is_empty()),
                    comparable(&b["tables"][0], schema.is_empty()),
                    "{name}: merged diff.json differs from the whole run's"
                );
                a["tables"][0] = Value::Null;
                b["tables"][0] = Value::Null;
            }
            assert_eq!(
                a, b,
                "{name}: merged diff.json differs beyond its pushdown section"
            );
            // Each shard read only differing rows of its own buckets: together, as many as the
            // whole run (summaries and buckets) or the differing keys (rows).
            assert_eq!(pb["rows_fetched"][0], fetched, "{pb:#}");
            assert_eq!(pb["buckets"], 256);
            let c = &read_json(&whole.join("diff.json"))["tables"][0]["counts"];
            if key == "qty" {
                assert!(c["duplicate_keys_source"].as_u64().unwrap() > 100, "{c:#}");
            } else if table == "many" {
                assert_eq!(pb["strategy"], "rows", "{pb:#}");
                assert_eq!(pb["rows_fetched"], pa["rows_fetched"], "{pa:#} {pb:#}");
                // A shard whose probe found few differing buckets reads the hashes of those
                // buckets only: never more hashes than the whole run.
                for side in 0..2 {
                    let n = |p: &Value| p["hashes_fetched"][side].as_u64().unwrap();
                    assert!(n(&pb) <= n(&pa) && n(&pb) > 0, "{pa:#} {pb:#}");
                }
            } else if !schema.is_empty() {
                // One differing bucket: read by its one shard, the others only summarised.
                // (Facing MariaDB, PostgreSQL's -0 makes more rows differ.)
                assert_eq!(pb["differing_buckets"], 1, "{pb:#}");
                assert!(
                    pb["strategy"].as_str().unwrap().contains("summaries"),
                    "{pb:#}"
                );
                assert_eq!(pb["rows_fetched"], pa["rows_fetched"], "{pa:#} {pb:#}");
            }
            assert!(
                c["mismatched"].as_u64().unwrap() > 0,
                "{name}: nothing planted"
            );
        }
    }
    // Shards that split the table differently are refused: streamed against pushed down, or
    // pushed down with other buckets.
    let split = |name: &str, i: u64, extra: &[&str]| -> String {
        let out = d(name);
        let mut args: Vec<String> = ["diff", &pg, &pg, "--table", "reckon_pd.src:reckon_pd.many"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        args.extend(extra.iter().map(|x| x.to_string()));
        args.extend([
            "--shard".into(),
            format!("{i}/2"),
            "--out".into(),
            s(out.clone()),
        ]);
        run_ok(&args);
        s(out)
    };
    let p1 = split("x1", 1, &["--pushdown", "--buckets", "256"]);
    let p2 = split("x2", 2, &["--pushdown", "--buckets", "256"]);
    let s2 = split("y2", 2, &[]);
    let b2 = split("z2", 2, &["--pushdown", "--buckets", "128"]);
    for other in [&s2, &b2] {
        let r = reckon(&["merge", &p1, other, "--out", &s(d("refused"))]);
        assert_eq!(r.code, 2, "{}", r.stdout);
        assert!(
            r.stderr.contains("did not split it the same way"),
            "{}",
            r.stderr
        );
        assert!(!d("refused").exists());
    }
    // A shard with --aggregates beside one without: its sums would cover half the table.
    let a2 = split("w2", 2, &["--pushdown", "--buckets", "256", "--aggregates"]);
    let r = reckon(&["merge", &p1, &a2, "--out", &s(d("refused"))]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("--aggregates"), "{}", r.stderr);
    let r = reckon(&["merge", &p1, &p2]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn shard_state_keeps_sensitive_values_out_and_damage_is_refused() {
    let dir = tempdir();
    let (a, b) = random_pair(dir.path(), 7);
    let plain = vec![s(&a), s(&b), "--key".into(), "id".into()];
    let whole = dir.path().join("plain");
    diff_to(&plain, &[], &whole);
    let name = &json(&whole.join("diff.json"))["tables"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["source"] == "name")
        .unwrap()["source_aggregate"]
        .clone();
    let extremes: Vec<String> = ["min", "max"]
        .iter()
        .map(|k| name[k].as_str().unwrap().to_string())
        .filter(|v| v.len() >= 2)
        .collect();
    assert!(!extremes.is_empty(), "{name:#}");
    // Sensitive: merged as the whole run, and the extremes' bytes are in no shard's state.
    let sensitive = vec![
        s(&a),
        s(&b),
        "--key".into(),
        "id".into(),
        "--sensitive".into(),
        "name".into(),
    ];
    sharded_equals_whole(dir.path(), "sens", &sensitive, 3);
    for i in 1..=3 {
        let state =
            std::fs::read_to_string(dir.path().join(format!("sens-3-{i}/shard.json"))).unwrap();
        for v in &extremes {
            let hex: String = v.bytes().map(|x| format!("{x:02x}")).collect();
            assert!(!state.contains(&hex), "shard {i} holds {v} as {hex}");
            assert!(!state.contains(v.as_str()), "shard {i} holds {v}");
        }
    }
    // A state that does not read back is refused, never merged as zero.
    let damaged = dir.path().join("sens-3-2/shard.json");
    let text = std::fs::read_to_string(&damaged).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["tables"][0]["aggregates"][0][1]["sum"] = "exact:not-a-number:0".into();
    std::fs::write(&damaged, v.to_string()).unwrap();
    let dirs: Vec<String> = (1..=3)
        .map(|i| s(&dir.path().join(format!("sens-3-{i}"))))
        .collect();
    let r = reckon(&["merge", &dirs[0], &dirs[1], &dirs[2]]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("damaged"), "{}", r.stderr);
}

#[test]
fn a_pushed_down_shard_with_too_many_differing_keys_reads_its_share_instead_of_streaming() {
    // 260,000 keys differ, past the 250,000 a pushed-down diff reads by key: the whole run
    // streams (split by the engine's hash), but a shard reads its share of the buckets in full
    // (streaming would split it by the other hash) and gives the same rows.
    let setup = "DROP SCHEMA IF EXISTS reckon_mk CASCADE; CREATE SCHEMA reckon_mk;
        CREATE TABLE reckon_mk.a (id int PRIMARY KEY, v int);
        CREATE TABLE reckon_mk.b (id int PRIMARY KEY, v int);
        INSERT INTO reckon_mk.a SELECT g, 1 FROM generate_series(1, 260000) g;
        INSERT INTO reckon_mk.b SELECT g, 2 FROM generate_series(1, 260000) g;
        ANALYZE reckon_mk.a; ANALYZE reckon_mk.b;";
    if require("PostgreSQL", postgres_exec(setup)).is_none() {
        return;
    }
    let pg = pg_url();
    let dir = tempdir();
    let args: Vec<String> = [&pg, &pg, "--table", "reckon_mk.a:reckon_mk.b", "--pushdown"]
        .iter()
        .map(|x| x.to_string())
        .collect();
    let whole = dir.path().join("whole");
    assert_eq!(diff_to(&args, &[], &whole), 1);
    let w = json(&whole.join("diff.json"));
    assert_eq!(
        w["tables"][0]["pushdown"]["strategy"], "streamed",
        "{:#}",
        w["tables"][0]["pushdown"]
    );
    assert_eq!(w["tables"][0]["counts"]["mismatched"], 260_000);
    let shard = dir.path().join("s1");
    diff_to(&args, &["--shard".into(), "1/1".into()], &shard);
    let p = &json(&shard.join("diff.json"))["tables"][0]["pushdown"];
    assert_eq!(p["strategy"], "buckets", "{p:#}");
    assert_eq!(
        p["rows_fetched"],
        serde_json::json!([260_000, 260_000]),
        "{p:#}"
    );
    let merged = dir.path().join("m");
    let r = reckon(&["merge", &s(&shard), "--out", &s(&merged)]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for f in ["diff_rows.parquet", "diff_summary.parquet"] {
        assert!(
            std::fs::read(whole.join(f)).unwrap() == std::fs::read(merged.join(f)).unwrap(),
            "{f} differs"
        );
    }
    let m = json(&merged.join("diff.json"));
    assert_eq!(m["tables"][0]["counts"], w["tables"][0]["counts"]);
}
