// A small HTTP/1.1 client for the HTTP upstream transports: URL parsing, a keep-alive connection
// pool per backend (plain TCP and TLS through OpenSSL), one request/response exchange whose body
// is read as it arrives, and an SSE reader on top of mcp::SseParser.
//
// Private to mcpgw_serve: only .cpp files include it (it pulls in Asio and Beast): the
// transports here, and the JWKS fetcher of gateway/auth/url_key_source.cpp. Everything runs on
// the one io_context thread; nothing here is thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "gateway/capture/recorder.hpp"
#include "gateway/config/config.hpp"
#include "gateway/upstream/transport.hpp"
#include "mcp/capture.hpp"
#include "mcp/expected.hpp"
#include "mcp/jsonrpc.hpp"
#include "mcp/sse.hpp"

namespace mcpgw::upstream::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

// An absolute http or https URL, split for connecting and for the request line.
struct Url {
  bool tls = false;
  std::string host;  // without IPv6 brackets; registered names in lower case
  std::uint16_t port = 0;
  std::string target = "/";  // path and query (never a fragment), always starting with '/'

  bool host_is_ipv6() const { return host.find(':') != std::string::npos; }
  std::string_view scheme() const { return tls ? "https" : "http"; }
  // The Host header: host (bracketed for IPv6), with ":port" unless it is the scheme's default.
  std::string authority() const;
  std::string origin() const;  // scheme://authority
  std::string to_string() const { return origin() + target; }
  bool same_origin(const Url& other) const {
    return tls == other.tls && host == other.host && port == other.port;
  }
};

// Parses http://host[:port][/path][?query][#fragment] (also https and [IPv6] hosts). User info,
// other schemes, empty hosts, bad ports and control characters or spaces are refused.
mcp::Expected<Url, std::string> parse_url(std::string_view text);

// Resolves a URI reference (absolute, //authority, /path, ?query or a relative path) against
// `base` as RFC 3986 section 5 does, dot segments removed.
mcp::Expected<Url, std::string> resolve_reference(const Url& base, std::string_view reference);

// The essence of a Content-Type value: "text/event-stream" for "Text/Event-Stream; charset=x".
std::string media_type(std::string_view content_type);

struct HttpError {
  enum class Kind {
    connect_failed,  // DNS, TCP or TLS (certificate verification included)
    timeout,         // connect timeout, or no byte within the idle timeout
    disconnected,    // the connection ended or broke mid-message
    too_large,       // a body over its limit, or a header over the header limit
    protocol,        // not HTTP/1.1 as we understand it
    cancelled,       // the owner cancelled the operation
  };
  Kind kind = Kind::disconnected;
  std::string message;
};

TransportError to_transport_error(const HttpError& error);

// A set of cancel actions (close this socket, cancel that timer) for the operations of one owner.
// cancel_all() runs them all once and makes every later add() run its action at once, so an
// operation started after cancellation stops immediately.
class CancelGroup {
  struct State {
    std::map<std::uint64_t, std::function<void()>> actions;
    std::uint64_t next = 0;
    bool cancelled = false;
  };

 public:
  class Registration {
   public:
    Registration() = default;
    Registration(std::weak_ptr<State> state, std::uint64_t key)
        : state_(std::move(state)), key_(key) {}
    Registration(Registration&& other) noexcept
        : state_(std::move(other.state_)), key_(other.key_) {
      other.state_.reset();
    }
    Registration& operator=(Registration&& other) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { reset(); }
    void reset();

   private:
    std::weak_ptr<State> state_;
    std::uint64_t key_ = 0;
  };

  CancelGroup() : state_(std::make_shared<State>()) {}
  [[nodiscard]] Registration add(std::function<void()> action);
  void cancel_all();
  bool cancelled() const { return state_->cancelled; }

 private:
  std::shared_ptr<State> state_;
};

// Waits `delay`; false when the group was cancelled first.
net::awaitable<bool> sleep_for(CancelGroup& group, std::chrono::milliseconds delay);

// One HTTP/1.1 connection, plain or TLS, with its read buffer (kept across keep-alive requests).
class Connection {
 public:
  using Parser = bhttp::response_parser<bhttp::buffer_body>;
  using Request = bhttp::request<bhttp::string_body>;

