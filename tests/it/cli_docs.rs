//! `reckon completions` and `reckon man`: generated from the command line, so they name every
//! command and flag there is.

use super::common::{reckon, reckon_env, tempdir};

#[test]
fn completions_name_every_command_and_flag_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let r = reckon(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        for word in [
            "profile",
            "diff",
            "migrate",
            "signoff",
            "pushdown",
            "keys-from",
        ] {
            assert!(r.stdout.contains(word), "{shell}: no {word}");
        }
    }
    let r = reckon(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
}

#[test]
fn man_pages_cover_every_command_with_its_examples() {
    let r = reckon(&["man"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".ie"),
        "{}",
        &r.stdout[..80.min(r.stdout.len())]
    );
    assert!(
        r.stdout.contains("reckon\\-migrate"),
        "no migrate in reckon(1)"
    );
    let dir = tempdir();
    let r = reckon(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for cmd in [
        "profile", "diff", "merge", "migrate", "check", "signoff", "compare",
    ] {
        let page = std::fs::read_to_string(dir.path().join(format!("reckon-{cmd}.1")))
            .unwrap_or_else(|e| panic!("reckon-{cmd}.1: {e}"));
        assert!(page.contains("Examples:"), "reckon-{cmd}.1 has no examples");
        assert!(page.contains(&format!("reckon {cmd}")), "reckon-{cmd}.1");
    }
    let diff = std::fs::read_to_string(dir.path().join("reckon-diff.1")).unwrap();
    assert!(
        diff.contains("\\-\\-pushdown"),
        "reckon-diff.1 lacks --pushdown"
    );
}

#[test]
fn quiet_prints_only_the_verdict_and_a_piped_stderr_gets_a_heartbeat() {
    let diff = [
        "diff",
        "sqlite://fixtures/diff/legacy.db",
        "fixtures/diff/migrated.parquet",
    ];
    let beat = [("RECKON_HEARTBEAT_SECS", "0")];
    let r = reckon_env(&beat, &[&diff[..], &["--quiet"]].concat());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(r.stdout, "verdict: mismatch\n");
    assert!(!r.stderr.contains("[reckon]"), "{}", r.stderr);
    // Without --quiet, a stderr that is not a terminal gets heartbeat lines instead of bars:
    // the work, rows so far, the rate.
    let r = reckon_env(&beat, &diff);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("sample differing rows"), "{}", r.stdout);
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("[reckon] customers → migrated: "))
        .unwrap_or_else(|| panic!("no heartbeat: {}", r.stderr));
    assert!(
        line.contains(" rows, ") && line.contains(" rows/s, "),
        "{line}"
    );
    // At the default interval, a short run prints none.
    let r = reckon_env(&[], &diff);
    assert!(!r.stderr.contains("[reckon]"), "{}", r.stderr);
    let d = tempdir();
    let rules = d.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nkind = \"not_null\"\ntable = \"customers\"\ncolumn = \"email\"\n",
    )
    .unwrap();
    let r = reckon_env(
        &[],
        &[
            "check",
            "sqlite://fixtures/shop/shop.db",
            "--rules",
            rules.to_str().unwrap(),
            "-q",
        ],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (1, "verdict: fail\n"),
        "{}",
        r.stderr
    );
    let r = reckon_env(&[], &[&diff[..], &["--quiet", "--json"]].concat());
    assert_eq!(r.code, 2, "{}", r.stdout);
}

/// `${VAR}` in a mapping's table names and in every value of a rules file, as in plans and
/// sign-off specs; a variable that is not set is named, with its line.
#[test]
fn mapping_and_rules_files_expand_variables() {
    let d = tempdir();
    let mapping = d.path().join("m.toml");
    std::fs::write(
        &mapping,
        "[[table]]\nsource = \"${RECKON_IT_SRC_TABLE}\"\ntarget = \"migrated\"\nkey = [\"id\"]\n",
    )
    .unwrap();
    let args = [
        "diff",
        "sqlite://fixtures/diff/legacy.db",
        "fixtures/diff/migrated.parquet",
        "--mapping",
        mapping.to_str().unwrap(),
        "--json",
    ];
    let r = reckon_env(&[("RECKON_IT_SRC_TABLE", "customers")], &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["tables"][0]["source_table"], "customers", "{}", r.stdout);
    let r = reckon_env(&[], &args);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("RECKON_IT_SRC_TABLE is not set"),
        "{}",
        r.stderr
    );
    let rules = d.path().join("r.toml");
    std::fs::write(
        &rules,
        "source = \"${RECKON_IT_RULES_SRC}\"\n\n[[rule]]\nkind = \"row_count\"\ntable = \"customers\"\nequals = \"source\"\n\n# column = \"${RECKON_IT_IN_A_COMMENT}\"\n[[rule]]\nkind = \"not_null\"\ntable = \"${RECKON_IT_RULES_TABLE:-customers}\"\ncolumn = \"${RECKON_IT_RULES_COLUMN}\"\n",
    )
    .unwrap();
    let check = [
        "check",
        "sqlite://fixtures/shop/shop.db",
        "--rules",
        rules.to_str().unwrap(),
        "--json",
    ];
    let src = format!(
        "sqlite://{}/fixtures/shop/shop.db",
        env!("CARGO_MANIFEST_DIR")
    );
    let vars = [
        ("RECKON_IT_RULES_SRC", src.as_str()),
        ("RECKON_IT_RULES_COLUMN", "email"),
    ];
    let r = reckon_env(&vars, &check);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    // Every value is expanded, at any depth: the default and the rule's column.
    assert_eq!(v["rules"][1]["table"], "customers", "{}", r.stdout);
    assert_eq!(v["rules"][1]["columns"][0], "email", "{}", r.stdout);
    // An unset variable is named with the line of its value.
    let r = reckon_env(&vars[..1], &check);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("line 12") && r.stderr.contains("RECKON_IT_RULES_COLUMN is not set"),
        "{}",
        r.stderr
    );
    let r = reckon_env(&vars[1..], &check);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("RECKON_IT_RULES_SRC is not set"),
        "{}",
        r.stderr
    );
    // A source given with --source: the file's variable need not be set.
    let with_source = [&check[..], &["--source", src.as_str()]].concat();
    let r = reckon_env(&vars[1..], &with_source);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    // So for a sign-off spec's source and target.
    let spec = d.path().join("s.toml");
    std::fs::write(
        &spec,
        "source = \"${RECKON_IT_SPEC_SRC}\"\ntarget = \"${RECKON_IT_SPEC_TGT}\"\n\n\
         [[table]]\nsource = \"customers\"\ntarget = \"migrated\"\nkey = [\"id\"]\n",
    )
    .unwrap();
    let signoff = |extra: &[&str]| {
        let out = d.path().join(format!("so{}", extra.len()));
        let args = [
            &[
                "signoff",
                spec.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ][..],
            extra,
        ]
        .concat();
        reckon_env(&[], &args)
    };
    let r = signoff(&["--source", "sqlite://fixtures/diff/legacy.db"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains("RECKON_IT_SPEC_TGT is not set"),
        "{}",
        r.stderr
    );
    let r = signoff(&[
        "--source",
        "sqlite://fixtures/diff/legacy.db",
        "--target",
        "fixtures/diff/migrated.parquet",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
}
