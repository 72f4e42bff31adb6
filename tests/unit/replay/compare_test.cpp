// compare_session: hand-built recordings and replays, one classification at a time, with the
// exact paths and details the reports show and the exit codes CI gates on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "replay/compare.hpp"

namespace mcpgw::replay {
namespace {

using mcp::traffic::Exchange;
using mcp::traffic::ExchangeKind;
using nlohmann::json;

std::string response(int id, const json& result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}.dump();
}

std::string error_response(int id, int code, const std::string& message) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}}
      .dump();
}

json text_result(const std::string& text, bool is_error = false) {
  json result = {{"content", {{{"type", "text"}, {"text", text}}}}};
  if (is_error)
    result["isError"] = true;
  return result;
}

Exchange exchange(const std::string& method, int id, const std::string& target,
                  const std::string& response_message, std::int64_t latency_us = 1000) {
  Exchange made;
  made.kind = ExchangeKind::request;
  made.method = method;
  made.id = std::to_string(id);
  made.target = target;
  json params = json::object();
  if (method == "tools/call")
    params = {{"name", target}, {"arguments", json::object()}};
  made.request_message =
      json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump();
  made.response_message = response_message;
  made.started_us = 1000000 + id * 100000;
  made.ended_us = *made.started_us + latency_us;
  made.request_where.source = "rec.jsonl";
  made.request_where.line = static_cast<std::uint64_t>(id);
  return made;
}

RecordedStep request_step(Exchange made) {
  RecordedStep step;
  step.exchange = std::move(made);
  return step;
}

ReplayedStep answered(std::size_t step, std::string answer, std::int64_t latency_us = 1000) {
  ReplayedStep replayed;
  replayed.step = step;
  replayed.responses.push_back(std::move(answer));
  replayed.sent = true;
  replayed.latency_us = latency_us;
  return replayed;
}

json initialize_result(const std::string& version, const std::string& protocol,
                       const json& capabilities) {
  return {{"protocolVersion", protocol},
          {"capabilities", capabilities},
          {"serverInfo", {{"name", "demo"}, {"version", version}}}};
}

CompareOptions default_options() {
  static const IgnoreRules defaults = [] {
    auto compiled = IgnoreRules::compile({}, true);
    return compiled ? std::move(*compiled) : IgnoreRules();
  }();
  CompareOptions options;
  options.diff.ignore = &defaults;
  return options;
}

ReplayReport report_of(SessionOutcome session) {
  ReplayReport report;
  report.sessions.push_back(std::move(session));
  return report;
}

// A session with initialize, a tools/call and a two-page tools/list.
struct Scenario {
  RecordedSession recorded;
  ReplayedSession replayed;

  Scenario() {
    recorded.id = "s1";
    recorded.sources = {"rec.jsonl"};
    const json capabilities = {{"tools", {{"listChanged", true}}}};
    recorded.initialize = exchange(
        "initialize", 0, "", response(0, initialize_result("1.0", "2025-06-18", capabilities)));
    recorded.steps.push_back(
        request_step(exchange("tools/call", 1, "echo",
                              response(1, {{"content", {{{"type", "text"}, {"text", "hi"}}}},
                                           {"_meta", {{"at", "2025-01-01T00:00:00Z"}}}}))));
    RecordedStep list = request_step(exchange(
        "tools/list", 2, "",
        response(2, {{"tools", {{{"name", "a"}}, {{"name", "b"}}}}, {"nextCursor", "p2"}})));
    list.later_pages.push_back(
        exchange("tools/list", 3, "", response(3, {{"tools", {{{"name", "c"}}}}})));
    recorded.steps.push_back(std::move(list));

    replayed.initialize_response =
        json{{"result", initialize_result("1.0", "2025-06-18", capabilities)}}.dump();
    replayed.initialize_latency_us = 1000;
    replayed.target_session = "target-1";
    replayed.steps.push_back(
        answered(0, response(1, {{"content", {{{"type", "text"}, {"text", "hi"}}}},
                                 {"_meta", {{"at", "2026-02-02T00:00:00Z"}}}})));
    ReplayedStep pages = answered(
        1, response(2, {{"tools", {{{"name", "c"}}, {{"name", "a"}}}}, {"nextCursor", "x"}}), 2000);
    pages.responses.push_back(response(2, {{"tools", {{{"name", "b"}}}}}));
    replayed.steps.push_back(std::move(pages));
  }

