// The Streamable HTTP upstream transport (MCP 2025-03-26 .. 2025-11-25), client side: one POST
// per message, JSON or SSE answers relayed event by event, the backend session
// (Mcp-Session-Id, MCP-Protocol-Version), SSE resumption with Last-Event-ID (SEP-1699 polling),
// the standalone GET stream, and DELETE on close. Forwarded client headers go on the POST that
// carries their message (and on GETs resuming its stream); those of the initialize request also
// go on the session's standalone GET stream and its DELETE.
#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "gateway/capture/hooks.hpp"
#include "gateway/upstream/forwarded_headers.hpp"
#include "gateway/upstream/http_client.hpp"
#include "gateway/upstream/transport.hpp"

namespace mcpgw::upstream {

namespace {

using http::CancelGroup;
using http::Exchange;
using http::HttpBackend;
using http::HttpError;
namespace net = http::net;
namespace bhttp = http::bhttp;

constexpr std::size_t kMaxErrorBody = 64 * 1024;
constexpr std::size_t kMaxSessionIdBytes = 1024;
constexpr std::size_t kMaxWaiting = 4096;  // messages waiting to be sent, in order
// How long a notification or response may hold back later messages until the backend took it.
constexpr std::chrono::milliseconds kOrderingWait{2000};
// Resuming a request's stream: resumptions in a row that bring no new event, and in all.
constexpr std::uint32_t kMaxResumeFailures = 5;
constexpr std::uint32_t kMaxResumes = 1000;
constexpr std::chrono::milliseconds kDefaultRetry{1000};  // when the backend sent no retry:
// A retry: below the floor would let a backend that closes at once keep us reconnecting in a
// tight loop; above the ceiling it would park a request for longer than any timeout.
constexpr std::uint64_t kMinRetryMs = 50;
constexpr std::uint64_t kMaxRetryMs = 5 * 60 * 1000;

// Visible ASCII only, as the spec requires; anything else is not sent back.
bool valid_session_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxSessionIdBytes &&
         std::all_of(id.begin(), id.end(), [](char c) {
           const auto byte = static_cast<unsigned char>(c);
           return byte >= 0x21 && byte <= 0x7e;
         });
}

std::chrono::milliseconds retry_delay(const mcp::SseParser& parser, std::uint32_t failures) {
  const auto retry = parser.retry_milliseconds();
  const std::chrono::milliseconds base =
      retry ? std::chrono::milliseconds(std::clamp(*retry, kMinRetryMs, kMaxRetryMs))
            : kDefaultRetry;
  return failures == 0 ? base : std::max(base, http::reconnect_backoff(failures - 1));
}

TransportError make_error(TransportError::Kind kind, std::string message, int status = 0) {
  TransportError error;
  error.kind = kind;
  error.message = std::move(message);
  error.http_status = status;
  return error;
}

class StreamableState : public std::enable_shared_from_this<StreamableState> {
 public:
  explicit StreamableState(std::shared_ptr<HttpBackend> backend_in)
      : backend(std::move(backend_in)),
        outbox(backend->context, kMaxWaiting, kOrderingWait,
               [this](mcp::Message message, std::uint64_t token) {
                 net::co_spawn(
                     backend->context,
                     post(shared_from_this(), std::move(message), outbox_headers.take(), token),
                     net::detached);
               }) {}

  std::shared_ptr<HttpBackend> backend;
  TransportHandler* handler = nullptr;
  bool closed = false;
  http::OrderedOutbox outbox;          // opened by start()
  http::OutboxHeaders outbox_headers;  // forwarded headers of what waits in the outbox
  ForwardedHeaders session_headers;    // those of initialize: the GET stream and DELETE
  std::string session_id;
  std::string protocol_version;
  std::uint64_t session_epoch = 0;          // reset_session() ends what belonged to the old session
  CancelGroup cancel;                       // every request and resumption
  std::shared_ptr<CancelGroup> get_stream;  // the standalone GET stream, while it runs

  std::uint64_t capture_connection = 0;  // drawn on the first captured message
  std::string capture_session;           // the client session served, "" when shared

