// load_config: every check with its exact position and rule id, env expansion, includes,
// fragments and a full round trip into the Config struct.
#include <string>

#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "gateway/config/config.hpp"

namespace mcpgw::config {
namespace {

using test_support::dump;
using test_support::HasOnly;
using test_support::TempDir;
using test_support::test_options;
using test_support::with_rule;

class ConfigLoader : public ::testing::Test {
 protected:
  // Writes `text` as gateway.toml in a fresh temp dir and loads it.
  LoadResult load(const std::string& text, const LoadOptions& options = test_options()) {
    path_ = dir_.write("gateway.toml", text);
    return load_config(path_, options);
  }
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

// --- Syntax, keys and types --------------------------------------------------------------------

TEST_F(ConfigLoader, SyntaxErrorHasPosition) {
  const auto result = load("[server]\nlisten = \"127.0.0.1:8080\"\npath = \n");
  EXPECT_FALSE(result.config);
  EXPECT_TRUE(HasOnly(result.diagnostics, "toml-syntax", path_, 3, 8));
  EXPECT_EQ(result.diagnostics.items().size(), 1u) << dump(result.diagnostics);
}

TEST_F(ConfigLoader, SyntaxErrorDuplicateKey) {
  const auto result = load("[server]\nlisten = \"a:1\"\nlisten = \"b:2\"\n");
  ASSERT_EQ(with_rule(result.diagnostics, "toml-syntax").size(), 1u) << dump(result.diagnostics);
  EXPECT_EQ(with_rule(result.diagnostics, "toml-syntax")[0].where.line, 3u);
}

TEST_F(ConfigLoader, UnknownKeyWithSuggestion) {
  const auto result = load(
      "[server]\n"
      "lisen = \"127.0.0.1:8080\"\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "unknown-key", path_, 2, 1));
  EXPECT_TRUE(mentions(result.diagnostics, "unknown-key", "did you mean 'listen'?"));
  EXPECT_FALSE(result.config);
}

TEST_F(ConfigLoader, UnknownTopLevelKeyAndTables) {
  const auto result = load(
      "[[backends]]\n"
      "name = \"x\"\n"
      "[[rules]]\n"
      "effect = \"allow\"\n"
      "[weird]\n");
  const auto unknown = with_rule(result.diagnostics, "unknown-key");
  ASSERT_EQ(unknown.size(), 3u) << dump(result.diagnostics);
  EXPECT_EQ(unknown[0].where.line, 1u);
  EXPECT_EQ(unknown[0].where.column, 3u);
  EXPECT_NE(unknown[0].message.find("did you mean 'backend'?"), std::string::npos);
  EXPECT_EQ(unknown[1].where.line, 3u);
  EXPECT_NE(unknown[1].message.find("did you mean 'rule'?"), std::string::npos);
  EXPECT_EQ(unknown[2].where.line, 5u);
  EXPECT_EQ(unknown[2].message.find("did you mean"), std::string::npos);
}

TEST_F(ConfigLoader, UnknownKeysInEveryTable) {
  const auto result = load(
      "[server.tls]\n"
      "cert = \"c.pem\"\n"
      "key = \"k.pem\"\n"
      "min_versoin = \"1.3\"\n"
      "[auth]\n"
      "allow_anonymus = true\n"
      "[[backend]]\n"
      "name = \"b\"\n"
      "command = [\"x\"]\n"
      "envs = {}\n"
      "[[rule]]\n"
      "effect = \"allow\"\n"
      "tool = [\"x\"]\n"
      "[[rate_limit]]\n"
      "scope = \"principal\"\n"
      "requests = 1\n"
      "window = \"1s\"\n"
      "brust = 2\n"
      "[[auth.api_key]]\n"
      "name = \"k\"\n"
      "sha = \"" +
      std::string(64, 'a') + "\"\n");
  const auto unknown = with_rule(result.diagnostics, "unknown-key");
  ASSERT_EQ(unknown.size(), 6u) << dump(result.diagnostics);
  EXPECT_TRUE(mentions(result.diagnostics, "unknown-key",
                       "'min_versoin' in [server.tls]; did you mean 'min_version'?"));
  EXPECT_TRUE(mentions(result.diagnostics, "unknown-key", "did you mean 'allow_anonymous'?"));
  EXPECT_TRUE(mentions(result.diagnostics, "unknown-key", "did you mean 'env'?"));
  EXPECT_TRUE(
      mentions(result.diagnostics, "unknown-key", "'tool' in [[rule]]; did you mean 'tools'?"));
  EXPECT_TRUE(mentions(result.diagnostics, "unknown-key", "did you mean 'burst'?"));
  EXPECT_TRUE(mentions(result.diagnostics, "unknown-key", "'sha' in [[auth.api_key]]"));
  // The sha256 key is then missing too.
  EXPECT_TRUE(HasOnly(result.diagnostics, "missing-key", path_, 19, 1));
}

TEST_F(ConfigLoader, WrongTypes) {
  const auto result = load(
      "[server]\n"
      "listen = 8080\n"
      "allowed_hosts = \"localhost\"\n"
      "max_sessions = \"10\"\n"
      "[[backend]]\n"
      "name = \"b\"\n"
      "command = [\"x\", 1]\n"
      "tls_verify = \"no\"\n");
  const auto wrong = with_rule(result.diagnostics, "wrong-type");
  ASSERT_EQ(wrong.size(), 5u) << dump(result.diagnostics);
  EXPECT_EQ(wrong[0].where.line, 2u);
  EXPECT_EQ(wrong[0].where.column, 10u);
  EXPECT_EQ(wrong[0].message, "'listen': expected a string, found an integer");
  EXPECT_EQ(wrong[1].where.line, 3u);
  EXPECT_EQ(wrong[1].message, "'allowed_hosts': expected an array of strings, found a string");
  EXPECT_EQ(wrong[2].where.line, 4u);
  EXPECT_EQ(wrong[2].message, "'max_sessions': expected an integer, found a string");
  EXPECT_EQ(wrong[3].where.line, 7u);
  EXPECT_EQ(wrong[3].where.column, 17u);
  EXPECT_NE(wrong[3].message.find("found an integer in the array"), std::string::npos);
  EXPECT_EQ(wrong[4].where.line, 8u);
  EXPECT_EQ(wrong[4].message, "'tls_verify': expected a boolean (true or false), found a string");
  // tls_verify on a stdio backend is also a transport error (a different finding).
  EXPECT_TRUE(HasOnly(result.diagnostics, "backend-transport", path_, 8, 1));
}

TEST_F(ConfigLoader, TableWhereArrayOfTablesExpected) {
  const auto result = load("[backend]\nname = \"b\"\ncommand = [\"x\"]\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "wrong-type", path_, 1, 1));
  EXPECT_TRUE(mentions(result.diagnostics, "wrong-type", "write [[backend]]"));
}

TEST_F(ConfigLoader, MissingKeysPointAtTheTableHeader) {
  const auto result = load(
      "[server]\n"
      "\n"
      "  [[backend]]\n"
      "  command = [\"x\"]\n"
      "\n"
      "[[rule]]\n"
      "tools = [\"x\"]\n");
  const auto missing = with_rule(result.diagnostics, "missing-key");
  ASSERT_EQ(missing.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(missing[0].where.line, 3u);
  EXPECT_EQ(missing[0].where.column, 3u);
  EXPECT_EQ(missing[0].message, "[[backend]] is missing the required key 'name'");
  EXPECT_EQ(missing[1].where.line, 6u);
  EXPECT_EQ(missing[1].message, "[[rule]] is missing the required key 'effect'");
}

TEST_F(ConfigLoader, InvalidEnumValueSuggests) {
  const auto result = load(
      "[[rule]]\n"
      "effect = \"alow\"\n"
      "[policy]\n"
      "default = \"permit\"\n");
  const auto invalid = with_rule(result.diagnostics, "invalid-value");
  ASSERT_EQ(invalid.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(invalid[0].where.line, 2u);
  EXPECT_EQ(invalid[0].where.column, 10u);
  EXPECT_NE(invalid[0].message.find("did you mean 'allow'?"), std::string::npos);
  EXPECT_EQ(invalid[1].where.line, 4u);
  EXPECT_EQ(invalid[1].message.find("did you mean"), std::string::npos);
}

// --- Server ------------------------------------------------------------------------------------

TEST_F(ConfigLoader, InvalidListenAddresses) {
  const auto result = load("[server]\nlisten = \"localhost\"\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-listen", path_, 2, 10));
  EXPECT_TRUE(mentions(result.diagnostics, "invalid-listen", "missing port"));
  const auto port = load("[server]\nlisten = \"127.0.0.1:70000\"\n");
  EXPECT_TRUE(HasOnly(port.diagnostics, "invalid-listen", path_, 2, 10));
  const auto v6 = load("[server]\nlisten = \"[::1]:0\"\n");
  ASSERT_TRUE(v6.config) << dump(v6.diagnostics);
  EXPECT_EQ(v6.config->server.host, "::1");
  EXPECT_EQ(v6.config->server.port, 0);
}

TEST_F(ConfigLoader, ServerValueChecks) {
  const auto result = load(
      "[server]\n"
      "path = \"mcp\"\n"
      "separator = \"::\"\n"
      "prefix = \"sometimes\"\n"
      "allowed_hosts = [\"bad host\"]\n"
      "allowed_origins = [\"https://ok.example\", \"https://x.example/path\"]\n"
      "max_body_bytes = 0\n"
      "max_sessions = 5000000000\n"
      "request_timeout = \"0s\"\n"
      "session_idle_timeout = \"soon\"\n");
  const auto invalid = with_rule(result.diagnostics, "invalid-value");
  ASSERT_EQ(invalid.size(), 7u) << dump(result.diagnostics);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(invalid[i].where.line, i + 2) << dump(result.diagnostics);
  }
  EXPECT_EQ(invalid[4].where.line, 6u);
  EXPECT_EQ(invalid[4].where.column, 42u);
  const auto durations = with_rule(result.diagnostics, "invalid-duration");
  ASSERT_EQ(durations.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(durations[0].where.line, 9u);
  EXPECT_NE(durations[0].message.find("greater than zero"), std::string::npos);
  EXPECT_EQ(durations[1].where.line, 10u);
  EXPECT_EQ(durations[1].where.column, 24u);
}

TEST_F(ConfigLoader, TlsListenerFilesAndVersion) {
  dir_.write("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  const auto result = load(
      "[server.tls]\n"
      "cert = \"cert.pem\"\n"
      "key = \"missing-key.pem\"\n"
      "require_client_cert = true\n"
      "min_version = \"1.1\"\n",
      test_options({}, true));
  EXPECT_TRUE(HasOnly(result.diagnostics, "missing-file", path_, 3, 7));
  EXPECT_TRUE(mentions(result.diagnostics, "missing-file", "missing-key.pem"));
  EXPECT_TRUE(HasOnly(result.diagnostics, "missing-key", path_, 4, 23));
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", path_, 5, 15));
  // Without the existence check the paths are only resolved.
  const auto unchecked = load(
      "[server.tls]\n"
      "cert = \"cert.pem\"\n"
      "key = \"missing-key.pem\"\n",
      test_options({}, false));
  ASSERT_TRUE(unchecked.config) << dump(unchecked.diagnostics);
  ASSERT_TRUE(unchecked.config->server.tls);
  EXPECT_EQ(unchecked.config->server.tls->key_file, file("missing-key.pem"));
}

// --- Backends ----------------------------------------------------------------------------------

TEST_F(ConfigLoader, DuplicateBackendNamesTheFirstDefinition) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"github\"\n"
      "command = [\"a\"]\n"
      "[[backend]]\n"
      "name = \"github\"\n"
      "url = \"https://example.com/mcp\"\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "duplicate-backend", path_, 5, 8));
  EXPECT_TRUE(mentions(result.diagnostics, "duplicate-backend", path_ + ":2:8"));
}

TEST_F(ConfigLoader, InvalidBackendNames) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"my.server\"\n"
      "command = [\"a\"]\n"
      "[[backend]]\n"
      "name = \"git__hub\"\n"
      "command = [\"a\"]\n"
      "[[backend]]\n"
      "name = \"trailing_\"\n"
      "command = [\"a\"]\n"
      "[[backend]]\n"
      "name = \"" +
      std::string(33, 'x') +
      "\"\n"
      "command = [\"a\"]\n");
  const auto invalid = with_rule(result.diagnostics, "invalid-backend-name");
  ASSERT_EQ(invalid.size(), 4u) << dump(result.diagnostics);
  EXPECT_EQ(invalid[0].where.line, 2u);
  EXPECT_EQ(invalid[0].where.column, 8u);
  EXPECT_EQ(invalid[1].where.line, 5u);
  EXPECT_NE(invalid[1].message.find("separator"), std::string::npos);
  EXPECT_EQ(invalid[2].where.line, 8u);  // "trailing_" + "__" would read as "trailing" + "___"
  EXPECT_EQ(invalid[3].where.line, 11u);
}

TEST_F(ConfigLoader, SeparatorFromServerAppliesToBackendNames) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"git-hub\"\n"
      "command = [\"a\"]\n"
      "[server]\n"
      "separator = \"-\"\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-backend-name", path_, 2, 8));
  const auto fine = load(
      "[server]\n"
      "separator = \"-\"\n"
      "[[backend]]\n"
      "name = \"git__hub\"\n"
      "command = [\"a\"]\n");
  EXPECT_TRUE(fine.config) << dump(fine.diagnostics);
}

