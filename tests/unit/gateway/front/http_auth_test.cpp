// Authentication, session ownership, RFC 9728 discovery, refusals with HTTP status and the
// connection limits of the HTTP front end: the real front end on 127.0.0.1:0 with a scripted
// Service and a FakeAuthenticator, driven by raw HTTP/1.1 clients on the same io_context.
#include <boost/asio/steady_timer.hpp>

#include "gateway/front/http_front.hpp"
#include "gateway/front/http_sessions.hpp"
#include "tests/unit/gateway/front/http_test_support.hpp"

namespace mcpgw::front {
namespace {

using testing::Client;
using testing::FakeAuthenticator;
using testing::Reply;
using testing::run_until;
using testing::ScriptedService;
using Headers = std::vector<std::pair<std::string, std::string>>;

const Headers kPostHeaders = {{"Accept", "application/json, text/event-stream"},
                              {"Content-Type", "application/json"}};

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

Headers with(Headers headers, const Headers& extra) {
  headers.insert(headers.end(), extra.begin(), extra.end());
  return headers;
}

std::int64_t error_code_of(const Reply& reply) {
  const auto json = reply.json();
  if (!json.is_object() || !json.contains("error")) {
    return 0;
  }
  return json["error"].value("code", std::int64_t{0});
}

const Headers kAlice = {{"Authorization", "Bearer good-alice"}};
const Headers kBob = {{"Authorization", "Bearer good-bob"}};

class AuthFrontTest : public ::testing::Test {
 protected:
  void start(HttpFrontOptions options = {}, bool with_authenticator = true) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (with_authenticator) {
      options.authenticator = &authenticator_;
    }
    front_ = make_http_front(context_, service_, std::move(options));
    auto port = front_->listen();
    ASSERT_TRUE(port) << port.error();
    port_ = *port;
    client_ = connect();
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
  Reply send(const std::string& method, const std::string& target, const Headers& headers,
             const std::string& body = {}, Client* client = nullptr) {
    auto& target_client = client != nullptr ? *client : *client_;
    target_client.send(method, target, headers, body);
    return wait_done(target_client);
  }
  Reply post(const std::string& body, const Headers& headers, Client* client = nullptr) {
    return send("POST", "/mcp", headers, body, client);
  }
  // initialize as `who`; returns the session id ("" when refused).
  std::string initialize(const Headers& who) {
    const auto reply = post(initialize_text(), with(kPostHeaders, who));
    EXPECT_EQ(reply.status, 200u) << reply.body;
    return reply.header("mcp-session-id");
  }
  Reply call(const std::string& session, const Headers& who, const std::string& body,
             Client* client = nullptr) {
    auto headers = with(kPostHeaders, who);
    headers.emplace_back("Mcp-Session-Id", session);
    return post(body, headers, client);
  }

