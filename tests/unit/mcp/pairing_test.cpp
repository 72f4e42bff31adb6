// Pairing of decoded traffic into exchanges: scopes, orphans, pending, server->client requests,
// progress and cancellation links, batches, SSE resumption, bounds and output order.
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "mcp/pairing.hpp"
#include "tests/unit/mcp/test_events.hpp"

namespace mcpgw::mcp::traffic {
namespace {

using namespace test_events;
using mcp::traffic::Problem;

struct Collected {
  std::vector<Exchange> exchanges;
  std::vector<Problem> problems;
};

Pairer make_pairer(Collected& collected, PairerOptions options = {}) {
  return Pairer(
      options, [&](Exchange&& exchange) { collected.exchanges.push_back(std::move(exchange)); },
      [&](Problem&& problem) { collected.problems.push_back(std::move(problem)); });
}

TEST(Pairing, IdsRepeatedAcrossSessionsPairOnlyWithinTheirScope) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(EventBuilder("session:A", kC2S, rpc_request(1, "tools/call", R"({"name":"a"})"))
                      .session("A")
                      .at(1'000));
  pairer.on_event(EventBuilder("session:B", kC2S, rpc_request(1, "tools/call", R"({"name":"b"})"))
                      .session("B")
                      .at(2'000));
  pairer.on_event(EventBuilder("session:B", kS2C, rpc_result(1)).session("B").at(2'500));
  pairer.on_event(
      EventBuilder("session:A", kS2C, rpc_error(1, -32602, "bad")).session("A").at(9'000));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 2u);
  EXPECT_TRUE(got.problems.empty());
  const Exchange& a = got.exchanges[0];
  const Exchange& b = got.exchanges[1];
  EXPECT_EQ(a.session, "A");
  EXPECT_EQ(a.target, "a");
  EXPECT_EQ(a.status, Status::error);
  EXPECT_EQ(a.error_code, -32602);
  EXPECT_EQ(a.error_message, "bad");
  EXPECT_EQ(a.duration_us(), 8'000);
  EXPECT_EQ(b.session, "B");
  EXPECT_EQ(b.target, "b");
  EXPECT_EQ(b.status, Status::ok);
  EXPECT_EQ(b.duration_us(), 500);
  EXPECT_EQ(a.tool(), "a");
  // Input order of each answer: B's came third, A's fourth.
  EXPECT_EQ(a.position, 0u);
  EXPECT_EQ(a.end_position, 3u);
  EXPECT_EQ(b.position, 1u);
  EXPECT_EQ(b.end_position, 2u);
}

TEST(Pairing, ResponseWithoutRequestIsAnOrphanWithItsOwnStatus) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(EventBuilder("s", kS2C, rpc_error(7, -32601, "Method not found")).at(5));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(8)).at(6));
  // Same id, but sent the other way: a client->server response cannot answer a request the
  // client sent.
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(9, "ping")).at(7));
  pairer.on_event(EventBuilder("s", kC2S, rpc_result(9)).at(8));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 4u);
  EXPECT_EQ(got.exchanges[0].end_position, got.exchanges[0].position);
  EXPECT_TRUE(got.exchanges[0].orphan);
  EXPECT_EQ(got.exchanges[0].status, Status::error);
  EXPECT_EQ(got.exchanges[0].id, "7");
  EXPECT_EQ(got.exchanges[0].method, "");
  EXPECT_EQ(got.exchanges[0].direction, kC2S);  // the request it answers went client->server
  EXPECT_TRUE(got.exchanges[1].orphan);
  EXPECT_EQ(got.exchanges[1].status, Status::ok);
  EXPECT_EQ(got.exchanges[2].method, "ping");
  EXPECT_EQ(got.exchanges[2].status, Status::pending);
  EXPECT_TRUE(got.exchanges[3].orphan);
}

TEST(Pairing, RequestsStillWaitingAtTheEndArePendingAndKeepTheirPlace) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(
      EventBuilder("s", kC2S, rpc_request(1, "tools/call", R"({"name":"slow"})")).at(1));
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(2, "tools/list")).at(2));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(2)).at(3));
  EXPECT_TRUE(got.exchanges.empty()) << "the waiting request holds the later one back";
  EXPECT_EQ(pairer.pending(), 1u);
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 2u);
  EXPECT_EQ(got.exchanges[0].method, "tools/call");
  EXPECT_EQ(got.exchanges[0].status, Status::pending);
  EXPECT_FALSE(got.exchanges[0].duration_us());
  EXPECT_EQ(got.exchanges[1].method, "tools/list");
  EXPECT_EQ(got.exchanges[1].status, Status::ok);
}

