// The HTTP front end on 127.0.0.1:0 with a scripted Service, driven by raw HTTP/1.1 clients on
// the same io_context.
#include "gateway/front/http_front.hpp"

#include <set>

#include <gtest/gtest.h>

#include "tests/unit/gateway/front/http_test_support.hpp"

namespace mcpgw::front {
namespace {

using testing::Client;
using testing::Reply;
using testing::run_until;
using testing::ScriptedService;

const std::vector<std::pair<std::string, std::string>> kPostHeaders = {
    {"Accept", "application/json, text/event-stream"}, {"Content-Type", "application/json"}};

std::string request_text(const std::string& id, const std::string& method,
                         const nlohmann::json& params = nlohmann::json::object()) {
  return nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}
      .dump();
}

std::string initialize_text(const std::string& version = "2025-11-25") {
  return request_text("init", "initialize",
                      {{"protocolVersion", version},
                       {"capabilities", nlohmann::json::object()},
                       {"clientInfo", {{"name", "test"}, {"version", "1"}}}});
}

class HttpFrontTest : public ::testing::Test {
 protected:
  void start(HttpFrontOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    front_ = make_http_front(context_, service_, std::move(options));
    auto port = front_->listen();
    ASSERT_TRUE(port) << port.error();
    port_ = *port;
    client_ = std::make_unique<Client>(context_, port_);
  }

  void TearDown() override {
    if (front_) {
      bool done = false;
      front_->shutdown([&] { done = true; });
      EXPECT_TRUE(run_until(context_, [&] { return done; }));
      front_.reset();
    }
    client_.reset();
    context_.restart();
    context_.run_for(std::chrono::milliseconds(20));
  }

  std::unique_ptr<Client> connect() { return std::make_unique<Client>(context_, port_); }

  Reply wait_done(Client& client) {
    EXPECT_TRUE(run_until(context_, [&] { return client.reply_done() || client.closed(); }))
        << "no complete response";
    return client.reply();
  }
  Reply wait_head(Client& client) {
    EXPECT_TRUE(run_until(context_, [&] { return client.head_ready() || client.closed(); }))
        << "no response head";
    return client.reply();
  }

  Reply post(const std::string& body, std::vector<std::pair<std::string, std::string>> headers,
             Client* client = nullptr) {
    auto& target = client != nullptr ? *client : *client_;
    target.send("POST", "/mcp", headers, body);
    return wait_done(target);
  }
  // A POST with the usual headers plus the session's.
  Reply call(const std::string& session, const std::string& body,
             std::vector<std::pair<std::string, std::string>> extra = {},
             Client* client = nullptr) {
    auto headers = kPostHeaders;
    headers.emplace_back("Mcp-Session-Id", session);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return post(body, headers, client);
  }
  std::string initialize(const std::string& version = "2025-11-25") {
    const auto reply = post(initialize_text(version), kPostHeaders);
    EXPECT_EQ(reply.status, 200u) << reply.body;
    EXPECT_EQ(reply.header("content-type"), "application/json");
    return reply.header("mcp-session-id");
  }
  // Waits until the client's current (SSE) reply holds at least `count` events.
  std::vector<mcp::SseEvent> wait_events(Client& client, std::size_t count) {
    std::vector<mcp::SseEvent> events;
    EXPECT_TRUE(run_until(context_,
                          [&] {
                            events = client.reply().events();
                            return events.size() >= count || client.closed();
                          }))
        << "expected " << count << " events";
    return events;
  }

  boost::asio::io_context context_;
  ScriptedService service_;
  std::unique_ptr<HttpFront> front_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Client> client_;
};

std::int64_t error_code_of(const Reply& reply) {
  const auto json = reply.json();
  if (!json.is_object() || !json.contains("error")) {
    return 0;
  }
  return json["error"].value("code", std::int64_t{0});
}

TEST_F(HttpFrontTest, InitializeCreatesSessionWithUnguessableId) {
  start();
  const auto first = initialize();
  const auto second = initialize();
  ASSERT_EQ(first.size(), 32u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(first, second);
  ASSERT_EQ(service_.sessions.size(), 2u);
  EXPECT_EQ(service_.sessions[0]->opening.transport, "streamable_http");
  EXPECT_EQ(service_.sessions[0]->opening.session_id, first);
  EXPECT_EQ(service_.sessions[0]->opening.remote.rfind("127.0.0.1:", 0), 0u);
  EXPECT_EQ(front_->stats().sessions_open, 2u);

  const auto reply = call(first, request_text("1", "echo", {{"x", 1}}));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("content-type"), "application/json");
  EXPECT_EQ(reply.json()["result"]["x"], 1);
  EXPECT_EQ(reply.json()["id"], "1");
}

TEST_F(HttpFrontTest, SessionIdsAreDistinctAcrossManySessions) {
  start();
  std::set<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    ids.insert(initialize());
  }
  EXPECT_EQ(ids.size(), 20u);
}

