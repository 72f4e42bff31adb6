// The three renderings of a hand-built report covering every difference kind, against golden
// files in tests/fixtures/replay/golden/ (MCPGW_UPDATE_GOLDEN=1 rewrites them), plus what the
// goldens cannot show: JSON keys in the documented order, well-formed JUnit whatever the text,
// terminal-hostile traffic shown escaped.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mcp/json_text.hpp"
#include "replay/report.hpp"
#include "tests/unit/golden.hpp"

namespace mcpgw::replay {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Difference difference(DifferenceKind kind, bool breaking, std::string method, std::string path,
                      std::string detail) {
  Difference out;
  out.kind = kind;
  out.breaking = breaking;
  out.method = std::move(method);
  out.path = std::move(path);
  out.detail = std::move(detail);
  return out;
}

ExchangeOutcome exchange(std::size_t index, std::string method, std::string target,
                         std::string id) {
  ExchangeOutcome out;
  out.index = index;
  out.method = std::move(method);
  out.target = std::move(target);
  out.recorded_id = std::move(id);
  out.recorded_latency_us = 1200;
  out.replayed_latency_us = 1500;
  return out;
}

// One report with every kind of difference, two sessions, notes, identical exchanges, omitted
// differences and a server→client exchange.
ReplayReport sample_report() {
  ReplayReport report;
  report.target = "stdio: mcpgw-fixture --rename-tool echo=say";
  report.inputs = {"recorded.jsonl"};
  report.input_problems = 1;

  SessionOutcome first;
  first.id = "session-a";
  first.sources = {"recorded.jsonl"};
  first.replayed_session = "7f3a";
  first.notes = {"initialize missing from the recording: negotiated 2025-11-25"};

  first.exchanges.push_back(exchange(0, "initialize", "", "0"));

  auto list = exchange(1, "tools/list", "", "1");
  list.pages_recorded = 2;
  list.pages_replayed = 1;
  list.recorded_response =
      R"({"result":{"tools":[{"name":"echo","description":"Echoes text.","inputSchema":{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}},{"name":"rm","annotations":{"destructiveHint":false}},{"name":"old"}]}})";
  list.replayed_response =
      R"({"result":{"tools":[{"name":"echo","description":"Echoes text loudly.","inputSchema":{"type":"object","properties":{"prefix":{"type":"string"},"text":{"type":"string"}},"required":["text","prefix"]}},{"name":"rm","annotations":{"destructiveHint":true}},{"name":"new"},{"name":"added"}]}})";
  {
    auto d = difference(DifferenceKind::schema_changed, true, "tools/list",
                        "/result/tools/[name=echo]/inputSchema/properties/prefix",
                        "new required property \"prefix\"");
    d.tool = d.item = "echo";
    d.replayed = Json::parse(R"({"type":"string"})");
    list.differences.push_back(d);
    d = difference(DifferenceKind::description_changed, false, "tools/list",
                   "/result/tools/[name=echo]/description",
                   "description changed: \"Echoes text.\" -> \"Echoes text loudly.\"");
    d.tool = d.item = "echo";
    d.recorded = "Echoes text.";
    d.replayed = "Echoes text loudly.";
    list.differences.push_back(d);
    d = difference(DifferenceKind::annotation_changed, false, "tools/list",
                   "/result/tools/[name=rm]/annotations/destructiveHint",
                   "destructiveHint false -> true");
    d.tool = d.item = "rm";
    d.recorded = false;
    d.replayed = true;
    list.differences.push_back(d);
    d = difference(DifferenceKind::tool_renamed, true, "tools/list",
                   "/result/tools/[name=old]/name",
                   "tool \"old\" renamed to \"new\" (same input schema)");
    d.tool = d.item = "old";
    d.recorded = "old";
    d.replayed = "new";
    list.differences.push_back(d);
    d = difference(DifferenceKind::tool_added, false, "tools/list", "/result/tools/[name=added]",
                   "tool \"added\" added");
    d.tool = d.item = "added";
    d.replayed = Json::parse(R"({"name":"added"})");
    list.differences.push_back(d);
    d = difference(DifferenceKind::tool_removed, true, "tools/list", "/result/tools/[name=gone]",
                   "tool \"gone\" removed");
    d.tool = d.item = "gone";
    list.differences.push_back(d);
  }
  first.exchanges.push_back(list);

  auto call = exchange(2, "tools/call", "echo", "2");
  call.recorded_response =
      R"({"jsonrpc":"2.0","id":2,"result":{"content":[{"type":"text","text":"hi"}]}})";
  call.replayed_response =
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":\"text\",\"text\":"
      "\"\\u001b[2Jhi\\u009b\"}]}}";
  {
    auto d = difference(DifferenceKind::result_changed, false, "tools/call",
                        "/result/content/0/text", "text changed: \"hi\" -> \"\x1b[2Jhi\xc2\x9b\"");
    d.tool = "echo";
    d.recorded = "hi";
    d.replayed = "\x1b[2Jhi\xc2\x9b";
    call.differences.push_back(d);
  }
  first.exchanges.push_back(call);

  auto failing = exchange(3, "tools/call", "divide", "3");
  {
    auto d = difference(DifferenceKind::error_changed, true, "tools/call", "",
                        "success became JSON-RPC error -32603 \"division by zero\"");
    d.change = ErrorChange::success_to_error;
    d.tool = "divide";
    d.replayed = Json::parse(R"({"code":-32603,"message":"division by zero"})");
    failing.differences.push_back(d);
  }
  first.exchanges.push_back(failing);

  auto slow = exchange(4, "tools/call", "slow", "\"s-4\"");
  slow.replayed_latency_us = 250'000;
  {
    auto d = difference(DifferenceKind::latency_regressed, false, "tools/call", "",
                        "latency 1.2 ms -> 250.0 ms (208.3x, threshold 2x)");
    d.tool = "slow";
    slow.differences.push_back(d);
  }
  first.exchanges.push_back(slow);

  auto prompts = exchange(5, "prompts/list", "", "5");
  {
    auto d = difference(DifferenceKind::prompt_removed, true, "prompts/list",
                        "/result/prompts/[name=greet]", "prompt \"greet\" removed");
    d.item = "greet";
    prompts.differences.push_back(d);
    d = difference(DifferenceKind::prompt_added, false, "prompts/list",
                   "/result/prompts/[name=welcome]", "prompt \"welcome\" added");
    d.item = "welcome";
    prompts.differences.push_back(d);
    d = difference(DifferenceKind::prompt_renamed, true, "prompts/list",
                   "/result/prompts/[name=sum]/name",
                   "prompt \"sum\" renamed to \"summary\" (same arguments)");
    d.item = "sum";
    prompts.differences.push_back(d);
  }
  first.exchanges.push_back(prompts);

  auto resources = exchange(6, "resources/list", "", "6");
  {
    auto d = difference(DifferenceKind::resource_removed, true, "resources/list",
                        "/result/resources/[uri=file:~1~1~1a.txt]",
                        "resource \"file:///a.txt\" removed");
    d.item = "file:///a.txt";
    resources.differences.push_back(d);
    d = difference(DifferenceKind::resource_added, false, "resources/list",
                   "/result/resources/[uri=mem:~1~1b]", "resource \"mem://b\" added");
    d.item = "mem://b";
    resources.differences.push_back(d);
  }
  first.exchanges.push_back(resources);

  auto sampling = exchange(7, "sampling/createMessage", "", "\"srv-1\"");
  sampling.direction = ExchangeDirection::server_to_client;
  sampling.recorded_latency_us.reset();
  sampling.differences.push_back(
      difference(DifferenceKind::server_request_unmatched, false, "sampling/createMessage", "",
                 "no recorded reply matched; answered with the configured default"));
  first.exchanges.push_back(sampling);
  first.exchanges.push_back(exchange(8, "ping", "", "8"));
  report.sessions.push_back(first);

  SessionOutcome second;
  second.id = "session-b";
  second.sources = {"recorded.jsonl"};
  second.notes = {"target exited (code 3) at exchange 1; 1 exchange not sent"};
  auto crashed = exchange(0, "tools/call", "crash", "1");
  crashed.replayed_latency_us.reset();
  crashed.differences.push_back(difference(DifferenceKind::target_failed, true, "tools/call", "",
                                           "the target exited (code 3) before answering"));
  second.exchanges.push_back(crashed);
  auto unsent = exchange(1, "tools/call", "echo", "2");
  unsent.replayed_latency_us.reset();
  unsent.differences.push_back(difference(DifferenceKind::not_replayed, true, "tools/call", "",
                                          "not sent: the session ended at exchange 0"));
  second.exchanges.push_back(unsent);
  auto missing = exchange(2, "roots/list", "", "");
  missing.direction = ExchangeDirection::server_to_client;
  missing.recorded_latency_us.reset();
  missing.replayed_latency_us.reset();
  missing.differences.push_back(difference(DifferenceKind::server_request_missing, false,
                                           "roots/list", "",
                                           "recorded, but the target never asked it"));
  missing.differences_omitted = 2;
  second.exchanges.push_back(missing);
  report.sessions.push_back(second);
  return report;
}

void expect_golden(const std::string& name, const std::string& actual) {
  testing::expect_golden_file(fs::path(MCPGW_SOURCE_DIR) / "tests/fixtures/replay/golden" / name,
                              actual);
}

TEST(ReplayReportGolden, Text) {
  expect_golden("report.txt", render_text(sample_report(), TextOptions{}));
}

TEST(ReplayReportGolden, TextVerboseWithOneLineOfContext) {
  TextOptions options;
  options.show_identical = true;
  options.context_lines = 1;
  options.max_differences_shown = 3;
  expect_golden("report-verbose.txt", render_text(sample_report(), options));
}

TEST(ReplayReportGolden, Json) {
  expect_golden("report.json", render_json(sample_report()));
}

TEST(ReplayReportGolden, JUnit) {
  expect_golden("report.xml", render_junit(sample_report(), FailOn::breaking));
}

TEST(ReplayReportGolden, JUnitFailOnAny) {
  expect_golden("report-any.xml", render_junit(sample_report(), FailOn::any));
}

// --- text -----------------------------------------------------------------------------------

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

TEST(ReplayReportText, TotalsLineIsExact) {
  const auto lines = lines_of(render_text(sample_report(), TextOptions{}));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "12 exchanges: 2 identical, 10 changed (6 breaking)");
  ReplayReport one;
  SessionOutcome session;
  session.exchanges.push_back(exchange(0, "ping", "", "1"));
  one.sessions.push_back(session);
  EXPECT_EQ(lines_of(render_text(one, TextOptions{})).back(),
            "1 exchange: 1 identical, 0 changed (0 breaking)");
}

