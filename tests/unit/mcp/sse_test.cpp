#include "mcp/sse.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace mcpgw::mcp {
namespace {

using namespace std::string_literals;

// Records everything the parser reports as one comparable transcript.
class Recorder final : public SseSink {
 public:
  void on_event(SseEvent&& event) override {
    log.push_back("event type=" + event.type + " id=" + event.last_event_id +
                  (event.id_updated ? " (id updated)" : "") + " data=[" + event.data + "]");
    events.push_back(std::move(event));
  }
  void on_comment(std::string_view text) override {
    log.push_back("comment [" + std::string(text) + "]");
  }
  void on_retry(std::uint64_t milliseconds) override {
    log.push_back("retry " + std::to_string(milliseconds));
  }

  std::vector<SseEvent> events;
  std::vector<std::string> log;
};

struct ParseRun {
  std::vector<std::string> log;
  std::vector<SseEvent> events;
  std::size_t errors = 0;
  bool truncated = false;
  std::string last_event_id;
};

// Feeds `stream` split at the given positions (sorted, in range), then finishes it.
ParseRun parse_split(std::string_view stream, const std::vector<std::size_t>& cuts,
                     SseParserOptions options = {}) {
  SseParser parser(options);
  Recorder recorder;
  ParseRun run;
  std::size_t start = 0;
  auto feed = [&](std::string_view chunk) {
    auto result = parser.feed(chunk, recorder);
    if (!result) {
      ++run.errors;
      recorder.log.push_back("error " + std::to_string(result.error().limit));
    }
  };
  for (std::size_t cut : cuts) {
    feed(stream.substr(start, cut - start));
    start = cut;
  }
  feed(stream.substr(start));
  run.truncated = parser.finish();
  run.log = std::move(recorder.log);
  run.events = std::move(recorder.events);
  run.last_event_id = parser.last_event_id();
  return run;
}

ParseRun parse_whole(std::string_view stream, SseParserOptions options = {}) {
  return parse_split(stream, {}, options);
}

ParseRun parse_bytewise(std::string_view stream, SseParserOptions options = {}) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) {
    cuts.push_back(i);
  }
  return parse_split(stream, cuts, options);
}

std::vector<std::string> data_of(const ParseRun& run) {
  std::vector<std::string> data;
  for (const auto& event : run.events) {
    data.push_back(event.data);
  }
  return data;
}

// Errors may be reported in a different chunk depending on the split, so compare without them.
std::vector<std::string> without_errors(std::vector<std::string> log) {
  std::erase_if(log, [](const std::string& line) { return line.starts_with("error "); });
  return log;
}

// Asserts that every way of cutting `stream` in two, and byte-by-byte feeding, and a few random
// chunkings all give the same transcript as feeding it whole.
void expect_split_invariant(std::string_view stream, SseParserOptions options = {}) {
  const ParseRun whole = parse_whole(stream, options);
  const auto expected = without_errors(whole.log);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    const ParseRun split = parse_split(stream, {cut}, options);
    ASSERT_EQ(without_errors(split.log), expected) << "cut at " << cut;
    ASSERT_EQ(split.errors > 0, whole.errors > 0) << "cut at " << cut;
    ASSERT_EQ(split.truncated, whole.truncated) << "cut at " << cut;
    ASSERT_EQ(split.last_event_id, whole.last_event_id) << "cut at " << cut;
  }
  const ParseRun bytewise = parse_bytewise(stream, options);
  EXPECT_EQ(without_errors(bytewise.log), expected);
  EXPECT_EQ(bytewise.truncated, whole.truncated);
  std::mt19937 random(12345);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::size_t> cuts;
    std::size_t position = 0;
    while (true) {
      position += 1 + random() % 7;
      if (position >= stream.size()) {
        break;
      }
      cuts.push_back(position);
    }
    EXPECT_EQ(without_errors(parse_split(stream, cuts, options).log), expected) << round;
  }
}

