//! `reckon profile` on Parquet and CSV files, the output files, masking and determinism.

use crate::common::*;

#[test]
fn parquet_types_are_profiled_in_their_own_type() {
    let r = profile_json(&["fixtures/shop/orders.parquet"]);
    assert_eq!(table(&r, "orders")["rows"], 60);
    let total = column(&r, "orders", "total");
    assert_eq!(total["kind"], "decimal(10,2)");
    assert_eq!(total["min"], "5.00");
    assert_eq!(total["max"], "797.99");
    let d = column(&r, "orders", "order_date");
    assert_eq!(d["kind"], "date");
    assert_eq!(d["min"], "2024-01-02");
    assert_eq!(d["max"], "2024-04-29");
    assert_ne!(d["top_values"][0]["value"], "1970-01-01");
    let ts = column(&r, "orders", "created_at");
    assert_eq!(ts["kind"], "timestamp[us, UTC]");
    assert_eq!(ts["unique"], true);
    assert_eq!(
        column(&r, "orders", "status")["top_values"][0],
        serde_json::json!({"value": "paid", "count": 24, "share": 0.4})
    );
}

#[test]
fn csv_keeps_quoted_empty_apart_from_null_and_strips_the_bom() {
    let r = profile_json(&["fixtures/shop/customers.csv"]);
    let t = table(&r, "customers");
    assert_eq!(t["rows"], 40);
    assert_eq!(t["columns"][0]["name"], "id");
    let note = column(&r, "customers", "note");
    assert_eq!(note["nulls"], 26);
    assert_eq!(note["empty"], 2);
    assert_eq!(note["whitespace_only"], 1);
    assert_eq!(
        encoding(column(&r, "customers", "first_name"), "mojibake").0,
        2
    );
    assert_eq!(encoding(note, "non-nfc").0, 1);
    let mut got = date_formats(column(&r, "customers", "signup_date"));
    got.sort();
    assert_eq!(got.len(), 4);
    // id is text in a CSV, but its values are numbers: ranged as numbers, not as text.
    let id = column(&r, "customers", "id");
    assert_eq!(id["min"], "1");
    assert_eq!(id["max"], "40");
}

