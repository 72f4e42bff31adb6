// jwks_url key sources against a local HTTPS JWKS server (tests/unit/gateway/upstream's scripted
// server on 127.0.0.1:0). The CA and the server certificates are made at test time with the
// `openssl` CLI in a temporary directory; the JWKS keys are RSA keys made with OpenSSL EVP and
// exported as JWKs. Timers run on a ManualEventLoop (time moves only by advance()), the network
// on a real io_context; the end-to-end tests use the production AsioEventLoop.
#include "gateway/auth/url_key_source.hpp"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "gateway/auth/authenticator.hpp"
#include "gateway/auth/jwt.hpp"
#include "gateway/runtime/asio_loop.hpp"
#include "gateway/runtime/manual_loop.hpp"
#include "tests/unit/gateway/upstream/http_test_server.hpp"

extern char** environ;

namespace mcpgw::auth {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;
using Json = nlohmann::json;

// ---- certificates (openssl CLI) ----

// Runs `openssl args...` without a shell; its output goes to <dir>/openssl.log.
bool run_openssl(const std::filesystem::path& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  std::vector<char*> argv;
  for (auto& arg : args)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::string log = (dir / "openssl.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "openssl", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0)
    return false;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return false;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Two CAs, each with a server certificate for 127.0.0.1 and localhost, in a temporary directory
// removed at exit. Only `trusted` is given to the key sources as jwks_ca_file.
class Pki {
 public:
  struct Server {
    std::string certificate;  // paths
    std::string key;
  };

  Pki() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "mcpgw-jwks-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      return;
    dir_ = pattern;
    ok_ = make_ca("trusted") && make_server("trusted", "server");
  }
  ~Pki() {
    std::error_code ignored;
    if (!dir_.empty())
      std::filesystem::remove_all(dir_, ignored);
  }
  Pki(const Pki&) = delete;
  Pki& operator=(const Pki&) = delete;

  bool ok() const { return ok_; }
  std::string trusted_ca() const { return path("trusted-ca.pem"); }
  Server server() const { return {path("server.pem"), path("server.key")}; }
  // Made on first use: most tests never need it.
  Server rogue_server() {
    if (!rogue_made_)
      rogue_made_ = make_ca("rogue") && make_server("rogue", "rogue-server");
    EXPECT_TRUE(rogue_made_) << "openssl failed; see " << log();
    return {path("rogue-server.pem"), path("rogue-server.key")};
  }
  std::string log() const { return path("openssl.log"); }

 private:
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  bool make_ca(const std::string& name) {
    return run_openssl(
        dir_,
        {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", path(name + "-ca.key"), "-out", path(name + "-ca.pem"), "-days", "2", "-subj",
         "/CN=mcpgw " + name + " test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"});
  }

  bool make_server(const std::string& ca, const std::string& name) {
    const std::string extensions = path(name + ".ext");
    {
      std::FILE* file = std::fopen(extensions.c_str(), "w");
      if (file == nullptr)
        return false;
      std::fputs(
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
          "extendedKeyUsage=serverAuth\n",
          file);
      std::fclose(file);
    }
    return run_openssl(dir_, {"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                              "-nodes", "-keyout", path(name + ".key"), "-out", path(name + ".csr"),
                              "-subj", "/CN=localhost"}) &&
           run_openssl(dir_,
                       {"x509", "-req", "-in", path(name + ".csr"), "-CA", path(ca + "-ca.pem"),
                        "-CAkey", path(ca + "-ca.key"), "-set_serial", "2", "-days", "2", "-out",
                        path(name + ".pem"), "-extfile", extensions});
  }

  std::filesystem::path dir_;
  bool ok_ = false;
  bool rogue_made_ = false;
};

Pki& pki() {
  static Pki instance;
  return instance;
}

// ---- JWKS keys (OpenSSL EVP) ----

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

class RsaKey {
 public:
  explicit RsaKey(std::string kid)
      : kid_(std::move(kid)), key_(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", std::size_t{2048})) {}

  const std::string& kid() const { return kid_; }
  bool ok() const { return key_ != nullptr; }

  // The public JWK: n and e as unsigned big-endian base64url.
  Json jwk() const {
    return Json{{"kty", "RSA"},
                {"kid", kid_},
                {"use", "sig"},
                {"alg", "RS256"},
                {"n", parameter(OSSL_PKEY_PARAM_RSA_N)},
                {"e", parameter(OSSL_PKEY_PARAM_RSA_E)}};
  }

  // A compact RS256 JWS of `claims` with this key's kid.
  std::string sign(const Json& claims) const {
    const Json header{{"alg", "RS256"}, {"typ", "JWT"}, {"kid", kid_}};
    const std::string input =
        base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
    EVP_MD_CTX* context = EVP_MD_CTX_new();
    std::string signature(512, '\0');
    std::size_t length = signature.size();
    const bool signed_ok =
        context != nullptr &&
        EVP_DigestSignInit(context, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
        EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    EVP_MD_CTX_free(context);
    EXPECT_TRUE(signed_ok);
    signature.resize(signed_ok ? length : 0);
    return input + "." + base64url_encode(signature);
  }

 private:
  std::string parameter(const char* name) const {
    BIGNUM* number = nullptr;
    if (EVP_PKEY_get_bn_param(key_.get(), name, &number) != 1)
      return {};
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(number)), '\0');
    BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(number);
    return base64url_encode(bytes);
  }

  std::string kid_;
  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
};

// Made once per process, on first use (RSA key generation is the slow part).
const RsaKey& test_key(int which) {
  if (which == 1) {
    static const RsaKey k1("k1");
    return k1;
  }
  if (which == 2) {
    static const RsaKey k2("k2");
    EXPECT_TRUE(k2.ok());
    return k2;
  }
  static const RsaKey k3("k3");
  EXPECT_TRUE(k3.ok());
  return k3;
}

std::string jwks_of(std::initializer_list<int> which) {
  Json keys = Json::array();
  for (const int index : which)
    keys.push_back(test_key(index).jwk());
  return Json{{"keys", keys}}.dump();
}

std::vector<std::string> kids_of(const std::shared_ptr<const KeySet>& keys) {
  return keys ? keys->key_ids() : std::vector<std::string>{};
}

// ---- the JWKS server ----

// What the server answers; the test changes it between fetches.
struct ServerControl {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string cache_control;
  // Hold the answer until `released` (at most 10 s); then keep writing responses until a write
  // fails, which shows that the client has closed the connection.
  bool hang = false;
  bool released = false;
  bool client_closed = false;
};

test::Script jwks_script(std::shared_ptr<ServerControl> control) {
  return [control](test::Reply& reply) -> net::awaitable<void> {
    if (control->hang) {
      net::steady_timer timer(co_await net::this_coro::executor);
      const auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!control->released && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(5ms);
        co_await timer.async_wait(test::use_tuple);
      }
      for (int attempt = 0; attempt < 400; ++attempt) {
        if (!co_await reply.json(control->body)) {
          control->client_closed = true;
          co_return;
        }
        timer.expires_after(5ms);
        co_await timer.async_wait(test::use_tuple);
      }
      co_return;
    }
    std::vector<std::pair<std::string, std::string>> headers;
    if (!control->cache_control.empty())
      headers.emplace_back("Cache-Control", control->cache_control);
    co_await reply.send(control->status, control->content_type, control->body, headers);
  };
}

class UrlKeySourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(pki().ok()) << "openssl failed; see " << pki().log();
    ASSERT_TRUE(test_key(1).ok());
    control_->body = jwks_of({1});
  }

  // The JWKS server, presenting the trusted CA's certificate or the rogue one's.
  void serve(bool trusted = true) {
    const auto server = trusted ? pki().server() : pki().rogue_server();
    boost::system::error_code error;
    server_tls_.use_certificate_chain_file(server.certificate, error);
    ASSERT_FALSE(error) << error.message();
    server_tls_.use_private_key_file(server.key, net::ssl::context::pem, error);
    ASSERT_FALSE(error) << error.message();
    server_ = std::make_unique<test::TestHttpServer>(context_, jwks_script(control_), &server_tls_);
  }

  config::JwtSourceConfig source_config(std::chrono::milliseconds refresh,
                                        std::chrono::milliseconds min_refresh,
                                        const std::string& host = "localhost") const {
    config::JwtSourceConfig source;
    source.issuer = "https://issuer.test";
    source.audiences = {"mcpgw"};
    source.jwks_url = server_->url("/jwks", host);
    source.jwks_refresh = refresh;
    source.jwks_min_refresh = min_refresh;
    source.jwks_ca_file = pki().trusted_ca();
    return source;
  }

  static UrlKeySourceOptions fast_options() {
    UrlKeySourceOptions options;
    options.connect_timeout = 5s;
    options.fetch_timeout = 5s;
    options.first_retry = 100ms;
    return options;
  }

  // Runs the network and the manual loop's ready tasks until `done()` holds or 10 s pass. Time
  // on the manual loop does not move.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (true) {
      loop_.run_ready();
      if (done())
        return true;
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      context_.restart();
      context_.run_for(2ms);
    }
  }

  // Waits for the fetch in progress (if any) to end.
  bool settle(UrlKeySource& source) {
    return run_until([&] { return !source.fetching(); });
  }

  std::size_t gets() const { return server_ ? server_->requests_with("GET").size() : 0; }

  net::io_context context_;
  runtime::ManualEventLoop loop_;
  net::ssl::context server_tls_{net::ssl::context::tls_server};
  std::shared_ptr<ServerControl> control_ = std::make_shared<ServerControl>();
  std::unique_ptr<test::TestHttpServer> server_;
};