TEST(SseParser, DispatchesOneEventOnBlankLine) {
  const ParseRun run = parse_whole("data: hello\n\n");
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].type, "message");
  EXPECT_EQ(run.events[0].data, "hello");
  EXPECT_EQ(run.events[0].last_event_id, "");
  EXPECT_FALSE(run.events[0].id_updated);
  EXPECT_FALSE(run.truncated);
}

TEST(SseParser, JoinsMultipleDataLinesWithLf) {
  EXPECT_EQ(data_of(parse_whole("data: a\ndata: b\ndata\ndata: c\n\n")),
            std::vector<std::string>{"a\nb\n\nc"});
}

TEST(SseParser, AcceptsCrLfAndCrlfLineEndings) {
  const std::vector<std::string> expected{"a\nb", "c"};
  EXPECT_EQ(data_of(parse_whole("data: a\ndata: b\n\ndata: c\n\n")), expected);
  EXPECT_EQ(data_of(parse_whole("data: a\rdata: b\r\rdata: c\r\r")), expected);
  EXPECT_EQ(data_of(parse_whole("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n")), expected);
  EXPECT_EQ(data_of(parse_whole("data: a\r\ndata: b\r\n\ndata: c\r\r\n")), expected);
}

TEST(SseParser, CrAtChunkEndAndLfAtNextChunkStartIsOneLineBreak) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("data: a\r", events));
  ASSERT_TRUE(parser.feed("\ndata: b\r", events));
  EXPECT_TRUE(events.empty()) << "the LF of a split CRLF must not count as a blank line";
  ASSERT_TRUE(parser.feed("\n\r", events));
  ASSERT_EQ(events.size(), 1u);  // the lone CR is the blank line
  EXPECT_EQ(events[0].data, "a\nb");
  ASSERT_TRUE(parser.feed("\n", events));  // completes that CRLF: still nothing new
  EXPECT_EQ(events.size(), 1u);
  EXPECT_FALSE(parser.finish());
}

TEST(SseParser, CrFollowedByCrIsTwoLineBreaks) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("data: x\r", events));
  ASSERT_TRUE(parser.feed("\r", events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParser, SkipsByteOrderMarkOnlyAtStreamStart) {
  EXPECT_EQ(data_of(parse_whole("\xEF\xBB\xBF"
                                "data: x\n\n")),
            std::vector<std::string>{"x"});
  EXPECT_EQ(data_of(parse_bytewise("\xEF\xBB\xBF"
                                   "data: x\n\n")),
            std::vector<std::string>{"x"});
  // A second BOM is part of the field name, so that line is an unknown field.
  EXPECT_TRUE(parse_whole("\xEF\xBB\xBF\xEF\xBB\xBF"
                          "data: x\n\n")
                  .events.empty());
  // Not at the start: not skipped.
  EXPECT_EQ(data_of(parse_whole("data: a\n\n\xEF\xBB\xBF"
                                "data: b\n\ndata: c\n\n")),
            (std::vector<std::string>{"a", "c"}));
  // A BOM prefix that turns out to be something else is ordinary bytes.
  const ParseRun partial = parse_whole(
      "\xEF\xBB"
      "data: x\n\n");
  EXPECT_TRUE(partial.events.empty());
  EXPECT_EQ(data_of(parse_whole("\xEF"
                                "\n"
                                "data: y\n\n")),
            std::vector<std::string>{"y"});
}

TEST(SseParser, PartialBomAtEndOfStreamIsTruncated) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("\xEF\xBB", events));
  EXPECT_TRUE(parser.has_partial_event());
  EXPECT_TRUE(parser.finish());
}

TEST(SseParser, ReportsCommentsWithoutDispatching) {
  const ParseRun run = parse_whole(": keep-alive\n:\ndata: a\n:inside\ndata: b\n\n");
  EXPECT_EQ(run.log,
            (std::vector<std::string>{"comment [ keep-alive]", "comment []", "comment [inside]",
                                      "event type=message id= data=[a\nb]"}));
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed(":one\n:two\n\n", events));
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(parser.comments_seen(), 2u);
}

