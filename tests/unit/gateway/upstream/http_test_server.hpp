// A scripted HTTP/1.1 server for the HTTP transport tests: it listens on 127.0.0.1:0 (plain or
// TLS), records every request and connection, and lets a test script answer each request with
// a whole response, or an SSE stream written event by event, or a dropped connection.
#pragma once

#include "tests/unit/gateway/upstream/upstream_test_support.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace mcpgw::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

inline constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

struct RecordedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::uint64_t connection = 0;  // which accepted connection carried it (1, 2, ...)
  std::string sni;               // TLS server name the client sent

  bool has(const std::string& name) const { return headers.count(name) != 0; }
  std::string header(const std::string& name) const {
    const auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
  }
};

// One request being answered. Writes report false once the connection is gone.
class Reply {
 public:
  using Writer = std::function<net::awaitable<bool>(std::string)>;
  Reply(const RecordedRequest& request_in, Writer writer, std::function<void()> closer)
      : request(request_in), writer_(std::move(writer)), closer_(std::move(closer)) {}

  const RecordedRequest& request;
  bool keep_alive = true;  // false: "Connection: close" and the connection ends after it

  net::awaitable<bool> send(unsigned status, const std::string& content_type, std::string body,
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::string text = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
    if (!content_type.empty())
      text += "Content-Type: " + content_type + "\r\n";
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& [name, value] : headers)
      text += name + ": " + value + "\r\n";
    if (!keep_alive)
      text += "Connection: close\r\n";
    text += "\r\n" + body;
    co_return co_await writer_(std::move(text));
  }
  net::awaitable<bool> json(const std::string& body,
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    co_return co_await send(200, "application/json", body, std::move(headers));
  }
  // The head of a chunked text/event-stream response.
  net::awaitable<bool> start_sse(std::vector<std::pair<std::string, std::string>> headers = {}) {
    std::string text =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
        "Transfer-Encoding: chunked\r\n";
    for (const auto& [name, value] : headers)
      text += name + ": " + value + "\r\n";
    text += "\r\n";
    co_return co_await writer_(std::move(text));
  }
  // Raw event-stream bytes as one chunk.
  net::awaitable<bool> chunk(const std::string& bytes) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
    co_return co_await writer_(size + bytes + "\r\n");
  }
  net::awaitable<bool> event(const std::string& data, const std::string& id = {},
                             const std::string& type = {}) {
    std::string text;
    if (!id.empty())
      text += "id: " + id + "\n";
    if (!type.empty())
      text += "event: " + type + "\n";
    text += "data: " + data + "\n\n";
    co_return co_await chunk(text);
  }
  // The last chunk: the response ends cleanly (the connection may be reused).
  net::awaitable<bool> end() { co_return co_await writer_("0\r\n\r\n"); }
  // Closes the connection now, mid-response or after it.
  void drop() {
    dropped = true;
    closer_();
  }
  bool dropped = false;

 private:
  static std::string reason(unsigned status) {
    switch (status) {
      case 200:
        return "OK";
      case 202:
        return "Accepted";
      case 400:
        return "Bad Request";
      case 404:
        return "Not Found";
      case 405:
        return "Method Not Allowed";
      case 500:
        return "Internal Server Error";
      default:
        return "Status";
    }
  }

  Writer writer_;
  std::function<void()> closer_;
};

using Script = std::function<net::awaitable<void>(Reply&)>;

class TestHttpServer {
  struct State {
    State(net::io_context& context, Script script_in, net::ssl::context* tls_in)
        : acceptor(context), script(std::move(script_in)), tls(tls_in) {}
    net::ip::tcp::acceptor acceptor;
    Script script;
    net::ssl::context* tls;
    std::vector<RecordedRequest> requests;
    std::uint64_t connections = 0;
    std::uint64_t tls_handshake_failures = 0;
    std::map<std::uint64_t, std::function<void()>> closers;
    bool stopped = false;
  };

