#include "mcp/ndjson.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace mcpgw::mcp {
namespace {

using Lines = std::vector<std::string>;

struct FrameRun {
  Lines lines;
  std::size_t errors = 0;
};

FrameRun frame_split(std::string_view stream, const std::vector<std::size_t>& cuts,
                     NdjsonFramerOptions options = {}) {
  NdjsonFramer framer(options);
  FrameRun run;
  std::size_t start = 0;
  auto feed = [&](std::string_view chunk) {
    if (!framer.feed(chunk, run.lines)) {
      ++run.errors;
    }
  };
  for (std::size_t cut : cuts) {
    feed(stream.substr(start, cut - start));
    start = cut;
  }
  feed(stream.substr(start));
  framer.finish(run.lines);
  return run;
}

FrameRun frame_whole(std::string_view stream, NdjsonFramerOptions options = {}) {
  return frame_split(stream, {}, options);
}

FrameRun frame_bytewise(std::string_view stream, NdjsonFramerOptions options = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) {
    cuts.push_back(i);
  }
  return frame_split(stream, cuts, options);
}

void expect_split_invariant(std::string_view stream, const Lines& expected,
                            NdjsonFramerOptions options = {}) {
  const FrameRun whole = frame_whole(stream, options);
  ASSERT_EQ(whole.lines, expected);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    const FrameRun split = frame_split(stream, {cut}, options);
    ASSERT_EQ(split.lines, expected) << "cut at " << cut;
    ASSERT_EQ(split.errors > 0, whole.errors > 0) << "cut at " << cut;
  }
  EXPECT_EQ(frame_bytewise(stream, options).lines, expected);
  std::mt19937 random(777);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::size_t> cuts;
    std::size_t position = 0;
    while (true) {
      position += 1 + random() % 9;
      if (position >= stream.size()) {
        break;
      }
      cuts.push_back(position);
    }
    EXPECT_EQ(frame_split(stream, cuts, options).lines, expected) << round;
  }
}

TEST(NdjsonFramer, SplitsLines) {
  NdjsonFramer framer;
  Lines lines;
  auto result = framer.feed("{\"a\":1}\n{\"b\":2}\n{\"c\"", lines);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 2u);
  EXPECT_EQ(lines, (Lines{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(framer.pending_bytes(), 4u);
  result = framer.feed(":3}\n", lines);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 1u);
  EXPECT_EQ(lines.back(), "{\"c\":3}");
  EXPECT_EQ(framer.pending_bytes(), 0u);
  EXPECT_EQ(framer.finish(lines), 0u);
  EXPECT_EQ(framer.lines_delivered(), 3u);
}

TEST(NdjsonFramer, StripsOneTrailingCr) {
  EXPECT_EQ(frame_whole("a\r\nb\r\n").lines, (Lines{"a", "b"}));
  EXPECT_EQ(frame_whole("a\r\r\n").lines, (Lines{"a\r"}));
  EXPECT_EQ(frame_whole("a\rb\n").lines, (Lines{"a\rb"})) << "only LF ends a line";
  EXPECT_EQ(frame_whole("last\r").lines, (Lines{"last"}));
}

TEST(NdjsonFramer, FinishDeliversLineWithoutFinalNewline) {
  NdjsonFramer framer;
  Lines lines;
  ASSERT_TRUE(framer.feed("one\ntwo", lines));
  EXPECT_EQ(lines, (Lines{"one"}));
  EXPECT_EQ(framer.finish(lines), 1u);
  EXPECT_EQ(lines, (Lines{"one", "two"}));
  EXPECT_EQ(framer.finish(lines), 0u) << "finish resets the framer";
  ASSERT_TRUE(framer.feed("three\n", lines));
  EXPECT_EQ(lines.back(), "three");
}

TEST(NdjsonFramer, SkipsEmptyAndWhitespaceOnlyLines) {
  EXPECT_EQ(frame_whole("\n\n a \n \t \r\n\r\n\n{}\n   ").lines, (Lines{" a ", "{}"}));
  EXPECT_TRUE(frame_whole("").lines.empty());
  EXPECT_TRUE(frame_whole("\n").lines.empty());
}

TEST(NdjsonFramer, ManyLinesInOneChunk) {
  std::string stream;
  Lines expected;
  for (int i = 0; i < 10000; ++i) {
    expected.push_back(R"({"jsonrpc":"2.0","id":)" + std::to_string(i) + "}");
    stream += expected.back() + "\n";
  }
  NdjsonFramer framer;
  Lines lines;
  auto result = framer.feed(stream, lines);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 10000u);
  EXPECT_EQ(lines, expected);
}

