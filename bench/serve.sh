#!/usr/bin/env bash
# The `mcpgw serve` benchmarks (docs/benchmarks.md, "serve"), everything on 127.0.0.1:
#   throughput  wrk, tools/call `echo` through mcpgw vs directly to the same mcpgw-fixture
#               HTTP backend, same session set-up, same Lua script: requests/s and the ratio
#   latency     bench/mcp_load (open loop, fixed rate, default 1000 rps): p50/p90/p99/max
#               direct and through mcpgw, and what the gateway adds, in ROUNDS alternating rounds
#   sessions    bench/idle_sessions: VmRSS of the mcpgw process per idle session at 10,000
#               sessions (initialize + notifications/initialized only); then with one
#               tools/call per session: 3,000 sessions in per_session upstream mode (each holds
#               a backend connection) and 10,000 in shared mode
#   fanout      tools/list through mcpgw over 16 fixture backends that each delay lists by
#               FANOUT_DELAY_MS (default 50), against the target 1.1 x d
# Usage: bash bench/serve.sh [throughput] [latency] [sessions] [fanout]     (default: all four)
# Environment: MCPGW_BUILD_DIR (default build), WRK_DURATION (10s), WRK_CONNECTIONS (32),
#   WRK_THREADS (1), RATE (1000), DURATION (20), ROUNDS (3), SESSIONS (10000),
#   SESSIONS_CALLED (3000: sessions with a call in per_session mode, one backend connection each),
#   FANOUT_DELAY_MS (50), FANOUT_BACKENDS (16), LOG_LEVEL (warn: mcpgw and fixtures).
# Every process it starts is stopped by PID when it ends (also on Ctrl-C).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MCPGW_BUILD_DIR:-$repo/build}
mcpgw=$build/cli/mcpgw
fixture=$build/fixture/mcpgw-fixture
mcp_load=$build/bench/mcp_load
idle_sessions=$build/bench/idle_sessions
wrk_duration=${WRK_DURATION:-10s}
wrk_connections=${WRK_CONNECTIONS:-32}
wrk_threads=${WRK_THREADS:-1}
rate=${RATE:-1000}
duration=${DURATION:-20}
rounds=${ROUNDS:-3}
sessions=${SESSIONS:-10000}
sessions_called=${SESSIONS_CALLED:-3000}
fanout_delay_ms=${FANOUT_DELAY_MS:-50}
fanout_backends=${FANOUT_BACKENDS:-16}
log_level=${LOG_LEVEL:-warn}
protocol_version=2025-11-25
echo_params='{"name":"echo","arguments":{"text":"hello"}}'

for program in "$mcpgw" "$fixture" "$mcp_load" "$idle_sessions"; do
  [ -x "$program" ] || { echo "serve.sh: $program is missing: build first (scripts/dev.sh build)" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "serve.sh: needs curl" >&2; exit 2; }

