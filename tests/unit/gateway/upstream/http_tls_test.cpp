// HTTPS backends: certificate and host name verification, SNI, and tls_verify = false, against a
// TLS server whose self-signed certificate is made here with the OpenSSL API.
#include "tests/unit/gateway/upstream/http_test_server.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/upstream/transport.hpp"
#include "mcp/jsonrpc.hpp"

namespace mcpgw::upstream {
namespace {

using namespace std::chrono_literals;
namespace net = boost::asio;

struct Certificate {
  std::string certificate_pem;
  std::string key_pem;
};

std::string drain_bio(BIO* bio) {
  std::string text(BIO_ctrl_pending(bio), '\0');
  const int read = BIO_read(bio, text.data(), static_cast<int>(text.size()));
  text.resize(read > 0 ? static_cast<std::size_t>(read) : 0);
  return text;
}

// A self-signed P-256 certificate for `subject_alt_names` (e.g. "DNS:localhost,IP:127.0.0.1").
Certificate make_certificate(const std::string& subject_alt_names) {
  Certificate out;
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  X509* certificate = X509_new();
  EXPECT_NE(key, nullptr);
  EXPECT_NE(certificate, nullptr);
  if (key == nullptr || certificate == nullptr)
    return out;
  X509_set_version(certificate, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate), -3600);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 24 * 3600);
  X509_set_pubkey(certificate, key);
  X509_NAME* name = X509_get_subject_name(certificate);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("mcpgw test"), -1, -1, 0);
  X509_set_issuer_name(certificate, name);
  X509V3_CTX context{};
  X509V3_set_ctx(&context, certificate, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension =
      X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, subject_alt_names.c_str());
  EXPECT_NE(extension, nullptr);
  if (extension != nullptr) {
    X509_add_ext(certificate, extension, -1);
    X509_EXTENSION_free(extension);
  }
  EXPECT_GT(X509_sign(certificate, key, EVP_sha256()), 0);

  BIO* certificate_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(certificate_bio, certificate);
  out.certificate_pem = drain_bio(certificate_bio);
  BIO_free(certificate_bio);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = drain_bio(key_bio);
  BIO_free(key_bio);
  X509_free(certificate);
  EVP_PKEY_free(key);
  return out;
}

