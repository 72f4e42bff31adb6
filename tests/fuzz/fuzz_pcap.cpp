// Fuzzes decode_pcap: the input is a capture file (pcap or pcapng) read through fmemopen(), so
// libpcap's file parsing, the link/IP/TCP layers, TCP reassembly and the HTTP conversation
// decoder all see hostile bytes. Checks: no crash, leak, UB or hang; every event has a scope
// and a message.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "mcp/traffic.hpp"

namespace {

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_pcap: invariant violated: %s\n", what);
    std::abort();
  }
}

class Collector final : public mcpgw::mcp::traffic::Sink {
 public:
  void on_event(mcpgw::mcp::traffic::Event&& event) override {
    check(!event.scope.empty(), "event without scope");
    check(!event.message.empty(), "event without message");
  }
  void on_problem(mcpgw::mcp::traffic::Problem&& problem) override {
    check(!problem.message.empty(), "problem without message");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;  // fmemopen refuses an empty buffer
  }
  std::vector<std::uint8_t> copy(data, data + size);
  std::FILE* file = fmemopen(copy.data(), copy.size(), "rb");
  if (file == nullptr) {
    return 0;
  }
  Collector collector;
  mcpgw::mcp::traffic::DecoderOptions options;
  options.source = "fuzz.pcap";
  mcpgw::mcp::traffic::decode_pcap(file, options, collector);
  std::fclose(file);
  return 0;
}
