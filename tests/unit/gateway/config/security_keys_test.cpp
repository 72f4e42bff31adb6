// The configuration keys of serve's security (issue 4): [server] hard limits, [server.tls],
// [[auth.jwt]] key-set fetching, [auth] scopes and OAuth metadata, [audit], the compiled rate
// limits, and the warnings about risky settings. Each key: a valid value reaching the Config,
// a wrong type, an out-of-range value, each with its rule id and exact position.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../config_test_support.hpp"
#include "gateway/config/config.hpp"
#include "gateway/config/values.hpp"

namespace mcpgw::config {
namespace {

using test_support::dump;
using test_support::HasOnly;
using test_support::TempDir;
using test_support::test_options;
using test_support::with_rule;

constexpr const char* kCertificatePem =
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZ\n-----END CERTIFICATE-----\n";
constexpr const char* kPrivateKeyPem =
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n";
constexpr const char* kEcPrivateKeyPem =
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n-----END EC PRIVATE KEY-----\n";
constexpr const char* kApiKey =
    "[[auth.api_key]]\n"
    "name = \"ci\"\n"
    "sha256 = \"6f14fb2bfeaaef754016f93290bc77b96754504257a3b27c9bf45b038deecdf1\"\n";

class SecurityKeys : public ::testing::Test {
 protected:
  LoadResult load(const std::string& text, const LoadOptions& options = test_options()) {
    path_ = dir_.write("gateway.toml", text);
    return load_config(path_, options);
  }
  LoadResult load_checked(const std::string& text) { return load(text, test_options({}, true)); }
  std::string file(const std::string& name) const { return (dir_.path() / name).string(); }