// A file removed when the test ends.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& text)
      : path_(std::filesystem::temp_directory_path() /
              ("mcpgw-http-tls-" + std::to_string(::getpid()) + "-" + name)) {
    std::ofstream(path_) << text;
  }
  ~TempFile() {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

class Recorder final : public TransportHandler {
 public:
  void on_message(mcp::Message message, const std::optional<mcp::RequestId>&) override {
    messages.push_back(std::move(message));
  }
  void on_send_failed(const mcp::RequestId& id, const TransportError& error) override {
    failures.emplace_back(id, error);
  }
  void on_closed(const TransportError& error) override { closed.push_back(error); }

  std::vector<mcp::Message> messages;
  std::vector<std::pair<mcp::RequestId, TransportError>> failures;
  std::vector<TransportError> closed;
};

class HttpsBackendTest : public ::testing::Test {
 protected:
  // A TLS server presenting a certificate for `names`, answering every request with JSON.
  void serve(const std::string& names) {
    certificate_ = make_certificate(names);
    server_tls_.use_certificate_chain(net::buffer(certificate_.certificate_pem));
    server_tls_.use_private_key(net::buffer(certificate_.key_pem), net::ssl::context::pem);
    server_ = std::make_unique<test::TestHttpServer>(
        context_,
        [](test::Reply& reply) -> net::awaitable<void> {
          auto message = mcp::decode_message(reply.request.body);
          const auto id = message && message->id ? *message->id : mcp::RequestId(0);
          co_await reply.json(
              mcp::encode(mcp::make_success_response(id, nlohmann::json::object())));
        },
        &server_tls_);
  }

  // Sends one request through a Streamable HTTP transport and waits for its outcome.
  void call(const std::string& url, bool verify, const std::string& ca_file) {
    config::BackendConfig backend;
    backend.name = "secure";
    backend.transport = config::BackendTransport::streamable_http;
    backend.url = url;
    backend.tls_verify = verify;
    backend.ca_file = ca_file;
    TransportLimits limits;
    limits.connect_timeout = 5s;
    factory_ = make_streamable_http_transport_factory(context_, backend, limits);
    transport_ = factory_->create();
    transport_->start(recorder_);
    transport_->send(mcp::make_request(1, "ping"));
    ASSERT_TRUE(test::run_until(
        context_, [&] { return recorder_.messages.size() + recorder_.failures.size() == 1; }));
  }

  void TearDown() override {
    transport_.reset();
    if (factory_)
      factory_->shutdown();
  }

  net::io_context context_;
  net::ssl::context server_tls_{net::ssl::context::tls_server};
  Certificate certificate_;
  std::unique_ptr<test::TestHttpServer> server_;
  Recorder recorder_;
  std::unique_ptr<TransportFactory> factory_;
  std::unique_ptr<Transport> transport_;
};

TEST_F(HttpsBackendTest, UntrustedCertificateFailsToConnect) {
  serve("IP:127.0.0.1");
  call(server_->url(), /*verify=*/true, "");
  ASSERT_EQ(recorder_.failures.size(), 1u);
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::connect_failed);
  EXPECT_NE(recorder_.failures[0].second.message.find("certificate"), std::string::npos)
      << recorder_.failures[0].second.message;
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(HttpsBackendTest, CaFileMakesTheCertificateTrusted) {
  serve("IP:127.0.0.1");
  TempFile ca("trusted.pem", certificate_.certificate_pem);
  call(server_->url(), /*verify=*/true, ca.path());
  ASSERT_EQ(recorder_.messages.size(), 1u)
      << (recorder_.failures.empty() ? std::string() : recorder_.failures[0].second.message);
  EXPECT_EQ(recorder_.messages[0].id, mcp::RequestId(1));
  ASSERT_EQ(server_->requests().size(), 1u);
  EXPECT_EQ(server_->requests()[0].sni, "");  // no SNI for an IP address
}

TEST_F(HttpsBackendTest, CertificateForAnotherNameIsRefused) {
  serve("DNS:other.example");
  TempFile ca("other.pem", certificate_.certificate_pem);
  call(server_->url(), /*verify=*/true, ca.path());
  ASSERT_EQ(recorder_.failures.size(), 1u);
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::connect_failed);
  EXPECT_NE(recorder_.failures[0].second.message.find("mismatch"), std::string::npos)
      << recorder_.failures[0].second.message;
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(HttpsBackendTest, HostNameIsSentAsSniAndVerified) {
  serve("DNS:localhost");
  TempFile ca("localhost.pem", certificate_.certificate_pem);
  call(server_->url("/mcp", "localhost"), /*verify=*/true, ca.path());
  ASSERT_EQ(recorder_.messages.size(), 1u)
      << (recorder_.failures.empty() ? std::string() : recorder_.failures[0].second.message);
  ASSERT_EQ(server_->requests().size(), 1u);
  EXPECT_EQ(server_->requests()[0].sni, "localhost");
  EXPECT_EQ(server_->requests()[0].header("host"), "localhost:" + std::to_string(server_->port()));
}

TEST_F(HttpsBackendTest, VerificationOffAcceptsAnyCertificate) {
  serve("DNS:other.example");
  call(server_->url(), /*verify=*/false, "");
  ASSERT_EQ(recorder_.messages.size(), 1u);
  EXPECT_TRUE(recorder_.failures.empty());
}

TEST_F(HttpsBackendTest, UnreadableCaFileFailsToConnect) {
  serve("IP:127.0.0.1");
  call(server_->url(), /*verify=*/true, "/nonexistent/mcpgw-ca.pem");
  ASSERT_EQ(recorder_.failures.size(), 1u);
  EXPECT_EQ(recorder_.failures[0].second.kind, TransportError::Kind::connect_failed);
  EXPECT_NE(recorder_.failures[0].second.message.find("ca_file"), std::string::npos);
  EXPECT_EQ(server_->connections(), 0u);
}

}  // namespace
}  // namespace mcpgw::upstream