TEST_F(UrlKeySourceTest, InitialFetchLoadsTheKeys) {
  serve();
  auto source = make_url_key_source(context_, loop_, source_config(1h, 1s), fast_options());
  EXPECT_EQ(source->keys(), nullptr);
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));
  EXPECT_EQ(kids_of(source->keys()), std::vector<std::string>{"k1"});
  EXPECT_EQ(source->fetches(), 1u);
  ASSERT_EQ(gets(), 1u);
  const auto& request = server_->requests()[0];
  EXPECT_EQ(request.target, "/jwks");
  EXPECT_EQ(request.sni, "localhost");  // SNI for a name, and the name was verified
  EXPECT_NE(request.header("accept").find("application/jwk-set+json"), std::string::npos);
  EXPECT_FALSE(request.has("authorization"));
  // The next fetch is the periodic one, an hour later.
  EXPECT_EQ(loop_.pending_timers(), 1u);
}

TEST_F(UrlKeySourceTest, ServerAddressedByIpIsVerifiedWithoutSni) {
  serve();
  auto source =
      make_url_key_source(context_, loop_, source_config(1h, 1s, "127.0.0.1"), fast_options());
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));
  ASSERT_EQ(gets(), 1u);
  EXPECT_EQ(server_->requests()[0].sni, "");
}

