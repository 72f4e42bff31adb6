// Every renderer on one scripted conversation, against golden files in
// tests/fixtures/inspect/golden/ (MCPGW_UPDATE_GOLDEN=1 rewrites them), plus the properties the
// goldens cannot show: valid JSON lines, exact percentiles, escaping of hostile text.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "inspect/pipeline.hpp"
#include "inspect/text.hpp"
#include "tests/unit/golden.hpp"
#include "tests/unit/mcp/test_events.hpp"

namespace mcpgw::inspect {
namespace {

using namespace mcp::traffic::test_events;
namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1763784662000000;  // 2025-11-22T04:11:02Z

// Two sessions of a gateway capture: handshake, lists, tool calls with progress, an error, a
// tool error, a server->client request, a cancellation, a pending call, an orphan response, a
// backend leg, hostile text and one unreadable message.
std::vector<Event> conversation() {
  std::vector<Event> events;
  unsigned line = 1;
  const auto add = [&](EventBuilder builder) {
    builder.line(line++);
    events.push_back(builder.build());
  };
  const std::string a = "3f2a1c9e-5b7d-4c1e-9a0b-6d2e8f4a1b3c";
  const std::string b = "b71e00d4-2c9a-4f6e-8d3b-1a5c7e9f0d2b";
  const std::string sa = "session:" + a;
  const std::string sb = "session:" + b;
  add(EventBuilder(
          "tcp:1", kC2S,
          rpc_request(
              0, "initialize",
              R"({"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}})"))
          .at(kT0)
          .http("POST", 0));
  add(EventBuilder(
          "tcp:1", kS2C,
          rpc_result(
              0,
              R"({"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"fixture","version":"1"}})"))
          .session(a)
          .at(kT0 + 2'300)
          .http("POST", 200));
  add(EventBuilder(sa, kC2S, rpc_notification("notifications/initialized"))
          .session(a)
          .at(kT0 + 3'000));
  add(EventBuilder(sa, kC2S, rpc_request(1, "tools/list")).session(a).at(kT0 + 4'000));
  add(EventBuilder(
          sa, kS2C,
          rpc_result(
              1,
              R"({"tools":[{"name":"echo","inputSchema":{"type":"object"}},{"name":"slow","inputSchema":{"type":"object"}}]})"))
          .session(a)
          .at(kT0 + 4'850));
  add(EventBuilder(sa, kC2S,
                   rpc_request(2, "tools/call",
                               R"({"name":"echo","arguments":{"text":")" + std::string(150, 'x') +
                                   R"("},"_meta":{"progressToken":"p2"}})"))
          .session(a)
          .at(kT0 + 10'000));
  add(EventBuilder(
          sa, kS2C,
          rpc_notification("notifications/progress",
                           R"({"progressToken":"p2","progress":1,"total":2,"message":"half"})"))
          .session(a)
          .at(kT0 + 11'000));
  add(EventBuilder(
          sa, kS2C,
          rpc_request(
              0, "sampling/createMessage",
              R"({"messages":[{"role":"user","content":{"type":"text","text":"hi"}}],"maxTokens":10})"))
          .session(a)
          .at(kT0 + 11'500));
  add(EventBuilder(
          sa, kC2S,
          rpc_result(
              0, R"({"role":"assistant","content":{"type":"text","text":"hello"},"model":"m"})"))
          .session(a)
          .at(kT0 + 14'000));
  add(EventBuilder(sa, kS2C, rpc_result(2, R"({"content":[{"type":"text","text":"ok"}]})"))
          .session(a)
          .at(kT0 + 15'250));
  add(EventBuilder(sa, kC2S, rpc_request(3, "tools/call", R"({"name":"nope","arguments":{}})"))
          .session(a)
          .at(kT0 + 20'000));
  add(EventBuilder(sa, kS2C, rpc_error(3, -32602, "Unknown tool: nope\\u001b[31m"))
          .session(a)
          .at(kT0 + 20'400));
  add(EventBuilder(sa, kC2S, rpc_request(4, "tools/call", R"({"name":"echo","arguments":{}})"))
          .session(a)
          .at(kT0 + 21'000));
  add(EventBuilder(
          sa, kS2C,
          rpc_result(4, R"({"content":[{"type":"text","text":"missing text"}],"isError":true})"))
          .session(a)
          .at(kT0 + 22'000));
  add(EventBuilder(sa, kC2S,
                   rpc_request(5, "tools/call", R"({"name":"slow","arguments":{"ms":60000}})"))
          .session(a)
          .at(kT0 + 30'000));
  add(EventBuilder(
          sa, kC2S,
          rpc_notification("notifications/cancelled", R"({"requestId":5,"reason":"user gave up"})"))
          .session(a)
          .at(kT0 + 2'030'000));
  add(EventBuilder(sa, kC2S, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":")
          .session(a)
          .at(kT0 + 2'040'000));
  // The second session reuses ids 1 and 2; its backend leg is visible too.
  add(EventBuilder(sb, kC2S, rpc_request(1, "resources/read", R"({"uri":"file:///etc/hosts"})"))
          .session(b)
          .at(kT0 + 2'100'000));
  add(EventBuilder("backend:files:" + b, kC2S,
                   rpc_request(1, "resources/read", R"({"uri":"file:///etc/hosts"})"))
          .session(b)
          .backend("files")
          .at(kT0 + 2'100'200));
  add(EventBuilder(
          "backend:files:" + b, kS2C,
          rpc_result(1,
                     R"({"contents":[{"uri":"file:///etc/hosts","text":"127.0.0.1 localhost"}]})"))
          .session(b)
          .backend("files")
          .at(kT0 + 2'103'200));
  add(EventBuilder(
          sb, kS2C,
          rpc_result(1,
                     R"({"contents":[{"uri":"file:///etc/hosts","text":"127.0.0.1 localhost"}]})"))
          .session(b)
          .at(kT0 + 2'103'900));
  add(EventBuilder(sb, kS2C, rpc_result(99, R"({})")).session(b).at(kT0 + 2'200'000));
  add(EventBuilder(sb, kC2S, rpc_request(2, "tools/call", R"({"name":"slow","arguments":{}})"))
          .session(b)
          .at(kT0 + 2'300'000));
  return events;
}

struct RunOutput {
  std::string out;
  std::string err;
  bool written = false;
};

RunOutput run(const InspectOptions& options, std::vector<Event> events) {
  std::ostringstream out, err;
  RunOutput result;
  {
    Pipeline pipeline(options, out, err);
    for (auto& event : events)
      pipeline.on_event(std::move(event));
    result.written = pipeline.finish();
  }
  result.out = out.str();
  result.err = err.str();
  return result;
}

InspectOptions base_options() {
  InspectOptions options;
  options.inputs = {"test.jsonl"};
  return options;
}

void expect_golden(const std::string& name, const InspectOptions& options) {
  const RunOutput result = run(options, conversation());
  EXPECT_TRUE(result.written);
  testing::expect_golden_file(fs::path(MCPGW_SOURCE_DIR) / "tests/fixtures/inspect/golden" / name,
                              result.out + "--- stderr ---\n" + result.err);
}

TEST(RenderGolden, Timeline) {
  expect_golden("timeline.txt", base_options());
}

TEST(RenderGolden, TimelineInColour) {
  auto options = base_options();
  options.color = true;
  expect_golden("timeline-color.txt", options);
}

TEST(RenderGolden, TimelineFull) {
  auto options = base_options();
  options.full = true;
  expect_golden("timeline-full.txt", options);
}

TEST(RenderGolden, TimelineErrorsOnly) {
  auto options = base_options();
  options.errors_only = true;
  expect_golden("timeline-errors.txt", options);
}

TEST(RenderGolden, TimelineOneToolOfOneSession) {
  auto options = base_options();
  options.tools = {"ec*"};
  options.sessions = {"3f2a1c9e"};
  expect_golden("timeline-tool.txt", options);
}

TEST(RenderGolden, Jsonl) {
  auto options = base_options();
  options.format = OutputFormat::jsonl;
  expect_golden("jsonl.txt", options);
}

TEST(RenderGolden, JsonlFull) {
  auto options = base_options();
  options.format = OutputFormat::jsonl;
  options.full = true;
  expect_golden("jsonl-full.txt", options);
}

TEST(RenderGolden, JsonArray) {
  auto options = base_options();
  options.format = OutputFormat::json;
  options.methods = {"tools/*"};
  expect_golden("json.txt", options);
}

TEST(RenderGolden, StatsText) {
  auto options = base_options();
  options.stats = true;
  expect_golden("stats.txt", options);
}

TEST(RenderGolden, StatsJson) {
  auto options = base_options();
  options.stats = true;
  options.stats_json = true;
  expect_golden("stats-json.txt", options);
}

TEST(Jsonl, EveryLineIsAnObjectWithTheDocumentedKeys) {
  auto options = base_options();
  options.format = OutputFormat::jsonl;
  const RunOutput result = run(options, conversation());
  std::istringstream lines(result.out);
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    const auto object = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(object.is_object()) << line;
    for (const char* key :
         {"v", "kind", "method", "id", "session", "direction", "status", "error_code",
          "duration_ms", "tool", "backend", "leg", "target", "started_us", "ended_us",
          "protocol_version", "http_status", "source"}) {
      EXPECT_TRUE(object.contains(key)) << key << " in " << line;
    }
    EXPECT_EQ(object["v"], kJsonlSchemaVersion);
    const std::string status = object["status"];
    EXPECT_TRUE(status == "ok" || status == "error" || status == "pending" ||
                status == "cancelled");
    ++count;
  }
  EXPECT_EQ(count, 12);
  EXPECT_NE(result.err.find("test.jsonl:17: not a JSON-RPC message"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("1 problem in the input, skipped"), std::string::npos);
}

TEST(Jsonl, HostileBytesStillGiveValidJson) {
  auto options = base_options();
  options.format = OutputFormat::jsonl;
  std::vector<Event> events;
  // Invalid UTF-8 and control characters in the scope and session (they come from headers).
  events.push_back(
      EventBuilder("s\xff\x01", kC2S, rpc_request(1, "tools/call", R"({"name":"a\u0000b"})"))
          .session("sess\"ion\x80"));
  const RunOutput result = run(options, std::move(events));
  const auto object = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_TRUE(object.is_object()) << result.out;
  EXPECT_EQ(object["tool"], std::string("a\0b", 3));
  EXPECT_EQ(object["session"], "sess\"ion\xEF\xBF\xBD");
}

TEST(Stats, PercentilesAreExactNearestRank) {
  std::vector<std::int64_t> durations;
  for (std::int64_t i = 100; i >= 1; --i)
    durations.push_back(i * 1000);
  const Percentiles p = percentiles_of(durations);
  EXPECT_EQ(p.count, 100u);
  EXPECT_EQ(p.p50_us, 50'000);
  EXPECT_EQ(p.p95_us, 95'000);
  EXPECT_EQ(p.p99_us, 99'000);
  EXPECT_EQ(p.max_us, 100'000);

  std::vector<std::int64_t> one{7};
  const Percentiles single = percentiles_of(one);
  EXPECT_EQ(single.p50_us, 7);
  EXPECT_EQ(single.p99_us, 7);

  std::vector<std::int64_t> three{30, 10, 20};
  const Percentiles small = percentiles_of(three);
  EXPECT_EQ(small.p50_us, 20);
  EXPECT_EQ(small.p95_us, 30);

  std::vector<std::int64_t> none;
  EXPECT_EQ(percentiles_of(none).count, 0u);
}

TEST(Stats, JsonCountsMethodsToolsErrorsAndSessions) {
  auto options = base_options();
  options.stats = true;
  options.stats_json = true;
  const RunOutput result = run(options, conversation());
  const auto stats = nlohmann::json::parse(result.out, nullptr, false);
  ASSERT_TRUE(stats.is_object()) << result.out;
  EXPECT_EQ(stats["exchanges"], 12);
  EXPECT_EQ(stats["errors"], 1);
  EXPECT_EQ(stats["tool_errors"], 1);
  EXPECT_EQ(stats["pending"], 1);
  EXPECT_EQ(stats["cancelled"], 1);
  EXPECT_EQ(stats["orphans"], 1);
  EXPECT_EQ(stats["problems"], 1);
  EXPECT_EQ(stats["sessions"]["count"], 2);  // initialize took its session from the response
  const auto& methods = stats["methods"];
  ASSERT_TRUE(methods.is_array());
  EXPECT_EQ(methods[0]["method"], "tools/call");
  EXPECT_EQ(methods[0]["count"], 5);
  EXPECT_EQ(methods[0]["errors"], 1);
  EXPECT_EQ(methods[0]["tool_errors"], 1);
  EXPECT_DOUBLE_EQ(methods[0]["error_rate"].get<double>(), 0.4);
  // Timed: echo (5.25 ms), nope (0.4 ms), echo (1 ms); the cancelled and pending ones are not.
  EXPECT_EQ(methods[0]["latency_ms"]["count"], 3);
  EXPECT_DOUBLE_EQ(methods[0]["latency_ms"]["p50"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(methods[0]["latency_ms"]["p99"].get<double>(), 5.25);
  const auto& tools = stats["tools"];
  ASSERT_TRUE(tools.is_array());
  EXPECT_EQ(tools[0]["tool"], "echo");
  EXPECT_EQ(tools[0]["count"], 2);
  EXPECT_EQ(tools[0]["tool_errors"], 1);
}

TEST(Stats, DistinctNamesAreBounded) {
  StatsCollector stats;
  for (std::size_t i = 0; i < StatsCollector::kMaxNames + 10; ++i) {
    Exchange exchange;
    exchange.method = "m" + std::to_string(i);
    exchange.status = Status::ok;
    exchange.session = "s";
    stats.add(exchange);
  }
  std::ostringstream out;
  stats.render_json(out, {});
  const auto json = nlohmann::json::parse(out.str(), nullptr, false);
  ASSERT_TRUE(json.is_object());
  EXPECT_EQ(json["methods"].size(), StatsCollector::kMaxNames + 1);
  EXPECT_EQ(json["methods"][0]["method"], "(other)");
  EXPECT_EQ(json["methods"][0]["count"], 10);
}

TEST(Timeline, TerminalControlCharactersFromTheTrafficAreShownEscaped) {
  auto options = base_options();
  options.color = false;
  std::vector<Event> events;
  events.push_back(EventBuilder(
      "s", kC2S, rpc_request(1, "tools/call", R"({"name":"evil\u001b]0;pwned\u0007"})")));
  events.push_back(EventBuilder("s", kS2C, rpc_error(1, -1, "\u009b31m red")));
  const RunOutput result = run(options, std::move(events));
  EXPECT_EQ(result.out.find('\x1b'), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find('\x07'), std::string::npos);
  EXPECT_EQ(result.out.find("\xC2\x9B"), std::string::npos);
  EXPECT_NE(result.out.find("evil\\x1b]0;pwned\\x07"), std::string::npos) << result.out;
}

TEST(Text, ShortenCutsOnCodePoints) {
  EXPECT_EQ(shorten("abc", 3), "abc");
  EXPECT_EQ(shorten("abcd", 3), "abc\xE2\x80\xA6");
  EXPECT_EQ(shorten("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xC3\xA9\xE2\x80\xA6");
  EXPECT_EQ(format_ms_number(1'234'567), "1234.567");
  EXPECT_EQ(format_ms_number(-1'500), "-1.500");
  EXPECT_EQ(format_duration(840), "0.84 ms");
  EXPECT_EQ(format_duration(12'345), "12.3 ms");
  EXPECT_EQ(format_duration(1'520'000), "1.52 s");
  EXPECT_EQ(format_time_of_day(kT0 + 123'456), "04:11:02.123");
  EXPECT_EQ(format_date(kT0), "2025-11-22");
}

TEST(Html, TrafficCannotInjectMarkupOrScript) {
  const fs::path path =
      fs::temp_directory_path() / ("inspect-html-" + std::to_string(::getpid()) + ".html");
  auto options = base_options();
  options.html_path = path.string();
  std::vector<Event> events;
  events.push_back(EventBuilder("s", kC2S,
                                rpc_request(1, "tools/call",
                                            R"({"name":"</script><img src=x onerror=alert(1)>"})"))
                       .session("<b>s</b>")
                       .at(kT0));
  events.push_back(
      EventBuilder("s", kS2C, rpc_error(1, -32000, "</script><script>alert(2)</script>\u2028&amp;"))
          .session("<b>s</b>")
          .at(kT0 + 1000));
  const RunOutput result = run(options, std::move(events));
  ASSERT_TRUE(result.written) << result.err;
  EXPECT_TRUE(result.out.empty()) << "the page replaces the stdout output";
  const std::string page = testing::read_text_file(path);
  fs::remove(path);
  ASSERT_FALSE(page.empty());
  // Exactly the page's own two script elements; no markup from the traffic.
  std::size_t scripts = 0;
  for (auto at = page.find("</script>"); at != std::string::npos;
       at = page.find("</script>", at + 1))
    ++scripts;
  EXPECT_EQ(scripts, 2u);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_EQ(page.find("<b>s</b>"), std::string::npos);
  EXPECT_EQ(page.find("\xE2\x80\xA8"), std::string::npos);
  EXPECT_NE(page.find("\\u003c/script\\u003e\\u003cimg src=x onerror=alert(1)\\u003e"),
            std::string::npos);
  // No external resources.
  EXPECT_EQ(page.find("src=\"http"), std::string::npos);
  EXPECT_EQ(page.find("href="), std::string::npos);
  // The embedded document is valid JSON and holds the data.
  const auto begin = page.find("<script type=\"application/json\" id=\"inspect-data\">");
  ASSERT_NE(begin, std::string::npos);
  const auto data_start = page.find('>', begin) + 1;
  const auto data_end = page.find("</script>", data_start);
  const auto data =
      nlohmann::json::parse(page.substr(data_start, data_end - data_start), nullptr, false);
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["sessions"][0]["name"], "<b>s</b>");
  EXPECT_EQ(data["sessions"][0]["exchanges"][0]["target"], "</script><img src=x onerror=alert(1)>");
}

TEST(Html, UnwritablePathFailsTheRun) {
  auto options = base_options();
  options.html_path = "/nonexistent-dir/x/page.html";
  const RunOutput result = run(options, conversation());
  EXPECT_FALSE(result.written);
  EXPECT_NE(result.err.find("cannot write /nonexistent-dir/x/page.html"), std::string::npos);
}

}  // namespace
}  // namespace mcpgw::inspect
