// The virtual server's initialize, discovery and the upstream sessions' handshake params.
#include "mux_harness.hpp"

namespace mcpgw::mux::testing {
namespace {

using MuxInit = MuxTest;

TEST_F(MuxInit, DiscoveryOpensOneClientPerBackendWithTheGatewaysParams) {
  build({{"alpha"}, {"beta"}});
  gateway->start();
  ASSERT_EQ(client_count(0), 1u);
  ASSERT_EQ(client_count(1), 1u);
  const auto& options = discovery(1).options;
  EXPECT_EQ(options.backend_name, "beta");
  EXPECT_EQ(options.initialize_params["protocolVersion"], "2025-11-25");
  EXPECT_EQ(options.initialize_params["capabilities"], json::object());
  EXPECT_EQ(options.initialize_params["clientInfo"]["name"], "mcpgw");
  EXPECT_TRUE(options.restart);  // a failed backend is retried by its Client
  EXPECT_EQ(discovery(0).starts, 1);
  gateway->start();  // idempotent
  EXPECT_EQ(client_count(0), 1u);
}

TEST_F(MuxInit, InitializeWaitsForDiscoveryThenAnswersForTheVirtualServer) {
  build({{"alpha"}, {"beta"}});
  gateway->start();
  auto channel = std::make_shared<FakeChannel>();
  auto session = gateway->open_session(channel, {"streamable_http", "s", ""});
  auto stream = std::make_shared<FakeStream>();
  session->handle_request(
      request_message("init-1", "initialize", client_initialize_params("2025-06-18")), stream, {});
  loop.run_ready();
  EXPECT_FALSE(stream->done());
  discovery(0).ready(initialize_result_with(
      {{"tools", json::object()}, {"resources", {{"subscribe", true}}}}, "a-server", "Use alpha."));
  loop.run_ready();
  EXPECT_FALSE(stream->done()) << "answered before every backend answered or failed";
  discovery(1).ready(initialize_result_with(
      {{"prompts", json::object()}, {"logging", json::object()}, {"completions", json::object()}},
      "b-server", "Use beta."));
  loop.run_ready();
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(*stream->response->id, mcp::RequestId("init-1"));
  const auto& result = stream->result();
  EXPECT_EQ(result["protocolVersion"], "2025-06-18");
  EXPECT_EQ(result["serverInfo"]["name"], "mcpgw");
  EXPECT_EQ(result["serverInfo"]["version"], GatewayOptions{}.server_version);
  EXPECT_EQ(result["capabilities"],
            json({{"tools", {{"listChanged", true}}},
                  {"resources", {{"subscribe", true}, {"listChanged", true}}},
                  {"prompts", {{"listChanged", true}}},
                  {"logging", json::object()},
                  {"completions", json::object()}}));
  EXPECT_EQ(result["instructions"], "## alpha\n\nUse alpha.\n\n## beta\n\nUse beta.");
  // No backend saw anything of this client yet: upstream sessions start on first use.
  EXPECT_EQ(client_count(0), 1u);
  EXPECT_EQ(client_count(1), 1u);
}

TEST_F(MuxInit, AFailedBackendCountsAsAnswered) {
  build({{"alpha"}, {"beta"}});
  gateway->start();
  auto client = connect();
  auto stream = client.request(1, "initialize", client_initialize_params());
  discovery(0).down("spawn failed");
  loop.run_ready();
  EXPECT_FALSE(stream->done());
  discovery(1).ready(initialize_result_with({{"tools", json::object()}}, "b"));
  loop.run_ready();
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(stream->result()["capabilities"], json({{"tools", {{"listChanged", true}}}}));
  const auto status = gateway->backends();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_FALSE(status[0].ready);
  EXPECT_EQ(status[0].last_error, "spawn failed");
  EXPECT_TRUE(status[1].ready);
}

TEST_F(MuxInit, TheWaitForDiscoveryIsBounded) {
  GatewayOptions options;
  options.discovery_wait = std::chrono::milliseconds(5000);
  build({{"alpha"}, {"slow"}}, config::PrefixMode::automatic, options);
  gateway->start();
  discovery(0).ready(initialize_result_with({{"tools", json::object()}}, "a"));
  auto client = connect();
  auto stream = client.request(1, "initialize", client_initialize_params());
  loop.advance(std::chrono::milliseconds(4999));
  EXPECT_FALSE(stream->done());
  loop.advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(stream->result()["capabilities"], json({{"tools", {{"listChanged", true}}}}));
  // Later sessions are answered at once.
  auto later = client.request(2, "ping");
  EXPECT_TRUE(later->ok());
}

TEST_F(MuxInit, UnsupportedVersionsGetTheLatestLegacyOne) {
  start_ready({{"alpha"}});
  open(client_initialize_params("1999-01-01"));
  EXPECT_EQ(last_initialize["protocolVersion"], "2025-11-25");
  EXPECT_FALSE(last_initialize.contains("instructions"));
}

TEST_F(MuxInit, OneBackendsInstructionsGoAsTheyAre) {
  build({{"solo"}});
  gateway->start();
  discovery(0).ready(initialize_result_with({{"tools", json::object()}}, "s", "Only me."));
  open();
  EXPECT_EQ(last_initialize["instructions"], "Only me.");
}

TEST_F(MuxInit, TheClientsParamsReachTheBackendUnstripped) {
  start_ready({{"alpha"}, {"beta"}});
  auto params = client_initialize_params("2025-06-18");
  params["capabilities"]["experimental"] = {{"x-feature", {{"on", true}}}};
  params["_meta"] = {{"example.com/trace", "t"}};
  auto client = open(params);
  EXPECT_EQ(client_count(1), 1u);
  client.request(5, "tools/call", json{{"name", "beta__echo"}});
  ASSERT_EQ(client_count(1), 2u) << "the session's own upstream is made on first use";
  const auto& sent = newest(1).options.initialize_params;
  EXPECT_EQ(sent["capabilities"], params["capabilities"]);
  EXPECT_EQ(sent["clientInfo"], params["clientInfo"]);
  EXPECT_EQ(sent["protocolVersion"], "2025-06-18");
  EXPECT_EQ(sent["_meta"], params["_meta"]);
  EXPECT_EQ(newest(1).starts, 1);
  EXPECT_EQ(client_count(0), 1u) << "alpha was not used";
}

TEST_F(MuxInit, PingIsAnsweredLocallyAndInitializedIsAbsorbed) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  auto stream = client.request("p", "ping");
  ASSERT_TRUE(stream->ok());
  EXPECT_EQ(stream->result(), json::object());
  EXPECT_EQ(client_count(0), 1u);
  EXPECT_TRUE(discovery(0).calls.empty());
  EXPECT_TRUE(discovery(0).notifications.empty());
}

TEST_F(MuxInit, RequestsBeforeInitializeAreRefusedAndASecondInitializeToo) {
  start_ready({{"alpha"}});
  auto client = connect();
  auto early = client.request(1, "tools/list");
  EXPECT_EQ(early->error_code(), mcp::error_code::invalid_request);
  auto init = client.request(2, "initialize", client_initialize_params());
  ASSERT_TRUE(init->ok());
  auto again = client.request(3, "initialize", client_initialize_params());
  EXPECT_EQ(again->error_code(), mcp::error_code::invalid_request);
}

TEST_F(MuxInit, RequestsSentWhileInitializeWaitsRunAfterIt) {
  build({{"alpha"}});
  gateway->start();
  auto client = connect();
  auto init = client.request(1, "initialize", client_initialize_params());
  auto call = client.request(2, "tools/call", json{{"name", "echo"}});
  auto dropped = client.request(3, "tools/call", json{{"name", "never"}});
  client.notify("notifications/cancelled", json{{"requestId", 3}});
  EXPECT_EQ(dropped->abandons, 1);
  EXPECT_FALSE(init->done());
  EXPECT_EQ(client_count(0), 1u);
  discovery(0).ready(initialize_result_with({{"tools", json::object()}}, "a"));
  loop.run_ready();
  ASSERT_TRUE(init->ok());
  ASSERT_EQ(client_count(0), 2u);
  auto& forwarded = newest(0).only_call("tools/call");
  EXPECT_EQ(forwarded.params()["name"], "echo");
}

TEST_F(MuxInit, BackendComingBackIsAnnouncedAsListChanged) {
  start_ready({{"alpha"}, {"beta"}});
  auto client = open();
  discovery(1).down("crashed");
  const auto after_down = client.channel->sent.size();
  EXPECT_GE(after_down, 1u);
  discovery(1).ready(initialize_result_with({{"tools", json::object()}}, "b"));
  ASSERT_GT(client.channel->sent.size(), after_down);
  EXPECT_EQ(client.channel->sent.back().method, "notifications/tools/list_changed");
}

}  // namespace
}  // namespace mcpgw::mux::testing
