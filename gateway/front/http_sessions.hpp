// The transport state of the HTTP front ends, without sockets: client sessions (ids, expiry,
// limits), the exchange behind each POST (JSON or SSE answer, chosen lazily), the SSE streams
// and their resumption, and the server::ClientChannel / server::ResponseStream objects handed
// to the Service. http_front.cpp parses HTTP and writes what this layer decides; the layer
// itself never blocks and never touches a socket. Private to gateway/front/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gateway/front/http_front.hpp"
#include "gateway/front/http_stream.hpp"
#include "gateway/runtime/event_loop.hpp"
#include "gateway/server/service.hpp"
#include "mcp/catalogue.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::front::http {

// JSON-RPC error codes of transport errors (implementation-defined range).
inline constexpr std::int64_t kServerLimitError = -32000;  // 429/503 and ended sessions
inline constexpr std::int64_t kSessionNotFound = -32001;   // 404, as the reference SDKs do
// Authentication refusals (the HTTP status says the same; WWW-Authenticate says why).
inline constexpr std::int64_t kUnauthorizedError = -32010;  // 401
inline constexpr std::int64_t kForbiddenError = -32011;     // 403 (insufficient_scope)

// A complete HTTP answer the connection writes as it is.
struct HttpAnswer {
  unsigned status = 200;
  std::string content_type;  // empty: no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};
// `status` with a JSON-RPC error response (id null) as the body.
HttpAnswer error_answer(unsigned status, std::int64_t code, std::string message,
                        std::optional<nlohmann::json> data = std::nullopt);

class SessionTable;
class HttpSession;
class ResponseStreamImpl;

// Where a ResponseStream's calls go: the POST's exchange, or the legacy session stream.
class ResponseTarget {
 public:
  virtual ~ResponseTarget() = default;
  virtual void on_send(const mcp::Message& message) = 0;
  virtual void on_finish(mcp::Message response) = 0;
  virtual void on_abandon() = 0;
  virtual void on_disconnect() = 0;
  // ResponseStream::refuse: the target may answer with the refusal's HTTP status.
  virtual void on_refuse(mcp::Message response, const server::ResponseStream::Refusal& refusal) {
    (void)refusal;
    on_finish(std::move(response));
  }
};

// The answer to one Streamable HTTP POST that carried requests. It stays undecided while no
// request has sent anything: if every request finishes first the answer is JSON (one object,
// or an array for a batch); the first send() or disconnect() turns it into an SSE stream that
// starts with a priming event, carries the responses finished so far and everything after,
// and ends with the last response.
class Exchange final : public ResponseTarget, public std::enable_shared_from_this<Exchange> {
 public:
  enum class State { waiting, json, accepted, sse };

  Exchange(std::shared_ptr<HttpSession> session, bool batch, bool initialize,
           std::shared_ptr<StreamSink> sink);

  State state() const { return state_; }
  // The JSON body (State::json).
  std::string json_body() const;
  // The stream the connection writes (State::sse); the connection's sink is attached to it.
  const std::shared_ptr<SseStream>& stream() const { return stream_; }
  // The Mcp-Session-Id header to send with the answer ("" for none).
  std::string session_header() const;
  // The connection stops waiting (answered, or gone).
  void release_sink() { sink_.reset(); }
  std::shared_ptr<HttpSession> session() const { return session_.lock(); }
  // A refusal (ResponseStream::refuse) of a single request answered as JSON: its HTTP status
  // and Retry-After replace 200. Empty otherwise.
  const std::optional<server::ResponseStream::Refusal>& refusal() const { return refusal_; }

  // Used while dispatching a POST.
  void add_request() { ++outstanding_; }
  void add_response(mcp::Message response);  // answered at once (invalid batch items)
  void dispatch_done();

  void on_send(const mcp::Message& message) override;
  void on_finish(mcp::Message response) override;
  void on_abandon() override;
  void on_disconnect() override;
  void on_refuse(mcp::Message response, const server::ResponseStream::Refusal& refusal) override;

 private:
  void start_stream();
  void request_done();
  void wake();

