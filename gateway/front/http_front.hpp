// The HTTP front ends on one listener: Streamable HTTP at `path` (protocol versions 2025-03-26
// to 2025-11-25) and the legacy HTTP+SSE transport (2024-11-05) at `sse_path` + `message_path`.
// It owns the client sessions' transport state (session ids, streams, replay buffers, expiry)
// and hands decoded messages to a server::Service. Beast and Asio stay in the .cpp files.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/server/service.hpp"
#include "mcp/expected.hpp"

namespace boost::asio {
class io_context;
}

namespace mcpgw::auth {
class Authenticator;
}

namespace mcpgw::capture {
class Recorder;
}

namespace mcpgw::front {

struct HttpFrontOptions {
  std::string host = "127.0.0.1";  // what to bind: a name, an IPv4 or IPv6 literal
  std::uint16_t port = 0;          // 0: an ephemeral port
  std::string path = "/mcp";
  std::string sse_path = "/sse";  // "" disables the legacy front end
  std::string message_path = "/message";
  // Host header values accepted; empty: derived from the bound address (loopback names and
  // literals with the bound port), which is what makes DNS rebinding fail. "*" accepts any.
  std::vector<std::string> allowed_hosts;
  // Origin values accepted when an Origin header is present; empty: loopback origins only.
  std::vector<std::string> allowed_origins;
  std::uint64_t max_body_bytes = 4u << 20;
  std::uint64_t max_header_bytes = 64u << 10;  // request line + headers: 431 beyond
  std::uint32_t max_sessions = 10000;
  std::chrono::milliseconds session_idle_timeout{30 * 60 * 1000};
  std::uint32_t max_requests_per_session = 64;
  std::uint32_t stream_replay_events = 256;
  std::uint64_t max_stream_queue_bytes = 32u << 20;  // per SSE stream towards a slow client
  std::chrono::milliseconds sse_retry{1000};  // the `retry:` field of priming events (0: none)
  std::chrono::milliseconds keepalive_interval{15000};  // SSE comments on idle streams (0: none)
  // Client headers (lower-case) passed to Session::handle_request in RequestContext.
  std::vector<std::string> forward_headers;
  // Pass every header instead (the fixture records what a backend received; never serve).
  bool forward_all_headers = false;
  // Connections open at once; more are refused (503 over HTTP, closed under TLS).
  std::uint32_t max_connections = 4096;
  // One write to a client (a response, an SSE batch) must finish within this.
  std::chrono::milliseconds write_timeout{30000};

  // Authentication (issue 4). Every request to the MCP endpoints is authenticated after the
  // Host/Origin checks and before anything else; the principal goes into RequestContext and a
  // session belongs to the principal_key of its initialize. Null: every request is anonymous
  // (principal null, principal_key "anonymous"). Not owned; outlives the front end.
  auth::Authenticator* authenticator = nullptr;
  std::string api_key_header = "X-API-Key";  // where clients send API keys
  // Sessions one principal may hold at once (0: no bound); 429 beyond. Anonymous callers are
  // bounded by max_sessions only.
  std::uint32_t max_sessions_per_principal = 100;
  // Listener TLS: when set, the listener speaks HTTPS only (certificate and key loaded by
  // listen(), TLS 1.2 or 1.3 at least, client certificates verified with client_ca_file).
  std::optional<config::TlsListenerConfig> tls;
  // The TLS handshake, and then each request head, must arrive within this (slowloris).
  std::chrono::milliseconds header_timeout{10000};
  // A request body must arrive within this after its head.
  std::chrono::milliseconds body_timeout{30000};
  // How long a keep-alive connection waits for the first byte of its next request.
  std::chrono::milliseconds idle_timeout{60000};

  // Records every JSON-RPC message of the MCP endpoints, both ways (serve --capture): request
  // bodies, JSON answers and SSE events. Null: none. Not owned; outlives the front end.
  capture::Recorder* recorder = nullptr;
};

// Fills the options from the [server] table (listen, paths, limits, allow-lists) and the union
// of every backend's forward_headers.
HttpFrontOptions http_front_options(const config::Config& config);

struct FrontStats {
  std::uint64_t sessions_open = 0;
  std::uint64_t sessions_expired = 0;
  std::uint64_t events_dropped = 0;  // server messages dropped because a stream queue was full
};

class HttpFront {
 public:
  virtual ~HttpFront() = default;
  // Binds and starts accepting; returns the bound port, or why binding failed.
  virtual mcp::Expected<std::uint16_t, std::string> listen() = 0;
  // Stops accepting new connections; requests in progress continue.
  virtual void stop_accepting() = 0;
  // Closes every session (Session::close()) and connection; `done` runs when all are gone.
  virtual void shutdown(std::function<void()> done) = 0;
  // Requests received but not yet answered, across all sessions (for draining).
  virtual std::size_t requests_in_flight() const = 0;
  virtual FrontStats stats() const = 0;
};

std::unique_ptr<HttpFront> make_http_front(boost::asio::io_context& context,
                                           server::Service& service, HttpFrontOptions options);

}  // namespace mcpgw::front
