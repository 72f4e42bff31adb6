// Merged lists: parallel fan-out, configuration order, the composite cursor, partial lists.
#include <map>

#include "gateway/mux/cursor.hpp"
#include "gateway/mux/naming.hpp"
#include "mux_harness.hpp"

namespace mcpgw::mux::testing {
namespace {

using MuxLists = MuxTest;

json tool(const std::string& name) {
  return {{"name", name},
          {"description", "d-" + name},
          {"inputSchema",
           {{"$schema", "https://json-schema.org/draft/2020-12/schema"},
            {"type", "object"},
            {"$defs", {{"n", {{"type", "number"}}}}},
            {"properties", {{"x", {{"$ref", "#/$defs/n"}}}}},
            {"additionalProperties", false}}},
          {"annotations", {{"readOnlyHint", true}}},
          {"_meta", {{"example.com/k", name}}}};
}

std::vector<std::string> names_of(const json& tools) {
  std::vector<std::string> out;
  for (const auto& item : tools) {
    out.push_back(item["name"].get<std::string>());
  }
  return out;
}

TEST_F(MuxLists, FanOutIsParallelAndMergedInConfigOrder) {
  start_ready({{"alpha"}, {"beta"}, {"gamma"}});
  auto client = open();
  auto stream = client.request(7, "tools/list", json{{"_meta", {{"progressToken", "pt"}}}});
  // Every backend is asked before any has answered.
  for (std::size_t backend = 0; backend < 3; ++backend) {
    ASSERT_EQ(client_count(backend), 2u);
    auto& call = newest(backend).only_call("tools/list");
    EXPECT_FALSE(call.params().contains("cursor"));
    EXPECT_FALSE(call.params().contains("_meta")) << "one progress token cannot serve three";
  }
  // Answers in reverse order; the merge still follows the configuration.
  newest(2).answer(newest(2).only_call("tools/list"), {{"tools", {tool("t3")}}});
  newest(1).answer(newest(1).only_call("tools/list"), {{"tools", {tool("t2a"), tool("t2b")}}});
  EXPECT_FALSE(stream->done());
  newest(0).answer(newest(0).only_call("tools/list"), {{"tools", {tool("t1")}}});
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(*stream->response->id, mcp::RequestId(7));
  const auto& tools = stream->result()["tools"];
  EXPECT_EQ(names_of(tools),
            (std::vector<std::string>{"alpha__t1", "beta__t2a", "beta__t2b", "gamma__t3"}));
  // Every other member is untouched.
  auto expected = tool("t2a");
  expected["name"] = "beta__t2a";
  EXPECT_EQ(tools[1], expected);
  EXPECT_FALSE(stream->result().contains("nextCursor"));
}

// A backend serving fixed pages; its cursors are whatever the test chose.
struct Pager {
  std::vector<std::vector<std::string>> pages;
  std::vector<std::string> cursors;  // cursors[k]: the cursor that asks for page k + 1
  int asked = 0;

  void serve(FakeClient& client) {
    auto open = client.open_calls("tools/list");
    ASSERT_EQ(open.size(), 1u);
    auto& call = *open.front();
    std::size_t page = 0;
    if (call.params().contains("cursor")) {
      const auto cursor = call.params()["cursor"].get<std::string>();
      const auto found = std::find(cursors.begin(), cursors.end(), cursor);
      ASSERT_NE(found, cursors.end()) << "unknown cursor " << cursor;
      page = static_cast<std::size_t>(found - cursors.begin()) + 1;
    }
    ++asked;
    json result = {{"tools", json::array()}};
    for (const auto& name : pages[page]) {
      result["tools"].push_back(tool(name));
    }
    if (page + 1 < pages.size()) {
      result["nextCursor"] = cursors[page];
    }
    client.answer(call, result);
  }
};

TEST_F(MuxLists, CompositeCursorWalksEveryPageOfEveryBackend) {
  start_ready({{"alpha"}, {"beta"}, {"gamma"}});
  auto client = open();
  std::vector<Pager> pagers = {
      {{{"a1", "a2"}}, {}},
      {{{"b1"}, {"b2"}}, {"beta-page-2"}},
      {{{"c1"}, {"c2"}, {"c3", "c4"}}, {"", "gamma-3"}},  // "" is a valid cursor
  };
  std::vector<std::string> seen;
  std::optional<std::string> cursor;
  int pages = 0;
  for (; pages < 10; ++pages) {
    std::optional<json> params;
    if (cursor) {
      params = json{{"cursor", *cursor}};
    }
    auto stream = client.request(100 + pages, "tools/list", params);
    for (std::size_t backend = 0; backend < 3; ++backend) {
      if (!newest(backend).open_calls("tools/list").empty()) {
        pagers[backend].serve(newest(backend));
      }
    }
    ASSERT_TRUE(stream->ok()) << stream->error_message();
    for (const auto& name : names_of(stream->result()["tools"])) {
      seen.push_back(name);
    }
    if (!stream->result().contains("nextCursor")) {
      break;
    }
    cursor = stream->result()["nextCursor"].get<std::string>();
  }
  EXPECT_EQ(pages, 2) << "three pages: the longest backend has three";
  EXPECT_EQ(seen, (std::vector<std::string>{"alpha__a1", "alpha__a2", "beta__b1", "gamma__c1",
                                            "beta__b2", "gamma__c2", "gamma__c3", "gamma__c4"}));
  EXPECT_EQ(pagers[0].asked, 1) << "a finished backend is not asked again";
  EXPECT_EQ(pagers[1].asked, 2);
  EXPECT_EQ(pagers[2].asked, 3);
}

TEST_F(MuxLists, InvalidCursorsAreInvalidParams) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto first = client.request(1, "tools/list");
  newest(0).answer(newest(0).only_call("tools/list"),
                   {{"tools", {tool("a")}}, {"nextCursor", "next"}});
  newest(1).answer(newest(1).only_call("tools/list"), {{"tools", json::array()}});
  ASSERT_TRUE(first->ok());
  auto token = first->result()["nextCursor"].get<std::string>();

