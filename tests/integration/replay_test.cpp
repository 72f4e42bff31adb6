// The real `mcpgw replay` binary on sessions recorded from real conversations with
// mcpgw-fixture: a stdio transcript written while this test talks to the fixture as a client
// (what tee on both pipes would show), and a capture of `mcpgw serve --capture` with two client
// sessions. They are replayed against the fixture as it was and as "upgraded" by its switches
// (a renamed tool, a new required parameter, a changed output, an error where there was
// success, slower answers, a changed description, altered sampling requests), against a
// target that crashes mid-replay, against a gateway, and from every recorded input format in
// tests/fixtures/inspect/recorded/. Every child is started here and stopped by PID.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.hpp"

namespace mcpgw::integration {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kVersion = "2025-06-18";
const fs::path kRecorded = fs::path(MCPGW_SOURCE_DIR) / "tests/fixtures/inspect/recorded";

std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(micros % 1'000'000));
  return text;
}

// A client conversation with `mcpgw-fixture stdio`, written down as a labelled stdio
// transcript: "TIME > message" for what the client wrote, "TIME < message" for what the server
// wrote. Server->client requests are answered with `sampling_reply`.
class StdioRecording {
 public:
  StdioRecording(const fs::path& dir, const std::string& name)
      : child_({MCPGW_FIXTURE_BINARY, "stdio"}, dir / (name + ".stderr")) {}
  StdioRecording(const StdioRecording&) = delete;
  StdioRecording& operator=(const StdioRecording&) = delete;
  ~StdioRecording() { child_.stop(); }

  json request(const json& message) {
    send(message);
    for (int lines = 0; lines < 1000; ++lines) {
      const auto line = child_.read_line(20s);
      if (!line)
        throw std::runtime_error("the fixture did not answer " + message.dump());
      transcript_ += now_rfc3339() + " < " + *line + "\n";
      json answer = json::parse(*line, nullptr, false);
      if (answer.is_discarded())
        continue;
      if (answer.contains("method") && answer.contains("id")) {
        send({{"jsonrpc", "2.0"}, {"id", answer["id"]}, {"result", sampling_reply()}});
        continue;
      }
      if (answer.contains("id") && answer["id"] == message["id"])
        return answer;
    }
    throw std::runtime_error("no answer to " + message.dump() + " within 1000 lines");
  }
  void notify(const json& message) { send(message); }
  void save(const fs::path& path) {
    child_.close_stdin();
    child_.wait(10s);
    write_file(path, transcript_);
  }
  static json sampling_reply() {
    return {{"role", "assistant"},
            {"content", {{"type", "text"}, {"text", "hi from the recorded client"}}},
            {"model", "recorded-model"},
            {"stopReason", "endTurn"}};
  }

 private:
  void send(const json& message) {
    const std::string text = message.dump();
    transcript_ += now_rfc3339() + " > " + text + "\n";
    child_.write_stdin(text + "\n");
  }
  Child child_;
  std::string transcript_;
};

json initialize_with_capabilities(int id) {
  return jsonrpc_request(
      id, "initialize",
      {{"protocolVersion", kVersion},
       {"capabilities", {{"sampling", json::object()}, {"roots", {{"listChanged", true}}}}},
       {"clientInfo", {{"name", "replay-recorder"}, {"version", "1.0"}}}});
}

json call(int id, const std::string& tool, const json& arguments) {
  return jsonrpc_request(id, "tools/call", {{"name", tool}, {"arguments", arguments}});
}

struct Replayed {
  Ran ran;
  json report;  // the --format json report, or null

