// The authenticator on a ManualEventLoop with key sources the test controls: the order of
// checks, the exact refusals (status, WWW-Authenticate, reason), key refresh on an unknown kid,
// the token cache, and RFC 9728 metadata.
#include "gateway/auth/authenticator.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "gateway/auth/file_key_source.hpp"
#include "gateway/runtime/manual_loop.hpp"
#include "tests/unit/gateway/auth/jwt_test_support.hpp"
#include "tests/unit/gateway/upstream/upstream_test_support.hpp"

namespace mcpgw::auth {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kIssuer = "https://idp.test";
constexpr const char* kHsIssuer = "https://hs.test";
constexpr const char* kHsSecret = "a configured HS256 secret, 32+ bytes";
constexpr const char* kApiKey = "ci-key-0123456789abcdef";
constexpr const char* kHost = "gw.example:8080";
constexpr const char* kChallenge =
    "Bearer resource_metadata=\"http://gw.example:8080/.well-known/oauth-protected-resource/mcp\"";

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr), 1);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned int index = 0; index < length; ++index) {
    out.push_back(kDigits[digest[index] >> 4]);
    out.push_back(kDigits[digest[index] & 0x0f]);
  }
  return out;
}

std::shared_ptr<const KeySet> key_set(std::initializer_list<nlohmann::json> jwks) {
  auto parsed = parse_jwks(test::jwks_of(jwks).dump());
  EXPECT_TRUE(parsed.has_value());
  return parsed ? *parsed : nullptr;
}

// A key source whose fetches finish when the test says so.
class FakeKeySource final : public KeySource {
 public:
  FakeKeySource(runtime::EventLoop& loop, std::shared_ptr<const KeySet> keys)
      : loop_(loop), keys_(std::move(keys)) {}
  std::shared_ptr<const KeySet> keys() const override { return keys_; }
  void refresh(std::function<void()> done) override {
    ++refreshes;
    pending_.push_back(std::move(done));
  }
  void start() override { ++starts; }
  void stop() override { ++stops; }
  // The fetch finished with `next` (null: it failed and the old keys stay).
  void finish_fetch(std::shared_ptr<const KeySet> next) {
    if (next) {
      keys_ = std::move(next);
    }
    for (auto& done : pending_) {
      loop_.post(std::move(done));
    }
    pending_.clear();
  }
  int refreshes = 0;
  int starts = 0;
  int stops = 0;

 private:
  runtime::EventLoop& loop_;
  std::shared_ptr<const KeySet> keys_;
  std::vector<std::function<void()>> pending_;
};

// One request's answer; counts calls so "exactly once" is checked.
struct Answer {
  int calls = 0;
  AuthResult result;
  std::function<void(AuthResult)> callback() {
    return [this](AuthResult value) {
      ++calls;
      result = std::move(value);
    };
  }
};

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest() {
    auth_.api_keys.push_back(config::ApiKeyConfig{"ci", sha256_hex(kApiKey), {}});
    config::JwtSourceConfig idp;
    idp.issuer = kIssuer;
    idp.audiences = {"mcpgw"};
    idp.jwks_file = "(test)";
    auth_.jwt.push_back(idp);
    config::JwtSourceConfig hs;
    hs.issuer = kHsIssuer;
    hs.audiences = {"mcpgw"};
    hs.algorithms = {"HS256"};
    hs.hs256_secret = kHsSecret;
    auth_.jwt.push_back(hs);
  }

  Authenticator& make(AuthenticatorOptions options = {}) {
    authenticator_ = make_authenticator(loop_, auth_, {source_, nullptr}, std::move(options));
    authenticator_->start();
    return *authenticator_;
  }

  Answer ask(const Credentials& credentials, std::string_view host = kHost) {
    Answer answer;
    authenticator_->authenticate(credentials, host, answer.callback());
    return answer;
  }

  // Answers that may arrive later (key refresh) live on the heap.
  std::shared_ptr<Answer> ask_later(const Credentials& credentials) {
    auto answer = std::make_shared<Answer>();
    authenticator_->authenticate(credentials, kHost, answer->callback());
    return answer;
  }

  static Credentials bearer(const std::string& header) {
    Credentials credentials;
    credentials.authorization = header;
    return credentials;
  }

  std::string token(std::string_view kid = "a", const test::TestKey* key = nullptr,
                    nlohmann::json claims = nullptr) const {
    if (claims.is_null()) {
      claims = test::claims_at(now_);
    }
    return "Bearer " +
           test::signed_token("ES256", key != nullptr ? *key : test::keys().p256, kid, claims);
  }

  const test::TestKeys& keys_ = test::keys();  // generated before the loop's clock starts
  runtime::ManualEventLoop loop_;
  std::int64_t now_ = test::unix_now();
  config::AuthConfig auth_;
  std::shared_ptr<FakeKeySource> source_ =
      std::make_shared<FakeKeySource>(loop_, key_set({test::public_jwk(keys_.p256, "a")}));
  std::unique_ptr<Authenticator> authenticator_;
};