  SessionOutcome compare(const CompareOptions& options = default_options()) const {
    return compare_session(recorded, replayed, options);
  }
};

TEST(ReplayCompare, AnIdenticalReplayHasOneIdenticalOutcomePerExchange) {
  const Scenario scenario;
  const SessionOutcome session = scenario.compare();
  EXPECT_EQ(session.id, "s1");
  EXPECT_EQ(session.replayed_session, "target-1");
  EXPECT_EQ(session.sources, std::vector<std::string>{"rec.jsonl"});
  ASSERT_EQ(session.exchanges.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(session.exchanges[i].index, i);
    EXPECT_TRUE(session.exchanges[i].identical())
        << i << ": " << session.exchanges[i].differences.front().detail;
  }
  EXPECT_EQ(session.exchanges[0].method, "initialize");
  EXPECT_EQ(session.exchanges[1].method, "tools/call");
  EXPECT_EQ(session.exchanges[1].target, "echo");
  EXPECT_EQ(session.exchanges[1].recorded_id, "1");
  EXPECT_EQ(session.exchanges[1].where.line, 1u);
  EXPECT_EQ(session.exchanges[1].recorded_latency_us, 1000);
  const ExchangeOutcome& list = session.exchanges[2];
  EXPECT_EQ(list.pages_recorded, 2u);
  EXPECT_EQ(list.pages_replayed, 2u);
  EXPECT_EQ(list.recorded_latency_us, 2000);  // both pages
  EXPECT_EQ(list.recorded_response,
            R"({"result":{"tools":[{"name":"a"},{"name":"b"},{"name":"c"}]}})");
  EXPECT_EQ(list.replayed_response,
            R"({"result":{"tools":[{"name":"c"},{"name":"a"},{"name":"b"}]}})");
  EXPECT_TRUE(session.notes.empty());
  EXPECT_EQ(exit_code(report_of(session), FailOn::any), 0);
}

TEST(ReplayCompare, InitializeChangesAreResultChangesNamedForWhatChanged) {
  Scenario scenario;
  scenario.replayed.initialize_response =
      json{{"result",
            initialize_result("2.0", "2025-11-25",
                              {{"tools", {{"listChanged", true}}}, {"logging", json::object()}})}}
          .dump();
  const SessionOutcome session = scenario.compare();
  const ExchangeOutcome& initialize = session.exchanges.at(0);
  ASSERT_EQ(initialize.differences.size(), 3u);
  EXPECT_EQ(initialize.differences[0].path, "/result/capabilities/logging");
  EXPECT_EQ(initialize.differences[0].detail, "server capability added: {}");
  EXPECT_EQ(initialize.differences[1].path, "/result/protocolVersion");
  EXPECT_EQ(initialize.differences[1].detail,
            R"(protocol version changed: "2025-06-18" -> "2025-11-25")");
  EXPECT_EQ(initialize.differences[2].path, "/result/serverInfo/version");
  EXPECT_EQ(initialize.differences[2].detail, R"(server version changed: "1.0" -> "2.0")");
  for (const auto& difference : initialize.differences) {
    EXPECT_EQ(difference.kind, DifferenceKind::result_changed);
    EXPECT_EQ(difference.method, "initialize");
    EXPECT_FALSE(difference.breaking);
  }
  EXPECT_EQ(initialize.differences[2].recorded, json("1.0"));
  EXPECT_EQ(initialize.differences[2].replayed, json("2.0"));
  EXPECT_EQ(exit_code(report_of(session), FailOn::breaking), 0);
  EXPECT_EQ(exit_code(report_of(session), FailOn::any), 1);
}

