#include "mcp/decode/http_conversation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "tests/unit/mcp/http_test_support.hpp"

namespace mcpgw::mcp::decode {
namespace {

using testing::CollectingSink;
using traffic::Direction;

constexpr auto kClient = Direction::client_to_server;
constexpr auto kServer = Direction::server_to_client;

const std::string kInitialize =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
const std::string kInitializeResult =
    R"({"jsonrpc":"2.0","id":1,"result":{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"s","version":"1"}}})";
const std::string kToolsList = R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})";
const std::string kToolsResult = R"({"jsonrpc":"2.0","id":2,"result":{"tools":[]}})";
const std::string kInitialized = R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

std::string post(const std::string& body, const std::string& extra_headers = "") {
  return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
         "Accept: application/json, text/event-stream\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string json_response(const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string chunk(std::string_view data, std::string_view extension = "") {
  constexpr char kHex[] = "0123456789abcdef";
  std::string size;
  for (std::size_t n = data.size(); n > 0; n /= 16) {
    size.insert(size.begin(), kHex[n % 16]);
  }
  return size + std::string(extension) + "\r\n" + std::string(data) + "\r\n";
}

HttpConversationOptions options() {
  HttpConversationOptions o;
  o.source = "test";
  o.connection = "tcp:127.0.0.1:5000>127.0.0.1:8080";
  return o;
}

struct Run {
  CollectingSink sink;
};

// Feeds the client stream, then the server stream, each split at `cuts` (positions).
CollectingSink run(const std::string& client, const std::string& server,
                   const std::vector<std::size_t>& server_cuts = {},
                   HttpConversationOptions opts = options()) {
  CollectingSink sink;
  HttpConversation conversation(opts);
  ChunkOrigin origin;
  conversation.feed(kClient, client, origin, sink);
  std::size_t start = 0;
  for (std::size_t cut : server_cuts) {
    origin.offset = start;
    conversation.feed(kServer, std::string_view(server).substr(start, cut - start), origin, sink);
    start = cut;
  }
  origin.offset = start;
  conversation.feed(kServer, std::string_view(server).substr(start), origin, sink);
  conversation.finish(origin, sink);
  return sink;
}

TEST(HttpConversation, InitializeRequestLearnsTheSessionFromItsResponse) {
  const std::string client = post(kInitialize) + post(kInitialized, "Mcp-Session-Id: abc\r\n");
  const std::string server = json_response(kInitializeResult, "Mcp-Session-Id: abc\r\n") +
                             "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n";
  CollectingSink sink;
  HttpConversation conversation(options());
  ChunkOrigin origin;
  origin.time_us = 1000;
  conversation.feed(kClient, client, origin, sink);
  // The initialize request waits for its response head; the notification has its session.
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].message, kInitialized);
  origin.time_us = 2000;
  conversation.feed(kServer, server, origin, sink);
  conversation.finish(origin, sink);
  ASSERT_EQ(sink.events.size(), 3u) << sink.problem_text();
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  const auto& request = sink.events[1];
  EXPECT_EQ(request.message, kInitialize);
  EXPECT_EQ(request.direction, kClient);
  EXPECT_EQ(request.session, "abc");
  EXPECT_EQ(request.scope, "session:abc");
  EXPECT_EQ(request.time_us, 1000);
  EXPECT_EQ(request.transport, traffic::Transport::streamable_http);
  ASSERT_TRUE(request.http);
  EXPECT_EQ(request.http->method, "POST");
  EXPECT_EQ(request.http->target, "/mcp");
  EXPECT_EQ(request.http->status, 0);
  ASSERT_FALSE(request.http->headers.empty());
  EXPECT_EQ(request.http->headers[0].name, "host");
  const auto& response = sink.events[2];
  EXPECT_EQ(response.message, kInitializeResult);
  EXPECT_EQ(response.direction, kServer);
  EXPECT_EQ(response.scope, "session:abc");
  EXPECT_EQ(response.time_us, 2000);
  EXPECT_EQ(response.http->status, 200);
  EXPECT_EQ(response.http->method, "POST");
  EXPECT_EQ(response.where.offset,
            json_response(kInitializeResult, "Mcp-Session-Id: abc\r\n").find('{'));
}