TEST_F(ConfigLoader, BackendTransportChecks) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"both\"\n"
      "command = [\"a\"]\n"
      "url = \"http://127.0.0.1:1/mcp\"\n"
      "[[backend]]\n"
      "name = \"neither\"\n"
      "[[backend]]\n"
      "name = \"stdio-sse\"\n"
      "command = [\"a\"]\n"
      "transport = \"sse\"\n"
      "[[backend]]\n"
      "name = \"http-env\"\n"
      "url = \"http://127.0.0.1:1/mcp\"\n"
      "env = { A = \"1\" }\n");
  const auto transport = with_rule(result.diagnostics, "backend-transport");
  ASSERT_EQ(transport.size(), 4u) << dump(result.diagnostics);
  EXPECT_EQ(transport[0].where.line, 4u);
  EXPECT_EQ(transport[0].where.column, 1u);
  EXPECT_EQ(transport[1].where.line, 5u);
  EXPECT_EQ(transport[2].where.line, 10u);
  EXPECT_EQ(transport[2].where.column, 13u);
  EXPECT_EQ(transport[3].where.line, 14u);
  // Every message names the backend it is about.
  EXPECT_EQ(transport[0].message,
            "backend 'both' sets both 'command' (stdio) and 'url' (HTTP); set only one");
  EXPECT_EQ(transport[1].message,
            "backend 'neither' needs 'command' (a stdio server) or 'url' (an HTTP server)");
  EXPECT_EQ(transport[2].message,
            "backend 'stdio-sse': 'transport' 'sse' needs 'url'; a 'command' backend speaks stdio");
  EXPECT_EQ(transport[3].message,
            "backend 'http-env': 'env' applies only to stdio ('command') backends");
  const auto unnamed = load("[[backend]]\ncommand = [\"a\"]\nurl = \"http://127.0.0.1:1/mcp\"\n");
  const auto unnamed_transport = with_rule(unnamed.diagnostics, "backend-transport");
  ASSERT_EQ(unnamed_transport.size(), 1u) << dump(unnamed.diagnostics);
  EXPECT_EQ(unnamed_transport[0].message,
            "[[backend]] sets both 'command' (stdio) and 'url' (HTTP); set only one");
}

TEST_F(ConfigLoader, EmptyCommand) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"a\"\n"
      "command = []\n"
      "[[backend]]\n"
      "name = \"b\"\n"
      "command = [\"\", \"x\"]\n");
  const auto empty = with_rule(result.diagnostics, "empty-command");
  ASSERT_EQ(empty.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(empty[0].where.line, 3u);
  EXPECT_EQ(empty[0].where.column, 11u);
  EXPECT_EQ(empty[1].where.line, 6u);
  EXPECT_EQ(empty[1].where.column, 12u);
}

TEST_F(ConfigLoader, InvalidUrls) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"a\"\n"
      "url = \"ftp://example.com/mcp\"\n"
      "[[auth.jwt]]\n"
      "issuer = \"https://idp\"\n"
      "audiences = [\"x\"]\n"
      "jwks_url = \"http://idp.example.com/jwks\"\n");
  const auto invalid = with_rule(result.diagnostics, "invalid-url");
  ASSERT_EQ(invalid.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(invalid[0].where.line, 3u);
  EXPECT_EQ(invalid[0].where.column, 7u);
  EXPECT_EQ(invalid[1].where.line, 7u);
  EXPECT_NE(invalid[1].message.find("only https"), std::string::npos);
}