TEST(ReplayCompare, ListChainsAreMergedAndClassified) {
  Scenario scenario;
  // The replay's list lost "b" and gained "d" (a different tool, not a rename) over one page.
  const json d_schema = {{"type", "object"}, {"properties", {{"q", {{"type", "string"}}}}}};
  scenario.replayed.steps[1].responses = {response(
      2,
      {{"tools", {{{"name", "c"}}, {{"name", "a"}}, {{"name", "d"}, {"inputSchema", d_schema}}}}})};
  const SessionOutcome session = scenario.compare();
  const ExchangeOutcome& list = session.exchanges.at(2);
  EXPECT_EQ(list.pages_recorded, 2u);
  EXPECT_EQ(list.pages_replayed, 1u);
  // classify_list judges the merged items (classify_test.cpp covers its details).
  const auto find = [&list](DifferenceKind kind) -> const Difference* {
    for (const auto& difference : list.differences) {
      if (difference.kind == kind)
        return &difference;
    }
    return nullptr;
  };
  const Difference* removed = find(DifferenceKind::tool_removed);
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->item, "b");
  EXPECT_EQ(removed->method, "tools/list");
  EXPECT_TRUE(removed->breaking);
  EXPECT_EQ(removed->path, "/result/tools/[name=b]");
  const Difference* added = find(DifferenceKind::tool_added);
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(added->item, "d");
  EXPECT_FALSE(added->breaking);
  EXPECT_EQ(
      list.replayed_response,
      R"({"result":{"tools":[{"name":"c"},{"name":"a"},{"inputSchema":{"properties":{"q":{"type":"string"}},"type":"object"},"name":"d"}]}})");
  EXPECT_EQ(exit_code(report_of(session), FailOn::breaking), 1);
}

TEST(ReplayCompare, ListMembersBesideTheItemsAreDiffedWithoutTheCursor) {
  Scenario scenario;
  scenario.replayed.steps[1].responses = {
      response(2, {{"tools", {{{"name", "a"}}, {{"name", "b"}}, {{"name", "c"}}}}, {"ttlMs", 5}})};
  const SessionOutcome session = scenario.compare();
  const ExchangeOutcome& list = session.exchanges.at(2);
  ASSERT_EQ(list.differences.size(), 1u);
  EXPECT_EQ(list.differences[0].kind, DifferenceKind::result_changed);
  EXPECT_EQ(list.differences[0].path, "/result/ttlMs");
  EXPECT_EQ(list.differences[0].detail, "added: 5");
}

TEST(ReplayCompare, ResultChangesCarryToolPathDetailAndValues) {
  Scenario scenario;
  scenario.replayed.steps[0].responses = {response(
      1,
      {{"content", {{{"type", "text"}, {"text", "hello"}}, {{"type", "text"}, {"text", "5"}}}}})};
  scenario.recorded.steps[0].exchange.response_message = response(
      1, {{"content", {{{"type", "text"}, {"text", "hi"}}, {{"type", "text"}, {"text", 5}}}}});
  const SessionOutcome session = scenario.compare();
  const ExchangeOutcome& call = session.exchanges.at(1);
  ASSERT_EQ(call.differences.size(), 2u);
  const Difference& text = call.differences[0];
  EXPECT_EQ(text.kind, DifferenceKind::result_changed);
  EXPECT_EQ(text.method, "tools/call");
  EXPECT_EQ(text.tool, "echo");
  EXPECT_FALSE(text.breaking);
  EXPECT_EQ(text.path, "/result/content/0/text");
  EXPECT_EQ(text.detail, R"(changed: "hi" -> "hello")");
  EXPECT_EQ(text.recorded, json("hi"));
  EXPECT_EQ(text.replayed, json("hello"));
  EXPECT_EQ(call.differences[1].path, "/result/content/1/text");
  EXPECT_EQ(call.differences[1].detail, R"(type changed from number to string: 5 -> "5")");
  EXPECT_EQ(exit_code(report_of(session), FailOn::breaking), 0);
  EXPECT_EQ(exit_code(report_of(session), FailOn::any), 1);
}

// One tools/call compared on its own: recorded and replayed answers.
ExchangeOutcome compare_call(const std::string& recorded_answer, const std::string& replayed_answer,
                             const CompareOptions& options = default_options()) {
  RecordedSession recorded;
  recorded.steps.push_back(request_step(exchange("tools/call", 1, "calc", recorded_answer)));
  ReplayedSession replayed;
  replayed.steps.push_back(answered(0, replayed_answer));
  SessionOutcome session = compare_session(recorded, replayed, options);
  EXPECT_EQ(session.exchanges.size(), 1u);
  return session.exchanges.empty() ? ExchangeOutcome() : session.exchanges.front();
}

// The same bytes are identical without parsing and keep no text; the same JSON spelled
// differently is parsed, found identical, and keeps both texts as they were.
TEST(ReplayCompare, SameBytesKeepNoTextAndOtherSpellingsAreParsed) {
  const std::string answer = R"({"jsonrpc":"2.0","id":1,"result":{"b":1,"a":[2.50]}})";
  const ExchangeOutcome same = compare_call(answer, answer);
  EXPECT_TRUE(same.identical());
  EXPECT_TRUE(same.recorded_response.empty());
  EXPECT_TRUE(same.replayed_response.empty());
  const std::string respelled = R"({"result": {"a": [2.5], "b": 1}, "id": 1, "jsonrpc": "2.0"})";
  const ExchangeOutcome spelled = compare_call(answer, respelled);
  EXPECT_TRUE(spelled.identical()) << spelled.differences.front().detail;
  EXPECT_EQ(spelled.replayed_response, respelled);
  EXPECT_FALSE(spelled.recorded_response.empty());
}

