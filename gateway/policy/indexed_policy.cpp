#include "gateway/policy/indexed_policy.hpp"

#include <limits>
#include <span>

namespace mcpgw::policy::detail {
namespace {

// A rule with many literal backends and many literal names would need the product of both in
// buckets; beyond this it is indexed more coarsely (still correct: candidates are re-checked).
constexpr std::size_t kMaxBucketsPerRule = 64;

constexpr std::array<TargetKind, 4> kAllKinds = {TargetKind::tool, TargetKind::prompt,
                                                 TargetKind::resource, TargetKind::other};

// The literal keys of a list, or an empty vector meaning "any bucket".
std::vector<std::string_view> literal_keys(const PatternList& list) {
  std::vector<std::string_view> keys;
  if (!list.present() || !list.patterns().empty())
    return keys;
  keys.assign(list.literals().begin(), list.literals().end());
  return keys;
}

}  // namespace

IndexedPolicy::IndexedPolicy(Effect default_effect, std::vector<CompiledRule> rules)
    : default_effect_(default_effect), rules_(std::move(rules)) {
  for (const CompiledRule& rule : rules_) {
    if (rule.never_matches_reason())
      continue;
    index_rule(rule);
  }
}

void IndexedPolicy::index_rule(const CompiledRule& rule) {
  for (const TargetKind kind : kAllKinds) {
    if (!rule.applies_to(kind))
      continue;
    std::vector<std::string_view> backend_keys = literal_keys(rule.backends);
    std::vector<std::string_view> name_keys;
    if (rule.lists_kinds)
      name_keys = literal_keys(rule.names[static_cast<std::size_t>(kind)]);
    while (std::max<std::size_t>(backend_keys.size(), 1) *
               std::max<std::size_t>(name_keys.size(), 1) >
           kMaxBucketsPerRule) {
      (backend_keys.size() >= name_keys.size() ? backend_keys : name_keys).clear();
    }
    KindIndex& by_kind = kinds_[static_cast<std::size_t>(kind)];
    const auto add_to = [&](NameIndex& names) {
      const auto push = [&](Bucket& bucket) {
        (rule.effect == Effect::deny ? bucket.deny : bucket.allow).push_back(rule.index);
      };
      if (name_keys.empty()) {
        push(names.any_name);
      } else {
        for (const std::string_view name : name_keys)
          push(names.by_name[std::string(name)]);
      }
    };
    if (backend_keys.empty()) {
      add_to(by_kind.any_backend);
    } else {
      for (const std::string_view backend : backend_keys) {
        add_to(by_kind.by_backend[std::string(backend)]);
      }
    }
  }
}

const CompiledRule* IndexedPolicy::first_match(const std::array<const Bucket*, 4>& buckets,
                                               Effect effect, const Principal& principal,
                                               const Target& target) const {
  // Merge the candidate lists (each in file order) and stop at the first rule that matches.
  std::array<std::span<const std::uint32_t>, 4> lists;
  std::size_t count = 0;
  for (const Bucket* bucket : buckets) {
    if (bucket == nullptr)
      continue;
    const std::vector<std::uint32_t>& list = effect == Effect::deny ? bucket->deny : bucket->allow;
    if (!list.empty())
      lists[count++] = list;
  }
  constexpr std::uint32_t kDone = std::numeric_limits<std::uint32_t>::max();
  while (true) {
    std::uint32_t next = kDone;
    for (std::size_t i = 0; i < count; ++i) {
      if (!lists[i].empty() && lists[i].front() < next)
        next = lists[i].front();
    }
    if (next == kDone)
      return nullptr;
    for (std::size_t i = 0; i < count; ++i) {
      if (!lists[i].empty() && lists[i].front() == next)
        lists[i] = lists[i].subspan(1);
    }
    const CompiledRule& rule = rules_[next];
    if (rule.matches(principal, target))
      return &rule;
  }
}

Decision IndexedPolicy::decide(const Principal& principal, const Target& target) const {
  const KindIndex& by_kind = kinds_[static_cast<std::size_t>(target.kind)];
  std::array<const Bucket*, 4> buckets{};
  const auto collect = [&](const NameIndex& names, std::size_t slot) {
    if (!target.name.empty()) {
      const auto found = names.by_name.find(std::string_view(target.name));
      if (found != names.by_name.end())
        buckets[slot] = &found->second;
    }
    buckets[slot + 1] = &names.any_name;
  };
  if (!target.backend.empty()) {
    const auto found = by_kind.by_backend.find(std::string_view(target.backend));
    if (found != by_kind.by_backend.end())
      collect(found->second, 0);
  }
  collect(by_kind.any_backend, 2);

  Decision decision;
  if (const CompiledRule* rule = first_match(buckets, Effect::deny, principal, target)) {
    decision.effect = Effect::deny;
    decision.rule_id = rule->id;
    decision.rule_where = rule->where;
  } else if (const CompiledRule* allowing =
                 first_match(buckets, Effect::allow, principal, target)) {
    decision.effect = Effect::allow;
    decision.rule_id = allowing->id;
    decision.rule_where = allowing->where;
  } else {
    decision.effect = default_effect_;
  }
  return decision;
}

}  // namespace mcpgw::policy::detail