  auto tampered = token;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'x' ? 'y' : 'x';
  auto bad = client.request(2, "tools/list", json{{"cursor", tampered}});
  EXPECT_EQ(bad->error_code(), mcp::error_code::invalid_params);
  EXPECT_NE(bad->error_message().find("cursor"), std::string::npos);

  auto wrong_list = client.request(3, "prompts/list", json{{"cursor", token}});
  EXPECT_EQ(wrong_list->error_code(), mcp::error_code::invalid_params);
  auto not_string = client.request(4, "tools/list", json{{"cursor", 5}});
  EXPECT_EQ(not_string->error_code(), mcp::error_code::invalid_params);
  auto garbage = client.request(5, "tools/list", json{{"cursor", "abc"}});
  EXPECT_EQ(garbage->error_code(), mcp::error_code::invalid_params);
  EXPECT_TRUE(newest(0).open_calls().empty()) << "no backend saw a bad cursor";
  // The genuine one still works and asks only the backend with pages left.
  auto good = client.request(6, "tools/list", json{{"cursor", token}});
  EXPECT_EQ(newest(0).only_call("tools/list").params()["cursor"], "next");
  EXPECT_TRUE(newest(1).open_calls().empty());
}

TEST_F(MuxLists, AFailingBackendGivesAPartialListAndAWarning) {
  WarningCounter warnings;
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request(1, "tools/list");
  newest(0).fail(newest(0).only_call("tools/list"), upstream::gateway_error::backend_timeout,
                 "backend 'alpha' did not answer in time");
  newest(1).answer(newest(1).only_call("tools/list"), {{"tools", {tool("b")}}});
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(names_of(stream->result()["tools"]), std::vector<std::string>{"beta__b"});
  EXPECT_EQ(warnings.count("partial"), 1u);
}

TEST_F(MuxLists, AFailClosedBackendFailsTheWholeList) {
  start_ready({{"alpha", config::SessionMode::per_session, true}, {"beta"}});
  auto client = open();
  auto stream = client.request(1, "tools/list");
  newest(1).answer(newest(1).only_call("tools/list"), {{"tools", {tool("b")}}});
  newest(0).fail(newest(0).only_call("tools/list"), upstream::gateway_error::backend_unavailable,
                 "backend 'alpha' is down");
  ASSERT_TRUE(stream->done());
  EXPECT_EQ(stream->error_code(), upstream::gateway_error::backend_unavailable);
  EXPECT_NE(stream->error_message().find("alpha"), std::string::npos);
  EXPECT_NE(stream->error_message().find("fail_closed"), std::string::npos);
}

TEST_F(MuxLists, ABackendThatIsDownIsLeftOutOrFailsClosed) {
  WarningCounter warnings;
  start_ready({{"alpha"}, {"beta"}, {"gamma", config::SessionMode::per_session, true}});
  discovery(1).down("exited");
  auto client = open();
  auto stream = client.request(1, "tools/list");
  EXPECT_EQ(client_count(1), 1u) << "no upstream session is started for a backend that is down";
  newest(0).answer(newest(0).only_call("tools/list"), {{"tools", {tool("a")}}});
  newest(2).answer(newest(2).only_call("tools/list"), {{"tools", {tool("c")}}});
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(names_of(stream->result()["tools"]),
            (std::vector<std::string>{"alpha__a", "gamma__c"}));
  EXPECT_GE(warnings.count("beta"), 1u);

  discovery(2).down("exited");
  auto closed = client.request(2, "tools/list");
  ASSERT_TRUE(closed->done());
  EXPECT_EQ(closed->error_code(), upstream::gateway_error::backend_unavailable);
  EXPECT_NE(closed->error_message().find("gamma"), std::string::npos);
}

TEST_F(MuxLists, ABackendWithoutTheMethodIsAnEmptyPart) {
  WarningCounter warnings;
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request(1, "prompts/list");
  newest(0).fail(newest(0).only_call("prompts/list"), mcp::error_code::method_not_found,
                 "Method not found");
  newest(1).answer(newest(1).only_call("prompts/list"), {{"prompts", {{{"name", "p"}}}}});
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(stream->result()["prompts"], json::array({{{"name", "beta__p"}}}));
  EXPECT_EQ(warnings.count("partial"), 0u);
}

TEST_F(MuxLists, BackendsWithoutTheCapabilityAreNotAsked) {
  build({{"alpha"}, {"beta"}});
  gateway->start();
  discovery(0).ready(initialize_result_with({{"tools", json::object()}}, "a"));
  discovery(1).ready(initialize_result_with({{"prompts", json::object()}}, "b"));
  auto client = open();
  auto stream = client.request(1, "tools/list");
  EXPECT_EQ(client_count(1), 1u);
  newest(0).answer(newest(0).only_call("tools/list"), {{"tools", {tool("a")}}});
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(names_of(stream->result()["tools"]), std::vector<std::string>{"alpha__a"});
}

TEST_F(MuxLists, ResourcesAndTemplatesGetRoutableUris) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto resources = client.request(1, "resources/list");
  newest(0).answer(newest(0).only_call("resources/list"),
                   {{"resources",
                     {{{"uri", "file:///a.txt"}, {"name", "a"}, {"mimeType", "text/plain"}},
                      {{"name", "no uri: dropped"}}}}});
  newest(1).answer(newest(1).only_call("resources/list"),
                   {{"resources", {{{"uri", "test://static-text"}, {"name", "s"}}}}});
  ASSERT_TRUE(resources->ok());
  EXPECT_EQ(
      resources->result()["resources"],
      json::array({{{"uri", "alpha+file:///a.txt"}, {"name", "a"}, {"mimeType", "text/plain"}},
                   {{"uri", "beta+test://static-text"}, {"name", "s"}}}));
  auto templates = client.request(2, "resources/templates/list");
  newest(0).answer(newest(0).only_call("resources/templates/list"),
                   {{"resourceTemplates", json::array()}});
  newest(1).answer(
      newest(1).only_call("resources/templates/list"),
      {{"resourceTemplates", {{{"uriTemplate", "test://template/{id}/data"}, {"name", "t"}}}}});
  ASSERT_TRUE(templates->ok());
  EXPECT_EQ(templates->result()["resourceTemplates"][0]["uriTemplate"],
            "beta+test://template/{id}/data");
}

