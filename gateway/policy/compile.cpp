// policy::compile(): pattern validation, backend checks, rate limit checks, rule analysis and the
// indexed decision function.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "gateway/policy/analysis.hpp"
#include "gateway/policy/indexed_policy.hpp"
#include "gateway/policy/pattern.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/policy/rule.hpp"

namespace mcpgw::policy {
namespace {

using detail::ClaimMatcher;
using detail::CompiledRule;
using detail::PatternList;
using detail::PrincipalMatcher;

constexpr std::size_t kMaxSuggestionLength = 128;

const SourceLocation& precise(const SourceLocation& first, const SourceLocation& fallback) {
  return first.line != 0 ? first : fallback;
}

std::string quote(std::string_view text) {
  return detail::quote_for_message(text);
}

// Levenshtein distance, or nullopt when it exceeds `limit` (early exit keeps it cheap).
std::optional<std::size_t> edit_distance(std::string_view a, std::string_view b,
                                         std::size_t limit) {
  const std::size_t length_gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (length_gap > limit)
    return std::nullopt;
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    std::size_t row_best = current[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
      row_best = std::min(row_best, current[j]);
    }
    if (row_best > limit)
      return std::nullopt;
    std::swap(previous, current);
  }
  if (previous[b.size()] > limit)
    return std::nullopt;
  return previous[b.size()];
}

class Compiler {
 public:
  Compiler(const CompileContext& context, config::Diagnostics& diagnostics)
      : context_(context), diagnostics_(diagnostics) {
    backend_set_.insert(context.backends.begin(), context.backends.end());
  }

  std::size_t errors() const noexcept { return errors_; }

  // Compiles every pattern of a list; invalid ones are reported and left out.
  PatternList list(const PatternListSpec& spec, std::string_view what, std::string_view owner,
                   const SourceLocation& fallback) {
    PatternList compiled;
    if (!spec.present)
      return compiled;
    compiled.set_present();
    const SourceLocation& list_where = precise(spec.where, fallback);
    for (const PatternSpec& pattern : spec.patterns) {
      if (const Pattern* ok = this->pattern(pattern, what, owner, list_where))
        compiled.add(*ok);
    }
    compiled.finish();
    return compiled;
  }

  PrincipalMatcher principal(const PrincipalMatcherSpec& spec, std::string_view owner,
                             const SourceLocation& fallback) {
    PrincipalMatcher compiled;
    compiled.subjects = list(spec.subjects, "subjects", owner, fallback);
    compiled.api_keys = list(spec.api_keys, "api_keys", owner, fallback);
    compiled.cert_subjects = list(spec.cert_subjects, "cert_subjects", owner, fallback);
    for (const ClaimMatcherSpec& claim : spec.claims) {
      const SourceLocation& where = precise(claim.where, fallback);
      if (claim.claim.empty()) {
        error(where, "invalid-claim", std::string(owner) + " has a claim matcher with no name");
        continue;
      }
      ClaimMatcher matcher;
      matcher.claim = claim.claim;
      std::size_t start = 0;
      while (true) {
        const std::size_t dot = claim.claim.find('.', start);
        matcher.path.push_back(claim.claim.substr(start, dot - start));
        if (dot == std::string::npos)
          break;
        start = dot + 1;
      }
      matcher.values = list(claim.values, "claim " + quote(claim.claim), owner, where);
      matcher.values.set_present();
      compiled.claims.push_back(std::move(matcher));
    }
    std::sort(compiled.claims.begin(), compiled.claims.end(),
              [](const ClaimMatcher& a, const ClaimMatcher& b) { return a.claim < b.claim; });
    for (const PatternSpec& scope : spec.scopes) {
      if (const Pattern* ok = pattern(scope, "scopes", owner, fallback)) {
        compiled.scopes.push_back(*ok);
      }
    }
    std::sort(compiled.scopes.begin(), compiled.scopes.end(),
              [](const Pattern& a, const Pattern& b) { return a.canonical() < b.canonical(); });
    compiled.scopes.erase(std::unique(compiled.scopes.begin(), compiled.scopes.end(),
                                      [](const Pattern& a, const Pattern& b) {
                                        return a.canonical() == b.canonical();
                                      }),
                          compiled.scopes.end());
    compiled.authenticated = spec.authenticated;
    return compiled;
  }

