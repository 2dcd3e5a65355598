//! One file per subcommand: glue between the command line, the engines and the reports.

pub mod check;
pub mod compare;
pub mod diff;
pub mod docs;
pub mod init;
pub mod merge;
pub mod migrate;
pub mod printer;
pub mod profile;
pub mod runbook;
pub mod signoff;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use reckon::run::{RunClock, Timing};

use self::diff::ArgError;
use self::printer::Printer;

/// The files reckon writes into an `--out` directory (any command). A directory holding only
/// these is an earlier result and is replaced whole; anything else in it is refused.
const OUTPUT_FILES: &[&str] = &[
    "run.json",
    "diff.json",
    "diff_rows.parquet",
    "diff_summary.parquet",
    "diff.html",
    "shard.json",
    "shard_keys.bin",
    "profile.json",
    "profile.parquet",
    "profile.html",
    "check.json",
    "check.parquet",
    "compare.json",
    "compare.parquet",
    "compare.html",
    "migrate.json",
];

/// An `--out` directory written whole or not at all: the files go into a hidden staging directory
/// beside it, which replaces the directory only once everything is written. A run that fails or
/// is killed leaves the earlier result as it was, never a mix of old and new files.
/// Refuses an `--out` file that exists: a file users edit (a mapping, a runbook) is never
/// written over.
pub fn refuse_existing(out: Option<&Path>) -> Result<(), ArgError> {
    match out {
        Some(path) if path.exists() => Err(ArgError {
            message: format!("{} already exists", path.display()),
            hint: "choose another --out path, or remove the file first".into(),
        }),
        _ => Ok(()),
    }
}

/// Writes `text` into `out` and says so on stderr with `note`, or prints it.
pub fn write_or_print(
    printer: &Printer,
    out: Option<&Path>,
    text: &str,
    note: &str,
) -> Result<(), ArgError> {
    match out {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| ArgError {
                message: format!("cannot write {}: {e}", path.display()),
                hint: "check that the directory exists and is writable".into(),
            })?;
            printer.wrote(format_args!("wrote {}{note}", path.display()));
        }
        None => printer.out(text),
    }
    Ok(())
}

pub struct OutDir {
    target: PathBuf,
    staging: PathBuf,
    old: PathBuf,
    committed: bool,
}

impl OutDir {
    /// Checks the directory before any work: it may be new, empty, or an earlier reckon result.
    pub fn prepare(dir: &Path) -> Result<OutDir> {
        let foreign = |what: String| {
            ArgError {
            message: format!("output directory {} {what}", dir.display()),
            hint: "give a new or empty directory, or one written by an earlier reckon run: nothing else is overwritten".into(),
        }
        };
        if dir.exists() {
            if !dir.is_dir() {
                return Err(foreign("is not a directory".into()).into());
            }
            let entries = std::fs::read_dir(dir)
                .with_context(|| format!("cannot read output directory {}", dir.display()))?;
            for e in entries {
                let e = e.with_context(|| format!("cannot read {}", dir.display()))?;
                let name = e.file_name().to_string_lossy().into_owned();
                let file = e.file_type().map(|t| t.is_file()).unwrap_or(false);
                if !file || !OUTPUT_FILES.contains(&name.as_str()) {
                    return Err(
                        foreign(format!("holds '{name}', which reckon did not write")).into(),
                    );
                }
            }
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create output directory {}", parent.display()))?;
        clear_abandoned(&parent, &name);
        let staging = parent.join(format!(".{name}.reckon-{}", std::process::id()));
        let old = parent.join(format!(".{name}.reckon-{}.old", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("cannot clear {}", staging.display()))?;
        }
        std::fs::create_dir(&staging)
            .with_context(|| format!("cannot create output directory {}", staging.display()))?;
        Ok(OutDir {
            target: dir.to_path_buf(),
            staging,
            old,
            committed: false,
        })
    }

    /// Where the files are written until [`OutDir::commit`].
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Puts the written files in place of the directory's earlier content, at once.
    pub fn commit(mut self) -> Result<()> {
        let old = self.old.clone();
        if self.target.exists() {
            std::fs::rename(&self.target, &old).with_context(|| {
                format!("cannot replace output directory {}", self.target.display())
            })?;
        }
        std::fs::rename(&self.staging, &self.target)
            .with_context(|| format!("cannot move results into {}", self.target.display()))?;
        self.committed = true;
        if old.exists() {
            std::fs::remove_dir_all(&old)
                .with_context(|| format!("cannot remove the earlier result {}", old.display()))?;
        }
        Ok(())
    }
}

/// Removes the staging directories that killed runs left beside `name` (`.NAME.reckon-PID` and
/// `.NAME.reckon-PID.old`, the PID no longer running). Only where running processes can be seen
/// (`/proc`); elsewhere they stay.
fn clear_abandoned(parent: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{name}.reckon-");
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.strip_suffix(".old").unwrap_or(rest);
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let alive = Path::new("/proc").join(pid).exists();
        if !alive && e.file_type().is_ok_and(|t| t.is_dir()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

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
