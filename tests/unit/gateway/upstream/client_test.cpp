// The upstream Client on a scripted in-memory Transport and a ManualEventLoop: handshake, id
// rewriting, queueing, timeouts, cancellation, crashes and restarts, session expiry.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/runtime/manual_loop.hpp"
#include "gateway/upstream/client.hpp"
#include "mcp/message_summary.hpp"

namespace mcpgw::upstream {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// What one fake transport saw; outlives the transport so tests can inspect it afterwards.
struct FakeWire {
  TransportHandler* handler = nullptr;
  std::vector<mcp::Message> sent;
  std::vector<ForwardedHeaders> sent_headers;  // per message in `sent` (empty: plain send)
  std::vector<std::string> initialized_versions;
  int session_resets = 0;
  std::optional<std::string> capture_session;  // set_capture_session(), if called
  bool started_before_capture_session = false;
  bool started = false;
  bool closed = false;
  bool destroyed = false;
  bool sessions_can_expire = true;
  bool accepts_text = false;
  std::vector<std::pair<mcp::Message, std::string>> sent_texts;  // send_text(): head and text
  std::function<void()> close_done;

  // The backend's side of the pipe.
  void deliver(mcp::Message message, std::optional<mcp::RequestId> stream = std::nullopt) {
    ASSERT_NE(handler, nullptr);
    handler->on_message(std::move(message), stream);
  }
  // As a stdio transport delivers a line to a handler that prefers text.
  void deliver_text(std::string_view text) {
    ASSERT_NE(handler, nullptr);
    ASSERT_TRUE(handler->prefers_text());
    mcp::SummaryError error;
    const auto summary = mcp::summarize_message(text, &error);
    ASSERT_TRUE(summary.has_value()) << error.message;
    handler->on_message_text(text, *summary, std::nullopt);
  }
  void crash(TransportError::Kind kind = TransportError::Kind::exited,
             std::string message = "process exited with status 1 (/opt/secret/path)") {
    ASSERT_NE(handler, nullptr);
    handler->on_closed(TransportError{kind, std::move(message), 0});
  }
  const mcp::Message& last() const { return sent.back(); }
  std::vector<std::string> methods() const {
    std::vector<std::string> names;
    for (const auto& message : sent)
      names.push_back(message.is_response() ? "<response>" : message.method);
    return names;
  }
  // The last request with this method.
  const mcp::Message* find(const std::string& method) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it)
      if (it->is_request() && it->method == method)
        return &*it;
    return nullptr;
  }
};

class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(std::shared_ptr<FakeWire> wire) : wire_(std::move(wire)) {}
  ~FakeTransport() override { wire_->destroyed = true; }
  void start(TransportHandler& handler) override {
    wire_->handler = &handler;
    wire_->started = true;
  }
  void send(mcp::Message message) override {
    wire_->sent.push_back(std::move(message));
    wire_->sent_headers.emplace_back();
  }
  void send_with_headers(mcp::Message message, const ForwardedHeaders& headers) override {
    wire_->sent.push_back(std::move(message));
    wire_->sent_headers.push_back(headers);
  }
  void on_initialized(const std::string& version) override {
    wire_->initialized_versions.push_back(version);
  }
  void reset_session() override { ++wire_->session_resets; }
  std::string session_id() const override { return {}; }
  bool sessions_can_expire() const override { return wire_->sessions_can_expire; }
  bool accepts_text() const override { return wire_->accepts_text; }
  void send_text(const mcp::Message& request, std::string text) override {
    wire_->sent_texts.emplace_back(request, std::move(text));
  }
  void set_capture_session(std::string client_session) override {
    wire_->started_before_capture_session = wire_->started;
    wire_->capture_session = std::move(client_session);
  }
  void close(std::function<void()> done) override {
    wire_->closed = true;
    wire_->handler = nullptr;
    wire_->close_done = std::move(done);
  }

 private:
  std::shared_ptr<FakeWire> wire_;
};

class FakeFactory final : public TransportFactory {
 public:
  std::unique_ptr<Transport> create() override {
    wires.push_back(std::make_shared<FakeWire>());
    wires.back()->sessions_can_expire = sessions_can_expire;
    wires.back()->accepts_text = accepts_text;
    return std::make_unique<FakeTransport>(wires.back());
  }
  void shutdown() override {}
  std::vector<std::shared_ptr<FakeWire>> wires;
  bool sessions_can_expire = true;
  bool accepts_text = false;
};

class RecordingEvents final : public ClientEvents {
 public:
  void on_ready(const json& result) override {
    log.push_back("ready");
    ready_results.push_back(result);
  }
  void on_backend_request(mcp::Message request, std::optional<CallId> related) override {
    log.push_back("request " + request.method);
    requests.emplace_back(std::move(request), related);
  }
  void on_backend_notification(mcp::Message notification, std::optional<CallId> related) override {
    log.push_back("notification " + notification.method);
    notifications.emplace_back(std::move(notification), related);
  }
  void on_down(const std::string& reason) override {
    log.push_back("down " + reason);
    down_reasons.push_back(reason);
  }

  std::vector<std::string> log;
  std::vector<json> ready_results;
  std::vector<std::pair<mcp::Message, std::optional<CallId>>> requests;
  std::vector<std::pair<mcp::Message, std::optional<CallId>>> notifications;
  std::vector<std::string> down_reasons;
};

