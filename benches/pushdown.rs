//! `cargo bench --bench pushdown`: `reckon diff --pushdown` on the PostgreSQL copies of the
//! standard 5M-row pair that `benches/gen_data.py` loads (bench_src, bench_tgt; `BENCH_PG`),
//! beside reladiff (hashdiff on identical tables, joindiff on the 1 % changed pair), reckon
//! streaming and a binary `\copy` of one table, each its own process, in one run
//! (`benches/peers.py pushdown`).

// Only `data_dir` and `peers` are used here.
#[allow(dead_code)]
mod common;

fn main() {
    let dir = common::data_dir();
    println!("reckon diff --pushdown benchmark — PostgreSQL bench_src, bench_tgt");
    common::peers("pushdown", &dir);
}
