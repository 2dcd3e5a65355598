//! `reckon merge`: the shards of a diff (`reckon diff --shard I/N --out DIR`) added up into the
//! report the unsharded run would have written.

use std::path::Path;

use anyhow::{Context, Result};

use reckon::diff::shard::{
    check_set, file_digest, listed_rows, merge, KeyReader, MergeError, ShardState, KEYS_FILE,
};
use reckon::diff::{DiffRow, RowSink, TableDiffHead};
use reckon::report::diff as out;

use reckon::diff::DiffReport;
use reckon::run::RunClock;

use super::printer::{save, Printer, Report};
use crate::cli::MergeArgs;

/// The merged report, written as the `merge` run of its shard directories.
struct Merged<'a> {
    report: &'a DiffReport,
    shards: Vec<String>,
}

impl Report for Merged<'_> {
    fn verdict(&self) -> String {
        self.report.verdict()
    }
    fn render(&self) -> String {
        self.report.render()
    }
    fn json(&self) -> Result<String> {
        self.report.json()
    }
    fn files(&self) -> Option<String> {
        Some(format!(
            "diff_summary.parquet, diff_rows.parquet, diff.json, diff.html, run.json (merged from {} shards)",
            self.shards.len()
        ))
    }
    fn write(&self, dir: &Path, clock: &RunClock) -> Result<()> {
        out::write_files(self.report, dir)?;
        super::write_run(
            dir,
            clock,
            "merge",
            self.shards.clone(),
            self.report.exit_code(),
            super::diff::diff_timings(self.report),
        )
    }
}

/// Reads one shard directory's `shard.json`.
fn read_state(dir: &Path) -> Result<ShardState> {
    let path = dir.join("shard.json");
    if !path.is_file() {
        return Err(MergeError {
            message: format!(
                "{} holds no shard.json: it is not the --out of a sharded diff",
                dir.display()
            ),
            hint: "give the directories written by `reckon diff … --shard I/N --out DIR`".into(),
        }
        .into());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        MergeError {
            message: format!("{} is not a shard file reckon wrote: {e}", path.display()),
            hint: "run the shard again: the file is damaged or from another program".into(),
        }
        .into()
    })
}

/// Runs the command; returns the exit code.
pub fn run(args: &MergeArgs) -> Result<i32> {
    let clock = reckon::run::RunClock::start();
    let states = args
        .shards
        .iter()
        .map(|d| read_state(d))
        .collect::<Result<Vec<_>>>()?;
    // Directories in the order of their shards.
    let mut dirs: Vec<(u64, &Path)> = states
        .iter()
        .zip(&args.shards)
        .map(|(s, d)| (s.shard.index, d.as_path()))
        .collect();
    dirs.sort_by_key(|(i, _)| *i);
    let states = check_set(states)?;
    let report = merge(&states);
    let out_dir = args
        .out
        .as_deref()
        .map(super::OutDir::prepare)
        .transpose()?;
    let printer = Printer::new(args.json, false);
    let merged = Merged {
        report: &report,
        shards: args
            .shards
            .iter()
            .map(|d| d.display().to_string())
            .collect(),
    };
    save(out_dir, &merged, &clock, |dir| {
        merge_rows(&states, &dirs, &report, &dir.join("diff_rows.parquet"))
    })?;
    printer.report(&merged, args.out.as_deref())?;
    Ok(report.exit_code())
}