  bool live() const { return !closed && handler != nullptr; }

  // Where messages of this transport are recorded (no recorder: nothing is).
  http::CaptureSite capture_site(mcp::traffic::Direction direction, std::string_view method) {
    http::CaptureSite site;
    site.recorder = backend->limits.recorder;
    if (site.recorder == nullptr)
      return site;
    if (capture_connection == 0)
      capture_connection = capture::next_connection_number();
    auto& context = site.context;
    context.leg = mcp::traffic::Leg::backend;
    context.direction = direction;
    context.transport = mcp::traffic::Transport::streamable_http;
    context.session = capture_session;
    context.backend = name();
    context.backend_session = session_id;
    context.connection = capture_connection;
    context.http_method = std::string(method);
    return site;
  }
  http::CaptureSite response_capture(std::string_view method, const Exchange& exchange) {
    auto site = capture_site(mcp::traffic::Direction::server_to_client, method);
    http::add_response_capture(site, exchange);
    return site;
  }
  const std::string& name() const { return backend->name; }

  void deliver(mcp::Message message, const std::optional<mcp::RequestId>& stream) {
    if (live())
      handler->on_message(std::move(message), stream);
  }
  void fail(const mcp::RequestId& id, const TransportError& error) {
    if (!live())
      return;
    spdlog::debug("backend '{}': request {} failed: {}", name(), id.to_string(), error.message);
    handler->on_send_failed(id, error);
  }

  Exchange::Request make_request(bhttp::verb method, std::string_view accept) const {
    auto request = backend->make_request(method, *backend->url);
    request.set(bhttp::field::accept, accept);
    if (!session_id.empty())
      request.set("Mcp-Session-Id", session_id);
    if (!protocol_version.empty())
      request.set("MCP-Protocol-Version", protocol_version);
    return request;
  }

  void send(mcp::Message message, const ForwardedHeaders& headers) {
    if (closed)
      return;
    const bool is_request = message.is_request() && message.id;
    std::optional<mcp::RequestId> id = is_request ? message.id : std::nullopt;
    const std::string method = message.method;
    if (is_request && method == "initialize")
      session_headers = headers;
    outbox_headers.push(headers);
    if (outbox.push(std::move(message)))
      return;
    outbox_headers.drop_last();
    spdlog::warn("backend '{}': {} dropped: {} messages are waiting to be sent", name(), method,
                 kMaxWaiting);
    if (id) {
      // Reported after send() returns, never from inside it.
      net::post(backend->context, [self = shared_from_this(), failed = *id] {
        self->fail(failed, make_error(TransportError::Kind::disconnected,
                                      "too many messages waiting to be sent"));
      });
    }
  }

  void start_get_stream() {
    if (!live() || get_stream || !backend->pool)
      return;
    get_stream = std::make_shared<CancelGroup>();
    net::co_spawn(backend->context, run_get_stream(shared_from_this(), get_stream, session_epoch),
                  net::detached);
  }

  void stop_get_stream() {
    if (get_stream) {
      get_stream->cancel_all();
      get_stream.reset();
    }
  }