TEST_F(AuthenticatorTest, ValidBearerTokenGivesItsPrincipal) {
  make();
  EXPECT_EQ(source_->starts, 1);
  auto claims = test::claims_at(now_);
  claims["scope"] = "mcp:read mcp:call";
  claims["groups"] = {"devs"};
  const auto header = token("a", nullptr, claims);
  const auto answer = ask(bearer(header));
  EXPECT_EQ(answer.calls, 1);  // at once, not on the loop
  ASSERT_TRUE(answer.result.ok) << answer.result.reason;
  const auto& principal = *answer.result.principal;
  EXPECT_TRUE(principal.authenticated);
  EXPECT_EQ(principal.subject, "alice");
  EXPECT_EQ(principal.scopes, (std::vector<std::string>{"mcp:read", "mcp:call"}));
  EXPECT_EQ(principal.claims["groups"], nlohmann::json::array({"devs"}));
  EXPECT_EQ(principal_key(principal), "jwt:https://idp.test alice");
  // The scheme is case-insensitive and surrounding blanks are tolerated.
  const auto raw = header.substr(7);
  for (const std::string& variant : {"bearer " + raw, "BEARER   " + raw, " Bearer " + raw + " "}) {
    EXPECT_TRUE(ask(bearer(variant)).result.ok) << variant.substr(0, 10);
  }
}

TEST_F(AuthenticatorTest, TokenInTheQueryIs400EvenWithValidCredentials) {
  auth_.allow_anonymous = true;
  make();
  const auto header = token();
  Credentials credentials = bearer(header);
  credentials.token_in_query = true;
  credentials.api_key = kApiKey;
  const auto answer = ask(credentials);
  EXPECT_EQ(answer.calls, 1);
  EXPECT_FALSE(answer.result.ok);
  EXPECT_EQ(answer.result.http_status, 400);
  EXPECT_EQ(answer.result.www_authenticate,
            std::string(kChallenge) + ", error=\"invalid_request\"");
  EXPECT_EQ(answer.result.principal, nullptr);
  Credentials only_query;
  only_query.token_in_query = true;
  EXPECT_EQ(ask(only_query).result.http_status, 400);
}

TEST_F(AuthenticatorTest, BadBearerIs401InvalidTokenEvenWithAnonymousAllowed) {
  auth_.allow_anonymous = true;
  make();
  auto expired = test::claims_at(now_);
  expired["exp"] = now_ - 3600;
  auto other_issuer = test::claims_at(now_);
  other_issuer["iss"] = "https://evil.test";
  const std::string none = "Bearer " + test::encode_part({{"alg", "none"}}) + "." +
                           test::encode_part(test::claims_at(now_)) + ".";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {token("a", &keys_.p256_other), "invalid_token: bad_signature"},
      {token("a", nullptr, expired), "invalid_token: expired"},
      {token("a", nullptr, other_issuer), "invalid_token: wrong_issuer"},
      {none, "invalid_token: algorithm"},
      {"Bearer not.a.jwt", "invalid_token: malformed"},
      {"Bearer " + std::string(kMaxTokenBytes + 1, 'a'), "invalid_token: malformed"},
      {"Bearer", "invalid_token: Authorization is not a Bearer token"},
      {"Bearer a b", "invalid_token: Authorization is not a Bearer token"},
      {"", "invalid_token: Authorization is not a Bearer token"},
      {"Basic dXNlcjpwYXNz", "invalid_token: Authorization is not a Bearer token"},
      {"Bearerx " + token().substr(7), "invalid_token: Authorization is not a Bearer token"},
  };
  for (const auto& [header, reason] : cases) {
    const auto answer = ask(bearer(header));
    EXPECT_EQ(answer.calls, 1);
    EXPECT_FALSE(answer.result.ok) << reason;
    EXPECT_EQ(answer.result.http_status, 401) << reason;
    EXPECT_EQ(answer.result.www_authenticate,
              std::string(kChallenge) + ", error=\"invalid_token\"");
    EXPECT_EQ(answer.result.reason, reason);
    if (header.size() > 12) {
      EXPECT_EQ(answer.result.reason.find(header.substr(7)), std::string::npos);
    }
  }
}

