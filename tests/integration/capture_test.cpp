// Traffic capture end to end: the real mcpgw with --capture in front of a stdio fixture and a
// Streamable HTTP fixture. A session initializes, lists tools, calls a tool on each backend
// (one with progress over SSE); after SIGTERM every line of the file is JSON, every leg and
// direction is there with its fields, credentials and configured paths are redacted. A
// SIGKILLed gateway leaves at most its last line partial.
#include <openssl/evp.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.hpp"

namespace mcpgw::integration {
namespace {

using nlohmann::json;

constexpr const char* kVersion = "2025-06-18";
constexpr const char* kApiKey = "client-api-key-7f3a91";
constexpr const char* kBackendToken = "backend-token-5521c0";
constexpr const char* kSecretText = "top-secret-echo-0c8e";

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

// The complete lines of `text` and, when it does not end with a newline, the partial rest.
struct Lines {
  std::vector<std::string> complete;
  std::string partial;
};
Lines split_lines(const std::string& text) {
  Lines out;
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; end = text.find('\n', start)) {
    out.complete.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  out.partial = text.substr(start);
  return out;
}

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("capture");
    fixture_ = std::make_unique<RunningFixture>(dir_);
  }
  void TearDown() override {
    gateway_.reset();
    fixture_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string config_text() const {
    return std::string("[policy]\ndefault = \"allow\"\n\n[[auth.api_key]]\nname = \"ci\"\n") +
           "sha256 = \"" + sha256_hex(kApiKey) + "\"\n\n" +
           "[capture]\npath = \"configured.jsonl\"\n"
           "redact_paths = [\"params.arguments.text\", \"result.content.*.text\"]\n\n"
           "[[backend]]\nname = \"local\"\ncommand = [\"" +
           std::string(MCPGW_FIXTURE_BINARY) + "\", \"stdio\"]\n\n" +
           "[[backend]]\nname = \"web\"\nurl = \"" + fixture_->url() +
           "\"\nheaders = { Authorization = \"Bearer " + kBackendToken + "\" }\n";
  }

  Headers headers(const std::string& session = "") const {
    auto out = mcp_post_headers(session, session.empty() ? "" : kVersion);
    out.emplace_back("X-API-Key", kApiKey);
    return out;
  }

  // initialize, initialized, tools/list, echo on the stdio backend, a tool with progress on
  // the HTTP backend.
  void run_session() {
    HttpConnection connection(gateway_->port());
    const auto init =
        connection.request("POST", "/mcp", headers(), initialize_request(0, kVersion).dump());
    ASSERT_TRUE(init);
    ASSERT_EQ(init->status, 200) << init->body;
    session_ = init->header("mcp-session-id");
    ASSERT_FALSE(session_.empty());
    const auto initialized =
        connection.request("POST", "/mcp", headers(session_),
                           jsonrpc_notification("notifications/initialized").dump());
    ASSERT_TRUE(initialized);
    ASSERT_EQ(initialized->status, 202);
    const auto list = connection.request("POST", "/mcp", headers(session_),
                                         jsonrpc_request(1, "tools/list").dump());
    ASSERT_TRUE(list);
    ASSERT_EQ(list->status, 200) << list->body;
    const auto echo = connection.request(
        "POST", "/mcp", headers(session_),
        jsonrpc_request(2, "tools/call",
                        {{"name", "local__echo"}, {"arguments", {{"text", kSecretText}}}})
            .dump());
    ASSERT_TRUE(echo);
    ASSERT_EQ(echo->status, 200) << echo->body;
    EXPECT_NE(echo->body.find(kSecretText), std::string::npos);  // the client sees it
    const auto progress =
        connection.request("POST", "/mcp", headers(session_),
                           jsonrpc_request(3, "tools/call",
                                           {{"name", "web__test_tool_with_progress"},
                                            {"arguments", json::object()},
                                            {"_meta", {{"progressToken", "tok-1"}}}})
                               .dump());
    ASSERT_TRUE(progress);
    ASSERT_EQ(progress->status, 200) << progress->body;
    ASSERT_EQ(progress->header("content-type").rfind("text/event-stream", 0), 0u);
  }

  std::filesystem::path dir_;
  std::unique_ptr<RunningFixture> fixture_;
  std::unique_ptr<RunningGateway> gateway_;
  std::string session_;
};

bool has(const json& record, const char* key) {
  return record.contains(key);
}

TEST_F(CaptureTest, EveryLegAndDirectionIsRecordedWithItsFieldsAndSecretsRedacted) {
  const auto capture = dir_ / "cli.jsonl";  // --capture replaces [capture] path
  gateway_ = std::make_unique<RunningGateway>(
      dir_, config_text(), std::vector<std::string>{"--capture", capture.string()});
  run_session();
  ASSERT_EQ(gateway_->child().stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "configured.jsonl"));
  const std::string text = read_file(capture);
  for (const char* secret : {kApiKey, kBackendToken, kSecretText})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  const auto lines = split_lines(text);
  EXPECT_TRUE(lines.partial.empty());
  ASSERT_GT(lines.complete.size(), 10u);
  std::vector<json> records;
  for (const auto& line : lines.complete) {
    auto record = json::parse(line, nullptr, false);
    ASSERT_FALSE(record.is_discarded()) << line;
    records.push_back(std::move(record));
  }
  EXPECT_EQ(records[0]["type"], "header");
  EXPECT_EQ(records[0]["format"], "mcpgw-capture");
  EXPECT_EQ(records[0]["version"], 1);