  static net::awaitable<void> post(std::shared_ptr<StreamableState> self, mcp::Message message,
                                   ForwardedHeaders headers, std::uint64_t ordering_token);
  static net::awaitable<void> relay_response_stream(std::shared_ptr<StreamableState> self,
                                                    std::unique_ptr<Exchange> exchange,
                                                    mcp::RequestId id, std::uint64_t epoch,
                                                    ForwardedHeaders headers);
  static net::awaitable<void> handle_error_status(std::shared_ptr<StreamableState> self,
                                                  Exchange& exchange,
                                                  const std::optional<mcp::RequestId>& id,
                                                  const mcp::Message& message);
  static net::awaitable<void> run_get_stream(std::shared_ptr<StreamableState> self,
                                             std::shared_ptr<CancelGroup> group,
                                             std::uint64_t epoch);
  static net::awaitable<void> delete_session(std::shared_ptr<StreamableState> self,
                                             std::string session, std::function<void()> done);
};

// Reads and drops a body we do not need, so the connection can be reused.
net::awaitable<void> drain(Exchange& exchange) {
  auto ignored = co_await exchange.read_all(kMaxErrorBody);
  static_cast<void>(ignored);
}

net::awaitable<void> StreamableState::post(std::shared_ptr<StreamableState> self,
                                           mcp::Message message, ForwardedHeaders headers,
                                           std::uint64_t ordering_token) {
  // Later messages may go once the backend took this one (or it failed).
  struct Release {
    StreamableState* state;
    std::uint64_t token;
    void operator()() {
      if (token != 0 && state->live())
        state->outbox.release(std::exchange(token, 0));
    }
    ~Release() { (*this)(); }
  } release{self.get(), ordering_token};
  if (!self->live())
    co_return;
  std::optional<mcp::RequestId> id;
  if (message.is_request())
    id = message.id;
  const bool is_initialize = message.is_request() && message.method == "initialize";
  if (!self->backend->pool) {
    if (id)
      self->fail(*id, make_error(TransportError::Kind::connect_failed, self->backend->url_error));
    co_return;
  }
  const std::uint64_t epoch = self->session_epoch;
  const bool carried_session = !self->session_id.empty();
  auto request = self->make_request(bhttp::verb::post, "application/json, text/event-stream");
  request.set(bhttp::field::content_type, "application/json");
  http::add_forwarded_headers(request, headers);
  request.body() = mcp::encode(message);
  request.prepare_payload();
  if (auto site = self->capture_site(mcp::traffic::Direction::client_to_server, "POST");
      site.recorder != nullptr) {
    http::add_request_capture(site, request);
    capture::record_text(*site.recorder, site.context, request.body());
  }

  auto started = co_await Exchange::start(self->backend->pool, self->cancel, request,
                                          self->backend->exchange_options());
  release();
  if (!self->live())
    co_return;
  if (!started) {
    if (id)
      self->fail(*id, http::to_transport_error(started.error()));
    else
      spdlog::warn("backend '{}': could not send {}: {}", self->name(), message.method,
                   started.error().message);
    co_return;
  }
  auto exchange = std::move(*started);
  const unsigned status = exchange->status();

  if (is_initialize && epoch == self->session_epoch && status / 100 == 2) {
    const std::string_view session = exchange->header("Mcp-Session-Id");
    if (valid_session_id(session)) {
      self->session_id = std::string(session);
    } else if (!session.empty()) {
      spdlog::warn("backend '{}': ignored an Mcp-Session-Id that is not visible ASCII",
                   self->name());
    }
  }

  if (status == 404 && carried_session) {
    co_await drain(*exchange);
    if (id) {
      self->fail(*id, make_error(TransportError::Kind::session_expired,
                                 "the backend session expired (404)", 404));
    } else {
      spdlog::info("backend '{}': session expired (404 for {})", self->name(), message.method);
    }
    co_return;
  }
  if (status / 100 != 2) {
    co_await handle_error_status(self, *exchange, id, message);
    co_return;
  }
  if (!id || status == 202 || status == 204) {
    // Notifications and responses get 202; a request answered with 202 gets its response on
    // the GET stream, if ever (the Client's timeout covers it).
    if (id)
      spdlog::debug("backend '{}': request {} accepted without a response ({})", self->name(),
                    id->to_string(), status);
    co_await drain(*exchange);
    co_return;
  }

  const std::string media = exchange->media_type();
  if (media == "text/event-stream") {
    co_await relay_response_stream(self, std::move(exchange), *id, epoch, std::move(headers));
    co_return;
  }
  if (media != "application/json") {
    co_await drain(*exchange);
    self->fail(*id, make_error(TransportError::Kind::bad_message,
                               "unexpected response Content-Type '" + media + "'", 0));
    co_return;
  }
  auto body = co_await exchange->read_all(self->backend->limits.max_body_bytes);
  const auto site = self->response_capture("POST", *exchange);
  exchange.reset();  // back to the pool before the handler runs
  if (!self->live())
    co_return;
  if (!body) {
    self->fail(*id, http::to_transport_error(body.error()));
    co_return;
  }
  bool answered = false;
  for (auto& reply : http::decode_messages(*body, self->name(), site)) {
    if (reply.is_response() && reply.id == id)
      answered = true;
    self->deliver(std::move(reply), id);
  }
  if (!answered)
    self->fail(*id, make_error(TransportError::Kind::bad_message,
                               "the JSON response did not answer the request"));
}

net::awaitable<void> StreamableState::handle_error_status(std::shared_ptr<StreamableState> self,
                                                          Exchange& exchange,
                                                          const std::optional<mcp::RequestId>& id,
                                                          const mcp::Message& message) {
  const unsigned status = exchange.status();
  auto body = co_await exchange.read_all(kMaxErrorBody);
  if (!self->live())
    co_return;
  if (!id) {
    spdlog::warn("backend '{}': {} refused with HTTP {}", self->name(), message.method, status);
    co_return;
  }
  // A JSON-RPC error for this request in the body is the backend's answer.
  if (body && http::media_type(exchange.header("Content-Type")) == "application/json") {
    for (auto& reply :
         http::decode_messages(*body, self->name(), self->response_capture("POST", exchange))) {
      if (reply.kind == mcp::MessageKind::error_response && reply.id == id) {
        self->deliver(std::move(reply), id);
        co_return;
      }
    }
  }
  self->fail(*id, make_error(TransportError::Kind::http_status,
                             "the backend answered HTTP " + std::to_string(status),
                             static_cast<int>(status)));
}

net::awaitable<void> StreamableState::relay_response_stream(std::shared_ptr<StreamableState> self,
                                                            std::unique_ptr<Exchange> exchange,
                                                            mcp::RequestId id, std::uint64_t epoch,
                                                            ForwardedHeaders headers) {
  mcp::SseParser parser(
      mcp::SseParserOptions{static_cast<std::size_t>(self->backend->limits.max_sse_event_bytes)});
  bool answered = false;
  bool failed = false;
  auto site = self->response_capture("POST", *exchange);
  const auto on_event = [&](mcp::SseEvent&& event) {
    if (event.type != "message" || event.data.empty())
      return true;  // priming events, other event types
    site.context.sse_event_id = event.last_event_id;
    for (auto& message : http::decode_messages(event.data, self->name(), site)) {
      if (message.is_response() && message.id == id)
        answered = true;
      self->deliver(std::move(message), id);
    }
    return self->live();
  };
  const auto on_oversize = [&](const mcp::SseError& error) {
    self->fail(id, make_error(TransportError::Kind::too_large, error.message));
    failed = true;
    return false;
  };

  auto result = co_await http::read_sse(*exchange, parser, on_event, on_oversize);
  exchange.reset();
  // After the response the stream has nothing more to give; without it, resume if we can.
  std::uint32_t failures = 0;
  for (std::uint32_t round = 0; self->live() && !failed && !answered; ++round) {
    if (parser.last_event_id().empty()) {
      // Without an event id the stream cannot be resumed.
      auto error = result.error ? http::to_transport_error(*result.error)
                                : make_error(TransportError::Kind::disconnected,
                                             "the response stream ended without a response");
      if (result.error)
        error.message = "the response stream broke: " + error.message;
      self->fail(id, error);
      co_return;
    }
    if (round >= kMaxResumes || failures >= kMaxResumeFailures) {
      self->fail(id, make_error(TransportError::Kind::disconnected,
                                "the response stream could not be resumed"));
      co_return;
    }
    parser.finish();
    if (!co_await http::sleep_for(self->cancel, retry_delay(parser, failures)) || !self->live())
      co_return;
    if (epoch != self->session_epoch) {
      self->fail(id, make_error(TransportError::Kind::disconnected,
                                "the backend session was reset while resuming"));
      co_return;
    }
    const bool carried_session = !self->session_id.empty();
    auto request = self->make_request(bhttp::verb::get, "text/event-stream");
    request.set("Last-Event-ID", parser.last_event_id());
    http::add_forwarded_headers(request, headers);
    spdlog::debug("backend '{}': resuming the stream of request {} after event '{}'", self->name(),
                  id.to_string(), parser.last_event_id());
    auto started = co_await Exchange::start(self->backend->pool, self->cancel, request,
                                            self->backend->exchange_options());
    if (!self->live())
      co_return;
    if (!started) {
      ++failures;
      result.error = started.error();
      continue;
    }
    auto& resumed = **started;
    const unsigned status = resumed.status();
    if (status == 404 && carried_session) {
      co_await drain(resumed);
      self->fail(id, make_error(TransportError::Kind::session_expired,
                                "the backend session expired (404)", 404));
      co_return;
    }
    if (status == 405) {
      co_await drain(resumed);
      self->fail(id, make_error(TransportError::Kind::disconnected,
                                "the backend does not resume streams (405)"));
      co_return;
    }
    if (status != 200 || resumed.media_type() != "text/event-stream") {
      co_await drain(resumed);
      ++failures;
      result.error =
          HttpError{HttpError::Kind::disconnected, "resuming got HTTP " + std::to_string(status)};
      continue;
    }
    const std::string before = parser.last_event_id();
    site = self->response_capture("GET", resumed);
    result = co_await http::read_sse(resumed, parser, on_event, on_oversize);
    started->reset();
    failures = parser.last_event_id() != before ? 0 : failures + 1;
  }
}

net::awaitable<void> StreamableState::run_get_stream(std::shared_ptr<StreamableState> self,
                                                     std::shared_ptr<CancelGroup> group,
                                                     std::uint64_t epoch) {
  mcp::SseParser parser(
      mcp::SseParserOptions{static_cast<std::size_t>(self->backend->limits.max_sse_event_bytes)});
  http::CaptureSite site;
  const auto on_event = [&](mcp::SseEvent&& event) {
    if (event.type != "message" || event.data.empty())
      return true;
    site.context.sse_event_id = event.last_event_id;
    for (auto& message : http::decode_messages(event.data, self->name(), site))
      self->deliver(std::move(message), std::nullopt);
    return self->live();
  };
  const auto on_oversize = [&](const mcp::SseError& error) {
    spdlog::warn("backend '{}': dropped an event of the GET stream: {}", self->name(),
                 error.message);
    return true;
  };
  std::uint32_t failures = 0;
  bool first = true;
  while (self->live() && !group->cancelled() && epoch == self->session_epoch) {
    if (!first) {
      if (!co_await http::sleep_for(*group, retry_delay(parser, failures)))
        break;
      if (!self->live() || epoch != self->session_epoch)
        break;
    }
    first = false;
    auto request = self->make_request(bhttp::verb::get, "text/event-stream");
    if (!parser.last_event_id().empty())
      request.set("Last-Event-ID", parser.last_event_id());
    http::add_forwarded_headers(request, self->session_headers);
    auto started = co_await Exchange::start(self->backend->pool, *group, request,
                                            self->backend->exchange_options());
    if (!self->live() || group->cancelled())
      break;
    if (!started) {
      ++failures;
      spdlog::debug("backend '{}': GET stream: {}", self->name(), started.error().message);
      continue;
    }
    auto& exchange = **started;
    const unsigned status = exchange.status();
    if (status == 405) {
      spdlog::debug("backend '{}': no standalone GET stream (405)", self->name());
      co_await drain(exchange);
      break;
    }
    if (status == 404) {
      // An expired session: the next request discovers it and the Client re-initializes.
      spdlog::info("backend '{}': GET stream refused with 404; stopped", self->name());
      co_await drain(exchange);
      break;
    }
    if (status != 200 || exchange.media_type() != "text/event-stream") {
      spdlog::warn("backend '{}': GET stream refused with HTTP {}", self->name(), status);
      co_await drain(exchange);
      ++failures;
      continue;
    }
    const std::string before = parser.last_event_id();
    const auto dispatched = parser.events_dispatched();
    site = self->response_capture("GET", exchange);
    auto result = co_await http::read_sse(exchange, parser, on_event, on_oversize);
    started->reset();
    parser.finish();
    const bool progressed =
        parser.last_event_id() != before || parser.events_dispatched() != dispatched;
    failures = progressed ? 0 : failures + 1;
    if (result.error && result.error->kind != HttpError::Kind::cancelled)
      spdlog::debug("backend '{}': GET stream ended: {}", self->name(), result.error->message);
  }
  if (self->get_stream == group)
    self->get_stream.reset();
}

net::awaitable<void> StreamableState::delete_session(std::shared_ptr<StreamableState> self,
                                                     std::string session,
                                                     std::function<void()> done) {
  CancelGroup group;
  auto request = self->backend->make_request(bhttp::verb::delete_, *self->backend->url);
  request.set("Mcp-Session-Id", session);
  if (!self->protocol_version.empty())
    request.set("MCP-Protocol-Version", self->protocol_version);
  http::add_forwarded_headers(request, self->session_headers);
  auto options = self->backend->exchange_options();
  options.idle_timeout = self->backend->limits.connect_timeout;
  auto started = co_await Exchange::start(self->backend->pool, group, request, options);
  if (started) {
    const unsigned status = (*started)->status();
    co_await drain(**started);
    started->reset();
    if (status / 100 != 2 && status != 405 && status != 404)
      spdlog::debug("backend '{}': DELETE of the session answered HTTP {}", self->name(), status);
  } else {
    spdlog::debug("backend '{}': DELETE of the session failed: {}", self->name(),
                  started.error().message);
  }
  if (done)
    done();
}

class StreamableHttpTransport final : public Transport {
 public:
  explicit StreamableHttpTransport(std::shared_ptr<HttpBackend> backend)
      : state_(std::make_shared<StreamableState>(std::move(backend))) {}

