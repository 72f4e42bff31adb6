#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "mcp/decode/decoders.hpp"
#include "tests/unit/mcp/http_test_support.hpp"

namespace mcpgw::mcp::decode {
namespace {

using testing::CollectingSink;
using traffic::Direction;

const std::string kPing = R"({"jsonrpc":"2.0","id":1,"method":"ping"})";
const std::string kPong = R"({"jsonrpc":"2.0","id":1,"result":{}})";
const std::string kToolsList = R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})";
const std::string kToolsResult = R"({"jsonrpc":"2.0","id":2,"result":{"tools":[]}})";
const std::string kProgress =
    R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}})";

CollectingSink decode_split(std::string_view input, const std::vector<std::size_t>& cuts) {
  traffic::DecoderOptions options;
  options.source = "t.txt";
  auto decoder = make_http_transcript_decoder(options);
  CollectingSink sink;
  std::size_t start = 0;
  for (std::size_t cut : cuts) {
    decoder->feed(input.substr(start, cut - start), sink);
    start = cut;
  }
  decoder->feed(input.substr(start), sink);
  decoder->finish(sink);
  return sink;
}

// Decodes whole, split at every position, and byte by byte; all must agree.
CollectingSink decode_all_ways(std::string_view input) {
  CollectingSink whole = decode_split(input, {});
  for (std::size_t cut = 1; cut < input.size(); ++cut) {
    CollectingSink split = decode_split(input, {cut});
    EXPECT_EQ(split.messages(), whole.messages()) << "cut at " << cut;
    EXPECT_EQ(split.problem_text(), whole.problem_text()) << "cut at " << cut;
    if (::testing::Test::HasFailure()) {
      break;
    }
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < input.size(); ++i) {
    every.push_back(i);
  }
  EXPECT_EQ(decode_split(input, every).messages(), whole.messages());
  return whole;
}

// What `curl -v -i -N -d ... 2>&1` printed against a chunked SSE response (curl 7.88).
const std::string kCurlVerbose =
    "*   Trying 127.0.0.1:36861...\n"
    "* Connected to 127.0.0.1 (127.0.0.1) port 36861 (#0)\n"
    "> POST /mcp HTTP/1.1\r\n"
    "> Host: 127.0.0.1:36861\r\n"
    "> User-Agent: curl/7.88.1\r\n"
    "> Accept: */*\r\n"
    "> Content-Type: application/json\r\n"
    "> Content-Length: 40\r\n"
    "> \r\n"
    "} [40 bytes data]\n"
    "< HTTP/1.1 200 OK\r\n"
    "< Content-Type: text/event-stream\r\n"
    "< Transfer-Encoding: chunked\r\n"
    "< Mcp-Session-Id: abc\r\n"
    "< \r\n"
    "{ [82 bytes data]\n"
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/event-stream\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Mcp-Session-Id: abc\r\n"
    "\r\n"
    "id: 1\n"
    "event: message\n"
    "data: " +
    kPong +
    "\n"
    "\n"
    "* Connection #0 to host 127.0.0.1 left intact\n";

TEST(HttpTranscript, CurlVerboseOutput) {
  CollectingSink sink = decode_all_ways(kCurlVerbose);
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  ASSERT_EQ(sink.messages(), std::vector<std::string>{kPong});
  const auto& event = sink.events[0];
  EXPECT_EQ(event.direction, Direction::server_to_client);
  EXPECT_EQ(event.session, "abc");
  EXPECT_EQ(event.scope, "session:abc");
  EXPECT_EQ(event.sse_event_id, "1");
  EXPECT_FALSE(event.time_us);
  ASSERT_TRUE(event.http);
  EXPECT_EQ(event.http->method, "POST");
  EXPECT_EQ(event.http->target, "/mcp");
  EXPECT_EQ(event.http->status, 200);
  EXPECT_EQ(event.where.source, "t.txt");
  EXPECT_EQ(event.where.offset, kCurlVerbose.find("id: 1"));
}

