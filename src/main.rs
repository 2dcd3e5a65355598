//! The `reckon` binary: parse arguments, run a command, map the outcome to an exit code.

mod cli;
mod commands;

use std::panic::{catch_unwind, AssertUnwindSafe};

use clap::Parser;
use reckon::check::CheckError;
use reckon::diff::mapping::MappingError;
use reckon::diff::DiffError;
use reckon::error::{scrub, Hinted, EXIT_ERROR};
use reckon::migrate::MigrateError;
use reckon::source::SourceError;

/// The exit code when stdout was closed before reckon was done writing to it (128 + SIGPIPE).
pub(crate) const EXIT_CLOSED_PIPE: i32 = 141;

fn main() {
    // Panics (ours or a driver's) are reported once, scrubbed, as an error with exit code 2.
    std::panic::set_hook(Box::new(|_| {}));
    // Passwords in any argument are secrets before clap can quote an argument in an error.
    for arg in std::env::args() {
        reckon::source::register_url_secrets(&arg);
    }
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let text = e.render().to_string();
            if e.use_stderr() {
                eprint!("{}", scrub(&text));
            } else {
                print!("{text}");
            }
            std::process::exit(code);
        }
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| match &cli.command {
        cli::Command::Profile(args) => commands::profile::run(args),
        cli::Command::Diff(args) => commands::diff::run(args),
        cli::Command::Merge(args) => commands::merge::run(args),
        cli::Command::Migrate(args) => commands::migrate::run(args),
        cli::Command::Check(args) => commands::check::run(args),
        cli::Command::Signoff(args) => commands::signoff::run(args),
        cli::Command::Compare(args) => commands::compare::run(args),
        cli::Command::Init(args) => commands::init::run(args),
        cli::Command::Runbook(args) => commands::runbook::run(args),
        cli::Command::Completions(args) => commands::docs::completions(args),
        cli::Command::Man(args) => commands::docs::man(args),
    }));
    let code = match outcome {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            report_error(&err);
            EXIT_ERROR
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            // stdout closed early (`reckon diff … | head`): stop quietly, as a program killed
            // by SIGPIPE does (exit 141; SIGPIPE itself stays ignored, so that a database
            // connection closed under a write is an error, never a silent death).
            if msg.starts_with("failed printing to stdout") {
                std::process::exit(EXIT_CLOSED_PIPE);
            }
            eprintln!("error: internal error: {}", scrub(&msg));
            eprintln!("hint: this is a bug in reckon; please report it with the command you ran");
            EXIT_ERROR
        }
    };
    std::process::exit(code);
}

fn report_error(err: &anyhow::Error) {
    eprintln!("error: {}", scrub(&err.to_string()));
    for cause in err.chain().skip(1) {
        eprintln!("  caused by: {}", scrub(&cause.to_string()));
    }
    let hint = err
        .downcast_ref::<SourceError>()
        .and_then(Hinted::hint)
        .or_else(|| err.downcast_ref::<DiffError>().and_then(Hinted::hint))
        .or_else(|| err.downcast_ref::<MappingError>().and_then(Hinted::hint))
        .or_else(|| err.downcast_ref::<MigrateError>().and_then(Hinted::hint))
        .or_else(|| err.downcast_ref::<CheckError>().and_then(Hinted::hint))
        .or_else(|| {
            err.downcast_ref::<reckon::diff::shard::MergeError>()
                .map(|e| e.hint.clone())
        })
        .or_else(|| {
            err.downcast_ref::<commands::diff::ArgError>()
                .map(|e| e.hint.clone())
        });
    if let Some(hint) = hint {
        eprintln!("hint: {}", scrub(&hint));
    }
}
