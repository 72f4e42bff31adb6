// The replay target: command lines split like a shell, every target kind resolved to the
// BackendConfig the gateway's transports take, and every wrong combination refused with its
// exact message.
#include "replay/target.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mcpgw::replay {
namespace {

using Words = std::vector<std::string>;

Words split(std::string_view line) {
  auto words = split_command_line(line);
  EXPECT_TRUE(words) << words.error();
  return words ? *words : Words{};
}

std::string split_error(std::string_view line) {
  const auto words = split_command_line(line);
  EXPECT_FALSE(words);
  return words ? std::string() : words.error();
}

TEST(ReplayCommandLine, SplitsLikeAShellWithoutExpansions) {
  EXPECT_EQ(split("prog"), Words{"prog"});
  EXPECT_EQ(split("  prog   a\tb \n c  "), (Words{"prog", "a", "b", "c"}));
  EXPECT_EQ(split("node 'dist/my server.js' --x"), (Words{"node", "dist/my server.js", "--x"}));
  EXPECT_EQ(split(R"(echo "a \"b\" \\ \$HOME \`x\` \n")"),
            (Words{"echo", R"(a "b" \ $HOME `x` \n)"}));
  EXPECT_EQ(split(R"(echo 'single \ keeps "all"')"), (Words{"echo", R"(single \ keeps "all")"}));
  EXPECT_EQ(split(R"(a\ b c\"d \\)"), (Words{"a b", "c\"d", "\\"}));
  EXPECT_EQ(split(R"(x '' "" y)"), (Words{"x", "", "", "y"}));
  EXPECT_EQ(split(R"(pre'fix'"mid"post)"), Words{"prefixmidpost"});
  EXPECT_EQ(split("a \\\nb"), (Words{"a", "b"}));
  EXPECT_EQ(split("$HOME ~ *.js ;"), (Words{"$HOME", "~", "*.js", ";"}));
}

TEST(ReplayCommandLine, Errors) {
  EXPECT_EQ(split_error("prog 'open"), "unterminated ' quote at character 6");
  EXPECT_EQ(split_error(R"(prog "open \")"), "unterminated \" quote at character 6");
  EXPECT_EQ(split_error("prog \\"), "trailing backslash: it escapes nothing");
  EXPECT_EQ(split_error(""), "no command: the line holds no words");
  EXPECT_EQ(split_error(" \t\n "), "no command: the line holds no words");
}

std::string target_error(const TargetSpec& spec) {
  const auto target = resolve_target(spec);
  EXPECT_FALSE(target);
  return target ? std::string() : target.error();
}

TEST(ReplayTarget, CommandTarget) {
  TargetSpec spec;
  spec.command = "mcpgw-fixture stdio --latency 5";
  spec.env = {{"TOKEN", "secret"}};
  spec.cwd = std::filesystem::temp_directory_path().string();
  const auto target = resolve_target(spec);
  ASSERT_TRUE(target) << target.error();
  EXPECT_EQ(target->name, "target");
  EXPECT_EQ(target->transport, config::BackendTransport::stdio);
  EXPECT_EQ(target->command, (Words{"mcpgw-fixture", "stdio", "--latency", "5"}));
  EXPECT_EQ(target->env.at("TOKEN"), "secret");
  EXPECT_EQ(target->cwd, spec.cwd);
  EXPECT_EQ(target->session_mode, config::SessionMode::per_session);
  EXPECT_GT(target->timeout.count(), 0);
  EXPECT_EQ(target->shutdown_grace, std::chrono::seconds(1));  // not serve's 5 s
  EXPECT_EQ(describe_target(*target), "stdio: mcpgw-fixture stdio --latency 5");
}

TEST(ReplayTarget, UrlTarget) {
  TargetSpec spec;
  spec.url = "http://127.0.0.1:8080/mcp";
  spec.headers = {"Authorization: Bearer abc", "X-Trace:  t1 "};
  auto target = resolve_target(spec);
  ASSERT_TRUE(target) << target.error();
  EXPECT_EQ(target->name, "target");
  EXPECT_EQ(target->transport, config::BackendTransport::streamable_http);
  EXPECT_EQ(target->url, spec.url);
  EXPECT_EQ(target->headers.at("Authorization"), "Bearer abc");
  EXPECT_EQ(target->headers.at("X-Trace"), "t1");
  EXPECT_TRUE(target->tls_verify);
  EXPECT_EQ(target->session_mode, config::SessionMode::per_session);
  EXPECT_EQ(describe_target(*target), "streamable_http: http://127.0.0.1:8080/mcp");

  spec.transport = config::BackendTransport::sse;
  spec.headers.clear();
  spec.url = "https://example.com/sse";
  spec.tls_verify = false;
  target = resolve_target(spec);
  ASSERT_TRUE(target) << target.error();
  EXPECT_EQ(target->transport, config::BackendTransport::sse);
  EXPECT_FALSE(target->tls_verify);
  EXPECT_EQ(describe_target(*target), "sse: https://example.com/sse");
}

TEST(ReplayTarget, DescribeQuotesWordsAndNeverShowsEnvOrHeaders) {
  config::BackendConfig backend;
  backend.transport = config::BackendTransport::stdio;
  backend.command = {"node", "my server.js", "it's", ""};
  backend.env = {{"API_KEY", "hunter2"}};
  EXPECT_EQ(describe_target(backend), R"(stdio: node 'my server.js' 'it'\''s' '')");
  backend.transport = config::BackendTransport::streamable_http;
  backend.url = "http://h/mcp";
  backend.headers = {{"Authorization", "Bearer hunter2"}};
  EXPECT_EQ(describe_target(backend).find("hunter2"), std::string::npos);
}

TEST(ReplayTarget, ChoosingTheTarget) {
  EXPECT_EQ(target_error({}),
            "no target: give --target-command, --target-url or --config FILE --backend NAME");
  TargetSpec spec;
  spec.command = "prog";
  spec.url = "http://127.0.0.1/mcp";
  EXPECT_EQ(target_error(spec), "--target-command and --target-url conflict: give one target");
  spec.backend = "files";
  EXPECT_EQ(target_error(spec),
            "--target-command, --target-url and --config/--backend conflict: give one target");
  spec = {};
  spec.backend = "files";
  EXPECT_EQ(target_error(spec), "--backend \"files\" needs --config FILE");
}

TEST(ReplayTarget, OptionsForTheOtherKindOfTarget) {
  TargetSpec spec;
  spec.command = "prog";
  spec.headers = {"A: b"};
  EXPECT_EQ(target_error(spec), "--header applies to --target-url, not --target-command");
  spec.headers.clear();
  spec.transport = config::BackendTransport::sse;
  EXPECT_EQ(target_error(spec), "--transport sse applies to --target-url, not --target-command");
  spec.transport = config::BackendTransport::streamable_http;
  spec.tls_verify = false;
  EXPECT_EQ(target_error(spec), "--insecure applies to --target-url, not --target-command");
  spec.tls_verify = true;
  spec.ca_file = "/x.pem";
  EXPECT_EQ(target_error(spec), "--ca-file applies to --target-url, not --target-command");

  spec = {};
  spec.url = "http://127.0.0.1/mcp";
  spec.env = {{"A", "b"}};
  EXPECT_EQ(target_error(spec), "--target-env applies to --target-command, not --target-url");
  spec.env.clear();
  spec.cwd = "/tmp";
  EXPECT_EQ(target_error(spec), "--target-cwd applies to --target-command, not --target-url");
  spec.cwd.clear();
  spec.transport = config::BackendTransport::stdio;
  EXPECT_EQ(target_error(spec),
            "--transport stdio needs --target-command; --target-url speaks streamable_http or "
            "sse");

  spec = {};
  spec.config_path = "gw.toml";
  spec.backend = "files";
  spec.headers = {"A: b"};
  EXPECT_EQ(target_error(spec),
            "--header applies to --target-url, not --config; set it in the backend's definition");
}

TEST(ReplayTarget, MalformedValues) {
  TargetSpec spec;
  spec.command = "prog 'open";
  EXPECT_EQ(target_error(spec),
            "--target-command \"prog 'open\": unterminated ' quote at character 6");
  spec.command = "prog";
  spec.env = {{"1=X", "v"}};
  EXPECT_EQ(target_error(spec), "--target-env \"1=X=\": not a valid environment variable name");
  spec.env = {{"", "v"}};
  EXPECT_EQ(target_error(spec), "--target-env \"=\": not a valid environment variable name");
  spec.env.clear();
  spec.cwd = "/no/such/directory";
  EXPECT_EQ(target_error(spec), "--target-cwd \"/no/such/directory\": not a directory");

  spec = {};
  spec.url = "ftp://example.com/";
  EXPECT_EQ(target_error(spec).rfind("--target-url \"ftp://example.com/\": ", 0), 0u)
      << target_error(spec);
  spec.url = "http://127.0.0.1:8080/mcp";
  spec.headers = {"NoColon"};
  EXPECT_EQ(target_error(spec), "--header \"NoColon\": expected \"Name: value\"");
  spec.headers = {": value"};
  EXPECT_EQ(target_error(spec), "--header \": value\": expected \"Name: value\"");
  spec.headers = {"Bad Name: v"};
  EXPECT_EQ(target_error(spec),
            "--header \"Bad Name: v\": \"Bad Name\" is not a valid header name");
  spec.headers = {"X-A: one\r\nX-B: two"};
  EXPECT_EQ(target_error(spec),
            "--header \"X-A\": the value contains control characters (CR, LF, …)");
  spec.headers = {"Mcp-Session-Id: 1"};
  EXPECT_EQ(target_error(spec), "--header \"Mcp-Session-Id\": set by the transport itself");
  spec.headers = {"X-A: 1", "x-a: 2"};
  EXPECT_EQ(target_error(spec), "--header \"x-a\": given twice");
  spec.headers.clear();
  spec.ca_file = "/no/such/ca.pem";
  EXPECT_EQ(target_error(spec), "--ca-file \"/no/such/ca.pem\": not a readable file");
}

class ConfigTarget : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("mcpgw-replay-target-" +
                  std::to_string(::testing::UnitTest::GetInstance()->current_test_info()->line()));
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = (directory_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path directory_;
};

TEST_F(ConfigTarget, ABackendOfAGatewayConfig) {
  const std::string path = write("gw.toml", R"([server]
listen = "127.0.0.1:0"

[[backend]]
name = "files"
command = ["mcpgw-fixture", "stdio", "--name", "files"]
env = { FIXTURE_TOKEN = "t" }
timeout = "5s"

[[backend]]
name = "web"
url = "http://127.0.0.1:9/mcp"
headers = { Authorization = "Bearer b" }
)");
  TargetSpec spec;
  spec.config_path = path;
  spec.backend = "files";
  auto target = resolve_target(spec);
  ASSERT_TRUE(target) << target.error();
  EXPECT_EQ(target->name, "files");
  EXPECT_EQ(target->command, (Words{"mcpgw-fixture", "stdio", "--name", "files"}));
  EXPECT_EQ(target->env.at("FIXTURE_TOKEN"), "t");
  EXPECT_EQ(target->timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(describe_target(*target), "stdio: mcpgw-fixture stdio --name files");

  spec.backend = "web";
  target = resolve_target(spec);
  ASSERT_TRUE(target) << target.error();
  EXPECT_EQ(target->url, "http://127.0.0.1:9/mcp");
  EXPECT_EQ(target->headers.at("Authorization"), "Bearer b");
  EXPECT_EQ(describe_target(*target), "streamable_http: http://127.0.0.1:9/mcp");

  spec.backend = "nope";
  EXPECT_EQ(target_error(spec),
            "--backend \"nope\": no such backend in " + path + " (backends: files, web)");
  spec.backend.clear();
  EXPECT_EQ(target_error(spec),
            "--config \"" + path + "\" needs --backend NAME (backends: files, web)");
}

TEST_F(ConfigTarget, ConfigErrorsAreReportedLikeLint) {
  const std::string path = write("bad.toml", R"([server]
listen = "127.0.0.1:0"

[[backend]]
name = "files"
comand = ["x"]
)");
  TargetSpec spec;
  spec.config_path = path;
  spec.backend = "files";
  const std::string error = target_error(spec);
  EXPECT_NE(error.find(path + ":6:1: error: "), std::string::npos) << error;
  EXPECT_NE(error.find("[unknown-key]"), std::string::npos) << error;
  EXPECT_NE(error.find(path + ":4:1: error: backend 'files' needs 'command'"), std::string::npos)
      << error;

  spec.config_path = (directory_ / "missing.toml").string();
  const std::string missing = target_error(spec);
  EXPECT_EQ(missing.rfind(spec.config_path + ": error: ", 0), 0u) << missing;
}

}  // namespace
}  // namespace mcpgw::replay
