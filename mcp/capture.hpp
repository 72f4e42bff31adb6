// The mcpgw capture format (version 1): JSON Lines written by `mcpgw serve --capture` and read
// by inspect and replay. docs/capture-format.md is the specification; this is its code.
//
// Every file starts with a header line; then one line per JSON-RPC message on either leg, and
// a `dropped` line wherever the writer had to drop records (so a gap is visible in the file).
//   {"type":"header","format":"mcpgw-capture","version":1,"started_us":...,"gateway":"0.1.0","file_index":0}
//   {"type":"message","ts_us":...,"leg":"client","direction":"client->server",...,"message":{...}}
//   {"type":"dropped","ts_us":...,"count":12}
// Key order is fixed and `message` comes last, so a reader can take the metadata and skip the
// message without parsing it. Readers ignore unknown keys (additive changes keep version 1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/traffic.hpp"

namespace mcpgw::mcp::capture {

inline constexpr std::string_view kFormatName = "mcpgw-capture";
inline constexpr int kFormatVersion = 1;

struct Record {
  std::int64_t time_us = 0;  // microseconds since the Unix epoch
  traffic::Leg leg = traffic::Leg::client;
  traffic::Direction direction = traffic::Direction::client_to_server;
  traffic::Transport transport = traffic::Transport::unknown;
  // Client-facing MCP session id ("" before initialize answers). Backend leg: the client
  // session a per_session upstream serves; "" for shared and discovery upstreams.
  std::string session;
  std::string backend;           // backend leg: its name; client leg: the routed backend, if one
  std::string backend_session;   // the backend's own session id (backend leg, HTTP)
  std::uint64_t connection = 0;  // front connection number or backend connection, 0 = unknown
  std::string http_method;       // of the HTTP request the message travelled in, "" if none
  int http_status = 0;           // of the HTTP response it travelled in, 0 if none
  std::vector<traffic::Header> http_headers;  // selected, already redacted, lower-case names
  std::string sse_event_id;
  std::string message;  // valid JSON text of one JSON-RPC message, embedded as a JSON value
};

// One line without the trailing newline. `record.message` must already be valid JSON text (the
// gateway passes what it parsed or serialized); it is embedded verbatim.
void encode_record(const Record& record, std::string& out);
std::string encode_header(std::int64_t started_us, std::string_view gateway_version,
                          std::uint32_t file_index);
std::string encode_dropped(std::int64_t time_us, std::uint64_t count);

}  // namespace mcpgw::mcp::capture
