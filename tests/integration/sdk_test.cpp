// The official TypeScript SDK client (@modelcontextprotocol/sdk 1.32, run by Node 22 from
// .cache/peers) through the real `mcpgw serve` fronting two backends: mcpgw-fixture over stdio
// ("fix", one process per client session, pages of 3) and the real
// @modelcontextprotocol/server-everything over Streamable HTTP ("everything", forced onto
// 127.0.0.1 by sdk/loopback.cjs). Where server-everything lacks what a test needs (recording
// the cancellations it receives, changing its tool list on demand, being killed and started
// again on its port), a fixture in http mode is the HTTP backend instead.
//
// Each test runs one client script from tests/integration/sdk/ (*.mjs). A script checks what
// the SDK saw and exits 0, or prints "CHECK FAILED: ..." on stderr and exits 1; its last stdout
// line is a JSON summary that the test asserts on as well. Scripts that need the test to act
// mid-way (kill a backend, look at processes) print {"event": ...} and wait for a stdin line.
#include <sys/types.h>

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

#include "harness.hpp"

namespace mcpgw::integration::sdk {
namespace {

const std::string kStdio = "fix";
const std::string kHttp = "everything";

std::filesystem::path script_dir() {
  return std::filesystem::path(MCPGW_SOURCE_DIR) / "tests" / "integration" / "sdk";
}
std::filesystem::path everything_entry() {
  return peers_dir() / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" /
         "index.js";
}
bool peers_installed() {
  return std::filesystem::exists(node_binary()) && std::filesystem::exists(everything_entry()) &&
         std::filesystem::exists(peers_dir() / "node_modules" / "@modelcontextprotocol" / "sdk" /
                                 "package.json");
}

std::string tail(const std::string& text, std::size_t bytes = 6000) {
  return text.size() <= bytes ? text : "..." + text.substr(text.size() - bytes);
}

// ---- processes (read from /proc) ----

struct ProcessInfo {
  pid_t pid = 0;
  pid_t parent = 0;
  char state = '?';
  unsigned long long start_ticks = 0;
};

std::optional<ProcessInfo> process_info(pid_t pid) {
  const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos)
    return std::nullopt;
  std::istringstream fields(stat.substr(paren + 2));
  ProcessInfo info;
  info.pid = pid;
  std::string skip;
  fields >> info.state >> info.parent;
  for (int field = 5; field < 22 && fields; ++field)  // fields 5..21; 22 is starttime
    fields >> skip;
  fields >> info.start_ticks;
  if (!fields)
    return std::nullopt;
  return info;
}

std::vector<std::string> process_argv(pid_t pid) {
  const auto text = read_file("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> argv;
  std::string::size_type start = 0;
  while (start < text.size()) {
    const auto end = text.find('\0', start);
    argv.push_back(text.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return argv;
}

// Live (not zombie) children of `parent` whose argv has `--name <name>`: the gateway's stdio
// fixture processes of that backend.
std::vector<ProcessInfo> backend_processes(pid_t parent, const std::string& name) {
  std::vector<ProcessInfo> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const auto file = entry.path().filename().string();
    const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
    if (file.empty() || !std::all_of(file.begin(), file.end(), is_digit))
      continue;
    const auto info = process_info(static_cast<pid_t>(std::stol(file)));
    if (!info || info->parent != parent || info->state == 'Z')
      continue;
    const auto argv = process_argv(info->pid);
    for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--name" && argv[i + 1] == name) {
        found.push_back(*info);
        break;
      }
    }
  }
  return found;
}

bool process_gone(pid_t pid) {
  const auto info = process_info(pid);
  return !info || info->state == 'Z';
}

template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// ---- the peers ----

// server-everything in Streamable HTTP mode, on 127.0.0.1 and an ephemeral port (PORT=0; the
// preload binds loopback and prints the "listening on" line with the real port).
class RunningEverything {
 public:
  explicit RunningEverything(const std::filesystem::path& dir)
      : child_({node_binary().string(), "--require", (script_dir() / "loopback.cjs").string(),
                everything_entry().string(), "streamableHttp"},
               dir / "everything.stderr", {"PORT=0"}),
        port_(wait_for_port(child_)) {}
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/mcp"; }
  Child& child() { return child_; }