  std::set<std::pair<std::string, std::string>> differences() const {
    std::set<std::pair<std::string, std::string>> out;
    if (!report.is_object())
      return out;
    for (const auto& difference : report["differences"]) {
      const std::string kind = difference.value("kind", "");
      std::string subject = difference.value("item", "");
      if (subject.empty())
        subject = difference.value("tool", "");
      if (subject.empty())
        subject = difference.value("method", "");
      out.emplace(kind, subject);
    }
    return out;
  }
  const json* find(const std::string& kind, const std::string& subject) const {
    for (const auto& difference : report["differences"]) {
      if (difference.value("kind", "") != kind)
        continue;
      if (difference.value("item", "") == subject || difference.value("tool", "") == subject ||
          difference.value("method", "") == subject)
        return &difference;
    }
    return nullptr;
  }
  std::string explain() const { return "stdout:\n" + ran.out + "\nstderr:\n" + ran.err; }
};

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("replay"); }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // The baseline: a session of calls, lists and one sampling round trip.
  fs::path record_baseline() {
    const fs::path path = dir_ / "baseline.log";
    StdioRecording recording(dir_, "recorded-fixture");
    recording.request(initialize_with_capabilities(0));
    recording.notify(jsonrpc_notification("notifications/initialized"));
    recording.request(jsonrpc_request(1, "tools/list"));
    recording.request(call(2, "echo", {{"text", "hello"}}));
    recording.request(call(3, "add", {{"a", 2}, {"b", 3}}));
    recording.request(jsonrpc_request(4, "prompts/list"));
    recording.request(jsonrpc_request(5, "resources/list"));
    const json sampled = recording.request(call(6, "test_sampling", {{"prompt", "Say hi"}}));
    EXPECT_EQ(sampled["result"]["content"][0]["text"], "LLM response: hi from the recorded client")
        << sampled.dump();
    recording.save(path);
    return path;
  }

  Replayed replay(std::vector<std::string> arguments) {
    std::vector<std::string> argv{MCPGW_BINARY, "replay", "--format", "json"};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    Replayed replayed;
    replayed.ran = run_to_end(argv, dir_, {}, 120s);
    replayed.report = json::parse(replayed.ran.out, nullptr, false);
    if (replayed.report.is_discarded())
      replayed.report = nullptr;
    return replayed;
  }

  static std::string fixture_command(const std::string& switches = "") {
    return std::string(MCPGW_FIXTURE_BINARY) + " stdio" + (switches.empty() ? "" : " " + switches);
  }

  fs::path dir_;
};

TEST_F(ReplayTest, TheSameServerReplaysIdentically) {
  const fs::path baseline = record_baseline();
  const auto replayed = replay({"--target-command", fixture_command(), baseline.string()});
  ASSERT_EQ(replayed.ran.status, 0) << replayed.explain();
  ASSERT_TRUE(replayed.report.is_object()) << replayed.explain();
  const json& report = replayed.report;
  EXPECT_EQ(report["v"], 1);
  EXPECT_EQ(report["changed"], 0) << replayed.explain();
  EXPECT_EQ(report["breaking"], 0);
  EXPECT_TRUE(report["differences"].empty()) << report["differences"].dump(2);
  ASSERT_EQ(report["sessions"].size(), 1u);
  // initialize, tools/list, echo, add, prompts/list, resources/list, test_sampling, and the
  // sampling request the target made (answered with the recorded reply).
  std::vector<std::string> methods;
  for (const auto& exchange : report["sessions"][0]["exchanges"])
    methods.push_back(exchange["method"].get<std::string>());
  EXPECT_EQ(methods, (std::vector<std::string>{"initialize", "tools/list", "tools/call",
                                               "tools/call", "prompts/list", "resources/list",
                                               "tools/call", "sampling/createMessage"}))
      << report["sessions"][0].dump(2);
  EXPECT_EQ(report["exchanges"], 8);
  EXPECT_EQ(report["identical"], 8);
}

TEST_F(ReplayTest, ARenamedToolIsBreakingAndItsCallsFail) {
  const fs::path baseline = record_baseline();
  const auto replayed =
      replay({"--target-command", fixture_command("--rename-tool add=sum"), baseline.string()});
  EXPECT_EQ(replayed.ran.status, 1) << replayed.explain();
  const json* renamed = replayed.find("tool_renamed", "add");
  ASSERT_NE(renamed, nullptr) << replayed.explain();
  EXPECT_TRUE((*renamed)["breaking"].get<bool>());
  EXPECT_NE((*renamed)["detail"].get<std::string>().find("sum"), std::string::npos);
  const json* failed = replayed.find("error_changed", "add");
  ASSERT_NE(failed, nullptr) << replayed.explain();
  EXPECT_EQ((*failed)["change"], "success_to_error");
  EXPECT_TRUE((*failed)["breaking"].get<bool>());
  EXPECT_EQ(replayed.find("tool_removed", "add"), nullptr) << "a rename is reported once";
}