  TempDir dir_;
  std::string path_;
};

bool mentions(const Diagnostics& diagnostics, const std::string& rule, const std::string& text) {
  for (const auto& d : with_rule(diagnostics, rule)) {
    if (d.message.find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// --- values --------------------------------------------------------------------------------

TEST(SecurityValues, LoopbackHosts) {
  for (const char* host : {"localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "::1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "example.com",
                           "localhost.example.com", "::2", "", "127.0.0.1.nip.io"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(SecurityValues, ScopeTokens) {
  for (const char* scope :
       {"mcp:read", "tools/call", "a", "https://api.example.com/x.read", "!#$"}) {
    EXPECT_TRUE(is_valid_scope_token(scope)) << scope;
  }
  for (const char* scope : {"", "a b", "a\"b", "a\\b", "tab\there", "\x7f", "caf\xc3\xa9"}) {
    EXPECT_FALSE(is_valid_scope_token(scope)) << scope;
  }
}

// --- [server] hard limits -------------------------------------------------------------------

TEST_F(SecurityKeys, ServerLimitDefaultsWhenAbsent) {
  const auto result = load("[server]\nlisten = \"127.0.0.1:8080\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  const ServerConfig defaults;
  const auto& server = result.config->server;
  EXPECT_EQ(server.max_header_bytes, defaults.max_header_bytes);
  EXPECT_EQ(server.max_connections, defaults.max_connections);
  EXPECT_EQ(server.max_sessions_per_principal, defaults.max_sessions_per_principal);
  EXPECT_EQ(server.header_timeout, defaults.header_timeout);
  EXPECT_EQ(server.body_timeout, defaults.body_timeout);
  EXPECT_EQ(server.idle_timeout, defaults.idle_timeout);
  EXPECT_EQ(server.write_timeout, defaults.write_timeout);
  EXPECT_EQ(server.max_rate_limit_buckets, defaults.max_rate_limit_buckets);
  EXPECT_FALSE(server.tls);
}

TEST_F(SecurityKeys, ServerLimitsReachTheConfig) {
  const auto result = load(
      "[server]\n"
      "max_header_bytes = 8192\n"
      "max_connections = 32\n"
      "max_sessions_per_principal = 0\n"
      "header_timeout = \"2s\"\n"
      "body_timeout = \"1m\"\n"
      "idle_timeout = \"750ms\"\n"
      "write_timeout = \"5s\"\n"
      "max_rate_limit_buckets = 500\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  const auto& server = result.config->server;
  EXPECT_EQ(server.max_header_bytes, 8192u);
  EXPECT_EQ(server.max_connections, 32u);
  EXPECT_EQ(server.max_sessions_per_principal, 0u);
  EXPECT_EQ(server.header_timeout, std::chrono::seconds(2));
  EXPECT_EQ(server.body_timeout, std::chrono::minutes(1));
  EXPECT_EQ(server.idle_timeout, std::chrono::milliseconds(750));
  EXPECT_EQ(server.write_timeout, std::chrono::seconds(5));
  EXPECT_EQ(server.max_rate_limit_buckets, 500u);
}

TEST_F(SecurityKeys, ServerLimitBoundsAreInclusive) {
  const auto low = load(
      "[server]\nmax_header_bytes = 1024\nmax_connections = 1\nmax_rate_limit_buckets = 1\n"
      "max_sessions_per_principal = 4294967295\n");
  ASSERT_TRUE(low.config) << dump(low.diagnostics);
  EXPECT_EQ(low.config->server.max_header_bytes, 1024u);
  EXPECT_EQ(low.config->server.max_sessions_per_principal, 4294967295u);
  const auto high = load(
      "[server]\nmax_header_bytes = 16777216\nmax_connections = 1048576\n"
      "max_rate_limit_buckets = 1073741824\n");
  ASSERT_TRUE(high.config) << dump(high.diagnostics);
  EXPECT_EQ(high.config->server.max_connections, 1048576u);
  EXPECT_EQ(high.config->server.max_rate_limit_buckets, 1073741824u);
}

TEST_F(SecurityKeys, ServerLimitsOutOfRange) {
  struct Case {
    std::string line;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"max_header_bytes = 1023",
       "'max_header_bytes': must be between 1024 and 16777216, found 1023"},
      {"max_header_bytes = 16777217",
       "'max_header_bytes': must be between 1024 and 16777216, found 16777217"},
      {"max_connections = 0", "'max_connections': must be between 1 and 1048576, found 0"},
      {"max_connections = 1048577",
       "'max_connections': must be between 1 and 1048576, found 1048577"},
      {"max_sessions_per_principal = -1",
       "'max_sessions_per_principal': must be between 0 and 4294967295, found -1"},
      {"max_sessions_per_principal = 4294967296",
       "'max_sessions_per_principal': must be between 0 and 4294967295, found 4294967296"},
      {"max_rate_limit_buckets = 0",
       "'max_rate_limit_buckets': must be between 1 and 1073741824, found 0"},
      {"max_rate_limit_buckets = 1073741825",
       "'max_rate_limit_buckets': must be between 1 and 1073741824, found 1073741825"},
  };
  for (const auto& c : cases) {
    const auto result = load("[server]\n" + c.line + "\n");
    EXPECT_FALSE(result.config) << c.line;
    const auto column = static_cast<std::uint32_t>(c.line.find('=') + 3);
    EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", path_, 2, column)) << c.line;
    ASSERT_EQ(result.diagnostics.items().size(), 1u) << dump(result.diagnostics);
    EXPECT_EQ(result.diagnostics.items()[0].message, c.message);
  }
}

TEST_F(SecurityKeys, ServerTimeoutsMustBePositiveDurations) {
  for (const char* key : {"header_timeout", "body_timeout", "idle_timeout", "write_timeout"}) {
    const std::string prefix = std::string(key) + " = ";
    const auto zero = load("[server]\n" + prefix + "\"0s\"\n");
    EXPECT_TRUE(HasOnly(zero.diagnostics, "invalid-duration", path_, 2,
                        static_cast<std::uint32_t>(prefix.size() + 1)))
        << key;
    EXPECT_TRUE(mentions(zero.diagnostics, "invalid-duration", "must be greater than zero"));
    const auto bad = load("[server]\n" + prefix + "\"10 s\"\n");
    EXPECT_TRUE(HasOnly(bad.diagnostics, "invalid-duration", path_, 2,
                        static_cast<std::uint32_t>(prefix.size() + 1)))
        << key;
    const auto wrong = load("[server]\n" + prefix + "10\n");
    EXPECT_TRUE(HasOnly(wrong.diagnostics, "wrong-type", path_, 2,
                        static_cast<std::uint32_t>(prefix.size() + 1)))
        << key;
    EXPECT_TRUE(mentions(wrong.diagnostics, "wrong-type", "expected a duration string"));
  }
}

TEST_F(SecurityKeys, ServerLimitsWrongTypes) {
  for (const char* key : {"max_header_bytes", "max_connections", "max_sessions_per_principal",
                          "max_rate_limit_buckets"}) {
    const auto result = load("[server]\n" + std::string(key) + " = \"64k\"\n");
    const auto column = static_cast<std::uint32_t>(std::string(key).size() + 4);
    EXPECT_TRUE(HasOnly(result.diagnostics, "wrong-type", path_, 2, column)) << key;
    EXPECT_TRUE(mentions(result.diagnostics, "wrong-type", "expected an integer")) << key;
  }
}

TEST_F(SecurityKeys, MisspelledServerLimitSuggestsTheKey) {
  const auto result = load("[server]\nheader_timout = \"5s\"\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "unknown-key", path_, 2, 1));
  EXPECT_TRUE(mentions(result.diagnostics, "unknown-key", "did you mean 'header_timeout'?"));
}

// --- [server.tls] ---------------------------------------------------------------------------

TEST_F(SecurityKeys, TlsWithPemFilesIsClean) {
  dir_.write("tls/server.pem", kCertificatePem);
  dir_.write("tls/server.key", kEcPrivateKeyPem);
  dir_.write("tls/clients.pem", std::string("# bundle\n") + kCertificatePem + kCertificatePem);
  const auto result = load_checked(
      "[server]\n"
      "listen = \"0.0.0.0:8443\"\n"
      "[server.tls]\n"
      "cert = \"tls/server.pem\"\n"
      "key = \"tls/server.key\"\n"
      "client_ca = \"tls/clients.pem\"\n"
      "require_client_cert = true\n"
      "min_version = \"1.3\"\n" +
      std::string(kApiKey));
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  const auto& tls = result.config->server.tls;
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->cert_file, file("tls/server.pem"));
  EXPECT_EQ(tls->key_file, file("tls/server.key"));
  EXPECT_EQ(tls->client_ca_file, file("tls/clients.pem"));
  EXPECT_TRUE(tls->require_client_cert);
  EXPECT_EQ(tls->min_version, "1.3");
}

TEST_F(SecurityKeys, TlsDefaults) {
  dir_.write("cert.pem", kCertificatePem);
  dir_.write("key.pem", kPrivateKeyPem);
  const auto result = load_checked("[server.tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  const auto& tls = result.config->server.tls;
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->client_ca_file, "");
  EXPECT_FALSE(tls->require_client_cert);
  EXPECT_EQ(tls->min_version, "1.2");
}

TEST_F(SecurityKeys, TlsNeedsCertificateAndKey) {
  const auto result = load("[server.tls]\nmin_version = \"1.2\"\n");
  const auto missing = with_rule(result.diagnostics, "missing-key");
  ASSERT_EQ(missing.size(), 2u) << dump(result.diagnostics);
  EXPECT_NE(missing[0].message.find("'cert'"), std::string::npos) << missing[0].message;
  EXPECT_NE(missing[1].message.find("'key'"), std::string::npos) << missing[1].message;
  EXPECT_EQ(missing[0].where.line, 1u);
}

TEST_F(SecurityKeys, TlsFilesMustExistAndBePem) {
  dir_.write("cert.der", std::string("\x30\x82\x01\x0a", 4));
  dir_.write("key.pem", kCertificatePem);  // a certificate where the key belongs
  dir_.write("ca.pem", kPrivateKeyPem);
  const auto result = load_checked(
      "[server.tls]\n"
      "cert = \"cert.der\"\n"
      "key = \"key.pem\"\n"
      "client_ca = \"ca.pem\"\n");
  const auto invalid = with_rule(result.diagnostics, "invalid-value");
  ASSERT_EQ(invalid.size(), 3u) << dump(result.diagnostics);
  EXPECT_EQ(invalid[0].where.line, 2u);
  EXPECT_EQ(invalid[0].where.column, 8u);
  EXPECT_EQ(invalid[0].message, "TLS certificate file '" + file("cert.der") +
                                    "' is not PEM: it has no '-----BEGIN CERTIFICATE-----' line");
  EXPECT_EQ(invalid[1].where.line, 3u);
  EXPECT_NE(invalid[1].message.find("'-----BEGIN PRIVATE KEY-----'"), std::string::npos);
  EXPECT_EQ(invalid[2].where.line, 4u);
  EXPECT_NE(invalid[2].message.find("client CA file"), std::string::npos);

  std::filesystem::create_directories(dir_.path() / "tls");
  const auto again =
      load_checked("[server.tls]\ncert = \"nope.pem\"\nkey = \"tls\"\nclient_ca = \"gone.pem\"\n");
  const auto files = with_rule(again.diagnostics, "missing-file");
  ASSERT_EQ(files.size(), 3u) << dump(again.diagnostics);
  EXPECT_NE(files[0].message.find("does not exist"), std::string::npos);
  EXPECT_NE(files[1].message.find("is a directory"), std::string::npos);
  EXPECT_EQ(files[2].where.line, 4u);
  EXPECT_TRUE(with_rule(again.diagnostics, "invalid-value").empty()) << dump(again.diagnostics);
  EXPECT_FALSE(again.config);

  // Without the existence check neither existence nor content is looked at.
  const auto unchecked = load("[server.tls]\ncert = \"cert.der\"\nkey = \"nope.pem\"\n");
  ASSERT_TRUE(unchecked.config) << dump(unchecked.diagnostics);
}

TEST_F(SecurityKeys, RequireClientCertNeedsClientCa) {
  const auto result =
      load("[server.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\nrequire_client_cert = true\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "missing-key", path_, 4, 23));
  EXPECT_TRUE(mentions(result.diagnostics, "missing-key", "needs 'client_ca'"));
  const auto off =
      load("[server.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\nrequire_client_cert = false\n");
  EXPECT_TRUE(off.config) << dump(off.diagnostics);
  const auto wrong =
      load("[server.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\nrequire_client_cert = \"yes\"\n");
  EXPECT_TRUE(HasOnly(wrong.diagnostics, "wrong-type", path_, 4, 23));
}

TEST_F(SecurityKeys, TlsMinVersionIsOneTwoOrOneThree) {
  const auto old = load("[server.tls]\ncert = \"c\"\nkey = \"k\"\nmin_version = \"1.1\"\n");
  EXPECT_TRUE(HasOnly(old.diagnostics, "invalid-value", path_, 4, 15));
  EXPECT_TRUE(mentions(old.diagnostics, "invalid-value", "expected '1.2' or '1.3'"));
  const auto number = load("[server.tls]\ncert = \"c\"\nkey = \"k\"\nmin_version = 1.3\n");
  EXPECT_TRUE(HasOnly(number.diagnostics, "wrong-type", path_, 4, 15));
  const auto unknown = load("[server.tls]\ncert = \"c\"\nkey = \"k\"\ncert_file = \"c\"\n");
  EXPECT_TRUE(HasOnly(unknown.diagnostics, "unknown-key", path_, 4, 1));
}

// --- [[auth.jwt]] key-set fetching and HS256 ------------------------------------------------

TEST_F(SecurityKeys, JwksFetchingKeysReachTheConfig) {
  dir_.write("idp-ca.pem", kCertificatePem);
  const auto result = load_checked(
      "[[auth.jwt]]\n"
      "issuer = \"https://idp.example.com\"\n"
      "audiences = [\"mcpgw\"]\n"
      "jwks_url = \"https://idp.example.com/jwks\"\n"
      "jwks_refresh = \"5m\"\n"
      "jwks_min_refresh = \"10s\"\n"
      "jwks_ca_file = \"idp-ca.pem\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  const auto& jwt = result.config->auth.jwt.at(0);
  EXPECT_EQ(jwt.jwks_refresh, std::chrono::minutes(5));
  EXPECT_EQ(jwt.jwks_min_refresh, std::chrono::seconds(10));
  EXPECT_EQ(jwt.jwks_ca_file, file("idp-ca.pem"));

  const auto defaults =
      load("[[auth.jwt]]\nissuer = \"i\"\naudiences = [\"a\"]\njwks_url = \"https://idp/jwks\"\n");
  ASSERT_TRUE(defaults.config) << dump(defaults.diagnostics);
  const JwtSourceConfig expected;
  EXPECT_EQ(defaults.config->auth.jwt.at(0).jwks_refresh, expected.jwks_refresh);
  EXPECT_EQ(defaults.config->auth.jwt.at(0).jwks_min_refresh, expected.jwks_min_refresh);
  EXPECT_EQ(defaults.config->auth.jwt.at(0).jwks_ca_file, "");
}

TEST_F(SecurityKeys, DefaultMinimumFollowsAShorterRefresh) {
  const auto result = load(
      "[[auth.jwt]]\nissuer = \"i\"\naudiences = [\"a\"]\njwks_url = \"https://idp/jwks\"\n"
      "jwks_refresh = \"5s\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_EQ(result.config->auth.jwt.at(0).jwks_refresh, std::chrono::seconds(5));
  EXPECT_EQ(result.config->auth.jwt.at(0).jwks_min_refresh, std::chrono::seconds(5));
}

TEST_F(SecurityKeys, JwksDurationsAreChecked) {
  const std::string head =
      "[[auth.jwt]]\nissuer = \"i\"\naudiences = [\"a\"]\njwks_url = \"https://idp/jwks\"\n";
  const auto zero = load(head + "jwks_refresh = \"0s\"\n");
  EXPECT_TRUE(HasOnly(zero.diagnostics, "invalid-duration", path_, 5, 16));
  EXPECT_TRUE(mentions(zero.diagnostics, "invalid-duration", "must be greater than zero"));
  const auto malformed = load(head + "jwks_min_refresh = \"often\"\n");
  EXPECT_TRUE(HasOnly(malformed.diagnostics, "invalid-duration", path_, 5, 20));
  const auto inverted = load(head + "jwks_refresh = \"1m\"\njwks_min_refresh = \"2m\"\n");
  EXPECT_TRUE(HasOnly(inverted.diagnostics, "invalid-duration", path_, 6, 20));
  EXPECT_TRUE(mentions(inverted.diagnostics, "invalid-duration",
                       "'jwks_min_refresh' must not exceed 'jwks_refresh'"));
  const auto wrong = load(head + "jwks_refresh = 600\n");
  EXPECT_TRUE(HasOnly(wrong.diagnostics, "wrong-type", path_, 5, 16));
  const auto wrong_ca = load(head + "jwks_ca_file = [\"a.pem\"]\n");
  EXPECT_TRUE(HasOnly(wrong_ca.diagnostics, "wrong-type", path_, 5, 16));
}

TEST_F(SecurityKeys, JwksFetchingKeysNeedJwksUrl) {
  dir_.write("jwks.json", "{\"keys\": []}");
  dir_.write("ca.pem", kCertificatePem);
  const auto result = load_checked(
      "[[auth.jwt]]\n"
      "issuer = \"i\"\n"
      "audiences = [\"a\"]\n"
      "jwks_file = \"jwks.json\"\n"
      "jwks_refresh = \"5m\"\n"
      "jwks_min_refresh = \"10s\"\n"
      "jwks_ca_file = \"ca.pem\"\n");
  // jwks_min_refresh also bounds the re-reads of a jwks_file for unknown kids.
  const auto missing = with_rule(result.diagnostics, "missing-key");
  ASSERT_EQ(missing.size(), 2u) << dump(result.diagnostics);
  const std::uint32_t lines[] = {5, 7};
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(missing[i].where.line, lines[i]);
    EXPECT_EQ(missing[i].where.column, 1u);
    EXPECT_NE(missing[i].message.find("needs 'jwks_url'"), std::string::npos);
  }
  EXPECT_EQ(result.diagnostics.items().size(), 2u) << dump(result.diagnostics);
}

TEST_F(SecurityKeys, JwksCaFileMustExistAndBePem) {
  dir_.write("not-pem.txt", "hello\n");
  const std::string head =
      "[[auth.jwt]]\nissuer = \"i\"\naudiences = [\"a\"]\njwks_url = \"https://idp/jwks\"\n";
  const auto missing = load_checked(head + "jwks_ca_file = \"nope.pem\"\n");
  EXPECT_TRUE(HasOnly(missing.diagnostics, "missing-file", path_, 5, 16));
  const auto not_pem = load_checked(head + "jwks_ca_file = \"not-pem.txt\"\n");
  EXPECT_TRUE(HasOnly(not_pem.diagnostics, "invalid-value", path_, 5, 16));
  EXPECT_TRUE(mentions(not_pem.diagnostics, "invalid-value", "JWKS CA file"));
  const auto empty = load(head + "jwks_ca_file = \"\"\n");
  EXPECT_TRUE(HasOnly(empty.diagnostics, "invalid-value", path_, 5, 16));
}

TEST_F(SecurityKeys, Hs256WarnsOncePerSource) {
  const auto result = load(
      "[[auth.jwt]]\n"
      "issuer = \"internal\"\n"
      "audiences = [\"mcpgw\"]\n"
      "algorithms = [\"RS256\", \"HS256\", \"HS256\"]\n"
      "jwks_url = \"https://idp/jwks\"\n"
      "hs256_secret = \"" +
      std::string(40, 's') + "\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(HasOnly(result.diagnostics, "hs256", path_, 4, 24, Severity::warning));
  EXPECT_TRUE(mentions(result.diagnostics, "hs256", "can mint tokens for any subject"));
  EXPECT_EQ(result.diagnostics.items().size(), 1u) << dump(result.diagnostics);
  const auto asymmetric = load(
      "[[auth.jwt]]\nissuer = \"i\"\naudiences = [\"a\"]\nalgorithms = [\"ES256\"]\n"
      "jwks_url = \"https://idp/jwks\"\n");
  EXPECT_TRUE(asymmetric.diagnostics.items().empty()) << dump(asymmetric.diagnostics);
}

TEST_F(SecurityKeys, JwksUrlIsAlwaysVerifiedHttps) {
  // There is no key to turn verification of the key server off; plain http is refused.
  const auto http = load(
      "[[auth.jwt]]\nissuer = \"i\"\naudiences = [\"a\"]\njwks_url = \"http://127.0.0.1/jwks\"\n");
  EXPECT_TRUE(HasOnly(http.diagnostics, "invalid-url", path_, 4, 12));
  const auto insecure = load(
      "[[auth.jwt]]\nissuer = \"i\"\naudiences = [\"a\"]\njwks_url = \"https://idp/jwks\"\n"
      "tls_verify = false\n");
  EXPECT_TRUE(HasOnly(insecure.diagnostics, "unknown-key", path_, 5, 1));
}

// --- [auth] scopes and OAuth metadata -------------------------------------------------------

TEST_F(SecurityKeys, AuthMetadataReachesTheConfig) {
  const auto result = load(
      "[auth]\n"
      "required_scopes = [\"mcp:read\"]\n"
      "scopes_supported = [\"mcp:read\", \"mcp:write\"]\n"
      "resource = \"https://gw.example.com/mcp\"\n"
      "authorization_servers = [\"https://idp.example.com\", "
      "\"http://localhost:9000/realms/x\"]\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  const auto& auth = result.config->auth;
  EXPECT_EQ(auth.required_scopes, std::vector<std::string>{"mcp:read"});
  EXPECT_EQ(auth.scopes_supported, (std::vector<std::string>{"mcp:read", "mcp:write"}));
  EXPECT_EQ(auth.resource, "https://gw.example.com/mcp");
  EXPECT_EQ(
      auth.authorization_servers,
      (std::vector<std::string>{"https://idp.example.com", "http://localhost:9000/realms/x"}));
  EXPECT_EQ(auth.where.line, 1u);

  const auto absent = load("[auth]\nallow_anonymous = false\n");
  ASSERT_TRUE(absent.config) << dump(absent.diagnostics);
  EXPECT_TRUE(absent.config->auth.required_scopes.empty());
  EXPECT_TRUE(absent.config->auth.scopes_supported.empty());
  EXPECT_EQ(absent.config->auth.resource, "");
  EXPECT_TRUE(absent.config->auth.authorization_servers.empty());
}

TEST_F(SecurityKeys, ScopesAreTokens) {
  const auto result = load(
      "[auth]\n"
      "required_scopes = [\"mcp read\", \"\", \"a\\\"b\", \"ok\", \"ok\"]\n");
  const auto invalid = with_rule(result.diagnostics, "invalid-value");
  ASSERT_EQ(invalid.size(), 4u) << dump(result.diagnostics);
  EXPECT_EQ(invalid[0].where.column, 20u);
  EXPECT_EQ(invalid[0].message,
            "'required_scopes': 'mcp read' is not a scope: scopes are non-empty printable ASCII "
            "without spaces, quotes or backslashes");
  EXPECT_EQ(invalid[1].where.column, 32u);
  EXPECT_EQ(invalid[2].where.column, 36u);
  EXPECT_EQ(invalid[3].where.column, 50u);
  EXPECT_EQ(invalid[3].message, "'required_scopes': 'ok' is listed twice");
  const auto supported = load("[auth]\nscopes_supported = [\"x y\"]\n");
  EXPECT_TRUE(HasOnly(supported.diagnostics, "invalid-value", path_, 2, 21));
  EXPECT_TRUE(mentions(supported.diagnostics, "invalid-value", "'scopes_supported': 'x y'"));
  const auto wrong = load("[auth]\nrequired_scopes = \"mcp:read\"\n");
  EXPECT_TRUE(HasOnly(wrong.diagnostics, "wrong-type", path_, 2, 19));
  const auto element = load("[auth]\nscopes_supported = [\"a\", 1]\n");
  EXPECT_TRUE(HasOnly(element.diagnostics, "wrong-type", path_, 2, 26));
}

TEST_F(SecurityKeys, RequiredScopesMustBeAdvertised) {
  const auto result = load(
      "[auth]\n"
      "required_scopes = [\"mcp:read\", \"mcp:admin\"]\n"
      "scopes_supported = [\"mcp:read\"]\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", path_, 2, 32));
  EXPECT_TRUE(mentions(result.diagnostics, "invalid-value",
                       "'required_scopes': 'mcp:admin' is not in 'scopes_supported'"));
}

TEST_F(SecurityKeys, MetadataUrlsAreAbsoluteHttps) {
  struct Case {
    std::string value;
    std::string message;
  };
  const std::vector<Case> bad = {
      {"http://gw.example.com/mcp", "must use https; http is allowed only for loopback hosts"},
      {"http://0.0.0.0/mcp", "must use https"},
      {"https://gw.example.com/mcp?x=1", "must not have a query"},
      {"https://gw.example.com/mcp#top", "fragment"},
      {"/mcp", "expected an absolute http:// or https:// URL"},
      {"ftp://gw.example.com/", "unsupported scheme 'ftp'"},
      {"https://user@gw.example.com/", "credentials in the URL"},
      {"", "expected an absolute"},
  };
  for (const auto& c : bad) {
    const auto resource = load("[auth]\nresource = \"" + c.value + "\"\n");
    EXPECT_TRUE(HasOnly(resource.diagnostics, "invalid-url", path_, 2, 12)) << c.value;
    EXPECT_TRUE(mentions(resource.diagnostics, "invalid-url", "'resource': ")) << c.value;
    EXPECT_TRUE(mentions(resource.diagnostics, "invalid-url", c.message)) << c.value;
    const auto servers = load("[auth]\nauthorization_servers = [\"" + c.value + "\"]\n");
    EXPECT_TRUE(HasOnly(servers.diagnostics, "invalid-url", path_, 2, 26)) << c.value;
    EXPECT_TRUE(mentions(servers.diagnostics, "invalid-url", "'authorization_servers': "));
  }
  for (const char* loopback : {"http://127.0.0.1:8080/mcp", "http://localhost/mcp",
                               "http://[::1]:9/mcp", "https://gw.example.com"}) {
    const auto result = load("[auth]\nresource = \"" + std::string(loopback) + "\"\n");
    EXPECT_TRUE(result.config) << loopback << dump(result.diagnostics);
  }
  const auto twice = load("[auth]\nauthorization_servers = [\"https://idp\", \"https://idp\"]\n");
  EXPECT_TRUE(HasOnly(twice.diagnostics, "invalid-value", path_, 2, 41));
  const auto wrong = load("[auth]\nresource = [\"https://gw\"]\n");
  EXPECT_TRUE(HasOnly(wrong.diagnostics, "wrong-type", path_, 2, 12));
  const auto one = load("[auth]\nauthorization_servers = \"https://idp\"\n");
  EXPECT_TRUE(HasOnly(one.diagnostics, "wrong-type", path_, 2, 25));
}

TEST_F(SecurityKeys, AuthSettingsAreRootOnly) {
  dir_.write("more.toml",
             "[auth]\n"
             "required_scopes = [\"a\"]\n"
             "resource = \"https://gw\"\n"
             "authorization_servers = [\"https://idp\"]\n"
             "scopes_supported = [\"a\"]\n");
  const auto result = load("include = [\"more.toml\"]\n");
  const auto root_only = with_rule(result.diagnostics, "root-only");
  ASSERT_EQ(root_only.size(), 4u) << dump(result.diagnostics);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(root_only[i].where.file, file("more.toml"));
    EXPECT_EQ(root_only[i].where.line, i + 2);
  }
  EXPECT_EQ(root_only[0].message,
            "'auth.required_scopes' may only be set in the root configuration file");
}

TEST_F(SecurityKeys, MisspelledAuthKeySuggests) {
  const auto result = load("[auth]\nrequired_scope = [\"a\"]\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "unknown-key", path_, 2, 1));
  EXPECT_TRUE(mentions(result.diagnostics, "unknown-key", "did you mean 'required_scopes'?"));
}

// --- [audit] --------------------------------------------------------------------------------

TEST_F(SecurityKeys, AuditIsOffWithoutTheTable) {
  const auto result = load("[server]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_FALSE(result.config->audit.enabled);
}

TEST_F(SecurityKeys, EmptyAuditTableEnablesTheDefaults) {
  const auto result = load("[audit]\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(result.config->audit.enabled);
  EXPECT_EQ(result.config->audit.sink, "stderr");
  EXPECT_TRUE(result.config->audit.include_allowed);
  EXPECT_EQ(result.config->audit.where.line, 1u);
}

TEST_F(SecurityKeys, AuditSinkIsAStreamOrAFileNextToTheConfig) {
  const auto stdout_sink = load("[audit]\nsink = \"stdout\"\ninclude_allowed = false\n");
  ASSERT_TRUE(stdout_sink.config) << dump(stdout_sink.diagnostics);
  EXPECT_EQ(stdout_sink.config->audit.sink, "stdout");
  EXPECT_FALSE(stdout_sink.config->audit.include_allowed);

  std::filesystem::create_directories(dir_.path() / "logs");
  const auto file_sink = load_checked("[audit]\nsink = \"logs/audit.jsonl\"\n");
  ASSERT_TRUE(file_sink.config) << dump(file_sink.diagnostics);
  EXPECT_EQ(file_sink.config->audit.sink, file("logs/audit.jsonl"));
  // "./stderr" is a file, not the stream.
  const auto named = load_checked("[audit]\nsink = \"./stderr\"\n");
  ASSERT_TRUE(named.config) << dump(named.diagnostics);
  EXPECT_EQ(named.config->audit.sink, file("stderr"));
}

TEST_F(SecurityKeys, AuditSinkChecks) {
  std::filesystem::create_directories(dir_.path() / "logs");
  const auto no_directory = load_checked("[audit]\nsink = \"nope/audit.jsonl\"\n");
  EXPECT_TRUE(HasOnly(no_directory.diagnostics, "missing-file", path_, 2, 8));
  EXPECT_TRUE(mentions(no_directory.diagnostics, "missing-file",
                       "directory '" + file("nope") + "' of the audit sink"));
  const auto directory = load_checked("[audit]\nsink = \"logs\"\n");
  EXPECT_TRUE(HasOnly(directory.diagnostics, "missing-file", path_, 2, 8));
  EXPECT_TRUE(mentions(directory.diagnostics, "missing-file", "is a directory"));
  const auto unchecked = load("[audit]\nsink = \"nope/audit.jsonl\"\n");
  EXPECT_TRUE(unchecked.config) << dump(unchecked.diagnostics);
  const auto empty = load("[audit]\nsink = \"\"\n");
  EXPECT_TRUE(HasOnly(empty.diagnostics, "invalid-value", path_, 2, 8));
  const auto wrong = load("[audit]\nsink = 2\ninclude_allowed = \"no\"\n");
  const auto types = with_rule(wrong.diagnostics, "wrong-type");
  ASSERT_EQ(types.size(), 2u) << dump(wrong.diagnostics);
  EXPECT_EQ(types[0].where.line, 2u);
  EXPECT_EQ(types[1].where.line, 3u);
  const auto unknown = load("[audit]\nsinks = \"stdout\"\n");
  EXPECT_TRUE(HasOnly(unknown.diagnostics, "unknown-key", path_, 2, 1));
  EXPECT_TRUE(mentions(unknown.diagnostics, "unknown-key", "did you mean 'sink'?"));
  const auto not_table = load("audit = true\n");
  EXPECT_TRUE(HasOnly(not_table.diagnostics, "wrong-type", path_, 1, 9));
}

TEST_F(SecurityKeys, AuditIsRootOnly) {
  dir_.write("more.toml", "[audit]\nsink = \"stdout\"\n");
  const auto result = load("include = [\"more.toml\"]\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "root-only", file("more.toml"), 1, 2));
  EXPECT_TRUE(mentions(result.diagnostics, "root-only", "[audit] may only appear in the root"));
}

TEST_F(SecurityKeys, AuditMakesAFileAConfiguration) {
  // A file with [audit] is never taken for a policy test file.
  path_ = dir_.write("mixed.toml", "[audit]\n[[case]]\nname = \"x\"\n");
  const auto result = load_config_or_policy_tests(path_, test_options());
  EXPECT_EQ(result.kind, FileKind::configuration);
  EXPECT_TRUE(HasOnly(result.config.diagnostics, "unknown-key", path_, 2, 3));
}

// --- compiled rate limits -------------------------------------------------------------------

TEST_F(SecurityKeys, RateLimitsAreCompiledWithThePolicy) {
  const auto result = load(
      "[[rate_limit]]\n"
      "id = \"per-caller\"\n"
      "scope = \"principal\"\n"
      "requests = 10\n"
      "window = \"1s\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  ASSERT_TRUE(result.config->policy);
  ASSERT_TRUE(result.config->rate_limits);
  EXPECT_EQ(result.config->rate_limits->size(), 1u);
  const auto none = load("[policy]\ndefault = \"deny\"\n");
  ASSERT_TRUE(none.config) << dump(none.diagnostics);
  ASSERT_TRUE(none.config->rate_limits);
  EXPECT_EQ(none.config->rate_limits->size(), 0u);
  const auto bad = load("[[rate_limit]]\nscope = \"principal\"\nrequests = 0\nwindow = \"1s\"\n");
  EXPECT_FALSE(bad.config);
}

// --- warnings about risky settings ----------------------------------------------------------

TEST_F(SecurityKeys, AnonymousAccessWithDefaultAllowWarns) {
  const auto result = load("[policy]\ndefault = \"allow\"\n[auth]\nallow_anonymous = true\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(HasOnly(result.diagnostics, "anonymous-allow", path_, 4, 19, Severity::warning));
  EXPECT_EQ(result.diagnostics.items().size(), 1u) << dump(result.diagnostics);
  for (const char* text : {"[policy]\ndefault = \"deny\"\n[auth]\nallow_anonymous = true\n",
                           "[auth]\nallow_anonymous = true\n",
                           "[policy]\ndefault = \"allow\"\n[auth]\nallow_anonymous = false\n",
                           "[policy]\ndefault = \"allow\"\n"}) {
    const auto quiet = load(text);
    EXPECT_TRUE(quiet.diagnostics.items().empty()) << text << dump(quiet.diagnostics);
  }
}

TEST_F(SecurityKeys, ForwardedClientHeadersWarnPerBackend) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"search\"\n"
      "url = \"https://search.example.com/mcp\"\n"
      "forward_headers = [\"traceparent\", \"X-Tenant\"]\n"
      "[[backend]]\n"
      "name = \"quiet\"\n"
      "url = \"https://quiet.example.com/mcp\"\n"
      "forward_headers = []\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(HasOnly(result.diagnostics, "forwarded-headers", path_, 4, 19, Severity::warning));
  EXPECT_EQ(with_rule(result.diagnostics, "forwarded-headers")[0].message,
            "backend 'search' receives the client headers 'traceparent', 'X-Tenant'; clients "
            "choose their values, so the backend must not trust them");
  EXPECT_EQ(result.config->backends[0].forward_headers,
            (std::vector<std::string>{"traceparent", "X-Tenant"}));
  const auto one = load(
      "[[backend]]\nname = \"a\"\nurl = \"https://a/mcp\"\nforward_headers = [\"traceparent\"]\n");
  ASSERT_EQ(with_rule(one.diagnostics, "forwarded-headers").size(), 1u) << dump(one.diagnostics);
  EXPECT_EQ(with_rule(one.diagnostics, "forwarded-headers")[0].message,
            "backend 'a' receives the client header 'traceparent'; clients choose its value, so "
            "the backend must not trust it");
  // A refused header is an error, not forwarded, and not warned about.
  const auto refused = load(
      "[[backend]]\nname = \"a\"\nurl = \"https://a/mcp\"\nforward_headers = "
      "[\"Authorization\"]\n");
  EXPECT_TRUE(with_rule(refused.diagnostics, "forwarded-headers").empty());
  EXPECT_TRUE(HasOnly(refused.diagnostics, "invalid-value", path_, 4, 20));
}

TEST_F(SecurityKeys, PlaintextListenerWithCredentialsWarns) {
  const std::string jwt =
      "[[auth.jwt]]\nissuer = \"i\"\naudiences = [\"a\"]\njwks_url = \"https://idp/jwks\"\n";
  for (const std::string& auth : {std::string(kApiKey), jwt}) {
    const auto result = load("[server]\nlisten = \"0.0.0.0:8080\"\n" + auth);
    ASSERT_TRUE(result.config) << dump(result.diagnostics);
    EXPECT_TRUE(HasOnly(result.diagnostics, "plaintext-listener", path_, 2, 10, Severity::warning));
    EXPECT_TRUE(mentions(result.diagnostics, "plaintext-listener",
                         "[server] listens on '0.0.0.0:8080' without [server.tls]"));
  }
  const auto v6 = load("[server]\nlisten = \"[::]:8080\"\n" + std::string(kApiKey));
  EXPECT_TRUE(HasOnly(v6.diagnostics, "plaintext-listener", path_, 2, 10, Severity::warning));
  // Credentials in an included file count as well.
  dir_.write("keys.toml", kApiKey);
  const auto included = load("include = [\"keys.toml\"]\n[server]\nlisten = \"10.0.0.5:80\"\n");
  EXPECT_TRUE(HasOnly(included.diagnostics, "plaintext-listener", path_, 3, 10, Severity::warning));

  for (const std::string& text :
       {"[server]\nlisten = \"127.0.0.1:8080\"\n" + std::string(kApiKey),
        "[server]\nlisten = \"localhost:8080\"\n" + std::string(kApiKey),
        "[server]\nlisten = \"[::1]:8080\"\n" + std::string(kApiKey),
        std::string(kApiKey),  // the default listener is loopback
        std::string("[server]\nlisten = \"0.0.0.0:8080\"\n[auth]\nallow_anonymous = true\n"),
        "[server]\nlisten = \"0.0.0.0:8443\"\n[server.tls]\ncert = \"c\"\nkey = \"k\"\n" +
            std::string(kApiKey)}) {
    const auto quiet = load(text);
    EXPECT_TRUE(with_rule(quiet.diagnostics, "plaintext-listener").empty())
        << text << dump(quiet.diagnostics);
  }
}

}  // namespace
}  // namespace mcpgw::config
