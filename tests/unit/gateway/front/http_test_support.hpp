// Test helpers for the HTTP front end: a scripted server::Service whose methods exercise every
// ResponseStream path, and a small HTTP/1.1 client on the test's io_context (everything runs on
// the test thread; waits run the io_context until a condition holds, with a bounded deadline).
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include "gateway/auth/authenticator.hpp"
#include "gateway/server/service.hpp"
#include "mcp/jsonrpc.hpp"
#include "mcp/sse.hpp"

namespace mcpgw::front::testing {

// Methods:
//   initialize  answers with params.protocolVersion (or 2025-11-25); params.fail: an error
//   echo        answers with its params, at once
//   progress    sends params.count progress notifications, then answers
//   ask         sends a sampling/createMessage request (id "ask-<n>") and answers with the
//               client's result once the client's response arrives
//   hold        keeps the request; the test answers it through held()
//   disconnect  sends one progress notification, calls disconnect(), keeps the request
//   notify      sends a notification through the ClientChannel, then answers
//   abandon     abandons the request
//   refuse      sends params.progress notifications first (default 0), then refuses with
//               -32005 and ResponseStream::Refusal{params.status (429), params.retry (7) s}
class ScriptedSession final : public server::Session {
 public:
  ScriptedSession(std::shared_ptr<server::ClientChannel> client_channel,
                  server::SessionOpening session_opening)
      : channel(std::move(client_channel)), opening(std::move(session_opening)) {}

  void handle_request(mcp::Message request, std::shared_ptr<server::ResponseStream> stream,
                      const server::RequestContext& context) override {
    contexts.push_back(context);
    methods.push_back(request.method);
    const auto params = request.params.value_or(nlohmann::json::object());
    const auto& id = *request.id;
    if (request.method == "initialize") {
      if (params.contains("fail")) {
        stream->finish(mcp::make_error_response(id, mcp::error_code::invalid_params, "refused"));
        return;
      }
      stream->finish(mcp::make_success_response(
          id, {{"protocolVersion", params.value("protocolVersion", "2025-11-25")},
               {"capabilities", nlohmann::json::object()},
               {"serverInfo", {{"name", "scripted"}, {"version", "1"}}}}));
    } else if (request.method == "echo") {
      stream->finish(mcp::make_success_response(id, params));
    } else if (request.method == "progress") {
      const int count = params.value("count", 2);
      nlohmann::json token = "p";
      if (params.contains("_meta") && params["_meta"].contains("progressToken")) {
        token = params["_meta"]["progressToken"];
      }
      for (int i = 1; i <= count; ++i) {
        stream->send(mcp::make_notification(
            "notifications/progress", nlohmann::json{{"progressToken", token}, {"progress", i}}));
      }
      stream->finish(mcp::make_success_response(id, {{"done", count}}));
    } else if (request.method == "ask") {
      const auto ask_id = "ask-" + std::to_string(++asks);
      stream->send(mcp::make_request(ask_id, "sampling/createMessage",
                                     nlohmann::json{{"messages", nlohmann::json::array()}}));
      waiting_answers.emplace(ask_id, std::make_pair(id, stream));
    } else if (request.method == "hold") {
      held.push_back(stream);
    } else if (request.method == "disconnect") {
      stream->send(mcp::make_notification("notifications/progress",
                                          nlohmann::json{{"progressToken", "d"}, {"progress", 1}}));
      stream->disconnect();
      held.push_back(stream);
    } else if (request.method == "notify") {
      channel->send(mcp::make_notification("notifications/message",
                                           nlohmann::json{{"level", "info"}, {"data", "hi"}}));
      stream->finish(mcp::make_success_response(id, nlohmann::json::object()));
    } else if (request.method == "abandon") {
      stream->abandon();
    } else if (request.method == "refuse") {
      for (int i = 1; i <= params.value("progress", 0); ++i) {
        stream->send(mcp::make_notification(
            "notifications/progress", nlohmann::json{{"progressToken", "r"}, {"progress", i}}));
      }
      server::ResponseStream::Refusal refusal;
      refusal.http_status = params.value("status", 429);
      refusal.retry_after = std::chrono::seconds(params.value("retry", 7));
      stream->refuse(mcp::make_error_response(id, -32005, "rate limited",
                                              nlohmann::json{{"retryAfterMs", 7000}}),
                     refusal);
    } else {
      stream->finish(
          mcp::make_error_response(id, mcp::error_code::method_not_found, "unknown method"));
    }
  }

  void handle_notification(mcp::Message notification, const server::RequestContext&) override {
    notifications.push_back(notification.method);
  }

  void handle_response(mcp::Message response) override {
    responses.push_back(response);
    if (!response.id || !response.id->is_string()) {
      return;
    }
    const auto it = waiting_answers.find(response.id->string());
    if (it == waiting_answers.end()) {
      return;
    }
    auto [client_id, stream] = it->second;
    waiting_answers.erase(it);
    stream->finish(mcp::make_success_response(
        client_id, {{"answer", response.kind == mcp::MessageKind::success_response
                                   ? response.result
                                   : nlohmann::json("error")}}));
  }

