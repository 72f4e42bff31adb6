// The Streamable HTTP upstream transport against a scripted Beast server on 127.0.0.1:0.
#include "tests/unit/gateway/upstream/http_test_server.hpp"

#include <gtest/gtest.h>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/upstream/transport.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::upstream {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace net = boost::asio;

class Recorder final : public TransportHandler {
 public:
  struct Received {
    mcp::Message message;
    std::optional<mcp::RequestId> stream;
  };
  void on_message(mcp::Message message,
                  const std::optional<mcp::RequestId>& request_stream) override {
    messages.push_back({std::move(message), request_stream});
    if (after_message)
      after_message();
  }
  void on_send_failed(const mcp::RequestId& id, const TransportError& error) override {
    failures.emplace_back(id, error);
  }
  void on_closed(const TransportError& error) override { closed.push_back(error); }

  std::vector<Received> messages;
  std::vector<std::pair<mcp::RequestId, TransportError>> failures;
  std::vector<TransportError> closed;
  std::function<void()> after_message;
};

mcp::Message decode(const std::string& body) {
  auto message = mcp::decode_message(body);
  EXPECT_TRUE(message) << body;
  return message ? std::move(message.value()) : mcp::make_notification("undecodable");
}

std::string answer(const mcp::RequestId& id, json result = json::object()) {
  return mcp::encode(mcp::make_success_response(id, std::move(result)));
}

// A result {key: value}, built outside the coroutines (g++ 12 cannot compile nested braced
// initializers of string literals inside a coroutine body).
std::string answer_with(const mcp::RequestId& id, const std::string& key, json value) {
  json result = json::object();
  result[key] = std::move(value);
  return answer(id, std::move(result));
}

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers session_header(const std::string& id) {
  return Headers{{"Mcp-Session-Id", id}};
}

std::string progress(int value) {
  return mcp::encode(mcp::make_notification("notifications/progress",
                                            json{{"progressToken", "p"}, {"progress", value}}));
}

TransportLimits quick_limits() {
  TransportLimits limits;
  limits.connect_timeout = 5s;
  limits.stream_idle_timeout = 10s;
  return limits;
}

