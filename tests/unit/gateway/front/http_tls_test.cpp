// Listener TLS and mTLS of the HTTP front end. Certificates are made at test time with the
// `openssl` CLI in a temporary directory (deleted afterwards): a CA with a server certificate
// for 127.0.0.1 and a client certificate, and a second CA with a client certificate of its own.
// Clients are Beast TLS clients on the test's io_context.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <filesystem>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "gateway/front/http_front.hpp"
#include "tests/unit/gateway/front/http_test_support.hpp"

extern char** environ;

namespace mcpgw::front {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using testing::FakeAuthenticator;
using testing::run_until;
using testing::ScriptedService;

// Runs a program (no shell) with stdout/stderr discarded; kills it after 30 s. True on exit 0.
bool run_program(const std::vector<std::string>& arguments) {
  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (const auto& argument : arguments) {
    argv.push_back(const_cast<char*>(argument.c_str()));
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      break;
    }
    if (done < 0 || std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return false;
    }
    usleep(10000);
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The certificates of every test in this file, made once.
class Certificates {
 public:
  Certificates() {
    std::string pattern = (std::filesystem::temp_directory_path() / "mcpgw-tls-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      error = "mkdtemp failed";
      return;
    }
    dir = pattern;
    const auto ec_key = std::vector<std::string>{"-newkey", "ec", "-pkeyopt",
                                                 "ec_paramgen_curve:prime256v1", "-nodes"};
    const auto make = [&](const std::string& name, const std::string& subject,
                          const std::string& issuer, std::vector<std::string> extensions) {
      std::vector<std::string> arguments = {"openssl", "req", "-x509"};
      arguments.insert(arguments.end(), ec_key.begin(), ec_key.end());
      arguments.insert(arguments.end(), {"-keyout", path(name + ".key"), "-out",
                                         path(name + ".pem"), "-days", "2", "-subj", subject});
      if (!issuer.empty()) {
        arguments.insert(arguments.end(),
                         {"-CA", path(issuer + ".pem"), "-CAkey", path(issuer + ".key")});
      }
      for (auto& extension : extensions) {
        arguments.insert(arguments.end(), {"-addext", std::move(extension)});
      }
      if (error.empty() && !run_program(arguments)) {
        error = "openssl could not make " + name;
      }
    };
    const std::string leaf = "basicConstraints=critical,CA:FALSE";
    make("ca", "/CN=mcpgw test CA", "", {});
    make("server", "/CN=localhost", "ca", {leaf, "subjectAltName=IP:127.0.0.1,DNS:localhost"});
    make("client", "/O=Example/CN=alice", "ca", {leaf, "extendedKeyUsage=clientAuth"});
    make("other-ca", "/CN=another CA", "", {});
    make("stranger", "/CN=mallory", "other-ca", {leaf, "extendedKeyUsage=clientAuth"});
  }
  ~Certificates() {
    if (!dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }
  std::string path(const std::string& file) const { return (dir / file).string(); }

  std::filesystem::path dir;
  std::string error;
};

struct ClientIdentity {
  std::string cert;  // "" for none
  std::string key;
};

struct TlsReply {
  bool done = false;
  bool handshake_ok = false;
  boost::system::error_code error;  // the first failure
  unsigned status = 0;
  std::string body;
};

// One HTTPS request on a fresh connection: handshake, write, read the whole response.
std::shared_ptr<TlsReply> https_request(asio::io_context& context, std::uint16_t port,
                                        const std::string& ca_file, const ClientIdentity& identity,
                                        std::string raw, bool tls11_only = false) {
  auto reply = std::make_shared<TlsReply>();
  auto tls = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ignored;
  tls->load_verify_file(ca_file, ignored);
  tls->set_verify_mode(ssl::verify_peer, ignored);
  if (!identity.cert.empty()) {
    tls->use_certificate_chain_file(identity.cert, ignored);
    tls->use_private_key_file(identity.key, ssl::context::pem, ignored);
  }
  if (tls11_only) {
    // The client offers TLS 1.1 alone (OpenSSL 3 needs security level 0 for it).
    SSL_CTX_set_security_level(tls->native_handle(), 0);
    SSL_CTX_ctrl(tls->native_handle(), SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_1_VERSION, nullptr);
    SSL_CTX_ctrl(tls->native_handle(), SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_1_VERSION, nullptr);
    SSL_CTX_set_cipher_list(tls->native_handle(), "DEFAULT:@SECLEVEL=0");
  }
  asio::co_spawn(
      context,
      [&context, port, tls, reply, raw = std::move(raw)]() -> asio::awaitable<void> {
        constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
        beast::ssl_stream<beast::tcp_stream> stream(context, *tls);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
        const asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
        auto [connect_error] =
            co_await beast::get_lowest_layer(stream).async_connect(endpoint, use_tuple);
        if (connect_error) {
          reply->error = connect_error;
          reply->done = true;
          co_return;
        }
        auto [handshake_error] =
            co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
        if (handshake_error) {
          reply->error = handshake_error;
          reply->done = true;
          co_return;
        }
        reply->handshake_ok = true;
        auto [write_error, written] =
            co_await asio::async_write(stream, asio::buffer(raw), use_tuple);
        if (write_error) {
          reply->error = write_error;
          reply->done = true;
          co_return;
        }
        beast::flat_buffer buffer;
        boost::beast::http::response<boost::beast::http::string_body> response;
        auto [read_error, read] =
            co_await boost::beast::http::async_read(stream, buffer, response, use_tuple);
        if (read_error) {
          reply->error = read_error;
        } else {
          reply->status = response.result_int();
          reply->body = response.body();
        }
        auto [shutdown_error] = co_await stream.async_shutdown(use_tuple);
        (void)shutdown_error;
        reply->done = true;
      },
      asio::detached);
  return reply;
}

class TlsFrontTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certificates_ = new Certificates(); }
  static void TearDownTestSuite() {
    delete certificates_;
    certificates_ = nullptr;
  }

  void SetUp() override { ASSERT_TRUE(certificates_->error.empty()) << certificates_->error; }

  static std::string file(const std::string& name) { return certificates_->path(name); }

  config::TlsListenerConfig tls_config() const {
    config::TlsListenerConfig tls;
    tls.cert_file = file("server.pem");
    tls.key_file = file("server.key");
    return tls;
  }

  void start(config::TlsListenerConfig tls, bool with_authenticator = true,
             std::chrono::milliseconds header_timeout = std::chrono::milliseconds(5000)) {
    HttpFrontOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.tls = std::move(tls);
    options.header_timeout = header_timeout;
    if (with_authenticator) {
      options.authenticator = &authenticator_;
    }
    front_ = make_http_front(context_, service_, std::move(options));
    auto port = front_->listen();
    ASSERT_TRUE(port) << port.error();
    port_ = *port;
  }

  void TearDown() override {
    if (front_) {
      bool done = false;
      front_->shutdown([&] { done = true; });
      EXPECT_TRUE(run_until(context_, [&] { return done; }));
      front_.reset();
    }
    context_.restart();
    context_.run_for(std::chrono::milliseconds(20));
  }

  std::string initialize_request(const std::string& extra_headers = {}) const {
    const std::string body =
        R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";
    return "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_) +
           "\r\nAccept: application/json, text/event-stream\r\nContent-Type: "
           "application/json\r\nConnection: close\r\n" +
           extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  std::shared_ptr<TlsReply> request(const ClientIdentity& identity,
                                    const std::string& extra_headers = {},
                                    bool tls11_only = false) {
    auto reply = https_request(context_, port_, file("ca.pem"), identity,
                               initialize_request(extra_headers), tls11_only);
    EXPECT_TRUE(run_until(context_, [&] { return reply->done; }));
    return reply;
  }

  static inline Certificates* certificates_ = nullptr;
  asio::io_context context_;
  ScriptedService service_;
  FakeAuthenticator authenticator_;
  std::unique_ptr<HttpFront> front_;
  std::uint16_t port_ = 0;
};

const ClientIdentity kNoCertificate{};

TEST_F(TlsFrontTest, HttpsRequestSucceeds) {
  start(tls_config(), false);
  const auto reply = request(kNoCertificate);
  EXPECT_TRUE(reply->handshake_ok) << reply->error.message();
  EXPECT_EQ(reply->status, 200u) << reply->error.message();
  ASSERT_EQ(service_.sessions.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->opening.principal_key, "anonymous");
}

TEST_F(TlsFrontTest, PlainHttpToTheTlsPortGetsAClear400) {
  start(tls_config(), false);
  testing::Client plain(context_, port_);
  plain.send(
      "POST", "/mcp",
      {{"Accept", "application/json, text/event-stream"}, {"Content-Type", "application/json"}},
      "{}");
  ASSERT_TRUE(run_until(context_, [&] { return plain.reply_done() || plain.closed(); }));
  const auto reply = plain.reply();
  EXPECT_EQ(reply.status, 400u);
  EXPECT_NE(reply.body.find("HTTPS only"), std::string::npos) << reply.body;
  EXPECT_TRUE(run_until(context_, [&] { return plain.closed(); }));
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(TlsFrontTest, Tls11IsRefused) {
  start(tls_config(), false);
  const auto reply = request(kNoCertificate, {}, true);
  EXPECT_FALSE(reply->handshake_ok);
  EXPECT_TRUE(reply->error);
  EXPECT_EQ(reply->status, 0u);
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(TlsFrontTest, MinimumTls13RefusesTls12) {
  auto tls = tls_config();
  tls.min_version = "1.3";
  start(tls, false);
  auto ctx_reply = std::make_shared<TlsReply>();
  // A TLS 1.2-only client.
  ssl::context client(ssl::context::tls_client);
  SSL_CTX_ctrl(client.native_handle(), SSL_CTRL_SET_MAX_PROTO_VERSION, TLS1_2_VERSION, nullptr);
  boost::system::error_code ignored;
  client.load_verify_file(file("ca.pem"), ignored);
  asio::co_spawn(
      context_,
      [&]() -> asio::awaitable<void> {
        constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
        beast::ssl_stream<beast::tcp_stream> stream(context_, client);
        auto [connect_error] = co_await beast::get_lowest_layer(stream).async_connect(
            asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), use_tuple);
        auto [handshake_error] =
            co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
        ctx_reply->error = connect_error ? connect_error : handshake_error;
        ctx_reply->handshake_ok = !connect_error && !handshake_error;
        ctx_reply->done = true;
      },
      asio::detached);
  ASSERT_TRUE(run_until(context_, [&] { return ctx_reply->done; }));
  EXPECT_FALSE(ctx_reply->handshake_ok);
  // 1.3 clients are served.
  EXPECT_EQ(request(kNoCertificate)->status, 200u);
}

TEST_F(TlsFrontTest, ClientCertificateSubjectReachesTheAuthenticator) {
  auto tls = tls_config();
  tls.client_ca_file = file("ca.pem");
  tls.require_client_cert = true;
  start(tls);
  const auto reply = request({file("client.pem"), file("client.key")});
  EXPECT_EQ(reply->status, 200u) << reply->error.message() << " " << reply->body;
  ASSERT_EQ(authenticator_.seen.size(), 1u);
  EXPECT_EQ(authenticator_.seen[0].cert_subject, "CN=alice,O=Example");
  ASSERT_EQ(service_.sessions.size(), 1u);
  EXPECT_EQ(service_.sessions[0]->opening.principal_key, "cert:CN=alice,O=Example");
  ASSERT_EQ(service_.sessions[0]->contexts.size(), 1u);
  ASSERT_TRUE(service_.sessions[0]->contexts[0].principal);
  EXPECT_EQ(service_.sessions[0]->contexts[0].principal->cert_subject, "CN=alice,O=Example");
  // With a token as well, the subject still comes along.
  const auto both =
      request({file("client.pem"), file("client.key")}, "Authorization: Bearer good-alice\r\n");
  EXPECT_EQ(both->status, 200u);
  ASSERT_EQ(authenticator_.seen.size(), 2u);
  EXPECT_EQ(authenticator_.seen[1].cert_subject, "CN=alice,O=Example");
  ASSERT_EQ(service_.sessions.size(), 2u);
  EXPECT_EQ(service_.sessions[1]->contexts[0].principal->cert_subject, "CN=alice,O=Example");
}

TEST_F(TlsFrontTest, RequiredClientCertificateMissingIsRefused) {
  auto tls = tls_config();
  tls.client_ca_file = file("ca.pem");
  tls.require_client_cert = true;
  start(tls);
  const auto reply = request(kNoCertificate);
  EXPECT_EQ(reply->status, 0u);
  EXPECT_TRUE(reply->error);
  EXPECT_TRUE(authenticator_.seen.empty());
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(TlsFrontTest, ClientCertificateFromAnotherCaIsRefused) {
  auto tls = tls_config();
  tls.client_ca_file = file("ca.pem");
  tls.require_client_cert = false;  // optional, but a presented certificate must verify
  start(tls);
  const auto reply = request({file("stranger.pem"), file("stranger.key")});
  EXPECT_EQ(reply->status, 0u);
  EXPECT_TRUE(reply->error);
  EXPECT_TRUE(authenticator_.seen.empty());
  EXPECT_TRUE(service_.sessions.empty());
}

TEST_F(TlsFrontTest, OptionalClientCertificate) {
  auto tls = tls_config();
  tls.client_ca_file = file("ca.pem");
  start(tls);
  authenticator_.allow_anonymous = true;
  const auto without = request(kNoCertificate);
  EXPECT_EQ(without->status, 200u) << without->error.message();
  ASSERT_EQ(authenticator_.seen.size(), 1u);
  EXPECT_EQ(authenticator_.seen[0].cert_subject, "");
  const auto with = request({file("client.pem"), file("client.key")});
  EXPECT_EQ(with->status, 200u) << with->error.message();
  ASSERT_EQ(authenticator_.seen.size(), 2u);
  EXPECT_EQ(authenticator_.seen[1].cert_subject, "CN=alice,O=Example");
}

TEST_F(TlsFrontTest, ListenReportsCertificateProblems) {
  HttpFrontOptions options;
  options.host = "127.0.0.1";
  const auto attempt = [&](config::TlsListenerConfig tls) {
    options.tls = std::move(tls);
    auto front = make_http_front(context_, service_, options);
    auto port = front->listen();
    return port ? std::string() : port.error();
  };
  auto tls = tls_config();
  tls.cert_file = file("missing.pem");
  EXPECT_NE(attempt(tls).find("cannot load the TLS certificate '" + file("missing.pem")),
            std::string::npos);
  tls = tls_config();
  tls.key_file = file("client.key");
  EXPECT_NE(attempt(tls).find("cannot load the TLS key '" + file("client.key") + "'"),
            std::string::npos);
  tls = tls_config();
  tls.min_version = "1.1";
  EXPECT_NE(attempt(tls).find("min_version"), std::string::npos);
  tls = tls_config();
  tls.require_client_cert = true;
  EXPECT_NE(attempt(tls).find("client_ca_file"), std::string::npos);
  tls = tls_config();
  tls.client_ca_file = file("missing-ca.pem");
  EXPECT_NE(attempt(tls).find("client CA"), std::string::npos);
  EXPECT_EQ(attempt(tls_config()), "");
}

TEST_F(TlsFrontTest, SilentTlsClientIsCutOffAfterTheHeaderTimeout) {
  start(tls_config(), false, std::chrono::milliseconds(300));
  testing::Client silent(context_, port_);  // connects and sends nothing
  EXPECT_TRUE(run_until(context_, [&] { return silent.closed(); }));
  EXPECT_EQ(silent.reply().status, 0u);
}

}  // namespace
}  // namespace mcpgw::front
