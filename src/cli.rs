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
    #[command(after_help = PROFILE_EXAMPLES)]
    Profile(ProfileArgs),
    /// Sign-off diff: does the target hold the same data as the source, cell by cell?
    #[command(after_help = DIFF_EXAMPLES)]
    Diff(DiffArgs),
    /// One report from the shards of a diff (`reckon diff --shard I/N --out DIR`), identical to
    /// the unsharded run's.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge(MergeArgs),
    /// The migration executor: run a plan of units, each verified before it is called done.
    #[command(after_help = MIGRATE_EXAMPLES)]
    Migrate(MigrateArgs),
    /// Rules a target must obey: not-null, unique, range, allowed, regex, length, date format,
    /// references, row counts, custom SQL, spot checks.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// The sign-off: profile both sides, diff, check, judge the criteria; PASS exits 0.
    #[command(after_help = SIGNOFF_EXAMPLES)]
    Signoff(SignoffArgs),
    /// What changed between two runs (rehearsal 1 vs 2): profile drift, diff outcomes, rules
    /// that flipped, timings.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(CompareArgs),
    /// A mapping file written from both catalogs: table pairs, keys, renamed columns, columns on
    /// one side only, likely rules, each with its evidence, for `reckon diff --mapping`.
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
    /// The execution runbook of a migration plan (Markdown): pre-checks, backup, the units in
    /// order with their rows, validation and sign-off, the cutover delta, rollback and repair,
    /// every step a real reckon command.
    #[command(after_help = RUNBOOK_EXAMPLES)]
    Runbook(RunbookArgs),
    /// Shell completions on stdout: `reckon completions bash > /etc/bash_completion.d/reckon`.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Manual pages (roff): reckon(1) on stdout, or one page per command into a directory.
    #[command(after_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

const PROFILE_EXAMPLES: &str = "Examples:
  reckon profile sqlite://fixtures/shop/shop.db --out reports-out/shop
  reckon profile postgres://app@db.internal/crm --table public.orders --json > orders.json
  reckon profile 'exports/*.parquet' --sensitive email,phone --out reports-out/exports";

const DIFF_EXAMPLES: &str = "Examples:
  reckon diff sqlite://fixtures/diff/legacy.db fixtures/diff/migrated.parquet --out reports-out/diff
  reckon diff postgres://app@old/crm mysql://app@new/crm --table customers --key id --pushdown
  reckon diff postgres://app@old/crm postgres://app@new/crm --recheck reports-out/diff";

const MERGE_EXAMPLES: &str = "Examples:
  reckon diff SRC TGT --key id --shard 1/4 --out shard1   (and 2/4, 3/4, 4/4 elsewhere)
  reckon merge shard1 shard2 shard3 shard4 --out merged";

const MIGRATE_EXAMPLES: &str = "Examples:
  reckon migrate fixtures/migrate/plan.toml --dry-run
  reckon migrate plan.toml --unit customers && reckon migrate status plan.toml
  reckon migrate plan.toml --keys-from reports-out/diff   (re-copy what a diff found)";

const CHECK_EXAMPLES: &str = "Examples:
  reckon check postgres://app@new/crm --rules rules.toml --out reports/checks
  reckon check target.parquet --rules rules.toml --source sqlite://legacy.db --json";

const SIGNOFF_EXAMPLES: &str = "Examples:
  reckon signoff migration.toml --out signoff/2026-11-21
  reckon signoff --verify signoff/2026-11-21";

const COMPARE_EXAMPLES: &str = "Examples:
  reckon compare runs/rehearsal-1 runs/rehearsal-2 --out reports/drift
  reckon compare runs/pre runs/post --json";

const INIT_EXAMPLES: &str = "Examples:
  reckon init sqlite://fixtures/diff/legacy.db fixtures/diff/migrated.parquet --out mapping.toml
  reckon init postgres://app@old/crm mysql://app@new/crm --out crm-mapping.toml --no-profile
  reckon init sqlite://fixtures/shop/shop.db sqlite://fixtures/shop/shop.db";

const RUNBOOK_EXAMPLES: &str = "Examples:
  reckon runbook fixtures/migrate/plan.toml --out RUNBOOK.md
  reckon runbook plan.toml --signoff signoff.toml --target postgres://app@new/crm --out RUNBOOK.md
  reckon runbook plan.toml --no-counts --runs day1/runs --backup day1/backup";

const COMPLETIONS_EXAMPLES: &str = "Examples:
  reckon completions bash > ~/.local/share/bash-completion/completions/reckon
  reckon completions zsh > ~/.zfunc/_reckon
  reckon completions fish > ~/.config/fish/completions/reckon.fish";

const MAN_EXAMPLES: &str = "Examples:
  reckon man | man -l -
  reckon man --dir /usr/local/share/man/man1";

