//! Benchmark (not a test): `reckon diff` on the standard 5,000,000-row table and its target copy
//! (49,994 changed rows in 7 classes, 5,000 deleted, 5,000 inserted), against the floor of reading
//! the same inputs into Arrow.
//!
//! ```sh
//! pip install numpy polars pyarrow
//! python3 benches/gen_data.py --rows 5000000 --also '' --dsn postgresql://postgres@127.0.0.1:5432/test
//! cargo bench --bench diff        # RECKON_BENCH_DATA=DIR to override; --no-pg data skips PG
//! ```
//!
//! Prints, from one run: Parquet↔Parquet diff time vs reading both files, one thread and with
//! their row groups decoded in parallel (the floor; target ≤ 1.5×), and
//! when the manifest names a PostgreSQL table, PostgreSQL↔Parquet diff time vs reading the PG
//! table through the same connectorx path (target ≤ 1.3×); rows/s; peak RSS (VmHWM, target
//! ≤ 2 GiB); and the counts, checked against the generator's manifest.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use reckon::diff::plan::{plan, Engine, PlanRequest};
use reckon::diff::{diff_table, DiffOptions, NullSink, TableDiff};
use reckon::source::{self, SourceSpec, TableName, CHUNK_ROWS};

fn read_parquet(path: &PathBuf) -> usize {
    let file = std::fs::File::open(path).expect("open");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .with_batch_size(CHUNK_ROWS)
        .build()
        .expect("reader");
    reader.map(|b| b.expect("batch").num_rows()).sum()
}

/// Rows of both files decoded at once, every row group a parallel task: what decoding alone
/// costs at this thread count.
fn read_parquet_parallel(paths: &[&PathBuf]) -> usize {
    use rayon::prelude::*;
    let groups: Vec<(&PathBuf, usize)> = paths
        .iter()
        .flat_map(|p| {
            let file = std::fs::File::open(p).expect("open");
            let n = ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .metadata()
                .num_row_groups();
            (0..n).map(move |g| (*p, g))
        })
        .collect();
    groups
        .par_iter()
        .map(|(p, g)| {
            let file = std::fs::File::open(p).expect("open");
            ParquetRecordBatchReaderBuilder::try_new(file)
                .expect("parquet")
                .with_row_groups(vec![*g])
                .with_batch_size(CHUNK_ROWS)
                .build()
                .expect("reader")
                .map(|b| b.expect("batch").num_rows())
                .sum::<usize>()
        })
        .sum()
}

fn run_diff(
    src: &str,
    src_table: Option<&str>,
    tgt: &str,
    engines: (Engine, Engine),
) -> (f64, TableDiff) {
    let t = Instant::now();
    let mut s = source::open(&SourceSpec::parse(src).expect("spec")).expect("open source");
    let mut g = source::open(&SourceSpec::parse(tgt).expect("spec")).expect("open target");
    let st = s.tables().expect("tables");
    let sm = match src_table {
        Some(n) => st
            .iter()
            .find(|m| TableName::parse(n).matches(&m.name))
            .expect("table")
            .clone(),
        None => st[0].clone(),
    };
    let gm = g.tables().expect("tables")[0].clone();
    let req = PlanRequest {
        key: Some(vec!["id".into()]),
        ..PlanRequest::default()
    };
    let p = plan(&sm, engines.0, &gm, engines.1, &req).expect("plan");
    let d = diff_table(
        s.as_mut(),
        g.as_mut(),
        &p,
        &DiffOptions::default(),
        &mut NullSink,
        &|_, _| {},
    )
    .expect("diff");
    (t.elapsed().as_secs_f64(), d)
}

fn report(
    label: &str,
    floor_label: &str,
    floor: f64,
    secs: f64,
    d: &TableDiff,
    target: f64,
    man: &serde_json::Value,
) {
    let c = &d.counts;
    println!("  {floor_label:<38} {floor:8.2} s");
    println!(
        "  {label:<38} {secs:8.2} s   ratio {:5.2}× (target ≤ {target}×)",
        secs / floor
    );
    println!(
        "  {:<38} {:8.0} rows/s   peak RSS so far {:6.0} MiB",
        "throughput (both sides)",
        (c.source_rows + c.target_rows) as f64 / secs,
        common::peak_rss_mib()
    );
    println!(
        "  counts: mismatched {} (manifest {}), missing {} ({}), extra {} ({}), classes {:?}",
        c.mismatched,
        man["rows_changed"],
        c.missing,
        man["only_in_source"],
        c.extra,
        man["only_in_target"],
        d.classes
    );
}

