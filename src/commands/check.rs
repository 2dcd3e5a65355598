//! `reckon check`: read the rules, check the target (and compare with the source where a rule
//! asks), write the results.

use std::path::Path;

use anyhow::Result;

use reckon::check::eval::{require_known_sensitive, run_checks};
use reckon::check::spec::RuleFile;
use reckon::check::CheckReport;
use reckon::report;
use reckon::run::{RunClock, Timing};
use reckon::source::{self, SourceSpec};

use super::printer::{json_of, save, write_ci, Printer, Report};
use crate::cli::CheckArgs;

impl Report for CheckReport {
    fn verdict(&self) -> String {
        self.verdict.to_string()
    }
    fn render(&self) -> String {
        report::check::render(self)
    }
    fn json(&self) -> Result<String> {
        json_of(self)
    }
    fn files(&self) -> Option<String> {
        Some("check.json, check.parquet, run.json".into())
    }
    fn write(&self, dir: &Path, clock: &RunClock) -> Result<()> {
        report::table_file::write_json(self, &dir.join("check.json"))?;
        report::check::write_parquet_file(self, &dir.join("check.parquet"))?;
        let mut inputs = vec![self.target.clone()];
        inputs.extend(self.source.clone());
        super::write_run(
            dir,
            clock,
            "check",
            inputs,
            self.exit_code(),
            check_timings(self),
        )
    }
}

/// One timing per checked table (its rules share one read) and per custom query.
pub fn check_timings(report: &CheckReport) -> Vec<Timing> {
    let mut out: Vec<Timing> = Vec::new();
    for r in &report.rules {
        let item = if r.kind == "sql" {
            format!("check sql {}", r.name)
        } else {
            format!("check {}", r.table)
        };
        if !out.iter().any(|t| t.item == item) {
            out.push(Timing {
                item,
                seconds: r.seconds,
                rows: Some(r.checked),
            });
        }
    }
    out
}

/// Runs the command; returns the exit code.
pub fn run(args: &CheckArgs) -> Result<i32> {
    let clock = RunClock::start();
    // A source given on the command line: the file's is not expanded.
    let skip: &[&str] = if args.source.is_some() {
        &["source"]
    } else {
        &[]
    };
    let mut file = RuleFile::load_skipping(&args.rules, skip)?;
    let out_dir = args
        .out
        .as_deref()
        .map(super::OutDir::prepare)
        .transpose()?;
    if args.source.is_some() {
        file.source = args.source.clone();
    }
    let mut target = source::open(&SourceSpec::parse(&args.target)?)?;
    require_known_sensitive(&file, &target.tables()?)?;
    let mut src = match &file.source {
        Some(s) => Some(source::open(&SourceSpec::parse(s)?)?),
        None => None,
    };
    let source_display = src.as_ref().map(|s| s.display());
    let src_ref: Option<&mut dyn source::Source> = match src.as_mut() {
        Some(s) => Some(s.as_mut()),
        None => None,
    };
    let results = run_checks(target.as_mut(), src_ref, &file)?;
    let report = CheckReport::new(target.display(), source_display, results);
    save(out_dir, &report, &clock, |_| Ok(()))?;
    let cases = report::ci::check_cases(&report);
    write_ci(
        &args.ci,
        "reckon check",
        &cases,
        &report::ci::cases_markdown("reckon check", &report.verdict, &cases),
    )?;
    Printer::new(args.json, args.ci.quiet).report(&report, args.out.as_deref())?;
    Ok(report.exit_code())
}