json initialize_params() {
  return {{"protocolVersion", "2025-06-18"},
          {"capabilities", {{"sampling", json::object()}}},
          {"clientInfo", {{"name", "test-client"}, {"version", "1.0"}}}};
}

json initialize_result(const std::string& version = "2025-06-18") {
  return {{"protocolVersion", version},
          {"capabilities", {{"tools", json::object()}}},
          {"serverInfo", {{"name", "backend"}, {"version", "0.1"}}}};
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { options_ = make_options(); }

  ClientOptions make_options() {
    ClientOptions options;
    options.backend_name = "alpha";
    options.initialize_params = initialize_params();
    options.request_timeout = 1000ms;
    options.backoff.initial = 250ms;
    options.backoff.max = 2000ms;
    return options;
  }

  void create() { client_ = make_client(loop_, factory_, options_, events_); }

  FakeWire& wire() { return *factory_.wires.back(); }

  // Answers the pending initialize on the current transport.
  void answer_initialize(const std::string& version = "2025-06-18") {
    const auto* request = wire().find("initialize");
    ASSERT_NE(request, nullptr);
    wire().deliver(mcp::make_success_response(*request->id, initialize_result(version)));
  }

  void start_ready() {
    create();
    client_->start();
    answer_initialize();
    ASSERT_EQ(client_->state(), ClientState::ready);
  }

  // A call whose response (or error) lands in `results`.
  CallId call(mcp::RequestId id, const std::string& method = "tools/call",
              json params = json{{"name", "echo"}}) {
    return client_->call(
        mcp::make_request(std::move(id), method, std::move(params)),
        [this](mcp::Message response) { results_.push_back(std::move(response)); });
  }

  // A call_text() of a valid request: message answers land in `results`, text ones in
  // `text_results`.
  CallId call_text(const std::string& text) {
    auto head = mcp::read_request_text(text);
    EXPECT_TRUE(head.has_value()) << text;
    return client_->call_text(text, head ? *head : mcp::RequestText{0, "", 0, 0},
                              [this](TextAnswer answer) {
                                if (answer.is_text())
                                  text_results_.push_back(std::move(answer.text));
                                else
                                  results_.push_back(std::move(answer.message));
                              });
  }

  runtime::ManualEventLoop loop_;
  FakeFactory factory_;
  RecordingEvents events_;
  ClientOptions options_;
  std::unique_ptr<Client> client_;
  std::vector<mcp::Message> results_;
  std::vector<std::string> text_results_;
};

TEST(BackoffTest, DoublesFromInitialAndStopsAtMax) {
  Backoff backoff;
  backoff.initial = 250ms;
  backoff.max = 30000ms;
  EXPECT_EQ(backoff.delay(0), 250ms);
  EXPECT_EQ(backoff.delay(1), 500ms);
  EXPECT_EQ(backoff.delay(2), 1000ms);
  EXPECT_EQ(backoff.delay(6), 16000ms);
  EXPECT_EQ(backoff.delay(7), 30000ms);
  EXPECT_EQ(backoff.delay(4000000000u), 30000ms);
  backoff.max = std::chrono::milliseconds::max();
  EXPECT_EQ(backoff.delay(4000000000u), std::chrono::milliseconds::max());
  backoff.initial = 0ms;
  EXPECT_EQ(backoff.delay(3), 0ms);
}

TEST_F(ClientTest, HandshakeSendsInitializeThenInitializedThenQueuedCalls) {
  create();
  EXPECT_EQ(client_->state(), ClientState::starting);
  call("first");
  client_->notify(mcp::make_notification("notifications/roots/list_changed"));
  client_->start();
  call("second");
  ASSERT_EQ(wire().methods(), std::vector<std::string>{"initialize"});
  EXPECT_EQ(wire().sent[0].params, initialize_params());
  EXPECT_TRUE(wire().sent[0].id->is_integer());
  EXPECT_TRUE(events_.ready_results.empty());

  answer_initialize("2025-03-26");
  EXPECT_EQ(client_->state(), ClientState::ready);
  EXPECT_EQ(wire().initialized_versions, std::vector<std::string>{"2025-03-26"});
  EXPECT_EQ(wire().methods(),
            (std::vector<std::string>{"initialize", "notifications/initialized", "tools/call",
                                      "notifications/roots/list_changed", "tools/call"}));
  ASSERT_EQ(events_.ready_results.size(), 1u);
  EXPECT_EQ(events_.ready_results[0], initialize_result("2025-03-26"));
  EXPECT_EQ(client_->initialize_result(), initialize_result("2025-03-26"));
}

