// Fuzzes the HAR decoder (JSON document, entries, base64 and SSE bodies, timestamps). Input:
// one byte choosing the split point, then the document. Checks, beyond "no crash, no leak, no
// UB": the split does not change the result, and every event is one valid JSON-RPC message.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mcp/decode/decoders.hpp"
#include "mcp/message_summary.hpp"

namespace {

using namespace mcpgw::mcp;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_har: invariant violated: %s\n", what);
    std::abort();
  }
}

class DigestSink final : public traffic::Sink {
 public:
  void on_event(traffic::Event&& event) override {
    check(summarize_message(event.message, nullptr).has_value(),
          "an event is not a JSON-RPC message");
    digest += event.scope + " " + event.sse_event_id + " " + event.message + "\n";
  }
  void on_problem(traffic::Problem&& problem) override {
    digest += traffic::describe(problem) + "\n";
  }
  std::string digest;
};

std::string run(std::string_view text, std::size_t cut) {
  auto decoder = decode::make_har_decoder(traffic::DecoderOptions{"fuzz.har", {}, {}});
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
