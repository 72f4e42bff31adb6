// Pure helpers of the HTTP front ends: header parsing (Accept, Content-Type, Host, Origin),
// the Host/Origin allow-lists, SSE event ids, session ids and query strings. Private to
// gateway/front/ (included by its .cpp files and their unit tests only); no Asio here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpgw::front::http {

// What an Accept header allows among the two media types MCP uses. `*/*`, `application/*`
// and `text/*` count; a range with q=0 is a refusal and does not.
struct AcceptedTypes {
  bool json = false;
  bool event_stream = false;
};
AcceptedTypes parse_accept(std::string_view header);

// application/json with any parameters (charset=utf-8 ...), case-insensitive.
bool is_json_content_type(std::string_view header);

// A Host header or allow-list entry: lower-case host (IPv6 literals keep their brackets) and
// an optional port. Empty when the text is not `name`, `name:port`, `a.b.c.d[:port]` or
// `[v6][:port]`.
struct HostPort {
  std::string host;
  std::optional<std::uint16_t> port;
};
std::optional<HostPort> parse_host(std::string_view text);

// localhost, 127.0.0.0/8 and ::1 (with or without brackets), in any spelling inet_pton reads.
bool is_loopback_host(std::string_view host);
// 0.0.0.0 and :: (binding every interface).
bool is_wildcard_host(std::string_view host);

// Which Host and Origin values a listener accepts (DNS-rebinding protection).
//
// Host: a configured entry without a port matches any port, one with a port only that port;
// "*" matches anything. Without configured entries: a loopback bind accepts localhost,
// 127.0.0.1, [::1] and the bound literal, with no port or the bound port; a wildcard bind
// (0.0.0.0, ::) the same loopback names; any other bind its own literal, with no port or the
// bound port.
//
// Origin (checked only when the header is present): configured entries match scheme, host and
// port exactly (default ports 80/443 filled in); "*" matches anything. Without configured
// entries: http or https on localhost, 127.0.0.1 or [::1], any port. "null" is refused unless
// "*" is configured.
class RequestGuard {
 public:
  RequestGuard() = default;
  RequestGuard(const std::vector<std::string>& allowed_hosts,
               const std::vector<std::string>& allowed_origins, std::string_view bound_host,
               std::uint16_t bound_port);

  bool host_allowed(std::string_view host_header) const;
  bool origin_allowed(std::string_view origin_header) const;

 private:
  struct Origin {
    std::string scheme;
    std::string host;
    std::uint16_t port = 0;
  };
  static std::optional<Origin> parse_origin(std::string_view text);

  bool any_host_ = false;
  bool default_hosts_ = false;  // derived from the bound address: a missing port is accepted
  std::vector<HostPort> hosts_;
  bool any_origin_ = false;
  bool default_origins_ = true;
  std::vector<Origin> origins_;
};

// SSE event ids: "<stream>-<sequence>", unique within a session because stream numbers are.
std::string event_id(std::uint64_t stream, std::uint64_t sequence);
// Both numbers, or empty when `text` is not an id this front end wrote.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_event_id(std::string_view text);

// 128 bits from OpenSSL's CSPRNG as 32 lower-case hex digits; empty when the CSPRNG fails.
std::optional<std::string> new_session_id();

// The path of a request target (before '?').
std::string_view target_path(std::string_view target);
// The value of `name` in the target's query string, percent-decoded; empty when absent or
// malformed.
std::optional<std::string> query_parameter(std::string_view target, std::string_view name);

// Whether the target's query string carries something that looks like a credential: a
// parameter named access_token, token, id_token or api_key (any case, percent-decoded), or any
// value shaped like a JWT ("eyJ..." with two dots). Such requests are refused: a token in a URL
// has already leaked into logs and proxies.
bool query_has_token(std::string_view target);

// "2024-11-05, 2025-03-26, ...": the protocol versions the HTTP front ends accept in
// MCP-Protocol-Version (every legacy-era version of mcp/catalogue.hpp).
std::string accepted_versions_text();

}  // namespace mcpgw::front::http