TEST(SseParser, ParsesFieldNamesAndValues) {
  EXPECT_EQ(data_of(parse_whole("data:x\n\n")), std::vector<std::string>{"x"});
  EXPECT_EQ(data_of(parse_whole("data:  x\n\n")), std::vector<std::string>{" x"});
  EXPECT_EQ(data_of(parse_whole("data: a:b: c\n\n")), std::vector<std::string>{"a:b: c"});
  EXPECT_EQ(data_of(parse_whole("data\n\n")), std::vector<std::string>{""});
  EXPECT_EQ(data_of(parse_whole("data:\n\n")), std::vector<std::string>{""});
  EXPECT_EQ(data_of(parse_whole("data: \n\n")), std::vector<std::string>{""});
  EXPECT_EQ(data_of(parse_whole("data: x \n\n")), std::vector<std::string>{"x "});
  // Field names are exact: case and surrounding spaces matter; unknown fields are ignored.
  EXPECT_TRUE(parse_whole("Data: x\n\n").events.empty());
  EXPECT_TRUE(parse_whole("data : x\n\n").events.empty());
  EXPECT_TRUE(parse_whole(" data: x\n\n").events.empty());
  EXPECT_EQ(data_of(parse_whole("foo: bar\ndata: x\nbaz\n\n")), std::vector<std::string>{"x"});
}

TEST(SseParser, EventTypeDefaultsToMessageAndResetsPerEvent) {
  const ParseRun run = parse_whole(
      "event: ping\ndata: 1\n\ndata: 2\n\nevent\ndata: 3\n\n"
      "event: a\nevent: b\ndata: 4\n\n");
  ASSERT_EQ(run.events.size(), 4u);
  EXPECT_EQ(run.events[0].type, "ping");
  EXPECT_EQ(run.events[1].type, "message");
  EXPECT_EQ(run.events[2].type, "message");
  EXPECT_EQ(run.events[3].type, "b");
}

TEST(SseParser, EventTypeWithoutDataIsDiscarded) {
  const ParseRun run = parse_whole("event: endpoint\n\ndata: x\n\n");
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].type, "message");
}

TEST(SseParser, LastEventIdPersistsAcrossEvents) {
  const ParseRun run =
      parse_whole("id: 1\ndata: a\n\ndata: b\n\ndata: c\nid: 2\n\nid\ndata: d\n\n");
  ASSERT_EQ(run.events.size(), 4u);
  EXPECT_EQ(run.events[0].last_event_id, "1");
  EXPECT_TRUE(run.events[0].id_updated);
  EXPECT_EQ(run.events[1].last_event_id, "1");
  EXPECT_FALSE(run.events[1].id_updated);
  EXPECT_EQ(run.events[2].last_event_id, "2");  // id after data, before the blank line
  EXPECT_EQ(run.events[3].last_event_id, "");   // an empty id resets it
  EXPECT_TRUE(run.events[3].id_updated);
}

TEST(SseParser, IdWithoutDataUpdatesLastEventIdButDispatchesNothing) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("id: 7\n\n", events));
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(parser.last_event_id(), "7");
  ASSERT_TRUE(parser.feed("data: x\n\n", events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].last_event_id, "7");
  EXPECT_TRUE(events[0].id_updated) << "the id-only block updated it";
  ASSERT_TRUE(parser.feed("data: y\n\n", events));
  EXPECT_FALSE(events[1].id_updated);
}

TEST(SseParser, IdContainingNulIsIgnored) {
  const ParseRun run = parse_whole("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"s);
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[1].last_event_id, "1");
  EXPECT_FALSE(run.events[1].id_updated);
}

TEST(SseParser, IdTakesEffectOnlyWhenTheBlockIsDispatched) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("id: 1\ndata: a\n\nid: 2\ndata: b\n", events));
  EXPECT_EQ(parser.last_event_id(), "1");
  EXPECT_TRUE(parser.finish());  // the block with id 2 was never completed
  EXPECT_EQ(parser.last_event_id(), "1");
  ASSERT_TRUE(parser.feed("data: c\n\n", events));  // reconnected stream
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].last_event_id, "1");
}

