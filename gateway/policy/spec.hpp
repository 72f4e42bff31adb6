// The policy as written in TOML, before compilation: plain data with source locations.
// The config loader fills it; policy::compile() validates and compiles it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config/diagnostic.hpp"

namespace mcpgw::policy {

using config::SourceLocation;

enum class Effect { allow, deny };

// A glob ("create_*", "file:///srv/**") or, with the prefix "re:", an RE2 regex.
struct PatternSpec {
  std::string text;
  SourceLocation where;
};

// An absent list matches anything; a present list matches when any pattern does.
struct PatternListSpec {
  bool present = false;
  std::vector<PatternSpec> patterns;
  SourceLocation where;
};

// claims = { groups = ["devs"], "realm_access.roles" = ["admin"] }: the claim (a dotted path
// into the token's JSON) is a string or an array of strings, and any value matching any pattern
// satisfies it.
struct ClaimMatcherSpec {
  std::string claim;
  PatternListSpec values;
  SourceLocation where;
};

// Every present dimension must match (AND across dimensions, OR within one).
struct PrincipalMatcherSpec {
  PatternListSpec subjects;
  PatternListSpec api_keys;       // the configured name of the API key used
  PatternListSpec cert_subjects;  // mTLS client certificate subject
  std::vector<ClaimMatcherSpec> claims;
  std::vector<PatternSpec> scopes;    // all listed scopes must be granted
  std::optional<bool> authenticated;  // false matches only anonymous principals
};

struct RuleSpec {
  std::string id;  // unique; generated as "<file>#rule<index>" when absent
  bool id_generated = false;
  std::string description;
  Effect effect = Effect::allow;
  PatternListSpec methods;    // JSON-RPC method names, e.g. "tools/call", "resources/*"
  PatternListSpec backends;   // backend names
  PatternListSpec tools;      // unprefixed tool names
  PatternListSpec prompts;    // unprefixed prompt names
  PatternListSpec resources;  // resource URIs (as the backend knows them)
  PrincipalMatcherSpec principal;
  SourceLocation where;  // the [[rule]] header
};

enum class RateLimitScope { principal, principal_tool, backend };

struct RateLimitSpec {
  std::string id;
  bool id_generated = false;
  RateLimitScope scope = RateLimitScope::principal;
  std::int64_t requests = 0;   // tokens added per window; must be > 0
  std::int64_t window_ms = 0;  // must be > 0
  std::int64_t burst = 0;      // bucket size; 0 means "same as requests"
  PatternListSpec backends;    // optional filters on what the limit applies to
  PatternListSpec tools;
  PrincipalMatcherSpec principal;
  SourceLocation where;
  SourceLocation requests_where;
  SourceLocation window_where;
  SourceLocation burst_where;
};

struct PolicySpec {
  Effect default_effect = Effect::deny;
  SourceLocation default_where;
  std::vector<RuleSpec> rules;  // in file order, includes flattened depth-first
  std::vector<RateLimitSpec> rate_limits;
};

}  // namespace mcpgw::policy
