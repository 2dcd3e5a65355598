//! One file per subcommand: glue between the command line, the engines and the reports.

pub mod check;
pub mod compare;
pub mod diff;
pub mod migrate;
pub mod profile;
pub mod signoff;

use std::path::Path;

use anyhow::{Context, Result};
use reckon::run::{RunClock, Timing};

/// Writes `run.json` into the output directory of a run.
pub fn write_run(
    dir: &Path,
    clock: &RunClock,
    command: &str,
    inputs: Vec<String>,
    exit_code: i32,
    timings: Vec<Timing>,
) -> Result<()> {
    let record = clock.finish(command, inputs, exit_code, timings);
    reckon::run::write(&record, dir)
        .with_context(|| format!("cannot write {}", dir.join(reckon::run::RUN_FILE).display()))
}
