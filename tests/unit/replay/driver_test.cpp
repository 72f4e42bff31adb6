// The replay driver: on a ManualEventLoop against a scripted in-memory target (ordering,
// timing, cancellation, pagination, server->client requests, crashes, timeouts, jobs), and
// against the real mcpgw-fixture over stdio.
#include "replay/driver.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "gateway/runtime/asio_loop.hpp"
#include "gateway/runtime/manual_loop.hpp"
#include "gateway/upstream/client.hpp"
#include "mcp/jsonrpc.hpp"
#include "tests/unit/gateway/upstream/upstream_test_support.hpp"

namespace mcpgw::replay {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using runtime::Clock;
using upstream::TransportError;

// ---- a scripted target ----

struct SentMessage {
  mcp::Message message;
  Clock::time_point at;
};

// What one fake transport (one target session) saw.
struct FakeWire {
  runtime::ManualEventLoop* loop = nullptr;
  upstream::TransportHandler* handler = nullptr;
  std::vector<SentMessage> sent;
  std::string capture_session;
  bool started = false;
  bool closed = false;

  // The target's side: messages go to the Client in a task of their own, as from a socket.
  void deliver(mcp::Message message, std::optional<mcp::RequestId> stream = std::nullopt) {
    loop->post([this, message = std::move(message), stream]() mutable {
      if (handler != nullptr)
        handler->on_message(std::move(message), stream);
    });
  }
  void answer(const mcp::Message& request, json result) {
    deliver(mcp::make_success_response(*request.id, std::move(result)));
  }
  void crash(std::string message = "process exited with status 3") {
    loop->post([this, message] {
      if (handler != nullptr)
        handler->on_closed(TransportError{TransportError::Kind::exited, message, 0});
    });
  }
  // Requests and notifications after the handshake, in the order sent.
  std::vector<const SentMessage*> after_handshake() const {
    std::vector<const SentMessage*> found;
    for (const auto& sent_message : sent)
      if (sent_message.message.method != "initialize" &&
          sent_message.message.method != "notifications/initialized")
        found.push_back(&sent_message);
    return found;
  }
  const SentMessage* find(const std::string& method, std::size_t nth = 0) const {
    for (const auto& sent_message : sent)
      if (sent_message.message.method == method && nth-- == 0)
        return &sent_message;
    return nullptr;
  }
};

// How the target treats each message after the handshake.
using Behaviour = std::function<void(FakeWire&, const mcp::Message&)>;

// Answers every request at once with {"method": ..., "params": ...}.
void echo_everything(FakeWire& wire, const mcp::Message& message) {
  if (message.is_request())
    wire.answer(message,
                json{{"method", message.method}, {"params", message.params.value_or(json())}});
}

json initialize_result() {
  return {{"protocolVersion", "2025-06-18"},
          {"capabilities", {{"tools", json::object()}}},
          {"serverInfo", {{"name", "fake"}, {"version", "2"}}}};
}

class FakeTransport final : public upstream::Transport {
 public:
  FakeTransport(std::shared_ptr<FakeWire> wire, Behaviour& behaviour, bool answer_initialize)
      : wire_(std::move(wire)), behaviour_(behaviour), answer_initialize_(answer_initialize) {}
  void start(upstream::TransportHandler& handler) override {
    wire_->handler = &handler;
    wire_->started = true;
  }
  void send(mcp::Message message) override {
    wire_->sent.push_back(SentMessage{message, wire_->loop->now()});
    if (message.method == "initialize") {
      if (answer_initialize_)
        wire_->answer(message, initialize_result());
      return;
    }
    if (message.method == "notifications/initialized")
      return;
    behaviour_(*wire_, message);
  }
  void on_initialized(const std::string&) override {}
  void reset_session() override {}
  std::string session_id() const override { return "target-session-1"; }
  void set_capture_session(std::string client_session) override {
    wire_->capture_session = std::move(client_session);
  }
  void close(std::function<void()> done) override {
    wire_->closed = true;
    wire_->handler = nullptr;
    wire_->loop->post(std::move(done));
  }

 private:
  std::shared_ptr<FakeWire> wire_;
  Behaviour& behaviour_;
  bool answer_initialize_;
};

class FakeTarget final : public upstream::TransportFactory {
 public:
  explicit FakeTarget(runtime::ManualEventLoop& loop) : loop_(loop) {}
  std::unique_ptr<upstream::Transport> create() override {
    wires.push_back(std::make_shared<FakeWire>());
    wires.back()->loop = &loop_;
    return std::make_unique<FakeTransport>(wires.back(), behaviour, answer_initialize);
  }
  void shutdown() override {}
  std::size_t open_sessions() const {
    return static_cast<std::size_t>(std::count_if(wires.begin(), wires.end(), [](const auto& wire) {
      return wire->started && !wire->closed;
    }));
  }

  Behaviour behaviour = echo_everything;
  bool answer_initialize = true;
  std::vector<std::shared_ptr<FakeWire>> wires;