TEST_F(HttpFrontTest, AcceptHeaderMustAllowJsonAndEventStream) {
  start();
  auto reply = post(initialize_text(), {{"Content-Type", "application/json"}});
  EXPECT_EQ(reply.status, 406u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
  reply = post(initialize_text(),
               {{"Accept", "application/json"}, {"Content-Type", "application/json"}});
  EXPECT_EQ(reply.status, 406u);
  reply = post(initialize_text(), {{"Accept", "application/json, text/event-stream;q=0"},
                                   {"Content-Type", "application/json"}});
  EXPECT_EQ(reply.status, 406u);
  reply = post(initialize_text(), {{"Accept", "*/*"}, {"Content-Type", "application/json"}});
  EXPECT_EQ(reply.status, 200u);
  EXPECT_TRUE(service_.sessions.size() == 1u);
}

TEST_F(HttpFrontTest, ContentTypeMustBeJson) {
  start();
  auto reply = post(initialize_text(), {{"Accept", "application/json, text/event-stream"},
                                        {"Content-Type", "text/plain"}});
  EXPECT_EQ(reply.status, 415u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
  reply = post(initialize_text(), {{"Accept", "application/json, text/event-stream"},
                                   {"Content-Type", "Application/JSON; charset=utf-8"}});
  EXPECT_EQ(reply.status, 200u);
}

TEST_F(HttpFrontTest, OversizeBodyGets413) {
  HttpFrontOptions options;
  options.max_body_bytes = 1000;
  start(options);
  const std::string big = request_text("1", "echo", {{"pad", std::string(2000, 'a')}});
  const auto reply = post(big, kPostHeaders);
  EXPECT_EQ(reply.status, 413u);
  EXPECT_TRUE(service_.sessions.empty());

  // A chunked body is bounded as it arrives.
  auto chunked = connect();
  std::string raw = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                    "\r\nAccept: application/json, text/event-stream\r\nContent-Type: "
                    "application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) {
    raw += "190\r\n" + std::string(400, ' ') + "\r\n";
  }
  raw += "0\r\n\r\n";
  chunked->send_raw(raw);
  EXPECT_EQ(wait_done(*chunked).status, 413u);
}

TEST_F(HttpFrontTest, OversizeHeadGets431) {
  HttpFrontOptions options;
  options.max_header_bytes = 1024;
  start(options);
  auto headers = kPostHeaders;
  headers.emplace_back("X-Padding", std::string(4000, 'p'));
  const auto reply = post(initialize_text(), headers);
  EXPECT_EQ(reply.status, 431u);
}

TEST_F(HttpFrontTest, ProtocolVersionHeaderIsValidated) {
  start();
  const auto session = initialize();
  auto reply = call(session, request_text("1", "echo"), {{"MCP-Protocol-Version", "1999-01-01"}});
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
  const std::string message = reply.json()["error"]["message"];
  for (const auto* version : {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}) {
    EXPECT_NE(message.find(version), std::string::npos) << message;
  }
  EXPECT_EQ(reply.json()["error"]["data"]["supported"].size(), 4u);
  // The modern era has no sessions: not accepted here.
  reply = call(session, request_text("1", "echo"), {{"MCP-Protocol-Version", "2026-07-28"}});
  EXPECT_EQ(reply.status, 400u);
  // Missing: assumed 2025-03-26; another supported version: accepted (lenient).
  EXPECT_EQ(call(session, request_text("2", "echo")).status, 200u);
  EXPECT_EQ(
      call(session, request_text("3", "echo"), {{"MCP-Protocol-Version", "2025-03-26"}}).status,
      200u);
  EXPECT_EQ(
      call(session, request_text("4", "echo"), {{"MCP-Protocol-Version", "2025-11-25"}}).status,
      200u);
}

TEST_F(HttpFrontTest, SessionIdRules) {
  start();
  auto reply = post(request_text("1", "echo"), kPostHeaders);
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);

  reply = call("0123456789abcdef0123456789abcdef", request_text("1", "echo"));
  EXPECT_EQ(reply.status, 404u);
  EXPECT_EQ(error_code_of(reply), -32001);

  const auto session = initialize();
  reply = call(session, initialize_text());
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
  EXPECT_EQ(service_.sessions.size(), 1u);
}

