#include "gateway/policy/indexed_policy.hpp"

#include <algorithm>
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

// Where a rule is filed in the name dimension for one kind. A rule matches when any of its
// patterns does, so each pattern files it separately: literals under the exact name, patterns
// with a known literal prefix under its first byte, else those with a known literal suffix under
// its last byte. One pattern without either ("*", "*x*") files the whole rule under "any".
struct NameKeys {
  bool any = true;
  std::vector<std::string_view> exact;
  std::vector<unsigned char> first_bytes;
  std::vector<unsigned char> last_bytes;
  std::size_t size() const { return exact.size() + first_bytes.size() + last_bytes.size(); }
  void clear() {
    any = true;
    exact.clear();
    first_bytes.clear();
    last_bytes.clear();
  }
};

void sort_unique(std::vector<unsigned char>& bytes) {
  std::sort(bytes.begin(), bytes.end());
  bytes.erase(std::unique(bytes.begin(), bytes.end()), bytes.end());
}

NameKeys name_keys(const CompiledRule& rule, TargetKind kind) {
  NameKeys keys;
  if (!rule.lists_kinds)
    return keys;
  const PatternList& list = rule.names[static_cast<std::size_t>(kind)];
  keys.any = false;
  keys.exact.assign(list.literals().begin(), list.literals().end());
  for (const Pattern& pattern : list.patterns()) {
    if (!pattern.guaranteed_prefix().empty()) {
      keys.first_bytes.push_back(static_cast<unsigned char>(pattern.guaranteed_prefix().front()));
    } else if (!pattern.guaranteed_suffix().empty()) {
      keys.last_bytes.push_back(static_cast<unsigned char>(pattern.guaranteed_suffix().back()));
    } else {
      keys.clear();
      return keys;
    }
  }
  sort_unique(keys.first_bytes);
  sort_unique(keys.last_bytes);
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
    // Empty key lists mean "any".
    std::vector<std::string_view> backends = literal_keys(rule.backends);
    NameKeys names = name_keys(rule, kind);
    std::vector<std::string_view> methods = literal_keys(rule.methods);
    const auto at_least_one = [](std::size_t n) { return std::max<std::size_t>(n, 1); };
    while (at_least_one(backends.size()) * at_least_one(names.size()) *
               at_least_one(methods.size()) >
           kMaxBucketsPerRule) {
      if (names.size() >= backends.size() && names.size() >= methods.size()) {
        names.clear();
      } else if (backends.size() >= methods.size()) {
        backends.clear();
      } else {
        methods.clear();
      }
    }
    const auto push = [&](Bucket& bucket) {
      (rule.effect == Effect::deny ? bucket.deny : bucket.allow).push_back(rule.index);
    };
    const auto file_by_method = [&](MethodIndex& index) {
      if (methods.empty()) {
        push(index.any_method);
      } else {
        for (const std::string_view method : methods)
          push(index.by_method[std::string(method)]);
      }
    };
    const auto file_by_name = [&](NameIndex& index) {
      if (names.any) {
        file_by_method(index.any_name);
        return;
      }
      for (const std::string_view name : names.exact) {
        file_by_method(index.by_name[std::string(name)]);
      }
      for (const unsigned char byte : names.first_bytes)
        file_by_method(index.by_first_byte[byte]);
      for (const unsigned char byte : names.last_bytes)
        file_by_method(index.by_last_byte[byte]);
    };
    KindIndex& by_kind = kinds_[static_cast<std::size_t>(kind)];
    if (backends.empty()) {
      file_by_name(by_kind.any_backend);
    } else {
      for (const std::string_view backend : backends) {
        file_by_name(by_kind.by_backend[std::string(backend)]);
      }
    }
  }
}

const CompiledRule* IndexedPolicy::first_match(const Buckets& buckets, Effect effect,
                                               const Principal& principal,
                                               const Target& target) const {
  // Merge the candidate lists (each in file order) and stop at the first rule that matches.
  std::array<std::span<const std::uint32_t>, kMaxBuckets> lists;
  std::size_t count = 0;
  for (const Bucket* bucket : buckets) {
    if (bucket == nullptr)
      continue;
    const std::vector<std::uint32_t>& list = effect == Effect::deny ? bucket->deny : bucket->allow;
    if (!list.empty())
      lists[count++] = list;
  }
  if (count == 1) {  // the common case needs no merging
    for (const std::uint32_t index : lists[0]) {
      if (rules_[index].matches(principal, target))
        return &rules_[index];
    }
    return nullptr;
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
  Buckets buckets{};
  std::size_t used = 0;
  const auto add_methods = [&](const MethodIndex& methods) {
    if (!target.method.empty() && !methods.by_method.empty()) {
      const auto found = methods.by_method.find(std::string_view(target.method));
      if (found != methods.by_method.end())
        buckets[used++] = &found->second;
    }
    buckets[used++] = &methods.any_method;
  };
  const auto add_names = [&](const NameIndex& names) {
    if (!target.name.empty()) {
      if (!names.by_name.empty()) {
        const auto found = names.by_name.find(std::string_view(target.name));
        if (found != names.by_name.end())
          add_methods(found->second);
      }
      if (!names.by_first_byte.empty()) {
        const auto first =
            names.by_first_byte.find(static_cast<unsigned char>(target.name.front()));
        if (first != names.by_first_byte.end())
          add_methods(first->second);
      }
      if (!names.by_last_byte.empty()) {
        const auto last = names.by_last_byte.find(static_cast<unsigned char>(target.name.back()));
        if (last != names.by_last_byte.end())
          add_methods(last->second);
      }
    }
    add_methods(names.any_name);
  };
  if (!target.backend.empty()) {
    const auto found = by_kind.by_backend.find(std::string_view(target.backend));
    if (found != by_kind.by_backend.end())
      add_names(found->second);
  }
  add_names(by_kind.any_backend);

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
