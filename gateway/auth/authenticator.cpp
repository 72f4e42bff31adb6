// The authenticator over given key sources (the production overload that builds the sources
// lives in authenticator_factory.cpp). The order of checks is the one authenticator.hpp lists.
//
// Verified tokens are cached by the SHA-256 of their text until their exp, in a bounded LRU,
// so a client that reuses its token pays for one signature check. Only valid tokens enter the
// cache (an attacker cannot fill it with garbage), and the principal is cached without the
// mTLS subject, which is added per request because one token may come over several connections.
//
// Time: exp/nbf/iat need wall-clock seconds, while the loop's clock is steady. The wall time is
// the system clock shifted by how far the loop's clock is ahead of the steady clock: zero for
// the production loop, the advanced time for a ManualEventLoop, so tests move token time with
// loop.advance().
#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <list>
#include <unordered_map>
#include <utility>

#include <spdlog/spdlog.h>

#include "gateway/auth/authenticator.hpp"

namespace mcpgw::auth {
namespace {

using Digest = std::array<unsigned char, 32>;

struct DigestHash {
  std::size_t operator()(const Digest& digest) const noexcept {
    std::size_t value = 0;
    std::memcpy(&value, digest.data(), sizeof(value));  // SHA-256 output is uniform already
    return value;
  }
};

std::optional<Digest> sha256(std::string_view text) {
  Digest digest{};
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  return digest;
}

// Verified principals by token digest, least recently used first out, bounded.
class TokenCache {
 public:
  explicit TokenCache(std::size_t capacity) : capacity_(capacity) {}

  std::shared_ptr<const policy::Principal> find(const Digest& digest, std::int64_t now) {
    const auto found = index_.find(digest);
    if (found == index_.end()) {
      return nullptr;
    }
    if (found->second->expires_at <= now) {
      order_.erase(found->second);
      index_.erase(found);
      return nullptr;
    }
    order_.splice(order_.begin(), order_, found->second);
    return found->second->principal;
  }

  void insert(const Digest& digest, std::shared_ptr<const policy::Principal> principal,
              std::int64_t expires_at) {
    if (capacity_ == 0) {
      return;
    }
    if (const auto found = index_.find(digest); found != index_.end()) {
      order_.erase(found->second);
      index_.erase(found);
    }
    while (index_.size() >= capacity_) {
      index_.erase(order_.back().digest);
      order_.pop_back();
    }
    order_.push_front(Entry{digest, std::move(principal), expires_at});
    index_.emplace(digest, order_.begin());
  }

 private:
  struct Entry {
    Digest digest;
    std::shared_ptr<const policy::Principal> principal;
    std::int64_t expires_at = 0;
  };
  std::size_t capacity_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<Digest, std::list<Entry>::iterator, DigestHash> index_;
};

// RFC 7230 quoted-string content; control characters dropped so a value can never end the
// header line.
std::string quoted_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      continue;
    }
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& value : values) {
    if (!out.empty()) {
      out.push_back(' ');
    }
    out += value;
  }
  return out;
}

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t';
}

// "Bearer <token>" (RFC 6750 section 2.1; the scheme is case-insensitive): the token, or
// nullopt for another scheme or a malformed value.
std::optional<std::string_view> bearer_token(std::string_view value) {
  while (!value.empty() && is_space(value.front())) {
    value.remove_prefix(1);
  }
  while (!value.empty() && is_space(value.back())) {
    value.remove_suffix(1);
  }
  constexpr std::string_view kScheme = "bearer";
  if (value.size() <= kScheme.size() || !is_space(value[kScheme.size()])) {
    return std::nullopt;
  }
  for (std::size_t index = 0; index < kScheme.size(); ++index) {
    const char c = value[index];
    const char lower = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kScheme[index]) {
      return std::nullopt;
    }
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && is_space(value.front())) {
    value.remove_prefix(1);
  }
  if (value.empty() || std::any_of(value.begin(), value.end(), is_space)) {
    return std::nullopt;
  }
  return value;
}

// The origin and path of an absolute URI, for the RFC 9728 well-known URL: the well-known
// segment goes between them, and a trailing slash of the path is dropped (section 3.1).
std::string metadata_url_for(std::string_view resource) {
  constexpr std::string_view kWellKnown = "/.well-known/oauth-protected-resource";
  const auto scheme_end = resource.find("://");
  if (scheme_end == std::string_view::npos) {
    return std::string(kWellKnown);
  }
  const auto authority_start = scheme_end + 3;
  const auto authority_end =
      std::min(resource.find_first_of("/?#", authority_start), resource.size());
  const auto path_end = std::min(resource.find_first_of("?#", authority_end), resource.size());
  auto path = resource.substr(authority_end, path_end - authority_end);
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  return std::string(resource.substr(0, authority_end)) + std::string(kWellKnown) +
         std::string(path);
}

