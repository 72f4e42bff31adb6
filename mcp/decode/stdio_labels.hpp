// The labelled combined stdio transcript, private to mcp/decode (the stdio decoder and format
// detection): `[TIMESTAMP ]> MESSAGE` from the client, `[TIMESTAMP ]< MESSAGE` from the server.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "mcp/message_summary.hpp"
#include "mcp/traffic.hpp"

namespace mcpgw::mcp::decode {

struct LabelledLine {
  std::optional<std::int64_t> time_us;
  traffic::Direction direction = traffic::Direction::client_to_server;
  std::string_view message;  // the rest of the line after the label and its space
};

// The line's label, when it has one (">" or "<" then a space or tab, optionally after an
// RFC 3339 timestamp and a space); nullopt for a plain line.
std::optional<LabelledLine> parse_labelled_line(std::string_view line);

// The direction of an unlabelled stream judged from its first message: responses come from
// the server, so do the requests and notifications only a server sends (sampling, elicitation,
// roots, logging, list_changed, resources/updated); anything else is the client's.
std::optional<traffic::Direction> direction_of_first_message(const MessageSummary& summary);

}  // namespace mcpgw::mcp::decode
