// Client requests routed to the owning backend, and what comes back rewritten.
#include "mux_harness.hpp"

namespace mcpgw::mux::testing {
namespace {

using MuxRouting = MuxTest;

TEST_F(MuxRouting, ToolsCallGoesToTheOwnerWithItsOwnName) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request("c1", "tools/call",
                               json{{"name", "beta__echo"}, {"arguments", {{"text", "hi"}}}});
  EXPECT_EQ(client_count(0), 1u) << "alpha is not involved";
  auto& call = newest(1).only_call("tools/call");
  EXPECT_EQ(call.params(), json({{"name", "echo"}, {"arguments", {{"text", "hi"}}}}));
  EXPECT_EQ(*call.request.id, mcp::RequestId("c1"));
  newest(1).answer(
      call, {{"content",
              {{{"type", "text"}, {"text", "hi"}},
               {{"type", "resource_link"}, {"uri", "file:///out.txt"}, {"name", "o"}},
               {{"type", "resource"}, {"resource", {{"uri", "test://embedded"}, {"text", "x"}}}}}},
             {"structuredContent", {{"uri", "file:///untouched"}}}});
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(*stream->response->id, mcp::RequestId("c1"));
  const auto& content = stream->result()["content"];
  EXPECT_EQ(content[0], json({{"type", "text"}, {"text", "hi"}}));
  EXPECT_EQ(content[1]["uri"], "beta+file:///out.txt");
  EXPECT_EQ(content[2]["resource"]["uri"], "beta+test://embedded");
  EXPECT_EQ(stream->result()["structuredContent"]["uri"], "file:///untouched");
}

TEST_F(MuxRouting, UnknownToolsGetAnErrorThatRevealsNothing) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  for (const std::string name : {"gamma__echo", "echo", "alpha__", "__x", "a.b"}) {
    auto stream = client.request(name, "tools/call", json{{"name", name}});
    ASSERT_TRUE(stream->done());
    EXPECT_EQ(stream->error_code(), mcp::error_code::invalid_params);
    EXPECT_EQ(stream->error_message(), "Unknown tool: " + name);
  }
  auto missing = client.request(1, "tools/call", json{{"arguments", json::object()}});
  EXPECT_EQ(missing->error_code(), mcp::error_code::invalid_params);
  auto prompt = client.request(2, "prompts/get", json{{"name", "nope"}});
  EXPECT_EQ(prompt->error_message(), "Unknown prompt: nope");
  EXPECT_EQ(client_count(0), 1u);
  EXPECT_EQ(client_count(1), 1u);
}

TEST_F(MuxRouting, BackendErrorsComeBackAsTheyAre) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request(3, "tools/call", json{{"name", "alpha__slow"}});
  newest(0).fail(newest(0).only_call("tools/call"), upstream::gateway_error::backend_timeout,
                 "backend 'alpha' did not answer within 60000 ms");
  EXPECT_EQ(stream->error_code(), upstream::gateway_error::backend_timeout);
  EXPECT_EQ(stream->error_message(), "backend 'alpha' did not answer within 60000 ms");
  EXPECT_EQ(*stream->response->id, mcp::RequestId(3));
}

TEST_F(MuxRouting, ABackendThatIsDownGetsCallsRefusedAtOnce) {
  start_ready({{"alpha"}, {"beta"}});
  discovery(0).down("could not spawn");
  auto client = open();
  auto stream = client.request(1, "tools/call", json{{"name", "alpha__x"}});
  ASSERT_TRUE(stream->done());
  EXPECT_EQ(stream->error_code(), upstream::gateway_error::backend_unavailable);
  EXPECT_EQ(stream->error_message(), "Backend 'alpha' is unavailable");
  // The other backend is unaffected.
  client.request(2, "tools/call", json{{"name", "beta__x"}});
  EXPECT_EQ(newest(1).open_calls("tools/call").size(), 1u);
}

TEST_F(MuxRouting, AClientThatFailsInsideCallAnswersOnce) {
  start_ready({{"alpha"}});
  auto client = open();
  client.request(1, "tools/call", json{{"name", "x"}});
  newest(0).answer(newest(0).only_call("tools/call"), {{"content", json::array()}});
  newest(0).refuse_calls = true;
  auto stream = client.request(2, "tools/call", json{{"name", "x"}});
  ASSERT_TRUE(stream->done());
  EXPECT_EQ(stream->finishes, 1);
  EXPECT_EQ(stream->error_code(), upstream::gateway_error::backend_unavailable);
}