TEST_F(UrlKeySourceTest, PeriodicRefreshPicksUpARotatedSet) {
  serve();
  auto source = make_url_key_source(context_, loop_, source_config(60s, 1s), fast_options());
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));
  const auto first = source->keys();

  control_->body = jwks_of({2});
  loop_.advance(59s);
  EXPECT_EQ(source->fetches(), 1u);
  loop_.advance(1s);
  EXPECT_EQ(source->fetches(), 2u);
  ASSERT_TRUE(settle(*source));
  EXPECT_EQ(kids_of(source->keys()), std::vector<std::string>{"k2"});
  EXPECT_EQ(gets(), 2u);

  // And again a minute later: the schedule continues.
  control_->body = jwks_of({2, 3});
  loop_.advance(60s);
  ASSERT_TRUE(settle(*source));
  EXPECT_EQ(kids_of(source->keys()), (std::vector<std::string>{"k2", "k3"}));
  EXPECT_EQ(source->fetches(), 3u);
}

TEST_F(UrlKeySourceTest, CacheControlMaxAgeOnlyMakesRefreshSooner) {
  serve();
  control_->cache_control = "public, max-age=5";
  auto source = make_url_key_source(context_, loop_, source_config(60s, 2s), fast_options());
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));

  // max-age 5 s < refresh 60 s: the next fetch comes after 5 s.
  control_->cache_control = "max-age=0";
  loop_.advance(4999ms);
  EXPECT_EQ(source->fetches(), 1u);
  loop_.advance(1ms);
  EXPECT_EQ(source->fetches(), 2u);
  ASSERT_TRUE(settle(*source));

  // max-age 0: never sooner than jwks_min_refresh (2 s).
  control_->cache_control = "max-age=86400";
  loop_.advance(1999ms);
  EXPECT_EQ(source->fetches(), 2u);
  loop_.advance(1ms);
  EXPECT_EQ(source->fetches(), 3u);
  ASSERT_TRUE(settle(*source));

  // max-age a day: never later than jwks_refresh (60 s).
  loop_.advance(59999ms);
  EXPECT_EQ(source->fetches(), 3u);
  loop_.advance(1ms);
  EXPECT_EQ(source->fetches(), 4u);
  ASSERT_TRUE(settle(*source));
}

