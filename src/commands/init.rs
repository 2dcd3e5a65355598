//! `reckon init`: the mapping scaffold, on stdout or into a new file.

use anyhow::Result;

use reckon::source::{self, SourceSpec};

use crate::cli::InitArgs;

/// Runs the command; returns the exit code (0).
pub fn run(args: &InitArgs) -> Result<i32> {
    super::refuse_existing(args.out.as_deref())?;
    let mut src = source::open(&SourceSpec::parse(&args.source)?)?;
    let mut tgt = source::open(&SourceSpec::parse(&args.target)?)?;
    let text = reckon::diff::init::scaffold(src.as_mut(), tgt.as_mut(), !args.no_profile)?;
    let text = reckon::error::scrub(&text);
    let note = format!(
        ": review it, then run `reckon diff {} {} --mapping {}`",
        src.display(),
        tgt.display(),
        args.out
            .as_deref()
            .unwrap_or(std::path::Path::new("FILE"))
            .display()
    );
    super::write_or_print(
        &super::Printer::new(false, false),
        args.out.as_deref(),
        &text,
        &note,
    )?;
    Ok(0)
}
