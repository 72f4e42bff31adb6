#include "mcp/traffic.hpp"

#include <string>

namespace mcpgw::mcp::traffic {

std::string_view to_string(Direction direction) {
  switch (direction) {
    case Direction::client_to_server:
      return "client->server";
    case Direction::server_to_client:
      return "server->client";
  }
  return "client->server";
}

std::string_view to_string(Leg leg) {
  switch (leg) {
    case Leg::unknown:
      return "unknown";
    case Leg::client:
      return "client";
    case Leg::backend:
      return "backend";
  }
  return "unknown";
}

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::unknown:
      return "unknown";
    case Transport::streamable_http:
      return "streamable_http";
    case Transport::sse:
      return "sse";
    case Transport::stdio:
      return "stdio";
  }
  return "unknown";
}

std::string_view to_string(Format format) {
  switch (format) {
    case Format::capture:
      return "capture";
    case Format::har:
      return "har";
    case Format::http_transcript:
      return "http";
    case Format::pcap:
      return "pcap";
    case Format::stdio:
      return "stdio";
  }
  return "capture";
}

std::optional<Direction> parse_direction(std::string_view text) {
  for (const auto direction : {Direction::client_to_server, Direction::server_to_client}) {
    if (text == to_string(direction)) {
      return direction;
    }
  }
  return std::nullopt;
}

std::optional<Leg> parse_leg(std::string_view text) {
  for (const auto leg : {Leg::unknown, Leg::client, Leg::backend}) {
    if (text == to_string(leg)) {
      return leg;
    }
  }
  return std::nullopt;
}

std::optional<Transport> parse_transport(std::string_view text) {
  for (const auto transport :
       {Transport::unknown, Transport::streamable_http, Transport::sse, Transport::stdio}) {
    if (text == to_string(transport)) {
      return transport;
    }
  }
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view name) {
  for (const auto format :
       {Format::capture, Format::har, Format::http_transcript, Format::pcap, Format::stdio}) {
    if (name == to_string(format)) {
      return format;
    }
  }
  // The other names people use for the same inputs.
  if (name == "jsonl" || name == "mcpgw") {
    return Format::capture;
  }
  if (name == "curl" || name == "http_transcript" || name == "transcript") {
    return Format::http_transcript;
  }
  if (name == "pcapng") {
    return Format::pcap;
  }
  if (name == "ndjson") {
    return Format::stdio;
  }
  return std::nullopt;
}

std::string describe(const Where& where) {
  std::string out = where.source.empty() ? std::string("-") : where.source;
  out += where.line != 0 ? ':' : '@';
  out += std::to_string(where.line != 0 ? where.line : where.offset);
  return out;
}

std::string describe(const Problem& problem) {
  return describe(problem.where) + ": " + problem.message;
}

}  // namespace mcpgw::mcp::traffic
