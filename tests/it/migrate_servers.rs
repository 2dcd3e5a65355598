//! `reckon migrate` against real PostgreSQL and MariaDB targets: the fixture plan
//! (`fixtures/migrate/`) migrates legacy.db (300 customers with generated ids, 40 products,
//! 1200 orders rewritten through the id map). Each test gets its own schema/database.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::common::{mysql_url, pg_url, reckon, require, Run};

#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Db {
    Pg,
    My,
}

pub(crate) struct Env {
    _dir: tempfile::TempDir,
    pub(crate) plan: PathBuf,
    pub(crate) source: PathBuf,
    pub(crate) target: String,
    pub(crate) schema: String,
    pub(crate) db: Db,
}

pub(crate) type Rows = Vec<Vec<Option<String>>>;

pub(crate) fn pg_exec(sql: &str) -> Result<Rows, String> {
    let mut c = pg_url()
        .parse::<postgres::Config>()
        .map_err(|e| e.to_string())?
        .connect_timeout(Duration::from_secs(5))
        .connect(postgres::NoTls)
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for m in c.simple_query(sql).map_err(|e| e.to_string())? {
        if let postgres::SimpleQueryMessage::Row(r) = m {
            out.push((0..r.len()).map(|i| r.get(i).map(String::from)).collect());
        }
    }
    Ok(out)
}

/// A database of this name on the PostgreSQL test server, made when missing (tests that make
/// it at once both succeed): its URL, or `None` when the server is unreachable and services
/// are not required. A plan's source and target must be different databases.
pub(crate) fn pg_database(name: &str) -> Option<String> {
    let exists = format!("SELECT 1 FROM pg_database WHERE datname = '{name}'");
    let have = super::common::require("PostgreSQL", pg_exec(&exists))?;
    if have.is_empty() {
        if let Err(e) = pg_exec(&format!("CREATE DATABASE {name}")) {
            assert!(pg_exec(&exists).is_ok_and(|r| !r.is_empty()), "{e}");
        }
    }
    let mut u = url::Url::parse(&pg_url()).unwrap();
    u.set_path(&format!("/{name}"));
    Some(u.to_string())
}

pub(crate) fn my_exec(url: &str, sql: &str) -> Result<Rows, String> {
    use mysql::prelude::Queryable;
    let o = mysql::Opts::from_url(url).map_err(|e| e.to_string())?;
    let mut c = mysql::Conn::new(
        mysql::OptsBuilder::from_opts(o).tcp_connect_timeout(Some(Duration::from_secs(5))),
    )
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for stmt in sql.split(";\n").filter(|s| !s.trim().is_empty()) {
        let rows: Vec<mysql::Row> = c.query(stmt).map_err(|e| e.to_string())?;
        for r in rows {
            out.push(
                r.unwrap()
                    .into_iter()
                    .map(|v| match v {
                        mysql::Value::NULL => None,
                        mysql::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                        other => Some(other.as_sql(true)),
                    })
                    .collect(),
            );
        }
    }
    Ok(out)
}

impl Env {
    pub(crate) fn new(db: Db, name: &str) -> Option<Env> {
        let schema = format!("reckon_mig_{name}");
        let dir = tempfile::tempdir().unwrap();
        let fx = super::common::root().join("fixtures/migrate");
        for f in ["legacy.db", "orders.sql"] {
            std::fs::copy(fx.join(f), dir.path().join(f)).unwrap();
        }
        let plan_text = std::fs::read_to_string(fx.join("plan.toml"))
            .unwrap()
            .replace("reckon_mig", &schema);
        let plan = dir.path().join("plan.toml");
        std::fs::write(&plan, plan_text).unwrap();
        let sql_file = if db == Db::Pg {
            "postgres.sql"
        } else {
            "mariadb.sql"
        };
        let sql = std::fs::read_to_string(fx.join(sql_file))
            .unwrap()
            .replace("reckon_mig", &schema);
        let target = match db {
            Db::Pg => {
                require("PostgreSQL", pg_exec(&sql))?;
                pg_url()
            }
            Db::My => {
                let base = mysql_url();
                require("MariaDB", my_exec(&base, &sql))?;
                let mut u = url::Url::parse(&base).unwrap();
                u.set_path(&format!("/{schema}"));
                u.to_string()
            }
        };
        Some(Env {
            source: dir.path().join("legacy.db"),
            _dir: dir,
            plan,
            target,
            schema,
            db,
        })
    }