TEST_F(AuthenticatorTest, MissingScopeIs403InsufficientScope) {
  auth_.required_scopes = {"mcp:call", "mcp:read"};
  make();
  auto claims = test::claims_at(now_);
  claims["scope"] = "mcp:read";
  const auto answer = ask(bearer(token("a", nullptr, claims)));
  EXPECT_FALSE(answer.result.ok);
  EXPECT_EQ(answer.result.http_status, 403);
  EXPECT_EQ(
      answer.result.www_authenticate,
      std::string(kChallenge) + ", error=\"insufficient_scope\", scope=\"mcp:call mcp:read\"");
  EXPECT_EQ(answer.result.reason, "insufficient_scope: the token lacks scope mcp:call");
  // The cached principal is checked again on the next request.
  EXPECT_EQ(ask(bearer(token("a", nullptr, claims))).result.http_status, 403);

  claims["scope"] = "mcp:read other mcp:call";
  EXPECT_TRUE(ask(bearer(token("a", nullptr, claims))).result.ok);
  claims.erase("scope");
  claims["scp"] = {"mcp:call", "mcp:read"};
  EXPECT_TRUE(ask(bearer(token("a", nullptr, claims))).result.ok);
  // API keys and anonymous callers carry no token scopes: required_scopes is about tokens.
  Credentials key;
  key.api_key = kApiKey;
  EXPECT_TRUE(ask(key).result.ok);
}

TEST_F(AuthenticatorTest, ApiKeys) {
  auth_.allow_anonymous = true;
  make();
  Credentials right;
  right.api_key = kApiKey;
  const auto accepted = ask(right);
  ASSERT_TRUE(accepted.result.ok);
  EXPECT_TRUE(accepted.result.principal->authenticated);
  EXPECT_EQ(accepted.result.principal->api_key, "ci");
  EXPECT_EQ(principal_key(*accepted.result.principal), "key:ci");
  // One shared principal per key.
  EXPECT_EQ(ask(right).result.principal, accepted.result.principal);

  for (const std::string_view wrong : {"ci-key-0123456789abcdeF", "", "ci"}) {
    Credentials credentials;
    credentials.api_key = wrong;
    const auto refused = ask(credentials);
    EXPECT_EQ(refused.calls, 1);
    EXPECT_FALSE(refused.result.ok);  // never anonymous, although anonymous is allowed
    EXPECT_EQ(refused.result.http_status, 401);
    EXPECT_EQ(refused.result.www_authenticate, kChallenge);
    EXPECT_EQ(refused.result.reason, "invalid API key");
  }
}

TEST_F(AuthenticatorTest, BearerIsCheckedBeforeTheApiKey) {
  make();
  const auto valid = token();
  Credentials valid_token_wrong_key = bearer(valid);
  valid_token_wrong_key.api_key = "wrong";
  const auto first = ask(valid_token_wrong_key);
  ASSERT_TRUE(first.result.ok);
  EXPECT_EQ(first.result.principal->subject, "alice");
  EXPECT_TRUE(first.result.principal->api_key.empty());

  const auto forged = token("a", &keys_.p256_other);
  Credentials bad_token_right_key = bearer(forged);
  bad_token_right_key.api_key = kApiKey;
  EXPECT_EQ(ask(bad_token_right_key).result.http_status, 401);
}

TEST_F(AuthenticatorTest, ClientCertificateSubject) {
  make();
  Credentials cert;
  cert.cert_subject = "CN=client,O=Example";
  const auto alone = ask(cert);
  ASSERT_TRUE(alone.result.ok);
  EXPECT_TRUE(alone.result.principal->authenticated);
  EXPECT_EQ(alone.result.principal->cert_subject, "CN=client,O=Example");
  EXPECT_EQ(principal_key(*alone.result.principal), "cert:CN=client,O=Example");

  Credentials key = cert;
  key.api_key = kApiKey;
  const auto with_key = ask(key);
  ASSERT_TRUE(with_key.result.ok);
  EXPECT_EQ(with_key.result.principal->api_key, "ci");
  EXPECT_EQ(with_key.result.principal->cert_subject, "CN=client,O=Example");

  const auto header = token();
  Credentials jwt = bearer(header);
  jwt.cert_subject = "CN=client,O=Example";
  const auto with_token = ask(jwt);
  ASSERT_TRUE(with_token.result.ok);
  EXPECT_EQ(with_token.result.principal->subject, "alice");
  EXPECT_EQ(with_token.result.principal->cert_subject, "CN=client,O=Example");

  // A wrong API key is not rescued by the certificate.
  key.api_key = "wrong";
  EXPECT_EQ(ask(key).result.http_status, 401);
}

