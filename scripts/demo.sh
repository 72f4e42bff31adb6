#!/usr/bin/env bash
# The demo: mcpgw serve on its built-in configuration, federating two mcpgw-fixture backends
# ("local" over stdio, "remote" over Streamable HTTP on 127.0.0.1:8931) behind
# http://127.0.0.1:8080/mcp. Stops both processes on Ctrl-C.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${MCPGW_BUILD_DIR:-$repo/build}
backend_port=${MCPGW_DEMO_BACKEND_PORT:-8931}
export MCPGW_DEMO_BACKEND_PORT=$backend_port

"$build/fixture/mcpgw-fixture" http --listen "127.0.0.1:$backend_port" --name remote \
  > >(sed 's/^/[remote backend] /') 2>&1 &
fixture_pid=$!
trap 'kill "$fixture_pid" 2>/dev/null || true; wait "$fixture_pid" 2>/dev/null || true' EXIT

cat <<TEXT
mcpgw demo: the gateway listens on http://127.0.0.1:8080/mcp (built-in config:
  mcpgw serve --print-demo-config). Try it from another terminal:

  bash scripts/call.sh tools/list
  bash scripts/call.sh tools/call '{"name":"local__echo","arguments":{"text":"hi"}}'
  bash scripts/call.sh tools/call '{"name":"remote__add","arguments":{"a":2,"b":3}}'

or point any MCP client at http://127.0.0.1:8080/mcp (Streamable HTTP) or
http://127.0.0.1:8080/sse (legacy HTTP+SSE). Ctrl-C stops the gateway and both backends.
TEXT
"$build/cli/mcpgw" serve
