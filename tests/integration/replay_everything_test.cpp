// `mcpgw replay` across two published releases of the MCP reference server
// @modelcontextprotocol/server-everything, both npm test peers (tests/peers, scripts/peers.sh):
// 2025.12.18, the last release of its 1.0.0 line (installed as the alias
// server-everything-previous), and 2026.8.31 (2.0.0, the current peer).
//
// A real session is recorded by `mcpgw serve --capture` in front of the old release over stdio:
// initialize, every page of tools/list, prompts/list, resources/list (ten pages of ten) and
// resources/templates/list, then tools/call of echo and add. Its backend leg (what the old
// server itself answered) is replayed by the real `mcpgw replay` binary:
// - against the same release (a backend of a gateway config, --config/--backend): no difference
//   at all, exit 0, with and without the default ignore list;
// - against the current release (--target-command): exactly the tool-list differences
//   established by listing both releases independently (kToolListChanges), exactly the other
//   lists' and initialize's changes, echo still identical, add now failing, and exit 1 since
//   tools were removed.
// Every child (gateway, servers, replay) is stopped by PID; everything stays on loopback.
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.hpp"

namespace mcpgw::integration {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kProtocolVersion = "2025-06-18";
constexpr const char* kPreviousRelease = "2025.12.18";
constexpr const char* kCurrentRelease = "2026.8.31";

fs::path previous_package() {
  return peers_dir() / "node_modules" / "server-everything-previous";
}
fs::path current_package() {
  return peers_dir() / "node_modules" / "@modelcontextprotocol" / "server-everything";
}

// The version in an installed package.json, or "" when there is none.
std::string installed_version(const fs::path& package) {
  const auto manifest = json::parse(read_file(package / "package.json"), nullptr, false);
  if (!manifest.is_object() || !manifest.contains("version") || !manifest["version"].is_string())
    return "";
  return manifest["version"].get<std::string>();
}

// "\"a\", \"b\"": a JSON string is a valid TOML basic string.
std::string toml_array_items(const std::vector<std::string>& words) {
  std::string items;
  for (const auto& word : words)
    items += (items.empty() ? "" : ", ") + json(word).dump();
  return items;
}

// The stdio command of a release; quoted for --target-command (split like a shell, no expansion).
std::vector<std::string> server_command(const fs::path& package) {
  return {node_binary().string(), (package / "dist" / "index.js").string(), "stdio"};
}
std::string command_line(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& word : words)
    line += (line.empty() ? "'" : " '") + word + "'";
  return line;
}

// "kind item breaking|compatible path" for every difference of `method` in a JSON report.
std::multiset<std::string> differences_of(const json& report, const std::string& method) {
  std::multiset<std::string> found;
  for (const auto& difference : report["differences"]) {
    if (difference["method"] == method)
      found.insert(difference["kind"].get<std::string>() + " " +
                   difference["item"].get<std::string>() + " " +
                   (difference["breaking"].get<bool>() ? "breaking" : "compatible") + " " +
                   difference["path"].get<std::string>());
  }
  return found;
}

