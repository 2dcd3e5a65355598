//! `reckon migrate` recovering a target: a verified backup and its restore (sequences set after
//! the restored rows), and a ledger the target will not show taken for an error, never for no
//! ledger.

use super::common::reckon;
use super::migrate_servers::{both, Db, Env};

#[test]
fn backup_is_verified_and_restore_brings_the_target_back() {
    both(|db| {
        let Some(env) = Env::new(db, &format!("backup_{db:?}").to_lowercase()) else {
            return;
        };
        assert_eq!(env.migrate(&[]).code, 0);
        let before = env.fingerprint();
        let bk = env.plan.with_file_name("bk");
        let r = env.migrate(&["backup", "--dir", bk.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains("verified"));
        env.query("DELETE FROM S.orders WHERE order_no < 50100");
        env.query("UPDATE S.customers SET email = 'x' WHERE legacy_id = 1003");
        let r = env.migrate(&["restore", "--from", bk.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        assert_eq!(env.fingerprint(), before);
        // A tampered backup is refused before anything is touched.
        let f = bk.join(format!("{}.orders.parquet", env.schema));
        let mut bytes = std::fs::read(&f).unwrap();
        let n = bytes.len() / 2;
        bytes[n] ^= 0xff;
        std::fs::write(&f, bytes).unwrap();
        env.query("DELETE FROM S.orders WHERE order_no < 50010");
        let r = env.migrate(&["restore", "--from", bk.to_str().unwrap()]);
        assert_eq!(r.code, 2);
        assert!(
            r.stderr.contains("SHA-256") && r.stderr.contains("changed"),
            "{}",
            r.stderr
        );
        assert_eq!(env.one("SELECT count(*) FROM S.orders"), "1191");
    });
}

#[test]
fn restore_sets_serial_and_identity_sequences_after_the_restored_rows() {
    let Some(env) = Env::new(Db::Pg, "seq_pg") else {
        return;
    };
    // An identity column GENERATED ALWAYS beside the serial one: COPY writes both, and draws
    // from neither sequence.
    env.query("ALTER TABLE S.products ADD COLUMN n int GENERATED ALWAYS AS IDENTITY");
    assert_eq!(env.migrate(&[]).code, 0);
    let bk = env.plan.with_file_name("bk");
    let r = env.migrate(&["backup", "--dir", bk.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = env.fingerprint();
    let next_id =
        |env: &Env| env.one("SELECT nextval(pg_get_serial_sequence('S.customers', 'id'))");
    // Sequences moved on after the backup (ids drawn, then rows gone), and one set back.
    env.query("SELECT setval(pg_get_serial_sequence('S.customers', 'id'), 5000)");
    env.query("SELECT setval(pg_get_serial_sequence('S.products', 'n'), 3)");
    env.query("DELETE FROM S.orders");
    let r = env.migrate(&["restore", "--from", bk.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(env.fingerprint(), before);
    // The next ids follow the restored rows, as at the backup.
    assert_eq!(next_id(&env), "301");
    assert_eq!(
        env.one("INSERT INTO S.products (sku, title, price) VALUES ('NEW-1', 't', 1) RETURNING n"),
        "41"
    );
    // An empty table's sequence starts over.
    env.query("DELETE FROM S.products WHERE sku = 'NEW-1'");
    env.query("DELETE FROM S.orders; DELETE FROM S.customers");
    let empty = env.plan.with_file_name("empty");
    assert_eq!(
        env.migrate(&["backup", "--dir", empty.to_str().unwrap()])
            .code,
        0
    );
    let r = env.migrate(&["restore", "--from", empty.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(next_id(&env), "1");
}

#[test]
fn a_ledger_the_target_will_not_show_is_an_error_never_an_empty_ledger() {
    let Some(env) = Env::new(Db::Pg, "noread_pg") else {
        return;
    };
    assert_eq!(env.migrate(&["--unit", "customers"]).code, 0);
    // A role that may write every table but not read the ledger: the ledger is there, and
    // reckon must not take it for missing (it would run everything again and, with an id map
    // it cannot read, report 'no row with key …', as it did after a lost connection).
    let schema = &env.schema;
    env.query(&format!(
        "DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'reckon_noread') THEN
           DROP OWNED BY reckon_noread; DROP ROLE reckon_noread; END IF; END $$;
         CREATE ROLE reckon_noread LOGIN;
         GRANT USAGE, CREATE ON SCHEMA {schema} TO reckon_noread;
         GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO reckon_noread;
         GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO reckon_noread;
         REVOKE SELECT ON S.reckon_ledger FROM reckon_noread;"
    ));
    let before = env.one("SELECT count(*) FROM S.reckon_ledger");
    let fingerprint = env.fingerprint();
    let mut url = url::Url::parse(&env.target).unwrap();
    url.set_username("reckon_noread").unwrap();
    let plan = env.plan.to_str().unwrap();
    let r = reckon(&["migrate", plan, "--target", url.as_str()]);
    env.query("DROP OWNED BY reckon_noread; DROP ROLE reckon_noread");
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("permission denied"), "{}", r.stderr);
    assert!(!r.stderr.contains("no row with key"), "{}", r.stderr);
    assert_eq!(env.one("SELECT count(*) FROM S.reckon_ledger"), before);
    assert_eq!(env.fingerprint(), fingerprint, "nothing written");
}

#[test]
fn a_run_resumed_with_another_batch_size_keeps_batch_rows_that_add_up() {
    let Some(env) = Env::new(Db::Pg, "batches_pg") else {
        return;
    };
    let original = std::fs::read_to_string(&env.plan).unwrap();
    let set_batches = |size: usize| {
        let text = original.replacen(
            "key = [\"sku\"]",
            &format!("key = [\"sku\"]\nbatch_size = {size}\ntransaction = \"batch\""),
            1,
        );
        std::fs::write(&env.plan, text).unwrap();
    };
    // The target refuses one product: the batches before it commit, one transaction each.
    env.query("ALTER TABLE S.products ADD CONSTRAINT no30 CHECK (sku <> 'SKU-030')");
    set_batches(5);
    let r = env.migrate(&["--unit", "products"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let batches = |env: &Env| {
        env.one("SELECT count(*) || ' ' || sum(rows_read) FROM S.reckon_ledger WHERE unit = 'products' AND batch >= 0")
    };
    assert_eq!(batches(&env), "5 25");
    // Resumed with batches of 20 once the cause is gone: two batches, and no row of the five
    // smaller ones left beside them.
    env.query("ALTER TABLE S.products DROP CONSTRAINT no30");
    set_batches(20);
    let r = env.migrate(&["--unit", "products"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(batches(&env), "2 40");
    assert_eq!(
        env.one("SELECT rows_read FROM S.reckon_ledger WHERE unit = 'products' AND batch = -1"),
        "40"
    );
}

/// A generated-id unit that fails in its third batch: with a transaction per batch, the two
/// committed batches keep their rows, their ledger rows and exactly their id-map rows (each
/// pointing at a row the target holds); the failed batch leaves none of the three. In one
/// transaction, nothing stays. Once the cause is gone, a rerun completes with every id mapped.
#[test]
fn a_failed_batch_of_a_generated_id_unit_leaves_no_id_map_row_of_its_own() {
    for db in [Db::Pg, Db::My] {
        let Some(env) = Env::new(db, &format!("idfail_{db:?}").to_lowercase()) else {
            return;
        };
        let original = std::fs::read_to_string(&env.plan).unwrap();
        // Customers come in key order (cust_id), 25 a batch: the 61st is in the third batch.
        let third = env_source_key(&env, 60);
        env.query(&format!(
            "ALTER TABLE S.customers ADD CONSTRAINT not61 CHECK (legacy_id <> {third})"
        ));
        let idmap =
            |env: &Env| env.one("SELECT count(*) FROM S.reckon_idmap WHERE unit = 'customers'");
        let mapped_rows = |env: &Env| {
            env.one(
                "SELECT count(*) FROM S.reckon_idmap m JOIN S.customers c \
                 ON c.id = m.new_id AND c.legacy_id = CAST(m.old_key AS SIGNED INTEGER)"
                    .replace(
                        "SIGNED INTEGER",
                        if db == Db::Pg {
                            "integer"
                        } else {
                            "SIGNED INTEGER"
                        },
                    )
                    .as_str(),
            )
        };
        for per_batch in [false, true] {
            let tx = if per_batch {
                "\ntransaction = \"batch\""
            } else {
                ""
            };
            std::fs::write(
                &env.plan,
                original.replacen("batch_size = 25", &format!("batch_size = 25{tx}"), 1),
            )
            .unwrap();
            let r = env.migrate(&["--unit", "customers"]);
            assert_eq!(r.code, 1, "{db:?} {per_batch}: {}{}", r.stdout, r.stderr);
            let (rows, maps, batches) = (
                env.one("SELECT count(*) FROM S.customers"),
                idmap(&env),
                env.one(
                    "SELECT count(*) FROM S.reckon_ledger WHERE unit = 'customers' AND batch >= 0",
                ),
            );
            let want = if per_batch { "50" } else { "0" };
            assert_eq!(
                (rows.as_str(), maps.as_str()),
                (want, want),
                "{db:?} {per_batch}"
            );
            assert_eq!(batches, if per_batch { "2" } else { "0" }, "{db:?}");
            assert_eq!(
                mapped_rows(&env),
                want,
                "{db:?} {per_batch}: an id-map row without its row"
            );
        }
        env.query("ALTER TABLE S.customers DROP CONSTRAINT not61");
        let r = env.migrate(&["--unit", "customers"]);
        assert_eq!(r.code, 0, "{db:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(idmap(&env), "300");
        assert_eq!(mapped_rows(&env), "300");
    }
}

/// The `n`-th smallest source key of the fixture's customers (0-based).
fn env_source_key(env: &Env, n: usize) -> i64 {
    rusqlite::Connection::open(&env.source)
        .unwrap()
        .query_row(
            &format!("SELECT cust_id FROM customers ORDER BY cust_id LIMIT 1 OFFSET {n}"),
            [],
            |r| r.get(0),
        )
        .unwrap()
}
