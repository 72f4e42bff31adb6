#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "mcp/base64url.hpp"
#include "mcp/decode/decoders.hpp"
#include "mcp/decode/timestamp.hpp"
#include "tests/unit/mcp/decode_test_support.hpp"

namespace mcpgw::mcp::decode {
namespace {

using nlohmann::json;
using traffic::DecoderOptions;
using traffic::Direction;
using traffic::Transport;
using traffic::testing::CollectingSink;
using traffic::testing::digest;
using traffic::testing::feed_split;

json header(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

json entry(const std::string& started, const std::string& method, const std::string& url,
           json request_headers, const std::string& post, int status, json response_headers,
           json content, json timings = json::object()) {
  json request = {{"method", method},
                  {"url", url},
                  {"httpVersion", "HTTP/1.1"},
                  {"headers", std::move(request_headers)}};
  if (!post.empty()) {
    request["postData"] = {{"mimeType", "application/json"}, {"text", post}};
  }
  return {{"startedDateTime", started},
          {"time", 12.5},
          {"request", std::move(request)},
          {"response",
           {{"status", status},
            {"statusText", ""},
            {"headers", std::move(response_headers)},
            {"content", std::move(content)}}},
          {"timings", std::move(timings)}};
}

std::string base64(const std::string& bytes) {
  std::string text = base64url_encode(bytes);
  for (auto& c : text) {
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  }
  while (text.size() % 4 != 0) {
    text += '=';
  }
  return text;
}

std::string sample_har() {
  json entries = json::array();
  entries.push_back(entry(
      "2024-05-01T10:20:30.123+02:00", "POST", "http://127.0.0.1:8080/mcp",
      json::array({header(":authority", "x"), header("Content-Type", "application/json")}),
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})",
      200,
      json::array({header("Content-Type", "application/json"), header("Mcp-Session-Id", "S1")}),
      {{"size", 10},
       {"mimeType", "application/json"},
       {"text", R"({"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18"}})"}},
      {{"blocked", -1}, {"dns", 1.5}, {"connect", 2}, {"ssl", 1}, {"send", 0.5}, {"wait", 6}}));
  entries.push_back(
      entry("2024-05-01T08:20:31Z", "POST", "http://127.0.0.1:8080/mcp?x=1",
            json::array({header("mcp-session-id", "S1")}),
            R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}})", 200,
            json::array({header("content-type", "text/event-stream")}),
            {{"mimeType", "text/event-stream"},
             {"encoding", "base64"},
             {"text", base64("id: p0\ndata:\n\n"
                             "id: e1\nevent: message\n"
                             "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\","
                             "\"params\":{\"progressToken\":1,\"progress\":1}}\n\n"
                             "data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n")}}));
  entries.push_back(
      entry("2024-05-01T08:20:32Z", "GET", "http://127.0.0.1:8080/favicon.ico", json::array(), "",
            200, json::array(),
            {{"mimeType", "image/png"}, {"text", "iVBORw0KGgo="}, {"encoding", "base64"}}));
  entries.push_back(entry("2024-05-01T08:20:33Z", "POST", "http://127.0.0.1:8080/api",
                          json::array(), R"({"hello":"world"})", 200, json::array(),
                          {{"mimeType", "text/html"}, {"text", "<html></html>"}}));
  // Legacy HTTP+SSE: the stream announces the POST endpoint with the session.
  entries.push_back(
      entry("2024-05-01T08:20:34Z", "GET", "http://127.0.0.1:3001/sse", json::array(), "", 200,
            json::array({header("Content-Type", "text/event-stream")}),
            {{"mimeType", "text/event-stream"},
             {"text",
              "event: endpoint\ndata: /message?sessionId=L9\n\n"
              "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}\n\n"}}));
  entries.push_back(entry("2024-05-01T08:20:35Z", "POST",
                          "http://127.0.0.1:3001/message?sessionId=L9", json::array(),
                          R"([{"jsonrpc":"2.0","id":5,"method":"ping"},{"jsonrpc":"2.0"}])", 202,
                          json::array(), {{"mimeType", "text/plain"}, {"text", "Accepted"}}));
  json har = {{"log",
               {{"version", "1.2"},
                {"creator", {{"name", "test"}, {"version", "1"}}},
                {"entries", std::move(entries)}}}};
  return har.dump(2);
}

