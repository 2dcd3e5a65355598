//! `reckon profile --pushdown` against real PostgreSQL and MariaDB (the random tables of
//! `diff_pushdown`): what SQL computes equals what the stream computes, exactly, for every
//! column family it covers; past `--exact-distinct-limit` it stays exact; with `--sample-rows`
//! the exact statistics are still the whole table's, and the report says what came from the
//! sample.

use serde_json::Value;

use crate::common::*;
use crate::pushdown_tables::load;

pub(crate) fn profile(args: &[&str]) -> Value {
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.push("--json");
    let r = reckon(&all);
    assert_eq!(r.code, 0, "{all:?}: {}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// The report without what differs between runs (seconds), the options and the pushdown
/// section.
pub(crate) fn comparable(mut r: Value) -> Value {
    let o = r["options"].as_object_mut().unwrap();
    o.remove("pushdown");
    o.remove("sample_rows");
    for t in r["tables"].as_array_mut().unwrap() {
        let t = t.as_object_mut().unwrap();
        t.remove("seconds");
        t.remove("pushdown");
    }
    r
}

pub(crate) fn column<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["tables"][0]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

/// The statistics SQL computed for a column (none when it was not asked).
pub(crate) fn exact_stats(r: &Value, name: &str) -> Vec<String> {
    r["tables"][0]["pushdown"]["exact_in_sql"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["column"] == name)
        .map(|e| {
            e["stats"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sql_statistics_equal_the_streamed_ones() {
    let Some((pg, my)) = load() else { return };
    for (url, table) in [
        (&pg, "reckon_pd.src"),
        (&pg, "reckon_pd.many"),
        (&my, "src"),
        (&my, "many"),
    ] {
        let streamed = profile(&[url, "--table", table]);
        let pushed = profile(&[url, "--table", table, "--pushdown"]);
        assert!(streamed["tables"][0].get("pushdown").is_none());
        assert_eq!(
            comparable(streamed.clone()),
            comparable(pushed.clone()),
            "{url} {table}: pushed down and streamed differ"
        );
        // Every row read, every distinct count exact: nothing to ask of SQL.
        let exact = &pushed["tables"][0]["pushdown"]["exact_in_sql"];
        assert_eq!(exact, &serde_json::json!([]), "{url} {table}");
    }
}

#[test]
fn distinct_counts_stay_exact_past_the_limit_and_keys_are_found() {
    let Some((pg, my)) = load() else { return };
    for (url, table) in [(&pg, "reckon_pd.src"), (&my, "src")] {
        let whole = profile(&[url, "--table", table]);
        let limited = profile(&[url, "--table", table, "--exact-distinct-limit", "10"]);
        let pushed = profile(&[
            url,
            "--table",
            table,
            "--exact-distinct-limit",
            "10",
            "--pushdown",
        ]);
        // Past the limit `id`'s distinct count is exact still when the stream read it rising
        // strictly with no NULL (as many values as rows), and it is a key. InnoDB reads a table
        // in its primary key's order, so on MariaDB it always does; PostgreSQL reads its heap's
        // order, which an UPDATE by another test may have changed.
        let rose = column(&limited, "id")["unique"] == true;
        if !url.starts_with("postgres") {
            assert!(rose, "{url}");
        }
        for c in ["id", "qty", "name"] {
            let streamed_exact = c == "id" && rose;
            assert_eq!(column(&limited, c)["distinct_exact"], streamed_exact, "{c}");
            assert_eq!(column(&pushed, c)["distinct_exact"], true, "{c}");
            let (p, w) = (column(&pushed, c), column(&whole, c));
            assert_eq!(p["distinct"], w["distinct"], "{c}");
            if streamed_exact {
                assert_eq!(column(&limited, c)["distinct"], w["distinct"], "{c}");
            }
            // Only what the stream could not keep exact was asked of SQL.
            let asked: &[&str] = if streamed_exact { &[] } else { &["distinct"] };
            assert_eq!(exact_stats(&pushed, c), asked, "{c}");
        }
        // A float past the limit: counted by its bits (PostgreSQL) or value (MariaDB, which
        // stores no -0 and no NaN), exactly as the whole stream counts it.
        let price = column(&pushed, "price");
        assert_eq!(price["distinct_exact"], true, "{url}");
        assert_eq!(
            price["distinct"],
            column(&whole, "price")["distinct"],
            "{url}"
        );
        assert_eq!(exact_stats(&pushed, "price"), ["distinct"], "{url}");
        // A MariaDB tinyint(1) reads as booleans or numbers: never counted in SQL, so past the
        // limit its estimate stays, and the rest of its profile is the stream's.
        if !url.starts_with("postgres") {
            let flag = column(&pushed, "flag");
            assert!(exact_stats(&pushed, "flag").is_empty());
            assert_eq!(flag, column(&limited, "flag"));
        }
        assert_eq!(column(&pushed, "id")["unique"], true);
        assert_eq!(
            pushed["tables"][0]["candidate_keys"],
            serde_json::json!([["id"]])
        );
        let keys = if rose {
            serde_json::json!([["id"]])
        } else {
            serde_json::json!([])
        };
        assert_eq!(limited["tables"][0]["candidate_keys"], keys, "{url}");
        assert_eq!(column(&limited, "qty")["unique"], false);
    }
}

#[test]
fn a_sample_keeps_the_whole_tables_exact_statistics_and_says_so() {
    let Some((pg, my)) = load() else { return };
    for (url, table) in [(&pg, "reckon_pd.src"), (&my, "src")] {
        let whole = profile(&[url, "--table", table]);
        let sampled = profile(&[url, "--table", table, "--pushdown", "--sample-rows", "300"]);
        let t = &sampled["tables"][0];
        let s = &t["pushdown"]["sample"];
        let read = s["rows"].as_u64().unwrap();
        assert!((150..=500).contains(&read), "{url}: {s:#}");
        assert!(s["method"].as_str().unwrap().len() > 10, "{s:#}");
        assert_eq!(t["rows"], whole["tables"][0]["rows"]);
        // What SQL computed, per family (agreement alone would pass if nothing was).
        let all = ["rows", "nulls", "distinct", "min", "max"];
        let moments = ["rows", "nulls", "distinct", "min", "max", "mean", "std"];
        assert_eq!(exact_stats(&sampled, "id"), moments);
        assert_eq!(exact_stats(&sampled, "qty"), moments);
        // Decimals of a declared scale: ranged and averaged too.
        assert_eq!(exact_stats(&sampled, "amount"), moments, "{url}");
        assert_eq!(
            exact_stats(&sampled, "name"),
            [
                "rows", "nulls", "distinct", "min", "max", "empty", "len_min", "len_max",
                "len_mean"
            ]
        );
        let pg_url = url.starts_with("postgres");
        // Dates: extremes too on PostgreSQL (MariaDB's may be zero dates, read as text).
        let day = if pg_url { &all[..] } else { &all[..3] };
        assert_eq!(exact_stats(&sampled, "day"), day, "{url}");
        // Instants and local date-times are ranged (as epoch microseconds); times and bytes
        // only counted.
        for c in ["at", "lt", "price"] {
            assert_eq!(exact_stats(&sampled, c), all, "{url} {c}");
        }
        for c in ["tm", "bin"] {
            assert_eq!(exact_stats(&sampled, c), &all[..3], "{url} {c}");
        }
        // A MariaDB tinyint(1) may read as booleans: only PostgreSQL's booleans are counted.
        let flag = if pg_url { &all[..3] } else { &all[..2] };
        assert_eq!(exact_stats(&sampled, "flag"), flag, "{url}");
        // The texts include '' and ' ' (equal under PAD SPACE), and 'a' and 'A'.
        assert!(column(&sampled, "name")["empty"].as_u64().unwrap() > 0);
        for c in t["columns"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            let w = column(&whole, name);
            assert_eq!(c["rows"], w["rows"], "{name}");
            for stat in exact_stats(&sampled, name) {
                let field = if stat == "rows" { "rows" } else { &stat };
                if matches!(field, "mean" | "std") {
                    // SQL's come from the exact sum; the stream's are running f64 sums: both
                    // rounded to 12 digits, they may part in the last one.
                    let (a, b) = (c[field].as_f64().unwrap(), w[field].as_f64().unwrap());
                    assert!(
                        (a - b).abs() <= 1e-10 * b.abs(),
                        "{url} {name}: {stat} {a} is not the whole table's {b}"
                    );
                    continue;
                }
                assert_eq!(
                    c[field], w[field],
                    "{url} {name}: {stat} is the whole table's"
                );
            }
            // What was not computed in SQL is the sample's (and never claimed exact).
            if !exact_stats(&sampled, name).contains(&"distinct".to_string()) {
                assert_eq!(c["distinct_exact"], false, "{name}");
            }
        }
        // Findings are the sample's, counts and shares alike, and say so.
        let findings = sampled["findings"].as_array().unwrap();
        assert!(!findings.is_empty());
        for f in findings {
            let m = f["message"].as_str().unwrap();
            assert!(m.ends_with(&format!("(in a sample of {read} rows)")), "{m}");
            assert!(f["count"].as_u64().unwrap() <= read, "{f:#}");
            // NULLs in a fifth of the rows, not the table's (which SQL gave the column).
            if f["code"] == "sparse-nulls" {
                let c = f["column"].as_str().unwrap();
                let table_nulls = column(&whole, c)["nulls"].as_u64().unwrap();
                assert!(f["count"].as_u64().unwrap() < table_nulls, "{f:#}");
            }
        }
        assert!(findings.iter().any(|f| f["code"] == "sparse-nulls"));
        // A sample cannot show duplicates or uniqueness; SQL can show a key.
        assert!(t["duplicate_rows"].is_null(), "{t:#}");
        // The declared key is checked in SQL over the whole table.
        assert_eq!(t["primary_key_duplicates"], 0, "{t:#}");
        assert_eq!(
            t["pushdown"]["table_in_sql"],
            serde_json::json!(["primary_key_duplicates", "primary_key_nulls"])
        );
        assert_eq!(t["candidate_keys"], serde_json::json!([["id"]]));
        // The same sample on every run.
        let again = profile(&[url, "--table", table, "--pushdown", "--sample-rows", "300"]);
        assert_eq!(comparable(again), comparable(sampled));
    }
}

#[test]
fn sensitive_extremes_stay_hidden_under_pushdown() {
    let Some((pg, _)) = load() else { return };
    // Sampled, SQL computes the extremes of every integer column: never shown for a sensitive
    // one, whose extremes stay the stream's shapes.
    let pushed = profile(&[
        &pg,
        "--table",
        "reckon_pd.src",
        "--sensitive",
        "id",
        "--pushdown",
        "--sample-rows",
        "300",
    ]);
    let p = column(&pushed, "id");
    assert_eq!(exact_stats(&pushed, "id"), ["rows", "nulls", "distinct"]);
    assert_eq!(
        exact_stats(&pushed, "qty"),
        ["rows", "nulls", "distinct", "min", "max", "mean", "std"]
    );
    assert!(p["mean"].is_null() && p["std"].is_null(), "{p:#}");
    for v in [&p["min"], &p["max"]] {
        let v = v.as_str().unwrap();
        assert!(
            v.chars().all(|c| c == '9' || c == '-'),
            "{v} is not a shape"
        );
    }
    // The raw extremes (-700 and 3797) appear nowhere in the column's profile.
    for raw in ["\"-700\"", "\"3797\""] {
        assert!(!p.to_string().contains(raw), "{raw} shown");
    }
}

#[test]
fn the_terminal_and_the_page_say_what_came_from_a_sample() {
    let Some((pg, _)) = load() else { return };
    let dir = tempdir();
    let out = dir.path().join("p");
    let r = reckon(&[
        "profile",
        &pg,
        "--table",
        "reckon_pd.src",
        "--pushdown",
        "--sample-rows",
        "300",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("computed in SQL over the whole table; everything else from a sample of"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("59 statistics of 11 columns"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "declared primary key checked in SQL over the whole table (primary_key_duplicates, primary_key_nulls)"
        ),
        "{}",
        r.stdout
    );
    // profile.parquet carries the marks too, per column.
    let batch = first_parquet_batch(&out.join("profile.parquet"));
    use arrow::array::{Array, AsArray};
    let names = batch
        .column_by_name("column_name")
        .unwrap()
        .as_string::<i32>();
    let exact = batch
        .column_by_name("exact_in_sql")
        .unwrap()
        .as_string::<i32>();
    let sampled = batch
        .column_by_name("sampled_rows")
        .unwrap()
        .as_primitive::<arrow::datatypes::UInt64Type>();
    let id = (0..names.len()).find(|&i| names.value(i) == "id").unwrap();
    assert_eq!(exact.value(id), "rows,nulls,distinct,min,max,mean,std");
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.join("profile.json")).unwrap()).unwrap();
    let read = json["tables"][0]["pushdown"]["sample"]["rows"]
        .as_u64()
        .unwrap();
    assert!(!sampled.is_null(id));
    assert_eq!(sampled.value(id), read);
    let html = std::fs::read_to_string(out.join("profile.html")).unwrap();
    assert!(
        html.contains("id (rows, nulls, distinct, min, max, mean, std)"),
        "the page lists SQL's statistics"
    );
    assert!(
        html.contains("The declared primary key was checked in SQL over the whole table"),
        "the page says the key was checked in SQL"
    );
    assert!(
        html.contains("Everything else comes from a sample of"),
        "the page says sample"
    );
    // Without a sample, no sample is claimed; SQL is asked only for what the stream could not
    // count exactly.
    let r = reckon(&["profile", &pg, "--table", "reckon_pd.src", "--pushdown"]);
    assert!(r.stdout.contains("nothing asked of SQL"), "{}", r.stdout);
    assert!(!r.stdout.contains("sample of"), "{}", r.stdout);
    let r = reckon(&[
        "profile",
        &pg,
        "--table",
        "reckon_pd.src",
        "--pushdown",
        "--exact-distinct-limit",
        "10",
    ]);
    assert!(
        r.stdout
            .contains("exact distinct counts of id, qty, amount, price, name, day, at, lt, tm, bin computed in SQL"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_file_is_streamed_whole_and_the_user_is_told() {
    // A file, and SQLite, which runs in this process (its diff SQL is pushed down; its profile
    // SQL would read every row as the stream does): streamed, and said so.
    for source in [
        "fixtures/diff/migrated.parquet",
        "sqlite://fixtures/diff/legacy.db",
    ] {
        let r = reckon(&["profile", source, "--pushdown", "--json"]);
        assert_eq!(r.code, 0, "{source}: {}", r.stderr);
        assert!(
            r.stderr.contains("streamed whole"),
            "{source}: {}",
            r.stderr
        );
        let j: Value = serde_json::from_str(&r.stdout).unwrap();
        assert!(j["tables"][0].get("pushdown").is_none(), "{j:#}");
        assert!(j["tables"][0]["rows"].as_u64().unwrap() > 0, "{j:#}");
    }
    let r = reckon(&[
        "profile",
        "fixtures/diff/migrated.parquet",
        "--sample-rows",
        "5",
    ]);
    assert_eq!(r.code, 2, "--sample-rows without --pushdown: {}", r.stdout);
    let r = reckon(&[
        "profile",
        "fixtures/diff/migrated.parquet",
        "--pushdown",
        "--sample-rows",
        "0",
    ]);
    assert_eq!(r.code, 2, "--sample-rows 0: {}", r.stdout);
}
