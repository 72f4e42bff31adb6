#include "mcp/json_text.hpp"

namespace mcpgw::mcp {
namespace {

constexpr std::string_view kHex = "0123456789abcdef";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

void append_unicode_escape(std::string& out, unsigned value) {
  out.append("\\u");
  for (int shift = 12; shift >= 0; shift -= 4) {
    out.push_back(kHex[(value >> shift) & 0x0Fu]);
  }
}

bool needs_escape(unsigned char c, bool html_safe) {
  return c < 0x20 || c >= 0x80 || c == '"' || c == '\\' ||
         (html_safe && (c == '<' || c == '>' || c == '&'));
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
  const auto continuation = [&](std::size_t i) {
    return at + i < text.size() && (byte(i) & 0xC0) == 0x80;
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2))
      return 0;
    if (lead == 0xE0 && byte(1) < 0xA0)
      return 0;  // overlong
    if (lead == 0xED && byte(1) >= 0xA0)
      return 0;  // UTF-16 surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3))
      return 0;
    if (lead == 0xF0 && byte(1) < 0x90)
      return 0;  // overlong
    if (lead == 0xF4 && byte(1) >= 0x90)
      return 0;  // beyond U+10FFFF
    return 4;
  }
  return 0;
}

void append_json_string(std::string& out, std::string_view text, bool html_safe) {
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    // Runs of plain printable ASCII are copied at once.
    std::size_t run = i;
    while (run < text.size() && !needs_escape(static_cast<unsigned char>(text[run]), html_safe))
      ++run;
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size())
      break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      const std::string_view sequence = text.substr(i, length);
      if (length == 0) {
        out.append(kReplacement);
        ++i;
        continue;
      }
      if (html_safe && (sequence == "\xE2\x80\xA8" || sequence == "\xE2\x80\xA9"))
        append_unicode_escape(out, sequence[2] == '\xA8' ? 0x2028u : 0x2029u);
      else
        out.append(sequence);
      i += length;
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:  // other control characters, and '<', '>', '&' when html_safe
        append_unicode_escape(out, c);
        break;
    }
    ++i;
  }
  out.push_back('"');
}

}  // namespace mcpgw::mcp
