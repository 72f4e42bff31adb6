#include "gateway/upstream/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "gateway/capture/hooks.hpp"

namespace mcpgw::upstream::http {

namespace {

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);
constexpr std::size_t kConnectionBufferLimit = 1u << 20;  // raw bytes not yet parsed

bool is_control_or_space(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte <= 0x20 || byte == 0x7f;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' ||
                           text.front() == '\n')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

// A registered name may hold unreserved, sub-delims and percent escapes (RFC 3986 3.2.2).
bool valid_reg_name(std::string_view host) {
  static constexpr std::string_view allowed = "-._~!$&'()*+,;=%";
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           allowed.find(c) != std::string_view::npos;
  });
}

// "/a/b/../c/./d" -> "/a/c/d" (RFC 3986 5.2.4) for an absolute path.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  std::string_view rest = path.substr(1);
  while (true) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    if (segment == ".") {
      if (last)
        kept.emplace_back();
    } else if (segment == "..") {
      if (!kept.empty())
        kept.pop_back();
      if (last)
        kept.emplace_back();
    } else {
      kept.push_back(segment);
    }
    if (last)
      break;
    rest.remove_prefix(slash + 1);
  }
  std::string out;
  for (const auto segment : kept) {
    out += '/';
    out += segment;
  }
  return out.empty() ? "/" : out;
}

bool valid_header_name(std::string_view name) {
  static constexpr std::string_view allowed = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           allowed.find(c) != std::string_view::npos;
  });
}

bool valid_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return (byte < 0x20 && byte != '\t') || byte == 0x7f;
  });
}

bool same_category(const boost::system::error_code& error, bhttp::error sample) {
  return error.category() == bhttp::make_error_code(sample).category();
}

}  // namespace

// ---- URLs ----

std::string Url::authority() const {
  std::string out = host_is_ipv6() ? "[" + host + "]" : host;
  if (port != (tls ? 443 : 80))
    out += ":" + std::to_string(port);
  return out;
}

std::string Url::origin() const {
  return std::string(scheme()) + "://" + authority();
}

mcp::Expected<Url, std::string> parse_url(std::string_view text) {
  if (std::any_of(text.begin(), text.end(), is_control_or_space))
    return mcp::unexpected(std::string("the URL contains a space or a control character"));
  const auto separator = text.find("://");
  if (separator == std::string_view::npos)
    return mcp::unexpected(std::string("not an absolute http:// or https:// URL"));
  Url url;
  const std::string scheme = lower(text.substr(0, separator));
  if (scheme == "http") {
    url.port = 80;
  } else if (scheme == "https") {
    url.tls = true;
    url.port = 443;
  } else {
    return mcp::unexpected("scheme '" + scheme + "' is not http or https");
  }
  std::string_view rest = text.substr(separator + 3);
  rest = rest.substr(0, rest.find('#'));
  const auto authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view path_and_query =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    return mcp::unexpected(std::string("user information in URLs is not supported; use headers"));
  if (authority.empty())
    return mcp::unexpected(std::string("the URL has no host"));

  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      return mcp::unexpected(std::string("unterminated [IPv6] host"));
    host = authority.substr(1, close - 1);
    boost::system::error_code error;
    net::ip::make_address_v6(std::string(host), error);
    if (error)
      return mcp::unexpected("'" + std::string(host) + "' is not an IPv6 address");
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return mcp::unexpected(std::string("unexpected characters after the [IPv6] host"));
      has_port = true;
      port_text = after.substr(1);
    }
    url.host = std::string(host);
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty())
      return mcp::unexpected(std::string("the URL has no host"));
    if (!valid_reg_name(host))
      return mcp::unexpected("'" + std::string(host) + "' is not a valid host name");
    url.host = lower(host);
  }
  if (has_port && !port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                             [](char c) { return c >= '0' && c <= '9'; })) {
      return mcp::unexpected("'" + std::string(port_text) + "' is not a port number");
    }
    const auto port = std::stoul(std::string(port_text));
    if (port == 0 || port > 65535)
      return mcp::unexpected("port " + std::string(port_text) + " is out of range");
    url.port = static_cast<std::uint16_t>(port);
  }
  url.target = path_and_query.empty() || path_and_query.front() == '?'
                   ? "/" + std::string(path_and_query)
                   : std::string(path_and_query);
  return url;
}

