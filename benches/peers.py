#!/usr/bin/env python3
"""reckon and its peers on the same files, in one run (benchmark, not a test).

Each tool runs as its own process, limited to the same number of threads, `--runs` times; the
table shows the median wall time, the peak RSS of that process (from wait4), and reckon's time
as a ratio of each peer's. The peers' SQL is the one in shared/PEERS.md.

    python3 -m venv ~/.cache/reckon-bench/venv
    ~/.cache/reckon-bench/venv/bin/pip install numpy polars pyarrow duckdb
    ~/.cache/reckon-bench/venv/bin/python benches/gen_data.py --rows 5000000 --also '' --no-pg
    cargo build --release
    ~/.cache/reckon-bench/venv/bin/python benches/peers.py diff \\
        --reckon $CARGO_TARGET_DIR/release/reckon
    ~/.cache/reckon-bench/venv/bin/python benches/peers.py profile \\
        --reckon $CARGO_TARGET_DIR/release/reckon

`diff` compares src.parquet with tgt.parquet by `id` (reckon classifies every differing cell;
DuckDB and polars only count); `profile` profiles src.parquet (DuckDB SUMMARIZE, polars describe
plus exact n_unique, and the floor: DuckDB decoding and hashing every column).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

COLS = ["customer_id", "amount", "price", "created_at", "birth_date", "status", "name", "email",
        "is_active", "qty", "note"]

DUCKDB_DIFF = """
import duckdb, sys
con = duckdb.connect(); con.execute("SET threads={threads}")
cols = ", ".join({cols!r})
q = f'''WITH s AS (SELECT id, hash({{cols}}) AS h FROM read_parquet('{src}')),
        t AS (SELECT id, hash({{cols}}) AS h FROM read_parquet('{tgt}'))
SELECT count(*) FILTER (WHERE s.id IS NOT NULL AND t.id IS NOT NULL AND s.h <> t.h),
       count(*) FILTER (WHERE t.id IS NULL), count(*) FILTER (WHERE s.id IS NULL)
FROM s FULL OUTER JOIN t ON s.id = t.id'''
print(con.execute(q).fetchone())
"""

POLARS_DIFF = """
import os
os.environ["POLARS_MAX_THREADS"] = "{threads}"
import polars as pl
cols = {cols!r}
def h(p):
    return pl.scan_parquet(p).select("id", pl.struct(cols).hash().alias("h"))
j = h("{src}").join(h("{tgt}"), on="id", how="full", suffix="_t", coalesce=False).collect()
changed = j.filter(pl.col("id").is_not_null() & pl.col("id_t").is_not_null() & (pl.col("h") != pl.col("h_t"))).height
print((changed, j.filter(pl.col("id_t").is_null()).height, j.filter(pl.col("id").is_null()).height))
"""

DUCKDB_SUMMARIZE = """
import duckdb
con = duckdb.connect(); con.execute("SET threads={threads}")
print(len(con.execute("SUMMARIZE SELECT * FROM read_parquet('{src}')").fetchall()))
"""

DUCKDB_FLOOR = """
import duckdb
con = duckdb.connect(); con.execute("SET threads={threads}")
cols = ["id"] + {cols!r}
print(con.execute("SELECT " + ", ".join(f"sum(hash({{c}}))" for c in cols) + " FROM read_parquet('{src}')").fetchone()[0])
"""

POLARS_PROFILE = """
import os
os.environ["POLARS_MAX_THREADS"] = "{threads}"
import polars as pl
df = pl.read_parquet("{src}")
d = df.describe()
u = df.select(pl.all().n_unique())
print(d.height, u.row(0)[0])
"""


def run(cmd, env=None):
    """Runs cmd; returns (seconds, peak RSS MiB, exit code, stdout)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    return secs, usage.ru_maxrss / 1024.0, p.returncode, out.decode(errors="replace")


def measure(label, cmd, runs, env=None, ok=(0,)):
    times, rss, out = [], [], ""
    for _ in range(runs):
        s, m, code, out = run(cmd, env)
        if code not in ok:
            sys.exit(f"{label} failed with exit code {code}: {cmd}")
        times.append(s)
        rss.append(m)
    return {"tool": label, "seconds": statistics.median(times), "rss": max(rss), "out": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["diff", "profile"])
    ap.add_argument("--reckon", required=True)
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/reckon-bench/data/n5000000"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    src, tgt = os.path.join(a.data, "src.parquet"), os.path.join(a.data, "tgt.parquet")
    py = sys.executable
    fmt = dict(threads=a.threads, cols=COLS, src=src, tgt=tgt)
    rows = []
    if a.task == "diff":
        r = measure("reckon diff", [a.reckon, "diff", src, tgt, "--key", "id", "--threads",
                                    str(a.threads), "--json"], a.runs, ok=(0, 1))
        c = json.loads(r["out"])["tables"][0]["counts"]
        r["out"] = f"changed {c['mismatched']} missing {c['missing']} extra {c['extra']} (cells classified)"
        rows.append(r)
        rows.append(measure("DuckDB hash-join diff", [py, "-c", DUCKDB_DIFF.format(**fmt)], a.runs))
        rows.append(measure("polars hash diff", [py, "-c", POLARS_DIFF.format(**fmt)], a.runs))
        man = os.path.join(a.data, "manifest.json")
        if os.path.exists(man):
            m = json.load(open(man))
            print(f"manifest: changed {m['rows_changed']} missing {m['only_in_source']} "
                  f"extra {m['only_in_target']}")
    else:
        rows.append(measure("reckon profile", [a.reckon, "profile", src, "--threads",
                                               str(a.threads), "--json"], a.runs))
        rows[-1]["out"] = ""
        rows.append(measure("DuckDB SUMMARIZE", [py, "-c", DUCKDB_SUMMARIZE.format(**fmt)], a.runs))
        rows.append(measure("polars describe + n_unique", [py, "-c", POLARS_PROFILE.format(**fmt)],
                            a.runs))
        rows.append(measure("floor: DuckDB decode + hash", [py, "-c", DUCKDB_FLOOR.format(**fmt)],
                            a.runs))
    base = rows[0]["seconds"]
    print(f"{a.task}, {os.path.basename(a.data)}, {a.threads} threads, median of {a.runs}")
    print(f"{'tool':32} {'seconds':>8} {'peak MiB':>9} {'reckon/this':>11}  output")
    for r in rows:
        print(f"{r['tool']:32} {r['seconds']:8.2f} {r['rss']:9.0f} {base / r['seconds']:11.2f}  "
              f"{r['out'].strip()[:80]}")


if __name__ == "__main__":
    main()
