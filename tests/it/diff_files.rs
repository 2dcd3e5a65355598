//! `reckon diff` on the bundled file fixtures (fixtures/diff/, see fixtures/README.md): every
//! planted difference found with its class, on SQLite↔Parquet and SQLite↔CSV; rules, sensitive
//! columns, byte-identical results, spilling, the HTML page, and bad input.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::*;

const LEGACY: &str = "sqlite://fixtures/diff/legacy.db";
const PARQUET: &str = "fixtures/diff/migrated.parquet";
const CSV: &str = "fixtures/diff/migrated.csv";

/// Runs `reckon diff ARGS --json`; returns (exit code, report).
pub fn diff_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    all.push("--json");
    let r = reckon(&all);
    assert!(
        r.code == 0 || r.code == 1,
        "reckon {all:?} failed ({}): {}",
        r.code,
        r.stderr
    );
    (r.code, serde_json::from_str(&r.stdout).expect("valid JSON"))
}

/// key text → [(column, verdict(class))] of a table's samples, plus status for keys without cells.
pub fn sample_map(t: &Value) -> BTreeMap<String, Vec<String>> {
    let mut m = BTreeMap::new();
    for r in t["samples"].as_array().unwrap() {
        let key = r["key_text"].as_str().unwrap().to_string();
        let cells: Vec<String> = r["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{}:{}({})",
                    c["column"].as_str().unwrap(),
                    c["verdict"].as_str().unwrap(),
                    c["class"].as_str().unwrap()
                )
            })
            .collect();
        let v = if cells.is_empty() {
            vec![r["status"].as_str().unwrap().to_string()]
        } else {
            cells
        };
        m.entry(key).or_insert_with(Vec::new).extend(v);
    }
    m
}

