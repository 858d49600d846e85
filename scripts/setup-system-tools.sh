#!/usr/bin/env bash
# Installs the system tools the diagram tests run when they are missing: Graphviz (`dot`, which
# renders `--format dot`) and tmux (a real terminal for the text report). Uses apt-get when it
# can (Debian or Ubuntu, as root or with password-less sudo); otherwise says what to install and
# leaves it to the tests to fail with the same advice.
set -euo pipefail

missing=()
command -v dot >/dev/null || missing+=(graphviz)
command -v tmux >/dev/null || missing+=(tmux)
[ ${#missing[@]} -eq 0 ] && exit 0

apt=()
if command -v apt-get >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        apt=(apt-get)
    elif sudo -n true 2>/dev/null; then
        apt=(sudo -n apt-get)
    fi
fi
if [ ${#apt[@]} -eq 0 ]; then
    echo "setup-system-tools.sh: install ${missing[*]} (Debian: apt-get install -y ${missing[*]}); the diagram tests need them" >&2
    exit 0
fi
"${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null \
    || { "${apt[@]}" update >/dev/null && "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null; }
