// The HTTP listener: one coroutine per connection (plain TCP, or TLS after a handshake) reads
// requests with Beast, applies the transport checks (Host, Origin, Accept, Content-Type, sizes,
// methods), authenticates the request, and hands the rest to the SessionTable
// (http_sessions.hpp), then writes what it decided: a plain answer, a JSON body once an exchange
// completes, or an SSE stream event by event. The connection code is a template over the
// stream type, so HTTP and HTTPS share one code path.
#include "gateway/front/http_front.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <limits>
#include <set>
#include <unordered_set>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "gateway/auth/authenticator.hpp"
#include "gateway/capture/hooks.hpp"
#include "gateway/front/http_checks.hpp"
#include "gateway/front/http_sessions.hpp"
#include "gateway/front/http_stream.hpp"
#include "gateway/runtime/asio_loop.hpp"
#include "mcp/ascii.hpp"
#include "mcp/sse.hpp"

namespace mcpgw::front {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Bytes of SSE events gathered into one write.
constexpr std::size_t kMaxWriteBatch = 256u << 10;
// After shutdown(), connections still writing get this long before they are cut.
constexpr std::chrono::milliseconds kShutdownGrace{2000};
// Closing after an error with request bytes unread: the server stops sending, then reads and
// drops at most this much for at most this long, so that the client sees the answer.
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr std::size_t kLingerBytes = 1u << 20;
// A keep-alive connection's wait for the next request reads at most this much at first.
constexpr std::size_t kIdleReadBytes = 4096;
// The TLS close_notify exchange at the end of a connection.
constexpr std::chrono::milliseconds kTlsShutdownTime{1000};
// RFC 9728 section 3: the metadata of the resource at <path> is at this prefix + <path>.
constexpr std::string_view kResourceMetadataPath = "/.well-known/oauth-protected-resource";

using Request = bhttp::request<bhttp::string_body>;
using Parser = bhttp::request_parser<bhttp::string_body>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

enum class Route { streamable, legacy_stream, legacy_message, resource_metadata, unknown };

// What the connection knows about one client connection, whatever its stream type. It is also
// the StreamSink of whatever stream, exchange or authentication it waits for: wake() cancels
// the signal timer the coroutine waits on.
class ConnectionBase : public http::StreamSink {
 public:
  ConnectionBase(const asio::any_io_executor& executor, std::string peer)
      : signal(executor), remote(std::move(peer)) {}

  virtual beast::tcp_stream& tcp() = 0;
  void wake() override { signal.cancel(); }
  void close() {
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
    wake();
  }

  beast::flat_buffer buffer;
  asio::steady_timer signal;
  std::string remote;
  std::string cert_subject;  // the verified client certificate's subject (RFC 2253), mTLS only
  bool reading = false;      // waiting for (the head of) the next request
  bool closing = false;      // shutdown: finish the current answer, then close
  // serve --capture: the connection's number (drawn on first use) and, for the request being
  // answered, whether its JSON answer is a JSON-RPC message of an MCP endpoint, and its context.
  std::uint64_t capture_number = 0;
  bool capture_answer = false;
  mcp::capture::Record capture_context;
  bool peer_gone = false;  // an SSE GET's watcher saw the client close (or send)
  std::array<char, 512> watch_buffer{};
};

template <class Stream>
class Connection final : public ConnectionBase {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  template <class... Args>
  Connection(const asio::any_io_executor& executor, std::string peer, Args&&... args)
      : ConnectionBase(executor, std::move(peer)), stream(std::forward<Args>(args)...) {}

  beast::tcp_stream& tcp() override { return beast::get_lowest_layer(stream); }

  Stream stream;
};

using PlainConnection = Connection<beast::tcp_stream>;
using TlsConnection = Connection<TlsStream>;

// Who sent a request, as the authenticator decided.
struct Authenticated {
  std::optional<http::HttpAnswer> refusal;
  std::shared_ptr<const policy::Principal> principal;  // null: anonymous
  std::string key = "anonymous";
  bool abandoned = false;  // the connection closed while the decision was pending
};

std::string header_value(const Request& request, bhttp::field field) {
  const auto it = request.find(field);
  return it == request.end() ? std::string() : std::string(it->value());
}

std::optional<std::string> optional_header(const Request& request, std::string_view name) {
  const auto it = request.find(name);
  if (it == request.end()) {
    return std::nullopt;
  }
  return std::string(it->value());
}

std::string allow_for(Route route) {
  switch (route) {
    case Route::streamable:
      return "GET, POST, DELETE";
    case Route::legacy_stream:
    case Route::resource_metadata:
      return "GET";
    case Route::legacy_message:
      return "POST";
    case Route::unknown:
      break;
  }
  return {};
}

// The subject of the client certificate the handshake verified, as RFC 2253 text; empty without
// one.
std::string verified_subject(SSL* ssl) {
  X509* certificate = SSL_get0_peer_certificate(ssl);
  if (certificate == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) {
    return {};
  }
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) {
    return {};
  }
  std::string out;
  if (X509_NAME_print_ex(bio, X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) >= 0) {
    char* data = nullptr;
    const long size = BIO_ctrl(bio, BIO_CTRL_INFO, 0, static_cast<void*>(&data));
    if (data != nullptr && size > 0) {
      out.assign(data, static_cast<std::size_t>(size));
    }
  }
  BIO_free(bio);
  return out;
}

