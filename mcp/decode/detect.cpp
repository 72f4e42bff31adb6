// detect_format: which input format the first bytes of an input look like. Each rule is a
// property of the format's own start, checked in an order where no rule can claim another
// format's file; see docs/inspect-inputs.md.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mcp/decode/stdio_labels.hpp"
#include "mcp/json_scan.hpp"
#include "mcp/traffic.hpp"

namespace mcpgw::mcp::traffic {
namespace {

bool is_pcap_magic(std::string_view bytes) {
  if (bytes.size() < 4) {
    return false;
  }
  static constexpr std::array<std::string_view, 5> kMagic = {
      std::string_view("\xA1\xB2\xC3\xD4", 4), std::string_view("\xD4\xC3\xB2\xA1", 4),
      std::string_view("\xA1\xB2\x3C\x4D", 4), std::string_view("\x4D\x3C\xB2\xA1", 4),
      std::string_view("\x0A\x0D\x0D\x0A", 4)};  // pcap µs/ns in both byte orders, pcapng
  for (const auto magic : kMagic) {
    if (bytes.substr(0, 4) == magic) {
      return true;
    }
  }
  return false;
}

std::string_view trim_left(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos ? std::string_view() : text.substr(first);
}

// "POST /mcp HTTP/1.1" or "HTTP/1.1 200 OK".
bool is_http_start_line(std::string_view line) {
  if (line.starts_with("HTTP/1.") && line.size() >= 12 && line[8] == ' ') {
    return true;
  }
  const auto space = line.find(' ');
  if (space == 0 || space == std::string_view::npos || space > 16) {
    return false;
  }
  for (std::size_t i = 0; i < space; ++i) {
    if (line[i] < 'A' || line[i] > 'Z') {
      return false;
    }
  }
  const auto second = line.find(' ', space + 1);
  return second != std::string_view::npos && line.substr(second + 1).starts_with("HTTP/1.");
}

// The lines of a curl -v transcript: "* info", "> request line", "< status line", "{ [5 bytes".
bool is_curl_verbose_line(std::string_view line) {
  if (line.starts_with("* ") || line.starts_with("{ [") || line.starts_with("} [")) {
    return true;
  }
  if (line.starts_with("> ") || line.starts_with("< ")) {
    return is_http_start_line(line.substr(2));
  }
  return false;
}

// A line that is a JSON object: what its "type" member says, and whether it has "jsonrpc".
struct LineObject {
  bool complete = false;  // the whole line is a valid JSON value
  std::string_view type;
  bool has_jsonrpc = false;
  bool first_member_log = false;
};

LineObject inspect_object(std::string_view line) {
  LineObject out;
  json_scan::Scanner scanner(line, json_scan::kMaxScanDepth);
  bool first = true;
  std::string scratch;
  const bool ok = scanner.scan_object(0, [&](std::string_view name, std::size_t level) {
    if (first && name == "log") {
      out.first_member_log = true;
    }
    first = false;
    if (name == "jsonrpc") {
      out.has_jsonrpc = true;
    }
    if (name == "type" && scanner.peek() == '"') {
      std::string_view value;
      if (!scanner.read_string(value, scratch)) {
        return false;
      }
      // Only the capture's own record types matter; keep a view of a known one.
      for (const std::string_view known : {"header", "message", "dropped"}) {
        if (value == known) {
          out.type = known;
        }
      }
      return true;
    }
    return scanner.skip_value(level);
  });
  out.complete = ok && scanner.expect_end();
  return out;
}

}  // namespace

std::optional<Format> detect_format(std::string_view first_bytes) {
  std::string_view bytes = first_bytes.substr(0, kDetectBytes);
  if (is_pcap_magic(bytes)) {
    return Format::pcap;
  }
  if (bytes.starts_with("\xEF\xBB\xBF")) {
    bytes.remove_prefix(3);
  }
  const std::string_view text = trim_left(bytes);
  if (text.empty()) {
    return std::nullopt;
  }
  // A HAR is one (usually pretty-printed) object whose first member is "log".
  if (text.front() == '{') {
    const std::string_view after_brace = trim_left(text.substr(1));
    if (after_brace.starts_with("\"log\"")) {
      const auto colon = trim_left(after_brace.substr(5));
      if (colon.starts_with(':') && trim_left(colon.substr(1)).starts_with('{')) {
        return Format::har;
      }
    }
  }
  // Line formats: judged by the first non-blank line (complete or cut at kDetectBytes).
  const auto end = text.find('\n');
  const bool whole_line = end != std::string_view::npos || first_bytes.size() < kDetectBytes;
  std::string_view line = text.substr(0, end);
  if (line.ends_with('\r')) {
    line.remove_suffix(1);
  }
  if (is_http_start_line(line) || is_curl_verbose_line(line)) {
    return Format::http_transcript;
  }
  if (const auto labelled = decode::parse_labelled_line(line)) {
    const std::string_view message = trim_left(labelled->message);
    if (!message.empty() && (message.front() == '{' || message.front() == '[')) {
      return Format::stdio;
    }
    return std::nullopt;
  }
  if (line.front() == '{') {
    const LineObject object = inspect_object(line);
    if (!object.type.empty()) {
      return Format::capture;
    }
    if (object.has_jsonrpc && (object.complete || !whole_line)) {
      return Format::stdio;
    }
    if (!whole_line) {
      // A first record longer than the detection window: its start still tells.
      if (line.starts_with("{\"type\":\"header\"") || line.starts_with("{\"type\":\"message\"")) {
        return Format::capture;
      }
    }
    return std::nullopt;
  }
  if (line.front() == '[' && inspect_object(line.substr(1)).has_jsonrpc) {
    return Format::stdio;  // a batch on the first line
  }
  return std::nullopt;
}

}  // namespace mcpgw::mcp::traffic
