// ASCII-only text helpers. Protocol names (HTTP header names, schemes, hosts, config keywords)
// are case-insensitive in ASCII only, so locale-aware std::tolower is never what is meant.
#pragma once

#include <string>
#include <string_view>

namespace mcpgw::mcp {

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    c = ascii_lower(c);
  }
  return out;
}

// The value of one hexadecimal digit, -1 for anything else.
constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// A line without its "\n" or "\r\n" (or a lone trailing "\r").
constexpr std::string_view without_line_terminator(std::string_view line) noexcept {
  if (!line.empty() && line.back() == '\n') {
    line.remove_suffix(1);
  }
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  return line;
}

}  // namespace mcpgw::mcp
