#!/usr/bin/env bash
# The `mcpgw inspect` decoding benchmark (docs/benchmarks.md, "inspect"): a generated mcpgw
# capture of at least MEGABYTES (default 256) MiB, decoded to `--stats` by mcpgw inspect, and in
# the same run the per-method request counts computed by jq from the same file, for comparison.
# Each is run ROUNDS times (default 3) by hyperfine after a warm-up read, so the file is in the
# page cache; the report is MB/s = file size / mean wall time.
# Usage: bash bench/inspect.sh      Environment: MCPGW_BUILD_DIR (default build), MEGABYTES, ROUNDS
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MCPGW_BUILD_DIR:-$repo/build}
megabytes=${MEGABYTES:-256}
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in hyperfine jq "$build/cli/mcpgw" "$build/bench/capture_gen"; do
  command -v "$tool" >/dev/null || { echo "inspect.sh: $tool is missing" >&2; exit 2; }
done
capture=$work/large.capture.jsonl
"$build/bench/capture_gen" "$capture" --megabytes "$megabytes"
size=$(stat -c %s "$capture")
cat "$capture" >/dev/null

jq_counts='reduce (inputs | select(.type == "message" and .message.method != null)
                   | .message.method) as $m ({}; .[$m] += 1)'
hyperfine --runs "$rounds" --warmup 1 --export-json "$work/times.json" \
  -n "mcpgw inspect --stats" "$build/cli/mcpgw inspect --stats $capture >/dev/null" \
  -n "jq per-method counts" "jq -n '$jq_counts' $capture >/dev/null"
jq -r --argjson size "$size" '.results[] |
  "\(.command): \(.mean * 1000 | floor) ms mean (± \(.stddev * 1000 | floor)), " +
  "\($size / 1000000 / .mean | floor) MB/s"' "$work/times.json"
echo "file: $size bytes"
"$build/cli/mcpgw" inspect --stats "$capture" | head -20
