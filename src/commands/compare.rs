//! `reckon compare`: what changed between two run directories.

use std::path::Path;

use anyhow::Result;

use reckon::report;
use reckon::run::compare::{compare, Comparison};
use reckon::run::RunClock;

use super::printer::{json_of, save, Printer, Report};

use crate::cli::CompareArgs;
use crate::commands::diff::ArgError;

impl Report for Comparison {
    fn verdict(&self) -> String {
        if self.exit_code() == 0 {
            "no change".into()
        } else {
            "changed".into()
        }
    }
    fn render(&self) -> String {
        report::compare::render(self)
    }
    fn json(&self) -> Result<String> {
        json_of(self)
    }
    fn files(&self) -> Option<String> {
        Some("compare.json, compare.parquet, compare.html".into())
    }
    fn write(&self, dir: &Path, _clock: &RunClock) -> Result<()> {
        report::table_file::write_json(self, &dir.join("compare.json"))?;
        report::compare::write_parquet_file(self, &dir.join("compare.parquet"))?;
        report::compare::write_html(self, &dir.join("compare.html"))?;
        Ok(())
    }
}

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
    let printer = Printer::new(args.json, false);
    let command = |c: &str| c.split(' ').next().unwrap_or_default().to_string();
    if command(&c.a_command) != command(&c.b_command) {
        printer.warn(format_args!(
            "run A is a `{}` run and run B a `{}` run: what only one of them holds shows as appeared or removed",
            command(&c.a_command),
            command(&c.b_command)
        ));
    }
    save(out_dir, &c, &RunClock::start(), |_| Ok(()))?;
    printer.report(&c, args.out.as_deref())?;
    Ok(c.exit_code())
}