  // unknown-backend for literals, backend-pattern-matches-nothing for patterns.
  void check_backends(const PatternListSpec& spec, std::string_view owner,
                      const SourceLocation& fallback) {
    if (!context_.backends_known || !spec.present)
      return;
    for (const PatternSpec& written : spec.patterns) {
      const Pattern* pattern = cached(written.text);
      if (pattern == nullptr)
        continue;  // already reported as invalid
      const SourceLocation& where = precise(written.where, precise(spec.where, fallback));
      if (pattern->is_literal()) {
        if (backend_set_.count(pattern->fixed()) != 0)
          continue;
        std::string message =
            std::string(owner) + " refers to unknown backend " + quote(pattern->fixed());
        if (const std::string* suggestion = closest_backend(pattern->fixed())) {
          message += "; did you mean " + quote(*suggestion) + "?";
        }
        error(where, "unknown-backend", std::move(message));
      } else {
        auto known = matches_some_backend_.find(written.text);
        if (known == matches_some_backend_.end()) {
          const bool some =
              std::any_of(context_.backends.begin(), context_.backends.end(),
                          [&](const std::string& name) { return pattern->matches(name); });
          known = matches_some_backend_.emplace(written.text, some).first;
        }
        const bool matches_some = known->second;
        if (!matches_some) {
          diagnostics_.warning(where, "backend-pattern-matches-nothing",
                               "backend pattern " + quote(written.text) + " in " +
                                   std::string(owner) + " matches no configured backend");
        }
      }
    }
  }

  // A tool or prompt written with the gateway prefix ("github__create_issue") never matches:
  // rules use the backend's own names.
  void check_prefixed_names(const PatternListSpec& spec, std::string_view kind_word,
                            std::string_view owner, const SourceLocation& fallback) {
    if (!context_.backends_known || !spec.present || context_.separator.empty())
      return;
    for (const PatternSpec& written : spec.patterns) {
      const Pattern* pattern = cached(written.text);
      if (pattern == nullptr || !pattern->is_literal())
        continue;
      const std::string& name = pattern->fixed();
      for (std::size_t at = name.find(context_.separator); at != std::string::npos;
           at = name.find(context_.separator, at + 1)) {
        const std::string backend = name.substr(0, at);
        if (backend_set_.count(backend) == 0)
          continue;
        const std::string rest = name.substr(at + context_.separator.size());
        diagnostics_.warning(
            precise(written.where, precise(spec.where, fallback)), "prefixed-name",
            std::string(kind_word) + " " + quote(name) + " in " + std::string(owner) +
                " looks like a gateway-prefixed name; rules use the backend's "
                "own names: backends = [\"" +
                backend + "\"] with " + std::string(kind_word) + " " + quote(rest));
        break;
      }
    }
  }

  void error(const SourceLocation& where, std::string rule, std::string message) {
    ++errors_;
    diagnostics_.error(where, std::move(rule), std::move(message));
  }

 private:
  // Compiles (once per distinct text) and reports an invalid pattern at each use.
  const Pattern* pattern(const PatternSpec& spec, std::string_view what, std::string_view owner,
                         const SourceLocation& fallback) {
    auto found = cache_.find(spec.text);
    if (found == cache_.end()) {
      auto compiled = Pattern::compile(spec.text);
      CacheEntry entry;
      if (compiled) {
        entry.pattern = std::move(*compiled);
      } else {
        entry.error = std::move(compiled.error());
      }
      found = cache_.emplace(spec.text, std::move(entry)).first;
    }
    if (found->second.pattern)
      return &*found->second.pattern;
    error(precise(spec.where, fallback), "invalid-pattern",
          "invalid pattern " + quote(spec.text) + " in '" + std::string(what) + "' of " +
              std::string(owner) + ": " + found->second.error);
    return nullptr;
  }

  const Pattern* cached(const std::string& text) const {
    const auto found = cache_.find(text);
    if (found == cache_.end() || !found->second.pattern)
      return nullptr;
    return &*found->second.pattern;
  }

  // Cached: a policy may name the same unknown backend in many rules.
  const std::string* closest_backend(const std::string& name) {
    const auto known = suggestions_.find(name);
    if (known != suggestions_.end())
      return known->second;
    const std::string* best = compute_closest_backend(name);
    suggestions_.emplace(name, best);
    return best;
  }