TEST(SseParser, RetryAcceptsOnlyAsciiDigits) {
  const ParseRun run = parse_whole(
      "retry: 3000\nretry: 30a0\nretry: -1\nretry:\nretry:  5\n"
      "retry: 1.5\nretry:0042\n\n");
  EXPECT_EQ(run.log, (std::vector<std::string>{"retry 3000", "retry 42"}));
  SseParser parser;
  std::vector<SseEvent> events;
  EXPECT_FALSE(parser.retry_milliseconds().has_value());
  ASSERT_TRUE(parser.feed("retry: 1500\n", events));
  EXPECT_EQ(parser.retry_milliseconds(), 1500u);
  ASSERT_TRUE(parser.feed("retry: 99999999999999999999999999\n", events));
  EXPECT_EQ(parser.retry_milliseconds(), UINT64_MAX);
  EXPECT_TRUE(events.empty());
}

TEST(SseParser, EndOfStreamDiscardsIncompleteEvent) {
  EXPECT_TRUE(parse_whole("data: a\n\ndata: partial\n").truncated);
  EXPECT_EQ(data_of(parse_whole("data: a\n\ndata: partial\n")), std::vector<std::string>{"a"});
  EXPECT_TRUE(parse_whole("data: partial").truncated);
  EXPECT_TRUE(parse_whole("event: x\n").truncated);
  EXPECT_TRUE(parse_whole(":comment without end").truncated);
  EXPECT_FALSE(parse_whole("data: a\n\n").truncated);
  EXPECT_FALSE(parse_whole(":comment\n").truncated);
  EXPECT_FALSE(parse_whole("").truncated);
}

TEST(SseParser, FinishPreparesForAReconnectedStream) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("\xEF\xBB\xBFid: 9\ndata: a\n\ndata: tail", events));
  EXPECT_TRUE(parser.has_partial_event());
  EXPECT_TRUE(parser.finish());
  EXPECT_FALSE(parser.has_partial_event());
  ASSERT_TRUE(
      parser.feed("\xEF\xBB\xBF"
                  "data: b\n\n",
                  events));  // new stream, new BOM
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].data, "b");
  EXPECT_EQ(events[1].last_event_id, "9");
}

TEST(SseParser, PassesNulAndInvalidUtf8ThroughAsBytes) {
  const std::string data = "a\0b\xFF\xC3(\xE2\x82"s;
  const ParseRun run = parse_whole("data: " + data + "\n\n");
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0].data, data);
}

TEST(SseParser, FeedReturnsEventsPerChunk) {
  SseParser parser;
  std::vector<SseEvent> events;
  auto result = parser.feed("data: a\n\ndata: b\n\ndata: c", events);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 2u);
  result = parser.feed("\n\n", events);
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 1u);
  EXPECT_EQ(parser.events_dispatched(), 3u);
}

TEST(SseParser, SplitsAnywhereGiveIdenticalResults) {
  const std::string stream =
      "\xEF\xBB\xBF: hello\r\n"
      "retry: 2500\r\n"
      "id: 1\r\n"
      "event: message\r\n"
      "data: {\"jsonrpc\":\"2.0\",\"id\":1}\r\n"
      "\r\n"
      "data: line one\rdata:line two\r\rdata\n\n"
      "event: endpoint\ndata: /message?sessionId=abc\nid\n\n"
      "id: 2\0\ndata: nul\0inside\n\n"
      "id: 3\nunknown: field\n\n"
      "event: only\n\n"
      ":\n"
      "data:  leading space\r\n\r\n"
      "data: \xFF\xFE invalid utf-8\n\n"
      "data: truncated at the end"s;
  const ParseRun whole = parse_whole(stream);
  ASSERT_EQ(whole.events.size(), 7u);
  EXPECT_TRUE(whole.truncated);
  EXPECT_EQ(whole.last_event_id, "3");
  expect_split_invariant(stream);
}