#[test]
fn out_dir_gets_parquet_json_and_html() {
    let dir = tempdir();
    let (_, out) = profile_out(&dir, "shop", &["sqlite://fixtures/shop/shop.db"]);
    for f in ["profile.parquet", "profile.json", "profile.html"] {
        assert!(
            out.join(f)
                .metadata()
                .map(|m| m.len() > 100)
                .unwrap_or(false),
            "{f} missing"
        );
    }
    // One Parquet row per column, with typed statistics.
    let file = std::fs::File::open(out.join("profile.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = 0;
    for b in reader {
        let b = b.unwrap();
        rows += b.num_rows();
        let schema = b.schema();
        assert_eq!(
            schema.field_with_name("nulls").unwrap().data_type(),
            &arrow::datatypes::DataType::UInt64
        );
        assert_eq!(
            schema
                .field_with_name("format_version")
                .unwrap()
                .data_type(),
            &arrow::datatypes::DataType::UInt32
        );
        assert!(matches!(
            schema.field_with_name("top_values").unwrap().data_type(),
            arrow::datatypes::DataType::List(_)
        ));
        // Without --pushdown, no statistic is claimed from SQL and nothing was sampled.
        for c in ["exact_in_sql", "sampled_rows"] {
            let col = b.column_by_name(c).unwrap();
            assert_eq!(col.null_count(), col.len(), "{c}");
        }
        // customers.id (1..40, the first row): twenty bins of two, from 1 to 40.
        let hist = b
            .column_by_name("histogram")
            .unwrap()
            .as_any()
            .downcast_ref::<arrow::array::ListArray>()
            .unwrap()
            .value(0);
        let bins = hist
            .as_any()
            .downcast_ref::<arrow::array::StructArray>()
            .unwrap();
        let text = |i: usize| {
            bins.column(i)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .unwrap()
                .clone()
        };
        let counts = bins
            .column(2)
            .as_any()
            .downcast_ref::<arrow::array::UInt64Array>()
            .unwrap();
        assert_eq!(arrow::array::Array::len(bins), 20);
        assert_eq!((text(0).value(0), text(1).value(19)), ("1", "40"));
        assert!(counts.iter().all(|c| c == Some(2)));
    }
    assert_eq!(rows, 9 + 6 + 4);
}

#[test]
fn results_are_byte_identical_across_runs_and_thread_counts() {
    let dir = tempdir();
    let (_, a) = profile_out(
        &dir,
        "a",
        &["sqlite://fixtures/shop/shop.db", "--threads", "1"],
    );
    let (_, b) = profile_out(
        &dir,
        "b",
        &["sqlite://fixtures/shop/shop.db", "--threads", "4"],
    );
    for f in ["profile.parquet", "profile.html"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
    let strip = |p: &std::path::Path| {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
        for t in v["tables"].as_array_mut().unwrap() {
            t["seconds"] = 0.into();
        }
        v
    };
    assert_eq!(
        strip(&a.join("profile.json")),
        strip(&b.join("profile.json"))
    );
}

#[test]
fn sensitive_columns_never_show_raw_values() {
    let dir = tempdir();
    let (run, out) = profile_out(
        &dir,
        "masked",
        &[
            "sqlite://fixtures/shop/shop.db",
            "--sensitive",
            "email,first_name,customer_email",
        ],
    );
    let mut texts = vec![run.stdout.clone(), run.stderr.clone()];
    for f in ["profile.json", "profile.html", "profile.parquet"] {
        texts.push(String::from_utf8_lossy(&std::fs::read(out.join(f)).unwrap()).into_owned());
    }
    for raw in [
        "mia.hernandez",
        "MIA.HERNANDEZ",
        "ghost.buyer",
        "Abigail",
        "AndrÃ©",
        "abigail.lee",
    ] {
        for t in &texts {
            assert!(!t.contains(raw), "raw value {raw} leaked");
        }
    }
    let r = profile_json(&["sqlite://fixtures/shop/shop.db", "--sensitive", "email"]);
    let email = column(&r, "customers", "email");
    assert_eq!(email["sensitive"], true);
    assert_eq!(email["nulls"], 3, "counts stay");
    assert_eq!(email["min"], "AAA.A+@A+.AAA", "min shown as its shape");
    // An unmasked column still shows values.
    assert_eq!(
        column(&r, "customers", "state")["top_values"][0]["value"],
        "CA"
    );
}

#[test]
fn a_column_name_two_columns_share_is_a_finding_and_both_are_profiled() {
    let dir = tempdir();
    let p = dir.path().join("dup.csv");
    std::fs::write(&p, "k,amount,note,amount\n1,2,a,3\n2,4,b,5\n").unwrap();
    let r = profile_json(&[p.to_str().unwrap()]);
    assert_eq!(
        finding_codes(&r, "dup", Some("amount")),
        vec!["duplicate-column-name"]
    );
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "duplicate-column-name")
        .unwrap();
    assert_eq!(f["count"], 2);
    assert!(
        f["message"].as_str().unwrap().contains("positions 2, 4"),
        "{f}"
    );
    // No finding for names that are not shared.
    assert!(finding_codes(&r, "dup", Some("k")).is_empty());
    let cols = table(&r, "dup")["columns"].as_array().unwrap();
    assert_eq!(cols.len(), 4);
    assert_eq!(cols[1]["max"], "4");
    assert_eq!(cols[3]["max"], "5");
}

#[test]
fn exactly_the_limit_of_distinct_values_is_exact_and_one_more_is_not() {
    // 200,000 rows (several chunks, merged), `v` cycling through exactly 1,000 values and `w`
    // through 1,001: under `--exact-distinct-limit 1000`, `v` is exact and `w` is a sketch.
    let dir = tempdir();
    let p = dir.path().join("limit.csv");
    let mut text = String::from("v,w\n");
    for i in 0..200_000u32 {
        text.push_str(&format!("k{},k{}\n", i % 1000, i % 1001));
    }
    std::fs::write(&p, text).unwrap();
    let path = p.to_str().unwrap();
    let r = profile_json(&[path, "--exact-distinct-limit", "1000", "--threads", "2"]);
    let v = column(&r, "limit", "v");
    assert_eq!(
        (&v["distinct"], &v["distinct_exact"]),
        (&1000.into(), &true.into())
    );
    let w = column(&r, "limit", "w");
    assert_eq!(
        w["distinct_exact"], false,
        "1,001 values past a limit of 1,000"
    );
    // A sketch's count is near, not exact (±2.4 %).
    let est = w["distinct"].as_u64().unwrap();
    assert!((977..=1025).contains(&est), "{est}");
    // One below the limit for `v` is past it too.
    let r = profile_json(&[path, "--exact-distinct-limit", "999"]);
    assert_eq!(column(&r, "limit", "v")["distinct_exact"], false);
    let r = profile_json(&[path, "--exact-distinct-limit", "1001"]);
    let w = column(&r, "limit", "w");
    assert_eq!(
        (&w["distinct"], &w["distinct_exact"]),
        (&1001.into(), &true.into())
    );
}

#[test]
fn a_parquet_file_of_many_row_groups_is_profiled_in_row_order_at_any_thread_count() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};

    // 300,000 rows in row groups of 7,000: 43 parts, decoded as parallel tasks and taken in
    // order. Rows from 290,001 on repeat rows 1.. exactly; `v` is NULL on rows 250,001 and
    // 250,002 only. Sample keys name rows by position, so a part taken out of order shows.
    let n = 300_000usize;
    let src = |i: usize| if i >= 290_000 { i - 290_000 } else { i };
    let id: Vec<i64> = (0..n).map(|i| src(i) as i64).collect();
    let v: Vec<Option<i64>> = (0..n)
        .map(|i| (!(250_000..250_002).contains(&src(i))).then_some((src(i) % 1000) as i64))
        .collect();
    let w: Vec<String> = (0..n).map(|i| format!("w{}", src(i) % 5000)).collect();
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(id)) as ArrayRef),
        ("v", Arc::new(Int64Array::from(v)) as ArrayRef),
        ("w", Arc::new(StringArray::from(w)) as ArrayRef),
    ])
    .unwrap();
    let dir = tempdir();
    let path = dir.path().join("groups.parquet");
    write_parquet(&path, &batch, 7_000);
    let path = path.to_str().unwrap();

    let strip = |mut r: serde_json::Value| {
        for t in r["tables"].as_array_mut().unwrap() {
            t["seconds"] = 0.into();
        }
        r
    };
    let one = strip(profile_json(&[path, "--threads", "1"]));
    let three = strip(profile_json(&[path, "--threads", "3"]));
    assert_eq!(one, three, "the same report at 1 and 3 threads");
    let t = table(&one, "groups");
    assert_eq!(t["rows"], 300_000);
    assert_eq!(t["duplicate_rows"], 10_000);
    assert_eq!(
        t["duplicate_samples"],
        serde_json::json!([
            "row 290001",
            "row 290002",
            "row 290003",
            "row 290004",
            "row 290005"
        ])
    );
    let v = column(&one, "groups", "v");
    assert_eq!(v["nulls"], 2);
    assert_eq!(
        v["null_sample_keys"],
        serde_json::json!(["row 250001", "row 250002"])
    );
    // 290,000 distinct ids: past the size where the exact set is filled shard by shard.
    let id = column(&one, "groups", "id");
    assert_eq!(
        (&id["distinct"], &id["distinct_exact"]),
        (&290_000.into(), &true.into())
    );
    assert_eq!(column(&one, "groups", "w")["distinct"], 5000);
    assert_eq!(column(&one, "groups", "v")["distinct"], 1000);
}

