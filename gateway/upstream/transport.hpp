// A raw message pipe to one backend, for one upstream MCP session: a child process speaking
// NDJSON on stdio, a Streamable HTTP endpoint, or a legacy HTTP+SSE endpoint. It moves
// messages and reports failures; the MCP handshake, id rewriting, timeouts and restarts are the
// upstream Client's job (client.hpp), identical for every transport.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/config/config.hpp"
#include "mcp/jsonrpc.hpp"
#include "mcp/message_summary.hpp"

namespace boost::asio {
class io_context;
}

namespace mcpgw::capture {
class Recorder;
}

namespace mcpgw::upstream {

struct TransportError {
  enum class Kind {
    spawn_failed,     // stdio: the program could not be started
    connect_failed,   // HTTP: DNS, TCP or TLS failure (certificate verification included)
    exited,           // stdio: the process ended
    disconnected,     // the connection or stream ended before it should have
    http_status,      // HTTP: an unexpected status; see http_status
    session_expired,  // HTTP: 404 for a request that carried Mcp-Session-Id
    bad_message,      // the backend sent something that is not JSON-RPC (logged, skipped)
    too_large,        // a line, body or SSE event over the configured limit
    timeout,          // connect or read timeout of the transport itself
  };
  Kind kind = Kind::disconnected;
  std::string message;  // for logs and error data; never shown to clients verbatim
  int http_status = 0;
};

// Client request headers a backend is configured to receive (BackendConfig::forward_headers),
// lower-case names. HTTP transports add them to the request that carries the message; stdio
// has no headers and ignores them.
using ForwardedHeaders = std::vector<std::pair<std::string, std::string>>;

class TransportHandler {
 public:
  virtual ~TransportHandler() = default;
  // A message from the backend. When it arrived on the response stream of one of our requests
  // (Streamable HTTP POST answered with SSE), `request_stream` is that request's id: the
  // message belongs to that request (its progress, its sampling request).
  virtual void on_message(mcp::Message message,
                          const std::optional<mcp::RequestId>& request_stream) = 0;
  // Whether messages should come as text (on_message_text) instead of decoded. The Client says
  // yes once it has made a call_text(), whose answer it hands on as text; transports that read
  // each message as one text (stdio) then build no tree for it. Asked for every message.
  virtual bool prefers_text() const { return false; }
  // A message as the text it arrived in, checked and summarized (mcp/message_summary.hpp) but
  // not decoded; called instead of on_message() when prefers_text(). The default decodes it and
  // calls on_message(); a text the codec rejects is logged and dropped.
  virtual void on_message_text(std::string_view text, const mcp::MessageSummary& summary,
                               const std::optional<mcp::RequestId>& request_stream);
  // Sending this request failed at the transport level; no response will come for it.
  virtual void on_send_failed(const mcp::RequestId& request_id, const TransportError& error) = 0;
  // The transport is gone for good (process exited, SSE stream lost and not resumable).
  // Nothing arrives after this; the Client decides whether to start a new transport.
  virtual void on_closed(const TransportError& error) = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Starts the pipe (spawns the process, opens the legacy SSE stream). Messages sent before it
  // is up are queued in order.
  virtual void start(TransportHandler& handler) = 0;
  // Sends a request, notification or response. Never blocks; keeps order per transport.
  virtual void send(mcp::Message message) = 0;
  // Whether send_text() writes a request's text as given (stdio). HTTP transports build each
  // request from a message, so Client::call_text hands them decoded messages instead.
  virtual bool accepts_text() const { return false; }
  // A request already written as JSON text (Client::call_text), with `request` holding its
  // kind, id and method but no params. The default decodes the text and calls send().
  virtual void send_text(const mcp::Message& request, std::string text);
  // The same with forwarded client headers (HTTP transports override; others ignore them).
  virtual void send_with_headers(mcp::Message message, const ForwardedHeaders& headers) {
    (void)headers;
    send(std::move(message));
  }
  // Streamable HTTP: the version negotiated by initialize, sent as MCP-Protocol-Version on
  // later requests; after it is set, the standalone GET stream is opened (a 405 is accepted
  // as "no stream"). No-op for other transports.
  virtual void on_initialized(const std::string& protocol_version) = 0;
  // Streamable HTTP: forget the backend session (after session_expired) so the next
  // initialize starts a new one. No-op for other transports.
  virtual void reset_session() = 0;
  // Streamable HTTP: the backend's Mcp-Session-Id ("" when none); for logs and, later,
  // sealed session tokens.
  virtual std::string session_id() const = 0;
  // Whether a request can fail with session_expired, after which the Client sends it again and
  // so must keep a copy of every request in flight. Only Streamable HTTP has expiring sessions;
  // the default is the safe answer.
  virtual bool sessions_can_expire() const { return true; }
  // The client-facing session this transport serves (per_session upstreams), put in
  // Record::session of every message it records. Set before start(); "" (the default) for a
  // shared upstream, which serves many client sessions. Test fakes may ignore it.
  virtual void set_capture_session(std::string client_session) { (void)client_session; }
  // Ends the pipe: stdio closes stdin, then SIGTERM, then SIGKILL after the configured grace;
  // HTTP sends DELETE for its session and closes its streams. `done` runs once everything is
  // released (the process reaped). No handler call happens after close() is called.
  virtual void close(std::function<void()> done) = 0;
};

// Shared per-backend resources (keep-alive pool, TLS context) and the recipe for new
// transports. One factory per configured backend, created at startup.
class TransportFactory {
 public:
  virtual ~TransportFactory() = default;
  virtual std::unique_ptr<Transport> create() = 0;
  // Releases pooled connections; called once at shutdown.
  virtual void shutdown() = 0;
};

struct TransportLimits {
  std::uint64_t max_line_bytes = 16u << 20;       // stdio
  std::uint64_t max_sse_event_bytes = 16u << 20;  // HTTP
  std::uint64_t max_body_bytes = 64u << 20;       // HTTP JSON responses
  std::chrono::milliseconds connect_timeout{10000};
  // HTTP: a response or SSE stream that delivers no byte for this long is dropped (keep-alive
  // comments count as bytes). Request timeouts are the Client's.
  std::chrono::milliseconds stream_idle_timeout{5 * 60 * 1000};
  std::chrono::milliseconds shutdown_grace{5000};  // stdio: after closing stdin, and after TERM
  // stdio: output waiting for the child to read it; more means the backend stopped reading and
  // is treated as failed. At least max_line_bytes + 1 is used.
  std::uint64_t max_write_queue_bytes = 64u << 20;
  // Not a limit, but handed to every transport the same way: where the messages each transport
  // sends and receives are recorded (serve --capture). Null: not recorded. Not owned.
  capture::Recorder* recorder = nullptr;
};

// Factories; they log through spdlog with the backend's name. Defined next to each transport.
std::unique_ptr<TransportFactory> make_stdio_transport_factory(boost::asio::io_context& context,
                                                               const config::BackendConfig& backend,
                                                               const TransportLimits& limits);
std::unique_ptr<TransportFactory> make_streamable_http_transport_factory(
    boost::asio::io_context& context, const config::BackendConfig& backend,
    const TransportLimits& limits);
std::unique_ptr<TransportFactory> make_sse_transport_factory(boost::asio::io_context& context,
                                                             const config::BackendConfig& backend,
                                                             const TransportLimits& limits);
// Picks by backend.transport.
std::unique_ptr<TransportFactory> make_transport_factory(boost::asio::io_context& context,
                                                         const config::BackendConfig& backend,
                                                         const TransportLimits& limits);

}  // namespace mcpgw::upstream