TEST(ReplayReportText, AnInterruptedRunSaysSoBeforeTheTotals) {
  ReplayReport report = sample_report();
  report.interrupted_by = "SIGINT";
  report.sessions_not_replayed = 3;
  const auto lines = lines_of(render_text(report, TextOptions{}));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2],
            "interrupted by SIGINT: the report covers what was replayed; 3 sessions not replayed");
  EXPECT_EQ(lines.back(), "12 exchanges: 2 identical, 10 changed (6 breaking)");
  const auto parsed = nlohmann::ordered_json::parse(render_json(report));
  EXPECT_EQ(parsed["interrupted_by"], "SIGINT");
  EXPECT_EQ(parsed["sessions_not_replayed"], 3);
}

TEST(ReplayReportText, BreakingMethodsComeFirstWithinASession) {
  const std::string text = render_text(sample_report(), TextOptions{});
  const auto tools_list = text.find("\n  tools/list (");
  const auto sampling = text.find("\n  sampling/createMessage (");
  const auto prompts = text.find("\n  prompts/list (");
  ASSERT_NE(tools_list, std::string::npos);
  ASSERT_NE(sampling, std::string::npos);
  ASSERT_NE(prompts, std::string::npos);
  EXPECT_LT(prompts, sampling);                        // prompts/list breaks, sampling does not
  EXPECT_EQ(text.find("#8 ping"), std::string::npos);  // identical: not shown by default
  TextOptions verbose;
  verbose.show_identical = true;
  EXPECT_NE(
      render_text(sample_report(), verbose).find("#8 ping id 8 [1.2 ms -> 1.5 ms]: identical"),
      std::string::npos);
}