TEST_F(MuxLists, SanitisedTruncatedAndCollidingNamesAreRoutable) {
  WarningCounter warnings;
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  const std::string long_name(80, 'L');
  auto stream = client.request(1, "tools/list");
  newest(0).answer(newest(0).only_call("tools/list"),
                   {{"tools", {tool("read.file"), tool("read_file"), tool(long_name)}}});
  newest(1).answer(newest(1).only_call("tools/list"), {{"tools", {tool("x")}}});
  ASSERT_TRUE(stream->ok());
  const auto names = names_of(stream->result()["tools"]);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0], "alpha__read_file_" + name_hash("alpha", "read.file"));
  EXPECT_EQ(names[1], "alpha__read_file");
  EXPECT_EQ(names[2].size(), 64u);
  EXPECT_EQ(warnings.count("alpha__read_file"), 1u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {names[0], "read.file"}, {names[1], "read_file"}, {names[2], long_name}};
  int id = 10;
  for (const auto& [exposed, original] : expected) {
    client.request(id++, "tools/call", json{{"name", exposed}});
    auto& call = newest(0).only_call("tools/call");
    EXPECT_EQ(call.params()["name"], original);
    newest(0).answer(call, {{"content", json::array()}});
  }
}

TEST_F(MuxLists, OverlongBackendCursorEndsThatBackendsPart) {
  WarningCounter warnings;
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request(1, "tools/list");
  newest(0).answer(
      newest(0).only_call("tools/list"),
      {{"tools", {tool("a")}}, {"nextCursor", std::string(kMaxBackendCursorBytes + 1, 'c')}});
  newest(1).answer(newest(1).only_call("tools/list"),
                   {{"tools", {tool("b")}}, {"nextCursor", "b2"}});
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(names_of(stream->result()["tools"]), (std::vector<std::string>{"alpha__a", "beta__b"}));
  ASSERT_TRUE(stream->result().contains("nextCursor"));
  EXPECT_EQ(warnings.count("nextCursor"), 1u);
  client.request(2, "tools/list", json{{"cursor", stream->result()["nextCursor"]}});
  EXPECT_TRUE(newest(0).open_calls().empty());
  EXPECT_EQ(newest(1).only_call("tools/list").params()["cursor"], "b2");
}

TEST_F(MuxLists, CancellingAListCancelsEveryBackendCall) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request(9, "tools/list");
  const auto alpha_call = newest(0).only_call("tools/list").id;
  const auto beta_call = newest(1).only_call("tools/list").id;
  client.notify("notifications/cancelled", json{{"requestId", 9}, {"reason", "enough"}});
  EXPECT_EQ(newest(0).cancelled, std::vector<upstream::CallId>{alpha_call});
  EXPECT_EQ(newest(1).cancelled, std::vector<upstream::CallId>{beta_call});
  EXPECT_EQ(stream->abandons, 1);
  EXPECT_EQ(stream->finishes, 0);
}

}  // namespace
}  // namespace mcpgw::mux::testing
