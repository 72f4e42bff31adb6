// From the written policy (spec.hpp) to compiled matchers, with every finding reported as a
// diagnostic (internal). Shared by policy::compile() and compile_rate_limits() so that rules and
// rate limits compile their patterns and principal matchers the same way.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gateway/config/diagnostic.hpp"
#include "gateway/policy/pattern.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/policy/rule.hpp"
#include "gateway/policy/spec.hpp"

namespace mcpgw::policy::detail {

// The most precise location known: `first` when it has a line, else `fallback`.
const SourceLocation& precise(const SourceLocation& first, const SourceLocation& fallback);

// Compiles patterns (once per distinct text) into matchers and reports what is wrong. Keeps
// references to `context` and `diagnostics`: both must outlive it.
class SpecCompiler {
 public:
  SpecCompiler(const CompileContext& context, config::Diagnostics& diagnostics);

  std::size_t errors() const noexcept { return errors_; }

  // Compiles every pattern of a list; invalid ones are reported and left out.
  PatternList list(const PatternListSpec& spec, std::string_view what, std::string_view owner,
                   const SourceLocation& fallback);
  PrincipalMatcher principal(const PrincipalMatcherSpec& spec, std::string_view owner,
                             const SourceLocation& fallback);
  // unknown-backend for literals, backend-pattern-matches-nothing for patterns (only when the
  // context knows the backends).
  void check_backends(const PatternListSpec& spec, std::string_view owner,
                      const SourceLocation& fallback);
  // A tool or prompt written with the gateway prefix ("github__create_issue") never matches:
  // rules use the backend's own names.
  void check_prefixed_names(const PatternListSpec& spec, std::string_view kind_word,
                            std::string_view owner, const SourceLocation& fallback);
  void error(const SourceLocation& where, std::string rule, std::string message);

 private:
  // Compiles (once per distinct text) and reports an invalid pattern at each use.
  const Pattern* pattern(const PatternSpec& spec, std::string_view what, std::string_view owner,
                         const SourceLocation& fallback);
  const Pattern* cached(const std::string& text) const;
  // Cached: a policy may name the same unknown backend in many rules.
  const std::string* closest_backend(const std::string& name);
  const std::string* compute_closest_backend(const std::string& name) const;

  struct CacheEntry {
    std::optional<Pattern> pattern;
    std::string error;
  };

  const CompileContext& context_;
  config::Diagnostics& diagnostics_;
  std::unordered_set<std::string> backend_set_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::unordered_map<std::string, const std::string*> suggestions_;
  std::unordered_map<std::string, bool> matches_some_backend_;
  std::size_t errors_ = 0;
};

// What a [[rate_limit]] entry filters on, compiled.
struct RateLimitMatchers {
  PatternList backends;
  PatternList tools;
  PrincipalMatcher principal;
};

// Checks every rate limit (duplicate-rule-id among the limits, non-positive-rate-limit, patterns,
// backends, prefixed names) into the compiler's diagnostics and returns their matchers, one per
// limit in order (a limit with errors gets incomplete matchers: check compiler.errors()).
std::vector<RateLimitMatchers> compile_rate_limit_matchers(const std::vector<RateLimitSpec>& limits,
                                                           SpecCompiler& compiler);

}  // namespace mcpgw::policy::detail
