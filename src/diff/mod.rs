//! The diff engine (issue 3), being built: so far the canonical encoding and row hashing that the
//! row-level diff will compare on, and the classifier of differing cells. Not yet wired into a
//! command.

pub mod canonical;
pub mod classify;