/// Writes the shards' differing rows into one `diff_rows.parquet`: table by table, the
/// shards' rows interleaved by their key hashes (ties by shard), which is the unsharded run's
/// order. Each shard's files are read once, in step; every row must be where its shard's counts
/// say, and both files must be the ones its state describes.
fn merge_rows(
    states: &[ShardState],
    dirs: &[(u64, &Path)],
    report: &reckon::diff::DiffReport,
    path: &Path,
) -> Result<()> {
    let damaged = |dir: &Path, why: String| MergeError {
        message: format!(
            "{}/diff_rows.parquet or {KEYS_FILE} does not match its shard.json: {why}",
            dir.display()
        ),
        hint: "run that shard again: its directory was changed after it was written".into(),
    };
    for (state, (_, dir)) in states.iter().zip(dirs) {
        for (name, want) in [
            ("diff_rows.parquet", &state.rows_digest),
            (KEYS_FILE, &state.keys_digest),
        ] {
            let file = dir.join(name);
            let digest =
                file_digest(&file).with_context(|| format!("cannot read {}", file.display()))?;
            if &digest != want {
                return Err(damaged(dir, format!("the digest of {name} differs")).into());
            }
        }
    }
    let mut readers = dirs
        .iter()
        .map(|(_, d)| {
            let rows = out::parquet::RowsReader::open(&d.join("diff_rows.parquet"))?;
            let keys = KeyReader::open(&d.join(KEYS_FILE))
                .with_context(|| format!("cannot read {}", d.join(KEYS_FILE).display()))?;
            Ok((rows, keys))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut writer = out::parquet::RowsWriter::create(path)?;
    for (i, merged) in report.tables.iter().enumerate() {
        let head = TableDiffHead {
            source_table: merged.source_table.clone(),
            target_table: merged.target_table.clone(),
            key_columns: Vec::new(),
        };
        // The rows each shard wrote for this pair: those its counts list, or, for a pair that
        // failed after writing some, those (left out here, since the pair has no counts).
        let mut left: Vec<u64> = Vec::with_capacity(states.len());
        for (state, (_, dir)) in states.iter().zip(dirs) {
            let t = &state.report.tables[i];
            let written = state.tables.get(i).map_or(0, |s| s.rows_written);
            if !t.verdict.is_error() && written != listed_rows(t) {
                return Err(damaged(
                    dir,
                    format!(
                        "{} wrote {written} rows, its counts list {}",
                        t.source_table,
                        listed_rows(t)
                    ),
                )
                .into());
            }
            left.push(written);
        }
        // The next row of each shard with its key hash.
        let mut next = |s: usize, left: &mut Vec<u64>| -> Result<Option<(u64, DiffRow)>> {
            if left[s] == 0 {
                return Ok(None);
            }
            left[s] -= 1;
            let dir = dirs[s].1;
            let want = &states[s].report.tables[i].source_table;
            let (rows, keys) = &mut readers[s];
            let (table, row) = match rows.next() {
                Some(r) => r?,
                None => return Err(damaged(dir, format!("rows of {want} end early")).into()),
            };
            if &table != want {
                return Err(
                    damaged(dir, format!("a row of {table} where {want} was expected")).into(),
                );
            }
            match keys.next_hash()? {
                Some(kh) => Ok(Some((kh, row))),
                None => Err(damaged(dir, "key hashes end early".into()).into()),
            }
        };
        let mut heads = Vec::with_capacity(states.len());
        for s in 0..states.len() {
            heads.push(next(s, &mut left)?);
        }
        loop {
            let pick = heads
                .iter()
                .enumerate()
                .filter_map(|(s, h)| h.as_ref().map(|(kh, _)| (*kh, s)))
                .min();
            let Some((_, s)) = pick else { break };
            let row = heads[s].take().map(|(_, r)| r);
            // A pair some shard could not compare has no rows, as in an unsharded run.
            if let Some(row) = row.filter(|_| !merged.verdict.is_error()) {
                writer.row(&head, &row)?;
            }
            heads[s] = next(s, &mut left)?;
        }
    }
    for ((rows, keys), (_, dir)) in readers.iter_mut().zip(dirs) {
        if rows.next().is_some() || keys.next_hash()?.is_some() {
            return Err(damaged(dir, "it holds more rows than its counts".into()).into());
        }
    }
    writer.close()?;
    Ok(())
}