  std::weak_ptr<HttpSession> session_;
  std::string session_id_;
  bool batch_;
  bool initialize_;
  bool initialize_succeeded_ = false;
  std::weak_ptr<StreamSink> sink_;
  std::size_t outstanding_ = 1;  // 1 while dispatching, so synchronous answers cannot complete it
  std::vector<mcp::Message> responses_;
  std::shared_ptr<SseStream> stream_;
  State state_ = State::waiting;
  std::optional<server::ResponseStream::Refusal> refusal_;
};

// One client session of either transport.
class HttpSession final : public std::enable_shared_from_this<HttpSession> {
 public:
  enum class Kind { streamable_http, sse };
  enum class State { opening, established, closed };

  // `principal_key`: the owner (auth::principal_key of the request that opened it); requests
  // from any other principal find no such session. `bounded`: counted against
  // max_sessions_per_principal.
  HttpSession(SessionTable& table, std::string id, Kind kind, std::string remote,
              std::string principal_key, bool bounded);
  ~HttpSession();

  const std::string& id() const { return id_; }
  Kind kind() const { return kind_; }
  State state() const { return state_; }
  mcp::ProtocolVersion version() const { return version_; }
  const std::string& remote() const { return remote_; }
  const std::string& principal_key() const { return principal_key_; }
  std::uint32_t requests_in_flight() const { return static_cast<std::uint32_t>(pending_.size()); }

  // ClientChannel::send: the standalone GET stream (Streamable HTTP) or the session stream.
  void send_to_client(const mcp::Message& message);
  // A new POST stream (Streamable HTTP); nullptr once the session is closed.
  std::shared_ptr<SseStream> new_stream();
  // Legacy: the session's one stream.
  const std::shared_ptr<SseStream>& legacy_stream() const { return legacy_stream_; }

 private:
  friend class SessionTable;
  friend class ResponseStreamImpl;
  friend class Exchange;

  std::shared_ptr<SseStream> standalone_stream();
  bool busy() const;
  void touch();
  void arm_idle_timer(std::chrono::milliseconds delay);
  void bound_streams();

  SessionTable& table_;
  std::string id_;
  Kind kind_;
  std::string remote_;
  std::string principal_key_;
  bool bounded_ = false;
  State state_ = State::opening;
  mcp::ProtocolVersion version_ = mcp::ProtocolVersion::v2025_03_26;
  std::shared_ptr<server::Session> logic_;
  std::map<std::uint64_t, std::shared_ptr<SseStream>> streams_;  // 0: the standalone stream
  std::uint64_t next_stream_ = 1;
  std::shared_ptr<SseStream> legacy_stream_;
  std::unordered_set<ResponseStreamImpl*> pending_;
  runtime::Clock::time_point last_activity_;
  runtime::TimerHandle idle_timer_;
};

// What a handler of the table returns to the connection.
struct PostOutcome {
  std::optional<HttpAnswer> answer;    // an immediate answer (errors, 202)
  std::shared_ptr<Exchange> exchange;  // otherwise: wait for it
};

struct StreamOutcome {
  std::optional<HttpAnswer> answer;  // errors, 204
  std::shared_ptr<HttpSession> session;
  std::shared_ptr<SseStream> stream;  // attached to the request's sink
};

// What the connection knows of a request for capture records (serve --capture).
struct RequestCapture {
  std::vector<mcp::traffic::Header> headers;  // those the recorder wants
  std::uint64_t connection = 0;
};

struct IncomingRequest {
  std::optional<std::string> session_id;        // Mcp-Session-Id
  std::optional<std::string> protocol_version;  // MCP-Protocol-Version
  std::optional<std::string> last_event_id;     // Last-Event-ID
  std::string body;
  server::RequestContext context;  // with the authenticated principal
  std::string remote;
  std::shared_ptr<StreamSink> sink;  // the connection, for SSE answers
  RequestCapture capture;            // filled only when a recorder is set
};

class SessionTable {
 public:
  SessionTable(runtime::EventLoop& loop, server::Service& service, const HttpFrontOptions& options);
  ~SessionTable();
  SessionTable(const SessionTable&) = delete;
  SessionTable& operator=(const SessionTable&) = delete;