  ~StreamableHttpTransport() override { shut(); }

  void start(TransportHandler& handler) override {
    if (state_->closed || state_->handler != nullptr)
      return;
    state_->handler = &handler;
    state_->outbox.open();
  }

  void send(mcp::Message message) override { state_->send(std::move(message), {}); }
  void send_with_headers(mcp::Message message, const ForwardedHeaders& headers) override {
    state_->send(std::move(message), headers);
  }

  void on_initialized(const std::string& protocol_version) override {
    if (state_->closed)
      return;
    state_->protocol_version = protocol_version;
    state_->start_get_stream();
  }

  void reset_session() override {
    state_->session_id.clear();
    state_->protocol_version.clear();
    state_->session_headers.clear();
    ++state_->session_epoch;
    state_->stop_get_stream();
  }

  std::string session_id() const override { return state_->session_id; }
  void set_capture_session(std::string client_session) override {
    state_->capture_session = std::move(client_session);
  }

  void close(std::function<void()> done) override {
    auto& context = state_->backend->context;
    if (state_->closed) {
      if (done)
        net::post(context, std::move(done));
      return;
    }
    const std::string session = state_->session_id;
    shut();
    if (!session.empty() && state_->backend->pool) {
      net::co_spawn(context, StreamableState::delete_session(state_, session, std::move(done)),
                    net::detached);
    } else if (done) {
      net::post(context, std::move(done));
    }
  }

 private:
  void shut() {
    if (state_->closed)
      return;
    state_->closed = true;
    state_->handler = nullptr;
    state_->outbox.clear();
    state_->outbox_headers.clear();
    state_->cancel.cancel_all();
    state_->stop_get_stream();
  }

  std::shared_ptr<StreamableState> state_;
};

class StreamableHttpFactory final : public TransportFactory {
 public:
  StreamableHttpFactory(net::io_context& context, const config::BackendConfig& backend,
                        const TransportLimits& limits)
      : backend_(std::make_shared<HttpBackend>(context, backend, limits)) {}

  std::unique_ptr<Transport> create() override {
    return std::make_unique<StreamableHttpTransport>(backend_);
  }
  void shutdown() override {
    if (backend_->pool)
      backend_->pool->shutdown();
  }

 private:
  std::shared_ptr<HttpBackend> backend_;
};

}  // namespace

std::unique_ptr<TransportFactory> make_streamable_http_transport_factory(
    boost::asio::io_context& context, const config::BackendConfig& backend,
    const TransportLimits& limits) {
  return std::make_unique<StreamableHttpFactory>(context, backend, limits);
}

}  // namespace mcpgw::upstream
