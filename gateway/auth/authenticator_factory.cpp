// The production authenticator: one key source per [[auth.jwt]] source, in config order (a file
// for jwks_file, an HTTPS fetcher for jwks_url, none for HS256-only sources), over the same
// authenticator the tests build with their own sources.
#include <memory>
#include <utility>
#include <vector>

#include "gateway/auth/authenticator.hpp"
#include "gateway/auth/file_key_source.hpp"
#include "gateway/auth/url_key_source.hpp"

namespace mcpgw::auth {

std::unique_ptr<Authenticator> make_authenticator(boost::asio::io_context& context,
                                                  runtime::EventLoop& loop,
                                                  const config::AuthConfig& auth,
                                                  AuthenticatorOptions options) {
  std::vector<std::shared_ptr<KeySource>> sources;
  sources.reserve(auth.jwt.size());
  for (const auto& source : auth.jwt) {
    if (!source.jwks_url.empty())
      sources.push_back(make_url_key_source(context, loop, source));
    else if (!source.jwks_file.empty())
      sources.push_back(make_file_key_source(loop, source));
    else
      sources.push_back(nullptr);
  }
  return make_authenticator(loop, auth, std::move(sources), std::move(options));
}

}  // namespace mcpgw::auth
