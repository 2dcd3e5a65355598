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
    /// Sign-off diff: does the target hold the same data as the source, cell by cell?
    Diff(DiffArgs),
}

/// `reckon diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The source (what was migrated from): a URL, .parquet/.csv path or quoted glob.
    pub source: String,
    /// The target (what was migrated to).
    pub target: String,
    /// Compare this table (repeatable): `NAME` on both sides, or `SOURCE_NAME:TARGET_NAME`.
    /// Default: the mapping's tables, else the one table of each side, else tables with the
    /// same name on both sides.
    #[arg(long = "table", short = 't')]
    pub tables: Vec<String>,
    /// Key columns, comma-separated source names (default: the mapping's, else the declared
    /// primary key; none → exact multiset diff of whole rows).
    #[arg(long, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Mapping file (TOML): table pairs, keys, renames, exclusions, rules, sensitive columns.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// A declared rule, `COLUMN=RULE` (repeatable): trim, char-pad, case-insensitive, nfc,
    /// signed-zero, nan-eq, abs=X, rel=X, precision=s|ms|us, tz-instant, json-semantic,
    /// map=FROM:TO;FROM:TO.
    #[arg(long = "rule")]
    pub rules: Vec<String>,
    /// Source columns not compared (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Columns whose raw values must never appear in any output (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub sensitive: Vec<String>,
    /// Write diff_summary.parquet, diff_rows.parquet, diff.json and diff.html here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Memory for rows waiting for their counterpart before they spill to disk
    /// (e.g. 512MiB, 2GiB).
    #[arg(long, default_value = "1GiB")]
    pub memory_limit: String,
    /// Directory for spill files (default: the system temporary directory).
    #[arg(long)]
    pub spill_dir: Option<PathBuf>,
    /// Differing rows kept as samples per table (JSON, HTML, terminal).
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the full report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
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