TEST_F(HttpFrontTest, DeleteEndsTheSession) {
  start();
  const auto session = initialize();
  client_->send("DELETE", "/mcp", {{"Mcp-Session-Id", session}});
  EXPECT_EQ(wait_done(*client_).status, 204u);
  EXPECT_EQ(service_.sessions[0]->closes, 1);
  EXPECT_EQ(call(session, request_text("1", "echo")).status, 404u);
  client_->send("DELETE", "/mcp", {{"Mcp-Session-Id", session}});
  EXPECT_EQ(wait_done(*client_).status, 404u);
  client_->send("DELETE", "/mcp", {});
  EXPECT_EQ(wait_done(*client_).status, 400u);
  EXPECT_EQ(front_->stats().sessions_open, 0u);
}

TEST_F(HttpFrontTest, DeleteAnswersRequestsInFlight) {
  start();
  const auto session = initialize();
  auto holder = connect();
  auto headers = kPostHeaders;
  headers.emplace_back("Mcp-Session-Id", session);
  holder->send("POST", "/mcp", headers, request_text("h", "hold"));
  ASSERT_TRUE(run_until(context_, [&] { return service_.sessions[0]->held.size() == 1; }));
  EXPECT_EQ(front_->requests_in_flight(), 1u);
  client_->send("DELETE", "/mcp", {{"Mcp-Session-Id", session}});
  EXPECT_EQ(wait_done(*client_).status, 204u);
  const auto reply = wait_done(*holder);
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.json()["id"], "h");
  EXPECT_EQ(error_code_of(reply), -32000);
  EXPECT_EQ(front_->requests_in_flight(), 0u);
  // Answering later is harmless.
  service_.sessions[0]->held[0]->finish(mcp::make_success_response("h", {}));
}

TEST_F(HttpFrontTest, DnsRebindingIsRefused) {
  start();
  auto headers = kPostHeaders;
  headers.emplace_back("Host", "evil.example.com");
  headers.emplace_back("Origin", "http://evil.example.com");
  auto reply = post(initialize_text(), headers, connect().get());
  EXPECT_EQ(reply.status, 403u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
  EXPECT_TRUE(service_.sessions.empty());

  headers = kPostHeaders;
  headers.emplace_back("Host", "evil.example.com:" + std::to_string(port_));
  EXPECT_EQ(post(initialize_text(), headers, connect().get()).status, 403u);

  headers = kPostHeaders;
  headers.emplace_back("Origin", "http://evil.example.com");
  EXPECT_EQ(post(initialize_text(), headers, connect().get()).status, 403u);

  headers = kPostHeaders;
  headers.emplace_back("Origin", "null");
  EXPECT_EQ(post(initialize_text(), headers, connect().get()).status, 403u);

  // Loopback names with or without the bound port, loopback origins on any port.
  const std::vector<std::string> hosts = {"localhost:" + std::to_string(port_), "localhost",
                                          "[::1]:" + std::to_string(port_), "127.0.0.1"};
  for (const auto& host : hosts) {
    headers = kPostHeaders;
    headers.emplace_back("Host", host);
    headers.emplace_back("Origin", "http://" + host);
    EXPECT_EQ(post(initialize_text(), headers, connect().get()).status, 200u) << host;
  }
  headers = kPostHeaders;
  headers.emplace_back("Host", "localhost:1");
  EXPECT_EQ(post(initialize_text(), headers, connect().get()).status, 403u);
}

TEST_F(HttpFrontTest, ConfiguredAllowListsReplaceTheDefaults) {
  HttpFrontOptions options;
  options.allowed_hosts = {"mcp.example.com"};
  options.allowed_origins = {"https://app.example.com"};
  start(options);
  auto headers = kPostHeaders;
  headers.emplace_back("Host", "mcp.example.com:8443");
  headers.emplace_back("Origin", "https://app.example.com");
  EXPECT_EQ(post(initialize_text(), headers, connect().get()).status, 200u);
  headers = kPostHeaders;
  headers.emplace_back("Host", "localhost");
  EXPECT_EQ(post(initialize_text(), headers, connect().get()).status, 403u);
  headers = kPostHeaders;
  headers.emplace_back("Host", "mcp.example.com");
  headers.emplace_back("Origin", "http://localhost");
  EXPECT_EQ(post(initialize_text(), headers, connect().get()).status, 403u);
}

TEST_F(HttpFrontTest, MethodsAndPaths) {
  start();
  client_->send("PUT", "/mcp", {});
  auto reply = wait_done(*client_);
  EXPECT_EQ(reply.status, 405u);
  EXPECT_EQ(reply.header("allow"), "GET, POST, DELETE");
  client_->send("POST", "/sse", kPostHeaders, "{}");
  reply = wait_done(*client_);
  EXPECT_EQ(reply.status, 405u);
  EXPECT_EQ(reply.header("allow"), "GET");
  auto other = connect();
  other->send("GET", "/message", {{"Accept", "text/event-stream"}});
  reply = wait_done(*other);
  EXPECT_EQ(reply.status, 405u);
  EXPECT_EQ(reply.header("allow"), "POST");
  other->send("GET", "/elsewhere", {});
  EXPECT_EQ(wait_done(*other).status, 404u);
}

TEST_F(HttpFrontTest, GetStreamRules) {
  start();
  const auto session = initialize();
  client_->send("GET", "/mcp", {{"Mcp-Session-Id", session}, {"Accept", "application/json"}});
  EXPECT_EQ(wait_done(*client_).status, 406u);
  client_->send("GET", "/mcp", {{"Accept", "text/event-stream"}});
  EXPECT_EQ(wait_done(*client_).status, 400u);
  client_->send("GET", "/mcp",
                {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", std::string(32, 'f')}});
  EXPECT_EQ(wait_done(*client_).status, 404u);

  auto stream = connect();
  stream->send("GET", "/mcp", {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}});
  const auto head = wait_head(*stream);
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.header("content-type"), "text/event-stream");
  EXPECT_EQ(head.header("cache-control"), "no-cache");
  EXPECT_EQ(head.header("x-accel-buffering"), "no");
  std::vector<std::uint64_t> retries;
  const auto events = wait_events(*stream, 1);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(events[0].data.empty());
  EXPECT_FALSE(events[0].last_event_id.empty());
  static_cast<void>(stream->reply().events(&retries));
  EXPECT_EQ(retries, std::vector<std::uint64_t>{1000});

  auto second = connect();
  second->send("GET", "/mcp", {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}});
  const auto conflict = wait_done(*second);
  EXPECT_EQ(conflict.status, 409u);

  // The stream keeps the session from expiring and carries ClientChannel messages.
  EXPECT_EQ(call(session, request_text("n", "notify")).status, 200u);
  const auto more = wait_events(*stream, 2);
  ASSERT_GE(more.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(more[1].data)["method"], "notifications/message");
  EXPECT_NE(more[1].last_event_id, more[0].last_event_id);

  // When the client leaves, a new GET may open the stream again (the server notices the
  // close as soon as it runs; a few attempts bound the wait).
  stream.reset();
  unsigned status = 0;
  for (int attempt = 0; attempt < 100 && status != 200u; ++attempt) {
    auto retry = connect();
    retry->send("GET", "/mcp", {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}});
    status = wait_head(*retry).status;
  }
  EXPECT_EQ(status, 200u);
}

