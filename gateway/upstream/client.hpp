// One MCP client session with one backend, on top of a Transport: the initialize handshake,
// request ids of our own, timeouts, transparent re-initialization when an HTTP backend session
// expires, and restarts with backoff when the transport dies. Every pending request gets
// exactly one completion: the backend's response, or a JSON-RPC error the moment the request
// can no longer be answered (timeout, crash, close). Nothing is ever left hanging.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/runtime/event_loop.hpp"
#include "gateway/upstream/transport.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::upstream {

// Identifies one call made through a Client; never reused within a process.
using CallId = std::uint64_t;

// Error codes the gateway uses for failures of its own (implementation-defined range).
namespace gateway_error {
inline constexpr std::int64_t backend_unavailable = -32001;  // down, restarting, failed to start
inline constexpr std::int64_t backend_timeout = -32003;      // no answer within the timeout
inline constexpr std::int64_t backend_overloaded = -32004;   // too many requests in flight
}  // namespace gateway_error

struct Backoff {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{30000};
  // Delay before restart attempt `attempt` (0-based): initial * 2^attempt, capped at max.
  std::chrono::milliseconds delay(std::uint32_t attempt) const;
};

struct ClientOptions {
  std::string backend_name;  // for logs and error messages
  // params of the initialize request sent to the backend: the client's own protocolVersion,
  // capabilities and clientInfo, so the backend sees what the real client can do.
  nlohmann::json initialize_params;
  std::chrono::milliseconds request_timeout{60000};
  std::size_t max_pending = 1024;  // calls in flight; more are refused with backend_overloaded
  std::size_t max_queued = 1024;   // calls waiting for the handshake
  // Forwarded client headers for the handshake (initialize, initialized) and the standalone
  // stream: those of the client request that made this session's Client (per_session only).
  ForwardedHeaders handshake_headers;
  // The client session this Client serves (per_session only; "" when shared): every transport
  // it creates, restarts included, tags its capture records with it.
  std::string capture_session;
  bool restart = true;  // start a new transport after it dies, with backoff
  Backoff backoff;
};

enum class ClientState { starting, ready, down, closed };

// What a call_text() completes with: the backend's response as the text it arrived in, with the
// caller's id in place of the wire id, when the transport delivered text (stdio; checked like
// mcp/message_summary.hpp checks, never decoded); otherwise `message`: a decoded response, or
// an error of the Client's own (timeout, backend unavailable, overloaded).
struct TextAnswer {
  std::string text;  // empty when `message` is the answer
  mcp::Message message;
  bool is_text() const noexcept { return !text.empty(); }
};
using TextDone = std::function<void(TextAnswer)>;

class ClientEvents {
 public:
  virtual ~ClientEvents() = default;
  // The handshake completed (again, after a restart or re-initialization).
  virtual void on_ready(const nlohmann::json& initialize_result) = 0;
  // A request from the backend (sampling, elicitation, roots/list, ping) with the backend's
  // id; answer through Client::respond(). `related` is the call whose response stream carried it.
  virtual void on_backend_request(mcp::Message request, std::optional<CallId> related) = 0;
  virtual void on_backend_notification(mcp::Message notification,
                                       std::optional<CallId> related) = 0;
  // The transport died or could not start; pending calls have already failed. A restart is
  // scheduled when options.restart is set.
  virtual void on_down(const std::string& reason) = 0;
};

class Client {
 public:
  virtual ~Client() = default;
  // Starts the transport and the handshake.
  virtual void start() = 0;
  // Sends a request. The id on the wire is the client's own; `done` gets the response with
  // `request.id` restored, exactly once (unless cancel() was called first, then never).
  // Calls made before the handshake completes wait for it (bounded by max_queued).
  virtual CallId call(mcp::Message request, std::function<void(mcp::Message)> done) = 0;
  // The same, with client headers to forward on this request (forward_headers). The real
  // Client overrides it; the default (test fakes) drops them.
  virtual CallId call_with_headers(mcp::Message request, std::function<void(mcp::Message)> done,
                                   const ForwardedHeaders& headers) {
    (void)headers;
    return call(std::move(request), std::move(done));
  }
  // call() for a request that is already JSON text, as replay re-sends recorded requests: it
  // goes out byte for byte except for its "id" value, which becomes the wire id, and is not
  // parsed into a tree on the way. `head` is mcp::read_request_text(text), which the caller
  // has read already to check the text; a head that does not fit the text fails the call like
  // call() of a non-request (-32603, through EventLoop::post). On transports that deliver text
  // (stdio) the answer comes back as text too (TextAnswer). The real Client overrides it; the
  // default (test fakes) decodes the text and calls call().
  virtual CallId call_text(std::string text, const mcp::RequestText& head, TextDone done);
  // Sends notifications/cancelled for the call (with the wire id) and forgets it: `done` is
  // not called. A late response from the backend is dropped.
  virtual void cancel(CallId call, const std::string& reason) = 0;
  // The wire id of a pending call, to translate notifications that name it.
  virtual std::optional<mcp::RequestId> wire_id(CallId call) const = 0;
  virtual void notify(mcp::Message notification) = 0;
  // Answers a backend request (id as the backend sent it).
  virtual void respond(mcp::Message response) = 0;
  virtual ClientState state() const = 0;
  // The backend's last InitializeResult (null before the first handshake).
  virtual const nlohmann::json& initialize_result() const = 0;
  // Fails pending calls, closes the transport; `done` runs when the transport is released.
  virtual void close(std::function<void()> done) = 0;
};

std::unique_ptr<Client> make_client(runtime::EventLoop& loop, TransportFactory& transports,
                                    ClientOptions options, ClientEvents& events);

}  // namespace mcpgw::upstream
