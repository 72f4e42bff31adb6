// Security of `mcpgw serve` end to end (issue 4): the real binary in front of a real fixture
// backend, with keys and certificates made at test time by the `openssl` CLI. Tokens are signed
// in the test with those keys (OpenSSL EVP), API keys are hashed as the config wants them.
#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../unit/gateway/auth/jwt_test_support.hpp"
#include "harness.hpp"

namespace mcpgw::integration {
namespace {

namespace keys = mcpgw::auth::test;
using nlohmann::json;

constexpr const char* kOpenssl = "/usr/bin/openssl";
constexpr const char* kCurl = "/usr/bin/curl";
constexpr const char* kIssuer = "https://idp.test";
constexpr const char* kVersion = "2025-11-25";
constexpr const char* kApiKey = "ci-key-0123456789abcdef";
constexpr const char* kBackendSecret = "backend-secret-value";

// Runs a program to completion (bounded); true on exit status 0.
bool run(const std::filesystem::path& dir, const std::vector<std::string>& argv) {
  Child child(argv, dir / "commands.stderr");
  const auto status = child.wait(60s);
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0;
}

keys::TestKey load_key(const std::filesystem::path& pem, keys::KeyKind kind) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(pem.c_str(), "r"), BIO_free);
  if (!bio)
    throw std::runtime_error("cannot open " + pem.string());
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr)
    throw std::runtime_error("not a private key: " + pem.string());
  return keys::TestKey{kind, std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free)};
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

// Keys and certificates of the whole file, made once by the openssl CLI.
struct Material {
  std::filesystem::path dir = make_temp_dir("security");
  keys::TestKey rsa, rsa_rotated, p256, ed25519;
  std::string error;

