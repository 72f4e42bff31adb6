// TCP stream reassembly for the pcap decoder: segments of many connections in capture order
// become, per connection, the in-order byte streams of its client and its server, which feed
// one HttpConversation each.
//
// - Connections are keyed by both endpoints; the client is the SYN sender, or without a SYN
//   the side talking to the lower port, corrected by who sends an HTTP request line first.
// - Sequence numbers wrap; positions are kept as 64-bit stream offsets.
// - Out-of-order segments wait in a bounded buffer; retransmissions and overlaps are
//   deduplicated, the first copy of a byte wins.
// - Bytes the capture never saw are reported as a Problem ("N bytes missing at seq S") when the
//   peer acknowledges past them, when the buffer overflows, or when the connection ends; the
//   HTTP decoder then continues best-effort.
// - Connections end with RST, with FIN from both sides, or at the end of the capture.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "mcp/decode/http_conversation.hpp"
#include "mcp/traffic.hpp"

namespace mcpgw::mcp::decode {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
  bool v6 = false;

  static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d);
  std::string to_string() const;  // "10.0.0.1", "::1"
  friend auto operator<=>(const IpAddress&, const IpAddress&) = default;
};

struct TcpSegment {
  IpAddress source;
  IpAddress destination;
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq = 0;
  std::uint32_t ack_number = 0;  // meaningful with `ack`
  bool syn = false;
  bool ack = false;
  bool fin = false;
  bool rst = false;
  std::string_view payload;
  ChunkOrigin origin;  // time and where.offset (the pcap packet number)
};

struct TcpReassemblyOptions {
  std::string source = "-";
  std::size_t max_connections = 65536;
  // Out-of-order bytes waiting, each piece counted with a fixed overhead.
  std::size_t max_buffered_per_direction = std::size_t{16} << 20;
  std::size_t max_buffered_total = std::size_t{256} << 20;
  HttpLimits http;
};

class TcpReassembler {
 public:
  explicit TcpReassembler(TcpReassemblyOptions options);
  ~TcpReassembler();
  TcpReassembler(const TcpReassembler&) = delete;
  TcpReassembler& operator=(const TcpReassembler&) = delete;

  void add(const TcpSegment& segment, traffic::Sink& sink);
  // End of capture: every open connection is flushed (gaps reported) and finished.
  void finish(const ChunkOrigin& origin, traffic::Sink& sink);

  std::size_t open_connections() const;
  std::size_t buffered_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mcpgw::mcp::decode