TEST(Pairing, WithoutOrderExchangesLeaveWhenTheyComplete) {
  Collected got;
  PairerOptions options;
  options.ordered = false;
  auto pairer = make_pairer(got, options);
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(1, "tools/call", R"({"name":"slow"})")));
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(2, "tools/list")));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(2)));
  ASSERT_EQ(got.exchanges.size(), 1u);
  EXPECT_EQ(got.exchanges[0].method, "tools/list");
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(1)));
  ASSERT_EQ(got.exchanges.size(), 2u);
  EXPECT_EQ(got.exchanges[1].method, "tools/call");
  EXPECT_EQ(got.exchanges[1].status, Status::ok);
}

TEST(Pairing, ServerToClientRequestsAreRecognisedAndHaveTheirOwnIdSpace) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(
      EventBuilder(
          "s", kC2S,
          rpc_request(1, "tools/call", R"({"name":"test_sampling","_meta":{"progressToken":1}})"))
          .at(10));
  pairer.on_event(EventBuilder("s", kS2C, rpc_request(1, "sampling/createMessage")).at(20));
  pairer.on_event(EventBuilder("s", kS2C, rpc_request(2, "elicitation/create")).at(21));
  pairer.on_event(EventBuilder("s", kS2C, rpc_request(3, "roots/list")).at(22));
  pairer.on_event(EventBuilder("s", kC2S, rpc_result(1, R"({"role":"assistant"})")).at(30));
  pairer.on_event(EventBuilder("s", kC2S, rpc_error(2, -1, "declined")).at(31));
  pairer.on_event(EventBuilder("s", kC2S, rpc_result(3, R"({"roots":[]})")).at(32));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(1, R"({"content":[]})")).at(40));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 4u);
  EXPECT_EQ(got.exchanges[0].method, "tools/call");
  EXPECT_FALSE(got.exchanges[0].server_request());
  EXPECT_EQ(got.exchanges[0].duration_us(), 30);
  EXPECT_EQ(got.exchanges[1].method, "sampling/createMessage");
  EXPECT_TRUE(got.exchanges[1].server_request());
  EXPECT_EQ(got.exchanges[1].duration_us(), 10);
  EXPECT_EQ(got.exchanges[2].method, "elicitation/create");
  EXPECT_EQ(got.exchanges[2].status, Status::error);
  EXPECT_EQ(got.exchanges[3].method, "roots/list");
  EXPECT_EQ(got.exchanges[3].status, Status::ok);
  EXPECT_TRUE(is_server_to_client_method("sampling/createMessage"));
  EXPECT_FALSE(is_server_to_client_method("tools/call"));
}

