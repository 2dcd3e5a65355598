//! The one-executor-per-target lock: advisory locks on the servers, a lock file beside an
//! SQLite database.

use super::*;

impl Target {
    /// Takes the one-executor-per-target lock (released when this session ends, even on kill -9):
    /// one lock for the ledger and one for every table the run writes (`tables`, as the plan names
    /// them), so two plans that write the same table cannot run at once whatever their `ledger =`.
    /// SQLite: one lock file beside the database.
    pub fn lock(&mut self, tables: &[String], wait: Duration) -> Result<(), MigrateError> {
        let started = Instant::now();
        let display = self.display.clone();
        let mut names = vec![format!("reckon migrate {}", self.ledger)];
        let home = match &mut self.conn {
            Conn::Pg(c) => c
                .query_one("SELECT current_schema()::text", &[])
                .map_err(|e| pg_err(&display, e))?
                .get::<_, Option<String>>(0)
                .unwrap_or_default(),
            Conn::My(c) => {
                use mysql::prelude::Queryable;
                let r: Option<Option<String>> = c
                    .query_first("SELECT DATABASE()")
                    .map_err(|e| werr(&display, e))?;
                r.flatten().unwrap_or_default()
            }
            Conn::Lite(_) => String::new(),
        };
        for t in tables {
            let t = TableName::parse(t);
            let schema = t.schema.unwrap_or_else(|| home.clone());
            names.push(format!("reckon migrate table {schema}.{}", t.name));
        }
        names.sort();
        names.dedup();
        let keys: Vec<i64> = names
            .iter()
            .map(|n| xxhash_rust::xxh3::xxh3_64(n.as_bytes()) as i64)
            .collect();
        loop {
            let got = match &mut self.conn {
                Conn::Pg(c) => {
                    let mut held = Vec::new();
                    let mut all = true;
                    for key in &keys {
                        let ok = c
                            .query_one("SELECT pg_try_advisory_lock($1)", &[key])
                            .map_err(|e| pg_err(&display, e))?
                            .get::<_, bool>(0);
                        if !ok {
                            all = false;
                            break;
                        }
                        held.push(*key);
                    }
                    if !all {
                        for key in &held {
                            c.query_one("SELECT pg_advisory_unlock($1)", &[key])
                                .map_err(|e| pg_err(&display, e))?;
                        }
                    }
                    all
                }
                Conn::My(c) => {
                    use mysql::prelude::Queryable;
                    let mut held = Vec::new();
                    let mut all = true;
                    for key in &keys {
                        let lock_name: String = format!("reckon:{:016x}", *key as u64);
                        let r: Option<Option<i64>> = c
                            .exec_first("SELECT GET_LOCK(?, 0)", (lock_name.clone(),))
                            .map_err(|e| werr(&display, e))?;
                        if r.flatten() != Some(1) {
                            all = false;
                            break;
                        }
                        held.push(lock_name);
                    }
                    if !all {
                        for name in held {
                            let _: Option<Option<i64>> = c
                                .exec_first("SELECT RELEASE_LOCK(?)", (name,))
                                .map_err(|e| werr(&display, e))?;
                        }
                    }
                    all
                }
                Conn::Lite(_) => {
                    let path = self.sqlite_path.clone().unwrap_or_default();
                    let lock_path = PathBuf::from(format!("{}.reckon-lock", path.display()));
                    let f = File::options()
                        .create(true)
                        .truncate(false)
                        .write(true)
                        .open(&lock_path)
                        .map_err(|e| werr(&display, format!("{}: {e}", lock_path.display())))?;
                    match f.try_lock() {
                        Ok(()) => {
                            self.lock_file = Some(f);
                            true
                        }
                        Err(_) => false,
                    }
                }
            };
            if got {
                return Ok(());
            }
            if started.elapsed() >= wait {
                return Err(MigrateError::Locked {
                    target: display,
                    waited: wait.as_secs(),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}