// A stdio answer reaches compare as the target wrote it, duplicate members included: it is
// judged with the last one (as the decoder keeps it) and a note says clients may reject it.
TEST(ReplayCompare, ADuplicateMemberInTheReplayedAnswerIsJudgedAndNoted) {
  RecordedSession recorded;
  recorded.steps.push_back(request_step(
      exchange("tools/call", 1, "calc", R"({"jsonrpc":"2.0","id":1,"result":{"a":2}})")));
  ReplayedSession replayed;
  replayed.steps.push_back(answered(0, R"({"jsonrpc":"2.0","id":1,"result":{"a":1,"a":2}})"));
  const SessionOutcome session = compare_session(recorded, replayed, default_options());
  ASSERT_EQ(session.exchanges.size(), 1u);
  EXPECT_TRUE(session.exchanges[0].identical());
  ASSERT_EQ(session.notes.size(), 1u);
  EXPECT_NE(session.notes[0].find("the replayed response has a duplicate member \"a\""),
            std::string::npos)
      << session.notes[0];
  EXPECT_NE(session.notes[0].find("mcpgw serve does) drop the whole response"), std::string::npos)
      << session.notes[0];

  // Recorded with the same duplicate: nothing new to say.
  recorded.steps[0].exchange.response_message =
      R"({"jsonrpc":"2.0","id":1,"result":{"a":0,"a":2}})";
  const SessionOutcome both = compare_session(recorded, replayed, default_options());
  EXPECT_TRUE(both.exchanges.at(0).identical());
  EXPECT_TRUE(both.notes.empty());
}

TEST(ReplayCompare, SuccessToErrorIsBreakingWhetherJsonRpcOrToolError) {
  const ExchangeOutcome rpc =
      compare_call(response(1, text_result("4")), error_response(1, -32602, "Invalid params"));
  ASSERT_EQ(rpc.differences.size(), 1u);
  const Difference& made = rpc.differences[0];
  EXPECT_EQ(made.kind, DifferenceKind::error_changed);
  EXPECT_EQ(made.change, ErrorChange::success_to_error);
  EXPECT_TRUE(made.breaking);
  EXPECT_EQ(made.tool, "calc");
  EXPECT_EQ(made.path, "/error");
  EXPECT_EQ(made.detail, R"(success became error -32602 "Invalid params")");
  EXPECT_FALSE(made.recorded);
  EXPECT_EQ(made.replayed, (json{{"code", -32602}, {"message", "Invalid params"}}));

  const ExchangeOutcome tool =
      compare_call(response(1, text_result("4")), response(1, text_result("boom", true)));
  ASSERT_EQ(tool.differences.size(), 1u);
  EXPECT_EQ(tool.differences[0].change, ErrorChange::success_to_error);
  EXPECT_TRUE(tool.differences[0].breaking);
  EXPECT_EQ(tool.differences[0].path, "/result/isError");
  EXPECT_EQ(tool.differences[0].detail, R"(success became a tool error "boom")");
  EXPECT_EQ(tool.differences[0].replayed, json(true));

  ReplayReport report;
  report.sessions.emplace_back();
  report.sessions[0].exchanges = {rpc, tool};
  EXPECT_EQ(exit_code(report, FailOn::breaking), 1);
  EXPECT_EQ(exit_code(report, FailOn::never), 0);
}

