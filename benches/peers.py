#!/usr/bin/env python3
"""reckon and its peers on the same files, in one run (benchmark, not a test).

Each tool runs as its own process, limited to the same number of threads, `--runs` times; the
table shows the median wall time, the peak RSS of that process (from wait4), and reckon's time
as a ratio of each peer's. The peers' SQL is the one in shared/PEERS.md.

    python3 -m venv ~/.cache/reckon-bench/venv
    ~/.cache/reckon-bench/venv/bin/pip install numpy polars pyarrow duckdb connectorx
    ~/.cache/reckon-bench/venv/bin/python benches/gen_data.py --rows 5000000 --also '' --no-pg
    cargo build --release
    ~/.cache/reckon-bench/venv/bin/python benches/peers.py diff \\
        --reckon $CARGO_TARGET_DIR/release/reckon
    ~/.cache/reckon-bench/venv/bin/python benches/peers.py profile \\
        --reckon $CARGO_TARGET_DIR/release/reckon

`scale` diffs a pair ten times the standard one (50M rows a side: the 5M pair tiled with the ids
shifted, written once into `--data`'s sibling n50000000) under `--memory-limit 1GiB` and again
under 6GiB, prints time and peak RSS of each, checks the counts against ten times the manifest,
and checks that both runs wrote the same diff_rows.parquet and the same diff.json (but for the
`spilled` flag), beside DuckDB's hash-join diff on the same files.

`pushdown` diffs the PostgreSQL copies with `--pushdown`: bench_src against an identical copy
(bench_same, made once) beside reladiff's hashdiff and a `\copy … (format binary)` of one
table; then bench_src against bench_tgt (1 % scattered changes) beside reckon streaming and
reladiff's joindiff.

`pg` diffs the PostgreSQL copies gen_data.py loaded (bench_src, bench_tgt; `--dsn`) with reckon
and with reladiff's joindiff (`pip install reladiff psycopg2-binary` into the same venv).

`diff` compares src.parquet with tgt.parquet by `id` (reckon classifies every differing cell;
DuckDB and polars only count); `profile` profiles src.parquet (DuckDB SUMMARIZE, polars describe
plus exact n_unique, and the floor: DuckDB decoding and hashing every column), then again on one
thread, then src.csv beside polars, then the PostgreSQL copy beside a connectorx read of it.
"""
import argparse
import json
import shutil
import os
import statistics
import subprocess
import sys
import time

COLS = ["customer_id", "amount", "price", "created_at", "birth_date", "status", "name", "email",
        "is_active", "qty", "note"]

DUCKDB_DIFF = """
import duckdb, sys
con = duckdb.connect(); con.execute("SET threads={threads}"); con.execute("SET enable_progress_bar=false")
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
con = duckdb.connect(); con.execute("SET threads={threads}"); con.execute("SET enable_progress_bar=false")
print(len(con.execute("SUMMARIZE SELECT * FROM read_parquet('{src}')").fetchall()))
"""

DUCKDB_FLOOR = """
import duckdb
con = duckdb.connect(); con.execute("SET threads={threads}"); con.execute("SET enable_progress_bar=false")
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

POLARS_CSV_PROFILE = """
import os
os.environ["POLARS_MAX_THREADS"] = "{threads}"
import polars as pl
df = pl.read_csv("{csv}", infer_schema_length=10000)
d = df.describe()
u = df.select(pl.all().n_unique())
print(d.height, u.row(0)[0])
"""

CONNECTORX_FLOOR = """
import connectorx as cx
t = cx.read_sql("{dsn}", "SELECT * FROM bench_src", return_type="arrow")
print(t.num_rows)
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