// The listener's TLS context from [server.tls]: certificate chain and key (checked against each
// other), TLS 1.2 or 1.3 at least, and client certificate verification with client_ca_file.
mcp::Expected<std::unique_ptr<ssl::context>, std::string> make_tls_context(
    const config::TlsListenerConfig& tls) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  error_code error;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       error);
  long minimum = 0;
  if (tls.min_version.empty() || tls.min_version == "1.2") {
    minimum = TLS1_2_VERSION;
  } else if (tls.min_version == "1.3") {
    minimum = TLS1_3_VERSION;
  } else {
    return mcp::unexpected("tls min_version must be \"1.2\" or \"1.3\", not \"" +
                           tls.min_version.substr(0, 16) + "\"");
  }
  if (SSL_CTX_ctrl(context->native_handle(), SSL_CTRL_SET_MIN_PROTO_VERSION, minimum, nullptr) !=
      1) {
    return mcp::unexpected(std::string("cannot set the minimum TLS version"));
  }
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return mcp::unexpected(std::string("tls needs both cert_file and key_file"));
  }
  if (context->use_certificate_chain_file(tls.cert_file, error); error) {
    return mcp::unexpected("cannot load the TLS certificate '" + tls.cert_file +
                           "': " + error.message());
  }
  if (context->use_private_key_file(tls.key_file, ssl::context::pem, error); error) {
    return mcp::unexpected("cannot load the TLS key '" + tls.key_file + "': " + error.message());
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return mcp::unexpected("the TLS key '" + tls.key_file + "' does not match the certificate '" +
                           tls.cert_file + "'");
  }
  if (tls.client_ca_file.empty()) {
    if (tls.require_client_cert) {
      return mcp::unexpected(std::string("tls require_client_cert needs client_ca_file"));
    }
    return context;
  }
  if (context->load_verify_file(tls.client_ca_file, error); error) {
    return mcp::unexpected("cannot load the TLS client CA file '" + tls.client_ca_file +
                           "': " + error.message());
  }
  // The CA names go into the CertificateRequest, so clients pick a matching certificate.
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
    SSL_CTX_set_client_CA_list(context->native_handle(), names);
  }
  // Resumed sessions keep the verified peer; OpenSSL needs a context id for that with mTLS.
  static constexpr std::string_view kSessionContext = "mcpgw-front";
  SSL_CTX_set_session_id_context(context->native_handle(),
                                 reinterpret_cast<const unsigned char*>(kSessionContext.data()),
                                 static_cast<unsigned>(kSessionContext.size()));
  // A presented certificate is always verified; require_client_cert also refuses handshakes
  // without one.
  context->set_verify_mode(tls.require_client_cert
                               ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                               : ssl::verify_peer,
                           error);
  if (error) {
    return mcp::unexpected("cannot enable client certificate verification: " + error.message());
  }
  return context;
}

// The refusal the authenticator decided, as an HTTP answer with a JSON-RPC error body.
http::HttpAnswer auth_refusal(const auth::AuthResult& result) {
  unsigned status = 401;
  std::int64_t code = http::kUnauthorizedError;
  std::string text = "Unauthorized";
  switch (result.http_status) {
    case 400:
      status = 400;
      code = mcp::error_code::invalid_request;
      text = "Bad Request";
      break;
    case 403:
      status = 403;
      code = http::kForbiddenError;
      text = "Forbidden";
      break;
    case 401:
      break;
    default:
      // Anything else is a bug in the authenticator: refuse, never let the request through.
      spdlog::error("http front: the authenticator refused with status {}; answering 401",
                    result.http_status);
      break;
  }
  if (!result.reason.empty()) {
    text += ": " + result.reason;
  }
  auto answer = http::error_answer(status, code, std::move(text));
  if (!result.www_authenticate.empty()) {
    answer.headers.emplace_back("WWW-Authenticate", result.www_authenticate);
  }
  return answer;
}

// A header that appears more than once where one value is expected.
bool repeated(const Request& request, std::string_view name) {
  auto range = request.equal_range(name);
  return range.first != range.second && ++range.first != range.second;
}

class FrontImpl final : public std::enable_shared_from_this<FrontImpl> {
 public:
  FrontImpl(asio::io_context& context, server::Service& service, HttpFrontOptions options)
      : context_(context),
        loop_(context),
        options_(normalize(std::move(options))),
        table_(loop_, service, options_),
        acceptor_(context),
        shutdown_timer_(context) {}

  mcp::Expected<std::uint16_t, std::string> listen();
  void stop_accepting();
  void shutdown(std::function<void()> done);
  void destroy();
  std::size_t requests_in_flight() const { return table_.requests_in_flight(); }
  FrontStats stats() const {
    FrontStats out;
    out.sessions_open = table_.size();
    out.sessions_expired = table_.sessions_expired();
    out.events_dropped = table_.events_dropped();
    return out;
  }

 private:
  static HttpFrontOptions normalize(HttpFrontOptions options) {
    for (auto& name : options.forward_headers) {
      name = mcp::ascii_lower(name);
    }
    return options;
  }

  // Coroutines start later than they are spawned: each takes `self` as a parameter (copied into
  // its frame at once), so the front end outlives them even when destroyed before they run.
  asio::awaitable<void> accept_loop(std::shared_ptr<FrontImpl> self);
  void refuse(tcp::socket socket);
  template <class Conn>
  asio::awaitable<void> serve(std::shared_ptr<FrontImpl> self, std::shared_ptr<Conn> connection);
  asio::awaitable<bool> handshake(const std::shared_ptr<TlsConnection>& connection);
  template <class Conn>
  asio::awaitable<void> finish_connection(const std::shared_ptr<Conn>& connection,
                                          bool unread_input, bool clean);
  asio::awaitable<void> linger(const std::shared_ptr<ConnectionBase>& connection);
  template <class Conn>
  asio::awaitable<Authenticated> authenticate(const std::shared_ptr<Conn>& connection,
                                              const Request& request);
  // Each returns whether the connection may carry another request.
  template <class Conn>
  asio::awaitable<bool> handle(const std::shared_ptr<Conn>& connection, Request& request,
                               Route route, bool keep_alive, const Authenticated& who);
  template <class Conn>
  asio::awaitable<bool> write_answer(const std::shared_ptr<Conn>& connection,
                                     const http::HttpAnswer& answer, unsigned version,
                                     bool keep_alive);
  template <class Conn>
  asio::awaitable<bool> await_exchange(const std::shared_ptr<Conn>& connection,
                                       std::shared_ptr<http::Exchange> exchange, unsigned version,
                                       bool keep_alive);
  template <class Conn>
  asio::awaitable<bool> pump(const std::shared_ptr<Conn>& connection,
                             std::shared_ptr<http::HttpSession> session,
                             std::shared_ptr<http::SseStream> stream, unsigned version,
                             bool keep_alive, std::string session_header, bool watch_peer);
  asio::awaitable<bool> wait(const std::shared_ptr<ConnectionBase>& connection,
                             std::optional<std::chrono::milliseconds> timeout);