fn main() {
    let dir = std::env::var("RECKON_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/reckon-bench/data/n5000000")
        });
    let (src, tgt) = (dir.join("src.parquet"), dir.join("tgt.parquet"));
    if !src.exists() || !tgt.exists() {
        eprintln!(
            "no benchmark data in {}: run benches/gen_data.py first (see benches/diff.rs)",
            dir.display()
        );
        std::process::exit(2);
    }
    let man: serde_json::Value = std::fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    println!(
        "reckon diff benchmark — {} ({} threads)",
        dir.display(),
        rayon::current_num_threads()
    );

    // Parquet ↔ Parquet.
    let t = Instant::now();
    let rows = read_parquet(&src) + read_parquet(&tgt);
    let serial = t.elapsed().as_secs_f64();
    let t = Instant::now();
    assert_eq!(read_parquet_parallel(&[&src, &tgt]), rows);
    let floor = t.elapsed().as_secs_f64();
    let (secs, d) = run_diff(
        src.to_str().unwrap(),
        None,
        tgt.to_str().unwrap(),
        (Engine::Parquet, Engine::Parquet),
    );
    assert_eq!((d.counts.source_rows + d.counts.target_rows) as usize, rows);
    println!("Parquet ↔ Parquet");
    println!(
        "  {:<38} {serial:8.2} s",
        "read both files into Arrow, 1 thread"
    );
    report(
        "diff",
        "floor: read both files, row groups ∥",
        floor,
        secs,
        &d,
        1.5,
        &man,
    );

    // PostgreSQL ↔ Parquet, when the generator loaded PostgreSQL.
    let pg = &man["postgres"];
    if let (Some(dsn), Some(table)) = (pg["dsn"].as_str(), pg["src_table"].as_str()) {
        let url = dsn.replacen("postgresql://", "postgres://", 1);
        let t = Instant::now();
        let mut s = source::open(&SourceSpec::parse(&url).expect("spec")).expect("open PG");
        let meta = s
            .tables()
            .expect("tables")
            .into_iter()
            .find(|m| TableName::parse(table).matches(&m.name))
            .expect("bench table");
        let n: usize = s
            .read(&meta)
            .expect("read")
            .map(|c| c.expect("chunk").batch.num_rows())
            .sum();
        let floor = t.elapsed().as_secs_f64();
        let (secs, d) = run_diff(
            &url,
            Some(table),
            tgt.to_str().unwrap(),
            (Engine::Postgres, Engine::Parquet),
        );
        assert_eq!(d.counts.source_rows as usize, n);
        println!("PostgreSQL ↔ Parquet");
        report(
            "diff",
            "floor: read the PG table (connectorx)",
            floor,
            secs,
            &d,
            1.3,
            &man,
        );
        // PostgreSQL ↔ PostgreSQL against reading both tables.
        if let Some(tt) = pg["tgt_table"].as_str() {
            let t = Instant::now();
            let mut n = 0usize;
            for name in [table, tt] {
                let meta = s
                    .tables()
                    .expect("tables")
                    .into_iter()
                    .find(|m| TableName::parse(name).matches(&m.name))
                    .expect("bench table");
                n += s
                    .read(&meta)
                    .expect("read")
                    .map(|c| c.expect("chunk").batch.num_rows())
                    .sum::<usize>();
            }
            let floor = t.elapsed().as_secs_f64();
            let (secs, d) = run_pg_pg(&url, table, tt);
            assert_eq!((d.counts.source_rows + d.counts.target_rows) as usize, n);
            println!("PostgreSQL ↔ PostgreSQL");
            report(
                "diff",
                "floor: read both PG tables (connectorx)",
                floor,
                secs,
                &d,
                1.3,
                &man,
            );
        }
    } else {
        println!("PostgreSQL ↔ Parquet: skipped (data generated with --no-pg)");
    }
    println!("peak RSS {:.0} MiB (target ≤ 1024)", common::peak_rss_mib());
    threads_and_peers(&src, &tgt, &dir);
}

/// PostgreSQL ↔ PostgreSQL through the library, timed.
fn run_pg_pg(url: &str, s: &str, t: &str) -> (f64, TableDiff) {
    let started = Instant::now();
    let spec = SourceSpec::parse(url).expect("spec");
    let mut a = source::open(&spec).expect("open");
    let mut b = source::open(&spec).expect("open");
    let sm = a
        .tables()
        .expect("tables")
        .into_iter()
        .find(|m| TableName::parse(s).matches(&m.name))
        .expect("source table");
    let tm = b
        .tables()
        .expect("tables")
        .into_iter()
        .find(|m| TableName::parse(t).matches(&m.name))
        .expect("target table");
    let req = PlanRequest {
        key: Some(vec!["id".into()]),
        ..PlanRequest::default()
    };
    let p = plan(&sm, Engine::Postgres, &tm, Engine::Postgres, &req).expect("plan");
    let d = diff_table(
        a.as_mut(),
        b.as_mut(),
        &p,
        &DiffOptions::default(),
        &mut NullSink,
        &|_, _| {},
    )
    .expect("diff");
    (started.elapsed().as_secs_f64(), d)
}

/// The command-line binary at 1 and 2 threads on the Parquet pair, then the peers (DuckDB,
/// polars) beside it when the venv of `benches/peers.py` exists.
fn threads_and_peers(src: &std::path::Path, tgt: &std::path::Path, dir: &std::path::Path) {
    let bin = env!("CARGO_BIN_EXE_reckon");
    let time = |threads: &str| {
        let t = Instant::now();
        let out = std::process::Command::new(bin)
            .args([
                "diff",
                src.to_str().unwrap(),
                tgt.to_str().unwrap(),
                "--key",
                "id",
            ])
            .args(["--threads", threads, "--json"])
            .output()
            .expect("run reckon");
        assert!(matches!(out.status.code(), Some(0 | 1)), "reckon failed");
        t.elapsed().as_secs_f64()
    };
    let (one, two) = (time("1"), time("2"));
    println!(
        "threads: 1 → {one:.2} s, 2 → {two:.2} s ({:.2}× faster; target ≥ 1.8×)",
        one / two
    );
    common::peers("diff", dir);
}
