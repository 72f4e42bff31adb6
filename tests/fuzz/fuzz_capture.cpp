// Fuzzes the capture JSONL decoder. Input: one byte choosing the split point (as a fraction
// of the rest), then the capture text. Checks, beyond "no crash, no leak, no UB": feeding the
// text whole and in two pieces reports the same events and problems, and every event carries
// valid JSON text that is an object.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/decode/decoders.hpp"
#include "mcp/message_summary.hpp"

namespace {

using namespace mcpgw::mcp;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_capture: invariant violated: %s\n", what);
    std::abort();
  }
}

class DigestSink final : public traffic::Sink {
 public:
  void on_event(traffic::Event&& event) override {
    std::vector<std::string_view> members;
    check(split_batch(event.message, members, nullptr) && members.size() == 1 &&
              event.message.front() == '{',
          "an event's message is not one JSON object");
    check(!event.scope.empty(), "empty scope");
    digest += std::to_string(event.where.line) + " " + event.scope + " " + event.message + "\n";
  }
  void on_problem(traffic::Problem&& problem) override {
    digest += traffic::describe(problem) + "\n";
  }
  std::string digest;
};

std::string run(std::string_view text, std::size_t cut) {
  auto decoder = decode::make_capture_decoder(traffic::DecoderOptions{"fuzz", {}, {}});
  DigestSink sink;
  decoder->feed(text.substr(0, cut), sink);
  decoder->feed(text.substr(cut), sink);
  decoder->finish(sink);
  return sink.digest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::size_t cut = text.size() * data[0] / 255;
  check(run(text, 0) == run(text, cut), "result depends on where the input was split");
  return 0;
}
