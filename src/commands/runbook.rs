//! `reckon runbook`: the plan's execution runbook, on stdout or into a new file.

use anyhow::Result;

use reckon::migrate::executor::{Executor, NoProgress, RunOptions};
use reckon::migrate::runbook::{self, Count, Input};
use reckon::source::SourceSpec;

use crate::cli::RunbookArgs;
use crate::commands::diff::ArgError;

/// Runs the command; returns the exit code (0).
pub fn run(args: &RunbookArgs) -> Result<i32> {
    let printer = super::Printer::new(false, false);
    super::refuse_existing(args.out.as_deref())?;
    let plan = super::migrate::load(&args.plan, &args.conn)?;
    let shown = |url: &str| -> Result<String> { Ok(SourceSpec::parse(url)?.display()) };
    let mut overrides = String::new();
    if let Some(s) = &args.conn.source {
        overrides.push_str(&format!(" --source {}", runbook::sh(&shown(s)?)));
    }
    if let Some(t) = &args.conn.target {
        overrides.push_str(&format!(" --target {}", runbook::sh(&shown(t)?)));
    }
    let counts = if args.no_counts {
        None
    } else {
        // A dry run reads and transforms every row and writes nothing.
        let opts = RunOptions {
            dry_run: true,
            ..RunOptions::default()
        };
        let outcomes = Executor::new(&plan, opts)?.run(&mut NoProgress)?;
        let counts: Vec<Count> = plan
            .units
            .iter()
            .map(|u| match outcomes.iter().find(|o| o.unit == u.spec.name) {
                // The reason's first line (its hint follows on the next).
                Some(o) if o.status == "failed" => Count::Failed(
                    o.error
                        .as_deref()
                        .and_then(|e| e.lines().next())
                        .unwrap_or("no reason given")
                        .to_string(),
                ),
                Some(o) if o.status == "already completed" => Count::Done,
                Some(o) => Count::Rows(o.rows),
                None => Count::Failed("not reached: an earlier unit failed".into()),
            })
            .collect();
        for c in &counts {
            if let Count::Failed(e) = c {
                printer.warn(format_args!(
                    "the dry run failed ({e}); the runbook says so"
                ));
            }
        }
        Some(counts)
    };
    let signoff = match &args.signoff {
        Some(spec) => {
            let text = std::fs::read_to_string(spec).map_err(|e| ArgError {
                message: format!("cannot read the sign-off spec {}: {e}", spec.display()),
                hint: "give the spec `reckon signoff` reads".into(),
            })?;
            let value: toml::Table = toml::from_str(&text).map_err(|e| ArgError {
                message: format!("{} is not a sign-off spec: {}", spec.display(), e.message()),
                hint: "give the spec `reckon signoff` reads".into(),
            })?;
            let criteria = value
                .get("criteria")
                .and_then(toml::Value::as_table)
                .map(|t| t.iter().map(|(k, v)| format!("{k} = {v}")).collect())
                .unwrap_or_default();
            Some((spec.display().to_string(), criteria))
        }
        None => None,
    };
    // The source columns each validation diff leaves out: those its unit does not copy.
    let mut source = reckon::source::open(&SourceSpec::parse(&plan.source)?)?;
    let tables = source.tables()?;
    let uncopied = plan
        .units
        .iter()
        .map(|u| {
            let Some(t) = u.spec.table.as_deref() else {
                return Vec::new();
            };
            let name = reckon::source::TableName::parse(t);
            let meta = tables.iter().find(|m| m.name == name || m.name.name == t);
            match meta {
                Some(m) if !u.columns.is_empty() => m
                    .columns
                    .iter()
                    .filter(|c| !u.columns.iter().any(|(to, _)| to == &c.name))
                    .map(|c| c.name.clone())
                    .collect(),
                _ => Vec::new(),
            }
        })
        .collect();
    let input = Input {
        uncopied,
        plan: &plan,
        plan_arg: &args.plan.display().to_string(),
        overrides,
        source_shown: shown(&plan.source)?,
        target_shown: shown(&plan.target)?,
        counts,
        signoff,
        runs: args
            .runs
            .clone()
            .unwrap_or_else(|| format!("runs/{}", plan.name)),
        backup: args
            .backup
            .clone()
            .unwrap_or_else(|| format!("backups/{}-pre-migration", plan.name)),
    };
    let text = reckon::error::scrub(&runbook::render(&input));
    super::write_or_print(&printer, args.out.as_deref(), &text, "")?;
    Ok(0)
}
