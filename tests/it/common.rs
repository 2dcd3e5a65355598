//! Helpers shared by the test modules.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// The outcome of one run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `reckon` with these arguments from the crate root.
pub fn reckon(args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reckon"));
    cmd.args(args);
    run(cmd)
}

/// Runs a prepared `reckon` command from the crate root.
fn run(mut cmd: Command) -> Run {
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run reckon");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `reckon` with these arguments and these environment variables set (and the password
/// variables a developer's shell may hold removed, so that no test depends on them).
pub fn reckon_env(env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reckon"));
    cmd.args(args)
        .env_remove("PGPASSWORD")
        .env_remove("MYSQL_PWD")
        .envs(env.iter().copied());
    run(cmd)
}

/// Runs `reckon profile ARGS --json` and parses the report; panics with stderr on failure.
pub fn profile_json(args: &[&str]) -> Value {
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.push("--json");
    let r = reckon(&all);
    assert_eq!(r.code, 0, "reckon {all:?} failed: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("valid JSON")
}

/// The profile of one table.
pub fn table<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == name)
        .unwrap_or_else(|| panic!("no table {name}"))
}

/// The profile of one column.
pub fn column<'a>(report: &'a Value, t: &str, c: &str) -> &'a Value {
    table(report, t)["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == c)
        .unwrap_or_else(|| panic!("no column {t}.{c}"))
}

/// The encoding finding of a kind in a column: (count, sample keys).
pub fn encoding(col: &Value, kind: &str) -> (u64, Vec<String>) {
    col["encoding"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .map(|e| {
            (
                e["count"].as_u64().unwrap(),
                e["sample_keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .unwrap_or((0, vec![]))
}

/// Date formats of a column as (family, count), most frequent first.
pub fn date_formats(col: &Value) -> Vec<(String, u64)> {
    col["date_formats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["value"].as_str().unwrap().to_string(),
                d["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Finding codes present for a table/column.
pub fn finding_codes(report: &Value, t: &str, c: Option<&str>) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["table"]["name"] == t && f["column"].as_str() == c)
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Runs `reckon profile ARGS --out DIR/NAME`, asserts it succeeded, returns the run and the dir.
pub fn profile_out(dir: &tempfile::TempDir, name: &str, args: &[&str]) -> (Run, PathBuf) {
    let out = dir.path().join(name);
    let mut all = vec!["profile"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let run = reckon(&all);
    assert_eq!(run.code, 0, "reckon {all:?} failed: {}", run.stderr);
    (run, out)
}

/// Whether tests must fail instead of skipping when a service is missing.
pub fn services_required() -> bool {
    std::env::var("RECKON_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// Skips (returns None) or fails when a service is missing.
pub fn require<T>(what: &str, found: Result<T, String>) -> Option<T> {
    match found {
        Ok(v) => Some(v),
        Err(e) if services_required() => {
            panic!("{what} is required (RECKON_REQUIRE_SERVICES=1) but unavailable: {e}")
        }
        Err(e) => {
            eprintln!("SKIP: {what} unavailable ({e}); set it up or see README");
            None
        }
    }
}

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The PostgreSQL test server (`RECKON_TEST_POSTGRES_URL`).
pub fn pg_url() -> String {
    std::env::var("RECKON_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The MariaDB test server (`RECKON_TEST_MYSQL_URL`).
pub fn mysql_url() -> String {
    std::env::var("RECKON_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// Runs SQL statements on the PostgreSQL test server.
pub fn postgres_exec(sql: &str) -> Result<(), String> {
    let mut c = pg_url()
        .parse::<postgres::Config>()
        .map_err(|e| e.to_string())?;
    c.connect_timeout(std::time::Duration::from_secs(5));
    let mut client = c.connect(postgres::NoTls).map_err(|e| e.to_string())?;
    client
        .batch_execute(sql)
        .map_err(|e| format!("running SQL: {e}"))
}

/// Runs SQL statements on the MariaDB test server.
pub fn mariadb_exec(sql: &str) -> Result<(), String> {
    use mysql::prelude::Queryable;
    let o = mysql::Opts::from_url(&mysql_url()).map_err(|e| e.to_string())?;
    let o = mysql::OptsBuilder::from_opts(o)
        .tcp_connect_timeout(Some(std::time::Duration::from_secs(5)));
    let mut conn = mysql::Conn::new(o).map_err(|e| e.to_string())?;
    conn.query_drop(sql)
        .map_err(|e| format!("running SQL: {e}"))
}

/// The first column of the first row a query returns on the MariaDB test server, as text.
pub fn mariadb_query(sql: &str) -> Option<String> {
    use mysql::prelude::Queryable;
    let o = mysql::Opts::from_url(&mysql_url()).ok()?;
    let mut conn = mysql::Conn::new(o).ok()?;
    let v: Option<mysql::Value> = conn.query_first(sql).ok()?;
    v.map(|v| match v {
        mysql::Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
        mysql::Value::Int(i) => i.to_string(),
        mysql::Value::UInt(u) => u.to_string(),
        other => format!("{other:?}"),
    })
}

/// Loads an SQL fixture into PostgreSQL once per test binary (`loaded` remembers); returns the
/// server URL, or None when the server is unreachable and services are not required.
pub fn load_postgres(loaded: &std::sync::Mutex<bool>, fixture: &str) -> Option<String> {
    let url = pg_url();
    let mut done = loaded.lock().unwrap_or_else(|e| e.into_inner());
    if !*done {
        let sql = std::fs::read_to_string(root().join(fixture)).unwrap();
        require("PostgreSQL", postgres_exec(&sql))?;
        *done = true;
    }
    Some(url)
}

/// Loads an SQL fixture into MariaDB once; returns the URL of the database it creates.
pub fn load_mariadb(
    loaded: &std::sync::Mutex<bool>,
    fixture: &str,
    database: &str,
) -> Option<String> {
    let url = mysql_url();
    let mut done = loaded.lock().unwrap_or_else(|e| e.into_inner());
    if !*done {
        let sql = std::fs::read_to_string(root().join(fixture)).unwrap();
        require("MariaDB", mariadb_exec(&sql))?;
        *done = true;
    }
    let mut u = url::Url::parse(&url).unwrap();
    u.set_path(&format!("/{database}"));
    Some(u.to_string())
}

/// xorshift64*: small, seeded, good enough to pick test values (the property tests).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

/// (name, bytes) of every file of a directory, sorted.
pub fn files_of(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The first batch of a Parquet file, as any Parquet reader sees it.
pub fn first_parquet_batch(path: &std::path::Path) -> arrow::array::RecordBatch {
    let file = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .next()
        .expect("a batch")
        .unwrap()
}
