#!/usr/bin/env bash
# The `mcpgw replay` overhead benchmark (docs/benchmarks.md, "replay"): bench/replay_session
# records a stdio session of EXCHANGES (default 10000) sequential echo calls with mcpgw-fixture
# and measures that run: the backend's own time plus the least a client adds. Then hyperfine
# runs `mcpgw replay` of that recording against the same fixture ROUNDS times (default 15). The
# overhead per exchange is (replay's mean wall time - the baseline's mean) / EXCHANGES; both
# include starting the fixture, the handshake and the process exit, replay also reading the
# recording, comparing every answer and writing the report. Medians and minimums are reported.
# Usage: bash bench/replay.sh      Environment: MCPGW_BUILD_DIR (default build), EXCHANGES, ROUNDS
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MCPGW_BUILD_DIR:-$repo/build}
exchanges=${EXCHANGES:-10000}
rounds=${ROUNDS:-15}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fixture=$build/fixture/mcpgw-fixture
for tool in hyperfine jq "$build/cli/mcpgw" "$build/bench/replay_session" "$fixture"; do
  command -v "$tool" >/dev/null || { echo "replay.sh: $tool is missing" >&2; exit 2; }
done
recording=$work/session.log
"$build/bench/replay_session" "$fixture" "$recording" "$exchanges" 2>/dev/null

hyperfine --runs "$rounds" --warmup 1 --export-json "$work/times.json" \
  -n "baseline client" "$build/bench/replay_session $fixture $work/again.log $exchanges 2>/dev/null" \
  -n "mcpgw replay" "$build/cli/mcpgw replay --target-command '$fixture stdio' $recording >/dev/null"
# Medians (and the fastest runs) rather than means: on a shared VM the round trips of both
# runs wander with scheduling, and one slow run would move a mean.
jq -r --argjson n "$exchanges" '
  (.results[0]) as $base | (.results[1]) as $replay |
  (.results[] | "\(.command): median \(.median * 1000 | floor) ms, min \(.min * 1000 | floor) ms"),
  "replay overhead (medians): \((($replay.median - $base.median) / $n * 1000000) * 100 | floor / 100) us per exchange",
  "replay overhead (fastest runs): \((($replay.min - $base.min) / $n * 1000000) * 100 | floor / 100) us per exchange"' \
  "$work/times.json"
"$build/cli/mcpgw" replay --target-command "$fixture stdio" "$recording" | tail -1
/usr/bin/time -f "mcpgw replay peak RSS: %M KiB" \
  "$build/cli/mcpgw" replay --target-command "$fixture stdio" "$recording" >/dev/null