TEST_F(HttpFrontTest, MessagesForTheStandaloneStreamWaitForIt) {
  start();
  const auto session = initialize();
  EXPECT_EQ(call(session, request_text("1", "notify")).status, 200u);
  EXPECT_EQ(call(session, request_text("2", "notify")).status, 200u);
  auto stream = connect();
  stream->send("GET", "/mcp", {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}});
  const auto events = wait_events(*stream, 2);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& event : events) {
    EXPECT_EQ(nlohmann::json::parse(event.data)["method"], "notifications/message");
  }
  std::vector<std::uint64_t> retries;
  static_cast<void>(stream->reply().events(&retries));
  EXPECT_EQ(retries.size(), 1u);  // a retry block precedes the buffered events
}

TEST_F(HttpFrontTest, MaxSessionsGets503) {
  HttpFrontOptions options;
  options.max_sessions = 2;
  start(options);
  initialize();
  initialize();
  const auto reply = post(initialize_text(), kPostHeaders);
  EXPECT_EQ(reply.status, 503u);
  EXPECT_EQ(error_code_of(reply), -32000);
  EXPECT_EQ(service_.sessions.size(), 2u);
}

TEST_F(HttpFrontTest, NotificationsAndResponsesGet202) {
  start();
  const auto session = initialize();
  auto reply = call(session, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(reply.status, 202u);
  EXPECT_TRUE(reply.body.empty());
  reply = call(session, R"({"jsonrpc":"2.0","id":"srv-1","result":{}})");
  EXPECT_EQ(reply.status, 202u);
  ASSERT_EQ(service_.sessions[0]->notifications.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->notifications[0], "notifications/initialized");
  ASSERT_EQ(service_.sessions[0]->responses.size(), 1u);
}

TEST_F(HttpFrontTest, InvalidBodiesGet400WithJsonRpcErrors) {
  start();
  auto reply = post("{not json", kPostHeaders);
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::parse_error);
  reply = post(R"({"jsonrpc":"1.0","id":1,"method":"initialize"})", kPostHeaders);
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
  reply = post("[" + initialize_text() + "]", kPostHeaders);
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(HttpFrontTest, FailedInitializeLeavesNoSession) {
  start();
  const auto reply = post(request_text("i", "initialize", {{"fail", true}}), kPostHeaders);
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_params);
  EXPECT_FALSE(reply.has_header("mcp-session-id"));
  ASSERT_EQ(service_.sessions.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->closes, 1);
  EXPECT_EQ(front_->stats().sessions_open, 0u);
  EXPECT_EQ(call(service_.sessions[0]->opening.session_id, request_text("1", "echo")).status, 404u);
}