  Material() {
    const auto key = [&](const std::string& name, std::vector<std::string> algorithm) {
      std::vector<std::string> argv{kOpenssl, "genpkey"};
      argv.insert(argv.end(), algorithm.begin(), algorithm.end());
      argv.insert(argv.end(), {"-out", path(name + ".key")});
      if (error.empty() && !run(dir, argv))
        error = "openssl genpkey failed for " + name;
    };
    key("rsa", {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
    key("rsa-rotated", {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
    key("p256", {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
    key("ed25519", {"-algorithm", "ED25519"});
    const auto certificate = [&](const std::string& name, const std::string& subject,
                                 const std::string& issuer, std::vector<std::string> extensions) {
      std::vector<std::string> argv{kOpenssl,
                                    "req",
                                    "-x509",
                                    "-newkey",
                                    "ec",
                                    "-pkeyopt",
                                    "ec_paramgen_curve:prime256v1",
                                    "-nodes",
                                    "-keyout",
                                    path(name + ".key"),
                                    "-out",
                                    path(name + ".pem"),
                                    "-days",
                                    "2",
                                    "-subj",
                                    subject};
      if (!issuer.empty())
        argv.insert(argv.end(), {"-CA", path(issuer + ".pem"), "-CAkey", path(issuer + ".key")});
      for (auto& extension : extensions)
        argv.insert(argv.end(), {"-addext", std::move(extension)});
      if (error.empty() && !run(dir, argv))
        error = "openssl req failed for " + name;
    };
    const std::string leaf = "basicConstraints=critical,CA:FALSE";
    certificate("ca", "/CN=mcpgw integration CA", "", {});
    certificate("server", "/CN=localhost", "ca",
                {leaf, "subjectAltName=IP:127.0.0.1,DNS:localhost"});
    certificate("agent", "/O=Example/CN=build-agent", "ca", {leaf, "extendedKeyUsage=clientAuth"});
    certificate("other-ca", "/CN=someone else", "", {});
    certificate("stranger", "/O=Example/CN=build-agent", "other-ca",
                {leaf, "extendedKeyUsage=clientAuth"});
    if (!error.empty())
      return;
    rsa = load_key(dir / "rsa.key", keys::KeyKind::rsa);
    rsa_rotated = load_key(dir / "rsa-rotated.key", keys::KeyKind::rsa);
    p256 = load_key(dir / "p256.key", keys::KeyKind::p256);
    ed25519 = load_key(dir / "ed25519.key", keys::KeyKind::ed25519);
  }
  ~Material() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::string path(const std::string& file) const { return (dir / file).string(); }

  json jwks(bool rotated) const {
    json set = {keys::public_jwk(rsa, "rsa-1"), keys::public_jwk(p256, "ec-1"),
                keys::public_jwk(ed25519, "ed-1")};
    if (rotated)
      set.push_back(keys::public_jwk(rsa_rotated, "rsa-2"));
    return json{{"keys", set}};
  }
};

const Material& material() {
  static const Material instance;
  return instance;
}

std::string token_for(const std::string& subject, const std::string& algorithm = "RS256",
                      const std::string& kid = "rsa-1") {
  const auto& m = material();
  const auto& key = algorithm == "ES256" ? m.p256 : algorithm == "EdDSA" ? m.ed25519 : m.rsa;
  auto claims = keys::claims_at(keys::unix_now(), kIssuer, "mcpgw", subject);
  claims["scope"] = "mcp";
  return keys::signed_token(algorithm, key, kid, claims);
}

Headers with_bearer(Headers headers, const std::string& token) {
  headers.emplace_back("Authorization", "Bearer " + token);
  return headers;
}

// The gateway of most tests: JWTs from a JWKS file, one API key, deny by default, a few rules,
// a rate limit for the API key, an audit file; one fixture backend that records the headers it
// receives.
class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(material().error.empty()) << material().error;
    dir_ = make_temp_dir("security-gateway");
    write_file(dir_ / "jwks.json", material().jwks(false).dump());
    fixture_ = std::make_unique<RunningFixture>(
        dir_, std::vector<std::string>{"--record-headers", (dir_ / "headers.jsonl").string()});
    write_file(dir_ / "policy.toml", policy_text(false));
    gateway_ = std::make_unique<RunningGateway>(dir_, config_text());
  }
  void TearDown() override {
    gateway_.reset();
    fixture_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string config_text(bool with_api_key = true) const {
    std::string text = R"toml(
include = ["policy.toml"]

[policy]
default = "deny"

[server]
listen = "127.0.0.1:0"
header_timeout = "500ms"
max_body_bytes = 65536
max_header_bytes = 8192

[auth]
allow_anonymous = false
required_scopes = ["mcp"]

[[auth.jwt]]
issuer = "https://idp.test"
audiences = ["mcpgw"]
jwks_file = "jwks.json"
jwks_min_refresh = "100ms"

[audit]
sink = "audit.jsonl"
)toml";
    if (with_api_key) {
      text += "\n[[auth.api_key]]\nname = \"ci\"\nsha256 = \"" + sha256_hex(kApiKey) + "\"\n";
    }
    text += "\n[[backend]]\nname = \"fx\"\nurl = \"" + fixture_->url() +
            "\"\nforward_headers = [\"X-Tenant\"]\nheaders = { \"X-Backend-Token\" = \"" +
            kBackendSecret + "\" }\n";
    return text;
  }

  static std::string policy_text(bool deny_echo) {
    std::string text = R"toml(
[[rule]]
id = "lists"
effect = "allow"
methods = ["tools/list", "prompts/list", "resources/list", "resources/templates/list"]
authenticated = true

[[rule]]
id = "alice-tools"
effect = "allow"
methods = ["tools/call"]
tools = ["echo", "add", "trigger_list_changed"]
subjects = ["alice"]

[[rule]]
id = "ci-echo"
effect = "allow"
methods = ["tools/call"]
tools = ["echo"]
api_keys = ["ci"]

[[rule]]
id = "no-dynamic-tools"
effect = "deny"
tools = ["dynamic_tool_*"]

[[rate_limit]]
id = "ci-calls"
scope = "principal"
requests = 3
window = "3s"
api_keys = ["ci"]
)toml";
    if (deny_echo) {
      text += "\n[[rule]]\nid = \"echo-off\"\neffect = \"deny\"\ntools = [\"echo\"]\n";
    }
    return text;
  }

  std::uint16_t port() const { return gateway_->port(); }

  // initialize + initialized with the given credentials; the session id, or "" (failure added).
  std::string open_session(const Headers& credentials) {
    HttpConnection connection(port());
    auto headers = mcp_post_headers();
    headers.insert(headers.end(), credentials.begin(), credentials.end());
    const auto answer =
        connection.request("POST", "/mcp", headers, initialize_request(0, kVersion).dump());
    if (!answer || answer->status != 200) {
      ADD_FAILURE() << "initialize: " << (answer ? answer->status : 0) << " "
                    << (answer ? answer->body : "");
      return "";
    }
    const auto session = answer->header("mcp-session-id");
    auto notify = mcp_post_headers(session, kVersion);
    notify.insert(notify.end(), credentials.begin(), credentials.end());
    connection.request("POST", "/mcp", notify,
                       jsonrpc_notification("notifications/initialized").dump());
    return session;
  }

  std::optional<HttpResponse> post(const Headers& credentials, const std::string& session,
                                   const json& message) {
    HttpConnection connection(port());
    auto headers = mcp_post_headers(session, kVersion);
    headers.insert(headers.end(), credentials.begin(), credentials.end());
    return connection.request("POST", "/mcp", headers, message.dump());
  }

  json call(const Headers& credentials, const std::string& session, const std::string& tool,
            const json& arguments = json::object()) {
    const auto answer =
        post(credentials, session,
             jsonrpc_request(7, "tools/call", {{"name", tool}, {"arguments", arguments}}));
    return answer ? answer_response(*answer) : json();
  }

  std::vector<std::string> tool_names(const Headers& credentials, const std::string& session) {
    std::vector<std::string> names;
    const auto answer = post(credentials, session, jsonrpc_request(3, "tools/list"));
    if (!answer)
      return names;
    const auto response = answer_response(*answer);
    for (const auto& tool : response["result"]["tools"])
      names.push_back(tool["name"].get<std::string>());
    return names;
  }

  std::string gateway_log() { return gateway_->child().stderr_text(); }

  std::filesystem::path dir_;
  std::unique_ptr<RunningFixture> fixture_;
  std::unique_ptr<RunningGateway> gateway_;
};

TEST_F(SecurityTest, ValidTokensOfEveryAlgorithmAreAccepted) {
  for (const auto& [algorithm, kid] : std::vector<std::pair<std::string, std::string>>{
           {"RS256", "rsa-1"}, {"ES256", "ec-1"}, {"EdDSA", "ed-1"}}) {
    const Headers alice = {{"Authorization", "Bearer " + token_for("alice", algorithm, kid)}};
    const auto session = open_session(alice);
    ASSERT_FALSE(session.empty()) << algorithm;
    const auto answer = call(alice, session, "echo", {{"text", "hi"}});
    EXPECT_EQ(answer["result"]["content"][0]["text"], "hi") << algorithm << ": " << answer;
  }
}

TEST_F(SecurityTest, RefusedTokensGet401WithTheChallenge) {
  const auto now = keys::unix_now();
  const auto& m = material();
  auto claims = keys::claims_at(now, kIssuer, "mcpgw", "alice");
  claims["scope"] = "mcp";
  const auto with = [&](const std::string& name, json changed) {
    auto copy = claims;
    copy[name] = std::move(changed);
    return keys::signed_token("RS256", m.rsa, "rsa-1", copy);
  };
  const std::vector<std::pair<std::string, std::string>> tokens = {
      {"forged signature", keys::signed_token("RS256", m.rsa_rotated, "rsa-1", claims)},
      {"alg none", keys::make_token(json{{"alg", "none"}, {"typ", "JWT"}}, claims,
                                    [](std::string_view) { return std::string(); })},
      {"HS256 with the RSA public key as secret",
       keys::make_token(json{{"alg", "HS256"}, {"kid", "rsa-1"}}, claims,
                        [&](std::string_view input) {
                          return keys::hs256_signature(keys::public_key_pem(m.rsa), input);
                        })},
      {"expired", with("exp", now - 3600)},
      {"not yet valid", with("nbf", now + 3600)},
      {"wrong issuer", with("iss", "https://evil.test")},
      {"wrong audience", with("aud", "someone-else")},
      {"unknown kid", keys::signed_token("RS256", m.rsa, "nobody", claims)},
      {"malformed", "not.a.jwt"},
  };
  for (const auto& [what, token] : tokens) {
    HttpConnection connection(port());
    const auto answer = connection.request("POST", "/mcp", with_bearer(mcp_post_headers(), token),
                                           initialize_request(0, kVersion).dump());
    ASSERT_TRUE(answer) << what;
    EXPECT_EQ(answer->status, 401) << what << ": " << answer->body;
    const auto challenge = answer->header("www-authenticate");
    EXPECT_NE(challenge.find("error=\"invalid_token\""), std::string::npos) << what << challenge;
    EXPECT_NE(challenge.find("resource_metadata=\""), std::string::npos) << what << challenge;
  }
  // Nothing of any token reaches the log.
  const auto log = gateway_log();
  for (const auto& [what, token] : tokens) {
    if (token.size() > 20) {
      const auto signature = token.substr(token.rfind('.') + 1);
      if (signature.size() > 10) {
        EXPECT_EQ(log.find(signature), std::string::npos) << what;
      }
    }
  }
}

TEST_F(SecurityTest, MissingCredentialsAndDiscovery) {
  HttpConnection connection(port());
  const auto answer = connection.request("POST", "/mcp", mcp_post_headers(),
                                         initialize_request(0, kVersion).dump());
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 401);
  const auto challenge = answer->header("www-authenticate");
  EXPECT_EQ(challenge.find("error="), std::string::npos) << challenge;
  const auto at = challenge.find("resource_metadata=\"");
  ASSERT_NE(at, std::string::npos) << challenge;
  const auto url = challenge.substr(at + 19, challenge.find('"', at + 19) - at - 19);
  const auto path = url.substr(url.find('/', url.find("://") + 3));
  EXPECT_EQ(path, "/.well-known/oauth-protected-resource/mcp");
  for (const auto& target : {path, std::string("/.well-known/oauth-protected-resource")}) {
    HttpConnection discovery(port());
    const auto metadata = discovery.request("GET", target, {});
    ASSERT_TRUE(metadata);
    EXPECT_EQ(metadata->status, 200) << target;
    const auto document = metadata->json();
    EXPECT_TRUE(document.contains("resource")) << document;
    EXPECT_EQ(document["scopes_supported"], json::array({"mcp"})) << document;
  }
}

TEST_F(SecurityTest, InsufficientScopeGets403) {
  auto claims = keys::claims_at(keys::unix_now(), kIssuer, "mcpgw", "alice");
  claims["scope"] = "other";
  HttpConnection connection(port());
  const auto answer = connection.request(
      "POST", "/mcp",
      with_bearer(mcp_post_headers(), keys::signed_token("RS256", material().rsa, "rsa-1", claims)),
      initialize_request(0, kVersion).dump());
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 403);
  EXPECT_NE(answer->header("www-authenticate").find("error=\"insufficient_scope\""),
            std::string::npos);
}

TEST_F(SecurityTest, TokenInTheQueryStringIsRefused) {
  const auto token = token_for("alice");
  HttpConnection connection(port());
  const auto answer = connection.request("POST", "/mcp?access_token=" + token,
                                         with_bearer(mcp_post_headers(), token),
                                         initialize_request(0, kVersion).dump());
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 400) << answer->body;
}

