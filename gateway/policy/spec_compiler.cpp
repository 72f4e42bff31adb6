// SpecCompiler: patterns and principal matchers compiled from the spec, with diagnostics.
#include "gateway/policy/spec_compiler.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcpgw::policy::detail {
namespace {

constexpr std::size_t kMaxSuggestionLength = 128;

std::string quote(std::string_view text) {
  return quote_for_message(text);
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

std::string limit_owner(const RateLimitSpec& limit) {
  return "rate limit " + quote(limit.id);
}

void check_rate_limit_numbers(const RateLimitSpec& limit, SpecCompiler& compiler) {
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

const SourceLocation& precise(const SourceLocation& first, const SourceLocation& fallback) {
  return first.line != 0 ? first : fallback;
}

SpecCompiler::SpecCompiler(const CompileContext& context, config::Diagnostics& diagnostics)
    : context_(context), diagnostics_(diagnostics) {
  backend_set_.insert(context.backends.begin(), context.backends.end());
}

PatternList SpecCompiler::list(const PatternListSpec& spec, std::string_view what,
                               std::string_view owner, const SourceLocation& fallback) {
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

PrincipalMatcher SpecCompiler::principal(const PrincipalMatcherSpec& spec, std::string_view owner,
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

void SpecCompiler::check_backends(const PatternListSpec& spec, std::string_view owner,
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

void SpecCompiler::check_prefixed_names(const PatternListSpec& spec, std::string_view kind_word,
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
      diagnostics_.warning(precise(written.where, precise(spec.where, fallback)), "prefixed-name",
                           std::string(kind_word) + " " + quote(name) + " in " +
                               std::string(owner) +
                               " looks like a gateway-prefixed name; rules use the backend's "
                               "own names: backends = [\"" +
                               backend + "\"] with " + std::string(kind_word) + " " + quote(rest));
      break;
    }
  }
}

void SpecCompiler::error(const SourceLocation& where, std::string rule, std::string message) {
  ++errors_;
  diagnostics_.error(where, std::move(rule), std::move(message));
}

const Pattern* SpecCompiler::pattern(const PatternSpec& spec, std::string_view what,
                                     std::string_view owner, const SourceLocation& fallback) {
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

const Pattern* SpecCompiler::cached(const std::string& text) const {
  const auto found = cache_.find(text);
  if (found == cache_.end() || !found->second.pattern)
    return nullptr;
  return &*found->second.pattern;
}

const std::string* SpecCompiler::closest_backend(const std::string& name) {
  const auto known = suggestions_.find(name);
  if (known != suggestions_.end())
    return known->second;
  const std::string* best = compute_closest_backend(name);
  suggestions_.emplace(name, best);
  return best;
}

const std::string* SpecCompiler::compute_closest_backend(const std::string& name) const {
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

std::vector<RateLimitMatchers> compile_rate_limit_matchers(const std::vector<RateLimitSpec>& limits,
                                                           SpecCompiler& compiler) {
  std::vector<RateLimitMatchers> compiled;
  compiled.reserve(limits.size());
  std::unordered_map<std::string_view, const RateLimitSpec*> limit_ids;
  for (const RateLimitSpec& limit : limits) {
    const std::string owner = limit_owner(limit);
    const auto [previous, inserted] = limit_ids.emplace(limit.id, &limit);
    if (!inserted) {
      compiler.error(limit.where, "duplicate-rule-id",
                     "duplicate rate limit id " + quote(limit.id) + "; first defined at " +
                         format_location(previous->second->where));
    }
    check_rate_limit_numbers(limit, compiler);
    RateLimitMatchers matchers;
    matchers.backends = compiler.list(limit.backends, "backends", owner, limit.where);
    matchers.tools = compiler.list(limit.tools, "tools", owner, limit.where);
    matchers.principal = compiler.principal(limit.principal, owner, limit.where);
    compiler.check_backends(limit.backends, owner, limit.where);
    compiler.check_prefixed_names(limit.tools, "tool", owner, limit.where);
    compiled.push_back(std::move(matchers));
  }
  return compiled;
}

}  // namespace mcpgw::policy::detail