// A port nobody listens on (bound once, then released).
std::uint16_t closed_port(net::io_context& context) {
  net::ip::tcp::acceptor acceptor(context, {net::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

class StreamableHttpTest : public ::testing::Test {
 protected:
  void make(const std::string& url, const TransportLimits& limits = quick_limits(),
            std::map<std::string, std::string> headers = {}, bool start = true) {
    config::BackendConfig backend;
    backend.name = "web";
    backend.transport = config::BackendTransport::streamable_http;
    backend.url = url;
    backend.headers = std::move(headers);
    backend.timeout = limits.stream_idle_timeout;  // the idle timeout is never below it
    factory_ = make_streamable_http_transport_factory(context_, backend, limits);
    transport_ = factory_->create();
    if (start)
      transport_->start(recorder_);
  }

  bool run(const std::function<bool()>& done) { return test::run_until(context_, done); }

  // Closes the transport and waits for `done`.
  bool close() {
    bool closed = false;
    transport_->close([&closed] { closed = true; });
    return run([&closed] { return closed; });
  }

  // The context does not run again after the test body: scripts and gates of the body are gone,
  // and whatever is still pending is destroyed with the context, never resumed.
  void TearDown() override {
    transport_.reset();
    if (factory_)
      factory_->shutdown();
  }

  net::io_context context_;  // first: destroyed last
  Recorder recorder_;
  std::unique_ptr<TransportFactory> factory_;
  std::unique_ptr<Transport> transport_;
};

// Answers JSON for every request, 202 for the rest, 405 for GET.
test::Script json_backend(std::string session = {}) {
  return [session](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "GET" || reply.request.method == "DELETE") {
      co_await reply.send(405, "", "");
      co_return;
    }
    const auto message = decode(reply.request.body);
    if (!message.is_request()) {
      co_await reply.send(202, "", "");
      co_return;
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (message.method == "initialize" && !session.empty())
      headers.push_back({std::string("Mcp-Session-Id"), session});
    co_await reply.json(answer_with(*message.id, "method", message.method), headers);
  };
}

TEST_F(StreamableHttpTest, JsonAnswersCarryTheSessionAndProtocolVersionHeaders) {
  test::TestHttpServer server(context_, json_backend("session-1"));
  make(server.url(), quick_limits(), {{"X-Api-Key", "configured"}});

  transport_->send(mcp::make_request(1, "initialize", json{{"protocolVersion", "2025-11-25"}}));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  EXPECT_EQ(recorder_.messages[0].message.kind, mcp::MessageKind::success_response);
  EXPECT_EQ(recorder_.messages[0].message.id, mcp::RequestId(1));
  EXPECT_EQ(recorder_.messages[0].stream, mcp::RequestId(1));
  EXPECT_EQ(transport_->session_id(), "session-1");

  const auto first = server.requests().at(0);
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.target, "/mcp");
  EXPECT_EQ(first.header("content-type"), "application/json");
  EXPECT_EQ(first.header("accept"), "application/json, text/event-stream");
  EXPECT_EQ(first.header("x-api-key"), "configured");
  EXPECT_FALSE(first.has("mcp-session-id"));
  EXPECT_FALSE(first.has("mcp-protocol-version"));
  EXPECT_EQ(decode(first.body).method, "initialize");

  transport_->on_initialized("2025-11-25");
  transport_->send(mcp::make_notification("notifications/initialized"));
  transport_->send(mcp::make_request(2, "tools/list"));
  ASSERT_TRUE(run([&] {
    return recorder_.messages.size() == 2 && server.requests_with("GET").size() == 1 &&
           server.requests_with("POST").size() == 3;
  }));
  EXPECT_EQ(recorder_.messages[1].message.id, mcp::RequestId(2));
  EXPECT_EQ(recorder_.messages[1].stream, mcp::RequestId(2));
  for (std::size_t i = 1; i < server.requests().size(); ++i) {
    const auto& request = server.requests()[i];
    EXPECT_EQ(request.header("mcp-session-id"), "session-1") << request.method;
    EXPECT_EQ(request.header("mcp-protocol-version"), "2025-11-25") << request.method;
    EXPECT_EQ(request.header("x-api-key"), "configured") << request.method;
  }
  // The standalone stream was asked for and refused with 405: that is no error.
  EXPECT_EQ(server.requests_with("GET").at(0).header("accept"), "text/event-stream");
  EXPECT_TRUE(recorder_.failures.empty());
  EXPECT_TRUE(recorder_.closed.empty());
}

TEST_F(StreamableHttpTest, MessagesSentBeforeStartAreSentInOrderAfterIt) {
  test::TestHttpServer server(context_, json_backend());
  make(server.url(), quick_limits(), {}, /*start=*/false);
  transport_->send(mcp::make_request(1, "ping"));
  context_.restart();
  context_.poll();
  EXPECT_TRUE(server.requests().empty());
  transport_->start(recorder_);
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  EXPECT_EQ(recorder_.messages[0].message.id, mcp::RequestId(1));
}

TEST_F(StreamableHttpTest, RequestsAfterANotificationWaitUntilTheBackendTookIt) {
  test::Gate accept_notification(context_);
  bool request_came_after_acceptance = false;
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    const auto message = decode(reply.request.body);
    if (!message.is_request()) {
      co_await accept_notification.wait();
      co_await reply.send(202, "", "");
      co_return;
    }
    request_came_after_acceptance = accept_notification.is_open();
    co_await reply.json(answer(*message.id));
  });
  make(server.url());
  transport_->send(mcp::make_notification("notifications/initialized"));
  transport_->send(mcp::make_request(1, "tools/list"));
  transport_->send(mcp::make_request(2, "tools/list"));
  ASSERT_TRUE(run([&] { return server.requests().size() == 1; }));
  accept_notification.open();
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  EXPECT_TRUE(request_came_after_acceptance);
  EXPECT_EQ(decode(server.requests().at(0).body).method, "notifications/initialized");
}