// The tools/list of server-everything 2025.12.18 against 2026.8.31, established by listing both
// releases over stdio with a plain JSON-RPC client that, like the recorded one, initializes with
// no capabilities (2.0.0 lists more tools to clients with roots, sampling or elicitation):
// - ten tools of the 1.0.0 line are gone and twelve of 2.0.0 are new. None is a rename by input
//   schema, since 2.0.0 (zod 4) no longer closes schemas with "additionalProperties": false and
//   so no new schema equals an old one (add and get-sum differ only in that);
// - echo, the one tool in both, has a new description ("Echoes back the input" -> "Echoes back
//   the input string"), a title ("Echo Tool"), the four behaviour hints (readOnlyHint true,
//   destructiveHint false, idempotentHint true, openWorldHint false), "execution":
//   {"taskSupport": "forbidden"}, and an input schema without "additionalProperties": false
//   (opened: compatible). Its "$schema" member moved first, which is no change in JSON.
const std::multiset<std::string> kToolListChanges = {
    "tool_removed add breaking /result/tools/[name=add]",
    "tool_removed longRunningOperation breaking /result/tools/[name=longRunningOperation]",
    "tool_removed printEnv breaking /result/tools/[name=printEnv]",
    "tool_removed sampleLLM breaking /result/tools/[name=sampleLLM]",
    "tool_removed getTinyImage breaking /result/tools/[name=getTinyImage]",
    "tool_removed annotatedMessage breaking /result/tools/[name=annotatedMessage]",
    "tool_removed getResourceReference breaking /result/tools/[name=getResourceReference]",
    "tool_removed getResourceLinks breaking /result/tools/[name=getResourceLinks]",
    "tool_removed structuredContent breaking /result/tools/[name=structuredContent]",
    "tool_removed zip breaking /result/tools/[name=zip]",
    "tool_added get-annotated-message compatible /result/tools/[name=get-annotated-message]",
    "tool_added get-env compatible /result/tools/[name=get-env]",
    "tool_added get-resource-links compatible /result/tools/[name=get-resource-links]",
    "tool_added get-resource-reference compatible /result/tools/[name=get-resource-reference]",
    "tool_added get-structured-content compatible /result/tools/[name=get-structured-content]",
    "tool_added get-sum compatible /result/tools/[name=get-sum]",
    "tool_added get-tiny-image compatible /result/tools/[name=get-tiny-image]",
    "tool_added gzip-file-as-resource compatible /result/tools/[name=gzip-file-as-resource]",
    "tool_added toggle-simulated-logging compatible /result/tools/[name=toggle-simulated-logging]",
    "tool_added toggle-subscriber-updates compatible "
    "/result/tools/[name=toggle-subscriber-updates]",
    "tool_added trigger-long-running-operation compatible "
    "/result/tools/[name=trigger-long-running-operation]",
    "tool_added simulate-research-query compatible /result/tools/[name=simulate-research-query]",
    "description_changed echo compatible /result/tools/[name=echo]/description",
    "annotation_changed echo compatible /result/tools/[name=echo]/title",
    "annotation_changed echo compatible /result/tools/[name=echo]/annotations/readOnlyHint",
    "annotation_changed echo compatible /result/tools/[name=echo]/annotations/destructiveHint",
    "annotation_changed echo compatible /result/tools/[name=echo]/annotations/idempotentHint",
    "annotation_changed echo compatible /result/tools/[name=echo]/annotations/openWorldHint",
    "result_changed echo compatible /result/tools/[name=echo]/execution",
    "schema_changed echo compatible /result/tools/[name=echo]/inputSchema/additionalProperties",
};

// prompts/list, established the same way: simple_prompt became simple-prompt (no arguments on
// either side: a rename by arguments) with a new description ("A prompt without arguments" ->
// "A prompt with no arguments") and a title ("Simple Prompt"); complex_prompt (temperature,
// style) and resource_prompt (resourceId) are gone; args-prompt, completable-prompt and
// resource-prompt (resourceType, resourceId: not the same arguments) are new.
const std::multiset<std::string> kPromptListChanges = {
    "prompt_renamed simple_prompt breaking /result/prompts/[name=simple_prompt]/name",
    "description_changed simple_prompt compatible /result/prompts/[name=simple_prompt]/description",
    "annotation_changed simple_prompt compatible /result/prompts/[name=simple_prompt]/title",
    "prompt_removed complex_prompt breaking /result/prompts/[name=complex_prompt]",
    "prompt_removed resource_prompt breaking /result/prompts/[name=resource_prompt]",
    "prompt_added args-prompt compatible /result/prompts/[name=args-prompt]",
    "prompt_added completable-prompt compatible /result/prompts/[name=completable-prompt]",
    "prompt_added resource-prompt compatible /result/prompts/[name=resource-prompt]",
};

// resources/templates/list: the one template of 1.0.0 is gone, 2.0.0 has two others.
const std::multiset<std::string> kTemplateListChanges = {
    "resource_removed test://static/resource/{id} breaking "
    "/result/resourceTemplates/[uriTemplate=test:~1~1static~1resource~1{id}]",
    "resource_added demo://resource/dynamic/text/{resourceId} compatible "
    "/result/resourceTemplates/[uriTemplate=demo:~1~1resource~1dynamic~1text~1{resourceId}]",
    "resource_added demo://resource/dynamic/blob/{resourceId} compatible "
    "/result/resourceTemplates/[uriTemplate=demo:~1~1resource~1dynamic~1blob~1{resourceId}]",
};

