#include "gateway/front/http_stream.hpp"

#include <gtest/gtest.h>

#include "mcp/sse.hpp"

namespace mcpgw::front::http {
namespace {

struct CountingSink final : StreamSink {
  void wake() override { ++wakes; }
  int wakes = 0;
};

mcp::Message note(int n) {
  return mcp::make_notification("notifications/progress", nlohmann::json{{"progress", n}});
}

// The events as a client parses them.
std::vector<mcp::SseEvent> parse(const std::vector<OutgoingEvent>& taken) {
  std::string text;
  for (const auto& event : taken) {
    text += *event.bytes;
  }
  std::vector<mcp::SseEvent> events;
  mcp::SseParser parser;
  static_cast<void>(parser.feed(text, events));
  return events;
}

StreamOptions options(std::uint32_t replay, std::uint64_t bytes) {
  StreamOptions out;
  out.replay_events = replay;
  out.max_bytes = bytes;
  out.retry_milliseconds = 500;
  return out;
}

TEST(SseStream, AttachPrimesAndIdsAreContiguous) {
  auto dropped = std::make_shared<std::uint64_t>(0);
  SseStream stream(4, options(16, 1 << 20), dropped);
  auto sink = std::make_shared<CountingSink>();
  stream.attach(sink, std::nullopt);
  stream.push_message(note(1));
  stream.push_message(note(2));
  EXPECT_GE(sink->wakes, 1);
  const auto taken = stream.take(sink.get(), 1 << 20);
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_TRUE(taken[0].priming);
  const auto events = parse(taken);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].last_event_id, "4-1");
  EXPECT_TRUE(events[0].data.empty());
  EXPECT_EQ(events[1].last_event_id, "4-2");
  EXPECT_EQ(events[2].last_event_id, "4-3");
  EXPECT_EQ(events[2].type, "message");
  EXPECT_FALSE(stream.has_queued(sink.get()));
  EXPECT_FALSE(stream.complete());
  stream.end();
  EXPECT_TRUE(stream.complete());
}

TEST(SseStream, ResumeReplaysAfterTheGivenEvent) {
  auto dropped = std::make_shared<std::uint64_t>(0);
  SseStream stream(1, options(16, 1 << 20), dropped);
  auto first = std::make_shared<CountingSink>();
  stream.attach(first, std::nullopt);
  for (int i = 1; i <= 4; ++i) {
    stream.push_message(note(i));
  }
  ASSERT_EQ(stream.take(first.get(), 1 << 20).size(), 5u);
  auto second = std::make_shared<CountingSink>();
  stream.attach(second, 3);  // the client saw the priming event and notes 1, 2
  EXPECT_FALSE(stream.attached_to(first.get()));
  EXPECT_GE(first->wakes, 1);
  const auto events = parse(stream.take(second.get(), 1 << 20));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].last_event_id, "1-4");
  EXPECT_EQ(events[1].last_event_id, "1-5");
  EXPECT_EQ(*dropped, 0u);
}

TEST(SseStream, ResumeWithNothingMissedGetsAFreshPrimingEvent) {
  auto dropped = std::make_shared<std::uint64_t>(0);
  SseStream stream(2, options(16, 1 << 20), dropped);
  auto sink = std::make_shared<CountingSink>();
  stream.attach(sink, std::nullopt);
  stream.push_message(note(1));
  ASSERT_EQ(stream.take(sink.get(), 1 << 20).size(), 2u);
  stream.detach(sink.get());
  stream.attach(sink, 2);
  const auto taken = stream.take(sink.get(), 1 << 20);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_TRUE(taken[0].priming);
  EXPECT_EQ(parse(taken)[0].last_event_id, "2-3");
}