def tile(small, big, times=10):
    """Writes big/{src,tgt}.parquet: small's files `times` times, ids shifted by 10^7 a copy."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    os.makedirs(big, exist_ok=True)
    for name in ["src", "tgt"]:
        out = os.path.join(big, f"{name}.parquet")
        if os.path.exists(out):
            continue
        f = pq.ParquetFile(os.path.join(small, f"{name}.parquet"))
        with pq.ParquetWriter(out + ".part", f.schema_arrow, compression="zstd") as w:
            for k in range(times):
                for b in f.iter_batches(batch_size=122880):
                    i = b.schema.get_field_index("id")
                    ids = pc.add(b.column(i), pa.scalar(k * 10_000_000, b.column(i).type))
                    w.write_batch(b.set_column(i, "id", ids), row_group_size=122880)
        os.rename(out + ".part", out)


def scale(a, py):
    small = a.data
    big = os.path.join(os.path.dirname(small.rstrip("/")), "n50000000")
    tile(small, big)
    m = json.load(open(os.path.join(small, "manifest.json")))
    src, tgt = os.path.join(big, "src.parquet"), os.path.join(big, "tgt.parquet")
    rows, outs = [], {}
    for limit in ["1GiB", "6GiB"]:
        out = os.path.join(big, f"out-{limit}")
        r = measure(f"reckon diff --memory-limit {limit}",
                    [a.reckon, "diff", src, tgt, "--key", "id", "--threads", str(a.threads),
                     "--memory-limit", limit, "--out", out, "--json"], 1, ok=(0, 1))
        t = json.loads(r["out"])["tables"][0]
        c = t["counts"]
        r["out"] = (f"changed {c['mismatched']} missing {c['missing']} extra {c['extra']} "
                    f"spilled {t['spilled']}")
        rows.append(r)
        outs[limit] = out
    fmt = dict(threads=a.threads, cols=COLS, src=src, tgt=tgt)
    rows.append(measure("DuckDB hash-join diff", [py, "-c", DUCKDB_DIFF.format(**fmt)], 1))
    print(f"expected: changed {10 * m['rows_changed']} missing {10 * m['only_in_source']} "
          f"extra {10 * m['only_in_target']}")
    same_rows = open(os.path.join(outs["1GiB"], "diff_rows.parquet"), "rb").read() == \
        open(os.path.join(outs["6GiB"], "diff_rows.parquet"), "rb").read()

    def summary(d):
        j = json.load(open(os.path.join(d, "diff.json")))
        for t in j["tables"]:
            t.pop("spilled", None)
        return j
    same_json = summary(outs["1GiB"]) == summary(outs["6GiB"])
    print(f"1GiB and 6GiB runs: diff_rows.parquet {'identical' if same_rows else 'DIFFERENT'}, "
          f"diff.json {'identical' if same_json else 'DIFFERENT'} (but for `spilled`)")
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["diff", "profile", "scale", "pg", "pushdown", "shards",
                                     "migrate"])
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--reckon", required=True)
    ap.add_argument("--data", default=os.path.expanduser("~/.cache/reckon-bench/data/n5000000"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-pg", action="store_true", help="profile: leave out the PostgreSQL group")
    a = ap.parse_args()
    src, tgt = os.path.join(a.data, "src.parquet"), os.path.join(a.data, "tgt.parquet")
    py = sys.executable
    fmt = dict(threads=a.threads, cols=COLS, src=src, tgt=tgt)
    rows = []
    if a.task == "scale":
        rows = scale(a, py)
    elif a.task == "pg":
        r = measure("reckon diff", [a.reckon, "diff", a.dsn, a.dsn, "--table", "bench_src:bench_tgt",
                                    "--key", "id", "--threads", str(a.threads), "--json"],
                    a.runs, ok=(0, 1))
        c = json.loads(r["out"])["tables"][0]["counts"]
        r["out"] = f"changed {c['mismatched']} missing {c['missing']} extra {c['extra']}"
        rows.append(r)
        rela = os.path.join(os.path.dirname(py), "reladiff")
        if os.path.exists(rela):
            cols = sum((["-c", c] for c in COLS), [])
            r = measure("reladiff joindiff", [rela, a.dsn, "bench_src", a.dsn, "bench_tgt", "-k",
                                              "id", *cols, "-a", "joindiff", "-s"], a.runs)
            r["out"] = " ".join(l for l in r["out"].splitlines() if "updated" in l or "exclusive" in l)
            rows.append(r)
        else:
            print("reladiff: not installed in this venv (pip install reladiff psycopg2-binary)")
    elif a.task == "pushdown":
        groups = pushdown_groups(a, py)
    elif a.task == "shards":
        groups = shard_groups(a, py, src, tgt, fmt)
    elif a.task == "migrate":
        groups = migrate_groups(a)
    elif a.task == "diff":
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
        groups = profile_groups(a, py, src, fmt)
    if a.task not in ("profile", "pushdown", "shards", "migrate"):
        groups = [("", rows)]
    data = "n50000000, 1 run" if a.task == "scale" else f"{os.path.basename(a.data)}, median of {a.runs}"
    print(f"{a.task}, {data}, {a.threads} threads")
    for title, rows in groups:
        if title:
            print(title)
        base = rows[0]["seconds"]
        print(f"{'tool':32} {'seconds':>8} {'peak MiB':>9} {'reckon/this':>11}  output")
        for r in rows:
            print(f"{r['tool']:32} {r['seconds']:8.2f} {r['rss']:9.0f} "
                  f"{base / r['seconds']:11.2f}  {r['out'].strip()[:80]}")


def migrate_groups(a):
    """PostgreSQL → PostgreSQL, the 5M-row bench_src into an empty copy in another database
    (`reckon_bench`): `reckon migrate` (one unit, key id, verification included) beside a binary
    COPY pipe of the same table (`COPY … TO STDOUT (FORMAT binary) | COPY … FROM STDIN (FORMAT
    binary)`), each from an empty target, alternating, `--runs` times; then the same rows from
    src.parquet into the same empty table, beside that pipe."""
    import tempfile
    base = a.dsn.rsplit("/", 1)[0]
    tdsn = base + "/reckon_bench"
    have = subprocess.run(["psql", a.dsn, "-Atc",
                           "SELECT 1 FROM pg_database WHERE datname = 'reckon_bench'"],
                          capture_output=True, text=True, check=True).stdout.strip()
    if not have:
        subprocess.run(["psql", a.dsn, "-qc", "CREATE DATABASE reckon_bench"], check=True)
    ddl = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "-t", "bench_src", a.dsn],
                         capture_output=True, text=True, check=True).stdout
    ddl = "\n".join(l for l in ddl.splitlines()
                    if not l.startswith("SELECT pg_catalog.set_config") and "OWNER TO" not in l)
    work = tempfile.mkdtemp(prefix="reckon-bench-migrate-")
    plan = os.path.join(work, "plan.toml")
    with open(plan, "w") as f:
        f.write(f'name = "bench"\nsource = "{a.dsn}"\ntarget = "{tdsn}"\n'
                'ledger = "bench_mig_ledger"\nidmap = "bench_mig_idmap"\nbatch_size = 50000\n\n'
                '[[unit]]\nname = "bench"\ntable = "bench_src"\ntarget = "bench_mig"\n'
                'key = ["id"]\n')

    def reset():
        sql = ("DROP TABLE IF EXISTS bench_src, bench_mig, bench_pipe, bench_mig_ledger, "
               "bench_mig_idmap;\n" + ddl + "\nALTER TABLE bench_src RENAME TO bench_mig;\n"
               + ddl.replace("bench_src", "bench_pipe"))
        subprocess.run(["psql", tdsn, "-q", "-v", "ON_ERROR_STOP=1"], input=sql, text=True,
                       check=True, capture_output=True)
    pipe = ["bash", "-c",
            f"psql '{a.dsn}' -q -c 'COPY bench_src TO STDOUT (FORMAT binary)' | "
            f"psql '{tdsn}' -q -c 'COPY bench_pipe FROM STDIN (FORMAT binary)'"]
    mig, cp = [], []
    for _ in range(a.runs):
        reset()
        r = run([a.reckon, "migrate", plan, "--json", "--log", os.path.join(work, "log.jsonl")])
        if r[2] != 0:
            sys.exit(f"reckon migrate failed with exit code {r[2]}: {r[3][:400]}")
        mig.append(r)
        cp.append(run(pipe))
    n = subprocess.run(["psql", tdsn, "-Atc", "SELECT count(*) FROM bench_pipe"],
                       capture_output=True, text=True).stdout.strip()
    out = json.loads(mig[-1][3])[0]
    rows = [{"tool": "reckon migrate (verified)", "seconds": statistics.median(m[0] for m in mig),
             "rss": max(m[1] for m in mig),
             "out": f"{out['status']} rows {out['rows']} written {out['written']} verify {out['verify']}"},
            {"tool": "floor: binary COPY pipe", "seconds": statistics.median(c[0] for c in cp),
             "rss": max(c[1] for c in cp), "out": f"{n} rows, nothing checked"}]
    groups = [("PostgreSQL → PostgreSQL (another database), 5M rows", rows)]
    # Parquet → PostgreSQL: the same rows from src.parquet (sorted by id: read in file order,
    # streamed), beside the same pipe.
    pq_plan = os.path.join(work, "plan_pq.toml")
    with open(pq_plan, "w") as f:
        f.write(f'name = "bench_pq"\nsource = "{os.path.join(a.data, "src.parquet")}"\n'
                f'target = "{tdsn}"\nledger = "bench_mig_ledger"\nidmap = "bench_mig_idmap"\n'
                'batch_size = 50000\n\n[[unit]]\nname = "bench"\ntable = "src"\n'
                'target = "bench_mig"\nkey = ["id"]\n')
    pq = []
    for _ in range(a.runs):
        reset()
        r = run([a.reckon, "migrate", pq_plan, "--json", "--log", os.path.join(work, "log_pq.jsonl")])
        if r[2] != 0:
            sys.exit(f"reckon migrate (Parquet) failed with exit code {r[2]}: {r[3][:400]}")
        pq.append(r)
    out = json.loads(pq[-1][3])[0]
    groups.append(("Parquet (src.parquet) → PostgreSQL, 5M rows", [
        {"tool": "reckon migrate (verified)", "seconds": statistics.median(m[0] for m in pq),
         "rss": max(m[1] for m in pq),
         "out": f"{out['status']} rows {out['rows']} written {out['written']} verify {out['verify']}"},
        rows[1]]))
    my = migrate_mariadb(a, work)
    if my:
        groups.append(my)
    return groups


MARIADB_TABLE = """(id BIGINT PRIMARY KEY, customer_id INT, amount DECIMAL(18,4), price DOUBLE,
  created_at TIMESTAMP(6) NULL, birth_date DATE, status VARCHAR(32), name VARCHAR(64),
  email VARCHAR(64), is_active BOOLEAN, qty INT, note VARCHAR(64))"""


def migrate_mariadb(a, work, n=1_000_000):
    """PostgreSQL → MariaDB, the first 1M ids of bench_src: `reckon migrate` (verified) beside
    `COPY … TO STDOUT | LOAD DATA LOCAL INFILE` of the same rows (text format: tabs, \\N for
    NULL; instants as UTC date-times, booleans as 0/1), each into an empty table."""
    my = ["mariadb", "-h", "127.0.0.1", "-u", "root"]
    if subprocess.run(my + ["-e", "SELECT 1"], capture_output=True).returncode != 0:
        print("MariaDB: not reachable, group skipped")
        return None
    plan = os.path.join(work, "plan_my.toml")
    with open(plan, "w") as f:
        f.write(f'name = "bench_my"\nsource = "{a.dsn}"\n'
                'target = "mysql://root@127.0.0.1:3306/reckon_bench"\n'
                'ledger = "bench_mig_ledger"\nidmap = "bench_mig_idmap"\nbatch_size = 50000\n\n'
                '[[unit]]\nname = "bench"\n'
                f'query = "SELECT * FROM bench_src WHERE id <= {n}"\n'
                'target = "bench_mig"\nkey = ["id"]\n')
    reset = ("CREATE DATABASE IF NOT EXISTS reckon_bench; USE reckon_bench; "
             "DROP TABLE IF EXISTS bench_mig, bench_floor, bench_mig_ledger, bench_mig_idmap; "
             f"CREATE TABLE bench_mig {MARIADB_TABLE}; CREATE TABLE bench_floor {MARIADB_TABLE};")
    select = ("SELECT id, customer_id, amount, price, "
              "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), birth_date, "
              f"status, name, email, is_active::int, qty, note FROM bench_src WHERE id <= {n}")
    load = ["bash", "-c",
            f"psql '{a.dsn}' -q -c \"COPY ({select}) TO STDOUT\" | "
            "mariadb -h 127.0.0.1 -u root --local-infile=1 reckon_bench -e "
            "\"LOAD DATA LOCAL INFILE '/dev/stdin' INTO TABLE bench_floor\""]
    mig, ld = [], []
    for _ in range(a.runs):
        subprocess.run(my + ["-e", reset], check=True)
        r = run([a.reckon, "migrate", plan, "--json", "--log", os.path.join(work, "log_my.jsonl")])
        if r[2] != 0:
            sys.exit(f"reckon migrate (MariaDB) failed with exit code {r[2]}: {r[3][:400]}")
        mig.append(r)
        ld.append(run(load))
    count = subprocess.run(my + ["-N", "-e", "SELECT count(*) FROM reckon_bench.bench_floor"],
                           capture_output=True, text=True).stdout.strip()
    out = json.loads(mig[-1][3])[0]
    rows = [{"tool": "reckon migrate (verified)", "seconds": statistics.median(m[0] for m in mig),
             "rss": max(m[1] for m in mig),
             "out": f"{out['status']} rows {out['rows']} written {out['written']} verify {out['verify']}"},
            {"tool": "floor: COPY | LOAD DATA", "seconds": statistics.median(x[0] for x in ld),
             "rss": max(x[1] for x in ld), "out": f"{count} rows, nothing checked"}]
    return (f"PostgreSQL → MariaDB, first {n:,} ids", rows)


def shard_groups(a, py, src, tgt, fmt, n=4):
    """`reckon diff --shard I/N` + `reckon merge` beside the whole run, streamed (the Parquet
    pair, DuckDB's diff beside it) and pushed down (the PostgreSQL pair, 1 % changed): one
    shard's time (what each of N machines spends), the N shards in turn plus the merge on this
    one machine, and the merge alone."""
    import tempfile
    tmp = tempfile.mkdtemp(prefix="reckon-shards-")

    def counts(d):
        t = json.load(open(os.path.join(d, "diff.json")))["tables"][0]
        c = t["counts"]
        return f"changed {c['mismatched']} missing {c['missing']} extra {c['extra']}"

    def group(name, args, peers):
        base = [a.reckon, "diff", *args, "--key", "id", "--threads", str(a.threads)]
        whole = os.path.join(tmp, f"{name}-whole")
        rows = [measure("reckon diff (whole)", base + ["--out", whole], a.runs, ok=(0, 1))]
        rows[0]["out"] = counts(whole)
        dirs, secs, peak = [], [], 0.0
        for i in range(1, n + 1):
            d = os.path.join(tmp, f"{name}-{i}")
            s, m, code, _ = run(base + ["--shard", f"{i}/{n}", "--out", d])
            if code not in (0, 1):
                sys.exit(f"shard {i}/{n} failed with exit code {code}")
            dirs.append(d)
            secs.append(s)
            peak = max(peak, m)
        merged = os.path.join(tmp, f"{name}-merged")
        ms, mm, code, _ = run([a.reckon, "merge", *dirs, "--out", merged])
        if code not in (0, 1):
            sys.exit(f"merge failed with exit code {code}")
        same = all(open(os.path.join(whole, f), "rb").read() == open(os.path.join(merged, f), "rb").read()
                   for f in ("diff_rows.parquet", "diff_summary.parquet"))
        rows.append({"tool": f"reckon diff --shard 1/{n}", "seconds": secs[0], "rss": peak,
                     "out": f"slowest shard {max(secs):.2f} s"})
        rows.append({"tool": f"{n} shards in turn + merge", "seconds": sum(secs) + ms, "rss": max(peak, mm),
                     "out": counts(merged) + ("; rows identical to whole" if same else "; ROWS DIFFER")})
        rows.append({"tool": "reckon merge alone", "seconds": ms, "rss": mm, "out": f"{n} directories"})
        return rows + peers

    groups = [("Parquet 5M, streamed", group("parquet", [src, tgt], [
        measure("DuckDB hash-join diff", [py, "-c", DUCKDB_DIFF.format(**fmt)], a.runs)]))]
    groups.append(("PostgreSQL 5M, 1 % changed, --pushdown", group(
        "pg", [a.dsn, a.dsn, "--table", "bench_src:bench_tgt", "--pushdown"], [])))
    shutil.rmtree(tmp, ignore_errors=True)
    return groups


def pushdown_groups(a, py):
    """Identical tables: reckon --pushdown beside reladiff hashdiff and a binary \\copy of one
    table; 1 % scattered changes: reckon --pushdown beside reckon streaming and reladiff joindiff."""
    subprocess.run(["psql", a.dsn, "-qc",
                    "DO $$ BEGIN IF to_regclass('bench_same') IS NULL THEN "
                    "CREATE TABLE bench_same AS SELECT * FROM bench_src; "
                    "ALTER TABLE bench_same ADD PRIMARY KEY (id); ANALYZE bench_same; END IF; END $$"],
                   check=True)
    rela = os.path.join(os.path.dirname(py), "reladiff")
    cols = sum((["-c", c] for c in COLS), [])

    def reckon(label, table, *extra):
        r = measure(label, [a.reckon, "diff", a.dsn, a.dsn, "--table", table, "--key", "id",
                            "--threads", str(a.threads), "--json", *extra], a.runs, ok=(0, 1))
        t = json.loads(r["out"])["tables"][0]
        c, p = t["counts"], t.get("pushdown", {})
        probe = (f", probe {p['probe_differing']}/{p['probed_buckets']}"
                 if p and p.get("probed_buckets") else "")
        r["out"] = (f"changed {c['mismatched']} missing {c['missing']} extra {c['extra']}"
                    + (f"; {p['strategy']} ({p['hashing']}), {p['differing_buckets']}/{p['buckets']} "
                       f"buckets{probe}, rows fetched {p['rows_fetched'][0]}" if p else ""))
        return r

    def reladiff(label, table, algo):
        r = measure(label, [rela, a.dsn, "bench_src", a.dsn, table, "-k", "id", *cols, "-a", algo,
                            "-s"], a.runs, ok=(0, 1))
        r["out"] = " ".join(l.strip() for l in r["out"].splitlines()
                            if "updated" in l or "exclusive" in l)
        return r

    copy = measure("floor: psql \\copy (format binary)",
                   ["psql", a.dsn, "-qc", "\\copy bench_src TO '/dev/null' (format binary)"], a.runs)
    copy["out"] = "one table out, nothing compared"
    same = [reckon("reckon diff --pushdown", "bench_src:bench_same", "--pushdown"), copy,
            reckon("reckon diff --pushdown --aggregates", "bench_src:bench_same", "--pushdown",
                   "--aggregates")]
    tgt = [reckon("reckon diff --pushdown", "bench_src:bench_tgt", "--pushdown"),
           reckon("reckon diff (streaming)", "bench_src:bench_tgt")]
    if os.path.exists(rela):
        same.insert(1, reladiff("reladiff hashdiff", "bench_same", "hashdiff"))
        tgt.append(reladiff("reladiff joindiff", "bench_tgt", "joindiff"))
    else:
        print("reladiff: not installed in this venv (pip install reladiff psycopg2-binary)")
    groups = [("PostgreSQL, identical tables", same), ("PostgreSQL, 1 % scattered changes", tgt)]
    my = mariadb_1m(a)
    if my:
        pair = "bench_src_1m:bench_tgt_1m"
        rows = []
        for label, extra in (("reckon diff --pushdown", ["--pushdown"]), ("reckon diff (streaming)", [])):
            r = measure(label, [a.reckon, "diff", a.dsn, my, "--table", pair, "--key", "id",
                                "--threads", str(a.threads), "--json", *extra], a.runs, ok=(0, 1))
            t = json.loads(r["out"])["tables"][0]
            c, p = t["counts"], t.get("pushdown", {})
            r["out"] = (f"changed {c['mismatched']} missing {c['missing']} extra {c['extra']}"
                        + (f"; {p['strategy']} ({p.get('hashing', '')})" if p else ""))
            rows.append(r)
        groups.append(("PostgreSQL → MariaDB, first 1M ids", rows))
    return groups


def mariadb_1m(a):
    """bench_src_1m in PostgreSQL and bench_tgt_1m in MariaDB (database `test`): the rows of the
    first 1M ids of bench_src and bench_tgt, made once (COPY text out of PostgreSQL, LOAD DATA
    into MariaDB). Returns the MariaDB URL, or None without a MariaDB client."""
    my = "mysql://root@127.0.0.1:3306/test"
    have = subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", "-N", "-e",
                           "SELECT COUNT(*) FROM test.bench_tgt_1m"], capture_output=True, text=True)
    if have.returncode == 0 and have.stdout.strip() not in ("", "0"):
        return my
    if subprocess.run(["which", "mariadb"], capture_output=True).returncode != 0:
        print("PostgreSQL → MariaDB: no mariadb client, skipped")
        return None
    cut = "(SELECT id FROM bench_src ORDER BY id OFFSET 999999 LIMIT 1)"
    subprocess.run(["psql", a.dsn, "-qc",
                    f"DROP TABLE IF EXISTS bench_src_1m; CREATE TABLE bench_src_1m AS SELECT * FROM bench_src "
                    f"WHERE id <= {cut}; ALTER TABLE bench_src_1m ADD PRIMARY KEY (id); ANALYZE bench_src_1m"],
                   check=True)
    tsv = "/tmp/reckon-bench-tgt-1m.tsv"
    subprocess.run(["psql", a.dsn, "-qc",
                    f"\\copy (SELECT id, customer_id, amount, price, "
                    f"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), birth_date, status, "
                    f"name, email, is_active::int, qty, note FROM bench_tgt WHERE id <= {cut}) TO '{tsv}'"],
                   check=True)
    ddl = ("SET time_zone = '+00:00'; DROP TABLE IF EXISTS test.bench_tgt_1m; "
           "CREATE TABLE test.bench_tgt_1m (id bigint PRIMARY KEY, customer_id int, amount decimal(18,4), "
           "price double, created_at timestamp(6) NULL, birth_date date, status varchar(255), "
           "name varchar(255), email varchar(255), is_active tinyint(1), qty int, note varchar(255)) "
           "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin; "
           f"LOAD DATA LOCAL INFILE '{tsv}' INTO TABLE test.bench_tgt_1m CHARACTER SET utf8mb4")
    subprocess.run(["mariadb", "--local-infile=1", "-uroot", "-h127.0.0.1", "-e", ddl], check=True)
    os.remove(tsv)
    return my


def profile_groups(a, py, src, fmt):
    """The profile runs: Parquet beside DuckDB, polars and the decode floor; reckon on 1 thread
    (the first row's ratio to it is the scaling); CSV beside polars; PostgreSQL beside the
    connectorx read of the same table."""
    def reckon(label, source, threads, *extra):
        r = measure(label, [a.reckon, "profile", source, "--threads", str(threads), "--json",
                            *extra], a.runs)
        r["out"] = ""
        return r
    groups = []
    rows = [reckon("reckon profile", src, a.threads),
            measure("DuckDB SUMMARIZE", [py, "-c", DUCKDB_SUMMARIZE.format(**fmt)], a.runs),
            measure("polars describe + n_unique", [py, "-c", POLARS_PROFILE.format(**fmt)], a.runs),
            measure("floor: DuckDB decode + hash", [py, "-c", DUCKDB_FLOOR.format(**fmt)], a.runs)]
    if a.threads > 1:
        rows.append(reckon("reckon profile, 1 thread", src, 1))
    groups.append(("Parquet", rows))
    csv = os.path.join(a.data, "src.csv")
    if os.path.exists(csv):
        groups.append(("CSV", [
            reckon("reckon profile (CSV)", csv, a.threads),
            measure("polars read_csv + describe", [py, "-c", POLARS_CSV_PROFILE.format(csv=csv,
                                                                                  **fmt)], a.runs)]))
    if not a.no_pg:
        groups.append(("PostgreSQL", [
            reckon("reckon profile (PostgreSQL)", a.dsn, a.threads, "--table", "bench_src"),
            measure("floor: connectorx read", [py, "-c", CONNECTORX_FLOOR.format(dsn=a.dsn)],
                    a.runs),
            reckon("reckon profile --pushdown", a.dsn, a.threads, "--table", "bench_src",
                   "--pushdown"),
            reckon("reckon profile --pushdown --sample-rows 100000", a.dsn, a.threads, "--table",
                   "bench_src", "--pushdown", "--sample-rows", "100000")]))
    return groups


if __name__ == "__main__":
    main()
