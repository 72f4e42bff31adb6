#include "gateway/policy/indexed_policy.hpp"

#include <algorithm>
#include <limits>
#include <span>

namespace mcpgw::policy::detail {
namespace {

// A rule with many literal backends, names, methods and subjects would need the product of all
// of them in buckets; beyond this it is indexed more coarsely (still correct: candidates are
// re-checked in full).
constexpr std::size_t kMaxBucketsPerRule = 64;

constexpr std::array<TargetKind, 4> kAllKinds = {TargetKind::tool, TargetKind::prompt,
                                                 TargetKind::resource, TargetKind::other};

enum NameShape : unsigned { kNameAny = 0, kNameExact = 1, kNameFirstByte = 2, kNameLastByte = 3 };

constexpr unsigned shape_of(bool backend, unsigned name, bool method, bool subject) {
  return (backend ? 1u : 0u) | (name << 1) | (method ? 8u : 0u) | (subject ? 16u : 0u);
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint64_t text_hash(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

std::uint64_t bucket_key(TargetKind kind, unsigned shape, std::uint64_t backend, std::uint64_t name,
                         std::uint64_t method, std::uint64_t subject) {
  std::uint64_t key = mix((static_cast<std::uint64_t>(kind) << 8) | shape);
  key = mix(key ^ backend);
  key = mix(key ^ name);
  key = mix(key ^ method);
  return mix(key ^ subject);
}

// The literals of an all-literal list, or nothing ("any").
std::vector<std::string_view> literal_keys(const PatternList& list) {
  std::vector<std::string_view> keys;
  if (!list.present() || !list.patterns().empty())
    return keys;
  keys.assign(list.literals().begin(), list.literals().end());
  return keys;
}

// Where a rule is filed in the name dimension for one kind (see indexed_policy.hpp).
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
    std::vector<std::string_view> subjects = literal_keys(rule.principal.subjects);
    const auto at_least_one = [](std::size_t n) { return std::max<std::size_t>(n, 1); };
    while (at_least_one(backends.size()) * at_least_one(names.size()) *
               at_least_one(methods.size()) * at_least_one(subjects.size()) >
           kMaxBucketsPerRule) {
      const std::size_t widest =
          std::max({backends.size(), names.size(), methods.size(), subjects.size()});
      if (names.size() == widest) {
        names.clear();
      } else if (backends.size() == widest) {
        backends.clear();
      } else if (subjects.size() == widest) {
        subjects.clear();
      } else {
        methods.clear();
      }
    }

    // Each dimension as (shape part, value hash) pairs.
    using Part = std::pair<unsigned, std::uint64_t>;
    const auto parts_of = [](const std::vector<std::string_view>& literals) {
      std::vector<Part> parts;
      for (const std::string_view literal : literals)
        parts.emplace_back(1u, text_hash(literal));
      if (parts.empty())
        parts.emplace_back(0u, 0);
      return parts;
    };
    const std::vector<Part> backend_parts = parts_of(backends);
    const std::vector<Part> method_parts = parts_of(methods);
    const std::vector<Part> subject_parts = parts_of(subjects);
    std::vector<Part> name_parts;
    if (names.any) {
      name_parts.emplace_back(kNameAny, 0);
    } else {
      for (const std::string_view name : names.exact) {
        name_parts.emplace_back(kNameExact, text_hash(name));
      }
      for (const unsigned char byte : names.first_bytes)
        name_parts.emplace_back(kNameFirstByte, byte);
      for (const unsigned char byte : names.last_bytes)
        name_parts.emplace_back(kNameLastByte, byte);
    }

    for (const Part& backend : backend_parts) {
      for (const Part& name : name_parts) {
        for (const Part& method : method_parts) {
          for (const Part& subject : subject_parts) {
            const unsigned shape =
                shape_of(backend.first != 0, name.first, method.first != 0, subject.first != 0);
            Bucket& bucket = buckets_[bucket_key(kind, shape, backend.second, name.second,
                                                 method.second, subject.second)];
            std::vector<std::uint32_t>& list =
                rule.effect == Effect::deny ? bucket.deny : bucket.allow;
            // A rule reaches the same bucket twice only through a hash collision.
            if (list.empty() || list.back() != rule.index)
              list.push_back(rule.index);
            shapes_in_use_[static_cast<std::size_t>(kind)] |= 1u << shape;
          }
        }
      }
    }
  }
}

const CompiledRule* IndexedPolicy::first_match(const Buckets& buckets, std::size_t count,
                                               Effect effect, const Principal& principal,
                                               const Target& target) const {
  // Merge the candidate lists (each in file order) and stop at the first rule that matches.
  std::array<std::span<const std::uint32_t>, kKeyShapes> lists;
  std::size_t used = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::vector<std::uint32_t>& list =
        effect == Effect::deny ? buckets[i]->deny : buckets[i]->allow;
    if (!list.empty())
      lists[used++] = list;
  }
  if (used == 1) {  // the common case needs no merging
    for (const std::uint32_t index : lists[0]) {
      if (rules_[index].matches(principal, target))
        return &rules_[index];
    }
    return nullptr;
  }
  constexpr std::uint32_t kDone = std::numeric_limits<std::uint32_t>::max();
  while (true) {
    std::uint32_t next = kDone;
    for (std::size_t i = 0; i < used; ++i) {
      if (!lists[i].empty() && lists[i].front() < next)
        next = lists[i].front();
    }
    if (next == kDone)
      return nullptr;
    for (std::size_t i = 0; i < used; ++i) {
      if (!lists[i].empty() && lists[i].front() == next)
        lists[i] = lists[i].subspan(1);
    }
    const CompiledRule& rule = rules_[next];
    if (rule.matches(principal, target))
      return &rule;
  }
}

Decision IndexedPolicy::decide(const Principal& principal, const Target& target) const {
  const std::uint32_t shapes = shapes_in_use_[static_cast<std::size_t>(target.kind)];
  const std::string& name = target.name;
  // Hash each value once, only when some shape needs it.
  const auto needed = [&](unsigned mask) { return (shapes & mask) != 0; };
  std::uint32_t backend_shapes = 0;
  std::uint32_t name_shapes[4] = {0, 0, 0, 0};
  std::uint32_t method_shapes = 0;
  std::uint32_t subject_shapes = 0;
  for (unsigned shape = 0; shape < kKeyShapes; ++shape) {
    const std::uint32_t bit = 1u << shape;
    if ((shape & 1u) != 0)
      backend_shapes |= bit;
    name_shapes[(shape >> 1) & 3u] |= bit;
    if ((shape & 8u) != 0)
      method_shapes |= bit;
    if ((shape & 16u) != 0)
      subject_shapes |= bit;
  }
  const std::uint64_t backend_hash =
      !target.backend.empty() && needed(backend_shapes) ? text_hash(target.backend) : 0;
  const std::uint64_t name_hash =
      !name.empty() && needed(name_shapes[kNameExact]) ? text_hash(name) : 0;
  const std::uint64_t method_hash =
      !target.method.empty() && needed(method_shapes) ? text_hash(target.method) : 0;
  const std::uint64_t subject_hash =
      !principal.subject.empty() && needed(subject_shapes) ? text_hash(principal.subject) : 0;

  Buckets buckets{};
  std::size_t count = 0;
  for (unsigned shape = 0; shape < kKeyShapes; ++shape) {
    if ((shapes & (1u << shape)) == 0)
      continue;
    const bool by_backend = (shape & 1u) != 0;
    const unsigned name_shape = (shape >> 1) & 3u;
    const bool by_method = (shape & 8u) != 0;
    const bool by_subject = (shape & 16u) != 0;
    // An empty value never matches a present list, so those buckets cannot hold a match.
    if ((by_backend && target.backend.empty()) || (name_shape != kNameAny && name.empty()) ||
        (by_method && target.method.empty()) || (by_subject && principal.subject.empty())) {
      continue;
    }
    std::uint64_t name_value = 0;
    if (name_shape == kNameExact) {
      name_value = name_hash;
    } else if (name_shape == kNameFirstByte) {
      name_value = static_cast<unsigned char>(name.front());
    } else if (name_shape == kNameLastByte) {
      name_value = static_cast<unsigned char>(name.back());
    }
    const auto found =
        buckets_.find(bucket_key(target.kind, shape, by_backend ? backend_hash : 0, name_value,
                                 by_method ? method_hash : 0, by_subject ? subject_hash : 0));
    if (found != buckets_.end())
      buckets[count++] = &found->second;
  }

  Decision decision;
  if (const CompiledRule* rule = first_match(buckets, count, Effect::deny, principal, target)) {
    decision.effect = Effect::deny;
    decision.rule_id = rule->id;
    decision.rule_where = rule->where;
  } else if (const CompiledRule* allowing =
                 first_match(buckets, count, Effect::allow, principal, target)) {
    decision.effect = Effect::allow;
    decision.rule_id = allowing->id;
    decision.rule_where = allowing->where;
  } else {
    decision.effect = default_effect_;
  }
  return decision;
}

}  // namespace mcpgw::policy::detail