  http::HttpAnswer too_large() const {
    return http::error_answer(413, mcp::error_code::invalid_request,
                              "Payload Too Large: the body exceeds " +
                                  std::to_string(options_.max_body_bytes) + " bytes");
  }
  Route route_of(std::string_view target) const;
  // `content_length`: the body size the head declares, if it does.
  std::optional<http::HttpAnswer> precheck(const Request& request, Route route,
                                           std::optional<std::uint64_t> content_length);
  server::RequestContext context_of(const Request& request, const Authenticated& who) const;
  http::IncomingRequest incoming(const std::shared_ptr<ConnectionBase>& connection,
                                 Request& request, const Authenticated& who) const;
  void connection_done(ConnectionBase* connection);
  // serve --capture (only called with a recorder).
  std::uint64_t capture_number(ConnectionBase& connection) const;
  http::RequestCapture request_capture(ConnectionBase& connection, const Request& request) const;
  void prepare_capture(ConnectionBase& connection, const Request& request, Route route) const;
  void capture_answer(ConnectionBase& connection, const http::HttpAnswer& answer) const;

  asio::io_context& context_;
  runtime::AsioEventLoop loop_;
  HttpFrontOptions options_;
  http::SessionTable table_;
  tcp::acceptor acceptor_;
  std::unique_ptr<ssl::context> tls_context_;  // set: HTTPS only
  http::RequestGuard guard_;
  std::unordered_set<ConnectionBase*> connections_;
  std::set<std::string> forward_headers_;
  bool accepting_ = false;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
  asio::steady_timer shutdown_timer_;
};

mcp::Expected<std::uint16_t, std::string> FrontImpl::listen() {
  if (acceptor_.is_open()) {
    return mcp::unexpected(std::string("already listening"));
  }
  // Certificates first: a listener that cannot speak TLS must not accept anything.
  if (options_.tls) {
    auto tls = make_tls_context(*options_.tls);
    if (!tls) {
      return mcp::unexpected(std::move(tls.error()));
    }
    tls_context_ = std::move(*tls);
  }
  error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, options_.port);
  } else {
    tcp::resolver resolver(context_);
    const auto results =
        resolver.resolve(options_.host, std::to_string(options_.port), tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return mcp::unexpected("cannot resolve '" + options_.host +
                             "': " + (ec ? ec.message() : std::string("no address")));
    }
    endpoint = results.begin()->endpoint();
  }
  const auto where = options_.host + ":" + std::to_string(options_.port);
  if (acceptor_.open(endpoint.protocol(), ec); ec) {
    return mcp::unexpected("cannot listen on " + where + ": " + ec.message());
  }
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  // close() gets its own error_code: reusing `ec` would turn the reason into "Success".
  if (acceptor_.bind(endpoint, ec); ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return mcp::unexpected("cannot bind " + where + ": " + ec.message());
  }
  if (acceptor_.listen(tcp::socket::max_listen_connections, ec); ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return mcp::unexpected("cannot listen on " + where + ": " + ec.message());
  }
  const auto port = acceptor_.local_endpoint(ec).port();
  guard_ =
      http::RequestGuard(options_.allowed_hosts, options_.allowed_origins, options_.host, port);
  if (options_.allowed_hosts.empty() && http::is_wildcard_host(options_.host)) {
    spdlog::warn(
        "http front: listening on every interface ({}) without [server] allowed_hosts: "
        "only loopback Host names are accepted; list the names clients use",
        options_.host);
  }
  for (const auto& name : options_.forward_headers) {
    forward_headers_.insert(name);
  }
  accepting_ = true;
  asio::co_spawn(context_, accept_loop(shared_from_this()), asio::detached);
  spdlog::info("http front: listening on {} port {} ({}; Streamable HTTP at {}{}{})", options_.host,
               port,
               !tls_context_                          ? "HTTP"
               : options_.tls->client_ca_file.empty() ? "HTTPS"
               : options_.tls->require_client_cert    ? "HTTPS, client certificates required"
                                                      : "HTTPS, client certificates verified",
               options_.path,
               options_.sse_path.empty() ? std::string() : ", legacy SSE at " + options_.sse_path,
               options_.authenticator != nullptr ? ", authenticated" : "");
  return port;
}

void FrontImpl::stop_accepting() {
  if (!accepting_) {
    return;
  }
  accepting_ = false;
  error_code ignored;
  acceptor_.close(ignored);
}

void FrontImpl::shutdown(std::function<void()> done) {
  stop_accepting();
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  table_.close_all();
  for (auto* connection : connections_) {
    connection->closing = true;
    if (connection->reading) {
      connection->close();
    } else {
      connection->wake();
    }
  }
  if (connections_.empty()) {
    if (auto finished = std::exchange(shutdown_done_, nullptr)) {
      asio::post(context_, std::move(finished));
    }
    return;
  }
  shutdown_timer_.expires_after(kShutdownGrace);
  shutdown_timer_.async_wait([self = shared_from_this()](const error_code& error) {
    if (error) {
      return;
    }
    for (auto* connection : self->connections_) {
      connection->close();
    }
  });
}

void FrontImpl::destroy() {
  stop_accepting();
  shutting_down_ = true;
  shutdown_done_ = nullptr;
  table_.close_all();
  for (auto* connection : connections_) {
    connection->closing = true;
    connection->close();
  }
  shutdown_timer_.cancel();
}

void FrontImpl::connection_done(ConnectionBase* connection) {
  connections_.erase(connection);
  if (shutting_down_ && connections_.empty()) {
    shutdown_timer_.cancel();
    if (auto finished = std::exchange(shutdown_done_, nullptr)) {
      asio::post(context_, std::move(finished));
    }
  }
}

