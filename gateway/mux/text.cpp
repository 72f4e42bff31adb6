#include "gateway/mux/text.hpp"

namespace mcpgw::mux {

std::string printable(std::string_view text, std::size_t max_chars) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "'";
  std::size_t shown = 0;
  for (const char c : text) {
    if (shown == max_chars) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '\'' || c == '\\') {
      out += "\\x";
      out.push_back(kDigits[byte >> 4]);
      out.push_back(kDigits[byte & 0x0f]);
    } else {
      out.push_back(c);
    }
    ++shown;
  }
  out.push_back('\'');
  return out;
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return text;
  }
  std::size_t end = max_bytes;
  // Step back over continuation bytes so that the cut lands before a sequence start.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

}  // namespace mcpgw::mux
