//! The repair loop: a migrated target broken in the classes the diff knows, `reckon diff --out`,
//! `reckon migrate --keys-from`, and the diff finds nothing left to repair.

use super::common::reckon;
use super::migrate_servers::{Db, Env};

#[test]
fn a_target_broken_after_migration_is_repaired_from_the_diff() {
    for db in [Db::Pg, Db::My] {
        let Some(env) = Env::new(db, &format!("repair_{db:?}").to_lowercase()) else {
            return;
        };
        assert_eq!(env.migrate(&["--unit", "products"]).code, 0);
        // A row gone, a title's case changed, a price off by a cent, a trailing space, and a
        // row the source does not have.
        env.query("DELETE FROM S.products WHERE sku = 'SKU-003'");
        env.query("UPDATE S.products SET title = upper(title) WHERE sku = 'SKU-004'");
        env.query("UPDATE S.products SET price = price + 0.01 WHERE sku = 'SKU-005'");
        env.query("UPDATE S.products SET title = CONCAT(title, ' ') WHERE sku = 'SKU-006'");
        env.query("INSERT INTO S.products (sku, title, price) VALUES ('ZZ-1', 'extra', 1)");
        let diff = |name: &str| {
            let (r, out) = env.diff_products(name);
            let json: serde_json::Value =
                serde_json::from_slice(&std::fs::read(out.join("diff.json")).unwrap()).unwrap();
            (r, json["tables"][0]["counts"].clone(), out)
        };
        let (r, counts, before) = diff("before");
        assert_eq!(r.code, 1, "{db:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(counts["missing"], 1, "{db:?}: {counts:#}");
        assert_eq!(counts["mismatched"], 3, "{db:?}: {counts:#}");
        assert_eq!(counts["extra"], 1, "{db:?}: {counts:#}");
        let written_before = env.one("SELECT count(*) FROM S.reckon_ledger");
        let r = env.migrate(&["--keys-from", before.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 0, "{db:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("repairing 4 key(s)"), "{}", r.stderr);
        assert!(
            r.stderr
                .contains("unit 'products': 1 row(s) the target holds"),
            "{}",
            r.stderr
        );
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(
            v.as_array().unwrap().len(),
            1,
            "only the unit that owns the table"
        );
        assert_eq!(v[0]["unit"], "products");
        assert_eq!(
            v[0]["rows"], 4,
            "only the keys the diff found: {}",
            r.stdout
        );
        assert_eq!(v[0]["verify"], serde_json::json!([0, 0, 0]));
        assert_ne!(
            env.one("SELECT count(*) FROM S.reckon_ledger"),
            written_before
        );
        assert_eq!(v[0]["deleted"], 0);
        // Nothing left but the extra row, which was left in place.
        let (_, counts, after) = diff("after");
        assert_eq!(counts["missing"], 0, "{db:?}: {counts:#}");
        assert_eq!(counts["mismatched"], 0, "{db:?}: {counts:#}");
        assert_eq!(counts["extra"], 1, "{db:?}: {counts:#}");
        // The unit may delete what the source does not hold (not a change of what it writes:
        // the applied unit is not refused as edited).
        env.products_delete_missing();
        if db == Db::Pg {
            // A table inheriting from the target holds the key too: the delete would remove
            // two rows for one key, and is rolled back.
            env.query(&format!(
                "CREATE TABLE {s}.products_more () INHERITS ({s}.products);
                 INSERT INTO {s}.products_more VALUES ('ZZ-1', 'more', 2)",
                s = env.schema
            ));
            let r = env.migrate(&["--keys-from", after.to_str().unwrap()]);
            assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
            assert!(
                r.stdout.contains("2 target rows match the 1 key(s)"),
                "{}",
                r.stdout
            );
            assert_eq!(
                env.one("SELECT count(*) FROM S.products WHERE sku = 'ZZ-1'"),
                "2"
            );
            env.query(&format!("DROP TABLE {}.products_more", env.schema));
        }
        let r = env.migrate(&["--keys-from", after.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 0, "{db:?}: {}{}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["deleted"], 1, "{}", r.stdout);
        assert_eq!(v[0]["rows"], 0, "{}", r.stdout);
        assert_eq!(
            env.one("SELECT count(*) FROM S.products WHERE sku = 'ZZ-1'"),
            "0"
        );
        assert_eq!(env.one("SELECT count(*) FROM S.products"), "40");
        let (r, counts, _) = diff("last");
        assert_eq!(r.code, 0, "{db:?}: {}{} {counts:#}", r.stdout, r.stderr);
        // An extra the source holds again (inserted since the diff) is kept.
        let c = rusqlite::Connection::open(&env.source).unwrap();
        c.execute(
            "INSERT INTO products (sku, title, price) VALUES ('ZZ-1', 'extra', 1)",
            [],
        )
        .unwrap();
        drop(c);
        env.query("INSERT INTO S.products (sku, title, price) VALUES ('ZZ-1', 'extra', 1)");
        let r = env.migrate(&["--keys-from", after.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 0, "{db:?}: {}{}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["deleted"], 0, "{}", r.stdout);
        assert_eq!(
            env.one("SELECT count(*) FROM S.products WHERE sku = 'ZZ-1'"),
            "1"
        );
        // A directory that holds no diff is refused; so is a diff keyed otherwise than the unit.
        let nowhere = env.plan.with_file_name("nowhere");
        let r = env.migrate(&["--keys-from", nowhere.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(r.stderr.contains("diff.json"), "{}", r.stderr);
        let (r, by_title) = env.diff_products_by("title", "by_title");
        assert!(r.code <= 1, "{}", r.stderr);
        let r = env.migrate(&["--keys-from", by_title.to_str().unwrap()]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr
                .contains("by (title), unit 'products' keys it by (sku)"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_delta_run_finds_keys_gone_from_the_source_and_deletes_them_when_told() {
    let Some(env) = Env::new(Db::Pg, "gone_pg") else {
        return;
    };
    assert_eq!(env.migrate(&[]).code, 0);
    let source = |sql: &str| {
        let c = rusqlite::Connection::open(&env.source).unwrap();
        c.execute(sql, []).unwrap();
    };
    // Two customers without orders leave the source.
    source("DELETE FROM customers WHERE cust_id IN (1033, 1279)");
    let delta = || {
        let r = env.migrate(&["--delta", "--unit", "customers", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
        (r, v)
    };
    let (r, v) = delta();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(v[0]["gone"], 2, "{}", r.stdout);
    assert_eq!(v[0]["deleted"], 0);
    assert!(
        r.stderr
            .contains("2 target row(s) have keys the source no longer holds"),
        "{}",
        r.stderr
    );
    assert_eq!(env.one("SELECT count(*) FROM S.customers"), "300");
    // Told to delete them: they go, by their new ids, with a ledger row.
    let plan = std::fs::read_to_string(&env.plan).unwrap().replacen(
        "key = [\"cust_id\"]",
        "key = [\"cust_id\"]\ndelete_missing = true",
        1,
    );
    std::fs::write(&env.plan, plan).unwrap();
    let (r, v) = delta();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        (v[0]["gone"].clone(), v[0]["deleted"].clone()),
        (2.into(), 2.into()),
        "{}",
        r.stdout
    );
    assert_eq!(env.one("SELECT count(*) FROM S.customers"), "298");
    assert_eq!(
        env.one("SELECT count(*) FROM S.customers WHERE legacy_id IN (1033, 1279)"),
        "0"
    );
    assert_eq!(
        env.one("SELECT rows_written FROM S.reckon_ledger WHERE unit = 'customers' AND first_key LIKE 'delete %'"),
        "2"
    );
    // Their id-map rows went with them: the next delta run finds nothing gone.
    let (r, v) = delta();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(v[0]["gone"], 0, "{}", r.stdout);
    assert_eq!(
        env.one("SELECT count(*) FROM S.reckon_idmap WHERE unit = 'customers'"),
        "298"
    );
    // A customer with orders leaves the source: deleting it would break the orders' foreign
    // key, so the delete rolls back and the unit fails; nothing is deleted.
    source("DELETE FROM customers WHERE cust_id = (SELECT min(cust_ref) FROM orders)");
    let (r, _) = delta();
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(env.one("SELECT count(*) FROM S.customers"), "298");
}

#[test]
fn a_recheck_compares_only_the_keys_that_differed_and_says_so() {
    let Some(env) = Env::new(Db::Pg, "recheck_pg") else {
        return;
    };
    assert_eq!(env.migrate(&["--unit", "products"]).code, 0);
    env.query("UPDATE S.products SET title = upper(title) WHERE sku IN ('SKU-004', 'SKU-005')");
    env.query("DELETE FROM S.products WHERE sku = 'SKU-006'");
    let source = format!("sqlite://{}", env.source.display());
    let table = format!("products:{}.products", env.schema);
    let dir = env.plan.with_file_name("diff");
    let diff = |extra: &[&str]| {
        let mut args = vec![
            "diff",
            &source,
            &env.target,
            "--table",
            &table,
            "--key",
            "sku",
        ];
        args.extend_from_slice(extra);
        let r = reckon(&args);
        (r.code, r.stdout.clone(), r.stderr.clone())
    };
    let first = dir.join("first");
    let (code, _, err) = diff(&["--out", first.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    // No earlier report, or a file that cannot be read by key: refused, naming why.
    let (code, _, err) = diff(&["--recheck", dir.join("nowhere").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("diff_rows.parquet"), "{err}");
    let fixture = super::common::root().join("fixtures/diff/migrated.parquet");
    let r = reckon(&[
        "diff",
        fixture.to_str().unwrap(),
        fixture.to_str().unwrap(),
        "--key",
        "id",
        "--recheck",
        first.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is not a database"), "{}", r.stderr);
    // The lag settles for one of the three: the recheck reads those three keys only.
    env.query("UPDATE S.products SET title = 'Product 4' WHERE sku = 'SKU-004'");
    let title4 = {
        let c = rusqlite::Connection::open(&env.source).unwrap();
        c.query_row(
            "SELECT title FROM products WHERE sku = 'SKU-004'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    };
    env.query(&format!(
        "UPDATE S.products SET title = '{}' WHERE sku = 'SKU-004'",
        title4.replace('\'', "''")
    ));
    let again = dir.join("again");
    let (code, out, err) = diff(&[
        "--recheck",
        first.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let t = &v["tables"][0];
    assert_eq!(t["recheck"], 3, "{t:#}");
    let c = &t["counts"];
    assert_eq!(c["source_rows"], 3, "{c:#}");
    assert_eq!(c["matched"], 1, "{c:#}");
    assert_eq!(c["mismatched"], 1, "{c:#}");
    assert_eq!(c["missing"], 1, "{c:#}");
    // Nothing left once all three settle; the terminal says what was compared.
    env.query("UPDATE S.products SET title = initcap(lower(title)) WHERE sku = 'SKU-005'");
    let c = rusqlite::Connection::open(&env.source).unwrap();
    let (t5, p6): (String, String) = (
        c.query_row(
            "SELECT title FROM products WHERE sku = 'SKU-005'",
            [],
            |r| r.get(0),
        )
        .unwrap(),
        c.query_row(
            "SELECT title || '|' || price FROM products WHERE sku = 'SKU-006'",
            [],
            |r| r.get(0),
        )
        .unwrap(),
    );
    env.query(&format!(
        "UPDATE S.products SET title = '{}' WHERE sku = 'SKU-005'",
        t5.replace('\'', "''")
    ));
    let (t6, price6) = p6.split_once('|').unwrap();
    env.query(&format!(
        "INSERT INTO S.products (sku, title, price) VALUES ('SKU-006', '{}', {price6})",
        t6.replace('\'', "''")
    ));
    let (code, out, err) = diff(&["--recheck", first.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("recheck: only the 3 key(s)"), "{out}");
}

/// A repair (`--keys-from`) that fails part-way, on a row the target refuses, leaves the target
/// and the ledger as they were: no repaired row, no deleted extra, no ledger row claiming the
/// run. Once the cause is gone, the same repair completes and the diff finds nothing.
#[test]
fn a_repair_that_fails_part_way_changes_nothing_and_the_rerun_completes() {
    for db in [Db::Pg, Db::My] {
        let Some(env) = Env::new(db, &format!("repfail_{db:?}").to_lowercase()) else {
            return;
        };
        env.products_delete_missing();
        assert_eq!(env.migrate(&["--unit", "products"]).code, 0);
        env.query("UPDATE S.products SET title = upper(title) WHERE sku = 'SKU-004'");
        env.query("INSERT INTO S.products (sku, title, price) VALUES ('ZZ-1', 'extra', 1)");
        env.query("DELETE FROM S.products WHERE sku = 'SKU-030'");
        let (r, before) = env.diff_products("before");
        assert_eq!(r.code, 1);
        // The target refuses the missing row when it comes back: the repair stops there.
        env.query("ALTER TABLE S.products ADD CONSTRAINT no30 CHECK (sku <> 'SKU-030')");
        let ledger = || env.one("SELECT count(*) FROM S.reckon_ledger");
        let (rows_before, ledger_before) = (env.one("SELECT count(*) FROM S.products"), ledger());
        let r = env.migrate(&["--keys-from", before.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 1, "{db:?}: {}{}", r.stdout, r.stderr);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v[0]["status"], "failed", "{}", r.stdout);
        // Nothing of it stays: the changed title is still changed, the extra still there.
        assert_eq!(env.one("SELECT count(*) FROM S.products"), rows_before);
        assert_eq!(
            env.one("SELECT title FROM S.products WHERE sku = 'SKU-004'"),
            env.one("SELECT upper(title) FROM S.products WHERE sku = 'SKU-004'")
        );
        assert_eq!(
            env.one("SELECT count(*) FROM S.products WHERE sku = 'ZZ-1'"),
            "1"
        );
        // The ledger says it failed, and claims no batch of it.
        let applied =
            env.one("SELECT count(*) FROM S.reckon_ledger WHERE kind = 'item' AND batch >= 0");
        assert_eq!(applied, "0", "{db:?}");
        assert_eq!(
            env.one(
                "SELECT count(*) FROM S.reckon_ledger WHERE kind = 'item' AND status = 'completed'"
            ),
            "0"
        );
        assert_ne!(ledger(), ledger_before, "the failure is recorded");
        // The cause gone, the same repair completes, and nothing is left to repair.
        env.query("ALTER TABLE S.products DROP CONSTRAINT no30");
        let r = env.migrate(&["--keys-from", before.to_str().unwrap(), "--json"]);
        assert_eq!(r.code, 0, "{db:?}: {}{}", r.stdout, r.stderr);
        let (r, _) = env.diff_products("after");
        assert_eq!(r.code, 0, "{db:?}");
    }
}