  void close() override { ++closes; }

  std::shared_ptr<server::ClientChannel> channel;
  server::SessionOpening opening;
  std::vector<std::string> methods;
  std::vector<server::RequestContext> contexts;
  std::vector<std::string> notifications;
  std::vector<mcp::Message> responses;
  std::vector<std::shared_ptr<server::ResponseStream>> held;
  std::map<std::string, std::pair<mcp::RequestId, std::shared_ptr<server::ResponseStream>>>
      waiting_answers;
  int asks = 0;
  int closes = 0;
};

class ScriptedService final : public server::Service {
 public:
  std::shared_ptr<server::Session> open_session(std::shared_ptr<server::ClientChannel> channel,
                                                const server::SessionOpening& opening) override {
    auto session = std::make_shared<ScriptedSession>(std::move(channel), opening);
    sessions.push_back(session);
    return session;
  }
  std::vector<std::shared_ptr<ScriptedSession>> sessions;
};

// An Authenticator with fixed answers, recording what the front end extracted:
//   Authorization "Bearer good-<name>"     -> principal subject <name> (key "jwt: <name>")
//   Authorization "Bearer narrow-<name>"   -> 403 insufficient_scope
//   any other Authorization                 -> 401 invalid_token
//   API key "key-<name>"                    -> principal api_key <name> (wrong keys: 401)
//   a token in the query                    -> 400 (checked first, as the real one does)
//   a verified client certificate only      -> principal cert_subject
//   nothing                                 -> anonymous when allow_anonymous, else 401
// With `delay`, decisions wait in `pending` until release() (a key refresh, say).
class FakeAuthenticator final : public auth::Authenticator {
 public:
  struct Seen {
    std::optional<std::string> authorization;
    std::optional<std::string> api_key;
    bool token_in_query = false;
    std::string cert_subject;
    std::string host;
  };

  void authenticate(const auth::Credentials& credentials, std::string_view host,
                    std::function<void(auth::AuthResult)> done) override {
    Seen record;
    if (credentials.authorization) {
      record.authorization = std::string(*credentials.authorization);
    }
    if (credentials.api_key) {
      record.api_key = std::string(*credentials.api_key);
    }
    record.token_in_query = credentials.token_in_query;
    record.cert_subject = std::string(credentials.cert_subject);
    record.host = std::string(host);
    seen.push_back(record);
    auto result = decide(record);
    if (delay) {
      pending.push_back([done = std::move(done), result = std::move(result)] { done(result); });
    } else {
      done(std::move(result));
    }
  }
  bool open() const noexcept override { return false; }
  nlohmann::json resource_metadata(std::string_view host) const override {
    return {{"resource", "http://" + std::string(host) + "/mcp"},
            {"authorization_servers", nlohmann::json::array({"https://as.example"})},
            {"bearer_methods_supported", nlohmann::json::array({"header"})}};
  }
  void start() override {}
  void stop() override {}
  void reload(const config::AuthConfig& /*auth*/) override {}

  // Completes every waiting decision.
  void release() {
    auto waiting = std::move(pending);
    pending.clear();
    for (auto& complete : waiting) {
      complete();
    }
  }

  static constexpr const char* kChallenge =
      "Bearer resource_metadata=\"http://127.0.0.1/.well-known/oauth-protected-resource/mcp\"";

  bool allow_anonymous = false;
  bool delay = false;
  std::vector<Seen> seen;
  std::vector<std::function<void()>> pending;

 private:
  static auth::AuthResult refused(int status, std::string challenge, std::string reason) {
    auth::AuthResult result;
    result.http_status = status;
    result.www_authenticate = std::move(challenge);
    result.reason = std::move(reason);
    return result;
  }
  static auth::AuthResult accepted(policy::Principal principal) {
    auth::AuthResult result;
    result.ok = true;
    result.principal = std::make_shared<const policy::Principal>(std::move(principal));
    return result;
  }
  auth::AuthResult decide(const Seen& record) const {
    if (record.token_in_query) {
      return refused(400, "Bearer error=\"invalid_request\"",
                     "invalid_request: token in the query string");
    }
    if (record.authorization) {
      const std::string& value = *record.authorization;
      if (value.rfind("Bearer good-", 0) == 0) {
        policy::Principal principal;
        principal.authenticated = true;
        principal.subject = value.substr(12);
        principal.cert_subject = record.cert_subject;
        return accepted(std::move(principal));
      }
      if (value.rfind("Bearer narrow-", 0) == 0) {
        return refused(403, "Bearer error=\"insufficient_scope\", scope=\"mcp:tools\"",
                       "insufficient_scope");
      }
      return refused(401, std::string(kChallenge) + ", error=\"invalid_token\"",
                     "invalid_token: bad signature");
    }
    if (record.api_key) {
      if (record.api_key->rfind("key-", 0) == 0) {
        policy::Principal principal;
        principal.authenticated = true;
        principal.api_key = record.api_key->substr(4);
        return accepted(std::move(principal));
      }
      return refused(401, kChallenge, "invalid API key");
    }
    if (!record.cert_subject.empty()) {
      policy::Principal principal;
      principal.authenticated = true;
      principal.cert_subject = record.cert_subject;
      return accepted(std::move(principal));
    }
    if (allow_anonymous) {
      return accepted(policy::Principal{});
    }
    return refused(401, kChallenge, "");
  }
};

// One parsed HTTP response (possibly still streaming).
struct Reply {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool done = false;