TEST_F(UrlKeySourceTest, RefreshForAnUnknownKidFetchesOnceForConcurrentCallers) {
  serve();
  auto source = make_url_key_source(context_, loop_, source_config(1h, 1s), fast_options());
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));

  control_->body = jwks_of({1, 2});
  loop_.advance(1s);
  int done = 0;
  std::vector<std::string> kids_seen;
  for (int caller = 0; caller < 3; ++caller) {
    source->refresh([&] {
      ++done;
      kids_seen = kids_of(source->keys());
    });
  }
  EXPECT_EQ(source->fetches(), 2u);  // one fetch for the three callers
  EXPECT_TRUE(source->fetching());
  EXPECT_EQ(done, 0);  // never inline
  ASSERT_TRUE(run_until([&] { return done == 3; }));
  EXPECT_EQ(kids_seen, (std::vector<std::string>{"k1", "k2"}));  // callbacks see the new keys
  EXPECT_EQ(gets(), 2u);
  EXPECT_EQ(source->fetches(), 2u);
}

TEST_F(UrlKeySourceTest, SecondRefreshWithinMinRefreshFetchesNothing) {
  serve();
  auto source = make_url_key_source(context_, loop_, source_config(1h, 30s), fast_options());
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));

  // Within jwks_min_refresh of the initial fetch: nothing is fetched, done still runs.
  int done = 0;
  source->refresh([&] { ++done; });
  EXPECT_EQ(done, 0);
  loop_.run_ready();
  EXPECT_EQ(done, 1);
  EXPECT_EQ(source->fetches(), 1u);

  // After it: one fetch; a second refresh right after it fetches nothing.
  loop_.advance(30s);
  source->refresh([&] { ++done; });
  ASSERT_TRUE(run_until([&] { return done == 2; }));
  EXPECT_EQ(source->fetches(), 2u);
  loop_.advance(29s);
  source->refresh([&] { ++done; });
  loop_.run_ready();
  EXPECT_EQ(done, 3);
  EXPECT_EQ(source->fetches(), 2u);
  EXPECT_EQ(gets(), 2u);
  loop_.advance(1s);
  source->refresh([&] { ++done; });
  ASSERT_TRUE(run_until([&] { return done == 4; }));
  EXPECT_EQ(source->fetches(), 3u);
}