  const std::string* compute_closest_backend(const std::string& name) const {
    if (name.size() > kMaxSuggestionLength)
      return nullptr;
    const std::size_t limit = std::min<std::size_t>(2, std::max<std::size_t>(1, name.size() / 3));
    const std::string* best = nullptr;
    std::size_t best_distance = limit + 1;
    for (const std::string& candidate : context_.backends) {
      if (candidate.size() > kMaxSuggestionLength)
        continue;
      const auto distance = edit_distance(name, candidate, limit);
      if (distance && *distance < best_distance) {
        best = &candidate;
        best_distance = *distance;
      }
    }
    return best;
  }

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

std::string rule_owner(const RuleSpec& rule) {
  return "rule " + quote(rule.id);
}
std::string limit_owner(const RateLimitSpec& limit) {
  return "rate limit " + quote(limit.id);
}

void check_rate_limit_numbers(const RateLimitSpec& limit, Compiler& compiler) {
  const std::string owner = limit_owner(limit);
  if (limit.requests <= 0) {
    compiler.error(precise(limit.requests_where, limit.where), "non-positive-rate-limit",
                   owner + ": 'requests' must be positive, got " + std::to_string(limit.requests));
  }
  if (limit.window_ms <= 0) {
    compiler.error(
        precise(limit.window_where, limit.where), "non-positive-rate-limit",
        owner + ": 'window' must be positive, got " + std::to_string(limit.window_ms) + " ms");
  }
  if (limit.burst < 0) {
    compiler.error(precise(limit.burst_where, limit.where), "non-positive-rate-limit",
                   owner + ": 'burst' must be positive (or 0 for the same as 'requests'), got " +
                       std::to_string(limit.burst));
  }
}

}  // namespace

const char* to_string(Effect effect) noexcept {
  return effect == Effect::allow ? "allow" : "deny";
}

const char* to_string(TargetKind kind) noexcept {
  switch (kind) {
    case TargetKind::tool:
      return "tool";
    case TargetKind::prompt:
      return "prompt";
    case TargetKind::resource:
      return "resource";
    case TargetKind::other:
      return "other";
  }
  return "other";
}

std::shared_ptr<const CompiledPolicy> compile(const PolicySpec& spec, const CompileContext& context,
                                              config::Diagnostics& diagnostics) {
  Compiler compiler(context, diagnostics);
  std::vector<CompiledRule> rules;
  rules.reserve(spec.rules.size());
  std::vector<bool> usable;
  usable.reserve(spec.rules.size());
  std::unordered_map<std::string_view, const RuleSpec*> rule_ids;
  rule_ids.reserve(spec.rules.size());

  for (const RuleSpec& written : spec.rules) {
    const std::size_t errors_before = compiler.errors();
    const std::string owner = rule_owner(written);
    const auto [previous, inserted] = rule_ids.emplace(written.id, &written);
    if (!inserted) {
      compiler.error(written.where, "duplicate-rule-id",
                     "duplicate rule id " + quote(written.id) + "; first defined at " +
                         detail::format_location(previous->second->where));
    }
    CompiledRule rule;
    rule.index = static_cast<std::uint32_t>(rules.size());
    rule.id = written.id;
    rule.effect = written.effect;
    rule.where = written.where;
    rule.methods = compiler.list(written.methods, "methods", owner, written.where);
    rule.backends = compiler.list(written.backends, "backends", owner, written.where);
    rule.names[static_cast<std::size_t>(TargetKind::tool)] =
        compiler.list(written.tools, "tools", owner, written.where);
    rule.names[static_cast<std::size_t>(TargetKind::prompt)] =
        compiler.list(written.prompts, "prompts", owner, written.where);
    rule.names[static_cast<std::size_t>(TargetKind::resource)] =
        compiler.list(written.resources, "resources", owner, written.where);
    rule.principal = compiler.principal(written.principal, owner, written.where);
    rule.finish();
    compiler.check_backends(written.backends, owner, written.where);
    compiler.check_prefixed_names(written.tools, "tool", owner, written.where);
    compiler.check_prefixed_names(written.prompts, "prompt", owner, written.where);
    usable.push_back(compiler.errors() == errors_before);
    rules.push_back(std::move(rule));
  }

  std::unordered_map<std::string_view, const RateLimitSpec*> limit_ids;
  for (const RateLimitSpec& limit : spec.rate_limits) {
    const std::string owner = limit_owner(limit);
    const auto [previous, inserted] = limit_ids.emplace(limit.id, &limit);
    if (!inserted) {
      compiler.error(limit.where, "duplicate-rule-id",
                     "duplicate rate limit id " + quote(limit.id) + "; first defined at " +
                         detail::format_location(previous->second->where));
    }
    check_rate_limit_numbers(limit, compiler);
    // Compiled for validation; the rate limiter matches with its own copy.
    compiler.list(limit.backends, "backends", owner, limit.where);
    compiler.list(limit.tools, "tools", owner, limit.where);
    compiler.principal(limit.principal, owner, limit.where);
    compiler.check_backends(limit.backends, owner, limit.where);
    compiler.check_prefixed_names(limit.tools, "tool", owner, limit.where);
  }

  const std::size_t errors_before_analysis = diagnostics.count(config::Severity::error);
  detail::analyse_rules(rules, usable, diagnostics);
  const bool analysis_found_errors =
      diagnostics.count(config::Severity::error) != errors_before_analysis;
  if (compiler.errors() > 0 || analysis_found_errors)
    return nullptr;
  return std::make_shared<const detail::IndexedPolicy>(spec.default_effect, std::move(rules));
}

}  // namespace mcpgw::policy
