// traffic::decode_pcap: libpcap reads the file (pcap or pcapng, either byte order, µs or ns
// timestamps); this file peels the link layer (Ethernet with VLAN tags, BSD NULL/LOOP, Linux
// cooked v1/v2, raw IP), IPv4/IPv6 and TCP, and hands the segments to the TCP reassembler,
// whose connections feed the HTTP conversation decoder. `where.offset` of every event and
// problem is the packet number (1-based, as Wireshark numbers frames).
#include <pcap/pcap.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include "mcp/decode/tcp_reassembly.hpp"
#include "mcp/traffic.hpp"

namespace mcpgw::mcp::traffic {
namespace {

using decode::ChunkOrigin;
using decode::IpAddress;
using decode::TcpReassembler;
using decode::TcpSegment;

constexpr std::uint16_t kEtherIpv4 = 0x0800;
constexpr std::uint16_t kEtherIpv6 = 0x86dd;
constexpr std::uint8_t kProtocolTcp = 6;
constexpr int kMaxVlanTags = 4;
constexpr int kMaxIpv6ExtensionHeaders = 16;

std::uint16_t be16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
std::uint32_t le32(const std::uint8_t* p) {
  return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) |
         std::uint32_t{p[0]};
}

// libpcap takes ownership of the FILE* it reads and closes it; the caller keeps `file`, so
// libpcap gets a stream of its own that reads through to `file` and closes nothing.
ssize_t read_through(void* cookie, char* buffer, std::size_t size) {
  auto* file = static_cast<std::FILE*>(cookie);
  const std::size_t n = std::fread(buffer, 1, size, file);
  if (n == 0 && std::ferror(file) != 0) {
    return -1;
  }
  return static_cast<ssize_t>(n);
}
int close_nothing(void*) {
  return 0;
}

class PacketDecoder {
 public:
  PacketDecoder(const DecoderOptions& options, int link_type, Sink& sink)
      : options_(options), link_type_(link_type), sink_(sink), reassembler_(reassembly(options)) {}

  static bool supported(int link_type) {
    switch (link_type) {
      case DLT_EN10MB:
      case DLT_NULL:
      case DLT_LOOP:
      case DLT_LINUX_SLL:
      case DLT_LINUX_SLL2:
      case DLT_RAW:
      case DLT_IPV4:
      case DLT_IPV6:
        return true;
      default:
        return false;
    }
  }

  void packet(const pcap_pkthdr& header, const std::uint8_t* data) {
    ++packet_number_;
    origin_.offset = packet_number_;
    origin_.per_byte = false;
    origin_.time_us.reset();
    // pcapng stores 64-bit stamps, so a corrupt one can be far beyond what µs can hold.
    const std::int64_t seconds = header.ts.tv_sec;
    const std::int64_t fraction = header.ts.tv_usec;
    if (seconds >= -kMaxAbsTimeUs / 1'000'000 && seconds <= kMaxAbsTimeUs / 1'000'000 &&
        fraction >= 0 && fraction < 1'000'000) {
      origin_.time_us = seconds * 1'000'000 + fraction;
    } else {
      problem("packet timestamp out of range (" + std::to_string(seconds) + " s, " +
              std::to_string(fraction) + " µs); the packet is left untimed");
    }
    if (header.caplen < header.len) {
      problem("packet truncated by the capture's snapshot length (" +
              std::to_string(header.caplen) + " of " + std::to_string(header.len) + " bytes)");
    }
    link(Bytes(data, header.caplen));
  }

  void finish() { reassembler_.finish(origin_, sink_); }

  void problem(std::string message) {
    Where where;
    where.source = options_.source;
    where.offset = origin_.offset;
    sink_.on_problem(Problem{std::move(where), std::move(message)});
  }

  std::uint64_t packets() const { return packet_number_; }

 private:
  using Bytes = std::span<const std::uint8_t>;

  static decode::TcpReassemblyOptions reassembly(const DecoderOptions& options) {
    decode::TcpReassemblyOptions reassembly_options;
    reassembly_options.source = options.source;
    return reassembly_options;
  }

