//! `reckon check`: read the rules, check the target (and compare with the source where a rule
//! asks), write the results.

use anyhow::Result;

use reckon::check::eval::{require_known_sensitive, run_checks};
use reckon::check::spec::RuleFile;
use reckon::check::CheckReport;
use reckon::report;
use reckon::run::{RunClock, Timing};
use reckon::source::{self, SourceSpec};

use crate::cli::CheckArgs;

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
    let mut file = RuleFile::load(&args.rules)?;
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
    if let Some(o) = out_dir {
        let dir = o.path();
        report::table_file::write_json(&report, &dir.join("check.json"))?;
        report::check::write_parquet_file(&report, &dir.join("check.parquet"))?;
        let mut inputs = vec![report.target.clone()];
        inputs.extend(report.source.clone());
        super::write_run(
            dir,
            &clock,
            "check",
            inputs,
            report.exit_code(),
            check_timings(&report),
        )?;
        o.commit()?;
    }
    let cases = report::ci::check_cases(&report);
    report::ci::write(
        args.ci.junit.as_deref(),
        args.ci.markdown.as_deref(),
        "reckon check",
        &cases,
        &report::ci::cases_markdown("reckon check", &report.verdict, &cases),
    )
    .map_err(|e| {
        anyhow::anyhow!("writing the CI report (--junit, --markdown, $GITHUB_STEP_SUMMARY): {e}")
    })?;
    if args.json {
        println!(
            "{}",
            reckon::error::scrub(&serde_json::to_string_pretty(&report)?)
        );
    } else if args.ci.quiet {
        println!("verdict: {}", report.verdict);
    } else {
        print!("{}", report::check::render(&report));
        if let Some(dir) = &args.out {
            eprintln!(
                "wrote {}/check.json, check.parquet, run.json",
                dir.display()
            );
        }
    }
    Ok(report.exit_code())
}
