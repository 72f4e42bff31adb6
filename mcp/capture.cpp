// Encoding of capture format version 1 (docs/capture-format.md): each line is built by appending
// into one string, with no JSON tree, because serve's writer thread encodes every message.
#include "mcp/capture.hpp"

#include <array>
#include <charconv>

#include "mcp/json_text.hpp"

namespace mcpgw::mcp::capture {
namespace {

template <class Integer>
void append_integer(std::string& out, Integer value) {
  std::array<char, 24> digits{};
  const auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  (void)ec;  // 24 characters hold every 64-bit integer
  out.append(digits.data(), end);
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