  void link(Bytes frame) {
    switch (link_type_) {
      case DLT_EN10MB: {
        if (frame.size() < 14) {
          return;
        }
        std::uint16_t type = be16(frame.data() + 12);
        std::size_t offset = 14;
        for (int tags = 0; (type == 0x8100 || type == 0x88a8 || type == 0x9100); ++tags) {
          if (tags == kMaxVlanTags || frame.size() < offset + 4) {
            return;
          }
          type = be16(frame.data() + offset + 2);
          offset += 4;
        }
        ethertype(type, frame.subspan(offset));
        return;
      }
      case DLT_NULL:
      case DLT_LOOP: {
        if (frame.size() < 4) {
          return;
        }
        // NULL: the capturing host's byte order; LOOP: network byte order.
        std::uint32_t family = be32(frame.data());
        if (link_type_ == DLT_NULL && le32(frame.data()) < 256) {
          family = le32(frame.data());
        }
        if (family == 2) {
          ip(frame.subspan(4), 4);
        } else if (family == 10 || family == 24 || family == 28 || family == 30) {
          ip(frame.subspan(4), 6);  // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS
        }
        return;
      }
      case DLT_LINUX_SLL:
        if (frame.size() >= 16) {
          ethertype(be16(frame.data() + 14), frame.subspan(16));
        }
        return;
      case DLT_LINUX_SLL2:
        if (frame.size() >= 20) {
          ethertype(be16(frame.data()), frame.subspan(20));
        }
        return;
      default:  // raw IP
        if (!frame.empty()) {
          ip(frame, frame[0] >> 4);
        }
        return;
    }
  }

  void ethertype(std::uint16_t type, Bytes payload) {
    if (type == kEtherIpv4) {
      ip(payload, 4);
    } else if (type == kEtherIpv6) {
      ip(payload, 6);
    }
  }

  void ip(Bytes packet, int version) {
    if (version == 4) {
      ipv4(packet);
    } else if (version == 6) {
      ipv6(packet);
    }
  }

  void ipv4(Bytes packet) {
    if (packet.size() < 20 || (packet[0] >> 4) != 4) {
      return;
    }
    const std::size_t header_length = std::size_t{packet[0] & 0x0fu} * 4;
    const std::size_t total_length = be16(packet.data() + 2);
    if (header_length < 20 || total_length < header_length || packet.size() < header_length) {
      problem("malformed IPv4 header");
      return;
    }
    if (packet[9] != kProtocolTcp) {
      return;
    }
    const std::uint16_t fragment = be16(packet.data() + 6);
    if ((fragment & 0x1fff) != 0) {
      problem("IPv4 fragment (not the first) skipped: fragments are not reassembled");
      return;
    }
    if ((fragment & 0x2000) != 0) {
      problem("fragmented IPv4 packet skipped: fragments are not reassembled");
      return;
    }
    IpAddress source;
    IpAddress destination;
    std::copy(packet.begin() + 12, packet.begin() + 16, source.bytes.begin());
    std::copy(packet.begin() + 16, packet.begin() + 20, destination.bytes.begin());
    // Ethernet pads short frames: the IP total length says where the packet ends.
    const std::size_t end = std::min(packet.size(), total_length);
    tcp(source, destination, packet.subspan(header_length, end - header_length));
  }

  void ipv6(Bytes packet) {
    if (packet.size() < 40 || (packet[0] >> 4) != 6) {
      return;
    }
    const std::size_t payload_length = be16(packet.data() + 4);
    std::uint8_t next = packet[6];
    IpAddress source;
    IpAddress destination;
    source.v6 = destination.v6 = true;
    std::copy(packet.begin() + 8, packet.begin() + 24, source.bytes.begin());
    std::copy(packet.begin() + 24, packet.begin() + 40, destination.bytes.begin());
    const std::size_t end =
        payload_length == 0 ? packet.size() : std::min(packet.size(), 40 + payload_length);
    std::size_t offset = 40;
    for (int headers = 0; next != kProtocolTcp; ++headers) {
      if (headers == kMaxIpv6ExtensionHeaders || offset + 8 > end) {
        return;
      }
      const std::uint8_t* header = packet.data() + offset;
      switch (next) {
        case 0:   // hop-by-hop options
        case 43:  // routing
        case 60:  // destination options
          next = header[0];
          offset += (std::size_t{header[1]} + 1) * 8;
          break;
        case 44: {  // fragment
          const std::uint16_t fragment = be16(header + 2);
          if ((fragment >> 3) != 0) {
            problem("IPv6 fragment (not the first) skipped: fragments are not reassembled");
            return;
          }
          if ((fragment & 1) != 0) {
            problem("fragmented IPv6 packet skipped: fragments are not reassembled");
            return;
          }
          next = header[0];
          offset += 8;
          break;
        }
        case 51:  // authentication header
          next = header[0];
          offset += (std::size_t{header[1]} + 2) * 4;
          break;
        default:
          return;  // not TCP (or encrypted)
      }
    }
    if (offset > end) {
      return;
    }
    tcp(source, destination, packet.subspan(offset, end - offset));
  }

