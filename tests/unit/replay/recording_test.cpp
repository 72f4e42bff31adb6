// Recorded sessions: hand-made events for every rule of recording.hpp, and the real recorded
// inputs of tests/fixtures/inspect/recorded/ through load_recording.
#include "replay/recording.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/unit/mcp/test_events.hpp"

namespace mcpgw::replay {
namespace {

using mcp::traffic::Event;
using mcp::traffic::Leg;
using mcp::traffic::Status;
using mcp::traffic::test_events::EventBuilder;
using mcp::traffic::test_events::kC2S;
using mcp::traffic::test_events::kS2C;
using mcp::traffic::test_events::rpc_notification;
using mcp::traffic::test_events::rpc_request;
using mcp::traffic::test_events::rpc_result;

const std::string kRecorded = std::string(MCPGW_SOURCE_DIR) + "/tests/fixtures/inspect/recorded/";

// Events of one scope, numbered by line as a line-based decoder would.
struct Recorder {
  std::string scope = "session:abc";
  std::string session = "abc";
  std::vector<Event> events;

  Event& add(mcp::traffic::Direction direction, std::string message,
             std::optional<std::int64_t> time_us = std::nullopt) {
    EventBuilder builder(scope, direction, std::move(message));
    builder.session(session).line(events.size() + 1);
    if (time_us)
      builder.at(*time_us);
    events.push_back(builder.build());
    return events.back();
  }
  void client(std::string message, std::optional<std::int64_t> time_us = std::nullopt) {
    add(kC2S, std::move(message), time_us);
  }
  void server(std::string message, std::optional<std::int64_t> time_us = std::nullopt) {
    add(kS2C, std::move(message), time_us);
  }
};

std::string join(const std::vector<std::size_t>& values) {
  std::string text;
  for (const auto value : values)
    text += (text.empty() ? "" : ",") + std::to_string(value);
  return text;
}

// A compact picture of a session, so a test states the whole expectation at once.
std::string outline(const RecordedSession& session) {
  std::string text = "session " + session.id +
                     " leg=" + std::string(mcp::traffic::to_string(session.leg)) +
                     (session.backend.empty() ? "" : " backend=" + session.backend) + "\n";
  if (session.initialize)
    text += "initialize " + session.initialize->id + "\n";
  for (std::size_t i = 0; i < session.steps.size(); ++i) {
    const auto& step = session.steps[i];
    text += std::to_string(i) + " " + step.exchange.method;
    if (step.is_request())
      text += " " + step.exchange.id;
    for (const auto& page : step.later_pages)
      text += " +" + page.id;
    if (!step.after.empty())
      text += " after " + join(step.after);
    if (step.cancelled)
      text += " cancelled";
    if (step.is_request() && step.exchange.status == Status::pending)
      text += " unanswered";
    text += "\n";
  }
  for (const auto& request : session.server_requests) {
    text += "server " + request.exchange.method + " " + request.exchange.id + " during " +
            (request.during_step ? std::to_string(*request.during_step) : std::string("none")) +
            (request.exchange.response_message.empty() ? " unanswered" : "") + "\n";
  }
  for (const auto& note : session.notes)
    text += "note " + note + "\n";
  return text;
}

std::string outline(const std::vector<RecordedSession>& sessions) {
  std::string text;
  for (const auto& session : sessions)
    text += outline(session);
  return text;
}

const std::string kInitialize =
    R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
const std::string kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";
const std::string kInitializeResult = rpc_result(
    0,
    R"({"protocolVersion":"2025-11-25","capabilities":{},"serverInfo":{"name":"s","version":"1"}})");

TEST(RecordingSessions, InitializeIsApartAndInitializedAndPingsAreLeftOut) {
  Recorder r;
  r.client(kInitialize, 1000);
  r.server(kInitializeResult, 1100);
  r.client(kInitialized, 1200);
  r.client(rpc_request(1, "tools/call", R"({"name":"echo","arguments":{"text":"hi"}})"), 1300);
  r.client(rpc_request(2, "ping"), 1350);
  r.server(rpc_result(2), 1360);
  r.server(rpc_result(1, R"({"content":[]})"), 1400);
  r.client(rpc_notification("notifications/roots/list_changed"), 1500);
  r.server(rpc_request(9, "ping"), 1600);
  r.client(rpc_result(9), 1610);
  r.server(rpc_notification("notifications/message", R"({"level":"info","data":"x"})"), 1700);

  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  EXPECT_TRUE(loaded.problems.empty());
  const auto& session = loaded.sessions[0];
  EXPECT_EQ(outline(session),
            "session abc leg=unknown\n"
            "initialize 0\n"
            "0 tools/call 1\n"
            "1 notifications/roots/list_changed after 0\n");
  ASSERT_TRUE(session.initialize);
  EXPECT_EQ(session.initialize->request_message, kInitialize);
  EXPECT_EQ(session.initialize->response_message, kInitializeResult);
  EXPECT_EQ(session.sources, std::vector<std::string>{"test.jsonl"});
  EXPECT_EQ(session.request_steps(), 1u);
  EXPECT_EQ(session.steps[0].offset_us, 300);
  EXPECT_EQ(session.steps[1].offset_us, 500);
  EXPECT_EQ(session.steps[0].exchange.response_message, rpc_result(1, R"({"content":[]})"));
  EXPECT_EQ(session.steps[1].exchange.request_message,
            rpc_notification("notifications/roots/list_changed"));
  EXPECT_TRUE(session.server_requests.empty());
  EXPECT_TRUE(session.notes.empty());
}

TEST(RecordingSessions, AfterListsTheAnswersReceivedBeforeEachStep) {
  Recorder r;
  r.client(rpc_request(1, "tools/call", R"({"name":"a"})"));
  r.client(rpc_request(2, "tools/call", R"({"name":"b"})"));
  r.server(rpc_result(1));
  r.server(rpc_result(2));
  r.client(rpc_request(3, "tools/call", R"({"name":"c"})"));
  r.client(rpc_request(4, "tools/call", R"({"name":"d"})"));
  r.server(rpc_result(4));
  r.client(rpc_request(5, "tools/call", R"({"name":"e"})"));
  r.server(rpc_result(3));
  r.client(rpc_request(6, "tools/call", R"({"name":"f"})"));

  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  EXPECT_EQ(outline(loaded.sessions[0]),
            "session abc leg=unknown\n"
            "0 tools/call 1\n"
            "1 tools/call 2\n"
            "2 tools/call 3 after 0,1\n"
            "3 tools/call 4\n"
            "4 tools/call 5 after 3 unanswered\n"
            "5 tools/call 6 after 2 unanswered\n");
  // Untimed input: no offsets.
  EXPECT_FALSE(loaded.sessions[0].steps[0].offset_us);
}

TEST(RecordingSessions, ListPagesFollowingTheRecordedCursorAreOneStep) {
  Recorder r;
  r.client(rpc_request(1, "tools/list"));
  r.server(rpc_result(1, R"({"tools":[{"name":"a"}],"nextCursor":"c1"})"));
  r.client(rpc_request(2, "tools/list", R"({"cursor":"c1"})"));
  r.server(rpc_result(2, R"({"tools":[{"name":"b"}],"nextCursor":"c2"})"));
  // Same cursor text, another list: not part of the chain.
  r.client(rpc_request(3, "prompts/list", R"({"cursor":"c2"})"));
  r.server(rpc_result(3, R"({"prompts":[]})"));
  r.client(rpc_request(4, "tools/list", R"({"cursor":"c2"})"));
  r.server(rpc_result(4, R"({"tools":[{"name":"c"}]})"));
  // A cursor no recorded page handed out starts its own step.
  r.client(rpc_request(5, "tools/list", R"({"cursor":"c1"})"));
  r.server(rpc_result(5, R"({"tools":[]})"));
  // An empty cursor is a cursor.
  r.client(rpc_request(6, "resources/list"));
  r.server(rpc_result(6, R"({"resources":[],"nextCursor":""})"));
  r.client(rpc_request(7, "resources/list", R"({"cursor":""})"));
  r.server(rpc_result(7, R"({"resources":[]})"));

  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  const auto& session = loaded.sessions[0];
  EXPECT_EQ(outline(session),
            "session abc leg=unknown\n"
            "0 tools/list 1 +2 +4\n"
            "1 prompts/list 3\n"
            "2 tools/list 5 after 0,1\n"
            "3 resources/list 6 +7 after 2\n");
  ASSERT_EQ(session.steps[0].later_pages.size(), 2u);
  EXPECT_EQ(session.steps[0].later_pages[0].request_message,
            rpc_request(2, "tools/list", R"({"cursor":"c1"})"));
  EXPECT_EQ(session.steps[0].later_pages[1].response_message,
            rpc_result(4, R"({"tools":[{"name":"c"}]})"));
}

TEST(RecordingSessions, CancellationsKeepTheirDelayAndReasonAndStrayOnesAreNoted) {
  Recorder r;
  r.client(rpc_request(1, "tools/call", R"({"name":"sleep"})"), 10'000);
  r.client(
      rpc_notification("notifications/cancelled", R"({"requestId":1,"reason":"user gave up"})"),
      10'750);
  r.server(rpc_result(1), 10'800);  // too late: the client had cancelled
  r.client(rpc_request(2, "tools/call", R"({"name":"echo"})"), 11'000);
  r.server(rpc_result(2), 11'100);
  r.client(rpc_notification("notifications/cancelled", R"({"requestId":2})"), 11'200);
  r.client(rpc_notification("notifications/cancelled", R"({"requestId":99})"), 11'300);
  r.server(rpc_result(42), 11'400);
  r.client(rpc_request(3, "tools/call", R"({"name":"sleep"})"), 12'000);
  r.client(rpc_notification("notifications/cancelled", R"({"requestId":3})"));

  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  const auto& session = loaded.sessions[0];
  EXPECT_EQ(outline(session),
            "session abc leg=unknown\n"
            "0 tools/call 1 cancelled\n"
            "1 tools/call 2\n"
            "2 tools/call 3 after 1 cancelled\n"
            "note response to request 1 at test.jsonl:3 left out: it came after the recorded "
            "client cancelled that request\n"
            "note notifications/cancelled at test.jsonl:6 left out: request 2 had already been "
            "answered\n"
            "note notifications/cancelled at test.jsonl:7 left out: request 99 is not in the "
            "recording\n"
            "note response to request 42 at test.jsonl:8 left out: its request is not in the "
            "recording\n");
  EXPECT_EQ(session.steps[0].cancel_after_us, 750);
  EXPECT_EQ(session.steps[0].cancel_reason, "user gave up");
  EXPECT_EQ(session.steps[0].offset_us, 0);
  EXPECT_EQ(session.steps[2].offset_us, 2000);
  // The cancellation has no time: cancel at once, no reason.
  EXPECT_TRUE(session.steps[2].cancelled);
  EXPECT_FALSE(session.steps[2].cancel_after_us);
  EXPECT_EQ(session.steps[2].cancel_reason, "");
}

// The index of requests by id is built only when a stray message needs it, then kept up to
// date: the explanation always names the latest request of that id sent before it.
TEST(RecordingSessions, StrayMessagesAreExplainedWithTheLatestRequestOfTheirId) {
  Recorder r;
  r.client(rpc_request(5, "tools/call", R"({"name":"echo"})"));
  r.client(rpc_notification("notifications/cancelled", R"({"requestId":5})"));
  r.server(rpc_result(5));  // late: request 5 was cancelled
  r.client(rpc_request(5, "tools/call", R"({"name":"echo"})"));
  r.server(rpc_result(5));
  r.client(rpc_notification("notifications/cancelled", R"({"requestId":5})"));  // answered
  r.client(rpc_request(6, "tools/call", R"({"name":"sleep"})"));
  r.client(rpc_notification("notifications/cancelled", R"({"requestId":6})"));
  r.client(rpc_notification("notifications/cancelled", R"({"requestId":6})"));  // again

  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  EXPECT_EQ(outline(loaded.sessions[0]),
            "session abc leg=unknown\n"
            "0 tools/call 5 cancelled\n"
            "1 tools/call 5\n"
            "2 tools/call 6 after 1 cancelled\n"
            "note response to request 5 at test.jsonl:3 left out: it came after the recorded "
            "client cancelled that request\n"
            "note notifications/cancelled at test.jsonl:6 left out: request 5 had already been "
            "answered\n"
            "note notifications/cancelled at test.jsonl:9 left out: request 6 had already been "
            "cancelled\n");
}

TEST(RecordingSessions, ServerRequestsKnowTheStepInFlightAndPingsAreLeftOut) {
  Recorder r;
  r.client(rpc_request(1, "tools/call", R"({"name":"test_sampling"})"));
  r.client(rpc_request(2, "tools/call", R"({"name":"test_elicitation"})"));
  r.server(rpc_request(0, "sampling/createMessage", R"({"messages":[]})"));
  r.client(rpc_result(0, R"({"role":"assistant","content":{"type":"text","text":"x"}})"));
  r.server(rpc_request(1, "ping"));
  r.client(rpc_result(1));
  r.server(rpc_result(2));
  r.server(rpc_request(2, "roots/list"));
  r.client(rpc_result(2, R"({"roots":[]})"));
  r.server(rpc_result(1));
  r.server(rpc_request(3, "elicitation/create", R"({"message":"who?"})"));

  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  const auto& session = loaded.sessions[0];
  EXPECT_EQ(outline(session),
            "session abc leg=unknown\n"
            "0 tools/call 1\n"
            "1 tools/call 2\n"
            "server sampling/createMessage 0 during 1\n"
            "server roots/list 2 during 0\n"
            "server elicitation/create 3 during none unanswered\n");
  EXPECT_EQ(session.server_requests[0].exchange.response_message,
            rpc_result(0, R"({"role":"assistant","content":{"type":"text","text":"x"}})"));
  EXPECT_EQ(session.server_requests[1].exchange.request_message,
            rpc_request(2, "roots/list", "{}"));
}

TEST(RecordingSessions, AClientReplyWithoutItsServerRequestIsNoted) {
  Recorder r;
  r.client(rpc_request(1, "tools/list"));
  r.client(rpc_result(7, R"({"roots":[]})"));
  r.server(rpc_result(1, R"({"tools":[]})"));

  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  EXPECT_EQ(outline(loaded.sessions[0]),
            "session abc leg=unknown\n"
            "0 tools/list 1\n"
            "note client reply to request 7 at test.jsonl:2 left out: the server's request is "
            "not in the recording\n");
}

TEST(RecordingSessions, OffsetsCountFromTheSessionsFirstMessage) {
  Recorder r;
  r.client(kInitialize, 5'000);
  r.server(kInitializeResult, 5'400);
  r.client(rpc_request(1, "tools/list"), 6'000);
  r.server(rpc_result(1, R"({"tools":[]})"), 6'100);
  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  EXPECT_EQ(loaded.sessions[0].steps[0].offset_us, 1'000);
  EXPECT_EQ(loaded.sessions[0].steps[0].after, std::vector<std::size_t>{});
}

TEST(RecordingSessions, RepeatedInitializeIsNotedAndAnOnlyInitializedSessionIsKept) {
  Recorder r;
  r.client(kInitialize);
  r.server(kInitializeResult);
  r.client(kInitialized);
  r.client(kInitialize);
  r.server(kInitializeResult);
  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.sessions.size(), 1u);
  EXPECT_EQ(outline(loaded.sessions[0]),
            "session abc leg=unknown\n"
            "initialize 0\n"
            "note initialize at test.jsonl:4 left out: the session was initialized at "
            "test.jsonl:1\n");
}

TEST(RecordingSessions, ASessionWithNothingToSendIsDropped) {
  Recorder r;
  r.client(kInitialized);
  r.server(rpc_notification("notifications/tools/list_changed"));
  r.client(rpc_request(1, "ping"));
  r.server(rpc_result(1));
  EXPECT_TRUE(build_sessions(std::move(r.events), {}).sessions.empty());
}

// Sessions "alpha-1", "alpha-2" and "beta" (each one tools/call), in that order of first
// message, interleaved.
std::vector<Event> three_sessions() {
  std::vector<Event> events;
  std::uint64_t line = 0;
  const auto add = [&](const std::string& session, mcp::traffic::Direction direction,
                       std::string message) {
    events.push_back(EventBuilder("session:" + session, direction, std::move(message))
                         .session(session)
                         .line(++line)
                         .build());
  };
  add("alpha-1", kC2S, rpc_request(1, "tools/call", R"({"name":"a"})"));
  add("alpha-2", kC2S, rpc_request(1, "tools/call", R"({"name":"b"})"));
  add("beta", kC2S, rpc_request(1, "tools/call", R"({"name":"c"})"));
  add("beta", kS2C, rpc_result(1));
  add("alpha-2", kS2C, rpc_result(1));
  add("alpha-1", kS2C, rpc_result(1));
  return events;
}

std::vector<std::string> ids(const LoadedRecording& loaded) {
  std::vector<std::string> out;
  for (const auto& session : loaded.sessions)
    out.push_back(session.id);
  return out;
}

TEST(RecordingSessions, SessionsAreSelectedByPrefixOrGlob) {
  using Ids = std::vector<std::string>;
  EXPECT_EQ(ids(build_sessions(three_sessions(), {})), (Ids{"alpha-1", "alpha-2", "beta"}));
  LoadOptions options;
  options.sessions = {"alpha"};
  EXPECT_EQ(ids(build_sessions(three_sessions(), options)), (Ids{"alpha-1", "alpha-2"}));
  options.sessions = {"*ta"};
  EXPECT_EQ(ids(build_sessions(three_sessions(), options)), Ids{"beta"});
  options.sessions = {"*-2", "be"};
  EXPECT_EQ(ids(build_sessions(three_sessions(), options)), (Ids{"alpha-2", "beta"}));
  options.sessions = {"lpha"};  // a prefix, not a substring
  EXPECT_TRUE(build_sessions(three_sessions(), options).sessions.empty());
}

// A gateway capture: the backend legs come first (discovery), then the client's session.
std::vector<Event> two_legs() {
  std::vector<Event> events;
  std::uint64_t line = 0;
  const auto backend = [&](const std::string& name, mcp::traffic::Direction direction,
                           std::string message) {
    events.push_back(
        EventBuilder("session:b-" + name + "/backend:" + name, direction, std::move(message))
            .backend(name)
            .line(++line)
            .build());
  };
  const auto client = [&](mcp::traffic::Direction direction, std::string message) {
    auto event = EventBuilder("session:c1/client", direction, std::move(message))
                     .session("c1")
                     .line(++line)
                     .build();
    event.leg = Leg::client;
    events.push_back(std::move(event));
  };
  backend("files", kC2S, rpc_request(1, "tools/list"));
  backend("files", kS2C, rpc_result(1, R"({"tools":[]})"));
  backend("web", kC2S, rpc_request(1, "tools/list"));
  backend("web", kS2C, rpc_result(1, R"({"tools":[]})"));
  client(kC2S, rpc_request(1, "tools/list"));
  client(kS2C, rpc_result(1, R"({"tools":[]})"));
  backend("web", kC2S, rpc_request(2, "tools/call", R"({"name":"fetch"})"));
  backend("web", kS2C, rpc_result(2));
  return events;
}

TEST(RecordingSessions, LegsOfAGatewayCapture) {
  LoadOptions options;
  auto loaded = build_sessions(two_legs(), options);
  EXPECT_EQ(outline(loaded.sessions),
            "session c1 leg=client\n"
            "0 tools/list 1\n");

  options.leg = LegChoice::client;
  EXPECT_EQ(outline(build_sessions(two_legs(), options).sessions),
            "session c1 leg=client\n"
            "0 tools/list 1\n");

  options.leg = LegChoice::backend;
  EXPECT_EQ(outline(build_sessions(two_legs(), options).sessions),
            "session session:b-files/backend:files leg=backend backend=files\n"
            "0 tools/list 1\n"
            "session session:b-web/backend:web leg=backend backend=web\n"
            "0 tools/list 1\n"
            "1 tools/call 2 after 0\n");

  options.backend = "web";
  loaded = build_sessions(two_legs(), options);
  ASSERT_EQ(loaded.sessions.size(), 1u);
  EXPECT_EQ(loaded.sessions[0].backend, "web");
  EXPECT_EQ(loaded.sessions[0].steps.size(), 2u);
}

TEST(RecordingSessions, MalformedMessagesAreProblems) {
  Recorder r;
  r.client(rpc_request(1, "tools/list"));
  r.client("{not json");
  r.server(rpc_result(1, R"({"tools":[]})"));
  const auto loaded = build_sessions(std::move(r.events), {});
  ASSERT_EQ(loaded.problems.size(), 1u);
  EXPECT_EQ(loaded.problems[0].where.line, 2u);
  EXPECT_EQ(loaded.sessions.size(), 1u);
}

// ---- the recorded inputs ----

LoadOptions inputs(std::vector<std::string> files) {
  LoadOptions options;
  for (auto& file : files)
    options.inputs.push_back(kRecorded + file);
  return options;
}

// The recorded client (tests/fixtures/inspect/record.sh) waits for each answer, so every step
// comes after the previous one's answer; the last call is cancelled; test_sampling,
// test_elicitation and roots ask the client during their own call.
const std::string kRecordedSteps =
    "0 tools/list 1\n"
    "1 prompts/list 2 after 0\n"
    "2 resources/list 3 after 1\n"
    "3 tools/call 4 after 2\n"
    "4 tools/call 5 after 3\n"
    "5 tools/call 6 after 4\n"
    "6 tools/call 7 after 5\n"
    "7 tools/call 8 after 6\n"
    "8 tools/call 9 after 7\n"
    "9 tools/call 10 after 8\n"
    "10 tools/call 11 after 9 cancelled\n"
    "server sampling/createMessage 1 during 7\n"
    "server elicitation/create 2 during 8\n"
    "server roots/list 3 during 9\n";

TEST(RecordingLoad, GatewayCaptureClientLeg) {
  const auto loaded = load_recording(inputs({"gateway.capture.jsonl"}));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_TRUE(loaded->problems.empty());
  EXPECT_EQ(outline(loaded->sessions),
            "session e099ad67b0a5e06b81e271900ef7d47c leg=client\n"
            "initialize 0\n" +
                kRecordedSteps + "note error response without a request id at " + kRecorded +
                "gateway.capture.jsonl:83 left out: it answers no request (-32001 Session not "
                "found)\n");
  const auto& session = loaded->sessions[0];
  EXPECT_EQ(session.sources, std::vector<std::string>{kRecorded + "gateway.capture.jsonl"});
  ASSERT_TRUE(session.initialize);
  EXPECT_NE(session.initialize->request_message.find("\"clientInfo\""), std::string::npos);
  EXPECT_NE(session.initialize->response_message.find("\"serverInfo\""), std::string::npos);
  EXPECT_EQ(session.steps[0].offset_us,
            *session.steps[0].exchange.started_us - *session.initialize->started_us);
  EXPECT_NE(session.server_requests[0].exchange.response_message.find("recorded sampling answer"),
            std::string::npos);
}

TEST(RecordingLoad, GatewayCaptureBackendLeg) {
  auto options = inputs({"gateway.capture.jsonl"});
  options.leg = LegChoice::backend;
  auto loaded = load_recording(options);
  ASSERT_TRUE(loaded) << loaded.error();
  // The gateway's discovery sessions, then each backend's session for the client's session.
  EXPECT_EQ(outline(loaded->sessions),
            "session conn:1/backend:files leg=backend backend=files\n"
            "initialize 1\n"
            "session conn:2/backend:web leg=backend backend=web\n"
            "initialize 1\n"
            "session e099ad67b0a5e06b81e271900ef7d47c leg=backend backend=files\n"
            "initialize 1\n"
            "0 tools/list 2\n"
            "1 prompts/list 3 after 0\n"
            "2 resources/list 4 after 1\n"
            "3 tools/call 5 after 2\n"
            "4 tools/call 6 after 3\n"
            "5 tools/call 7 after 4\n"
            "6 tools/call 8 after 5\n"
            "7 tools/call 9 after 6\n"
            "8 tools/call 10 after 7\n"
            "9 tools/call 11 after 8 cancelled\n"
            "server sampling/createMessage 1 during 6\n"
            "server elicitation/create 2 during 7\n"
            "server roots/list 3 during 8\n"
            "session e099ad67b0a5e06b81e271900ef7d47c leg=backend backend=web\n"
            "initialize 1\n"
            "0 tools/list 2\n"
            "1 prompts/list 3 after 0\n"
            "2 resources/list 4 after 1\n");

  options.backend = "web";
  loaded = load_recording(options);
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_EQ(loaded->sessions.size(), 2u);
  EXPECT_EQ(loaded->sessions[1].backend, "web");

  options.backend = "nope";
  loaded = load_recording(options);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error(), "no backend-leg traffic of backend 'nope' (backends: files, web)");
}

TEST(RecordingLoad, Har) {
  const auto loaded = load_recording(inputs({"playwright.har"}));
  ASSERT_TRUE(loaded) << loaded.error();
  // The batch [ping, prompts/list] was refused as a whole (2025-06-18 has no batches).
  EXPECT_EQ(outline(loaded->sessions),
            "session 235f77d80c7b31105ad853e0d37350b3 leg=unknown\n"
            "initialize 1\n"
            "0 tools/list 2\n"
            "1 tools/call 3 after 0\n"
            "2 tools/call 4 after 1\n"
            "3 tools/call 5 after 2\n"
            "4 prompts/list 7 after 3 unanswered\n"
            "note error response without a request id at " +
                kRecorded +
                "playwright.har@7 left out: it answers no request (-32600 Bad Request: JSON-RPC "
                "batches are not accepted with protocol version 2025-06-18)\n");
}

TEST(RecordingLoad, Pcap) {
  const auto loaded = load_recording(inputs({"session.pcap"}));
  ASSERT_TRUE(loaded) << loaded.error();
  const std::string steps =
      "initialize 1\n"
      "0 tools/list 2\n"
      "1 tools/call 3 after 0\n"
      "2 tools/call 4 after 1\n"
      "3 tools/call 5 after 2\n"
      "4 resources/read 6 after 3\n"
      "5 tools/call 7 after 4\n";
  EXPECT_EQ(outline(loaded->sessions),
            "session 9c05b1c3299603109deedcc1b48c6588 leg=unknown\n" + steps +
                "session 5bcb6d56d73d6fc2d81c0f7793e3293a leg=unknown\n" + steps);

  auto options = inputs({"session.pcap"});
  options.sessions = {"5b"};
  const auto selected = load_recording(options);
  ASSERT_TRUE(selected) << selected.error();
  EXPECT_EQ(ids(*selected), std::vector<std::string>{"5bcb6d56d73d6fc2d81c0f7793e3293a"});
  options.sessions = {"abc", "*zz*"};
  const auto none = load_recording(options);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(),
            "no session matches --session abc or --session *zz* (sessions: "
            "9c05b1c3299603109deedcc1b48c6588, 5bcb6d56d73d6fc2d81c0f7793e3293a)");
}

TEST(RecordingLoad, StdioFilesPerDirection) {
  const auto loaded = load_recording(inputs({"stdio-client.ndjson", "stdio-server.ndjson"}));
  ASSERT_TRUE(loaded) << loaded.error();
  // The client replies to sampling, elicitation and roots are in the client's file, before the
  // server's requests they answer: they are paired by id across the files.
  EXPECT_EQ(outline(loaded->sessions),
            "session stdio leg=unknown\n"
            "initialize 0\n" +
                kRecordedSteps +
                "note requests and their answers come from different inputs: each request is "
                "replayed after the answers to the requests before it\n");
  EXPECT_NE(loaded->sessions[0].server_requests[0].exchange.response_message.find(
                "recorded sampling answer"),
            std::string::npos);

  const auto server_only = load_recording(inputs({"stdio-server.ndjson"}));
  ASSERT_FALSE(server_only);
  EXPECT_EQ(server_only.error(), "no client requests in the inputs: " + kRecorded +
                                     "stdio-server.ndjson holds only the server's side of a "
                                     "stdio conversation; give the client's file too");
}

TEST(RecordingLoad, UnreadableAndStrict) {
  const auto missing = load_recording(inputs({"no-such-file.jsonl"}));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            "cannot open " + kRecorded + "no-such-file.jsonl: No such file or directory");
  EXPECT_EQ(load_recording(LoadOptions{}).error(), "no input given");

  const auto directory = std::filesystem::temp_directory_path() / "mcpgw-recording-test";
  std::filesystem::create_directories(directory);
  const std::string path = (directory / "broken.ndjson").string();
  std::ofstream(path) << rpc_request(1, "tools/list") << "\n{broken\n"
                      << rpc_result(1, "{}") << "\n";
  LoadOptions options;
  options.inputs = {path};
  options.input_format = mcp::traffic::Format::stdio;
  options.stdio_direction = mcp::traffic::Direction::client_to_server;
  const auto lenient = load_recording(options);
  ASSERT_TRUE(lenient) << lenient.error();
  EXPECT_EQ(lenient->problems.size(), 1u);
  options.strict = true;
  const auto strict = load_recording(options);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().rfind(path + ":2: ", 0), 0u) << strict.error();
  EXPECT_NE(strict.error().find("(--strict: a malformed record fails the load)"),
            std::string::npos);
  std::filesystem::remove_all(directory);
}

TEST(RecordingLoad, CurlTranscriptHasNothingToReplay) {
  const auto loaded = load_recording(inputs({"curl-i.txt"}));
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error(),
            "no client requests in the inputs: curl transcripts do not show request bodies; "
            "record with mcpgw serve --capture, a HAR or pcap");
}

}  // namespace
}  // namespace mcpgw::replay
