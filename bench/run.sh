#!/usr/bin/env bash
# The aoc-preflight benchmark (issue 7), in one command:
#
#   bench/run.sh [bench.py options]        e.g.  bench/run.sh --runs 7 --latencies 0,20,50
#
# 1. moto into .venv (scripts/setup-moto.sh), then the `aws` CLI next to it (pinned below);
# 2. checks that the release binary exists ($AOC_PREFLIGHT_BIN, default
#    target/bench/release/aoc-preflight) — it does not build it; build it with
#      CARGO_TARGET_DIR=target/bench nice -n 19 cargo build --release --locked
# 3. runs bench/bench.py: moto and the latency proxy on 127.0.0.1, correct worlds seeded with
#    boto3, the tool vs bench/baseline.sh at each latency, offline, fleets, --help, size, and
#    the `simulate` bench (cargo bench --bench simulate, at nice 19, in $CARGO_TARGET_DIR or
#    target/bench; skip it with --skip-simulate).
# Results: bench/results-DATE.json and bench/results-DATE.md. Everything stays on 127.0.0.1,
# with dummy credentials and empty AWS config files. Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-moto.sh

# awscli 1.46.3 carries its own botocore (awscli/botocore), so it does not move the botocore
# moto is pinned with. The whole resolved set of what it adds is pinned.
if [ ! -x .venv/bin/aws ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check \
        'awscli==1.46.3' \
        'colorama==0.4.6' \
        'docutils==0.19' \
        'rsa==4.7.2' \
        'pyasn1==0.6.5'
fi

bin="${AOC_PREFLIGHT_BIN:-target/bench/release/aoc-preflight}"
if [ ! -x "$bin" ]; then
    echo "run.sh: no release binary at $bin. Build it (in its own target dir, at low priority):" >&2
    echo "  CARGO_TARGET_DIR=target/bench nice -n 19 cargo build --release --locked" >&2
    echo "or point AOC_PREFLIGHT_BIN at one." >&2
    exit 2
fi
if ! command -v hyperfine > /dev/null; then
    echo "run.sh: hyperfine not found; timing offline runs in a loop instead (apt-get install hyperfine)" >&2
fi

exec .venv/bin/python bench/bench.py --bin "$bin" "$@"