 private:
  Child child_;
  std::uint16_t port_;
};

struct ScriptResult {
  int exit_code = -1;      // -1: killed, or ended by a signal
  nlohmann::json output;   // the last stdout line, parsed (null when none)
  std::string transcript;  // stdout and stderr, for failure messages
};

// A Node client script from tests/integration/sdk/, stopped by PID in every path.
class NodeScript {
 public:
  NodeScript(const std::filesystem::path& dir, const std::string& script,
             const std::vector<std::string>& args)
      : child_(argv(script, args), next_stderr_file(dir, script),
               {"MCPGW_PEERS_DIR=" + peers_dir().string(), "MCPGW_SDK_SCRIPT_TIMEOUT_MS=40000"}) {}

  // The next stdout line as JSON (null on timeout, end of output or a line that is not JSON).
  nlohmann::json next_line(std::chrono::milliseconds timeout = 45s) {
    auto line = child_.read_line(timeout);
    if (!line)
      return nullptr;
    stdout_ += *line + "\n";
    return nlohmann::json::parse(*line, nullptr, false);
  }
  void send_line(const std::string& text) { child_.write_stdin(text + "\n"); }

  // Reads stdout to its end and waits for the exit (bounded; killed after `timeout`).
  ScriptResult finish(std::chrono::milliseconds timeout = 50s) {
    const auto deadline = Clock::now() + timeout;
    std::string last;
    while (Clock::now() < deadline) {
      auto line = child_.read_line(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
      if (!line)
        break;
      stdout_ += *line + "\n";
      if (!line->empty())
        last = *line;
    }
    ScriptResult result;
    const auto left =
        std::max(std::chrono::milliseconds(100),
                 std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    const auto status = child_.wait(left);
    const int stopped = status ? *status : child_.stop(1s, SIGKILL);
    if (stopped >= 0 && WIFEXITED(stopped))
      result.exit_code = WEXITSTATUS(stopped);
    result.output = nlohmann::json::parse(last, nullptr, false);
    if (result.output.is_discarded())
      result.output = nullptr;
    result.transcript = "--- script stdout ---\n" + tail(stdout_) + "--- script stderr ---\n" +
                        tail(child_.stderr_text());
    return result;
  }

 private:
  static std::vector<std::string> argv(const std::string& script,
                                       const std::vector<std::string>& args) {
    std::vector<std::string> out{node_binary().string(), (script_dir() / script).string()};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }
  static std::filesystem::path next_stderr_file(const std::filesystem::path& dir,
                                                const std::string& script) {
    static int counter = 0;
    return dir / (script + "." + std::to_string(++counter) + ".stderr");
  }

  Child child_;
  std::string stdout_;
};

// Reads the script's next line and checks that it is the pause {"event": event}; otherwise
// ends the script and fails with its output.
::testing::AssertionResult reached(NodeScript& script, const std::string& event) {
  const auto line = script.next_line();
  if (line.is_object() && line.value("event", "") == event)
    return ::testing::AssertionSuccess();
  const auto run = script.finish();
  return ::testing::AssertionFailure() << "the script did not reach its pause '" << event << "'\n"
                                       << run.transcript;
}

// The most recently started of `processes` (not empty): with one stdio process per client
// session, the one of the session that just started (the gateway may keep an older one for
// discovery).
ProcessInfo newest(const std::vector<ProcessInfo>& processes) {
  return *std::max_element(
      processes.begin(), processes.end(),
      [](const ProcessInfo& a, const ProcessInfo& b) { return a.start_ticks < b.start_ticks; });
}

// ---- gateway configuration ----

std::string toml_string(const std::string& text) {
  return nlohmann::json(text).dump();  // a JSON string is a valid TOML basic string here
}

std::vector<std::string> stdio_fixture_command(const std::string& name) {
  return {MCPGW_FIXTURE_BINARY, "stdio", "--name", name, "--page-size", "3", "--extra-tools", "7"};
}

std::string stdio_backend(const std::string& name, const std::string& session_mode) {
  std::string command;
  for (const auto& word : stdio_fixture_command(name))
    command += (command.empty() ? "" : ", ") + toml_string(word);
  return "[[backend]]\nname = " + toml_string(name) + "\ncommand = [" + command +
         "]\nsession_mode = " + toml_string(session_mode) + "\nrestart_backoff = \"100ms\"\n";
}

std::string http_backend(const std::string& name, const std::string& url) {
  return "[[backend]]\nname = " + toml_string(name) + "\nurl = " + toml_string(url) + "\n";
}

class SdkThroughGateway : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    everything_.reset();
    if (!suite_dir_.empty())
      std::filesystem::remove_all(suite_dir_);
  }