TEST(NdjsonFramer, SplitsAnywhereGiveIdenticalResults) {
  const std::string stream =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\r\n"
      "\n"
      "  \t\n"
      "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n"
      "not json at all\r\n"
      "\xFF\xFE raw bytes\n"
      "{\"unterminated\":true}";
  expect_split_invariant(
      stream, {"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}",
               "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}", "not json at all",
               "\xFF\xFE raw bytes", "{\"unterminated\":true}"});
}

TEST(NdjsonFramer, OversizeLineIsRefusedThenFramingRecovers) {
  NdjsonFramerOptions options;
  options.max_line_bytes = 16;
  NdjsonFramer framer(options);
  Lines lines;
  auto result = framer.feed("short\n" + std::string(40, 'x') + "\nafter\n", lines);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NdjsonErrc::line_too_long);
  EXPECT_EQ(result.error().limit, 16u);
  EXPECT_EQ(result.error().bytes_seen, 40u);
  EXPECT_NE(result.error().message.find("16-byte limit"), std::string::npos);
  EXPECT_NE(result.error().message.find("40 bytes"), std::string::npos);
  EXPECT_EQ(lines, (Lines{"short", "after"}));
  EXPECT_EQ(framer.lines_dropped(), 1u);
}

TEST(NdjsonFramer, OversizeLineAcrossChunksIsNotKeptInMemory) {
  NdjsonFramerOptions options;
  options.max_line_bytes = 1 << 20;
  NdjsonFramer framer(options);
  Lines lines;
  const std::string chunk(4096, 'y');
  std::size_t errors = 0;
  for (int i = 0; i < 1024; ++i) {  // 4 MiB of one line
    auto result = framer.feed(chunk, lines);
    if (!result) {
      ++errors;
      EXPECT_GT(result.error().bytes_seen, options.max_line_bytes);
      EXPECT_LE(result.error().bytes_seen, options.max_line_bytes + chunk.size());
    }
    EXPECT_LE(framer.pending_bytes(), options.max_line_bytes);
  }
  EXPECT_EQ(errors, 1u);
  EXPECT_EQ(framer.pending_bytes(), 0u) << "the discarded line is not buffered";
  ASSERT_TRUE(framer.feed("yyy\n{\"ok\":true}\n", lines));
  EXPECT_EQ(lines, (Lines{"{\"ok\":true}"}));
}

TEST(NdjsonFramer, OversizeLineAtEndOfStreamIsDropped) {
  NdjsonFramerOptions options;
  options.max_line_bytes = 8;
  const FrameRun run = frame_whole("ok\n0123456789abcdef", options);
  EXPECT_EQ(run.lines, (Lines{"ok"}));
  EXPECT_EQ(run.errors, 1u);
}

TEST(NdjsonFramer, SeveralOversizeLinesInOneChunkReportTheFirst) {
  NdjsonFramerOptions options;
  options.max_line_bytes = 4;
  NdjsonFramer framer(options);
  Lines lines;
  auto result = framer.feed("123456\na\n12345678\nb\n", lines);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().bytes_seen, 6u);
  EXPECT_EQ(lines, (Lines{"a", "b"}));
  EXPECT_EQ(framer.lines_dropped(), 2u);
}