// initialize: 2.0.0 announces listChanged for tools, prompts and resources and the tasks
// capability, has other instructions, and names itself differently (the protocol version
// agreed is 2025-06-18 on both).
const std::multiset<std::string> kInitializeChanges = {
    "result_changed  compatible /result/capabilities/prompts/listChanged",
    "result_changed  compatible /result/capabilities/resources/listChanged",
    "result_changed  compatible /result/capabilities/tools/listChanged",
    "result_changed  compatible /result/capabilities/tasks",
    "result_changed  compatible /result/instructions",
    "result_changed  compatible /result/serverInfo/name",
    "result_changed  compatible /result/serverInfo/title",
    "result_changed  compatible /result/serverInfo/version",
};

class ReplayEverything : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(node_binary()) || installed_version(current_package()).empty() ||
        installed_version(previous_package()).empty())
      GTEST_SKIP() << "the npm test peers (Node 22, server-everything " << kCurrentRelease
                   << " and " << kPreviousRelease
                   << " as server-everything-previous) are not installed; run scripts/peers.sh";
    ASSERT_EQ(installed_version(previous_package()), kPreviousRelease)
        << "the expectations below are those of server-everything " << kPreviousRelease;
    ASSERT_EQ(installed_version(current_package()), kCurrentRelease)
        << "the expectations below are those of server-everything " << kCurrentRelease;
    dir_ = make_temp_dir("mcpgw-replay-everything");
  }
  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty())
      fs::remove_all(dir_, ignored);
  }

  // One request on the recorded session; its response (null when none came).
  json call(HttpConnection& connection, const std::string& session, const std::string& method,
            const json& params) {
    const auto answer =
        connection.request("POST", "/mcp", mcp_post_headers(session, kProtocolVersion),
                           jsonrpc_request(next_id_++, method, params).dump(), 60s);
    if (!answer || answer->status != 200)
      return nullptr;
    return answer_response(*answer);
  }

  // Every page of a list; the items, or an empty array after a failed page.
  json list_all(HttpConnection& connection, const std::string& session, const std::string& method,
                const std::string& field) {
    json items = json::array();
    json params = json::object();
    for (int page = 0; page < 50; ++page) {
      const json response = call(connection, session, method, params);
      if (!response.is_object() || !response.contains("result") ||
          !response["result"].contains(field)) {
        ADD_FAILURE() << method << " failed: " << response.dump();
        return json::array();
      }
      for (const auto& item : response["result"][field])
        items.push_back(item);
      const auto cursor = response["result"].find("nextCursor");
      if (cursor == response["result"].end() || !cursor->is_string())
        return items;
      params = {{"cursor", *cursor}};
    }
    ADD_FAILURE() << method << " did not end within 50 pages";
    return items;
  }

  // Records the session described at the top through the gateway in front of the old release;
  // the capture and the recorded session id (also the backend leg's session).
  struct Recorded {
    fs::path capture;
    std::string session;
  };
  Recorded record_previous_release() {
    const fs::path capture = dir_ / "recorded.jsonl";
    const std::string config =
        "[policy]\ndefault = \"allow\"\n[auth]\nallow_anonymous = true\n\n"
        "[[backend]]\nname = \"everything\"\ncommand = [" +
        toml_array_items(server_command(previous_package())) +
        "]\n"
        // 1.0.0 keeps running after its stdin closes (timers): do not wait the default 5 s.
        "shutdown_grace = \"1s\"\n";
    RunningGateway gateway(dir_, config, {"--capture", capture.string()});
    HttpConnection connection(gateway.port());
    std::string failure;
    const auto session = open_mcp_session(connection, kProtocolVersion, &failure);
    EXPECT_TRUE(session) << failure << "\n" << gateway.child().stderr_text();
    if (session) {
      // What the recording holds, checked as it is made: the old release's lists and calls.
      EXPECT_EQ(list_all(connection, *session, "tools/list", "tools").size(), 11u);
      EXPECT_EQ(list_all(connection, *session, "prompts/list", "prompts").size(), 3u);
      EXPECT_EQ(list_all(connection, *session, "resources/list", "resources").size(), 100u);
      EXPECT_EQ(
          list_all(connection, *session, "resources/templates/list", "resourceTemplates").size(),
          1u);
      EXPECT_EQ(call(connection, *session, "tools/call",
                     {{"name", "echo"}, {"arguments", {{"message", "hello replay"}}}})["result"],
                json::parse(R"({"content":[{"type":"text","text":"Echo: hello replay"}]})"));
      EXPECT_EQ(call(connection, *session, "tools/call",
                     {{"name", "add"}, {"arguments", {{"a", 2}, {"b", 3}}}})["result"],
                json::parse(R"({"content":[{"type":"text","text":"The sum of 2 and 3 is 5."}]})"));
    }
    // SIGTERM: the gateway stops its backend and flushes the capture before it exits.
    EXPECT_EQ(gateway.child().stop(20s), 0) << gateway.child().stderr_text();
    return {capture, session.value_or("")};
  }

  // `mcpgw replay` of the capture's backend leg against `target` (target options); the exit
  // status and the parsed JSON report. Only the recorded client's session: the gateway's own
  // discovery session (an initialize with the gateway's clientInfo) is on the backend leg too.
  struct Replayed {
    int status = -1;
    json report;
    std::string err;
  };
  Replayed replay(const Recorded& recorded, const std::vector<std::string>& target,
                  const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{MCPGW_BINARY, "replay",    recorded.capture.string(), "--leg",
                                  "backend",    "--session", recorded.session};
    argv.insert(argv.end(), target.begin(), target.end());
    for (const char* option : {"--format", "json", "--timeout", "30000"})
      argv.emplace_back(option);
    argv.insert(argv.end(), extra.begin(), extra.end());
    const Ran ran = run_to_end(argv, dir_, {}, 180s);
    Replayed replayed;
    replayed.status = ran.status;
    replayed.report = json::parse(ran.out, nullptr, false);
    replayed.err = ran.err;
    return replayed;
  }

  // The old release as a backend of a gateway config: 1.0.0 keeps running after its stdin
  // closes (timers), and the config's shutdown_grace spares the default 5 s of waiting.
  std::vector<std::string> previous_release_target() {
    const fs::path config = dir_ / "targets.toml";
    write_file(config, "[[backend]]\nname = \"previous\"\ncommand = [" +
                           toml_array_items(server_command(previous_package())) +
                           "]\nshutdown_grace = \"1s\"\n");
    return {"--config", config.string(), "--backend", "previous"};
  }
  // The current release as a command (it exits as soon as its stdin closes).
  static std::vector<std::string> current_release_target() {
    return {"--target-command", command_line(server_command(current_package()))};
  }

  fs::path dir_;
  int next_id_ = 1;
};

