//! The one integration-test crate: every file directly under `tests/` would link the whole
//! program again, so all end-to-end tests live in modules here.
//!
//! Snapshots: reports a person reads (the broken example as text and as Markdown) are compared
//! with `insta` snapshots in `tests/cli/snapshots/`. When a test's output changes on purpose,
//! the failing run leaves the new text beside the old as a `.snap.new` file; accept or reject
//! it with `cargo insta review` (from `cargo install cargo-insta`), or rewrite the snapshots a
//! run reaches with `INSTA_UPDATE=always cargo test --test cli` and review the diff in git.
//! With `CI` set, insta writes nothing and a mismatch only fails; nothing in
//! `scripts/test.sh` may set `INSTA_UPDATE`.

mod actions;
mod architecture;
mod bundle;
mod check;
mod corpus;
mod diagrams;
mod docs;
mod explain;
mod faults;
mod first_screen;
mod fleet;
mod formats;
mod fuzz_regressions;
mod gate;
mod generate;
mod hostile_files;
mod hostile_values;
mod input;
mod live;
mod org;
mod org_live;
mod printed_permissions;
mod probe;
mod properties;
mod read_only;
mod remediation;
mod sarif;
mod secrets;
mod simulate;
mod support;
mod terraform_plan;