 private:
  runtime::ManualEventLoop& loop_;
};

// ---- recorded sessions built by hand ----

mcp::traffic::Exchange request_exchange(std::int64_t id, const std::string& method,
                                        json params = json::object(),
                                        json result = json::object()) {
  mcp::traffic::Exchange exchange;
  exchange.kind = mcp::traffic::ExchangeKind::request;
  exchange.method = method;
  exchange.id = std::to_string(id);
  exchange.status = mcp::traffic::Status::ok;
  exchange.request_message = mcp::encode(mcp::make_request(id, method, std::move(params)));
  exchange.response_message = mcp::encode(mcp::make_success_response(id, std::move(result)));
  return exchange;
}

RecordedStep request_step(std::int64_t id, const std::string& method, json params = json::object(),
                          std::vector<std::size_t> after = {},
                          std::optional<std::int64_t> offset_us = std::nullopt) {
  RecordedStep step;
  step.exchange = request_exchange(id, method, std::move(params));
  step.after = std::move(after);
  step.offset_us = offset_us;
  return step;
}

RecordedStep notification_step(const std::string& method, json params = json::object()) {
  RecordedStep step;
  step.exchange.kind = mcp::traffic::ExchangeKind::notification;
  step.exchange.method = method;
  step.exchange.request_message = mcp::encode(mcp::make_notification(method, std::move(params)));
  return step;
}

json recorded_initialize_params() {
  return {{"protocolVersion", "2025-06-18"},
          {"capabilities", {{"sampling", json::object()}, {"roots", json::object()}}},
          {"clientInfo", {{"name", "recorded-client"}, {"version", "7.1"}}}};
}

RecordedSession make_session(const std::string& id, std::vector<RecordedStep> steps) {
  RecordedSession session;
  session.id = id;
  session.initialize =
      request_exchange(0, "initialize", recorded_initialize_params(), initialize_result());
  session.steps = std::move(steps);
  return session;
}

// A server->client request the recorded client answered with `reply` (a result).
RecordedServerRequest server_request(std::int64_t id, const std::string& method, json params,
                                     json reply) {
  RecordedServerRequest recorded;
  recorded.exchange = request_exchange(id, method, std::move(params), std::move(reply));
  recorded.exchange.direction = mcp::traffic::Direction::server_to_client;
  return recorded;
}

// params[key] as compact JSON, "" when absent.
std::string param_text(const mcp::Message& message, const std::string& key) {
  const json* value = message.param(key);
  return value != nullptr ? value->dump() : std::string();
}

json parsed(const std::string& text) {
  auto value = mcp::parse_json(text);
  EXPECT_TRUE(value) << text;
  return value ? *value : json();
}

class DriverTest : public ::testing::Test {
 protected:
  // Runs the replay to its end, moving the manual clock 1 ms at a time (bounded).
  std::vector<ReplayedSession> replay(const std::vector<RecordedSession>& sessions) {
    std::optional<std::vector<ReplayedSession>> results;
    interrupt_ =
        replay_sessions(loop_, target_, sessions, options_,
                        [&](std::vector<ReplayedSession> done) { results = std::move(done); });
    loop_.run_ready();
    for (int tick = 0; tick < 600000 && !results; ++tick) {
      max_open_ = std::max(max_open_, target_.open_sessions());
      loop_.advance(1ms);
    }
    EXPECT_TRUE(results) << "the replay did not finish";
    EXPECT_EQ(loop_.pending_timers(), 0u) << "timers left behind";
    for (const auto& wire : target_.wires)
      EXPECT_TRUE(wire->closed) << "a target session was left open";
    return results ? std::move(*results) : std::vector<ReplayedSession>();
  }

  FakeWire& wire(std::size_t index = 0) { return *target_.wires.at(index); }

  runtime::ManualEventLoop loop_;
  FakeTarget target_{loop_};
  DriverOptions options_;
  std::size_t max_open_ = 0;
  std::vector<runtime::TimerHandle> timers_;  // the scripted target's delayed answers
  Interrupt interrupt_;                       // the last replay's
};

TEST_F(DriverTest, ResendsTheRecordedSessionInOrderAndRestoresRecordedIds) {
  const auto sessions = std::vector{make_session(
      "s1", {request_step(11, "tools/list"), notification_step("notifications/roots/list_changed"),
             request_step(12, "tools/call", json{{"name", "echo"}, {"arguments", {{"text", "hi"}}}},
                          {0})})};
  const auto results = replay(sessions);
  ASSERT_EQ(results.size(), 1u);
  const ReplayedSession& session = results[0];
  EXPECT_EQ(session.failure, "");
  EXPECT_EQ(session.session, 0u);
  EXPECT_EQ(session.target_session, "target-session-1");
  EXPECT_EQ(parsed(session.initialize_response), (json{{"result", initialize_result()}}));
  EXPECT_TRUE(session.initialize_latency_us);
  ASSERT_EQ(session.steps.size(), 2u);  // request steps only
  EXPECT_EQ(session.steps[0].step, 0u);
  EXPECT_EQ(session.steps[1].step, 2u);
  for (const auto& step : session.steps) {
    EXPECT_TRUE(step.sent);
    EXPECT_FALSE(step.cancelled);
    EXPECT_EQ(step.failure, "");
    ASSERT_TRUE(step.latency_us);
    EXPECT_GE(*step.latency_us, 0);
    ASSERT_EQ(step.responses.size(), 1u);
  }
  EXPECT_EQ(parsed(session.steps[0].responses[0])["id"], 11);
  EXPECT_EQ(parsed(session.steps[1].responses[0])["id"], 12);
  EXPECT_EQ(parsed(session.steps[1].responses[0])["result"]["params"]["arguments"]["text"], "hi");

  // The recorded initialize params went out as recorded; then the steps in recorded order.
  ASSERT_FALSE(wire().sent.empty());
  EXPECT_EQ(wire().sent[0].message.method, "initialize");
  EXPECT_EQ(wire().sent[0].message.params, recorded_initialize_params());
  const auto steps = wire().after_handshake();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0]->message.method, "tools/list");
  EXPECT_EQ(steps[1]->message.method, "notifications/roots/list_changed");
  EXPECT_EQ(steps[2]->message.method, "tools/call");
  EXPECT_TRUE(session.notes.empty());
  EXPECT_EQ(wire().capture_session, "");  // not tagged unless asked
}

