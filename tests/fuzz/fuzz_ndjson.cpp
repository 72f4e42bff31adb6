// Fuzzes the stdio NDJSON framer and writer. Input: one byte of options, one byte seeding the
// chunking, then the stream. Checks, beyond "no crash, no leak, no UB":
//  - feeding the stream whole and in pseudo-random chunks (down to single bytes) gives the same
//    lines, errors and drops;
//  - every line is within the limit, holds no LF and is not blank;
//  - lines the writer accepts frame back to themselves.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/ndjson.hpp"

namespace {

using mcpgw::mcp::NdjsonFramer;
using mcpgw::mcp::NdjsonFramerOptions;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_ndjson: invariant violated: %s\n", what);
    std::abort();
  }
}

struct Outcome {
  std::vector<std::string> lines;
  bool any_error = false;
  std::uint64_t dropped = 0;
};

// chunk_seed == 0 feeds the stream whole; otherwise chunk sizes follow a small LCG in 1..64.
Outcome frame(std::string_view stream, const NdjsonFramerOptions& options,
              std::uint8_t chunk_seed) {
  Outcome outcome;
  NdjsonFramer framer(options);
  std::uint32_t state = chunk_seed;
  std::size_t pos = 0;
  do {
    std::size_t size = stream.size() - pos;
    if (chunk_seed != 0) {
      state = state * 1103515245u + 12345u;
      size = std::min<std::size_t>(size, 1 + (state >> 16) % 64);
    }
    if (!framer.feed(stream.substr(pos, size), outcome.lines)) {
      outcome.any_error = true;
    }
    check(framer.pending_bytes() <= options.max_line_bytes, "pending bytes within the limit");
    pos += size;
  } while (pos < stream.size());
  framer.finish(outcome.lines);
  check(framer.pending_bytes() == 0, "finish releases the pending line");
  check(framer.lines_delivered() == outcome.lines.size(), "delivery count");
  outcome.dropped = framer.lines_dropped();
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const std::uint8_t flags = data[0];
  const std::uint8_t chunk_seed = data[1] == 0 ? 1 : data[1];
  const std::string_view stream(reinterpret_cast<const char*>(data + 2), size - 2);

  NdjsonFramerOptions options;
  static constexpr std::size_t kLimits[] = {4, 64, 1024, std::size_t{16} << 20};
  options.max_line_bytes = kLimits[flags & 3u];

  const Outcome whole = frame(stream, options, 0);
  const Outcome chunked = frame(stream, options, chunk_seed);
  check(whole.lines == chunked.lines, "lines differ by chunking");
  check(whole.any_error == chunked.any_error, "errors differ by chunking");
  check(whole.dropped == chunked.dropped, "drops differ by chunking");
  check(whole.any_error == (whole.dropped > 0), "an error is reported for every drop");

  std::string written;
  std::vector<std::string> expected;
  for (const auto& line : whole.lines) {
    check(line.size() <= options.max_line_bytes, "line within the limit");
    check(line.find('\n') == std::string::npos, "line holds no LF");
    check(line.find_first_not_of(" \t\r") != std::string::npos, "line is not blank");
    if (mcpgw::mcp::append_ndjson_line(written, line)) {
      expected.push_back(line);
    } else {
      check(line.find('\r') != std::string::npos, "writer refused a line without CR");
    }
  }
  NdjsonFramer framer;
  std::vector<std::string> reframed;
  check(framer.feed(written, reframed).has_value(), "writer output frames cleanly");
  check(framer.finish(reframed) == 0, "writer output ends with a newline");
  check(reframed == expected, "writer -> framer round trip");
  return 0;
}