  Connection(net::io_context& context, net::ssl::context* tls_context);

  beast::tcp_stream& tcp();
  SSL* ssl_handle();  // null for plain TCP
  bool is_tls() const { return tls_ != nullptr; }
  beast::flat_buffer& buffer() { return buffer_; }
  void close();

  net::awaitable<boost::system::error_code> handshake();
  net::awaitable<boost::system::error_code> write(const Request& request);
  net::awaitable<boost::system::error_code> read_header(Parser& parser);
  net::awaitable<boost::system::error_code> read_some(Parser& parser);

  bool reused = false;  // taken from the idle pool (may have been closed by the server meanwhile)
  std::chrono::steady_clock::time_point idle_since{};

 private:
  std::unique_ptr<beast::tcp_stream> tcp_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

struct PoolOptions {
  std::string backend_name;  // for logs
  std::chrono::milliseconds connect_timeout{10000};
  std::size_t max_idle = 64;
  std::chrono::milliseconds max_idle_age{60000};  // older idle connections are not reused
  bool tls_verify = true;
  std::string ca_file;  // empty: the system's default trust store
};

// Keep-alive connections to one origin. Idle connections are reused most recent first; a
// connection is in the pool only while nobody uses it (an SSE stream keeps its connection).
class ConnectionPool {
 public:
  ConnectionPool(net::io_context& context, Url origin, PoolOptions options);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  const Url& origin() const { return origin_; }
  net::io_context& context() { return context_; }
  const PoolOptions& options() const { return options_; }

  std::unique_ptr<Connection> take_idle();
  // Resolves, connects and (for https) handshakes within connect_timeout.
  net::awaitable<mcp::Expected<std::unique_ptr<Connection>, HttpError>> connect(CancelGroup& group);
  // Keeps a connection that finished a response cleanly; closes it when the pool is full or
  // shut down.
  void give_back(std::unique_ptr<Connection> connection);
  // Closes idle connections; later give_back() calls close theirs.
  void shutdown();

  std::uint64_t connections_opened() const { return connections_opened_; }
  std::size_t idle_count() const { return idle_.size(); }

 private:
  net::io_context& context_;
  Url origin_;
  PoolOptions options_;
  std::unique_ptr<net::ssl::context> tls_context_;
  std::string tls_error_;  // the trust store could not be loaded: every connect fails
  std::deque<std::unique_ptr<Connection>> idle_;
  std::uint64_t connections_opened_ = 0;
  bool shut_down_ = false;
};

struct ExchangeOptions {
  std::chrono::milliseconds idle_timeout{300000};  // per read or write: no byte for this long
  std::uint32_t header_limit = 64 * 1024;
};

// One request and its response. The head is read by start(); the body is read by the caller as
// it arrives (read_some) or whole with a limit (read_all). The connection goes back to the pool
// when the body was read to its end and both sides keep the connection alive; otherwise it is
// closed. Cancelling the group closes the connection, which ends any pending read.
class Exchange {
 public:
  using Request = Connection::Request;

  // Sends `request` on an idle pooled connection or a new one, and reads the response head. A
  // pooled connection that fails before the first response byte (the server closed it while it
  // was idle) is replaced by a new connection once.
  static net::awaitable<mcp::Expected<std::unique_ptr<Exchange>, HttpError>> start(
      std::shared_ptr<ConnectionPool> pool, CancelGroup& group, const Request& request,
      ExchangeOptions options);

  Exchange(std::shared_ptr<ConnectionPool> pool, std::unique_ptr<Connection> connection,
           CancelGroup& group, ExchangeOptions options);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  unsigned status() const { return parser_.get().result_int(); }
  const bhttp::fields& response_fields() const { return parser_.get().base(); }
  // A response header ("" when absent).
  std::string_view header(std::string_view name) const;
  std::string media_type() const;
  bool body_done() const { return parser_.is_done(); }

  // The next part of the body, as soon as any arrives; an empty view once the body ended.
  net::awaitable<mcp::Expected<std::string_view, HttpError>> read_some();
  // The rest of the body; too_large as soon as it exceeds `limit`.
  net::awaitable<mcp::Expected<std::string, HttpError>> read_all(std::size_t limit);