TEST(HttpConversation, ChunkedSseSplitAtEveryPosition) {
  const std::string client = post(kToolsList, "Mcp-Session-Id: s1\r\n");
  const std::string events = "id: 7\nevent: message\ndata: " + kToolsResult.substr(0, 20) +
                             "\n\n: keep-alive\n\ndata: " + kToolsResult + "\n\n";
  const std::string server =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n" +
      chunk("id: 7\nevent: message\n") + chunk("data: " + kToolsResult + "\n\n", ";ext=1") +
      chunk(": ping\n\nid: 8\ndata: ") + chunk(kInitialized + "\n\n") +
      "0\r\nX-Trailer: yes\r\n\r\n";
  const std::vector<std::string> expected = {kToolsList, kToolsResult, kInitialized};
  for (std::size_t cut = 0; cut <= server.size(); ++cut) {
    CollectingSink sink = run(client, server, {cut});
    ASSERT_EQ(sink.messages(), expected) << "cut " << cut << "\n" << sink.problem_text();
    ASSERT_TRUE(sink.problems.empty()) << "cut " << cut << "\n" << sink.problem_text();
    ASSERT_EQ(sink.events[1].sse_event_id, "7");
    ASSERT_EQ(sink.events[2].sse_event_id, "8");
    ASSERT_EQ(sink.events[1].scope, "session:s1");
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < server.size(); ++i) {
    every.push_back(i);
  }
  EXPECT_EQ(run(client, server, every).messages(), expected);
}

TEST(HttpConversation, PipelinedRequestsPairWithResponsesInOrder) {
  const std::string batch = "[" + kToolsList + "," + kInitialized + "]";
  const std::string client =
      post(kToolsList, "Mcp-Session-Id: s\r\n") + "HEAD /mcp HTTP/1.1\r\nHost: x\r\n\r\n" +
      post(kInitialized, "Mcp-Session-Id: s\r\n") + post(batch, "Mcp-Session-Id: s\r\n");
  const std::string server = json_response(kToolsResult) +
                             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             "Content-Length: 500\r\n\r\n" +  // HEAD: no body follows
                             "HTTP/1.1 100 Continue\r\n\r\n"
                             "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
                             "HTTP/1.1 204 No Content\r\n\r\n";
  CollectingSink sink = run(client, server);
  ASSERT_TRUE(sink.problems.empty()) << sink.problem_text();
  // Batch members keep their exact text.
  const std::vector<std::string> expected = {kToolsList, kInitialized, kToolsList, kInitialized,
                                             kToolsResult};
  ASSERT_EQ(sink.messages(), expected);
  EXPECT_EQ(sink.events[4].http->status, 200);
  EXPECT_EQ(sink.events[4].http->method, "POST");
  EXPECT_EQ(sink.events[2].http->method, "POST");  // the batch's members
}

TEST(HttpConversation, ReadUntilCloseAndJsonWithoutContentType) {
  const std::string server = "HTTP/1.0 200 OK\r\n\r\n" + kToolsResult;
  CollectingSink sink = run(post(kToolsList), server, {5, 30});
  ASSERT_EQ(sink.messages(), (std::vector<std::string>{kToolsList, kToolsResult}));
  EXPECT_EQ(sink.events[0].scope, "tcp:127.0.0.1:5000>127.0.0.1:8080");
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
}

TEST(HttpConversation, GarbageIsReportedWithItsOffsetAndSkipped) {
  const std::string garbage = "\x16\x03\x01 binary junk\r\nmore junk\n";
  const std::string server = garbage + json_response(kToolsResult);
  CollectingSink sink = run(post(kToolsList), server, {3});
  ASSERT_EQ(sink.messages(), (std::vector<std::string>{kToolsList, kToolsResult}));
  ASSERT_EQ(sink.problems.size(), 1u) << sink.problem_text();
  EXPECT_EQ(sink.problems[0].where.offset, 0u);
  EXPECT_NE(sink.problems[0].message.find("not an HTTP status line"), std::string::npos);
}