TEST_F(StreamableHttpTest, SequentialRequestsReuseOneKeepAliveConnection) {
  test::TestHttpServer server(context_, json_backend());
  make(server.url());
  for (int i = 1; i <= 5; ++i) {
    transport_->send(mcp::make_request(i, "tools/list"));
    // The connection is back in the pool before the response is delivered.
    ASSERT_TRUE(run([&] { return recorder_.messages.size() == static_cast<std::size_t>(i); }));
  }
  EXPECT_EQ(server.connections(), 1u);
  EXPECT_TRUE(recorder_.failures.empty());
}

TEST_F(StreamableHttpTest, ConcurrentRequestsUseSeparateConnectionsThenReuseThem) {
  test::Gate gate(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    const auto message = decode(reply.request.body);
    co_await gate.wait();
    co_await reply.json(answer(*message.id));
  });
  make(server.url());
  for (int i = 1; i <= 3; ++i)
    transport_->send(mcp::make_request(i, "tools/call"));
  ASSERT_TRUE(run([&] { return server.requests().size() == 3; }));
  EXPECT_EQ(server.connections(), 3u);
  gate.open();
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 3; }));

  for (int i = 4; i <= 6; ++i)
    transport_->send(mcp::make_request(i, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 6; }));
  EXPECT_EQ(server.connections(), 3u);
  EXPECT_TRUE(recorder_.failures.empty());
}