mcp::Expected<Url, std::string> resolve_reference(const Url& base, std::string_view reference) {
  reference = trim(reference);
  if (std::any_of(reference.begin(), reference.end(), is_control_or_space))
    return mcp::unexpected(std::string("the URI contains a space or a control character"));
  reference = reference.substr(0, reference.find('#'));

  // A scheme: letters, digits, '+', '-', '.' up to the first ':' before any '/', '?'.
  const auto colon = reference.find(':');
  if (colon != std::string_view::npos && colon > 0 && colon < reference.find_first_of("/?") &&
      std::isalpha(static_cast<unsigned char>(reference.front())) != 0) {
    auto url = parse_url(reference);
    if (url) {
      const auto query = url->target.find('?');
      url->target = remove_dot_segments(std::string_view(url->target).substr(0, query)) +
                    (query == std::string::npos ? std::string() : url->target.substr(query));
    }
    return url;
  }
  if (reference.substr(0, 2) == "//")
    return resolve_reference(base, std::string(base.scheme()) + ":" + std::string(reference));

  Url url = base;
  const std::string_view base_target = base.target;
  const auto base_query = base_target.find('?');
  const std::string_view base_path = base_target.substr(0, base_query);
  const auto query = reference.find('?');
  const std::string_view path = reference.substr(0, query);
  const std::string query_part =
      query == std::string_view::npos ? std::string() : std::string(reference.substr(query));
  if (path.empty()) {
    url.target = std::string(base_path) +
                 (query == std::string_view::npos && base_query != std::string_view::npos
                      ? std::string(base_target.substr(base_query))
                      : query_part);
  } else if (path.front() == '/') {
    url.target = remove_dot_segments(path) + query_part;
  } else {
    const std::string merged =
        std::string(base_path.substr(0, base_path.rfind('/') + 1)) + std::string(path);
    url.target = remove_dot_segments(merged) + query_part;
  }
  return url;
}

std::string media_type(std::string_view content_type) {
  return lower(trim(content_type.substr(0, content_type.find(';'))));
}

TransportError to_transport_error(const HttpError& error) {
  TransportError out;
  out.message = error.message;
  switch (error.kind) {
    case HttpError::Kind::connect_failed:
      out.kind = TransportError::Kind::connect_failed;
      break;
    case HttpError::Kind::timeout:
      out.kind = TransportError::Kind::timeout;
      break;
    case HttpError::Kind::too_large:
      out.kind = TransportError::Kind::too_large;
      break;
    case HttpError::Kind::protocol:
      out.kind = TransportError::Kind::bad_message;
      break;
    case HttpError::Kind::disconnected:
    case HttpError::Kind::cancelled:
      out.kind = TransportError::Kind::disconnected;
      break;
  }
  return out;
}

// ---- CancelGroup ----

CancelGroup::Registration& CancelGroup::Registration::operator=(Registration&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    key_ = other.key_;
    other.state_.reset();
  }
  return *this;
}

void CancelGroup::Registration::reset() {
  if (auto state = state_.lock())
    state->actions.erase(key_);
  state_.reset();
}

CancelGroup::Registration CancelGroup::add(std::function<void()> action) {
  if (state_->cancelled) {
    action();
    return {};
  }
  const auto key = state_->next++;
  state_->actions.emplace(key, std::move(action));
  return Registration(state_, key);
}

void CancelGroup::cancel_all() {
  state_->cancelled = true;
  auto actions = std::move(state_->actions);
  state_->actions.clear();
  for (auto& [key, action] : actions)
    action();
}

net::awaitable<bool> sleep_for(CancelGroup& group, std::chrono::milliseconds delay) {
  if (group.cancelled())
    co_return false;
  net::steady_timer timer(co_await net::this_coro::executor, delay);
  auto registration = group.add([&timer] { timer.cancel(); });
  auto [error] = co_await timer.async_wait(use_tuple);
  co_return !error && !group.cancelled();
}

// ---- Connection ----

