// `mcpgw serve` as a process: drain on SIGTERM with its backends stopped, the exit statuses and
// messages of a bad start (configuration errors, TLS, address in use, usage), the demo
// configuration (printed, linted, served without --config) and JSON logging.
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "harness.hpp"

namespace mcpgw::integration {
namespace {

std::string fixture_binary() {
  return MCPGW_FIXTURE_BINARY;
}

const std::string kAllowEverything =
    "[policy]\n"
    "default = \"allow\"\n"
    "[auth]\n"
    "allow_anonymous = true\n";

std::string stdio_backend(const std::string& name) {
  return "[[backend]]\nname = \"" + name + "\"\ncommand = [\"" + fixture_binary() +
         "\", \"stdio\", \"--name\", \"" + name + "\"]\n";
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + status;
}

// Runs a program to its end (bounded): its exit code, standard output and standard error.
struct Finished {
  int code = -1;
  std::string out;
  std::string err;
};

Finished run_to_end(const std::filesystem::path& dir, const std::vector<std::string>& argv,
                    const std::vector<std::string>& env = {}) {
  static int counter = 0;
  const auto err_file = dir / ("run-" + std::to_string(++counter) + ".stderr");
  Child child(argv, err_file, env);
  child.close_stdin();
  Finished out;
  while (auto line = child.read_line(15s))
    out.out += *line + "\n";
  const auto status = child.wait(15s);
  out.code = status ? exit_code(*status) : -1;
  out.err = child.stderr_text();
  return out;
}

class ServeLifecycle : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("mcpgw-serve-lifecycle"); }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::filesystem::path write_config(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    write_file(path, text);
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(ServeLifecycle, SigtermDrainsTheCallInFlightThenStopsTheBackends) {
  RunningGateway gateway(dir_, "[server]\n" + kAllowEverything + stdio_backend("local"));
  HttpConnection connection(gateway.port());
  std::string failure;
  const auto id = open_mcp_session(connection, "2025-06-18", &failure);
  ASSERT_TRUE(id) << failure << gateway.child().stderr_text();
  ASSERT_TRUE(wait_until([&] {
    return started_backend_pids(gateway.child().stderr_text()).size() == 1;
  })) << gateway.child().stderr_text();

  HttpConnection slow(gateway.port());
  slow.send_request(
      "POST", "/mcp", mcp_post_headers(*id, "2025-06-18"),
      jsonrpc_request(1, "tools/call", {{"name", "sleep"}, {"arguments", {{"ms", 500}}}}).dump());
  // The session's own backend process starts with its first call: the call is in flight.
  ASSERT_TRUE(wait_until([&] {
    return started_backend_pids(gateway.child().stderr_text()).size() == 2;
  })) << gateway.child().stderr_text();
  const auto pids = started_backend_pids(gateway.child().stderr_text());
  ASSERT_EQ(::kill(gateway.child().pid(), SIGTERM), 0);

  auto answer = slow.read_head(10s);
  ASSERT_TRUE(answer) << gateway.child().stderr_text();
  const auto body = slow.read_body(10s);
  ASSERT_TRUE(body);
  answer->body = *body;
  EXPECT_EQ(answer->status, 200) << answer->body;
  EXPECT_EQ(answer_response(*answer)["result"]["content"][0]["text"], "slept 500 ms")
      << answer->body;

  const auto status = gateway.child().wait(20s);
  ASSERT_TRUE(status) << "still running after SIGTERM\n" << gateway.child().stderr_text();
  EXPECT_EQ(exit_code(*status), 0) << gateway.child().stderr_text();
  for (const auto pid : pids)
    EXPECT_TRUE(wait_until([pid] { return process_ended(pid); }, 5s))
        << "backend process " << pid << " is still running";
  const auto log = gateway.child().stderr_text();
  EXPECT_NE(log.find("SIGTERM: draining"), std::string::npos) << log;
  EXPECT_EQ(log.find("still in flight; closing"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
}

TEST_F(ServeLifecycle, ConfigurationWithErrorsExits1WithDiagnostics) {
  const auto config = write_config("broken.toml",
                                   "[server]\n"
                                   "listen = \"127.0.0.1:0\"\n"
                                   "no_such_setting = 1\n" +
                                       kAllowEverything +
                                       "[[backend]]\n"
                                       "name = \"nothing\"\n");
  const auto run = run_to_end(dir_, {MCPGW_BINARY, "serve", "--config", config.string()});
  EXPECT_EQ(run.code, 1) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;  // nothing listened
  EXPECT_NE(run.err.find("broken.toml"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("no_such_setting"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("error"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("nothing was started"), std::string::npos) << run.err;
  // The same diagnostics as lint's text output.
  const auto lint = run_to_end(dir_, {MCPGW_BINARY, "lint", config.string()});
  EXPECT_EQ(lint.code, 1) << lint.err;
  const auto diagnostics = lint.out + lint.err;
  std::istringstream lines(diagnostics);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("error") != std::string::npos && line.find("broken.toml") != std::string::npos) {
      EXPECT_NE(run.err.find(line), std::string::npos) << "lint said: " << line << "\n" << run.err;
    }
  }
}

TEST_F(ServeLifecycle, ConfigurationWithoutBackendsExits1) {
  const auto config = write_config("empty.toml", "[server]\nlisten = \"127.0.0.1:0\"\n");
  const auto run = run_to_end(dir_, {MCPGW_BINARY, "serve", "--config", config.string()});
  EXPECT_EQ(run.code, 1) << run.err;
  EXPECT_NE(run.err.find("configures no [[backend]]"), std::string::npos) << run.err;
}

TEST_F(ServeLifecycle, UnusableTlsCertificateExits1WithTheReason) {
  // PEM-shaped files that are no certificate and no key: lint's checks pass, OpenSSL refuses.
  write_file(dir_ / "cert.pem",
             "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
  write_file(dir_ / "key.pem",
             "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
  const auto config = write_config("tls.toml",
                                   "[server]\n"
                                   "listen = \"127.0.0.1:0\"\n"
                                   "[server.tls]\n"
                                   "cert = \"cert.pem\"\n"
                                   "key = \"key.pem\"\n" +
                                       kAllowEverything + stdio_backend("local"));
  const auto run = run_to_end(dir_, {MCPGW_BINARY, "serve", "--config", config.string()});
  EXPECT_EQ(run.code, 1) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_NE(run.err.find("cannot listen"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("cert.pem"), std::string::npos) << run.err;
}

TEST_F(ServeLifecycle, AddressInUseExits1WithTheReason) {
  const int holder = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(holder, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  ASSERT_EQ(::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const auto listen = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  const auto config =
      write_config("gateway.toml", "[server]\n" + kAllowEverything + stdio_backend("local"));
  const auto run =
      run_to_end(dir_, {MCPGW_BINARY, "serve", "--config", config.string(), "--listen", listen});
  ::close(holder);
  EXPECT_EQ(run.code, 1) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
  EXPECT_NE(run.err.find(listen), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("in use"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("Success"), std::string::npos) << run.err;
  // No backend process was left behind (none is logged as started, or it was stopped).
  for (const auto pid : started_backend_pids(run.err))
    EXPECT_TRUE(wait_until([pid] { return process_ended(pid); }, 5s)) << pid;
}

TEST_F(ServeLifecycle, UsageErrorsExit2) {
  const auto config =
      write_config("gateway.toml", "[server]\n" + kAllowEverything + stdio_backend("local"));
  const std::vector<std::vector<std::string>> cases = {
      {"--listen", "not an address"},
      {"--log-level", "loud"},
      {"--log-format", "xml"},
      {"--no-such-option"},
  };
  for (const auto& extra : cases) {
    std::vector<std::string> argv{MCPGW_BINARY, "serve", "--config", config.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto run = run_to_end(dir_, argv);
    EXPECT_EQ(run.code, 2) << extra[0] << ": " << run.err;
    EXPECT_FALSE(run.err.empty()) << extra[0];
    EXPECT_TRUE(run.out.empty()) << extra[0] << ": " << run.out;
  }
}

TEST_F(ServeLifecycle, PrintedDemoConfigPassesLintWithMcpgwFixtureSet) {
  const auto printed = run_to_end(dir_, {MCPGW_BINARY, "serve", "--print-demo-config"});
  ASSERT_EQ(printed.code, 0) << printed.err;
  EXPECT_NE(printed.out.find("[[backend]]"), std::string::npos) << printed.out;
  EXPECT_NE(printed.out.find("${MCPGW_FIXTURE}"), std::string::npos) << printed.out;
  const auto config = write_config("demo.toml", printed.out);
  const auto lint = run_to_end(dir_, {MCPGW_BINARY, "lint", config.string()},
                               {"MCPGW_FIXTURE=" + fixture_binary()});
  EXPECT_EQ(lint.code, 0) << lint.out << lint.err;
  if (std::getenv("MCPGW_FIXTURE") == nullptr) {
    // lint does not fill the variable in: the reference is reported.
    const auto bare = run_to_end(dir_, {MCPGW_BINARY, "lint", config.string()});
    EXPECT_EQ(bare.code, 1) << bare.out << bare.err;
    EXPECT_NE((bare.out + bare.err).find("MCPGW_FIXTURE"), std::string::npos)
        << bare.out << bare.err;
    // Neither does serve for a file given with --config: only the built-in demo gets it.
    const auto served = run_to_end(
        dir_, {MCPGW_BINARY, "serve", "--config", config.string(), "--listen", "127.0.0.1:0"});
    EXPECT_EQ(served.code, 1) << served.out << served.err;
    EXPECT_NE(served.err.find("MCPGW_FIXTURE"), std::string::npos) << served.err;
  }
}

std::set<std::string> tool_names(HttpConnection& connection, const std::string& session) {
  std::set<std::string> names;
  nlohmann::json cursor;
  for (int page = 0; page < 50; ++page) {
    nlohmann::json params = nlohmann::json::object();
    if (cursor.is_string())
      params["cursor"] = cursor;
    const auto answer = connection.request("POST", "/mcp", mcp_post_headers(session, "2025-06-18"),
                                           jsonrpc_request(page + 10, "tools/list", params).dump());
    if (!answer)
      break;
    const auto response = answer_response(*answer);
    for (const auto& tool : response["result"]["tools"])
      names.insert(tool.value("name", ""));
    cursor = response["result"].value("nextCursor", nlohmann::json());
    if (!cursor.is_string())
      break;
  }
  return names;
}

TEST_F(ServeLifecycle, WithoutConfigServesTheDemoWithBothBackends) {
  RunningFixture remote(dir_, {"--name", "remote"}, "remote");
  Child gateway({MCPGW_BINARY, "serve", "--listen", "127.0.0.1:0"}, dir_ / "demo.stderr",
                {"MCPGW_DEMO_BACKEND_PORT=" + std::to_string(remote.port())});
  const auto port = wait_for_port(gateway);
  HttpConnection connection(port);
  std::string failure;
  const auto id = open_mcp_session(connection, "2025-06-18", &failure);
  ASSERT_TRUE(id) << failure << gateway.stderr_text();
  const auto names = tool_names(connection, *id);
  for (const std::string expected : {"local__echo", "local__sleep", "remote__echo", "remote__add"})
    EXPECT_EQ(names.count(expected), 1u) << expected << " missing\n" << gateway.stderr_text();
  for (const auto& name : names)
    EXPECT_TRUE(name.rfind("local__", 0) == 0 || name.rfind("remote__", 0) == 0) << name;
  // A call through each backend.
  const auto call = connection.request(
      "POST", "/mcp", mcp_post_headers(*id, "2025-06-18"),
      jsonrpc_request(2, "tools/call",
                      {{"name", "remote__add"}, {"arguments", {{"a", 2}, {"b", 3}}}})
          .dump());
  ASSERT_TRUE(call);
  EXPECT_EQ(answer_response(*call)["result"]["structuredContent"]["sum"], 5) << call->body;
  const auto echo = connection.request(
      "POST", "/mcp", mcp_post_headers(*id, "2025-06-18"),
      jsonrpc_request(3, "tools/call", {{"name", "local__echo"}, {"arguments", {{"text", "hi"}}}})
          .dump());
  ASSERT_TRUE(echo);
  EXPECT_EQ(answer_response(*echo)["result"]["content"][0]["text"], "hi") << echo->body;
  EXPECT_NE(gateway.stderr_text().find("no --config: serving the built-in demo configuration"),
            std::string::npos)
      << gateway.stderr_text();
  const auto pids = started_backend_pids(gateway.stderr_text());
  EXPECT_EQ(pids.size(), 2u) << gateway.stderr_text();  // discovery and this session
  EXPECT_EQ(exit_code(gateway.stop(20s)), 0) << gateway.stderr_text();
  for (const auto pid : pids)
    EXPECT_TRUE(wait_until([pid] { return process_ended(pid); }, 5s)) << pid;
}

TEST_F(ServeLifecycle, JsonLogFormatWritesOneJsonObjectPerLine) {
  RunningGateway gateway(dir_, "[server]\n" + kAllowEverything + stdio_backend("local"),
                         {"--log-format", "json"});
  HttpConnection connection(gateway.port());
  std::string failure;
  ASSERT_TRUE(open_mcp_session(connection, "2025-06-18", &failure)) << failure;
  EXPECT_EQ(exit_code(gateway.child().stop(20s)), 0) << gateway.child().stderr_text();
  const auto log = gateway.child().stderr_text();
  const std::regex time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  const std::set<std::string> levels = {"trace", "debug", "info", "warning", "error", "critical"};
  std::istringstream lines(log);
  std::string line;
  int count = 0;
  bool saw_serving = false;
  bool saw_backend_stderr = false;
  while (std::getline(lines, line)) {
    ++count;
    const auto record = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(record.is_object()) << "not a JSON object: " << line;
    ASSERT_TRUE(record.contains("time") && record["time"].is_string()) << line;
    EXPECT_TRUE(std::regex_match(record["time"].get<std::string>(), time)) << line;
    ASSERT_TRUE(record.contains("level") && record["level"].is_string()) << line;
    EXPECT_EQ(levels.count(record["level"].get<std::string>()), 1u) << line;
    ASSERT_TRUE(record.contains("msg") && record["msg"].is_string()) << line;
    const auto message = record["msg"].get<std::string>();
    saw_serving = saw_serving || message == "serving 1 backend(s)";
    saw_backend_stderr = saw_backend_stderr || message.rfind("[local] ", 0) == 0;
  }
  EXPECT_GT(count, 3) << log;
  EXPECT_TRUE(saw_serving) << log;
  EXPECT_TRUE(saw_backend_stderr) << log;
}

TEST_F(ServeLifecycle, TextLogLinesStartWithAUtcTimeAndALevel) {
  RunningGateway gateway(dir_, "[server]\n" + kAllowEverything + stdio_backend("local"));
  EXPECT_EQ(exit_code(gateway.child().stop(20s)), 0) << gateway.child().stderr_text();
  const auto log = gateway.child().stderr_text();
  const std::regex prefix(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info|warning|error|critical) .*)");
  std::istringstream lines(log);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    EXPECT_TRUE(std::regex_match(line, prefix)) << line;
  }
  EXPECT_GT(count, 2) << log;
}

}  // namespace
}  // namespace mcpgw::integration