TEST_F(UrlKeySourceTest, FailedFetchesKeepThePreviousKeys) {
  serve();
  auto options = fast_options();
  options.first_retry = 1h;  // only refresh() fetches in this test
  auto source = make_url_key_source(context_, loop_, source_config(1h, 1s), options);
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));
  const auto good = source->keys();
  const std::string good_body = control_->body;

  struct Case {
    std::string name;
    std::function<void()> arrange;
    std::string reason;  // expected in the warning
  };
  const std::vector<Case> cases = {
      {"status 500", [&] { control_->status = 500; }, "HTTP status 500"},
      {"status 404", [&] { control_->status = 404; }, "HTTP status 404"},
      {"html", [&] { control_->content_type = "text/html"; }, "'text/html' is not JSON"},
      {"garbage", [&] { control_->body = R"({"keys":[{"kty":"ZZZ-BODY-TEXT"} !)"; },
       "not valid JSON"},
      {"not a jwks", [&] { control_->body = R"({"issuer":"ZZZ"})"; }, "no \"keys\" array"},
      {"no usable key", [&] { control_->body = R"({"keys":[{"kty":"oct","k":"ZZZ"}]})"; },
       "no usable key"},
      {"oversize",
       [&] { control_->body = R"({"keys":[],"pad":")" + std::string(kMaxJwksBytes, 'Z') + "\"}"; },
       "body over"},
  };
  for (const auto& each : cases) {
    SCOPED_TRACE(each.name);
    test::LogCapture log;
    control_->status = 200;
    control_->content_type = "application/json";
    control_->body = good_body;
    each.arrange();
    loop_.advance(1s);
    bool done = false;
    const auto before = source->fetches();
    source->refresh([&] { done = true; });
    EXPECT_EQ(source->fetches(), before + 1);
    ASSERT_TRUE(run_until([&] { return done; }));
    EXPECT_EQ(source->keys(), good);  // the very same key set
    EXPECT_TRUE(log.contains(source_config(1h, 1s).jwks_url)) << log.all();
    EXPECT_TRUE(log.contains(each.reason)) << log.all();
    EXPECT_TRUE(log.contains("keeping the 1 key(s) in use")) << log.all();
    // Not even the bytes a JSON parse error quotes ("last read: ...").
    EXPECT_FALSE(log.contains("ZZZ")) << "a response body reached the log:\n" << log.all();
    EXPECT_FALSE(log.contains("last read")) << log.all();
  }

  // The server is gone: still the same keys.
  test::LogCapture log;
  const std::string url = source_config(1h, 1s).jwks_url;
  server_->stop();
  loop_.advance(1s);
  bool done = false;
  source->refresh([&] { done = true; });
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(source->keys(), good);
  EXPECT_TRUE(log.contains(url)) << log.all();
  EXPECT_TRUE(log.contains("cannot connect")) << log.all();
}

TEST_F(UrlKeySourceTest, JsonMediaTypesAreAccepted) {
  serve();
  auto source = make_url_key_source(context_, loop_, source_config(1h, 1s), fast_options());
  control_->content_type = "application/jwk-set+json; charset=utf-8";
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));
  control_->content_type = "Application/JSON";
  control_->body = jwks_of({2});
  loop_.advance(1s);
  bool done = false;
  source->refresh([&] { done = true; });
  ASSERT_TRUE(run_until([&] { return done; }));
  EXPECT_EQ(kids_of(source->keys()), std::vector<std::string>{"k2"});
}

TEST_F(UrlKeySourceTest, FirstFetchFailureIsRetriedWithBackoff) {
  serve();
  control_->status = 500;
  test::LogCapture log;
  auto source = make_url_key_source(context_, loop_, source_config(1s, 100ms), fast_options());
  source->start();
  ASSERT_TRUE(settle(*source));
  EXPECT_EQ(source->keys(), nullptr);
  EXPECT_TRUE(log.contains("no keys yet, so tokens of this issuer are refused (401)")) << log.all();

  // 100 ms, then 200, 400, 800, then capped at jwks_refresh (1 s).
  std::uint64_t expected = 1;
  for (const auto delay : {100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms}) {
    loop_.advance(delay - 1ms);
    EXPECT_EQ(source->fetches(), expected) << delay.count();
    loop_.advance(1ms);
    EXPECT_EQ(source->fetches(), ++expected) << delay.count();
    ASSERT_TRUE(settle(*source));
    EXPECT_EQ(source->keys(), nullptr);
  }

  // The server recovers: keys, and the regular schedule (jwks_refresh) from then on.
  control_->status = 200;
  loop_.advance(1s);
  ASSERT_TRUE(settle(*source));
  ASSERT_NE(source->keys(), nullptr);
  const auto fetched = source->fetches();
  loop_.advance(999ms);
  EXPECT_EQ(source->fetches(), fetched);
  loop_.advance(1ms);
  EXPECT_EQ(source->fetches(), fetched + 1);
  ASSERT_TRUE(settle(*source));
}