JwtRules rules_for(const config::JwtSourceConfig& source) {
  JwtRules rules;
  rules.issuer = source.issuer;
  rules.audiences = source.audiences;
  for (const auto& name : source.algorithms) {
    if (const auto algorithm = parse_algorithm(name)) {
      rules.algorithms.push_back(*algorithm);
    } else {
      // The loader refuses such names; a hand-built config only loses the entry.
      spdlog::error("auth: issuer {}: unsupported algorithm '{}' ignored", source.issuer, name);
    }
  }
  rules.hs256_secret = source.hs256_secret;
  rules.leeway = source.leeway;
  return rules;
}

class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(runtime::EventLoop& loop, const config::AuthConfig& auth,
       std::vector<std::shared_ptr<KeySource>> sources, AuthenticatorOptions options)
      : loop_(loop),
        options_(std::move(options)),
        allow_anonymous_(auth.allow_anonymous),
        required_scopes_(auth.required_scopes),
        resource_(auth.resource),
        authorization_servers_(auth.authorization_servers),
        scopes_supported_(auth.scopes_supported.empty() ? auth.required_scopes
                                                        : auth.scopes_supported),
        api_keys_(auth.api_keys),
        anonymous_(std::make_shared<const policy::Principal>()),
        cache_(options_.token_cache_entries) {
    if (sources.size() != auth.jwt.size()) {
      spdlog::error("auth: {} key source(s) for {} [[auth.jwt]] source(s); the rest have no keys",
                    sources.size(), auth.jwt.size());
    }
    for (std::size_t index = 0; index < auth.jwt.size(); ++index) {
      Source source;
      source.rules = rules_for(auth.jwt[index]);
      if (index < sources.size()) {
        source.keys = std::move(sources[index]);
      }
      sources_.push_back(std::move(source));
    }
    if (authorization_servers_.empty()) {
      // Our issuers are the authorization servers clients should go to.
      for (const auto& source : auth.jwt) {
        authorization_servers_.push_back(source.issuer);
      }
    }
    set_api_keys(auth.api_keys);
    if (!resource_.empty()) {
      fixed_metadata_url_ = metadata_url_for(resource_);
    }
    open_ = auth.jwt.empty() && auth.api_keys.empty() && auth.allow_anonymous;
  }

  ~Core() { refuse_waiting("the authenticator was destroyed"); }

  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  bool open() const noexcept { return open_; }

  void start() {
    stopped_ = false;
    for (auto& source : sources_) {
      if (source.keys) {
        source.keys->start();
      }
    }
  }

  void stop() {
    stopped_ = true;
    for (auto& source : sources_) {
      if (source.keys) {
        source.keys->stop();
      }
      source.refreshing = false;  // a cancelled fetch may never call back
    }
    refuse_waiting("the authenticator stopped");
  }

  void reload(const config::AuthConfig& auth) {
    set_api_keys(auth.api_keys);
    for (auto& source : sources_) {
      if (source.keys) {
        source.keys->on_reload();
      }
    }
  }

  void authenticate(const Credentials& credentials, std::string_view host,
                    std::function<void(AuthResult)> done) {
    // 1. A token in the URL has leaked already, whatever else the request carries.
    if (credentials.token_in_query) {
      done(refusal(400, challenge(host, "invalid_request"),
                   "invalid_request: access token in the query string"));
      return;
    }
    // 2. Bearer token.
    if (credentials.authorization) {
      const auto token = bearer_token(*credentials.authorization);
      if (!token) {
        done(refusal(401, challenge(host, "invalid_token"),
                     "invalid_token: Authorization is not a Bearer token"));
        return;
      }
      verify_bearer(*token, credentials.cert_subject, host, std::move(done), true);
      return;
    }
    // 3. API key: a wrong one is refused, never downgraded to anonymous.
    if (credentials.api_key) {
      const auto name = api_keys_.match(*credentials.api_key);
      const auto principal = name ? key_principals_.find(*name) : key_principals_.end();
      if (principal == key_principals_.end()) {
        done(refusal(401, challenge(host), "invalid API key"));
        return;
      }
      done(accepted(with_cert_subject(principal->second, credentials.cert_subject)));
      return;
    }
    // 4. A verified client certificate.
    if (!credentials.cert_subject.empty()) {
      auto principal = std::make_shared<policy::Principal>();
      principal->authenticated = true;
      principal->cert_subject = std::string(credentials.cert_subject);
      done(accepted(std::move(principal)));
      return;
    }
    // 5. Nothing presented.
    if (allow_anonymous_) {
      done(accepted(anonymous_));
      return;
    }
    done(refusal(401, challenge(host), "missing credentials"));
  }

  nlohmann::json resource_metadata(std::string_view host) const {
    nlohmann::json document = nlohmann::json::object();
    document["resource"] = resource_for(host);
    if (!authorization_servers_.empty()) {
      document["authorization_servers"] = authorization_servers_;
    }
    if (!scopes_supported_.empty()) {
      document["scopes_supported"] = scopes_supported_;
    }
    document["bearer_methods_supported"] = nlohmann::json::array({"header"});
    return document;
  }

 private:
  struct Waiting {
    std::string token;
    std::string cert_subject;
    std::string host;
    std::function<void(AuthResult)> done;
  };
  struct Source {
    JwtRules rules;
    std::shared_ptr<KeySource> keys;  // null: HS256 only
    bool refreshing = false;
    std::vector<Waiting> waiting;
  };

  std::int64_t wall_now() const {
    const auto ahead = loop_.now() - runtime::Clock::now();
    const auto wall = std::chrono::system_clock::now() +
                      std::chrono::duration_cast<std::chrono::system_clock::duration>(ahead);
    return std::chrono::duration_cast<std::chrono::seconds>(wall.time_since_epoch()).count();
  }

  std::string resource_for(std::string_view host) const {
    if (!resource_.empty()) {
      return resource_;
    }
    return options_.scheme + "://" + std::string(host) + options_.path;
  }

  // RFC 6750 section 3 challenge with the RFC 9728 resource_metadata parameter.
  std::string challenge(std::string_view host, std::string_view error = {},
                        const std::vector<std::string>* scopes = nullptr) const {
    std::string value = "Bearer resource_metadata=";
    value += quoted_string(fixed_metadata_url_.empty() ? metadata_url_for(resource_for(host))
                                                       : fixed_metadata_url_);
    if (!error.empty()) {
      value += ", error=";
      value += quoted_string(error);
    }
    if (scopes != nullptr && !scopes->empty()) {
      value += ", scope=";
      value += quoted_string(joined(*scopes));
    }
    return value;
  }

  static AuthResult refusal(int status, std::string www_authenticate, std::string reason) {
    AuthResult result;
    result.http_status = status;
    result.www_authenticate = std::move(www_authenticate);
    result.reason = std::move(reason);
    return result;
  }

  static AuthResult accepted(std::shared_ptr<const policy::Principal> principal) {
    AuthResult result;
    result.ok = true;
    result.principal = std::move(principal);
    return result;
  }

  static std::shared_ptr<const policy::Principal> with_cert_subject(
      std::shared_ptr<const policy::Principal> principal, std::string_view cert_subject) {
    if (cert_subject.empty()) {
      return principal;
    }
    auto copy = std::make_shared<policy::Principal>(*principal);
    copy->cert_subject = std::string(cert_subject);
    return copy;
  }

  AuthResult token_refused(std::string_view host, const JwtError& error) const {
    // The message may quote the kid or issuer (sanitised by jwt.cpp), never the token.
    spdlog::debug("auth: bearer token refused: {}: {}", to_string(error.kind), error.message);
    return refusal(401, challenge(host, "invalid_token"),
                   std::string("invalid_token: ") + to_string(error.kind));
  }

  AuthResult token_accepted(const std::shared_ptr<const policy::Principal>& principal,
                            std::string_view cert_subject, std::string_view host) const {
    for (const auto& scope : required_scopes_) {
      if (std::find(principal->scopes.begin(), principal->scopes.end(), scope) ==
          principal->scopes.end()) {
        return refusal(403, challenge(host, "insufficient_scope", &required_scopes_),
                       "insufficient_scope: the token lacks scope " + scope);
      }
    }
    return accepted(with_cert_subject(principal, cert_subject));
  }

  void verify_bearer(std::string_view token, std::string_view cert_subject, std::string_view host,
                     std::function<void(AuthResult)> done, bool may_refresh) {
    const std::int64_t now = wall_now();
    std::optional<Digest> digest;
    if (options_.token_cache_entries > 0 && token.size() <= kMaxTokenBytes) {
      digest = sha256(token);
      if (digest) {
        if (auto principal = cache_.find(*digest, now)) {
          done(token_accepted(principal, cert_subject, host));
          return;
        }
      }
    }
    auto parsed = parse_jwt(token);
    if (!parsed) {
      done(token_refused(host, parsed.error()));
      return;
    }
    const auto source = std::find_if(sources_.begin(), sources_.end(), [&](const Source& entry) {
      return parsed->issuer && entry.rules.issuer == *parsed->issuer;
    });
    if (source == sources_.end()) {
      done(token_refused(host, JwtError{JwtError::Kind::wrong_issuer,
                                        "no [[auth.jwt]] source for the token's issuer"}));
      return;
    }
    const auto keys = source->keys ? source->keys->keys() : nullptr;
    auto verified = verify_jwt(*parsed, keys.get(), source->rules, now);
    if (!verified) {
      if (verified.error().kind == JwtError::Kind::unknown_key && may_refresh && source->keys) {
        wait_for_keys(static_cast<std::size_t>(source - sources_.begin()),
                      Waiting{std::string(token), std::string(cert_subject), std::string(host),
                              std::move(done)});
        return;
      }
      done(token_refused(host, verified.error()));
      return;
    }
    std::shared_ptr<const policy::Principal> principal =
        std::make_shared<const policy::Principal>(principal_from_claims(verified->claims));
    if (digest && verified->expires_at > now) {
      cache_.insert(*digest, principal, verified->expires_at);
    }
    done(token_accepted(principal, cert_subject, host));
  }

  // A kid the key set does not know: rotation, perhaps. Ask the source for fresh keys (it
  // bounds how often it really fetches) and verify once more when they are there.
  void wait_for_keys(std::size_t index, Waiting waiting) {
    auto& source = sources_[index];
    if (stopped_ || waiting_count_ >= options_.max_waiting_for_keys) {
      if (!stopped_) {
        spdlog::warn("auth: {} requests already wait for keys of issuer {}; token refused",
                     waiting_count_, source.rules.issuer);
      }
      waiting.done(token_refused(waiting.host, JwtError{JwtError::Kind::unknown_key,
                                                        "no key with this kid (not waiting)"}));
      return;
    }
    source.waiting.push_back(std::move(waiting));
    ++waiting_count_;
    if (source.refreshing) {
      return;
    }
    source.refreshing = true;
    std::weak_ptr<Core> weak = weak_from_this();
    source.keys->refresh([weak, index] {
      if (const auto core = weak.lock()) {
        core->keys_refreshed(index);
      }
    });
  }

  void keys_refreshed(std::size_t index) {
    const auto self = shared_from_this();  // a completion may drop the last owner
    auto& source = sources_[index];
    source.refreshing = false;
    auto waiting = std::move(source.waiting);
    source.waiting.clear();
    waiting_count_ -= waiting.size();
    for (auto& request : waiting) {
      verify_bearer(request.token, request.cert_subject, request.host, std::move(request.done),
                    false);
    }
  }

  // Every waiting request gets its answer exactly once, later on the loop.
  void refuse_waiting(const char* why) {
    for (auto& source : sources_) {
      for (auto& request : source.waiting) {
        AuthResult result =
            token_refused(request.host, JwtError{JwtError::Kind::unknown_key, std::string(why)});
        loop_.post([done = std::move(request.done), result = std::move(result)]() mutable {
          done(std::move(result));
        });
      }
      waiting_count_ -= source.waiting.size();
      source.waiting.clear();
    }
  }

  runtime::EventLoop& loop_;
  AuthenticatorOptions options_;
  void set_api_keys(const std::vector<config::ApiKeyConfig>& keys) {
    api_keys_ = ApiKeyTable(keys);
    key_principals_.clear();
    for (const auto& key : keys) {
      auto principal = std::make_shared<policy::Principal>();
      principal->authenticated = true;
      principal->api_key = key.name;
      key_principals_.emplace(key.name, std::move(principal));
    }
    open_ = sources_.empty() && keys.empty() && allow_anonymous_;
  }

  bool allow_anonymous_;
  std::vector<std::string> required_scopes_;
  std::string resource_;
  std::vector<std::string> authorization_servers_;
  std::vector<std::string> scopes_supported_;
  std::string fixed_metadata_url_;  // when the resource is configured
  ApiKeyTable api_keys_;
  std::unordered_map<std::string, std::shared_ptr<const policy::Principal>> key_principals_;
  std::shared_ptr<const policy::Principal> anonymous_;
  std::vector<Source> sources_;
  TokenCache cache_;
  std::size_t waiting_count_ = 0;
  bool stopped_ = false;
  bool open_ = false;
};

class SourceAuthenticator final : public Authenticator {
 public:
  explicit SourceAuthenticator(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  void authenticate(const Credentials& credentials, std::string_view host,
                    std::function<void(AuthResult)> done) override {
    core_->authenticate(credentials, host, std::move(done));
  }
  bool open() const noexcept override { return core_->open(); }
  nlohmann::json resource_metadata(std::string_view host) const override {
    return core_->resource_metadata(host);
  }
  void start() override { core_->start(); }
  void stop() override { core_->stop(); }
  void reload(const config::AuthConfig& auth) override { core_->reload(auth); }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

std::unique_ptr<Authenticator> make_authenticator(runtime::EventLoop& loop,
                                                  const config::AuthConfig& auth,
                                                  std::vector<std::shared_ptr<KeySource>> sources,
                                                  AuthenticatorOptions options) {
  return std::make_unique<SourceAuthenticator>(
      std::make_shared<Core>(loop, auth, std::move(sources), std::move(options)));
}

}  // namespace mcpgw::auth