TEST(HttpTranscript, SeveralCurlIncludeRunsWithDechunkedBodies) {
  const std::string input =
      // curl -i -N: the head says chunked, the body was de-chunked by curl.
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
      "mcp-session-id: s-1\r\n\r\n"
      "event: message\ndata: " +
      kProgress + "\n\nid: 9\ndata: " + kPong +
      "\n\n"
      // An interim response, then a JSON body with a length.
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(kToolsResult.size()) + "\r\n\r\n" + kToolsResult +
      "\n"
      // HTTP/2: no length, no chunking; the body runs to the next status line.
      "HTTP/2 200 \r\ncontent-type: application/json\r\n\r\n" +
      kPong +
      "\n"
      "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n";
  CollectingSink sink = decode_all_ways(input);
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  ASSERT_EQ(sink.messages(), (std::vector<std::string>{kProgress, kPong, kToolsResult, kPong}));
  EXPECT_EQ(sink.events[0].scope, "session:s-1");
  EXPECT_EQ(sink.events[1].sse_event_id, "9");
  EXPECT_EQ(sink.events[2].scope, "transcript:t.txt");
  EXPECT_EQ(sink.events[2].http->method, "");
  EXPECT_EQ(sink.events[3].http->status, 200);
}

TEST(HttpTranscript, RawInterleavedDumpWithRealChunks) {
  const std::string sse = "data: " + kPong + "\n\n";
  const std::string input =
      "POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nMcp-Session-Id: z\r\n"
      "Content-Length: " +
      std::to_string(kPing.size()) + "\r\n\r\n" + kPing +
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "a\r\n" +
      sse.substr(0, 10) + "\r\n" +
      [&] {
        char size[16];
        std::snprintf(size, sizeof size, "%zx", sse.size() - 10);
        return std::string(size);
      }() +
      "\r\n" + sse.substr(10) +
      "\r\n0\r\n\r\n"
      "POST /mcp HTTP/1.1\r\nContent-Type: application/json\r\nMcp-Session-Id: z\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      [&] {
        char size[16];
        std::snprintf(size, sizeof size, "%zx", kToolsList.size());
        return std::string(size);
      }() +
      "\r\n" + kToolsList +
      "\r\n0\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(kToolsResult.size()) + "\r\n\r\n" + kToolsResult;
  CollectingSink sink = decode_all_ways(input);
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  ASSERT_EQ(sink.messages(), (std::vector<std::string>{kPing, kPong, kToolsList, kToolsResult}));
  EXPECT_EQ(sink.events[0].direction, Direction::client_to_server);
  EXPECT_EQ(sink.events[1].direction, Direction::server_to_client);
  EXPECT_EQ(sink.events[3].http->method, "POST");
  for (const auto& event : sink.events) {
    EXPECT_EQ(event.scope, "session:z");
  }
  EXPECT_EQ(sink.events[0].where.offset, input.find(kPing));
}

TEST(HttpTranscript, GarbageIsReportedWithItsByteOffset) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n";
  const std::string input = std::string("garbage line\n\x01\x02\n") + head + kPong + "\n";
  CollectingSink sink = decode_all_ways(input);
  ASSERT_EQ(sink.messages(), std::vector<std::string>{kPong});
  ASSERT_EQ(sink.problems.size(), 1u) << sink.problem_text();
  EXPECT_EQ(sink.problems[0].where.offset, 0u);
  EXPECT_EQ(sink.problems[0].where.source, "t.txt");
}

TEST(HttpTranscript, TruncatedTranscript) {
  const std::string input =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc";
  CollectingSink sink = decode_all_ways(input);
  EXPECT_TRUE(sink.events.empty());
  ASSERT_EQ(sink.problems.size(), 1u);
  EXPECT_NE(sink.problems[0].message.find("incomplete"), std::string::npos);
}

TEST(HttpTranscript, EmptyAndBinaryInputsDoNotCrash) {
  EXPECT_TRUE(decode_split("", {}).events.empty());
  std::string binary;
  for (int i = 0; i < 5000; ++i) {
    binary.push_back(static_cast<char>((i * 131) & 0xff));
  }
  CollectingSink sink = decode_split(binary, {17, 999, 4000});
  EXPECT_TRUE(sink.events.empty());
  EXPECT_FALSE(sink.problems.empty());
}

}  // namespace
}  // namespace mcpgw::mcp::decode