TEST(SseParser, SplitsAnywhereGiveIdenticalResultsWithLimits) {
  const std::string stream =
      "data: small\n\n"
      "data: 0123456789012345678901234567890123456789\n\ndata: after\n\n"
      "data: 0123456789\ndata: 0123456789\ndata: 0123456789\nid: x\n\n"
      ": a comment that is far too long for the tiny limit we use here\n\n"
      "data: end\n\n";
  SseParserOptions options;
  options.max_event_bytes = 32;
  const ParseRun whole = parse_whole(stream, options);
  EXPECT_EQ(data_of(whole), (std::vector<std::string>{"small", "after", "end"}));
  EXPECT_EQ(whole.errors, 1u);  // one chunk, so one error (the first of three)
  expect_split_invariant(stream, options);
}

TEST(SseParser, OversizeLineGivesClearErrorAndResynchronises) {
  SseParserOptions options;
  options.max_event_bytes = 64;
  SseParser parser(options);
  std::vector<SseEvent> events;
  const std::string big = "data: " + std::string(100, 'x') + "\n\n";
  auto result = parser.feed("data: before\n\n" + big + "data: after\n\n", events);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, SseErrc::event_too_large);
  EXPECT_EQ(result.error().limit, 64u);
  EXPECT_EQ(result.error().received, 106u);
  EXPECT_NE(result.error().message.find("64-byte limit"), std::string::npos);
  EXPECT_NE(result.error().message.find("106 bytes"), std::string::npos);
  ASSERT_EQ(events.size(), 2u) << "events around the oversize one are still delivered";
  EXPECT_EQ(events[0].data, "before");
  EXPECT_EQ(events[1].data, "after");
  EXPECT_EQ(parser.events_dropped(), 1u);
}

TEST(SseParser, OversizeEventFromManyLinesIsDropped) {
  SseParserOptions options;
  options.max_event_bytes = 100;
  SseParser parser(options);
  std::vector<SseEvent> events;
  std::string stream = "id: keep\n";
  for (int i = 0; i < 20; ++i) {
    stream += "data: 0123456789\n";
  }
  stream += "\ndata: next\n\n";
  auto result = parser.feed(stream, events);
  ASSERT_FALSE(result);
  EXPECT_LE(result.error().received, 100u + 16u);
  EXPECT_GT(result.error().received, 100u);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "next");
  EXPECT_EQ(events[0].last_event_id, "keep") << "fields before the overflow keep their effect";
}

TEST(SseParser, EndlessDataWithoutBlankLineStaysBounded) {
  SseParserOptions options;
  options.max_event_bytes = 1 << 20;
  SseParser parser(options);
  std::vector<SseEvent> events;
  const std::string chunk = [] {
    std::string lines;
    while (lines.size() < 4096) {
      lines += "data: endless\n";
    }
    return lines;
  }();
  std::size_t errors = 0;
  for (int i = 0; i < 2048; ++i) {  // 8 MiB, eight times the limit
    if (!parser.feed(chunk, events)) {
      ++errors;
    }
  }
  EXPECT_EQ(errors, 1u);
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(parser.has_partial_event());
  ASSERT_TRUE(parser.feed("\ndata: recovered\n\n", events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "recovered");
}

TEST(SseParser, HugeLineWithoutTerminatorIsRefusedAndSkipped) {
  SseParserOptions options;
  options.max_event_bytes = 1 << 20;
  SseParser parser(options);
  std::vector<SseEvent> events;
  const std::string chunk(4096, 'z');
  std::size_t errors = 0;
  for (int i = 0; i < 1024; ++i) {  // a 4 MiB line
    if (!parser.feed(chunk, events)) {
      ++errors;
    }
  }
  EXPECT_EQ(errors, 1u);
  ASSERT_TRUE(parser.feed("\n\ndata: ok\n\n", events));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "ok");
}

TEST(SseParser, OversizeCommentIsRefused) {
  SseParserOptions options;
  options.max_event_bytes = 16;
  const ParseRun run = parse_bytewise(":" + std::string(40, 'c') + "\n\ndata: fine\n\n", options);
  EXPECT_EQ(run.errors, 1u);
  EXPECT_EQ(data_of(run), std::vector<std::string>{"fine"});
}

