#!/usr/bin/env bash
# Builds the fuzz targets and runs each for a while (issue 6). Not part of CI: it needs
# `cargo fuzz` and a sanitizer build of the whole program (the AWS SDK included), about
# 15 minutes on 2 cores the first time.
#
#   fuzz/run.sh                      # every target, 300 s each
#   fuzz/run.sh --seconds 60 policy  # one target, one minute
#
# The machine's toolchain is stable; cargo fuzz needs nightly flags (-Zsanitizer, sancov), so
# RUSTC_BOOTSTRAP=1 lets stable rustc accept them. Findings land in fuzz/artifacts/<target>/;
# a fixed one is kept as a regression test by copying it to fuzz/regressions/<target>/
# (replayed by `cargo test` in tests/cli/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=300
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) targets+=("$1"); shift ;;
    esac
done
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(grep -v '^#' fuzz/seed-dirs.txt | awk 'NF { print $1 }')
fi

if ! command -v cargo-fuzz >/dev/null; then
    cargo install cargo-fuzz --locked --version 0.13.2
fi
export RUSTC_BOOTSTRAP=1
# Out of the default target directory: the sanitizer build shares nothing with `cargo test`.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/fuzz}"

for target in "${targets[@]}"; do
    read -r -a seeds < <(awk -v t="$target" '$1 == t { $1 = ""; print }' fuzz/seed-dirs.txt)
    [[ ${#seeds[@]} -gt 0 ]] || { echo "fuzz/run.sh: unknown target $target" >&2; exit 2; }
    mkdir -p "fuzz/corpus/$target"
    echo "== $target: ${seconds} s (seeds: ${seeds[*]})"
    cargo fuzz run -O --fuzz-dir fuzz "$target" "fuzz/corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
        -dict=fuzz/policy.dict -print_final_stats=1
done
