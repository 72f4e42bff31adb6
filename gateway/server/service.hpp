// What a front end (Streamable HTTP, legacy HTTP+SSE, stdio) needs from the MCP server behind
// it, and what that server gets back. The gateway's multiplexer implements Service; so does the
// fixture server (fixture/), which is why the fixture speaks exactly the same transports.
//
// Contract:
// - Everything runs on the one event-loop thread; no method may block.
// - The front end decodes each message once and hands it over parsed. It answers transport
//   errors itself (HTTP status codes, -32700/-32600) and never passes invalid messages on.
// - A session begins with an `initialize` request: the front end calls open_session(), then
//   handle_request() with that request. Which protocol version the session speaks is what the
//   initialize response says (the front end reads it from the response to validate
//   MCP-Protocol-Version afterwards).
// - The modern (2026-07-28, sessionless) era will open a short-lived session per request, with
//   the version taken from the message's _meta; nothing here assumes a long-lived session.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gateway/policy/policy.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::server {

// Where a session's messages go that belong to no client request: the standalone GET stream
// (Streamable HTTP), the SSE stream (legacy), stdout (stdio). Implemented by front ends.
class ClientChannel {
 public:
  virtual ~ClientChannel() = default;
  // A notification or a server-to-client request. Never blocks: the front end queues it
  // (bounded; what cannot be queued is dropped and counted) or, while no stream is open, keeps
  // it for the next one within the same bound.
  virtual void send(mcp::Message message) = 0;
};

// Where everything about one client request goes. Implemented by front ends.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // A notification or server-to-client request related to the request (progress, log
  // messages, sampling): on the request's own SSE stream when the transport has one, otherwise
  // where ClientChannel::send would put it.
  virtual void send(mcp::Message message) = 0;
  // The response (success or error, with the client's id). Ends the stream; call once.
  virtual void finish(mcp::Message response) = 0;
  // Ends the stream without a response: after the client cancelled the request, which
  // therefore must not be answered. Call instead of finish().
  virtual void abandon() = 0;
  // Closes the client's connection for this stream but keeps the stream resumable (SEP-1699
  // polling): later send()/finish() go to the stream's replay buffer, and a GET with
  // Last-Event-ID receives them. No-op where the transport has no resumable streams.
  virtual void disconnect() = 0;
  // finish() for a refusal the transport may also express in its own terms: HTTP answers with
  // `http_status` (429) and Retry-After when nothing has been streamed for the request yet and
  // it was not part of a batch. Transports without status codes just finish().
  struct Refusal {
    int http_status = 0;
    std::chrono::seconds retry_after{0};  // 0: no Retry-After
  };
  virtual void refuse(mcp::Message response, const Refusal& refusal) {
    (void)refusal;
    finish(std::move(response));
  }
};

// Facts about the request a session may use.
struct RequestContext {
  // Client request headers, lower-case names, in arrival order. Front ends fill in only
  // headers some backend is configured to forward (config: forward_headers).
  std::vector<std::pair<std::string, std::string>> headers;
  // Who sent it, as authenticated by the front end for this very request (claims may change
  // when a client refreshes its token). Null means anonymous: the stdio front end, and front
  // ends without an authenticator (the fixture). principal_key is auth::principal_key().
  std::shared_ptr<const policy::Principal> principal;
  std::string principal_key = "anonymous";
};

// One client session, implemented by the server. The front end calls these in arrival order.
class Session {
 public:
  virtual ~Session() = default;
  virtual void handle_request(mcp::Message request, std::shared_ptr<ResponseStream> stream,
                              const RequestContext& context) = 0;
  virtual void handle_notification(mcp::Message notification, const RequestContext& context) = 0;
  // The client's answer to a server-to-client request, with the id the server gave it.
  virtual void handle_response(mcp::Message response) = 0;
  // The session is over (DELETE, expiry, stdin closed, shutdown). Pending requests are
  // abandoned; no other method is called afterwards. Idempotent.
  virtual void close() = 0;
};

struct SessionOpening {
  std::string transport;   // "streamable_http", "sse" or "stdio"
  std::string session_id;  // the front end's id, for logs ("" for stdio)
  std::string remote;      // peer address for logs ("" for stdio)
  // The session's owner (auth::principal_key of the initialize request). The front end
  // answers a request carrying this session's id from any other principal with 404.
  std::string principal_key = "anonymous";
};

class Service {
 public:
  virtual ~Service() = default;
  // A new client session; `channel` lives as long as the session does.
  virtual std::shared_ptr<Session> open_session(std::shared_ptr<ClientChannel> channel,
                                                const SessionOpening& opening) = 0;
};

}  // namespace mcpgw::server
