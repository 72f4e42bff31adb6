#!/usr/bin/env bash
# The `mcpgw replay` overhead benchmark (docs/benchmarks.md, "replay"): bench/replay_session
# records a stdio session of EXCHANGES (default 10000) sequential echo calls with mcpgw-fixture
# and measures that run: the backend's own time plus the least a client adds. Then, ROUNDS
# times (default 30), it runs that baseline client waiting with poll(2), the same client
# waiting with epoll_wait(2) (as Asio, and so replay, does), and `mcpgw replay` of the recording
# against the same fixture, back to back, so that the runs of a round see the same load on the
# machine. The overhead per exchange is the median over the rounds of (replay's wall time -
# a baseline's) / EXCHANGES; all include starting the fixture, the handshake and the process
# exit, replay also reading the recording, comparing every answer and writing the report.
# With CPUS set (a taskset list, e.g. CPUS=1), every run is confined to those CPUs: on one CPU
# client and fixture take turns, no wake-up crosses CPUs, and the difference is what replay
# costs in CPU time, the steadiest measure on a shared VM.
# Usage: bash bench/replay.sh      Environment: MCPGW_BUILD_DIR (default build), EXCHANGES,
#                                  ROUNDS, CPUS
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MCPGW_BUILD_DIR:-$repo/build}
exchanges=${EXCHANGES:-10000}
rounds=${ROUNDS:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mcpgw=$build/cli/mcpgw
fixture=$build/fixture/mcpgw-fixture
baseline=$build/bench/replay_session
for tool in "$mcpgw" "$baseline" "$fixture"; do
  [[ -x $tool ]] || { echo "replay.sh: $tool is missing" >&2; exit 2; }
done
recording=$work/session.log
"$baseline" "$fixture" "$recording" "$exchanges" 2>/dev/null

pin=()
if [[ -n ${CPUS:-} ]]; then
  pin=(taskset -c "$CPUS")
fi
now_ns() { date +%s%N; }
run_baseline() { "${pin[@]}" "$baseline" "$@" "$fixture" "$work/again.log" "$exchanges" >/dev/null 2>&1; }
run_replay() { "${pin[@]}" "$mcpgw" replay --target-command "$fixture stdio" "$recording" >/dev/null; }

run_baseline && run_replay  # warm-up: page cache, dynamic loader
: >"$work/rounds"
for ((round = 0; round < rounds; ++round)); do
  start=$(now_ns)
  run_baseline
  polled=$(now_ns)
  run_baseline --epoll
  epolled=$(now_ns)
  run_replay
  end=$(now_ns)
  echo "$((polled - start)) $((epolled - polled)) $((end - epolled))" >>"$work/rounds"
done

# Medians: on a shared VM single runs wander with scheduling, and one slow run would move a mean.
# Overheads are per round, against the baseline that waits with poll(2) and against the one
# that waits with epoll_wait(2) as an event loop does (replay_session.cpp says why both).
awk -v n="$exchanges" '
  function sort(values, count,    i, j, t) {
    for (i = 2; i <= count; ++i)
      for (j = i; j > 1 && values[j - 1] > values[j]; --j) { t = values[j]; values[j] = values[j - 1]; values[j - 1] = t }
  }
  function median(sorted, count) {
    return count % 2 ? sorted[(count + 1) / 2] : (sorted[count / 2] + sorted[count / 2 + 1]) / 2
  }
  function quartile(sorted, count, which) { return sorted[int((count - 1) * which / 4) + 1] }
  function overhead(label, diff, count) {
    printf "replay overhead vs %s: median %.2f us per exchange (the middle half of the rounds: %.2f to %.2f)\n",
      label, median(diff, count) / n / 1e3, quartile(diff, count, 1) / n / 1e3, quartile(diff, count, 3) / n / 1e3
  }
  { polled[NR] = $1; epolled[NR] = $2; replay[NR] = $3; vs_poll[NR] = $3 - $1; vs_epoll[NR] = $3 - $2 }
  END {
    sort(polled, NR); sort(epolled, NR); sort(replay, NR); sort(vs_poll, NR); sort(vs_epoll, NR)
    printf "rounds: %d\n", NR
    printf "baseline client, poll:  median %.0f ms\n", median(polled, NR) / 1e6
    printf "baseline client, epoll: median %.0f ms\n", median(epolled, NR) / 1e6
    printf "mcpgw replay:           median %.0f ms\n", median(replay, NR) / 1e6
    overhead("the poll client ", vs_poll, NR)
    overhead("the epoll client", vs_epoll, NR)
  }' "$work/rounds"
"$mcpgw" replay --target-command "$fixture stdio" "$recording" | tail -1
/usr/bin/time -f "mcpgw replay peak RSS: %M KiB" \
  "$mcpgw" replay --target-command "$fixture stdio" "$recording" >/dev/null