  std::string header(const std::string& name) const {
    const auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has_header(const std::string& name) const { return headers.count(name) != 0; }
  nlohmann::json json() const {
    auto parsed = nlohmann::json::parse(body, nullptr, false);
    return parsed;
  }
  // The SSE events of the body so far, and the retry values seen.
  std::vector<mcp::SseEvent> events(std::vector<std::uint64_t>* retries = nullptr) const {
    struct Sink final : mcp::SseSink {
      std::vector<mcp::SseEvent> events;
      std::vector<std::uint64_t>* retries = nullptr;
      void on_event(mcp::SseEvent&& event) override { events.push_back(std::move(event)); }
      void on_retry(std::uint64_t milliseconds) override {
        if (retries != nullptr) {
          retries->push_back(milliseconds);
        }
      }
    } sink;
    sink.retries = retries;
    mcp::SseParser parser;
    static_cast<void>(parser.feed(body, sink));
    return std::move(sink.events);
  }
};

// A keep-alive HTTP/1.1 client connection driven by the test's io_context.
class Client {
 public:
  Client(boost::asio::io_context& context, std::uint16_t port)
      : state_(std::make_shared<State>(context)), port_(port) {
    boost::system::error_code ignored;
    state_->socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ignored);
    read(state_);
  }
  ~Client() {
    boost::system::error_code ignored;
    state_->socket.close(ignored);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send_raw(std::string bytes) {
    auto data = std::make_shared<std::string>(std::move(bytes));
    boost::asio::async_write(state_->socket, boost::asio::buffer(*data),
                             [data](const boost::system::error_code&, std::size_t) {});
  }

  // Sends a request; Host defaults to 127.0.0.1:<port>, Content-Length is added for a body.
  void send(const std::string& method, const std::string& target,
            const std::vector<std::pair<std::string, std::string>>& headers,
            const std::string& body = {}) {
    std::string raw = method + " " + target + " HTTP/1.1\r\n";
    bool has_host = false;
    for (const auto& [name, value] : headers) {
      has_host = has_host || name == "Host";
      raw += name + ": " + value + "\r\n";
    }
    if (!has_host) {
      raw += "Host: 127.0.0.1:" + std::to_string(port_) + "\r\n";
    }
    if (!body.empty() || method == "POST") {
      raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    raw += "\r\n" + body;
    next_reply();
    send_raw(std::move(raw));
  }

  // Parses what has arrived; true once the current response's head is complete.
  bool head_ready() {
    parse();
    return parser_ && parser_->is_header_done();
  }
  bool reply_done() {
    parse();
    return parser_ && parser_->is_done();
  }
  Reply reply() {
    parse();
    Reply out;
    if (!parser_ || !parser_->is_header_done()) {
      return out;
    }
    const auto& message = parser_->get();
    out.status = message.result_int();
    for (const auto& field : message) {
      std::string name(field.name_string());
      for (auto& c : name) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      out.headers[name] = std::string(field.value());
    }
    out.body = message.body();
    out.done = parser_->is_done();
    return out;
  }
  // Starts parsing the next response on this connection.
  void next_reply() {
    parse();
    parser_.reset();
  }
  bool closed() const { return state_->closed; }
  bool failed() const { return failed_; }

 private:
  struct State {
    explicit State(boost::asio::io_context& context) : socket(context) {}
    boost::asio::ip::tcp::socket socket;
    std::array<char, 4096> chunk{};
    std::string inbox;
    bool closed = false;
  };
  static void read(const std::shared_ptr<State>& state) {
    state->socket.async_read_some(
        boost::asio::buffer(state->chunk),
        [state](const boost::system::error_code& error, std::size_t bytes) {
          if (error) {
            state->closed = true;
            return;
          }
          state->inbox.append(state->chunk.data(), bytes);
          read(state);
        });
  }
  void parse() {
    if (!parser_) {
      parser_.emplace();
      parser_->eager(true);
      parser_->body_limit(boost::none);
    }
    while (offset_ < state_->inbox.size() && !parser_->is_done()) {
      boost::system::error_code error;
      const auto used = parser_->put(
          boost::asio::buffer(state_->inbox.data() + offset_, state_->inbox.size() - offset_),
          error);
      offset_ += used;
      if (error == boost::beast::http::error::need_more) {
        break;
      }
      if (error) {
        failed_ = true;
        break;
      }
      if (used == 0) {
        break;
      }
    }
  }

  std::shared_ptr<State> state_;
  std::uint16_t port_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  std::size_t offset_ = 0;
  bool failed_ = false;
};

// Runs `context` until `done()` holds or 10 s pass; returns done().
inline bool run_until(boost::asio::io_context& context, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return done();
    }
    context.restart();
    context.run_for(std::chrono::milliseconds(2));
  }
  return true;
}

}  // namespace mcpgw::front::testing
