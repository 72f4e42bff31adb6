// Fuzzes the SSE parser and writer. Input: one byte of options, one byte seeding the chunking,
// then the stream. Checks, beyond "no crash, no leak, no UB":
//  - feeding the stream whole and in pseudo-random chunks (down to single bytes) gives the same
//    events, comments, retries, drops, truncation and last event id;
//  - every dispatched event written back with the writer parses to the same event;
//  - dispatched events respect the configured size limit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/sse.hpp"

namespace {

using mcpgw::mcp::SseEvent;
using mcpgw::mcp::SseParser;
using mcpgw::mcp::SseParserOptions;
using mcpgw::mcp::SseSink;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_sse: invariant violated: %s\n", what);
    std::abort();
  }
}

class Recorder final : public SseSink {
 public:
  void on_event(SseEvent&& event) override { events.push_back(std::move(event)); }
  void on_comment(std::string_view text) override { comments.emplace_back(text); }
  void on_retry(std::uint64_t milliseconds) override { retries.push_back(milliseconds); }

  std::vector<SseEvent> events;
  std::vector<std::string> comments;
  std::vector<std::uint64_t> retries;
};

struct Outcome {
  Recorder recorder;
  bool any_error = false;
  bool truncated = false;
  std::uint64_t dropped = 0;
  std::string last_event_id;
};

bool same_events(const std::vector<SseEvent>& a, const std::vector<SseEvent>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].data != b[i].data ||
        a[i].last_event_id != b[i].last_event_id || a[i].id_updated != b[i].id_updated) {
      return false;
    }
  }
  return true;
}

// chunk_seed == 0 feeds the stream whole; otherwise chunk sizes follow a small LCG in 1..64.
Outcome parse(std::string_view stream, const SseParserOptions& options, std::uint8_t chunk_seed) {
  Outcome outcome;
  SseParser parser(options);
  std::uint32_t state = chunk_seed;
  std::size_t pos = 0;
  do {
    std::size_t size = stream.size() - pos;
    if (chunk_seed != 0) {
      state = state * 1103515245u + 12345u;
      size = std::min<std::size_t>(size, 1 + (state >> 16) % 64);
    }
    if (!parser.feed(stream.substr(pos, size), outcome.recorder)) {
      outcome.any_error = true;
    }
    pos += size;
  } while (pos < stream.size());
  outcome.truncated = parser.finish();
  outcome.dropped = parser.events_dropped();
  outcome.last_event_id = parser.last_event_id();
  check(parser.events_dispatched() == outcome.recorder.events.size(), "dispatch count");
  return outcome;
}

// Writes every event with its id, and separately as a relay would (outgoing_from), and checks
// that both parse back to the same events.
void check_round_trip(const std::vector<SseEvent>& events) {
  std::string written;
  std::string relayed;
  std::vector<SseEvent> expected_written;
  std::vector<SseEvent> expected_relayed;
  for (const auto& event : events) {
    mcpgw::mcp::SseOutgoingEvent outgoing = mcpgw::mcp::outgoing_from(event);
    if (!mcpgw::mcp::append_sse_event(relayed, outgoing)) {
      // The parser accepts NUL in an event type; the writer refuses it. Nothing else may fail.
      // Later events depend on this one's id, so the relay comparison stops here.
      check(event.type.find('\0') != std::string::npos, "writer refused a parsed event");
      break;
    }
    expected_relayed.push_back(event);
  }
  for (const auto& event : events) {
    mcpgw::mcp::SseOutgoingEvent outgoing = mcpgw::mcp::outgoing_from(event);
    outgoing.id = event.last_event_id;
    if (!mcpgw::mcp::append_sse_event(written, outgoing)) {
      check(event.type.find('\0') != std::string::npos, "writer refused a parsed event");
      continue;
    }
    SseEvent copy = event;
    copy.id_updated = true;  // an id line was written for every event
    expected_written.push_back(std::move(copy));
  }
  for (const auto* pair : {&written, &relayed}) {
    SseParser parser;
    Recorder recorder;
    check(parser.feed(*pair, recorder).has_value(), "writer output is parseable");
    check(!parser.finish(), "writer output ends with a complete event");
    const auto& expected = pair == &written ? expected_written : expected_relayed;
    check(same_events(recorder.events, expected), "writer -> parser round trip");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const std::uint8_t flags = data[0];
  const std::uint8_t chunk_seed = data[1] == 0 ? 1 : data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  SseParserOptions options;
  // Small limits make the overflow and resynchronisation paths reachable with short inputs.
  static constexpr std::size_t kLimits[] = {8, 64, 512, std::size_t{1} << 20};
  options.max_event_bytes = kLimits[flags & 3u];

  const Outcome whole = parse(stream, options, 0);
  const Outcome chunked = parse(stream, options, chunk_seed);
  check(same_events(whole.recorder.events, chunked.recorder.events), "events differ by chunking");
  check(whole.recorder.comments == chunked.recorder.comments, "comments differ by chunking");
  check(whole.recorder.retries == chunked.recorder.retries, "retries differ by chunking");
  check(whole.any_error == chunked.any_error, "errors differ by chunking");
  check(whole.dropped == chunked.dropped, "drops differ by chunking");
  check(whole.truncated == chunked.truncated, "truncation differs by chunking");
  check(whole.last_event_id == chunked.last_event_id, "last event id differs by chunking");
  check(whole.any_error == (whole.dropped > 0), "an error is reported for every drop");

  for (const auto& event : whole.recorder.events) {
    check(event.data.size() <= options.max_event_bytes, "event data within the limit");
    check(event.type.find_first_of("\r\n") == std::string::npos, "event type is one line");
    check(event.last_event_id.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
          "event id has no CR, LF or NUL");
  }
  check_round_trip(whole.recorder.events);
  return 0;
}