  // What each (leg, transport, direction) carried, by method or "response".
  bool client_in_initialize = false, client_out_initialize = false;
  bool client_progress_on_sse = false, client_progress_result = false;
  bool stdio_out = false, stdio_in = false;
  bool http_out_with_token = false, http_in_json = false, http_progress_on_sse = false;
  bool echo_redacted_in = false, echo_redacted_out = false;
  // Each backend's per_session upstream serves this one session: the routed calls carry its id.
  std::size_t backend_calls_with_session = 0;
  for (auto record : records) {  // a copy: a missing key reads as null
    if (record["type"] != "message")
      continue;
    ASSERT_TRUE(record["ts_us"].is_number_integer());
    auto& message = record["message"];
    const std::string method = message.value("method", "");
    const std::string leg = record["leg"];
    const std::string direction = record["direction"];
    const std::string transport = record["transport"];
    if (leg == "client") {
      EXPECT_EQ(transport, "streamable_http");
      EXPECT_TRUE(has(record, "connection") || has(record, "sse_event_id")) << record.dump();
      if (direction == "client->server") {
        EXPECT_EQ(record["http_method"], "POST");
        EXPECT_EQ(record["http_headers"]["x-api-key"], "[redacted]") << record.dump();
        EXPECT_FALSE(has(record, "http_status"));
        if (method == "initialize") {
          client_in_initialize = true;
          EXPECT_FALSE(has(record, "session"));  // not known yet
        } else {
          EXPECT_EQ(record["session"], session_);
          EXPECT_EQ(record["http_headers"]["mcp-protocol-version"], kVersion);
        }
        if (method == "tools/call" && message["params"]["name"] == "local__echo")
          echo_redacted_in = message["params"]["arguments"]["text"] == "[redacted]";
      } else {
        EXPECT_EQ(record["session"], session_) << record.dump();
        EXPECT_EQ(record["http_status"], 200);
        if (message.contains("result") && message["result"].contains("serverInfo")) {
          client_out_initialize = true;
          EXPECT_EQ(record["http_headers"]["mcp-session-id"], session_);
        }
        if (method == "notifications/progress") {
          client_progress_on_sse = !record.value("sse_event_id", "").empty() &&
                                   record["http_headers"]["content-type"] == "text/event-stream";
        }
        if (message.value("id", json()) == 3 && message.contains("result"))
          client_progress_result = has(record, "sse_event_id");
        if (message.value("id", json()) == 2 && message.contains("result"))
          echo_redacted_out = message["result"]["content"][0]["text"] == "[redacted]";
      }
    } else {
      ASSERT_EQ(leg, "backend");
      EXPECT_GT(record.value("connection", 0), 0) << record.dump();
      // Discovery sessions are the gateway's own (no client session); the rest are this one.
      if (has(record, "session")) {
        EXPECT_EQ(record["session"], session_) << record.dump();
      }
      if (method == "tools/call") {
        EXPECT_EQ(record["session"], session_) << record.dump();
        ++backend_calls_with_session;
      }
      if (transport == "stdio") {
        EXPECT_EQ(record["backend"], "local");
        EXPECT_FALSE(has(record, "http_method"));
        (direction == "client->server" ? stdio_out : stdio_in) = true;
      } else {
        ASSERT_EQ(transport, "streamable_http");
        EXPECT_EQ(record["backend"], "web");
        if (direction == "client->server") {
          EXPECT_EQ(record["http_method"], "POST");
          if (record["http_headers"].value("authorization", "") == "[redacted]")
            http_out_with_token = true;
        } else {
          EXPECT_GT(record.value("http_status", 0), 0);
          if (record["http_headers"].value("content-type", "") == "application/json")
            http_in_json = true;
          if (method == "notifications/progress")
            http_progress_on_sse = !record.value("sse_event_id", "").empty() &&
                                   !record.value("backend_session", "").empty();
        }
      }
    }
  }
  EXPECT_TRUE(client_in_initialize);
  EXPECT_TRUE(client_out_initialize);
  EXPECT_TRUE(client_progress_on_sse);
  EXPECT_TRUE(client_progress_result);
  EXPECT_TRUE(stdio_out);
  EXPECT_TRUE(stdio_in);
  EXPECT_TRUE(http_out_with_token);
  EXPECT_TRUE(http_in_json);
  EXPECT_TRUE(http_progress_on_sse);
  EXPECT_TRUE(echo_redacted_in);
  EXPECT_TRUE(echo_redacted_out);
  EXPECT_EQ(backend_calls_with_session, 2u);  // local__echo and web__test_tool_with_progress
  EXPECT_NE(gateway_->child().stderr_text().find("capture: "), std::string::npos);
}

