#!/usr/bin/env bash
# Installs the Node tools the diagram tests use (the real Mermaid parser, under jsdom) into
# .node/ at the repository root, from scripts/node/package.json and its package-lock.json
# (`npm ci`: exactly the locked versions). Idempotent: does nothing when .node/ already holds
# this lock. Needs node (>= 20) and npm, and the npm registry once; the tests then run offline.
#
# To upgrade: change the versions in scripts/node/package.json, run `npm install
# --package-lock-only` in scripts/node/, commit both files, rerun the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "setup-node-tools.sh: node and npm are needed (Debian: apt-get install nodejs npm)" >&2
    exit 1
fi

mkdir -p .node
cp scripts/node/validate-mermaid.mjs .node/
if cmp -s scripts/node/package-lock.json .node/package-lock.json && [ -d .node/node_modules/mermaid ]; then
    exit 0
fi
cp scripts/node/package.json scripts/node/package-lock.json .node/
(cd .node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

if [ ! -d .node/node_modules/mermaid ]; then
    echo "setup-node-tools.sh: npm ci finished but .node/node_modules/mermaid is missing" >&2
    exit 1
fi
