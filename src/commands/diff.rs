//! `reckon diff`: open both sides, pair tables, plan and diff each pair, write the reports.

use std::path::Path;

use anyhow::{Context, Result};

use reckon::diff::mapping::Mapping;
use reckon::diff::pairing::{engine, pair_tables};
use reckon::diff::plan::{plan, PlanRequest};
use reckon::diff::rules::Rule;
use reckon::diff::shard::{file_digest, KeyFile, KeyedRows, Shard, ShardState, KEYS_FILE};
use reckon::diff::{
    diff_pushdown, diff_table, DiffError, DiffOptions, DiffReport, NullSink, RowSink, TableDiff,
};
use reckon::report::diff as out;
use reckon::run::{RunClock, Timing};
use reckon::source::{self, SourceSpec};

use super::printer::{save, write_ci, Printer, Report};
use crate::cli::DiffArgs;

impl Report for DiffReport {
    fn verdict(&self) -> String {
        self.verdict.to_string()
    }
    fn render(&self) -> String {
        out::terminal::render(self)
    }
    fn json(&self) -> Result<String> {
        Ok(out::to_json(self)?)
    }
    fn files(&self) -> Option<String> {
        Some(format!(
            "diff_summary.parquet, diff_rows.parquet, diff.json, diff.html, {}run.json",
            if self.shard.is_some() {
                "shard.json, shard_keys.bin, "
            } else {
                ""
            }
        ))
    }
    fn write(&self, dir: &Path, clock: &RunClock) -> Result<()> {
        out::write_files(self, dir)?;
        super::write_run(
            dir,
            clock,
            "diff",
            vec![self.source.clone(), self.target.clone()],
            self.exit_code(),
            diff_timings(self),
        )
    }
}

/// A command-line value that cannot be understood.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ArgError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// Refuses a sensitive column that names no column (`known` says which do): a misspelt sensitive
/// column would show its values. `what` names where it was given.
pub fn require_known_sensitive(
    sensitive: &[String],
    known: &dyn Fn(&str) -> bool,
    what: &str,
) -> Result<(), ArgError> {
    match sensitive.iter().find(|c| !known(c)) {
        None => Ok(()),
        Some(c) => Err(ArgError {
            message: format!("{what} '{c}' is in none of the compared tables"),
            hint: "check the spelling: a sensitive column that is not found protects nothing"
                .into(),
        }),
    }
}

/// Parses `512MiB`, `2GiB`, `100MB`, `65536`.
fn parse_size(text: &str) -> Result<u64, ArgError> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => f64::NAN,
    };
    match num.parse::<f64>() {
        Ok(n) if mult.is_finite() && n >= 0.0 => Ok((n * mult) as u64),
        _ => Err(ArgError {
            message: format!("--memory-limit '{text}' is not a size"),
            hint: "write a size like 512MiB, 2GiB or 100MB".into(),
        }),
    }
}