TEST_F(SecurityTest, JwksRotationIsPickedUpForAnUnknownKid) {
  auto claims = keys::claims_at(keys::unix_now(), kIssuer, "mcpgw", "alice");
  claims["scope"] = "mcp";
  const auto rotated = keys::signed_token("RS256", material().rsa_rotated, "rsa-2", claims);
  write_file(dir_ / "jwks.json", material().jwks(true).dump());
  // The file is re-read for an unknown kid at most once per jwks_min_refresh (100 ms) after the
  // read at start.
  std::this_thread::sleep_for(150ms);
  const Headers alice = {{"Authorization", "Bearer " + rotated}};
  const auto session = open_session(alice);
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(call(alice, session, "echo", {{"text", "rotated"}})["result"]["content"][0]["text"],
            "rotated");
}

TEST_F(SecurityTest, ApiKeysRightWrongAndRevoked) {
  const Headers ci = {{"X-API-Key", kApiKey}};
  const auto session = open_session(ci);
  ASSERT_FALSE(session.empty());
  EXPECT_EQ(call(ci, session, "echo", {{"text", "key"}})["result"]["content"][0]["text"], "key");

  HttpConnection wrong(port());
  const auto refused = wrong.request("POST", "/mcp",
                                     {{"Accept", kAcceptBoth},
                                      {"Content-Type", "application/json"},
                                      {"X-API-Key", "ci-key-wrong"}},
                                     initialize_request(0, kVersion).dump());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);

  // Revoked: the key leaves the configuration; SIGHUP makes it stop working at once.
  write_file(dir_ / "gateway.toml", config_text(false));
  ::kill(gateway_->child().pid(), SIGHUP);
  EXPECT_TRUE(wait_until([&] {
    const auto answer = post(ci, session, jsonrpc_request(9, "tools/list"));
    return answer && answer->status == 401;
  })) << gateway_log();
}

