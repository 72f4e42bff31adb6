// `mcpgw serve`: loads the configuration, builds one transport factory per backend, the
// multiplexer and the front ends on one event loop, runs until SIGTERM/SIGINT (or, with
// --stdio, until the client closes stdin), then drains and stops everything in order.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace mcpgw::serve {

enum class LogFormat { text, json };

struct ServeOptions {
  std::string config_path;            // empty: the built-in demo configuration
  bool stdio = false;                 // serve one client on stdin/stdout instead of HTTP
  std::optional<std::string> listen;  // overrides [server] listen ("host:port")
  std::string log_level = "info";     // trace, debug, info, warn, error, off
  LogFormat log_format = LogFormat::text;
  // --capture PATH: records every JSON-RPC message on both legs (turns [capture] on, or
  // replaces its path).
  std::optional<std::string> capture_path;
  std::string version = "unknown";  // mcpgw's version, written into capture file headers
};

// Exit codes: 0 after a clean shutdown, 1 when the configuration has errors (printed to `err`
// like lint does) or the listener cannot be bound, 2 for a usage error.
int run(const ServeOptions& options, std::ostream& out, std::ostream& err);

// The built-in demo configuration: two mcpgw-fixture backends, one over stdio and one over
// Streamable HTTP on 127.0.0.1 (port ${MCPGW_DEMO_BACKEND_PORT:-8931}), behind 127.0.0.1:8080.
std::string_view embedded_config();

}  // namespace mcpgw::serve