TEST(HarDecoder, DecodesEntries) {
  auto decoder = make_har_decoder(DecoderOptions{"s.har", {}, {}});
  CollectingSink sink;
  const std::string text = sample_har();
  decoder->feed(text, sink);
  decoder->finish(sink);
  ASSERT_EQ(sink.events.size(), 7u) << digest(sink);

  const auto& init = sink.events[0];
  EXPECT_EQ(init.direction, Direction::client_to_server);
  EXPECT_EQ(init.transport, Transport::streamable_http);
  EXPECT_EQ(init.session, "S1");  // from the response
  EXPECT_EQ(init.scope, "session:S1");
  EXPECT_EQ(init.time_us, 1714551630123000);
  ASSERT_TRUE(init.http.has_value());
  EXPECT_EQ(init.http->method, "POST");
  EXPECT_EQ(init.http->target, "/mcp");
  ASSERT_EQ(init.http->headers.size(), 1u);  // the pseudo-header is dropped
  EXPECT_EQ(init.http->headers[0].name, "content-type");
  const auto& answer = sink.events[1];
  EXPECT_EQ(answer.direction, Direction::server_to_client);
  EXPECT_EQ(answer.http->status, 200);
  // dns 1.5 + connect 2 + send 0.5 + wait 6 (ssl is inside connect, -1 is not applicable).
  EXPECT_EQ(answer.time_us, 1714551630123000 + 10000);
  EXPECT_EQ(answer.message,
            R"({"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18"}})");

  EXPECT_EQ(sink.events[2].http->target, "/mcp?x=1");
  EXPECT_EQ(sink.events[3].sse_event_id, "e1");
  EXPECT_EQ(sink.events[3].direction, Direction::server_to_client);
  EXPECT_EQ(sink.events[4].message, R"({"jsonrpc":"2.0","id":1,"result":{}})");
  EXPECT_EQ(sink.events[4].sse_event_id, "");

  // Legacy SSE: the stream and the POST share the session of the endpoint.
  EXPECT_EQ(sink.events[5].transport, Transport::sse);
  EXPECT_EQ(sink.events[5].scope, "session:L9");
  EXPECT_EQ(sink.events[5].direction, Direction::server_to_client);
  EXPECT_EQ(sink.events[6].scope, "session:L9");
  EXPECT_EQ(sink.events[6].transport, Transport::sse);
  EXPECT_EQ(sink.events[6].message, R"({"jsonrpc":"2.0","id":5,"method":"ping"})");

  const auto problems = sink.problem_texts();
  ASSERT_EQ(problems.size(), 2u);
  // Entries have no line: the location is the entry index, as the message names it.
  EXPECT_NE(problems[0].find("s.har@3: entry 3: request body: not a JSON-RPC message"),
            std::string::npos);
  EXPECT_NE(problems[1].find("s.har@5: entry 5: request body, batch element 1"), std::string::npos);
  EXPECT_EQ(init.where.offset, 0u);
  EXPECT_EQ(init.where.line, 0u);
  EXPECT_EQ(sink.events[2].where.offset, 1u);
}

TEST(HarDecoder, ChunkingDoesNotMatter) {
  const std::string text = sample_har();
  auto whole_decoder = make_har_decoder(DecoderOptions{"h", {}, {}});
  CollectingSink whole;
  feed_split(*whole_decoder, text, {}, whole);
  auto split_decoder = make_har_decoder(DecoderOptions{"h", {}, {}});
  CollectingSink split;
  feed_split(*split_decoder, text, {1, 100, 101, text.size() / 2}, split);
  EXPECT_EQ(digest(whole), digest(split));
}

TEST(HarDecoder, BadDocuments) {
  for (const std::string& text : {std::string("{\"log\":{\"entries\":[{"), std::string("[1,2]"),
                                  std::string("{\"log\":{}}"), std::string("")}) {
    auto decoder = make_har_decoder(DecoderOptions{"bad.har", {}, {}});
    CollectingSink sink;
    decoder->feed(text, sink);
    decoder->finish(sink);
    EXPECT_TRUE(sink.events.empty());
    ASSERT_EQ(sink.problems.size(), 1u) << text;
    EXPECT_EQ(sink.problems[0].where.source, "bad.har");
  }
  auto decoder = make_har_decoder(DecoderOptions{"e.har", {}, {}});
  CollectingSink sink;
  decoder->feed(R"({"log":{"entries":[7,{"request":{"method":"POST","url":"/mcp",)"
                R"("postData":{"mimeType":"application/json","text":"{\"jsonrpc\":"}}}]}})",
                sink);
  decoder->finish(sink);
  const auto problems = sink.problem_texts();
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "e.har@0: entry 0: no request object");
  EXPECT_NE(problems[1].find("entry 1: request body: invalid JSON"), std::string::npos);
}

TEST(Timestamps, Iso8601) {
  EXPECT_EQ(parse_iso8601_us("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_iso8601_us("1970-01-01T00:00:01.5Z"), 1500000);
  EXPECT_EQ(parse_iso8601_us("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_iso8601_us("1970-01-01T00:00:00-0130"), 5400000000);
  EXPECT_EQ(parse_iso8601_us("2024-02-29 12:00:00.000001"), 1709208000000001);
  EXPECT_FALSE(parse_iso8601_us("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_iso8601_us("2024-01-01T00:00:00Zjunk"));
  EXPECT_FALSE(parse_iso8601_us("2024-01-01"));
  EXPECT_FALSE(parse_iso8601_us(""));
}

}  // namespace
}  // namespace mcpgw::mcp::decode
