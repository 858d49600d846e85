#!/usr/bin/env bash
# The project's test command (README, "Run the tests"): everything a fresh machine needs, then
# the tests. Builds once: `cargo test` compiles the binary the integration tests run.
set -euo pipefail
cd "$(dirname "$0")/.."

# The live-mode tests run against moto, the AWS emulator, installed into .venv (pinned).
./scripts/setup-moto.sh
# actionlint and ShellCheck for the GitHub Action and workflows (tests/cli/actions.rs), pinned.
./scripts/setup-lint.sh

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