// A per_session backend's records name the client session each of its upstreams serves (two
// sessions, two upstreams, two ids, responses included); a shared backend's records name none,
// because its one upstream session serves every client.
TEST_F(CaptureTest, BackendRecordsNameTheClientSessionOfTheirUpstream) {
  const auto capture = dir_ / "sessions.jsonl";
  const std::string fixture_command =
      "command = [\"" + std::string(MCPGW_FIXTURE_BINARY) + "\", \"stdio\"]\n";
  gateway_ = std::make_unique<RunningGateway>(
      dir_,
      "[policy]\ndefault = \"allow\"\n[auth]\nallow_anonymous = true\n\n"
      "[[backend]]\nname = \"own\"\n" +
          fixture_command + "\n[[backend]]\nname = \"pool\"\nsession_mode = \"shared\"\n" +
          fixture_command,
      std::vector<std::string>{"--capture", capture.string()});
  // Session id by the echo text its calls carry.
  std::map<std::string, std::string> session_by_text;
  for (const char* text : {"from-a", "from-b"}) {
    HttpConnection connection(gateway_->port());
    std::string failure;
    const auto session = open_mcp_session(connection, kVersion, &failure);
    ASSERT_TRUE(session) << failure;
    session_by_text[text] = *session;
    for (const char* tool : {"own__echo", "pool__echo"}) {
      const auto call = connection.request(
          "POST", "/mcp", mcp_post_headers(*session, kVersion),
          jsonrpc_request(1, "tools/call", {{"name", tool}, {"arguments", {{"text", text}}}})
              .dump());
      ASSERT_TRUE(call);
      ASSERT_EQ(call->status, 200) << call->body;
      ASSERT_NE(call->body.find(text), std::string::npos) << call->body;
    }
  }
  ASSERT_NE(session_by_text["from-a"], session_by_text["from-b"]);
  ASSERT_EQ(gateway_->child().stop(), 0);

  std::vector<json> backend_records;
  for (const auto& line : split_lines(read_file(capture)).complete) {
    auto record = json::parse(line);  // not const: a missing key reads as null
    if (record["type"] == "message" && record["leg"] == "backend")
      backend_records.push_back(std::move(record));
  }
  // The connection (one upstream process) that carried each session's own__echo call.
  std::map<std::uint64_t, std::string> session_by_connection;
  std::size_t pool_calls = 0;
  for (auto& record : backend_records) {
    auto& message = record["message"];
    if (message.value("method", "") != "tools/call")
      continue;
    const std::string text = message["params"]["arguments"]["text"];
    if (record["backend"] == "own") {
      EXPECT_EQ(record["session"], session_by_text[text]) << record.dump();
      session_by_connection[record["connection"].get<std::uint64_t>()] = session_by_text[text];
    } else {
      EXPECT_EQ(record["backend"], "pool");
      ++pool_calls;
    }
  }
  ASSERT_EQ(session_by_connection.size(), 2u);  // one upstream per session
  EXPECT_EQ(pool_calls, 2u);                    // both sessions through the one shared upstream
  std::size_t own_responses = 0;
  for (auto& record : backend_records) {
    if (record["backend"] == "pool") {
      EXPECT_FALSE(has(record, "session")) << record.dump();
      continue;
    }
    const auto owner = session_by_connection.find(record["connection"].get<std::uint64_t>());
    if (owner == session_by_connection.end()) {
      EXPECT_FALSE(has(record, "session")) << record.dump();  // the discovery session
      continue;
    }
    EXPECT_EQ(record["session"], owner->second) << record.dump();
    if (record["direction"] == "server->client" && record["message"].contains("result"))
      ++own_responses;
  }
  EXPECT_GE(own_responses, 4u);  // initialize and the echo call, for each session
}