TEST(SseParser, EventExactlyAtLimitIsAccepted) {
  SseParserOptions options;
  options.max_event_bytes = 20;
  // "id: 1" (5) + "data: 0123456789" (16) = 21 > 20; "data: 01234567890123" = 20.
  EXPECT_EQ(parse_bytewise("data: 01234567890123\n\n", options).errors, 0u);
  EXPECT_EQ(parse_bytewise("id: 1\ndata: 0123456789\n\n", options).errors, 1u);
}

TEST(SseParser, MultiMegabyteEventInSmallChunksIsLinear) {
  // Quadratic rescanning would make these take minutes; linear parsing takes milliseconds.
  std::string payload(8 << 20, 'p');
  const std::string stream = "data: " + payload + "\n\n";
  SseParser parser;
  std::vector<SseEvent> events;
  for (std::size_t pos = 0; pos < stream.size(); pos += 4096) {
    ASSERT_TRUE(parser.feed(std::string_view(stream).substr(pos, 4096), events));
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.size(), payload.size());
  EXPECT_EQ(events[0].data, payload);

  const std::string small_stream = "data: " + std::string(1 << 20, 'q') + "\ndata: x\n\n";
  events.clear();
  for (std::size_t pos = 0; pos < small_stream.size(); pos += 7) {
    ASSERT_TRUE(parser.feed(std::string_view(small_stream).substr(pos, 7), events));
  }
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.size(), (1u << 20) + 2);
}

TEST(SseWriter, FormatsAllFields) {
  std::string out;
  SseOutgoingEvent event;
  event.id = "42";
  event.event_type = "message";
  event.retry_milliseconds = 1000;
  event.data = R"({"jsonrpc":"2.0"})";
  auto written = append_sse_event(out, event);
  ASSERT_TRUE(written);
  EXPECT_EQ(out, "id: 42\nevent: message\nretry: 1000\ndata: {\"jsonrpc\":\"2.0\"}\n\n");
  EXPECT_EQ(*written, out.size());
}

TEST(SseWriter, OmitsUnsetFieldsAndAppends) {
  std::string out = "prefix";
  SseOutgoingEvent event;
  event.data = "x";
  ASSERT_TRUE(append_sse_event(out, event));
  EXPECT_EQ(out, "prefixdata: x\n\n");
}

TEST(SseWriter, SplitsDataOnEveryKindOfLineBreak) {
  std::string out;
  SseOutgoingEvent event;
  event.data = "a\nb\r\nc\rd\n";
  ASSERT_TRUE(append_sse_event(out, event));
  EXPECT_EQ(out, "data: a\ndata: b\ndata: c\ndata: d\ndata:\n\n");
}

TEST(SseWriter, RefusesFramingBreakingIdsAndEventTypes) {
  for (const std::string& bad : {"a\nb"s, "a\rb"s, "a\0b"s, "\n"s}) {
    std::string out = "unchanged";
    SseOutgoingEvent event;
    event.id = bad;
    auto result = append_sse_event(out, event);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, SseErrc::invalid_field);
    EXPECT_NE(result.error().message.find("event id"), std::string::npos);
    EXPECT_EQ(out, "unchanged");

    SseOutgoingEvent typed;
    typed.event_type = bad;
    result = append_sse_event(out, typed);
    ASSERT_FALSE(result);
    EXPECT_NE(result.error().message.find("event type"), std::string::npos);
    EXPECT_EQ(out, "unchanged");

    EXPECT_FALSE(append_sse_priming_event(out, bad));
    EXPECT_EQ(out, "unchanged");
  }
}

