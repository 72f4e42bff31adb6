// The unit inspect shows and replay re-sends: one request with its response (or none yet), or
// one notification. Built by the Pairer from decoded traffic events.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/traffic.hpp"

namespace mcpgw::mcp::traffic {

enum class ExchangeKind : std::uint8_t { request, notification };

// ok: a result (a tool error with result.isError is still ok, with tool_error set); error: a
// JSON-RPC error response; pending: no response by the end of the input; cancelled: the
// requester sent notifications/cancelled before any response was seen.
enum class Status : std::uint8_t { ok, error, pending, cancelled };

std::string_view to_string(ExchangeKind kind);  // "request" | "notification"
std::string_view to_string(Status status);      // "ok" | "error" | "pending" | "cancelled"

// A notification shown under the request it belongs to: notifications/progress (by its
// progress token) and notifications/cancelled (by its request id).
struct LinkedNotification {
  std::string method;
  Direction direction = Direction::client_to_server;
  std::optional<std::int64_t> time_us;
  std::string message;  // raw JSON text; empty unless the renderer shows payloads
  Where where;
};

struct Exchange {
  std::uint64_t position = 0;  // input order of its first message, 0-based over all inputs
  // Input order of the response; equals `position` for notifications, orphans and requests
  // without a response. Tells replay which answers a client had seen before its next request.
  std::uint64_t end_position = 0;
  ExchangeKind kind = ExchangeKind::request;
  Direction direction = Direction::client_to_server;  // of the request
  Leg leg = Leg::unknown;
  Transport transport = Transport::unknown;
  std::string method;            // "" for an orphan response
  std::string id;                // canonical JSON text ("7", "\"a\""); "" for notifications
  std::string target;            // tool, prompt or resource named by the request
  std::string protocol_version;  // initialize: the response's, else the request's
  std::string scope;
  std::string session;
  std::string backend;
  int http_status = 0;  // of the response's HTTP exchange, else the request's; 0 when none
  std::optional<std::int64_t> started_us;
  std::optional<std::int64_t> ended_us;
  Status status = Status::pending;
  std::optional<std::int64_t> error_code;
  std::string error_message;
  bool tool_error = false;       // tools/call answered with result.isError: true
  bool orphan = false;           // a response whose request never appeared
  std::string progress_token;    // of the request (params._meta) or a lone progress notification
  std::string related_id;        // a lone notifications/cancelled: the request id it names
  std::string request_message;   // raw JSON text; empty unless payloads are kept
  std::string response_message;  // raw JSON text; empty unless payloads are kept
  Where request_where;           // of the request or notification
  std::optional<Where> response_where;
  std::vector<LinkedNotification> linked;
  std::uint64_t linked_omitted = 0;  // linked notifications beyond the per-exchange bound

  bool server_request() const {
    return kind == ExchangeKind::request && direction == Direction::server_to_client;
  }
  bool failed() const { return status == Status::error || tool_error; }
  std::optional<std::int64_t> duration_us() const {
    if (!started_us || !ended_us)
      return std::nullopt;
    return *ended_us - *started_us;
  }
  // The tool of a tools/call; empty otherwise.
  std::string_view tool() const {
    return method == "tools/call" ? std::string_view(target) : std::string_view();
  }
  // The session, or the decoder's scope when the input has no session ids (stdio, plain HTTP).
  const std::string& session_or_scope() const { return session.empty() ? scope : session; }
};

// The methods MCP servers send to clients as requests; inspect marks them in the output.
bool is_server_to_client_method(std::string_view method);

}  // namespace mcpgw::mcp::traffic
