#!/usr/bin/env bash
# Calls one MCP method through a Streamable HTTP endpoint with curl: initializes a session,
# sends the request, prints the response, ends the session.
#   scripts/call.sh METHOD [PARAMS_JSON]      (MCPGW_URL, default http://127.0.0.1:8080/mcp)
set -euo pipefail
url=${MCPGW_URL:-http://127.0.0.1:8080/mcp}
method=${1:?usage: scripts/call.sh METHOD [PARAMS_JSON]}
params=${2:-'{}'}
accept='Accept: application/json, text/event-stream'
json='Content-Type: application/json'

headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
curl -sS -D "$headers" -o /dev/null -H "$accept" -H "$json" "$url" -d \
  '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"call.sh","version":"1"}}}'
session=$(tr -d '\r' < "$headers" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
[ -n "$session" ] || { echo "call.sh: no Mcp-Session-Id from $url" >&2; exit 1; }
common=(-sS -H "$accept" -H "$json" -H "Mcp-Session-Id: $session" -H "MCP-Protocol-Version: 2025-11-25")
curl "${common[@]}" -o /dev/null "$url" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
curl "${common[@]}" "$url" -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$method\",\"params\":$params}"
echo
curl "${common[@]}" -o /dev/null -X DELETE "$url"
