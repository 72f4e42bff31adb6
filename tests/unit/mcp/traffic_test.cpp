#include "mcp/traffic.hpp"

#include <gtest/gtest.h>

namespace mcpgw::mcp::traffic {
namespace {

TEST(Traffic, NamesRoundTrip) {
  for (const auto direction : {Direction::client_to_server, Direction::server_to_client}) {
    EXPECT_EQ(parse_direction(to_string(direction)), direction);
  }
  for (const auto leg : {Leg::unknown, Leg::client, Leg::backend}) {
    EXPECT_EQ(parse_leg(to_string(leg)), leg);
  }
  for (const auto transport :
       {Transport::unknown, Transport::streamable_http, Transport::sse, Transport::stdio}) {
    EXPECT_EQ(parse_transport(to_string(transport)), transport);
  }
  for (const auto format :
       {Format::capture, Format::har, Format::http_transcript, Format::pcap, Format::stdio}) {
    EXPECT_EQ(parse_format(to_string(format)), format);
  }
}

TEST(Traffic, DocumentedNames) {
  EXPECT_EQ(to_string(Direction::client_to_server), "client->server");
  EXPECT_EQ(to_string(Direction::server_to_client), "server->client");
  EXPECT_EQ(to_string(Transport::streamable_http), "streamable_http");
  EXPECT_EQ(to_string(Format::http_transcript), "http");
  EXPECT_EQ(parse_format("curl"), Format::http_transcript);
  EXPECT_EQ(parse_format("pcapng"), Format::pcap);
  EXPECT_EQ(parse_format("ndjson"), Format::stdio);
  EXPECT_FALSE(parse_format("HAR").has_value());
  EXPECT_FALSE(parse_direction("client").has_value());
  EXPECT_FALSE(parse_leg("").has_value());
  EXPECT_FALSE(parse_transport("http").has_value());
}

TEST(Traffic, DescribeProblem) {
  Problem line{Where{"cap.jsonl", 12, 400}, "invalid JSON"};
  EXPECT_EQ(describe(line), "cap.jsonl:12: invalid JSON");
  Problem offset{Where{"-", 0, 1234}, "truncated"};
  EXPECT_EQ(describe(offset), "-@1234: truncated");
}

}  // namespace
}  // namespace mcpgw::mcp::traffic
