//! JSON Schemas (draft 2020-12) of every JSON file reckon writes, generated from the types that
//! write them, so that they cannot drift from the files. The repository keeps them in `schemas/`
//! as `<file>.v<format_version>.schema.json`; a test checks that they are current and validates
//! real outputs against them. A change that alters a file's shape must bump its
//! `format_version` (and so write a new schema beside the old one).

use schemars::{JsonSchema, Schema, SchemaGenerator};

/// One JSON file and its schema.
pub struct FileSchema {
    /// The file reckon writes (`diff.json`), or the one a command prints.
    pub file: &'static str,
    /// Which command writes it, for the schema's title.
    pub written_by: &'static str,
    /// Its `format_version`.
    pub version: u32,
    /// The schema.
    pub schema: Schema,
}

impl FileSchema {
    /// The name the schema has in `schemas/`.
    pub fn name(&self) -> String {
        let stem = self.file.trim_end_matches(".json");
        format!("{stem}.v{}.schema.json", self.version)
    }
}

fn one<T: JsonSchema>(file: &'static str, written_by: &'static str, version: u32) -> FileSchema {
    let mut schema = SchemaGenerator::default().into_root_schema_for::<T>();
    schema.insert(
        "title".into(),
        format!("{file}, as {written_by} writes it (format_version {version})").into(),
    );
    FileSchema {
        file,
        written_by,
        version,
        schema,
    }
}

/// Every JSON file reckon writes, with its schema.
pub fn all() -> Vec<FileSchema> {
    vec![
        one::<crate::profile::ProfileReport>("profile.json", "reckon profile", 1),
        one::<crate::diff::DiffReport>(
            "diff.json",
            "reckon diff and reckon merge",
            crate::diff::model::FORMAT_VERSION,
        ),
        one::<crate::diff::shard::ShardState>(
            "shard.json",
            "reckon diff --shard",
            crate::diff::model::FORMAT_VERSION,
        ),
        one::<crate::check::CheckReport>(
            "check.json",
            "reckon check",
            crate::check::FORMAT_VERSION,
        ),
        one::<crate::check::signoff::SignoffReport>(
            "signoff.json",
            "reckon signoff",
            crate::check::signoff::FORMAT_VERSION,
        ),
        one::<crate::check::manifest::Manifest>(
            "signoff-manifest.json",
            "reckon signoff --out (manifest.json)",
            1,
        ),
        one::<crate::run::compare::Comparison>(
            "compare.json",
            "reckon compare",
            crate::run::compare::FORMAT_VERSION,
        ),
        one::<crate::run::RunRecord>(
            "run.json",
            "every command's --out",
            crate::run::FORMAT_VERSION,
        ),
        // migrate.json and the backup's manifest.json carry no format_version (their shape
        // predates it); they are version 1.
        one::<Vec<crate::migrate::executor::UnitOutcome>>(
            "migrate.json",
            "reckon migrate --out (and --json)",
            1,
        ),
        one::<crate::migrate::backup::Manifest>(
            "backup-manifest.json",
            "reckon migrate --backup (manifest.json)",
            1,
        ),
    ]
}