TEST(Pairing, ProgressLinksToItsRequestByToken) {
  Collected got;
  PairerOptions options;
  options.keep_payloads = true;
  auto pairer = make_pairer(got, options);
  pairer.on_event(EventBuilder("s", kC2S,
                               rpc_request(4, "tools/call",
                                           R"({"name":"work","_meta":{"progressToken":"tok"}})"))
                      .at(100));
  pairer.on_event(
      EventBuilder("s", kS2C,
                   rpc_notification("notifications/progress",
                                    R"({"progressToken":"tok","progress":1,"total":2})"))
          .at(150));
  pairer.on_event(EventBuilder("s", kS2C,
                               rpc_notification("notifications/progress",
                                                R"({"progressToken":"other","progress":1})"))
                      .at(160));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(4)).at(200));
  // After the response the token is closed: a late progress stands alone.
  pairer.on_event(EventBuilder("s", kS2C,
                               rpc_notification("notifications/progress",
                                                R"({"progressToken":"tok","progress":2})"))
                      .at(210));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 3u);
  const Exchange& call = got.exchanges[0];
  EXPECT_EQ(call.progress_token, "\"tok\"");
  ASSERT_EQ(call.linked.size(), 1u);
  EXPECT_EQ(call.linked[0].method, "notifications/progress");
  EXPECT_EQ(call.linked[0].time_us, 150);
  EXPECT_NE(call.linked[0].message.find("\"total\":2"), std::string::npos);
  EXPECT_EQ(got.exchanges[1].kind, ExchangeKind::notification);
  EXPECT_EQ(got.exchanges[1].progress_token, "\"other\"");
  EXPECT_EQ(got.exchanges[2].kind, ExchangeKind::notification);
  EXPECT_EQ(got.exchanges[2].started_us, 210);
}

TEST(Pairing, CancellationEndsItsRequestAsCancelled) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(
      EventBuilder("s", kC2S, rpc_request(5, "tools/call", R"({"name":"sleep"})")).at(0));
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(6, "tools/list")).at(1));
  // A cancellation names a request its own sender made: from the server it cannot cancel 5.
  pairer.on_event(
      EventBuilder("s", kS2C, rpc_notification("notifications/cancelled", R"({"requestId":6})"))
          .at(2));
  pairer.on_event(EventBuilder("s", kC2S,
                               rpc_notification("notifications/cancelled",
                                                R"({"requestId":5,"reason":"user"})"))
                      .at(4'000));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(6)).at(4'100));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(5)).at(5'000));  // too late
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 4u);
  EXPECT_EQ(got.exchanges[0].method, "tools/call");
  EXPECT_EQ(got.exchanges[0].status, Status::cancelled);
  EXPECT_EQ(got.exchanges[0].duration_us(), 4'000);
  ASSERT_EQ(got.exchanges[0].linked.size(), 1u);
  EXPECT_EQ(got.exchanges[0].linked[0].method, "notifications/cancelled");
  EXPECT_EQ(got.exchanges[1].method, "tools/list");
  EXPECT_EQ(got.exchanges[1].status, Status::ok);
  EXPECT_EQ(got.exchanges[2].method, "notifications/cancelled");
  EXPECT_EQ(got.exchanges[2].related_id, "6");
  EXPECT_TRUE(got.exchanges[3].orphan);
}

TEST(Pairing, BatchMembersPairOneByOne) {
  Collected got;
  auto pairer = make_pairer(got);
  // A 2025-03-26 batch: one POST, its members reported as separate events with its context.
  pairer.on_event(EventBuilder("session:S", kC2S, rpc_request(1, "tools/list"))
                      .session("S")
                      .http("POST", 0)
                      .at(1));
  pairer.on_event(EventBuilder("session:S", kC2S, rpc_request(2, "prompts/list"))
                      .session("S")
                      .http("POST", 0)
                      .at(1));
  pairer.on_event(EventBuilder("session:S", kC2S, rpc_notification("notifications/initialized"))
                      .session("S")
                      .http("POST", 0)
                      .at(1));
  pairer.on_event(
      EventBuilder("session:S", kS2C, rpc_result(2)).session("S").http("POST", 200).at(3));
  pairer.on_event(
      EventBuilder("session:S", kS2C, rpc_result(1)).session("S").http("POST", 200).at(4));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 3u);
  EXPECT_EQ(got.exchanges[0].method, "tools/list");
  EXPECT_EQ(got.exchanges[0].duration_us(), 3);
  EXPECT_EQ(got.exchanges[0].http_status, 200);
  EXPECT_EQ(got.exchanges[1].method, "prompts/list");
  EXPECT_EQ(got.exchanges[1].duration_us(), 2);
  EXPECT_EQ(got.exchanges[2].kind, ExchangeKind::notification);
}