TEST_F(StreamableHttpTest, SseAnswerIsRelayedEventByEventAsItArrives) {
  test::Gate second_event(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    const auto message = decode(reply.request.body);
    if (message.method != "tools/call") {
      co_await reply.json(answer(*message.id));
      co_return;
    }
    co_await reply.start_sse();
    co_await reply.event(progress(1));
    co_await reply.chunk(": keep-alive\n\n");
    // The response is only written once the test saw the first event: a client that buffered
    // the stream would never get here.
    co_await second_event.wait();
    co_await reply.event(answer_with(*message.id, "done", true));
    co_await reply.end();
  });
  make(server.url());
  transport_->send(mcp::make_request(7, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  EXPECT_EQ(recorder_.messages[0].message.method, "notifications/progress");
  EXPECT_EQ(recorder_.messages[0].stream, mcp::RequestId(7));
  EXPECT_FALSE(second_event.is_open());

  second_event.open();
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  EXPECT_EQ(recorder_.messages[1].message.kind, mcp::MessageKind::success_response);
  EXPECT_EQ(recorder_.messages[1].message.id, mcp::RequestId(7));
  EXPECT_EQ(recorder_.messages[1].stream, mcp::RequestId(7));
  EXPECT_TRUE(recorder_.failures.empty());
}

TEST_F(StreamableHttpTest, NotFoundForTheSessionReportsExpiryAndResetStartsAfresh) {
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "GET" || reply.request.method == "DELETE") {
      co_await reply.send(405, "", "");
      co_return;
    }
    const auto message = decode(reply.request.body);
    if (reply.request.has("mcp-session-id")) {
      co_await reply.send(404, "text/plain", "no such session");
      co_return;
    }
    co_await reply.json(answer(*message.id), session_header("stale"));
  });
  make(server.url());
  transport_->send(mcp::make_request(1, "initialize"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  transport_->on_initialized("2025-06-18");
  transport_->send(mcp::make_request(2, "tools/list"));
  ASSERT_TRUE(run([&] { return recorder_.failures.size() == 1; }));
  EXPECT_EQ(recorder_.failures[0].first, mcp::RequestId(2));
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::session_expired);
  EXPECT_EQ(recorder_.failures[0].second.http_status, 404);

  transport_->reset_session();
  EXPECT_EQ(transport_->session_id(), "");
  const auto before = server.requests_with("POST").size();
  transport_->send(mcp::make_request(3, "initialize"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  const auto again = server.requests_with("POST").at(before);
  EXPECT_FALSE(again.has("mcp-session-id"));
  EXPECT_FALSE(again.has("mcp-protocol-version"));
  EXPECT_EQ(transport_->session_id(), "stale");
}

TEST_F(StreamableHttpTest, HttpErrorsFailTheRequestUnlessTheBodyIsItsJsonRpcError) {
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    const auto message = decode(reply.request.body);
    const auto id = message.id.value_or(0);
    if (id == mcp::RequestId(1)) {
      co_await reply.send(
          400, "application/json",
          mcp::encode(mcp::make_error_response(id, mcp::error_code::invalid_params, "bad")));
    } else if (id == mcp::RequestId(2)) {
      co_await reply.send(503, "text/plain", "down for maintenance");
    } else {
      co_await reply.send(400, "application/json",
                          mcp::encode(mcp::make_error_response(mcp::RequestId(99), -32600, "x")));
    }
  });
  make(server.url());
  for (int i = 1; i <= 3; ++i)
    transport_->send(mcp::make_request(i, "tools/call"));
  ASSERT_TRUE(
      run([&] { return recorder_.messages.size() == 1 && recorder_.failures.size() == 2; }));
  EXPECT_EQ(recorder_.messages[0].message.kind, mcp::MessageKind::error_response);
  EXPECT_EQ(recorder_.messages[0].message.id, mcp::RequestId(1));
  EXPECT_EQ(recorder_.messages[0].message.error.code, mcp::error_code::invalid_params);
  std::map<std::string, TransportError> failures;
  for (const auto& [id, error] : recorder_.failures)
    failures[id.to_string()] = error;
  EXPECT_EQ(failures["2"].kind, TransportError::Kind::http_status);
  EXPECT_EQ(failures["2"].http_status, 503);
  EXPECT_EQ(failures["3"].kind, TransportError::Kind::http_status);
  EXPECT_EQ(failures["3"].http_status, 400);
}

TEST_F(StreamableHttpTest, UnreachableBackendFailsRequestsWithConnectFailed) {
  make("http://127.0.0.1:" + std::to_string(closed_port(context_)) + "/mcp");
  transport_->send(mcp::make_notification("notifications/initialized"));
  transport_->send(mcp::make_request(1, "initialize"));
  ASSERT_TRUE(run([&] { return recorder_.failures.size() == 1; }));
  EXPECT_EQ(recorder_.failures[0].first, mcp::RequestId(1));
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::connect_failed);
  EXPECT_NE(recorder_.failures[0].second.message.find("cannot connect"), std::string::npos)
      << recorder_.failures[0].second.message;
}

TEST_F(StreamableHttpTest, InvalidUrlFailsRequestsWithConnectFailed) {
  make("ftp://example.com/mcp");
  transport_->send(mcp::make_request(1, "initialize"));
  ASSERT_TRUE(run([&] { return recorder_.failures.size() == 1; }));
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::connect_failed);
  EXPECT_NE(recorder_.failures[0].second.message.find("scheme"), std::string::npos);
}

// SEP-1699: the backend ends the POST's stream before the response (abruptly or cleanly), the
// client resumes it with GET and Last-Event-ID after the retry delay.
class StreamResumeTest : public StreamableHttpTest, public ::testing::WithParamInterface<bool> {};