Connection::Connection(net::io_context& context, net::ssl::context* tls_context)
    : buffer_(kConnectionBufferLimit) {
  if (tls_context != nullptr)
    tls_ = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(context, *tls_context);
  else
    tcp_ = std::make_unique<beast::tcp_stream>(context);
}

beast::tcp_stream& Connection::tcp() {
  return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_;
}

SSL* Connection::ssl_handle() {
  return tls_ ? tls_->native_handle() : nullptr;
}

void Connection::close() {
  tcp().close();
}

net::awaitable<boost::system::error_code> Connection::handshake() {
  auto [error] = co_await tls_->async_handshake(net::ssl::stream_base::client, use_tuple);
  co_return error;
}

net::awaitable<boost::system::error_code> Connection::write(const Request& request) {
  if (tls_) {
    auto [error, bytes] = co_await bhttp::async_write(*tls_, request, use_tuple);
    co_return error;
  }
  auto [error, bytes] = co_await bhttp::async_write(*tcp_, request, use_tuple);
  co_return error;
}

net::awaitable<boost::system::error_code> Connection::read_header(Parser& parser) {
  if (tls_) {
    auto [error, bytes] = co_await bhttp::async_read_header(*tls_, buffer_, parser, use_tuple);
    co_return error;
  }
  auto [error, bytes] = co_await bhttp::async_read_header(*tcp_, buffer_, parser, use_tuple);
  co_return error;
}

net::awaitable<boost::system::error_code> Connection::read_some(Parser& parser) {
  if (tls_) {
    auto [error, bytes] = co_await bhttp::async_read_some(*tls_, buffer_, parser, use_tuple);
    co_return error;
  }
  auto [error, bytes] = co_await bhttp::async_read_some(*tcp_, buffer_, parser, use_tuple);
  co_return error;
}

// ---- ConnectionPool ----

ConnectionPool::ConnectionPool(net::io_context& context, Url origin, PoolOptions options)
    : context_(context), origin_(std::move(origin)), options_(std::move(options)) {
  if (!origin_.tls)
    return;
  tls_context_ = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
  boost::system::error_code error;
  tls_context_->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                                net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                                net::ssl::context::no_tlsv1_1,
                            error);
  if (SSL_CTX_ctrl(tls_context_->native_handle(), SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION,
                   nullptr) != 1) {
    tls_error_ = "cannot require TLS 1.2 or later";
  }
  if (options_.tls_verify) {
    tls_context_->set_verify_mode(net::ssl::verify_peer, error);
    if (!options_.ca_file.empty()) {
      tls_context_->load_verify_file(options_.ca_file, error);
      if (error)
        tls_error_ = "cannot load ca_file '" + options_.ca_file + "': " + error.message();
    } else {
      tls_context_->set_default_verify_paths(error);
      if (error)
        tls_error_ = "cannot load the system's trusted certificates: " + error.message();
    }
  } else {
    tls_context_->set_verify_mode(net::ssl::verify_none, error);
  }
  if (!tls_error_.empty())
    spdlog::error("backend '{}': {}", options_.backend_name, tls_error_);
}

ConnectionPool::~ConnectionPool() {
  for (auto& connection : idle_)
    connection->close();
}

std::unique_ptr<Connection> ConnectionPool::take_idle() {
  const auto now = std::chrono::steady_clock::now();
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    if (now - connection->idle_since > options_.max_idle_age) {
      connection->close();
      continue;
    }
    connection->reused = true;
    return connection;
  }
  return nullptr;
}