#[test]
fn a_column_that_rises_strictly_is_a_key_past_the_distinct_limit() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};

    // 200,000 rows in row groups of 30,000: `id` rises strictly, `v` repeats. Under an exact
    // distinct limit of 100, `id`'s count is an estimate; its rise still makes it unique, and
    // no row a repeat, for certain. In the second file row 150,001 repeats row 150,000 in
    // every column: `id` no longer rises strictly, and the repeat is counted.
    let dir = tempdir();
    let write = |name: &str, id: Vec<i64>| {
        let v: Vec<String> = id.iter().map(|i| format!("v{}", i % 10)).collect();
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(id)) as ArrayRef),
            ("v", Arc::new(StringArray::from(v)) as ArrayRef),
        ])
        .unwrap();
        let path = dir.path().join(name);
        write_parquet(&path, &batch, 30_000);
        path.to_str().unwrap().to_string()
    };
    let rising = write("rising.parquet", (0..200_000).map(|i| i * 3 - 7).collect());
    let r = profile_json(&[&rising, "--exact-distinct-limit", "100"]);
    let t = table(&r, "rising");
    // As many distinct values as rows, exactly (the sketch alone would only estimate them).
    assert_eq!(column(&r, "rising", "id")["distinct_exact"], true);
    assert_eq!(column(&r, "rising", "id")["distinct"], 200_000);
    assert_eq!(column(&r, "rising", "v")["distinct_exact"], true);
    assert_eq!(column(&r, "rising", "id")["unique"], true);
    assert_eq!(t["candidate_keys"], serde_json::json!([["id"]]));
    assert_eq!(t["duplicate_rows"], 0);
    let key_finding = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "no-primary-key")
        .unwrap();
    assert_eq!(
        key_finding["message"],
        "no declared primary key; candidate keys: id"
    );

    let repeat = write(
        "repeat.parquet",
        (0..200_000)
            .map(|i| if i == 150_001 { 150_000 } else { i })
            .collect(),
    );
    let r = profile_json(&[&repeat, "--exact-distinct-limit", "100"]);
    let t = table(&r, "repeat");
    assert_eq!(column(&r, "repeat", "id")["unique"], false);
    assert_eq!(column(&r, "repeat", "id")["distinct_exact"], false);
    assert_eq!(t["duplicate_rows"], 1);
    assert_eq!(t["duplicate_samples"], serde_json::json!(["row 150002"]));
    assert_eq!(t["candidate_keys"], serde_json::json!([]));
}

/// Writes `batch` to a Parquet file in row groups of `group_rows`.
fn write_parquet(path: &std::path::Path, batch: &arrow::array::RecordBatch, group_rows: usize) {
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_size(group_rows)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}
