//! `cargo bench --bench shards`: `reckon diff --shard I/4` and `reckon merge` beside the whole
//! run, streamed on the standard 5M-row Parquet pair (DuckDB's diff beside it) and pushed down
//! on its PostgreSQL copies (bench_src, bench_tgt), each its own process, in one run
//! (`benches/peers.py shards`): one shard's time, the four shards in turn plus the merge, and
//! the merge alone; the merged rows are checked against the whole run's.

// Only `data_dir` and `peers` are used here.
#[allow(dead_code)]
mod common;

fn main() {
    let dir = common::data_dir();
    println!("reckon diff --shard benchmark — Parquet and PostgreSQL 5M pairs");
    common::peers("shards", &dir);
}
