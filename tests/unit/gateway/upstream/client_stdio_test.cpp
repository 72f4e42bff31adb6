// The upstream Client over the real stdio transport and the Asio event loop: a scripted
// backend process answers the handshake and one call, then crashes; the client fails the
// call in flight, restarts the process and becomes ready again.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "gateway/runtime/asio_loop.hpp"
#include "gateway/upstream/client.hpp"
#include "tests/unit/gateway/upstream/upstream_test_support.hpp"

namespace mcpgw::upstream {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::run_until;

class Events final : public ClientEvents {
 public:
  void on_ready(const json& result) override { ready.push_back(result); }
  void on_backend_request(mcp::Message request, std::optional<CallId>) override {
    requests.push_back(std::move(request));
  }
  void on_backend_notification(mcp::Message notification, std::optional<CallId>) override {
    notifications.push_back(std::move(notification));
  }
  void on_down(const std::string& reason) override { down.push_back(reason); }

  std::vector<json> ready;
  std::vector<mcp::Message> requests;
  std::vector<mcp::Message> notifications;
  std::vector<std::string> down;
};

// Wire ids are the client's own counter: 1 for initialize, then 2, 3, ... for calls. The
// script echoes the id it reads with sed, so it does not depend on that.
constexpr const char* kBackendScript = R"(
read_id() { sed -n 's/.*"id":\([0-9]*\).*/\1/p'; }
IFS= read -r line; id=$(printf '%s' "$line" | read_id)
printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"sh","version":"1"}}}\n' "$id"
IFS= read -r initialized
printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"up"}}'
IFS= read -r line; id=$(printf '%s' "$line" | read_id)
printf '{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"one"}]}}\n' "$id"
IFS= read -r line
exit 1
)";

// A script backend run by /bin/sh, and Client options for it.
std::unique_ptr<TransportFactory> script_backend(boost::asio::io_context& context,
                                                 const std::string& name, const char* script) {
  config::BackendConfig backend;
  backend.name = name;
  backend.command = {"/bin/sh", "-c", script};
  TransportLimits limits;
  limits.shutdown_grace = 100ms;
  return make_stdio_transport_factory(context, backend, limits);
}

ClientOptions script_client_options(const std::string& name) {
  ClientOptions options;
  options.backend_name = name;
  options.initialize_params = {{"protocolVersion", "2025-06-18"},
                               {"capabilities", json::object()},
                               {"clientInfo", {{"name", "test"}, {"version", "1"}}}};
  options.request_timeout = 10s;
  return options;
}

TEST(ClientOverStdioTest, CallsCrashRestartAndClose) {
  boost::asio::io_context context;
  runtime::AsioEventLoop loop(context);
  auto factory = script_backend(context, "script", kBackendScript);
  ClientOptions options = script_client_options("script");
  options.backoff.initial = 20ms;
  Events events;
  auto client = make_client(loop, *factory, options, events);
  client->start();

  std::vector<mcp::Message> results;
  auto record = [&](mcp::Message response) { results.push_back(std::move(response)); };
  client->call(mcp::make_request("first", "tools/call", json{{"name", "one"}}), record);
  ASSERT_TRUE(run_until(context, [&] { return results.size() == 1; }));
  EXPECT_EQ(results[0], mcp::make_success_response(
                            "first", json{{"content", {{{"type", "text"}, {"text", "one"}}}}}));
  ASSERT_EQ(events.ready.size(), 1u);
  EXPECT_EQ(events.ready[0]["serverInfo"]["name"], "sh");
  EXPECT_EQ(events.notifications.size(), 1u);

  // The second call makes the backend exit: the call fails at once, the process restarts.
  client->call(mcp::make_request(2, "tools/call", json{{"name", "two"}}), record);
  ASSERT_TRUE(run_until(context, [&] { return results.size() == 2; }));
  EXPECT_EQ(results[1].id, mcp::RequestId(2));
  EXPECT_EQ(results[1].error.code, gateway_error::backend_unavailable);
  EXPECT_EQ(results[1].error.message, "Backend 'script' is unavailable: process exited");
  ASSERT_EQ(events.down, std::vector<std::string>{"process exited"});
  ASSERT_TRUE(run_until(context, [&] { return events.ready.size() == 2; }));
  EXPECT_EQ(client->state(), ClientState::ready);

  bool closed = false;
  client->close([&] { closed = true; });
  ASSERT_TRUE(run_until(context, [&] { return closed; }));
  EXPECT_EQ(client->state(), ClientState::closed);
}

// A backend that answers one call with the line it read, to show what call_text() wrote.
constexpr const char* kEchoLineScript = R"(
read_id() { sed -n 's/.*"id": *\([0-9]*\).*/\1/p'; }
IFS= read -r line; id=$(printf '%s' "$line" | read_id)
printf '{"jsonrpc":"2.0","id":%s,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"sh","version":"1"}}}\n' "$id"
IFS= read -r initialized
IFS= read -r line; id=$(printf '%s' "$line" | read_id)
escaped=$(printf '%s' "$line" | sed 's/\\/\\\\/g; s/"/\\"/g')
printf '{"jsonrpc":"2.0","id":%s,"result":{"line":"%s"}}\n' "$id" "$escaped"
IFS= read -r line
)";

// call_text() over stdio: a pretty-printed request goes out as one line, its line breaks made
// spaces and only its id changed; the answer carries the caller's id.
TEST(ClientOverStdioTest, CallTextWritesTheRequestAsGivenOnOneLine) {
  boost::asio::io_context context;
  runtime::AsioEventLoop loop(context);
  auto factory = script_backend(context, "echo-line", kEchoLineScript);
  ClientOptions options = script_client_options("echo-line");
  options.restart = false;
  Events events;
  auto client = make_client(loop, *factory, options, events);
  client->start();
  std::vector<std::string> answers;
  const std::string text =
      "{\n  \"jsonrpc\": \"2.0\",\r\n  \"id\": \"mine\",\n  \"method\": \"tools/call\",\n"
      "  \"params\": {\"name\": \"a\\nb\"}\n}";
  auto head = mcp::read_request_text(text);
  ASSERT_TRUE(head.has_value()) << head.error();
  // Made before the handshake ends, so the initialize answer arrives as text too, and is
  // decoded for the handshake.
  client->call_text(text, *head, [&](TextAnswer answer) {
    answers.push_back(answer.is_text() ? answer.text : "not text: " + mcp::encode(answer.message));
  });
  ASSERT_TRUE(run_until(context, [&] { return answers.size() == 1; }));
  // The line the backend wrote, with the caller's id in place of wire id 2 (1 was initialize).
  EXPECT_EQ(answers[0],
            R"({"jsonrpc":"2.0","id":"mine","result":{"line":")"
            R"({   \"jsonrpc\": \"2.0\",    \"id\": 2,   \"method\": \"tools/call\",   )"
            R"(\"params\": {\"name\": \"a\\nb\"} }"}})");
  EXPECT_EQ(events.ready.size(), 1u);
  bool closed = false;
  client->close([&] { closed = true; });
  ASSERT_TRUE(run_until(context, [&] { return closed; }));
}

}  // namespace
}  // namespace mcpgw::upstream