TEST(ReplayCompare, ErrorToSuccessAndCodeChangesAreNotBreaking) {
  const ExchangeOutcome healed =
      compare_call(error_response(1, -32601, "nope"), response(1, text_result("4")));
  ASSERT_EQ(healed.differences.size(), 1u);
  EXPECT_EQ(healed.differences[0].change, ErrorChange::error_to_success);
  EXPECT_FALSE(healed.differences[0].breaking);
  EXPECT_EQ(healed.differences[0].detail, R"(error -32601 "nope" became success)");

  const ExchangeOutcome code =
      compare_call(error_response(1, -32601, "nope"), error_response(1, -32602, "bad"));
  ASSERT_EQ(code.differences.size(), 1u);
  EXPECT_EQ(code.differences[0].change, ErrorChange::error_code_changed);
  EXPECT_FALSE(code.differences[0].breaking);
  EXPECT_EQ(code.differences[0].path, "/error/code");
  EXPECT_EQ(code.differences[0].detail, "error code changed from -32601 to -32602");
  EXPECT_EQ(code.differences[0].recorded, json(-32601));
  EXPECT_EQ(code.differences[0].replayed, json(-32602));

  const ExchangeOutcome kind =
      compare_call(response(1, text_result("no", true)), error_response(1, -32603, "crash"));
  ASSERT_EQ(kind.differences.size(), 1u);
  EXPECT_EQ(kind.differences[0].change, ErrorChange::error_code_changed);
  EXPECT_EQ(kind.differences[0].path, "/error");
  EXPECT_EQ(kind.differences[0].detail, R"(a tool error "no" became error -32603 "crash")");

  // Same code: the message is an ordinary result change.
  const ExchangeOutcome message =
      compare_call(error_response(1, -32602, "bad a"), error_response(1, -32602, "bad b"));
  ASSERT_EQ(message.differences.size(), 1u);
  EXPECT_EQ(message.differences[0].kind, DifferenceKind::result_changed);
  EXPECT_EQ(message.differences[0].path, "/error/message");
  EXPECT_EQ(message.differences[0].detail, R"(changed: "bad a" -> "bad b")");
  // Two tool errors: their content is compared.
  const ExchangeOutcome tool_errors =
      compare_call(response(1, text_result("x", true)), response(1, text_result("y", true)));
  ASSERT_EQ(tool_errors.differences.size(), 1u);
  EXPECT_EQ(tool_errors.differences[0].kind, DifferenceKind::result_changed);
  EXPECT_EQ(tool_errors.differences[0].path, "/result/content/0/text");
}

TEST(ReplayCompare, NoAnswerIsTargetFailedAndNeverSentIsNotReplayed) {
  Scenario scenario;
  scenario.recorded.steps.push_back(request_step(exchange("ping", 4, "", response(4, {}))));
  scenario.replayed.steps[0].responses.clear();
  scenario.replayed.steps[0].failure = "no answer within 30000 ms";
  scenario.replayed.steps[1].responses.clear();
  scenario.replayed.steps[1].sent = false;
  scenario.replayed.steps[1].failure = "not sent: the target exited earlier in this session";
  scenario.replayed.failure = "target exited (code 3) at step 0";
  // Step 2 (ping) has no ReplayedStep at all.
  const SessionOutcome session = scenario.compare();
  ASSERT_EQ(session.exchanges.size(), 4u);
  const Difference& failed = session.exchanges[1].differences.at(0);
  EXPECT_EQ(failed.kind, DifferenceKind::target_failed);
  EXPECT_TRUE(failed.breaking);
  EXPECT_EQ(failed.tool, "echo");
  EXPECT_EQ(failed.detail, "no answer within 30000 ms");
  EXPECT_EQ(failed.path, "");
  const Difference& unsent = session.exchanges[2].differences.at(0);
  EXPECT_EQ(unsent.kind, DifferenceKind::not_replayed);
  EXPECT_TRUE(unsent.breaking);
  EXPECT_EQ(unsent.detail, "not sent: the target exited earlier in this session");
  EXPECT_EQ(session.exchanges[2].pages_replayed, 0u);
  const Difference& missing = session.exchanges[3].differences.at(0);
  EXPECT_EQ(missing.kind, DifferenceKind::not_replayed);
  EXPECT_EQ(missing.detail, "not sent: target exited (code 3) at step 0");
  EXPECT_EQ(session.notes, std::vector<std::string>{"target exited (code 3) at step 0"});
  EXPECT_EQ(exit_code(report_of(session), FailOn::breaking), 1);
}

TEST(ReplayCompare, AFailedHandshakeFailsInitialize) {
  Scenario scenario;
  scenario.replayed.initialize_response.clear();
  scenario.replayed.failure = "handshake: connection refused";
  scenario.replayed.steps.clear();
  const SessionOutcome session = scenario.compare();
  ASSERT_EQ(session.exchanges.size(), 3u);
  EXPECT_EQ(session.exchanges[0].differences.at(0).kind, DifferenceKind::target_failed);
  EXPECT_EQ(session.exchanges[0].differences.at(0).detail, "handshake: connection refused");
  EXPECT_EQ(session.exchanges[1].differences.at(0).kind, DifferenceKind::not_replayed);
  EXPECT_EQ(session.exchanges[2].differences.at(0).detail,
            "not sent: handshake: connection refused");
}