  // Streamable HTTP. The transport checks (Host, Origin, Accept, Content-Type, size) are done.
  PostOutcome post(IncomingRequest request);
  // A GET without Last-Event-ID opens the standalone stream (409 while another connection has
  // it). With Last-Event-ID "<stream>-<seq>": that stream is taken over by this connection and
  // replays what followed <seq>, oldest first as far as the replay buffer still reaches (a
  // too-old id gets what is left, which is logged), then continues live. A stream that
  // ended and has nothing after <seq>, or one already delivered completely and forgotten, gets
  // 204 (an EventSource stops reconnecting on 204). A malformed id, or one this session never
  // issued, gets 400.
  StreamOutcome get(IncomingRequest request);
  HttpAnswer remove(const IncomingRequest& request);

  // Legacy HTTP+SSE: the GET that opens a session, and the POSTs to message_path. The
  // context's principal owns the session; a POST from another principal gets 404.
  StreamOutcome open_legacy(const std::string& remote, const server::RequestContext& context,
                            std::shared_ptr<StreamSink> sink);
  HttpAnswer legacy_post(const std::string& session_id, std::string_view body,
                         server::RequestContext context, const RequestCapture& capture = {});

  // The connection writing `stream` is done with it (stream ended, client gone, detached).
  void stream_released(const std::shared_ptr<HttpSession>& session,
                       const std::shared_ptr<SseStream>& stream, const StreamSink* sink);

  // Closes every session (Session::close()); their streams end.
  void close_all();
  void close(HttpSession& session, std::string_view reason);

  std::size_t requests_in_flight() const { return requests_in_flight_; }
  std::size_t size() const { return sessions_.size(); }
  std::uint64_t sessions_expired() const { return sessions_expired_; }
  std::uint64_t events_dropped() const { return *events_dropped_; }
  const HttpFrontOptions& options() const { return options_; }
  StreamOptions stream_options(bool resumable) const;

 private:
  friend class HttpSession;
  friend class Exchange;
  friend class ResponseStreamImpl;

  struct Created {
    std::shared_ptr<HttpSession> session;
    std::optional<HttpAnswer> error;
  };
  Created create(HttpSession::Kind kind, const std::string& remote,
                 const server::RequestContext& context);
  // The established session with this id, kind and owner; null otherwise (the caller answers
  // 404 alike for an unknown id and for another principal's session).
  std::shared_ptr<HttpSession> find(const std::optional<std::string>& id, HttpSession::Kind kind,
                                    const std::string& principal_key);
  std::optional<HttpAnswer> check_version(const HttpSession& session,
                                          const std::optional<std::string>& header) const;
  PostOutcome dispatch(const std::shared_ptr<HttpSession>& session, mcp::DecodedBody body,
                       IncomingRequest& request, bool initialize);
  void initialize_finished(HttpSession& session, const mcp::Message& response);
  void expire(HttpSession& session);
  // Records the messages of a request body that decoded (serve --capture).
  void capture_body(std::string_view body, const RequestCapture& capture,
                    mcp::traffic::Transport transport, const std::string& session) const;
  std::shared_ptr<const StreamCapture> stream_capture(const HttpSession& session,
                                                      std::string_view http_method) const;

  runtime::EventLoop& loop_;
  server::Service& service_;
  HttpFrontOptions options_;
  std::map<std::string, std::shared_ptr<HttpSession>> sessions_;
  // Open sessions per bounded principal key (entries only while the count is positive, so at
  // most max_sessions entries).
  std::map<std::string, std::uint32_t> sessions_per_principal_;
  std::size_t requests_in_flight_ = 0;
  std::uint64_t sessions_expired_ = 0;
  // Shared with streams, which may outlive the table inside objects the Service still holds.
  std::shared_ptr<std::uint64_t> events_dropped_ = std::make_shared<std::uint64_t>(0);
};

}  // namespace mcpgw::front::http