fn expected_planted() -> BTreeMap<String, Vec<String>> {
    [
        ("id=3", "name:mismatch(whitespace)"),
        ("id=4", "email:mismatch(case)"),
        ("id=5", "note:mismatch(null-vs-empty)"),
        ("id=6", "name:mismatch(mojibake)"),
        ("id=7", "city:mismatch(nfc-nfd)"),
        ("id=8", "city:mismatch(truncated)"),
        ("id=9", "balance:mismatch(rounding)"),
        ("id=10", "balance:mismatch(value)"),
        ("id=11", "joined:mismatch(value)"),
        ("id=12", "active:mismatch(value)"),
        ("id=13", "missing"),
        ("id=14", "missing"),
        ("id=15", "extra"),
        ("id=31", "extra"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
    .collect()
}

fn assert_planted(target: &str) {
    let (code, r) = diff_json(&[LEGACY, target]);
    assert_eq!(code, 1, "differences → exit 1");
    assert_eq!(r["verdict"], "mismatch");
    let t = &r["tables"][0];
    let c = &t["counts"];
    assert_eq!(
        (
            c["source_rows"].as_u64(),
            c["target_rows"].as_u64(),
            c["matched"].as_u64()
        ),
        (Some(30), Some(30), Some(18))
    );
    assert_eq!(
        (
            c["mismatched"].as_u64(),
            c["missing"].as_u64(),
            c["extra"].as_u64()
        ),
        (Some(10), Some(2), Some(2))
    );
    assert_eq!(
        c["duplicate_keys_target"], 1,
        "id 15 is twice in the target"
    );
    assert_eq!(c["duplicate_keys_source"], 0);
    assert_eq!(
        sample_map(t),
        expected_planted(),
        "every planted row, with its class"
    );
}

#[test]
fn sqlite_vs_parquet_finds_every_planted_difference_with_its_class() {
    assert_planted(PARQUET);
}

#[test]
fn sqlite_vs_csv_finds_the_same_differences() {
    // CSV is all text: read as the SQLite side's types, it must agree with the typed Parquet.
    assert_planted(CSV);
}

#[test]
fn equal_data_in_parquet_and_csv_is_a_match_with_exit_0() {
    let (code, r) = diff_json(&[PARQUET, CSV, "--key", "id"]);
    let t = &r["tables"][0];
    assert_eq!(code, 0, "{:#}", t["samples"]);
    assert_eq!(r["verdict"], "match");
    assert_eq!(t["counts"]["matched"], 30);
    // The duplicated key is reported even though the multisets agree.
    assert_eq!(t["counts"]["duplicate_keys_source"], 1);
    assert_eq!(t["counts"]["duplicate_keys_target"], 1);
    // Aggregates agree across the typed and the untyped side.
    for col in t["columns"].as_array().unwrap() {
        let (s, g) = (&col["source_aggregate"], &col["target_aggregate"]);
        assert_eq!(
            (&s["count"], &s["nulls"]),
            (&g["count"], &g["nulls"]),
            "{col:#}"
        );
    }
}

#[test]
fn declared_rules_turn_classes_into_counted_matches_and_sensitive_values_never_show() {
    let dir = tempdir();
    let out = dir.path().join("signoff");
    let r = reckon(&[
        "diff",
        LEGACY,
        PARQUET,
        "--mapping",
        "fixtures/diff/mapping.toml",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let rep: Value = serde_json::from_str(&r.stdout).unwrap();
    let t = &rep["tables"][0];
    assert_eq!(t["key_origin"], "mapping");
    assert_eq!(
        t["rules"],
        serde_json::json!({"case-insensitive": 1, "nfc": 1, "trim": 1})
    );
    assert_eq!(t["counts"]["matched_by_rule"], 3);
    assert_eq!(t["counts"]["mismatched"], 7);
    assert!(!t["classes"].as_object().unwrap().contains_key("whitespace"));
    // e-mail addresses are sensitive: in no output, not even as min/max.
    for f in [
        "diff.json",
        "diff.html",
        "diff_rows.parquet",
        "diff_summary.parquet",
    ] {
        let bytes = std::fs::read(out.join(f)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("example.com"),
            "{f} shows a sensitive value"
        );
    }
    assert!(!r.stdout.contains("example.com"));
}

#[test]
fn results_are_byte_identical_across_runs_threads_and_spilling() {
    let dir = tempdir();
    let run = |name: &str, extra: &[&str]| -> std::path::PathBuf {
        let out = dir.path().join(name);
        let mut args = vec!["diff", LEGACY, PARQUET, "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let r = reckon(&args);
        assert_eq!(r.code, 1, "{}", r.stderr);
        out
    };
    let a = run("a", &["--threads", "1"]);
    let b = run("b", &["--threads", "3"]);
    // A memory limit of 1 byte spills every pending row to disk partitions.
    let c = run("c", &["--memory-limit", "1"]);
    for f in ["diff_rows.parquet", "diff_summary.parquet"] {
        let x = std::fs::read(a.join(f)).unwrap();
        assert_eq!(x, std::fs::read(b.join(f)).unwrap(), "{f}: 1 vs 3 threads");
        assert_eq!(
            x,
            std::fs::read(c.join(f)).unwrap(),
            "{f}: spilled vs in memory"
        );
    }
    let ja: Value = serde_json::from_slice(&std::fs::read(a.join("diff.json")).unwrap()).unwrap();
    let jc: Value = serde_json::from_slice(&std::fs::read(c.join("diff.json")).unwrap()).unwrap();
    assert_eq!(ja["tables"][0]["spilled"], false);
    assert_eq!(jc["tables"][0]["spilled"], true);
    assert_eq!(ja["tables"][0]["counts"], jc["tables"][0]["counts"]);
}

#[test]
fn diff_html_renders_in_headless_chromium() {
    let dir = tempdir();
    let out = dir.path().join("h");
    let r = reckon(&["diff", LEGACY, PARQUET, "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let path = out.join("diff.html");
    let html = std::fs::read_to_string(&path).unwrap();
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!html.contains(external), "self-contained: {external}");
    }
    let Some(bin) = require("headless Chromium", crate::profile_html::chromium()) else {
        return;
    };
    let o = crate::profile_html::dump_dom(&bin, &dir, &path);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        dom.contains("data-rendered=\"1\""),
        "the page's script did not run"
    );
    for expected in [
        "MISMATCH",
        "mismatch(mojibake)",
        // The differing span marked, NFD's combining mark as a code point, NULL apart from
        // any text.
        "\"Andr⟦Ã©⟧ Dubois\"",
        "\"Möncheng⟦ladbach⟧\"",
        "\"Z⟦u\\u{308}⟧rich\"",
        "<td class=\"mono\">NULL</td><td class=\"mono\">\"\"</td>",
        "id=13",
    ] {
        assert!(dom.contains(expected), "rendered page lacks {expected}");
    }
    assert_eq!(
        dom.matches("class=\"column-row\"").count(),
        8,
        "one row per column"
    );
}

fn assert_error(args: &[&str], must_contain: &[&str]) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    let r = reckon(&all);
    assert_eq!(r.code, 2, "{all:?}: {}", r.stderr);
    assert!(r.stdout.is_empty(), "nothing reported: {}", r.stdout);
    for m in must_contain {
        assert!(
            r.stderr.contains(m),
            "{all:?}: stderr lacks {m:?}: {}",
            r.stderr
        );
    }
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    assert_error(
        &[LEGACY, PARQUET, "--key", "nope"],
        &["key column 'nope'", "columns in the source"],
    );
    assert_error(
        &[LEGACY, PARQUET, "--table", "nope"],
        &["table 'nope' not found"],
    );
    // An empty key column is never silently dropped (that would turn a keyed diff keyless).
    assert_error(&[LEGACY, PARQUET, "--key", ""], &["empty column name"]);
    assert_error(&[LEGACY, PARQUET, "--key", "id,"], &["empty column name"]);
    assert_error(
        &[LEGACY, "postgres://reckon:s3cret@127.0.0.1:1/x"],
        &["cannot connect"],
    );
    let r = reckon(&["diff", LEGACY, "postgres://reckon:s3cret@127.0.0.1:1/x"]);
    assert!(
        !r.stderr.contains("s3cret"),
        "password leaked: {}",
        r.stderr
    );
    assert_error(
        &[LEGACY, PARQUET, "--rule", "name=bogus"],
        &["unknown rule 'bogus'"],
    );
    assert_error(
        &[LEGACY, PARQUET, "--memory-limit", "lots"],
        &["--memory-limit 'lots'"],
    );
    // A misspelt sensitive column protects nothing: refused, on the command line and in a mapping.
    assert_error(
        &[LEGACY, PARQUET, "--sensitive", "emial"],
        &["--sensitive column 'emial'"],
    );
    let dir = tempdir();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[table]]\nsource = \"customers\"\ntarget = \"migrated\"\nsensitive = [\"emial\"]\n",
    )
    .unwrap();
    assert_error(
        &[LEGACY, PARQUET, "--mapping", bad.to_str().unwrap()],
        &["column 'emial' (sensitive)"],
    );
    std::fs::write(
        &bad,
        "[[table]]\nsource = \"customers\"\ntarget = \"migrated\"\nkeys = [\"id\"]\n",
    )
    .unwrap();
    assert_error(
        &[LEGACY, PARQUET, "--mapping", bad.to_str().unwrap()],
        &["line 4", "keys"],
    );
    std::fs::write(&bad, "[[table]]\nsource = \"customers\"\ntarget = \"migrated\"\n[table.rules]\nname = [\"trim\", \"abs=x\"]\n").unwrap();
    assert_error(
        &[LEGACY, PARQUET, "--mapping", bad.to_str().unwrap()],
        &["line 5", "rules.name"],
    );
    std::fs::write(
        &bad,
        "[[table]]\nsource = \"customers\"\ntarget = \"migrated\"\nexclude = [\"nope\"]\n",
    )
    .unwrap();
    assert_error(
        &[LEGACY, PARQUET, "--mapping", bad.to_str().unwrap()],
        &["column 'nope' (exclude)"],
    );
    // A text key paired with an integer key: keys of different kinds never match.
    std::fs::write(&bad, "[[table]]\nsource = \"migrated\"\ntarget = \"migrated\"\nkey = [\"name\"]\nexclude = [\"id\"]\nrename = { name = \"id\" }\n").unwrap();
    assert_error(
        &[PARQUET, PARQUET, "--mapping", bad.to_str().unwrap()],
        &["key column 'name'", "Int64"],
    );
}

#[test]
fn an_out_directory_is_replaced_whole_or_left_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("D");
    let out_s = out.display().to_string();
    let r = reckon(&["diff", LEGACY, PARQUET, "--out", &out_s]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let before = files_of(&out);
    assert_eq!(before.len(), 5);
    // A run that fails while reading (a profile of a long CSV whose last quote never closes)
    // leaves the earlier result byte for byte, and no staging directory behind.
    let mut text = String::from("k,v\n");
    for i in 0..200_000 {
        text.push_str(&format!("{i},x\n"));
    }
    text.push_str("200001,\"never closed\n");
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, &text).unwrap();
    let bad_s = bad.display().to_string();
    let r = reckon(&["profile", &bad_s, "--out", &out_s]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(files_of(&out), before);
    let names = |d: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(tmp.path()), vec!["D", "bad.csv"]);
    // A diff whose pair cannot be read writes its whole report (the pair in error(unreadable))
    // and exits 2: the directory holds that report, all of it.
    let r = reckon(&["diff", &bad_s, &bad_s, "--out", &out_s]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let v: Value = serde_json::from_slice(&std::fs::read(out.join("diff.json")).unwrap()).unwrap();
    assert_eq!(v["tables"][0]["verdict"], "error(unreadable)", "{v}");
    let run: Value = serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["exit_code"], 2, "{run}");
    assert_eq!(names(tmp.path()), vec!["D", "bad.csv"]);
    // A new result replaces the earlier one whole: no diff file stays beside a profile.
    let r = reckon(&["profile", LEGACY, "--out", &out_s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        names(&out),
        vec![
            "profile.html",
            "profile.json",
            "profile.parquet",
            "run.json"
        ]
    );
    assert_eq!(names(tmp.path()), vec!["D", "bad.csv"]);
    // A file reckon did not write is never overwritten: exit 2, before any work.
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let r = reckon(&["diff", LEGACY, PARQUET, "--out", &out_s]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("notes.txt"), "{}", r.stderr);
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"mine");
    assert!(out.join("profile.json").exists());
}

