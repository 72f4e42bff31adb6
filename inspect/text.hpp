// Text helpers shared by the renderers: JSON string escaping that never emits invalid JSON or
// HTML-breaking characters, terminal-safe text, times and durations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mcp/json_text.hpp"

namespace mcpgw::inspect {

// JSON string literals for the renderers (html_safe for the HTML page's data block).
using mcp::append_json_string;

// Text from the traffic made safe for a terminal: control characters (C0, DEL, C1) are shown
// as \xNN or \u{NN} escapes so a message cannot move the cursor or change colours; invalid
// UTF-8 becomes U+FFFD.
std::string terminal_safe(std::string_view text);

// At most `max_chars` code points of valid UTF-8 `text`, with "…" at the end when cut.
std::string shorten(std::string_view text, std::size_t max_chars);

// "2026-11-22" and "04:11:02.123" (UTC) of a time in µs since the epoch.
std::string format_date(std::int64_t time_us);
std::string format_time_of_day(std::int64_t time_us);
// "0.84 ms", "12.3 ms", "1.52 s".
std::string format_duration(std::int64_t duration_us);
// Milliseconds with three decimals, as JSON number text ("12.345").
std::string format_ms_number(std::int64_t duration_us);

// The interesting part of a message for display: params of a request or notification, result
// or error of a response; "" for an object with none of these (a request without params).
// Re-serialized compactly (indent < 0) or pretty-printed with `indent` spaces; nullopt when
// the text is not JSON.
std::optional<std::string> payload_text(std::string_view message, int indent);
// The whole message re-serialized compactly (one line); nullopt when not JSON.
std::optional<std::string> compact_json(std::string_view message);

}  // namespace mcpgw::inspect