 private:
  HttpError error_from(const boost::system::error_code& error) const;

  std::shared_ptr<ConnectionPool> pool_;
  std::unique_ptr<Connection> connection_;
  Connection::Parser parser_;
  CancelGroup* group_;
  CancelGroup::Registration registration_;
  ExchangeOptions options_;
  std::array<char, 16 * 1024> chunk_{};
  bool failed_ = false;
};

// Reads an SSE body event by event: each event is handed to `on_event` as soon as its blank line
// arrives. Returns when the body ends (`error` empty), on a read error, or when a callback
// returns false (`stopped`). An oversize event goes to `on_oversize` (the parser has dropped it
// and resynchronises).
struct SseReadResult {
  std::optional<HttpError> error;
  bool stopped = false;
  bool received_bytes = false;
};
net::awaitable<SseReadResult> read_sse(
    Exchange& exchange, mcp::SseParser& parser,
    const std::function<bool(mcp::SseEvent&&)>& on_event,
    const std::function<bool(const mcp::SseError&)>& on_oversize);

// What both HTTP transports share for one configured backend: the parsed URL, the validated
// configured headers, the limits and the connection pool.
struct HttpBackend {
  HttpBackend(net::io_context& context, const config::BackendConfig& config,
              const TransportLimits& limits);

  net::io_context& context;
  std::string name;
  std::optional<Url> url;
  std::string url_error;  // why url is empty
  std::vector<std::pair<std::string, std::string>> headers;
  TransportLimits limits;
  std::chrono::milliseconds request_timeout{0};  // the backend's `timeout`
  std::shared_ptr<ConnectionPool> pool;          // null when the URL is invalid

  ExchangeOptions exchange_options() const;
  // A request to `target` with Host, User-Agent and the configured headers.
  Exchange::Request make_request(bhttp::verb method, const Url& target) const;
};

// Sends a transport's messages in order. A notification or a response holds back what follows
// until the backend took it (its response head arrived, the POST failed, or `max_wait` passed),
// so that e.g. notifications/initialized reaches the backend before the next request, as with
// the official SDK, whose send() waits for the response head. Requests hold nothing back:
// concurrent calls go out at once on separate connections.
class OrderedOutbox {
 public:
  // Called for each message in order, with the token to release() once the backend took it
  // (0 for requests, which need no release).
  using Dispatch = std::function<void(mcp::Message message, std::uint64_t token)>;

  OrderedOutbox(net::io_context& context, std::size_t capacity, std::chrono::milliseconds max_wait,
                Dispatch dispatch);
  ~OrderedOutbox();
  OrderedOutbox(const OrderedOutbox&) = delete;
  OrderedOutbox& operator=(const OrderedOutbox&) = delete;

  // Queues a message; false (and the message is not queued) when `capacity` are waiting.
  bool push(mcp::Message message);
  // Nothing is dispatched while closed (before start, or before the legacy endpoint is known).
  void open();
  void release(std::uint64_t token);
  void clear();
  std::size_t waiting() const;

 private:
  struct Core;
  static void pump(const std::shared_ptr<Core>& core);
  std::shared_ptr<Core> core_;
};

// The JSON-RPC messages in an SSE event's data or a JSON body (a batch gives several); invalid
// ones are logged and skipped.
std::vector<mcp::Message> decode_messages(std::string_view text, const std::string& backend_name);
// The same, and when `capture` has a recorder and `text` is JSON-RPC, each message is recorded
// with the metadata of `capture.context` (the text as received; batches split).
struct CaptureSite {
  capture::Recorder* recorder = nullptr;
  mcp::capture::Record context;
};
std::vector<mcp::Message> decode_messages(std::string_view text, const std::string& backend_name,
                                          const CaptureSite& capture);
// The HTTP metadata of a response for capture records: status and the headers the recorder
// wants.
void add_response_capture(CaptureSite& site, const Exchange& exchange);
// The same for a request the gateway sends: method and the headers the recorder wants.
void add_request_capture(CaptureSite& site, const Connection::Request& request);

// Backoff for reconnections: 500 ms doubled per failure, at most 30 s.
std::chrono::milliseconds reconnect_backoff(std::uint32_t failures);

}  // namespace mcpgw::upstream::http
