//! One owner of what reckon prints: the report on stdout, notes and warnings on stderr, and the
//! progress bars and heartbeat of long work. Commands print through a [`Printer`] and nothing
//! else, so every line is scrubbed of secrets, never tears a progress bar, and follows `--json`
//! and `--quiet` the same way in every command.
//!
//! A command's result is a [`Report`]: the printer shows it as JSON, as its verdict alone, or
//! rendered for the terminal, and [`save`] writes its files into an `--out` directory whole.

use std::fmt::Display;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use reckon::error::scrub;
use reckon::run::RunClock;

use super::OutDir;

/// What stdout carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The report rendered for a reader, with notes on stderr.
    Text,
    /// The report as JSON; stderr still carries warnings and notes.
    Json,
    /// `verdict: …` alone; stderr carries warnings only.
    Quiet,
}

/// stdout, stderr and the progress bars of one command.
pub struct Printer {
    mode: Mode,
    multi: MultiProgress,
    heartbeat: Heartbeat,
}

impl Printer {
    /// A printer for `--json` / `--quiet` (they exclude each other on the command line). Bars are
    /// drawn only on a terminal and never under `--quiet`; the heartbeat takes their place when
    /// stderr is not a terminal.
    pub fn new(json: bool, quiet: bool) -> Printer {
        let mode = match (json, quiet) {
            (true, _) => Mode::Json,
            (false, true) => Mode::Quiet,
            (false, false) => Mode::Text,
        };
        let multi = if mode != Mode::Quiet && std::io::stderr().is_terminal() {
            MultiProgress::new()
        } else {
            MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
        };
        Printer {
            mode,
            multi,
            heartbeat: Heartbeat::new(mode == Mode::Quiet),
        }
    }

    /// What stdout carries.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Text on stdout as it is (scrubbed). stdout closed early (`reckon diff … | head`) ends the
    /// run quietly, as a program stopped by SIGPIPE (exit 141); any other failure to write it is
    /// an error (exit 2). Nothing here panics: a panic inside the bars' lock would abort.
    pub fn out(&self, text: &str) {
        use std::io::Write;
        let text = scrub(text);
        let written = self.multi.suspend(|| {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
        });
        match written {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                std::process::exit(crate::EXIT_CLOSED_PIPE)
            }
            Err(e) => {
                eprintln!("error: cannot write to stdout: {e}");
                std::process::exit(reckon::error::EXIT_ERROR)
            }
        }
    }

    /// A line on stdout.
    pub fn line(&self, text: impl Display) {
        self.out(&format!("{text}\n"));
    }

    /// A line on stderr, whatever the mode: an error about one part of the work that goes on.
    pub fn error(&self, text: impl Display) {
        let text = scrub(&text.to_string());
        self.multi.suspend(|| eprintln!("{text}"));
    }

    /// `warning: …` on stderr, whatever the mode.
    pub fn warn(&self, text: impl Display) {
        self.error(format_args!("warning: {text}"));
    }

    /// A note on stderr (what was left out or done differently), unless `--quiet`.
    pub fn note(&self, text: impl Display) {
        if self.mode != Mode::Quiet {
            self.error(text);
        }
    }

    /// Which files were written where: on stderr beside a rendered report only.
    pub fn wrote(&self, text: impl Display) {
        if self.mode == Mode::Text {
            self.error(text);
        }
    }

    /// A progress bar of `len` steps drawn with `template` (hidden where bars are not drawn).
    pub fn bar(&self, len: u64, template: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new(len));
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    }

    /// The heartbeat of long work when stderr is not a terminal.
    pub fn heartbeat(&self) -> &Heartbeat {
        &self.heartbeat
    }

    /// The report on stdout: its JSON, its verdict alone, or its rendering followed (on stderr)
    /// by the files written into `out`.
    pub fn report<R: Report + ?Sized>(&self, report: &R, out: Option<&Path>) -> Result<()> {
        match self.mode {
            Mode::Json => self.line(report.json()?),
            Mode::Quiet => self.line(format_args!("verdict: {}", report.verdict())),
            Mode::Text => {
                self.out(&report.render());
                if let (Some(dir), Some(files)) = (out, report.files()) {
                    self.wrote(format_args!("wrote {}/{files}", dir.display()));
                }
            }
        }
        Ok(())
    }
}