TEST_F(DriverTest, ProtocolVersionOptionReplacesTheRecordedOneAndTagsCaptureSessions) {
  options_.protocol_version = "2025-03-26";
  options_.tag_capture_sessions = true;
  const auto results = replay({make_session("client-a", {request_step(1, "ping")})});
  ASSERT_EQ(results.size(), 1u);
  json expected = recorded_initialize_params();
  expected["protocolVersion"] = "2025-03-26";
  EXPECT_EQ(wire().sent[0].message.params, expected);
  EXPECT_EQ(wire().capture_session, "client-a");
}

TEST_F(DriverTest, WithoutARecordedInitializeSendsAMinimalOneAndSaysSo) {
  RecordedSession session = make_session("s", {request_step(1, "tools/list")});
  session.initialize.reset();
  const auto results = replay({session});
  ASSERT_EQ(results.size(), 1u);
  const json params = wire().sent[0].message.params.value_or(json());
  EXPECT_EQ(params["protocolVersion"], "2025-11-25");
  EXPECT_EQ(params["capabilities"], json::object());
  EXPECT_EQ(params["clientInfo"]["name"], "mcpgw-replay");
  ASSERT_EQ(results[0].notes.size(), 1u);
  EXPECT_EQ(results[0].notes[0],
            "initialize not recorded: sent 2025-11-25 with empty capabilities");
  EXPECT_EQ(results[0].steps[0].responses.size(), 1u);

  options_.protocol_version = "2025-06-18";
  const auto again = replay({session});
  EXPECT_EQ(wire(1).sent[0].message.params.value_or(json())["protocolVersion"], "2025-06-18");
}

TEST_F(DriverTest, AStepWaitsForTheAnswersItWaitedForInTheRecordingAndNoLonger) {
  // The target answers "slow" after 50 ms and everything else at once.
  target_.behaviour = [this](FakeWire& target_wire, const mcp::Message& message) {
    if (!message.is_request())
      return;
    const auto* name = message.param("name");
    const bool slow = name != nullptr && *name == "slow";
    if (!slow) {
      echo_everything(target_wire, message);
      return;
    }
    timers_.push_back(loop_.schedule(50ms, [&target_wire, message] {
      target_wire.answer(message, json{{"slow", true}});
    }));
  };
  // 0 slow; 1 concurrent with 0 (no wait); 2 waits for 0; 3 waits for 1 (already answered).
  const auto results = replay(
      {make_session("s", {request_step(1, "tools/call", json{{"name", "slow"}}),
                          request_step(2, "tools/call", json{{"name", "fast"}}),
                          request_step(3, "tools/call", json{{"name", "after-slow"}}, {0}),
                          request_step(4, "tools/call", json{{"name", "after-fast"}}, {1})})});
  ASSERT_EQ(results.size(), 1u);
  const auto sent = wire().after_handshake();
  ASSERT_EQ(sent.size(), 4u);
  const auto start = sent[0]->at;
  EXPECT_EQ(sent[1]->at, start);         // concurrent in the recording, concurrent now
  EXPECT_EQ(sent[2]->at - start, 50ms);  // only once the slow one was answered
  EXPECT_EQ(sent[3]->at - start, 50ms);  // in order: not before step 2
  EXPECT_EQ(param_text(sent[2]->message, "name"), "\"after-slow\"");
  for (const auto& step : results[0].steps)
    EXPECT_EQ(step.responses.size(), 1u);
  EXPECT_GE(*results[0].steps[0].latency_us, 50000);
}

TEST_F(DriverTest, PreserveTimingKeepsTheRecordedOffsetsTimesTheFactor) {
  options_.preserve_timing = 2.0;
  const auto sessions =
      std::vector{make_session("s", {request_step(1, "tools/list", json::object(), {}, 0),
                                     request_step(2, "tools/list", json::object(), {}, 100000),
                                     notification_step("notifications/roots/list_changed"),
                                     request_step(3, "tools/list", json::object(), {}, 350500)})};
  auto results = replay(sessions);
  ASSERT_EQ(results.size(), 1u);
  const auto start = wire().sent[0].at;  // the session starts with initialize
  auto sent = wire().after_handshake();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0]->at - start, 0ms);
  EXPECT_EQ(sent[1]->at - start, 200ms);
  EXPECT_EQ(sent[2]->at - start, 200ms);  // no offset of its own: right after the one before
  EXPECT_EQ(sent[3]->at - start, 701ms);  // 701 ms, never early

  // Without the option: as fast as possible.
  options_.preserve_timing.reset();
  results = replay(sessions);
  sent = wire(1).after_handshake();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[3]->at, wire(1).sent[0].at);
}

