#include "gateway/front/http_checks.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

#include <openssl/rand.h>

#include "mcp/ascii.hpp"
#include "mcp/catalogue.hpp"

namespace mcpgw::front::http {

namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view trim(std::string_view text) {
  const auto begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) {
    return {};
  }
  const auto end = text.find_last_not_of(kWhitespace);
  return text.substr(begin, end - begin + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lx = x >= 'A' && x <= 'Z' ? static_cast<char>(x - 'A' + 'a') : x;
           const auto ly = y >= 'A' && y <= 'Z' ? static_cast<char>(y - 'A' + 'a') : y;
           return lx == ly;
         });
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) {
    return std::nullopt;
  }
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// A q parameter of 0 (0, 0.0, 0.000) in a media range's parameters.
bool has_zero_quality(std::string_view parameters) {
  while (!parameters.empty()) {
    const auto semicolon = parameters.find(';');
    const auto parameter = trim(parameters.substr(0, semicolon));
    parameters =
        semicolon == std::string_view::npos ? std::string_view{} : parameters.substr(semicolon + 1);
    const auto equals = parameter.find('=');
    if (equals == std::string_view::npos || !iequals(trim(parameter.substr(0, equals)), "q")) {
      continue;
    }
    const auto value = trim(parameter.substr(equals + 1));
    return !value.empty() && value.find_first_not_of("0.") == std::string_view::npos;
  }
  return false;
}

constexpr std::array<std::string_view, 3> kLoopbackNames = {"localhost", "127.0.0.1", "[::1]"};

}  // namespace

AcceptedTypes parse_accept(std::string_view header) {
  AcceptedTypes out;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const auto range = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const auto semicolon = range.find(';');
    const auto type = trim(range.substr(0, semicolon));
    if (semicolon != std::string_view::npos && has_zero_quality(range.substr(semicolon + 1))) {
      continue;
    }
    if (iequals(type, "*/*")) {
      out.json = out.event_stream = true;
    } else if (iequals(type, "application/json") || iequals(type, "application/*")) {
      out.json = true;
    } else if (iequals(type, "text/event-stream") || iequals(type, "text/*")) {
      out.event_stream = true;
    }
  }
  return out;
}

bool is_json_content_type(std::string_view header) {
  return iequals(trim(header.substr(0, header.find(';'))), "application/json");
}

std::optional<HostPort> parse_host(std::string_view text) {
  if (text.empty() || text.size() > 300) {
    return std::nullopt;
  }
  HostPort out;
  std::string_view rest;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close < 2) {
      return std::nullopt;
    }
    const std::string inner(text.substr(1, close - 1));
    in6_addr address{};
    if (inet_pton(AF_INET6, inner.c_str(), &address) != 1) {
      return std::nullopt;
    }
    out.host = "[" + mcp::ascii_lower(inner) + "]";
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    const auto host = text.substr(0, colon);
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_name_char)) {
      return std::nullopt;
    }
    out.host = mcp::ascii_lower(host);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') {
      return std::nullopt;
    }
    out.port = parse_port(rest.substr(1));
    if (!out.port) {
      return std::nullopt;
    }
  }
  return out;
}

bool is_loopback_host(std::string_view host) {
  if (iequals(host, "localhost")) {
    return true;
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return std::memcmp(&v6, &in6addr_loopback, sizeof v6) == 0;
  }
  return false;
}

bool is_wildcard_host(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return v4.s_addr == htonl(INADDR_ANY);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return std::memcmp(&v6, &in6addr_any, sizeof v6) == 0;
  }
  return false;
}

RequestGuard::RequestGuard(const std::vector<std::string>& allowed_hosts,
                           const std::vector<std::string>& allowed_origins,
                           std::string_view bound_host, std::uint16_t bound_port) {
  for (const auto& entry : allowed_hosts) {
    if (entry == "*") {
      any_host_ = true;
    } else if (auto parsed = parse_host(entry)) {
      hosts_.push_back(std::move(*parsed));
    }
  }
  if (allowed_hosts.empty()) {
    // The bound port, or no port at all (clients omit the port when it is the default one).
    default_hosts_ = true;
    if (is_loopback_host(bound_host) || is_wildcard_host(bound_host)) {
      for (const auto name : kLoopbackNames) {
        hosts_.push_back({std::string(name), bound_port});
      }
    }
    const bool bare_ipv6 = bound_host.find(':') != std::string_view::npos && !bound_host.empty() &&
                           bound_host.front() != '[';
    const auto literal =
        parse_host(bare_ipv6 ? "[" + std::string(bound_host) + "]" : std::string(bound_host));
    if (literal && !is_wildcard_host(bound_host)) {
      hosts_.push_back({literal->host, bound_port});
    }
  }
  for (const auto& entry : allowed_origins) {
    default_origins_ = false;
    if (entry == "*") {
      any_origin_ = true;
    } else if (auto parsed = parse_origin(entry)) {
      origins_.push_back(std::move(*parsed));
    }
  }
}

bool RequestGuard::host_allowed(std::string_view host_header) const {
  if (any_host_) {
    return true;
  }
  const auto parsed = parse_host(trim(host_header));
  if (!parsed) {
    return false;
  }
  return std::any_of(hosts_.begin(), hosts_.end(), [&](const HostPort& entry) {
    if (entry.host != parsed->host) {
      return false;
    }
    if (!parsed->port) {
      return default_hosts_ || !entry.port;
    }
    return !entry.port || entry.port == parsed->port;
  });
}

