// The compiled policy and its decision function: what serve enforces and what lint tests.
//
// Semantics
// ---------
// Patterns (every name, method, backend, subject, key, certificate subject, claim value and
// scope in a rule): a glob by default -- `*` any run of characters including '/', `?` exactly
// one character (UTF-8 code point), `[abc]`, `[a-z]`, `[!abc]` (or `[^abc]`) one character of /
// not of a class, `\` makes the next character literal; case sensitive, whole string. With the
// prefix "re:" the rest is an RE2 regular expression that must match the WHOLE string. Globs
// run on RE2 (linear time) or, for "*", "lit", "lit*", "*lit" and "*lit*", on plain string
// operations; nothing ever uses a backtracking engine. An empty pattern, an unterminated class,
// a reversed range, a trailing backslash, invalid UTF-8, an RE2 syntax error or a program over
// the RE2 memory budget (kPatternMaxMemBytes) is an `invalid-pattern` error. See pattern.hpp.
//
// A rule matches a (principal, target) when every PRESENT dimension matches; an absent one
// matches anything:
//   methods / backends     any pattern matches target.method / target.backend
//   tools/prompts/resources if the rule lists any of them, target.kind must be one of the
//                          listed kinds and target.name must match that kind's list; kind
//                          `other` never matches such a rule. A rule listing none applies to
//                          every kind, `other` included (method-level rules).
//   subjects, api_keys,    any pattern matches principal.subject / .api_key / .cert_subject
//   cert_subjects
//   claims                 for each claim matcher: the claim is looked up in principal.claims
//                          first as a top-level key with exactly that name ("https://x/groups"),
//                          then as a dotted path into nested objects ("realm_access.roles"). A
//                          string, number or boolean (numbers and booleans by their JSON text,
//                          "3", "true"), or an array of them, matches when any value matches
//                          any pattern. Missing claims, null, objects and nested arrays never
//                          match. Several claim matchers must all match.
//   scopes                 all of: every listed scope pattern (a glob like any other, so
//                          "repo:*" works; a plain name is an exact match) must match at least
//                          one of principal.scopes
//   authenticated          equals principal.authenticated (false: only anonymous principals)
// A present list never matches an empty value: "*" in `subjects` needs a subject (anonymous
// principals have none), "*" in `backends` does not match methods the gateway answers itself.
//
// Decision: deny overrides allow. If any rule with effect deny matches, the result is deny and
// the deciding rule is the FIRST matching deny in file order; otherwise the first matching allow
// in file order allows; otherwise the configured default decides (Decision::rule_id empty).
//
// Static analysis done by compile() (rule ids as printed by lint):
//   invalid-pattern (error), invalid-claim (error: empty claim name), duplicate-rule-id (error,
//   rules and rate limits each), unknown-backend (error, with "did you mean"),
//   backend-pattern-matches-nothing (warning), prefixed-name (warning: "github__x" written where
//   the backend's own name belongs), non-positive-rate-limit (error), rule-never-matches
//   (warning: an empty list), conflicting-rule (error: an allow and a deny with identical
//   matchers after normalising pattern order and duplicates), unreachable-rule (warning: an
//   allow rule every request of which some deny rule also matches), shadowed-rule (warning: a
//   rule every request of which an EARLIER rule with the same effect also matches), and
//   analysis-limit (note: the coverage analysis gave up on a pathological policy). Coverage is
//   conservative: reported only when certain, never a false positive.
//
// Performance: decide() evaluates only the candidate rules from buckets keyed by literal backend,
// literal method and literal name or the first/last byte of a name pattern (indexed_policy.hpp);
// it is const, thread-safe and allocates nothing but the Decision. The coverage analysis finds
// candidates through similar buckets plus a principal filter instead of comparing all pairs,
// and stops with `analysis-limit` after a bounded amount of work.
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
  std::string name;  // tool or prompt name, or resource URI
};

struct Decision {
  Effect effect = Effect::deny;
  std::string rule_id;  // the deciding rule; empty when the default decided
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