TEST(ReplayReportText, ContextShowsTheDifferingLinesLikeAUnifiedDiff) {
  ReplayReport report;
  SessionOutcome session;
  session.id = "s";
  auto call = exchange(0, "tools/call", "echo", "1");
  call.recorded_response = R"({"result":{"a":1,"b":{"c":"old","d":2},"e":3}})";
  call.replayed_response = R"({"result":{"a":1,"b":{"c":"new","d":2},"e":3}})";
  call.differences.push_back(difference(DifferenceKind::result_changed, false, "tools/call",
                                        "/result/b/c", "c changed: \"old\" -> \"new\""));
  session.exchanges.push_back(call);
  report.sessions.push_back(session);
  TextOptions options;
  options.context_lines = 2;
  const std::string text = render_text(report, options);
  const std::string expected =
      "        @@ recorded line 5, replayed line 5 @@\n"
      "              \"a\": 1,\n"
      "              \"b\": {\n"
      "        -       \"c\": \"old\",\n"
      "        +       \"c\": \"new\",\n"
      "                \"d\": 2\n"
      "              },\n";
  EXPECT_NE(text.find(expected), std::string::npos) << text;
}

TEST(ReplayReportText, ContextFindsKeyedAndSetSegmentsAndAbsentSides) {
  ReplayReport report;
  SessionOutcome session;
  auto list = exchange(0, "tools/list", "", "1");
  list.recorded_response = R"({"result":{"tools":[{"name":"a"},{"name":"b","x":["p","q"]}]}})";
  list.replayed_response = R"({"result":{"tools":[{"name":"a"}]}})";
  list.differences.push_back(difference(DifferenceKind::tool_removed, true, "tools/list",
                                        "/result/tools/[name=b]/x/[\"q\"]", "q removed"));
  session.exchanges.push_back(list);
  report.sessions.push_back(session);
  TextOptions options;
  options.context_lines = 1;
  const std::string text = render_text(report, options);
  const std::string expected =
      "        @@ recorded line 11, replayed: absent @@\n"
      "                    \"p\",\n"
      "        -           \"q\"\n"
      "                  ]\n";
  EXPECT_NE(text.find(expected), std::string::npos) << text;
}

