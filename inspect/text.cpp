#include "inspect/text.hpp"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

#include "mcp/json_text.hpp"

namespace mcpgw::inspect {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace

std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  while (at < text.size()) {
    const auto c = static_cast<unsigned char>(text[at]);
    if (c < 0x20 || c == 0x7F) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\x%02x", static_cast<unsigned>(c));
      out += buffer;
      ++at;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++at;
      continue;
    }
    const std::size_t length = mcp::utf8_sequence_length(text, at);
    if (length == 0) {
      out += kReplacement;
      ++at;
      continue;
    }
    // C1 controls (U+0080..U+009F, e.g. U+009B CSI) are two bytes: C2 80..C2 9F.
    if (length == 2 && c == 0xC2 && static_cast<unsigned char>(text[at + 1]) <= 0x9F) {
      char buffer[12];
      std::snprintf(buffer, sizeof buffer, "\\u{%02x}",
                    static_cast<unsigned>(static_cast<unsigned char>(text[at + 1])));
      out += buffer;
    } else {
      out += text.substr(at, length);
    }
    at += length;
  }
  return out;
}

std::string shorten(std::string_view text, std::size_t max_chars) {
  std::size_t chars = 0;
  std::size_t at = 0;
  while (at < text.size()) {
    if (chars == max_chars)
      return std::string(text.substr(0, at)) + "\xE2\x80\xA6";
    const std::size_t length = mcp::utf8_sequence_length(text, at);
    at += length == 0 ? 1 : length;
    ++chars;
  }
  return std::string(text);
}

namespace {

std::tm utc_of(std::int64_t time_us) {
  std::int64_t seconds = time_us / 1'000'000;
  if (time_us % 1'000'000 < 0)
    --seconds;
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return tm;
}

}  // namespace

std::string format_date(std::int64_t time_us) {
  const std::tm tm = utc_of(time_us);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday);
  return buffer;
}

std::string format_time_of_day(std::int64_t time_us) {
  const std::tm tm = utc_of(time_us);
  std::int64_t micros = time_us % 1'000'000;
  if (micros < 0)
    micros += 1'000'000;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(micros / 1000));
  return buffer;
}

std::string format_duration(std::int64_t duration_us) {
  char buffer[32];
  const double ms = static_cast<double>(duration_us) / 1000.0;
  if (ms < 10.0 && ms > -10.0) {
    std::snprintf(buffer, sizeof buffer, "%.2f ms", ms);
  } else if (ms < 1000.0 && ms > -1000.0) {
    std::snprintf(buffer, sizeof buffer, "%.1f ms", ms);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f s", ms / 1000.0);
  }
  return buffer;
}

std::string format_ms_number(std::int64_t duration_us) {
  const bool negative = duration_us < 0;
  const std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(duration_us)
                                           : static_cast<std::uint64_t>(duration_us);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%s%llu.%03llu", negative ? "-" : "",
                static_cast<unsigned long long>(magnitude / 1000),
                static_cast<unsigned long long>(magnitude % 1000));
  return buffer;
}

namespace {

std::optional<nlohmann::ordered_json> parse_json(std::string_view message) {
  // summarize_message checked the text (bounded depth) before it reached a renderer.
  auto parsed = nlohmann::ordered_json::parse(message.begin(), message.end(), nullptr, false);
  if (parsed.is_discarded())
    return std::nullopt;
  return parsed;
}

std::string dump(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

std::optional<std::string> payload_text(std::string_view message, int indent) {
  auto parsed = parse_json(message);
  if (!parsed)
    return std::nullopt;
  if (parsed->is_object()) {
    for (const char* member : {"params", "result", "error"}) {
      const auto found = parsed->find(member);
      if (found != parsed->end())
        return dump(*found, indent);
    }
    return std::string();
  }
  return dump(*parsed, indent);
}

std::optional<std::string> compact_json(std::string_view message) {
  auto parsed = parse_json(message);
  if (!parsed)
    return std::nullopt;
  return dump(*parsed, -1);
}

}  // namespace mcpgw::inspect