/// Results for CI systems (`diff`, `check`, `signoff`, `migrate`).
#[derive(Debug, Args)]
pub struct CiArgs {
    /// Also write the results as JUnit XML (one test case per table pair, rule, criterion or
    /// unit).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a short Markdown summary (appended to $GITHUB_STEP_SUMMARY too, when set).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Print only the verdict (no tables, no progress, no heartbeat; errors and warnings still
    /// go to stderr).
    #[arg(long, short = 'q', conflicts_with = "json")]
    pub quiet: bool,
}

/// `reckon init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The source (URL or path, as for `reckon diff`).
    pub source: String,
    /// The target.
    pub target: String,
    /// Write the mapping here (never over an existing file) instead of on stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not profile source tables without a declared key to find a candidate key.
    #[arg(long)]
    pub no_profile: bool,
}

/// `reckon runbook`.
#[derive(Debug, Args)]
pub struct RunbookArgs {
    /// The migration plan.
    pub plan: PathBuf,
    /// Source and target overrides, as for `reckon migrate` (written into every command).
    #[command(flatten)]
    pub conn: PlanConn,
    /// A sign-off spec: its command and criteria go into the validation step.
    #[arg(long)]
    pub signoff: Option<PathBuf>,
    /// Write the runbook here (never over an existing file) instead of on stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Do not dry-run the plan to count each unit's rows.
    #[arg(long)]
    pub no_counts: bool,
    /// Where the day's commands write their outputs (default runs/PLAN_NAME).
    #[arg(long)]
    pub runs: Option<String>,
    /// The backup directory the runbook uses (default backups/PLAN_NAME-pre-migration).
    #[arg(long)]
    pub backup: Option<String>,
}

/// `reckon completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `reckon man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write reckon.1 and reckon-COMMAND.1 for every command here instead.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// `reckon check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The target to check: a URL, .parquet/.csv path or quoted glob.
    pub target: String,
    /// The rules file (TOML).
    #[arg(long)]
    pub rules: PathBuf,
    /// The source for `row_count = "source"` and spot checks (overrides the file's `source`).
    #[arg(long)]
    pub source: Option<String>,
    /// Write check.json, check.parquet and run.json here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the results as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ci: CiArgs,
}

/// `reckon signoff`.
#[derive(Debug, Args)]
pub struct SignoffArgs {
    /// The sign-off spec (TOML).
    #[arg(required_unless_present = "verify", conflicts_with = "verify")]
    pub spec: Option<PathBuf>,
    /// Check a sign-off directory against its manifest.json instead (exit 1 when tampered).
    #[arg(long)]
    pub verify: Option<PathBuf>,
    /// The evidence directory (new or empty; default: signoff-<UTC time> here).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub conn: PlanConn,
    /// Print the sign-off as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ci: CiArgs,
}

/// `reckon compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run A's directory (a `--out` of profile, diff, check, signoff or migrate).
    pub run_a: PathBuf,
    /// Run B's directory.
    pub run_b: PathBuf,
    /// Write compare.json, compare.parquet and compare.html here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the comparison as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `reckon migrate`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct MigrateArgs {
    /// status, backup, restore, forget (without one: run the plan).
    #[command(subcommand)]
    pub action: Option<MigrateAction>,
    /// The plan (TOML).
    #[arg(required = true)]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub conn: PlanConn,
    /// Show the units, their statements and row counts; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run only this unit.
    #[arg(long, conflicts_with = "item")]
    pub unit: Option<String>,
    /// Run one record: UNIT:KEY (composite keys: UNIT:A,B).
    #[arg(long)]
    pub item: Option<String>,
    /// Only rows changed since the last completed run (the unit's updated_at watermark).
    #[arg(long, conflicts_with = "item")]
    pub delta: bool,
    /// Copy again the rows a `reckon diff --out DIR` found missing from the target or changed
    /// in it, through the unit that reads each table, and verify them again.
    #[arg(long, value_name = "DIFF_DIR", conflicts_with_all = ["item", "delta", "unit"])]
    pub keys_from: Option<PathBuf>,
    /// Stop at the first unit that fails (default: independent units go on).
    #[arg(long)]
    pub fail_fast: bool,
    /// Seconds to wait for another executor's lock on the target (default: exit at once).
    #[arg(long, default_value_t = 0)]
    pub wait: u64,
    /// Take a verified backup of the target tables into this directory before running.
    #[arg(long)]
    pub backup: Option<PathBuf>,
    /// The JSONL ledger log (default: PLAN.ledger.jsonl beside the plan).
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub ci: CiArgs,
    /// Write migrate.json (the outcomes) and run.json (timings per unit) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Overrides of the plan's source and target (for credentials kept out of the plan).
#[derive(Debug, Args, Clone, Default)]
pub struct PlanConn {
    /// Use this source instead of the plan's.
    #[arg(long)]
    pub source: Option<String>,
    /// Use this target instead of the plan's.
    #[arg(long)]
    pub target: Option<String>,
}