TEST_F(ClientTest, IdsAreRewrittenBothWays) {
  start_ready();
  // Two client sessions may use the same id; on the wire they differ.
  const CallId a = call("same");
  const CallId b = call("same");
  const CallId c = call(7);
  ASSERT_EQ(wire().sent.size(), 5u);
  const auto wire_a = *wire().sent[2].id;
  const auto wire_b = *wire().sent[3].id;
  const auto wire_c = *wire().sent[4].id;
  EXPECT_TRUE(wire_a.is_integer());
  EXPECT_NE(wire_a, wire_b);
  EXPECT_NE(wire_b, wire_c);
  EXPECT_EQ(client_->wire_id(a), wire_a);
  EXPECT_EQ(client_->wire_id(b), wire_b);
  EXPECT_EQ(wire().sent[2].params, (json{{"name", "echo"}}));

  // Answers out of order; an error response is mapped too.
  wire().deliver(mcp::make_error_response(wire_c, -32602, "bad"));
  wire().deliver(mcp::make_success_response(wire_b, json{{"b", true}}));
  wire().deliver(mcp::make_success_response(wire_a, json{{"a", true}}));
  ASSERT_EQ(results_.size(), 3u);
  EXPECT_EQ(results_[0], mcp::make_error_response(mcp::RequestId(7), -32602, "bad"));
  EXPECT_EQ(results_[1], mcp::make_success_response("same", json{{"b", true}}));
  EXPECT_EQ(results_[2], mcp::make_success_response("same", json{{"a", true}}));
  EXPECT_FALSE(client_->wire_id(a).has_value());
  EXPECT_FALSE(client_->wire_id(c).has_value());
}

TEST_F(ClientTest, MessagesOnARequestStreamNameTheirCall) {
  start_ready();
  const CallId id = call("x");
  const auto wire_id = *client_->wire_id(id);
  wire().deliver(mcp::make_notification("notifications/progress", json{{"progress", 1}}), wire_id);
  wire().deliver(mcp::make_request("s1", "sampling/createMessage", json::object()), wire_id);
  wire().deliver(mcp::make_notification("notifications/tools/list_changed"));
  ASSERT_EQ(events_.notifications.size(), 2u);
  EXPECT_EQ(events_.notifications[0].second, id);
  EXPECT_EQ(events_.notifications[1].second, std::nullopt);
  ASSERT_EQ(events_.requests.size(), 1u);
  EXPECT_EQ(events_.requests[0].first.id, mcp::RequestId("s1"));  // the backend's own id
  EXPECT_EQ(events_.requests[0].second, id);

  client_->respond(mcp::make_success_response("s1", json{{"content", "hi"}}));
  EXPECT_EQ(wire().last(), mcp::make_success_response("s1", json{{"content", "hi"}}));
}

TEST_F(ClientTest, PingFromTheBackendIsAnsweredLocally) {
  start_ready();
  wire().deliver(mcp::make_request(99, "ping"));
  EXPECT_EQ(wire().last(), mcp::make_success_response(99, json::object()));
  EXPECT_TRUE(events_.requests.empty());
}

TEST_F(ClientTest, ResponsesWithUnknownIdsAreDropped) {
  start_ready();
  const std::size_t sent = wire().sent.size();
  wire().deliver(mcp::make_success_response(12345, json::object()));
  wire().deliver(mcp::make_success_response("not-ours", json::object()));
  wire().deliver(mcp::make_error_response(std::nullopt, -32700, "Parse error"));
  EXPECT_TRUE(results_.empty());
  EXPECT_EQ(wire().sent.size(), sent);
  EXPECT_EQ(client_->state(), ClientState::ready);
}

TEST_F(ClientTest, TimeoutAnswersMinus32003AndCancelsUpstream) {
  start_ready();
  call("slow");
  const auto wire_id = *wire().last().id;
  loop_.advance(999ms);
  EXPECT_TRUE(results_.empty());
  loop_.advance(1ms);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].kind, mcp::MessageKind::error_response);
  EXPECT_EQ(results_[0].id, mcp::RequestId("slow"));
  EXPECT_EQ(results_[0].error.code, gateway_error::backend_timeout);
  EXPECT_EQ(wire().last().method, "notifications/cancelled");
  EXPECT_EQ(wire().last().params, (json{{"requestId", wire_id.integer()}, {"reason", "timeout"}}));
  // A late answer is dropped: the call completed once.
  wire().deliver(mcp::make_success_response(wire_id, json::object()));
  EXPECT_EQ(results_.size(), 1u);
}

// All calls share one deadline timer: each still fails exactly its own timeout after it was
// made, calls answered early change nothing for the others, and a call made from inside a
// timeout's completion gets a full timeout of its own.
TEST_F(ClientTest, EveryCallTimesOutOnItsOwnDeadline) {
  start_ready();
  client_->call(mcp::make_request(mcp::RequestId("first"), "tools/call", json{{"name", "echo"}}),
                [this](mcp::Message response) {
                  results_.push_back(std::move(response));
                  call("from-completion");
                });
  loop_.advance(300ms);
  call("answered");
  const auto answered_wire = *wire().last().id;
  loop_.advance(300ms);
  call("third");
  EXPECT_EQ(loop_.pending_timers(), 1u);  // one timer for three calls
  wire().deliver(mcp::make_success_response(answered_wire, json::object()));

  const auto ids = [this] {
    std::vector<std::string> seen;
    for (const auto& result : results_)
      seen.push_back(result.id->to_string() + (result.kind == mcp::MessageKind::error_response
                                                   ? " " + std::to_string(result.error.code)
                                                   : std::string(" ok")));
    return seen;
  };
  const std::string timeout = " " + std::to_string(gateway_error::backend_timeout);
  loop_.advance(399ms);  // 999 ms
  EXPECT_EQ(ids(), std::vector<std::string>{"\"answered\" ok"});
  loop_.advance(1ms);  // 1000 ms: "first"
  EXPECT_EQ(ids(), (std::vector<std::string>{"\"answered\" ok", "\"first\"" + timeout}));
  loop_.advance(599ms);  // 1599 ms
  EXPECT_EQ(results_.size(), 2u);
  loop_.advance(1ms);  // 1600 ms: "third"
  EXPECT_EQ(ids().back(), "\"third\"" + timeout);
  loop_.advance(399ms);  // 1999 ms
  EXPECT_EQ(results_.size(), 3u);
  loop_.advance(1ms);  // 2000 ms: the call made at 1000 ms
  ASSERT_EQ(results_.size(), 4u);
  EXPECT_EQ(ids().back(), "\"from-completion\"" + timeout);
  EXPECT_EQ(loop_.pending_timers(), 0u);  // nothing left to time out: not re-armed
}