TEST_F(UrlKeySourceTest, CertificateFromAnUnknownCaIsRefused) {
  serve(/*trusted=*/false);
  test::LogCapture log;
  auto source = make_url_key_source(context_, loop_, source_config(1h, 1s), fast_options());
  source->start();
  ASSERT_TRUE(settle(*source));
  EXPECT_EQ(source->fetches(), 1u);
  EXPECT_EQ(source->keys(), nullptr);
  EXPECT_EQ(gets(), 0u);  // the request never left the client
  EXPECT_TRUE(run_until([&] { return server_->tls_handshake_failures() >= 1; }));
  EXPECT_TRUE(log.contains("certificate verify failed")) << log.all();
  EXPECT_TRUE(log.contains(source_config(1h, 1s).jwks_url)) << log.all();
}

TEST_F(UrlKeySourceTest, WithoutTheCaFileTheSystemStoreRefusesTheTestCa) {
  serve();
  auto config = source_config(1h, 1s);
  config.jwks_ca_file.clear();
  auto source = make_url_key_source(context_, loop_, config, fast_options());
  source->start();
  ASSERT_TRUE(settle(*source));
  EXPECT_EQ(source->keys(), nullptr);
  EXPECT_EQ(gets(), 0u);
}

TEST_F(UrlKeySourceTest, UnreadableCaFileFailsEveryFetch) {
  serve();
  test::LogCapture log;
  auto config = source_config(1h, 1s);
  config.jwks_ca_file = pki().trusted_ca() + ".missing";
  auto source = make_url_key_source(context_, loop_, config, fast_options());
  source->start();
  ASSERT_TRUE(settle(*source));
  EXPECT_EQ(source->keys(), nullptr);
  EXPECT_EQ(gets(), 0u);
  EXPECT_TRUE(log.contains("cannot load ca_file")) << log.all();
}

TEST_F(UrlKeySourceTest, PlainHttpUrlIsRefused) {
  serve();
  test::LogCapture log;
  auto config = source_config(1h, 1s);
  config.jwks_url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/jwks";
  auto source = make_url_key_source(context_, loop_, config, fast_options());
  source->start();
  EXPECT_FALSE(source->fetching());
  EXPECT_EQ(source->fetches(), 0u);
  EXPECT_TRUE(log.contains("must use https")) << log.all();
  bool done = false;
  source->refresh([&] { done = true; });
  loop_.run_ready();
  EXPECT_TRUE(done);
  EXPECT_EQ(source->keys(), nullptr);
  EXPECT_EQ(loop_.pending_timers(), 0u);
}

TEST_F(UrlKeySourceTest, FetchTimeoutEndsAFetchThatNeverCompletes) {
  serve();
  control_->hang = true;
  test::LogCapture log;
  auto options = fast_options();
  options.fetch_timeout = 200ms;
  auto source = make_url_key_source(context_, loop_, source_config(1h, 1s), options);
  source->start();
  ASSERT_TRUE(settle(*source));
  EXPECT_EQ(source->keys(), nullptr);
  EXPECT_TRUE(log.contains("no complete response within 200 ms")) << log.all();
  control_->released = true;
  EXPECT_TRUE(run_until([&] { return control_->client_closed; }));
}

TEST_F(UrlKeySourceTest, StopCancelsTheFetchAndTheTimers) {
  serve();
  control_->hang = true;
  auto source = make_url_key_source(context_, loop_, source_config(1h, 1s), fast_options());
  source->start();
  ASSERT_TRUE(run_until([&] { return gets() == 1; }));
  bool done = false;
  source->refresh([&] { done = true; });  // joins the fetch in progress
  source->stop();
  EXPECT_FALSE(source->fetching());
  EXPECT_EQ(loop_.pending_timers(), 0u);
  // The connection was closed by stop(): the server's writes fail.
  control_->released = true;
  ASSERT_TRUE(run_until([&] { return control_->client_closed; }));
  loop_.advance(2h);
  EXPECT_FALSE(done);
  EXPECT_EQ(source->keys(), nullptr);
  EXPECT_EQ(source->fetches(), 1u);
  EXPECT_EQ(gets(), 1u);
  source->refresh([&] { done = true; });  // nothing of a stopped source runs
  loop_.run_ready();
  EXPECT_FALSE(done);
}