TEST_F(ReplayTest, ANewRequiredParameterIsABreakingSchemaChange) {
  const fs::path baseline = record_baseline();
  const auto replayed = replay(
      {"--target-command", fixture_command("--require-argument echo.prefix"), baseline.string()});
  EXPECT_EQ(replayed.ran.status, 1) << replayed.explain();
  const json* schema = replayed.find("schema_changed", "echo");
  ASSERT_NE(schema, nullptr) << replayed.explain();
  EXPECT_TRUE((*schema)["breaking"].get<bool>());
  EXPECT_NE((*schema)["detail"].get<std::string>().find("prefix"), std::string::npos)
      << (*schema).dump();
  const json* failed = replayed.find("error_changed", "echo");
  ASSERT_NE(failed, nullptr) << replayed.explain();
  EXPECT_EQ((*failed)["change"], "success_to_error");
}

TEST_F(ReplayTest, AChangedOutputIsReportedButFailsOnlyWithFailOnAny) {
  const fs::path baseline = record_baseline();
  const std::vector<std::string> args{"--target-command", fixture_command("--echo-prefix v2:"),
                                      baseline.string()};
  const auto replayed = replay(args);
  EXPECT_EQ(replayed.ran.status, 0) << replayed.explain();
  const json* changed = replayed.find("result_changed", "echo");
  ASSERT_NE(changed, nullptr) << replayed.explain();
  EXPECT_FALSE((*changed)["breaking"].get<bool>());
  EXPECT_EQ((*changed)["path"], "/result/content/0/text");
  EXPECT_EQ((*changed)["recorded"], "hello");
  EXPECT_EQ((*changed)["replayed"], "v2:hello");
  EXPECT_EQ(replayed.report["changed"], 1);
  EXPECT_EQ(replayed.report["breaking"], 0);

  auto strict = args;
  strict.insert(strict.begin(), {"--fail-on", "any"});
  EXPECT_EQ(replay(strict).ran.status, 1);
  auto ignored = args;
  ignored.insert(ignored.begin(), {"--fail-on", "any", "--ignore", "/result/content/*/text"});
  const auto quiet = replay(ignored);
  EXPECT_EQ(quiet.ran.status, 0) << quiet.explain();
  EXPECT_EQ(quiet.report["changed"], 0);
}

TEST_F(ReplayTest, AnErrorWhereThereWasSuccessIsBreaking) {
  const fs::path baseline = record_baseline();
  const auto replayed =
      replay({"--target-command", fixture_command("--fail-tool add"), baseline.string()});
  EXPECT_EQ(replayed.ran.status, 1) << replayed.explain();
  const json* failed = replayed.find("error_changed", "add");
  ASSERT_NE(failed, nullptr) << replayed.explain();
  EXPECT_EQ((*failed)["change"], "success_to_error");
  EXPECT_TRUE((*failed)["breaking"].get<bool>());
  EXPECT_EQ(replayed.report["breaking"], 1) << "only the add call broke";
}

TEST_F(ReplayTest, SlowerAnswersAreFlaggedOverTheLatencyThreshold) {
  const fs::path baseline = record_baseline();
  const std::vector<std::string> args{"--latency-threshold", "2", "--target-command",
                                      fixture_command("--latency-ms 150"), baseline.string()};
  const auto replayed = replay(args);
  EXPECT_EQ(replayed.ran.status, 0) << replayed.explain();
  const json* slow = replayed.find("latency_regressed", "echo");
  ASSERT_NE(slow, nullptr) << replayed.explain();
  EXPECT_FALSE((*slow)["breaking"].get<bool>());
  EXPECT_NE(replayed.find("latency_regressed", "add"), nullptr) << replayed.explain();
  auto strict = args;
  strict.insert(strict.begin(), {"--fail-on", "any"});
  EXPECT_EQ(replay(strict).ran.status, 1);
  // Without a threshold latency is shown, never flagged.
  const auto unflagged =
      replay({"--target-command", fixture_command("--latency-ms 150"), baseline.string()});
  EXPECT_EQ(unflagged.report["changed"], 0) << unflagged.explain();
}