TEST_P(StreamResumeTest, ResponseStreamEndingEarlyIsResumedWithLastEventId) {
  const bool abrupt = GetParam();
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "POST") {
      const auto message = decode(reply.request.body);
      co_await reply.start_sse();
      co_await reply.chunk("id: ev-1\nretry: 10\ndata: \n\n");  // priming event
      co_await reply.event(progress(1), "ev-2");
      if (abrupt)
        reply.drop();
      else
        co_await reply.end();
      co_return;
    }
    // GET: replay what came after Last-Event-ID.
    co_await reply.start_sse();
    co_await reply.event(answer_with(5, "resumed", true), "ev-3");
    co_await reply.end();
  });
  make(server.url());
  transport_->send(mcp::make_request(5, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  EXPECT_EQ(recorder_.messages[0].message.method, "notifications/progress");
  EXPECT_EQ(recorder_.messages[0].stream, mcp::RequestId(5));
  EXPECT_EQ(recorder_.messages[1].message.id, mcp::RequestId(5));
  EXPECT_EQ(recorder_.messages[1].message.result, (json{{"resumed", true}}));
  EXPECT_EQ(recorder_.messages[1].stream, mcp::RequestId(5));
  const auto gets = server.requests_with("GET");
  ASSERT_EQ(gets.size(), 1u);
  EXPECT_EQ(gets[0].header("last-event-id"), "ev-2");
  EXPECT_EQ(gets[0].header("accept"), "text/event-stream");
  EXPECT_TRUE(recorder_.failures.empty());
}

INSTANTIATE_TEST_SUITE_P(EndOfStream, StreamResumeTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? "abrupt" : "clean";
                         });

TEST_F(StreamableHttpTest, ResponseStreamWithoutEventIdsEndingEarlyFailsTheRequest) {
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    co_await reply.start_sse();
    co_await reply.event(progress(1));
    co_await reply.end();
  });
  make(server.url());
  transport_->send(mcp::make_request(1, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.failures.size() == 1; }));
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::disconnected);
  EXPECT_EQ(recorder_.messages.size(), 1u);
  EXPECT_TRUE(server.requests_with("GET").empty());
}

TEST_F(StreamableHttpTest, ResumptionRefusedWith405FailsTheRequest) {
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "GET") {
      co_await reply.send(405, "", "");
      co_return;
    }
    co_await reply.start_sse();
    co_await reply.chunk("id: only\nretry: 5\ndata: \n\n");
    reply.drop();
  });
  make(server.url());
  transport_->send(mcp::make_request(1, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.failures.size() == 1; }));
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::disconnected);
  EXPECT_EQ(server.requests_with("GET").size(), 1u);
}

TEST_F(StreamableHttpTest, StandaloneGetStreamDeliversServerMessagesAndReconnects) {
  test::Gate hold_second(context_);
  int gets = 0;
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "DELETE") {
      co_await reply.send(200, "", "");
      co_return;
    }
    if (reply.request.method == "GET") {
      ++gets;
      co_await reply.start_sse();
      if (gets == 1) {
        co_await reply.chunk("retry: 10\n\n");
        co_await reply.event(
            mcp::encode(mcp::make_notification("notifications/tools/list_changed")), "g-1");
        co_await reply.end();  // the client reconnects after retry
      } else {
        co_await reply.event(mcp::encode(mcp::make_request("srv-1", "roots/list")), "g-2");
        co_await hold_second.wait();
        co_await reply.end();
      }
      co_return;
    }
    const auto message = decode(reply.request.body);
    co_await reply.json(answer(*message.id), session_header("s-9"));
  });
  make(server.url());
  transport_->send(mcp::make_request(1, "initialize"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  transport_->on_initialized("2025-06-18");
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 3; }));
  EXPECT_EQ(recorder_.messages[1].message.method, "notifications/tools/list_changed");
  EXPECT_FALSE(recorder_.messages[1].stream.has_value());
  EXPECT_EQ(recorder_.messages[2].message.method, "roots/list");
  EXPECT_FALSE(recorder_.messages[2].stream.has_value());
  const auto get_requests = server.requests_with("GET");
  ASSERT_EQ(get_requests.size(), 2u);
  EXPECT_EQ(get_requests[0].header("mcp-session-id"), "s-9");
  EXPECT_EQ(get_requests[0].header("mcp-protocol-version"), "2025-06-18");
  EXPECT_FALSE(get_requests[0].has("last-event-id"));
  EXPECT_EQ(get_requests[1].header("last-event-id"), "g-1");

  // close(): DELETE for the session, the GET stream cancelled, done called, silence after.
  ASSERT_TRUE(close());
  const auto deletes = server.requests_with("DELETE");
  ASSERT_EQ(deletes.size(), 1u);
  EXPECT_EQ(deletes[0].header("mcp-session-id"), "s-9");
  hold_second.open();
  context_.restart();
  context_.run_for(50ms);
  EXPECT_EQ(recorder_.messages.size(), 3u);
  EXPECT_TRUE(recorder_.failures.empty());
  transport_.reset();
}

