//! reckon — a data profiling and validation auditor for data migrations.
//!
//! The pipeline: a source spec (URL or path) → [`source`] (connectorx, rusqlite, parquet, our CSV
//! reader) → chunks of Arrow record batches → an engine ([`profile`], [`diff`]) → typed results and
//! findings → report sinks ([`report`]: terminal, JSON, Parquet, HTML).
//!
//! - [`source`]: one `Source` trait, one file per backend, read-side settings pinned.
//! - [`profile`]: mergeable per-column accumulators, table checks, relationships, findings.
//! - [`report`]: one sink per format; templates live in top-level `reports/`.
//! - [`diff`]: the sign-off diff: plan, canonical encoding, streaming row diff, classes, rules.
//! - [`check`]: rules, the sign-off and its criteria, the evidence manifest.
//! - [`run`]: `run.json` for every run, and the comparison of two runs.
//! - [`schemas`]: the JSON Schemas of every JSON file reckon writes (kept in `schemas/`).
//! - [`value`]: the shared value model: type normalisation, canonical encoding, hashing, display.
//! - [`config`]: shared config plumbing: safe file reads, `${VAR}`, TOML line numbers.
//! - [`error`]: exit codes, hints, secret scrubbing.
//!
//! `src/main.rs`, `src/cli.rs` and `src/commands/` are the binary's glue; engines never import them.

pub mod check;
pub mod config;
pub mod diff;
pub mod error;
pub mod migrate;
pub mod profile;
pub mod report;
pub mod run;
pub mod schemas;
pub mod source;
pub mod value;