net::awaitable<mcp::Expected<std::unique_ptr<Connection>, HttpError>> ConnectionPool::connect(
    CancelGroup& group) {
  using Result = mcp::Expected<std::unique_ptr<Connection>, HttpError>;
  if (shut_down_)
    co_return Result(mcp::unexpected(
        HttpError{HttpError::Kind::connect_failed, "the backend's connections are shut down"}));
  if (!tls_error_.empty())
    co_return Result(mcp::unexpected(HttpError{HttpError::Kind::connect_failed, tls_error_}));

  // The resolver and the connection are shared with the deadline and the cancel action, which
  // may run after this frame is gone; they only act while the attempt is unfinished.
  struct Attempt {
    Attempt(net::io_context& context, net::ssl::context* tls)
        : resolver(context), connection(std::make_unique<Connection>(context, tls)) {}
    net::ip::tcp::resolver resolver;
    std::unique_ptr<Connection> connection;
    bool timed_out = false;
    bool finished = false;
    void stop() {
      resolver.cancel();
      if (connection)
        connection->close();
    }
  };
  auto attempt = std::make_shared<Attempt>(context_, tls_context_.get());
  std::weak_ptr<Attempt> weak = attempt;
  net::steady_timer deadline(context_, options_.connect_timeout);
  deadline.async_wait([weak](const boost::system::error_code& error) {
    auto current = weak.lock();
    if (error || !current || current->finished)
      return;
    current->timed_out = true;
    current->stop();
  });
  auto registration = group.add([weak] {
    if (auto current = weak.lock(); current && !current->finished)
      current->stop();
  });
  const std::string where = origin_.authority();
  auto failure = [&](std::string message) {
    attempt->finished = true;
    if (group.cancelled())
      return Result(mcp::unexpected(HttpError{HttpError::Kind::cancelled, "cancelled"}));
    if (attempt->timed_out) {
      return Result(mcp::unexpected(HttpError{
          HttpError::Kind::timeout, "connecting to " + where + " took longer than " +
                                        std::to_string(options_.connect_timeout.count()) + " ms"}));
    }
    return Result(mcp::unexpected(HttpError{HttpError::Kind::connect_failed, std::move(message)}));
  };

  auto [resolve_error, endpoints] = co_await attempt->resolver.async_resolve(
      origin_.host, std::to_string(origin_.port), use_tuple);
  if (resolve_error)
    co_return failure("cannot resolve " + origin_.host + ": " + resolve_error.message());
  auto& tcp = attempt->connection->tcp();
  auto [connect_error, endpoint] = co_await tcp.async_connect(endpoints, use_tuple);
  if (connect_error)
    co_return failure("cannot connect to " + where + ": " + connect_error.message());
  boost::system::error_code ignored;
  tcp.socket().set_option(net::ip::tcp::no_delay(true), ignored);

  if (SSL* ssl = attempt->connection->ssl_handle()) {
    boost::system::error_code not_an_address;
    net::ip::make_address(origin_.host, not_an_address);
    // SNI carries names only (RFC 6066); certificates name IP addresses in iPAddress entries.
    if (not_an_address && SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                                   const_cast<char*>(origin_.host.c_str())) != 1) {
      co_return failure("cannot set the TLS server name");
    }
    if (options_.tls_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      const int set = not_an_address ? X509_VERIFY_PARAM_set1_host(param, origin_.host.c_str(),
                                                                   origin_.host.size())
                                     : X509_VERIFY_PARAM_set1_ip_asc(param, origin_.host.c_str());
      if (set != 1)
        co_return failure("cannot set the host name to verify");
    }
    const auto handshake_error = co_await attempt->connection->handshake();
    if (handshake_error) {
      std::string message = "TLS handshake with " + where + " failed: " + handshake_error.message();
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK)
        message += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      co_return failure(std::move(message));
    }
  }
  attempt->finished = true;
  if (group.cancelled())
    co_return Result(mcp::unexpected(HttpError{HttpError::Kind::cancelled, "cancelled"}));
  ++connections_opened_;
  spdlog::debug("backend '{}': connected to {}", options_.backend_name, where);
  co_return Result(std::move(attempt->connection));
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection) {
  if (!connection)
    return;
  if (shut_down_ || idle_.size() >= options_.max_idle || !connection->tcp().socket().is_open() ||
      connection->buffer().size() != 0) {
    connection->close();
    return;
  }
  connection->tcp().expires_never();
  connection->idle_since = std::chrono::steady_clock::now();
  idle_.push_back(std::move(connection));
}

void ConnectionPool::shutdown() {
  shut_down_ = true;
  for (auto& connection : idle_)
    connection->close();
  idle_.clear();
}

// ---- Exchange ----

Exchange::Exchange(std::shared_ptr<ConnectionPool> pool, std::unique_ptr<Connection> connection,
                   CancelGroup& group, ExchangeOptions options)
    : pool_(std::move(pool)), connection_(std::move(connection)), options_(options) {
  parser_.header_limit(options_.header_limit);
  parser_.body_limit(boost::none);  // bodies are bounded by their readers, streams by events
  Connection* raw = connection_.get();
  registration_ = group.add([raw] { raw->close(); });
}

