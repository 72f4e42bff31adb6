// Parsers and validators for the scalar value formats of the configuration file: durations,
// listen addresses, URLs, names. Pure functions; the loader turns their messages into diagnostics.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "mcp/expected.hpp"

namespace mcpgw::config {

// "250ms", "10s", "1m", "1h", or a sum of such parts such as "1m30s". Returns milliseconds.
mcp::Expected<std::int64_t, std::string> parse_duration(std::string_view text);

struct ListenAddress {
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 0;
};

// "host:port", "[v6]:port"; port 0..65535 (0 asks the OS for an ephemeral port).
mcp::Expected<ListenAddress, std::string> parse_listen(std::string_view text);

struct HttpUrl {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;  // path and query, "/" when absent
};

// Absolute http:// or https:// URL with a host; no user info, no fragment.
mcp::Expected<HttpUrl, std::string> parse_http_url(std::string_view text, bool https_only);

// A host that only this machine can reach: "localhost", 127.0.0.0/8 or ::1 (as parse_listen
// and parse_http_url return hosts, without brackets).
bool is_loopback_host(std::string_view host);

// An OAuth scope (RFC 6749 scope-token): non-empty printable ASCII without spaces, '"' or '\'.
bool is_valid_scope_token(std::string_view scope);

// A browser origin such as "https://app.example.com" or "http://localhost:3000" (or "*").
bool is_valid_origin(std::string_view text);

// A hostname or IP literal with an optional port, as in the Host header.
bool is_valid_host_pattern(std::string_view text);

// ^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$
inline constexpr std::size_t kMaxBackendNameLength = 32;
bool is_valid_backend_name(std::string_view name);

// Non-empty, at most 32 characters of [A-Za-z0-9_-].
inline constexpr std::size_t kMaxSeparatorLength = 32;
bool is_valid_separator(std::string_view separator);

// RFC 9110 token: the characters an HTTP header name may contain.
bool is_valid_header_name(std::string_view name);

// Headers the HTTP transports set on upstream requests themselves (Host, framing, the MCP
// session and version headers); configured headers cannot replace them. Case-insensitive.
bool is_transport_managed_header(std::string_view name);

// No control characters (CR/LF would split headers).
bool is_valid_header_value(std::string_view value);

// Exactly 64 lower-case hex digits.
bool is_valid_sha256_hex(std::string_view text);

// POSIX-ish environment variable name: non-empty, no '=' and no NUL.
bool is_valid_env_name(std::string_view name);

// `text` made safe for a one-line message: control characters and invalid UTF-8 are escaped
// (\n, \x01), and text beyond `max_code_points` is cut off with "...".
std::string printable(std::string_view text, std::size_t max_code_points = 80);

// Optimal string alignment (restricted Damerau-Levenshtein) distance.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a plausible typo.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

}  // namespace mcpgw::config