TEST(ReplayCompare, ACutShortListChainIsTargetFailedNotAListOfRemovals) {
  Scenario scenario;
  scenario.replayed.steps[1].responses.resize(1);
  scenario.replayed.steps[1].failure = "no answer within 30000 ms";
  const SessionOutcome session = scenario.compare();
  const ExchangeOutcome& list = session.exchanges.at(2);
  ASSERT_EQ(list.differences.size(), 1u);
  EXPECT_EQ(list.differences[0].kind, DifferenceKind::target_failed);
  EXPECT_EQ(list.differences[0].detail, "no answer within 30000 ms (after 1 of the list's pages)");
  EXPECT_EQ(list.pages_replayed, 1u);
}

TEST(ReplayCompare, CancelledAndNotificationStepsAreNotCompared) {
  Scenario scenario;
  RecordedStep notification;
  notification.exchange.kind = ExchangeKind::notification;
  notification.exchange.method = "notifications/roots/list_changed";
  scenario.recorded.steps.insert(scenario.recorded.steps.begin(), notification);
  RecordedStep cancelled = request_step(exchange("tools/call", 9, "slow", ""));
  cancelled.cancelled = true;
  scenario.recorded.steps.insert(scenario.recorded.steps.begin() + 1, cancelled);
  // Steps now: 0 notification, 1 cancelled call, 2 echo, 3 list.
  scenario.replayed.steps[0].step = 2;
  scenario.replayed.steps[1].step = 3;
  ReplayedStep cancelled_replay;
  cancelled_replay.step = 1;
  cancelled_replay.sent = true;
  cancelled_replay.cancelled = true;
  cancelled_replay.failure = "cancelled as recorded";
  scenario.replayed.steps.push_back(cancelled_replay);
  const SessionOutcome session = scenario.compare();
  ASSERT_EQ(session.exchanges.size(), 3u);
  EXPECT_EQ(session.exchanges[1].method, "tools/call");
  EXPECT_EQ(session.exchanges[1].index, 1u);
  EXPECT_EQ(session.exchanges[2].method, "tools/list");
  EXPECT_EQ(session.exchanges[2].index, 2u);
  for (const auto& outcome : session.exchanges)
    EXPECT_TRUE(outcome.identical());
  EXPECT_EQ(session.notes, std::vector<std::string>{
                               "step 1 (tools/call id 9): cancelled as recorded, not compared"});
}

TEST(ReplayCompare, InterruptedStepsAreLeftOutAndTheSessionSaysHowMany) {
  Scenario scenario;
  scenario.replayed.steps[1].responses.resize(1);  // the list was on its second page
  scenario.replayed.steps[1].failure = "the replay was interrupted (SIGINT)";
  scenario.replayed.steps[1].interrupted = true;
  scenario.replayed.interrupted = true;
  scenario.replayed.failure = "the replay was interrupted (SIGINT): 1 of 2 requests not replayed";
  const SessionOutcome session = scenario.compare();
  ASSERT_EQ(session.exchanges.size(), 2u);  // initialize and the call, both compared
  EXPECT_EQ(session.exchanges[1].method, "tools/call");
  for (const auto& outcome : session.exchanges)
    EXPECT_TRUE(outcome.identical());
  EXPECT_EQ(session.notes, std::vector<std::string>{"the replay was interrupted (SIGINT): 1 of "
                                                    "2 requests not replayed"});
}