Exchange::~Exchange() {
  registration_.reset();
  if (!connection_)
    return;
  if (!failed_ && parser_.is_header_done() && parser_.is_done() && parser_.keep_alive())
    pool_->give_back(std::move(connection_));
  else
    connection_->close();
}

net::awaitable<mcp::Expected<std::unique_ptr<Exchange>, HttpError>> Exchange::start(
    std::shared_ptr<ConnectionPool> pool, CancelGroup& group, const Request& request,
    ExchangeOptions options) {
  using Result = mcp::Expected<std::unique_ptr<Exchange>, HttpError>;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> connection = attempt == 0 ? pool->take_idle() : nullptr;
    if (!connection) {
      auto connected = co_await pool->connect(group);
      if (!connected)
        co_return Result(mcp::unexpected(std::move(connected.error())));
      connection = std::move(*connected);
    }
    const bool reused = connection->reused;
    auto exchange = std::make_unique<Exchange>(pool, std::move(connection), group, options);
    auto& tcp = exchange->connection_->tcp();
    tcp.expires_after(options.idle_timeout);
    auto error = co_await exchange->connection_->write(request);
    if (!error) {
      tcp.expires_after(options.idle_timeout);
      error = co_await exchange->connection_->read_header(exchange->parser_);
    }
    if (!error)
      co_return Result(std::move(exchange));
    exchange->failed_ = true;
    if (group.cancelled())
      co_return Result(mcp::unexpected(HttpError{HttpError::Kind::cancelled, "cancelled"}));
    if (reused && !exchange->parser_.got_some() && error != beast::error::timeout) {
      spdlog::debug("backend '{}': pooled connection closed ({}); retrying on a new one",
                    pool->options().backend_name, error.message());
      continue;
    }
    co_return Result(mcp::unexpected(exchange->error_from(error)));
  }
  co_return Result(mcp::unexpected(HttpError{HttpError::Kind::disconnected, "unreachable"}));
}

std::string_view Exchange::header(std::string_view name) const {
  const auto& fields = parser_.get();
  const auto found = fields.find(beast::string_view(name.data(), name.size()));
  if (found == fields.end())
    return {};
  const auto value = found->value();
  return std::string_view(value.data(), value.size());
}

std::string Exchange::media_type() const {
  return http::media_type(header("Content-Type"));
}

HttpError Exchange::error_from(const boost::system::error_code& error) const {
  if (error == beast::error::timeout) {
    return {HttpError::Kind::timeout, "no data from the backend for " +
                                          std::to_string(options_.idle_timeout.count()) + " ms"};
  }
  if (error == net::error::operation_aborted)
    return {HttpError::Kind::cancelled, "cancelled"};
  if (error == bhttp::error::header_limit) {
    return {HttpError::Kind::too_large,
            "response header over " + std::to_string(options_.header_limit) + " bytes"};
  }
  if (error == bhttp::error::buffer_overflow)
    return {HttpError::Kind::too_large, "response framing line too long"};
  if (error == bhttp::error::end_of_stream || error == bhttp::error::partial_message ||
      error == net::error::eof || error == net::error::connection_reset ||
      error == net::error::broken_pipe || error == net::ssl::error::stream_truncated) {
    return {HttpError::Kind::disconnected, "the backend closed the connection: " + error.message()};
  }
  if (same_category(error, bhttp::error::bad_version))
    return {HttpError::Kind::protocol, "malformed HTTP response: " + error.message()};
  return {HttpError::Kind::disconnected, error.message()};
}

net::awaitable<mcp::Expected<std::string_view, HttpError>> Exchange::read_some() {
  using Result = mcp::Expected<std::string_view, HttpError>;
  while (!parser_.is_done()) {
    parser_.get().body().data = chunk_.data();
    parser_.get().body().size = chunk_.size();
    // Re-armed per read: an idle timeout, not a limit on the stream's length.
    connection_->tcp().expires_after(options_.idle_timeout);
    auto error = co_await connection_->read_some(parser_);
    if (error == bhttp::error::need_buffer)
      error = {};
    if (error) {
      failed_ = true;
      co_return Result(mcp::unexpected(error_from(error)));
    }
    const std::size_t received = chunk_.size() - parser_.get().body().size;
    if (received > 0)
      co_return Result(std::string_view(chunk_.data(), received));
  }
  co_return Result(std::string_view{});
}

