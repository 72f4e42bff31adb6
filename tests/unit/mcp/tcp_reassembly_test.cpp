#include "mcp/decode/tcp_reassembly.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tests/unit/mcp/http_test_support.hpp"

namespace mcpgw::mcp::decode {
namespace {

using testing::CollectingSink;
using traffic::Direction;

const std::string kRequest =
    R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}})";
const std::string kProgress =
    R"({"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":1,"progress":1}})";
const std::string kResult =
    R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hello"}]}})";

std::string client_bytes() {
  return "POST /mcp HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nContent-Type: application/json\r\n"
         "Mcp-Session-Id: sess\r\nContent-Length: " +
         std::to_string(kRequest.size()) + "\r\n\r\n" + kRequest;
}

std::string server_bytes() {
  const std::string body = "id: 1\ndata: " + kProgress + "\n\nid: 2\ndata: " + kResult + "\n\n";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
         "\r\n" +
         std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
}

const std::vector<std::string> kExpected = {kRequest, kProgress, kResult};

struct Peer {
  IpAddress address;
  std::uint16_t port;
};

const Peer kClient{IpAddress::v4(10, 0, 0, 1), 43210};
const Peer kServer{IpAddress::v4(10, 0, 0, 2), 8080};

// Owns the payload bytes the segments point into.
struct Capture {
  std::vector<std::string> payloads;
  std::vector<TcpSegment> segments;

  TcpSegment& add(const Peer& from, const Peer& to, std::uint32_t seq, std::string payload) {
    payloads.push_back(std::move(payload));
    TcpSegment segment;
    segment.source = from.address;
    segment.destination = to.address;
    segment.source_port = from.port;
    segment.destination_port = to.port;
    segment.seq = seq;  // no ACK unless a test sets one
    segments.push_back(segment);
    return segments.back();
  }

  // Cuts a stream into segments of `size` bytes starting at sequence `isn + 1`.
  void stream(const Peer& from, const Peer& to, std::uint32_t isn, const std::string& bytes,
              std::size_t size) {
    for (std::size_t at = 0; at < bytes.size(); at += size) {
      add(from, to, isn + 1 + static_cast<std::uint32_t>(at), bytes.substr(at, size));
    }
  }

  CollectingSink run(TcpReassemblyOptions options = {}) {
    options.source = "cap";
    CollectingSink sink;
    TcpReassembler reassembler(options);
    std::uint64_t packet = 0;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      TcpSegment segment = segments[i];
      segment.payload = payloads[i];
      segment.origin.offset = ++packet;
      segment.origin.per_byte = false;
      segment.origin.time_us = static_cast<std::int64_t>(1000 * packet);
      reassembler.add(segment, sink);
    }
    reassembler.finish(ChunkOrigin{}, sink);
    EXPECT_EQ(reassembler.open_connections(), 0u);
    EXPECT_EQ(reassembler.buffered_bytes(), 0u);
    return sink;
  }
};

constexpr std::uint32_t kClientIsn = 0xfffffff0u;  // wraps within the request
constexpr std::uint32_t kServerIsn = 0x7ffffff0u;

void handshake(Capture& capture) {
  capture.add(kClient, kServer, kClientIsn, "").syn = true;
  TcpSegment& syn_ack = capture.add(kServer, kClient, kServerIsn, "");
  syn_ack.syn = true;
  syn_ack.ack = true;
  syn_ack.ack_number = kClientIsn + 1;
}

void teardown(Capture& capture) {
  capture
      .add(kClient, kServer, kClientIsn + 1 + static_cast<std::uint32_t>(client_bytes().size()), "")
      .fin = true;
  capture
      .add(kServer, kClient, kServerIsn + 1 + static_cast<std::uint32_t>(server_bytes().size()), "")
      .fin = true;
}