TEST(NdjsonFramer, LineExactlyAtLimitIsAccepted) {
  NdjsonFramerOptions options;
  options.max_line_bytes = 5;
  EXPECT_EQ(frame_bytewise("12345\n123456\nabc\n", options).lines, (Lines{"12345", "abc"}));
  expect_split_invariant("12345\n123456\nabc\n1234567890\nend", {"12345", "abc", "end"}, options);
}

TEST(NdjsonFramer, FiveMebibyteLineInSmallChunks) {
  std::string line = R"({"jsonrpc":"2.0","id":1,"result":{"blob":")";
  line.append(5 << 20, 'b');
  line += "\"}}";
  const std::string stream = line + "\n{\"next\":1}\n";
  NdjsonFramer framer;  // default 16 MiB limit
  Lines lines;
  for (std::size_t pos = 0; pos < stream.size(); pos += 4096) {
    ASSERT_TRUE(framer.feed(std::string_view(stream).substr(pos, 4096), lines));
  }
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], line);
  EXPECT_EQ(lines[1], "{\"next\":1}");
  // A mebibyte in 3-byte chunks: quadratic rescanning would not finish in any sane time.
  const std::string medium = std::string(1 << 20, 'm') + "\n";
  lines.clear();
  for (std::size_t pos = 0; pos < medium.size(); pos += 3) {
    ASSERT_TRUE(framer.feed(std::string_view(medium).substr(pos, 3), lines));
  }
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].size(), std::size_t{1} << 20);
}

TEST(NdjsonFramer, LinesInsideOneChunkAreNotCopied) {
  class PointerSink final : public NdjsonLineSink {
   public:
    void on_line(std::string_view line) override { starts.push_back(line.data()); }
    std::vector<const char*> starts;
  };
  const std::string chunk = "first\nsecond\n";
  NdjsonFramer framer;
  PointerSink sink;
  ASSERT_TRUE(framer.feed(chunk, sink));
  ASSERT_EQ(sink.starts.size(), 2u);
  EXPECT_EQ(sink.starts[0], chunk.data());
  EXPECT_EQ(sink.starts[1], chunk.data() + 6);
}

TEST(NdjsonWriter, AppendsMessageAndNewline) {
  std::string out;
  auto written = append_ndjson_line(out, R"({"jsonrpc":"2.0","method":"ping","id":1})");
  ASSERT_TRUE(written);
  EXPECT_EQ(out, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}\n");
  EXPECT_EQ(*written, out.size());
  ASSERT_TRUE(append_ndjson_line(out, "{}"));
  EXPECT_EQ(out, "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"id\":1}\n{}\n");
}

TEST(NdjsonWriter, RefusesRawNewlinesAndEmptyMessages) {
  std::string out = "kept";
  auto result = append_ndjson_line(out, "{\"a\":\n1}");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NdjsonErrc::embedded_newline);
  EXPECT_NE(result.error().message.find("newline"), std::string::npos);
  result = append_ndjson_line(out, "{\"a\":1}\r");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NdjsonErrc::embedded_newline);
  result = append_ndjson_line(out, "");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NdjsonErrc::empty_message);
  result = append_ndjson_line(out, " \t ");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, NdjsonErrc::empty_message);
  EXPECT_EQ(out, "kept");
}

TEST(NdjsonWriter, RoundTripsThroughTheFramer) {
  const Lines messages = {"{}", R"({"s":"escaped \n newline"})", " padded ", "\xC3\xA9t\xC3\xA9",
                          std::string(70000, 'w')};
  std::string stream;
  for (const auto& message : messages) {
    ASSERT_TRUE(append_ndjson_line(stream, message));
  }
  EXPECT_EQ(frame_bytewise(stream).lines, messages);
}

}  // namespace
}  // namespace mcpgw::mcp
