// Fuzzes the raw HTTP transcript decoder (and through it the HTTP/1.1 conversation decoder,
// chunked framing and SSE). Input: one byte seeding the chunking, then the transcript.
// Checks, beyond "no crash, no leak, no UB, no hang": feeding the input whole and in
// pseudo-random chunks (down to single bytes) yields the same messages, and every event has
// a scope and one non-empty message.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/decode/decoders.hpp"
#include "mcp/traffic.hpp"

namespace {

using mcpgw::mcp::traffic::Event;
using mcpgw::mcp::traffic::Problem;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_http_transcript: invariant violated: %s\n", what);
    std::abort();
  }
}

class Collector final : public mcpgw::mcp::traffic::Sink {
 public:
  void on_event(Event&& event) override {
    check(!event.scope.empty(), "event without scope");
    check(!event.message.empty(), "event without message");
    messages.push_back(std::move(event.message));
  }
  void on_problem(Problem&& problem) override {
    check(!problem.message.empty(), "problem without message");
    ++problems;
  }
  std::vector<std::string> messages;
  std::size_t problems = 0;
};

Collector decode(std::string_view input, std::uint8_t chunk_seed) {
  mcpgw::mcp::traffic::DecoderOptions options;
  options.source = "fuzz";
  auto decoder = mcpgw::mcp::decode::make_http_transcript_decoder(options);
  Collector collector;
  std::uint32_t state = chunk_seed;
  std::size_t pos = 0;
  while (pos < input.size()) {
    std::size_t size = input.size() - pos;
    if (chunk_seed != 0) {
      state = state * 1103515245u + 12345u;
      size = std::min<std::size_t>(size, 1 + (state >> 16) % 64);
    }
    decoder->feed(input.substr(pos, size), collector);
    pos += size;
  }
  decoder->finish(collector);
  return collector;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const std::uint8_t chunk_seed = data[0] == 0 ? 1 : data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const Collector whole = decode(input, 0);
  const Collector chunked = decode(input, chunk_seed);
  check(whole.messages == chunked.messages, "messages differ by chunking");
  return 0;
}