TEST_F(ConfigLoader, HeadersAndForwardHeaders) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"a\"\n"
      "url = \"https://example.com/mcp\"\n"
      "headers = { \"Bad Header\" = \"x\", Host = \"y\", X-Ok = \"z\" }\n"
      "forward_headers = [\"traceparent\", \"Authorization\", \"x-api-key\"]\n"
      "tls_verify = false\n");
  const auto invalid = with_rule(result.diagnostics, "invalid-value");
  ASSERT_EQ(invalid.size(), 4u) << dump(result.diagnostics);
  EXPECT_EQ(invalid[0].where.line, 4u);
  EXPECT_EQ(invalid[0].where.column, 13u);
  EXPECT_NE(invalid[1].message.find("managed by the gateway"), std::string::npos);
  EXPECT_EQ(invalid[2].where.line, 5u);
  EXPECT_EQ(invalid[2].where.column, 35u);
  EXPECT_NE(invalid[2].message.find("never go upstream"), std::string::npos);
  EXPECT_EQ(invalid[3].where.column, 52u);  // the API key header of [auth]
  EXPECT_TRUE(HasOnly(result.diagnostics, "insecure-tls", path_, 6, 14, Severity::warning));
}

TEST_F(ConfigLoader, LongPrefixedNames) {
  const std::string long_backend(30, 'b');
  const auto result = load(
      "[server]\n"
      "separator = \"____________________\"\n"  // 20 characters
      "[[backend]]\n"
      "name = \"" +
      long_backend +
      "\"\n"
      "command = [\"x\"]\n"
      "[[backend]]\n"
      "name = \"short\"\n"
      "command = [\"x\"]\n"
      "[[rule]]\n"
      "effect = \"allow\"\n"
      "backends = [\"short\"]\n"
      "tools = [\"" +
      std::string(40, 't') + "\", \"fits\", \"" + std::string(50, 'g') + "*\"]\n");
  const auto warnings = with_rule(result.diagnostics, "long-prefixed-name");
  ASSERT_EQ(warnings.size(), 2u) << dump(result.diagnostics);
  // 30 + 20 leaves 14 characters: fewer than 16.
  EXPECT_EQ(warnings[0].where.line, 4u);
  EXPECT_EQ(warnings[0].severity, Severity::warning);
  EXPECT_NE(warnings[0].message.find("leaves only 14"), std::string::npos);
  // "short" + 20 + 40 = 65 > 64; the glob is not a literal name.
  EXPECT_EQ(warnings[1].where.line, 12u);
  EXPECT_EQ(warnings[1].where.column, 10u);
  EXPECT_NE(warnings[1].message.find("65 characters"), std::string::npos);
  EXPECT_TRUE(result.config) << dump(result.diagnostics);  // warnings only
}

TEST_F(ConfigLoader, NoPrefixNoLongNameWarnings) {
  const auto result = load(
      "[server]\n"
      "prefix = \"never\"\n"
      "[[backend]]\n"
      "name = \"" +
      std::string(32, 'b') +
      "\"\n"
      "command = [\"x\"]\n"
      "[[backend]]\n"
      "name = \"c\"\n"
      "command = [\"x\"]\n"
      "[[rule]]\n"
      "effect = \"allow\"\n"
      "tools = [\"" +
      std::string(60, 't') + "\"]\n");
  EXPECT_TRUE(with_rule(result.diagnostics, "long-prefixed-name").empty())
      << dump(result.diagnostics);
}

// --- Environment -------------------------------------------------------------------------------

TEST_F(ConfigLoader, ExpandsEnvironmentInStrings) {
  const auto result = load(
      "[server]\n"
      "listen = \"${HOST:-127.0.0.1}:${PORT}\"\n"
      "[[backend]]\n"
      "name = \"api\"\n"
      "url = \"https://${API_HOST}/mcp\"\n"
      "headers = { Authorization = \"Bearer ${TOKEN}\", X-Cost = \"$$5\" }\n",
      test_options({{"PORT", "9090"}, {"API_HOST", "api.example.com"}, {"TOKEN", "s3cret"}}));
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  EXPECT_EQ(result.config->server.listen, "127.0.0.1:9090");
  EXPECT_EQ(result.config->server.port, 9090);
  ASSERT_EQ(result.config->backends.size(), 1u);
  EXPECT_EQ(result.config->backends[0].url, "https://api.example.com/mcp");
  EXPECT_EQ(result.config->backends[0].headers.at("Authorization"), "Bearer s3cret");
  EXPECT_EQ(result.config->backends[0].headers.at("X-Cost"), "$5");
}

TEST_F(ConfigLoader, UndefinedEnvironmentVariableWarnsAtTheReference) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"api\"\n"
      "url = \"https://api.example.com/mcp\"\n"
      "headers = { Authorization = \"Bearer ${TOKEN}\" }\n");
  // Column of '$': `headers = { Authorization = "Bearer ` is 36 characters.
  EXPECT_TRUE(HasOnly(result.diagnostics, "undefined-env", path_, 4, 37, Severity::warning));
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->backends[0].headers.at("Authorization"), "Bearer ");
}

TEST_F(ConfigLoader, MalformedEnvironmentReferenceIsAnError) {
  const auto result = load("[server]\nlisten = \"127.0.0.1:${PORT\"\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-env-reference", path_, 2, 21));
  // The half-expanded value is not validated further (no invalid-listen cascade).
  EXPECT_EQ(result.diagnostics.items().size(), 1u) << dump(result.diagnostics);
  EXPECT_FALSE(result.config);
}

