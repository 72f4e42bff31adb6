// The legacy HTTP+SSE upstream transport (MCP 2024-11-05), client side: a GET stream whose
// first `endpoint` event names the URI to POST messages to; every backend message arrives as an
// `event: message` on that stream. The stream ending ends the transport (the Client restarts it).
// Forwarded client headers go on the POST that carries their message; the GET stream opens
// before any message exists, so it carries none.
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
constexpr std::size_t kMaxWaiting = 4096;  // messages waiting to be sent (or for the endpoint)
// How long a notification or response may hold back later messages until the backend took it.
constexpr std::chrono::milliseconds kOrderingWait{2000};

TransportError make_error(TransportError::Kind kind, std::string message, int status = 0) {
  TransportError error;
  error.kind = kind;
  error.message = std::move(message);
  error.http_status = status;
  return error;
}

class SseState : public std::enable_shared_from_this<SseState> {
 public:
  explicit SseState(std::shared_ptr<HttpBackend> backend_in)
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
  bool closed = false;  // close() called or the transport destroyed
  bool gone = false;    // on_closed() delivered: nothing else reaches the handler
  std::optional<http::Url> post_url;
  http::OrderedOutbox outbox;          // opened by the endpoint event
  http::OutboxHeaders outbox_headers;  // forwarded headers of what waits in the outbox
  CancelGroup cancel;

  std::uint64_t capture_connection = 0;  // drawn on the first captured message
  std::string capture_session;           // the client session served, "" when shared

  bool live() const { return !closed && !gone && handler != nullptr; }

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
    context.transport = mcp::traffic::Transport::sse;
    context.session = capture_session;
    context.backend = name();
    context.connection = capture_connection;
    context.http_method = std::string(method);
    return site;
  }
  const std::string& name() const { return backend->name; }

  void lose(const TransportError& error) {
    if (!live())
      return;
    gone = true;
    outbox.clear();
    outbox_headers.clear();
    cancel.cancel_all();
    spdlog::info("backend '{}': SSE stream lost: {}", name(), error.message);
    handler->on_closed(error);
  }

  void deliver(mcp::Message message) {
    if (live())
      handler->on_message(std::move(message), std::nullopt);
  }

  void fail(const mcp::RequestId& id, const TransportError& error) {
    if (live())
      handler->on_send_failed(id, error);
  }

  void send(mcp::Message message, const ForwardedHeaders& headers) {
    if (closed || gone) {
      spdlog::debug("backend '{}': message dropped: the SSE transport is closed", name());
      return;
    }
    std::optional<mcp::RequestId> id = message.is_request() ? message.id : std::nullopt;
    const std::string method = message.method;
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

  // The endpoint event: resolve, check the origin, then send what waited for it.
  bool on_endpoint(std::string_view data) {
    if (post_url) {
      spdlog::debug("backend '{}': ignored a second endpoint event", name());
      return true;
    }
    auto resolved = http::resolve_reference(*backend->url, data);
    if (!resolved) {
      lose(make_error(TransportError::Kind::bad_message,
                      "the endpoint event is not a usable URI: " + resolved.error()));
      return false;
    }
    if (!resolved->same_origin(*backend->url)) {
      lose(make_error(TransportError::Kind::bad_message,
                      "refused an endpoint on another origin (" + resolved->origin() + ")"));
      return false;
    }
    post_url = std::move(*resolved);
    spdlog::debug("backend '{}': posting messages to {}", name(), post_url->target);
    outbox.open();
    return live();
  }

  static net::awaitable<void> run_stream(std::shared_ptr<SseState> self);
  static net::awaitable<void> post(std::shared_ptr<SseState> self, mcp::Message message,
                                   ForwardedHeaders headers, std::uint64_t ordering_token);
};

