// Encoding of capture format version 1 (docs/capture-format.md): each line is built by appending
// into one string, with no JSON tree, because serve's writer thread encodes every message.
#include "mcp/capture.hpp"

#include <array>
#include <charconv>

namespace mcpgw::mcp::capture {
namespace {

template <class Integer>
void append_integer(std::string& out, Integer value) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  (void)ec;  // 24 characters hold every 64-bit integer
  out.append(digits.data(), end);
}

// Length of the valid UTF-8 sequence starting at text[at], or 0 when the bytes there are not one
// (stray continuation byte, overlong form, surrogate, beyond U+10FFFF, or truncated).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
  const auto continuation = [&](std::size_t i) {
    return at + i < text.size() && (byte(i) & 0xC0) == 0x80;
  };
  const unsigned char lead = byte(0);
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

// A JSON string: quotes, backslashes and control characters escaped, every byte that is not
// part of valid UTF-8 replaced by U+FFFD, so the line stays valid JSON whatever the input.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  out.push_back('"');
  std::size_t i = 0;
  while (i < text.size()) {
    // Runs of plain printable ASCII are copied at once.
    std::size_t run = i;
    while (run < text.size()) {
      const auto c = static_cast<unsigned char>(text[run]);
      if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
        break;
      ++run;
    }
    out.append(text.data() + i, run - i);
    i = run;
    if (i == text.size())
      break;
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out.append(kReplacement);
        ++i;
      } else {
        out.append(text.data() + i, length);
        i += length;
      }
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
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0x0F]);
        break;
    }
    ++i;
  }
  out.push_back('"');
}

void append_key(std::string& out, std::string_view key) {
  out.push_back(',');
  out.push_back('"');
  out.append(key);  // keys are constants of this file: nothing to escape
  out.append("\":");
}

void append_string_member(std::string& out, std::string_view key, std::string_view value) {
  append_key(out, key);
  append_json_string(out, value);
}

// Valid JSON text has line breaks only as whitespace between tokens (never raw inside a
// string), so turning them into spaces keeps the value and the one-line framing.
void append_message(std::string& out, std::string_view message) {
  const auto first = message.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    out.append("null");  // no message text at all: still a valid line
    return;
  }
  const auto last = message.find_last_not_of(" \t\r\n");
  message = message.substr(first, last - first + 1);
  const std::size_t start = out.size();
  out.append(message);
  for (std::size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\n' || out[i] == '\r')
      out[i] = ' ';
  }
}

}  // namespace

void encode_record(const Record& record, std::string& out) {
  out.reserve(out.size() + record.message.size() + 160);
  out.append("{\"type\":\"message\"");
  append_key(out, "ts_us");
  append_integer(out, record.time_us);
  append_string_member(out, "leg", traffic::to_string(record.leg));
  append_string_member(out, "direction", traffic::to_string(record.direction));
  append_string_member(out, "transport", traffic::to_string(record.transport));
  if (!record.session.empty())
    append_string_member(out, "session", record.session);
  if (!record.backend.empty())
    append_string_member(out, "backend", record.backend);
  if (!record.backend_session.empty())
    append_string_member(out, "backend_session", record.backend_session);
  if (record.connection != 0) {
    append_key(out, "connection");
    append_integer(out, record.connection);
  }
  if (!record.http_method.empty())
    append_string_member(out, "http_method", record.http_method);
  if (record.http_status != 0) {
    append_key(out, "http_status");
    append_integer(out, record.http_status);
  }
  if (!record.http_headers.empty()) {
    append_key(out, "http_headers");
    out.push_back('{');
    // An object with unique names: a repeated header is written once, its values joined
    // with ", " as HTTP allows (RFC 9110, 5.3). Headers are few, so quadratic is fine.
    const auto& headers = record.http_headers;
    bool first = true;
    for (std::size_t i = 0; i < headers.size(); ++i) {
      bool seen = false;
      for (std::size_t j = 0; j < i && !seen; ++j)
        seen = headers[j].name == headers[i].name;
      if (seen)
        continue;
      if (!first)
        out.push_back(',');
      first = false;
      append_json_string(out, headers[i].name);
      out.push_back(':');
      std::string joined;
      const std::string* value = &headers[i].value;
      for (std::size_t j = i + 1; j < headers.size(); ++j) {
        if (headers[j].name != headers[i].name)
          continue;
        if (value != &joined) {
          joined = headers[i].value;
          value = &joined;
        }
        joined.append(", ").append(headers[j].value);
      }
      append_json_string(out, *value);
    }
    out.push_back('}');
  }
  if (!record.sse_event_id.empty())
    append_string_member(out, "sse_event_id", record.sse_event_id);
  append_key(out, "message");
  append_message(out, record.message);
  out.push_back('}');
}

std::string encode_header(std::int64_t started_us, std::string_view gateway_version,
                          std::uint32_t file_index) {
  std::string out;
  out.reserve(128);
  out.append("{\"type\":\"header\"");
  append_string_member(out, "format", kFormatName);
  append_key(out, "version");
  append_integer(out, kFormatVersion);
  append_key(out, "started_us");
  append_integer(out, started_us);
  append_string_member(out, "gateway", gateway_version);
  append_key(out, "file_index");
  append_integer(out, file_index);
  out.push_back('}');
  return out;
}

std::string encode_dropped(std::int64_t time_us, std::uint64_t count) {
  std::string out;
  out.reserve(64);
  out.append("{\"type\":\"dropped\"");
  append_key(out, "ts_us");
  append_integer(out, time_us);
  append_key(out, "count");
  append_integer(out, count);
  out.push_back('}');
  return out;
}

}  // namespace mcpgw::mcp::capture