// Without expiring sessions the Client keeps no copy of a request it sent; answers and
// timeouts still carry the caller's id.
TEST_F(ClientTest, CallsOnTransportsWithoutExpiringSessionsCompleteWithTheCallersId) {
  factory_.sessions_can_expire = false;
  start_ready();
  call("answered", "tools/call", json{{"name", "echo"}, {"arguments", {{"text", "hi"}}}});
  EXPECT_EQ(wire().last().params, (json{{"name", "echo"}, {"arguments", {{"text", "hi"}}}}));
  wire().deliver(mcp::make_success_response(*wire().last().id, json{{"content", json::array()}}));
  call("slow");
  loop_.advance(1000ms);
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[0].id, mcp::RequestId("answered"));
  EXPECT_EQ(results_[0].result, (json{{"content", json::array()}}));
  EXPECT_EQ(results_[1].id, mcp::RequestId("slow"));
  EXPECT_EQ(results_[1].error.code, gateway_error::backend_timeout);
}

// call_text(): the request goes out as given, byte for byte but for its id; the answer gets the
// caller's id back.
TEST_F(ClientTest, CallTextSendsTheTextWithOnlyItsIdReplaced) {
  factory_.accepts_text = true;
  factory_.sessions_can_expire = false;
  start_ready();
  const std::string text =
      R"({"jsonrpc":"2.0", "id" : "caller-7","method":"tools/call","params":{"name":"echo","arguments":{"id":1}}})";
  call_text(text);
  ASSERT_EQ(wire().sent_texts.size(), 1u);
  const auto& [head, sent] = wire().sent_texts[0];
  ASSERT_TRUE(head.id && head.id->is_integer());
  EXPECT_EQ(head.method, "tools/call");
  EXPECT_EQ(sent, R"({"jsonrpc":"2.0", "id" : )" + std::to_string(head.id->integer()) +
                      R"(,"method":"tools/call","params":{"name":"echo","arguments":{"id":1}}})");
  // A transport that delivers messages: the answer is a message with the caller's id.
  wire().deliver(mcp::make_success_response(*head.id, json{{"content", json::array()}}));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_TRUE(text_results_.empty());
  EXPECT_EQ(results_[0].id, mcp::RequestId("caller-7"));
  EXPECT_EQ(results_[0].result, (json{{"content", json::array()}}));
}

// Answers that arrive as text go back as text, byte for byte but for the id; everything else
// that arrives as text is decoded and goes the usual way.
TEST_F(ClientTest, CallTextAnswersComeBackAsTheTextTheBackendWrote) {
  factory_.accepts_text = true;
  factory_.sessions_can_expire = false;
  start_ready();
  EXPECT_FALSE(wire().handler->prefers_text());  // no text call yet: plain messages
  call_text(R"({"jsonrpc":"2.0","id":"a\"1","method":"tools/call","params":{"name":"echo"}})");
  call_text(R"({"jsonrpc":"2.0","id":-4,"method":"ping"})");
  call("plain");
  ASSERT_EQ(wire().sent_texts.size(), 2u);
  EXPECT_TRUE(wire().handler->prefers_text());
  const std::string first = wire().sent_texts[0].first.id->to_string();
  const std::string second = wire().sent_texts[1].first.id->to_string();
  // Out of order, with odd spacing and member order kept as written.
  wire().deliver_text(R"({"error":{"message":"nope","code":-32601} , "id":  )" + second +
                      R"(,"jsonrpc":"2.0"})");
  wire().deliver_text(R"({"jsonrpc":"2.0","result":{"z":1,"a":[1.50]},"id":)" + first + "}");
  ASSERT_EQ(text_results_.size(), 2u);
  EXPECT_EQ(text_results_[0],
            R"({"error":{"message":"nope","code":-32601} , "id":  -4,"jsonrpc":"2.0"})");
  EXPECT_EQ(text_results_[1], R"({"jsonrpc":"2.0","result":{"z":1,"a":[1.50]},"id":"a\"1"})");
  // A call() answered in text, a notification and a backend request: decoded.
  wire().deliver_text(
      R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}})");
  wire().deliver_text(
      R"({"jsonrpc":"2.0","id":"s1","method":"sampling/createMessage","params":{}})");
  wire().deliver_text(R"({"jsonrpc":"2.0","id":)" + wire().last().id->to_string() +
                      R"(,"result":{"ok":true}})");
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].id, mcp::RequestId("plain"));
  EXPECT_EQ(results_[0].result, (json{{"ok", true}}));
  ASSERT_EQ(events_.notifications.size(), 1u);
  EXPECT_EQ(events_.notifications[0].first.method, "notifications/message");
  ASSERT_EQ(events_.requests.size(), 1u);
  EXPECT_EQ(events_.requests[0].first.id, mcp::RequestId("s1"));
  // A late or unknown answer changes nothing; nor does one the codec rejects (a duplicate
  // member the summary does not read).
  wire().deliver_text(R"({"jsonrpc":"2.0","id":)" + first + R"(,"result":{}})");
  wire().deliver_text(R"({"jsonrpc":"2.0","id":999,"result":{"a":1,"a":2}})");
  EXPECT_EQ(text_results_.size(), 2u);
  EXPECT_EQ(results_.size(), 1u);
  loop_.advance(1000ms);  // nothing left to time out
  EXPECT_EQ(text_results_.size(), 2u);
  EXPECT_EQ(results_.size(), 1u);
}