TEST_F(SecurityTest, SessionOfAnotherPrincipalIsUnknown) {
  const Headers alice = {{"Authorization", "Bearer " + token_for("alice")}};
  const Headers bob = {{"Authorization", "Bearer " + token_for("bob")}};
  const auto session = open_session(alice);
  ASSERT_FALSE(session.empty());
  const auto hijack = post(bob, session, jsonrpc_request(1, "tools/list"));
  const auto unknown =
      post(bob, "0123456789abcdef0123456789abcdef", jsonrpc_request(1, "tools/list"));
  ASSERT_TRUE(hijack && unknown);
  EXPECT_EQ(hijack->status, 404);
  EXPECT_EQ(hijack->body, unknown->body);
  // The owner still uses it.
  EXPECT_EQ(call(alice, session, "echo", {{"text", "mine"}})["result"]["content"][0]["text"],
            "mine");
}

TEST_F(SecurityTest, HiddenToolsLookLikeMissingOnes) {
  const Headers alice = {{"Authorization", "Bearer " + token_for("alice")}};
  const auto session = open_session(alice);
  ASSERT_FALSE(session.empty());
  const auto names = tool_names(alice, session);
  EXPECT_NE(std::find(names.begin(), names.end(), "echo"), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), "payload"), names.end());  // no rule allows it
  auto hidden = call(alice, session, "payload");
  auto missing = call(alice, session, "no_such_tool_at_all");
  ASSERT_TRUE(hidden.contains("error")) << hidden;
  EXPECT_EQ(hidden["error"]["code"], missing["error"]["code"]);
  // Messages name the tool asked for; with the names swapped they must be identical.
  const auto message = hidden["error"]["message"].get<std::string>();
  const auto other = missing["error"]["message"].get<std::string>();
  EXPECT_EQ(message.find("payload") != std::string::npos,
            other.find("no_such_tool_at_all") != std::string::npos);
  auto normalized = message;
  if (const auto at = normalized.find("payload"); at != std::string::npos)
    normalized.replace(at, 7, "no_such_tool_at_all");
  EXPECT_EQ(normalized, other);
}

