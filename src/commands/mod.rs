//! One file per subcommand: glue between the command line, the engines and the reports.

pub mod profile;
pub mod diff;
