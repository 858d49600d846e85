#!/usr/bin/env bash
# Runs `aoc-preflight check` for the GitHub Action (action.yml, step "Run aoc-preflight").
#
# Each requested format is written to a file in the results directory, and the text report
# goes to the log. The exit code is recorded as the step output `exit-code`, not returned:
# the SARIF upload runs after this step even when the check failed, and the action's last step
# turns the recorded code into the step's result. The Markdown report reaches the job summary
# by itself: aoc-preflight appends it to $GITHUB_STEP_SUMMARY on GitHub Actions. A report's
# path is an output only when the file was written: a run that stops on bad usage (exit 2)
# writes none, and an output naming a missing file would fail the SARIF upload after it.
#
# Reads (set by action.yml): AOC_CONFIG, AOC_FORMATS (comma- or space-separated: json, junit,
# sarif, markdown, text), AOC_RESULTS_DIR, AOC_ARGS (more arguments for `check`, separated by
# white space, without quoting), and GITHUB_OUTPUT.
set -euo pipefail

results_dir=${AOC_RESULTS_DIR:-aoc-preflight-results}
mkdir -p "$results_dir"

args=(check)
if [ -n "${AOC_CONFIG:-}" ]; then
    args+=(--config "$AOC_CONFIG")
fi

outputs=()
for format in ${AOC_FORMATS//,/ }; do
    case "$format" in
        json) file="$results_dir/aoc-preflight.json" ;;
        junit) file="$results_dir/aoc-preflight-junit.xml" ;;
        sarif) file="$results_dir/aoc-preflight.sarif" ;;
        markdown) file="$results_dir/aoc-preflight.md" ;;
        text) file="$results_dir/aoc-preflight.txt" ;;
        *)
            echo "::error::aoc-preflight action: unknown format '$format' (json, junit, sarif, markdown, text)" >&2
            exit 2
            ;;
    esac
    args+=(--format "$format" --output "$file")
    # A report left by an earlier run must not pass for this one's.
    rm -f "$file"
    outputs+=("$format=$file")
done
# The text report always goes to the log as well, last: the one format without an --output.
args+=(--format text)

if [ -n "${AOC_ARGS:-}" ]; then
    read -r -d '' -a extra <<<"$AOC_ARGS" || true
    args+=("${extra[@]}")
fi

echo "aoc-preflight ${args[*]}"
set +e
aoc-preflight "${args[@]}"
code=$?
set -e

{
    echo "exit-code=$code"
    echo "results-dir=$results_dir"
    for entry in ${outputs[@]+"${outputs[@]}"}; do
        if [ -s "${entry#*=}" ]; then
            echo "$entry"
        fi
    done
} >>"${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}"