TEST(ReplayReportText, HostileTrafficIsEscaped) {
  ReplayReport report;
  report.target = "http://x/\x1b]0;owned\x07";
  SessionOutcome session;
  session.id = "s\x1b[31m";
  session.notes = {"note \xc2\x9b with C1 and \xe2\x80\xae bidi and \xff bad"};
  auto call = exchange(0, "tools/call", "t\x1b", "1");
  call.recorded_response = R"({"result":{"text":"a"}})";
  call.replayed_response = R"({"result":{"text":"\u001b[2J\u009b"}})";
  call.differences.push_back(difference(DifferenceKind::result_changed, false, "tools/call",
                                        "/result/text", "detail \x1b[2J"));
  session.exchanges.push_back(call);
  report.sessions.push_back(session);
  const std::string text = render_text(report, TextOptions{});
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos);
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos);
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos);
  EXPECT_NE(text.find("http://x/\\x1b]0;owned\\x07"), std::string::npos);
  EXPECT_NE(text.find("session s\\x1b[31m"), std::string::npos);
  EXPECT_NE(text.find("\\u{009b} with C1 and \\u{202e} bidi and \\xff bad"), std::string::npos);
  EXPECT_NE(text.find("detail \\x1b[2J"), std::string::npos);
}

TEST(ReplayReportText, ColourOnlyWhenAsked) {
  const std::string plain = render_text(sample_report(), TextOptions{});
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  TextOptions options;
  options.color = true;
  const std::string coloured = render_text(sample_report(), options);
  EXPECT_NE(coloured.find("\x1b[31mBREAKING\x1b[0m"), std::string::npos);
  EXPECT_NE(coloured.find("\x1b[32m+ "), std::string::npos);
}

