// The legacy HTTP+SSE upstream transport (2024-11-05) against a scripted Beast server.
#include "tests/unit/gateway/upstream/http_test_server.hpp"

#include <gtest/gtest.h>
#include <functional>
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
  void on_message(mcp::Message message,
                  const std::optional<mcp::RequestId>& request_stream) override {
    EXPECT_FALSE(request_stream.has_value());
    messages.push_back(std::move(message));
  }
  void on_send_failed(const mcp::RequestId& id, const TransportError& error) override {
    failures.emplace_back(id, error);
  }
  void on_closed(const TransportError& error) override { closed.push_back(error); }

  std::vector<mcp::Message> messages;
  std::vector<std::pair<mcp::RequestId, TransportError>> failures;
  std::vector<TransportError> closed;
};

mcp::Message decode(const std::string& body) {
  auto message = mcp::decode_message(body);
  EXPECT_TRUE(message) << body;
  return message ? std::move(message.value()) : mcp::make_notification("undecodable");
}

std::string answer(const mcp::RequestId& id) {
  return mcp::encode(mcp::make_success_response(id, json{{"ok", true}}));
}

class LegacySseTest : public ::testing::Test {
 protected:
  void make(const std::string& url) {
    config::BackendConfig backend;
    backend.name = "legacy";
    backend.transport = config::BackendTransport::sse;
    backend.url = url;
    backend.headers = {{"Authorization", "Bearer backend-token"}};
    TransportLimits limits;
    limits.connect_timeout = 5s;
    factory_ = make_sse_transport_factory(context_, backend, limits);
    transport_ = factory_->create();
    transport_->start(recorder_);
  }
  bool run(const std::function<bool()>& done) { return test::run_until(context_, done); }

  // The context does not run again after the test body: scripts and gates of the body are gone,
  // and whatever is still pending is destroyed with the context, never resumed.
  void TearDown() override {
    transport_.reset();
    if (factory_)
      factory_->shutdown();
  }

  bool close() {
    bool closed = false;
    transport_->close([&closed] { closed = true; });
    return run([&closed] { return closed; });
  }

  net::io_context context_;
  Recorder recorder_;
  std::unique_ptr<TransportFactory> factory_;
  std::unique_ptr<Transport> transport_;
};

TEST_F(LegacySseTest, PostsGoToTheEndpointAndAnswersArriveOnTheStream) {
  test::Gate send_endpoint(context_);
  test::Mailbox outbox(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "GET") {
      co_await reply.start_sse();
      co_await send_endpoint.wait();
      co_await reply.event("message?sessionId=abc", "", "endpoint");
      while (auto item = co_await outbox.take())
        co_await reply.event(*item, "", "message");
      co_await reply.end();
      co_return;
    }
    const auto message = decode(reply.request.body);
    if (message.is_request())
      outbox.put(answer(*message.id));
    co_await reply.send(202, "text/plain", "Accepted");
  });
  make(server.url("/legacy/sse"));
  transport_->send(mcp::make_request(1, "initialize"));  // waits for the endpoint
  ASSERT_TRUE(run([&] { return server.requests().size() == 1; }));
  const auto stream_request = server.requests().at(0);
  EXPECT_EQ(stream_request.method, "GET");
  EXPECT_EQ(stream_request.target, "/legacy/sse");
  EXPECT_EQ(stream_request.header("accept"), "text/event-stream");
  EXPECT_EQ(stream_request.header("authorization"), "Bearer backend-token");

  send_endpoint.open();
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 1; }));
  EXPECT_EQ(recorder_.messages[0].id, mcp::RequestId(1));
  const auto posts = server.requests_with("POST");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].target, "/legacy/message?sessionId=abc");
  EXPECT_EQ(posts[0].header("content-type"), "application/json");
  EXPECT_EQ(posts[0].header("authorization"), "Bearer backend-token");
  EXPECT_EQ(decode(posts[0].body).method, "initialize");

  transport_->send(mcp::make_notification("notifications/initialized"));
  transport_->send(mcp::make_request(2, "tools/list"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  EXPECT_EQ(recorder_.messages[1].id, mcp::RequestId(2));
  EXPECT_EQ(server.requests_with("POST").size(), 3u);
  EXPECT_TRUE(recorder_.failures.empty());
  EXPECT_TRUE(recorder_.closed.empty());
  EXPECT_EQ(transport_->session_id(), "");

  // The stream ending ends the transport.
  outbox.close();
  ASSERT_TRUE(run([&] { return recorder_.closed.size() == 1; }));
  EXPECT_EQ(recorder_.closed[0].kind, TransportError::Kind::disconnected);
  transport_->send(mcp::make_request(3, "tools/list"));
  context_.restart();
  context_.run_for(20ms);
  EXPECT_TRUE(recorder_.failures.empty());
  EXPECT_EQ(server.requests_with("POST").size(), 3u);
}

TEST_F(LegacySseTest, EndpointOnAnotherOriginIsRefused) {
  test::Gate never(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    co_await reply.start_sse();
    co_await reply.event("http://evil.example:1/message", "", "endpoint");
    co_await never.wait();
  });
  make(server.url("/sse"));
  transport_->send(mcp::make_request(1, "initialize"));
  ASSERT_TRUE(run([&] { return recorder_.closed.size() == 1; }));
  EXPECT_EQ(recorder_.closed[0].kind, TransportError::Kind::bad_message);
  EXPECT_NE(recorder_.closed[0].message.find("another origin"), std::string::npos);
  EXPECT_TRUE(server.requests_with("POST").empty());
  EXPECT_TRUE(recorder_.failures.empty());
}