 public:
  TestHttpServer(net::io_context& context, Script script, net::ssl::context* tls = nullptr)
      : state_(std::make_shared<State>(context, std::move(script), tls)) {
    const net::ip::tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(net::socket_base::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    net::co_spawn(context, accept_loop(state_), net::detached);
  }
  ~TestHttpServer() { stop(); }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  std::uint16_t port() const { return state_->acceptor.local_endpoint().port(); }
  std::string url(const std::string& path = "/mcp", const std::string& host = "127.0.0.1") const {
    return std::string(state_->tls ? "https" : "http") + "://" + host + ":" +
           std::to_string(port()) + path;
  }
  const std::vector<RecordedRequest>& requests() const { return state_->requests; }
  std::vector<RecordedRequest> requests_with(const std::string& method) const {
    std::vector<RecordedRequest> out;
    for (const auto& request : state_->requests)
      if (request.method == method)
        out.push_back(request);
    return out;
  }
  std::uint64_t connections() const { return state_->connections; }
  std::uint64_t tls_handshake_failures() const { return state_->tls_handshake_failures; }

  // Stops accepting and closes every connection.
  void stop() {
    if (state_->stopped)
      return;
    state_->stopped = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    auto closers = std::move(state_->closers);
    for (auto& [id, close] : closers)
      close();
  }

 private:
  static net::awaitable<void> accept_loop(std::shared_ptr<State> state) {
    while (true) {
      auto [error, socket] = co_await state->acceptor.async_accept(use_tuple);
      if (error || state->stopped)
        co_return;
      const std::uint64_t id = ++state->connections;
      auto executor = socket.get_executor();
      if (state->tls)
        net::co_spawn(executor, serve_tls(state, std::move(socket), id), net::detached);
      else
        net::co_spawn(executor, serve_plain(state, std::move(socket), id), net::detached);
    }
  }

  static net::awaitable<void> serve_plain(std::shared_ptr<State> state, net::ip::tcp::socket socket,
                                          std::uint64_t id) {
    beast::tcp_stream stream(std::move(socket));
    co_await serve(state, stream, id, {});
  }

  static net::awaitable<void> serve_tls(std::shared_ptr<State> state, net::ip::tcp::socket socket,
                                        std::uint64_t id) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *state->tls);
    state->closers[id] = [&stream] { beast::get_lowest_layer(stream).close(); };
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [error] = co_await stream.async_handshake(net::ssl::stream_base::server, use_tuple);
    beast::get_lowest_layer(stream).expires_never();
    if (error) {
      ++state->tls_handshake_failures;
      state->closers.erase(id);
      co_return;
    }
    const char* name = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
    co_await serve(state, stream, id, name != nullptr ? name : "");
  }

  template <class Stream>
  static net::awaitable<void> serve(std::shared_ptr<State> state, Stream& stream, std::uint64_t id,
                                    std::string sni) {
    state->closers[id] = [&stream] { beast::get_lowest_layer(stream).close(); };
    struct Unregister {
      std::shared_ptr<State> state;
      std::uint64_t id;
      ~Unregister() { state->closers.erase(id); }
    } unregister{state, id};
    beast::flat_buffer buffer;
    while (!state->stopped) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(std::uint64_t{4} << 20);
      auto [error, bytes] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      if (error)
        co_return;
      const auto& message = parser.get();
      RecordedRequest request;
      request.method = std::string(message.method_string());
      request.target = std::string(message.target());
      for (const auto& field : message) {
        std::string name(field.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](char c) {
          return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        });
        request.headers[name] = std::string(field.value());
      }
      request.body = message.body();
      request.connection = id;
      request.sni = sni;
      state->requests.push_back(request);
      Reply reply(
          request,
          [&stream](std::string data) -> net::awaitable<bool> {
            auto [write_error, written] =
                co_await net::async_write(stream, net::buffer(data), use_tuple);
            co_return !write_error;
          },
          [&stream] { beast::get_lowest_layer(stream).close(); });
      co_await state->script(reply);
      if (reply.dropped || !reply.keep_alive || !message.keep_alive()) {
        beast::get_lowest_layer(stream).close();
        co_return;
      }
    }
  }

  std::shared_ptr<State> state_;
};

// Lets a script wait until the test says go (bounded, so a broken test cannot hang).
class Gate {
 public:
  explicit Gate(net::io_context& context) : timer_(context) {}
  void open() {
    open_ = true;
    timer_.cancel();
  }
  bool is_open() const { return open_; }
  net::awaitable<bool> wait(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    if (!open_) {
      timer_.expires_after(limit);
      co_await timer_.async_wait(use_tuple);
    }
    co_return open_;
  }

 private:
  net::steady_timer timer_;
  bool open_ = false;
};

// Strings handed from one script (a POST) to another (the stream that sends them), in order.
class Mailbox {
 public:
  explicit Mailbox(net::io_context& context) : timer_(context) {}
  void put(std::string item) {
    items_.push_back(std::move(item));
    timer_.cancel();
  }
  void close() {
    closed_ = true;
    timer_.cancel();
  }
  // The next item; empty when closed or after `limit` without one.
  net::awaitable<std::optional<std::string>> take(
      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (items_.empty() && !closed_ && std::chrono::steady_clock::now() < deadline) {
      timer_.expires_at(deadline);
      co_await timer_.async_wait(use_tuple);
    }
    if (items_.empty())
      co_return std::nullopt;
    auto item = std::move(items_.front());
    items_.pop_front();
    co_return item;
  }

 private:
  net::steady_timer timer_;
  std::deque<std::string> items_;
  bool closed_ = false;
};

}  // namespace mcpgw::test
