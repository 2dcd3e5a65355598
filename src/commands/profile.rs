//! `reckon profile`: open a source, pick tables, profile them, write the reports.

use std::path::Path;

use anyhow::{Context, Result};

use reckon::profile::{self, ProfileOptions, ProfileReport, Progress};
use reckon::report;
use reckon::run::{RunClock, Timing};
use reckon::source::{self, SourceError, SourceSpec, TableMeta, TableName};

use super::printer::{save, Printer, Report};
use crate::cli::ProfileArgs;

impl Report for ProfileReport {
    fn verdict(&self) -> String {
        format!("{} table(s) profiled", self.tables.len())
    }
    fn render(&self) -> String {
        report::terminal::render(self)
    }
    fn json(&self) -> Result<String> {
        Ok(report::json::to_string(self)?)
    }
    fn files(&self) -> Option<String> {
        Some("profile.{parquet,json,html}, run.json".into())
    }
    fn write(&self, dir: &Path, clock: &RunClock) -> Result<()> {
        report::json::write(self, &dir.join("profile.json"))?;
        report::parquet::write(self, &dir.join("profile.parquet"))?;
        report::html::write(self, &dir.join("profile.html"))?;
        let timings = self
            .tables
            .iter()
            .map(|t| Timing {
                item: format!("profile {}", t.table),
                seconds: t.seconds,
                rows: Some(t.rows),
            })
            .collect();
        super::write_run(
            dir,
            clock,
            "profile",
            vec![self.source.clone()],
            reckon::error::EXIT_CLEAN,
            timings,
        )
    }
}

/// Runs the command; returns the exit code.
pub fn run(args: &ProfileArgs) -> Result<i32> {
    let clock = RunClock::start();
    let printer = Printer::new(args.json, false);
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot set the number of threads")?;
    }
    let spec = SourceSpec::parse(&args.source)?;
    let out_dir = args
        .out
        .as_deref()
        .map(super::OutDir::prepare)
        .transpose()?;
    let mut src = source::open(&spec)?;
    let display = src.display();
    let tables: Vec<TableMeta> = if let Some(q) = &args.query {
        vec![src.describe_query(q)?]
    } else {
        let all = src.tables()?;
        if args.tables.is_empty() {
            all
        } else {
            let mut picked = Vec::new();
            for t in &args.tables {
                let want = TableName::parse(t);
                let found: Vec<&TableMeta> = all.iter().filter(|m| want.matches(&m.name)).collect();
                match found.as_slice() {
                    [] => {
                        return Err(SourceError::UnknownTable {
                            table: t.clone(),
                            source_name: display.clone(),
                            available: all.iter().map(|m| m.name.to_string()).collect(),
                        }
                        .into())
                    }
                    many => picked.extend(many.iter().map(|m| (*m).clone())),
                }
            }
            picked
        }
    };
    if tables.is_empty() {
        return Err(SourceError::UnknownTable {
            table: "(any)".into(),
            source_name: display,
            available: vec![],
        }
        .into());
    }
    let opts = ProfileOptions {
        exact_distinct_limit: args.exact_distinct_limit,
        pushdown: args.pushdown,
        sample_rows: args.sample_rows,
        top_k: args.top_k,
        sample_keys: args.sample_keys,
        sensitive: args
            .sensitive
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        ..ProfileOptions::default()
    };
    for s in &opts.sensitive {
        if !tables
            .iter()
            .any(|t| t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(s)))
        {
            printer.warn(format_args!(
                "--sensitive column '{s}' is in none of the profiled tables"
            ));
        }
    }
    let server = src
        .pushdown()
        .is_some_and(|db| db.dialect() != reckon::source::Dialect::Sqlite);
    if args.pushdown && (!server || args.query.is_some()) {
        printer.note(format_args!(
            "note: --pushdown: {} is streamed whole (only tables of PostgreSQL and MySQL/MariaDB are pushed down)",
            if args.query.is_some() { "a query" } else { "this source" }
        ));
    }
    let bar = printer.bar(
        0,
        "{spinner} {msg} {human_pos}/{human_len} rows {per_sec} {eta}",
    );
    let heartbeat = printer.heartbeat();
    let on_progress = |p: Progress<'_>| match p {
        Progress::Start(name, est) => {
            bar.reset();
            bar.set_length(est.unwrap_or(0));
            bar.set_message(name.to_string());
            heartbeat.start(name);
        }
        Progress::Rows(n) => {
            bar.set_position(n);
            heartbeat.rows(n);
        }
        Progress::Done => {}
    };
    let report = profile::profile_tables(src.as_mut(), &tables, &opts, &on_progress)?;
    bar.finish_and_clear();
    let asked_for_tables = args.query.is_some() || !args.tables.is_empty() || tables.len() == 1;
    if asked_for_tables {
        if let Some(t) = report.tables.iter().find(|t| t.rows == 0) {
            return Err(SourceError::EmptyTable {
                table: t.table.to_string(),
                source_name: report.source.clone(),
            }
            .into());
        }
    }
    save(out_dir, &report, &clock, |_| Ok(()))?;
    printer.report(&report, args.out.as_deref())?;
    Ok(reckon::error::EXIT_CLEAN)
}