TEST_F(UrlKeySourceTest, StopDropsCallbacksAlreadyPostedAndRestartKeepsTheKeys) {
  serve();
  auto source = make_url_key_source(context_, loop_, source_config(1h, 30s), fast_options());
  source->start();
  ASSERT_TRUE(run_until([&] { return source->keys() != nullptr; }));
  bool done = false;
  source->refresh([&] { done = true; });  // within min_refresh: posted at once
  source->stop();
  loop_.run_ready();
  EXPECT_FALSE(done);

  control_->body = jwks_of({2});
  source->start();
  EXPECT_EQ(kids_of(source->keys()), std::vector<std::string>{"k1"});  // kept meanwhile
  ASSERT_TRUE(settle(*source));
  EXPECT_EQ(kids_of(source->keys()), std::vector<std::string>{"k2"});
  EXPECT_EQ(source->fetches(), 2u);
}

TEST_F(UrlKeySourceTest, DestroyingTheSourceMidFetchIsSafe) {
  serve();
  control_->hang = true;
  auto source = make_url_key_source(context_, loop_, source_config(1h, 1s), fast_options());
  source->start();
  ASSERT_TRUE(run_until([&] { return gets() == 1; }));
  source.reset();
  EXPECT_EQ(loop_.pending_timers(), 0u);
  control_->released = true;
  ASSERT_TRUE(run_until([&] { return control_->client_closed; }));
}

// ---- helpers ----

TEST(UrlKeySourceHelpers, CacheControlMaxAge) {
  EXPECT_EQ(cache_control_max_age("max-age=300"), 300s);
  EXPECT_EQ(cache_control_max_age("public, Max-Age = 60 , must-revalidate"), 60s);
  EXPECT_EQ(cache_control_max_age("max-age=\"17\""), 17s);
  EXPECT_EQ(cache_control_max_age("s-maxage=5, max-age=9"), 9s);
  EXPECT_EQ(cache_control_max_age("max-age=0"), 0s);
  EXPECT_EQ(cache_control_max_age("max-age=99999999999999999999999"),
            std::chrono::seconds(365 * 24 * 3600));
  EXPECT_EQ(cache_control_max_age(""), std::nullopt);
  EXPECT_EQ(cache_control_max_age("no-cache"), std::nullopt);
  EXPECT_EQ(cache_control_max_age("max-age="), std::nullopt);
  EXPECT_EQ(cache_control_max_age("max-age=-1"), std::nullopt);
  EXPECT_EQ(cache_control_max_age("max-age=1e3"), std::nullopt);
}

TEST(UrlKeySourceHelpers, NextRefreshDelay) {
  EXPECT_EQ(next_refresh_delay(std::nullopt, 600s, 30s), 600s);
  EXPECT_EQ(next_refresh_delay(120s, 600s, 30s), 120s);
  EXPECT_EQ(next_refresh_delay(5s, 600s, 30s), 30s);
  EXPECT_EQ(next_refresh_delay(0s, 600s, 30s), 30s);
  EXPECT_EQ(next_refresh_delay(3600s, 600s, 30s), 600s);
}

TEST(UrlKeySourceHelpers, RetryDelayDoublesUpToTheRefreshInterval) {
  EXPECT_EQ(retry_delay(1, 1s, 600s), 1s);
  EXPECT_EQ(retry_delay(2, 1s, 600s), 2s);
  EXPECT_EQ(retry_delay(5, 1s, 600s), 16s);
  EXPECT_EQ(retry_delay(10, 1s, 600s), 512s);
  EXPECT_EQ(retry_delay(11, 1s, 600s), 600s);
  EXPECT_EQ(retry_delay(64, 1s, 600s), 600s);
  EXPECT_EQ(retry_delay(1, 0s, 600s), 1ms);
}