TEST(TcpReassembly, InOrderWithWrappingSequenceNumbers) {
  Capture capture;
  handshake(capture);
  capture.stream(kClient, kServer, kClientIsn, client_bytes(), 7);
  capture.stream(kServer, kClient, kServerIsn, server_bytes(), 50);
  teardown(capture);
  CollectingSink sink = capture.run();
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  ASSERT_EQ(sink.messages(), kExpected);
  EXPECT_EQ(sink.events[0].direction, Direction::client_to_server);
  EXPECT_EQ(sink.events[2].direction, Direction::server_to_client);
  EXPECT_EQ(sink.events[0].scope, "session:sess");
  EXPECT_EQ(sink.events[2].sse_event_id, "2");
  EXPECT_EQ(sink.events[2].where.source, "cap");
}

TEST(TcpReassembly, ReorderedDuplicatedAndOverlappingSegments) {
  for (unsigned seed = 1; seed <= 20; ++seed) {
    Capture capture;
    handshake(capture);
    Capture data;
    data.stream(kClient, kServer, kClientIsn, client_bytes(), 9);
    data.stream(kServer, kClient, kServerIsn, server_bytes(), 31);
    // Retransmissions cut differently, overlapping the originals.
    data.stream(kClient, kServer, kClientIsn, client_bytes(), 13);
    data.stream(kServer, kClient, kServerIsn, server_bytes(), 17);
    std::mt19937 random(seed);
    std::vector<std::size_t> order(data.segments.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    std::shuffle(order.begin(), order.end(), random);
    for (std::size_t i : order) {
      capture.add(kClient, kServer, 0, data.payloads[i]);
      capture.segments.back() = data.segments[i];
    }
    teardown(capture);
    CollectingSink sink = capture.run();
    ASSERT_TRUE(sink.problems.empty()) << "seed " << seed << "\n" << sink.problem_text();
    // A response may complete before its request: compare the messages, not their order.
    auto messages = sink.messages();
    auto expected = kExpected;
    std::sort(messages.begin(), messages.end());
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(messages, expected) << "seed " << seed;
  }
}

TEST(TcpReassembly, FirstCopyWins) {
  Capture capture;
  handshake(capture);
  const std::string client = client_bytes();
  // The tail arrives first, then a conflicting copy of it, then the head.
  const std::size_t split = client.size() - 20;
  capture.add(kClient, kServer, kClientIsn + 1 + static_cast<std::uint32_t>(split),
              client.substr(split));
  std::string forged = client.substr(split);
  std::fill(forged.begin(), forged.end(), 'X');
  capture.add(kClient, kServer, kClientIsn + 1 + static_cast<std::uint32_t>(split - 5),
              client.substr(split - 5, 5) + forged);
  capture.add(kClient, kServer, kClientIsn + 1, client.substr(0, split));
  capture.stream(kServer, kClient, kServerIsn, server_bytes(), 64);
  teardown(capture);
  CollectingSink sink = capture.run();
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  EXPECT_EQ(sink.messages(), kExpected);
}

TEST(TcpReassembly, MissingBytesAreReportedAndDecodingGoesOn) {
  Capture capture;
  handshake(capture);
  capture.stream(kClient, kServer, kClientIsn, client_bytes(), 1000);
  const std::string server = server_bytes();
  const std::size_t progress_at = server.find("data: {") + 10;
  // Bytes inside the progress event never reach the capture; the client acknowledges them.
  capture.add(kServer, kClient, kServerIsn + 1, server.substr(0, progress_at));
  capture.add(kServer, kClient, kServerIsn + 1 + static_cast<std::uint32_t>(progress_at + 5),
              server.substr(progress_at + 5));
  TcpSegment& ack = capture.add(kClient, kServer, 0, "");
  ack.ack = true;
  ack.seq = kClientIsn + 1 + static_cast<std::uint32_t>(client_bytes().size());
  ack.ack_number = kServerIsn + 1 + static_cast<std::uint32_t>(server.size());
  teardown(capture);
  CollectingSink sink = capture.run();
  ASSERT_GE(sink.problems.size(), 1u);
  EXPECT_NE(sink.problems[0].message.find("5 bytes missing at seq"), std::string::npos)
      << sink.problem_text();
  EXPECT_EQ(sink.problems[0].where.offset, 6u);  // the acknowledging packet
  const auto messages = sink.messages();
  ASSERT_EQ(messages.size(), 2u) << sink.problem_text();
  EXPECT_EQ(messages[0], kRequest);
  EXPECT_EQ(messages[1], kResult);
}

TEST(TcpReassembly, GapAtTheEndIsReported) {
  Capture capture;
  handshake(capture);
  const std::string client = client_bytes();
  capture.add(kClient, kServer, kClientIsn + 1, client.substr(0, 30));
  capture.add(kClient, kServer, kClientIsn + 1 + 40, client.substr(40));
  CollectingSink sink = capture.run();
  ASSERT_FALSE(sink.problems.empty());
  EXPECT_NE(sink.problems[0].message.find("10 bytes missing"), std::string::npos)
      << sink.problem_text();
}

TEST(TcpReassembly, WithoutSynTheRequestLineDecidesTheClient) {
  // The client uses a lower port than the server, so the port guess is wrong at first.
  const Peer client{IpAddress::v4(192, 168, 1, 5), 1025};
  const Peer server{IpAddress::v4(192, 168, 1, 9), 8080};
  Capture capture;
  capture.stream(client, server, 1000, client_bytes(), 100);
  capture.stream(server, client, 5000, server_bytes(), 100);
  CollectingSink sink = capture.run();
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  ASSERT_EQ(sink.messages(), kExpected);
  EXPECT_EQ(sink.events[0].direction, Direction::client_to_server);
  EXPECT_EQ(sink.events[1].direction, Direction::server_to_client);
}

TEST(TcpReassembly, ConnectionScopeWithoutSession) {
  std::string client = client_bytes();
  client.replace(client.find("Mcp-Session-Id: sess\r\n"), 22, "");
  IpAddress v6_client;
  v6_client.v6 = true;
  v6_client.bytes[15] = 1;
  const Peer client_peer{v6_client, 50000};
  const Peer server_peer{v6_client, 8080};
  Capture capture;
  capture.stream(client_peer, server_peer, 1, client, 100);
  capture.stream(server_peer, client_peer, 1, server_bytes(), 100);
  CollectingSink sink = capture.run();
  ASSERT_EQ(sink.messages(), kExpected) << sink.problem_text();
  EXPECT_EQ(sink.events[0].scope, "tcp:[::1]:50000>[::1]:8080");
}

TEST(TcpReassembly, BoundedConnectionsAndBuffers) {
  TcpReassemblyOptions options;
  options.max_connections = 2;
  options.max_buffered_per_direction = 64;
  Capture capture;
  for (std::uint16_t port = 40000; port < 40003; ++port) {
    const Peer client{IpAddress::v4(10, 0, 0, 1), port};
    capture.add(client, kServer, 1, "POST ");
  }
  // Far ahead of what was delivered: more than 64 bytes buffered forces a gap.
  const Peer first{IpAddress::v4(10, 0, 0, 1), 40000};
  capture.add(first, kServer, 1000, std::string(100, 'x'));
  CollectingSink sink = capture.run(options);
  const std::string problems = sink.problem_text();
  EXPECT_NE(problems.find("more than 2 concurrent TCP connections"), std::string::npos) << problems;
  EXPECT_NE(problems.find("bytes missing"), std::string::npos) << problems;
}

TEST(TcpReassembly, RstEndsTheConnectionAndPortReuseStartsANewOne) {
  Capture capture;
  handshake(capture);
  capture.stream(kClient, kServer, kClientIsn, client_bytes(), 1000);
  capture.stream(kServer, kClient, kServerIsn, server_bytes(), 1000);
  capture
      .add(kClient, kServer, kClientIsn + 1 + static_cast<std::uint32_t>(client_bytes().size()), "")
      .rst = true;
  handshake(capture);  // same ports, same ISNs: a new connection
  capture.stream(kClient, kServer, kClientIsn, client_bytes(), 1000);
  capture.stream(kServer, kClient, kServerIsn, server_bytes(), 1000);
  CollectingSink sink = capture.run();
  EXPECT_TRUE(sink.problems.empty()) << sink.problem_text();
  EXPECT_EQ(sink.events.size(), 6u);
}

}  // namespace
}  // namespace mcpgw::mcp::decode