/// Runs the command; returns the exit code.
pub fn run(args: &DiffArgs) -> Result<i32> {
    let clock = RunClock::start();
    let printer = Printer::new(args.json, args.ci.quiet);
    if let Some(n) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .context("cannot set the number of threads")?;
    }
    let memory_limit = parse_size(&args.memory_limit)?;
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|message| ArgError {
            message,
            hint: "give the share and the number of shares, e.g. --shard 3/16 (shards are numbered from 1)".into(),
        })?;
    let mut cli_rules = Vec::new();
    for r in &args.rules {
        let (col, rule) = r.split_once('=').ok_or_else(|| ArgError {
            message: format!("--rule '{r}' is not COLUMN=RULE"),
            hint: "e.g. --rule name=trim --rule amount=abs=0.005".into(),
        })?;
        let rule = Rule::parse(rule).map_err(|e| ArgError {
            message: format!("--rule '{r}': {e}"),
            hint: "see `reckon diff --help` for the rules".into(),
        })?;
        cli_rules.push((col.trim().to_string(), rule));
    }
    let mapping = match &args.mapping {
        Some(p) => Mapping::load(p)?,
        None => Mapping::default(),
    };
    // `--key ''` or `--key a,,b` names no column where one was meant: refused, never ignored.
    if !args.key.is_empty() && args.key.iter().any(|k| k.trim().is_empty()) {
        return Err(ArgError {
            message: format!("--key '{}' has an empty column name", args.key.join(",")),
            hint: "give the key columns separated by commas (--key id or --key order_id,line_no), or leave --key out".into(),
        }
        .into());
    }
    let (sspec, tspec) = (
        SourceSpec::parse(&args.source)?,
        SourceSpec::parse(&args.target)?,
    );
    let mut src = source::open(&sspec)?;
    let mut tgt = source::open(&tspec)?;
    let (sd, td) = (src.display(), tgt.display());
    let (pairs, unpaired) = pair_tables(
        &args.tables,
        &mapping,
        (src.as_mut(), &sd),
        (tgt.as_mut(), &td),
    )?;
    let clean = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let plans = pairs
        .iter()
        .map(|(s, t, m)| {
            let req = PlanRequest {
                key: (!args.key.is_empty()).then(|| clean(&args.key)),
                mapping: m.clone(),
                rules: cli_rules.clone(),
                sensitive: clean(&args.sensitive),
                exclude: clean(&args.exclude),
            };
            plan(s, engine(&sspec), t, engine(&tspec), &req)
        })
        .collect::<Result<Vec<_>, DiffError>>()?;
    require_known_sensitive(
        &clean(&args.sensitive),
        &|c| {
            plans.iter().any(|p| {
                p.columns
                    .iter()
                    .any(|x| x.source.eq_ignore_ascii_case(c) || x.target.eq_ignore_ascii_case(c))
            })
        },
        "--sensitive column",
    )?;
    let opts = DiffOptions {
        memory_limit,
        samples: args.samples,
        spill_dir: args.spill_dir.clone(),
        buckets: args.buckets,
        aggregates: args.aggregates,
        shard,
    };
    let out_dir = args
        .out
        .as_deref()
        .map(super::OutDir::prepare)
        .transpose()?;
    let mut rows_writer = match &out_dir {
        Some(o) => Some(out::parquet::RowsWriter::create(
            &o.path().join("diff_rows.parquet"),
        )?),
        None => None,
    };
    // A shard also writes each differing row's key hash, by which `reckon merge` interleaves.
    let mut key_file = match (&out_dir, shard) {
        (Some(o), Some(_)) => Some(KeyFile::create(&o.path().join(KEYS_FILE))?),
        _ => None,
    };
    // --recheck: each pair reads only the keys the earlier report found differing.
    let recheck = args
        .recheck
        .as_deref()
        .map(reckon::diff::recheck::read)
        .transpose()?;
    let plans = match (&recheck, args.recheck.as_deref()) {
        (Some(r), Some(dir)) => plans
            .iter()
            .map(|p| {
                let n = r.keys.get(&p.source.name.to_string()).map_or(0, Vec::len);
                reckon::diff::recheck::restrict(src.as_ref(), tgt.as_ref(), p, r, dir)
                    .map(|q| (q, Some(n as u64)))
            })
            .collect::<Result<Vec<_>, DiffError>>()?,
        _ => plans.into_iter().map(|p| (p, None)).collect(),
    };
    let bar = printer.bar(0, "{spinner} {msg} {human_pos} rows read {per_sec}");
    let heartbeat = printer.heartbeat();
    let mut tables = Vec::new();
    // Rows each pair wrote, for `reckon merge` (a pair that fails may have written some).
    let mut rows_written: Vec<u64> = Vec::new();
    for (p, rechecked) in &plans {
        let before = key_file.as_ref().map_or(0, KeyFile::rows);
        bar.set_message(format!("{} → {}", p.source.name, p.target.name));
        let estimate =
            src.estimate_rows(&p.source).unwrap_or(0) + tgt.estimate_rows(&p.target).unwrap_or(0);
        bar.set_length(estimate);
        heartbeat.start(&format!("{} → {}", p.source.name, p.target.name));
        let on_progress = |a: u64, b: u64| {
            bar.set_position(a + b);
            heartbeat.rows(a + b);
        };
        let mut null = NullSink;
        let rows: &mut dyn RowSink = match rows_writer.as_mut() {
            Some(w) => w,
            None => &mut null,
        };
        let mut keyed;
        let sink: &mut dyn RowSink = match key_file.as_mut() {
            Some(keys) => {
                keyed = KeyedRows { rows, keys };
                &mut keyed
            }
            None => rows,
        };
        // A pair that cannot be compared ends in error(class); the others are still compared,
        // the whole report is written, and the run exits 2.
        let result = if args.pushdown {
            diff_pushdown(src.as_mut(), tgt.as_mut(), p, &opts, sink, &on_progress)
        } else {
            diff_table(src.as_mut(), tgt.as_mut(), p, &opts, sink, &on_progress)
        };
        match result {
            Ok(mut t) => {
                t.recheck = *rechecked;
                tables.push(t)
            }
            Err(e @ (DiffError::Output { .. } | DiffError::Spill(_))) => return Err(e.into()),
            Err(e) => {
                let reason = reckon::error::scrub(&e.to_string());
                let hint = reckon::error::Hinted::hint(&e)
                    .map(|h| format!("\nhint: {}", reckon::error::scrub(&h)))
                    .unwrap_or_default();
                printer.error(format_args!(
                    "error: {} → {} could not be compared: {reason}{hint}",
                    p.source.name, p.target.name
                ));
                tables.push(TableDiff::errored(p, e.class(), reason));
            }
        }
        rows_written.push(key_file.as_ref().map_or(0, KeyFile::rows) - before);
    }
    bar.finish_and_clear();
    if let Some(w) = rows_writer {
        w.close()?;
    }
    if let Some(k) = key_file {
        k.close()?;
    }
    let mut report = DiffReport::new(sd, td, tables, unpaired);
    report.shard = shard;
    save(out_dir, &report, &clock, |dir| {
        if let Some(s) = shard {
            let digest = |name: &str| {
                let path = dir.join(name);
                file_digest(&path).with_context(|| format!("cannot read {}", path.display()))
            };
            let digests = [digest("diff_rows.parquet")?, digest(KEYS_FILE)?];
            let run = (args.samples, args.aggregates);
            let state = ShardState::of(&report, s, run, digests, &rows_written);
            write_state(&state, dir)?;
        }
        Ok(())
    })?;
    write_ci(
        &args.ci,
        "reckon diff",
        &reckon::report::ci::diff_cases(&report),
        &reckon::report::ci::diff_markdown(&report),
    )?;
    printer.report(&report, args.out.as_deref())?;
    if let Some(s) = shard {
        printer.wrote(format_args!(
            "shard {s}: only the rows whose key hash falls in share {} of {}; `reckon merge` makes the whole report from all {} shard directories",
            s.index, s.count, s.count
        ));
    }
    Ok(report.exit_code())
}

