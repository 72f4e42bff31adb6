// Traffic between backends and clients beyond request/response: progress, logs, list_changed,
// backend-to-client requests, cancellation, and the end of sessions and of the gateway.
#include "mux_harness.hpp"

namespace mcpgw::mux::testing {
namespace {

using MuxTraffic = MuxTest;

mcp::Message progress(const json& token, double value) {
  return mcp::make_notification("notifications/progress",
                                json{{"progressToken", token}, {"progress", value}});
}

TEST_F(MuxTraffic, ProgressTokensAreRewrittenAndRoutedToTheRequestsStream) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request(
      1, "tools/call", json{{"name", "alpha__work"}, {"_meta", {{"progressToken", 42}, {"k", 1}}}});
  auto& call = newest(0).only_call("tools/call");
  const auto token = call.params()["_meta"]["progressToken"];
  EXPECT_NE(token, json(42)) << "the backend gets a token unique to the gateway";
  EXPECT_EQ(call.params()["_meta"]["k"], 1) << "other _meta members stay";
  newest(0).notification(progress(token, 0.5), call.id);
  ASSERT_EQ(stream->sent.size(), 1u);
  EXPECT_EQ(stream->sent[0].method, "notifications/progress");
  EXPECT_EQ((*stream->sent[0].params)["progressToken"], 42);
  EXPECT_EQ((*stream->sent[0].params)["progress"], 0.5);
  EXPECT_TRUE(client.channel->sent.empty());
  newest(0).answer(call, {{"content", json::array()}});
  // After the response the token is forgotten.
  newest(0).notification(progress(token, 1.0));
  EXPECT_EQ(stream->sent.size(), 1u);
  auto bad = client.request(2, "tools/call",
                            json{{"name", "alpha__work"}, {"_meta", {{"progressToken", 1.5}}}});
  EXPECT_EQ(bad->error_code(), mcp::error_code::invalid_params);
}

TEST_F(MuxTraffic, EqualProgressTokensOfTwoSessionsStayApart) {
  start_ready({{"alpha", config::SessionMode::shared}});
  auto first = open();
  auto second = open();
  auto one = first.request(1, "tools/call", json{{"name", "x"}, {"_meta", {{"progressToken", 7}}}});
  auto two =
      second.request(1, "tools/call", json{{"name", "x"}, {"_meta", {{"progressToken", 7}}}});
  auto calls = discovery(0).open_calls("tools/call");
  ASSERT_EQ(calls.size(), 2u);
  const auto token_one = calls[0]->params()["_meta"]["progressToken"];
  const auto token_two = calls[1]->params()["_meta"]["progressToken"];
  EXPECT_NE(token_one, token_two);
  discovery(0).notification(progress(token_two, 3));
  EXPECT_TRUE(one->sent.empty());
  ASSERT_EQ(two->sent.size(), 1u);
  EXPECT_EQ((*two->sent[0].params)["progressToken"], 7);
}

TEST_F(MuxTraffic, LogMessagesGoToTheRelatedStreamOrTheChannel) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  const auto message =
      mcp::make_notification("notifications/message", json{{"level", "info"}, {"data", "x"}});
  // No call in flight: the session's channel.
  client.request(1, "tools/call", json{{"name", "beta__first"}});
  newest(1).answer(newest(1).only_call("tools/call"), {{"content", json::array()}});
  newest(1).notification(message);
  ASSERT_EQ(client.channel->sent.size(), 1u);
  EXPECT_EQ(client.channel->sent[0], message);

  // The call the Client names (an HTTP backend's response stream).
  auto stream = client.request(2, "tools/call", json{{"name", "beta__log"}});
  const auto call = newest(1).only_call("tools/call").id;
  newest(1).notification(message, call);
  ASSERT_EQ(stream->sent.size(), 1u);
  EXPECT_EQ(stream->sent[0], message);
  // Named by nobody (a stdio backend), with only this call in flight there: the same stream.
  newest(1).notification(message);
  EXPECT_EQ(stream->sent.size(), 2u);
  EXPECT_EQ(client.channel->sent.size(), 1u);

  // Two calls in flight: it cannot be told which, so the channel.
  auto other = client.request(3, "tools/call", json{{"name", "beta__log"}});
  newest(1).notification(message);
  EXPECT_EQ(client.channel->sent.size(), 2u);
  EXPECT_EQ(stream->sent.size(), 2u);
  EXPECT_TRUE(other->sent.empty());
  // A call to another backend does not count.
  client.notify("notifications/cancelled", json{{"requestId", 3}});
  client.request(4, "tools/call", json{{"name", "alpha__log"}});
  newest(1).notification(message);
  EXPECT_EQ(stream->sent.size(), 3u);
}