TEST(Pairing, ResponseOnAResumedSseStreamPairsWithinTheSession) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(
      EventBuilder("session:S", kC2S, rpc_request(3, "tools/call", R"({"name":"slow"})"))
          .session("S")
          .http("POST", 0)
          .at(1'000));
  // The POST's stream broke; the response came on a GET with Last-Event-ID, another HTTP
  // exchange of the same session.
  pairer.on_event(EventBuilder("session:S", kS2C, rpc_result(3))
                      .session("S")
                      .http("GET", 200, "1-7")
                      .at(61'000));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 1u);
  EXPECT_EQ(got.exchanges[0].status, Status::ok);
  EXPECT_FALSE(got.exchanges[0].orphan);
  EXPECT_EQ(got.exchanges[0].duration_us(), 60'000);
  EXPECT_EQ(got.exchanges[0].http_status, 200);
}

TEST(Pairing, InitializeTakesTheNegotiatedVersionAndTheSessionFromItsResponse) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(EventBuilder(
      "tcp:1", kC2S, rpc_request(0, "initialize", R"({"protocolVersion":"2025-11-25"})")));
  pairer.on_event(EventBuilder("tcp:1", kS2C, rpc_result(0, R"({"protocolVersion":"2025-06-18"})"))
                      .session("X"));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 1u);
  EXPECT_EQ(got.exchanges[0].protocol_version, "2025-06-18");
  EXPECT_EQ(got.exchanges[0].session, "X");
}

TEST(Pairing, ToolErrorsAreOkResponsesMarkedAsFailed) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(1, "tools/call", R"({"name":"t"})")));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(1, R"({"content":[],"isError":true})")));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 1u);
  EXPECT_EQ(got.exchanges[0].status, Status::ok);
  EXPECT_TRUE(got.exchanges[0].tool_error);
  EXPECT_TRUE(got.exchanges[0].failed());
}

TEST(Pairing, AMessageThatDoesNotSummarizeIsAProblemWithItsLocation) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(EventBuilder("s", kC2S, R"({"jsonrpc":"2.0","id":1,"method":)").line(12));
  pairer.on_event(EventBuilder("s", kC2S, R"([1,2])").line(13));
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(2, "ping")).line(14));
  pairer.finish();
  ASSERT_EQ(got.problems.size(), 2u);
  EXPECT_EQ(got.problems[0].where.line, 12u);
  EXPECT_EQ(got.problems[0].where.source, "test.jsonl");
  EXPECT_NE(got.problems[0].message.find("not a JSON-RPC message"), std::string::npos);
  EXPECT_EQ(got.problems[1].where.line, 13u);
  ASSERT_EQ(got.exchanges.size(), 1u);
  EXPECT_EQ(got.exchanges[0].request_where.line, 14u);
}

TEST(Pairing, AnIdReusedWhileWaitingReleasesTheFirstRequestAsPending) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(1, "tools/list")).at(1));
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(1, "prompts/list")).at(2));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(1)).at(3));
  ASSERT_EQ(got.exchanges.size(), 2u);
  EXPECT_EQ(got.exchanges[0].method, "tools/list");
  EXPECT_EQ(got.exchanges[0].status, Status::pending);
  EXPECT_EQ(got.exchanges[1].method, "prompts/list");
  EXPECT_EQ(got.exchanges[1].status, Status::ok);
  EXPECT_EQ(pairer.pending(), 0u);
}

