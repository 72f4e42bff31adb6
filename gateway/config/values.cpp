#include "gateway/config/values.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <limits>
#include <vector>

#include "mcp/ascii.hpp"

namespace mcpgw::config {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_digit(c) || is_alpha(c);
}
bool is_name_char(char c) {
  return is_alnum(c) || c == '_' || c == '-';
}

// Decimal port 0..65535, no sign, no leading garbage.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) {
    return std::nullopt;
  }
  std::uint32_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) {
      return std::nullopt;
    }
    value = value * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool is_ipv6_literal(std::string_view text) {
  if (text.empty() || text.size() > 45) {
    return false;
  }
  std::string copy(text);
  in6_addr address{};
  return inet_pton(AF_INET6, copy.c_str(), &address) == 1;
}

bool looks_like_ipv4(std::string_view host) {
  return !host.empty() &&
         std::all_of(host.begin(), host.end(), [](char c) { return is_digit(c) || c == '.'; });
}

bool is_ipv4_literal(std::string_view text) {
  if (text.size() > 15) {
    return false;
  }
  std::string copy(text);
  in_addr address{};
  return inet_pton(AF_INET, copy.c_str(), &address) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and hyphens.
bool is_hostname(std::string_view host) {
  if (host.empty() || host.size() > 253) {
    return false;
  }
  std::size_t label_length = 0;
  char previous = '.';
  for (char c : host) {
    if (c == '.') {
      if (label_length == 0 || previous == '-') {
        return false;
      }
      label_length = 0;
    } else if (is_alnum(c) || c == '-') {
      if (label_length == 0 && c == '-') {
        return false;
      }
      if (++label_length > 63) {
        return false;
      }
    } else {
      return false;
    }
    previous = c;
  }
  return previous != '-';
}

// The host part of a URL or listen address: a name, an IPv4 literal or a bracketed IPv6 one.
// Returns the host without brackets and the rest (":port..." or the path).
struct HostSplit {
  std::string host;
  std::string_view rest;
  bool ok = false;
  std::string error;
};

HostSplit split_host(std::string_view text) {
  HostSplit out;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      out.error = "unterminated '[' in IPv6 address";
      return out;
    }
    const auto inner = text.substr(1, close - 1);
    if (!is_ipv6_literal(inner)) {
      out.error = "'" + printable(inner) + "' is not a valid IPv6 address";
      return out;
    }
    out.host = std::string(inner);
    out.rest = text.substr(close + 1);
    out.ok = true;
    return out;
  }
  const auto end = text.find_first_of(":/?#");
  const auto host = text.substr(0, end);
  out.rest = end == std::string_view::npos ? std::string_view{} : text.substr(end);
  if (host.empty()) {
    out.error = "the host is missing";
    return out;
  }
  if (looks_like_ipv4(host)) {
    if (!is_ipv4_literal(host)) {
      out.error = "'" + printable(host) + "' is not a valid IPv4 address";
      return out;
    }
  } else if (!is_hostname(host)) {
    out.error = "'" + printable(host) + "' is not a valid host name";
    return out;
  }
  out.host = std::string(host);
  out.ok = true;
  return out;
}

}  // namespace

mcp::Expected<std::int64_t, std::string> parse_duration(std::string_view text) {
  using Result = mcp::Expected<std::int64_t, std::string>;
  if (text.empty()) {
    return mcp::unexpected(std::string("empty duration; write e.g. '10s'"));
  }
  if (text.front() == '-') {
    return mcp::unexpected(std::string("a duration cannot be negative"));
  }
  // 100 days is more than any timeout or rate-limit window needs, and far from overflow.
  constexpr std::int64_t kMaxMs = 100LL * 24 * 3600 * 1000;
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_digit(text[i])) {
      return mcp::unexpected("expected a number at '" + printable(text.substr(i)) +
                             "'; write e.g. '250ms', '10s', '1m' or '1h'");
    }
    std::int64_t number = 0;
    while (i < text.size() && is_digit(text[i])) {
      number = number * 10 + (text[i] - '0');
      if (number > kMaxMs) {
        return mcp::unexpected(std::string("duration is too large (at most 100 days)"));
      }
      ++i;
    }
    const auto unit_start = i;
    while (i < text.size() && is_alpha(text[i])) {
      ++i;
    }
    const auto unit = text.substr(unit_start, i - unit_start);
    std::int64_t factor = 0;
    if (unit == "ms") {
      factor = 1;
    } else if (unit == "s") {
      factor = 1000;
    } else if (unit == "m") {
      factor = 60 * 1000;
    } else if (unit == "h") {
      factor = 3600 * 1000;
    } else if (unit.empty()) {
      return mcp::unexpected(std::string("missing unit after ") + std::to_string(number) +
                             "; use ms, s, m or h");
    } else {
      return mcp::unexpected("unknown unit '" + printable(unit) + "'; use ms, s, m or h");
    }
    total += number * factor;
    if (total > kMaxMs) {
      return mcp::unexpected(std::string("duration is too large (at most 100 days)"));
    }
  }
  return Result(total);
}