TEST(HttpConversation, BodiesThatAreNotJsonRpcAreProblems) {
  const std::string server = json_response("{\"not\":\"jsonrpc\"}") + json_response("{broken") +
                             "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 9\r\n\r\nnot found";
  const std::string client =
      post(kToolsList) + post(kToolsList) + "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
  CollectingSink sink = run(client, server);
  EXPECT_EQ(sink.events.size(), 2u);
  ASSERT_EQ(sink.problems.size(), 2u) << sink.problem_text();
  EXPECT_NE(sink.problems[0].message.find("not a JSON-RPC message"), std::string::npos);
}

TEST(HttpConversation, LegacySseStreamAndItsPosts) {
  const std::string client = "GET /sse HTTP/1.1\r\nAccept: text/event-stream\r\n\r\n";
  const std::string server =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
      "event: endpoint\ndata: /message?sessionId=xyz\n\n"
      "event: message\ndata: " +
      kToolsResult + "\n\n";
  CollectingSink sink = run(client, server);
  ASSERT_EQ(sink.messages(), (std::vector<std::string>{kToolsResult}));
  EXPECT_EQ(sink.events[0].transport, traffic::Transport::sse);
  EXPECT_EQ(sink.events[0].scope, "session:xyz");
  EXPECT_EQ(sink.events[0].http->method, "GET");

  const std::string legacy_post =
      "POST /message?sessionId=xyz HTTP/1.1\r\nContent-Type: "
      "application/json\r\nContent-Length: " +
      std::to_string(kToolsList.size()) + "\r\n\r\n" + kToolsList;
  CollectingSink post_sink =
      run(legacy_post, "HTTP/1.1 202 Accepted\r\nContent-Length: 8\r\n\r\nAccepted");
  ASSERT_EQ(post_sink.messages(), (std::vector<std::string>{kToolsList}));
  EXPECT_EQ(post_sink.events[0].transport, traffic::Transport::sse);
  EXPECT_EQ(post_sink.events[0].scope, "session:xyz");
}

TEST(HttpConversation, OversizedHeadIsReportedAndTheSideResynchronises) {
  HttpConversationOptions opts = options();
  opts.limits.max_head_bytes = 256;
  const std::string server = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(1000, 'a') + "\r\n\r\n" +
                             json_response(kToolsResult);
  CollectingSink sink = run(post(kToolsList) + post(kToolsList), server, {100, 600}, opts);
  ASSERT_GE(sink.problems.size(), 1u);
  EXPECT_NE(sink.problems[0].message.find("HTTP head longer than 256"), std::string::npos);
  // The second response is found again (it pairs with the first request in line).
  const auto messages = sink.messages();
  EXPECT_EQ(std::count(messages.begin(), messages.end(), kToolsResult), 1);
  EXPECT_EQ(std::count(messages.begin(), messages.end(), kToolsList), 2);
}

TEST(HttpConversation, OversizedBodyAndSseEventAreBounded) {
  HttpConversationOptions opts = options();
  opts.limits.max_body_bytes = 64;
  opts.limits.max_sse_event_bytes = 64;
  const std::string big =
      R"({"jsonrpc":"2.0","id":2,"result":{"pad":")" + std::string(200, 'x') + "\"}}";
  const std::string server =
      json_response(big) +
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: " + big +
      "\n\ndata: " + kInitialized + "\n\n";
  CollectingSink sink = run(post(kToolsList) + post(kToolsList), server, {}, opts);
  EXPECT_EQ(sink.events.back().message, kInitialized);
  ASSERT_EQ(sink.problems.size(), 2u) << sink.problem_text();
  EXPECT_NE(sink.problems[0].message.find("body larger than 64"), std::string::npos);
  EXPECT_NE(sink.problems[1].message.find("SSE event dropped"), std::string::npos);
}