  // server-everything, started by the first test that needs it and shared by the suite (ctest
  // runs every test in its own process, so there it is one per test that uses it).
  static RunningEverything& everything() {
    if (!everything_) {
      if (suite_dir_.empty())
        suite_dir_ = make_temp_dir("mcpgw-sdk-everything");
      try {
        everything_ = std::make_unique<RunningEverything>(suite_dir_);
      } catch (const std::exception& error) {
        throw std::runtime_error("server-everything did not start: " + std::string(error.what()) +
                                 "\n" + read_file(suite_dir_ / "everything.stderr"));
      }
    }
    if (!everything_->child().running())
      throw std::runtime_error("server-everything exited: " + everything_->child().stderr_text());
    return *everything_;
  }

  void SetUp() override {
    ASSERT_TRUE(peers_installed()) << "the npm test peers are missing; run scripts/peers.sh";
    dir_ = make_temp_dir("mcpgw-sdk");
  }

  void TearDown() override {
    if (gateway_)
      stop_gateway();
    fixtures_.clear();
    std::filesystem::remove_all(dir_);
  }

  // mcpgw serve with the stdio fixture and (unless told otherwise) server-everything, then
  // `more` backends.
  RunningGateway& start_gateway(const std::string& more = "",
                                const std::string& stdio_session_mode = "per_session",
                                bool with_everything = true) {
    gateway_ = std::make_unique<RunningGateway>(
        dir_, "[policy]\ndefault = \"allow\"\n[auth]\nallow_anonymous = true\n" +
                  stdio_backend(kStdio, stdio_session_mode) +
                  (with_everything ? http_backend(kHttp, everything().url()) : "") + more);
    return *gateway_;
  }

  // A fixture in http mode (the HTTP backend where server-everything lacks a feature).
  RunningFixture& start_http_fixture(const std::string& name) {
    fixtures_.push_back(
        std::make_unique<RunningFixture>(dir_, std::vector<std::string>{"--name", name}, name));
    return *fixtures_.back();
  }

  std::vector<std::string> common_args(bool sse = false) const {
    return {"--gateway",
            sse ? "http://127.0.0.1:" + std::to_string(gateway_->port()) + "/sse" : gateway_->url(),
            "--stdio-name",
            kStdio,
            "--http-name",
            kHttp};
  }

  ScriptResult run_script(const std::string& script, const std::vector<std::string>& args) {
    NodeScript node(dir_, script, args);
    return node.finish();
  }

  // What a failure message needs besides the script's own output.
  std::string gateway_log() const {
    return gateway_ ? "--- gateway stderr (tail) ---\n" + tail(gateway_->child().stderr_text())
                    : "";
  }