TEST(ReplayReportText, DifferencesBeyondTheBoundAreSummarised) {
  TextOptions options;
  options.max_differences_shown = 2;
  options.context_lines = 0;
  const std::string text = render_text(sample_report(), options);
  EXPECT_NE(text.find("      … and 4 more differences\n"), std::string::npos) << text;
  EXPECT_NE(text.find("      … and 2 more differences\n"), std::string::npos);  // omitted ones
}

// --- JSON -----------------------------------------------------------------------------------

std::vector<std::string> keys_of(const nlohmann::ordered_json& object) {
  std::vector<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it)
    keys.push_back(it.key());
  return keys;
}

TEST(ReplayReportJson, ParsesBackWithTheDocumentedKeysInOrder) {
  const auto parsed = nlohmann::ordered_json::parse(render_json(sample_report()));
  EXPECT_EQ(keys_of(parsed),
            (std::vector<std::string>{"v", "target", "inputs", "input_problems", "exchanges",
                                      "identical", "changed", "breaking", "interrupted_by",
                                      "sessions_not_replayed", "differences", "sessions"}));
  EXPECT_EQ(parsed["interrupted_by"], nullptr);
  EXPECT_EQ(parsed["sessions_not_replayed"], 0);
  EXPECT_EQ(parsed["v"], 1);
  EXPECT_EQ(parsed["exchanges"], 12);
  EXPECT_EQ(parsed["identical"], 2);
  EXPECT_EQ(parsed["changed"], 10);
  EXPECT_EQ(parsed["breaking"], 6);
  EXPECT_EQ(parsed["input_problems"], 1);
  ASSERT_EQ(parsed["differences"].size(), 18U);
  for (const auto& entry : parsed["differences"]) {
    EXPECT_EQ(keys_of(entry), (std::vector<std::string>{"session", "exchange", "method", "kind",
                                                        "change", "tool", "item", "breaking",
                                                        "path", "detail", "recorded", "replayed"}));
    EXPECT_TRUE(parse_difference_kind(entry["kind"].get<std::string>())) << entry["kind"];
  }
  const auto& error = parsed["differences"][7];
  EXPECT_EQ(error["kind"], "error_changed");
  EXPECT_EQ(error["change"], "success_to_error");
  EXPECT_EQ(error["recorded"], nullptr);
  EXPECT_EQ(error["replayed"]["code"], -32603);
  ASSERT_EQ(parsed["sessions"].size(), 2U);
  for (const auto& session : parsed["sessions"]) {
    EXPECT_EQ(keys_of(session), (std::vector<std::string>{"id", "sources", "replayed_session",
                                                          "notes", "exchanges"}));
    for (const auto& entry : session["exchanges"])
      EXPECT_EQ(keys_of(entry),
                (std::vector<std::string>{"index", "direction", "method", "target", "id",
                                          "identical", "breaking", "pages_recorded",
                                          "pages_replayed", "recorded_latency_ms",
                                          "replayed_latency_ms", "differences_omitted"}));
  }
  const auto& slow = parsed["sessions"][0]["exchanges"][4];
  EXPECT_EQ(slow["id"], "\"s-4\"");  // the recorded id as JSON text
  EXPECT_DOUBLE_EQ(slow["replayed_latency_ms"].get<double>(), 250.0);
  EXPECT_EQ(parsed["sessions"][1]["exchanges"][2]["id"], "");
  EXPECT_EQ(parsed["sessions"][1]["exchanges"][2]["differences_omitted"], 2);
  EXPECT_EQ(parsed["sessions"][1]["exchanges"][2]["direction"], "server_to_client");
}