  void tcp(const IpAddress& source, const IpAddress& destination, Bytes segment_bytes) {
    if (segment_bytes.size() < 20) {
      return;  // a header cut by the snapshot length (reported) or garbage
    }
    const std::size_t header_length =
        std::size_t{static_cast<std::uint8_t>(segment_bytes[12] >> 4)} * 4;
    if (header_length < 20 || header_length > segment_bytes.size()) {
      return;
    }
    TcpSegment segment;
    segment.source = source;
    segment.destination = destination;
    segment.source_port = be16(segment_bytes.data());
    segment.destination_port = be16(segment_bytes.data() + 2);
    segment.seq = be32(segment_bytes.data() + 4);
    segment.ack_number = be32(segment_bytes.data() + 8);
    const std::uint8_t flags = segment_bytes[13];
    segment.fin = (flags & 0x01) != 0;
    segment.syn = (flags & 0x02) != 0;
    segment.rst = (flags & 0x04) != 0;
    segment.ack = (flags & 0x10) != 0;
    const Bytes payload = segment_bytes.subspan(header_length);
    segment.payload =
        std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size());
    segment.origin = origin_;
    reassembler_.add(segment, sink_);
  }

  const DecoderOptions& options_;
  int link_type_;
  Sink& sink_;
  TcpReassembler reassembler_;
  ChunkOrigin origin_;
  std::uint64_t packet_number_ = 0;
};

}  // namespace

void decode_pcap(std::FILE* file, const DecoderOptions& options, Sink& sink) {
  const cookie_io_functions_t io{read_through, nullptr, nullptr, close_nothing};
  std::FILE* stream = fopencookie(file, "rb", io);
  Where start;
  start.source = options.source;
  if (stream == nullptr) {
    sink.on_problem(Problem{start, "cannot read the capture"});
    return;
  }
  char error[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pcap =
      pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_MICRO, error);
  if (pcap == nullptr) {
    std::fclose(stream);  // libpcap leaves the stream to us when it fails
    sink.on_problem(Problem{start, std::string("not a readable pcap or pcapng file: ") + error});
    return;
  }
  const int link_type = pcap_datalink(pcap);
  if (!PacketDecoder::supported(link_type)) {
    const char* name = pcap_datalink_val_to_name(link_type);
    sink.on_problem(Problem{start, "link type " + std::to_string(link_type) +
                                       (name != nullptr ? std::string(" (") + name + ")" : "") +
                                       " is not supported"});
    pcap_close(pcap);
    return;
  }
  PacketDecoder decoder(options, link_type, sink);
  while (true) {
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    const int result = pcap_next_ex(pcap, &header, &data);
    if (result == 1) {
      decoder.packet(*header, data);
      continue;
    }
    if (result == PCAP_ERROR) {
      // A truncated or damaged file: everything before it was decoded.
      Where where;
      where.source = options.source;
      where.offset = decoder.packets() + 1;
      sink.on_problem(Problem{
          where, std::string("capture file ends with a damaged packet: ") + pcap_geterr(pcap)});
    }
    break;  // PCAP_ERROR_BREAK: end of file
  }
  decoder.finish();
  pcap_close(pcap);  // closes `stream`, not `file`
}

}  // namespace mcpgw::mcp::traffic
