// Forwarded client headers end to end: a client request through the multiplexer, the upstream
// Client and the Streamable HTTP transport to a scripted backend that records what it got.
#include "tests/unit/gateway/upstream/http_test_server.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/mux/gateway.hpp"
#include "gateway/runtime/asio_loop.hpp"
#include "gateway/upstream/client.hpp"
#include "gateway/upstream/transport.hpp"
#include "mcp/jsonrpc.hpp"
#include "tests/unit/gateway/mux/mux_harness.hpp"

namespace mcpgw::upstream {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace net = boost::asio;

// Built outside the coroutine (g++ 12 cannot compile nested braced initializers inside one).
std::string answer_for(const mcp::Message& request) {
  json result = json::object();
  if (request.method == "initialize") {
    result = {{"protocolVersion", "2025-11-25"},
              {"capabilities", {{"tools", json::object()}}},
              {"serverInfo", {{"name", "recorder"}, {"version", "1"}}}};
  } else if (request.method == "tools/call") {
    result = {{"content", {{{"type", "text"}, {"text", "ok"}}}}};
  }
  return mcp::encode(mcp::make_success_response(*request.id, std::move(result)));
}

// A backend that answers every request with JSON, notifications with 202, GET with 405.
test::Script recording_backend() {
  return [](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.method != "POST") {
      co_await reply.send(405, "", "");
      co_return;
    }
    auto message = mcp::decode_message(reply.request.body);
    if (!message || !message->is_request()) {
      co_await reply.send(202, "", "");
      co_return;
    }
    co_await reply.json(answer_for(*message));
  };
}

std::string method_of(const test::RecordedRequest& request) {
  auto message = mcp::decode_message(request.body);
  return message ? message->method : std::string();
}

TEST(HttpForwarding, OnlyTheHeadersTheBackendAllowsReachIt) {
  net::io_context context;
  runtime::AsioEventLoop loop(context);
  test::TestHttpServer server(context, recording_backend());

  auto config = std::make_shared<config::Config>();
  config::BackendConfig backend;
  backend.name = "web";
  backend.transport = config::BackendTransport::streamable_http;
  backend.url = server.url();
  backend.headers = {{"X-Api-Key", "backend-key"}};
  backend.forward_headers = {"X-Tenant"};
  backend.timeout = 10s;
  config->backends.push_back(backend);
  config->policy_spec.default_effect = policy::Effect::allow;
  config::Diagnostics diagnostics;
  config->policy = policy::compile(config->policy_spec, {}, diagnostics);
  ASSERT_TRUE(config->policy);

  TransportLimits limits;
  limits.connect_timeout = 5s;
  limits.stream_idle_timeout = 10s;
  auto transports = make_streamable_http_transport_factory(context, config->backends[0], limits);
  auto gateway = mux::make_gateway(
      loop, config, [&](std::size_t, ClientOptions options, ClientEvents& events) {
        return make_client(loop, *transports, std::move(options), events);
      });
  gateway->start();

  auto channel = std::make_shared<mux::testing::FakeChannel>();
  auto session = gateway->open_session(channel, {"streamable_http", "sid", "peer"});
  // What the HTTP front end would pass on: every header some backend may receive, and more.
  server::RequestContext request_context;
  request_context.headers = {
      {"x-tenant", "acme"}, {"x-secret", "s3cr3t"}, {"authorization", "Bearer client-token"}};
  auto initialize = std::make_shared<mux::testing::FakeStream>();
  session->handle_request(
      mcp::make_request(0, "initialize", mux::testing::client_initialize_params()), initialize,
      request_context);
  ASSERT_TRUE(test::run_until(context, [&] { return initialize->done(); }));
  ASSERT_TRUE(initialize->ok());
  session->handle_notification(mcp::make_notification("notifications/initialized"),
                               request_context);
  auto call = std::make_shared<mux::testing::FakeStream>();
  session->handle_request(mcp::make_request(1, "tools/call", json{{"name", "echo"}}), call,
                          request_context);
  ASSERT_TRUE(test::run_until(context, [&] { return call->done(); }));
  EXPECT_TRUE(call->ok()) << call->error_message();

  std::vector<test::RecordedRequest> initializes;
  std::vector<test::RecordedRequest> calls;
  for (const auto& request : server.requests()) {
    EXPECT_FALSE(request.has("x-secret")) << request.method << " " << method_of(request);
    EXPECT_FALSE(request.has("authorization")) << request.method << " " << method_of(request);
    if (request.method == "POST" && method_of(request) == "initialize")
      initializes.push_back(request);
    if (request.method == "POST" && method_of(request) == "tools/call")
      calls.push_back(request);
  }
  // The gateway's own discovery session has no client request behind it; the client's session
  // is made by a request and its handshake carries that request's allowed headers.
  ASSERT_EQ(initializes.size(), 2u);
  EXPECT_FALSE(initializes[0].has("x-tenant"));
  EXPECT_EQ(initializes[1].header("x-tenant"), "acme");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].header("x-tenant"), "acme");
  EXPECT_EQ(calls[0].header("x-api-key"), "backend-key");

  bool stopped = false;
  session->close();
  gateway->shutdown([&stopped] { stopped = true; });
  EXPECT_TRUE(test::run_until(context, [&] { return stopped; }));
  transports->shutdown();
}

}  // namespace
}  // namespace mcpgw::upstream