TEST(ReplayCompare, LatencyRegressionsNeedTheRatioAndTheFloor) {
  CompareOptions options = default_options();
  options.latency_threshold = 2.0;
  RecordedSession recorded;
  recorded.steps.push_back(request_step(exchange("tools/call", 1, "slow", response(1, {}), 10000)));
  recorded.steps.push_back(request_step(exchange("tools/call", 2, "fast", response(2, {}), 1000)));
  ReplayedSession replayed;
  replayed.steps.push_back(answered(0, response(1, {}), 30000));
  replayed.steps.push_back(answered(1, response(2, {}), 4000));  // 4x, but only 3 ms slower
  SessionOutcome session = compare_session(recorded, replayed, options);
  ASSERT_EQ(session.exchanges.size(), 2u);
  ASSERT_EQ(session.exchanges[0].differences.size(), 1u);
  const Difference& slow = session.exchanges[0].differences[0];
  EXPECT_EQ(slow.kind, DifferenceKind::latency_regressed);
  EXPECT_FALSE(slow.breaking);
  EXPECT_EQ(slow.tool, "slow");
  EXPECT_EQ(slow.detail, "latency rose from 10.0 ms to 30.0 ms (3.0x, threshold 2.0x)");
  EXPECT_EQ(slow.recorded, json(10000));
  EXPECT_EQ(slow.replayed, json(30000));
  EXPECT_EQ(session.exchanges[0].replayed_latency_us, 30000);
  EXPECT_TRUE(session.exchanges[1].identical());
  // Without a threshold latency is reported but never flagged.
  session = compare_session(recorded, replayed, default_options());
  EXPECT_TRUE(session.exchanges[0].identical());
  EXPECT_EQ(exit_code(report_of(session), FailOn::any), 0);
}

TEST(ReplayCompare, ServerRequestsUnmatchedAndMissing) {
  RecordedSession recorded;
  recorded.steps.push_back(request_step(exchange("tools/call", 1, "sampleLLM", response(1, {}))));
  for (int i = 0; i < 2; ++i) {
    RecordedServerRequest request;
    request.exchange = exchange(i == 0 ? "sampling/createMessage" : "roots/list", 100 + i, "",
                                response(100 + i, {{"ok", i}}));
    request.exchange.direction = mcp::traffic::Direction::server_to_client;
    request.during_step = 0;
    recorded.server_requests.push_back(std::move(request));
  }
  ReplayedSession replayed;
  replayed.steps.push_back(answered(0, response(1, {})));
  ReplayedServerRequest matched;
  matched.request = R"({"jsonrpc":"2.0","id":0,"method":"sampling/createMessage","params":{}})";
  matched.during_step = 0;
  matched.matched = 0;
  matched.answer = response(0, {{"ok", 0}});
  replayed.server_requests.push_back(matched);
  ReplayedServerRequest unmatched;
  unmatched.request =
      R"({"jsonrpc":"2.0","id":1,"method":"elicitation/create","params":{"message":"name?"}})";
  unmatched.during_step = 0;
  unmatched.answer = error_response(1, -32601, "no recorded reply");
  replayed.server_requests.push_back(unmatched);
  ReplayedServerRequest defaulted;
  defaulted.request = R"({"jsonrpc":"2.0","id":2,"method":"roots/list"})";
  defaulted.answered_with_default = true;
  defaulted.answer = response(2, {{"roots", json::array()}});
  replayed.server_requests.push_back(defaulted);

  const SessionOutcome session = compare_session(recorded, replayed, default_options());
  ASSERT_EQ(session.exchanges.size(), 5u);
  EXPECT_TRUE(session.exchanges[0].identical());
  const ExchangeOutcome& first = session.exchanges[1];
  EXPECT_EQ(first.direction, ExchangeDirection::server_to_client);
  EXPECT_EQ(first.method, "sampling/createMessage");
  EXPECT_EQ(first.recorded_id, "100");
  EXPECT_TRUE(first.identical());
  const ExchangeOutcome& second = session.exchanges[2];
  EXPECT_EQ(second.index, 2u);
  EXPECT_EQ(second.direction, ExchangeDirection::server_to_client);
  EXPECT_EQ(second.method, "elicitation/create");
  ASSERT_EQ(second.differences.size(), 1u);
  EXPECT_EQ(second.differences[0].kind, DifferenceKind::server_request_unmatched);
  EXPECT_FALSE(second.differences[0].breaking);
  EXPECT_EQ(second.differences[0].tool, "sampleLLM");
  EXPECT_EQ(second.differences[0].detail,
            R"(no recorded client reply matched; answered with error -32601 "no recorded reply")");
  EXPECT_EQ(second.differences[0].replayed, (json{{"message", "name?"}}));
  EXPECT_EQ(session.exchanges[3].differences.at(0).detail,
            "no recorded client reply matched; answered with the configured default reply");
  const ExchangeOutcome& missing = session.exchanges[4];
  EXPECT_EQ(missing.direction, ExchangeDirection::server_to_client);
  EXPECT_EQ(missing.method, "roots/list");
  EXPECT_EQ(missing.recorded_id, "101");
  ASSERT_EQ(missing.differences.size(), 1u);
  EXPECT_EQ(missing.differences[0].kind, DifferenceKind::server_request_missing);
  EXPECT_FALSE(missing.differences[0].breaking);
  EXPECT_EQ(missing.differences[0].detail,
            "the target did not send this request in the replay (recorded during tools/call "
            "sampleLLM)");
  ReplayReport report = report_of(session);
  EXPECT_EQ(exit_code(report, FailOn::breaking), 0);
  EXPECT_EQ(exit_code(report, FailOn::any), 1);
}