TEST_F(CaptureTest, ASigkilledGatewayLeavesAtMostTheLastLinePartial) {
  gateway_ = std::make_unique<RunningGateway>(dir_, config_text());
  run_session();
  // Lines reach the file from the writer thread: wait until the session's last answer is in.
  const auto capture = dir_ / "configured.jsonl";
  EXPECT_TRUE(wait_until(
      [&] { return read_file(capture).find("\"id\":3,\"result\"") != std::string::npos; }));
  gateway_->child().stop(10s, SIGKILL);
  const auto lines = split_lines(read_file(capture));
  ASSERT_GT(lines.complete.size(), 1u);
  EXPECT_EQ(json::parse(lines.complete.front())["type"], "header");
  for (const auto& line : lines.complete)
    EXPECT_FALSE(json::parse(line, nullptr, false).is_discarded()) << line;
  // A partial last line, if any, is the start of a record.
  if (!lines.partial.empty()) {
    EXPECT_EQ(lines.partial.front(), '{');
  }
}

TEST_F(CaptureTest, TheStdioFrontEndIsRecordedBothWays) {
  const auto config = dir_ / "gateway.toml";
  write_file(config, config_text());
  const auto capture = dir_ / "stdio.jsonl";
  Child serve({MCPGW_BINARY, "serve", "--stdio", "--config", config.string(), "--capture",
               capture.string()},
              dir_ / "serve.stderr");
  serve.write_stdin(initialize_request(0, kVersion).dump() + "\n");
  const auto init = serve.read_line();
  ASSERT_TRUE(init) << serve.stderr_text();
  serve.write_stdin(jsonrpc_notification("notifications/initialized").dump() + "\n" +
                    jsonrpc_request(1, "tools/list").dump() + "\n");
  const auto list = serve.read_line();
  ASSERT_TRUE(list) << serve.stderr_text();
  serve.close_stdin();
  const auto status = serve.wait(30s);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  std::size_t in = 0;
  std::size_t out = 0;
  for (const auto& line : split_lines(read_file(capture)).complete) {
    auto record = json::parse(line);  // not const: a missing key reads as null
    if (record["type"] != "message" || record["leg"] != "client")
      continue;
    EXPECT_EQ(record["transport"], "stdio");
    EXPECT_FALSE(record.contains("http_method"));
    if (record["direction"] == "client->server") {
      ++in;
    } else {
      ++out;
      EXPECT_EQ(record["message"].dump(), json::parse(out == 1 ? *init : *list).dump());
    }
  }
  EXPECT_EQ(in, 3u);  // initialize, initialized, tools/list
  EXPECT_EQ(out, 2u);
}

