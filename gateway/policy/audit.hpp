// The audit trail of authorization: one record per decided client request (and per refusal by
// a rate limit). serve writes them as JSON lines ([audit] in the config) through the sink of
// gateway/serve/audit_sink.hpp; tests collect them.
//
// A record never holds credentials: the principal appears as its key, subject, API key NAME
// and certificate subject; claims are not copied; request arguments are not recorded.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "gateway/policy/policy.hpp"

namespace mcpgw::policy {

struct AuditRecord {
  std::chrono::system_clock::time_point time;
  std::string session;        // the front end's session id ("" for stdio)
  std::string principal_key;  // auth::principal_key
  std::string subject;
  std::string api_key;  // the key's configured name
  std::string cert_subject;
  std::string method;   // the client's method
  std::string backend;  // empty for gateway-answered and fan-out methods
  TargetKind kind = TargetKind::other;
  std::string name;      // tool or prompt name or resource URI, as the backend knows it
  std::string decision;  // "allow", "deny" or "rate_limited"
  std::string rule;      // deciding rule id ("" = the default) or the refusing rate limit id
  std::uint64_t policy_generation = 0;  // which loaded policy decided (0 = the first)
};

// {"ts":"2026-11-22T01:02:03.456789Z","type":"authz",...}: one line, keys in a fixed order.
std::string audit_json_line(const AuditRecord& record);

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Never blocks the caller: records are queued (bounded) and written off the loop; what
  // cannot be queued is counted as dropped and reported in the log.
  virtual void record(const AuditRecord& record) = 0;
  virtual std::uint64_t dropped() const noexcept = 0;
  // Writes out everything queued (shutdown).
  virtual void flush() = 0;
};

}  // namespace mcpgw::policy