net::awaitable<mcp::Expected<std::string, HttpError>> Exchange::read_all(std::size_t limit) {
  using Result = mcp::Expected<std::string, HttpError>;
  std::string body;
  if (const auto length = parser_.content_length(); length && *length <= limit)
    body.reserve(static_cast<std::size_t>(*length));
  while (true) {
    auto part = co_await read_some();
    if (!part)
      co_return Result(mcp::unexpected(std::move(part.error())));
    if (part->empty())
      co_return Result(std::move(body));
    if (body.size() + part->size() > limit) {
      failed_ = true;
      co_return Result(mcp::unexpected(
          HttpError{HttpError::Kind::too_large, "body over " + std::to_string(limit) + " bytes"}));
    }
    body.append(*part);
  }
}

// ---- SSE ----

net::awaitable<SseReadResult> read_sse(
    Exchange& exchange, mcp::SseParser& parser,
    const std::function<bool(mcp::SseEvent&&)>& on_event,
    const std::function<bool(const mcp::SseError&)>& on_oversize) {
  struct Collector final : mcp::SseSink {
    std::vector<mcp::SseEvent> events;
    void on_event(mcp::SseEvent&& event) override { events.push_back(std::move(event)); }
  };
  SseReadResult result;
  Collector collector;
  while (true) {
    auto part = co_await exchange.read_some();
    if (!part) {
      result.error = std::move(part.error());
      co_return result;
    }
    if (part->empty())
      co_return result;
    result.received_bytes = true;
    collector.events.clear();
    auto fed = parser.feed(*part, collector);
    for (auto& event : collector.events) {
      if (!on_event(std::move(event))) {
        result.stopped = true;
        co_return result;
      }
    }
    if (!fed && !on_oversize(fed.error())) {
      result.stopped = true;
      co_return result;
    }
  }
}

// ---- HttpBackend ----

HttpBackend::HttpBackend(net::io_context& io, const config::BackendConfig& config,
                         const TransportLimits& transport_limits)
    : context(io), name(config.name), limits(transport_limits), request_timeout(config.timeout) {
  auto parsed = parse_url(config.url);
  if (!parsed) {
    url_error = "invalid url: " + parsed.error();
    spdlog::error("backend '{}': {}", name, url_error);
  } else {
    url = std::move(*parsed);
  }
  for (const auto& [header_name, value] : config.headers) {
    if (!valid_header_name(header_name) || !valid_header_value(value)) {
      spdlog::warn("backend '{}': a configured header with invalid characters is not sent", name);
      continue;
    }
    headers.emplace_back(header_name, value);
  }
  if (url) {
    PoolOptions options;
    options.backend_name = name;
    options.connect_timeout = limits.connect_timeout;
    options.tls_verify = config.tls_verify;
    options.ca_file = config.ca_file;
    pool = std::make_shared<ConnectionPool>(context, *url, std::move(options));
  }
}

ExchangeOptions HttpBackend::exchange_options() const {
  ExchangeOptions options;
  // Never shorter than the request timeout: a backend may think that long before its answer.
  options.idle_timeout = std::max(limits.stream_idle_timeout, request_timeout);
  return options;
}

Exchange::Request HttpBackend::make_request(bhttp::verb method, const Url& target) const {
  Exchange::Request request{method, target.target, 11};
  request.set(bhttp::field::host, target.authority());
  request.set(bhttp::field::user_agent, "mcpgw");
  for (const auto& [header_name, value] : headers)
    request.set(header_name, value);
  return request;
}

// ---- OrderedOutbox ----

struct OrderedOutbox::Core {
  Core(net::io_context& context, std::size_t capacity_in, std::chrono::milliseconds max_wait_in,
       Dispatch dispatch_in)
      : timer(context),
        capacity(capacity_in),
        max_wait(max_wait_in),
        dispatch(std::move(dispatch_in)) {}
  net::steady_timer timer;
  std::size_t capacity;
  std::chrono::milliseconds max_wait;
  Dispatch dispatch;
  std::deque<mcp::Message> queue;
  std::uint64_t barrier = 0;  // the token later messages wait for; 0: none
  std::uint64_t next_token = 0;
  bool is_open = false;
  bool pumping = false;
};

