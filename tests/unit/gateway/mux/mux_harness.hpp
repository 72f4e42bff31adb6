// Test harness for the multiplexer: fake upstream Clients that record what the gateway sends
// and let a test answer, fake front-end streams and channels, a fake audit sink, and a fixture
// that builds a gateway on a ManualEventLoop (with a policy that allows everything unless the
// test writes rules).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "gateway/config/config.hpp"
#include "gateway/mux/gateway.hpp"
#include "gateway/policy/audit.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/policy/rate_limit.hpp"
#include "gateway/runtime/manual_loop.hpp"
#include "gateway/server/service.hpp"
#include "gateway/upstream/client.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::mux::testing {

using nlohmann::json;

class FakeStream final : public server::ResponseStream {
 public:
  void send(mcp::Message message) override { sent.push_back(std::move(message)); }
  void finish(mcp::Message message) override {
    ++finishes;
    response = std::move(message);
  }
  void abandon() override { ++abandons; }
  void disconnect() override {}
  void refuse(mcp::Message message, const Refusal& how) override {
    refusal = how;
    finish(std::move(message));
  }

  bool done() const { return response.has_value() || abandons > 0; }
  bool ok() const { return response && response->kind == mcp::MessageKind::success_response; }
  const json& result() const { return response->result; }
  std::int64_t error_code() const { return response ? response->error.code : 0; }
  std::string error_message() const { return response ? response->error.message : ""; }

  std::vector<mcp::Message> sent;
  std::optional<mcp::Message> response;
  std::optional<Refusal> refusal;  // set when finished through refuse()
  int finishes = 0;
  int abandons = 0;
};

class FakeChannel final : public server::ClientChannel {
 public:
  void send(mcp::Message message) override { sent.push_back(std::move(message)); }
  std::vector<mcp::Message> sent;
};

class FakeClient;

// Every FakeClient the factory made, per backend, in creation order (live ones only).
struct FakeRegistry {
  std::vector<std::vector<FakeClient*>> clients;
  std::uint64_t next_call = 1000;
  // When set, new clients close synchronously (otherwise close() waits for finish_close()).
  bool close_at_once = true;
};

class FakeClient final : public upstream::Client {
 public:
  struct Call {
    upstream::CallId id = 0;
    mcp::Message request;
    std::function<void(mcp::Message)> done;
    bool answered = false;
    bool cancelled = false;
    std::string cancel_reason;
    upstream::ForwardedHeaders headers;  // what call_with_headers was given

    const json& params() const {
      static const json kNull;
      return request.params ? *request.params : kNull;
    }
  };

  FakeClient(FakeRegistry& registry, std::size_t backend, upstream::ClientOptions client_options,
             upstream::ClientEvents& client_events)
      : options(std::move(client_options)),
        events(client_events),
        backend_index(backend),
        registry_(registry) {}
  ~FakeClient() override {
    auto& list = registry_.clients[backend_index];
    list.erase(std::remove(list.begin(), list.end(), this), list.end());
  }

  void start() override { ++starts; }
  upstream::CallId call(mcp::Message request, std::function<void(mcp::Message)> done) override {
    return call_with_headers(std::move(request), std::move(done), {});
  }
  upstream::CallId call_with_headers(mcp::Message request, std::function<void(mcp::Message)> done,
                                     const upstream::ForwardedHeaders& headers) override {
    const auto id = registry_.next_call++;
    if (refuse_calls) {
      // Like a Client that is down: the error comes at once, inside call().
      done(mcp::make_error_response(request.id, upstream::gateway_error::backend_unavailable,
                                    "backend '" + options.backend_name + "' is down"));
      return id;
    }
    Call recorded;
    recorded.id = id;
    recorded.request = std::move(request);
    recorded.done = std::move(done);
    recorded.headers = headers;
    calls.push_back(std::move(recorded));
    return id;
  }
  void cancel(upstream::CallId id, const std::string& reason) override {
    for (auto& call : calls) {
      if (call.id == id) {
        call.cancelled = true;
        call.cancel_reason = reason;
      }
    }
    cancelled.push_back(id);
  }
  std::optional<mcp::RequestId> wire_id(upstream::CallId id) const override {
    return mcp::RequestId(static_cast<std::int64_t>(id));
  }
  void notify(mcp::Message notification) override {
    notifications.push_back(std::move(notification));
  }
  void respond(mcp::Message response) override { responses.push_back(std::move(response)); }
  upstream::ClientState state() const override { return state_; }
  const json& initialize_result() const override { return result_; }
  void close(std::function<void()> done) override {
    ++closes;
    state_ = upstream::ClientState::closed;
    if (registry_.close_at_once) {
      done();
    } else {
      close_done = std::move(done);
    }
  }

