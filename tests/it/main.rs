//! Integration tests: the real `reckon` binary on real fixtures and real servers.
//!
//! One binary, one module per area. Expected numbers come from `fixtures/README.md` (the planted
//! defects); servers and the browser are found through environment variables and skipped with a
//! message when absent, unless `RECKON_REQUIRE_SERVICES=1`.

mod check_files;
mod check_servers;
mod ci_reports;
mod cli_docs;
mod common;
mod credentials;
mod diff_files;
mod diff_property;
mod diff_pushdown;
mod diff_pushdown_sqlite;
mod diff_servers;
mod diff_shard;
mod engine_property;
mod init;
mod migrate_keys;
mod migrate_recovery;
mod migrate_repair;
mod migrate_servers;
mod migrate_stream;
mod migrate_values;
mod profile_bad_input;
mod profile_files;
mod profile_html;
mod profile_pushdown;
mod profile_pushdown_keys;
mod profile_servers;
mod profile_sqlite;
mod pushdown_tables;
mod runbook;
mod schemas;
mod snapshots;
mod value_layer;
