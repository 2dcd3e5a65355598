//! `reckon completions` and `reckon man`: generated from the command line, so they name every
//! command and flag there is.

use super::common::{reckon, tempdir};

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