TEST_F(AuthenticatorTest, AnonymousOnlyWhenAllowed) {
  make();
  const auto refused = ask(Credentials{});
  EXPECT_EQ(refused.calls, 1);
  EXPECT_FALSE(refused.result.ok);
  EXPECT_EQ(refused.result.http_status, 401);
  EXPECT_EQ(refused.result.www_authenticate, kChallenge);  // no error code: nothing was sent
  EXPECT_EQ(refused.result.reason, "missing credentials");
  EXPECT_FALSE(authenticator_->open());

  auth_.allow_anonymous = true;
  make();
  const auto allowed = ask(Credentials{});
  ASSERT_TRUE(allowed.result.ok);
  EXPECT_FALSE(allowed.result.principal->authenticated);
  EXPECT_EQ(principal_key(*allowed.result.principal), "anonymous");
  EXPECT_FALSE(authenticator_->open());  // sources and keys configured: credentials count

  config::AuthConfig open_config;
  open_config.allow_anonymous = true;
  const auto open = make_authenticator(loop_, open_config, {}, {});
  EXPECT_TRUE(open->open());
  open_config.allow_anonymous = false;
  EXPECT_FALSE(make_authenticator(loop_, open_config, {}, {})->open());
}

TEST_F(AuthenticatorTest, Hs256SourceWithoutKeySource) {
  make();
  auto claims = test::claims_at(now_, kHsIssuer);
  const auto answer = ask(bearer("Bearer " + test::hs256_token(kHsSecret, claims)));
  ASSERT_TRUE(answer.result.ok) << answer.result.reason;
  EXPECT_EQ(principal_key(*answer.result.principal), "jwt:https://hs.test alice");
  // An asymmetric token naming the HS256 issuer: that source allows HS256 only.
  EXPECT_EQ(
      ask(bearer("Bearer " + test::signed_token("ES256", keys_.p256, "a", claims))).result.reason,
      "invalid_token: algorithm");
  // The HS256 issuer's secret cannot sign for the other issuer.
  EXPECT_EQ(
      ask(bearer("Bearer " + test::hs256_token(kHsSecret, test::claims_at(now_)))).result.reason,
      "invalid_token: algorithm");
}

TEST_F(AuthenticatorTest, UnknownKidRefreshesTheKeysThenSucceeds) {
  make();
  const auto new_token =
      "Bearer " + test::signed_token("EdDSA", keys_.ed25519, "b", test::claims_at(now_));
  const auto first = ask_later(bearer(new_token));
  const auto second = ask_later(bearer(new_token));
  EXPECT_EQ(first->calls, 0);
  EXPECT_EQ(second->calls, 0);
  EXPECT_EQ(source_->refreshes, 1);  // one fetch for every waiting request
  // Tokens with known keys are not held up.
  EXPECT_TRUE(ask(bearer(token())).result.ok);

  source_->finish_fetch(
      key_set({test::public_jwk(keys_.p256, "a"), test::public_jwk(keys_.ed25519, "b")}));
  loop_.run_ready();
  EXPECT_EQ(first->calls, 1);
  EXPECT_EQ(second->calls, 1);
  ASSERT_TRUE(first->result.ok) << first->result.reason;
  ASSERT_TRUE(second->result.ok) << second->result.reason;
  EXPECT_EQ(first->result.principal->subject, "alice");
  // Now known: answered at once.
  EXPECT_TRUE(ask(bearer(new_token)).result.ok);
  EXPECT_EQ(source_->refreshes, 1);
}

