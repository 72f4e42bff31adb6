// Timestamps in text inputs, private to mcp/decode.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mcpgw::mcp::decode {

// An ISO 8601 / RFC 3339 date-time ("2024-05-01T10:20:30.123+02:00", "...Z", "...+0200", a
// space instead of T, no offset = UTC) in microseconds since the Unix epoch; nullopt when the
// whole text is not one. Defined in har_decoder.cpp.
std::optional<std::int64_t> parse_iso8601_us(std::string_view text);

}  // namespace mcpgw::mcp::decode