OrderedOutbox::OrderedOutbox(net::io_context& context, std::size_t capacity,
                             std::chrono::milliseconds max_wait, Dispatch dispatch)
    : core_(std::make_shared<Core>(context, capacity, max_wait, std::move(dispatch))) {}

OrderedOutbox::~OrderedOutbox() {
  core_->timer.cancel();
}

bool OrderedOutbox::push(mcp::Message message) {
  if (core_->queue.size() >= core_->capacity)
    return false;
  core_->queue.push_back(std::move(message));
  pump(core_);
  return true;
}

void OrderedOutbox::open() {
  core_->is_open = true;
  pump(core_);
}

void OrderedOutbox::release(std::uint64_t token) {
  if (token == 0 || token != core_->barrier)
    return;
  core_->barrier = 0;
  core_->timer.cancel();
  pump(core_);
}

void OrderedOutbox::clear() {
  core_->queue.clear();
  core_->is_open = false;
  core_->barrier = 0;
  core_->timer.cancel();
}

std::size_t OrderedOutbox::waiting() const {
  return core_->queue.size();
}

void OrderedOutbox::pump(const std::shared_ptr<Core>& core) {
  if (core->pumping)
    return;  // a dispatch that pushes again is picked up by the loop below
  core->pumping = true;
  while (core->is_open && core->barrier == 0 && !core->queue.empty()) {
    auto message = std::move(core->queue.front());
    core->queue.pop_front();
    std::uint64_t token = 0;
    if (!message.is_request()) {
      token = ++core->next_token;
      core->barrier = token;
      core->timer.expires_after(core->max_wait);
      core->timer.async_wait(
          [weak = std::weak_ptr<Core>(core), token](const boost::system::error_code& error) {
            auto current = weak.lock();
            if (error || !current || current->barrier != token)
              return;
            current->barrier = 0;  // the backend is slow to accept it; do not hold up the rest
            pump(current);
          });
    }
    core->dispatch(std::move(message), token);
  }
  core->pumping = false;
}

std::vector<mcp::Message> decode_messages(std::string_view text, const std::string& backend_name) {
  std::vector<mcp::Message> messages;
  auto decoded = mcp::decode(text);
  if (!decoded) {
    spdlog::warn("backend '{}': skipped a message that is not JSON-RPC: {}", backend_name,
                 decoded.error().message);
    return messages;
  }
  for (auto& item : decoded->items) {
    if (item)
      messages.push_back(std::move(item.value()));
    else
      spdlog::warn("backend '{}': skipped an invalid JSON-RPC message: {}", backend_name,
                   item.error().message);
  }
  return messages;
}

std::vector<mcp::Message> decode_messages(std::string_view text, const std::string& backend_name,
                                          const CaptureSite& capture) {
  auto messages = decode_messages(text, backend_name);
  // Only text that decoded is valid JSON, which the capture format embeds as it is.
  if (capture.recorder != nullptr && !messages.empty())
    capture::record_text(*capture.recorder, capture.context, text);
  return messages;
}

void add_response_capture(CaptureSite& site, const Exchange& exchange) {
  if (site.recorder == nullptr)
    return;
  site.context.http_status = static_cast<int>(exchange.status());
  site.context.http_headers = capture::selected_headers(*site.recorder, exchange.response_fields());
}

void add_request_capture(CaptureSite& site, const Connection::Request& request) {
  if (site.recorder == nullptr)
    return;
  site.context.http_method = std::string(request.method_string());
  site.context.http_status = 0;
  site.context.http_headers = capture::selected_headers(*site.recorder, request.base());
}

std::chrono::milliseconds reconnect_backoff(std::uint32_t failures) {
  const std::uint32_t doublings = std::min<std::uint32_t>(failures, 6);
  return std::min(std::chrono::milliseconds(500) * (1u << doublings),
                  std::chrono::milliseconds(30000));
}

}  // namespace mcpgw::upstream::http