TEST_F(AuthenticatorTest, KidStillUnknownAfterTheRefreshIs401) {
  make();
  const auto answer = ask_later(bearer(token("unknown")));
  EXPECT_EQ(answer->calls, 0);
  source_->finish_fetch(nullptr);  // the fetch failed, or brought the same keys
  loop_.run_ready();
  EXPECT_EQ(answer->calls, 1);
  EXPECT_EQ(answer->result.http_status, 401);
  EXPECT_EQ(answer->result.reason, "invalid_token: unknown_key");
  EXPECT_EQ(source_->refreshes, 1);  // verified once more, never a second fetch for it
  loop_.run_ready();
  EXPECT_EQ(answer->calls, 1);
}

TEST_F(AuthenticatorTest, RequestsWaitingForKeysAreBounded) {
  AuthenticatorOptions options;
  options.max_waiting_for_keys = 2;
  make(options);
  const auto first = ask_later(bearer(token("unknown")));
  const auto second = ask_later(bearer(token("unknown")));
  const auto third = ask_later(bearer(token("unknown")));
  EXPECT_EQ(first->calls, 0);
  EXPECT_EQ(second->calls, 0);
  EXPECT_EQ(third->calls, 1);
  EXPECT_EQ(third->result.reason, "invalid_token: unknown_key");
  source_->finish_fetch(key_set({test::public_jwk(keys_.p256, "unknown")}));
  loop_.run_ready();
  EXPECT_TRUE(first->result.ok);
  EXPECT_TRUE(second->result.ok);
  // The slots are free again.
  const auto fourth = ask_later(bearer(token("another")));
  EXPECT_EQ(fourth->calls, 0);
  EXPECT_EQ(source_->refreshes, 2);
}

TEST_F(AuthenticatorTest, StopAndDestructionAnswerWaitingRequests) {
  make();
  const auto stopped = ask_later(bearer(token("unknown")));
  authenticator_->stop();
  EXPECT_EQ(source_->stops, 1);
  loop_.run_ready();
  EXPECT_EQ(stopped->calls, 1);
  EXPECT_EQ(stopped->result.http_status, 401);

  make();
  const auto destroyed = ask_later(bearer(token("unknown")));
  authenticator_.reset();
  loop_.run_ready();
  EXPECT_EQ(destroyed->calls, 1);
  EXPECT_EQ(destroyed->result.http_status, 401);
  // The fetch finishing later finds nobody and answers nobody twice.
  source_->finish_fetch(key_set({test::public_jwk(keys_.p256, "unknown")}));
  loop_.run_ready();
  EXPECT_EQ(stopped->calls, 1);
  EXPECT_EQ(destroyed->calls, 1);
}

TEST_F(AuthenticatorTest, CacheHitReturnsTheSamePrincipal) {
  make();
  const auto header = token();
  const auto first = ask(bearer(header));
  const auto second = ask(bearer(header));
  ASSERT_TRUE(first.result.ok);
  ASSERT_TRUE(second.result.ok);
  EXPECT_EQ(first.result.principal, second.result.principal);
  // Another token of the same caller is verified on its own.
  auto claims = test::claims_at(now_);
  claims["jti"] = "other";
  const auto other = ask(bearer(token("a", nullptr, claims)));
  ASSERT_TRUE(other.result.ok);
  EXPECT_NE(other.result.principal, first.result.principal);

  AuthenticatorOptions no_cache;
  no_cache.token_cache_entries = 0;
  make(no_cache);
  EXPECT_NE(ask(bearer(header)).result.principal, ask(bearer(header)).result.principal);
}

TEST_F(AuthenticatorTest, ExpiredCachedTokenIsRefused) {
  make();
  auto claims = test::claims_at(now_);
  claims["exp"] = now_ + 120;
  const auto header = token("a", nullptr, claims);
  const auto first = ask(bearer(header));
  ASSERT_TRUE(first.result.ok);
  EXPECT_EQ(ask(bearer(header)).result.principal, first.result.principal);
  // Past exp the cache entry is gone; within the leeway the token still verifies.
  loop_.advance(seconds(121));
  const auto in_leeway = ask(bearer(header));
  ASSERT_TRUE(in_leeway.result.ok);
  EXPECT_NE(in_leeway.result.principal, first.result.principal);
  loop_.advance(seconds(60));
  const auto expired = ask(bearer(header));
  EXPECT_FALSE(expired.result.ok);
  EXPECT_EQ(expired.result.reason, "invalid_token: expired");
}