// Failures of the Client's own reach a text call as messages.
TEST_F(ClientTest, CallTextFailuresAreMessages) {
  factory_.accepts_text = true;
  factory_.sessions_can_expire = false;
  options_.restart = false;
  start_ready();
  call_text(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  loop_.advance(1000ms);
  call_text(R"({"jsonrpc":"2.0","id":2,"method":"ping"})");
  wire().crash();
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[0].id, mcp::RequestId(1));
  EXPECT_EQ(results_[0].error.code, gateway_error::backend_timeout);
  EXPECT_EQ(results_[1].id, mcp::RequestId(2));
  EXPECT_EQ(results_[1].error.code, gateway_error::backend_unavailable);
  EXPECT_TRUE(text_results_.empty());
}

// Queued behind the handshake, a text call keeps its text until it goes out.
TEST_F(ClientTest, CallTextWaitsForTheHandshakeLikeAnyCall) {
  factory_.accepts_text = true;
  factory_.sessions_can_expire = false;
  create();
  client_->start();
  call_text(R"({"jsonrpc":"2.0","id":5,"method":"ping"})");
  EXPECT_TRUE(wire().sent_texts.empty());
  answer_initialize();
  ASSERT_EQ(wire().sent_texts.size(), 1u);
  const auto& [head, sent] = wire().sent_texts[0];
  EXPECT_EQ(sent, R"({"jsonrpc":"2.0","id":)" + head.id->to_string() + R"(,"method":"ping"})");
  loop_.advance(1000ms);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].id, mcp::RequestId(5));
  EXPECT_EQ(results_[0].error.code, gateway_error::backend_timeout);
}

// Transports that build requests from messages (HTTP) get the decoded message.
TEST_F(ClientTest, CallTextDecodesForTransportsThatTakeMessages) {
  start_ready();
  call_text(R"({"jsonrpc":"2.0","id":"x","method":"tools/call","params":{"name":"echo"}})");
  EXPECT_TRUE(wire().sent_texts.empty());
  EXPECT_FALSE(wire().handler->prefers_text());
  EXPECT_EQ(wire().last().method, "tools/call");
  EXPECT_EQ(wire().last().params, (json{{"name", "echo"}}));
  wire().deliver(mcp::make_success_response(*wire().last().id, json::object()));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].id, mcp::RequestId("x"));
}

TEST_F(ClientTest, CallTextWithAHeadThatDoesNotFitFailsWithInternalErrorLater) {
  factory_.accepts_text = true;
  factory_.sessions_can_expire = false;
  start_ready();
  const std::string text = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
  const auto record = [this](TextAnswer answer) { results_.push_back(std::move(answer.message)); };
  client_->call_text(text, mcp::RequestText{1, "ping", text.size(), 1}, record);
  client_->call_text(text, mcp::RequestText{1, "ping", 5, text.size()}, record);
  client_->call_text(text, mcp::RequestText{1, "ping", 5, 0}, record);
  EXPECT_TRUE(results_.empty());  // never from inside call_text()
  loop_.run_ready();
  ASSERT_EQ(results_.size(), 3u);
  for (const auto& result : results_)
    EXPECT_EQ(result.error.code, mcp::error_code::internal_error);
  EXPECT_TRUE(wire().sent_texts.empty());
}

// Where the Client decodes the text itself, text that is not a request fails the same way.
TEST_F(ClientTest, CallTextOfAnythingButARequestFailsWithInternalErrorLater) {
  start_ready();
  const auto record = [this](TextAnswer answer) { results_.push_back(std::move(answer.message)); };
  for (const char* text : {R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
                           R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", "not json"}) {
    client_->call_text(text, mcp::RequestText{1, "ping", 0, 1}, record);
  }
  EXPECT_TRUE(results_.empty());
  loop_.run_ready();
  ASSERT_EQ(results_.size(), 3u);
  for (const auto& result : results_)
    EXPECT_EQ(result.error.code, mcp::error_code::internal_error);
}

TEST_F(ClientTest, QueuedCallTimesOutWithoutReachingTheBackend) {
  create();
  client_->start();
  call("waiting");
  loop_.advance(1000ms);
  // The handshake timed out too (same timeout): the call failed once, with a timeout or as
  // unavailable, and was never sent.
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].id, mcp::RequestId("waiting"));
  for (const auto& message : factory_.wires[0]->sent)
    EXPECT_NE(message.method, "tools/call");
}