TEST_F(ConfigLoader, EnvironmentPositionFallsBackToTheValueWithEscapes) {
  const auto result = load("[server]\npath = \"/\\u006dcp${NOPE}\"\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "undefined-env", path_, 2, 8, Severity::warning));
}

// --- Auth --------------------------------------------------------------------------------------

TEST_F(ConfigLoader, ApiKeyChecks) {
  const std::string hash(64, 'a');
  const auto result = load(
      "[[auth.api_key]]\n"
      "name = \"ci\"\n"
      "sha256 = \"" +
      hash +
      "\"\n"
      "[[auth.api_key]]\n"
      "name = \"ci\"\n"
      "sha256 = \"" +
      std::string(64, 'b') +
      "\"\n"
      "[[auth.api_key]]\n"
      "name = \"other\"\n"
      "sha256 = \"" +
      hash +
      "\"\n"
      "[[auth.api_key]]\n"
      "name = \"upper\"\n"
      "sha256 = \"" +
      std::string(64, 'C') +
      "\"\n"
      "[[auth.api_key]]\n"
      "name = \"short\"\n"
      "sha256 = \"abc\"\n");
  const auto duplicates = with_rule(result.diagnostics, "duplicate-api-key");
  ASSERT_EQ(duplicates.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(duplicates[0].where.line, 5u);
  EXPECT_EQ(duplicates[0].where.column, 8u);
  EXPECT_NE(duplicates[0].message.find(path_ + ":2:8"), std::string::npos);
  EXPECT_EQ(duplicates[1].where.line, 9u);
  EXPECT_NE(duplicates[1].message.find("'ci'"), std::string::npos);
  const auto hashes = with_rule(result.diagnostics, "invalid-api-key-hash");
  ASSERT_EQ(hashes.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(hashes[0].where.line, 12u);
  EXPECT_EQ(hashes[0].where.column, 10u);
  EXPECT_NE(hashes[0].message.find("lower case"), std::string::npos);
  EXPECT_EQ(hashes[1].where.line, 15u);
}

TEST_F(ConfigLoader, JwtChecks) {
  dir_.write("jwks.json", "{\"keys\": []}");
  const auto result = load(
      "[[auth.jwt]]\n"
      "issuer = \"https://a\"\n"
      "audiences = [\"mcpgw\"]\n"
      "jwks_file = \"jwks.json\"\n"
      "jwks_url = \"https://a/jwks\"\n"
      "[[auth.jwt]]\n"
      "issuer = \"https://b\"\n"
      "audiences = [\"mcpgw\"]\n"
      "[[auth.jwt]]\n"
      "issuer = \"https://c\"\n"
      "audiences = [\"mcpgw\"]\n"
      "jwks_file = \"nope.json\"\n"
      "algorithms = [\"RS265\", \"HS256\"]\n"
      "leeway = \"1500ms\"\n"
      "[[auth.jwt]]\n"
      "issuer = \"https://a\"\n"
      "jwks_file = \"jwks.json\"\n",
      test_options({}, true));
  EXPECT_TRUE(HasOnly(result.diagnostics, "conflicting-keys", path_, 5, 1));
  const auto missing = with_rule(result.diagnostics, "missing-key");
  ASSERT_EQ(missing.size(), 3u) << dump(result.diagnostics);
  EXPECT_EQ(missing[0].where.line, 6u);   // no JWKS
  EXPECT_EQ(missing[1].where.line, 13u);  // HS256 without a secret
  EXPECT_EQ(missing[2].where.line, 15u);  // no audiences
  EXPECT_TRUE(HasOnly(result.diagnostics, "missing-file", path_, 12, 13));
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", path_, 13, 15));
  EXPECT_TRUE(mentions(result.diagnostics, "invalid-value", "did you mean 'RS256'?"));
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-duration", path_, 14, 10));
  EXPECT_TRUE(HasOnly(result.diagnostics, "duplicate-issuer", path_, 16, 10));
}

TEST_F(ConfigLoader, Hs256WithSecret) {
  const auto result = load(
      "[[auth.jwt]]\n"
      "issuer = \"internal\"\n"
      "audiences = [\"mcpgw\"]\n"
      "algorithms = [\"HS256\"]\n"
      "hs256_secret = \"${JWT_SECRET}\"\n",
      test_options({{"JWT_SECRET", std::string(40, 's')}}));
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  // HS256 itself is always worth a warning (anyone with the secret can mint tokens).
  EXPECT_TRUE(HasOnly(result.diagnostics, "hs256", path_, 4, 15, Severity::warning));
  EXPECT_EQ(result.diagnostics.items().size(), 1u) << dump(result.diagnostics);
  EXPECT_EQ(result.config->auth.jwt[0].hs256_secret, std::string(40, 's'));
  const auto weak = load(
      "[[auth.jwt]]\n"
      "issuer = \"internal\"\n"
      "audiences = [\"mcpgw\"]\n"
      "algorithms = [\"HS256\"]\n"
      "hs256_secret = \"short\"\n");
  EXPECT_TRUE(HasOnly(weak.diagnostics, "weak-secret", path_, 5, 16, Severity::warning));
  const auto unused = load(
      "[[auth.jwt]]\n"
      "issuer = \"internal\"\n"
      "audiences = [\"mcpgw\"]\n"
      "jwks_url = \"https://idp/jwks\"\n"
      "hs256_secret = \"" +
      std::string(40, 's') + "\"\n");
  EXPECT_TRUE(HasOnly(unused.diagnostics, "invalid-value", path_, 5, 1));
}

// --- Rules and rate limits ---------------------------------------------------------------------

TEST_F(ConfigLoader, RuleErrorsDoNotCascadeIntoTheCompiler) {
  // The misspelled key would leave `tools` unset, making the rule look like it matches every
  // tool; the compiler must not analyse it with that guess.
  const auto result = load(
      "[[rule]]\n"
      "id = \"r1\"\n"
      "effect = \"deny\"\n"
      "tools = [\"x\"]\n"
      "[[rule]]\n"
      "id = \"r2\"\n"
      "effect = \"deny\"\n"
      "tool = [\"y\"]\n");
  EXPECT_EQ(result.diagnostics.items().size(), 1u) << dump(result.diagnostics);
  EXPECT_TRUE(HasOnly(result.diagnostics, "unknown-key", path_, 8, 1));
}

TEST_F(ConfigLoader, CompilerFindingsAreReported) {
  const auto result = load(
      "[[backend]]\n"
      "name = \"github\"\n"
      "command = [\"x\"]\n"
      "[[rule]]\n"
      "effect = \"allow\"\n"
      "backends = [\"gitlab\"]\n"
      "tools = [\"[unterminated\"]\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "unknown-backend", path_, 6, 13));
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-pattern", path_, 7, 10));
  EXPECT_FALSE(result.config);
}

TEST_F(ConfigLoader, RateLimitDurationsAreReportedOnce) {
  const auto negative = load(
      "[[rate_limit]]\n"
      "scope = \"principal\"\n"
      "requests = 10\n"
      "window = \"-1s\"\n");
  EXPECT_TRUE(HasOnly(negative.diagnostics, "invalid-duration", path_, 4, 10));
  EXPECT_TRUE(with_rule(negative.diagnostics, "non-positive-rate-limit").empty())
      << dump(negative.diagnostics);
  const auto zero = load(
      "[[rate_limit]]\n"
      "scope = \"principal\"\n"
      "requests = 0\n"
      "window = \"0s\"\n"
      "burst = -1\n");
  EXPECT_TRUE(with_rule(zero.diagnostics, "invalid-duration").empty());
  const auto positivity = with_rule(zero.diagnostics, "non-positive-rate-limit");
  ASSERT_EQ(positivity.size(), 3u) << dump(zero.diagnostics);
  EXPECT_EQ(positivity[0].where.line, 3u);
  EXPECT_EQ(positivity[0].where.column, 12u);
  EXPECT_EQ(positivity[1].where.line, 4u);
  EXPECT_EQ(positivity[2].where.line, 5u);
}

TEST_F(ConfigLoader, RateLimitRequiredKeysAndScope) {
  const auto result = load(
      "[[rate_limit]]\n"
      "scope = \"per-user\"\n"
      "requests = \"10\"\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", path_, 2, 9));
  EXPECT_TRUE(HasOnly(result.diagnostics, "wrong-type", path_, 3, 12));
  EXPECT_TRUE(HasOnly(result.diagnostics, "missing-key", path_, 1, 1));
  EXPECT_TRUE(mentions(result.diagnostics, "missing-key", "'window'"));
}

TEST_F(ConfigLoader, GeneratedIdsAndClaims) {
  const auto result = load(
      "[[rule]]\n"
      "effect = \"allow\"\n"
      "claims = { groups = [\"devs\"], realm_access.roles = \"admin\", \"a.b\" = [\"x\", \"y\"] }\n"
      "[[rule]]\n"
      "id = \"named\"\n"
      "effect = \"deny\"\n"
      "tools = [\"x\"]\n"
      "[[rule]]\n"
      "effect = \"deny\"\n"
      "prompts = [\"p\"]\n"
      "[[rate_limit]]\n"
      "scope = \"backend\"\n"
      "requests = 5\n"
      "window = \"1s\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  const auto& spec = result.config->policy_spec;
  ASSERT_EQ(spec.rules.size(), 3u);
  EXPECT_EQ(spec.rules[0].id, "gateway.toml#rule1");
  EXPECT_TRUE(spec.rules[0].id_generated);
  EXPECT_EQ(spec.rules[1].id, "named");
  EXPECT_FALSE(spec.rules[1].id_generated);
  EXPECT_EQ(spec.rules[2].id, "gateway.toml#rule3");
  ASSERT_EQ(spec.rate_limits.size(), 1u);
  EXPECT_EQ(spec.rate_limits[0].id, "gateway.toml#rate_limit1");
  const auto& claims = spec.rules[0].principal.claims;
  ASSERT_EQ(claims.size(), 3u);
  EXPECT_EQ(claims[0].claim, "groups");
  EXPECT_EQ(claims[1].claim, "realm_access.roles");
  ASSERT_EQ(claims[1].values.patterns.size(), 1u);
  EXPECT_EQ(claims[1].values.patterns[0].text, "admin");
  EXPECT_EQ(claims[2].claim, "a.b");
  EXPECT_EQ(claims[2].values.patterns.size(), 2u);
  EXPECT_EQ(claims[0].where.line, 3u);
  EXPECT_EQ(claims[0].where.column, 12u);
}

TEST_F(ConfigLoader, ClaimValuesMustBeStrings) {
  const auto result =
      load("[[rule]]\neffect = \"allow\"\nclaims = { level = 3, tags = [\"a\", 1] }\n");
  const auto wrong = with_rule(result.diagnostics, "wrong-type");
  ASSERT_EQ(wrong.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(wrong[0].where.column, 20u);
  EXPECT_EQ(wrong[1].where.column, 36u);
}

// --- Includes ----------------------------------------------------------------------------------

TEST_F(ConfigLoader, IncludesAreRelativeToTheIncludingFile) {
  dir_.write("policy/main.toml",
             "include = [\"more/extra.toml\"]\n"
             "[[rule]]\n"
             "effect = \"allow\"\n"
             "backends = [\"b\"]\n");
  dir_.write("policy/more/extra.toml",
             "[[backend]]\n"
             "name = \"b\"\n"
             "command = [\"x\"]\n"
             "[[rule]]\n"
             "effect = \"deny\"\n"
             "tools = [\"x\"]\n");
  const auto result =
      load("include = [\"policy/main.toml\"]\n[server]\nlisten = \"127.0.0.1:0\"\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  const auto& config = *result.config;
  ASSERT_EQ(config.files.size(), 3u);
  EXPECT_EQ(config.files[0], path_);
  EXPECT_EQ(config.files[1], file("policy/main.toml"));
  EXPECT_EQ(config.files[2], file("policy/more/extra.toml"));
  EXPECT_NE(result.sources.find(file("policy/more/extra.toml")), nullptr);
  ASSERT_EQ(config.backends.size(), 1u);
  // Depth first: the deepest include's rule comes first.
  ASSERT_EQ(config.policy_spec.rules.size(), 2u);
  EXPECT_EQ(config.policy_spec.rules[0].id, "policy/more/extra.toml#rule1");
  EXPECT_EQ(config.policy_spec.rules[0].where.file, file("policy/more/extra.toml"));
  EXPECT_EQ(config.policy_spec.rules[1].id, "policy/main.toml#rule1");
  EXPECT_FALSE(config.is_fragment);
}

// "../" after a symlinked directory climbs from the link's target, as the OS opens it; a purely
// textual normalisation would load the file beside the link instead.
TEST_F(ConfigLoader, ParentReferencesFollowSymlinkedDirectories) {
  dir_.write("real/shared.toml", "[[rule]]\nid = \"from-real\"\neffect = \"allow\"\n");
  dir_.write("real/sub/a.toml", "include = [\"../shared.toml\"]\n");
  dir_.write("root/shared.toml", "[[rule]]\nid = \"beside-link\"\neffect = \"allow\"\n");
  std::filesystem::create_directory_symlink(dir_.path() / "real" / "sub",
                                            dir_.path() / "root" / "sub");
  path_ = dir_.write("root/main.toml", "include = [\"sub/a.toml\"]\n");
  const auto result = load_config(path_, test_options());
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  ASSERT_EQ(result.config->policy_spec.rules.size(), 1u);
  EXPECT_EQ(result.config->policy_spec.rules[0].id, "from-real");
}

TEST_F(ConfigLoader, IncludeGlobsLoadSorted) {
  dir_.write("policy.d/20-b.toml", "[[rule]]\nid = \"b\"\neffect = \"deny\"\ntools = [\"b\"]\n");
  dir_.write("policy.d/10-a.toml", "[[rule]]\nid = \"a\"\neffect = \"deny\"\ntools = [\"a\"]\n");
  dir_.write("policy.d/notes.txt", "not toml");
  dir_.write("policy.d/.hidden.toml", "garbage = = =");
  const auto result = load("include = [\"policy.d/*.toml\"]\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  ASSERT_EQ(result.config->policy_spec.rules.size(), 2u);
  EXPECT_EQ(result.config->policy_spec.rules[0].id, "a");
  EXPECT_EQ(result.config->policy_spec.rules[1].id, "b");
  const auto empty = load("include = [\"policy.d/*.json\"]\n");
  EXPECT_TRUE(HasOnly(empty.diagnostics, "empty-include-glob", path_, 1, 12, Severity::warning));
  const auto no_dir = load("include = [\"nowhere/*.toml\"]\n");
  EXPECT_TRUE(HasOnly(no_dir.diagnostics, "missing-file", path_, 1, 12));
  const auto wild_dir = load("include = [\"*/x.toml\"]\n");
  EXPECT_TRUE(HasOnly(wild_dir.diagnostics, "invalid-value", path_, 1, 12));
}

TEST_F(ConfigLoader, MissingIncludeFile) {
  const auto result = load("include = [\"ok.toml\", \"missing.toml\"]\n");
  dir_.write("ok.toml", "");
  const auto again = load("include = [\"ok.toml\", \"missing.toml\"]\n");
  EXPECT_TRUE(HasOnly(again.diagnostics, "missing-file", path_, 1, 23));
  EXPECT_TRUE(mentions(again.diagnostics, "missing-file", file("missing.toml")));
  EXPECT_EQ(with_rule(result.diagnostics, "missing-file").size(), 2u);
}

TEST_F(ConfigLoader, IncludeCycleShowsTheChain) {
  dir_.write("a.toml", "include = [\"b.toml\"]\n");
  dir_.write("b.toml", "\ninclude = [\"a.toml\"]\n");
  const auto result = load("include = [\"a.toml\"]\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "include-cycle", file("b.toml"), 2, 12));
  EXPECT_TRUE(mentions(result.diagnostics, "include-cycle",
                       file("a.toml") + " -> " + file("b.toml") + " -> " + file("a.toml")));
  const auto self = load("include = [\"gateway.toml\"]\n");
  EXPECT_TRUE(HasOnly(self.diagnostics, "include-cycle", path_, 1, 12));
}

// The root is level 0; a chain of includes may go 16 levels below it, and level 17 is refused.
TEST_F(ConfigLoader, IncludesNestAtMostSixteenLevels) {
  const auto chain = [&](int levels) {
    for (int level = 1; level <= levels; ++level) {
      const std::string next =
          level < levels ? "include = [\"" + std::to_string(level + 1) + ".toml\"]\n" : "";
      dir_.write(std::to_string(level) + ".toml",
                 next + "[[rule]]\nid = \"level" + std::to_string(level) +
                     "\"\neffect = \"deny\"\ntools = [\"t" + std::to_string(level) + "\"]\n");
    }
    return load("include = [\"1.toml\"]\n");
  };
  const auto deepest = chain(16);
  ASSERT_TRUE(deepest.config) << dump(deepest.diagnostics);
  EXPECT_EQ(deepest.config->files.size(), 17u);
  EXPECT_EQ(deepest.config->policy_spec.rules.front().id, "level16");

  const auto too_deep = chain(17);
  EXPECT_TRUE(HasOnly(too_deep.diagnostics, "include-limit", file("16.toml"), 1, 12));
  EXPECT_EQ(with_rule(too_deep.diagnostics, "include-limit")[0].message,
            "'" + file("17.toml") +
                "' would be at include level 17; includes nest at most 16 levels below the root "
                "file");
}

// 256 files in all, the root file included.
TEST_F(ConfigLoader, AtMost256FilesAreRead) {
  std::string includes = "include = [";
  for (int i = 1; i <= 256; ++i) {
    dir_.write("d/" + std::to_string(i) + ".toml", "");
    includes += (i == 1 ? "\"d/" : ", \"d/") + std::to_string(i) + ".toml\"";
  }
  includes += "]\n";
  const auto result = load(includes);
  const auto limit = with_rule(result.diagnostics, "include-limit");
  ASSERT_EQ(limit.size(), 1u) << dump(result.diagnostics);
  EXPECT_EQ(limit[0].message, "'" + file("d/256.toml") +
                                  "' would be file 257; a configuration reads at most 256 files, "
                                  "the root file included");
  EXPECT_EQ(result.sources.contents.size(), 256u);
}

TEST_F(ConfigLoader, TestCasesInAConfigurationAreAnError) {
  const auto mixed = load(
      "[server]\n"
      "listen = \"127.0.0.1:8080\"\n"
      "[[case]]\n"
      "name = \"x\"\n");
  EXPECT_TRUE(HasOnly(mixed.diagnostics, "unknown-key", path_, 3, 3));
  EXPECT_EQ(mixed.diagnostics.items().size(), 1u) << dump(mixed.diagnostics);
  EXPECT_EQ(mixed.diagnostics.items()[0].message,
            "'case' does not belong in a configuration: policy decision test cases ([[case]]) go "
            "in a file of their own, used with `mcpgw lint --test CASES POLICY`");
  // What serve says when given a test file instead of a configuration.
  const auto cases_only = load("[[case]]\nname = \"x\"\n");
  EXPECT_TRUE(HasOnly(cases_only.diagnostics, "unknown-key", path_, 1, 3));
  EXPECT_EQ(cases_only.diagnostics.items()[0].message,
            "'" + path_ +
                "' holds policy decision test cases ([[case]]), not a configuration; run them "
                "with `mcpgw lint --test " +
                path_ + " POLICY`");
  EXPECT_FALSE(cases_only.config);
  // In an included file, too.
  dir_.write("rules.toml", "[[case]]\nname = \"x\"\n");
  const auto included = load("include = [\"rules.toml\"]\n");
  EXPECT_TRUE(HasOnly(included.diagnostics, "unknown-key", file("rules.toml"), 1, 3));
  EXPECT_NE(included.diagnostics.items()[0].message.find("does not belong"), std::string::npos);
}

TEST_F(ConfigLoader, DiamondIncludeIsReadOnce) {
  dir_.write("common.toml", "[[rule]]\nid = \"common\"\neffect = \"deny\"\ntools = [\"x\"]\n");
  dir_.write("a.toml", "include = [\"common.toml\"]\n");
  dir_.write("b.toml", "include = [\"common.toml\"]\n");
  const auto result = load("include = [\"a.toml\", \"b.toml\"]\n");
  EXPECT_TRUE(
      HasOnly(result.diagnostics, "duplicate-include", file("b.toml"), 1, 12, Severity::warning));
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->policy_spec.rules.size(), 1u);
}

TEST_F(ConfigLoader, RootOnlyTablesInIncludedFiles) {
  dir_.write("policy.toml",
             "[server]\n"
             "listen = \"0.0.0.0:1\"\n"
             "[policy]\n"
             "default = \"allow\"\n"
             "[auth]\n"
             "allow_anonymous = true\n"
             "[[auth.api_key]]\n"
             "name = \"k\"\n"
             "sha256 = \"" +
                 std::string(64, 'a') + "\"\n");
  const auto result = load("include = [\"policy.toml\"]\n");
  const auto root_only = with_rule(result.diagnostics, "root-only");
  ASSERT_EQ(root_only.size(), 3u) << dump(result.diagnostics);
  EXPECT_EQ(root_only[0].where.file, file("policy.toml"));
  EXPECT_EQ(root_only[0].where.line, 1u);
  EXPECT_EQ(root_only[0].where.column, 2u);
  EXPECT_EQ(root_only[1].where.line, 3u);
  EXPECT_EQ(root_only[2].where.line, 6u);
  EXPECT_EQ(root_only[2].where.column, 1u);
}

TEST_F(ConfigLoader, EnvironmentInIncludePaths) {
  dir_.write("prod/policy.toml", "[[rule]]\nid = \"prod\"\neffect = \"deny\"\ntools = [\"x\"]\n");
  const auto result =
      load("include = [\"${STAGE:-dev}/policy.toml\"]\n", test_options({{"STAGE", "prod"}}));
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_EQ(result.config->policy_spec.rules.at(0).id, "prod");
}

TEST_F(ConfigLoader, SyntaxErrorInIncludedFileNamesThatFile) {
  dir_.write("bad.toml", "[[rule]\n");
  const auto result = load("include = [\"bad.toml\"]\n");
  ASSERT_EQ(with_rule(result.diagnostics, "toml-syntax").size(), 1u) << dump(result.diagnostics);
  EXPECT_EQ(with_rule(result.diagnostics, "toml-syntax")[0].where.file, file("bad.toml"));
}

// --- Fragments ---------------------------------------------------------------------------------

TEST_F(ConfigLoader, PolicyOnlyFileIsAFragment) {
  const auto result = load(
      "[[rule]]\n"
      "effect = \"allow\"\n"
      "backends = [\"github\"]\n"
      "tools = [\"create_*\"]\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(result.config->is_fragment);
  EXPECT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  ASSERT_TRUE(result.config->policy);
}

TEST_F(ConfigLoader, ServerMakesItAFullConfigWithBackendChecks) {
  const auto result = load(
      "[server]\n"
      "[[rule]]\n"
      "effect = \"allow\"\n"
      "backends = [\"github\"]\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "unknown-backend", path_, 4, 13));
}

// --- Round trip --------------------------------------------------------------------------------

TEST_F(ConfigLoader, FullConfigRoundTrip) {
  const std::string certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  dir_.write("certs/server.pem", certificate);
  dir_.write("certs/server.key", "-----BEGIN PRIVATE KEY-----\nMC4C\n-----END PRIVATE KEY-----\n");
  dir_.write("certs/clients.pem", certificate);
  dir_.write("jwks.json", "{}");
  dir_.write("ca.pem", certificate);
  std::filesystem::create_directories(dir_.path() / "work");
  const auto result = load(R"(include = []

[server]
listen = "[::1]:8443"
path = "/gateway/mcp"
separator = "-"
prefix = "always"
allowed_hosts = ["localhost", "gw.example.com:8443"]
allowed_origins = ["https://app.example.com"]
max_body_bytes = 1048576
max_sse_event_bytes = 2097152
max_line_bytes = 65536
max_sessions = 50
session_idle_timeout = "5m"
request_timeout = "1m30s"

[server.tls]
cert = "certs/server.pem"
key = "certs/server.key"
client_ca = "certs/clients.pem"
require_client_cert = true
min_version = "1.3"

[policy]
default = "allow"

[auth]
allow_anonymous = true
api_key_header = "X-Gateway-Key"

[[auth.jwt]]
issuer = "https://idp.example.com"
audiences = ["mcpgw", "other"]
jwks_file = "jwks.json"
algorithms = ["RS256", "EdDSA"]
leeway = "2m"

[[auth.api_key]]
name = "ci-bot"
sha256 = "6f14fb2bfeaaef754016f93290bc77b96754504257a3b27c9bf45b038deecdf1"

[[backend]]
name = "local"
command = ["node", "server.js", "--stdio"]
env = { DEBUG = "1", TOKEN = "${LOCAL_TOKEN}" }
cwd = "work"
timeout = "10s"

[[backend]]
name = "remote"
url = "https://mcp.example.com/sse"
transport = "sse"
headers = { Authorization = "Bearer abc" }
forward_headers = ["traceparent"]
ca_file = "ca.pem"

[[rule]]
id = "devs"
effect = "allow"
description = "Developers"
methods = ["tools/call"]
backends = ["local"]
tools = ["create_*"]
subjects = ["alice"]
api_keys = ["ci-bot"]
cert_subjects = ["CN=ci,O=acme"]
claims = { groups = ["devs"] }
scopes = ["mcp:write"]
authenticated = true

[[rule]]
id = "no-files"
effect = "deny"
resources = ["file:///etc/**"]
prompts = ["secret"]

[[rate_limit]]
id = "per-user"
scope = "principal_tool"
requests = 100
window = "1m"
burst = 20
backends = ["remote"]
tools = ["search"]
subjects = ["bob"]
)",
                           test_options({{"LOCAL_TOKEN", "t0k"}}, true));
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  // Only the warnings about the risky settings this example uses on purpose.
  EXPECT_EQ(result.diagnostics.items().size(), 2u) << dump(result.diagnostics);
  EXPECT_TRUE(HasOnly(result.diagnostics, "anonymous-allow", path_, 28, 19, Severity::warning));
  EXPECT_TRUE(HasOnly(result.diagnostics, "forwarded-headers", path_, 54, 19, Severity::warning));
  const Config& config = *result.config;
  EXPECT_FALSE(config.is_fragment);
  EXPECT_EQ(config.files, std::vector<std::string>{path_});

  const auto& server = config.server;
  EXPECT_EQ(server.listen, "[::1]:8443");
  EXPECT_EQ(server.host, "::1");
  EXPECT_EQ(server.port, 8443);
  EXPECT_EQ(server.path, "/gateway/mcp");
  EXPECT_EQ(server.separator, "-");
  EXPECT_EQ(server.prefix, PrefixMode::always);
  EXPECT_EQ(server.allowed_hosts, (std::vector<std::string>{"localhost", "gw.example.com:8443"}));
  EXPECT_EQ(server.allowed_origins, std::vector<std::string>{"https://app.example.com"});
  EXPECT_EQ(server.max_body_bytes, 1048576u);
  EXPECT_EQ(server.max_sse_event_bytes, 2097152u);
  EXPECT_EQ(server.max_line_bytes, 65536u);
  EXPECT_EQ(server.max_sessions, 50u);
  EXPECT_EQ(server.session_idle_timeout, std::chrono::minutes(5));
  EXPECT_EQ(server.request_timeout, std::chrono::seconds(90));
  EXPECT_EQ(server.where.line, 3u);
  ASSERT_TRUE(server.tls);
  EXPECT_EQ(server.tls->cert_file, file("certs/server.pem"));
  EXPECT_EQ(server.tls->key_file, file("certs/server.key"));
  EXPECT_EQ(server.tls->client_ca_file, file("certs/clients.pem"));
  EXPECT_TRUE(server.tls->require_client_cert);
  EXPECT_EQ(server.tls->min_version, "1.3");

  EXPECT_EQ(config.policy_spec.default_effect, policy::Effect::allow);
  EXPECT_EQ(config.policy_spec.default_where.line, 25u);
  EXPECT_TRUE(config.auth.allow_anonymous);
  EXPECT_EQ(config.auth.api_key_header, "X-Gateway-Key");
  ASSERT_EQ(config.auth.jwt.size(), 1u);
  const auto& jwt = config.auth.jwt[0];
  EXPECT_EQ(jwt.issuer, "https://idp.example.com");
  EXPECT_EQ(jwt.audiences, (std::vector<std::string>{"mcpgw", "other"}));
  EXPECT_EQ(jwt.jwks_file, file("jwks.json"));
  EXPECT_TRUE(jwt.jwks_url.empty());
  EXPECT_EQ(jwt.algorithms, (std::vector<std::string>{"RS256", "EdDSA"}));
  EXPECT_EQ(jwt.leeway, std::chrono::seconds(120));
  EXPECT_EQ(jwt.where.line, 31u);
  ASSERT_EQ(config.auth.api_keys.size(), 1u);
  EXPECT_EQ(config.auth.api_keys[0].name, "ci-bot");
  EXPECT_EQ(config.auth.api_keys[0].sha256_hex,
            "6f14fb2bfeaaef754016f93290bc77b96754504257a3b27c9bf45b038deecdf1");

  ASSERT_EQ(config.backends.size(), 2u);
  const auto& local = config.backends[0];
  EXPECT_EQ(local.name, "local");
  EXPECT_EQ(local.transport, BackendTransport::stdio);
  EXPECT_EQ(local.command, (std::vector<std::string>{"node", "server.js", "--stdio"}));
  EXPECT_EQ(local.env, (std::map<std::string, std::string>{{"DEBUG", "1"}, {"TOKEN", "t0k"}}));
  EXPECT_EQ(local.cwd, file("work"));
  EXPECT_EQ(local.timeout, std::chrono::seconds(10));
  EXPECT_EQ(local.where.line, 42u);
  EXPECT_EQ(local.name_where.line, 43u);
  EXPECT_EQ(local.name_where.column, 8u);
  const auto& remote = config.backends[1];
  EXPECT_EQ(remote.transport, BackendTransport::sse);
  EXPECT_EQ(remote.url, "https://mcp.example.com/sse");
  EXPECT_EQ(remote.headers.at("Authorization"), "Bearer abc");
  EXPECT_EQ(remote.forward_headers, std::vector<std::string>{"traceparent"});
  EXPECT_TRUE(remote.tls_verify);
  EXPECT_EQ(remote.ca_file, file("ca.pem"));
  EXPECT_EQ(remote.timeout, std::chrono::seconds(60));

  const auto& rules = config.policy_spec.rules;
  ASSERT_EQ(rules.size(), 2u);
  const auto& devs = rules[0];
  EXPECT_EQ(devs.id, "devs");
  EXPECT_EQ(devs.description, "Developers");
  EXPECT_EQ(devs.effect, policy::Effect::allow);
  EXPECT_EQ(devs.where.line, 57u);
  ASSERT_TRUE(devs.methods.present);
  EXPECT_EQ(devs.methods.patterns.at(0).text, "tools/call");
  EXPECT_EQ(devs.methods.where.line, 61u);
  EXPECT_EQ(devs.methods.where.column, 11u);
  EXPECT_EQ(devs.methods.patterns.at(0).where.column, 12u);
  EXPECT_EQ(devs.backends.patterns.at(0).text, "local");
  EXPECT_EQ(devs.tools.patterns.at(0).text, "create_*");
  EXPECT_FALSE(devs.prompts.present);
  EXPECT_FALSE(devs.resources.present);
  EXPECT_EQ(devs.principal.subjects.patterns.at(0).text, "alice");
  EXPECT_EQ(devs.principal.api_keys.patterns.at(0).text, "ci-bot");
  EXPECT_EQ(devs.principal.cert_subjects.patterns.at(0).text, "CN=ci,O=acme");
  ASSERT_EQ(devs.principal.claims.size(), 1u);
  EXPECT_EQ(devs.principal.claims[0].claim, "groups");
  ASSERT_EQ(devs.principal.scopes.size(), 1u);
  EXPECT_EQ(devs.principal.scopes[0].text, "mcp:write");
  EXPECT_EQ(devs.principal.authenticated, std::optional<bool>(true));
  const auto& deny = rules[1];
  EXPECT_EQ(deny.effect, policy::Effect::deny);
  EXPECT_EQ(deny.resources.patterns.at(0).text, "file:///etc/**");
  EXPECT_EQ(deny.prompts.patterns.at(0).text, "secret");
  EXPECT_FALSE(deny.principal.authenticated.has_value());

  ASSERT_EQ(config.policy_spec.rate_limits.size(), 1u);
  const auto& limit = config.policy_spec.rate_limits[0];
  EXPECT_EQ(limit.id, "per-user");
  EXPECT_EQ(limit.scope, policy::RateLimitScope::principal_tool);
  EXPECT_EQ(limit.requests, 100);
  EXPECT_EQ(limit.window_ms, 60'000);
  EXPECT_EQ(limit.burst, 20);
  EXPECT_EQ(limit.where.line, 77u);
  EXPECT_EQ(limit.requests_where.line, 80u);
  EXPECT_EQ(limit.window_where.line, 81u);
  EXPECT_EQ(limit.burst_where.line, 82u);
  EXPECT_EQ(limit.backends.patterns.at(0).text, "remote");
  EXPECT_EQ(limit.tools.patterns.at(0).text, "search");
  EXPECT_EQ(limit.principal.subjects.patterns.at(0).text, "bob");

  ASSERT_TRUE(config.policy);
  EXPECT_EQ(config.policy->rule_count(), 2u);
  EXPECT_EQ(config.policy->default_effect(), policy::Effect::allow);
}

TEST_F(ConfigLoader, DefaultsWhenTablesAreAbsent) {
  const auto result = load("[[backend]]\nname = \"a\"\ncommand = [\"x\"]\n");
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  const auto& server = result.config->server;
  EXPECT_EQ(server.listen, "127.0.0.1:8080");
  EXPECT_EQ(server.host, "127.0.0.1");
  EXPECT_EQ(server.port, 8080);
  EXPECT_EQ(server.path, "/mcp");
  EXPECT_EQ(server.separator, "__");
  EXPECT_EQ(server.prefix, PrefixMode::automatic);
  EXPECT_FALSE(server.tls);
  EXPECT_EQ(result.config->policy_spec.default_effect, policy::Effect::deny);
  EXPECT_FALSE(result.config->auth.allow_anonymous);
  EXPECT_EQ(result.config->auth.api_key_header, "X-API-Key");
  EXPECT_FALSE(result.config->is_fragment);
}

// --- Robustness --------------------------------------------------------------------------------

TEST_F(ConfigLoader, MissingRootFileIsAnIoErrorAtLineZero) {
  const auto missing = file("does-not-exist.toml");
  const auto result = load_config(missing, test_options());
  EXPECT_FALSE(result.config);
  EXPECT_TRUE(HasOnly(result.diagnostics, "io-error", missing, 0, 0));
  EXPECT_EQ(result.diagnostics.items().size(), 1u);
  const auto directory = load_config(dir_.path().string(), test_options());
  EXPECT_TRUE(HasOnly(directory.diagnostics, "io-error", dir_.path().string(), 0, 0));
}

TEST_F(ConfigLoader, KeepsGoingAfterErrors) {
  const auto result = load(
      "[server]\n"
      "listen = \"nope\"\n"
      "[[backend]]\n"
      "name = \"a.b\"\n"
      "command = []\n"
      "[[rule]]\n"
      "effect = \"maybe\"\n"
      "[[rate_limit]]\n"
      "scope = \"principal\"\n"
      "requests = 1\n"
      "window = \"forever\"\n");
  EXPECT_EQ(with_rule(result.diagnostics, "invalid-listen").size(), 1u);
  EXPECT_EQ(with_rule(result.diagnostics, "invalid-backend-name").size(), 1u);
  EXPECT_EQ(with_rule(result.diagnostics, "empty-command").size(), 1u);
  EXPECT_EQ(with_rule(result.diagnostics, "invalid-value").size(), 1u);
  EXPECT_EQ(with_rule(result.diagnostics, "invalid-duration").size(), 1u);
  EXPECT_EQ(result.diagnostics.items().size(), 5u) << dump(result.diagnostics);
}

TEST_F(ConfigLoader, OversizedFileIsRejectedUnread) {
  std::string big(17u << 20, '#');
  const auto result = load(big);
  EXPECT_FALSE(result.config);
  EXPECT_TRUE(HasOnly(result.diagnostics, "file-too-large", path_, 0, 0));
}

TEST_F(ConfigLoader, DeepNestingIsRejectedBeforeParsing) {
  std::string key = "a";
  for (int i = 0; i < 200'000; ++i) {
    key += ".a";
  }
  const auto dotted = load(key + " = 1\n");
  EXPECT_TRUE(HasOnly(dotted.diagnostics, "nesting-too-deep", path_, 1, 128));
  const auto arrays = load("x = " + std::string(100'000, '[') + "\n");
  EXPECT_TRUE(HasOnly(arrays.diagnostics, "nesting-too-deep", path_, 1, 69));
  std::string tables = "x = ";
  for (int i = 0; i < 10'000; ++i) {
    tables += "{a=";
  }
  const auto inline_tables = load(tables + "\n");
  EXPECT_EQ(with_rule(inline_tables.diagnostics, "nesting-too-deep").size(), 1u);
}

TEST_F(ConfigLoader, MessagesStayOnOneLineAndShort) {
  const auto result = load(
      "\"bad\\nkey\" = 1\n"
      "[[backend]]\n"
      "name = \"" +
          std::string(500, 'n') +
          "\"\n"
          "command = [\"x\"]\n",
      test_options());
  ASSERT_EQ(result.diagnostics.items().size(), 2u) << dump(result.diagnostics);
  for (const auto& d : result.diagnostics.items()) {
    EXPECT_EQ(d.message.find('\n'), std::string::npos) << d.message;
    EXPECT_LT(d.message.size(), 300u) << d.message;
  }
  EXPECT_NE(result.diagnostics.items()[0].message.find("'bad\\nkey'"), std::string::npos);
}

TEST_F(ConfigLoader, TextEntryPointReadsNoRootFile) {
  dir_.write("policy.toml", "[[rule]]\nid = \"p\"\neffect = \"deny\"\ntools = [\"x\"]\n");
  const auto virtual_path = file("virtual.toml");
  const auto result =
      load_config_text(virtual_path, std::string("include = [\"policy.toml\"]\n"), test_options());
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_EQ(result.config->files.at(0), virtual_path);
  EXPECT_EQ(result.config->policy_spec.rules.at(0).id, "p");
  EXPECT_NE(result.sources.find(virtual_path), nullptr);
  const auto huge = load_config_text(virtual_path, std::string(17u << 20, ' '), test_options());
  EXPECT_TRUE(HasOnly(huge.diagnostics, "file-too-large", virtual_path, 0, 0));
}

TEST_F(ConfigLoader, IncludedDevicesAreRefused) {
  const auto result = load("include = [\"/dev/zero\"]\n");
  EXPECT_TRUE(HasOnly(result.diagnostics, "io-error", path_, 1, 12));
  EXPECT_TRUE(mentions(result.diagnostics, "io-error", "not a regular file"));
}

TEST_F(ConfigLoader, BinaryGarbageNeverThrows) {
  std::string garbage;
  std::uint32_t state = 12345;
  for (int i = 0; i < 4096; ++i) {
    state = state * 1103515245u + 12345u;
    garbage.push_back(static_cast<char>(state >> 24));
  }
  garbage[100] = '\0';
  LoadResult result;
  EXPECT_NO_THROW(result = load(garbage));
  EXPECT_FALSE(result.config);
  EXPECT_EQ(with_rule(result.diagnostics, "toml-syntax").size(), 1u) << dump(result.diagnostics);
}

TEST_F(ConfigLoader, MutatedConfigsNeverThrow) {
  // Cheap deterministic mutation fuzzing over a realistic file; the libFuzzer target goes deeper.
  const std::string base =
      "include = []\n[server]\nlisten = \"127.0.0.1:8080\"\nseparator = \"__\"\n"
      "[[backend]]\nname = \"a\"\ncommand = [\"x\", \"${Y:-z}\"]\n"
      "[[rule]]\neffect = \"allow\"\ntools = [\"re:(a|b)\", \"c*\"]\n"
      "claims = { g = [\"x\"] }\n[[rate_limit]]\nscope = \"principal\"\nrequests = 5\n"
      "window = \"1s\"\n";
  constexpr std::string_view kAlphabet = "[]{}=\"'.,#$\n 0a-_:\\";
  std::uint32_t state = 7;
  for (int round = 0; round < 300; ++round) {
    std::string text = base;
    for (int edit = 0; edit < 3; ++edit) {
      state = state * 1664525u + 1013904223u;
      const auto position = (state >> 8) % text.size();
      const char c = kAlphabet[(state >> 20) % kAlphabet.size()];
      if ((state & 3u) == 0) {
        text.erase(position, 1);
      } else if ((state & 3u) == 1) {
        text.insert(position, 1, c);
      } else {
        text[position] = c;
      }
    }
    EXPECT_NO_THROW(load(text)) << text;
  }
}

}  // namespace
}  // namespace mcpgw::config

namespace mcpgw::config {
namespace {

// --- serve keys: legacy endpoints, limits, backend lifecycle ------------------------------------

class ServeKeys : public ::testing::Test {
 protected:
  LoadResult load(const std::string& text) {
    path_ = dir_.write("gateway.toml", text);
    return load_config(path_, test_support::test_options());
  }
  test_support::TempDir dir_;
  std::string path_;
};

TEST_F(ServeKeys, DefaultsAndExplicitValuesReachTheConfig) {
  const auto defaults = load("[[backend]]\nname = \"a\"\ncommand = [\"x\"]\n");
  ASSERT_TRUE(defaults.config) << test_support::dump(defaults.diagnostics);
  EXPECT_EQ(defaults.config->server.sse_path, "/sse");
  EXPECT_EQ(defaults.config->server.message_path, "/message");
  EXPECT_EQ(defaults.config->backends[0].session_mode, SessionMode::per_session);
  EXPECT_FALSE(defaults.config->backends[0].fail_closed);

  const auto result = load(
      "[server]\n"
      "sse_path = \"\"\n"
      "message_path = \"/legacy/post\"\n"
      "max_requests_per_session = 8\n"
      "stream_replay_events = 1000\n"
      "drain_timeout = \"2s\"\n"
      "[[backend]]\n"
      "name = \"local\"\n"
      "command = [\"x\"]\n"
      "session_mode = \"shared\"\n"
      "fail_closed = true\n"
      "restart_backoff = \"100ms\"\n"
      "restart_backoff_max = \"1s\"\n"
      "shutdown_grace = \"3s\"\n"
      "[[backend]]\n"
      "name = \"remote\"\n"
      "url = \"http://127.0.0.1:9/mcp\"\n"
      "connect_timeout = \"750ms\"\n");
  ASSERT_TRUE(result.config) << test_support::dump(result.diagnostics);
  const auto& server = result.config->server;
  EXPECT_EQ(server.sse_path, "");
  EXPECT_EQ(server.message_path, "/legacy/post");
  EXPECT_EQ(server.max_requests_per_session, 8u);
  EXPECT_EQ(server.stream_replay_events, 1000u);
  EXPECT_EQ(server.drain_timeout, std::chrono::seconds(2));
  const auto& local = result.config->backends[0];
  EXPECT_EQ(local.session_mode, SessionMode::shared);
  EXPECT_TRUE(local.fail_closed);
  EXPECT_EQ(local.restart_backoff, std::chrono::milliseconds(100));
  EXPECT_EQ(local.restart_backoff_max, std::chrono::seconds(1));
  EXPECT_EQ(local.shutdown_grace, std::chrono::seconds(3));
  EXPECT_EQ(result.config->backends[1].connect_timeout, std::chrono::milliseconds(750));
}

TEST_F(ServeKeys, BadValuesAreReportedWhereTheyAre) {
  const auto clash = load("[server]\npath = \"/mcp\"\nsse_path = \"/mcp\"\n");
  EXPECT_TRUE(test_support::HasOnly(clash.diagnostics, "invalid-value", path_, 3, 12))
      << test_support::dump(clash.diagnostics);

  const auto mode =
      load("[[backend]]\nname = \"a\"\ncommand = [\"x\"]\nsession_mode = \"pooled\"\n");
  EXPECT_TRUE(test_support::HasOnly(mode.diagnostics, "invalid-value", path_, 4, 16))
      << test_support::dump(mode.diagnostics);

  const auto backoff = load(
      "[[backend]]\nname = \"a\"\ncommand = [\"x\"]\nrestart_backoff = \"1m\"\n"
      "restart_backoff_max = \"1s\"\n");
  EXPECT_TRUE(test_support::HasOnly(backoff.diagnostics, "invalid-duration", path_, 4, 19))
      << test_support::dump(backoff.diagnostics);

  const auto wrong_transport =
      load("[[backend]]\nname = \"a\"\ncommand = [\"x\"]\nconnect_timeout = \"1s\"\n");
  EXPECT_TRUE(test_support::HasOnly(wrong_transport.diagnostics, "backend-transport", path_, 4, 1))
      << test_support::dump(wrong_transport.diagnostics);

  const auto zero = load("[server]\nmax_requests_per_session = 0\n");
  EXPECT_TRUE(test_support::HasOnly(zero.diagnostics, "invalid-value", path_, 2, 28))
      << test_support::dump(zero.diagnostics);
}

}  // namespace
}  // namespace mcpgw::config