TEST(SseStream, DetachedStreamKeepsABoundedNumberOfEvents) {
  auto dropped = std::make_shared<std::uint64_t>(0);
  SseStream stream(0, options(3, 1 << 20), dropped);
  for (int i = 1; i <= 10; ++i) {
    stream.push_message(note(i));
  }
  EXPECT_EQ(stream.buffered_events(), 3u);
  EXPECT_EQ(*dropped, 7u);
  auto sink = std::make_shared<CountingSink>();
  stream.attach(sink, std::nullopt);
  const auto events = parse(stream.take(sink.get(), 1 << 20));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(events[0].data)["params"]["progress"], 8);
  EXPECT_EQ(nlohmann::json::parse(events[2].data)["params"]["progress"], 10);
}

TEST(SseStream, AttachedStreamIsBoundedByBytesAndDropsItsSlowConnection) {
  auto dropped = std::make_shared<std::uint64_t>(0);
  SseStream stream(1, options(2, 600), dropped);
  auto sink = std::make_shared<CountingSink>();
  stream.attach(sink, std::nullopt);
  ASSERT_EQ(stream.take(sink.get(), 1 << 20).size(), 1u);  // priming
  // Queued for the connection beyond replay_events: kept while the bytes allow.
  for (int i = 1; i <= 5; ++i) {
    stream.push_message(note(i));
  }
  EXPECT_TRUE(stream.attached_to(sink.get()));
  EXPECT_EQ(*dropped, 0u);
  for (int i = 6; i <= 20; ++i) {
    stream.push_message(note(i));
  }
  EXPECT_FALSE(stream.attached_to(sink.get()));  // it lost events: cut off
  EXPECT_GT(*dropped, 0u);
  EXPECT_LE(stream.buffered_bytes(), 600u);
}

TEST(SseStream, DeliveredEventsBeyondTheReplayBoundAreDropped) {
  auto dropped = std::make_shared<std::uint64_t>(0);
  SseStream stream(1, options(2, 1 << 20), dropped);
  auto sink = std::make_shared<CountingSink>();
  stream.attach(sink, std::nullopt);
  for (int i = 1; i <= 6; ++i) {
    stream.push_message(note(i));
    ASSERT_EQ(stream.take(sink.get(), 1 << 20).size(), i == 1 ? 2u : 1u);
  }
  EXPECT_EQ(stream.buffered_events(), 2u);
  EXPECT_EQ(*dropped, 0u);  // delivered ones do not count
  // A resume from too far back gets what is left.
  auto late = std::make_shared<CountingSink>();
  stream.attach(late, 1);
  const auto events = parse(stream.take(late.get(), 1 << 20));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(events[0].data)["params"]["progress"], 5);
}

TEST(SseStream, LegacyStreamsHaveNoIds) {
  auto dropped = std::make_shared<std::uint64_t>(0);
  StreamOptions legacy;
  legacy.resumable = false;
  legacy.replay_events = 0;
  SseStream stream(0, legacy, dropped);
  auto sink = std::make_shared<CountingSink>();
  stream.attach(sink, std::nullopt);
  stream.push_event("endpoint", "/message?sessionId=x");
  stream.push_message(note(1));
  const auto events = parse(stream.take(sink.get(), 1 << 20));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "endpoint");
  EXPECT_EQ(events[0].data, "/message?sessionId=x");
  EXPECT_TRUE(events[0].last_event_id.empty());
  EXPECT_TRUE(events[1].last_event_id.empty());
  EXPECT_EQ(stream.buffered_events(), 0u);  // nothing kept once delivered
}

TEST(SseStream, DisconnectRequestIsClearedByTheNextAttach) {
  auto dropped = std::make_shared<std::uint64_t>(0);
  SseStream stream(1, options(8, 1 << 20), dropped);
  auto sink = std::make_shared<CountingSink>();
  stream.attach(sink, std::nullopt);
  stream.request_disconnect();
  EXPECT_TRUE(stream.disconnect_requested());
  stream.detach(sink.get());
  stream.attach(sink, 1);
  EXPECT_FALSE(stream.disconnect_requested());
}

}  // namespace
}  // namespace mcpgw::front::http