TEST(HttpConversation, GapInsideAFramedBodyKeepsTheFraming) {
  CollectingSink sink;
  HttpConversation conversation(options());
  ChunkOrigin origin;
  const std::string first = json_response(kToolsResult);
  conversation.feed(kClient, post(kToolsList) + post(kToolsList), origin, sink);
  conversation.feed(kServer, first.substr(0, first.size() - 10), origin, sink);
  conversation.gap(kServer, 5, origin, sink);
  conversation.feed(kServer, first.substr(first.size() - 5) + json_response(kToolsResult), origin,
                    sink);
  conversation.finish(origin, sink);
  EXPECT_EQ(sink.messages(), (std::vector<std::string>{kToolsList, kToolsList, kToolsResult}));
  ASSERT_EQ(sink.problems.size(), 1u) << sink.problem_text();
  EXPECT_NE(sink.problems[0].message.find("body incomplete"), std::string::npos);
}

TEST(HttpConversation, GapInAChunkedBodyResynchronisesAtTheNextResponse) {
  CollectingSink sink;
  HttpConversation conversation(options());
  ChunkOrigin origin;
  conversation.feed(kClient, post(kToolsList) + post(kToolsList), origin, sink);
  conversation.feed(kServer,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n" +
                        chunk("data: " + kInitialized + "\n\n") + "1f\r\ndata: {",
                    origin, sink);
  conversation.gap(kServer, 100, origin, sink);
  conversation.feed(kServer, "xx\r\n0\r\n\r\n" + json_response(kToolsResult), origin, sink);
  conversation.finish(origin, sink);
  // Requests without a session wait for their response head: the second one comes out after
  // the first response's stream.
  EXPECT_EQ(sink.messages(),
            (std::vector<std::string>{kToolsList, kInitialized, kToolsList, kToolsResult}));
}

TEST(HttpConversation, TruncatedInputIsReportedAtFinish) {
  const std::string response = json_response(kToolsResult);
  CollectingSink sink = run(post(kToolsList), response.substr(0, response.size() - 3));
  EXPECT_EQ(sink.messages(), (std::vector<std::string>{kToolsList}));
  ASSERT_EQ(sink.problems.size(), 1u);
  EXPECT_NE(sink.problems[0].message.find("body incomplete"), std::string::npos);

  CollectingSink head_sink = run(post(kToolsList), "HTTP/1.1 200 OK\r\nContent-");
  ASSERT_EQ(head_sink.problems.size(), 1u);
  EXPECT_NE(head_sink.problems[0].message.find("inside an HTTP head"), std::string::npos);
}

TEST(HttpConversation, InvalidChunkSizeIsAProblem) {
  const std::string server =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
      "zz\r\n" +
      kToolsResult + "\r\n0\r\n\r\n" + json_response(kToolsResult);
  CollectingSink sink = run(post(kToolsList) + post(kToolsList), server);
  ASSERT_FALSE(sink.problems.empty());
  EXPECT_NE(sink.problems[0].message.find("invalid chunk-size line"), std::string::npos);
  EXPECT_EQ(sink.events.back().message, kToolsResult);
}

TEST(HttpConversation, SwitchingProtocolsEndsDecoding) {
  const std::string server =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello";
  CollectingSink sink = run("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x85xxxx", server);
  EXPECT_TRUE(sink.events.empty());
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
}

TEST(ClassifyStartLine, RequestAndStatusLines) {
  EXPECT_EQ(classify_start_line("POST /mcp HTTP/1.1"), kClient);
  EXPECT_EQ(classify_start_line("HTTP/1.1 200 OK"), kServer);
  EXPECT_EQ(classify_start_line("HTTP/2 200"), kServer);
  EXPECT_EQ(classify_start_line("HTTP/1.1 200"), kServer);
  EXPECT_FALSE(classify_start_line("data: {\"a\":1}"));
  EXPECT_FALSE(classify_start_line("HTTP/1.1 20 OK"));
  EXPECT_FALSE(classify_start_line("post /mcp HTTP/1.1"));
  EXPECT_FALSE(classify_start_line("POST /mcp HTTP/2"));
  EXPECT_FALSE(classify_start_line(""));
}

}  // namespace
}  // namespace mcpgw::mcp::decode
