#include "gateway/policy/analysis.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>

#include "gateway/policy/indexed_policy.hpp"

namespace mcpgw::policy::detail {
namespace {

// Coverage candidates are found through buckets. A rule A can only cover a rule B when, in each
// of the backend, name and method dimensions, some pattern q of A covers B's chosen pattern p0.
// Every q is filed under one key that any p0 it covers will probe:
//   literal q                        -> "=q"  (covers only the identical literal)
//   q with a literal prefix "ab..."  -> "^a"  (everything it covers starts with 'a')
//   anything else                    -> "*"
// and B probes "*", "=p0" (p0 literal) and "^<first byte of p0's guaranteed prefix>". An absent
// list is "*" (it covers everything); for names the key carries the kind ('t', 'p', 'r'), and
// rules listing no kinds are "all" (only they can cover other rules listing no kinds).
constexpr std::size_t kMaxKeysPerRule = 64;
constexpr std::size_t kDimensions = 3;  // backend, name, method
const char kKindTags[kNameKinds] = {'t', 'p', 'r'};
constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

using KeyList = std::vector<std::string>;

void insertion_keys(const PatternList& list, char tag, KeyList& keys) {
  const std::string prefix = tag == 0 ? std::string() : std::string(1, tag);
  for (const std::string& literal : list.literals())
    keys.push_back(prefix + "=" + literal);
  for (const Pattern& pattern : list.patterns()) {
    const std::string& guaranteed = pattern.guaranteed_prefix();
    if (pattern.kind() != Pattern::Kind::regex && !guaranteed.empty()) {
      keys.push_back(prefix + "^" + guaranteed.front());
    } else {
      keys.push_back(prefix + "*");
    }
  }
}

void sort_unique(KeyList& keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
}

KeyList list_insertion_keys(const PatternList& list) {
  KeyList keys;
  if (!list.present()) {
    keys.emplace_back("*");
  } else {
    insertion_keys(list, 0, keys);
  }
  sort_unique(keys);
  return keys;
}

KeyList name_insertion_keys(const CompiledRule& rule, bool coarse) {
  KeyList keys;
  if (!rule.lists_kinds) {
    keys.emplace_back("all");
    return keys;
  }
  for (std::size_t kind = 0; kind < kNameKinds; ++kind) {
    const PatternList& list = rule.names[kind];
    if (list.empty())
      continue;
    if (coarse) {
      keys.push_back(std::string(1, kKindTags[kind]) + "*");
    } else {
      insertion_keys(list, kKindTags[kind], keys);
    }
  }
  sort_unique(keys);
  return keys;
}

// Interns key texts to small integers; probes look them up through a reused buffer.
class KeyIds {
 public:
  std::uint32_t intern(const std::string& key) {
    const auto [at, inserted] = ids_.try_emplace(key, static_cast<std::uint32_t>(ids_.size()));
    return at->second;
  }
  std::uint32_t find(std::string_view key) const {
    const auto at = ids_.find(key);
    return at == ids_.end() ? kNone : at->second;
  }

 private:
  StringMap<std::uint32_t> ids_;
};

std::uint64_t combine(std::uint32_t backend, std::uint32_t name, std::uint32_t method) {
  return (static_cast<std::uint64_t>(backend) << 42) | (static_cast<std::uint64_t>(name) << 21) |
         static_cast<std::uint64_t>(method);
}

// What a bucket keeps per rule: enough to reject most candidates without touching the rule.
struct Entry {
  std::uint32_t index;
  std::uint32_t constrained;  // CompiledRule::constrained
  std::uint64_t bloom;        // one bit per principal filter key; 0: no principal filter
};

struct Bucket {
  std::vector<Entry> allow;
  std::vector<Entry> deny;
};

std::uint64_t bloom_bit(std::uint64_t key) {
  return std::uint64_t{1} << (key % 64);
}

// The probe ids of one dimension for rule B: "*", plus "=p0" and "^c" when they exist.
class Prober {
 public:
  explicit Prober(const KeyIds& ids) : ids_(ids) {}

