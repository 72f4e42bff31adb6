// decode_pcap on captures written in the test with libpcap's own writer (pcap_open_dead +
// pcap_dump): synthesised Ethernet/IPv4/TCP and Linux cooked v2/IPv6/TCP packets carrying a
// small MCP exchange, with segments reordered and duplicated.
#include <gtest/gtest.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "mcp/traffic.hpp"
#include "tests/unit/mcp/http_test_support.hpp"

namespace mcpgw::mcp::traffic {
namespace {

using mcp::testing::CollectingSink;

const std::string kRequest =
    R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}})";
const std::string kResult =
    R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}]}})";
const std::string kNotification =
    R"({"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}})";

std::string request_bytes() {
  return "POST /mcp HTTP/1.1\r\nHost: server\r\nContent-Type: application/json\r\n"
         "Accept: application/json, text/event-stream\r\nContent-Length: " +
         std::to_string(kRequest.size()) + "\r\n\r\n" + kRequest;
}

std::string response_bytes() {
  const std::string body = "data: " + kNotification + "\n\nid: 5\ndata: " + kResult + "\n\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nMcp-Session-Id: S1\r\n"
         "Transfer-Encoding: chunked\r\n\r\n" +
         std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

void put16(std::string& out, std::uint32_t value) {
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}
void put32(std::string& out, std::uint32_t value) {
  put16(out, value >> 16);
  put16(out, value & 0xffff);
}

enum : std::uint8_t { kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10 };

struct Endpoint {
  std::vector<std::uint8_t> address;  // 4 or 16 bytes
  std::uint16_t port = 0;
};

std::string tcp_header(const Endpoint& from, const Endpoint& to, std::uint32_t seq,
                       std::uint32_t ack, std::uint8_t flags) {
  std::string tcp;
  put16(tcp, from.port);
  put16(tcp, to.port);
  put32(tcp, seq);
  put32(tcp, ack);
  tcp.push_back(static_cast<char>(6 << 4));  // 24 bytes: one option word
  tcp.push_back(static_cast<char>(flags));
  put16(tcp, 65535);
  put16(tcp, 0);  // checksum (not checked)
  put16(tcp, 0);
  tcp.append("\x01\x01\x01\x01", 4);  // NOPs
  return tcp;
}

std::string ipv4_packet(const Endpoint& from, const Endpoint& to, const std::string& tcp,
                        std::uint16_t fragment = 0) {
  std::string ip;
  ip.push_back(0x46);  // IHL 6: with one option word
  ip.push_back(0);
  put16(ip, static_cast<std::uint32_t>(24 + tcp.size()));
  put16(ip, 1);
  put16(ip, fragment);
  ip.push_back(64);
  ip.push_back(6);
  put16(ip, 0);
  ip.append(from.address.begin(), from.address.end());
  ip.append(to.address.begin(), to.address.end());
  ip.append("\x01\x01\x01\x00", 4);  // options: NOP NOP NOP EOL
  return ip + tcp;
}

std::string ipv6_packet(const Endpoint& from, const Endpoint& to, const std::string& tcp) {
  std::string ip;
  put32(ip, 0x60000000);
  put16(ip, static_cast<std::uint32_t>(8 + tcp.size()));
  ip.push_back(0);  // hop-by-hop options first
  ip.push_back(64);
  ip.append(from.address.begin(), from.address.end());
  ip.append(to.address.begin(), to.address.end());
  ip.push_back(6);  // then TCP
  ip.push_back(0);
  ip.append("\x01\x04\x00\x00\x00\x00", 6);  // PadN
  return ip + tcp;
}

std::string ethernet(const std::string& ip, bool vlan) {
  std::string frame("\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
  if (vlan) {
    put16(frame, 0x8100);
    put16(frame, 42);
  }
  put16(frame, 0x0800);
  return frame + ip;
}

std::string sll2(const std::string& ip) {
  std::string frame;
  put16(frame, 0x86dd);
  put16(frame, 0);
  put32(frame, 1);     // interface index
  put16(frame, 772);   // ARPHRD_LOOPBACK
  frame.push_back(0);  // packet type
  frame.push_back(6);  // address length
  frame.append(8, '\0');
  return frame + ip;
}

struct Packet {
  std::string bytes;
  std::int64_t time_us = 0;
  std::uint32_t wire_length = 0;  // 0: the captured length
};

// Builds the packets of one connection: handshake, the request (7-byte segments), the
// response (40-byte segments), FINs. Data segments are reordered and duplicated.
std::vector<Packet> conversation(const Endpoint& client, const Endpoint& server,
                                 const std::function<std::string(const std::string&)>& wrap,
                                 std::int64_t start_us) {
  std::vector<Packet> packets;
  std::int64_t now = start_us;
  auto add = [&](const Endpoint& from, const Endpoint& to, std::uint32_t seq, std::uint32_t ack,
                 std::uint8_t flags, const std::string& payload) {
    packets.push_back(Packet{wrap(tcp_header(from, to, seq, ack, flags) + payload), now += 100});
  };
  const std::uint32_t client_isn = 0xffffff00u;
  const std::uint32_t server_isn = 1000;
  add(client, server, client_isn, 0, kSyn, "");
  add(server, client, server_isn, client_isn + 1, kSyn | kAck, "");
  const std::string request = request_bytes();
  const std::string response = response_bytes();
  auto segments = [&](const Endpoint& from, const Endpoint& to, std::uint32_t isn,
                      std::uint32_t peer, const std::string& data, std::size_t size) {
    std::vector<std::pair<std::uint32_t, std::string>> parts;
    for (std::size_t at = 0; at < data.size(); at += size) {
      parts.emplace_back(isn + 1 + static_cast<std::uint32_t>(at), data.substr(at, size));
    }
    // Swap neighbours and retransmit every third segment.
    for (std::size_t i = 0; i + 1 < parts.size(); i += 2) {
      std::swap(parts[i], parts[i + 1]);
    }
    for (std::size_t i = 0; i < parts.size(); ++i) {
      add(from, to, parts[i].first, peer, kAck, parts[i].second);
      if (i % 3 == 0) {
        add(from, to, parts[i].first, peer, kAck, parts[i].second);
      }
    }
  };
  segments(client, server, client_isn, server_isn + 1, request, 7);
  segments(server, client, server_isn, client_isn + 1 + static_cast<std::uint32_t>(request.size()),
           response, 40);
  const std::uint32_t client_end = client_isn + 1 + static_cast<std::uint32_t>(request.size());
  const std::uint32_t server_end = server_isn + 1 + static_cast<std::uint32_t>(response.size());
  add(client, server, client_end, server_end, kFin | kAck, "");
  add(server, client, server_end, client_end + 1, kFin | kAck, "");
  return packets;
}

class PcapDecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mcpgw-pcap-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, int link_type, const std::vector<Packet>& packets,
                    bool nanoseconds = false) {
    const std::string path = (dir_ / name).string();
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(
        link_type, 65535, nanoseconds ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO);
    EXPECT_NE(dead, nullptr);
    pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
    EXPECT_NE(dumper, nullptr) << pcap_geterr(dead);
    for (const auto& packet : packets) {
      pcap_pkthdr header{};
      header.ts.tv_sec = packet.time_us / 1000000;
      const std::int64_t fraction = packet.time_us % 1000000;
      header.ts.tv_usec = static_cast<suseconds_t>(nanoseconds ? fraction * 1000 : fraction);
      header.caplen = static_cast<bpf_u_int32>(packet.bytes.size());
      header.len = packet.wire_length != 0 ? packet.wire_length : header.caplen;
      pcap_dump(reinterpret_cast<u_char*>(dumper), &header,
                reinterpret_cast<const u_char*>(packet.bytes.data()));
    }
    pcap_dump_close(dumper);
    pcap_close(dead);
    return path;
  }

  static CollectingSink decode(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "rb");
    EXPECT_NE(file, nullptr);
    CollectingSink sink;
    DecoderOptions options;
    options.source = "test.pcap";
    decode_pcap(file, options, sink);
    // The file stays open and usable for the caller.
    EXPECT_EQ(std::fgetc(file), EOF);
    std::fclose(file);
    return sink;
  }

  std::filesystem::path dir_;
};