TEST(ReplayCompare, DifferencesAndKeptTextAreBounded) {
  json before = json::object();
  json after = json::object();
  for (int i = 0; i < 8; ++i) {
    before["k" + std::to_string(i)] = i;
    after["k" + std::to_string(i)] = i + 1;
  }
  before["big"] = std::string(10000, 'a');
  after["big"] = std::string(10000, 'b');
  CompareOptions options = default_options();
  options.max_differences_per_exchange = 2;
  options.diff.max_changes = 5;
  options.max_kept_response_bytes = 100;
  const ExchangeOutcome outcome = compare_call(response(1, before), response(1, after), options);
  ASSERT_EQ(outcome.differences.size(), 2u);
  EXPECT_EQ(outcome.differences_omitted, 3u + 4u);  // 5 found, 2 kept; 4 beyond max_changes
  EXPECT_EQ(outcome.differences[0].path, "/result/big");
  EXPECT_EQ(outcome.differences[0].detail.substr(0, 12), R"(changed: "aa)");
  const std::string suffix = " (both values cut to their first 4 KiB of JSON)";
  const std::string& detail = outcome.differences[0].detail;
  ASSERT_GT(detail.size(), suffix.size());
  EXPECT_EQ(detail.substr(detail.size() - suffix.size()), suffix);
  ASSERT_TRUE(outcome.differences[0].recorded);
  const std::string cut = outcome.differences[0].recorded->get<std::string>();
  EXPECT_EQ(cut.size(), 4096u + std::string("…").size());
  EXPECT_EQ(cut.substr(0, 3), "\"aa");
  EXPECT_EQ(outcome.recorded_response.size(), 100u + std::string("…").size());
  EXPECT_EQ(outcome.replayed_response.size(), 100u + std::string("…").size());
}

TEST(ReplayCompare, AnUnparsableRecordingIsComparedAsTextAndNoted) {
  RecordedSession recorded;
  recorded.steps.push_back(request_step(exchange("tools/call", 1, "calc", "{not json")));
  ReplayedSession replayed;
  replayed.steps.push_back(answered(0, response(1, text_result("4"))));
  const SessionOutcome session = compare_session(recorded, replayed, default_options());
  ASSERT_EQ(session.exchanges.size(), 1u);
  const ExchangeOutcome& outcome = session.exchanges[0];
  ASSERT_EQ(outcome.differences.size(), 1u);
  EXPECT_EQ(outcome.differences[0].kind, DifferenceKind::result_changed);
  EXPECT_EQ(outcome.differences[0].path, "");
  EXPECT_EQ(outcome.differences[0].detail.substr(0, 47),
            R"(type changed from string to object: "{not json")");
  EXPECT_EQ(outcome.recorded_response, "{not json");
  ASSERT_EQ(session.notes.size(), 1u);
  EXPECT_EQ(session.notes[0].rfind("exchange 0 (tools/call calc): the recorded response is not "
                                   "JSON (",
                                   0),
            0u)
      << session.notes[0];
  EXPECT_EQ(session.notes[0].substr(session.notes[0].size() - 18), "; compared as text");
}

TEST(ReplayCompare, ARecordingWithoutAnAnswerIsNotedNotJudged) {
  RecordedSession recorded;
  recorded.steps.push_back(request_step(exchange("tools/call", 1, "calc", "")));
  ReplayedSession replayed;
  replayed.steps.push_back(answered(0, response(1, text_result("4"))));
  const SessionOutcome session = compare_session(recorded, replayed, default_options());
  ASSERT_EQ(session.exchanges.size(), 1u);
  EXPECT_TRUE(session.exchanges[0].identical());
  EXPECT_EQ(session.notes,
            std::vector<std::string>{"exchange 0 (tools/call calc): the recording has no answer to "
                                     "compare with"});
}

}  // namespace
}  // namespace mcpgw::replay