mcp::Expected<ListenAddress, std::string> parse_listen(std::string_view text) {
  using Result = mcp::Expected<ListenAddress, std::string>;
  if (text.empty()) {
    return mcp::unexpected(std::string("empty address; write host:port, e.g. '127.0.0.1:8080'"));
  }
  if (text.front() != '[' && std::count(text.begin(), text.end(), ':') > 1) {
    return mcp::unexpected(std::string("an IPv6 address needs brackets, e.g. '[::1]:8080'"));
  }
  auto split = split_host(text);
  if (!split.ok) {
    return mcp::unexpected(std::move(split.error));
  }
  if (split.rest.empty() || split.rest.front() != ':') {
    return mcp::unexpected(std::string("missing port; write host:port, e.g. '127.0.0.1:8080'"));
  }
  const auto port = parse_port(split.rest.substr(1));
  if (!port) {
    return mcp::unexpected("'" + printable(split.rest.substr(1)) +
                           "' is not a port number (0 to 65535)");
  }
  return Result(ListenAddress{std::move(split.host), *port});
}

mcp::Expected<HttpUrl, std::string> parse_http_url(std::string_view text, bool https_only) {
  using Result = mcp::Expected<HttpUrl, std::string>;
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return mcp::unexpected(std::string("URLs cannot contain spaces or control characters"));
  }
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return mcp::unexpected(std::string(https_only
                                           ? "expected an absolute https:// URL"
                                           : "expected an absolute http:// or https:// URL"));
  }
  HttpUrl url;
  url.scheme = mcp::ascii_lower(text.substr(0, scheme_end));
  if (url.scheme != "https" && (https_only || url.scheme != "http")) {
    return mcp::unexpected(
        "unsupported scheme '" + printable(text.substr(0, scheme_end)) +
        (https_only ? "'; only https is allowed here" : "'; only http and https are supported"));
  }
  auto rest = text.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return mcp::unexpected(
        std::string("credentials in the URL are not supported; configure headers instead"));
  }
  auto split = split_host(authority);
  if (!split.ok) {
    return mcp::unexpected(std::move(split.error));
  }
  url.host = std::move(split.host);
  url.port = url.scheme == "https" ? 443 : 80;
  if (!split.rest.empty()) {
    if (split.rest.front() != ':') {
      return mcp::unexpected("unexpected '" + printable(split.rest) + "' after the host");
    }
    const auto port = parse_port(split.rest.substr(1));
    if (!port || *port == 0) {
      return mcp::unexpected("'" + printable(split.rest.substr(1)) +
                             "' is not a port number (1 to 65535)");
    }
    url.port = *port;
  }
  const auto target =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (target.find('#') != std::string_view::npos) {
    return mcp::unexpected(std::string("URLs with a fragment ('#') are not supported"));
  }
  url.target =
      target.empty() || target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return Result(std::move(url));
}

bool is_loopback_host(std::string_view host) {
  if (mcp::ascii_lower(host) == "localhost") {
    return true;
  }
  if (is_ipv4_literal(host)) {
    return host.substr(0, host.find('.')) == "127";
  }
  if (is_ipv6_literal(host)) {
    std::string copy(host);
    in6_addr address{};
    inet_pton(AF_INET6, copy.c_str(), &address);
    in6_addr loopback = IN6ADDR_LOOPBACK_INIT;
    return std::equal(std::begin(address.s6_addr), std::end(address.s6_addr),
                      std::begin(loopback.s6_addr));
  }
  return false;
}

bool is_valid_scope_token(std::string_view scope) {
  return !scope.empty() && std::all_of(scope.begin(), scope.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x21 && byte <= 0x7e && c != '"' && c != '\\';
  });
}