/// A command's result, as the printer shows it and [`save`] writes it.
pub trait Report {
    /// The verdict `--quiet` prints.
    fn verdict(&self) -> String;
    /// The report for a reader at a terminal.
    fn render(&self) -> String;
    /// The report as JSON (scrubbed like any output).
    fn json(&self) -> Result<String>;
    /// The files written into an `--out` directory, as the note after the report names them.
    fn files(&self) -> Option<String> {
        None
    }
    /// Writes the report's files (`run.json` included) into `dir`, the staging directory of an
    /// `--out` directory.
    fn write(&self, _dir: &Path, _clock: &RunClock) -> Result<()> {
        Ok(())
    }
}

/// Serializes `value` as pretty JSON, scrubbed.
pub fn json_of<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    Ok(scrub(&serde_json::to_string_pretty(value)?))
}

/// Writes a report into its `--out` directory whole: the report's files, then `extra` (what only
/// this run writes beside them), then the directory replaces the earlier one at once.
pub fn save<R: Report + ?Sized>(
    out: Option<OutDir>,
    report: &R,
    clock: &RunClock,
    extra: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let Some(o) = out else {
        return Ok(());
    };
    report.write(o.path(), clock)?;
    extra(o.path())?;
    o.commit()
}

/// Writes the CI files a run asked for (`--junit`, `--markdown`) and appends the summary to
/// `$GITHUB_STEP_SUMMARY` when it is set.
pub fn write_ci(
    ci: &crate::cli::CiArgs,
    suite: &str,
    cases: &[reckon::report::ci::Case],
    summary: &str,
) -> Result<()> {
    reckon::report::ci::write(
        ci.junit.as_deref(),
        ci.markdown.as_deref(),
        suite,
        cases,
        summary,
    )
    .map_err(|e| {
        anyhow::anyhow!("writing the CI report (--junit, --markdown, $GITHUB_STEP_SUMMARY): {e}")
    })
}

/// A line on stderr every 30 s of long work when stderr is not a terminal (CI logs, cron mail),
/// where no progress bar is drawn: what is being read, rows done, the rate
/// (`RECKON_HEARTBEAT_SECS` sets another interval; `--quiet` turns it off).
pub struct Heartbeat {
    on: bool,
    every: std::time::Duration,
    state: std::sync::Mutex<(String, std::time::Instant, std::time::Instant)>,
}

impl Heartbeat {
    /// A heartbeat, on when stderr is not a terminal and `quiet` is not asked for.
    pub fn new(quiet: bool) -> Heartbeat {
        use std::io::IsTerminal;
        let secs = std::env::var("RECKON_HEARTBEAT_SECS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(30);
        let now = std::time::Instant::now();
        Heartbeat {
            on: !quiet && !std::io::stderr().is_terminal(),
            every: std::time::Duration::from_secs(secs),
            state: std::sync::Mutex::new((String::new(), now, now)),
        }
    }

    /// New work (a table, a unit): its rows count from here.
    pub fn start(&self, what: &str) {
        if let Ok(mut s) = self.state.lock() {
            let now = std::time::Instant::now();
            *s = (what.to_string(), now, s.2);
        }
    }

    /// `done` rows of the current work so far: a line when one is due.
    pub fn rows(&self, done: u64) {
        if !self.on {
            return;
        }
        let Ok(mut s) = self.state.lock() else {
            return;
        };
        let now = std::time::Instant::now();
        if now.duration_since(s.2) < self.every {
            return;
        }
        s.2 = now;
        let secs = now.duration_since(s.1).as_secs_f64().max(1e-3);
        eprintln!(
            "[reckon] {}: {done} rows, {:.0} rows/s, {:.0} s",
            reckon::error::scrub(&s.0),
            done as f64 / secs,
            secs
        );
    }
}