TEST_F(MuxTraffic, ListChangedInvalidatesAndIsForwarded) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto list = client.request(1, "tools/list");
  newest(0).answer(newest(0).only_call("tools/list"), {{"tools", {{{"name", "read.me"}}}}});
  newest(1).answer(newest(1).only_call("tools/list"), {{"tools", json::array()}});
  ASSERT_EQ(list->result()["tools"][0]["name"], "alpha__read_me");
  client.request(2, "tools/call", json{{"name", "alpha__read_me"}});
  EXPECT_EQ(newest(0).only_call("tools/call").params()["name"], "read.me");

  newest(0).notification(mcp::make_notification("notifications/tools/list_changed"));
  ASSERT_EQ(client.channel->sent.size(), 1u);
  EXPECT_EQ(client.channel->sent[0].method, "notifications/tools/list_changed");
  // The old mapping is gone: the name now parses as the untouched "read_me".
  client.request(3, "tools/call", json{{"name", "alpha__read_me"}});
  EXPECT_EQ(newest(0).open_calls("tools/call").back()->params()["name"], "read_me");

  newest(1).notification(mcp::make_notification("notifications/prompts/list_changed"));
  newest(1).notification(mcp::make_notification("notifications/resources/list_changed"));
  ASSERT_EQ(client.channel->sent.size(), 3u);
}

TEST_F(MuxTraffic, BackendRequestsRoundTripWithRewrittenIds) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request("call", "tools/call", json{{"name", "beta__sample"}});
  auto& call = newest(1).only_call("tools/call");
  newest(1).request(mcp::make_request(5, "sampling/createMessage",
                                      json{{"messages", json::array()},
                                           {"maxTokens", 10},
                                           {"_meta", {{"progressToken", "bp"}}}}),
                    call.id);
  ASSERT_EQ(stream->sent.size(), 1u) << "on the stream of the call it belongs to";
  const auto forwarded = stream->sent[0];
  EXPECT_EQ(forwarded.method, "sampling/createMessage");
  ASSERT_TRUE(forwarded.id);
  EXPECT_NE(*forwarded.id, mcp::RequestId(5));
  EXPECT_EQ((*forwarded.params)["maxTokens"], 10);
  const auto client_token = (*forwarded.params)["_meta"]["progressToken"];
  EXPECT_NE(client_token, json("bp"));

  // The client's progress for that request reaches its owner only, with the backend's token.
  client.notify("notifications/progress", json{{"progressToken", client_token}, {"progress", 1}});
  ASSERT_EQ(newest(1).notifications.size(), 1u);
  EXPECT_EQ((*newest(1).notifications[0].params)["progressToken"], "bp");
  EXPECT_TRUE(newest(0).notifications.empty());
  EXPECT_EQ(client_count(0), 1u);

  client.session->handle_response(mcp::make_success_response(
      *forwarded.id,
      json{
          {"role", "assistant"}, {"content", {{"type", "text"}, {"text", "ok"}}}, {"model", "m"}}));
  ASSERT_EQ(newest(1).responses.size(), 1u);
  EXPECT_EQ(*newest(1).responses[0].id, mcp::RequestId(5));
  EXPECT_EQ(newest(1).responses[0].result["model"], "m");

  // The same answer again, or one with an id never issued: dropped and logged.
  WarningCounter warnings;
  client.session->handle_response(mcp::make_success_response(*forwarded.id, json::object()));
  client.session->handle_response(mcp::make_success_response(123456, json::object()));
  EXPECT_EQ(newest(1).responses.size(), 1u);
  EXPECT_EQ(warnings.count("unknown id"), 2u);
}

TEST_F(MuxTraffic, UnrelatedBackendRequestsGoOnTheChannel) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  client.request(1, "tools/call", json{{"name", "alpha__x"}});
  newest(0).answer(newest(0).only_call("tools/call"), {{"content", json::array()}});
  newest(0).request(mcp::make_request("r", "roots/list"));
  ASSERT_EQ(client.channel->sent.size(), 1u);
  const auto forwarded = client.channel->sent[0];
  EXPECT_EQ(forwarded.method, "roots/list");
  client.session->handle_response(
      mcp::make_error_response(*forwarded.id, mcp::error_code::method_not_found, "no roots"));
  ASSERT_EQ(newest(0).responses.size(), 1u);
  EXPECT_EQ(*newest(0).responses[0].id, mcp::RequestId("r"));
  EXPECT_EQ(newest(0).responses[0].error.message, "no roots");
}