  boost::asio::io_context context_;
  ScriptedService service_;
  FakeAuthenticator authenticator_;
  std::unique_ptr<HttpFront> front_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Client> client_;
};

// ---------------------------------------------------------------------------------------------
// Authentication of every request

TEST_F(AuthFrontTest, MissingCredentialsGet401WithTheChallenge) {
  start();
  const auto reply = post(initialize_text(), kPostHeaders);
  EXPECT_EQ(reply.status, 401u);
  EXPECT_EQ(reply.header("www-authenticate"), FakeAuthenticator::kChallenge);
  EXPECT_EQ(reply.header("content-type"), "application/json");
  EXPECT_EQ(error_code_of(reply), http::kUnauthorizedError);
  EXPECT_TRUE(reply.json()["id"].is_null());
  EXPECT_EQ(reply.json()["error"]["message"], "Unauthorized");
  EXPECT_TRUE(service_.sessions.empty());
  // The connection stays usable: the client retries with a token.
  EXPECT_FALSE(initialize(kAlice).empty());
  EXPECT_EQ(service_.sessions.size(), 1u);
}

TEST_F(AuthFrontTest, InvalidTokenGets401WithReason) {
  start();
  const auto reply =
      post(initialize_text(), with(kPostHeaders, {{"Authorization", "Bearer forged"}}));
  EXPECT_EQ(reply.status, 401u);
  EXPECT_EQ(reply.header("www-authenticate"),
            std::string(FakeAuthenticator::kChallenge) + ", error=\"invalid_token\"");
  EXPECT_EQ(reply.json()["error"]["message"], "Unauthorized: invalid_token: bad signature");
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(AuthFrontTest, InsufficientScopeGets403Passthrough) {
  start();
  const auto reply =
      post(initialize_text(), with(kPostHeaders, {{"Authorization", "Bearer narrow-carol"}}));
  EXPECT_EQ(reply.status, 403u);
  EXPECT_EQ(reply.header("www-authenticate"),
            "Bearer error=\"insufficient_scope\", scope=\"mcp:tools\"");
  EXPECT_EQ(error_code_of(reply), http::kForbiddenError);
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(AuthFrontTest, TokenInTheQueryStringGets400) {
  start();
  const std::vector<std::string> targets = {"/mcp?access_token=abc",
                                            "/mcp?x=1&ACCESS_TOKEN=abc",
                                            "/mcp?token=abc",
                                            "/mcp?id_token=abc",
                                            "/mcp?api_key=abc",
                                            "/mcp?access%5Ftoken=abc",
                                            "/mcp?q=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig"};
  for (const auto& target : targets) {
    authenticator_.seen.clear();
    const auto reply =
        send("POST", target, with(kPostHeaders, kAlice), initialize_text(), client_.get());
    EXPECT_EQ(reply.status, 400u) << target;
    EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request) << target;
    ASSERT_EQ(authenticator_.seen.size(), 1u) << target;
    EXPECT_TRUE(authenticator_.seen[0].token_in_query) << target;
  }
  EXPECT_TRUE(service_.sessions.empty());
  // Ordinary parameters are no tokens.
  authenticator_.seen.clear();
  const auto reply = send("POST", "/mcp?tokens_left=3&mode=eyJ", with(kPostHeaders, kAlice),
                          initialize_text(), client_.get());
  EXPECT_EQ(reply.status, 200u);
  ASSERT_EQ(authenticator_.seen.size(), 1u);
  EXPECT_FALSE(authenticator_.seen[0].token_in_query);
}

TEST_F(AuthFrontTest, CredentialsAreExtractedFromTheConfiguredHeaders) {
  HttpFrontOptions options;
  options.api_key_header = "X-Test-Key";
  start(options);
  const auto session = initialize({{"X-Test-Key", "key-deploy"}});
  ASSERT_FALSE(session.empty());
  ASSERT_EQ(authenticator_.seen.size(), 1u);
  EXPECT_EQ(authenticator_.seen[0].api_key, std::optional<std::string>("key-deploy"));
  EXPECT_FALSE(authenticator_.seen[0].authorization);
  EXPECT_EQ(authenticator_.seen[0].host, "127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(authenticator_.seen[0].cert_subject, "");
  ASSERT_EQ(service_.sessions.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->opening.principal_key, "key:deploy");

  // The default header name is not looked at.
  const auto other = post(initialize_text(), with(kPostHeaders, {{"X-API-Key", "key-deploy"}}));
  EXPECT_EQ(other.status, 401u);

  // Two values for one credential are refused before the authenticator.
  authenticator_.seen.clear();
  auto twice = post(initialize_text(), with(kPostHeaders, {{"Authorization", "Bearer good-alice"},
                                                           {"Authorization", "Bearer good-bob"}}));
  EXPECT_EQ(twice.status, 400u);
  twice = post(initialize_text(),
               with(kPostHeaders, {{"X-Test-Key", "key-a"}, {"x-test-key", "key-b"}}));
  EXPECT_EQ(twice.status, 400u);
  EXPECT_TRUE(authenticator_.seen.empty());
}

TEST_F(AuthFrontTest, EveryMessageCarriesTheRequestsPrincipal) {
  start();
  const auto session = initialize(kAlice);
  ASSERT_EQ(service_.sessions.size(), 1u);
  auto& logic = *service_.sessions[0];
  EXPECT_EQ(logic.opening.principal_key, "jwt: alice");
  const auto reply = call(session, kAlice, request_text("1", "echo", {{"x", 1}}));
  EXPECT_EQ(reply.status, 200u);
  ASSERT_EQ(logic.contexts.size(), 2u);
  for (const auto& context : logic.contexts) {
    ASSERT_TRUE(context.principal);
    EXPECT_EQ(context.principal->subject, "alice");
    EXPECT_EQ(context.principal_key, "jwt: alice");
  }
  // Each request is authenticated on its own: a request without credentials is refused even
  // with a valid session id.
  const auto bare = call(session, {}, request_text("2", "echo"));
  EXPECT_EQ(bare.status, 401u);
  EXPECT_EQ(logic.contexts.size(), 2u);
}

TEST_F(AuthFrontTest, AuthenticationComesAfterHostOriginAndBeforeEverythingElse) {
  start();
  // Host and Origin first: the authenticator is not even asked.
  auto reply = post(initialize_text(), with(kPostHeaders, {{"Host", "evil.example"}}));
  EXPECT_EQ(reply.status, 403u);
  reply = post(initialize_text(), with(kPostHeaders, {{"Origin", "http://evil.example"}}));
  EXPECT_EQ(reply.status, 403u);
  EXPECT_TRUE(authenticator_.seen.empty());
  // Then credentials, before the session lookup and before the body is parsed.
  reply = call("0123456789abcdef0123456789abcdef", {}, request_text("1", "echo"));
  EXPECT_EQ(reply.status, 401u);
  reply = post("{not json", kPostHeaders);
  EXPECT_EQ(reply.status, 401u);
  reply = send("DELETE", "/mcp", {{"Mcp-Session-Id", "0123456789abcdef0123456789abcdef"}});
  EXPECT_EQ(reply.status, 401u);
  reply = send("GET", "/sse", {{"Accept", "text/event-stream"}});
  EXPECT_EQ(reply.status, 401u);
  reply = send("POST", "/message?sessionId=abc", {{"Content-Type", "application/json"}},
               request_text("1", "echo"));
  EXPECT_EQ(reply.status, 401u);
  EXPECT_EQ(authenticator_.seen.size(), 5u);
  EXPECT_TRUE(service_.sessions.empty());
  // With an authenticated caller the same requests get their ordinary answers.
  reply = call("0123456789abcdef0123456789abcdef", kAlice, request_text("1", "echo"));
  EXPECT_EQ(reply.status, 404u);
  reply = post("{not json", with(kPostHeaders, kAlice));
  EXPECT_EQ(reply.status, 400u);
}

TEST_F(AuthFrontTest, ExpectContinueIsGrantedOnlyAfterAuthentication) {
  start();
  const auto body = initialize_text();
  std::string head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                     "\r\nAccept: application/json, text/event-stream\r\nContent-Type: "
                     "application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  client_->next_reply();
  client_->send_raw(head);
  const auto refused = wait_done(*client_);
  EXPECT_EQ(refused.status, 401u);  // no 100 Continue first
  EXPECT_TRUE(run_until(context_, [&] { return client_->closed(); }));
}

TEST_F(AuthFrontTest, AnonymousWithoutAuthenticator) {
  start({}, false);
  const auto session = initialize({});
  ASSERT_EQ(service_.sessions.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->opening.principal_key, "anonymous");
  ASSERT_EQ(service_.sessions[0]->contexts.size(), 1u);
  EXPECT_FALSE(service_.sessions[0]->contexts[0].principal);
  EXPECT_EQ(service_.sessions[0]->contexts[0].principal_key, "anonymous");
  // A token in the query is nobody's business without an authenticator.
  const auto reply = send("POST", "/mcp?access_token=x", with(kPostHeaders, {}),
                          request_text("1", "echo"), client_.get());
  EXPECT_EQ(reply.status, 400u);  // no session id: the usual 400, not an auth refusal
  EXPECT_EQ(reply.json()["error"]["message"], "Bad Request: Mcp-Session-Id header is required");
  EXPECT_TRUE(authenticator_.seen.empty());
}

// ---------------------------------------------------------------------------------------------
// An authenticator that decides later

TEST_F(AuthFrontTest, DelayedDecisionsWaitWithoutBlockingTheLoop) {
  start();
  authenticator_.delay = true;
  client_->send("POST", "/mcp", with(kPostHeaders, kAlice), initialize_text());
  ASSERT_TRUE(run_until(context_, [&] { return authenticator_.pending.size() == 1; }));
  // Other connections are served meanwhile.
  auto other = connect();
  const auto metadata =
      send("GET", "/.well-known/oauth-protected-resource/mcp", {}, {}, other.get());
  EXPECT_EQ(metadata.status, 200u);
  EXPECT_FALSE(client_->head_ready());
  EXPECT_TRUE(service_.sessions.empty());

  authenticator_.release();
  const auto reply = wait_done(*client_);
  EXPECT_EQ(reply.status, 200u);
  const auto session = reply.header("mcp-session-id");
  ASSERT_FALSE(session.empty());

  // A delayed refusal too.
  client_->send("POST", "/mcp", with(kPostHeaders, {{"Authorization", "Bearer nope"}}),
                initialize_text());
  ASSERT_TRUE(run_until(context_, [&] { return authenticator_.pending.size() == 1; }));
  authenticator_.release();
  EXPECT_EQ(wait_done(*client_).status, 401u);
  EXPECT_EQ(service_.sessions.size(), 1u);
}

TEST_F(AuthFrontTest, ShutdownWhileADecisionIsPending) {
  start();
  authenticator_.delay = true;
  client_->send("POST", "/mcp", with(kPostHeaders, kAlice), initialize_text());
  ASSERT_TRUE(run_until(context_, [&] { return authenticator_.pending.size() == 1; }));
  bool done = false;
  front_->shutdown([&] { done = true; });
  EXPECT_TRUE(run_until(context_, [&] { return done && client_->closed(); }));
  front_.reset();
  // The late decision finds nobody waiting.
  authenticator_.release();
  context_.restart();
  context_.run_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(service_.sessions.empty());
}

// ---------------------------------------------------------------------------------------------
// Sessions belong to their principal

TEST_F(AuthFrontTest, SessionHijackIsAnsweredLikeAnUnknownSession) {
  start();
  const auto session = initialize(kAlice);
  ASSERT_FALSE(session.empty());
  const auto unknown = call("0123456789abcdef0123456789abcdef", kBob, request_text("1", "echo"));
  EXPECT_EQ(unknown.status, 404u);

  // POST, GET, resume and DELETE by another principal: exactly the unknown-session answer.
  const auto hijack = call(session, kBob, request_text("1", "echo"));
  EXPECT_EQ(hijack.status, unknown.status);
  EXPECT_EQ(hijack.body, unknown.body);
  EXPECT_EQ(hijack.header("content-type"), unknown.header("content-type"));
  EXPECT_EQ(error_code_of(hijack), http::kSessionNotFound);
  auto stream = send("GET", "/mcp",
                     with({{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}}, kBob));
  EXPECT_EQ(stream.status, 404u);
  EXPECT_EQ(stream.body, unknown.body);
  stream = send(
      "GET", "/mcp",
      with({{"Accept", "text/event-stream"}, {"Mcp-Session-Id", session}, {"Last-Event-ID", "0-1"}},
           kBob));
  EXPECT_EQ(stream.status, 404u);
  const auto removed = send("DELETE", "/mcp", with({{"Mcp-Session-Id", session}}, kBob));
  EXPECT_EQ(removed.status, 404u);
  EXPECT_EQ(removed.body, unknown.body);
  // The same user through another credential is another principal.
  const auto by_key = call(session, {{"X-API-Key", "key-alice"}}, request_text("1", "echo"));
  EXPECT_EQ(by_key.status, 404u);

  // Nothing reached the session, and it still works for its owner.
  ASSERT_EQ(service_.sessions.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->methods, std::vector<std::string>{"initialize"});
  EXPECT_EQ(service_.sessions[0]->closes, 0);
  const auto own = call(session, kAlice, request_text("2", "echo", {{"y", 2}}));
  EXPECT_EQ(own.status, 200u);
  EXPECT_EQ(own.json()["result"]["y"], 2);
}

TEST_F(AuthFrontTest, LegacySessionHijackIsAnsweredLikeAnUnknownSession) {
  start();
  auto stream = connect();
  stream->send("GET", "/sse", with({{"Accept", "text/event-stream"}}, kAlice));
  std::string endpoint;
  ASSERT_TRUE(run_until(context_, [&] {
    const auto events = stream->reply().events();
    if (!events.empty()) {
      endpoint = events[0].data;
    }
    return !endpoint.empty();
  }));
  ASSERT_EQ(service_.sessions.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->opening.principal_key, "jwt: alice");
  const Headers json = {{"Content-Type", "application/json"}};
  const auto unknown = send("POST", "/message?sessionId=0123456789abcdef0123456789abcdef",
                            with(json, kBob), request_text("1", "echo"));
  EXPECT_EQ(unknown.status, 404u);
  const auto hijack = send("POST", endpoint, with(json, kBob), request_text("1", "echo"));
  EXPECT_EQ(hijack.status, 404u);
  EXPECT_EQ(hijack.body, unknown.body);
  EXPECT_TRUE(service_.sessions[0]->methods.empty());
  const auto own = send("POST", endpoint, with(json, kAlice), request_text("1", "echo"));
  EXPECT_EQ(own.status, 202u);
  ASSERT_TRUE(run_until(context_, [&] { return service_.sessions[0]->methods.size() == 1; }));
  ASSERT_EQ(service_.sessions[0]->contexts.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->contexts[0].principal_key, "jwt: alice");
}

TEST_F(AuthFrontTest, SessionsPerPrincipalAreBounded) {
  HttpFrontOptions options;
  options.max_sessions_per_principal = 2;
  start(options);
  const auto first = initialize(kAlice);
  const auto second = initialize(kAlice);
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  const auto refused = post(initialize_text(), with(kPostHeaders, kAlice));
  EXPECT_EQ(refused.status, 429u);
  EXPECT_EQ(error_code_of(refused), http::kServerLimitError);
  EXPECT_NE(refused.json()["error"]["message"].get<std::string>().find(
                "too many sessions for this principal (limit 2)"),
            std::string::npos);
  EXPECT_EQ(service_.sessions.size(), 2u);
  // Others are not affected.
  EXPECT_FALSE(initialize(kBob).empty());
  // Ending one makes room again.
  const auto removed = send("DELETE", "/mcp", with({{"Mcp-Session-Id", first}}, kAlice));
  EXPECT_EQ(removed.status, 204u);
  EXPECT_FALSE(initialize(kAlice).empty());
  EXPECT_EQ(post(initialize_text(), with(kPostHeaders, kAlice)).status, 429u);
  // A failed initialize does not keep its place.
  EXPECT_EQ(front_->stats().sessions_open, 3u);
}

TEST_F(AuthFrontTest, AnonymousSessionsAreBoundedByMaxSessionsOnly) {
  HttpFrontOptions options;
  options.max_sessions_per_principal = 1;
  options.max_sessions = 3;
  start(options);
  authenticator_.allow_anonymous = true;
  EXPECT_FALSE(initialize({}).empty());
  EXPECT_FALSE(initialize({}).empty());
  ASSERT_EQ(service_.sessions.size(), 2u);
  EXPECT_EQ(service_.sessions[1]->opening.principal_key, "anonymous");
  ASSERT_EQ(service_.sessions[1]->contexts.size(), 1u);
  ASSERT_TRUE(service_.sessions[1]->contexts[0].principal);
  EXPECT_FALSE(service_.sessions[1]->contexts[0].principal->authenticated);
  EXPECT_FALSE(initialize(kAlice).empty());
  EXPECT_EQ(post(initialize_text(), kPostHeaders).status, 503u);
}

// ---------------------------------------------------------------------------------------------
// RFC 9728 Protected Resource Metadata

TEST_F(AuthFrontTest, ProtectedResourceMetadataAtPathAndRoot) {
  start();
  for (const std::string target :
       {"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"}) {
    const auto reply = send("GET", target, {});
    EXPECT_EQ(reply.status, 200u) << target;
    EXPECT_EQ(reply.header("content-type"), "application/json");
    const auto document = reply.json();
    EXPECT_EQ(document["resource"], "http://127.0.0.1:" + std::to_string(port_) + "/mcp");
    EXPECT_EQ(document["authorization_servers"][0], "https://as.example");
  }
  EXPECT_TRUE(authenticator_.seen.empty());  // no credentials needed
  EXPECT_EQ(send("GET", "/.well-known/oauth-protected-resource/other", {}).status, 404u);
  const auto post_reply = send("POST", "/.well-known/oauth-protected-resource", {}, "{}");
  EXPECT_EQ(post_reply.status, 405u);
  EXPECT_EQ(post_reply.header("allow"), "GET");
  EXPECT_EQ(send("GET", "/.well-known/oauth-protected-resource", {{"Host", "evil.example"}}).status,
            403u);
}

TEST_F(AuthFrontTest, NoMetadataWithoutAuthenticator) {
  start({}, false);
  EXPECT_EQ(send("GET", "/.well-known/oauth-protected-resource/mcp", {}).status, 404u);
  EXPECT_EQ(send("GET", "/.well-known/oauth-protected-resource", {}).status, 404u);
}

// ---------------------------------------------------------------------------------------------
// ResponseStream::refuse

TEST_F(AuthFrontTest, RefusalOfALoneRequestGets429WithRetryAfter) {
  start({}, false);
  const auto session = initialize({});
  auto reply = call(session, {}, request_text("r", "refuse"));
  EXPECT_EQ(reply.status, 429u);
  EXPECT_EQ(reply.header("retry-after"), "7");
  EXPECT_EQ(reply.header("content-type"), "application/json");
  EXPECT_EQ(reply.json()["id"], "r");
  EXPECT_EQ(error_code_of(reply), -32005);
  EXPECT_EQ(reply.json()["error"]["data"]["retryAfterMs"], 7000);

  // Without a retry time there is no Retry-After; another status passes too.
  reply = call(session, {}, request_text("r", "refuse", {{"retry", 0}, {"status", 503}}));
  EXPECT_EQ(reply.status, 503u);
  EXPECT_FALSE(reply.has_header("retry-after"));
  // A status that is no refusal is ignored.
  reply = call(session, {}, request_text("r", "refuse", {{"status", 200}}));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(error_code_of(reply), -32005);
  // The connection is still usable.
  EXPECT_EQ(call(session, {}, request_text("e", "echo")).status, 200u);
}

TEST_F(AuthFrontTest, RefusalOnAStreamOrInABatchIsJustTheErrorResponse) {
  start({}, false);
  const auto session = initialize({});
  // Something was streamed already: the status is 200 and the error is the last event.
  auto reply = call(session, {}, request_text("r", "refuse", {{"progress", 1}}));
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.header("content-type"), "text/event-stream");
  const auto events = reply.events();
  ASSERT_FALSE(events.empty());
  const auto last = nlohmann::json::parse(events.back().data);
  EXPECT_EQ(last["error"]["code"], -32005);
  EXPECT_FALSE(reply.has_header("retry-after"));

  // A batch (2025-03-26) answers with every response.
  const auto old_session = initialize_text("2025-03-26");
  const auto opened = post(old_session, kPostHeaders);
  ASSERT_EQ(opened.status, 200u);
  const auto batch =
      nlohmann::json::array({nlohmann::json::parse(request_text("a", "refuse")),
                             nlohmann::json::parse(request_text("b", "echo", {{"z", 1}}))});
  reply = call(opened.header("mcp-session-id"), {}, batch.dump());
  EXPECT_EQ(reply.status, 200u);
  EXPECT_FALSE(reply.has_header("retry-after"));
  ASSERT_TRUE(reply.json().is_array());
  EXPECT_EQ(reply.json().size(), 2u);
}

TEST_F(AuthFrontTest, LegacyRefusalGoesOnTheStream) {
  start({}, false);
  auto stream = connect();
  stream->send("GET", "/sse", {{"Accept", "text/event-stream"}});
  std::string endpoint;
  ASSERT_TRUE(run_until(context_, [&] {
    const auto events = stream->reply().events();
    if (!events.empty()) {
      endpoint = events[0].data;
    }
    return !endpoint.empty();
  }));
  const auto reply =
      send("POST", endpoint, {{"Content-Type", "application/json"}}, request_text("r", "refuse"));
  EXPECT_EQ(reply.status, 202u);
  ASSERT_TRUE(run_until(context_, [&] { return stream->reply().events().size() >= 2; }));
  const auto events = stream->reply().events();
  EXPECT_EQ(nlohmann::json::parse(events[1].data)["error"]["code"], -32005);
}

// ---------------------------------------------------------------------------------------------
// Hard limits

// Sends `text` one byte per `interval`; counts what went out.
class TrickleWriter {
 public:
  TrickleWriter(boost::asio::io_context& context, std::uint16_t port, std::string text,
                std::chrono::milliseconds interval)
      : socket_(context), timer_(context), text_(std::move(text)), interval_(interval) {
    boost::system::error_code ignored;
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ignored);
    read();
    next();
  }
  std::size_t sent() const { return sent_; }
  bool closed() const { return *closed_; }
  const std::string& received() const { return *received_; }

 private:
  void read() {
    auto buffer = std::make_shared<std::array<char, 1024>>();
    socket_.async_read_some(boost::asio::buffer(*buffer),
                            [this, buffer, closed = closed_, received = received_](
                                const boost::system::error_code& error, std::size_t bytes) {
                              if (error) {
                                *closed = true;
                                return;
                              }
                              received->append(buffer->data(), bytes);
                              read();
                            });
  }
  void next() {
    if (sent_ >= text_.size() || *closed_) {
      return;
    }
    boost::system::error_code write_error;
    boost::asio::write(socket_, boost::asio::buffer(text_.data() + sent_, 1), write_error);
    if (write_error) {
      *closed_ = true;
      return;
    }
    ++sent_;
    timer_.expires_after(interval_);
    timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error) {
        next();
      }
    });
  }

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::string text_;
  std::chrono::milliseconds interval_;
  std::size_t sent_ = 0;
  std::shared_ptr<bool> closed_ = std::make_shared<bool>(false);
  std::shared_ptr<std::string> received_ = std::make_shared<std::string>();
};

