//! The one integration-test crate: every file directly under `tests/` would link the whole
//! program again, so all end-to-end tests live in modules here.

mod architecture;
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
mod live;
mod probe;
mod properties;
mod remediation;
mod safety;
mod simulate;
mod support;
