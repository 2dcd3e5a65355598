//! `cargo bench --bench migrate`: `reckon migrate` of the PostgreSQL copy of the standard 5M-row
//! table (`bench_src`, loaded by `benches/gen_data.py`; one unit, key `id`, verification
//! included) into an empty table, beside a binary `COPY … TO STDOUT | COPY … FROM STDIN` pipe of
//! the same table, each its own process, in one run (`benches/peers.py migrate`); the same rows
//! from `src.parquet` into the same empty table beside that pipe; then the
//! first 1M ids into MariaDB beside `COPY … TO STDOUT | LOAD DATA LOCAL INFILE`. Target
//! (issue 15): ≤ 1.5× the pipe, peak RSS ≤ 1 GiB.

// Only `data_dir` and `peers` are used here.
#[allow(dead_code)]
mod common;

fn main() {
    let dir = common::data_dir();
    println!("reckon migrate benchmark — PostgreSQL bench_src → an empty copy");
    common::peers("migrate", &dir);
}