TEST_F(AuthenticatorTest, TokenCacheIsBounded) {
  AuthenticatorOptions options;
  options.token_cache_entries = 2;
  make(options);
  std::vector<std::string> headers;
  std::vector<std::shared_ptr<const policy::Principal>> principals;
  for (const char* subject : {"a", "b", "c"}) {
    headers.push_back(token("a", nullptr, test::claims_at(now_, kIssuer, "mcpgw", subject)));
    principals.push_back(ask(bearer(headers.back())).result.principal);
  }
  EXPECT_EQ(ask(bearer(headers[2])).result.principal, principals[2]);
  EXPECT_EQ(ask(bearer(headers[1])).result.principal, principals[1]);
  // The least recently used entry went out.
  const auto evicted = ask(bearer(headers[0]));
  ASSERT_TRUE(evicted.result.ok);
  EXPECT_NE(evicted.result.principal, principals[0]);
}

TEST_F(AuthenticatorTest, CachedPrincipalsNeverCarryAnotherRequestsCertificate) {
  make();
  const auto header = token();
  Credentials with_cert = bearer(header);
  with_cert.cert_subject = "CN=first";
  EXPECT_EQ(ask(with_cert).result.principal->cert_subject, "CN=first");
  EXPECT_EQ(ask(bearer(header)).result.principal->cert_subject, "");
  with_cert.cert_subject = "CN=second";
  EXPECT_EQ(ask(with_cert).result.principal->cert_subject, "CN=second");
}

TEST_F(AuthenticatorTest, FileKeySourceRotation) {
  // The whole path with the jwks_file source: a token signed by a new key is accepted once the
  // file has it, after one re-read.
  const auto path = std::string(::testing::TempDir()) + "mcpgw-auth-rotation.json";
  const auto write = [&](const nlohmann::json& jwks) {
    std::ofstream out(path, std::ios::trunc);
    out << jwks.dump();
  };
  write(test::jwks_of({test::public_jwk(keys_.p256, "a")}));
  config::JwtSourceConfig idp = auth_.jwt[0];
  idp.jwks_file = path;
  idp.jwks_min_refresh = milliseconds(30000);
  auto file_source = make_file_key_source(loop_, idp);
  auth_.jwt = {idp};
  authenticator_ = make_authenticator(loop_, auth_, {file_source}, {});
  authenticator_->start();
  EXPECT_TRUE(ask(bearer(token())).result.ok);

  write(test::jwks_of({test::public_jwk(keys_.p256_other, "b")}));
  loop_.advance(milliseconds(30000));
  const auto rotated = ask_later(bearer(token("b", &keys_.p256_other)));
  loop_.run_ready();
  ASSERT_EQ(rotated->calls, 1);
  EXPECT_TRUE(rotated->result.ok) << rotated->result.reason;
  // The old key is gone with the file; its tokens verified before stay cached until exp.
  const auto old_key = token("a", nullptr, test::claims_at(now_, kIssuer, "mcpgw", "new"));
  const auto refused = ask_later(bearer(old_key));
  loop_.run_ready();
  EXPECT_EQ(refused->result.reason, "invalid_token: unknown_key");
  std::filesystem::remove(path);
}

TEST_F(AuthenticatorTest, ReloadReplacesApiKeysAndRereadsKeyFiles) {
  const auto path = std::string(::testing::TempDir()) + "mcpgw-auth-reload.json";
  const auto write = [&](const nlohmann::json& jwks) {
    std::ofstream out(path, std::ios::trunc);
    out << jwks.dump();
  };
  write(test::jwks_of({test::public_jwk(keys_.p256, "a")}));
  config::JwtSourceConfig idp = auth_.jwt[0];
  idp.jwks_file = path;
  auto file_source = make_file_key_source(loop_, idp);
  auth_.jwt = {idp};
  authenticator_ = make_authenticator(loop_, auth_, {file_source}, {});
  authenticator_->start();
  Credentials key;
  key.api_key = kApiKey;
  ASSERT_TRUE(ask(key).result.ok);

  // The key is revoked and the key set rotated; no time passes (jwks_min_refresh is irrelevant).
  write(test::jwks_of({test::public_jwk(keys_.p256_other, "b")}));
  auto revoked = auth_;
  revoked.api_keys.clear();
  authenticator_->reload(revoked);
  const auto refused = ask(key);
  EXPECT_FALSE(refused.result.ok);
  EXPECT_EQ(refused.result.http_status, 401);
  EXPECT_TRUE(ask(bearer(token("b", &keys_.p256_other))).result.ok);
  std::filesystem::remove(path);
}