TEST_F(SecurityTest, ListChangedNeverExposesAHiddenTool) {
  const Headers alice = {{"Authorization", "Bearer " + token_for("alice")}};
  const auto session = open_session(alice);
  ASSERT_FALSE(session.empty());
  const auto added = call(alice, session, "trigger_list_changed");
  ASSERT_TRUE(added.contains("result")) << added;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const auto names = tool_names(alice, session);
    for (const auto& name : names)
      EXPECT_EQ(name.rfind("dynamic_tool_", 0), std::string::npos) << name;
    const auto denied = call(alice, session, "dynamic_tool_1");
    ASSERT_TRUE(denied.contains("error")) << denied;
  }
}

TEST_F(SecurityTest, RateLimitIsExceededThenRecovers) {
  const Headers ci = {{"X-API-Key", kApiKey}};
  const auto session = open_session(ci);
  ASSERT_FALSE(session.empty());
  int allowed = 0;
  std::optional<HttpResponse> refused;
  for (int attempt = 0; attempt < 10 && !refused; ++attempt) {
    auto answer = post(
        ci, session,
        jsonrpc_request(attempt, "tools/call", {{"name", "echo"}, {"arguments", {{"text", "x"}}}}));
    ASSERT_TRUE(answer);
    if (answer->status == 429)
      refused = std::move(answer);
    else
      ++allowed;
  }
  ASSERT_TRUE(refused) << "no refusal after " << allowed << " calls";
  EXPECT_LE(allowed, 3);
  EXPECT_FALSE(refused->header("retry-after").empty());
  const auto error = answer_response(*refused)["error"];
  EXPECT_EQ(error["code"], -32005) << error;
  const auto retry_ms = error["data"]["retryAfterMs"].get<std::int64_t>();
  EXPECT_GT(retry_ms, 0);
  EXPECT_LE(retry_ms, 3000);
  std::this_thread::sleep_for(std::chrono::milliseconds(retry_ms + 50));
  EXPECT_EQ(call(ci, session, "echo", {{"text", "again"}})["result"]["content"][0]["text"],
            "again");
}