TEST_F(HttpFrontTest, SendBeforeFinishAnswersWithAStream) {
  start();
  const auto session = initialize();
  auto reply = call(session, request_text("p", "progress", {{"count", 3}}));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("content-type"), "text/event-stream");
  EXPECT_EQ(reply.header("cache-control"), "no-cache");
  EXPECT_EQ(reply.header("x-accel-buffering"), "no");
  EXPECT_TRUE(reply.done);  // the stream ended after the response
  std::vector<std::uint64_t> retries;
  const auto events = reply.events(&retries);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_TRUE(events[0].data.empty());  // priming
  EXPECT_FALSE(events[0].last_event_id.empty());
  EXPECT_EQ(retries, std::vector<std::uint64_t>{1000});
  std::set<std::string> ids;
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_TRUE(events[i].id_updated);
    ids.insert(events[i].last_event_id);
    if (i > 0) {
      EXPECT_EQ(events[i].type, "message");
    }
  }
  EXPECT_EQ(ids.size(), events.size());
  for (std::size_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(nlohmann::json::parse(events[i].data)["params"]["progress"], i);
  }
  EXPECT_EQ(nlohmann::json::parse(events[4].data)["id"], "p");

  // Ids stay unique across the session's streams; the connection is reused.
  reply = call(session, request_text("q", "progress", {{"count", 1}}));
  for (const auto& event : reply.events()) {
    EXPECT_TRUE(ids.insert(event.last_event_id).second) << event.last_event_id;
  }
}

TEST_F(HttpFrontTest, ServerToClientRequestRoundTrip) {
  start();
  const auto session = initialize();
  auto asking = connect();
  auto headers = kPostHeaders;
  headers.emplace_back("Mcp-Session-Id", session);
  asking->send("POST", "/mcp", headers, request_text("a", "ask"));
  const auto events = wait_events(*asking, 2);
  ASSERT_EQ(events.size(), 2u);
  const auto ask = nlohmann::json::parse(events[1].data);
  EXPECT_EQ(ask["method"], "sampling/createMessage");
  const auto answer =
      nlohmann::json{{"jsonrpc", "2.0"}, {"id", ask["id"]}, {"result", {{"ok", 1}}}};
  EXPECT_EQ(call(session, answer.dump()).status, 202u);
  const auto reply = wait_done(*asking);
  const auto all = reply.events();
  ASSERT_EQ(all.size(), 3u);
  const auto response = nlohmann::json::parse(all[2].data);
  EXPECT_EQ(response["id"], "a");
  EXPECT_EQ(response["result"]["answer"]["ok"], 1);
}

TEST_F(HttpFrontTest, DisconnectedStreamResumesWithLastEventId) {
  start();
  const auto session = initialize();
  const auto reply = call(session, request_text("d", "disconnect"));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_TRUE(reply.done);  // ended by disconnect(), without the response
  const auto events = reply.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].data.empty());
  EXPECT_EQ(nlohmann::json::parse(events[1].data)["method"], "notifications/progress");
  const auto last_id = events[1].last_event_id;
  EXPECT_EQ(front_->requests_in_flight(), 1u);

  // The response arrives while no client is connected, then the client resumes.
  auto& held = service_.sessions[0]->held;
  ASSERT_EQ(held.size(), 1u);
  held[0]->send(mcp::make_notification("notifications/progress",
                                       nlohmann::json{{"progressToken", "d"}, {"progress", 2}}));
  held[0]->finish(mcp::make_success_response("d", {{"late", true}}));
  auto resume = connect();
  resume->send(
      "GET", "/mcp",
      {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}, {"Last-Event-ID", last_id}});
  const auto resumed = wait_done(*resume);
  EXPECT_EQ(resumed.status, 200u);
  EXPECT_EQ(resumed.header("content-type"), "text/event-stream");
  const auto replayed = resumed.events();
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(replayed[0].data)["params"]["progress"], 2);
  const auto response = nlohmann::json::parse(replayed[1].data);
  EXPECT_EQ(response["id"], "d");
  EXPECT_EQ(response["result"]["late"], true);
  EXPECT_NE(replayed[0].last_event_id, last_id);

  // The stream is complete: resuming it again gets 204; foreign ids get 400.
  auto again = connect();
  again->send("GET", "/mcp",
              {{"Mcp-Session-Id", session},
               {"Accept", "text/event-stream"},
               {"Last-Event-ID", replayed[1].last_event_id}});
  EXPECT_EQ(wait_done(*again).status, 204u);
  again->send(
      "GET", "/mcp",
      {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}, {"Last-Event-ID", "garbage"}});
  EXPECT_EQ(wait_done(*again).status, 400u);
  again->send(
      "GET", "/mcp",
      {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}, {"Last-Event-ID", "999-1"}});
  EXPECT_EQ(wait_done(*again).status, 400u);
}