  // SIGTERM: the gateway drains, exits 0 and leaves none of its stdio backends running.
  void stop_gateway() {
    const pid_t pid = gateway_->child().pid();
    const auto backends = backend_processes(pid, kStdio);
    EXPECT_EQ(gateway_->child().stop(), 0) << gateway_log();
    for (const auto& backend : backends) {
      EXPECT_TRUE(eventually([&] { return process_gone(backend.pid); }))
          << "stdio backend process " << backend.pid << " outlived the gateway";
      if (!process_gone(backend.pid))
        ::kill(backend.pid, SIGKILL);
    }
    gateway_.reset();
  }

  static inline std::filesystem::path suite_dir_;
  static inline std::unique_ptr<RunningEverything> everything_;
  std::filesystem::path dir_;
  std::vector<std::unique_ptr<RunningFixture>> fixtures_;
  std::unique_ptr<RunningGateway> gateway_;
};

nlohmann::json stdio_command_json() {
  return nlohmann::json(stdio_fixture_command(kStdio));
}

TEST_F(SdkThroughGateway, PagesPrefixedListsOfBothBackendsWithCursors) {
  start_gateway();
  auto args = common_args();
  args.insert(args.end(), {"--http-backend", everything().url(), "--stdio-command",
                           stdio_command_json().dump()});
  const auto run = run_script("lists.mjs", args);
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  const auto& out = run.output;
  // The script compared the sets; here the shape: every page of both backends was seen.
  EXPECT_GT(out["stdio"]["tools"]["pages"].get<int>(), 1) << out.dump();
  EXPECT_GE(out["gateway"]["tools"]["pages"].get<int>(), out["stdio"]["tools"]["pages"].get<int>())
      << out.dump();
  for (const auto* kind : {"tools", "prompts", "resources", "templates"}) {
    EXPECT_EQ(out["gateway"][kind]["count"].get<int>(),
              out["stdio"][kind]["count"].get<int>() + out["http"][kind]["count"].get<int>())
        << kind << ": " << out.dump();
  }
  const auto names = out["toolNames"].get<std::vector<std::string>>();
  for (const auto* expected : {"fix__echo", "fix__tool_6", "everything__echo",
                               "everything__trigger-long-running-operation"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
}

TEST_F(SdkThroughGateway, RoutesCallsPromptsAndResourceReadsToTheOwningBackend) {
  start_gateway();
  const auto run = run_script("calls.mjs", common_args());
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_EQ(run.output["server"]["name"], "mcpgw") << run.output.dump();
  for (const auto* unroutable : {"nobody__echo", "echo"}) {
    const auto& error = run.output["errors"][unroutable];
    ASSERT_TRUE(error.contains("code"))
        << unroutable << " should get a JSON-RPC error: " << run.output.dump();
    EXPECT_EQ(error["code"], -32602) << run.output.dump();
  }
}

TEST_F(SdkThroughGateway, DeliversProgressToTheCallersOnprogress) {
  start_gateway();
  const auto run = run_script("progress.mjs", common_args());
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_EQ(run.output["stdioProgress"].size(), 3u) << run.output.dump();
  EXPECT_EQ(run.output["httpProgress"].size(), 3u) << run.output.dump();
  EXPECT_EQ(run.output["secondProgress"].size(), 3u) << run.output.dump();
}

TEST_F(SdkThroughGateway, SharedStdioBackendKeepsTheProgressOfConcurrentSessionsApart) {
  // One fixture process serves every client session: the gateway rewrites request ids and
  // progress tokens, which both SDK clients choose alike.
  start_gateway("", "shared");
  const auto run = run_script("progress.mjs", common_args());
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_EQ(run.output["stdioProgress"].size(), 3u) << run.output.dump();
  EXPECT_EQ(run.output["secondProgress"].size(), 3u) << run.output.dump();
  EXPECT_EQ(backend_processes(gateway_->child().pid(), kStdio).size(), 1u)
      << "shared mode should run one stdio backend process\n"
      << gateway_log();
}

TEST_F(SdkThroughGateway, RoundTripsSamplingElicitationAndRootsFromBothBackends) {
  start_gateway();
  const auto run = run_script("roundtrips.mjs", common_args());
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_EQ(run.output["asked"]["sampling"].size(), 2u) << run.output.dump();
  EXPECT_EQ(run.output["asked"]["elicitation"].size(), 2u) << run.output.dump();
  EXPECT_GE(run.output["asked"]["roots"].get<int>(), 2) << run.output.dump();
}

TEST_F(SdkThroughGateway, ReadsTextAndBinaryResourcesByRewrittenUris) {
  start_gateway();
  const auto run = run_script("resources.mjs", common_args());
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_GT(run.output["reads"]["fixtureBinaryBytes"].get<int>(), 8) << run.output.dump();
  EXPECT_EQ(run.output["updated"], nlohmann::json::array({"fix+test://watched-resource"}))
      << run.output.dump();
}

TEST_F(SdkThroughGateway, SendsCancellationOnlyToTheOwningBackend) {
  // Two fixture backends, stdio "fix" and http "peer": the fixture records the cancellations it
  // receives (server-everything cannot tell).
  auto& peer = start_http_fixture("peer");
  start_gateway(http_backend("peer", peer.url()), "per_session", false);
  const auto run =
      run_script("cancel.mjs", {"--gateway", gateway_->url(), "--backends", kStdio + ",peer"});
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  const auto& rounds = run.output["rounds"];
  ASSERT_EQ(rounds.size(), 2u) << run.output.dump();
  // fix's cancellation reached fix only; then peer's reached peer only.
  EXPECT_EQ(rounds[0]["ownerAfter"].size(), 1u) << run.output.dump();
  EXPECT_EQ(rounds[0]["otherAfter"].size(), 0u) << run.output.dump();
  EXPECT_EQ(rounds[1]["ownerAfter"].size(), 1u) << run.output.dump();
  EXPECT_EQ(rounds[1]["otherAfter"].size(), 1u) << run.output.dump();
}

TEST_F(SdkThroughGateway, ForwardsListChangedOfAStdioBackendAndListsTheNewTool) {
  start_gateway();
  const auto run = run_script(
      "listchanged.mjs", {"--gateway", gateway_->url(), "--changing", kStdio, "--steady", kHttp});
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_GT(run.output["notifications"].get<int>(), run.output["notificationsBefore"].get<int>())
      << run.output.dump();
  EXPECT_EQ(run.output["after"].get<int>(), run.output["before"].get<int>() + 1)
      << run.output.dump();
}

TEST_F(SdkThroughGateway, ForwardsListChangedOfAnHttpBackendExactlyOnceAndListsTheNewTool) {
  // server-everything cannot change its tool list on demand (and sends list_changed of its own
  // after initialize); here the HTTP backend is the fixture in http mode, the only backends are
  // fixtures, and the client must see exactly one list_changed.
  auto& peer = start_http_fixture("peer");
  start_gateway(http_backend("peer", peer.url()), "per_session", false);
  const auto run = run_script("listchanged.mjs", {"--gateway", gateway_->url(), "--changing",
                                                  "peer", "--steady", kStdio, "--exactly-one"});
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_EQ(run.output["notifications"].get<int>(), 1) << run.output.dump();
  EXPECT_EQ(run.output["after"].get<int>(), run.output["before"].get<int>() + 1)
      << run.output.dump();
}

TEST_F(SdkThroughGateway, SessionDeleteEndsTheSessionAndReleasesItsBackendProcess) {
  auto& gateway = start_gateway();
  NodeScript script(dir_, "delete.mjs", common_args());
  ASSERT_TRUE(reached(script, "connected")) << gateway_log();
  const auto processes = backend_processes(gateway.child().pid(), kStdio);
  ASSERT_FALSE(processes.empty()) << gateway_log();
  const auto session_process = newest(processes);
  script.send_line("go");
  const auto run = script.finish();
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_EQ(run.output["statuses"]["post"], 404) << run.output.dump();
  EXPECT_EQ(run.output["statuses"]["get"], 404) << run.output.dump();
  EXPECT_EQ(run.output["statuses"]["delete"], 404) << run.output.dump();
  EXPECT_TRUE(eventually([&] { return process_gone(session_process.pid); }))
      << "the stdio backend process " << session_process.pid
      << " of the deleted session is still running\n"
      << gateway_log();
}

TEST_F(SdkThroughGateway, StdioBackendCrashingMidCallFailsCallsInFlightAndRestarts) {
  start_gateway();
  const auto run = run_script("crash.mjs", {"--gateway", gateway_->url(), "--victim", kStdio,
                                            "--survivor", kHttp, "--mode", "tool"});
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_TRUE(run.output["outcomes"]["crash"].contains("code")) << run.output.dump();
  EXPECT_TRUE(run.output["outcomes"]["sleep"].contains("code")) << run.output.dump();
}

TEST_F(SdkThroughGateway, StdioBackendKilledMidCallFailsTheCallAndRestarts) {
  auto& gateway = start_gateway();
  NodeScript script(dir_, "crash.mjs",
                    {"--gateway", gateway_->url(), "--victim", kStdio, "--survivor", kHttp,
                     "--mode", "external"});
  ASSERT_TRUE(reached(script, "sleeping")) << gateway_log();
  const auto processes = backend_processes(gateway.child().pid(), kStdio);
  ASSERT_FALSE(processes.empty()) << gateway_log();
  const auto session_process = newest(processes);
  ASSERT_EQ(::kill(session_process.pid, SIGKILL), 0);
  script.send_line("killed");
  ASSERT_TRUE(reached(script, "failed")) << gateway_log();
  script.send_line("go on");
  const auto run = script.finish();
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_TRUE(run.output["outcomes"]["sleep"].contains("code")) << run.output.dump();
  // The gateway restarted the backend: a new process answered.
  const auto after = backend_processes(gateway.child().pid(), kStdio);
  EXPECT_TRUE(std::none_of(after.begin(), after.end(),
                           [&](const ProcessInfo& p) { return p.pid == session_process.pid; }));
}

TEST_F(SdkThroughGateway, HttpBackendKilledMidCallFailsTheCallAndItsNewProcessIsReinitialized) {
  // The HTTP backend is a fixture the test kills, then starts again on the same port: the
  // gateway's backend session id is unknown there (404), so the gateway must initialize a new
  // upstream session transparently while the client keeps its session.
  auto& peer = start_http_fixture("peer");
  start_gateway(http_backend("peer", peer.url()), "per_session", false);
  NodeScript script(dir_, "crash.mjs",
                    {"--gateway", gateway_->url(), "--victim", "peer", "--survivor", kStdio,
                     "--mode", "external"});
  ASSERT_TRUE(reached(script, "sleeping")) << gateway_log();
  peer.child().stop(5s, SIGKILL);
  script.send_line("killed");
  ASSERT_TRUE(reached(script, "failed")) << gateway_log();
  Child restarted({MCPGW_FIXTURE_BINARY, "http", "--listen",
                   "127.0.0.1:" + std::to_string(peer.port()), "--name", "peer"},
                  dir_ / "peer-restarted.stderr");
  ASSERT_EQ(wait_for_port(restarted), peer.port());
  script.send_line("restarted");
  const auto run = script.finish();
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_TRUE(run.output["outcomes"]["sleep"].contains("code")) << run.output.dump();
  EXPECT_NE(gateway_->child().stderr_text().find("session expired"), std::string::npos)
      << "the gateway should log the re-initialization after the 404\n"
      << gateway_log();
}

TEST_F(SdkThroughGateway, LegacySseFrontEndInitializesListsAndCalls) {
  start_gateway();
  const auto run = run_script("sse.mjs", common_args(true));
  ASSERT_EQ(run.exit_code, 0) << run.transcript << gateway_log();
  EXPECT_GT(run.output["pages"].get<int>(), 1) << run.output.dump();
  EXPECT_FALSE(run.output["progress"].empty()) << run.output.dump();
}

}  // namespace
}  // namespace mcpgw::integration::sdk
