//! `reckon diff --pushdown` against real PostgreSQL and MariaDB: on seeded random tables of every
//! type it pushes down, with planted differences of every class (1 ulp, 1 µs, a trailing space,
//! NULL against '', a flipped boolean, a byte more, missing and extra rows), the pushed-down diff
//! reports exactly what the streamed diff reports (counts, classes, columns, rows) for PG↔PG,
//! PG↔MariaDB and MariaDB↔MariaDB, under each strategy (identical tables, a few differing
//! buckets, differences in every bucket). Pairs it cannot push down stream, and say why.

use serde_json::Value;

use crate::common::*;
use crate::diff_files::diff_json;
use crate::pushdown_tables::{load, ROWS};

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
fn rows_whose_key_is_null_are_never_left_out_of_the_hashes() {
    let Some((pg, my)) = load() else { return };
    // qty is NULL in some rows, and differences are everywhere: the hashes of every row are
    // read, and a NULL key has none, so the pair streams. Dropping those rows from the hashes
    // instead would hide their differences.
    for (s, t, table) in [
        (&pg, &pg, "reckon_pd.src:reckon_pd.many"),
        (&pg, &my, "reckon_pd.src:many"),
    ] {
        let p = agree_with(s, t, table, &["--key", "qty"], &["--buckets", "256"]);
        assert_eq!(p["strategy"], "streamed", "{p:#}");
        assert!(
            p["reason"]
                .as_str()
                .unwrap()
                .contains("could not be hashed"),
            "{p:#}"
        );
    }
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
