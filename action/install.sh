#!/usr/bin/env bash
# Installs aoc-preflight for the GitHub Action (action.yml, step "Install aoc-preflight").
#
# A released binary for the runner's OS and architecture, checked against the release's
# SHA256SUMS, or a build from the action's own source with cargo: when asked (`version:
# source`), or when the action is used from a checkout (`uses: ./`) rather than from a
# repository. A release the user named (`version: v0.2.0` or `latest`) that has no asset for
# the runner, or no SHA256SUMS, stops the step: a pipeline that pinned a release must not run
# something else. Without `version`, a missing asset builds from source, with a warning. A
# checksum that does not match, or SHA256SUMS missing, always stops the step: that is never a
# reason to build instead.
#
# Reads (set by action.yml): AOC_VERSION (the `version` input: empty, `latest`, a tag such as
# v0.2.0, or `source`), AOC_ACTION_REPOSITORY and AOC_ACTION_REF (the action's own repository
# and ref, often empty inside composite actions), AOC_RELEASE_BASE_URL (optional: where the
# release's assets are, instead of the repository's GitHub release: a mirror, or a directory
# as file://... in tests), and the runner's GITHUB_ACTION_PATH, RUNNER_OS, RUNNER_ARCH,
# RUNNER_TEMP, GITHUB_PATH, GITHUB_OUTPUT.
set -euo pipefail

action_path=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set: run this from action.yml}
install_root="${RUNNER_TEMP:?RUNNER_TEMP is not set}/aoc-preflight"
bin_dir="$install_root/bin"
mkdir -p "$bin_dir"

repository=${AOC_ACTION_REPOSITORY:-}
ref=${AOC_ACTION_REF:-}
# Inside a composite action github.action_repository and github.action_ref may be empty; the
# runner checks a remote action out at .../_actions/OWNER/REPO/REF, which says the same. On
# Windows that path has backslashes (D:\a\_actions\OWNER\REPO\REF), even in bash.
if [ -z "$repository" ]; then
    slashed_path=${action_path//\\//}
    case "$slashed_path" in
        */_actions/*/*/*)
            rest=${slashed_path#*/_actions/}
            owner=${rest%%/*}
            rest=${rest#*/}
            name=${rest%%/*}
            repository="$owner/$name"
            ref=${rest#*/}
            ;;
    esac
fi

if [ -n "$repository" ]; then
    echo "aoc-preflight: action $repository at ${ref:-no ref}"
fi

version=${AOC_VERSION:-}
# A version the user named is a promise about what runs: no silent build instead.
version_named=${AOC_VERSION:+yes}
if [ -z "$version" ]; then
    # `uses: OWNER/aoc-preflight@v0.2.0` installs that release; a branch or a SHA, the latest.
    case "$ref" in
        v[0-9]*) version=$ref ;;
        *) version=latest ;;
    esac
fi

case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) target=x86_64-unknown-linux-gnu ;;
    Linux/ARM64) target=aarch64-unknown-linux-gnu ;;
    macOS/ARM64) target=aarch64-apple-darwin ;;
    macOS/X64) target=x86_64-apple-darwin ;;
    Windows/X64) target=x86_64-pc-windows-msvc ;;
    *) target= ;;
esac

build_from_source() {
    echo "aoc-preflight: building from source ($1)"
    if ! command -v cargo >/dev/null 2>&1; then
        echo "::error::aoc-preflight: building from source needs cargo (Rust stable); install it first, e.g. with rustup" >&2
        exit 1
    fi
    cargo install --locked --path "$action_path" --root "$install_root"
    finish "source"
}

finish() {
    echo "$bin_dir" >>"${GITHUB_PATH:?GITHUB_PATH is not set}"
    if [ -n "${GITHUB_OUTPUT:-}" ]; then
        echo "installed=$1" >>"$GITHUB_OUTPUT"
    fi
    "$bin_dir/aoc-preflight" --version
    exit 0
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

if [ "$version" = source ]; then
    build_from_source "version: source"
fi
if [ -z "$repository" ] && [ -z "${AOC_RELEASE_BASE_URL:-}" ]; then
    build_from_source "the action runs from a checkout, which has no release"
fi
# The release named by `version` has nothing for this runner: stop if the user named it,
# else build from source, saying so.
no_release() {
    if [ -n "$version_named" ]; then
        echo "::error::aoc-preflight: $1, so version $version cannot be installed; use a release that has it, or version: source to build from source" >&2
        exit 1
    fi
    echo "::warning::aoc-preflight: $1; building from source instead (set version to a release to fail instead, or to source to build on purpose)"
    build_from_source "$1"
}

if [ -z "$target" ]; then
    no_release "no released binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}"
fi

case "$target" in
    *windows*) asset="aoc-preflight-$target.zip" ;;
    *) asset="aoc-preflight-$target.tar.gz" ;;
esac
if [ -n "${AOC_RELEASE_BASE_URL:-}" ]; then
    base=$AOC_RELEASE_BASE_URL
elif [ "$version" = latest ]; then
    base="https://github.com/$repository/releases/latest/download"
else
    base="https://github.com/$repository/releases/download/$version"
fi

download_dir=$(mktemp -d "${RUNNER_TEMP}/aoc-preflight-download.XXXXXX")
if ! curl --fail --silent --show-error --location --retry 3 \
    --output "$download_dir/$asset" "$base/$asset"; then
    no_release "no release asset $asset at $base"
fi
if ! curl --fail --silent --show-error --location --retry 3 \
    --output "$download_dir/SHA256SUMS" "$base/SHA256SUMS"; then
    echo "::error::aoc-preflight: no SHA256SUMS at $base, so $asset cannot be verified" >&2
    exit 1
fi

expected=$(awk -v name="$asset" '$2 == name || $2 == "*" name { print $1 }' "$download_dir/SHA256SUMS")
actual=$(sha256_of "$download_dir/$asset")
if [ -z "$expected" ]; then
    echo "::error::aoc-preflight: SHA256SUMS of $version does not list $asset" >&2
    exit 1
fi
if [ "$expected" != "$actual" ]; then
    echo "::error::aoc-preflight: checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual" >&2
    exit 1
fi
echo "aoc-preflight: $asset ($version) matches SHA256SUMS"

case "$asset" in
    *.zip) unzip -q -o "$download_dir/$asset" -d "$bin_dir" ;;
    *) tar -xzf "$download_dir/$asset" -C "$bin_dir" ;;
esac
chmod +x "$bin_dir/aoc-preflight"* 2>/dev/null || true
finish "$version"