TEST_F(SecurityTest, OversizeRequestsAndSlowClients) {
  const Headers alice = {{"Authorization", "Bearer " + token_for("alice")}};
  {
    HttpConnection connection(port());
    const auto answer =
        connection.request("POST", "/mcp", with_bearer(mcp_post_headers(), token_for("alice")),
                           std::string(70000, ' '));
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 413);
  }
  {
    HttpConnection connection(port());
    auto headers = mcp_post_headers();
    headers.emplace_back("X-Padding", std::string(9000, 'p'));
    const auto answer =
        connection.request("POST", "/mcp", headers, initialize_request(0, kVersion).dump());
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 431);
  }
  {
    // Slowloris: a head that never completes is cut off after header_timeout (500 ms).
    HttpConnection connection(port());
    connection.send_raw("POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    const auto start = Clock::now();
    bool closed = false;
    for (int step = 0; step < 100 && !closed; ++step) {
      connection.send_raw("X-Slow: 1\r\n");
      const auto data = connection.read_some(50ms);
      closed = data && (data->empty() || data->find("408") != std::string::npos);
    }
    EXPECT_TRUE(closed);
    EXPECT_LT(Clock::now() - start, 5s);
  }
}

TEST_F(SecurityTest, ClientCredentialsNeverReachTheBackend) {
  const auto token = token_for("alice");
  Headers alice = {{"Authorization", "Bearer " + token},
                   {"Cookie", "session=browser-secret"},
                   {"X-Tenant", "tenant-7"},
                   {"X-Other", "not-forwarded"}};
  const auto session = open_session(alice);
  ASSERT_FALSE(session.empty());
  ASSERT_EQ(call(alice, session, "echo", {{"text", "h"}})["result"]["content"][0]["text"], "h");
  const auto recorded = read_file(dir_ / "headers.jsonl");
  ASSERT_FALSE(recorded.empty());
  bool tenant_seen = false;
  bool backend_token_seen = false;
  std::istringstream lines(recorded);
  for (std::string line; std::getline(lines, line);) {
    const auto entry = json::parse(line);
    for (const auto& header : entry["headers"]) {
      const auto name = header[0].get<std::string>();
      const auto value = header[1].get<std::string>();
      EXPECT_NE(name, "authorization") << line;
      EXPECT_NE(name, "cookie") << line;
      EXPECT_NE(name, "x-api-key") << line;
      EXPECT_NE(name, "x-other") << line;
      EXPECT_EQ(value.find(token), std::string::npos) << line;
      if (entry["method"] == "tools/call" && name == "x-tenant" && value == "tenant-7")
        tenant_seen = true;
      if (name == "x-backend-token" && value == kBackendSecret)
        backend_token_seen = true;
    }
  }
  EXPECT_TRUE(tenant_seen) << recorded;
  EXPECT_TRUE(backend_token_seen) << recorded;
  EXPECT_EQ(gateway_log().find(kBackendSecret), std::string::npos);
}

TEST_F(SecurityTest, PolicyReloadSwapsAtomicallyAndRefusesBrokenFiles) {
  const Headers alice = {{"Authorization", "Bearer " + token_for("alice")}};
  const auto session = open_session(alice);
  ASSERT_FALSE(session.empty());
  ASSERT_TRUE(call(alice, session, "echo", {{"text", "a"}}).contains("result"));

  write_file(dir_ / "policy.toml", policy_text(true));
  ::kill(gateway_->child().pid(), SIGHUP);
  EXPECT_TRUE(wait_until([&] { return call(alice, session, "echo").contains("error"); }));

  // A broken policy is refused with lint's diagnostics; the one in force stays.
  write_file(dir_ / "policy.toml", "[[rule]]\nid = \"broken\"\neffect = \"maybe\"\n");
  ::kill(gateway_->child().pid(), SIGHUP);
  EXPECT_TRUE(wait_until([&] {
    return gateway_log().find("the policy in force stays unchanged") != std::string::npos;
  }));
  EXPECT_NE(gateway_log().find("invalid-value"), std::string::npos) << gateway_log();
  EXPECT_TRUE(call(alice, session, "echo").contains("error"));
  EXPECT_TRUE(call(alice, session, "add", {{"a", 1}, {"b", 2}}).contains("result"));
}