TEST_F(DriverTest, RecordedCancellationsCancelAfterTheRecordedDelayTimesTheFactor) {
  // The target never answers tools/call (a long-running tool) and answers the rest.
  target_.behaviour = [](FakeWire& target_wire, const mcp::Message& message) {
    if (message.is_request() && message.method != "tools/call")
      echo_everything(target_wire, message);
  };
  RecordedStep cancelled = request_step(5, "tools/call", json{{"name", "sleep"}});
  cancelled.cancelled = true;
  cancelled.cancel_after_us = 40000;
  cancelled.cancel_reason = "user gave up";
  RecordedStep at_once = request_step(6, "tools/call", json{{"name", "sleep"}});
  at_once.cancelled = true;
  const auto sessions = std::vector{
      make_session("s", {cancelled,
                         notification_step("notifications/cancelled",
                                           json{{"requestId", 5}, {"reason", "user gave up"}}),
                         request_step(7, "tools/list", json::object(), {0}), at_once,
                         request_step(8, "tools/list", json::object(), {3})})};
  for (const double factor : {0.0, 2.0}) {
    SCOPED_TRACE(factor);
    if (factor > 0)
      options_.preserve_timing = factor;
    const auto results = replay(sessions);
    ASSERT_EQ(results.size(), 1u);
    const auto& session = results[0];
    ASSERT_EQ(session.steps.size(), 4u);
    EXPECT_TRUE(session.steps[0].cancelled);
    EXPECT_TRUE(session.steps[0].sent);
    EXPECT_EQ(session.steps[0].failure, "cancelled as recorded");
    EXPECT_TRUE(session.steps[0].responses.empty());
    EXPECT_TRUE(session.steps[2].cancelled);
    EXPECT_EQ(session.steps[1].responses.size(), 1u);  // waited for the cancellation, then sent
    EXPECT_EQ(session.steps[3].responses.size(), 1u);

    FakeWire& target_wire = *target_.wires.back();
    const auto* call = target_wire.find("tools/call");
    const auto* cancel = target_wire.find("notifications/cancelled");
    ASSERT_NE(call, nullptr);
    ASSERT_NE(cancel, nullptr);
    EXPECT_EQ(cancel->at - call->at, factor > 0 ? 80ms : 40ms);
    // The target's own id for the call, never the recorded 5; the recorded reason.
    EXPECT_EQ(param_text(cancel->message, "requestId"), call->message.id->to_json().dump());
    EXPECT_EQ(param_text(cancel->message, "reason"), "\"user gave up\"");
    // The second call is cancelled at once; the recorded notification itself is not re-sent.
    const auto* second_call = target_wire.find("tools/call", 1);
    const auto* second_cancel = target_wire.find("notifications/cancelled", 1);
    ASSERT_NE(second_call, nullptr);
    ASSERT_NE(second_cancel, nullptr);
    EXPECT_EQ(second_cancel->at, second_call->at);
    EXPECT_EQ(target_wire.find("notifications/cancelled", 2), nullptr);
  }
}

// A target listing `total` tools `page_size` at a time, with cursors of its own ("page-N").
Behaviour paged_target(std::size_t total, std::size_t page_size) {
  return [total, page_size](FakeWire& target_wire, const mcp::Message& message) {
    if (!message.is_request())
      return;
    std::size_t first = 0;
    if (const auto* cursor = message.param("cursor"); cursor != nullptr && cursor->is_string())
      first = std::stoul(cursor->get<std::string>().substr(5));
    json tools = json::array();
    for (std::size_t i = first; i < std::min(total, first + page_size); ++i)
      tools.push_back(json{{"name", "tool_" + std::to_string(i)}});
    json result{{"tools", tools}};
    if (first + page_size < total)
      result["nextCursor"] = "page-" + std::to_string(first + page_size);
    target_wire.answer(message, result);
  };
}

// The recording fetched three pages with cursors of the old server's ("old-1", "old-2").
RecordedStep recorded_list_chain() {
  RecordedStep step = request_step(20, "tools/list", json{{"_meta", {{"progressToken", "t1"}}}});
  step.later_pages.push_back(request_exchange(
      21, "tools/list", json{{"cursor", "old-1"}, {"_meta", {{"progressToken", "t2"}}}}));
  step.later_pages.push_back(request_exchange(22, "tools/list", json{{"cursor", "old-2"}}));
  return step;
}

TEST_F(DriverTest, ListChainsFollowTheReplaysCursorsPastTheRecordingsLastPage) {
  target_.behaviour = paged_target(9, 2);  // five pages where the recording had three
  const auto results = replay(
      {make_session("s", {recorded_list_chain(), request_step(30, "ping", json::object(), {0})})});
  ASSERT_EQ(results.size(), 1u);
  const ReplayedStep& chain = results[0].steps[0];
  EXPECT_EQ(chain.failure, "");
  ASSERT_EQ(chain.responses.size(), 5u);
  const std::vector<json> ids{20, 21, 22, 22, 22};
  for (std::size_t page = 0; page < 5; ++page)
    EXPECT_EQ(parsed(chain.responses[page])["id"], ids[page]) << page;
  EXPECT_FALSE(parsed(chain.responses[4])["result"].contains("nextCursor"));

  const auto sent = wire().after_handshake();
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(param_text(sent[0]->message, "cursor"), "");
  EXPECT_EQ(param_text(sent[1]->message, "cursor"), "\"page-2\"");
  EXPECT_EQ(param_text(sent[2]->message, "cursor"), "\"page-4\"");
  EXPECT_EQ(param_text(sent[4]->message, "cursor"), "\"page-8\"");
  // Progress tokens stay as recorded, page by page.
  EXPECT_EQ(param_text(sent[0]->message, "_meta"), R"({"progressToken":"t1"})");
  EXPECT_EQ(param_text(sent[1]->message, "_meta"), R"({"progressToken":"t2"})");
  EXPECT_EQ(sent[5]->message.method, "ping");  // the next step waits for the whole chain
}

TEST_F(DriverTest, ListChainsStopAtTheReplaysLastPageAndAtMaxPages) {
  target_.behaviour = paged_target(3, 2);  // two pages where the recording had three
  auto results = replay({make_session("s", {recorded_list_chain()})});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].steps[0].responses.size(), 2u);
  EXPECT_EQ(wire().after_handshake().size(), 2u);

  target_.behaviour = paged_target(1000, 1);  // endless, as far as replay cares
  options_.max_pages = 4;
  results = replay({make_session("s", {recorded_list_chain()})});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].steps[0].responses.size(), 4u);
  EXPECT_EQ(results[0].steps[0].failure, "");
  EXPECT_EQ(wire(1).after_handshake().size(), 4u);
}