  // ---- test side ----
  void ready(json result) {
    result_ = std::move(result);
    state_ = upstream::ClientState::ready;
    events.on_ready(result_);
  }
  void down(const std::string& reason) {
    state_ = upstream::ClientState::down;
    events.on_down(reason);
  }
  // The calls of one method not yet answered or cancelled, oldest first.
  std::vector<Call*> open_calls(const std::string& method = "") {
    std::vector<Call*> out;
    for (auto& call : calls) {
      if (!call.answered && !call.cancelled && (method.empty() || call.request.method == method)) {
        out.push_back(&call);
      }
    }
    return out;
  }
  Call& only_call(const std::string& method) {
    auto open = open_calls(method);
    EXPECT_EQ(open.size(), 1u) << "open " << method << " calls on backend " << backend_index;
    if (open.empty()) {
      static Call none;
      return none;
    }
    return *open.front();
  }
  void answer(Call& call, json result) {
    ASSERT_FALSE(call.answered);
    call.answered = true;
    auto done = std::move(call.done);
    done(mcp::make_success_response(*call.request.id, std::move(result)));
  }
  void fail(Call& call, std::int64_t code, const std::string& message) {
    ASSERT_FALSE(call.answered);
    call.answered = true;
    auto done = std::move(call.done);
    done(mcp::make_error_response(call.request.id, code, message));
  }
  void request(mcp::Message message, std::optional<upstream::CallId> related = std::nullopt) {
    events.on_backend_request(std::move(message), related);
  }
  void notification(mcp::Message message, std::optional<upstream::CallId> related = std::nullopt) {
    events.on_backend_notification(std::move(message), related);
  }

  upstream::ClientOptions options;
  upstream::ClientEvents& events;
  const std::size_t backend_index;
  std::vector<Call> calls;
  std::vector<upstream::CallId> cancelled;
  std::vector<mcp::Message> notifications;
  std::vector<mcp::Message> responses;
  std::function<void()> close_done;
  int starts = 0;
  int closes = 0;
  bool refuse_calls = false;

 private:
  FakeRegistry& registry_;
  upstream::ClientState state_ = upstream::ClientState::starting;
  json result_;
};