TEST_F(HttpFrontTest, ResumeReplaysOnlyTheMissedEventsOfThatStream) {
  start();
  const auto session = initialize();
  const auto reply = call(session, request_text("d", "disconnect"));
  const auto events = reply.events();
  ASSERT_EQ(events.size(), 2u);
  auto& held = service_.sessions[0]->held;
  ASSERT_EQ(held.size(), 1u);
  // Something for the standalone stream must not appear in the POST stream's replay.
  EXPECT_EQ(call(session, request_text("n", "notify")).status, 200u);
  held[0]->send(mcp::make_notification("notifications/progress",
                                       nlohmann::json{{"progressToken", "d"}, {"progress", 2}}));
  // Resuming from the priming event replays the first progress notification as well.
  auto resume = connect();
  resume->send("GET", "/mcp",
               {{"Mcp-Session-Id", session},
                {"Accept", "text/event-stream"},
                {"Last-Event-ID", events[0].last_event_id}});
  auto replayed = wait_events(*resume, 2);
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(replayed[0].data)["params"]["progress"], 1);
  EXPECT_EQ(nlohmann::json::parse(replayed[1].data)["params"]["progress"], 2);
  // It continues live.
  held[0]->finish(mcp::make_success_response("d", {}));
  const auto done = wait_done(*resume);
  replayed = done.events();
  ASSERT_EQ(replayed.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(replayed[2].data)["id"], "d");
}

TEST_F(HttpFrontTest, BatchesOnlyFor20250326) {
  start();
  const auto old_session = initialize("2025-03-26");
  const auto batch = "[" + request_text("1", "echo", {{"n", 1}}) + "," +
                     R"({"jsonrpc":"2.0","method":"notifications/x"})" + "," +
                     request_text("2", "echo", {{"n", 2}}) + ",42]";
  auto reply = call(old_session, batch);
  EXPECT_EQ(reply.status, 200u);
  const auto answers = reply.json();
  ASSERT_TRUE(answers.is_array()) << reply.body;
  ASSERT_EQ(answers.size(), 3u);
  std::set<std::string> ids;
  int invalid = 0;
  for (const auto& answer : answers) {
    if (answer["id"].is_null()) {
      ++invalid;
      EXPECT_EQ(answer["error"]["code"], mcp::error_code::invalid_request);
    } else {
      ids.insert(answer["id"].get<std::string>());
    }
  }
  EXPECT_EQ(invalid, 1);
  EXPECT_EQ(ids, (std::set<std::string>{"1", "2"}));
  // Notifications and responses only: 202.
  reply = call(old_session, R"([{"jsonrpc":"2.0","method":"notifications/x"}])");
  EXPECT_EQ(reply.status, 202u);

  const auto new_session = initialize("2025-11-25");
  reply = call(new_session, "[" + request_text("1", "echo") + "]");
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
}

TEST_F(HttpFrontTest, RequestsInFlightAreBoundedPerSession) {
  HttpFrontOptions options;
  options.max_requests_per_session = 1;
  start(options);
  const auto session = initialize();
  auto holder = connect();
  auto headers = kPostHeaders;
  headers.emplace_back("Mcp-Session-Id", session);
  holder->send("POST", "/mcp", headers, request_text("h", "hold"));
  ASSERT_TRUE(run_until(context_, [&] { return service_.sessions[0]->held.size() == 1; }));
  const auto reply = call(session, request_text("x", "echo"));
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(error_code_of(reply), -32000);
  EXPECT_EQ(reply.json()["id"], "x");
  service_.sessions[0]->held[0]->finish(mcp::make_success_response("h", {}));
  EXPECT_EQ(wait_done(*holder).status, 200u);
  EXPECT_EQ(call(session, request_text("y", "echo")).status, 200u);
}