TEST_F(DriverTest, ServerRequestsGetTheRecordedReplyThenTheDefaultThenAnError) {
  const json sampling_params{{"messages", json::array({{{"role", "user"}}})}, {"maxTokens", 10}};
  // The target asks during tools/call: sampling twice, then roots/list, then elicitation.
  target_.behaviour = [&](FakeWire& target_wire, const mcp::Message& message) {
    if (!message.is_request())
      return;
    const mcp::RequestId stream = *message.id;
    target_wire.deliver(mcp::make_request("s-1", "sampling/createMessage", sampling_params),
                        stream);
    target_wire.deliver(mcp::make_request("s-2", "sampling/createMessage", sampling_params),
                        stream);
    target_wire.deliver(mcp::make_request(77, "roots/list", json::object()));
    target_wire.deliver(mcp::make_request(78, "elicitation/create", json{{"message", "name?"}}));
    echo_everything(target_wire, message);
  };
  RecordedSession session =
      make_session("s", {request_step(1, "tools/call", json{{"name", "ask"}})});
  session.server_requests.push_back(server_request(
      90, "sampling/createMessage", json{{"messages", json::array()}}, json{{"text", "other"}}));
  session.server_requests.push_back(
      server_request(91, "sampling/createMessage", sampling_params, json{{"text", "recorded"}}));
  options_.default_replies["sampling/createMessage"] = json{{"text", "default"}};

  const auto results = replay({session});
  ASSERT_EQ(results.size(), 1u);
  const auto& seen = results[0].server_requests;
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].matched, 1u);  // the one with equal params, not the earlier other one
  EXPECT_EQ(seen[0].during_step, 0u);
  EXPECT_EQ(parsed(seen[0].request)["id"], "s-1");
  EXPECT_EQ(parsed(seen[0].answer),
            parsed(mcp::encode(mcp::make_success_response("s-1", json{{"text", "recorded"}}))));
  EXPECT_FALSE(seen[0].answered_with_default);
  EXPECT_FALSE(seen[1].matched);  // the recorded one is used up
  EXPECT_TRUE(seen[1].answered_with_default);
  EXPECT_EQ(parsed(seen[1].answer)["result"], (json{{"text", "default"}}));
  EXPECT_EQ(parsed(seen[1].answer)["id"], "s-2");
  EXPECT_FALSE(seen[2].matched);
  EXPECT_EQ(seen[2].during_step, 0u);  // on no request's stream: the request in flight
  EXPECT_FALSE(seen[2].answered_with_default);
  EXPECT_EQ(parsed(seen[2].answer)["error"]["code"], -32601);
  EXPECT_EQ(parsed(seen[2].answer)["error"]["message"],
            "replay has no recorded answer for roots/list");
  EXPECT_EQ(parsed(seen[3].answer)["id"], 78);

  // The answers reached the target, with its ids.
  std::vector<std::string> answered;
  for (const auto& sent : wire().sent)
    if (sent.message.is_response())
      answered.push_back(sent.message.id->to_string());
  EXPECT_EQ(answered, (std::vector<std::string>{"\"s-1\"", "\"s-2\"", "77", "78"}));
}

TEST_F(DriverTest, ARecordedErrorReplyIsSentBackAsAnError) {
  target_.behaviour = [&](FakeWire& target_wire, const mcp::Message& message) {
    if (!message.is_request())
      return;
    target_wire.deliver(mcp::make_request(5, "elicitation/create", json{{"message", "name?"}}));
    echo_everything(target_wire, message);
  };
  RecordedSession session = make_session("s", {request_step(1, "tools/call")});
  RecordedServerRequest declined =
      server_request(40, "elicitation/create", json{{"message", "name?"}}, json());
  declined.exchange.response_message =
      mcp::encode(mcp::make_error_response(40, -32602, "declined", json{{"why", "no"}}));
  session.server_requests.push_back(declined);
  const auto results = replay({session});
  ASSERT_EQ(results[0].server_requests.size(), 1u);
  const json answer = parsed(results[0].server_requests[0].answer);
  EXPECT_EQ(answer["id"], 5);
  EXPECT_EQ(answer["error"]["code"], -32602);
  EXPECT_EQ(answer["error"]["data"]["why"], "no");
  EXPECT_EQ(results[0].server_requests[0].matched, 0u);
}

TEST_F(DriverTest, IgnoreRulesDecideWhetherServerRequestParamsMatch) {
  target_.behaviour = [&](FakeWire& target_wire, const mcp::Message& message) {
    if (!message.is_request())
      return;
    target_wire.deliver(mcp::make_request(
        3, "sampling/createMessage",
        json{{"maxTokens", 10}, {"_meta", {{"requestedAt", "2026-01-02T00:00:00Z"}}}}));
    echo_everything(target_wire, message);
  };
  RecordedSession session = make_session("s", {request_step(1, "tools/call")});
  session.server_requests.push_back(
      server_request(9, "sampling/createMessage",
                     json{{"maxTokens", 10}, {"_meta", {{"requestedAt", "2025-05-05T00:00:00Z"}}}},
                     json{{"text", "recorded"}}));

  auto results = replay({session});  // exact: the time stamp differs
  ASSERT_EQ(results[0].server_requests.size(), 1u);
  EXPECT_FALSE(results[0].server_requests[0].matched);

  auto rules = IgnoreRules::compile({"/params/_meta/requestedAt"}, false);
  ASSERT_TRUE(rules) << rules.error();
  options_.ignore = &*rules;
  results = replay({session});
  ASSERT_EQ(results[0].server_requests.size(), 1u);
  EXPECT_EQ(results[0].server_requests[0].matched, 0u);
  EXPECT_EQ(parsed(results[0].server_requests[0].answer)["result"]["text"], "recorded");
}