TEST_F(MuxTraffic, ABackendCancellingItsRequestIsTranslated) {
  start_ready({{"alpha"}});
  auto client = open();
  client.request(1, "tools/call", json{{"name", "x"}});
  newest(0).answer(newest(0).only_call("tools/call"), {{"content", json::array()}});
  newest(0).request(mcp::make_request(77, "elicitation/create", json{{"message", "?"}}));
  const auto ours = *client.channel->sent.back().id;
  newest(0).notification(
      mcp::make_notification("notifications/cancelled", json{{"requestId", 77}}));
  ASSERT_EQ(client.channel->sent.size(), 2u);
  EXPECT_EQ((*client.channel->sent[1].params)["requestId"], ours.to_json());
  // A late answer has nowhere to go.
  client.session->handle_response(mcp::make_success_response(ours, json::object()));
  EXPECT_TRUE(newest(0).responses.empty());
}

TEST_F(MuxTraffic, CancellationReachesOnlyTheOwner) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto to_alpha = client.request(1, "tools/call", json{{"name", "alpha__slow"}});
  auto to_beta = client.request(2, "tools/call", json{{"name", "beta__slow"}});
  const auto alpha_call = newest(0).only_call("tools/call").id;
  client.notify("notifications/cancelled", json{{"requestId", 1}, {"reason", "user"}});
  EXPECT_EQ(newest(0).cancelled, std::vector<upstream::CallId>{alpha_call});
  EXPECT_EQ(newest(0).calls[0].cancel_reason, "user");
  EXPECT_TRUE(newest(1).cancelled.empty());
  EXPECT_TRUE(newest(1).notifications.empty());
  EXPECT_EQ(to_alpha->abandons, 1);
  EXPECT_FALSE(to_alpha->response);
  EXPECT_FALSE(to_beta->done());
  // Unknown or finished ids are ignored.
  client.notify("notifications/cancelled", json{{"requestId", 1}});
  client.notify("notifications/cancelled", json{{"requestId", "nope"}});
  EXPECT_EQ(newest(0).cancelled.size(), 1u);
  // The id is free again.
  client.request(1, "tools/call", json{{"name", "alpha__slow"}});
  EXPECT_EQ(newest(0).open_calls("tools/call").size(), 1u);
}

TEST_F(MuxTraffic, RootsListChangedGoesToEveryBackendSessionOfThatClient) {
  start_ready({{"alpha"}, {"beta"}, {"gamma", config::SessionMode::shared}});
  auto client = open();
  auto other = open();
  client.request(1, "tools/call", json{{"name", "alpha__x"}});
  client.request(2, "tools/call", json{{"name", "beta__x"}});
  other.request(1, "tools/call", json{{"name", "alpha__x"}});
  auto& other_alpha = newest(0);
  client.notify("notifications/roots/list_changed");
  EXPECT_EQ(registry.clients[0][1]->notifications.size(), 1u);
  EXPECT_EQ(registry.clients[1][1]->notifications.size(), 1u);
  EXPECT_EQ(discovery(2).notifications.size(), 1u);
  EXPECT_TRUE(other_alpha.notifications.empty());
  EXPECT_EQ(registry.clients[0][1]->notifications[0].method, "notifications/roots/list_changed");
}

