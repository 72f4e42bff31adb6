// What the serve benchmarks share: the endpoint URL, blocking MCP requests over one keep-alive
// connection (session set-up), and reading a process's resident memory. Included only by
// bench/*.cpp, so Beast stays out of every public header.
#pragma once

#include <charconv>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace mcpgw::bench {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

inline constexpr std::string_view kProtocolVersion = "2025-11-25";
inline constexpr std::uint64_t kMaxResponseBytes = 64u << 20;

// http://HOST:PORT/PATH (plain HTTP only: the benchmarks run on 127.0.0.1).
struct Endpoint {
  std::string host;
  std::string port;
  std::string target;
  std::string host_header;  // HOST:PORT
};

inline std::optional<Endpoint> parse_endpoint(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (!url.starts_with(scheme))
    return std::nullopt;
  url.remove_prefix(scheme.size());
  const auto slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  const std::string_view target = slash == std::string_view::npos ? "/" : url.substr(slash);
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == authority.size())
    return std::nullopt;
  unsigned port = 0;
  const auto port_text = authority.substr(colon + 1);
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535)
    return std::nullopt;
  return Endpoint{std::string(authority.substr(0, colon)), std::string(port_text),
                  std::string(target), std::string(authority)};
}

// A POST /mcp request as an MCP client sends it; `session` empty before initialize.
inline http::request<http::string_body> mcp_post(const Endpoint& endpoint,
                                                 const std::string& session, std::string body) {
  http::request<http::string_body> request{http::verb::post, endpoint.target, 11};
  request.set(http::field::host, endpoint.host_header);
  request.set(http::field::content_type, "application/json");
  request.set(http::field::accept, "application/json, text/event-stream");
  if (!session.empty()) {
    request.set("Mcp-Session-Id", session);
    request.set("MCP-Protocol-Version", kProtocolVersion);
  }
  request.keep_alive(true);
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

inline std::string initialize_body(std::string_view client_name) {
  return std::string(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{)") +
         R"("protocolVersion":")" + std::string(kProtocolVersion) +
         R"(","capabilities":{},"clientInfo":{"name":")" + std::string(client_name) +
         R"(","version":"1"}}})";
}

inline constexpr std::string_view kInitializedBody =
    R"({"jsonrpc":"2.0","method":"notifications/initialized"})";

// One blocking keep-alive connection (set-up work only; the measured paths are asynchronous).
class BlockingConnection {
 public:
  BlockingConnection(asio::io_context& context, const Endpoint& endpoint)
      : endpoint_(endpoint), socket_(context), resolver_(context) {}

  bool connect(std::string& error) {
    boost::system::error_code code;
    const auto results = resolver_.resolve(endpoint_.host, endpoint_.port, code);
    if (!code)
      asio::connect(socket_, results, code);
    if (!code)
      socket_.set_option(tcp::no_delay(true), code);
    if (code)
      error = "connect to " + endpoint_.host_header + ": " + code.message();
    return !code;
  }

  // Sends a request and reads its whole response; false (and `error`) on a transport failure.
  bool exchange(http::request<http::string_body>& request,
                http::response<http::string_body>& response, std::string& error) {
    boost::system::error_code code;
    http::write(socket_, request, code);
    if (code) {
      error = "write: " + code.message();
      return false;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    http::read(socket_, buffer_, parser, code);
    if (code) {
      error = "read: " + code.message();
      return false;
    }
    response = parser.release();
    return true;
  }

  // initialize + notifications/initialized: the new session's id, or empty with `error`.
  std::string open_session(std::string_view client_name, std::string& error) {
    auto initialize = mcp_post(endpoint_, "", initialize_body(client_name));
    http::response<http::string_body> response;
    if (!exchange(initialize, response, error))
      return {};
    const auto id = response["Mcp-Session-Id"];
    if (response.result_int() != 200 || id.empty()) {
      error = "initialize: HTTP " + std::to_string(response.result_int()) + ": " +
              response.body().substr(0, 200);
      return {};
    }
    std::string session(id);
    auto initialized = mcp_post(endpoint_, session, std::string(kInitializedBody));
    if (!exchange(initialized, response, error))
      return {};
    if (response.result_int() != 202) {
      error = "notifications/initialized: HTTP " + std::to_string(response.result_int());
      return {};
    }
    return session;
  }

  tcp::socket& socket() { return socket_; }

 private:
  Endpoint endpoint_;
  tcp::socket socket_;
  tcp::resolver resolver_;
  boost::beast::flat_buffer buffer_;
};

// VmRSS of a process in KiB, from /proc/PID/status.
inline std::optional<std::uint64_t> resident_kib(long pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("VmRSS:"))
      continue;
    std::uint64_t value = 0;
    const auto begin = line.find_first_of("0123456789");
    if (begin == std::string::npos)
      return std::nullopt;
    std::from_chars(line.data() + begin, line.data() + line.size(), value);
    return value;
  }
  return std::nullopt;
}

}  // namespace mcpgw::bench
