//! Benchmark (not a test): `reckon profile` on the standard 5,000,000-row × 12-column table,
//! against the floor of just reading the same Parquet file into Arrow.
//!
//! Data: `benches/gen_data.py` (the team's deterministic generator, also used to measure the
//! peers in shared/PEERS.md) writes `$HOME/.cache/reckon-bench/data/n5000000/src.parquet`:
//!
//! ```sh
//! pip install numpy polars pyarrow
//! python3 benches/gen_data.py --rows 5000000 --also '' --no-pg   # add a DSN to load PostgreSQL
//! cargo bench --bench profile                                    # RECKON_BENCH_PARQUET=… to override
//! ```
//!
//! Prints, from one run: the read floor, the profile time, their ratio, rows/s, and peak RSS
//! (VmHWM) after the floor and after the profile; then, when the venv of `benches/peers.py`
//! exists, reckon beside DuckDB SUMMARIZE, polars and DuckDB's decode floor, each its own process.
//! Targets (issue 13): ≤ 0.5× DuckDB, ≤ 2× the floor, peak RSS ≤ 1 GiB.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use reckon::profile::{self, ProfileOptions};
use reckon::source::{self, SourceSpec, CHUNK_ROWS};

fn main() {
    let path = std::env::var("RECKON_BENCH_PARQUET")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/reckon-bench/data/n5000000/src.parquet")
        });
    if !path.exists() {
        eprintln!("no benchmark data at {}: run `python3 benches/gen_data.py --rows 5000000 --also '' --no-pg` first", path.display());
        std::process::exit(2);
    }
    let threads = rayon::current_num_threads();

    // Floor: decode every column of the file into Arrow, same batch size, nothing else.
    let t = Instant::now();
    let file = std::fs::File::open(&path).expect("open");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .with_batch_size(CHUNK_ROWS)
        .build()
        .expect("reader");
    let mut rows = 0usize;
    for b in reader {
        rows += b.expect("batch").num_rows();
    }
    let floor = t.elapsed().as_secs_f64();
    let rss_floor = common::peak_rss_mib();

    // Profile: the same code path as `reckon profile FILE`.
    let t = Instant::now();
    let spec = SourceSpec::parse(path.to_str().unwrap()).expect("spec");
    let mut src = source::open(&spec).expect("open source");
    let tables = src.tables().expect("tables");
    let report =
        profile::profile_tables(src.as_mut(), &tables, &ProfileOptions::default(), &|_| {})
            .expect("profile");
    let prof = t.elapsed().as_secs_f64();
    let rss_prof = common::peak_rss_mib();
    let t0 = &report.tables[0];
    assert_eq!(t0.rows as usize, rows, "profile saw every row");

    println!(
        "reckon profile benchmark — {} ({} rows × {} columns, {threads} threads)",
        path.display(),
        rows,
        t0.columns.len()
    );
    println!("  read floor (parquet → Arrow)  {floor:8.2} s   peak RSS {rss_floor:8.0} MiB");
    println!("  profile                       {prof:8.2} s   peak RSS {rss_prof:8.0} MiB");
    println!(
        "  ratio profile / floor         {:8.2}×  (target ≤ 2×)",
        prof / floor
    );
    println!(
        "  throughput                    {:8.0} rows/s",
        rows as f64 / prof
    );
    println!(
        "  findings                      {:8}",
        report.findings.len()
    );
    for c in &t0.columns {
        println!(
            "    {:<12} distinct {:>9}{} nulls {:>7}",
            c.name,
            c.distinct,
            if c.distinct_exact { " " } else { "~" },
            c.nulls
        );
    }
    if let Some(dir) = path.parent() {
        common::peers("profile", dir);
    }
}
