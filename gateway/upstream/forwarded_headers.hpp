// Forwarded client headers (BackendConfig::forward_headers) on the requests of the HTTP upstream
// transports. Private to gateway/upstream: only the transports' .cpp files include it (it pulls
// in Beast through http_client.hpp).
#pragma once

#include <cstddef>
#include <deque>

#include "gateway/upstream/http_client.hpp"
#include "gateway/upstream/transport.hpp"

namespace mcpgw::upstream::http {

// At most this many forwarded headers, and bytes of their names and values, go on one request;
// the rest are dropped (the front end bounds what it reads; this bounds what we repeat).
inline constexpr std::size_t kMaxForwardedHeaders = 64;
inline constexpr std::size_t kMaxForwardedHeaderBytes = 32 * 1024;

// Adds `forwarded` to `request`, which must already carry everything the gateway sets itself.
// It never replaces or adds to a header the request has (Host, User-Agent, the backend's
// configured headers, Accept, Content-Type, Mcp-Session-Id, MCP-Protocol-Version,
// Last-Event-ID), and never sends one the gateway manages or that carries credentials of the
// client towards the gateway (Authorization, Proxy-Authorization) or framing (Content-Length,
// Transfer-Encoding, Connection, ...). Names or values HTTP does not allow are dropped.
void add_forwarded_headers(Exchange::Request& request, const ForwardedHeaders& forwarded);

// The forwarded headers of the messages waiting in an OrderedOutbox, in the same order (the
// outbox dispatches in push order and drops only on clear()): push() right before
// OrderedOutbox::push, drop_last() when that refused, take() in its dispatch, clear() with it.
class OutboxHeaders {
 public:
  void push(const ForwardedHeaders& headers) { queue_.push_back(headers); }
  void drop_last() {
    if (!queue_.empty())
      queue_.pop_back();
  }
  ForwardedHeaders take() {
    if (queue_.empty())
      return {};
    ForwardedHeaders front = std::move(queue_.front());
    queue_.pop_front();
    return front;
  }
  void clear() { queue_.clear(); }
  std::size_t size() const { return queue_.size(); }

 private:
  std::deque<ForwardedHeaders> queue_;
};

}  // namespace mcpgw::upstream::http