TEST_F(StreamableHttpTest, CloseCancelsStreamingRequestsWithoutReportingThem) {
  test::Gate never(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "DELETE") {
      co_await reply.send(405, "", "");
      co_return;
    }
    const auto message = decode(reply.request.body);
    if (message.method == "initialize") {
      co_await reply.json(answer(*message.id), session_header("s-1"));
      co_return;
    }
    co_await reply.start_sse();
    co_await reply.event(progress(1), "e-1");
    co_await never.wait();
  });
  make(server.url());
  transport_->send(mcp::make_request(1, "initialize"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  transport_->send(mcp::make_request(2, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  ASSERT_TRUE(close());  // a 405 for DELETE is fine
  EXPECT_EQ(server.requests_with("DELETE").size(), 1u);
  context_.restart();
  context_.run_for(50ms);
  EXPECT_TRUE(recorder_.failures.empty());
  EXPECT_EQ(recorder_.messages.size(), 2u);
  transport_.reset();
}

TEST_F(StreamableHttpTest, PooledConnectionClosedByTheServerIsReplacedOnce) {
  test::LogCapture log;
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    const auto message = decode(reply.request.body);
    co_await reply.json(answer(*message.id));
    reply.drop();  // as a server whose keep-alive timeout passed would
  });
  make(server.url());
  transport_->send(mcp::make_request(1, "ping"));
  // The server closed the connection right after writing the response, before the client
  // read it: the connection in the pool is dead.
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  transport_->send(mcp::make_request(2, "ping"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  EXPECT_TRUE(recorder_.failures.empty());
  EXPECT_EQ(server.connections(), 2u);
  EXPECT_TRUE(log.contains("retrying on a new one")) << log.all();
}

TEST_F(StreamableHttpTest, OversizeBodiesAndEventsFailTheirRequest) {
  auto limits = quick_limits();
  limits.max_body_bytes = 1000;
  limits.max_sse_event_bytes = 1000;
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    const auto message = decode(reply.request.body);
    const std::string big(5000, 'x');
    if (message.id == mcp::RequestId(1)) {
      co_await reply.json(answer_with(*message.id, "text", big));
      co_return;
    }
    co_await reply.start_sse();
    co_await reply.event(answer_with(*message.id, "text", big), "e-1");
    co_await reply.end();
  });
  make(server.url(), limits);
  transport_->send(mcp::make_request(1, "tools/call"));
  transport_->send(mcp::make_request(2, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.failures.size() == 2; }));
  for (const auto& [id, error] : recorder_.failures)
    EXPECT_EQ(error.kind, TransportError::Kind::too_large) << id.to_string() << error.message;
  EXPECT_TRUE(recorder_.messages.empty());
}

TEST_F(StreamableHttpTest, SilentStreamHitsTheIdleTimeout) {
  auto limits = quick_limits();
  limits.stream_idle_timeout = 200ms;
  test::Gate never(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    co_await reply.start_sse();
    co_await never.wait();
  });
  make(server.url(), limits);
  transport_->send(mcp::make_request(1, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.failures.size() == 1; }));
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::timeout);
}

