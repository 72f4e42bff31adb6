#include "gateway/policy/analysis.hpp"

#include <algorithm>
#include <limits>
#include <span>
#include <string>
#include <unordered_map>

#include "gateway/policy/indexed_policy.hpp"

namespace mcpgw::policy::detail {
namespace {

// Coverage candidates are found through buckets. A rule A can only cover a rule B when, in each
// of the backend and name dimensions, some pattern q of A covers B's chosen pattern p0. Every q
// is filed under one key that any p0 it covers will probe:
//   literal q          -> "=q"          (covers only the identical literal)
//   q with a literal prefix "ab..." -> "^a" (everything it covers starts with 'a')
//   anything else      -> "*"
// and B probes "*", "=p0" (p0 literal) and "^<first byte of p0's guaranteed prefix>".
// An absent list is "*" (it covers everything); rules listing no kinds are "all".
constexpr std::size_t kMaxKeysPerRule = 64;
constexpr char kKeySeparator = '\x1f';
const char kKindTags[kNameKinds] = {'t', 'p', 'r'};

void insertion_keys(const PatternList& list, std::string_view tag, std::vector<std::string>& keys) {
  for (const std::string& literal : list.literals()) {
    keys.push_back(std::string(tag) + "=" + literal);
  }
  for (const Pattern& pattern : list.patterns()) {
    const std::string& prefix = pattern.guaranteed_prefix();
    if (pattern.kind() != Pattern::Kind::regex && !prefix.empty()) {
      keys.push_back(std::string(tag) + "^" + prefix.front());
    } else {
      keys.push_back(std::string(tag) + "*");
    }
  }
}

void probe_keys(const PatternList& list, std::string_view tag, std::vector<std::string>& keys) {
  keys.push_back(std::string(tag) + "*");
  if (!list.literals().empty()) {
    const std::string& literal = list.literals().front();
    keys.push_back(std::string(tag) + "=" + literal);
    keys.push_back(std::string(tag) + "^" + literal.front());
  } else if (!list.patterns().empty()) {
    const Pattern& pattern = list.patterns().front();
    if (pattern.kind() != Pattern::Kind::regex && !pattern.guaranteed_prefix().empty()) {
      keys.push_back(std::string(tag) + "^" + pattern.guaranteed_prefix().front());
    }
  }
}

void sort_unique(std::vector<std::string>& keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
}

std::vector<std::string> backend_insertion_keys(const CompiledRule& rule) {
  std::vector<std::string> keys;
  if (!rule.backends.present()) {
    keys.emplace_back("*");
  } else {
    insertion_keys(rule.backends, "", keys);
  }
  sort_unique(keys);
  return keys;
}

std::vector<std::string> name_insertion_keys(const CompiledRule& rule, bool coarse) {
  std::vector<std::string> keys;
  if (!rule.lists_kinds) {
    keys.emplace_back("all");
    return keys;
  }
  for (std::size_t kind = 0; kind < kNameKinds; ++kind) {
    const PatternList& list = rule.names[kind];
    if (list.empty())
      continue;
    const std::string_view tag(&kKindTags[kind], 1);
    if (coarse) {
      keys.push_back(std::string(tag) + "*");
    } else {
      insertion_keys(list, tag, keys);
    }
  }
  sort_unique(keys);
  return keys;
}

std::string bucket_key(std::string_view backend_key, std::string_view name_key) {
  std::string key;
  key.reserve(backend_key.size() + 1 + name_key.size());
  key.append(backend_key);
  key += kKeySeparator;
  key.append(name_key);
  return key;
}

// Merges sorted, possibly overlapping index lists into one ascending sequence without repeats.
class MergedCandidates {
 public:
  void clear() { lists_.clear(); }
  void add(const std::vector<std::uint32_t>& list) {
    if (!list.empty())
      lists_.emplace_back(list);
  }
  // Returns the next index, or max() at the end.
  std::uint32_t next() {
    std::uint32_t smallest = std::numeric_limits<std::uint32_t>::max();
    for (const auto& list : lists_) {
      if (!list.empty() && list.front() < smallest)
        smallest = list.front();
    }
    for (auto& list : lists_) {
      if (!list.empty() && list.front() == smallest)
        list = list.subspan(1);
    }
    return smallest;
  }

 private:
  std::vector<std::span<const std::uint32_t>> lists_;
};

}  // namespace

void analyse_rules(const std::vector<CompiledRule>& rules, const std::vector<bool>& usable,
                   config::Diagnostics& diagnostics, const AnalysisLimits& limits) {
  const std::size_t count = rules.size();
  // Rules that take part in the coverage analysis.
  std::vector<bool> eligible(count, false);
  std::vector<std::optional<std::string>> never_reason(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!usable[i])
      continue;
    never_reason[i] = rules[i].never_matches_reason();
    eligible[i] = !never_reason[i].has_value();
  }

