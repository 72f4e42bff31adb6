// Fuzzes TCP reassembly and the HTTP conversation decoder behind it. The input is read as a
// sequence of synthetic segments:
//   byte 0: limits (bit 0: small buffers, bit 1: at most 2 connections)
//   then records: [flags] [offset hi] [offset lo] ([ack hi] [ack lo] with ACK) [length] payload
//   flags: bit 0 direction (server->client), 1 SYN, 2 FIN, 3 RST, 4 ACK, bits 5-6 connection
// Sequence numbers are the direction's initial sequence number (chosen to wrap) plus the
// 16-bit offset. Checks: no crash, leak, UB or hang; after finish() nothing stays open or
// buffered; every event has a scope and a message.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "mcp/decode/tcp_reassembly.hpp"

namespace {

using mcpgw::mcp::decode::IpAddress;
using mcpgw::mcp::decode::TcpReassembler;
using mcpgw::mcp::decode::TcpSegment;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_tcp_reassembly: invariant violated: %s\n", what);
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

constexpr std::uint32_t kClientIsn = 0xffffff00u;
constexpr std::uint32_t kServerIsn = 0x7fffff00u;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    return 0;
  }
  mcpgw::mcp::decode::TcpReassemblyOptions options;
  options.source = "fuzz";
  if ((data[0] & 1u) != 0) {
    options.max_buffered_per_direction = 64;
    options.max_buffered_total = 128;
    options.http.max_head_bytes = 128;
    options.http.max_body_bytes = 128;
    options.http.max_sse_event_bytes = 64;
  }
  if ((data[0] & 2u) != 0) {
    options.max_connections = 2;
  }
  Collector collector;
  TcpReassembler reassembler(options);
  std::size_t pos = 1;
  std::uint64_t packet = 0;
  while (pos + 4 <= size) {
    const std::uint8_t flags = data[pos];
    const auto offset = static_cast<std::uint32_t>((data[pos + 1] << 8) | data[pos + 2]);
    pos += 3;
    TcpSegment segment;
    const bool from_server = (flags & 1u) != 0;
    segment.syn = (flags & 2u) != 0;
    segment.fin = (flags & 4u) != 0;
    segment.rst = (flags & 8u) != 0;
    segment.ack = (flags & 16u) != 0;
    const auto connection = static_cast<std::uint16_t>((flags >> 5) & 3u);
    if (segment.ack) {
      if (pos + 2 > size) {
        break;
      }
      const auto ack = static_cast<std::uint32_t>((data[pos] << 8) | data[pos + 1]);
      segment.ack_number = (from_server ? kClientIsn : kServerIsn) + ack;
      pos += 2;
    }
    if (pos >= size) {
      break;
    }
    const std::size_t length = std::min<std::size_t>(data[pos], size - pos - 1);
    ++pos;
    const IpAddress client = IpAddress::v4(10, 0, 0, 1);
    const IpAddress server = IpAddress::v4(10, 0, 0, 2);
    const auto client_port = static_cast<std::uint16_t>(40000 + connection);
    segment.source = from_server ? server : client;
    segment.destination = from_server ? client : server;
    segment.source_port = from_server ? std::uint16_t{8080} : client_port;
    segment.destination_port = from_server ? client_port : std::uint16_t{8080};
    segment.seq = (from_server ? kServerIsn : kClientIsn) + offset;
    segment.payload = std::string_view(reinterpret_cast<const char*>(data + pos), length);
    pos += length;
    segment.origin.offset = ++packet;
    segment.origin.per_byte = false;
    reassembler.add(segment, collector);
  }
  reassembler.finish(mcpgw::mcp::decode::ChunkOrigin{}, collector);
  check(reassembler.open_connections() == 0, "connections left open");
  check(reassembler.buffered_bytes() == 0, "bytes left buffered");
  return 0;
}
