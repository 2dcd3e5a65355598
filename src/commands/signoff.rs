//! `reckon signoff`: profile both sides, diff every table pair, run the rules, judge the
//! criteria, write the evidence and its manifest. `--verify DIR` checks evidence against its
//! manifest.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};

use reckon::check::eval::run_checks;
use reckon::check::signoff::{baseline_counts, judge, SignoffSpec};
use reckon::check::{manifest, CheckReport};
use reckon::diff::mapping::Mapping;
use reckon::diff::plan::{plan, PlanRequest};
use reckon::diff::{diff_table, DiffError, DiffOptions, DiffReport};
use reckon::error::{EXIT_CLEAN, EXIT_FINDINGS};
use reckon::profile::{self, ProfileOptions};
use reckon::report;
use reckon::run::{RunClock, Timing};
use reckon::source::{self, SourceSpec, TableMeta};

use super::diff::{diff_timings, require_known_sensitive, ArgError};
use super::printer::{json_of, write_ci, Printer, Report};
use crate::cli::SignoffArgs;
use reckon::diff::pairing::{engine, pair_tables};

impl Report for reckon::check::signoff::SignoffReport {
    fn verdict(&self) -> String {
        self.verdict.clone()
    }
    fn render(&self) -> String {
        report::signoff::render(self)
    }
    fn json(&self) -> Result<String> {
        json_of(self)
    }
}

