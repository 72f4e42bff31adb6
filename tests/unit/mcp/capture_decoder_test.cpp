#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mcp/decode/decoders.hpp"
#include "tests/unit/mcp/decode_test_support.hpp"

namespace mcpgw::mcp::decode {
namespace {

using traffic::DecoderOptions;
using traffic::Direction;
using traffic::Leg;
using traffic::Transport;
using traffic::testing::CollectingSink;
using traffic::testing::digest;
using traffic::testing::feed_split;

const std::string kHeader =
    R"({"type":"header","format":"mcpgw-capture","version":1,"started_us":1700000000000000,"gateway":"0.1.0","file_index":0})";

std::string capture_text() {
  return kHeader + "\n" +
         R"({"type":"message","ts_us":1700000000000100,"leg":"client","direction":"client->server","transport":"streamable_http","connection":3,"http_method":"POST","message":{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}})"
         "\n"
         R"({"type":"message","ts_us":1700000000000200,"leg":"client","direction":"server->client","transport":"streamable_http","session":"s1","connection":3,"http_method":"POST","http_status":200,"http_headers":{"content-type":"application/json","Mcp-Session-Id":"s1"},"message":{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}})"
         "\n"
         R"({"type":"message","ts_us":1700000000000300,"leg":"backend","direction":"client->server","transport":"stdio","session":"s1","backend":"files","message":{"jsonrpc":"2.0","id":7,"method":"tools/list"}})"
         "\n"
         R"({"type":"message","ts_us":1700000000000400,"leg":"client","direction":"server->client","transport":"streamable_http","session":"s1","sse_event_id":"e-1","future_member":[1,{"x":2}],"message":{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}}})"
         "\n";
}

TEST(CaptureDecoder, DecodesRecords) {
  auto decoder = make_capture_decoder(DecoderOptions{"cap.jsonl", {}, {}});
  CollectingSink sink;
  const std::string text = capture_text();
  decoder->feed(text, sink);
  decoder->finish(sink);
  EXPECT_TRUE(sink.problems.empty()) << digest(sink);
  ASSERT_EQ(sink.events.size(), 4u);

  const auto& init = sink.events[0];
  EXPECT_EQ(init.time_us, 1700000000000100);
  EXPECT_EQ(init.leg, Leg::client);
  EXPECT_EQ(init.direction, Direction::client_to_server);
  EXPECT_EQ(init.transport, Transport::streamable_http);
  EXPECT_EQ(
      init.message,
      R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})");
  EXPECT_EQ(init.where.source, "cap.jsonl");
  EXPECT_EQ(init.where.line, 2u);
  ASSERT_TRUE(init.http.has_value());
  EXPECT_EQ(init.http->method, "POST");
  // initialize and its answer pair although only the answer carries the new session.
  EXPECT_EQ(init.scope, "conn:3/client");
  EXPECT_EQ(sink.events[1].scope, init.scope);
  EXPECT_EQ(sink.events[1].session, "s1");
  ASSERT_TRUE(sink.events[1].http.has_value());
  EXPECT_EQ(sink.events[1].http->status, 200);
  ASSERT_EQ(sink.events[1].http->headers.size(), 2u);
  EXPECT_EQ(sink.events[1].http->headers[1].name, "mcp-session-id");
  EXPECT_EQ(sink.events[1].http->headers[1].value, "s1");

  const auto& backend = sink.events[2];
  EXPECT_EQ(backend.leg, Leg::backend);
  EXPECT_EQ(backend.backend, "files");
  EXPECT_EQ(backend.transport, Transport::stdio);
  EXPECT_EQ(backend.scope, "capture:cap.jsonl/backend:files");
  EXPECT_FALSE(backend.http.has_value());