    pub(crate) fn migrate(&self, args: &[&str]) -> Run {
        let plan = self.plan.to_str().unwrap();
        let mut all: Vec<&str> = vec!["migrate"];
        let action = args
            .first()
            .is_some_and(|a| ["status", "backup", "restore", "forget"].contains(a));
        if action {
            all.push(args[0]);
            all.extend_from_slice(&[plan, "--target", &self.target]);
            all.extend_from_slice(&args[1..]);
        } else {
            all.extend_from_slice(&[plan, "--target", &self.target]);
            all.extend_from_slice(args);
        }
        reckon(&all)
    }

    pub(crate) fn query(&self, sql: &str) -> Rows {
        let sql = sql.replace("S.", &format!("{}.", self.schema));
        match self.db {
            Db::Pg => pg_exec(&sql).unwrap(),
            Db::My => my_exec(&self.target, &sql).unwrap(),
        }
    }

    pub(crate) fn one(&self, sql: &str) -> String {
        self.query(sql)[0][0].clone().unwrap_or_default()
    }

    /// `reckon diff` of the products unit's table, source against target, keyed by sku, with
    /// its report in the directory `name` beside the plan; the run and that directory.
    pub(crate) fn diff_products(&self, name: &str) -> (Run, PathBuf) {
        self.diff_products_by("sku", name)
    }

    /// [`Env::diff_products`] keyed by `key`.
    pub(crate) fn diff_products_by(&self, key: &str, name: &str) -> (Run, PathBuf) {
        let table = match self.db {
            Db::Pg => format!("products:{}.products", self.schema),
            Db::My => "products:products".to_string(),
        };
        let source = format!("sqlite://{}", self.source.display());
        let out = self.plan.with_file_name("diff").join(name);
        let r = super::common::reckon(&[
            "diff",
            &source,
            &self.target,
            "--table",
            &table,
            "--key",
            key,
            "--out",
            out.to_str().unwrap(),
        ]);
        (r, out)
    }

    /// Lets the products unit delete the target rows the source does not hold.
    pub(crate) fn products_delete_missing(&self) {
        let plan = std::fs::read_to_string(&self.plan).unwrap().replacen(
            "key = [\"sku\"]",
            "key = [\"sku\"]\ndelete_missing = true",
            1,
        );
        std::fs::write(&self.plan, plan).unwrap();
    }