/// Runs the command; returns the exit code (0 only on PASS).
pub fn run(args: &SignoffArgs) -> Result<i32> {
    if let Some(dir) = &args.verify {
        return verify(dir);
    }
    let clock = RunClock::start();
    let printer = Printer::new(args.json, args.ci.quiet);
    let path = args.spec.as_ref().expect("clap requires the spec");
    // A source or target given on the command line: the file's is not expanded.
    let mut skip = Vec::new();
    skip.extend(args.conn.source.as_ref().map(|_| "source"));
    skip.extend(args.conn.target.as_ref().map(|_| "target"));
    let mut spec = SignoffSpec::load_skipping(path, &skip)?;
    if let Some(s) = &args.conn.source {
        spec.source = s.clone();
    }
    if let Some(t) = &args.conn.target {
        spec.target = t.clone();
    }
    let dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "signoff-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
        ))
    });
    // Evidence is never overwritten: a directory that holds anything is refused.
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(ArgError {
            message: format!("output directory {} is not empty", dir.display()),
            hint: "sign-off evidence is never overwritten: give a new directory with --out".into(),
        }
        .into());
    }
    // Baseline first: a missing baseline is bad input, found before hours of reading.
    let mut baseline: Option<BTreeMap<String, u64>> = None;
    if let Some(b) = &spec.baseline_dir {
        baseline = Some(baseline_counts(b)?);
    }
    if !spec.criteria.baseline_counts.is_empty() {
        baseline
            .get_or_insert_with(BTreeMap::new)
            .extend(spec.criteria.baseline_counts.clone());
    }

    let (sspec, tspec) = (
        SourceSpec::parse(&spec.source)?,
        SourceSpec::parse(&spec.target)?,
    );
    let mut src = source::open(&sspec)?;
    let mut tgt = source::open(&tspec)?;
    let (sd, td) = (src.display(), tgt.display());
    let mapping = Mapping {
        tables: spec.tables.clone(),
    };
    let (pairs, unpaired) = pair_tables(&[], &mapping, (src.as_mut(), &sd), (tgt.as_mut(), &td))?;
    let sensitive = spec.rules.sensitive.clone();
    let plans = pairs
        .iter()
        .map(|(s, t, m)| {
            let req = PlanRequest {
                key: None,
                mapping: m.clone(),
                rules: Vec::new(),
                sensitive: sensitive
                    .iter()
                    .filter(|c| s.columns.iter().any(|x| x.name.eq_ignore_ascii_case(c)))
                    .cloned()
                    .collect(),
                exclude: Vec::new(),
            };
            plan(s, engine(&sspec), t, engine(&tspec), &req)
        })
        .collect::<Result<Vec<_>, DiffError>>()?;
    require_known_sensitive(
        &sensitive,
        &|c| {
            pairs.iter().any(|(s, t, _)| {
                s.columns
                    .iter()
                    .chain(&t.columns)
                    .any(|x| x.name.eq_ignore_ascii_case(c))
            })
        },
        "sensitive column",
    )?;
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    let mut timings: Vec<Timing> = Vec::new();

    // 1. Profiles of both sides.
    let popts = ProfileOptions {
        sensitive: sensitive.clone(),
        ..ProfileOptions::default()
    };
    let quiet = |_: profile::Progress<'_>| {};
    for (label, side, metas) in [
        (
            "source",
            &mut src,
            pairs
                .iter()
                .map(|p| p.0.clone())
                .collect::<Vec<TableMeta>>(),
        ),
        (
            "target",
            &mut tgt,
            pairs.iter().map(|p| p.1.clone()).collect(),
        ),
    ] {
        printer.note(format_args!(
            "profiling the {label} ({} table(s))",
            metas.len()
        ));
        let p = profile::profile_tables(side.as_mut(), &metas, &popts, &quiet)?;
        report::json::write(&p, &dir.join(format!("profile_{label}.json")))?;
        report::parquet::write(&p, &dir.join(format!("profile_{label}.parquet")))?;
        timings.extend(p.tables.iter().map(|t| Timing {
            item: format!("profile {label} {}", t.table),
            seconds: t.seconds,
            rows: Some(t.rows),
        }));
    }

    // 2. The diff.
    printer.note(format_args!("diffing {} table pair(s)", plans.len()));
    let mut rows = report::diff::parquet::RowsWriter::create(&dir.join("diff_rows.parquet"))?;
    let dopts = DiffOptions::default();
    let mut tables = Vec::new();
    for p in &plans {
        // A pair that cannot be read is evidence too: error(class), judged as not compared.
        match diff_table(src.as_mut(), tgt.as_mut(), p, &dopts, &mut rows, &|_, _| {}) {
            Ok(t) => tables.push(t),
            Err(e @ (DiffError::Output { .. } | DiffError::Spill(_))) => return Err(e.into()),
            Err(e) => {
                let reason = reckon::error::scrub(&e.to_string());
                printer.error(format_args!(
                    "error: {} → {} could not be compared: {reason}",
                    p.source.name, p.target.name
                ));
                tables.push(reckon::diff::TableDiff::errored(p, e.class(), reason));
            }
        }
    }
    rows.close()?;
    let diff = DiffReport::new(sd.clone(), td.clone(), tables, unpaired);
    report::diff::write_json(&diff, &dir.join("diff.json"))?;
    report::diff::parquet::write_summary(&diff, &dir.join("diff_summary.parquet"))?;
    timings.extend(diff_timings(&diff));

    // 3. The rules.
    let checks = if spec.rules.rules.is_empty() {
        None
    } else {
        printer.note(format_args!("checking {} rule(s)", spec.rules.rules.len()));
        let results = run_checks(tgt.as_mut(), Some(src.as_mut()), &spec.rules)?;
        let c = CheckReport::new(td.clone(), Some(sd.clone()), results);
        report::table_file::write_json(&c, &dir.join("check.json"))?;
        report::check::write_parquet_file(&c, &dir.join("check.parquet"))?;
        timings.extend(super::check::check_timings(&c));
        Some(c)
    };

    // 4. The criteria, the document, the manifest.
    let signoff = judge(&spec.criteria, &diff, checks.as_ref(), baseline.as_ref());
    report::table_file::write_json(&signoff, &dir.join("signoff.json"))?;
    report::signoff::write_parquet_file(&signoff, &dir.join("signoff.parquet"))?;
    report::signoff::write_html(&signoff, &diff, checks.as_ref(), &dir.join("signoff.html"))?;
    let code = if diff.verdict.is_error() {
        reckon::error::EXIT_ERROR
    } else if signoff.verdict == "PASS" {
        EXIT_CLEAN
    } else {
        EXIT_FINDINGS
    };
    super::write_run(&dir, &clock, "signoff", vec![sd, td], code, timings)?;
    let sha = manifest::write(&dir)?;
    let cases = report::ci::signoff_cases(&signoff);
    write_ci(
        &args.ci,
        "reckon signoff",
        &cases,
        &report::ci::cases_markdown("reckon signoff", &signoff.verdict, &cases),
    )?;
    printer.report(&signoff, None)?;
    printer.note(format_args!(
        "evidence written to {} (manifest.json sha256 {sha}); check it later with `reckon signoff --verify {}`",
        dir.display(),
        dir.display()
    ));
    Ok(code)
}

fn verify(dir: &std::path::Path) -> Result<i32> {
    let printer = Printer::new(false, false);
    let (tampered, n) = manifest::verify(dir)?;
    if tampered.is_empty() {
        printer.line(format_args!(
            "{}: all {n} file(s) match manifest.json",
            dir.display()
        ));
        return Ok(EXIT_CLEAN);
    }
    printer.line(format_args!(
        "{}: {} problem(s) against manifest.json:",
        dir.display(),
        tampered.len()
    ));
    for t in &tampered {
        printer.line(format_args!("  {} {}", t.problem, t.file));
    }
    Ok(EXIT_FINDINGS)
}