  EXPECT_EQ(sink.events[3].scope, "session:s1/client");
  EXPECT_EQ(sink.events[3].sse_event_id, "e-1");
}

TEST(CaptureDecoder, SameResultForEverySplit) {
  const std::string text = capture_text() + "garbage\n" + R"({"type":"message","direction":)";
  auto whole_decoder = make_capture_decoder(DecoderOptions{"c", {}, {}});
  CollectingSink whole;
  feed_split(*whole_decoder, text, {}, whole);
  for (std::size_t cut = 1; cut < text.size(); cut += 7) {
    auto decoder = make_capture_decoder(DecoderOptions{"c", {}, {}});
    CollectingSink split;
    feed_split(*decoder, text, {cut / 2, cut}, split);
    ASSERT_EQ(digest(split), digest(whole)) << "cut at " << cut;
  }
}

TEST(CaptureDecoder, BatchesBecomeOneEventPerMember) {
  auto decoder = make_capture_decoder(DecoderOptions{"b", {}, {}});
  CollectingSink sink;
  decoder->feed(
      R"({"type":"message","ts_us":5,"leg":"client","direction":"client->server","session":"s","message":[{"jsonrpc":"2.0","id":1,"method":"ping"}, {"jsonrpc":"2.0","method":"notifications/initialized"}]})"
      "\n"
      R"({"type":"message","ts_us":6,"leg":"client","direction":"client->server","session":"s","message":[]})"
      "\n",
      sink);
  decoder->finish(sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].message, R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  EXPECT_EQ(sink.events[1].message, R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(sink.events[1].time_us, 5);
  EXPECT_EQ(sink.events[1].scope, "session:s/client");
  ASSERT_EQ(sink.problems.size(), 1u);
  EXPECT_EQ(traffic::describe(sink.problems[0]), "b:2: the message is an empty batch");
}

TEST(CaptureDecoder, MalformedRecordsAreReportedAndSkipped) {
  auto decoder = make_capture_decoder(DecoderOptions{"m.jsonl", {}, {}});
  CollectingSink sink;
  const std::string ok =
      R"({"type":"message","direction":"client->server","message":{"jsonrpc":"2.0","method":"a"}})";
  decoder->feed(
      "\n"
      "not json\n" +
          ok + "\n" +
          R"({"type":"message","direction":"sideways","message":{}})"
          "\n"
          R"({"type":"message","direction":"client->server","ts_us":"yesterday","message":{}})"
          "\n"
          R"({"type":"message","direction":"client->server","message":"text"})"
          "\n"
          R"({"type":"message","direction":"client->server","message":{"a":1,}})"
          "\n"
          R"({"type":"message","direction":"client->server"})"
          "\n"
          R"({"direction":"client->server","message":{}})"
          "\n"
          R"({"type":"dropped","ts_us":9,"count":12})"
          "\n"
          R"({"type":"from-the-future","x":1})"
          "\n" +
          ok + "\r\n",
      sink);
  decoder->finish(sink);
  ASSERT_EQ(sink.events.size(), 2u);
  EXPECT_EQ(sink.events[0].where.line, 3u);
  EXPECT_EQ(sink.events[1].where.line, 12u);
  EXPECT_EQ(sink.events[1].message, R"({"jsonrpc":"2.0","method":"a"})");
  const auto problems = sink.problem_texts();
  ASSERT_EQ(problems.size(), 8u) << digest(sink);
  EXPECT_EQ(problems[0], "m.jsonl:2: not a capture record (a JSON object per line expected)");
  EXPECT_EQ(problems[1], "m.jsonl:4: unknown direction \"sideways\"");
  EXPECT_EQ(problems[2], "m.jsonl:5: \"ts_us\" must be an integer");
  EXPECT_EQ(problems[3], "m.jsonl:6: \"message\" is a string, not a JSON-RPC message");
  EXPECT_NE(problems[4].find("m.jsonl:7: invalid JSON at byte"), std::string::npos);
  EXPECT_EQ(problems[5], "m.jsonl:8: message record without a \"message\"");
  EXPECT_EQ(problems[6], "m.jsonl:9: a capture record needs a \"type\"");
  EXPECT_NE(problems[7].find("m.jsonl:10: the capture dropped 12 records here"), std::string::npos);
}

TEST(CaptureDecoder, TimestampBeyondYear9999IsAProblem) {
  // Both extremes in one file: their difference would overflow an int64 latency.
  auto decoder = make_capture_decoder(DecoderOptions{"t.jsonl", {}, {}});
  CollectingSink sink;
  decoder->feed(
      R"({"type":"message","direction":"client->server","ts_us":-9223372036854775807,"message":{"jsonrpc":"2.0","id":1,"method":"a"}})"
      "\n"
      R"({"type":"message","direction":"server->client","ts_us":9223372036854775807,"message":{"jsonrpc":"2.0","id":1,"result":{}}})"
      "\n"
      R"({"type":"message","direction":"client->server","ts_us":253402300800000000,"message":{"jsonrpc":"2.0","id":2,"method":"b"}})"
      "\n",
      sink);
  decoder->finish(sink);
  ASSERT_EQ(sink.events.size(), 1u) << digest(sink);
  EXPECT_EQ(sink.events[0].time_us, traffic::kMaxAbsTimeUs);
  const auto problems = sink.problem_texts();
  ASSERT_EQ(problems.size(), 2u) << digest(sink);
  EXPECT_EQ(problems[0], "t.jsonl:1: ts_us -9223372036854775807 is out of range");
  EXPECT_EQ(problems[1], "t.jsonl:2: ts_us 9223372036854775807 is out of range");
}

TEST(CaptureDecoder, TruncatedFinalRecord) {
  const std::string line =
      R"({"type":"message","direction":"server->client","message":{"jsonrpc":"2.0","id":1,"result":{}}})";
  {
    auto decoder = make_capture_decoder(DecoderOptions{"t", {}, {}});
    CollectingSink sink;
    decoder->feed(line + "\n" + line.substr(0, 40), sink);
    decoder->finish(sink);
    EXPECT_EQ(sink.events.size(), 1u);
    ASSERT_EQ(sink.problems.size(), 1u);
    EXPECT_EQ(traffic::describe(sink.problems[0]),
              "t:2: truncated final record (no newline at the end of the input)");
  }
  {
    // A complete last record without its newline is still read.
    auto decoder = make_capture_decoder(DecoderOptions{"t", {}, {}});
    CollectingSink sink;
    decoder->feed(line, sink);
    decoder->finish(sink);
    EXPECT_EQ(sink.events.size(), 1u);
    EXPECT_TRUE(sink.problems.empty());
  }
}

TEST(CaptureDecoder, HeaderChecks) {
  auto decoder = make_capture_decoder(DecoderOptions{"h", {}, {}});
  CollectingSink sink;
  decoder->feed(R"({"type":"header","format":"mcpgw-capture","version":2})"
                "\n"
                R"({"type":"header","format":"mcpgw-capture","version":3})"
                "\n"
                R"({"type":"header","format":"other","version":1})"
                "\n"
                R"({"type":"header","format":"mcpgw-capture","version":1})"
                "\n",
                sink);
  decoder->finish(sink);
  const auto problems = sink.problem_texts();
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("h:1: capture format version 2 is newer"), std::string::npos);
  EXPECT_NE(problems[1].find("h:3: header of format \"other\""), std::string::npos);
}

TEST(CaptureDecoder, OversizeRecordIsSkipped) {
  auto decoder = make_capture_decoder(DecoderOptions{"big", {}, {}});
  CollectingSink sink;
  const std::string chunk(std::size_t{1} << 20, 'x');
  for (int i = 0; i < 65; ++i) {
    decoder->feed(chunk, sink);
  }
  decoder->feed(
      "\n"
      R"({"type":"message","direction":"client->server","message":{"jsonrpc":"2.0","method":"a"}})"
      "\n",
      sink);
  decoder->finish(sink);
  ASSERT_EQ(sink.problems.size(), 1u);
  EXPECT_NE(traffic::describe(sink.problems[0]).find("big:1: record longer than 64 MiB"),
            std::string::npos);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(sink.events[0].where.line, 2u);
}

}  // namespace
}  // namespace mcpgw::mcp::decode