TEST(ReplayReportJson, InvalidUtf8NeverThrowsAndStaysValidJson) {
  ReplayReport report;
  report.target = "bad \xff\xfe target";
  SessionOutcome session;
  session.id = "\xc3";
  auto call = exchange(0, "tools/call", "t\x80", "1");
  auto d = difference(DifferenceKind::result_changed, false, "tools/call", "/result/\xe2\x82",
                      "detail \xed\xa0\x80 surrogate \x01 control");
  d.recorded = std::string("\xf5\x80\x80\x80");
  call.differences.push_back(d);
  session.exchanges.push_back(call);
  report.sessions.push_back(session);
  std::string text;
  ASSERT_NO_THROW(text = render_json(report));
  const auto parsed = Json::parse(text, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << text;
  EXPECT_EQ(parsed["target"], "bad \xef\xbf\xbd\xef\xbf\xbd target");
  EXPECT_EQ(parsed["differences"][0]["detail"],
            "detail \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd surrogate \x01 control");
}

// --- JUnit ----------------------------------------------------------------------------------

// A small well-formedness check: tags balanced and properly nested, attribute values quoted
// with no raw '<', '&' outside an entity, or '"'; no character XML 1.0 forbids; valid UTF-8.
::testing::AssertionResult well_formed(const std::string& xml) {
  std::vector<std::string> open;
  std::size_t at = 0;
  const auto entity_ok = [&](std::size_t amp) {
    const std::size_t semi = xml.find(';', amp);
    if (semi == std::string::npos || semi - amp > 10)
      return false;
    const std::string name = xml.substr(amp + 1, semi - amp - 1);
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos")
      return true;
    return name.size() > 1 && name[0] == '#';
  };
  for (std::size_t i = 0; i < xml.size();) {
    const auto byte = static_cast<unsigned char>(xml[i]);
    if (byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r')
      return ::testing::AssertionFailure() << "forbidden control at " << i;
    const std::size_t length = mcp::utf8_sequence_length(xml, i);
    if (length == 0)
      return ::testing::AssertionFailure() << "invalid UTF-8 at " << i;
    i += length;
  }
  while (at < xml.size()) {
    const std::size_t lt = xml.find('<', at);
    const std::string text = xml.substr(at, lt == std::string::npos ? std::string::npos : lt - at);
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '>')
        return ::testing::AssertionFailure() << "raw '>' in text near " << at + i;
      if (text[i] == '&' && !entity_ok(at + i))
        return ::testing::AssertionFailure() << "bad entity near " << at + i;
    }
    if (lt == std::string::npos)
      break;
    const std::size_t gt = xml.find('>', lt);
    if (gt == std::string::npos)
      return ::testing::AssertionFailure() << "unterminated tag at " << lt;
    const std::string tag = xml.substr(lt + 1, gt - lt - 1);
    at = gt + 1;
    if (tag.starts_with("?"))
      continue;
    // Attribute values: between quotes, nothing raw that would end or break them.
    bool in_value = false;
    for (std::size_t i = 0; i < tag.size(); ++i) {
      if (tag[i] == '"') {
        in_value = !in_value;
        continue;
      }
      if (in_value && (tag[i] == '<' || (tag[i] == '&' && !entity_ok(lt + 1 + i))))
        return ::testing::AssertionFailure() << "bad attribute value in <" << tag << ">";
    }
    if (in_value)
      return ::testing::AssertionFailure() << "unbalanced quotes in <" << tag << ">";
    if (tag.starts_with("/")) {
      if (open.empty() || open.back() != tag.substr(1))
        return ::testing::AssertionFailure() << "unexpected </" << tag.substr(1) << ">";
      open.pop_back();
      continue;
    }
    const std::string name = tag.substr(0, tag.find_first_of(" /"));
    if (!tag.ends_with("/"))
      open.push_back(name);
  }
  if (!open.empty())
    return ::testing::AssertionFailure() << "<" << open.back() << "> never closed";
  return ::testing::AssertionSuccess();
}