# 10,000 per-session upstreams hold 10,000 backend connections: use the hard descriptor limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work=$(mktemp -d "${TMPDIR:-/tmp}/mcpgw-bench.XXXXXX")
pids=()
stop_all() {  # stops every process this script started, newest first, by PID
  local index
  for ((index = ${#pids[@]} - 1; index >= 0; index--)); do
    kill -TERM "${pids[index]}" 2>/dev/null || true
  done
  for ((index = ${#pids[@]} - 1; index >= 0; index--)); do
    wait "${pids[index]}" 2>/dev/null || true
  done
  pids=()
}
trap 'stop_all; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# wait_for_url LOG PATTERN: prints the http://...:PORT/mcp URL once LOG has a line matching
# PATTERN (10 s at most).
wait_for_url() {
  local log=$1 pattern=$2 attempt url
  for attempt in $(seq 100); do
    url=$(grep -m1 "$pattern" "$log" 2>/dev/null | grep -o 'http://[0-9.:]*/mcp' | head -1 || true)
    if [ -n "$url" ]; then
      echo "$url"
      return 0
    fi
    sleep 0.1
  done
  echo "serve.sh: no '$pattern' in $log:" >&2
  cat "$log" >&2
  return 1
}

# start_fixture NAME [SWITCHES...]: starts an HTTP fixture on a free port; sets $url.
start_fixture() {
  local name=$1
  shift
  "$fixture" http --listen 127.0.0.1:0 --name "$name" --log-level "$log_level" "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  url=$(wait_for_url "$work/$name.out" '^listening on')
}

# start_gateway CONFIG: starts mcpgw serve on a free port; sets $url and $gateway_pid.
start_gateway() {
  local config=$1
  "$mcpgw" serve --config "$config" --listen 127.0.0.1:0 --log-level "$log_level" \
    >"$work/mcpgw.out" 2>"$work/mcpgw.err" &
  gateway_pid=$!
  pids+=("$gateway_pid")
  url=$(wait_for_url "$work/mcpgw.out" 'listening on')
}

# write_config FILE [server keys] -- BACKEND_URL...: a gateway config with one HTTP backend per
# URL (named b00, b01, ...); extra lines before `--` go into [server]; SESSION_MODE applies.
write_config() {
  local file=$1 index=0
  shift
  {
    echo '[server]'
    echo 'listen = "127.0.0.1:0"'
    while [ "$1" != "--" ]; do
      echo "$1"
      shift
    done
    shift
    printf '\n[policy]\ndefault = "allow"\n\n[auth]\nallow_anonymous = true\n'
    for backend_url in "$@"; do
      printf '\n[[backend]]\nname = "b%02d"\nurl = "%s"\nsession_mode = "%s"\n' \
        "$index" "$backend_url" "${SESSION_MODE:-per_session}"
      index=$((index + 1))
    done
  } >"$file"
}

# open_session URL: initialize + notifications/initialized with curl; prints the session id.
open_session() {
  local endpoint=$1 headers session
  headers=$(mktemp "$work/headers.XXXXXX")
  curl -sS -D "$headers" -o /dev/null -H 'Accept: application/json, text/event-stream' \
    -H 'Content-Type: application/json' "$endpoint" -d \
    '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"'$protocol_version'","capabilities":{},"clientInfo":{"name":"serve.sh","version":"1"}}}'
  session=$(tr -d '\r' <"$headers" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
  [ -n "$session" ] || { echo "serve.sh: no Mcp-Session-Id from $endpoint" >&2; return 1; }
  curl -sS -o /dev/null -H 'Accept: application/json, text/event-stream' \
    -H 'Content-Type: application/json' -H "Mcp-Session-Id: $session" \
    -H "MCP-Protocol-Version: $protocol_version" "$endpoint" \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo "$session"
}

# check_call URL SESSION: one tools/call echo with curl; fails unless it answers "hello".
check_call() {
  local answer
  answer=$(curl -sS -H 'Accept: application/json, text/event-stream' \
    -H 'Content-Type: application/json' -H "Mcp-Session-Id: $2" \
    -H "MCP-Protocol-Version: $protocol_version" "$1" \
    -d '{"jsonrpc":"2.0","id":"check","method":"tools/call","params":'"$echo_params"'}')
  case $answer in
    *'"text":"hello"'*) ;;
    *) echo "serve.sh: tools/call echo through $1 answered: $answer" >&2; return 1 ;;
  esac
}

machine_note() {
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')," \
    "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

cat >"$work/call.lua" <<'LUA'
-- tools/call `echo` in an existing MCP session (MCP_SESSION), a fresh JSON-RPC id per request
-- (unique across wrk threads); answers without "result" are counted as JSON-RPC errors.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Mcp-Session-Id"] = os.getenv("MCP_SESSION")
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
local threads = {}
counter = 0
errors = 0
thread_id = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"jsonrpc":"2.0","id":' .. (thread_id * 1000000000 + counter)
    .. ',"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}')
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, '"result"', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("errors")
  end
  io.write(string.format("jsonrpc_errors %d\n", total))
end
LUA

# cpu_ticks PID: "user system" CPU time of the process, in clock ticks.
cpu_ticks() {
  awk '{print $14, $15}' "/proc/$1/stat"
}

# wrk_run LABEL URL SESSION NAME=PID...: prints the wrk report, then "LABEL rps N" and, for
# each server process, the CPU time it used per request: "LABEL cpu NAME USER_US SYSTEM_US".
wrk_run() {
  local label=$1 endpoint=$2 session=$3 out rps errors requests process
  shift 3
  local -A before after
  for process in "$@"; do before[$process]=$(cpu_ticks "${process#*=}"); done
  out=$(MCP_SESSION=$session wrk -t "$wrk_threads" -c "$wrk_connections" -d "$wrk_duration" \
    --latency -s "$work/call.lua" "$endpoint")
  for process in "$@"; do after[$process]=$(cpu_ticks "${process#*=}"); done
  echo "$out" | sed "s/^/  [$label] /"
  rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
  requests=$(echo "$out" | awk '/ requests in / {print $1}')
  errors=$(echo "$out" | awk '/^jsonrpc_errors/ {print $2}')
  if echo "$out" | grep -q 'Non-2xx\|Socket errors' || [ "${errors:-1}" != 0 ]; then
    echo "serve.sh: wrk saw errors through $endpoint" >&2
    return 1
  fi
  echo "$label rps $rps"
  for process in "$@"; do
    echo "${before[$process]} ${after[$process]}" | awk -v hz="$(getconf CLK_TCK)" -v n="$requests" \
      -v l="$label" -v p="${process%%=*}" '{
        printf "%s cpu %s %.1f %.1f\n", l, p, ($3 - $1) / hz * 1e6 / n, ($4 - $2) / hz * 1e6 / n }'
  done
}

bench_throughput() {
  echo "== throughput: wrk -t$wrk_threads -c$wrk_connections -d$wrk_duration, tools/call echo"
  machine_note
  start_fixture direct
  local direct_url=$url direct_session gateway_session direct_rps gateway_rps fixture_pid=${pids[-1]}
  write_config "$work/one.toml" 'max_requests_per_session = 1024' -- "$direct_url"
  start_gateway "$work/one.toml"
  local gateway_url=$url
  direct_session=$(open_session "$direct_url")
  gateway_session=$(open_session "$gateway_url")
  check_call "$direct_url" "$direct_session"
  check_call "$gateway_url" "$gateway_session"
  local direct_out gateway_out
  direct_out=$(wrk_run direct "$direct_url" "$direct_session" "fixture=$fixture_pid")
  echo "$direct_out"
  gateway_out=$(wrk_run mcpgw "$gateway_url" "$gateway_session" "mcpgw=$gateway_pid" \
    "fixture=$fixture_pid")
  echo "$gateway_out"
  direct_rps=$(echo "$direct_out" | awk '/^direct rps/ {print $3}')
  gateway_rps=$(echo "$gateway_out" | awk '/^mcpgw rps/ {print $3}')
  awk -v d="$direct_rps" -v g="$gateway_rps" 'BEGIN {
    printf "RESULT throughput direct %.0f req/s, through mcpgw %.0f req/s, ratio %.2fx (target >= 0.70x)\n", d, g, g / d }'
  echo "$direct_out" "$gateway_out" | awk '$2 == "cpu" {
    printf "RESULT cpu per request, %s run: %s %.1f us user + %.1f us system\n", $1, $3, $4, $5 }'
  stop_all
}

bench_latency() {
  echo "== latency: mcp_load, open loop at $rate rps for ${duration}s (3 s warm-up), tools/call echo, $rounds rounds"
  machine_note
  start_fixture direct
  local direct_url=$url round direct gateway
  write_config "$work/one.toml" 'max_requests_per_session = 1024' -- "$direct_url"
  start_gateway "$work/one.toml"
  local gateway_url=$url
  for round in $(seq "$rounds"); do
    direct=$("$mcp_load" --url "$direct_url" --rate "$rate" --duration "$duration" --warmup 3 \
      --connections 16 --params "$echo_params" --label direct)
    echo "  $direct"
    gateway=$("$mcp_load" --url "$gateway_url" --rate "$rate" --duration "$duration" --warmup 3 \
      --connections 16 --params "$echo_params" --label mcpgw)
    echo "  $gateway"
    python3 - "$direct" "$gateway" "$round" <<'PY'
import json, sys
direct, gateway, round_ = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
d, g = direct["latency_us"], gateway["latency_us"]
print(f"RESULT latency round {round_}: direct p50 {d['p50']:.0f} p99 {d['p99']:.0f} us, "
      f"mcpgw p50 {g['p50']:.0f} p99 {g['p99']:.0f} us; added p50 {g['p50'] - d['p50']:.0f} us, "
      f"p99 {g['p99'] - d['p99']:.0f} us (target p99 added <= 200 us); "
      f"load {open('/proc/loadavg').read().split()[0]}")
PY
  done
  stop_all
}

bench_sessions() {
  echo "== sessions: VmRSS of mcpgw per idle session, $sessions sessions"
  machine_note
  local variant mode call label count out
  # per_session keeps one upstream session, and so one keep-alive backend connection, per client
  # session; the fixture's front end accepts 4096 connections, hence fewer sessions there.
  for variant in "idle per_session $sessions" "called per_session $sessions_called" \
    "called shared $sessions"; do
    read -r label mode count <<<"$variant"
    start_fixture backend
    SESSION_MODE=$mode write_config "$work/sessions.toml" \
      "max_sessions = $((count + 1000))" -- "$url"
    start_gateway "$work/sessions.toml"
    call=()
    [ "$label" = called ] && call=(--call "$echo_params")
    out=$("$idle_sessions" --url "$url" --pid "$gateway_pid" --sessions "$count" \
      --warmup 100 --connections 4 --settle 2 "${call[@]}")
    echo "  $out"
    python3 - "$out" "$label" "$mode" <<'PY'
import json, sys
out, label, mode = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
what = "initialize only" if label == "idle" else f"one tools/call each, {mode} upstream"
print(f"RESULT sessions ({what}): {out['sessions']} sessions, RSS {out['rss_before_kib']} -> "
      f"{out['rss_after_kib']} KiB, {out['kib_per_session']:.2f} KiB per session (target <= 10 KiB)")
PY
    stop_all
  done
}

bench_fanout() {
  echo "== fan-out: tools/list over $fanout_backends backends each delaying lists by $fanout_delay_ms ms"
  machine_note
  local delay backend_urls index out
  for delay in "$fanout_delay_ms" 0; do
    backend_urls=()
    for index in $(seq 0 $((fanout_backends - 1))); do
      start_fixture "fan$index" --list-latency-ms "$delay"
      backend_urls+=("$url")
    done
    write_config "$work/fanout.toml" -- "${backend_urls[@]}"
    start_gateway "$work/fanout.toml"
    out=$("$mcp_load" --url "${backend_urls[0]}" --method tools/list --params '{}' --rate 20 \
      --duration 10 --warmup 2 --connections 8 --label "direct one backend, d=$delay")
    echo "  $out"
    local direct=$out
    out=$("$mcp_load" --url "$url" --method tools/list --params '{}' --rate 20 --duration 10 \
      --warmup 2 --connections 8 --label "mcpgw $fanout_backends backends, d=$delay")
    echo "  $out"
    python3 - "$direct" "$out" "$delay" "$fanout_backends" <<'PY'
import json, sys
direct, gateway = json.loads(sys.argv[1]), json.loads(sys.argv[2])
delay, backends = int(sys.argv[3]), sys.argv[4]
d, g = direct["latency_us"], gateway["latency_us"]
target = f" (target <= {1.1 * delay:.0f} ms)" if delay else ""
print(f"RESULT fan-out d={delay} ms: one backend direct p50 {d['p50'] / 1000:.1f} ms p99 "
      f"{d['p99'] / 1000:.1f} ms; mcpgw over {backends} backends p50 {g['p50'] / 1000:.1f} ms "
      f"p99 {g['p99'] / 1000:.1f} ms max {g['max'] / 1000:.1f} ms{target}")
PY
    stop_all
  done
}

selected=("$@")
[ ${#selected[@]} -gt 0 ] || selected=(throughput latency sessions fanout)
for name in "${selected[@]}"; do
  case $name in
    throughput | latency | sessions | fanout) "bench_$name" ;;
    *) echo "serve.sh: unknown benchmark '$name' (throughput, latency, sessions, fanout)" >&2; exit 2 ;;
  esac
done