TEST_F(MuxTraffic, SharedBackendRequestsNeedOneOwner) {
  start_ready({{"alpha", config::SessionMode::shared}});
  auto first = open();
  auto second = open();
  // Nobody has a call in flight: a ping is answered by the gateway, anything else refused.
  discovery(0).request(mcp::make_request(1, "ping"));
  ASSERT_EQ(discovery(0).responses.size(), 1u);
  EXPECT_EQ(discovery(0).responses[0].kind, mcp::MessageKind::success_response);
  discovery(0).request(mcp::make_request(2, "roots/list"));
  ASSERT_EQ(discovery(0).responses.size(), 2u);
  EXPECT_EQ(discovery(0).responses[1].kind, mcp::MessageKind::error_response);

  // The one call in flight owns it.
  auto first_call = first.request(10, "tools/call", json{{"name", "x"}});
  discovery(0).request(mcp::make_request(3, "roots/list"));
  ASSERT_EQ(first_call->sent.size(), 1u);
  EXPECT_EQ(first_call->sent[0].method, "roots/list");
  // Two calls of one session: that session, on its channel.
  first.request(12, "tools/call", json{{"name", "x"}});
  discovery(0).request(mcp::make_request(6, "roots/list"));
  ASSERT_EQ(first.channel->sent.size(), 1u);
  EXPECT_TRUE(second.channel->sent.empty());

  // Calls of two sessions: ambiguous, unless the request says which call it belongs to.
  auto second_call = second.request(11, "tools/call", json{{"name", "x"}});
  discovery(0).request(mcp::make_request(4, "roots/list"));
  ASSERT_EQ(discovery(0).responses.size(), 3u);
  EXPECT_NE(discovery(0).responses[2].error.message.find("no single client session"),
            std::string::npos);
  const auto second_id = discovery(0).open_calls("tools/call")[2]->id;
  discovery(0).request(mcp::make_request(5, "sampling/createMessage", json::object()), second_id);
  ASSERT_EQ(second_call->sent.size(), 1u);
  EXPECT_EQ(second_call->sent[0].method, "sampling/createMessage");
  EXPECT_EQ(first.channel->sent.size(), 1u);
  EXPECT_TRUE(second.channel->sent.empty());
}

TEST_F(MuxTraffic, SharedUnrelatedNotificationsReachSubscribersOrEveryone) {
  start_ready({{"alpha", config::SessionMode::shared}, {"beta"}});
  auto watcher = open();
  auto bystander = open();
  watcher.request(1, "resources/subscribe", json{{"uri", "alpha+test://w"}});
  discovery(0).answer(discovery(0).only_call("resources/subscribe"), json::object());
  discovery(0).notification(
      mcp::make_notification("notifications/resources/updated", json{{"uri", "test://w"}}));
  ASSERT_EQ(watcher.channel->sent.size(), 1u);
  EXPECT_EQ((*watcher.channel->sent[0].params)["uri"], "alpha+test://w");
  EXPECT_TRUE(bystander.channel->sent.empty());
  discovery(0).notification(mcp::make_notification("notifications/tools/list_changed"));
  EXPECT_EQ(watcher.channel->sent.size(), 2u);
  EXPECT_EQ(bystander.channel->sent.size(), 1u);
}

TEST_F(MuxTraffic, ClosingASessionCleansUpEverything) {
  start_ready({{"alpha"}, {"beta", config::SessionMode::shared}});
  auto client = open();
  auto pending = client.request(1, "tools/call", json{{"name", "alpha__slow"}});
  auto shared_call = client.request(2, "tools/call", json{{"name", "beta__slow"}});
  auto& own = newest(0);
  own.request(mcp::make_request(9, "elicitation/create", json{{"message", "?"}}));
  const auto shared_id = discovery(1).only_call("tools/call").id;
  client.session->close();
  client.session->close();  // idempotent
  EXPECT_EQ(pending->abandons, 1);
  EXPECT_EQ(shared_call->abandons, 1);
  EXPECT_EQ(discovery(1).cancelled, std::vector<upstream::CallId>{shared_id});
  EXPECT_EQ(discovery(1).closes, 0) << "a shared client outlives sessions";
  EXPECT_EQ(own.closes, 1);
  loop.run_ready();
  EXPECT_EQ(client_count(0), 1u) << "the session's own upstream client is released";
  // After close nothing more happens.
  auto late = client.request(3, "ping");
  EXPECT_EQ(late->abandons, 1);
}

TEST_F(MuxTraffic, PendingBackendRequestsGetAnErrorWhenTheClientLeaves) {
  registry.close_at_once = false;
  start_ready({{"alpha"}});
  auto client = open();
  client.request(1, "tools/call", json{{"name", "x"}});
  auto* own = &newest(0);
  own->request(mcp::make_request(9, "elicitation/create", json{{"message", "?"}}));
  client.session->close();
  ASSERT_EQ(own->responses.size(), 1u);
  EXPECT_EQ(*own->responses[0].id, mcp::RequestId(9));
  EXPECT_EQ(own->responses[0].kind, mcp::MessageKind::error_response);
  EXPECT_EQ(own->closes, 1);
  EXPECT_EQ(client_count(0), 2u) << "kept until its close completes";
  auto done = std::move(own->close_done);
  done();
  loop.run_ready();
  EXPECT_EQ(client_count(0), 1u);
}