TEST_F(DriverTest, ACrashFailsThatSessionOnlyAndTheNextGetsAFreshTarget) {
  // "crash" kills the target without an answer; the rest is echoed.
  target_.behaviour = [](FakeWire& target_wire, const mcp::Message& message) {
    const auto* name = message.param("name");
    if (name != nullptr && *name == "crash")
      target_wire.crash();
    else
      echo_everything(target_wire, message);
  };
  const auto sessions =
      std::vector{make_session("first", {request_step(1, "tools/call", json{{"name", "echo"}}),
                                         request_step(2, "tools/call", json{{"name", "crash"}}),
                                         request_step(3, "tools/call", json{{"name", "echo"}}, {1}),
                                         notification_step("notifications/progress")}),
                  make_session("second", {request_step(1, "tools/call", json{{"name", "echo"}})})};
  std::vector<std::pair<std::size_t, std::size_t>> progress;
  options_.progress = [&](std::size_t done, std::size_t total) {
    progress.emplace_back(done, total);
  };
  const auto results = replay(sessions);
  ASSERT_EQ(results.size(), 2u);
  const auto& first = results[0];
  EXPECT_EQ(first.failure, "target exited with status 3 at step 1");
  ASSERT_EQ(first.steps.size(), 3u);
  EXPECT_EQ(first.steps[0].responses.size(), 1u);
  EXPECT_EQ(first.steps[0].failure, "");
  EXPECT_TRUE(first.steps[1].sent);
  EXPECT_TRUE(first.steps[1].responses.empty());
  EXPECT_EQ(first.steps[1].failure, "target exited with status 3");
  EXPECT_FALSE(first.steps[1].latency_us);
  EXPECT_FALSE(first.steps[2].sent);
  EXPECT_EQ(first.steps[2].failure,
            "not sent: target exited with status 3 earlier in this session");

  const auto& second = results[1];
  EXPECT_EQ(second.failure, "");
  EXPECT_EQ(second.session, 1u);
  ASSERT_EQ(second.steps.size(), 1u);
  EXPECT_EQ(second.steps[0].responses.size(), 1u);
  ASSERT_EQ(target_.wires.size(), 2u);  // a new target session for the next recorded one
  EXPECT_EQ(wire(1).after_handshake().size(), 1u);

  ASSERT_EQ(progress.size(), 4u);  // one per request step, failed ones included
  EXPECT_EQ(progress.back(), (std::pair<std::size_t, std::size_t>{4, 4}));
}

TEST_F(DriverTest, ATargetThatDiesWhileIdleFailsWhatWasNotSent) {
  target_.behaviour = [this](FakeWire& target_wire, const mcp::Message& message) {
    echo_everything(target_wire, message);
    if (message.method == "tools/list")  // dies after answering, before the next step is due
      timers_.push_back(loop_.schedule(
          10ms, [&target_wire] { target_wire.crash("process killed by signal 9 (Killed)"); }));
  };
  options_.preserve_timing = 1.0;
  const auto results =
      replay({make_session("s", {request_step(1, "tools/list", json::object(), {}, 0),
                                 request_step(2, "tools/list", json::object(), {}, 100000)})});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "target killed by signal 9 (Killed)");
  EXPECT_EQ(results[0].steps[0].responses.size(), 1u);
  EXPECT_EQ(results[0].steps[1].failure,
            "not sent: target killed by signal 9 (Killed) earlier in this session");
}

TEST_F(DriverTest, AnUnansweredRequestFailsWithTheTimeoutAndTheSessionGoesOn) {
  options_.request_timeout = 250ms;
  target_.behaviour = [](FakeWire& target_wire, const mcp::Message& message) {
    const auto* name = message.param("name");
    if (name == nullptr || *name != "hang")
      echo_everything(target_wire, message);
  };
  const auto results =
      replay({make_session("s", {request_step(1, "tools/call", json{{"name", "hang"}}),
                                 request_step(2, "tools/call", json{{"name", "echo"}}, {0})})});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  EXPECT_EQ(results[0].steps[0].failure, "no answer within 250 ms");
  EXPECT_TRUE(results[0].steps[0].responses.empty());
  EXPECT_EQ(results[0].steps[1].responses.size(), 1u);
  const auto* cancel = wire().find("notifications/cancelled");  // the Client gave up on it
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(cancel->at - wire().find("tools/call")->at, 250ms);
}

TEST_F(DriverTest, ATargetThatNeverCompletesTheHandshakeFailsTheSessionNotTheRun) {
  target_.answer_initialize = false;
  options_.request_timeout = 100ms;
  const auto results = replay({make_session("s", {request_step(1, "tools/list")}),
                               make_session("t", {request_step(1, "tools/list")})});
  ASSERT_EQ(results.size(), 2u);
  for (const auto& session : results) {
    EXPECT_EQ(session.failure, "handshake failed: no answer to initialize within 100 ms");
    EXPECT_EQ(session.initialize_response, "");
    ASSERT_EQ(session.steps.size(), 1u);
    EXPECT_FALSE(session.steps[0].sent);
    EXPECT_EQ(session.steps[0].failure,
              "not sent: the handshake failed (no answer to initialize within 100 ms)");
  }
  EXPECT_EQ(target_.wires.size(), 2u);
}