TEST_F(ReplayTest, ADescriptionChangeIsReportedOnItsOwn) {
  const fs::path baseline = record_baseline();
  const auto replayed =
      replay({"--target-command",
              fixture_command("--tool-description 'echo=Echoes, and also reads ~/.ssh'"),
              baseline.string()});
  EXPECT_EQ(replayed.ran.status, 0) << replayed.explain();
  const json* description = replayed.find("description_changed", "echo");
  ASSERT_NE(description, nullptr) << replayed.explain();
  EXPECT_FALSE((*description)["breaking"].get<bool>());
  EXPECT_EQ((*description)["replayed"], "Echoes, and also reads ~/.ssh");
}

TEST_F(ReplayTest, UnmatchedServerRequestsAreReportedAndAnsweredByDefaultOrError) {
  const fs::path baseline = record_baseline();
  const std::string target = fixture_command("--alter-client-requests");
  // No recorded reply matches the altered sampling request: replay answers -32601, so the
  // tool that asked now fails.
  const auto refused = replay({"--target-command", target, baseline.string()});
  EXPECT_EQ(refused.ran.status, 1) << refused.explain();
  EXPECT_NE(refused.find("server_request_unmatched", "sampling/createMessage"), nullptr)
      << refused.explain();
  EXPECT_NE(refused.find("server_request_missing", "sampling/createMessage"), nullptr)
      << refused.explain();
  const json* failed = refused.find("error_changed", "test_sampling");
  ASSERT_NE(failed, nullptr) << refused.explain();
  EXPECT_EQ((*failed)["change"], "success_to_error");

  // With a --reply default the tool succeeds with the default's text.
  const auto defaulted = replay(
      {"--reply",
       R"(sampling/createMessage={"role":"assistant","content":{"type":"text","text":"default"},"model":"m"})",
       "--target-command", target, baseline.string()});
  EXPECT_EQ(defaulted.ran.status, 0) << defaulted.explain();
  EXPECT_NE(defaulted.find("server_request_unmatched", "sampling/createMessage"), nullptr);
  const json* changed = defaulted.find("result_changed", "test_sampling");
  ASSERT_NE(changed, nullptr) << defaulted.explain();
  EXPECT_EQ((*changed)["replayed"], "LLM response: default");
}