TEST_F(StreamableHttpTest, HandlerMayCloseTheTransportFromInsideACallback) {
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    const auto message = decode(reply.request.body);
    co_await reply.start_sse();
    co_await reply.event(progress(1));
    co_await reply.event(progress(2));
    co_await reply.event(answer(*message.id));
    co_await reply.end();
  });
  make(server.url());
  bool closed = false;
  recorder_.after_message = [&] {
    if (!closed) {
      closed = true;
      transport_->close({});
      transport_.reset();
    }
  };
  {
    transport_->send(mcp::make_request(1, "tools/call"));
    ASSERT_TRUE(run([&] { return closed; }));
  }
  context_.restart();
  context_.run_for(50ms);
  EXPECT_EQ(recorder_.messages.size(), 1u);
  EXPECT_TRUE(recorder_.failures.empty());
}

TEST_F(StreamableHttpTest, ForwardedHeadersGoOnTheirOwnPostAndNeverReplaceTheGatewaysOwn) {
  test::TestHttpServer server(context_, json_backend("session-1"));
  make(server.url(), quick_limits(), {{"X-Api-Key", "configured"}});
  // What a misconfiguration or a hostile client could try: none of it may win over the
  // gateway's own headers or go upstream at all.
  const ForwardedHeaders handshake = {{"x-tenant", "acme"},
                                      {"authorization", "Bearer client-token"},
                                      {"x-api-key", "client-key"},
                                      {"mcp-session-id", "forged"},
                                      {"content-type", "text/plain"},
                                      {"host", "evil.example"},
                                      {"bad name", "x"},
                                      {"x-split", "a\r\nx-injected: 1"}};
  transport_->send_with_headers(
      mcp::make_request(1, "initialize", json{{"protocolVersion", "2025-11-25"}}), handshake);
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  const auto initialize = server.requests().at(0);
  EXPECT_EQ(initialize.header("x-tenant"), "acme");
  EXPECT_FALSE(initialize.has("authorization"));
  EXPECT_EQ(initialize.header("x-api-key"), "configured");
  EXPECT_FALSE(initialize.has("mcp-session-id"));
  EXPECT_EQ(initialize.header("content-type"), "application/json");
  EXPECT_EQ(initialize.header("host"), "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_FALSE(initialize.has("x-split"));
  EXPECT_FALSE(initialize.has("x-injected"));

  // The session's standalone stream carries the handshake's headers; each request its own.
  transport_->on_initialized("2025-11-25");
  transport_->send_with_headers(mcp::make_request(2, "tools/call", json{{"name", "a"}}),
                                {{"x-tenant", "other"}, {"x-trace", "t-2"}});
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  transport_->send(mcp::make_request(3, "tools/call", json{{"name", "b"}}));
  ASSERT_TRUE(run(
      [&] { return recorder_.messages.size() == 3 && server.requests_with("GET").size() == 1; }));
  const auto get = server.requests_with("GET").at(0);
  EXPECT_EQ(get.header("x-tenant"), "acme");
  EXPECT_EQ(get.header("mcp-session-id"), "session-1");
  const auto posts = server.requests_with("POST");
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_EQ(decode(posts[1].body).id, mcp::RequestId(2));
  EXPECT_EQ(posts[1].header("x-tenant"), "other");
  EXPECT_EQ(posts[1].header("x-trace"), "t-2");
  EXPECT_EQ(posts[1].header("mcp-session-id"), "session-1");
  EXPECT_EQ(decode(posts[2].body).id, mcp::RequestId(3));
  EXPECT_FALSE(posts[2].has("x-tenant")) << "headers belong to their own request";
  EXPECT_FALSE(posts[2].has("x-trace"));
  for (const auto& request : server.requests())
    EXPECT_FALSE(request.has("authorization")) << request.method;
}

}  // namespace
}  // namespace mcpgw::upstream