TEST_F(DriverTest, AnInterruptClosesTheTargetAndKeepsWhatWasReplayed) {
  // "hang" is never answered; the interrupt comes 5 ms after it was sent.
  target_.behaviour = [this](FakeWire& target_wire, const mcp::Message& message) {
    const auto* name = message.param("name");
    if (name != nullptr && *name == "hang")
      timers_.push_back(loop_.schedule(5ms, [this] { interrupt_("SIGINT"); }));
    else
      echo_everything(target_wire, message);
  };
  std::size_t progress_calls = 0;
  options_.progress = [&](std::size_t, std::size_t) { ++progress_calls; };
  const auto results =
      replay({make_session("first", {request_step(1, "tools/call", json{{"name", "echo"}}),
                                     request_step(2, "tools/call", json{{"name", "hang"}}, {0}),
                                     request_step(3, "tools/call", json{{"name", "echo"}}, {1})}),
              make_session("second", {request_step(1, "tools/list")})});
  ASSERT_EQ(results.size(), 2u);
  const auto& first = results[0];
  EXPECT_TRUE(first.started);
  EXPECT_TRUE(first.interrupted);
  EXPECT_EQ(first.failure, "the replay was interrupted (SIGINT): 2 of 3 requests not replayed");
  ASSERT_EQ(first.steps.size(), 3u);
  EXPECT_FALSE(first.steps[0].interrupted);
  EXPECT_EQ(first.steps[0].responses.size(), 1u);
  EXPECT_TRUE(first.steps[1].sent);
  EXPECT_TRUE(first.steps[1].interrupted);
  EXPECT_EQ(first.steps[1].failure, "the replay was interrupted (SIGINT)");
  EXPECT_FALSE(first.steps[2].sent);
  EXPECT_TRUE(first.steps[2].interrupted);
  EXPECT_EQ(first.steps[2].failure, "not sent: the replay was interrupted (SIGINT)");

  const auto& second = results[1];
  EXPECT_EQ(second.session, 1u);
  EXPECT_FALSE(second.started);
  EXPECT_TRUE(second.interrupted);
  EXPECT_TRUE(second.steps.empty());
  EXPECT_EQ(target_.wires.size(), 1u);  // the second session never got a target
  EXPECT_EQ(progress_calls, 3u);        // the first session's three steps
  interrupt_("SIGINT");                 // after the run: nothing happens
  loop_.run_ready();
}

TEST_F(DriverTest, AnInterruptDuringTheHandshakeSendsNothing) {
  target_.answer_initialize = false;
  timers_.push_back(loop_.schedule(5ms, [this] { interrupt_("SIGTERM"); }));
  const auto results = replay({make_session("s", {request_step(1, "tools/list")})});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].started);
  EXPECT_TRUE(results[0].interrupted);
  EXPECT_EQ(results[0].initialize_response, "");
  EXPECT_EQ(results[0].failure,
            "the replay was interrupted (SIGTERM) during the handshake: 1 of 1 requests not "
            "replayed");
  ASSERT_EQ(results[0].steps.size(), 1u);
  EXPECT_FALSE(results[0].steps[0].sent);
  EXPECT_TRUE(results[0].steps[0].interrupted);
}

TEST_F(DriverTest, AtMostJobsSessionsRunAtOnceAndResultsKeepTheirOrder) {
  // Every answer takes 20 ms, so sessions overlap when they may.
  target_.behaviour = [this](FakeWire& target_wire, const mcp::Message& message) {
    if (message.is_request())
      timers_.push_back(
          loop_.schedule(20ms, [&target_wire, message] { echo_everything(target_wire, message); }));
  };
  std::vector<RecordedSession> sessions;
  for (int i = 0; i < 7; ++i)
    sessions.push_back(make_session(
        "s" + std::to_string(i), {request_step(1, "tools/call", json{{"name", std::to_string(i)}}),
                                  request_step(2, "ping", json::object(), {0})}));
  options_.jobs = 3;
  const auto results = replay(sessions);
  ASSERT_EQ(results.size(), 7u);
  EXPECT_EQ(max_open_, 3u);
  EXPECT_EQ(target_.wires.size(), 7u);
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(results[i].session, i);
    EXPECT_EQ(results[i].failure, "");
    EXPECT_EQ(parsed(results[i].steps[0].responses.at(0))["result"]["params"]["name"],
              std::to_string(i));
  }

  max_open_ = 0;
  options_.jobs = 1;
  replay(sessions);
  EXPECT_EQ(max_open_, 1u);
}

TEST_F(DriverTest, BadRecordedMessagesAreReportedNotSentAndNoSessionsIsAnEmptyResult) {
  RecordedStep broken = request_step(1, "tools/call");
  broken.exchange.request_message = "{\"jsonrpc\":\"2.0\",\"id\":";
  RecordedStep broken_notification = notification_step("notifications/progress");
  broken_notification.exchange.request_message = "[]";
  const auto results = replay({make_session(
      "s", {broken, broken_notification, request_step(2, "tools/list", json::object(), {0})})});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].steps[0].sent);
  EXPECT_TRUE(results[0].steps[0].failure.starts_with(
      "not sent: the recorded request is not valid JSON-RPC"))
      << results[0].steps[0].failure;
  EXPECT_EQ(results[0].steps[1].responses.size(), 1u);
  ASSERT_EQ(results[0].notes.size(), 1u);
  EXPECT_TRUE(results[0].notes[0].starts_with("step 1 (notifications/progress) not sent"));

  std::optional<std::vector<ReplayedSession>> none;
  const std::vector<RecordedSession> no_sessions;
  replay_sessions(loop_, target_, no_sessions, options_,
                  [&](std::vector<ReplayedSession> done) { none = std::move(done); });
  loop_.run_ready();
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// ---- against the real fixture over stdio ----

#ifdef MCPGW_FIXTURE_BINARY

class FixtureDriverTest : public ::testing::Test {
 protected:
  std::vector<ReplayedSession> replay(const std::vector<RecordedSession>& sessions,
                                      std::vector<std::string> switches = {}) {
    std::vector<std::string> command{MCPGW_FIXTURE_BINARY, "stdio"};
    command.insert(command.end(), switches.begin(), switches.end());
    return replay_command(sessions, std::move(command));
  }

  std::vector<ReplayedSession> replay_command(const std::vector<RecordedSession>& sessions,
                                              std::vector<std::string> command) {
    config::BackendConfig backend;
    backend.name = "fixture";
    backend.command = std::move(command);
    upstream::TransportLimits limits;
    limits.shutdown_grace = 500ms;
    auto factory = upstream::make_stdio_transport_factory(context_, backend, limits);
    std::optional<std::vector<ReplayedSession>> results;
    replay_sessions(loop_, *factory, sessions, options_,
                    [&](std::vector<ReplayedSession> done) { results = std::move(done); });
    EXPECT_TRUE(test::run_until(
        context_, [&] { return results.has_value(); }, 20s));
    factory->shutdown();
    return results ? std::move(*results) : std::vector<ReplayedSession>();
  }

