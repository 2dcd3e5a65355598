//! `reckon compare`: what changed between two run directories.

use anyhow::Result;

use reckon::report;
use reckon::run::compare::compare;

use crate::cli::CompareArgs;
use crate::commands::diff::ArgError;

/// Runs the command; returns the exit code (0: no change, 1: changes).
pub fn run(args: &CompareArgs) -> Result<i32> {
    let c = compare(&args.run_a, &args.run_b).map_err(|message| ArgError {
        message,
        hint: "give two directories written by `reckon … --out DIR` (they hold run.json)".into(),
    })?;
    let out_dir = args
        .out
        .as_deref()
        .map(super::OutDir::prepare)
        .transpose()?;
    let command = |c: &str| c.split(' ').next().unwrap_or_default().to_string();
    if command(&c.a_command) != command(&c.b_command) {
        eprintln!(
            "warning: run A is a `{}` run and run B a `{}` run: what only one of them holds shows as appeared or removed",
            command(&c.a_command),
            command(&c.b_command)
        );
    }
    if let Some(o) = out_dir {
        let dir = o.path();
        report::table_file::write_json(&c, &dir.join("compare.json"))?;
        report::compare::write_parquet_file(&c, &dir.join("compare.parquet"))?;
        report::compare::write_html(&c, &dir.join("compare.html"))?;
        o.commit()?;
    }
    if args.json {
        println!(
            "{}",
            reckon::error::scrub(&serde_json::to_string_pretty(&c)?)
        );
    } else {
        print!("{}", report::compare::render(&c));
        if let Some(dir) = &args.out {
            eprintln!(
                "wrote {}/compare.json, compare.parquet, compare.html",
                dir.display()
            );
        }
    }
    Ok(c.exit_code())
}