TEST(SseWriter, PrimingEventCarriesIdAndEmptyData) {
  std::string out;
  ASSERT_TRUE(append_sse_priming_event(out, "stream-1:0", 3000));
  EXPECT_EQ(out, "id: stream-1:0\nretry: 3000\ndata:\n\n");
  SseParser parser;
  Recorder recorder;
  ASSERT_TRUE(parser.feed(out, recorder));
  ASSERT_EQ(recorder.events.size(), 1u);
  EXPECT_EQ(recorder.events[0].data, "");
  EXPECT_EQ(recorder.events[0].last_event_id, "stream-1:0");
  EXPECT_EQ(parser.retry_milliseconds(), 3000u);
  out.clear();
  ASSERT_TRUE(append_sse_priming_event(out, "7"));
  EXPECT_EQ(out, "id: 7\ndata:\n\n");
}

TEST(SseWriter, WritesComments) {
  std::string out;
  EXPECT_EQ(append_sse_comment(out), 2u);
  EXPECT_EQ(out, ":\n");
  out.clear();
  append_sse_comment(out, " ping\r\nsecond");
  EXPECT_EQ(out, ": ping\n:second\n");
  const ParseRun run = parse_whole(out + "data: x\n\n");
  EXPECT_EQ(run.log, (std::vector<std::string>{"comment [ ping]", "comment [second]",
                                               "event type=message id= data=[x]"}));
}

TEST(SseWriter, RoundTripsThroughTheParser) {
  const std::vector<std::string> payloads = {"",
                                             "x",
                                             " leading space",
                                             "  two spaces",
                                             "trailing space ",
                                             ":colon first",
                                             "a:b",
                                             "\n",
                                             "\n\n",
                                             "a\n",
                                             "\na",
                                             "line1\nline2\nline3",
                                             "nul\0inside"s,
                                             "\xFF\xFE\xC3",
                                             "data: looks like a field",
                                             "id: 5",
                                             std::string(100000, 'z')};
  std::string stream;
  SseOutgoingEvent event;
  std::uint64_t counter = 0;
  for (const auto& payload : payloads) {
    const std::string id = "id-" + std::to_string(counter++);
    event.id = id;
    event.event_type = counter % 2 == 0 ? "notification" : "";
    event.retry_milliseconds =
        counter % 3 == 0 ? std::optional<std::uint64_t>(counter) : std::nullopt;
    event.data = payload;
    ASSERT_TRUE(append_sse_event(stream, event));
    append_sse_comment(stream, "keep-alive");
  }
  const ParseRun run = parse_bytewise(stream);
  ASSERT_EQ(run.events.size(), payloads.size());
  for (std::size_t i = 0; i < payloads.size(); ++i) {
    EXPECT_EQ(run.events[i].data, payloads[i]) << i;
    EXPECT_EQ(run.events[i].last_event_id, "id-" + std::to_string(i));
    EXPECT_EQ(run.events[i].type, (i + 1) % 2 == 0 ? "notification" : "message");
  }
  EXPECT_FALSE(run.truncated);
}

TEST(SseWriter, RelaysParsedEventsFaithfully) {
  const std::string stream =
      "id: 1\nevent: message\ndata: a\n\ndata: b\ndata: c\n\nid: 9\n\nevent: endpoint\n"
      "data: /m\n\nid\ndata: z\n\n";
  const ParseRun original = parse_whole(stream);
  ASSERT_EQ(original.events.size(), 4u);
  std::string relayed;
  for (const auto& event : original.events) {
    ASSERT_TRUE(append_sse_event(relayed, outgoing_from(event)));
  }
  EXPECT_EQ(relayed,
            "id: 1\ndata: a\n\ndata: b\ndata: c\n\nid: 9\nevent: endpoint\ndata: /m\n\n"
            "id:\ndata: z\n\n");
  EXPECT_EQ(parse_whole(relayed).log, original.log);
}

TEST(SseWriter, CrAndCrlfInDataComeBackAsLf) {
  std::string out;
  SseOutgoingEvent event;
  event.data = "a\r\nb\rc";
  ASSERT_TRUE(append_sse_event(out, event));
  EXPECT_EQ(data_of(parse_whole(out)), std::vector<std::string>{"a\nb\nc"});
}

}  // namespace
}  // namespace mcpgw::mcp