TEST_F(MuxTraffic, ShutdownClosesSessionsAndBackendsThenReports) {
  registry.close_at_once = false;
  start_ready({{"alpha"}, {"beta", config::SessionMode::shared}});
  auto client = open();
  auto pending = client.request(1, "tools/call", json{{"name", "alpha__x"}});
  bool finished = false;
  gateway->shutdown([&] { finished = true; });
  loop.run_ready();
  EXPECT_EQ(pending->abandons, 1);
  EXPECT_FALSE(finished) << "clients are still closing";
  std::vector<FakeClient*> closing;
  for (auto& list : registry.clients) {
    for (auto* fake : list) {
      EXPECT_EQ(fake->closes, 1);
      closing.push_back(fake);
    }
  }
  EXPECT_EQ(closing.size(), 3u);
  for (auto* fake : closing) {
    auto done = std::move(fake->close_done);
    done();
  }
  EXPECT_TRUE(settle([&] { return finished; }));
  for (const auto& list : registry.clients) {
    EXPECT_TRUE(list.empty());
  }
  // New work after shutdown is refused cleanly.
  auto late = open();
  auto call = late.request(5, "tools/call", json{{"name", "alpha__x"}});
  EXPECT_EQ(call->error_code(), upstream::gateway_error::backend_unavailable);
}

}  // namespace
}  // namespace mcpgw::mux::testing

namespace mcpgw::mux::testing {
namespace {

TEST_F(MuxTraffic, BackendRequestsWaitingForTheClientAreBounded) {
  GatewayOptions options;
  options.max_server_requests_per_session = 2;
  build({{"alpha"}}, config::PrefixMode::automatic, options);
  gateway->start();
  discovery(0).ready(initialize_result_with(capabilities_all(), "a"));
  WarningCounter warnings;
  auto client = open();
  client.request(1, "tools/call", json{{"name", "x"}});
  for (int id = 1; id <= 3; ++id) {
    newest(0).request(mcp::make_request(id, "roots/list"));
  }
  ASSERT_EQ(newest(0).responses.size(), 1u);
  EXPECT_EQ(*newest(0).responses[0].id, mcp::RequestId(3));
  EXPECT_EQ(newest(0).responses[0].kind, mcp::MessageKind::error_response);
  EXPECT_EQ(warnings.count("too many backend requests"), 1u);
}

TEST_F(MuxTraffic, TheDiscoverySessionServesNoClient) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  discovery(0).request(mcp::make_request(1, "ping"));
  discovery(0).request(mcp::make_request(2, "sampling/createMessage", json::object()));
  ASSERT_EQ(discovery(0).responses.size(), 2u);
  EXPECT_EQ(discovery(0).responses[0].kind, mcp::MessageKind::success_response);
  EXPECT_EQ(discovery(0).responses[1].kind, mcp::MessageKind::error_response);
  discovery(0).notification(
      mcp::make_notification("notifications/message", json{{"level", "info"}, {"data", "x"}}));
  EXPECT_TRUE(client.channel->sent.empty());
}

}  // namespace
}  // namespace mcpgw::mux::testing

namespace mcpgw::mux::testing {
namespace {

TEST_F(MuxTraffic, NothingReachesAClientThatItsVersionLacks) {
  start_ready({{"alpha", config::SessionMode::shared}});
  auto old_client = open(client_initialize_params("2025-03-26"));
  auto stream = old_client.request(1, "tools/call", json{{"name", "x"}});
  const auto call = discovery(0).only_call("tools/call").id;
  discovery(0).request(mcp::make_request(1, "elicitation/create", json{{"message", "?"}}), call);
  ASSERT_EQ(discovery(0).responses.size(), 1u);
  EXPECT_EQ(discovery(0).responses[0].error.code, mcp::error_code::method_not_found);
  discovery(0).notification(
      mcp::make_notification("notifications/tasks/status", json{{"taskId", "t"}}), call);
  discovery(0).notification(
      mcp::make_notification("notifications/message", json{{"level", "info"}, {"data", 1}}), call);
  ASSERT_EQ(stream->sent.size(), 1u);
  EXPECT_EQ(stream->sent[0].method, "notifications/message");
  // Vendor methods are not the catalogue's to judge.
  discovery(0).request(mcp::make_request(2, "vendor/ask", json::object()), call);
  EXPECT_EQ(stream->sent.size(), 2u);
}

}  // namespace
}  // namespace mcpgw::mux::testing