// Counts spdlog warnings while alive (the gateway logs collisions and partial lists).
class WarningCounter {
 public:
  WarningCounter() : sink_(std::make_shared<Sink>()) {
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("mux-test", sink_);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~WarningCounter() { spdlog::set_default_logger(previous_); }
  std::size_t count(const std::string& needle = "") const {
    return static_cast<std::size_t>(std::count_if(
        sink_->lines.begin(), sink_->lines.end(),
        [&](const std::string& line) { return line.find(needle) != std::string::npos; }));
  }
  const std::vector<std::string>& lines() const { return sink_->lines; }

 private:
  struct Sink final : spdlog::sinks::base_sink<spdlog::details::null_mutex> {
    std::vector<std::string> lines;
    void sink_it_(const spdlog::details::log_msg& message) override {
      if (message.level == spdlog::level::warn) {
        lines.emplace_back(message.payload.data(), message.payload.size());
      }
    }
    void flush_() override {}
  };
  std::shared_ptr<Sink> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Collects the audit records.
class FakeAuditSink final : public policy::AuditSink {
 public:
  void record(const policy::AuditRecord& record) override { records.push_back(record); }
  std::uint64_t dropped() const noexcept override { return 0; }
  void flush() override {}
  std::vector<policy::AuditRecord> records;
};

struct BackendSpec {
  std::string name;
  config::SessionMode mode = config::SessionMode::per_session;
  bool fail_closed = false;
  std::vector<std::string> forward_headers = {};
};

inline json capabilities_all() {
  return {{"tools", {{"listChanged", true}}},
          {"prompts", json::object()},
          {"resources", {{"subscribe", true}}},
          {"logging", json::object()},
          {"completions", json::object()},
          {"tasks", {{"list", json::object()}, {"cancel", json::object()}}}};
}

inline json initialize_result_with(json capabilities, const std::string& name,
                                   const std::string& instructions = "") {
  json result = {{"protocolVersion", "2025-11-25"},
                 {"capabilities", std::move(capabilities)},
                 {"serverInfo", {{"name", name}, {"version", "1.0"}}}};
  if (!instructions.empty()) {
    result["instructions"] = instructions;
  }
  return result;
}

inline json client_initialize_params(const std::string& version = "2025-11-25") {
  return {{"protocolVersion", version},
          {"capabilities",
           {{"sampling", json::object()},
            {"elicitation", {{"form", json::object()}}},
            {"roots", {{"listChanged", true}}}}},
          {"clientInfo", {{"name", "test-client"}, {"version", "9.9"}}}};
}

// One client session with its channel. `context` goes with every request it sends (the
// principal and forwarded headers a front end would fill in); anonymous by default.
struct ClientSession {
  std::shared_ptr<server::Session> session;
  std::shared_ptr<FakeChannel> channel;
  server::RequestContext context;

  std::shared_ptr<FakeStream> request(mcp::RequestId id, const std::string& method,
                                      std::optional<json> params = std::nullopt) {
    auto stream = std::make_shared<FakeStream>();
    session->handle_request(mcp::make_request(std::move(id), method, std::move(params)), stream,
                            context);
    return stream;
  }
  void notify(const std::string& method, std::optional<json> params = std::nullopt) {
    session->handle_notification(mcp::make_notification(method, std::move(params)), context);
  }
  // The request context of an authenticated principal.
  void authenticate(const std::string& subject, json claims = json::object()) {
    auto principal = std::make_shared<policy::Principal>();
    principal->authenticated = true;
    principal->subject = subject;
    principal->claims = std::move(claims);
    context.principal = std::move(principal);
    context.principal_key = "sub:" + subject;
  }
};

// A pattern list for a policy written in a test.
inline policy::PatternListSpec patterns(std::vector<std::string> texts) {
  policy::PatternListSpec list;
  list.present = true;
  for (auto& text : texts) {
    list.patterns.push_back({std::move(text), {}});
  }
  return list;
}

// A rule for `policy_spec.rules`; fill in what it matches.
inline policy::RuleSpec rule(std::string id, policy::Effect effect) {
  policy::RuleSpec spec;
  spec.id = std::move(id);
  spec.effect = effect;
  return spec;
}

// Everything one gateway under test needs; MuxTest is one, a test may build a second.
class MuxWorld {
 public:
  MuxWorld() { policy_spec.default_effect = policy::Effect::allow; }

  // Compiles `spec` the way the loader does for this world's backends.
  std::shared_ptr<const policy::CompiledPolicy> compile_policy(const policy::PolicySpec& spec,
                                                               std::vector<std::string> backends) {
    policy::CompileContext context;
    context.backends_known = true;
    context.backends = std::move(backends);
    config::Diagnostics diagnostics;
    auto compiled = policy::compile(spec, context, diagnostics);
    for (const auto& diagnostic : diagnostics.items()) {
      EXPECT_NE(diagnostic.severity, config::Severity::error) << diagnostic.message;
    }
    EXPECT_TRUE(compiled) << "the test policy does not compile";
    return compiled;
  }

  // Builds the gateway (not started).
  void build(std::vector<BackendSpec> specs,
             config::PrefixMode prefix = config::PrefixMode::automatic,
             GatewayOptions options = GatewayOptions{}) {
    auto config = std::make_shared<config::Config>();
    config->server.prefix = prefix;
    for (const auto& spec : specs) {
      config::BackendConfig backend;
      backend.name = spec.name;
      backend.session_mode = spec.mode;
      backend.fail_closed = spec.fail_closed;
      backend.forward_headers = spec.forward_headers;
      backend.timeout = std::chrono::milliseconds(60000);
      config->backends.push_back(std::move(backend));
    }
    std::vector<std::string> names;
    for (const auto& spec : specs) {
      names.push_back(spec.name);
    }
    config->policy_spec = policy_spec;
    config->policy = compile_policy(policy_spec, names);
    config->rate_limits = rate_limits;
    config->audit = audit;
    registry.clients.assign(specs.size(), {});
    config_ = config;
    gateway = make_gateway(
        loop, config,
        [this](std::size_t backend, upstream::ClientOptions client_options,
               upstream::ClientEvents& events) -> std::unique_ptr<upstream::Client> {
          auto client =
              std::make_unique<FakeClient>(registry, backend, std::move(client_options), events);
          registry.clients[backend].push_back(client.get());
          return client;
        },
        std::move(options));
  }

  // Builds, starts and makes every backend ready with `capabilities`.
  void start_ready(std::vector<BackendSpec> specs,
                   config::PrefixMode prefix = config::PrefixMode::automatic,
                   json capabilities = capabilities_all(),
                   GatewayOptions options = GatewayOptions{}) {
    build(std::move(specs), prefix, std::move(options));
    gateway->start();
    for (std::size_t index = 0; index < registry.clients.size(); ++index) {
      discovery(index).ready(
          initialize_result_with(capabilities, "server-" + std::to_string(index)));
    }
    loop.run_ready();
  }

  FakeClient& discovery(std::size_t backend) { return *registry.clients.at(backend).at(0); }
  // The newest client of a backend (a session's own, once one was made).
  FakeClient& newest(std::size_t backend) { return *registry.clients.at(backend).back(); }
  std::size_t client_count(std::size_t backend) const {
    return registry.clients.at(backend).size();
  }

  // A session that has not sent initialize yet.
  ClientSession connect(server::RequestContext context = {}) {
    ClientSession client{nullptr, std::make_shared<FakeChannel>(), std::move(context)};
    client.session = gateway->open_session(client.channel, {"streamable_http", "sid", "peer"});
    return client;
  }

  ClientSession open(json params = client_initialize_params(),
                     server::RequestContext context = {}) {
    auto client = connect(std::move(context));
    auto stream = client.request(0, "initialize", std::move(params));
    loop.run_ready();
    EXPECT_TRUE(stream->ok()) << "initialize was not answered";
    if (stream->ok()) {
      last_initialize = stream->result();
    }
    client.notify("notifications/initialized");
    return client;
  }

  // Runs the loop until `done` holds, or fails after a bounded number of rounds.
  template <class Predicate>
  bool settle(Predicate done) {
    for (int round = 0; round < 1000 && !done(); ++round) {
      loop.run_ready();
    }
    return done();
  }

  runtime::ManualEventLoop loop;
  FakeRegistry registry;
  // What build() puts into the configuration: allow everything unless a test says otherwise.
  policy::PolicySpec policy_spec;
  std::shared_ptr<const policy::RateLimits> rate_limits;
  config::AuditConfig audit;
  std::shared_ptr<Gateway> gateway;
  std::shared_ptr<const config::Config> config_;
  json last_initialize;
};

class MuxTest : public ::testing::Test, public MuxWorld {};

inline mcp::Message request_message(mcp::RequestId id, const std::string& method,
                                    std::optional<json> params = std::nullopt) {
  return mcp::make_request(std::move(id), method, std::move(params));
}

}  // namespace mcpgw::mux::testing
