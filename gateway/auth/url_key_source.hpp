// The KeySource of an [[auth.jwt]] source with `jwks_url`: the JWKS is fetched with an HTTPS GET
// through the HTTP client of gateway/upstream (system CAs or jwks_ca_file, SNI, certificate and
// host name verification always on; a plain http:// URL is refused), and cached.
//
// When it is fetched:
// - at start();
// - every jwks_refresh after a successful fetch, or sooner when the response's Cache-Control
//   max-age says so (never sooner than jwks_min_refresh, never later than jwks_refresh);
// - after a failed fetch, again after a backoff: first_retry, doubled per failure in a row, at
//   most jwks_refresh;
// - on refresh() (a token named an unknown kid): at most once per jwks_min_refresh, counted from
//   the start of the last fetch of any kind; callers that come while a fetch runs share it.
//
// A fetch succeeds with status 200, a JSON content type (application/json,
// application/jwk-set+json or any +json), a body of at most kMaxJwksBytes within fetch_timeout,
// and a body parse_jwks() accepts. Anything else is a warning in the log (URL and reason, never
// the body), and the last good key set stays in use. Until the first fetch succeeded, keys() is
// null: the authenticator then refuses every token of this issuer with 401 invalid_token.
//
// stop() cancels the fetch in progress and every timer; pending refresh() callbacks are dropped,
// never called (the authenticator answers its waiting requests itself), and nothing of this
// source runs afterwards. start() after stop() starts over, keeping the last good keys.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "gateway/auth/authenticator.hpp"
#include "gateway/config/config.hpp"
#include "gateway/runtime/event_loop.hpp"

namespace boost::asio {
class io_context;
}

namespace mcpgw::auth {

struct UrlKeySourceOptions {
  std::chrono::milliseconds connect_timeout{10 * 1000};  // TCP connect and TLS handshake
  std::chrono::milliseconds fetch_timeout{10 * 1000};    // the whole fetch, body included
  std::chrono::milliseconds first_retry{1000};           // backoff after the first failure
  std::size_t max_waiting = 4096;  // refresh() callbacks held for one fetch; more run at once
};

class UrlKeySource final : public KeySource {
 public:
  // `context` runs the network I/O, `loop` the timers and the refresh() callbacks (both on the
  // one gateway thread).
  UrlKeySource(boost::asio::io_context& context, runtime::EventLoop& loop,
               const config::JwtSourceConfig& source, UrlKeySourceOptions options = {});
  ~UrlKeySource() override;
  UrlKeySource(const UrlKeySource&) = delete;
  UrlKeySource& operator=(const UrlKeySource&) = delete;

  std::shared_ptr<const KeySet> keys() const override;
  void refresh(std::function<void()> done) override;
  void start() override;
  void stop() override;

  // Fetches started so far (for logs and tests).
  std::uint64_t fetches() const noexcept;
  // True while a fetch runs.
  bool fetching() const noexcept;

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

std::shared_ptr<UrlKeySource> make_url_key_source(boost::asio::io_context& context,
                                                  runtime::EventLoop& loop,
                                                  const config::JwtSourceConfig& source,
                                                  UrlKeySourceOptions options = {});

// The max-age directive of a Cache-Control value ("public, max-age=300" -> 300 s); nullopt when
// absent or malformed. Values beyond a year are clamped to a year.
std::optional<std::chrono::seconds> cache_control_max_age(std::string_view cache_control);

// The delay until the next scheduled fetch after a success: jwks_refresh, or the response's
// max-age when it is shorter, but never below jwks_min_refresh.
std::chrono::milliseconds next_refresh_delay(std::optional<std::chrono::seconds> max_age,
                                             std::chrono::milliseconds refresh,
                                             std::chrono::milliseconds min_refresh);

// The delay after `failures` failed fetches in a row (1 or more): first_retry doubled per
// failure, at most `refresh`.
std::chrono::milliseconds retry_delay(std::uint32_t failures, std::chrono::milliseconds first_retry,
                                      std::chrono::milliseconds refresh);

// Whether a response media type (lower case, without parameters) may carry a JWKS.
bool is_jwks_media_type(std::string_view media_type);

}  // namespace mcpgw::auth
