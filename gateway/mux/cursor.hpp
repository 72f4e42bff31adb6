// The composite cursor of merged lists. A page of tools/list (prompts/list, resources/list,
// resources/templates/list, tasks/list) through the gateway asks every backend that still has
// pages, in parallel, and merges their answers in configuration order. The cursor it returns
// records, per backend, the backend's own next cursor or that the backend is done, so paging
// through the gateway sees every page of every backend. Only when all are done is nextCursor
// absent.
//
// The token is opaque to clients: base64url(JSON payload || HMAC-SHA-256(key, payload)[0..16)).
// The payload names the method and a fingerprint of the backend list, so a cursor of another
// list, of another configuration or from another gateway process (a fresh random key) is
// rejected like a tampered one, with -32602. Sizes are bounded (kMaxBackendCursorBytes per
// backend, kMaxCursorTokenBytes in all).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mcp/expected.hpp"

namespace mcpgw::mux {

inline constexpr std::size_t kMaxBackendCursorBytes = 4096;
inline constexpr std::size_t kMaxCursorTokenBytes = 64 * 1024;

struct CompositeCursor {
  std::string method;
  // One per configured backend, in configuration order: the backend's next cursor, or empty
  // when that backend has no more pages (an empty string is a valid cursor, hence optional).
  std::vector<std::optional<std::string>> backends;

  bool any_pending() const;
  friend bool operator==(const CompositeCursor&, const CompositeCursor&) = default;
};

class CursorCodec {
 public:
  // `backends`: the configured backend names, for the fingerprint. Picks a random key.
  explicit CursorCodec(const std::vector<std::string>& backends);
  // A fixed key (tests, and later replicas sharing one).
  CursorCodec(const std::vector<std::string>& backends, std::vector<std::uint8_t> key);

  // Empty when the cursor would be larger than kMaxCursorTokenBytes.
  std::optional<std::string> encode(const CompositeCursor& cursor) const;
  // Why the token is not a cursor this gateway issued for `method`.
  mcp::Expected<CompositeCursor, std::string> decode(std::string_view token,
                                                     std::string_view method) const;

 private:
  std::string fingerprint_;
  std::size_t backend_count_ = 0;
  std::vector<std::uint8_t> key_;
};

}  // namespace mcpgw::mux
