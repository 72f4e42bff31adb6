#include <gtest/gtest.h>

#include <string>

#include "mcp/decode/decoders.hpp"
#include "mcp/decode/stdio_labels.hpp"
#include "tests/unit/mcp/decode_test_support.hpp"

namespace mcpgw::mcp::decode {
namespace {

using traffic::DecoderOptions;
using traffic::Direction;
using traffic::Transport;
using traffic::testing::CollectingSink;
using traffic::testing::digest;
using traffic::testing::feed_split;

CollectingSink decode(const std::string& text, DecoderOptions options) {
  auto decoder = make_stdio_decoder(options);
  CollectingSink sink;
  decoder->feed(text, sink);
  decoder->finish(sink);
  return sink;
}

TEST(StdioDecoder, ClientStreamDetectedFromInitialize) {
  const auto sink = decode(
      "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{}}\n"
      "\n"
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\r\n"
      "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},{\"jsonrpc\":\"2.0\",\"id\":2,"
      "\"method\":\"tools/list\"}]\n",
      DecoderOptions{"client.ndjson", {}, {}});
  EXPECT_TRUE(sink.problems.empty()) << digest(sink);
  ASSERT_EQ(sink.events.size(), 4u);
  for (const auto& event : sink.events) {
    EXPECT_EQ(event.direction, Direction::client_to_server);
    EXPECT_EQ(event.transport, Transport::stdio);
    EXPECT_EQ(event.scope, "stdio:client.ndjson");
    EXPECT_FALSE(event.time_us.has_value());
  }
  EXPECT_EQ(sink.events[1].where.line, 3u);
  EXPECT_EQ(sink.events[1].message,
            "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
  EXPECT_EQ(sink.events[3].message, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
  EXPECT_EQ(sink.events[3].where.line, 4u);
}

TEST(StdioDecoder, ServerStreamDetectedAndOptionWins) {
  const std::string text =
      "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{}}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"roots/list\"}\n";
  auto detected = decode(text, DecoderOptions{"s", {}, {}});
  ASSERT_EQ(detected.events.size(), 2u);
  EXPECT_EQ(detected.events[1].direction, Direction::server_to_client);
  auto forced = decode(text, DecoderOptions{"s", Direction::client_to_server, {}});
  ASSERT_EQ(forced.events.size(), 2u);
  EXPECT_EQ(forced.events[0].direction, Direction::client_to_server);
  auto sampling = decode("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sampling/createMessage\"}\n",
                         DecoderOptions{"s", {}, {}});
  ASSERT_EQ(sampling.events.size(), 1u);
  EXPECT_EQ(sampling.events[0].direction, Direction::server_to_client);
}

TEST(StdioDecoder, LabelledCombinedFile) {
  const auto sink = decode(
      "2024-05-01T10:00:00.250Z > {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
      "2024-05-01T10:00:00.500+00:00 < {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
      "< {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\",\"params\":{}}\n"
      "> not json\n",
      DecoderOptions{"both.log", Direction::server_to_client, {}});
  ASSERT_EQ(sink.events.size(), 3u) << digest(sink);
  EXPECT_EQ(sink.events[0].direction, Direction::client_to_server);
  EXPECT_EQ(sink.events[0].time_us, 1714557600250000);
  EXPECT_EQ(sink.events[0].message, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}");
  EXPECT_EQ(sink.events[1].direction, Direction::server_to_client);
  EXPECT_EQ(sink.events[1].time_us, 1714557600500000);
  EXPECT_EQ(sink.events[2].direction, Direction::server_to_client);
  EXPECT_FALSE(sink.events[2].time_us.has_value());
  ASSERT_EQ(sink.problems.size(), 1u);
  EXPECT_NE(traffic::describe(sink.problems[0]).find("both.log:4: invalid JSON"),
            std::string::npos);
}

TEST(StdioDecoder, Labels) {
  EXPECT_TRUE(parse_labelled_line("> {}"));
  EXPECT_TRUE(parse_labelled_line("<\t{}"));
  EXPECT_FALSE(parse_labelled_line(">{}"));
  EXPECT_FALSE(parse_labelled_line("{\"a\":1}"));
  EXPECT_FALSE(parse_labelled_line("12 > {}"));
  const auto spaced = parse_labelled_line("2024-05-01 10:00:00Z < {}");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->direction, Direction::server_to_client);
  EXPECT_EQ(spaced->message, "{}");
  EXPECT_TRUE(spaced->time_us.has_value());
}

TEST(StdioDecoder, BadLinesAndTruncation) {
  const std::string text =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
      "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}\n"
      "[]\n"
      "[{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"},5]\n"
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"met";
  const auto sink = decode(text, DecoderOptions{"x", {}, {}});
  ASSERT_EQ(sink.events.size(), 2u);
  const auto problems = sink.problem_texts();
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_NE(problems[0].find("x:2: not a JSON-RPC message"), std::string::npos);
  EXPECT_EQ(problems[1], "x:3: an empty JSON-RPC batch");
  EXPECT_NE(problems[2].find("x:4: batch element 1: not a JSON-RPC message"), std::string::npos);
  EXPECT_EQ(problems[3], "x:5: truncated final line (no newline at the end of the input)");
  for (std::size_t cut = 1; cut < text.size(); cut += 5) {
    auto decoder = make_stdio_decoder(DecoderOptions{"x", {}, {}});
    CollectingSink split;
    feed_split(*decoder, text, {cut}, split);
    ASSERT_EQ(digest(split), digest(sink)) << cut;
  }
}

}  // namespace
}  // namespace mcpgw::mcp::decode