TEST_F(AuthenticatorTest, ResourceMetadataDerivedFromTheRequest) {
  auth_.required_scopes = {"mcp:read"};
  make();
  EXPECT_EQ(authenticator_->resource_metadata(kHost), nlohmann::json::parse(R"({
              "resource": "http://gw.example:8080/mcp",
              "authorization_servers": ["https://idp.test", "https://hs.test"],
              "scopes_supported": ["mcp:read"],
              "bearer_methods_supported": ["header"]
            })"));
  AuthenticatorOptions options;
  options.scheme = "https";
  options.path = "/v1/mcp";
  make(options);
  EXPECT_EQ(authenticator_->resource_metadata("[::1]:8443")["resource"],
            "https://[::1]:8443/v1/mcp");
  EXPECT_EQ(ask(Credentials{}, "[::1]:8443").result.www_authenticate,
            "Bearer resource_metadata=\"https://[::1]:8443/.well-known/oauth-protected-resource/"
            "v1/mcp\"");
}

TEST_F(AuthenticatorTest, ResourceMetadataFromTheConfig) {
  auth_.resource = "https://api.example.com/tools/mcp/";
  auth_.authorization_servers = {"https://as.example.com"};
  auth_.scopes_supported = {"mcp:read", "mcp:write"};
  auth_.required_scopes = {"mcp:read"};
  make();
  EXPECT_EQ(authenticator_->resource_metadata("ignored.example"), nlohmann::json::parse(R"({
              "resource": "https://api.example.com/tools/mcp/",
              "authorization_servers": ["https://as.example.com"],
              "scopes_supported": ["mcp:read", "mcp:write"],
              "bearer_methods_supported": ["header"]
            })"));
  EXPECT_EQ(ask(Credentials{}).result.www_authenticate,
            "Bearer resource_metadata=\"https://api.example.com/.well-known/"
            "oauth-protected-resource/tools/mcp\"");

  auth_.resource = "https://api.example.com";
  auth_.jwt.clear();
  auth_.authorization_servers.clear();
  auth_.scopes_supported.clear();
  auth_.required_scopes.clear();
  authenticator_ = make_authenticator(loop_, auth_, {}, {});
  EXPECT_EQ(authenticator_->resource_metadata(kHost), nlohmann::json::parse(R"({
              "resource": "https://api.example.com",
              "bearer_methods_supported": ["header"]
            })"));
  EXPECT_EQ(ask(Credentials{}).result.www_authenticate,
            "Bearer resource_metadata=\"https://api.example.com/.well-known/"
            "oauth-protected-resource\"");
  // Quotes and line breaks in a configured value cannot break out of the header.
  auth_.resource = "https://api.example.com/a\"b\r\nX: y";
  authenticator_ = make_authenticator(loop_, auth_, {}, {});
  const auto challenge = ask(Credentials{}).result.www_authenticate;
  EXPECT_EQ(challenge.find('\r'), std::string::npos);
  EXPECT_EQ(challenge.find('\n'), std::string::npos);
  EXPECT_NE(challenge.find("a\\\"b"), std::string::npos);
}

TEST_F(AuthenticatorTest, CredentialsNeverReachTheLog) {
  mcpgw::test::LogCapture capture;
  auth_.allow_anonymous = true;
  make();
  const auto good = token();
  const auto forged = token("a", &keys_.p256_other);
  const auto unknown = token("unknown");
  ask(bearer(good));
  ask(bearer(forged));
  ask(bearer("Bearer garbage.token.here"));
  const auto waiting = ask_later(bearer(unknown));
  source_->finish_fetch(nullptr);
  loop_.run_ready();
  Credentials key;
  key.api_key = "wrong-key-secret-value";
  ask(key);
  const auto text = capture.all();
  EXPECT_TRUE(capture.contains("bad_signature"));  // the refusals are logged...
  for (const auto& header : {good, forged, unknown}) {
    const auto raw = header.substr(7);
    EXPECT_EQ(text.find(raw.substr(raw.rfind('.') + 1)), std::string::npos);  // signature
    EXPECT_EQ(text.find(raw.substr(0, raw.find('.'))), std::string::npos);    // header part
  }
  EXPECT_EQ(text.find("garbage.token"), std::string::npos);
  EXPECT_EQ(text.find("wrong-key-secret-value"), std::string::npos);
}

}  // namespace
}  // namespace mcpgw::auth