bool is_valid_origin(std::string_view text) {
  if (text == "*") {
    return true;
  }
  const auto url = parse_http_url(text, false);
  if (!url) {
    return false;
  }
  // An origin is scheme://host[:port] only: no path, no query.
  const auto after_scheme = text.substr(text.find("://") + 3);
  return after_scheme.find_first_of("/?") == std::string_view::npos;
}

bool is_valid_host_pattern(std::string_view text) {
  if (text.empty()) {
    return false;
  }
  auto split = split_host(text);
  if (!split.ok) {
    return false;
  }
  if (split.rest.empty()) {
    return true;
  }
  return split.rest.front() == ':' && parse_port(split.rest.substr(1)).has_value();
}

bool is_valid_backend_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxBackendNameLength && is_alnum(name.front()) &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

bool is_valid_separator(std::string_view separator) {
  return !separator.empty() && separator.size() <= kMaxSeparatorLength &&
         std::all_of(separator.begin(), separator.end(), is_name_char);
}

bool is_transport_managed_header(std::string_view name) {
  static constexpr std::array<std::string_view, 8> kManaged = {
      "host",    "content-length", "transfer-encoding",    "connection",
      "upgrade", "mcp-session-id", "mcp-protocol-version", "te"};
  const std::string lower = mcp::ascii_lower(name);
  return std::find(kManaged.begin(), kManaged.end(), lower) != kManaged.end();
}

bool is_valid_header_name(std::string_view name) {
  static constexpr std::string_view kTokenSpecials = "!#$%&'*+-.^_`|~";
  return !name.empty() && name.size() <= 256 && std::all_of(name.begin(), name.end(), [](char c) {
    return is_alnum(c) || kTokenSpecials.find(c) != std::string_view::npos;
  });
}

bool is_valid_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && c != '\t') || byte == 0x7f;
  });
}

bool is_valid_sha256_hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return is_digit(c) || (c >= 'a' && c <= 'f');
         });
}

bool is_valid_env_name(std::string_view name) {
  return !name.empty() && name.find('=') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

std::string printable(std::string_view text, std::size_t max_code_points) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max_code_points + 8));
  std::size_t code_points = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    if (code_points == max_code_points) {
      out += "...";
      break;
    }
    const auto byte = static_cast<unsigned char>(text[i]);
    // Length of a well-formed UTF-8 sequence starting here, or 0.
    std::size_t length = 0;
    if (byte < 0x80) {
      length = 1;
    } else if (byte >= 0xC2 && byte <= 0xDF) {
      length = 2;
    } else if (byte >= 0xE0 && byte <= 0xEF) {
      length = 3;
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      length = 4;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (valid && length == 3) {
      const auto second = static_cast<unsigned char>(text[i + 1]);
      valid = !(byte == 0xE0 && second < 0xA0) && !(byte == 0xED && second >= 0xA0);
    } else if (valid && length == 4) {
      const auto second = static_cast<unsigned char>(text[i + 1]);
      valid = !(byte == 0xF0 && second < 0x90) && !(byte == 0xF4 && second >= 0x90);
    }
    if (!valid) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
      ++i;
    } else if (byte == '\n') {
      out += "\\n";
      ++i;
    } else if (byte == '\r') {
      out += "\\r";
      ++i;
    } else if (byte == '\t') {
      out += "\\t";
      ++i;
    } else if (byte < 0x20 || byte == 0x7F) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
    ++code_points;
  }
  return out;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rolling rows of the optimal string alignment table.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    previous[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = mcp::ascii_lower(a[i - 1]) == mcp::ascii_lower(b[j - 1]) ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && mcp::ascii_lower(a[i - 1]) == mcp::ascii_lower(b[j - 2]) &&
          mcp::ascii_lower(a[i - 2]) == mcp::ascii_lower(b[j - 1])) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates) {
  // Long hostile keys would make the quadratic distance expensive; nobody typos 64 characters.
  constexpr std::size_t kMaxWord = 64;
  if (word.empty() || word.size() > kMaxWord) {
    return std::nullopt;
  }
  // One edit per three characters, at most three: "alow" → "allow", but not "x" → "id".
  const std::size_t limit = std::min<std::size_t>(3, std::max<std::size_t>(1, word.size() / 3));
  std::optional<std::string_view> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto candidate : candidates) {
    if (candidate.size() > word.size() + limit || word.size() > candidate.size() + limit) {
      continue;
    }
    const auto distance = edit_distance(word, candidate);
    if (distance <= limit && distance < best_distance && distance < candidate.size()) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace mcpgw::config