TEST_F(HttpFrontTest, AbandonedRequestGets202) {
  start();
  const auto session = initialize();
  const auto reply = call(session, request_text("c", "abandon"));
  EXPECT_EQ(reply.status, 202u);
  EXPECT_EQ(front_->requests_in_flight(), 0u);
}

TEST_F(HttpFrontTest, IdleSessionsExpire) {
  HttpFrontOptions options;
  options.session_idle_timeout = std::chrono::milliseconds(50);
  start(options);
  const auto idle = initialize();
  const auto streaming = initialize();
  auto stream = connect();
  stream->send("GET", "/mcp", {{"Mcp-Session-Id", streaming}, {"Accept", "text/event-stream"}});
  ASSERT_EQ(wait_head(*stream).status, 200u);
  ASSERT_TRUE(run_until(context_, [&] { return front_->stats().sessions_expired >= 1; }));
  EXPECT_EQ(service_.sessions[0]->closes, 1);
  EXPECT_EQ(call(idle, request_text("1", "echo")).status, 404u);
  // The session with an open GET stream is still there.
  EXPECT_EQ(service_.sessions[1]->closes, 0);
  EXPECT_EQ(call(streaming, request_text("1", "echo")).status, 200u);
  EXPECT_EQ(front_->stats().sessions_expired, 1u);
}

TEST_F(HttpFrontTest, ForwardedHeadersReachTheSession) {
  HttpFrontOptions options;
  options.forward_headers = {"X-Tenant"};
  start(options);
  const auto session = initialize();
  EXPECT_EQ(
      call(session, request_text("1", "echo"), {{"X-Tenant", "acme"}, {"X-Other", "no"}}).status,
      200u);
  const auto& contexts = service_.sessions[0]->contexts;
  ASSERT_EQ(contexts.size(), 2u);
  ASSERT_EQ(contexts[1].headers.size(), 1u);
  EXPECT_EQ(contexts[1].headers[0].first, "x-tenant");
  EXPECT_EQ(contexts[1].headers[0].second, "acme");
}

TEST_F(HttpFrontTest, LegacySseTransport) {
  start();
  auto stream = connect();
  stream->send("GET", "/sse", {{"Accept", "text/event-stream"}});
  auto events = wait_events(*stream, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "endpoint");
  const std::string prefix = "/message?sessionId=";
  ASSERT_EQ(events[0].data.rfind(prefix, 0), 0u) << events[0].data;
  const auto id = events[0].data.substr(prefix.size());
  EXPECT_EQ(id.size(), 32u);
  ASSERT_EQ(service_.sessions.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->opening.transport, "sse");

  client_->send("POST", events[0].data, {{"Content-Type", "application/json"}},
                initialize_text("2024-11-05"));
  auto reply = wait_done(*client_);
  EXPECT_EQ(reply.status, 202u);
  client_->send("POST", events[0].data, {{"Content-Type", "application/json"}},
                request_text("p", "progress", {{"count", 1}}));
  EXPECT_EQ(wait_done(*client_).status, 202u);
  events = wait_events(*stream, 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].type, "message");
  EXPECT_EQ(nlohmann::json::parse(events[1].data)["id"], "init");
  EXPECT_EQ(nlohmann::json::parse(events[2].data)["method"], "notifications/progress");
  EXPECT_EQ(nlohmann::json::parse(events[3].data)["id"], "p");
  for (const auto& event : events) {
    EXPECT_TRUE(event.last_event_id.empty());  // legacy streams are not resumable
  }

  client_->send("POST", "/message?sessionId=" + std::string(32, '0'),
                {{"Content-Type", "application/json"}}, request_text("1", "echo"));
  EXPECT_EQ(wait_done(*client_).status, 404u);
  client_->send("POST", "/message", {{"Content-Type", "application/json"}},
                request_text("1", "echo"));
  EXPECT_EQ(wait_done(*client_).status, 400u);
  client_->send("POST", events[0].data, {{"Content-Type", "application/json"}}, "{bad");
  reply = wait_done(*client_);
  EXPECT_EQ(reply.status, 400u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::parse_error);
  // A legacy session is not reachable through the Streamable HTTP endpoint.
  EXPECT_EQ(call(id, request_text("1", "echo")).status, 404u);

  // The session ends when its stream closes.
  stream.reset();
  ASSERT_TRUE(run_until(context_, [&] { return service_.sessions[0]->closes == 1; }));
  client_->send("POST", "/message?sessionId=" + id, {{"Content-Type", "application/json"}},
                request_text("1", "echo"));
  EXPECT_EQ(wait_done(*client_).status, 404u);
}