  void probe(const PatternList& list, char tag, std::vector<std::uint32_t>& out) {
    out.clear();
    add(tag, '*', {});
    if (!list.present()) {
      flush(out);
      return;
    }
    if (!list.literals().empty()) {
      const std::string& literal = list.literals().front();
      add(tag, '=', literal);
      add(tag, '^', std::string_view(literal).substr(0, 1));
    } else if (!list.patterns().empty()) {
      const Pattern& pattern = list.patterns().front();
      if (pattern.kind() != Pattern::Kind::regex && !pattern.guaranteed_prefix().empty()) {
        add(tag, '^', std::string_view(pattern.guaranteed_prefix()).substr(0, 1));
      }
    }
    flush(out);
  }

  void probe_names(const CompiledRule& rule, std::vector<std::uint32_t>& out) {
    if (!rule.lists_kinds) {
      out.clear();
      const std::uint32_t all = ids_.find("all");
      if (all != kNone)
        out.push_back(all);
      return;
    }
    for (std::size_t kind = 0; kind < kNameKinds; ++kind) {
      if (rule.names[kind].empty())
        continue;
      probe(rule.names[kind], kKindTags[kind], out);
      break;
    }
    const std::uint32_t all = ids_.find("all");
    if (all != kNone)
      out.push_back(all);
  }

 private:
  void add(char tag, char kind, std::string_view text) {
    buffer_.clear();
    if (tag != 0)
      buffer_ += tag;
    buffer_ += kind;
    buffer_.append(text);
    const std::uint32_t id = ids_.find(buffer_);
    if (id != kNone)
      pending_.push_back(id);
  }
  void flush(std::vector<std::uint32_t>& out) {
    out.insert(out.end(), pending_.begin(), pending_.end());
    pending_.clear();
  }

  const KeyIds& ids_;
  std::string buffer_;
  std::vector<std::uint32_t> pending_;
};

// A cheap necessary condition for "A covers B" that does not touch A's compiled rule: A keeps the
// literal values of one literal-only principal list (subjects, api_keys, cert_subjects or a
// claim); B's key set holds every literal value of all its principal lists. If A covers B, B's
// list for that same dimension consists only of literals from A's list, so they share a key.
struct CoverFilter {
  std::uint32_t constrained = 0;
  std::uint8_t key_count = 0;  // 0: no principal filter
  std::array<std::uint64_t, 4> keys{};
};

std::uint64_t principal_key(char dimension, std::string_view claim, std::string_view value) {
  const std::hash<std::string_view> hash;
  std::uint64_t key = hash(value);
  key ^= hash(claim) + 0x9e3779b97f4a7c15ULL + (key << 6) + (key >> 2);
  return key ^ (static_cast<std::uint64_t>(static_cast<unsigned char>(dimension)) << 56);
}

template <class Visit>
void for_each_principal_list(const PrincipalMatcher& principal, Visit&& visit) {
  visit('s', std::string_view(), principal.subjects);
  visit('k', std::string_view(), principal.api_keys);
  visit('c', std::string_view(), principal.cert_subjects);
  for (const ClaimMatcher& claim : principal.claims)
    visit('l', claim.claim, claim.values);
}

CoverFilter make_filter(const CompiledRule& rule) {
  CoverFilter filter;
  filter.constrained = rule.constrained;
  const PatternList* best = nullptr;
  char best_dimension = 0;
  std::string_view best_claim;
  for_each_principal_list(
      rule.principal, [&](char dimension, std::string_view claim, const PatternList& list) {
        if (!list.present() || !list.patterns().empty() || list.literals().empty() ||
            list.literals().size() > filter.keys.size()) {
          return;
        }
        if (best == nullptr || list.literals().size() < best->literals().size()) {
          best = &list;
          best_dimension = dimension;
          best_claim = claim;
        }
      });
  if (best != nullptr) {
    for (const std::string& literal : best->literals()) {
      filter.keys[filter.key_count++] = principal_key(best_dimension, best_claim, literal);
    }
  }
  return filter;
}

void principal_keys(const CompiledRule& rule, std::vector<std::uint64_t>& keys) {
  keys.clear();
  for_each_principal_list(rule.principal,
                          [&](char dimension, std::string_view claim, const PatternList& list) {
                            for (const std::string& literal : list.literals()) {
                              keys.push_back(principal_key(dimension, claim, literal));
                            }
                          });
  std::sort(keys.begin(), keys.end());
}

bool passes(const CoverFilter& filter, const CompiledRule& covered,
            const std::vector<std::uint64_t>& covered_keys) {
  if ((filter.constrained & ~covered.constrained) != 0)
    return false;
  for (std::uint8_t i = 0; i < filter.key_count; ++i) {
    if (std::binary_search(covered_keys.begin(), covered_keys.end(), filter.keys[i]))
      return true;
  }
  return filter.key_count == 0;
}

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
    std::uint32_t first_allow = kNone;
    std::uint32_t first_deny = kNone;
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