#[test]
fn a_damaged_parquet_file_is_an_error_never_a_shorter_table() {
    // The footer is intact and the pages are not: the decoder fails (or panics) part-way. Read as
    // row groups (Parquet on both sides), as a stream (facing SQLite), or profiled, the file is an
    // error with exit 2, never a table with fewer rows (which would report rows as missing).
    let dir = tempdir();
    let mut bytes = std::fs::read(PARQUET).unwrap();
    let half = bytes.len() / 2;
    let mut damaged = 0;
    for b in bytes[half..].iter_mut() {
        if *b == 0 && damaged < 50 {
            *b = 1;
            damaged += 1;
        }
    }
    let bad = dir.path().join("migrated.parquet");
    std::fs::write(&bad, &bytes).unwrap();
    let bad = bad.to_str().unwrap();
    for args in [
        vec!["diff", PARQUET, bad, "--key", "id"],
        vec!["diff", LEGACY, bad],
        vec!["profile", bad],
    ] {
        let r = reckon(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(bad) && r.stderr.contains("cannot read"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(!r.stdout.contains("missing"), "{args:?}: {}", r.stdout);
    }
}

#[test]
fn every_differing_invalid_utf8_value_is_found_whatever_order_rows_are_left_in() {
    // Rows left after cancelling are encoded again in hash order, not row order: each one's
    // invalid bytes must still be its own. Every note differs (FF against FE), in many rows.
    let dir = tempdir();
    let make = |name: &str, last: u8, extra: bool| -> String {
        let p = dir.path().join(name);
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, note TEXT, code TEXT)")
            .unwrap();
        for i in 0..500i64 {
            let bytes = [0x4d, 0xc3, 0xfc, 0x6c, last];
            let code = if extra && i % 3 == 0 { "b" } else { "a" };
            c.execute(
                "INSERT INTO t VALUES (?1, CAST(?2 AS TEXT), ?3)",
                rusqlite::params![i, &bytes[..], code],
            )
            .unwrap();
        }
        format!("sqlite://{}", p.display())
    };
    let (a, b) = (make("a.db", 0xff, false), make("b.db", 0xfe, true));
    for extra in [&[][..], &["--memory-limit", "1"][..]] {
        let mut args = vec![a.as_str(), b.as_str()];
        args.extend_from_slice(extra);
        let (code, r) = diff_json(&args);
        assert_eq!(code, 1);
        let t = &r["tables"][0];
        assert_eq!(
            t["counts"]["mismatched"], 500,
            "{extra:?}: {:#}",
            t["counts"]
        );
        let note = &t["columns"][1];
        assert_eq!(note["source"], "note");
        assert_eq!(note["mismatched"]["value"], 500, "{extra:?}");
        assert_eq!(note["matched"], 0, "{extra:?}");
    }
}

/// The terminal shows a changed cell so that its two values never look alike: NULL unquoted
/// beside quoted text, NFD's combining mark as a code point, the differing span marked.
#[test]
fn terminal_samples_show_null_invisible_characters_and_the_differing_span() {
    let r = reckon(&[
        "diff",
        "sqlite://fixtures/diff/legacy.db",
        "fixtures/diff/migrated.parquet",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = |key: &str| {
        r.stdout
            .lines()
            .find(|l| l.contains(&format!(" {key} ")))
            .unwrap_or_else(|| panic!("no row {key}: {}", r.stdout))
            .to_string()
    };
    let note = line("id=5");
    assert!(
        note.contains("┆ NULL ") && note.contains("┆ \"\" "),
        "{note}"
    );
    assert!(
        line("id=7").contains("\"Z⟦u\\u{308}⟧rich\""),
        "{}",
        line("id=7")
    );
    assert!(
        line("id=8").contains("\"Möncheng⟦ladbach⟧\""),
        "{}",
        line("id=8")
    );
}

#[test]
fn rows_on_one_side_only_carry_their_values_in_every_output_and_samples_show_in_key_order() {
    use arrow::array::{Array, AsArray};
    let dir = tempdir();
    let out = dir.path().join("d");
    let r = reckon(&["diff", LEGACY, PARQUET, "--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // id=14 is only in the source (Amelia Ross, Paris), id=15 only in the target (Henry Lane).
    let rep: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("diff.json")).unwrap()).unwrap();
    let samples = rep["tables"][0]["samples"].as_array().unwrap();
    let by_key = |k: &str| {
        samples
            .iter()
            .find(|s| s["key_text"] == k)
            .unwrap_or_else(|| panic!("no sample {k}"))
    };
    let value = |s: &Value, col: &str| {
        s["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["column"] == col)
            .map(|v| v["value"].clone())
    };
    let missing = by_key("id=14");
    assert_eq!(missing["status"], "missing");
    assert_eq!(value(missing, "name"), Some(Value::from("Amelia Ross")));
    assert_eq!(value(missing, "city"), Some(Value::from("Paris")));
    assert_eq!(value(missing, "id"), None, "the key is not repeated");
    let names: Vec<&str> = missing["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["column"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["name", "email", "city", "balance", "joined", "active", "note"]
    );
    let extra = by_key("id=15");
    assert_eq!(extra["status"], "extra");
    assert_eq!(value(extra, "name"), Some(Value::from("Henry Lane")));
    assert!(
        samples
            .iter()
            .filter(|s| s["status"] == "changed")
            .all(|s| s.get("values").is_none()),
        "a changed row lists its cells, not its values"
    );
    // diff_rows.parquet, as any Parquet reader sees it.
    let batch = first_parquet_batch(&out.join("diff_rows.parquet"));
    let keys = batch.column_by_name("key").unwrap().as_string::<i32>();
    let values = batch.column_by_name("values").unwrap().as_list::<i32>();
    let row = (0..batch.num_rows())
        .find(|&i| keys.value(i) == "id=15")
        .unwrap();
    let vs = values.value(row);
    let vs = vs.as_struct();
    let (cols, vals) = (
        vs.column(0).as_string::<i32>(),
        vs.column(1).as_string::<i32>(),
    );
    let at = (0..vs.len()).find(|&i| cols.value(i) == "name").unwrap();
    assert_eq!(vals.value(at), "Henry Lane");
    let changed = (0..batch.num_rows())
        .find(|&i| keys.value(i) == "id=7")
        .unwrap();
    assert_eq!(values.value(changed).len(), 0);
    // The page shows them as the terminal does (quoted text; the quotes escaped in HTML).
    let html = std::fs::read_to_string(out.join("diff.html")).unwrap();
    for name in ["Amelia Ross", "Henry Lane"] {
        assert!(html.contains(&format!("&quot;{name}&quot;")), "{name}");
    }
    // The terminal shows samples by key (9 before 10).
    let ids: Vec<u32> = r
        .stdout
        .lines()
        .filter_map(|l| l.split(" id=").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    assert!(ids.len() >= 5, "{}", r.stdout);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "not in key order: {ids:?}"
    );
    // A missing row's values on the source side, an extra row's on the target side, NULL apart
    // from the text 'NULL'.
    let (src, tgt) = (dir.path().join("s.csv"), dir.path().join("t.csv"));
    std::fs::write(&src, "id,name,note\n1,a,x\n2,b,\n4,NULL,z\n").unwrap();
    std::fs::write(&tgt, "id,name,note\n1,a,x\n3,c,y\n").unwrap();
    let r = reckon(&[
        "diff",
        src.to_str().unwrap(),
        tgt.to_str().unwrap(),
        "--key",
        "id",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let line = |key: &str| {
        r.stdout
            .lines()
            .find(|l| l.contains(&format!(" {key} ")))
            .unwrap_or_else(|| panic!("no {key}: {}", r.stdout))
            .trim_matches(|c| c == '│' || c == ' ')
            .split('┆')
            .map(|c| c.trim().to_string())
            .collect::<Vec<_>>()
    };
    let two = line("id=2");
    assert_eq!(two[1], "missing");
    assert_eq!(
        (two[4].as_str(), two[5].as_str()),
        ("name=\"b\", note=NULL", "")
    );
    let three = line("id=3");
    assert_eq!(three[1], "extra");
    assert_eq!(
        (three[4].as_str(), three[5].as_str()),
        ("", "name=\"c\", note=\"y\"")
    );
    assert_eq!(line("id=4")[4], "name=\"NULL\", note=\"z\"");
}