TEST_F(ReplayEverything, SameReleaseReplaysWithoutDifferences) {
  const Recorded recorded = record_previous_release();
  ASSERT_FALSE(HasFailure());
  // With the default ignore list, and without it: server-everything 1.0.0 answers these
  // requests identically every time (no timestamps, ids or _meta), so no rule is what hides a
  // difference here.
  for (const auto& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--no-default-ignores"}}) {
    SCOPED_TRACE(extra.empty() ? "default ignores" : "--no-default-ignores");
    const Replayed replayed = replay(recorded, previous_release_target(), extra);
    ASSERT_TRUE(replayed.report.is_object()) << replayed.err;
    EXPECT_EQ(replayed.status, 0) << replayed.err << replayed.report.dump(1);
    EXPECT_EQ(replayed.report["differences"], json::array()) << replayed.report.dump(1);
    // initialize, four lists (resources/list in ten pages), two calls: all re-sent, all equal.
    EXPECT_EQ(replayed.report["exchanges"], 7);
    EXPECT_EQ(replayed.report["identical"], 7);
    EXPECT_EQ(replayed.report["changed"], 0);
    EXPECT_EQ(replayed.report["breaking"], 0);
    ASSERT_EQ(replayed.report["sessions"].size(), 1u);
    const json& session = replayed.report["sessions"][0];
    EXPECT_EQ(session["id"], recorded.session);
    ASSERT_EQ(session["exchanges"].size(), 7u);
    EXPECT_EQ(session["exchanges"][3]["method"], "resources/list");
    EXPECT_EQ(session["exchanges"][3]["pages_recorded"], 10);
    EXPECT_EQ(session["exchanges"][3]["pages_replayed"], 10);
  }
}

