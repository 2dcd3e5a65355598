//! `reckon completions SHELL` and `reckon man`: generated from the command-line definition, so
//! they never drift from it.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// Prints the shell's completion script.
pub fn completions(args: &CompletionsArgs) -> Result<i32> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "reckon", &mut out);
    std::io::stdout()
        .write_all(&out)
        .context("writing the completions")?;
    Ok(0)
}

/// Prints reckon(1), or writes reckon.1 and reckon-COMMAND.1 for every command into a directory.
pub fn man(args: &ManArgs) -> Result<i32> {
    let cmd = Cli::command();
    let Some(dir) = &args.dir else {
        let mut out = Vec::new();
        clap_mangen::Man::new(cmd).render(&mut out)?;
        std::io::stdout()
            .write_all(&out)
            .context("writing the manual page")?;
        return Ok(0);
    };
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let write = |name: &str, page: clap::Command| -> Result<()> {
        let mut out = Vec::new();
        clap_mangen::Man::new(page).render(&mut out)?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, out).with_context(|| format!("writing {}", path.display()))
    };
    for sub in cmd.get_subcommands() {
        let name: &'static str = Box::leak(format!("reckon-{}", sub.get_name()).into_boxed_str());
        write(name, sub.clone().name(name))?;
    }
    write("reckon", cmd)?;
    super::Printer::new(false, false).wrote(format_args!(
        "wrote {}/reckon.1 and a page per command",
        dir.display()
    ));
    Ok(0)
}