TEST_F(ClientTest, CancelSendsCancelledWithTheWireIdAndForgetsTheCall) {
  start_ready();
  const CallId id = call("c");
  const auto wire_id = *client_->wire_id(id);
  client_->cancel(id, "user cancelled");
  EXPECT_EQ(wire().last(),
            mcp::make_notification("notifications/cancelled", json{{"requestId", wire_id.integer()},
                                                                   {"reason", "user cancelled"}}));
  EXPECT_FALSE(client_->wire_id(id).has_value());
  wire().deliver(mcp::make_success_response(wire_id, json::object()));
  loop_.advance(5000ms);
  EXPECT_TRUE(results_.empty());
}

TEST_F(ClientTest, CancellingAQueuedCallSendsNothing) {
  create();
  client_->start();
  const CallId id = call("queued");
  client_->cancel(id, "gone");
  answer_initialize();
  EXPECT_EQ(wire().methods(),
            (std::vector<std::string>{"initialize", "notifications/initialized"}));
  EXPECT_TRUE(results_.empty());
}

TEST_F(ClientTest, CrashFailsEverythingAtOnceThenRestartsAfterBackoff) {
  start_ready();
  call(1);
  call(2);
  call(3);
  wire().crash();
  // No loop turn needed: every pending call has its error already.
  ASSERT_EQ(results_.size(), 3u);
  for (const auto& result : results_) {
    EXPECT_EQ(result.error.code, gateway_error::backend_unavailable);
    EXPECT_EQ(result.error.message, "Backend 'alpha' is unavailable: process exited");
    EXPECT_EQ(result.error.message.find("secret"), std::string::npos);
  }
  EXPECT_EQ(events_.log.back(), "down process exited");
  EXPECT_EQ(client_->state(), ClientState::down);
  EXPECT_TRUE(factory_.wires[0]->closed);

  // While down, calls fail fast instead of waiting.
  call(4);
  loop_.run_ready();
  ASSERT_EQ(results_.size(), 4u);
  EXPECT_EQ(results_[3].error.code, gateway_error::backend_unavailable);

  // The dead transport is released once its close completes.
  factory_.wires[0]->close_done();
  loop_.run_ready();
  EXPECT_TRUE(factory_.wires[0]->destroyed);

  loop_.advance(249ms);
  EXPECT_EQ(factory_.wires.size(), 1u);
  loop_.advance(1ms);
  ASSERT_EQ(factory_.wires.size(), 2u);
  EXPECT_EQ(wire().methods(), std::vector<std::string>{"initialize"});
  EXPECT_EQ(client_->state(), ClientState::starting);

  // It crashes again during the handshake: queued calls fail, the next delay doubles.
  call(5);
  wire().crash();
  ASSERT_EQ(results_.size(), 5u);
  EXPECT_EQ(results_[4].id, mcp::RequestId(5));
  EXPECT_EQ(results_[4].error.code, gateway_error::backend_unavailable);
  loop_.advance(499ms);
  EXPECT_EQ(factory_.wires.size(), 2u);
  loop_.advance(1ms);
  ASSERT_EQ(factory_.wires.size(), 3u);

  // Up again, and it stays up long enough to count as healthy: the delay starts over.
  answer_initialize();
  EXPECT_EQ(events_.ready_results.size(), 2u);
  loop_.advance(60s);
  wire().crash();
  loop_.advance(249ms);
  EXPECT_EQ(factory_.wires.size(), 3u);
  loop_.advance(1ms);
  EXPECT_EQ(factory_.wires.size(), 4u);
}

TEST_F(ClientTest, EveryTransportIsToldTheClientSessionBeforeItStarts) {
  options_.capture_session = "client-session-9";
  start_ready();
  wire().crash();
  loop_.advance(250ms);  // the restart
  ASSERT_EQ(factory_.wires.size(), 2u);
  for (const auto& created : factory_.wires) {
    EXPECT_EQ(created->capture_session, "client-session-9");
    EXPECT_FALSE(created->started_before_capture_session);
  }
}

TEST_F(ClientTest, ASharedClientTellsItsTransportsNoClientSession) {
  start_ready();  // capture_session left ""
  EXPECT_EQ(wire().capture_session, "");
}

TEST_F(ClientTest, DelayKeepsGrowingWhileTheBackendKeepsFailing) {
  create();
  client_->start();
  const std::vector<std::chrono::milliseconds> expected{250ms, 500ms, 1000ms, 2000ms, 2000ms};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    wire().crash(TransportError::Kind::spawn_failed, "cannot start 'x': No such file");
    const std::size_t before = factory_.wires.size();
    loop_.advance(expected[i] - 1ms);
    EXPECT_EQ(factory_.wires.size(), before) << i;
    loop_.advance(1ms);
    EXPECT_EQ(factory_.wires.size(), before + 1) << i;
  }
  EXPECT_EQ(events_.down_reasons.front(), "failed to start");
}

