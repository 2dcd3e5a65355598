//! `--junit FILE` and `--markdown FILE` (and `$GITHUB_STEP_SUMMARY`): one test case per table
//! pair, rule or unit, read back with a real XML parser, counts matching the JSON report.

use super::common::{reckon_env, tempdir};

/// (name, failure message or None, error message or None) per test case, after checking the
/// document's shape and its counts.
fn junit(path: &std::path::Path) -> Vec<(String, Option<String>, Option<String>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let count = |tag: &str| {
        cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
            .count()
            .to_string()
    };
    assert_eq!(
        suite.attribute("tests"),
        Some(cases.len().to_string().as_str())
    );
    assert_eq!(suite.attribute("failures"), Some(count("failure").as_str()));
    assert_eq!(suite.attribute("errors"), Some(count("error").as_str()));
    cases
        .iter()
        .map(|c| {
            assert!(c.attribute("classname").is_some() && c.attribute("time").is_some());
            let msg = |tag: &str| {
                c.children().find(|n| n.has_tag_name(tag)).map(|n| {
                    format!(
                        "{}\n{}",
                        n.attribute("message").unwrap_or(""),
                        n.text().unwrap_or("")
                    )
                })
            };
            (
                c.attribute("name").unwrap().to_string(),
                msg("failure"),
                msg("error"),
            )
        })
        .collect()
}

#[test]
fn diff_writes_junit_and_markdown_and_appends_the_step_summary() {
    let d = tempdir();
    let (j, m, summary) = (
        d.path().join("j.xml"),
        d.path().join("m.md"),
        d.path().join("summary.md"),
    );
    std::fs::write(&summary, "before\n").unwrap();
    let args = [
        "diff",
        "sqlite://fixtures/diff/legacy.db",
        "fixtures/diff/migrated.parquet",
        "--junit",
        j.to_str().unwrap(),
        "--markdown",
        m.to_str().unwrap(),
    ];
    let r = reckon_env(&[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())], &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let cases = junit(&j);
    assert_eq!(cases.len(), 1);
    let failure = cases[0].1.as_deref().expect("a mismatch is a failure");
    assert!(
        failure.starts_with("10 changed, 2 missing, 2 extra"),
        "{failure}"
    );
    assert!(
        failure.contains("sample keys: ") && failure.contains("id=14 (missing)"),
        "{failure}"
    );
    let md = std::fs::read_to_string(&m).unwrap();
    assert!(md.starts_with("### reckon diff: mismatch"), "{md}");
    assert!(
        md.contains("| customers → migrated | mismatch | 30 | 30 | 10 | 2 | 2 |"),
        "{md}"
    );
    let appended = std::fs::read_to_string(&summary).unwrap();
    assert!(
        appended.starts_with("before\n### reckon diff: mismatch"),
        "{appended}"
    );
    // A matching pair passes.
    let r = reckon_env(
        &[],
        &[
            "diff",
            "fixtures/diff/migrated.parquet",
            "fixtures/diff/migrated.parquet",
            "--junit",
            j.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cases = junit(&j);
    assert_eq!(cases.len(), 1);
    assert!(cases[0].1.is_none() && cases[0].2.is_none(), "{cases:?}");
}

#[test]
fn check_writes_one_case_per_rule() {
    let d = tempdir();
    let rules = d.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"emails <present>\"\nkind = \"not_null\"\ntable = \"customers\"\ncolumn = \"email\"\n\n[[rule]]\nkind = \"not_null\"\ntable = \"customers\"\ncolumn = \"id\"\n",
    )
    .unwrap();
    let j = d.path().join("j.xml");
    let m = d.path().join("m.md");
    let r = reckon_env(
        &[],
        &[
            "check",
            "sqlite://fixtures/shop/shop.db",
            "--rules",
            rules.to_str().unwrap(),
            "--junit",
            j.to_str().unwrap(),
            "--markdown",
            m.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let cases = junit(&j);
    assert_eq!(cases.len(), 2, "{cases:?}");
    assert_eq!(cases[0].0, "emails <present>");
    let f = cases[0].1.as_deref().unwrap();
    assert!(f.starts_with("3 violation(s)"), "{f}");
    assert!(cases[1].1.is_none(), "{cases:?}");
    let md = std::fs::read_to_string(&m).unwrap();
    assert!(
        md.contains("| ❌ | emails <present> | 3 violation(s) |"),
        "{md}"
    );
}

#[test]
fn migrate_writes_one_case_per_unit() {
    use super::migrate_servers::{Db, Env};
    let Some(env) = Env::new(Db::Pg, "junit") else {
        return;
    };
    let d = tempdir();
    let j = d.path().join("j.xml");
    let r = env.migrate(&["--junit", j.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cases = junit(&j);
    let names: Vec<&str> = cases.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["customers", "products", "orders"], "{cases:?}");
    assert!(
        cases.iter().all(|c| c.1.is_none() && c.2.is_none()),
        "{cases:?}"
    );
    // A unit that fails is an error carrying the server's reason.
    env.query("DELETE FROM S.orders");
    env.query("ALTER TABLE S.orders ADD CONSTRAINT never CHECK (order_no < 0)");
    let r = env.migrate(&["forget", "--unit", "orders"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.migrate(&["--junit", j.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    let cases = junit(&j);
    let orders = cases.iter().find(|c| c.0 == "orders").unwrap();
    let error = orders.2.as_deref().expect("a failed unit is an error");
    assert!(
        error.starts_with("failed") && error.contains("\"never\""),
        "{error}"
    );
    assert!(cases
        .iter()
        .filter(|c| c.0 != "orders")
        .all(|c| c.1.is_none() && c.2.is_none()));
}