  // Coverage buckets, keyed by interned (backend, name, method) keys.
  std::vector<CoverFilter> filters(count);
  KeyIds ids;
  std::unordered_map<std::uint64_t, Bucket> buckets;
  buckets.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!eligible[i])
      continue;
    const CompiledRule& rule = rules[i];
    std::array<KeyList, kDimensions> keys = {list_insertion_keys(rule.backends),
                                             name_insertion_keys(rule, false),
                                             list_insertion_keys(rule.methods)};
    bool names_coarse = false;
    while (keys[0].size() * keys[1].size() * keys[2].size() > kMaxKeysPerRule) {
      // Coarser keys for the widest dimension: still correct, just more candidates.
      std::size_t widest = 0;
      for (std::size_t d = 1; d < kDimensions; ++d) {
        if (keys[d].size() > keys[widest].size())
          widest = d;
      }
      if (widest == 1 && !names_coarse) {
        keys[1] = name_insertion_keys(rule, true);
        names_coarse = true;
      } else {
        keys[widest].assign(1, "*");
      }
    }
    filters[i] = make_filter(rule);
    Entry entry{rule.index, rule.constrained, 0};
    for (std::uint8_t k = 0; k < filters[i].key_count; ++k)
      entry.bloom |= bloom_bit(filters[i].keys[k]);
    std::array<std::vector<std::uint32_t>, kDimensions> key_ids;
    for (std::size_t d = 0; d < kDimensions; ++d) {
      for (const std::string& key : keys[d])
        key_ids[d].push_back(ids.intern(key));
    }
    for (const std::uint32_t backend : key_ids[0]) {
      for (const std::uint32_t name : key_ids[1]) {
        for (const std::uint32_t method : key_ids[2]) {
          Bucket& bucket = buckets[combine(backend, name, method)];
          (rule.effect == Effect::allow ? bucket.allow : bucket.deny).push_back(entry);
        }
      }
    }
  }

  const auto describe = [](const CompiledRule& rule) {
    return "rule " + quote_for_message(rule.id) + " (" + format_location(rule.where) + ")";
  };

  std::uint64_t comparisons = 0;
  std::uint64_t candidates = 0;
  bool stopped = false;
  Prober prober(ids);
  std::array<std::vector<std::uint32_t>, kDimensions> probes;
  std::vector<const Bucket*> found;
  std::vector<std::uint32_t> checked_for(count, kNone);  // dedupe across buckets
  std::vector<std::uint64_t> covered_keys;

  std::uint64_t covered_bloom = 0;
  // Whether `a` covers `b`, counting against the budget; nullopt when the budget ran out.
  const auto check = [&](const Entry& a, const CompiledRule& b) -> std::optional<bool> {
    if (++candidates > limits.max_candidates)
      return std::nullopt;
    if ((a.constrained & ~b.constrained) != 0)
      return false;
    if (a.bloom != 0 && (a.bloom & covered_bloom) == 0)
      return false;
    if (checked_for[a.index] == b.index)
      return false;  // already checked (and not covering) through another bucket
    checked_for[a.index] = b.index;
    if (!passes(filters[a.index], b, covered_keys))
      return false;
    if (++comparisons > limits.max_comparisons)
      return std::nullopt;
    return rules[a.index].covers(b);
  };

  for (std::size_t b = 0; b < count; ++b) {
    if (!usable[b])
      continue;
    const CompiledRule& rule = rules[b];
    if (never_reason[b]) {
      diagnostics.warning(
          rule.where, "rule-never-matches",
          "rule " + quote_for_message(rule.id) + " can never match: " + *never_reason[b]);
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
                        std::string(to_string(rule.effect)) + " rule " +
                            quote_for_message(rule.id) + " has the same matchers as " +
                            to_string(other.effect) + " " + describe(other) +
                            "; the deny always wins");
    }
    if (stopped)
      continue;

    principal_keys(rule, covered_keys);
    covered_bloom = 0;
    for (const std::uint64_t key : covered_keys)
      covered_bloom |= bloom_bit(key);
    prober.probe(rule.backends, 0, probes[0]);
    prober.probe_names(rule, probes[1]);
    prober.probe(rule.methods, 0, probes[2]);
    found.clear();
    for (const std::uint32_t backend : probes[0]) {
      for (const std::uint32_t name : probes[1]) {
        for (const std::uint32_t method : probes[2]) {
          const auto at = buckets.find(combine(backend, name, method));
          if (at != buckets.end())
            found.push_back(&at->second);
        }
      }
    }

    // An allow rule with an identical deny is already reported as a conflict.
    const bool want_unreachable = rule.effect == Effect::allow && same.first_deny == kNone;
    const CompiledRule* unreachable_by = nullptr;
    if (want_unreachable) {
      for (const Bucket* bucket : found) {
        for (const Entry& a : bucket->deny) {
          const std::optional<bool> covers = check(a, rule);
          if (!covers) {
            stopped = true;
            break;
          }
          if (*covers) {
            unreachable_by = &rules[a.index];
            break;
          }
        }
        if (stopped || unreachable_by != nullptr)
          break;
      }
    }
    // The earliest earlier rule with the same effect that covers this one.
    std::uint32_t shadowed_by = kNone;
    if (!stopped && unreachable_by == nullptr) {
      for (const Bucket* bucket : found) {
        const std::vector<Entry>& same_effect =
            rule.effect == Effect::allow ? bucket->allow : bucket->deny;
        for (const Entry& a : same_effect) {
          if (a.index >= rule.index || a.index >= shadowed_by)
            break;
          const std::optional<bool> covers = check(a, rule);
          if (!covers) {
            stopped = true;
            break;
          }
          if (*covers) {
            shadowed_by = a.index;
            break;
          }
        }
        if (stopped)
          break;
      }
    }
    if (stopped) {
      diagnostics.note(rule.where, "analysis-limit",
                       "stopped checking for shadowed and unreachable rules at rule " +
                           quote_for_message(rule.id) + " after " +
                           std::to_string(std::min(comparisons, limits.max_comparisons)) +
                           " comparisons of " +
                           std::to_string(std::min(candidates, limits.max_candidates)) +
                           " candidates; later findings are not reported");
      continue;
    }
    if (unreachable_by != nullptr) {
      diagnostics.warning(rule.where, "unreachable-rule",
                          "allow rule " + quote_for_message(rule.id) + " can never allow: deny " +
                              describe(*unreachable_by) +
                              " matches everything it matches, and deny overrides allow");
    } else if (shadowed_by != kNone) {
      diagnostics.warning(rule.where, "shadowed-rule",
                          std::string(to_string(rule.effect)) + " rule " +
                              quote_for_message(rule.id) + " is shadowed by earlier " +
                              describe(rules[shadowed_by]) +
                              ", which matches everything it matches with the same effect");
    }
  }
}

}  // namespace mcpgw::policy::detail