    /// A fingerprint of every table in the schema (names, and each table's content).
    pub(crate) fn fingerprint(&self) -> String {
        let tables: Vec<String> = match self.db {
            Db::Pg => self.query(&format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = '{}' ORDER BY 1",
                self.schema
            )),
            Db::My => self.query(&format!(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = '{}' ORDER BY 1",
                self.schema
            )),
        }
        .into_iter()
        .filter_map(|r| r[0].clone())
        .collect();
        let mut out = String::new();
        for t in tables {
            let h = match self.db {
                Db::Pg => self.one(&format!(
                    "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM S.{t} x"
                )),
                Db::My => {
                    let r = self.query(&format!("CHECKSUM TABLE S.{t}"));
                    r[0][1].clone().unwrap_or_default()
                }
            };
            out.push_str(&format!("{t}={h};"));
        }
        out
    }

    fn source_rows(&self, sql: &str) -> Vec<(i64, i64)> {
        let c = rusqlite::Connection::open(&self.source).unwrap();
        let mut s = c.prepare(sql).unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Everything a finished migration must satisfy.
    fn assert_migrated(&self) {
        assert_eq!(self.one("SELECT count(*) FROM S.customers"), "300");
        assert_eq!(
            self.one("SELECT count(DISTINCT legacy_id) FROM S.customers"),
            "300"
        );
        assert_eq!(self.one("SELECT count(*) FROM S.products"), "40");
        assert_eq!(self.one("SELECT count(*) FROM S.orders"), "1200");
        assert_eq!(
            self.one("SELECT count(*) FROM S.reckon_idmap m JOIN S.customers c ON c.id = m.new_id AND CONCAT(c.legacy_id, '') = m.old_key"),
            "300",
            "every id-map row points at the customer with that legacy id"
        );
        // Every order points at the customer its source row referenced.
        let expected = self.source_rows("SELECT order_no, cust_ref FROM orders ORDER BY order_no");
        let got: Vec<(i64, i64)> = self
            .query("SELECT o.order_no, c.legacy_id FROM S.orders o JOIN S.customers c ON c.id = o.customer_id ORDER BY o.order_no")
            .into_iter()
            .map(|r| {
                (
                    r[0].as_ref().unwrap().parse().unwrap(),
                    r[1].as_ref().unwrap().parse().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, expected);
        // Transforms landed: split names, trimmed lower-case e-mails, mapped status, dates.
        assert_eq!(
            self.one("SELECT count(*) FROM S.customers WHERE email <> lower(trim(email))"),
            "0"
        );
        assert_eq!(
            self.one("SELECT count(*) FROM S.customers WHERE status NOT IN ('active','inactive','suspended')"),
            "0"
        );
        assert_eq!(
            self.one("SELECT count(*) FROM S.customers WHERE signup IS NULL"),
            "7"
        );
        // Each unit completed exactly once.
        for unit in ["customers", "products", "orders"] {
            assert_eq!(
                self.one(&format!(
                    "SELECT count(*) FROM S.reckon_ledger WHERE unit = '{unit}' AND batch = -1 AND kind = 'full' AND status = 'completed'"
                )),
                "1",
                "{unit} completed once"
            );
        }
    }
}

fn sha256(path: &Path) -> String {
    let d = Sha256::digest(std::fs::read(path).unwrap());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn both(test: impl Fn(Db)) {
    test(Db::Pg);
    test(Db::My);
}

#[test]
fn a_plan_migrates_verifies_and_a_rerun_changes_nothing() {
    both(|db| {
        let Some(env) = Env::new(db, &format!("run_{db:?}").to_lowercase()) else {
            return;
        };
        let r = env.migrate(&[]);
        assert_eq!(r.code, 0, "{db:?}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("3 of 3 unit(s) completed and verified"),
            "{}",
            r.stdout
        );
        env.assert_migrated();
        // The ledger's unit rows: counts and equal source/target hashes; no row values.
        let rows = env.query("SELECT unit, rows_read, source_hash, target_hash FROM S.reckon_ledger WHERE batch = -1 ORDER BY ordinal");
        let counts: Vec<&str> = rows.iter().map(|r| r[1].as_deref().unwrap()).collect();
        assert_eq!(counts, vec!["300", "40", "1200"]);
        for r in &rows {
            assert_eq!(r[2], r[3], "verified hashes equal for {:?}", r[0]);
        }
        let ledger_text = format!("{:?}", env.query("SELECT * FROM S.reckon_ledger"));
        let log = std::fs::read_to_string(env.plan.with_file_name("plan.ledger.jsonl")).unwrap();
        // Keys (order numbers, SKUs) may appear; values may not.
        for leak in ["example.org", "Lovelace", "active", "Product "] {
            assert!(
                !ledger_text.contains(leak) && !log.contains(leak),
                "ledger holds a row value: {leak}"
            );
        }
        // Rerunning the finished plan is a no-op.
        let before = env.fingerprint();
        let r = env.migrate(&["--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        for u in v.as_array().unwrap() {
            assert_eq!(u["status"], "already completed");
        }
        assert_eq!(env.fingerprint(), before);
        // Forgetting a unit redoes it: every row is upserted again and 0 rows change.
        let r = env.migrate(&["forget", "--unit", "orders"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let r = env.migrate(&["--json"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let orders = &v.as_array().unwrap()[2];
        assert_eq!(
            (
                orders["status"].as_str(),
                orders["rows"].as_u64(),
                orders["written"].as_u64()
            ),
            (Some("completed"), Some(1200), Some(0))
        );
        // The ledger rows of 'orders' are gone and rewritten; the tables are as before.
        let after = env.fingerprint();
        let strip = |f: &str| {
            f.split(';')
                .filter(|t| !t.starts_with("reckon_ledger"))
                .collect::<Vec<_>>()
                .join(";")
        };
        assert_eq!(strip(&after), strip(&before));
        // status reads the ledger.
        let r = env.migrate(&["status"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.contains("customers") && r.stdout.contains("completed"),
            "{}",
            r.stdout
        );
    });
}

#[test]
fn dry_run_writes_nothing_and_shows_units_statements_and_rows() {
    both(|db| {
        let Some(env) = Env::new(db, &format!("dry_{db:?}").to_lowercase()) else {
            return;
        };
        let before = env.fingerprint();
        let r = env.migrate(&["--dry-run"]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert!(r.stdout.contains("DRY RUN"), "{}", r.stdout);
        assert!(
            r.stdout.contains("upsert into") && r.stdout.contains("by (order_no)"),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("1200") && r.stdout.contains("300"),
            "{}",
            r.stdout
        );
        assert_eq!(env.fingerprint(), before, "the dry run wrote to the target");
        assert!(!before.contains("reckon_ledger"));
    });
}

/// Holds the migration lock `key` from another session, the way a running executor does;
/// calling the result ends that session (and its lock).
fn hold_lock(db: Db, env: &Env, key: u64) -> Box<dyn FnOnce()> {
    match db {
        Db::Pg => {
            let mut c = pg_url()
                .parse::<postgres::Config>()
                .unwrap()
                .connect(postgres::NoTls)
                .unwrap();
            c.query_one("SELECT pg_advisory_lock($1)", &[&(key as i64)])
                .unwrap();
            Box::new(move || drop(c))
        }
        Db::My => {
            use mysql::prelude::Queryable;
            let mut c = mysql::Conn::new(mysql::Opts::from_url(&env.target).unwrap()).unwrap();
            let got: Option<i64> = c
                .query_first(format!("SELECT GET_LOCK('reckon:{key:016x}', 1)"))
                .unwrap();
            assert_eq!(got, Some(1));
            Box::new(move || drop(c))
        }
    }
}

#[test]
fn one_executor_per_target() {
    both(|db| {
        let Some(env) = Env::new(db, &format!("lock_{db:?}").to_lowercase()) else {
            return;
        };
        // Hold the lock the way a running executor does, from another session.
        let key_name = match db {
            Db::Pg => format!("reckon migrate \"{}\".\"reckon_ledger\"", env.schema),
            Db::My => format!("reckon migrate `{}`.`reckon_ledger`", env.schema),
        };
        let key = xxhash_rust::xxh3::xxh3_64(key_name.as_bytes());
        let held = hold_lock(db, &env, key);
        let r = env.migrate(&[]);
        assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("another `reckon migrate` is running"),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("--wait"), "{}", r.stderr);
        let t = Instant::now();
        let r = env.migrate(&["--wait", "1"]);
        assert_eq!(r.code, 2);
        assert!(
            t.elapsed() >= Duration::from_secs(1) && r.stderr.contains("waited 1 s"),
            "{}",
            r.stderr
        );
        assert_eq!(env.one("SELECT count(*) FROM S.customers"), "0");
        // The lock dies with its session.
        held();
        let r = env.migrate(&[]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    });
}

#[test]
fn the_lock_belongs_to_the_tables_written_not_to_the_ledger_name() {
    both(|db| {
        let Some(env) = Env::new(db, &format!("lock2_{db:?}").to_lowercase()) else {
            return;
        };
        // Another plan, with its own ledger, writing reckon_mig_*.customers: it holds that
        // table's lock the way its executor would.
        let key = xxhash_rust::xxh3::xxh3_64(
            format!("reckon migrate table {}.customers", env.schema).as_bytes(),
        );
        let held = hold_lock(db, &env, key);
        let text = std::fs::read_to_string(&env.plan).unwrap();
        let renamed = text.replace(
            &format!("ledger = \"{}.reckon_ledger\"", env.schema),
            &format!("ledger = \"{}.other_ledger\"", env.schema),
        );
        assert_ne!(renamed, text);
        std::fs::write(&env.plan, renamed).unwrap();
        let r = env.migrate(&[]);
        assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("another `reckon migrate` is running"),
            "{}",
            r.stderr
        );
        assert_eq!(env.one("SELECT count(*) FROM S.customers"), "0");
        // Nothing of the refused run is held: once the other run ends, this one runs.
        held();
        let r = env.migrate(&[]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    });
}

/// Kills the executor with SIGKILL at seeded random moments, resumes every time, and checks
/// that nothing is lost, duplicated or applied twice, and that the source is untouched.
fn crash_campaign(db: Db) {
    let Some(env) = Env::new(db, &format!("crash_{db:?}").to_lowercase()) else {
        return;
    };
    let kills_wanted: usize = std::env::var("RECKON_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let source_before = sha256(&env.source);
    // Make every unit commit per batch for half the campaign, so kills land between commits too.
    let text = std::fs::read_to_string(&env.plan).unwrap();
    let per_batch = text.replace(
        "batch_size = 25\n",
        "batch_size = 25\ntransaction = \"batch\"\n",
    );
    // One uninterrupted run to learn how long a run takes (on a copy of the target schema would
    // cost a reload; instead time the dry run, which reads and transforms everything).
    let t = Instant::now();
    assert_eq!(env.migrate(&["--dry-run"]).code, 0);
    let span = (t.elapsed().as_millis() as u64).max(200) * 3;
    let mut seed: u64 = 0x5eed_2026_1121 ^ (db as u64);
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut kills = 0;
    let mut finished = 0;
    let mut rounds = 0;
    while kills < kills_wanted {
        rounds += 1;
        assert!(
            rounds < kills_wanted * 20,
            "the campaign does not progress ({kills} kills)"
        );
        if kills == kills_wanted / 2 {
            std::fs::write(&env.plan, &per_batch).unwrap();
        }
        if finished > 0 {
            // Start over: forget everything so that there is work to interrupt again; the id map
            // stays, so customers are matched, never duplicated.
            for u in ["customers", "products", "orders"] {
                assert_eq!(env.migrate(&["forget", "--unit", u]).code, 0);
            }
            finished = 0;
        }
        let plan = env.plan.to_str().unwrap().to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_reckon"))
            .args(["migrate", &plan, "--target", &env.target, "--wait", "10"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let delay = next() % span;
        std::thread::sleep(Duration::from_millis(delay));
        match child.try_wait().unwrap() {
            Some(status) => {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                assert_eq!(status.code(), Some(0), "a resumed run failed: {err}");
                finished += 1;
            }
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    // Resume to the end.
    let r = env.migrate(&[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    env.assert_migrated();
    assert_eq!(env.one("SELECT count(*) FROM S.reckon_idmap"), "300");
    assert_eq!(
        env.one("SELECT count(DISTINCT new_id) FROM S.reckon_idmap"),
        "300"
    );
    assert_eq!(sha256(&env.source), source_before, "the source was written");
    let repair_kills = repair_under_kills(&env, &mut next, (kills_wanted / 5).max(5));
    env.assert_migrated();
    assert_eq!(sha256(&env.source), source_before, "the source was written");
    eprintln!(
        "crash campaign {db:?}: {kills} kills in {rounds} rounds, then {repair_kills} kills of repairs"
    );
}

/// The repair loop under kills: the same damage (rows changed, rows the source does not hold)
/// done again and again, repaired with `--keys-from` (the extras deleted) while
/// the repair is killed at random moments. Ends repaired: the diff finds nothing, every row
/// once. Returns the kills.
fn repair_under_kills(env: &Env, next: &mut dyn FnMut() -> u64, wanted: usize) -> usize {
    env.products_delete_missing();
    // Every product is ordered (a foreign key keeps them all): the damage changes rows and
    // adds rows, which the repair rewrites and deletes.
    let damage = || {
        env.query("UPDATE S.products SET title = upper(title) WHERE sku IN ('SKU-004', 'SKU-011')");
        env.query("UPDATE S.products SET price = price + 1 WHERE sku = 'SKU-020'");
        env.query("DELETE FROM S.products WHERE sku LIKE 'ZZ-%'");
        env.query("INSERT INTO S.products (sku, title, price) VALUES ('ZZ-1', 'extra', 1), ('ZZ-2', 'extra', 2)");
    };
    damage();
    let (r, found) = env.diff_products("damaged");
    assert_eq!(r.code, 1);
    let found = found.to_str().unwrap().to_string();
    let plan = env.plan.to_str().unwrap().to_string();
    let args = [
        "migrate",
        &plan,
        "--target",
        &env.target,
        "--keys-from",
        &found,
        "--wait",
        "10",
    ];
    // How long one repair takes, uninterrupted.
    let t = Instant::now();
    let r = super::common::reckon(&args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let span = (t.elapsed().as_millis() as u64).max(100) * 2;
    let (mut kills, mut rounds) = (0, 0);
    while kills < wanted {
        rounds += 1;
        assert!(
            rounds < wanted * 30,
            "the repairs do not progress ({kills} kills)"
        );
        damage();
        let mut child = Command::new(env!("CARGO_BIN_EXE_reckon"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(next() % span));
        match child.try_wait().unwrap() {
            Some(status) => assert_eq!(status.code(), Some(0), "a repair failed"),
            None => {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    // Resumed to the end: nothing left to repair, every row once.
    let r = super::common::reckon(&args);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let (r, _) = env.diff_products("repaired");
    assert_eq!(r.code, 0, "the repair left differences");
    assert_eq!(
        env.one("SELECT count(*) FROM S.products WHERE sku LIKE 'ZZ-%'"),
        "0"
    );
    kills
}

#[test]
fn kill_9_at_random_moments_then_resume_postgres() {
    crash_campaign(Db::Pg);
}

#[test]
fn kill_9_at_random_moments_then_resume_mariadb() {
    crash_campaign(Db::My);
}

#[test]
fn a_failed_unit_rolls_back_others_go_on_and_the_run_fails() {
    both(|db| {
        let Some(env) = Env::new(db, &format!("fail_{db:?}").to_lowercase()) else {
            return;
        };
        // Products dearer than 400 break a constraint in the middle of the unit.
        env.query("ALTER TABLE S.products ADD CONSTRAINT cheap CHECK (price < 400)");
        let text = std::fs::read_to_string(&env.plan).unwrap();
        std::fs::write(
            &env.plan,
            text.replace("key = [\"sku\"]", "key = [\"sku\"]\nbatch_size = 5"),
        )
        .unwrap();
        let r = env.migrate(&[]);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("✗ products") && r.stdout.contains("batch"),
            "{}",
            r.stdout
        );
        // Nothing of the failed unit stays; the independent unit went on.
        assert_eq!(env.one("SELECT count(*) FROM S.products"), "0");
        assert_eq!(env.one("SELECT count(*) FROM S.customers"), "300");
        let row = env.query("SELECT status, error_class, error FROM S.reckon_ledger WHERE unit = 'products' AND batch = -1");
        assert_eq!(row[0][0].as_deref(), Some("failed"));
        assert_eq!(row[0][1].as_deref(), Some("write"));
        // --fail-fast stops at the first failure.
        let r = env.migrate(&["--fail-fast", "--json"]);
        assert_eq!(r.code, 1);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[1]["status"], "failed");
        assert_eq!(v[2]["status"], "skipped");
    });
}

#[test]
fn a_unit_whose_rows_do_not_land_as_written_fails_verification() {
    let Some(env) = Env::new(Db::Pg, "verify_pg") else {
        return;
    };
    // A trigger rewrites what is written: the data that landed is not the unit's data.
    env.query(
        "CREATE FUNCTION S.shout() RETURNS trigger AS $$ BEGIN NEW.title := upper(NEW.title); RETURN NEW; END $$ LANGUAGE plpgsql;
         CREATE TRIGGER shout BEFORE INSERT ON S.products FOR EACH ROW EXECUTE FUNCTION S.shout()",
    );
    let r = env.migrate(&["--unit", "products"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("verification_failed")
            && r.stdout.contains("40 changed in columns title (case)"),
        "{}",
        r.stdout
    );
    assert_eq!(
        env.one("SELECT status FROM S.reckon_ledger WHERE unit = 'products' AND batch = -1"),
        "verification_failed"
    );
    assert!(r.stdout.contains("run the unit again"), "{}", r.stdout);
    // Run again with the cause still there: written again, and it fails again (never skipped
    // as if its batches were done).
    let r = env.migrate(&["--unit", "products"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("40 changed"), "{}", r.stdout);
    // The cause fixed, the next run rewrites every row and verifies.
    env.query("DROP TRIGGER shout ON S.products");
    let r = env.migrate(&["--unit", "products"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        env.one("SELECT status FROM S.reckon_ledger WHERE unit = 'products' AND batch = -1 ORDER BY run DESC LIMIT 1"),
        "completed"
    );
    assert_eq!(
        env.one("SELECT count(*) FROM S.products WHERE title <> upper(title)"),
        env.one("SELECT count(*) FROM S.products"),
        "every title rewritten as the source has it"
    );
    // And a run after that has nothing to do.
    let r = env.migrate(&["--unit", "products", "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["written"].as_u64(), Some(0), "{}", r.stdout);
}

#[test]
fn an_edited_or_removed_applied_unit_is_refused() {
    let Some(env) = Env::new(Db::Pg, "edit_pg") else {
        return;
    };
    assert_eq!(env.migrate(&["--unit", "customers"]).code, 0);
    let text = std::fs::read_to_string(&env.plan).unwrap();
    std::fs::write(
        &env.plan,
        text.replace("case = \"lower\"", "case = \"upper\""),
    )
    .unwrap();
    let r = env.migrate(&[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("unit 'customers' was applied with checksum")
            && r.stderr.contains("hint:")
            && r.stderr.contains("forget"),
        "{}",
        r.stderr
    );
    // Reordered: products before customers.
    let a = text.find("[[unit]]\nname = \"customers\"").unwrap();
    let b = text.find("[[unit]]\nname = \"products\"").unwrap();
    let c = text.find("[[unit]]\nname = \"orders\"").unwrap();
    let reordered = format!("{}{}{}{}", &text[..a], &text[b..c], &text[a..b], &text[c..]);
    std::fs::write(&env.plan, reordered).unwrap();
    let r = env.migrate(&[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("was applied as unit #1 but is unit #2"),
        "{}",
        r.stderr
    );
    // batch_size is not part of a unit's identity.
    std::fs::write(
        &env.plan,
        text.replace("batch_size = 25", "batch_size = 60"),
    )
    .unwrap();
    assert_eq!(env.migrate(&[]).code, 0);
}

#[test]
fn item_and_delta_runs_touch_only_their_rows() {
    let Some(env) = Env::new(Db::Pg, "delta_pg") else {
        return;
    };
    let r = env.migrate(&["--item", "customers:1003"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(env.one("SELECT count(*) FROM S.customers"), "1");
    assert_eq!(env.one("SELECT legacy_id FROM S.customers"), "1003");
    assert_eq!(env.migrate(&[]).code, 0);
    env.assert_migrated();
    // An --item run answers for its row: only that row is read back (the other 299 customers,
    // or 39 products, are not its extras), by a generated id and by a text key.
    for item in ["customers:1003", "products:SKU-002"] {
        let r = env.migrate(&["--item", item, "--json"]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["rows"], 1, "{item}");
        assert_eq!(v[0]["verify"], serde_json::json!([0, 0, 0]), "{item}");
    }
    // Change two customers in the source, one with a new timestamp; --delta carries it.
    let c = rusqlite::Connection::open(&env.source).unwrap();
    c.execute("UPDATE customers SET email = 'changed@example.net', modified = '2027-01-01 00:00:00' WHERE cust_id = 1006", []).unwrap();
    drop(c);
    let r = env.migrate(&["--delta", "--unit", "customers", "--json"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["kind"], "delta");
    // The watermark row (the latest modified before) plus the changed one.
    assert!(v[0]["rows"].as_u64().unwrap() <= 3, "{}", r.stdout);
    assert_eq!(v[0]["written"].as_u64(), Some(1));
    assert_eq!(v[0]["verify"], serde_json::json!([0, 0, 0]), "{}", r.stdout);
    assert_eq!(
        env.one("SELECT email FROM S.customers WHERE legacy_id = 1006"),
        "changed@example.net"
    );
    assert_eq!(env.one("SELECT count(*) FROM S.customers"), "300");
}

#[test]
fn bad_plans_are_refused_with_file_line_and_hint() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("p.toml");
    // The query file too, so that runs get past the plan to the connection.
    std::fs::copy(
        super::common::root().join("fixtures/migrate/orders.sql"),
        dir.path().join("orders.sql"),
    )
    .unwrap();
    let fx = super::common::root().join("fixtures/migrate/plan.toml");
    let text = std::fs::read_to_string(fx).unwrap();
    std::fs::write(
        &plan,
        text.replace("strict_map = true", "strict_mapp = true"),
    )
    .unwrap();
    let r = reckon(&["migrate", plan.to_str().unwrap(), "--dry-run"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("p.toml, line")
            && r.stderr.contains("strict_mapp")
            && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    std::fs::write(
        &plan,
        text.replace(
            "target = \"postgres://postgres@",
            "target = \"postgres://postgres:hunter2@",
        ),
    )
    .unwrap();
    let r = reckon(&[
        "migrate",
        "status",
        plan.to_str().unwrap(),
        "--target",
        "postgres://u:s3cret-pw@127.0.0.1:1/x",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        !r.stderr.contains("s3cret-pw") && !r.stdout.contains("s3cret-pw"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("cannot connect to target"),
        "{}",
        r.stderr
    );
    // A database that does not exist is named as such, with what to do.
    if require("PostgreSQL", pg_exec("SELECT 1")).is_some() {
        let mut u = url::Url::parse(&pg_url()).unwrap();
        u.set_path("/reckon_no_such_db");
        let r = reckon(&[
            "migrate",
            "status",
            plan.to_str().unwrap(),
            "--target",
            u.as_str(),
        ]);
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.contains("\"reckon_no_such_db\" does not exist")
                && r.stderr
                    .contains("hint: the database in the target URL does not exist"),
            "{}",
            r.stderr
        );
    }
}
