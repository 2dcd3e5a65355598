//! `reckon profile`: open a source, pick tables, profile them, write the reports.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use reckon::profile::{self, ProfileOptions, Progress};
use reckon::report;
use reckon::source::{self, SourceError, SourceSpec, TableMeta, TableName};

use crate::cli::ProfileArgs;

/// Runs the command; returns the exit code.
pub fn run(args: &ProfileArgs) -> Result<i32> {
    let clock = reckon::run::RunClock::start();
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
            eprintln!("warning: --sensitive column '{s}' is in none of the profiled tables");
        }
    }
    let server = src
        .pushdown()
        .is_some_and(|db| db.dialect() != reckon::source::Dialect::Sqlite);
    if args.pushdown && (!server || args.query.is_some()) {
        eprintln!(
            "note: --pushdown: {} is streamed whole (only tables of PostgreSQL and MySQL/MariaDB are pushed down)",
            if args.query.is_some() { "a query" } else { "this source" }
        );
    }
    let bar = progress_bar();
    let heartbeat = super::Heartbeat::new(false);
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
    if let Some(o) = out_dir {
        let dir = o.path();
        report::json::write(&report, &dir.join("profile.json"))?;
        report::parquet::write(&report, &dir.join("profile.parquet"))?;
        report::html::write(&report, &dir.join("profile.html"))?;
        let timings = report
            .tables
            .iter()
            .map(|t| reckon::run::Timing {
                item: format!("profile {}", t.table),
                seconds: t.seconds,
                rows: Some(t.rows),
            })
            .collect();
        super::write_run(
            dir,
            &clock,
            "profile",
            vec![report.source.clone()],
            reckon::error::EXIT_CLEAN,
            timings,
        )?;
        o.commit()?;
    }
    if args.json {
        println!("{}", report::json::to_string(&report)?);
    } else {
        print!("{}", report::terminal::render(&report));
        if let Some(dir) = &args.out {
            eprintln!(
                "wrote {}/profile.{{parquet,json,html}}, run.json",
                dir.display()
            );
        }
    }
    Ok(reckon::error::EXIT_CLEAN)
}

fn progress_bar() -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} {human_pos}/{human_len} rows {per_sec} {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