  boost::asio::io_context context_;
  runtime::AsioEventLoop loop_{context_};
  DriverOptions options_;
};

json echo_params(const std::string& text) {
  return json{{"name", "echo"}, {"arguments", {{"text", text}}}};
}

std::string text_of(const std::string& response) {
  const json message = parsed(response);
  return message["result"]["content"][0].value("text", std::string());
}

TEST_F(FixtureDriverTest, ReplaysAgainstTheRealServerAndSurvivesItsCrash) {
  const auto sessions = std::vector{
      make_session("crashes", {request_step(1, "tools/call", echo_params("one")),
                               request_step(2, "tools/call", json{{"name", "crash"}}, {0}),
                               request_step(3, "tools/call", echo_params("never"), {1})}),
      make_session("after", {request_step(1, "tools/list"),
                             request_step(2, "tools/call", echo_params("two"), {0})})};
  const auto results = replay(sessions);
  ASSERT_EQ(results.size(), 2u);
  const auto& crashed = results[0];
  EXPECT_EQ(parsed(crashed.initialize_response)["result"]["serverInfo"]["name"], "mcpgw-fixture");
  ASSERT_EQ(crashed.steps.size(), 3u);
  ASSERT_EQ(crashed.steps[0].responses.size(), 1u);
  EXPECT_EQ(text_of(crashed.steps[0].responses[0]), "one");
  EXPECT_EQ(crashed.steps[1].failure, "target exited with status 3");
  EXPECT_EQ(crashed.failure, "target exited with status 3 at step 1");
  EXPECT_FALSE(crashed.steps[2].sent);

  const auto& after = results[1];
  EXPECT_EQ(after.failure, "");
  ASSERT_EQ(after.steps.size(), 2u);
  ASSERT_EQ(after.steps[0].responses.size(), 1u);
  EXPECT_TRUE(parsed(after.steps[0].responses[0])["result"]["tools"].is_array());
  ASSERT_EQ(after.steps[1].responses.size(), 1u);
  EXPECT_EQ(text_of(after.steps[1].responses[0]), "two");
  EXPECT_EQ(parsed(after.steps[1].responses[0])["id"], 2);
}

TEST_F(FixtureDriverTest, ASlowToolTimesOutAndTheNextRequestIsStillAnswered) {
  // The timeout bounds the handshake too, and an ASan build of the fixture under load can take
  // several hundred milliseconds to start: 2 s keeps the handshake clear of it.
  options_.request_timeout = 2000ms;
  const auto results = replay({make_session(
      "s", {request_step(1, "tools/call", json{{"name", "sleep"}, {"arguments", {{"ms", 10000}}}}),
            request_step(2, "tools/call", echo_params("awake"), {0})})});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  EXPECT_EQ(results[0].steps[0].failure, "no answer within 2000 ms");
  ASSERT_EQ(results[0].steps[1].responses.size(), 1u);
  EXPECT_EQ(text_of(results[0].steps[1].responses[0]), "awake");
}

TEST_F(FixtureDriverTest, FollowsTheFixturesPagesAndAnswersItsRootsRequest) {
  RecordedSession session = make_session(
      "s",
      {request_step(1, "tools/list"), request_step(2, "tools/call", json{{"name", "roots"}}, {0})});
  const json roots{{"roots", json::array({{{"uri", "file:///recorded"}, {"name", "r"}}})}};
  session.server_requests.push_back(server_request(0, "roots/list", json::object(), roots));
  const auto results = replay({session}, {"--page-size", "3", "--extra-tools", "7"});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  const auto& pages = results[0].steps[0].responses;
  ASSERT_GE(pages.size(), 3u);
  std::size_t tools = 0;
  for (const auto& page : pages)
    tools += parsed(page)["result"]["tools"].size();
  EXPECT_GE(tools, 7u);
  EXPECT_FALSE(parsed(pages.back())["result"].contains("nextCursor"));

  ASSERT_EQ(results[0].server_requests.size(), 1u);
  EXPECT_EQ(results[0].server_requests[0].matched, 0u);
  EXPECT_EQ(results[0].server_requests[0].during_step, 1u);
  ASSERT_EQ(results[0].steps[1].responses.size(), 1u);
  EXPECT_NE(results[0].steps[1].responses[0].find("file:///recorded"), std::string::npos)
      << results[0].steps[1].responses[0];
}

// A stdio answer is kept as the target wrote it (member order, spacing, number spelling), with
// only the recorded id put back: what the comparison sees is what the server sent.
TEST_F(FixtureDriverTest, KeepsAStdioAnswerAsTheTargetWroteIt) {
  const std::string script = R"(
IFS= read -r line
printf '%s\n' '{"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"sh","version":"1"}}}'
IFS= read -r initialized
IFS= read -r line
printf '%s\n' '{"result": {"z":1, "a":[1.50]}, "id":2 ,"jsonrpc":"2.0"}'
IFS= read -r line
)";
  const auto results =
      replay_command({make_session("s", {request_step(7, "tools/call", echo_params("x"))})},
                     {"/bin/sh", "-c", script});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].failure, "");
  ASSERT_EQ(results[0].steps.size(), 1u);
  ASSERT_EQ(results[0].steps[0].responses.size(), 1u);
  EXPECT_EQ(results[0].steps[0].responses[0],
            R"({"result": {"z":1, "a":[1.50]}, "id":7 ,"jsonrpc":"2.0"})");
}

#endif

}  // namespace
}  // namespace mcpgw::replay