TEST_F(ClientTest, NoRestartWhenDisabled) {
  options_.restart = false;
  start_ready();
  wire().crash();
  loop_.advance(10min);
  EXPECT_EQ(factory_.wires.size(), 1u);
  EXPECT_EQ(client_->state(), ClientState::down);
}

TEST_F(ClientTest, SessionExpiryReinitializesAndResendsOnce) {
  start_ready();
  call("a");
  const auto first_wire = *wire().last().id;
  wire().handler->on_send_failed(first_wire,
                                 TransportError{TransportError::Kind::session_expired, "404", 404});
  EXPECT_EQ(wire().session_resets, 1);
  EXPECT_EQ(client_->state(), ClientState::starting);
  EXPECT_EQ(wire().last().method, "initialize");
  EXPECT_TRUE(results_.empty());

  answer_initialize();
  EXPECT_EQ(client_->state(), ClientState::ready);
  const auto& resent = wire().last();
  EXPECT_EQ(resent.method, "tools/call");
  EXPECT_NE(*resent.id, first_wire);
  EXPECT_EQ(resent.params, (json{{"name", "echo"}}));
  EXPECT_EQ(wire().initialized_versions.size(), 2u);
  EXPECT_EQ(factory_.wires.size(), 1u);  // same transport

  // It expires again: no second resend.
  wire().handler->on_send_failed(*resent.id,
                                 TransportError{TransportError::Kind::session_expired, "404", 404});
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].id, mcp::RequestId("a"));
  EXPECT_EQ(results_[0].error.code, gateway_error::backend_unavailable);
}

TEST_F(ClientTest, SessionExpiryResendIsAnsweredWithTheCallersId) {
  start_ready();
  call("b");
  wire().handler->on_send_failed(*wire().last().id,
                                 TransportError{TransportError::Kind::session_expired, "404", 404});
  answer_initialize();
  wire().deliver(mcp::make_success_response(*wire().last().id, json{{"ok", 1}}));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0], mcp::make_success_response("b", json{{"ok", 1}}));
}

TEST_F(ClientTest, OtherSendFailuresFailTheCallOnly) {
  start_ready();
  call("x");
  call("y");
  wire().handler->on_send_failed(
      *wire().sent[2].id, TransportError{TransportError::Kind::http_status, "HTTP 500", 500});
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].id, mcp::RequestId("x"));
  EXPECT_EQ(results_[0].error.code, gateway_error::backend_unavailable);
  EXPECT_EQ(client_->state(), ClientState::ready);
}

TEST_F(ClientTest, PendingAndQueuedBoundsAnswerOverloaded) {
  options_.max_pending = 2;
  options_.max_queued = 2;
  create();
  client_->start();
  call("q1");
  call("q2");
  call("q3");  // over max_queued
  loop_.run_ready();
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].id, mcp::RequestId("q3"));
  EXPECT_EQ(results_[0].error.code, gateway_error::backend_overloaded);

  answer_initialize();
  call("p3");  // q1 and q2 are in flight: over max_pending
  loop_.run_ready();
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[1].id, mcp::RequestId("p3"));
  EXPECT_EQ(results_[1].error.code, gateway_error::backend_overloaded);

  // An answer frees a slot.
  wire().deliver(mcp::make_success_response(*wire().sent[2].id, json::object()));
  call("p4");
  EXPECT_EQ(wire().last().method, "tools/call");
  EXPECT_EQ(results_.size(), 3u);
}

TEST_F(ClientTest, QueuedCallsBeyondMaxPendingWaitForAFreeSlot) {
  options_.max_pending = 1;
  create();
  client_->start();
  call("a");
  call("b");
  answer_initialize();
  EXPECT_EQ(wire().methods(),
            (std::vector<std::string>{"initialize", "notifications/initialized", "tools/call"}));
  wire().deliver(mcp::make_success_response(*wire().last().id, json::object()));
  EXPECT_EQ(wire().last().method, "tools/call");
  wire().deliver(mcp::make_success_response(*wire().last().id, json::object()));
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[0].id, mcp::RequestId("a"));
  EXPECT_EQ(results_[1].id, mcp::RequestId("b"));
}

TEST_F(ClientTest, InitializeErrorOrBadResultTakesTheBackendDown) {
  create();
  client_->start();
  call("waiting");
  wire().deliver(mcp::make_error_response(*wire().find("initialize")->id, -32602,
                                          "Unsupported protocol version"));
  EXPECT_EQ(client_->state(), ClientState::down);
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].error.code, gateway_error::backend_unavailable);
  EXPECT_EQ(events_.down_reasons, std::vector<std::string>{"initialize failed"});

  loop_.advance(250ms);
  ASSERT_EQ(factory_.wires.size(), 2u);
  answer_initialize("1999-01-01");
  EXPECT_EQ(client_->state(), ClientState::down);
  EXPECT_EQ(events_.down_reasons.back(), "unsupported protocol version");
}

TEST_F(ClientTest, InitializeTimeoutTakesTheBackendDown) {
  create();
  client_->start();
  loop_.advance(1000ms);
  EXPECT_EQ(client_->state(), ClientState::down);
  EXPECT_EQ(events_.down_reasons, std::vector<std::string>{"initialize timed out"});
  EXPECT_TRUE(factory_.wires[0]->closed);
}

