//! The JSON Schemas in `schemas/`: the same as the types that write the files generate, and every
//! JSON file the commands write, on the fixtures, valid against its schema.

use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// The committed schema of a file (`diff.json`).
fn committed(file: &str) -> Value {
    let s = reckon::schemas::all()
        .into_iter()
        .find(|s| s.file == file)
        .unwrap_or_else(|| panic!("no schema for {file}"));
    let path = root().join("schemas").join(s.name());
    serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file")).unwrap()
}

/// What the committed schema of `file` finds wrong with `doc`.
fn errors(file: &str, doc: &Value) -> Vec<String> {
    let schema = committed(file);
    let v = jsonschema::validator_for(&schema).expect("a valid schema");
    v.iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

fn assert_valid(file: &str, path: &Path) {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let errs = errors(file, &doc);
    assert!(errs.is_empty(), "{}: {errs:#?}", path.display());
}

#[test]
fn the_schemas_in_the_repository_are_the_generated_ones() {
    let write = std::env::var_os("RECKON_WRITE_SCHEMAS").is_some();
    let dir = root().join("schemas");
    for s in reckon::schemas::all() {
        let text = serde_json::to_string_pretty(&s.schema).unwrap() + "\n";
        let path = dir.join(s.name());
        if write {
            std::fs::write(&path, &text).unwrap();
        }
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept == text,
            "schemas/{} is not what the code writes: bump the file's format_version if its shape \
             changed, then run RECKON_WRITE_SCHEMAS=1 cargo test --test it schemas",
            s.name()
        );
        // Each schema names its file and version.
        let title = s.schema.get("title").and_then(Value::as_str).unwrap();
        assert!(
            title.starts_with(s.file) && title.contains(&format!("format_version {}", s.version))
        );
    }
}

#[test]
fn every_file_the_commands_write_is_valid_against_its_schema() {
    let d = tempdir();
    let out = |n: &str| d.path().join(n);
    let run = |args: &[&str], codes: &[i32]| {
        let r = reckon(args);
        assert!(codes.contains(&r.code), "{args:?}: {}", r.stderr);
    };
    let p = out("profile");
    run(
        &[
            "profile",
            "sqlite://fixtures/shop/shop.db",
            "--out",
            p.to_str().unwrap(),
        ],
        &[0, 1],
    );
    assert_valid("profile.json", &p.join("profile.json"));
    assert_valid("run.json", &p.join("run.json"));
    let legacy = "sqlite://fixtures/diff/legacy.db";
    let migrated = "fixtures/diff/migrated.parquet";
    let df = out("diff");
    run(
        &["diff", legacy, migrated, "--out", df.to_str().unwrap()],
        &[1],
    );
    assert_valid("diff.json", &df.join("diff.json"));
    assert_valid("run.json", &df.join("run.json"));
    let sh = out("shard");
    run(
        &[
            "diff",
            legacy,
            migrated,
            "--shard",
            "1/2",
            "--out",
            sh.to_str().unwrap(),
        ],
        &[0, 1],
    );
    assert_valid("shard.json", &sh.join("shard.json"));
    let rules = out("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nkind = \"not_null\"\ntable = \"customers\"\ncolumn = \"email\"\n",
    )
    .unwrap();
    let ck = out("check");
    run(
        &[
            "check",
            "sqlite://fixtures/shop/shop.db",
            "--rules",
            rules.to_str().unwrap(),
            "--out",
            ck.to_str().unwrap(),
        ],
        &[1],
    );
    assert_valid("check.json", &ck.join("check.json"));
    // Two sign-offs of the file fixtures (the second accepts more), and their comparison. A
    // spec's paths are its own directory's: these are absolute.
    let legacy_abs = format!(
        "sqlite://{}",
        root().join("fixtures/diff/legacy.db").display()
    );
    let migrated_abs = root().join(migrated).display().to_string();
    let spec = |name: &str, missing: u32| {
        let path = out(&format!("{name}.toml"));
        std::fs::write(
            &path,
            format!(
                "source = \"{legacy_abs}\"\ntarget = \"{migrated_abs}\"\n\n[criteria]\nmissing = {missing}\n\n\
                 [[table]]\nsource = \"customers\"\ntarget = \"migrated\"\nkey = [\"id\"]\n"
            ),
        )
        .unwrap();
        path
    };
    let (s1, s2) = (out("so1"), out("so2"));
    run(
        &[
            "signoff",
            spec("a", 0).to_str().unwrap(),
            "--out",
            s1.to_str().unwrap(),
        ],
        &[1],
    );
    run(
        &[
            "signoff",
            spec("b", 5).to_str().unwrap(),
            "--out",
            s2.to_str().unwrap(),
        ],
        &[1],
    );
    assert_valid("signoff.json", &s1.join("signoff.json"));
    assert_valid("signoff-manifest.json", &s1.join("manifest.json"));
    let cmp = out("cmp");
    run(
        &[
            "compare",
            s1.to_str().unwrap(),
            s2.to_str().unwrap(),
            "--out",
            cmp.to_str().unwrap(),
        ],
        &[0, 1],
    );
    assert_valid("compare.json", &cmp.join("compare.json"));

    // The schemas are not vacuous: a verdict reckon never writes, a count that is text, and a
    // missing field are each refused.
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(df.join("diff.json")).unwrap()).unwrap();
    let mut bad = doc.clone();
    bad["verdict"] = "maybe".into();
    assert!(!errors("diff.json", &bad).is_empty());
    let mut bad = doc.clone();
    bad["tables"][0]["counts"]["missing"] = "1".into();
    assert!(!errors("diff.json", &bad).is_empty());
    let mut bad = doc;
    bad.as_object_mut().unwrap().remove("format_version");
    assert!(!errors("diff.json", &bad).is_empty());
}

#[test]
fn migrate_files_are_valid_against_their_schemas() {
    use super::migrate_servers::{Db, Env};
    let Some(env) = Env::new(Db::Pg, "schemas") else {
        return;
    };
    let d = tempdir();
    let (out, backup) = (d.path().join("out"), d.path().join("backup"));
    let r = env.migrate(&["--out", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_valid("migrate.json", &out.join("migrate.json"));
    assert_valid("run.json", &out.join("run.json"));
    let r = env.migrate(&["backup", "--dir", backup.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_valid("backup-manifest.json", &backup.join("manifest.json"));
}
