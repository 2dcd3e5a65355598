//! One file per subcommand: glue between the command line, the engines and the reports.

pub mod diff;
pub mod migrate;
pub mod profile;
