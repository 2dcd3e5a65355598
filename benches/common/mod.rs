//! What the benchmarks share.

/// The process's peak resident memory so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The benchmark data: `RECKON_BENCH_DATA`, else the 5M-row set `benches/gen_data.py` writes.
#[allow(dead_code)]
pub fn data_dir() -> std::path::PathBuf {
    std::env::var("RECKON_BENCH_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/reckon-bench/data/n5000000")
        })
}

/// Runs `benches/peers.py TASK` (reckon beside DuckDB and polars, each its own process) on the
/// data in `dir`, when the venv it documents exists.
pub fn peers(task: &str, dir: &std::path::Path) {
    let python = std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default())
        .join(".cache/reckon-bench/venv/bin/python");
    if !python.exists() {
        println!("peers: skipped (create the venv: see benches/peers.py)");
        return;
    }
    let out = std::process::Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peers.py"))
        .args([task, "--reckon", env!("CARGO_BIN_EXE_reckon")])
        .arg("--data")
        .arg(dir)
        .output();
    match out {
        Ok(o) => print!("{}", String::from_utf8_lossy(&o.stdout)),
        Err(e) => println!("peers: could not run: {e}"),
    }
}