TEST_F(AuthFrontTest, SlowlorisHeadIsCutOffAfterTheHeaderTimeout) {
  HttpFrontOptions options;
  options.header_timeout = std::chrono::milliseconds(300);
  start(options, false);
  // Each byte comes well within the timeout, the whole head does not.
  const std::string head = "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                           "\r\nAccept: application/json, text/event-stream\r\n"
                           "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  {
    TrickleWriter slow(context_, port_, head, std::chrono::milliseconds(40));
    ASSERT_TRUE(run_until(context_, [&] { return slow.closed(); }));
    EXPECT_LT(slow.sent(), head.size());
    EXPECT_GE(slow.sent(), 2u);
    EXPECT_EQ(slow.received(), "");  // closed without an answer
  }
  EXPECT_TRUE(service_.sessions.empty());
  // Ordinary clients are unaffected (on a new connection: client_ idled past the timeout).
  client_ = connect();
  EXPECT_FALSE(initialize({}).empty());
}

TEST_F(AuthFrontTest, SlowBodyIsCutOffAfterTheBodyTimeout) {
  HttpFrontOptions options;
  options.body_timeout = std::chrono::milliseconds(200);
  start(options, false);
  client_->send_raw("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
                    "\r\nAccept: application/json, text/event-stream\r\nContent-Type: "
                    "application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\":");
  EXPECT_TRUE(run_until(context_, [&] { return client_->closed(); }));
  EXPECT_FALSE(client_->head_ready());
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(AuthFrontTest, IdleKeepAliveConnectionsCloseAfterTheIdleTimeout) {
  HttpFrontOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  options.header_timeout = std::chrono::milliseconds(5000);
  start(options, false);
  EXPECT_FALSE(initialize({}).empty());
  EXPECT_FALSE(client_->closed());
  EXPECT_TRUE(run_until(context_, [&] { return client_->closed(); }));
}

TEST_F(AuthFrontTest, OversizeHeadGets431BeforeAuthentication) {
  HttpFrontOptions options;
  options.max_header_bytes = 2048;
  start(options);
  const auto reply =
      post(initialize_text(), with(kPostHeaders, {{"X-Padding", std::string(4096, 'a')}}));
  EXPECT_EQ(reply.status, 431u);
  EXPECT_EQ(error_code_of(reply), mcp::error_code::invalid_request);
  EXPECT_TRUE(authenticator_.seen.empty());
  EXPECT_TRUE(run_until(context_, [&] { return client_->closed(); }));
}

}  // namespace
}  // namespace mcpgw::front