TEST_F(CaptureTest, TheLegacySseFrontEndIsRecordedBothWays) {
  const auto capture = dir_ / "sse.jsonl";
  gateway_ = std::make_unique<RunningGateway>(
      dir_, config_text(), std::vector<std::string>{"--capture", capture.string()});
  HttpConnection stream(gateway_->port());
  stream.send_request("GET", "/sse", {{"Accept", "text/event-stream"}, {"X-API-Key", kApiKey}});
  const auto head = stream.read_head();
  ASSERT_TRUE(head);
  ASSERT_EQ(head->status, 200);
  // Reads the stream until an event's data satisfies `wanted`; returns that data.
  std::string received;
  const auto next_data = [&](const auto& wanted) -> std::optional<std::string> {
    for (int reads = 0; reads < 100; ++reads) {
      for (const auto& data : sse_data(received))
        if (wanted(data))
          return data;
      const auto more = stream.read_some();
      if (!more || more->empty())
        return std::nullopt;
      received += *more;
    }
    return std::nullopt;
  };
  const auto endpoint =
      next_data([](const std::string& data) { return data.rfind("/message", 0) == 0; });
  ASSERT_TRUE(endpoint);
  const std::string session = endpoint->substr(endpoint->find('=') + 1);
  HttpConnection posts(gateway_->port());
  Headers headers{{"Content-Type", "application/json"}, {"X-API-Key", kApiKey}};
  const auto accepted =
      posts.request("POST", *endpoint, headers, initialize_request(7, "2024-11-05").dump());
  ASSERT_TRUE(accepted);
  ASSERT_EQ(accepted->status, 202);
  ASSERT_TRUE(next_data(
      [](const std::string& data) { return data.find("\"id\":7") != std::string::npos; }));
  ASSERT_EQ(gateway_->child().stop(), 0);
  bool in = false;
  bool out = false;
  for (const auto& line : split_lines(read_file(capture)).complete) {
    auto record = json::parse(line);  // not const: a missing key reads as null
    if (record["type"] != "message" || record["leg"] != "client")
      continue;
    EXPECT_EQ(record["transport"], "sse");
    EXPECT_EQ(record["session"], session);
    if (record["direction"] == "client->server") {
      in = record["message"]["id"] == 7 && record["http_method"] == "POST" &&
           record["http_headers"]["x-api-key"] == "[redacted]";
    } else {
      out = record["message"]["id"] == 7 && record["http_method"] == "GET" &&
            record["http_status"] == 200 && !record.contains("sse_event_id");
    }
  }
  EXPECT_TRUE(in);
  EXPECT_TRUE(out);
}

TEST_F(CaptureTest, ALegacySseBackendIsRecordedBothWays) {
  const auto capture = dir_ / "sse-backend.jsonl";
  const std::string sse_url = "http://127.0.0.1:" + std::to_string(fixture_->port()) + "/sse";
  gateway_ = std::make_unique<RunningGateway>(
      dir_,
      "[policy]\ndefault = \"allow\"\n[auth]\nallow_anonymous = true\n\n[[backend]]\n"
      "name = \"old\"\ntransport = \"sse\"\nurl = \"" +
          sse_url + "\"\n",
      std::vector<std::string>{"--capture", capture.string()});
  HttpConnection connection(gateway_->port());
  std::string failure;
  const auto session = open_mcp_session(connection, kVersion, &failure);
  ASSERT_TRUE(session) << failure;
  const auto list = connection.request("POST", "/mcp", mcp_post_headers(*session, kVersion),
                                       jsonrpc_request(1, "tools/list").dump());
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200);
  ASSERT_EQ(gateway_->child().stop(), 0);
  bool sent = false;
  bool received = false;
  for (const auto& line : split_lines(read_file(capture)).complete) {
    auto record = json::parse(line);  // not const: a missing key reads as null
    if (record["type"] != "message" || record["leg"] != "backend")
      continue;
    EXPECT_EQ(record["transport"], "sse");
    EXPECT_EQ(record["backend"], "old");
    if (record["direction"] == "client->server") {
      sent = sent || (record["http_method"] == "POST" &&
                      record["message"].value("method", "") == "tools/list");
    } else {
      received = received || (record["http_method"] == "GET" && record["http_status"] == 200 &&
                              record["message"]["result"].contains("tools"));
    }
  }
  EXPECT_TRUE(sent);
  EXPECT_TRUE(received);
}

TEST_F(CaptureTest, AnUnwritableCapturePathStopsServeWithTheReason) {
  const auto config = dir_ / "gateway.toml";
  write_file(config, config_text());
  Child serve({MCPGW_BINARY, "serve", "--config", config.string(), "--listen", "127.0.0.1:0",
               "--capture", (dir_ / "missing" / "c.jsonl").string()},
              dir_ / "serve.stderr");
  const auto status = serve.wait(20s);
  ASSERT_TRUE(status);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 1);
  EXPECT_NE(serve.stderr_text().find("cannot open capture file"), std::string::npos)
      << serve.stderr_text();
}

}  // namespace
}  // namespace mcpgw::integration