TEST_F(MuxRouting, PromptsGetAndCompletionsFollowTheirReference) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto prompt = client.request(1, "prompts/get", json{{"name", "alpha__greet"}});
  auto& get = newest(0).only_call("prompts/get");
  EXPECT_EQ(get.params()["name"], "greet");
  newest(0).answer(
      get, {{"messages",
             {{{"role", "user"},
               {"content",
                {{"type", "resource"}, {"resource", {{"uri", "test://r"}, {"text", "t"}}}}}}}}});
  ASSERT_TRUE(prompt->ok());
  EXPECT_EQ(prompt->result()["messages"][0]["content"]["resource"]["uri"], "alpha+test://r");

  auto by_prompt = client.request(2, "completion/complete",
                                  json{{"ref", {{"type", "ref/prompt"}, {"name", "beta__greet"}}},
                                       {"argument", {{"name", "who"}, {"value", "a"}}}});
  auto& complete = newest(1).only_call("completion/complete");
  EXPECT_EQ(complete.params()["ref"], json({{"type", "ref/prompt"}, {"name", "greet"}}));
  EXPECT_EQ(complete.params()["argument"]["value"], "a");
  newest(1).answer(complete, {{"completion", {{"values", {"alice"}}}}});
  EXPECT_TRUE(by_prompt->ok());

  auto by_resource = client.request(
      3, "completion/complete",
      json{{"ref", {{"type", "ref/resource"}, {"uri", "alpha+test://template/{id}/data"}}},
           {"argument", {{"name", "id"}, {"value", "1"}}}});
  EXPECT_EQ(newest(0).only_call("completion/complete").params()["ref"]["uri"],
            "test://template/{id}/data");
  auto unknown = client.request(4, "completion/complete",
                                json{{"ref", {{"type", "ref/resource"}, {"uri", "nowhere://x"}}},
                                     {"argument", {{"name", "id"}, {"value", "1"}}}});
  EXPECT_EQ(unknown->error_code(), mcp::error_code::invalid_params);
}

TEST_F(MuxRouting, ResourcesAreReadSubscribedAndUpdatedByUri) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto read = client.request(1, "resources/read", json{{"uri", "beta+test://template/42/data"}});
  auto& call = newest(1).only_call("resources/read");
  EXPECT_EQ(call.params()["uri"], "test://template/42/data");
  newest(1).answer(call, {{"contents",
                           {{{"uri", "test://template/42/data"}, {"text", "42"}},
                            {{"uri", "test://template/42/extra"}, {"blob", "AA=="}}}}});
  ASSERT_TRUE(read->ok());
  EXPECT_EQ(read->result()["contents"][0]["uri"], "beta+test://template/42/data");
  EXPECT_EQ(read->result()["contents"][1]["uri"], "beta+test://template/42/extra");

  client.request(2, "resources/subscribe", json{{"uri", "alpha+test://watched"}});
  auto& subscribe = newest(0).only_call("resources/subscribe");
  EXPECT_EQ(subscribe.params()["uri"], "test://watched");
  newest(0).answer(subscribe, json::object());
  newest(0).notification(
      mcp::make_notification("notifications/resources/updated", json{{"uri", "test://watched"}}));
  ASSERT_FALSE(client.channel->sent.empty());
  EXPECT_EQ(client.channel->sent.back().method, "notifications/resources/updated");
  EXPECT_EQ((*client.channel->sent.back().params)["uri"], "alpha+test://watched");

  client.request(3, "resources/unsubscribe", json{{"uri", "alpha+test://watched"}});
  EXPECT_EQ(newest(0).only_call("resources/unsubscribe").params()["uri"], "test://watched");

  auto unknown = client.request(4, "resources/read", json{{"uri", "test://no-prefix"}});
  EXPECT_EQ(unknown->error_code(), mcp::error_code::resource_not_found);
  EXPECT_EQ(unknown->error_message(), "Resource not found: test://no-prefix");
}

TEST_F(MuxRouting, WithoutPrefixesResourcesRouteByWhatWasListed) {
  start_ready({{"alpha"}, {"beta"}}, config::PrefixMode::never);
  auto client = open();
  auto list = client.request(1, "resources/list");
  newest(0).answer(newest(0).only_call("resources/list"),
                   {{"resources", {{{"uri", "file:///a"}, {"name", "a"}}}}});
  newest(1).answer(newest(1).only_call("resources/list"),
                   {{"resources", {{{"uri", "test://b"}, {"name", "b"}}}}});
  ASSERT_TRUE(list->ok());
  EXPECT_EQ(list->result()["resources"][1]["uri"], "test://b");
  auto templates = client.request(2, "resources/templates/list");
  newest(0).answer(newest(0).only_call("resources/templates/list"),
                   {{"resourceTemplates", json::array()}});
  newest(1).answer(newest(1).only_call("resources/templates/list"),
                   {{"resourceTemplates", {{{"uriTemplate", "test://t/{id}"}, {"name", "t"}}}}});
  client.request(3, "resources/read", json{{"uri", "test://b"}});
  EXPECT_EQ(newest(1).only_call("resources/read").params()["uri"], "test://b");
  client.request(4, "resources/read", json{{"uri", "file:///a"}});
  EXPECT_EQ(newest(0).only_call("resources/read").params()["uri"], "file:///a");
  client.request(5, "resources/read", json{{"uri", "test://t/9"}});
  EXPECT_EQ(newest(1).open_calls("resources/read").size(), 2u);
  auto unknown = client.request(6, "resources/read", json{{"uri", "x://y"}});
  EXPECT_EQ(unknown->error_code(), mcp::error_code::resource_not_found);
}