TEST_F(ReplayTest, JunitAndRecordMakeTheNextBaseline) {
  const fs::path baseline = record_baseline();
  const fs::path junit = dir_ / "replay.xml";
  const fs::path next = dir_ / "next.jsonl";
  const auto replayed =
      replay({"--junit", junit.string(), "--record", next.string(), "--target-command",
              fixture_command("--rename-tool add=sum"), baseline.string()});
  EXPECT_EQ(replayed.ran.status, 1) << replayed.explain();
  const std::string xml = read_file(junit);
  EXPECT_EQ(xml.rfind("<?xml", 0), 0u) << xml;
  std::size_t testcases = 0;
  for (auto at = xml.find("<testcase"); at != std::string::npos; at = xml.find("<testcase", at + 1))
    ++testcases;
  EXPECT_EQ(testcases, replayed.report["exchanges"].get<std::size_t>()) << xml;
  EXPECT_NE(xml.find("<failure"), std::string::npos) << xml;

  // The recorded run is a capture that inspect reads and replay takes as the next baseline:
  // replaying it against the same upgraded server shows nothing.
  struct stat info {};
  ASSERT_EQ(::stat(next.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  const Ran inspected =
      run_to_end({MCPGW_BINARY, "inspect", "--format", "jsonl", next.string()}, dir_);
  EXPECT_EQ(inspected.status, 0) << inspected.err;
  const auto again =
      replay({"--target-command", fixture_command("--rename-tool add=sum"), next.string()});
  EXPECT_EQ(again.ran.status, 0) << again.explain();
  EXPECT_EQ(again.report["changed"], 0) << again.explain();
  EXPECT_EQ(again.report["exchanges"], replayed.report["exchanges"]);
}

TEST_F(ReplayTest, UsageInputAndTargetErrorsExitTwo) {
  const fs::path baseline = record_baseline();
  const Ran no_target = run_to_end({MCPGW_BINARY, "replay", baseline.string()}, dir_);
  EXPECT_EQ(no_target.status, 2);
  EXPECT_NE(no_target.err.find("--target"), std::string::npos) << no_target.err;

  const auto curl =
      replay({"--target-command", fixture_command(), (kRecorded / "curl-i.txt").string()});
  EXPECT_EQ(curl.ran.status, 2) << curl.explain();
  EXPECT_NE(curl.ran.err.find("request bodies"), std::string::npos) << curl.ran.err;

  const auto missing =
      replay({"--target-command", fixture_command(), (dir_ / "nope.jsonl").string()});
  EXPECT_EQ(missing.ran.status, 2) << missing.explain();

  const auto cannot_start =
      replay({"--target-command", (dir_ / "no-such-server").string(), baseline.string()});
  EXPECT_EQ(cannot_start.ran.status, 2) << cannot_start.explain();
  EXPECT_NE(cannot_start.ran.err.find("handshake"), std::string::npos) << cannot_start.ran.err;

  const auto bad_ignore =
      replay({"--ignore", "/a/b**", "--target-command", fixture_command(), baseline.string()});
  EXPECT_EQ(bad_ignore.ran.status, 2) << bad_ignore.explain();
  EXPECT_NE(bad_ignore.ran.err.find("--ignore"), std::string::npos) << bad_ignore.ran.err;
}

// Ctrl-C during a long replay: the target is stopped, what was replayed is reported, and the
// exit code says the run was interrupted.
TEST_F(ReplayTest, SigintStopsTheTargetAndReportsWhatWasReplayed) {
  const fs::path path = dir_ / "slow.log";
  {
    StdioRecording recording(dir_, "slow-fixture");
    recording.request(initialize_with_capabilities(0));
    recording.notify(jsonrpc_notification("notifications/initialized"));
    recording.request(call(1, "sleep", {{"ms", 10}}));
    recording.save(path);
  }
  // Replayed, the call sleeps for ten minutes.
  std::string transcript = read_file(path);
  const std::string recorded_sleep = R"("ms":10})";
  const auto at = transcript.find(recorded_sleep);
  ASSERT_NE(at, std::string::npos) << transcript;
  transcript.replace(at, recorded_sleep.size(), R"("ms":600000})");
  write_file(path, transcript);

  Child replay({MCPGW_BINARY, "replay", "--format", "json", "--log-level", "info",
                "--target-command", fixture_command("--log-level debug"), path.string()},
               dir_ / "replay.stderr");
  // The fixture logs the end of the handshake, and its stderr reaches replay's log; the sleep
  // call goes out right after (whether it is out yet changes nothing below).
  ASSERT_TRUE(wait_until(
      [&] {
        return replay.stderr_text().find("notification notifications/initialized") !=
               std::string::npos;
      },
      30s))
      << replay.stderr_text();
  const auto pids = started_backend_pids(replay.stderr_text());
  ASSERT_EQ(pids.size(), 1u) << replay.stderr_text();

  const int status = replay.stop(30s, SIGINT);
  ASSERT_TRUE(WIFEXITED(status)) << status << "\n" << replay.stderr_text();
  EXPECT_EQ(WEXITSTATUS(status), 130) << replay.stderr_text();
  EXPECT_NE(replay.stderr_text().find("SIGINT: stopping"), std::string::npos)
      << replay.stderr_text();
  EXPECT_TRUE(wait_until([&] { return process_ended(pids[0]); }, 10s))
      << "the target outlived the replay";

  const auto line = replay.read_line(5s);
  ASSERT_TRUE(line) << replay.stderr_text();
  const json report = json::parse(*line, nullptr, false);
  ASSERT_TRUE(report.is_object()) << *line;
  EXPECT_EQ(report["interrupted_by"], "SIGINT");
  EXPECT_EQ(report["sessions_not_replayed"], 0);
  EXPECT_EQ(report["exchanges"], 1) << *line;  // initialize; the sleep is not compared
  EXPECT_EQ(report["identical"], 1) << *line;
  EXPECT_TRUE(report["differences"].empty()) << *line;
  ASSERT_EQ(report["sessions"].size(), 1u);
  EXPECT_EQ(report["sessions"][0]["notes"],
            json::array({"the replay was interrupted (SIGINT): 1 of 1 requests not replayed"}))
      << *line;
}

// The same recording against the fixture over HTTP: Streamable HTTP, the legacy HTTP+SSE
// transport, and a backend of a gateway configuration (with its env); transports change
// nothing a client sees.
TEST_F(ReplayTest, UrlSseAndConfigTargetsReplayIdentically) {
  const fs::path baseline = record_baseline();
  RunningFixture http(dir_);
  const std::string base = "http://127.0.0.1:" + std::to_string(http.port());
  const auto streamable = replay({"--target-url", http.url(), baseline.string()});
  EXPECT_EQ(streamable.ran.status, 0) << streamable.explain();
  EXPECT_EQ(streamable.report["changed"], 0) << streamable.explain();
  EXPECT_FALSE(streamable.report["sessions"][0]["replayed_session"].get<std::string>().empty())
      << "the target's Mcp-Session-Id is reported";

  const auto legacy =
      replay({"--transport", "sse", "--target-url", base + "/sse", baseline.string()});
  EXPECT_EQ(legacy.ran.status, 0) << legacy.explain();
  EXPECT_EQ(legacy.report["changed"], 0) << legacy.explain();
  EXPECT_EQ(legacy.report["exchanges"], 8);

  const fs::path config = dir_ / "targets.toml";
  write_file(config, std::string("[[backend]]\nname = \"upgraded\"\ncommand = [\"") +
                         MCPGW_FIXTURE_BINARY +
                         "\", \"stdio\", \"--fail-tool\", \"add\"]\n\n[[backend]]\n"
                         "name = \"same\"\ncommand = [\"" +
                         MCPGW_FIXTURE_BINARY + "\", \"stdio\"]\n");
  const auto same = replay({"--config", config.string(), "--backend", "same", baseline.string()});
  EXPECT_EQ(same.ran.status, 0) << same.explain();
  EXPECT_EQ(same.report["changed"], 0) << same.explain();
  EXPECT_NE(same.report["target"].get<std::string>().find("backend same of"), std::string::npos)
      << same.report["target"];
  const auto upgraded =
      replay({"--config", config.string(), "--backend", "upgraded", baseline.string()});
  EXPECT_EQ(upgraded.ran.status, 1) << upgraded.explain();
  EXPECT_NE(upgraded.find("error_changed", "add"), nullptr) << upgraded.explain();
  const auto unknown =
      replay({"--config", config.string(), "--backend", "nope", baseline.string()});
  EXPECT_EQ(unknown.ran.status, 2);
  EXPECT_NE(unknown.ran.err.find("same"), std::string::npos) << unknown.ran.err;
}

// Every recorded input format of inspect's fixtures (tests/fixtures/inspect/record.sh: real
// tools talking to mcpgw-fixture) holds sessions replay re-sends; against the fixture named as
// it was when recorded, every exchange comes back identical.
TEST_F(ReplayTest, EveryRecordedInputFormatReplaysIdentically) {
  struct Input {
    std::vector<std::string> args;
    std::string server_name;  // the fixture's --name in record.sh
    int exchanges;
  };
  const std::vector<Input> inputs{
      {{"--leg", "backend", "--from-backend", "files",
        (kRecorded / "gateway.capture.jsonl").string()},
       "files",
       14},
      {{(kRecorded / "playwright.har").string()}, "recorded", 6},
      {{(kRecorded / "session.pcap").string()}, "recorded", 14},
      {{(kRecorded / "session.pcapng").string()}, "recorded", 14},
      {{(kRecorded / "stdio-client.ndjson").string(), (kRecorded / "stdio-server.ndjson").string()},
       "recorded-stdio",
       14},
  };
  for (const auto& input : inputs) {
    std::vector<std::string> args{"--target-command",
                                  fixture_command("--name " + input.server_name)};
    args.insert(args.end(), input.args.begin(), input.args.end());
    const auto replayed = replay(args);
    const std::string& name = input.args.back();
    EXPECT_EQ(replayed.ran.status, 0) << name << "\n" << replayed.explain();
    ASSERT_TRUE(replayed.report.is_object()) << name << "\n" << replayed.explain();
    EXPECT_EQ(replayed.report["exchanges"], input.exchanges) << name;
    EXPECT_EQ(replayed.report["changed"], 0) << name << "\n" << replayed.explain();
  }
}

// Two client sessions through `mcpgw serve --capture`; the backend leg of each is replayed
// against a server that crashes in the first session only. The crashed session reports the
// exchanges in flight as failed and the rest as not replayed; the next session starts a new
// process and is unaffected.
class ReplayGatewayCaptureTest : public ReplayTest {
 protected:
  std::string config_text() const {
    return std::string(
               "[auth]\nallow_anonymous = true\n\n[policy]\ndefault = "
               "\"allow\"\n\n[[backend]]\nname = \"app\"\n") +
           "command = [\"" + MCPGW_FIXTURE_BINARY + "\", \"stdio\"]\n";
  }

  // Records two sessions; returns the capture and the client session ids.
  std::pair<fs::path, std::vector<std::string>> record_two_sessions() {
    const fs::path capture = dir_ / "gateway.jsonl";
    std::vector<std::string> sessions;
    {
      RunningGateway gateway(dir_, config_text(), {"--capture", capture.string()});
      for (int n = 0; n < 2; ++n) {
        HttpConnection connection(gateway.port());
        std::string failure;
        const auto session = open_mcp_session(connection, kVersion, &failure);
        EXPECT_TRUE(session) << failure;
        if (!session)
          break;
        sessions.push_back(*session);
        int id = 1;
        for (const auto& message :
             {jsonrpc_request(id++, "tools/list"), call(id++, "echo", {{"text", "one"}}),
              call(id++, "add", {{"a", 1}, {"b", 2}}), call(id++, "echo", {{"text", "two"}})}) {
          const auto answer = connection.request(
              "POST", "/mcp", mcp_post_headers(*session, kVersion), message.dump());
          EXPECT_TRUE(answer && answer->status == 200);
        }
      }
      EXPECT_EQ(gateway.child().stop(), 0);
    }
    return {capture, sessions};
  }
};

TEST_F(ReplayGatewayCaptureTest, ATargetCrashEndsOnlyItsSession) {
  const auto [capture, sessions] = record_two_sessions();
  ASSERT_EQ(sessions.size(), 2u);
  // The first process started exits at its third request; later ones run normally.
  const fs::path marker = dir_ / "crashed-once";
  const std::string wrapper = "/bin/sh -c 'if [ -e " + marker.string() + " ]; then exec " +
                              MCPGW_FIXTURE_BINARY + " stdio; else touch " + marker.string() +
                              "; exec " + MCPGW_FIXTURE_BINARY + " stdio --crash-after 3; fi'";
  const auto replayed =
      replay({"--leg", "backend", "--from-backend", "app", "--session", sessions[0], "--session",
              sessions[1], "--target-command", wrapper, capture.string()});
  EXPECT_EQ(replayed.ran.status, 1) << replayed.explain();
  ASSERT_TRUE(replayed.report.is_object()) << replayed.explain();
  ASSERT_EQ(replayed.report["sessions"].size(), 2u) << replayed.explain();
  const json& crashed = replayed.report["sessions"][0];
  const json& next = replayed.report["sessions"][1];
  EXPECT_FALSE(crashed["notes"].empty()) << crashed.dump(2);
  std::set<std::string> crashed_kinds;
  for (const auto& difference : replayed.report["differences"]) {
    if (difference["session"] == crashed["id"])
      crashed_kinds.insert(difference["kind"].get<std::string>());
    else
      ADD_FAILURE() << "the second session has a difference: " << difference.dump();
  }
  EXPECT_TRUE(crashed_kinds.count("target_failed")) << replayed.explain();
  EXPECT_TRUE(crashed_kinds.count("not_replayed")) << replayed.explain();
  for (const auto& exchange : next["exchanges"])
    EXPECT_TRUE(exchange["identical"].get<bool>()) << exchange.dump();
}

// A gateway is a target like any other: the client leg replayed against a fresh gateway with
// the same configuration is identical.
TEST_F(ReplayGatewayCaptureTest, TheClientLegReplaysAgainstAGateway) {
  const auto [capture, sessions] = record_two_sessions();
  ASSERT_EQ(sessions.size(), 2u);
  const fs::path other = dir_ / "second";
  fs::create_directories(other);
  RunningGateway gateway(other, config_text());
  const auto replayed = replay({"--jobs", "2", "--target-url", gateway.url(), capture.string()});
  EXPECT_EQ(replayed.ran.status, 0) << replayed.explain();
  ASSERT_TRUE(replayed.report.is_object()) << replayed.explain();
  EXPECT_EQ(replayed.report["sessions"].size(), 2u) << replayed.explain();
  EXPECT_EQ(replayed.report["changed"], 0) << replayed.report["differences"].dump(2);
  EXPECT_EQ(replayed.report["exchanges"], 10);  // per session: initialize and four requests
}

}  // namespace
}  // namespace mcpgw::integration
