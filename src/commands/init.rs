//! `reckon init`: the mapping scaffold, on stdout or into a new file.

use anyhow::Result;

use reckon::source::{self, SourceSpec};

use crate::cli::InitArgs;
use crate::commands::diff::ArgError;

/// Runs the command; returns the exit code (0).
pub fn run(args: &InitArgs) -> Result<i32> {
    if let Some(out) = &args.out {
        // An edited mapping is work: never written over.
        if out.exists() {
            return Err(ArgError {
                message: format!("{} already exists", out.display()),
                hint: "choose another --out path, or remove the file first".into(),
            }
            .into());
        }
    }
    let mut src = source::open(&SourceSpec::parse(&args.source)?)?;
    let mut tgt = source::open(&SourceSpec::parse(&args.target)?)?;
    let text = reckon::diff::init::scaffold(src.as_mut(), tgt.as_mut(), !args.no_profile)?;
    let text = reckon::error::scrub(&text);
    match &args.out {
        Some(out) => {
            std::fs::write(out, &text).map_err(|e| ArgError {
                message: format!("cannot write {}: {e}", out.display()),
                hint: "check that the directory exists and is writable".into(),
            })?;
            eprintln!(
                "{}",
                reckon::error::scrub(&format!(
                    "wrote {}: review it, then run `reckon diff {} {} --mapping {}`",
                    out.display(),
                    src.display(),
                    tgt.display(),
                    out.display()
                ))
            );
        }
        None => print!("{text}"),
    }
    Ok(0)
}