TEST_F(MuxRouting, OneBackendWithoutPrefixIsTransparent) {
  start_ready({{"solo"}});
  auto client = open();
  auto list = client.request(1, "tools/list");
  newest(0).answer(newest(0).only_call("tools/list"), {{"tools", {{{"name", "echo"}}}}});
  EXPECT_EQ(list->result()["tools"][0]["name"], "echo");
  client.request(2, "tools/call", json{{"name", "never_listed"}});
  EXPECT_EQ(newest(0).only_call("tools/call").params()["name"], "never_listed");
  client.request(3, "resources/read", json{{"uri", "test://static-text"}});
  EXPECT_EQ(newest(0).only_call("resources/read").params()["uri"], "test://static-text");
  // Methods the gateway does not know go to the one backend.
  client.request(4, "vendor/custom", json{{"a", 1}});
  EXPECT_EQ(newest(0).only_call("vendor/custom").params(), json({{"a", 1}}));
}

TEST_F(MuxRouting, AlwaysPrefixesEvenOneBackend) {
  start_ready({{"solo"}}, config::PrefixMode::always);
  auto client = open();
  auto list = client.request(1, "tools/list");
  newest(0).answer(newest(0).only_call("tools/list"), {{"tools", {{{"name", "echo"}}}}});
  EXPECT_EQ(list->result()["tools"][0]["name"], "solo__echo");
  auto resources = client.request(2, "resources/list");
  newest(0).answer(newest(0).only_call("resources/list"),
                   {{"resources", {{{"uri", "u://1"}, {"name", "n"}}}}});
  EXPECT_EQ(resources->result()["resources"][0]["uri"], "solo+u://1");
}

TEST_F(MuxRouting, UnknownMethodsWithSeveralBackendsAreNotFound) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request(1, "vendor/custom");
  EXPECT_EQ(stream->error_code(), mcp::error_code::method_not_found);
  EXPECT_EQ(stream->error_message(), "Method not found: vendor/custom");
}

TEST_F(MuxRouting, TaskIdsRoundTripToTheOwner) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto created =
      client.request(1, "tools/call", json{{"name", "beta__long"}, {"task", {{"ttl", 60000}}}});
  auto& call = newest(1).only_call("tools/call");
  EXPECT_EQ(call.params()["task"], json({{"ttl", 60000}}));
  newest(1).answer(call, {{"task",
                           {{"taskId", "t-1"},
                            {"status", "working"},
                            {"createdAt", "2025-01-01T00:00:00Z"},
                            {"lastUpdatedAt", "2025-01-01T00:00:00Z"},
                            {"ttl", 60000}}}});
  ASSERT_TRUE(created->ok());
  EXPECT_EQ(created->result()["task"]["taskId"], "beta__t-1");
  EXPECT_EQ(created->result()["task"]["status"], "working");

  auto get = client.request(2, "tasks/get", json{{"taskId", "beta__t-1"}});
  auto& get_call = newest(1).only_call("tasks/get");
  EXPECT_EQ(get_call.params()["taskId"], "t-1");
  newest(1).answer(get_call, {{"taskId", "t-1"}, {"status", "completed"}});
  EXPECT_EQ(get->result()["taskId"], "beta__t-1");

  auto result = client.request(3, "tasks/result", json{{"taskId", "beta__t-1"}});
  auto& result_call = newest(1).only_call("tasks/result");
  EXPECT_EQ(result_call.params()["taskId"], "t-1");
  newest(1).answer(result_call,
                   {{"content", {{{"type", "resource_link"}, {"uri", "file:///r"}, {"name", "r"}}}},
                    {"_meta", {{"io.modelcontextprotocol/related-task", {{"taskId", "t-1"}}}}}});
  EXPECT_EQ(result->result()["content"][0]["uri"], "beta+file:///r");
  EXPECT_EQ(result->result()["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
            "beta__t-1");

  client.request(4, "tasks/cancel", json{{"taskId", "beta__t-1"}});
  EXPECT_EQ(newest(1).only_call("tasks/cancel").params()["taskId"], "t-1");

  newest(1).notification(mcp::make_notification("notifications/tasks/status",
                                                json{{"taskId", "t-1"}, {"status", "completed"}}));
  EXPECT_EQ((*client.channel->sent.back().params)["taskId"], "beta__t-1");

  auto unknown = client.request(5, "tasks/get", json{{"taskId", "t-1"}});
  EXPECT_EQ(unknown->error_code(), mcp::error_code::invalid_params);
  EXPECT_EQ(unknown->error_message(), "Unknown task: t-1");

  auto list = client.request(6, "tasks/list");
  newest(0).answer(newest(0).only_call("tasks/list"),
                   {{"tasks", {{{"taskId", "a-9"}, {"status", "working"}}}}});
  newest(1).answer(newest(1).only_call("tasks/list"),
                   {{"tasks", {{{"taskId", "t-1"}, {"status", "completed"}}}}});
  ASSERT_TRUE(list->ok());
  EXPECT_EQ(list->result()["tasks"][0]["taskId"], "alpha__a-9");
  EXPECT_EQ(list->result()["tasks"][1]["taskId"], "beta__t-1");
}