TEST(ReplayReportJUnit, SampleIsWellFormed) {
  EXPECT_TRUE(well_formed(render_junit(sample_report(), FailOn::breaking)));
  EXPECT_TRUE(well_formed(render_junit(sample_report(), FailOn::any)));
  EXPECT_TRUE(well_formed(render_junit(sample_report(), FailOn::never)));
}

TEST(ReplayReportJUnit, HostileTextIsEscapedAndStripped) {
  ReplayReport report;
  SessionOutcome session;
  session.id = "s\"<&>'\x01\x1b]]>";
  session.notes = {"note ]]> <![CDATA[ x ]]> \x0b"};
  auto call = exchange(0, "tools/call", "t\"x'<y>&z\x7f\xc2\x85\xef\xbf\xbe", "1");
  auto d = difference(DifferenceKind::tool_removed, true, "tools/call", "/a]]>",
                      "message \"q\" 'a' <b> & ]]> \x1b[31m \xff\xfe bad\ttab\nline");
  call.differences.push_back(d);
  session.exchanges.push_back(call);
  report.sessions.push_back(session);
  const std::string xml = render_junit(report, FailOn::breaking);
  EXPECT_TRUE(well_formed(xml)) << xml;
  EXPECT_EQ(xml.find("]]>"), std::string::npos);
  EXPECT_NE(xml.find("<testsuite name=\"s&quot;&lt;&amp;&gt;&apos;]]&gt;\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("message=\"message &quot;q&quot; &apos;a&apos; &lt;b&gt; &amp; ]]&gt; "
                     "[31m \xef\xbf\xbd\xef\xbf\xbd bad&#9;tab&#10;line\" type=\"tool_removed\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("t&quot;x&apos;&lt;y&gt;&amp;z&#x7F;&#x85;\""), std::string::npos) << xml;
}

TEST(ReplayReportJUnit, FailuresFollowFailOnAndTimesAreSeconds) {
  const std::string breaking = render_junit(sample_report(), FailOn::breaking);
  const std::string any = render_junit(sample_report(), FailOn::any);
  const std::string never = render_junit(sample_report(), FailOn::never);
  const auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count(breaking, "<failure "), 6U);
  EXPECT_EQ(count(any, "<failure "), 10U);
  EXPECT_EQ(count(never, "<failure "), 0U);
  EXPECT_EQ(count(breaking, "<testcase "), 12U);
  EXPECT_EQ(count(breaking, "<testsuite "), 2U);
  EXPECT_NE(breaking.find("<testsuites name=\"mcpgw replay\" tests=\"12\" failures=\"6\""),
            std::string::npos);
  EXPECT_NE(breaking.find("classname=\"session-a.tools/call\" name=\"#4 tools/call slow\" "
                          "time=\"0.250000\""),
            std::string::npos)
      << breaking;
  // The failure message is the first breaking difference, its type the kind.
  EXPECT_NE(breaking.find("<failure message=\"new required property &quot;prefix&quot;\" "
                          "type=\"schema_changed\">"),
            std::string::npos);
}

}  // namespace
}  // namespace mcpgw::replay
