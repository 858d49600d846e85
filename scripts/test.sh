#!/usr/bin/env bash
# The project's test command (README, "Run the tests"): everything a fresh machine needs, then
# the tests. Builds once: `cargo test` compiles the binary the integration tests run.
set -euo pipefail
cd "$(dirname "$0")/.."

# The live-mode tests run against moto, the AWS emulator, installed into .venv (pinned).
./scripts/setup-moto.sh
# actionlint and ShellCheck for the GitHub Action and workflows (tests/cli/actions.rs), pinned.
./scripts/setup-lint.sh
# The diagram tests validate Mermaid with Mermaid's own parser, installed into .node/ (pinned).
./scripts/setup-node-tools.sh
# They render DOT with Graphviz and drive the text report in tmux: Debian packages, installed
# here when missing and apt-get can (as root); otherwise the tests say how to install them.
./scripts/setup-system-tools.sh

cargo fmt --check
cargo clippy --locked --all-targets -- -D warnings
cargo test --locked
