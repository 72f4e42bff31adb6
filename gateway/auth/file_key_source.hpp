// The KeySource of an [[auth.jwt]] source with `jwks_file`: the JWKS is read at start(), on
// reload() (SIGHUP), and when a token names an unknown kid (refresh(), at most once per
// jwks_min_refresh, so such tokens cannot make the gateway re-read the file on every request).
// A read that fails (missing file, oversize, not a JWKS, no usable key) keeps the keys in use.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "gateway/auth/authenticator.hpp"
#include "gateway/config/config.hpp"
#include "gateway/runtime/event_loop.hpp"

namespace mcpgw::auth {

class FileKeySource final : public KeySource {
 public:
  // `issuer` only labels log lines.
  FileKeySource(runtime::EventLoop& loop, std::string path, std::chrono::milliseconds min_refresh,
                std::string issuer);

  std::shared_ptr<const KeySet> keys() const override { return keys_; }
  void refresh(std::function<void()> done) override;
  void start() override;
  void stop() override;
  void on_reload() override { reload(); }

  // Reads the file now, whatever the time of the last read. True when a new key set is in use.
  bool reload();

 private:
  runtime::EventLoop& loop_;
  std::string path_;
  std::chrono::milliseconds min_refresh_;
  std::string issuer_;
  std::shared_ptr<const KeySet> keys_;
  std::optional<runtime::Clock::time_point> last_read_;
};

std::shared_ptr<FileKeySource> make_file_key_source(runtime::EventLoop& loop,
                                                    const config::JwtSourceConfig& source);

}  // namespace mcpgw::auth
