//! `reckon runbook`: the runbook of the fixture plan (SQLite → PostgreSQL), whose every command
//! is then run in the order written, each exiting as the runbook says (0).

use crate::common::*;

/// The words of a command line as a shell reads them (the runbook quotes with `'…'` only).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            '\\' if !quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            _ => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_command_of_the_runbook_runs_in_order() {
    use super::migrate_servers::{Db, Env};
    let Some(env) = Env::new(Db::Pg, "runbook") else {
        return;
    };
    let d = tempdir();
    let (runs, backup, out) = (
        d.path().join("runs"),
        d.path().join("backup"),
        d.path().join("RUNBOOK.md"),
    );
    let plan = env.plan.to_str().unwrap();
    let r = reckon(&[
        "runbook",
        plan,
        "--target",
        &env.target,
        "--runs",
        runs.to_str().unwrap(),
        "--backup",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = std::fs::read_to_string(&out).unwrap();
    // The units in order with the rows a dry run counted (fixtures/README.md: 40 customers,
    // 6 products, 60 orders).
    for line in [
        "| 1 | `customers` | table `customers` |",
        "| 2 | `products` | table `products` |",
        "| 3 | `orders` | query `orders.sql` |",
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    let rows = |unit: &str| -> String {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("| `{unit}` |")))
            .unwrap();
        line.trim_end_matches(" |")
            .rsplit("| ")
            .next()
            .unwrap()
            .to_string()
    };
    let count = |table: &str| {
        let db = rusqlite::Connection::open(&env.source).unwrap();
        db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
        .to_string()
    };
    assert_eq!(rows("customers"), count("customers"));
    assert_eq!(rows("products"), count("products"));
    let cmds = reckon::migrate::runbook::commands(&text);
    // Every section's command is there, in the order of the day.
    let order = [
        "reckon profile",
        "--dry-run",
        "reckon migrate status",
        "reckon migrate backup",
        "--unit customers",
        "--unit products",
        "--unit orders",
        "reckon diff",
        "--delta",
        "reckon migrate restore",
        "--keys-from",
    ];
    let at = |p: &str| {
        cmds.iter()
            .position(|c| c.contains(p))
            .unwrap_or_else(|| panic!("no `{p}` in {cmds:#?}"))
    };
    assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{cmds:#?}");
    // After the restore, every unit is forgotten in the ledger.
    let forgotten_after = |unit: &str| {
        cmds.iter()
            .rposition(|c| c.contains("migrate forget") && c.ends_with(&format!("--unit {unit}")))
            .is_some_and(|f| f > at("reckon migrate restore"))
    };
    assert!(["customers", "products", "orders"]
        .iter()
        .all(|u| forgotten_after(u)));
    // No password of any kind, and every command runs as written, exiting 0.
    assert!(!text.contains("password"), "{text}");
    for c in &cmds {
        let w = words(c);
        assert_eq!(w[0], "reckon", "{c}");
        let args: Vec<&str> = w[1..].iter().map(String::as_str).collect();
        let r = reckon(&args);
        assert_eq!(r.code, 0, "{c}\n{}\n{}", r.stdout, r.stderr);
    }
    // After the rollback the target tables hold what they held before the migration (nothing).
    assert_eq!(env.one("SELECT count(*) FROM S.customers"), "0");
    // An existing runbook is never written over.
    let again = reckon(&[
        "runbook",
        plan,
        "--no-counts",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 2);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), text);
}