TEST_F(ClientTest, CloseFailsPendingCallsAndReleasesTheTransport) {
  start_ready();
  call("p");
  bool closed = false;
  client_->close([&] { closed = true; });
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0].error.code, gateway_error::backend_unavailable);
  EXPECT_EQ(client_->state(), ClientState::closed);
  EXPECT_TRUE(wire().closed);
  loop_.run_ready();
  EXPECT_FALSE(closed);  // the transport has not finished closing
  wire().close_done();
  loop_.run_ready();
  EXPECT_TRUE(closed);
  EXPECT_TRUE(wire().destroyed);

  call("late");
  loop_.run_ready();
  ASSERT_EQ(results_.size(), 2u);
  EXPECT_EQ(results_[1].error.code, gateway_error::backend_unavailable);
  EXPECT_TRUE(events_.down_reasons.empty());  // closing is not going down
  loop_.advance(10min);
  EXPECT_EQ(factory_.wires.size(), 1u);
}

TEST_F(ClientTest, CloseFromACompletionDuringACrashStopsTheRestart) {
  start_ready();
  client_->call(mcp::make_request(1, "tools/call"), [&](mcp::Message) { client_->close({}); });
  wire().crash();
  EXPECT_EQ(client_->state(), ClientState::closed);
  EXPECT_TRUE(events_.down_reasons.empty());
  loop_.advance(10min);
  EXPECT_EQ(factory_.wires.size(), 1u);
}

TEST_F(ClientTest, ARetiredTransportCannotTouchTheNewSession) {
  start_ready();
  call(1);
  const auto old_wire_id = *wire().last().id;
  TransportHandler* old_handler = wire().handler;
  wire().crash();
  loop_.advance(250ms);
  answer_initialize();
  call(2);
  // The old transport misbehaves and keeps talking after close(): ignored.
  old_handler->on_message(mcp::make_success_response(old_wire_id, json::object()), std::nullopt);
  old_handler->on_message(mcp::make_notification("notifications/message"), std::nullopt);
  old_handler->on_closed(TransportError{TransportError::Kind::exited, "again", 0});
  EXPECT_EQ(client_->state(), ClientState::ready);
  EXPECT_EQ(results_.size(), 1u);  // only the crash's failure of call 1
  EXPECT_TRUE(events_.notifications.empty());
}

TEST_F(ClientTest, NotificationsWhileDownAreDropped) {
  options_.restart = false;
  start_ready();
  wire().crash();
  client_->notify(mcp::make_notification("notifications/roots/list_changed"));
  client_->respond(mcp::make_success_response("s1", json::object()));
  EXPECT_EQ(wire().last().method, "notifications/initialized");
}

TEST_F(ClientTest, DestroyingTheClientReleasesEverything) {
  start_ready();
  call("p");
  auto first = factory_.wires[0];
  client_.reset();
  EXPECT_TRUE(first->destroyed);
  loop_.advance(10min);  // no timer touches the dead client
  EXPECT_TRUE(results_.empty());
}

TEST_F(ClientTest, ForwardedHeadersGoWithTheirOwnRequestAndTheHandshakeWithItsOwn) {
  const ForwardedHeaders handshake{{"x-tenant", "t0"}};
  const ForwardedHeaders first{{"x-tenant", "t1"}, {"x-trace", "a"}};
  const ForwardedHeaders third{{"x-tenant", "t3"}};
  options_.handshake_headers = handshake;
  create();
  // Queued before the handshake: it keeps its headers until it is sent.
  client_->call_with_headers(
      mcp::make_request("first", "tools/call", json{{"name", "echo"}}),
      [this](mcp::Message response) { results_.push_back(response); }, first);
  client_->start();
  answer_initialize();
  call("second");
  client_->notify(mcp::make_notification("notifications/roots/list_changed"));
  client_->call_with_headers(
      mcp::make_request("third", "tools/call", json{{"name", "echo"}}),
      [this](mcp::Message response) { results_.push_back(response); }, third);
  ASSERT_EQ(wire().methods(), (std::vector<std::string>{
                                  "initialize", "notifications/initialized", "tools/call",
                                  "tools/call", "notifications/roots/list_changed", "tools/call"}));
  EXPECT_EQ(wire().sent_headers,
            (std::vector<ForwardedHeaders>{handshake, handshake, first, {}, {}, third}));

  // After a session expiry the handshake again carries its headers and the resent call its own.
  wire().handler->on_send_failed(*wire().last().id,
                                 TransportError{TransportError::Kind::session_expired, "404", 404});
  EXPECT_EQ(wire().last().method, "initialize");
  EXPECT_EQ(wire().sent_headers.back(), handshake);
  answer_initialize();
  EXPECT_EQ(wire().last().method, "tools/call");
  EXPECT_EQ(wire().sent_headers.back(), third);
  wire().deliver(mcp::make_success_response(*wire().last().id, json{{"ok", 1}}));
  ASSERT_EQ(results_.size(), 1u);
  EXPECT_EQ(results_[0], mcp::make_success_response("third", json{{"ok", 1}}));
}

}  // namespace
}  // namespace mcpgw::upstream
