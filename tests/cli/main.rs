//! The one integration-test crate: every file directly under `tests/` would link the whole
//! program again, so all end-to-end tests live in modules here.

mod bundle;
mod check;
mod corpus;
mod docs;
mod explain;
mod faults;
mod fleet;
mod formats;
mod fuzz_regressions;
mod generate;
mod hostile_files;
mod hostile_values;
mod live;
mod printed_permissions;
mod probe;
mod properties;
mod read_only;
mod remediation;
mod secrets;
mod simulate;
mod support;