TEST(UrlKeySourceHelpers, JwksMediaTypes) {
  EXPECT_TRUE(is_jwks_media_type("application/json"));
  EXPECT_TRUE(is_jwks_media_type("application/jwk-set+json"));
  EXPECT_TRUE(is_jwks_media_type("application/vnd.example+json"));
  EXPECT_FALSE(is_jwks_media_type(""));
  EXPECT_FALSE(is_jwks_media_type("text/html"));
  EXPECT_FALSE(is_jwks_media_type("text/plain+json"));
  EXPECT_FALSE(is_jwks_media_type("application/+json"));
  EXPECT_FALSE(is_jwks_media_type("application/jsonp"));
}

// ---- end to end: the production make_authenticator ----

class UrlAuthenticatorTest : public UrlKeySourceTest {
 protected:
  config::AuthConfig auth_config() const {
    config::AuthConfig auth;
    auth.jwt.push_back(source_config(1h, 1ms));
    return auth;
  }

  std::string token(int key) const {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return test_key(key).sign(Json{{"iss", "https://issuer.test"},
                                   {"aud", "mcpgw"},
                                   {"sub", "alice"},
                                   {"iat", now},
                                   {"exp", now + 300}});
  }

  AuthResult authenticate(Authenticator& authenticator, const std::string& bearer) {
    const std::string header = "Bearer " + bearer;
    Credentials credentials;
    credentials.authorization = header;
    std::optional<AuthResult> result;
    authenticator.authenticate(credentials, "gateway.test",
                               [&](AuthResult answer) { result = std::move(answer); });
    EXPECT_TRUE(test::run_until(context_, [&] { return result.has_value(); }));
    return result.value_or(AuthResult{});
  }

  runtime::AsioEventLoop asio_loop_{context_};
};

TEST_F(UrlAuthenticatorTest, TokenOfARotatedKeyIsAcceptedAfterTheRotation) {
  serve();
  auto authenticator = make_authenticator(context_, asio_loop_, auth_config(), {});
  authenticator->start();
  // A token that arrives while the first fetch runs waits for it.
  const auto first = authenticate(*authenticator, token(1));
  ASSERT_TRUE(first.ok) << first.reason;
  ASSERT_NE(first.principal, nullptr);
  EXPECT_EQ(first.principal->subject, "alice");
  EXPECT_EQ(gets(), 1u);
  const auto fetched = gets();

  // The IdP rotates to k2. A token signed with k2 names a kid the cached set does not know:
  // the source fetches the set again (jwks_min_refresh is 1 ms here) and the token passes.
  control_->body = jwks_of({2});
  const auto after = std::chrono::steady_clock::now() + 5ms;
  ASSERT_TRUE(test::run_until(context_, [&] { return std::chrono::steady_clock::now() > after; }));
  const auto rotated = authenticate(*authenticator, token(2));
  EXPECT_TRUE(rotated.ok) << rotated.reason;
  EXPECT_EQ(gets(), fetched + 1);

  // A kid the IdP does not publish either: refused with 401 after one more fetch at most.
  const auto unknown = authenticate(*authenticator, token(3));
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.http_status, 401);
  EXPECT_NE(unknown.www_authenticate.find("invalid_token"), std::string::npos)
      << unknown.www_authenticate;
  EXPECT_LE(gets(), fetched + 2);
  authenticator->stop();
}

TEST_F(UrlAuthenticatorTest, TokensAreRefusedWhileNoKeysCouldBeFetched) {
  serve(/*trusted=*/false);
  auto authenticator = make_authenticator(context_, asio_loop_, auth_config(), {});
  authenticator->start();
  ASSERT_TRUE(test::run_until(context_, [&] { return server_->tls_handshake_failures() >= 1; }));
  const auto refused = authenticate(*authenticator, token(1));
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.http_status, 401);
  EXPECT_NE(refused.www_authenticate.find("invalid_token"), std::string::npos)
      << refused.www_authenticate;
  EXPECT_EQ(gets(), 0u);
  authenticator->stop();
}

}  // namespace
}  // namespace mcpgw::auth