TEST_F(ReplayEverything, CurrentReleaseShowsTheRealDifferences) {
  const Recorded recorded = record_previous_release();
  ASSERT_FALSE(HasFailure());
  const Replayed replayed = replay(recorded, current_release_target());
  ASSERT_TRUE(replayed.report.is_object()) << replayed.err;
  const json& report = replayed.report;
  // Tools, prompts and resources were removed: breaking, so the default --fail-on fails.
  EXPECT_EQ(replayed.status, 1) << replayed.err;

  EXPECT_EQ(differences_of(report, "tools/list"), kToolListChanges) << report.dump(1);
  EXPECT_EQ(differences_of(report, "prompts/list"), kPromptListChanges);
  EXPECT_EQ(differences_of(report, "resources/templates/list"), kTemplateListChanges);
  EXPECT_EQ(differences_of(report, "initialize"), kInitializeChanges);

  // tools/call: echo answers as before; add no longer exists, and 2.0.0 says so in a tool
  // result with isError rather than a JSON-RPC error.
  std::multiset<std::string> calls;
  for (const auto& difference : report["differences"]) {
    if (difference["method"] == "tools/call")
      calls.insert(difference["kind"].get<std::string>() + " " +
                   difference["change"].get<std::string>() + " " +
                   (difference["breaking"].get<bool>() ? "breaking" : "compatible") + " " +
                   difference["path"].get<std::string>());
  }
  EXPECT_EQ(
      calls,
      (std::multiset<std::string>{"error_changed success_to_error breaking /result/isError"}));

  ASSERT_EQ(report["sessions"].size(), 1u);
  const json& exchanges = report["sessions"][0]["exchanges"];
  ASSERT_EQ(exchanges.size(), 7u);
  std::vector<std::string> methods;
  for (const auto& exchange : exchanges)
    methods.push_back(exchange["method"].get<std::string>() +
                      (exchange["identical"].get<bool>() ? " identical" : " changed"));
  EXPECT_EQ(methods, (std::vector<std::string>{"initialize changed", "tools/list changed",
                                               "prompts/list changed", "resources/list changed",
                                               "resources/templates/list changed",
                                               "tools/call identical", "tools/call changed"}));

  // resources/list: 1.0.0 had test://static/resource/1…100 in ten pages, 2.0.0 has seven
  // documents in one page. 107 differences are more than one exchange shows: the rest are
  // counted, and those shown are real.
  const json& resources = exchanges[3];
  EXPECT_EQ(resources["pages_recorded"], 10);
  EXPECT_EQ(resources["pages_replayed"], 1);
  std::size_t shown = 0;
  for (const auto& difference : report["differences"]) {
    if (difference["method"] != "resources/list")
      continue;
    ++shown;
    const std::string item = difference["item"].get<std::string>();
    if (difference["kind"] == "resource_removed") {
      EXPECT_EQ(item.rfind("test://static/resource/", 0), 0u) << item;
      EXPECT_TRUE(difference["breaking"].get<bool>());
    } else {
      EXPECT_EQ(difference["kind"], "resource_added") << difference.dump();
      EXPECT_EQ(item.rfind("demo://resource/static/document/", 0), 0u) << item;
    }
  }
  EXPECT_EQ(shown + resources["differences_omitted"].get<std::size_t>(), 107u);

  EXPECT_EQ(report["exchanges"], 7);
  EXPECT_EQ(report["identical"], 1);
  EXPECT_EQ(report["changed"], 6);
  // tools/list, prompts/list, resources/list, resources/templates/list and the add call.
  EXPECT_EQ(report["breaking"], 5);
}

}  // namespace
}  // namespace mcpgw::integration