/// Writes `shard.json`, what `reckon merge` reads.
/// Passwords are scrubbed from the report's texts only: scrubbing the whole file would also
/// rewrite numbers, hex and digests that happen to hold a password's characters (the exact state
/// is written with passwords scrubbed already, `AggregateAcc::state_shown`).
fn write_state(state: &ShardState, dir: &std::path::Path) -> Result<()> {
    fn scrub_texts(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => *s = reckon::error::scrub(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(scrub_texts),
            serde_json::Value::Object(o) => o.values_mut().for_each(scrub_texts),
            _ => {}
        }
    }
    let path = dir.join("shard.json");
    let mut value = serde_json::to_value(state).context("cannot write shard.json")?;
    if let Some(report) = value.get_mut("report") {
        scrub_texts(report);
    }
    let text = serde_json::to_string(&value).context("cannot write shard.json")?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// One timing per table pair.
pub fn diff_timings(report: &DiffReport) -> Vec<Timing> {
    let mut out = Vec::new();
    for t in &report.tables {
        out.push(Timing {
            item: format!("diff {} → {}", t.source_table, t.target_table),
            seconds: t.seconds,
            rows: Some(t.counts.source_rows + t.counts.target_rows),
        });
        if let Some(p) = t.pushdown.as_ref().filter(|p| p.strategy != "streamed") {
            for (side, secs) in ["source", "target"].iter().zip(p.seconds) {
                out.push(Timing {
                    item: format!(
                        "pushdown {} → {}: {side} database",
                        t.source_table, t.target_table
                    ),
                    seconds: secs,
                    rows: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("64KiB").unwrap(), 65_536);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("100MB").unwrap(), 100_000_000);
        assert!(parse_size("lots").is_err());
    }
}