std::optional<RequestGuard::Origin> RequestGuard::parse_origin(std::string_view text) {
  const auto separator = text.find("://");
  if (separator == std::string_view::npos) {
    return std::nullopt;
  }
  Origin out;
  out.scheme = mcp::ascii_lower(text.substr(0, separator));
  if (out.scheme != "http" && out.scheme != "https") {
    return std::nullopt;
  }
  auto authority = text.substr(separator + 3);
  if (!authority.empty() && authority.back() == '/') {
    authority.remove_suffix(1);
  }
  if (authority.find_first_of("/?#@") != std::string_view::npos) {
    return std::nullopt;
  }
  auto host = parse_host(authority);
  if (!host) {
    return std::nullopt;
  }
  out.host = std::move(host->host);
  out.port = host->port.value_or(out.scheme == "https" ? 443 : 80);
  return out;
}

bool RequestGuard::origin_allowed(std::string_view origin_header) const {
  if (any_origin_) {
    return true;
  }
  const auto parsed = parse_origin(trim(origin_header));
  if (!parsed) {
    return false;  // "null", opaque or malformed origins
  }
  if (default_origins_) {
    return std::find(kLoopbackNames.begin(), kLoopbackNames.end(), parsed->host) !=
           kLoopbackNames.end();
  }
  return std::any_of(origins_.begin(), origins_.end(), [&](const Origin& entry) {
    return entry.scheme == parsed->scheme && entry.host == parsed->host &&
           entry.port == parsed->port;
  });
}

std::string event_id(std::uint64_t stream, std::uint64_t sequence) {
  return std::to_string(stream) + "-" + std::to_string(sequence);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_event_id(std::string_view text) {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == text.size() || text.size() > 41) {
    return std::nullopt;
  }
  std::uint64_t stream = 0;
  std::uint64_t sequence = 0;
  const auto* begin = text.data();
  const auto* middle = begin + dash;
  const auto* end = begin + text.size();
  const auto first = std::from_chars(begin, middle, stream);
  const auto second = std::from_chars(middle + 1, end, sequence);
  if (first.ec != std::errc{} || first.ptr != middle || second.ec != std::errc{} ||
      second.ptr != end) {
    return std::nullopt;
  }
  return std::make_pair(stream, sequence);
}

std::optional<std::string> new_session_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return std::nullopt;
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const auto byte : bytes) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0x0f]);
  }
  return out;
}

std::string_view target_path(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::optional<std::string> query_parameter(std::string_view target, std::string_view name) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) {
    return std::nullopt;
  }
  auto query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const auto equals = pair.find('=');
    if (pair.substr(0, equals) != name) {
      continue;
    }
    const auto raw =
        equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%') {
        unsigned byte = 0;
        if (i + 2 >= raw.size()) {
          return std::nullopt;
        }
        const auto [end, error] = std::from_chars(raw.data() + i + 1, raw.data() + i + 3, byte, 16);
        if (error != std::errc{} || end != raw.data() + i + 3) {
          return std::nullopt;
        }
        value.push_back(static_cast<char>(byte));
        i += 2;
      } else if (raw[i] == '+') {
        value.push_back(' ');
      } else {
        value.push_back(raw[i]);
      }
    }
    return value;
  }
  return std::nullopt;
}

namespace {

// Percent-decoding for the token check: a malformed escape stays as it is (the check looks for
// names and shapes, it does not need exact values).
std::string loose_percent_decode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      unsigned byte = 0;
      const auto [end, error] = std::from_chars(raw.data() + i + 1, raw.data() + i + 3, byte, 16);
      if (error == std::errc{} && end == raw.data() + i + 3) {
        out.push_back(static_cast<char>(byte));
        i += 2;
        continue;
      }
    }
    out.push_back(raw[i] == '+' ? ' ' : raw[i]);
  }
  return out;
}

bool looks_like_jwt(std::string_view value) {
  if (value.size() < 5 || value.substr(0, 3) != "eyJ") {
    return false;
  }
  std::size_t dots = 0;
  for (const char c : value) {
    if (c == '.') {
      ++dots;
    } else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '=') {
      return false;
    }
  }
  return dots == 2;
}

}  // namespace

bool query_has_token(std::string_view target) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) {
    return false;
  }
  auto query = target.substr(question + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const auto separator = query.find_first_of("&;");
    const auto pair = query.substr(0, separator);
    query = separator == std::string_view::npos ? std::string_view{} : query.substr(separator + 1);
    const auto equals = pair.find('=');
    const auto name = mcp::ascii_lower(loose_percent_decode(pair.substr(0, equals)));
    if (name == "access_token" || name == "token" || name == "id_token" || name == "api_key") {
      return true;
    }
    if (equals != std::string_view::npos &&
        looks_like_jwt(loose_percent_decode(pair.substr(equals + 1)))) {
      return true;
    }
  }
  return false;
}

std::string accepted_versions_text() {
  std::string out;
  for (const auto version : mcp::supported_protocol_versions()) {
    if (mcp::era(version) != mcp::ProtocolEra::legacy) {
      continue;
    }
    if (!out.empty()) {
      out += ", ";
    }
    out += mcp::to_string(version);
  }
  return out;
}

}  // namespace mcpgw::front::http