TEST_F(HttpFrontTest, LegacyFrontEndChecksHostAndOrigin) {
  start();
  auto stream = connect();
  stream->send("GET", "/sse",
               {{"Accept", "text/event-stream"}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(wait_done(*stream).status, 403u);
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(HttpFrontTest, SlowClientsAreCutOff) {
  HttpFrontOptions options;
  options.header_timeout = std::chrono::milliseconds(100);
  start(options);
  auto slow = connect();
  slow->send_raw("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  EXPECT_TRUE(run_until(context_, [&] { return slow->closed(); }));
}

TEST_F(HttpFrontTest, ConnectionsAreBounded) {
  HttpFrontOptions options;
  options.max_connections = 2;
  start(options);  // client_ is the first connection
  auto second = connect();
  second->send("GET", "/elsewhere", {});
  EXPECT_EQ(wait_done(*second).status, 404u);
  auto third = connect();
  third->send("GET", "/elsewhere", {});
  const auto refused = wait_done(*third);
  EXPECT_EQ(refused.status, 503u);
  EXPECT_TRUE(run_until(context_, [&] { return third->closed(); }));
}

TEST_F(HttpFrontTest, StreamQueueOverflowClosesTheConnectionAndCounts) {
  HttpFrontOptions options;
  options.max_stream_queue_bytes = 400;
  start(options);
  const auto session = initialize();
  // 50 notifications are queued at once, before the connection can write any of them.
  auto headers = kPostHeaders;
  headers.emplace_back("Mcp-Session-Id", session);
  client_->send("POST", "/mcp", headers, request_text("p", "progress", {{"count", 50}}));
  EXPECT_TRUE(run_until(context_, [&] { return client_->closed(); }));
  EXPECT_FALSE(client_->reply_done());
  EXPECT_GT(front_->stats().events_dropped, 0u);
  EXPECT_EQ(front_->requests_in_flight(), 0u);
}

TEST_F(HttpFrontTest, ExpectContinueIsGranted) {
  start();
  const auto body = initialize_text();
  client_->send_raw(
      "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, "
      "text/event-stream\r\nContent-Type: application/json\r\nExpect: "
      "100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  EXPECT_EQ(wait_done(*client_).status, 100u);
  client_->next_reply();
  client_->send_raw(body);
  const auto reply = wait_done(*client_);
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("mcp-session-id").size(), 32u);
}

TEST_F(HttpFrontTest, IdleStreamsGetKeepAliveComments) {
  HttpFrontOptions options;
  options.keepalive_interval = std::chrono::milliseconds(20);
  start(options);
  const auto session = initialize();
  auto stream = connect();
  stream->send("GET", "/mcp", {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}});
  EXPECT_TRUE(run_until(context_, [&] {
    const auto body = stream->reply().body;
    return body.find("\n:\n") != std::string::npos;
  }));
  EXPECT_EQ(stream->reply().events().size(), 1u);  // comments are not events
}

TEST_F(HttpFrontTest, Http10ClientsGetAStreamUntilClose) {
  start();
  const auto session = initialize();
  auto old = connect();
  old->send_raw(
      "POST /mcp HTTP/1.0\r\nAccept: application/json, text/event-stream\r\n"
      "Content-Type: application/json\r\nMcp-Session-Id: " +
      session + "\r\nContent-Length: " + std::to_string(request_text("p", "progress").size()) +
      "\r\n\r\n" + request_text("p", "progress"));
  EXPECT_TRUE(run_until(context_, [&] { return old->closed(); }));
  const auto reply = old->reply();
  EXPECT_EQ(reply.status, 200u);
  EXPECT_FALSE(reply.has_header("transfer-encoding"));
  const auto events = Reply{reply.status, reply.headers, reply.body, true}.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(nlohmann::json::parse(events[3].data)["id"], "p");
}

TEST_F(HttpFrontTest, ShutdownClosesSessionsAndConnections) {
  start();
  const auto session = initialize();
  auto stream = connect();
  stream->send("GET", "/mcp", {{"Mcp-Session-Id", session}, {"Accept", "text/event-stream"}});
  ASSERT_EQ(wait_head(*stream).status, 200u);
  front_->stop_accepting();
  bool done = false;
  front_->shutdown([&] { done = true; });
  ASSERT_TRUE(run_until(context_, [&] { return done; }));
  EXPECT_EQ(service_.sessions[0]->closes, 1);
  EXPECT_TRUE(run_until(context_, [&] { return stream->closed(); }));
  EXPECT_TRUE(stream->reply_done());  // the stream was ended properly
  EXPECT_EQ(front_->stats().sessions_open, 0u);
  front_.reset();
}

}  // namespace
}  // namespace mcpgw::front