net::awaitable<void> SseState::run_stream(std::shared_ptr<SseState> self) {
  if (!self->backend->pool) {
    // Reported after start() returns, like every other failure.
    self->lose(make_error(TransportError::Kind::connect_failed, self->backend->url_error));
    co_return;
  }
  auto request = self->backend->make_request(bhttp::verb::get, *self->backend->url);
  request.set(bhttp::field::accept, "text/event-stream");
  request.set(bhttp::field::cache_control, "no-cache");
  auto started = co_await Exchange::start(self->backend->pool, self->cancel, request,
                                          self->backend->exchange_options());
  if (!self->live())
    co_return;
  if (!started) {
    self->lose(http::to_transport_error(started.error()));
    co_return;
  }
  auto& exchange = **started;
  const unsigned status = exchange.status();
  if (status != 200) {
    auto ignored = co_await exchange.read_all(kMaxErrorBody);
    static_cast<void>(ignored);
    self->lose(make_error(TransportError::Kind::http_status,
                          "the SSE stream was refused with HTTP " + std::to_string(status),
                          static_cast<int>(status)));
    co_return;
  }
  if (exchange.media_type() != "text/event-stream") {
    self->lose(make_error(
        TransportError::Kind::bad_message,
        "the SSE URL answered '" + exchange.media_type() + "' instead of text/event-stream"));
    co_return;
  }

  mcp::SseParser parser(
      mcp::SseParserOptions{static_cast<std::size_t>(self->backend->limits.max_sse_event_bytes)});
  auto site = self->capture_site(mcp::traffic::Direction::server_to_client, "GET");
  http::add_response_capture(site, exchange);
  const auto on_event = [&](mcp::SseEvent&& event) {
    if (event.type == "endpoint")
      return self->on_endpoint(event.data);
    if (event.type != "message" || event.data.empty())
      return true;
    site.context.sse_event_id = event.last_event_id;
    for (auto& message : http::decode_messages(event.data, self->name(), site))
      self->deliver(std::move(message));
    return self->live();
  };
  // Responses arrive on this stream: a dropped event could be one, so the transport ends and
  // the Client fails what is pending instead of letting it wait for a timeout.
  const auto on_oversize = [&](const mcp::SseError& error) {
    self->lose(make_error(TransportError::Kind::too_large, error.message));
    return false;
  };
  auto result = co_await http::read_sse(exchange, parser, on_event, on_oversize);
  started->reset();
  if (result.error)
    self->lose(http::to_transport_error(*result.error));
  else
    self->lose(make_error(TransportError::Kind::disconnected, "the SSE stream ended"));
}

net::awaitable<void> SseState::post(std::shared_ptr<SseState> self, mcp::Message message,
                                    ForwardedHeaders headers, std::uint64_t ordering_token) {
  // Later messages may go once the backend took this one (or it failed).
  struct Release {
    SseState* state;
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
  auto request = self->backend->make_request(bhttp::verb::post, *self->post_url);
  request.set(bhttp::field::accept, "application/json, text/event-stream");
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
  auto& exchange = **started;
  const unsigned status = exchange.status();
  auto body = co_await exchange.read_all(kMaxErrorBody);
  const std::string media = exchange.media_type();
  auto site = self->capture_site(mcp::traffic::Direction::server_to_client, "POST");
  http::add_response_capture(site, exchange);
  started->reset();
  if (!self->live() || status / 100 == 2)
    co_return;  // the answer, if any, comes on the stream
  if (!id) {
    spdlog::warn("backend '{}': {} refused with HTTP {}", self->name(), message.method, status);
    co_return;
  }
  if (body && media == "application/json") {
    for (auto& reply : http::decode_messages(*body, self->name(), site)) {
      if (reply.kind == mcp::MessageKind::error_response && reply.id == id) {
        self->deliver(std::move(reply));
        co_return;
      }
    }
  }
  self->fail(*id, make_error(TransportError::Kind::http_status,
                             "the backend answered HTTP " + std::to_string(status),
                             static_cast<int>(status)));
}

class SseTransport final : public Transport {
 public:
  explicit SseTransport(std::shared_ptr<HttpBackend> backend)
      : state_(std::make_shared<SseState>(std::move(backend))) {}

  ~SseTransport() override { shut(); }

  void start(TransportHandler& handler) override {
    if (state_->closed || state_->handler != nullptr)
      return;
    state_->handler = &handler;
    net::co_spawn(state_->backend->context, SseState::run_stream(state_), net::detached);
  }

  void send(mcp::Message message) override { state_->send(std::move(message), {}); }
  void send_with_headers(mcp::Message message, const ForwardedHeaders& headers) override {
    state_->send(std::move(message), headers);
  }

  void on_initialized(const std::string&) override {}
  void reset_session() override {}
  std::string session_id() const override { return {}; }
  bool sessions_can_expire() const override { return false; }
  void set_capture_session(std::string client_session) override {
    state_->capture_session = std::move(client_session);
  }

  void close(std::function<void()> done) override {
    shut();
    if (done)
      net::post(state_->backend->context, std::move(done));
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
  }

  std::shared_ptr<SseState> state_;
};

class SseFactory final : public TransportFactory {
 public:
  SseFactory(net::io_context& context, const config::BackendConfig& backend,
             const TransportLimits& limits)
      : backend_(std::make_shared<HttpBackend>(context, backend, limits)) {}

  std::unique_ptr<Transport> create() override { return std::make_unique<SseTransport>(backend_); }
  void shutdown() override {
    if (backend_->pool)
      backend_->pool->shutdown();
  }

 private:
  std::shared_ptr<HttpBackend> backend_;
};

}  // namespace

std::unique_ptr<TransportFactory> make_sse_transport_factory(boost::asio::io_context& context,
                                                             const config::BackendConfig& backend,
                                                             const TransportLimits& limits) {
  return std::make_unique<SseFactory>(context, backend, limits);
}

}  // namespace mcpgw::upstream
