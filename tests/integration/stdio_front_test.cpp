// `mcpgw serve --stdio`: a desktop client's view. Newline-delimited JSON-RPC on the gateway's
// stdin/stdout, federating a stdio and a Streamable HTTP mcpgw-fixture backend; bad lines get
// JSON-RPC errors, and the end of stdin stops the gateway and its backends with status 0.
#include <set>

#include <gtest/gtest.h>

#include "harness.hpp"

namespace mcpgw::integration {
namespace {

class StdioFront : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("mcpgw-stdio-front");
    remote_ = std::make_unique<RunningFixture>(dir_, std::vector<std::string>{"--name", "remote"},
                                               "remote");
    const auto config = dir_ / "desktop.toml";
    write_file(config, std::string("[policy]\n"
                                   "default = \"allow\"\n"
                                   "[auth]\n"
                                   "allow_anonymous = true\n"
                                   "[[backend]]\n"
                                   "name = \"local\"\n"
                                   "command = [\"") +
                           MCPGW_FIXTURE_BINARY +
                           "\", \"stdio\", \"--name\", \"local\"]\n"
                           "[[backend]]\n"
                           "name = \"remote\"\n"
                           "url = \"" +
                           remote_->url() + "\"\n");
    gateway_ = std::make_unique<Child>(
        std::vector<std::string>{MCPGW_BINARY, "serve", "--stdio", "--config", config.string(),
                                 "--log-level", "debug"},
        dir_ / "gateway.stderr");
  }
  void TearDown() override {
    gateway_.reset();
    remote_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void send(const nlohmann::json& message) { gateway_->write_stdin(message.dump() + "\n"); }

  // The next line on stdout that is a response with this id; every line must be JSON-RPC.
  nlohmann::json response_to(const nlohmann::json& id) {
    for (int lines = 0; lines < 100; ++lines) {
      const auto line = gateway_->read_line(20s);
      if (!line) {
        ADD_FAILURE() << "no response to " << id << "\n" << gateway_->stderr_text();
        return nullptr;
      }
      auto message = nlohmann::json::parse(*line, nullptr, false);
      EXPECT_TRUE(message.is_object() && message.value("jsonrpc", "") == "2.0")
          << "not a JSON-RPC message on stdout: " << *line;
      if (message.is_object() && message.contains("id") && message["id"] == id &&
          (message.contains("result") || message.contains("error")))
        return message;
    }
    ADD_FAILURE() << "no response to " << id << " in 100 lines";
    return nullptr;
  }

  // The next message on stdout that is not a notification or a server-to-client request.
  nlohmann::json next_response() {
    for (int lines = 0; lines < 100; ++lines) {
      const auto line = gateway_->read_line(20s);
      if (!line)
        break;
      auto message = nlohmann::json::parse(*line, nullptr, false);
      EXPECT_TRUE(message.is_object()) << "not a JSON-RPC message on stdout: " << *line;
      if (message.is_object() && !message.contains("method"))
        return message;
    }
    ADD_FAILURE() << "no response\n" << gateway_->stderr_text();
    return nullptr;
  }

  void initialize() {
    send(initialize_request(0, "2025-11-25"));
    const auto response = response_to(0);
    ASSERT_TRUE(response.contains("result")) << response;
    EXPECT_EQ(response["result"]["protocolVersion"], "2025-11-25");
    EXPECT_EQ(response["result"]["serverInfo"]["name"], "mcpgw");
    EXPECT_TRUE(response["result"]["capabilities"].contains("tools")) << response;
    send(jsonrpc_notification("notifications/initialized"));
  }

  std::filesystem::path dir_;
  std::unique_ptr<RunningFixture> remote_;
  std::unique_ptr<Child> gateway_;
};

TEST_F(StdioFront, FederatesBothBackendsOverStdinAndStdout) {
  initialize();
  std::set<std::string> names;
  nlohmann::json cursor;
  for (int page = 0; page < 50; ++page) {
    nlohmann::json params = nlohmann::json::object();
    if (cursor.is_string())
      params["cursor"] = cursor;
    send(jsonrpc_request(100 + page, "tools/list", params));
    const auto response = response_to(100 + page);
    ASSERT_TRUE(response.contains("result")) << response;
    for (const auto& tool : response["result"]["tools"])
      names.insert(tool.value("name", ""));
    cursor = response["result"].value("nextCursor", nlohmann::json());
    if (!cursor.is_string())
      break;
  }
  for (const std::string expected : {"local__echo", "local__add", "remote__echo", "remote__add"})
    EXPECT_EQ(names.count(expected), 1u) << expected;
  for (const auto& name : names)
    EXPECT_TRUE(name.rfind("local__", 0) == 0 || name.rfind("remote__", 0) == 0) << name;

  send(
      jsonrpc_request(2, "tools/call", {{"name", "local__echo"}, {"arguments", {{"text", "hi"}}}}));
  const auto echoed = response_to(2);
  EXPECT_EQ(echoed["result"]["content"][0]["text"], "hi") << echoed;
  send(jsonrpc_request("three", "tools/call",
                       {{"name", "remote__add"}, {"arguments", {{"a", 2}, {"b", 3}}}}));
  const auto added = response_to("three");
  EXPECT_EQ(added["result"]["structuredContent"]["sum"], 5) << added;
  send(jsonrpc_request(4, "ping"));
  EXPECT_EQ(response_to(4)["result"], nlohmann::json::object());
}

TEST_F(StdioFront, BadLinesGetJsonRpcErrors) {
  initialize();
  gateway_->write_stdin("{this is not json\n");
  const auto parse_error = next_response();
  EXPECT_EQ(parse_error["error"].value("code", 0), -32700) << parse_error;
  EXPECT_TRUE(parse_error.contains("id") && parse_error["id"].is_null()) << parse_error;
  gateway_->write_stdin(R"({"jsonrpc":"2.0","id":5})"
                        "\n");
  const auto invalid = next_response();
  EXPECT_EQ(invalid["error"].value("code", 0), -32600) << invalid;
  send(jsonrpc_request(6, "no/such/method"));
  EXPECT_EQ(response_to(6)["error"].value("code", 0), -32601);
  send(jsonrpc_request(7, "tools/call",
                       {{"name", "no_such_tool"}, {"arguments", nlohmann::json::object()}}));
  const auto unknown = response_to(7);
  EXPECT_EQ(unknown["error"].value("code", 0), -32602) << unknown;
  EXPECT_EQ(unknown.dump().find(remote_->url()), std::string::npos) << unknown;
  EXPECT_EQ(unknown.dump().find(MCPGW_FIXTURE_BINARY), std::string::npos) << unknown;
  // A batch is refused outside 2025-03-26.
  gateway_->write_stdin(
      nlohmann::json::array({jsonrpc_request(8, "ping"), jsonrpc_request(9, "ping")}).dump() +
      "\n");
  const auto batch = next_response();
  EXPECT_EQ(batch["error"].value("code", 0), -32600) << batch;
  // Still serving after all that.
  send(jsonrpc_request(10, "ping"));
  EXPECT_EQ(response_to(10)["result"], nlohmann::json::object());
}

TEST_F(StdioFront, EndOfStdinStopsTheGatewayAndItsBackends) {
  initialize();
  // The session's own process of the stdio backend starts with its first call.
  send(jsonrpc_request(2, "tools/call", {{"name", "local__echo"}, {"arguments", {{"text", "x"}}}}));
  EXPECT_EQ(response_to(2)["result"]["content"][0]["text"], "x");
  const auto pids = started_backend_pids(gateway_->stderr_text());
  EXPECT_EQ(pids.size(), 2u) << gateway_->stderr_text();  // discovery and the session
  gateway_->close_stdin();
  const auto status = gateway_->wait(20s);
  ASSERT_TRUE(status) << "still running after the end of stdin\n" << gateway_->stderr_text();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << "status " << *status << "\n"
                                                               << gateway_->stderr_text();
  for (const auto pid : pids)
    EXPECT_TRUE(wait_until([pid] { return process_ended(pid); }, 5s))
        << "backend process " << pid << " is still running";
  // Nothing but protocol lines on stdout, to the end.
  while (auto line = gateway_->read_line(2s))
    EXPECT_TRUE(nlohmann::json::parse(*line, nullptr, false).is_object()) << *line;
  // The HTTP backend is still up (the gateway only ended its session there).
  EXPECT_TRUE(remote_->child().running());
}

}  // namespace
}  // namespace mcpgw::integration