TEST_F(SecurityTest, DecisionsAreAudited) {
  const Headers alice = {{"Authorization", "Bearer " + token_for("alice")}};
  const auto session = open_session(alice);
  ASSERT_FALSE(session.empty());
  call(alice, session, "echo", {{"text", "a"}});
  call(alice, session, "payload");
  const auto audit = dir_ / "audit.jsonl";
  ASSERT_TRUE(wait_until([&] {
    const auto text = read_file(audit);
    return text.find("\"deny\"") != std::string::npos &&
           text.find("\"allow\"") != std::string::npos;
  })) << read_file(audit);
  std::istringstream lines(read_file(audit));
  bool denial_seen = false;
  for (std::string line; std::getline(lines, line);) {
    const auto record = json::parse(line);
    EXPECT_EQ(record["type"], "authz");
    EXPECT_EQ(line.find("Bearer"), std::string::npos);
    if (record["decision"] == "deny" && record["name"] == "payload") {
      denial_seen = true;
      EXPECT_EQ(record["subject"], "alice");
      EXPECT_EQ(record["backend"], "fx");
      EXPECT_EQ(record["rule"], "");
    }
  }
  EXPECT_TRUE(denial_seen);
}

// Anonymous access where the config allows it; mTLS with the certificate subject in policies.
class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(material().error.empty()) << material().error;
    dir_ = make_temp_dir("security-listener");
    fixture_ = std::make_unique<RunningFixture>(dir_);
  }
  void TearDown() override {
    gateway_.reset();
    fixture_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string backend() const {
    return "\n[[backend]]\nname = \"fx\"\nurl = \"" + fixture_->url() + "\"\n";
  }
  // curl over HTTPS: the status code, or -1 when the TLS handshake failed.
  int curl_initialize(const std::string& client) {
    const auto& m = material();
    std::vector<std::string> argv{kCurl,        "-sS",
                                  "-o",         (dir_ / "curl.out").string(),
                                  "-w",         "%{http_code}\n",
                                  "--max-time", "20",
                                  "--cacert",   m.path("ca.pem"),
                                  "-H",         "Accept: " + kAcceptBoth,
                                  "-H",         "Content-Type: application/json",
                                  "--data",     initialize_request(0, kVersion).dump()};
    if (!client.empty())
      argv.insert(argv.end(),
                  {"--cert", m.path(client + ".pem"), "--key", m.path(client + ".key")});
    argv.push_back("https://127.0.0.1:" + std::to_string(gateway_->port()) + "/mcp");
    Child curl(argv, dir_ / "curl.stderr");
    const auto code = curl.read_line(30s);
    const auto status = curl.wait(30s);
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
      return -1;
    return code ? std::stoi(*code) : -1;
  }

  std::filesystem::path dir_;
  std::unique_ptr<RunningFixture> fixture_;
  std::unique_ptr<RunningGateway> gateway_;
};

TEST_F(ListenerTest, AnonymousAccessOnlyWhereAllowed) {
  gateway_ = std::make_unique<RunningGateway>(
      dir_, "[policy]\ndefault = \"allow\"\n[auth]\nallow_anonymous = true\n" + backend());
  HttpConnection connection(gateway_->port());
  std::string failure;
  EXPECT_TRUE(open_mcp_session(connection, kVersion, &failure)) << failure;
}

TEST_F(ListenerTest, MutualTlsAcceptedAndRefused) {
  const auto& m = material();
  gateway_ = std::make_unique<RunningGateway>(
      dir_, "[server.tls]\ncert = \"" + m.path("server.pem") + "\"\nkey = \"" +
                m.path("server.key") + "\"\nclient_ca = \"" + m.path("ca.pem") +
                "\"\nrequire_client_cert = true\n\n[policy]\ndefault = \"deny\"\n\n"
                "[[rule]]\nid = \"agents\"\neffect = \"allow\"\ncert_subjects = "
                "[\"*CN=build-agent*\"]\n" +
                backend());
  EXPECT_EQ(curl_initialize("agent"), 200) << read_file(dir_ / "curl.stderr");
  EXPECT_EQ(curl_initialize(""), -1);          // no certificate: the handshake fails
  EXPECT_EQ(curl_initialize("stranger"), -1);  // same subject, another CA
}

}  // namespace
}  // namespace mcpgw::integration