TEST(Pairing, HeldBackExchangesAreBounded) {
  Collected got;
  PairerOptions options;
  options.max_held_back = 3;
  auto pairer = make_pairer(got, options);
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(1, "tools/call", R"({"name":"slow"})")));
  for (int i = 0; i < 5; ++i)
    pairer.on_event(EventBuilder("s", kS2C, rpc_notification("notifications/message")));
  // The bound was passed: the waiting request stopped holding the notifications back.
  EXPECT_EQ(got.exchanges.size(), 5u);
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(1)));
  ASSERT_EQ(got.exchanges.size(), 6u);
  EXPECT_EQ(got.exchanges[5].method, "tools/call");
  EXPECT_EQ(got.exchanges[5].status, Status::ok);
  pairer.finish();
  EXPECT_EQ(got.exchanges.size(), 6u);
}

TEST(Pairing, PendingRequestsPerScopeAreBounded) {
  Collected got;
  PairerOptions options;
  options.max_pending_per_scope = 2;
  auto pairer = make_pairer(got, options);
  for (int id = 1; id <= 3; ++id)
    pairer.on_event(
        EventBuilder("s", kC2S, rpc_request(id, "ping")).line(static_cast<unsigned>(id)));
  ASSERT_EQ(got.problems.size(), 1u);
  EXPECT_EQ(got.problems[0].where.line, 3u);
  EXPECT_EQ(pairer.pending(), 2u);
  // Another scope still has room.
  pairer.on_event(EventBuilder("t", kC2S, rpc_request(1, "ping")));
  EXPECT_EQ(pairer.pending(), 3u);
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(3)));  // the unpaired one: an orphan answer
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 5u);
  EXPECT_EQ(got.exchanges[2].status, Status::pending);
  EXPECT_TRUE(got.exchanges.back().orphan);
}

TEST(Pairing, LinkedNotificationsPerExchangeAreBounded) {
  Collected got;
  PairerOptions options;
  options.max_linked = 2;
  auto pairer = make_pairer(got, options);
  pairer.on_event(EventBuilder(
      "s", kC2S, rpc_request(1, "tools/call", R"({"name":"t","_meta":{"progressToken":9}})")));
  for (int i = 0; i < 5; ++i) {
    pairer.on_event(EventBuilder(
        "s", kS2C,
        rpc_notification("notifications/progress", R"({"progressToken":9,"progress":1})")));
  }
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(1)));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 1u);
  EXPECT_EQ(got.exchanges[0].linked.size(), 2u);
  EXPECT_EQ(got.exchanges[0].linked_omitted, 3u);
}

TEST(Pairing, ReleaseStalledLetsLaterExchangesOut) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(1, "tools/call", R"({"name":"slow"})")));
  pairer.on_event(EventBuilder("s", kS2C, rpc_notification("notifications/message")));
  EXPECT_TRUE(got.exchanges.empty());
  const auto now = std::chrono::steady_clock::now();
  pairer.release_stalled(now, std::chrono::hours(1));
  EXPECT_TRUE(got.exchanges.empty()) << "not waited long enough";
  pairer.release_stalled(now + std::chrono::hours(2), std::chrono::hours(1));
  ASSERT_EQ(got.exchanges.size(), 1u);
  EXPECT_EQ(got.exchanges[0].kind, ExchangeKind::notification);
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(1)));
  ASSERT_EQ(got.exchanges.size(), 2u);
  EXPECT_EQ(got.exchanges[1].method, "tools/call");
}

TEST(Pairing, MessagesWithoutTimesHaveNoDuration) {
  Collected got;
  auto pairer = make_pairer(got);
  pairer.on_event(EventBuilder("s", kC2S, rpc_request(1, "ping")));
  pairer.on_event(EventBuilder("s", kS2C, rpc_result(1)).at(5));
  pairer.finish();
  ASSERT_EQ(got.exchanges.size(), 1u);
  EXPECT_FALSE(got.exchanges[0].duration_us());
  EXPECT_EQ(got.exchanges[0].ended_us, 5);
}

}  // namespace
}  // namespace mcpgw::mcp::traffic