const Endpoint kClient4{{127, 0, 0, 1}, 43210};
const Endpoint kServer4{{127, 0, 0, 1}, 8080};

TEST_F(PcapDecoderTest, EthernetIpv4WithVlanReorderedAndDuplicated) {
  bool vlan = false;
  auto packets = conversation(
      kClient4, kServer4,
      [&](const std::string& tcp) {
        vlan = !vlan;
        return ethernet(ipv4_packet(kClient4, kServer4, tcp), vlan);
      },
      1'700'000'000'000'000);
  // Some traffic decode_pcap must ignore: UDP and ARP.
  std::string udp = ipv4_packet(kClient4, kServer4, std::string(8, '\0'));
  udp[9] = 17;
  packets.insert(packets.begin(), Packet{ethernet(udp, false), 1'700'000'000'000'000});
  std::string arp = ethernet("", false);
  arp[12] = 0x08;
  arp[13] = 0x06;
  packets.insert(packets.begin(), Packet{arp + std::string(28, '\0'), 1'700'000'000'000'000});
  // Addresses: both ends share 127.0.0.1, the ports tell them apart.
  const std::string path = write("v4.pcap", DLT_EN10MB, packets);
  CollectingSink sink = decode(path);
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  ASSERT_EQ(sink.messages(), (std::vector<std::string>{kRequest, kNotification, kResult}));
  const auto& request = sink.events[0];
  EXPECT_EQ(request.session, "S1");  // learned from the response
  EXPECT_EQ(request.scope, "session:S1");
  EXPECT_EQ(request.direction, Direction::client_to_server);
  ASSERT_TRUE(request.time_us);
  EXPECT_GT(*request.time_us, 1'700'000'000'000'000);
  const auto& result = sink.events[2];
  EXPECT_EQ(result.sse_event_id, "5");
  EXPECT_EQ(result.http->status, 200);
  EXPECT_EQ(result.where.source, "test.pcap");
  // where.offset is a packet number; its timestamp is that packet's.
  ASSERT_GE(result.where.offset, 1u);
  ASSERT_LE(result.where.offset, packets.size());
  EXPECT_LE(result.time_us, packets.back().time_us);
}

TEST_F(PcapDecoderTest, LinuxCookedV2Ipv6WithNanosecondTimestamps) {
  Endpoint client{std::vector<std::uint8_t>(16, 0), 50123};
  Endpoint server{std::vector<std::uint8_t>(16, 0), 3000};
  client.address[15] = 1;
  server.address[15] = 1;
  auto packets = conversation(
      client, server,
      [&](const std::string& tcp) {
        // Direction is in the TCP header; both addresses are ::1.
        return sll2(ipv6_packet(client, server, tcp));
      },
      1'700'000'000'000'001);
  const std::string path = write("v6.pcap", DLT_LINUX_SLL2, packets, true);
  CollectingSink sink = decode(path);
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  ASSERT_EQ(sink.messages(), (std::vector<std::string>{kRequest, kNotification, kResult}));
  EXPECT_EQ(sink.events[0].time_us.value_or(0) % 100, 1);  // µs kept from the ns stamps
  EXPECT_EQ(sink.events[1].scope, "session:S1");
}

TEST_F(PcapDecoderTest, TruncatedFileEndsWithAProblemAfterEverythingBefore) {
  auto packets = conversation(
      kClient4, kServer4,
      [&](const std::string& tcp) { return ethernet(ipv4_packet(kClient4, kServer4, tcp), false); },
      1'700'000'000'000'000);
  const std::string path = write("whole.pcap", DLT_EN10MB, packets);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Cut inside the last packet (the server's FIN).
  const std::string cut_path = (dir_ / "cut.pcap").string();
  std::ofstream(cut_path, std::ios::binary) << bytes.substr(0, bytes.size() - 10);
  CollectingSink sink = decode(cut_path);
  ASSERT_EQ(sink.messages(), (std::vector<std::string>{kRequest, kNotification, kResult}));
  ASSERT_FALSE(sink.problems.empty());
  EXPECT_NE(sink.problems.front().message.find("damaged packet"), std::string::npos)
      << sink.problem_text();
  EXPECT_EQ(sink.problems.front().where.offset, packets.size());
}

TEST_F(PcapDecoderTest, SnaplenTruncationAndFragmentsAreReported) {
  std::vector<Packet> packets;
  const std::string tcp = tcp_header(kClient4, kServer4, 1, 0, kAck) + "POST / HTTP/1.1\r\n";
  Packet truncated{ethernet(ipv4_packet(kClient4, kServer4, tcp), false), 1};
  truncated.wire_length = static_cast<std::uint32_t>(truncated.bytes.size() + 100);
  packets.push_back(truncated);
  packets.push_back(Packet{ethernet(ipv4_packet(kClient4, kServer4, tcp, 0x0010), false), 2});
  packets.push_back(Packet{ethernet(ipv4_packet(kClient4, kServer4, tcp, 0x2000), false), 3});
  CollectingSink sink = decode(write("frag.pcap", DLT_EN10MB, packets));
  const std::string problems = sink.problem_text();
  EXPECT_NE(problems.find("@1: packet truncated by the capture's snapshot length"),
            std::string::npos)
      << problems;
  EXPECT_NE(problems.find("@2: IPv4 fragment (not the first) skipped"), std::string::npos)
      << problems;
  EXPECT_NE(problems.find("@3: fragmented IPv4 packet skipped"), std::string::npos) << problems;
}

// pcapng keeps 64-bit timestamps; libpcap's writer cannot produce one past 2106, so the file
// is written by hand (little-endian): section header, interface (raw IP, µs), two packets.
TEST_F(PcapDecoderTest, PcapngTimestampBeyondRangeLeavesThePacketUntimed) {
  std::string file;
  auto le32 = [&](std::uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8)
      file.push_back(static_cast<char>((value >> shift) & 0xff));
  };
  auto le16 = [&](std::uint16_t value) {
    file.push_back(static_cast<char>(value & 0xff));
    file.push_back(static_cast<char>(value >> 8));
  };
  le32(0x0A0D0D0A);  // section header block
  le32(28);
  le32(0x1A2B3C4D);
  le16(1);
  le16(0);
  le32(0xffffffff);  // section length unknown
  le32(0xffffffff);
  le32(28);
  le32(1);  // interface description block
  le32(20);
  le16(101);  // LINKTYPE_RAW
  le16(0);
  le32(65535);
  le32(20);
  const std::string tcp = tcp_header(kClient4, kServer4, 1, 0, kAck);
  const std::string packet = ipv4_packet(kClient4, kServer4, tcp);
  auto enhanced_packet = [&](std::uint32_t high, std::uint32_t low) {
    const std::uint32_t padded = static_cast<std::uint32_t>((packet.size() + 3) / 4 * 4);
    le32(6);
    le32(32 + padded);
    le32(0);  // interface 0
    le32(high);
    le32(low);
    le32(static_cast<std::uint32_t>(packet.size()));
    le32(static_cast<std::uint32_t>(packet.size()));
    file += packet;
    file.append(padded - packet.size(), '\0');
    le32(32 + padded);
  };
  enhanced_packet(0xffffffff, 0xffffffff);  // 2^64-1 µs: ~584,000 years
  enhanced_packet(0x00060a24, 0x181e4000);  // 1,700,000,000 s
  const std::string path = (dir_ / "far.pcapng").string();
  std::ofstream(path, std::ios::binary) << file;
  CollectingSink sink = decode(path);
  ASSERT_EQ(sink.problems.size(), 1u) << sink.problem_text();
  EXPECT_EQ(sink.problems[0].where.offset, 1u);
  EXPECT_NE(sink.problems[0].message.find("packet timestamp out of range"), std::string::npos)
      << sink.problem_text();
}

TEST_F(PcapDecoderTest, RawIpAndNullLinkTypes) {
  auto raw = conversation(
      kClient4, kServer4,
      [&](const std::string& tcp) { return ipv4_packet(kClient4, kServer4, tcp); }, 1000);
  CollectingSink raw_sink = decode(write("raw.pcap", DLT_RAW, raw));
  EXPECT_EQ(raw_sink.messages().size(), 3u) << raw_sink.problem_text();
  auto null = conversation(
      kClient4, kServer4,
      [&](const std::string& tcp) {
        return std::string("\x02\x00\x00\x00", 4) + ipv4_packet(kClient4, kServer4, tcp);
      },
      1000);
  CollectingSink null_sink = decode(write("null.pcap", DLT_NULL, null));
  EXPECT_EQ(null_sink.messages().size(), 3u) << null_sink.problem_text();
}

TEST_F(PcapDecoderTest, NotAPcapAndUnsupportedLinkType) {
  const std::string path = (dir_ / "text.pcap").string();
  std::ofstream(path) << "this is not a capture\n";
  CollectingSink sink = decode(path);
  ASSERT_EQ(sink.problems.size(), 1u);
  EXPECT_NE(sink.problems[0].message.find("not a readable pcap"), std::string::npos);

  CollectingSink usb = decode(write("usb.pcap", DLT_USB_LINUX, {Packet{"abc", 1}}));
  ASSERT_EQ(usb.problems.size(), 1u);
  EXPECT_NE(usb.problems[0].message.find("not supported"), std::string::npos);
}

TEST_F(PcapDecoderTest, ReadsFromAMemoryStream) {
  auto packets = conversation(
      kClient4, kServer4,
      [&](const std::string& tcp) { return ethernet(ipv4_packet(kClient4, kServer4, tcp), false); },
      5);
  std::ifstream in(write("mem.pcap", DLT_EN10MB, packets), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::FILE* memory = fmemopen(bytes.data(), bytes.size(), "rb");
  ASSERT_NE(memory, nullptr);
  CollectingSink sink;
  decode_pcap(memory, DecoderOptions{}, sink);
  std::fclose(memory);
  EXPECT_EQ(sink.messages().size(), 3u) << sink.problem_text();
}

}  // namespace
}  // namespace mcpgw::mcp::traffic