  // Identical matchers: the first allow and the first deny of each canonical form.
  struct Identical {
    std::uint32_t first_allow = std::numeric_limits<std::uint32_t>::max();
    std::uint32_t first_deny = std::numeric_limits<std::uint32_t>::max();
  };
  std::unordered_map<std::string, Identical> identical;
  std::vector<const Identical*> identical_of(count, nullptr);
  identical.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!eligible[i])
      continue;
    Identical& entry = identical[rules[i].canonical_matcher()];
    std::uint32_t& first = rules[i].effect == Effect::allow ? entry.first_allow : entry.first_deny;
    first = std::min(first, rules[i].index);
    identical_of[i] = &entry;
  }

  // Coverage buckets.
  StringMap<std::vector<std::uint32_t>> buckets;
  for (std::size_t i = 0; i < count; ++i) {
    if (!eligible[i])
      continue;
    const CompiledRule& rule = rules[i];
    std::vector<std::string> backend_keys = backend_insertion_keys(rule);
    std::vector<std::string> name_keys = name_insertion_keys(rule, false);
    if (backend_keys.size() * name_keys.size() > kMaxKeysPerRule) {
      if (backend_keys.size() >= name_keys.size()) {
        backend_keys.assign(1, "*");
      }
      if (backend_keys.size() * name_keys.size() > kMaxKeysPerRule) {
        name_keys = name_insertion_keys(rule, true);
      }
    }
    for (const std::string& backend_key : backend_keys) {
      for (const std::string& name_key : name_keys) {
        buckets[bucket_key(backend_key, name_key)].push_back(rule.index);
      }
    }
  }

  const auto describe = [](const CompiledRule& rule) {
    return "rule '" + rule.id + "' (" + format_location(rule.where) + ")";
  };

  std::uint64_t comparisons = 0;
  bool stopped = false;
  MergedCandidates candidates;
  std::vector<std::string> backend_probes;
  std::vector<std::string> name_probes;
  constexpr std::uint32_t kEnd = std::numeric_limits<std::uint32_t>::max();

  for (std::size_t b = 0; b < count; ++b) {
    if (!usable[b])
      continue;
    const CompiledRule& rule = rules[b];
    if (never_reason[b]) {
      diagnostics.warning(rule.where, "rule-never-matches",
                          "rule '" + rule.id + "' can never match: " + *never_reason[b]);
      continue;
    }
    const Identical& same = *identical_of[b];
    const std::uint32_t opposite_first =
        rule.effect == Effect::allow ? same.first_deny : same.first_allow;
    const std::uint32_t own_first =
        rule.effect == Effect::allow ? same.first_allow : same.first_deny;
    if (own_first == rule.index && opposite_first < rule.index) {
      const CompiledRule& other = rules[opposite_first];
      diagnostics.error(rule.where, "conflicting-rule",
                        std::string(to_string(rule.effect)) + " rule '" + rule.id +
                            "' has the same matchers as " + to_string(other.effect) + " " +
                            describe(other) + "; the deny always wins");
    }
    if (stopped)
      continue;

    // An allow rule with an identical deny is already reported as a conflict.
    const bool want_unreachable = rule.effect == Effect::allow && same.first_deny == kEnd;

    backend_probes.clear();
    name_probes.clear();
    if (rule.backends.present()) {
      probe_keys(rule.backends, "", backend_probes);
    } else {
      backend_probes.emplace_back("*");
    }
    name_probes.emplace_back("all");
    if (rule.lists_kinds) {
      for (std::size_t kind = 0; kind < kNameKinds; ++kind) {
        if (rule.names[kind].empty())
          continue;
        probe_keys(rule.names[kind], std::string_view(&kKindTags[kind], 1), name_probes);
        break;
      }
    }
    candidates.clear();
    for (const std::string& backend_probe : backend_probes) {
      for (const std::string& name_probe : name_probes) {
        const auto found = buckets.find(bucket_key(backend_probe, name_probe));
        if (found != buckets.end())
          candidates.add(found->second);
      }
    }

    const CompiledRule* unreachable_by = nullptr;
    const CompiledRule* shadowed_by = nullptr;
    for (std::uint32_t a = candidates.next(); a != kEnd; a = candidates.next()) {
      if (a == rule.index)
        continue;
      const CompiledRule& other = rules[a];
      const bool check_unreachable =
          want_unreachable && unreachable_by == nullptr && other.effect == Effect::deny;
      const bool check_shadow =
          shadowed_by == nullptr && a < rule.index && other.effect == rule.effect;
      if (!check_unreachable && !check_shadow) {
        // Past this rule only an unreachable-making deny can still matter.
        if (a > rule.index && !(want_unreachable && unreachable_by == nullptr))
          break;
        continue;
      }
      if ((other.constrained & ~rule.constrained) != 0)
        continue;
      if (++comparisons > limits.max_comparisons) {
        stopped = true;
        diagnostics.note(rule.where, "analysis-limit",
                         "stopped checking for shadowed and unreachable rules at rule '" + rule.id +
                             "' after " + std::to_string(limits.max_comparisons) +
                             " comparisons; later findings are not reported");
        break;
      }
      if (!other.covers(rule))
        continue;
      if (check_unreachable) {
        unreachable_by = &other;
        break;
      }
      shadowed_by = &other;
      if (!want_unreachable)
        break;
    }
    if (stopped)
      continue;
    if (unreachable_by != nullptr) {
      diagnostics.warning(rule.where, "unreachable-rule",
                          "allow rule '" + rule.id + "' can never allow: deny " +
                              describe(*unreachable_by) +
                              " matches everything it matches, and deny overrides allow");
    } else if (shadowed_by != nullptr) {
      diagnostics.warning(rule.where, "shadowed-rule",
                          std::string(to_string(rule.effect)) + " rule '" + rule.id +
                              "' is shadowed by earlier " + describe(*shadowed_by) +
                              ", which matches everything it matches with the same effect");
    }
  }
}

}  // namespace mcpgw::policy::detail