TEST_F(MuxRouting, SetLevelGoesToEveryBackend) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request(1, "logging/setLevel", json{{"level", "debug"}});
  auto& a = newest(0).only_call("logging/setLevel");
  auto& b = newest(1).only_call("logging/setLevel");
  EXPECT_EQ(a.params()["level"], "debug");
  EXPECT_EQ(b.params()["level"], "debug");
  newest(0).fail(a, mcp::error_code::internal_error, "no");
  EXPECT_FALSE(stream->done());
  newest(1).answer(b, json::object());
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(stream->result(), json::object());

  auto failing = client.request(2, "logging/setLevel", json{{"level", "info"}});
  newest(0).fail(newest(0).only_call("logging/setLevel"), -32000, "first");
  newest(1).fail(newest(1).only_call("logging/setLevel"), -32001, "second");
  EXPECT_EQ(failing->error_code(), -32000);
  EXPECT_EQ(*failing->response->id, mcp::RequestId(2));
}

TEST_F(MuxRouting, SetLevelWithoutLoggingAnywhereIsNotFound) {
  start_ready({{"alpha"}, {"beta"}}, config::PrefixMode::automatic,
              json{{"tools", json::object()}});
  auto client = open();
  auto stream = client.request(1, "logging/setLevel", json{{"level", "debug"}});
  EXPECT_EQ(stream->error_code(), mcp::error_code::method_not_found);
}

TEST_F(MuxRouting, DuplicateIdsAndTooManyRequestsAreRefused) {
  start_ready({{"alpha"}});
  auto client = open();
  client.request(1, "tools/call", json{{"name", "x"}});
  auto duplicate = client.request(1, "tools/call", json{{"name", "x"}});
  EXPECT_EQ(duplicate->error_code(), mcp::error_code::invalid_request);
  // The same number as a string is another id.
  client.request("1", "tools/call", json{{"name", "x"}});
  EXPECT_EQ(newest(0).open_calls("tools/call").size(), 2u);
  const auto limit = config_->server.max_requests_per_session;
  for (std::uint32_t index = 2; index < limit; ++index) {
    client.request(static_cast<std::int64_t>(index) + 100, "tools/call", json{{"name", "x"}});
  }
  auto over = client.request(99999, "tools/call", json{{"name", "x"}});
  EXPECT_EQ(over->error_code(), upstream::gateway_error::backend_overloaded);
  EXPECT_EQ(newest(0).open_calls("tools/call").size(), limit);
}

TEST_F(MuxRouting, SharedBackendsServeEverySessionThroughOneClient) {
  start_ready({{"alpha", config::SessionMode::shared}, {"beta"}});
  EXPECT_EQ(discovery(0).options.initialize_params["capabilities"].contains("sampling"), true);
  auto first = open();
  auto second = open();
  auto one = first.request(1, "tools/call", json{{"name", "alpha__x"}});
  auto two = second.request(1, "tools/call", json{{"name", "alpha__x"}});
  EXPECT_EQ(client_count(0), 1u) << "no per-session client for a shared backend";
  auto open_calls = discovery(0).open_calls("tools/call");
  ASSERT_EQ(open_calls.size(), 2u);
  discovery(0).answer(*open_calls[1], {{"content", {{{"type", "text"}, {"text", "two"}}}}});
  discovery(0).answer(*open_calls[0], {{"content", {{{"type", "text"}, {"text", "one"}}}}});
  EXPECT_EQ(one->result()["content"][0]["text"], "one");
  EXPECT_EQ(two->result()["content"][0]["text"], "two");
}

}  // namespace
}  // namespace mcpgw::mux::testing
