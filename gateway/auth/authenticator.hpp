// Authentication of HTTP client requests: bearer JWTs (jwt.hpp) from configured sources, API
// keys, mTLS client certificates, anonymous access where the config allows it. The result is a
// policy::Principal, or the exact HTTP refusal (401 with RFC 6750 / RFC 9728
// WWW-Authenticate, 403 insufficient_scope, 400 for a token in the query string).
//
// Order of checks for one request:
//   1. A token in the query string (access_token=...) is refused (400 invalid_request), even
//      when a header carries credentials too: it has already leaked into logs and proxies.
//   2. Authorization: Bearer <jwt>: the token's issuer picks the source; its key set verifies it.
//      A kid the set does not know makes a jwks_url source fetch its keys again (at most once
//      per jwks_min_refresh; requests wait for that fetch) and verify once more.
//      Invalid -> 401 error="invalid_token". Valid but lacking required_scopes -> 403
//      error="insufficient_scope" scope="...".
//   3. Otherwise the API key header: SHA-256 of the presented key compared in constant time
//      with every configured hash (no early exit) -> principal.api_key = the key's name.
//      A wrong key -> 401 (never "anonymous", even when anonymous access is allowed).
//   4. Otherwise, with a verified mTLS client certificate: principal.cert_subject is set and
//      the request counts as authenticated.
//   5. Otherwise anonymous when allow_anonymous, else 401 without an error code.
// A verified client certificate's subject is added to principals from 2 and 3 as well.
// Credentials are never logged; reasons name the failing check only.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/auth/jwt.hpp"
#include "gateway/config/config.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/runtime/event_loop.hpp"

namespace boost::asio {
class io_context;
}

namespace mcpgw::auth {

// What the front end extracted from one request. Values are borrowed for the call only.
struct Credentials {
  std::optional<std::string_view> authorization;  // the Authorization header
  std::optional<std::string_view> api_key;        // the configured API key header
  bool token_in_query = false;    // the target's query has access_token (or a JWT-looking value)
  std::string_view cert_subject;  // verified client certificate subject ("" without mTLS)
};

struct AuthResult {
  bool ok = false;
  std::shared_ptr<const policy::Principal> principal;  // when ok
  // When refused: 400, 401 or 403, the WWW-Authenticate value (always set for 401/403), and a
  // short reason for the log and the JSON-RPC error body ("invalid_token: expired").
  int http_status = 0;
  std::string www_authenticate;
  std::string reason;
};

// A stable identity for session ownership and rate-limit buckets: "jwt:<iss> <sub>",
// "key:<name>", "cert:<subject>" or "anonymous". Two requests of one caller map to the same key.
std::string principal_key(const policy::Principal& principal);

// subject = sub, claims = the whole payload, scopes from "scope" (space separated) or "scp"
// (string or array), authenticated = true.
policy::Principal principal_from_claims(const nlohmann::json& claims);

// Configured API keys; match() hashes the presented key and compares it with every entry in
// constant time. Returns the key's name.
class ApiKeyTable {
 public:
  explicit ApiKeyTable(const std::vector<config::ApiKeyConfig>& keys);
  std::optional<std::string> match(std::string_view presented) const;
  bool empty() const noexcept { return entries_.empty(); }

 private:
  struct Entry {
    std::string name;
    std::array<unsigned char, 32> digest{};
  };
  std::vector<Entry> entries_;
};

// Where one JWT source's keys come from: a file (read at start and on reload()), or an HTTPS
// URL (fetched at start, every jwks_refresh, and on demand for unknown kids).
class KeySource {
 public:
  virtual ~KeySource() = default;
  // The current key set; null until the first successful load.
  virtual std::shared_ptr<const KeySet> keys() const = 0;
  // Asks for a fresh key set because a token named an unknown kid. `done` runs on the loop once
  // the fetch finished or failed, or at once when the last fetch was within jwks_min_refresh
  // (then nothing is fetched). File sources re-read the file under the same bound.
  virtual void refresh(std::function<void()> done) = 0;
  virtual void start() = 0;
  virtual void stop() = 0;
  // SIGHUP: a file source reads its file again now; a URL source keeps its schedule.
  virtual void on_reload() {}
};

struct AuthenticatorOptions {
  // The front end's own values, for WWW-Authenticate's resource_metadata URL when
  // AuthConfig::resource is empty.
  std::string scheme = "http";
  std::string path = "/mcp";
  // Verification results kept per token (SHA-256 of the token -> principal, until exp), so a
  // client that reuses its token pays for the signature once. 0 disables the cache.
  std::size_t token_cache_entries = 10000;
  std::size_t max_waiting_for_keys = 1024;  // requests waiting for a key refresh
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // Decides one request. `done` runs exactly once, on the loop: at once for everything but a
  // key refresh. `host` is the validated Host header (for a derived resource URL).
  virtual void authenticate(const Credentials& credentials, std::string_view host,
                            std::function<void(AuthResult)> done) = 0;
  // True when requests need no credentials at all (no [auth] sources and anonymous allowed):
  // the front end can skip extraction.
  virtual bool open() const noexcept = 0;
  // RFC 9728 metadata document for GET /.well-known/oauth-protected-resource[/<path>].
  virtual nlohmann::json resource_metadata(std::string_view host) const = 0;
  // Starts the key sources (fetches jwks_url); stop() cancels fetches and timers.
  virtual void start() = 0;
  virtual void stop() = 0;
  // SIGHUP: the API keys are replaced by `auth.api_keys` (a key removed from the file stops
  // working at once) and file key sets are read again. Everything else in [auth] needs a
  // restart.
  virtual void reload(const config::AuthConfig& auth) = 0;
};

// Key sources for jwks_url use the HTTPS client of gateway/upstream (system CAs or
// jwks_ca_file, SNI, verification always on); `loop` runs timers and completions.
std::unique_ptr<Authenticator> make_authenticator(boost::asio::io_context& context,
                                                  runtime::EventLoop& loop,
                                                  const config::AuthConfig& auth,
                                                  AuthenticatorOptions options);

// For tests: the same authenticator over key sources the test provides (one per jwt source,
// in config order; null for HS256-only sources).
std::unique_ptr<Authenticator> make_authenticator(runtime::EventLoop& loop,
                                                  const config::AuthConfig& auth,
                                                  std::vector<std::shared_ptr<KeySource>> sources,
                                                  AuthenticatorOptions options);

}  // namespace mcpgw::auth
