//! aoc-preflight: checks that an S3 bucket encrypted with a KMS key is set up correctly to be
//! attached to IBM Aspera on Cloud, and says what to fix when it is not.
//!
//! The shape is gather → judge → report, over one [`model`]: [`gather`] produces
//! [`model::facts::Facts`] from files (offline) or AWS (live); the pure checks in [`checks`]
//! judge a [`model::attachment::Attachment`] against them; [`report`] renders the
//! [`model::report`] in several formats. The library never prints. `docs/architecture.md`
//! lists the layers and which may import which.

#![forbid(unsafe_code)]
#![warn(clippy::print_stdout, clippy::print_stderr)]
// A panic is a bug: outside tests, failures are values with a message.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod arn;
pub mod bundle;
pub mod catalog;
pub mod checks;
pub mod cli;
pub mod error;
pub mod exit;
pub mod explain;
pub mod gather;
pub mod generate;
pub mod init;
pub mod model;
pub mod pasted;
pub mod permissions;
pub mod policy;
pub mod redact;
pub mod report;
pub mod run;
pub mod simulate;
pub mod spec;
pub mod step_summary;
pub mod suggest;
pub mod text;