TEST_F(LegacySseTest, RefusedStreamClosesTheTransportWithItsStatus) {
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    co_await reply.send(404, "text/plain", "no such path");
  });
  make(server.url("/sse"));
  ASSERT_TRUE(run([&] { return recorder_.closed.size() == 1; }));
  EXPECT_EQ(recorder_.closed[0].kind, TransportError::Kind::http_status);
  EXPECT_EQ(recorder_.closed[0].http_status, 404);
}

TEST_F(LegacySseTest, UnreachableBackendClosesWithConnectFailed) {
  std::uint16_t port = 0;
  {
    net::ip::tcp::acceptor acceptor(context_, {net::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  make("http://127.0.0.1:" + std::to_string(port) + "/sse");
  ASSERT_TRUE(run([&] { return recorder_.closed.size() == 1; }));
  EXPECT_EQ(recorder_.closed[0].kind, TransportError::Kind::connect_failed);
}

TEST_F(LegacySseTest, RejectedPostFailsItsRequest) {
  test::Gate never(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "GET") {
      co_await reply.start_sse();
      co_await reply.event("/message", "", "endpoint");
      co_await never.wait();
      co_return;
    }
    co_await reply.send(500, "text/plain", "broken");
  });
  make(server.url("/sse"));
  transport_->send(mcp::make_request(1, "tools/call"));
  ASSERT_TRUE(run([&] { return recorder_.failures.size() == 1; }));
  EXPECT_EQ(recorder_.failures[0].first, mcp::RequestId(1));
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::http_status);
  EXPECT_EQ(recorder_.failures[0].second.http_status, 500);
  EXPECT_TRUE(recorder_.closed.empty());

  // close() drops the stream without reporting anything.
  ASSERT_TRUE(close());
  transport_->send(mcp::make_request(2, "tools/call"));
  context_.restart();
  context_.run_for(20ms);
  EXPECT_TRUE(recorder_.closed.empty());
  EXPECT_EQ(recorder_.failures.size(), 1u);
  EXPECT_EQ(server.requests_with("POST").size(), 1u);
}

TEST_F(LegacySseTest, OversizeEventEndsTheTransport) {
  test::Gate never(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    co_await reply.start_sse();
    co_await reply.event("/message", "", "endpoint");
    co_await reply.event(std::string(4096, 'x'), "", "message");
    co_await never.wait();
  });
  config::BackendConfig backend;
  backend.name = "legacy";
  backend.transport = config::BackendTransport::sse;
  backend.url = server.url("/sse");
  TransportLimits limits;
  limits.max_sse_event_bytes = 1024;
  factory_ = make_sse_transport_factory(context_, backend, limits);
  transport_ = factory_->create();
  transport_->start(recorder_);
  ASSERT_TRUE(run([&] { return recorder_.closed.size() == 1; }));
  EXPECT_EQ(recorder_.closed[0].kind, TransportError::Kind::too_large);
}

TEST_F(LegacySseTest, ForwardedHeadersGoOnThePostOfTheirMessageOnly) {
  test::Mailbox outbox(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method == "GET") {
      co_await reply.start_sse();
      co_await reply.event("/message", "", "endpoint");
      while (auto item = co_await outbox.take())
        co_await reply.event(*item, "", "message");
      co_await reply.end();
      co_return;
    }
    const auto message = decode(reply.request.body);
    if (message.is_request())
      outbox.put(answer(*message.id));
    co_await reply.send(202, "text/plain", "Accepted");
  });
  make(server.url("/sse"));
  transport_->send_with_headers(mcp::make_request(1, "tools/list"),
                                {{"x-tenant", "acme"}, {"authorization", "Bearer client-token"}});
  transport_->send(mcp::make_request(2, "tools/list"));
  ASSERT_TRUE(run([&] { return recorder_.messages.size() == 2; }));
  const auto posts = server.requests_with("POST");
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(decode(posts[0].body).id, mcp::RequestId(1));
  EXPECT_EQ(posts[0].header("x-tenant"), "acme");
  EXPECT_EQ(posts[0].header("authorization"), "Bearer backend-token") << "the backend's own";
  EXPECT_FALSE(posts[1].has("x-tenant"));
  EXPECT_FALSE(server.requests_with("GET").at(0).has("x-tenant"));
  outbox.close();
}

}  // namespace
}  // namespace mcpgw::upstream