asio::awaitable<void> FrontImpl::accept_loop(std::shared_ptr<FrontImpl> self) {
  static_cast<void>(self);
  asio::steady_timer backoff(context_);
  while (accepting_) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (!accepting_) {
      break;
    }
    if (ec) {
      // Out of descriptors and the like: wait instead of spinning.
      spdlog::warn("http front: accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    if (connections_.size() >= options_.max_connections) {
      spdlog::warn("http front: connection limit reached ({}); refusing a connection",
                   options_.max_connections);
      refuse(std::move(socket));
      continue;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const auto peer = socket.remote_endpoint(ignored);
    std::string remote = peer.address().to_string() + ":" + std::to_string(peer.port());
    const auto executor = socket.get_executor();
    if (tls_context_) {
      auto connection = std::make_shared<TlsConnection>(executor, std::move(remote),
                                                        std::move(socket), *tls_context_);
      connections_.insert(connection.get());
      asio::co_spawn(context_, serve(self, std::move(connection)), asio::detached);
    } else {
      auto connection =
          std::make_shared<PlainConnection>(executor, std::move(remote), std::move(socket));
      connections_.insert(connection.get());
      asio::co_spawn(context_, serve(self, std::move(connection)), asio::detached);
    }
  }
}

// 503 over plain HTTP; an HTTPS listener closes at once (a plain-text answer would be garbage
// to a TLS client, and a handshake is the work the limit avoids).
void FrontImpl::refuse(tcp::socket socket) {
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  auto shared = std::make_shared<tcp::socket>(std::move(socket));
  const auto close = [shared] {
    error_code ignored;
    shared->shutdown(tcp::socket::shutdown_both, ignored);
    shared->close(ignored);
  };
  if (tls_context_) {
    close();
    return;
  }
  asio::async_write(*shared, asio::buffer(kBusy.data(), kBusy.size()),
                    [close](const error_code&, std::size_t) { close(); });
}

Route FrontImpl::route_of(std::string_view target) const {
  const auto path = http::target_path(target);
  if (path == options_.path) {
    return Route::streamable;
  }
  if (!options_.sse_path.empty()) {
    if (path == options_.sse_path) {
      return Route::legacy_stream;
    }
    if (path == options_.message_path) {
      return Route::legacy_message;
    }
  }
  if (options_.authenticator != nullptr &&
      path.substr(0, kResourceMetadataPath.size()) == kResourceMetadataPath) {
    const auto rest = path.substr(kResourceMetadataPath.size());
    if (rest.empty() || rest == options_.path) {
      return Route::resource_metadata;
    }
  }
  return Route::unknown;
}

std::optional<http::HttpAnswer> FrontImpl::precheck(const Request& request, Route route,
                                                    std::optional<std::uint64_t> content_length) {
  using http::error_answer;
  constexpr auto invalid = mcp::error_code::invalid_request;
  if (route == Route::unknown) {
    return error_answer(404, invalid, "Not Found");
  }
  const auto method = request.method();
  const bool allowed =
      (route == Route::streamable && (method == bhttp::verb::get || method == bhttp::verb::post ||
                                      method == bhttp::verb::delete_)) ||
      ((route == Route::legacy_stream || route == Route::resource_metadata) &&
       method == bhttp::verb::get) ||
      (route == Route::legacy_message && method == bhttp::verb::post);
  if (!allowed) {
    auto answer = error_answer(405, invalid, "Method Not Allowed");
    answer.headers.emplace_back("Allow", allow_for(route));
    return answer;
  }
  const auto host = request.find(bhttp::field::host);
  if (host == request.end() ? request.version() >= 11 : !guard_.host_allowed(host->value())) {
    spdlog::warn(
        "http front: refused Host '{}' from a client",
        host == request.end() ? std::string("(none)") : std::string(host->value().substr(0, 100)));
    return error_answer(403, invalid, "Forbidden: Host header not allowed");
  }
  const auto origin = request.find(bhttp::field::origin);
  if (origin != request.end() && !guard_.origin_allowed(origin->value())) {
    spdlog::warn("http front: refused Origin '{}'", std::string(origin->value().substr(0, 100)));
    return error_answer(403, invalid, "Forbidden: Origin not allowed");
  }
  if (content_length && *content_length > options_.max_body_bytes) {
    return too_large();
  }
  if (route == Route::resource_metadata) {
    return std::nullopt;
  }
  const auto accept = http::parse_accept(header_value(request, bhttp::field::accept));
  const bool has_accept = request.find(bhttp::field::accept) != request.end();
  if (method == bhttp::verb::post) {
    if (route == Route::streamable && !(accept.json && accept.event_stream)) {
      return error_answer(406, invalid,
                          "Not Acceptable: the client must accept both application/json and "
                          "text/event-stream");
    }
    if (!http::is_json_content_type(header_value(request, bhttp::field::content_type))) {
      return error_answer(415, invalid,
                          "Unsupported Media Type: Content-Type must be application/json");
    }
  } else if (method == bhttp::verb::get) {
    if ((route == Route::streamable || has_accept) && !accept.event_stream) {
      return error_answer(406, invalid, "Not Acceptable: the client must accept text/event-stream");
    }
  }
  return std::nullopt;
}

server::RequestContext FrontImpl::context_of(const Request& request,
                                             const Authenticated& who) const {
  server::RequestContext context;
  context.principal = who.principal;
  context.principal_key = who.key;
  if (forward_headers_.empty() && !options_.forward_all_headers) {
    return context;
  }
  for (const auto& field : request) {
    auto name = mcp::ascii_lower(field.name_string());
    if (options_.forward_all_headers || forward_headers_.count(name) != 0) {
      context.headers.emplace_back(std::move(name), std::string(field.value()));
    }
  }
  return context;
}

http::IncomingRequest FrontImpl::incoming(const std::shared_ptr<ConnectionBase>& connection,
                                          Request& request, const Authenticated& who) const {
  http::IncomingRequest in;
  in.session_id = optional_header(request, "mcp-session-id");
  in.protocol_version = optional_header(request, "mcp-protocol-version");
  in.last_event_id = optional_header(request, "last-event-id");
  in.context = context_of(request, who);
  in.remote = connection->remote;
  in.sink = connection;
  in.body = std::move(request.body());
  if (options_.recorder != nullptr) {
    in.capture = request_capture(*connection, request);
  }
  return in;
}

std::uint64_t FrontImpl::capture_number(ConnectionBase& connection) const {
  if (connection.capture_number == 0) {
    connection.capture_number = capture::next_connection_number();
  }
  return connection.capture_number;
}

http::RequestCapture FrontImpl::request_capture(ConnectionBase& connection,
                                                const Request& request) const {
  http::RequestCapture out;
  out.headers = capture::selected_headers(*options_.recorder, request.base());
  out.connection = capture_number(connection);
  return out;
}

// Answers of the MCP endpoints carry JSON-RPC (errors included); the metadata document does not.
void FrontImpl::prepare_capture(ConnectionBase& connection, const Request& request,
                                Route route) const {
  connection.capture_answer =
      route == Route::streamable || route == Route::legacy_stream || route == Route::legacy_message;
  if (!connection.capture_answer) {
    return;
  }
  auto& context = connection.capture_context;
  context = mcp::capture::Record();
  context.leg = mcp::traffic::Leg::client;
  context.direction = mcp::traffic::Direction::server_to_client;
  context.transport = route == Route::streamable ? mcp::traffic::Transport::streamable_http
                                                 : mcp::traffic::Transport::sse;
  context.connection = capture_number(connection);
  context.http_method = std::string(request.method_string());
  if (route == Route::legacy_message) {
    context.session = http::query_parameter(request.target(), "sessionId").value_or("");
  } else {
    context.session = optional_header(request, "mcp-session-id").value_or("");
  }
}

void FrontImpl::capture_answer(ConnectionBase& connection, const http::HttpAnswer& answer) const {
  if (answer.content_type != "application/json" || answer.body.empty()) {
    return;
  }
  auto context = connection.capture_context;
  context.http_status = static_cast<int>(answer.status);
  context.http_headers.push_back({"content-type", answer.content_type});
  for (const auto& [name, value] : answer.headers) {
    auto lower_name = mcp::ascii_lower(name);
    if (lower_name == "mcp-session-id") {
      context.session = value;  // the initialize answer names the new session
    }
    if (options_.recorder->wants_header(lower_name)) {
      context.http_headers.push_back({std::move(lower_name), value});
    }
  }
  capture::record_text(*options_.recorder, context, answer.body);
}

template <class Conn>
asio::awaitable<Authenticated> FrontImpl::authenticate(const std::shared_ptr<Conn>& connection,
                                                       const Request& request) {
  Authenticated who;
  auto* authenticator = options_.authenticator;
  if (authenticator == nullptr) {
    co_return who;
  }
  auth::Credentials credentials;
  credentials.cert_subject = connection->cert_subject;
  if (!authenticator->open()) {
    // Two values for one credential header leave it open which one counts: refuse.
    if (repeated(request, "authorization") || repeated(request, options_.api_key_header)) {
      who.refusal = http::error_answer(400, mcp::error_code::invalid_request,
                                       "Bad Request: a credential header appears more than once");
      co_return who;
    }
    const auto authorization = request.find(bhttp::field::authorization);
    if (authorization != request.end()) {
      credentials.authorization = std::string_view(authorization->value());
    }
    const auto api_key = request.find(options_.api_key_header);
    if (api_key != request.end()) {
      credentials.api_key = std::string_view(api_key->value());
    }
    credentials.token_in_query = http::query_has_token(request.target());
  }
  const auto host = request.find(bhttp::field::host);
  const std::string_view host_text =
      host == request.end() ? std::string_view() : std::string_view(host->value());

  // The decision may come later (a key refresh): wait for it on the connection's signal, which
  // the completion wakes, so the loop keeps running.
  auto decided = std::make_shared<std::optional<auth::AuthResult>>();
  std::weak_ptr<Conn> weak = connection;
  authenticator->authenticate(credentials, host_text, [decided, weak](auth::AuthResult result) {
    *decided = std::move(result);
    if (auto alive = weak.lock()) {
      alive->wake();
    }
  });
  while (!*decided) {
    if (connection->closing) {
      who.abandoned = true;
      co_return who;
    }
    co_await wait(connection, std::nullopt);
  }
  auto& result = **decided;
  if (!result.ok) {
    const bool presented = credentials.authorization || credentials.api_key ||
                           credentials.token_in_query || !credentials.cert_subject.empty();
    if (presented) {
      spdlog::info("http front: {} refused for {}: {}", result.http_status, connection->remote,
                   result.reason);
    } else {
      spdlog::debug("http front: {} for {} without credentials", result.http_status,
                    connection->remote);
    }
    who.refusal = auth_refusal(result);
    co_return who;
  }
  who.principal = std::move(result.principal);
  if (who.principal) {
    who.key = auth::principal_key(*who.principal);
  }
  co_return who;
}

asio::awaitable<bool> FrontImpl::handshake(const std::shared_ptr<TlsConnection>& connection) {
  // One deadline for detecting and completing the handshake (slowloris during TLS).
  connection->tcp().expires_after(options_.header_timeout);
  auto [detect_error, is_tls] =
      co_await beast::async_detect_ssl(connection->tcp(), connection->buffer, use_tuple);
  if (detect_error) {
    if (detect_error == beast::error::timeout) {
      spdlog::info("http front: no TLS handshake from {} within {} ms; connection closed",
                   connection->remote, options_.header_timeout.count());
    }
    co_return false;
  }
  if (!is_tls) {
    spdlog::info("http front: plain HTTP from {} on the HTTPS listener; answered 400",
                 connection->remote);
    const auto body = mcp::encode(mcp::make_error_response(
        std::nullopt, mcp::error_code::invalid_request,
        "Bad Request: this listener speaks HTTPS only; plain HTTP was sent"));
    auto text = std::make_shared<std::string>(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: "
        "close\r\nContent-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    connection->tcp().expires_after(options_.write_timeout);
    auto [write_error, written] =
        co_await asio::async_write(connection->tcp(), asio::buffer(*text), use_tuple);
    if (!write_error) {
      co_await linger(connection);
    }
    co_return false;
  }
  auto [handshake_error, used] = co_await connection->stream.async_handshake(
      ssl::stream_base::server, connection->buffer.data(), use_tuple);
  if (handshake_error) {
    if (handshake_error == beast::error::timeout) {
      spdlog::info("http front: TLS handshake with {} not complete within {} ms; closed",
                   connection->remote, options_.header_timeout.count());
    } else {
      spdlog::info("http front: TLS handshake with {} failed: {}", connection->remote,
                   handshake_error.message());
    }
    co_return false;
  }
  connection->buffer.consume(used);
  connection->cert_subject = verified_subject(connection->stream.native_handle());
  if (!connection->cert_subject.empty()) {
    spdlog::debug("http front: {} presented a verified client certificate", connection->remote);
  }
  co_return true;
}

template <class Conn>
asio::awaitable<void> FrontImpl::serve(std::shared_ptr<FrontImpl> self,
                                       std::shared_ptr<Conn> connection) {
  static_cast<void>(self);
  const auto header_limit = static_cast<std::uint32_t>(std::min<std::uint64_t>(
      options_.max_header_bytes, std::numeric_limits<std::uint32_t>::max()));
  bool ready = true;
  if constexpr (Conn::kTls) {
    ready = co_await handshake(connection);
  }
  // Set when the connection closes with request bytes still unread: closing at once could
  // reset the connection before the client has read the error answer.
  bool unread_input = false;
  bool first = true;
  while (ready && !connection->closing) {
    // Between requests: the next one must start within idle_timeout, then its whole head must
    // arrive within header_timeout (the first request of a connection has header_timeout
    // for both).
    if (!first && connection->buffer.size() == 0) {
      connection->reading = true;
      connection->tcp().expires_after(options_.idle_timeout);
      auto [idle_error, idle_bytes] = co_await connection->stream.async_read_some(
          connection->buffer.prepare(kIdleReadBytes), use_tuple);
      connection->reading = false;
      if (idle_error) {
        if (idle_error == beast::error::timeout) {
          spdlog::debug("http front: {} idle for {} ms; connection closed", connection->remote,
                        options_.idle_timeout.count());
        }
        break;
      }
      connection->buffer.commit(idle_bytes);
    }
    first = false;
    connection->capture_answer = false;
    Parser parser;
    parser.header_limit(header_limit);
    parser.body_limit(options_.max_body_bytes);
    connection->reading = true;
    connection->tcp().expires_after(options_.header_timeout);
    auto [read_error, head_bytes] = co_await bhttp::async_read_header(
        connection->stream, connection->buffer, parser, use_tuple);
    connection->reading = false;
    if (read_error) {
      if (read_error == bhttp::error::header_limit) {
        spdlog::info("http front: request head from {} exceeds {} bytes; answered 431",
                     connection->remote, options_.max_header_bytes);
        co_await write_answer(
            connection,
            http::error_answer(431, mcp::error_code::invalid_request,
                               "Request Header Fields Too Large: the head "
                               "exceeds " +
                                   std::to_string(options_.max_header_bytes) + " bytes"),
            11, false);
        unread_input = true;
      } else if (read_error == bhttp::error::body_limit) {
        // Beast compares Content-Length with the limit while it parses the head, which it has
        // read whole: the checks before the body size (method, Host, Origin) still come first.
        const auto& head = parser.get();
        const auto refusal = precheck(head, route_of(head.target()), options_.max_body_bytes + 1);
        co_await write_answer(connection, refusal.value_or(too_large()), head.version(), false);
        unread_input = true;
      } else if (read_error == beast::error::timeout) {
        // Beast has closed the socket: the slow client gets no answer (a client that cannot
        // send its head in time would not read one either).
        spdlog::info("http front: request head from {} not complete within {} ms; closed",
                     connection->remote, options_.header_timeout.count());
      } else if (read_error != bhttp::error::end_of_stream &&
                 read_error != asio::error::operation_aborted &&
                 read_error != asio::error::connection_reset && read_error != asio::error::eof &&
                 read_error != asio::error::bad_descriptor &&
                 read_error != ssl::error::stream_truncated && head_bytes > 0) {
        co_await write_answer(connection,
                              http::error_answer(400, mcp::error_code::invalid_request,
                                                 "Bad Request: malformed HTTP"),
                              11, false);
      }
      break;
    }
    auto& request = parser.get();
    const auto version = request.version();
    if (shutting_down_) {
      co_await write_answer(
          connection,
          http::error_answer(503, http::kServerLimitError, "Service Unavailable: shutting down"),
          version, false);
      break;
    }
    const auto route = route_of(request.target());
    if (options_.recorder != nullptr) {
      prepare_capture(*connection, request, route);
    }
    const auto declared = parser.content_length();
    auto refusal =
        precheck(request, route, declared ? std::optional<std::uint64_t>(*declared) : std::nullopt);
    // Authentication comes after the Host/Origin checks and before anything that could tell a
    // stranger something: body, sessions, the Service.
    Authenticated who;
    if (!refusal && route != Route::resource_metadata && options_.authenticator != nullptr) {
      who = co_await authenticate(connection, request);
      if (who.abandoned) {
        break;
      }
      refusal = std::move(who.refusal);
    }
    if (refusal) {
      // A body within the limit is read and dropped so that the connection stays usable;
      // otherwise (or with Expect: 100-continue, which was not granted) it closes.
      bool again = request.keep_alive() && refusal->status != 413 &&
                   request.find(bhttp::field::expect) == request.end();
      if (again && !parser.is_done()) {
        connection->tcp().expires_after(options_.body_timeout);
        auto [drain_error, drained] =
            co_await bhttp::async_read(connection->stream, connection->buffer, parser, use_tuple);
        again = !drain_error;
      }
      again = co_await write_answer(connection, *refusal, version, again);
      if (!again) {
        unread_input = !parser.is_done();
        break;
      }
      continue;
    }
    if (!parser.is_done()) {
      const auto expect = request.find(bhttp::field::expect);
      if (expect != request.end() && beast::iequals(expect->value(), "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        connection->tcp().expires_after(options_.write_timeout);
        auto [continue_error, unused] = co_await asio::async_write(
            connection->stream, asio::buffer(kContinue.data(), kContinue.size()), use_tuple);
        if (continue_error) {
          break;
        }
      }
      connection->tcp().expires_after(options_.body_timeout);
      auto [body_error, body_bytes] =
          co_await bhttp::async_read(connection->stream, connection->buffer, parser, use_tuple);
      if (body_error) {
        if (body_error == bhttp::error::body_limit) {
          co_await write_answer(connection, too_large(), version, false);
          unread_input = true;
        } else if (body_error == beast::error::timeout) {
          spdlog::info("http front: request body from {} not complete within {} ms; closed",
                       connection->remote, options_.body_timeout.count());
        }
        break;
      }
    }
    connection->tcp().expires_never();
    const bool keep_alive = request.keep_alive() && !shutting_down_;
    const bool again = co_await handle(connection, request, route, keep_alive, who);
    if (!again) {
      break;
    }
  }
  co_await finish_connection(connection, unread_input, ready);
}

template <class Conn>
asio::awaitable<void> FrontImpl::finish_connection(const std::shared_ptr<Conn>& connection,
                                                   bool unread_input, bool clean) {
  if (unread_input && !connection->closing) {
    co_await linger(connection);
  } else if constexpr (Conn::kTls) {
    // close_notify, so the client can tell the end from a truncation; bounded, because a
    // client need not answer it.
    if (clean && connection->tcp().socket().is_open()) {
      connection->tcp().expires_after(kTlsShutdownTime);
      co_await connection->stream.async_shutdown(use_tuple);
    }
  }
  connection->close();
  connection_done(connection.get());
}

asio::awaitable<void> FrontImpl::linger(const std::shared_ptr<ConnectionBase>& connection) {
  error_code ignored;
  connection->tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
  connection->tcp().expires_after(kLingerTime);
  std::size_t discarded = 0;
  while (discarded < kLingerBytes) {
    // Raw bytes, TLS or not: they are dropped unread.
    auto [error, bytes] = co_await connection->tcp().async_read_some(
        asio::buffer(connection->watch_buffer), use_tuple);
    if (error) {
      break;
    }
    discarded += bytes;
  }
}

template <class Conn>
asio::awaitable<bool> FrontImpl::handle(const std::shared_ptr<Conn>& connection, Request& request,
                                        Route route, bool keep_alive, const Authenticated& who) {
  const auto version = request.version();
  const auto method = request.method();
  if (route == Route::resource_metadata) {
    http::HttpAnswer answer;
    answer.content_type = "application/json";
    answer.body =
        options_.authenticator->resource_metadata(header_value(request, bhttp::field::host)).dump();
    co_return co_await write_answer(connection, answer, version, keep_alive);
  }
  if (route == Route::legacy_stream) {
    auto outcome = table_.open_legacy(connection->remote, context_of(request, who), connection);
    if (outcome.answer) {
      co_return co_await write_answer(connection, *outcome.answer, version, keep_alive);
    }
    co_return co_await pump(connection, std::move(outcome.session), std::move(outcome.stream),
                            version, false, std::string(), true);
  }
  if (route == Route::legacy_message) {
    const auto session_id = http::query_parameter(request.target(), "sessionId");
    if (!session_id) {
      co_return co_await write_answer(
          connection,
          http::error_answer(400, mcp::error_code::invalid_request,
                             "Bad Request: the sessionId query parameter is required"),
          version, keep_alive);
    }
    auto answer =
        table_.legacy_post(*session_id, request.body(), context_of(request, who),
                           options_.recorder != nullptr ? request_capture(*connection, request)
                                                        : http::RequestCapture{});
    co_return co_await write_answer(connection, answer, version, keep_alive);
  }
  if (method == bhttp::verb::post) {
    auto outcome = table_.post(incoming(connection, request, who));
    if (outcome.answer) {
      co_return co_await write_answer(connection, *outcome.answer, version, keep_alive);
    }
    co_return co_await await_exchange(connection, std::move(outcome.exchange), version, keep_alive);
  }
  if (method == bhttp::verb::get) {
    auto outcome = table_.get(incoming(connection, request, who));
    if (outcome.answer) {
      co_return co_await write_answer(connection, *outcome.answer, version, keep_alive);
    }
    co_return co_await pump(connection, std::move(outcome.session), std::move(outcome.stream),
                            version, false, std::string(), true);
  }
  const auto answer = table_.remove(incoming(connection, request, who));
  co_return co_await write_answer(connection, answer, version, keep_alive);
}

template <class Conn>
asio::awaitable<bool> FrontImpl::write_answer(const std::shared_ptr<Conn>& connection,
                                              const http::HttpAnswer& answer, unsigned version,
                                              bool keep_alive) {
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(answer.status), version};
  if (!answer.content_type.empty()) {
    response.set(bhttp::field::content_type, answer.content_type);
  }
  for (const auto& [name, value] : answer.headers) {
    response.set(name, value);
  }
  response.body() = answer.body;
  if (options_.recorder != nullptr && connection->capture_answer) {
    capture_answer(*connection, answer);
  }
  response.keep_alive(keep_alive && !connection->closing);
  response.prepare_payload();
  connection->tcp().expires_after(options_.write_timeout);
  auto [error, bytes] = co_await bhttp::async_write(connection->stream, response, use_tuple);
  connection->tcp().expires_never();
  co_return !error && response.keep_alive();
}

asio::awaitable<bool> FrontImpl::wait(const std::shared_ptr<ConnectionBase>& connection,
                                      std::optional<std::chrono::milliseconds> timeout) {
  if (timeout) {
    connection->signal.expires_after(*timeout);
  } else {
    connection->signal.expires_at(asio::steady_timer::time_point::max());
  }
  auto [error] = co_await connection->signal.async_wait(use_tuple);
  co_return !error;  // true: the timeout passed; false: woken
}

template <class Conn>
asio::awaitable<bool> FrontImpl::await_exchange(const std::shared_ptr<Conn>& connection,
                                                std::shared_ptr<http::Exchange> exchange,
                                                unsigned version, bool keep_alive) {
  using State = http::Exchange::State;
  for (;;) {
    switch (exchange->state()) {
      case State::json: {
        exchange->release_sink();
        http::HttpAnswer answer;
        answer.content_type = "application/json";
        answer.body = exchange->json_body();
        if (const auto id = exchange->session_header(); !id.empty()) {
          answer.headers.emplace_back("Mcp-Session-Id", id);
        }
        if (const auto& refusal = exchange->refusal()) {
          answer.status = static_cast<unsigned>(refusal->http_status);
          if (refusal->retry_after.count() > 0) {
            answer.headers.emplace_back("Retry-After",
                                        std::to_string(refusal->retry_after.count()));
          }
        }
        co_return co_await write_answer(connection, answer, version, keep_alive);
      }
      case State::accepted: {
        exchange->release_sink();
        http::HttpAnswer answer;
        answer.status = 202;
        co_return co_await write_answer(connection, answer, version, keep_alive);
      }
      case State::sse: {
        exchange->release_sink();
        co_return co_await pump(connection, exchange->session(), exchange->stream(), version,
                                keep_alive, exchange->session_header(), false);
      }
      case State::waiting:
        break;
    }
    if (connection->closing && !connection->tcp().socket().is_open()) {
      exchange->release_sink();
      co_return false;
    }
    co_await wait(connection, std::nullopt);
  }
}

template <class Conn>
asio::awaitable<bool> FrontImpl::pump(const std::shared_ptr<Conn>& connection,
                                      std::shared_ptr<http::HttpSession> session,
                                      std::shared_ptr<http::SseStream> stream, unsigned version,
                                      bool keep_alive, std::string session_header,
                                      bool watch_peer) {
  const bool chunked = version >= 11;
  keep_alive = keep_alive && chunked && !watch_peer;
  bool ok = true;
  {
    bhttp::response<bhttp::empty_body> head{bhttp::status::ok, version};
    head.set(bhttp::field::content_type, "text/event-stream");
    head.set(bhttp::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no");
    if (!session_header.empty()) {
      head.set("Mcp-Session-Id", session_header);
    }
    head.keep_alive(keep_alive);
    if (chunked) {
      head.chunked(true);
    }
    bhttp::response_serializer<bhttp::empty_body> serializer{head};
    connection->tcp().expires_after(options_.write_timeout);
    auto [error, bytes] =
        co_await bhttp::async_write_header(connection->stream, serializer, use_tuple);
    ok = !error;
  }
  if (ok && watch_peer) {
    // A GET stream's client sends nothing more: any read completion means it is gone. The raw
    // socket is watched (under TLS too): the bytes are never used.
    connection->tcp().socket().async_read_some(asio::buffer(connection->watch_buffer),
                                               [connection](const error_code&, std::size_t) {
                                                 connection->peer_gone = true;
                                                 connection->wake();
                                               });
  }
  const auto write = [&](std::vector<asio::const_buffer> buffers) -> asio::awaitable<bool> {
    connection->tcp().expires_after(options_.write_timeout);
    error_code error;
    if (chunked) {
      auto [chunk_error, bytes] =
          co_await asio::async_write(connection->stream, bhttp::make_chunk(buffers), use_tuple);
      error = chunk_error;
    } else {
      auto [raw_error, bytes] = co_await asio::async_write(connection->stream, buffers, use_tuple);
      error = raw_error;
    }
    connection->tcp().expires_never();
    co_return !error;
  };

  bool first = true;
  bool graceful_end = false;
  std::string retry_block;
  if (options_.sse_retry.count() > 0) {
    retry_block = "retry: " + std::to_string(options_.sse_retry.count()) + "\n\n";
  }
  while (ok) {
    if (!stream->attached_to(connection.get()) || connection->peer_gone) {
      break;  // taken over by a resume, dropped for overflow, or the client left
    }
    auto events = stream->take(connection.get(), kMaxWriteBatch);
    if (!events.empty()) {
      std::vector<asio::const_buffer> buffers;
      buffers.reserve(events.size() + 1);
      if (first && !events.front().priming && !retry_block.empty() && stream->resumable()) {
        buffers.emplace_back(asio::buffer(retry_block));
      }
      for (const auto& event : events) {
        buffers.emplace_back(asio::buffer(*event.bytes));
      }
      first = false;
      ok = co_await write(std::move(buffers));
      continue;
    }
    if (stream->ended() || stream->disconnect_requested()) {
      graceful_end = true;
      break;
    }
    if (connection->closing) {
      graceful_end = true;
      break;
    }
    // A zero interval turns keep-alive comments off.
    const bool keepalive_due = co_await wait(
        connection, options_.keepalive_interval.count() > 0
                        ? std::optional<std::chrono::milliseconds>(options_.keepalive_interval)
                        : std::nullopt);
    if (keepalive_due && !connection->peer_gone) {
      static constexpr std::string_view kComment = ":\n\n";
      // (A braced list inside co_await trips g++ 12, hence the named vector.)
      std::vector<asio::const_buffer> comment(1, asio::buffer(kComment.data(), kComment.size()));
      ok = co_await write(std::move(comment));
    }
  }
  table_.stream_released(session, stream, connection.get());
  if (ok && graceful_end && chunked) {
    connection->tcp().expires_after(options_.write_timeout);
    auto [error, bytes] =
        co_await asio::async_write(connection->stream, bhttp::make_chunk_last(), use_tuple);
    connection->tcp().expires_never();
    ok = !error;
  }
  const bool reusable = ok && graceful_end && keep_alive && !connection->closing;
  co_return reusable;
}

}  // namespace

HttpFrontOptions http_front_options(const config::Config& config) {
  HttpFrontOptions options;
  const auto& server = config.server;
  options.host = server.host.empty() ? options.host : server.host;
  options.port = server.port;
  options.path = server.path;
  options.sse_path = server.sse_path;
  options.message_path = server.message_path;
  options.allowed_hosts = server.allowed_hosts;
  options.allowed_origins = server.allowed_origins;
  options.max_body_bytes = server.max_body_bytes;
  options.max_sessions = server.max_sessions;
  options.session_idle_timeout = server.session_idle_timeout;
  options.max_requests_per_session = server.max_requests_per_session;
  options.stream_replay_events = server.stream_replay_events;
  options.max_header_bytes = server.max_header_bytes;
  options.max_connections = server.max_connections;
  options.max_sessions_per_principal = server.max_sessions_per_principal;
  options.header_timeout = server.header_timeout;
  options.body_timeout = server.body_timeout;
  options.idle_timeout = server.idle_timeout;
  options.write_timeout = server.write_timeout;
  options.tls = server.tls;
  options.api_key_header = config.auth.api_key_header;
  std::set<std::string> seen;
  for (const auto& backend : config.backends) {
    for (const auto& header : backend.forward_headers) {
      auto name = mcp::ascii_lower(header);
      if (seen.insert(name).second) {
        options.forward_headers.push_back(std::move(name));
      }
    }
  }
  return options;
}

namespace {

class HttpFrontHandle final : public HttpFront {
 public:
  explicit HttpFrontHandle(std::shared_ptr<FrontImpl> impl) : impl_(std::move(impl)) {}
  ~HttpFrontHandle() override { impl_->destroy(); }
  mcp::Expected<std::uint16_t, std::string> listen() override { return impl_->listen(); }
  void stop_accepting() override { impl_->stop_accepting(); }
  void shutdown(std::function<void()> done) override { impl_->shutdown(std::move(done)); }
  std::size_t requests_in_flight() const override { return impl_->requests_in_flight(); }
  FrontStats stats() const override { return impl_->stats(); }

 private:
  std::shared_ptr<FrontImpl> impl_;
};

}  // namespace

std::unique_ptr<HttpFront> make_http_front(boost::asio::io_context& context,
                                           server::Service& service, HttpFrontOptions options) {
  return std::make_unique<HttpFrontHandle>(
      std::make_shared<FrontImpl>(context, service, std::move(options)));
}

}  // namespace mcpgw::front
