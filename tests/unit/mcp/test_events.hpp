// Builds traffic events for the pairing and inspect tests, the way a decoder would report them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "mcp/traffic.hpp"

namespace mcpgw::mcp::traffic::test_events {

using mcp::traffic::Direction;
using mcp::traffic::Event;

inline constexpr Direction kC2S = Direction::client_to_server;
inline constexpr Direction kS2C = Direction::server_to_client;

struct EventBuilder {
  Event event;

  EventBuilder(std::string scope, Direction direction, std::string message) {
    event.scope = std::move(scope);
    event.direction = direction;
    event.message = std::move(message);
    event.where.source = "test.jsonl";
  }
  EventBuilder& at(std::int64_t time_us) {
    event.time_us = time_us;
    return *this;
  }
  EventBuilder& line(std::uint64_t number) {
    event.where.line = number;
    return *this;
  }
  EventBuilder& session(std::string id) {
    event.session = std::move(id);
    return *this;
  }
  EventBuilder& backend(std::string name) {
    event.backend = std::move(name);
    event.leg = mcp::traffic::Leg::backend;
    return *this;
  }
  EventBuilder& http(std::string method, int status, std::string sse_id = "") {
    event.http = mcp::traffic::HttpContext{std::move(method), "/mcp", status, {}};
    event.sse_event_id = std::move(sse_id);
    event.transport = mcp::traffic::Transport::streamable_http;
    return *this;
  }
  Event build() { return std::move(event); }
  operator Event() { return build(); }  // NOLINT: builder reads naturally at call sites
};

inline std::string rpc_request(int id, const std::string& method,
                               const std::string& params = "{}") {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"method":")" + method +
         R"(","params":)" + params + "}";
}

inline std::string rpc_result(int id, const std::string& result_json = "{}") {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":)" + result_json + "}";
}

inline std::string rpc_error(int id, int code, const std::string& message) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"error":{"code":)" +
         std::to_string(code) + R"(,"message":")" + message + R"("}})";
}

inline std::string rpc_notification(const std::string& method, const std::string& params = "{}") {
  return R"({"jsonrpc":"2.0","method":")" + method + R"(","params":)" + params + "}";
}

}  // namespace mcpgw::mcp::traffic::test_events
