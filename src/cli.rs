//! Command-line types (clap), nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// reckon — profile and validate data before, during and after a migration.
#[derive(Debug, Parser)]
#[command(name = "reckon", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Discovery report: what is in a source, table by table and column by column.
    Profile(ProfileArgs),
}

/// `reckon profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// The source: postgres://USER@HOST:5432/DB, mysql://USER@HOST:3306/DB, sqlite://PATH.db,
    /// a .parquet or .csv file, or a quoted glob of them.
    pub source: String,
    /// Profile only this table (repeatable; `schema.table` or `table`).
    #[arg(long = "table", short = 't')]
    pub tables: Vec<String>,
    /// Profile the result of this SQL query (database sources only).
    #[arg(long, conflicts_with = "tables")]
    pub query: Option<String>,
    /// Write profile.parquet, profile.json and profile.html into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Columns whose raw values must never appear in any output (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Vec<String>,
    /// Top values and shapes shown per column.
    #[arg(long, default_value_t = 10)]
    pub top_k: usize,
    /// Count distinct values exactly up to this many per column, then estimate (HyperLogLog).
    #[arg(long, default_value_t = 1_000_000)]
    pub exact_distinct_limit: usize,
    /// Sample keys kept per finding.
    #[arg(long, default_value_t = 5)]
    pub sample_keys: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the full report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}
