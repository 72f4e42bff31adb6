// The compiled policy and its decision function: what serve enforces and what lint tests.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/config/diagnostic.hpp"
#include "gateway/policy/spec.hpp"

namespace mcpgw::policy {

// Who is asking. Filled by serve's authenticators; written by hand in policy test cases.
struct Principal {
  bool authenticated = false;
  std::string subject;
  std::string api_key;       // configured name of the API key that authenticated the request
  std::string cert_subject;  // mTLS client certificate subject
  nlohmann::json claims = nlohmann::json::object();  // verified token claims
  std::vector<std::string> scopes;                   // from "scope" (space separated) or "scp"
};

enum class TargetKind { tool, prompt, resource, other };

// What is being asked for. Names are the backend's own (unprefixed).
struct Target {
  std::string method;   // e.g. "tools/call"
  std::string backend;  // empty for methods the gateway answers itself
  TargetKind kind = TargetKind::other;
  std::string name;     // tool or prompt name, or resource URI
};

struct Decision {
  Effect effect = Effect::deny;
  std::string rule_id;      // the deciding rule; empty when the default decided
  SourceLocation rule_where;
  bool by_default() const noexcept { return rule_id.empty(); }
};

struct CompileContext {
  bool backends_known = false;        // false for a policy-only file: skip backend checks
  std::vector<std::string> backends;  // configured backend names
  std::string separator = "__";
};

class CompiledPolicy {
 public:
  virtual ~CompiledPolicy() = default;
  // Deny overrides allow; when no rule matches, the configured default decides.
  virtual Decision decide(const Principal& principal, const Target& target) const = 0;
  virtual Effect default_effect() const noexcept = 0;
  virtual std::size_t rule_count() const noexcept = 0;
};

// Validates patterns, analyses the rules (shadowed, unreachable, conflicting, unknown backends,
// non-positive limits) into `diagnostics`, and compiles. Returns null when any error was found.
std::shared_ptr<const CompiledPolicy> compile(const PolicySpec& spec, const CompileContext& context,
                                              config::Diagnostics& diagnostics);

const char* to_string(Effect effect) noexcept;
const char* to_string(TargetKind kind) noexcept;

}  // namespace mcpgw::policy