/// `reckon migrate ACTION`.
#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// The ledger: units, state, rows, hashes, timings, errors.
    Status {
        /// The plan.
        plan: PathBuf,
        #[command(flatten)]
        conn: PlanConn,
        /// Print the ledger rows as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Snapshot the target tables the plan writes (Parquet + manifest.json), verified.
    Backup {
        /// The plan.
        plan: PathBuf,
        #[command(flatten)]
        conn: PlanConn,
        /// The backup directory (must not hold a backup yet).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Restore a backup taken with `backup` (checked first, then read back).
    Restore {
        /// The plan.
        plan: PathBuf,
        #[command(flatten)]
        conn: PlanConn,
        /// The backup directory.
        #[arg(long)]
        from: PathBuf,
        /// Seconds to wait for another executor's lock.
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Drop a unit's rows from the ledger, so that the next run redoes it (its data stays).
    Forget {
        /// The plan.
        plan: PathBuf,
        #[command(flatten)]
        conn: PlanConn,
        /// The unit.
        #[arg(long)]
        unit: String,
    },
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
    /// Write diff_summary.parquet, diff_rows.parquet, diff.json, diff.html and run.json here.
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
    #[command(flatten)]
    pub ci: CiArgs,
    /// Let the databases do the work: each side hashes its rows in SQL, per bucket of key
    /// hashes, and only the rows of differing buckets or keys are read (PostgreSQL and
    /// MySQL/MariaDB on both sides; other pairs, and columns without canonical SQL, stream, and
    /// the report says why).
    #[arg(long)]
    pub pushdown: bool,
    /// With --pushdown: split the key hashes into this many buckets (default: one per 2,048
    /// rows, 16 to 1,048,576). More buckets read fewer rows around each difference, at the cost
    /// of longer summaries.
    #[arg(long, requires = "pushdown", value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub buckets: Option<u64>,
    /// Compare again only the keys an earlier `reckon diff --out DIR` found differing (database
    /// tables keyed by integers or text); the counts are those keys', never the table's.
    #[arg(long, value_name = "DIR", conflicts_with = "shard")]
    pub recheck: Option<PathBuf>,
    /// With --pushdown: also compute the sums, minima and maxima of integer, decimal, text,
    /// boolean and date columns in SQL (otherwise only counts and NULLs are; these cost about
    /// as much again as the hashing).
    #[arg(long, requires = "pushdown")]
    pub aggregates: bool,
    /// Compare only share I of N of the key hashes (I from 1 to N), so that N processes or
    /// machines split one diff. Streamed, each shard reads both tables whole and compares only
    /// its rows; with --pushdown, each database hashes and sends only the shard's buckets. With
    /// --out, `reckon merge` makes the whole run's report from the N directories.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

/// `reckon merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard directories: the --out of `reckon diff … --shard I/N`, for I = 1…N.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Write diff_summary.parquet, diff_rows.parquet, diff.json, diff.html and run.json here,
    /// as the unsharded diff would have.
    #[arg(long)]
    pub out: Option<PathBuf>,
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
    /// Write profile.parquet, profile.json, profile.html and run.json into this directory.
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
    /// Let the database compute what SQL computes exactly over the whole table (rows, NULLs,
    /// exact distinct counts of integers and text, and on PostgreSQL of most types; integer and
    /// date minima and maxima; empty texts); reckon streams the rest. PostgreSQL and
    /// MySQL/MariaDB tables only.
    #[arg(long)]
    pub pushdown: bool,
    /// With --pushdown: read only about N rows of a larger table for what reckon computes itself
    /// (shapes, top values, encodings, date formats, lengths, quantiles); the report says so, and
    /// a sampled table gets no duplicate-row count, key candidates or relationship checks.
    #[arg(long, requires = "pushdown", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub sample_rows: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print the full report as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every example in every command's help parses as a reckon command line (flags that exist,
    /// arguments in place).
    #[test]
    fn every_help_example_is_a_command_line_reckon_accepts() {
        let mut seen = 0;
        for sub in Cli::command().get_subcommands() {
            let help = sub
                .get_after_help()
                .unwrap_or_else(|| panic!("{} has no examples", sub.get_name()))
                .to_string();
            let lines: Vec<&str> = help
                .lines()
                .map(str::trim)
                .filter(|l| l.starts_with("reckon "))
                .collect();
            assert!(lines.len() >= 2, "{}: {help}", sub.get_name());
            for line in lines {
                // One command: up to a shell operator or a comment in parentheses.
                let line = line
                    .split(['>', '|', '('])
                    .next()
                    .unwrap()
                    .split("&&")
                    .next()
                    .unwrap();
                let words: Vec<String> = line
                    .split_whitespace()
                    .map(|w| w.trim_matches('\'').to_string())
                    .collect();
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("{line}: {e}");
                }
                seen += 1;
            }
        }
        assert!(seen >= 20, "{seen}");
    }
}
