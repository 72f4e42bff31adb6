// The CompiledPolicy implementation: rules indexed by literal backend and literal name (internal).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/policy/policy.hpp"
#include "gateway/policy/rule.hpp"

namespace mcpgw::policy::detail {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

// Looked up with a std::string_view: no allocation on the hot path.
template <class T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

// decide() only evaluates the rules that can match the target's kind, backend and name: rules
// whose backends (or names for that kind) are all literals sit in per-literal buckets; the rest
// in "any" buckets. Candidates from the (at most four) buckets are merged in file order, deny
// rules first, so the first match decides.
class IndexedPolicy final : public CompiledPolicy {
 public:
  IndexedPolicy(Effect default_effect, std::vector<CompiledRule> rules);

  Decision decide(const Principal& principal, const Target& target) const override;
  Effect default_effect() const noexcept override { return default_effect_; }
  std::size_t rule_count() const noexcept override { return rules_.size(); }

  const std::vector<CompiledRule>& rules() const noexcept { return rules_; }

 private:
  // Rule indices in file order, deny rules and allow rules apart.
  struct Bucket {
    std::vector<std::uint32_t> deny;
    std::vector<std::uint32_t> allow;
  };
  struct NameIndex {
    StringMap<Bucket> by_name;
    Bucket any_name;
  };
  struct KindIndex {
    StringMap<NameIndex> by_backend;
    NameIndex any_backend;
  };

  void index_rule(const CompiledRule& rule);
  const CompiledRule* first_match(const std::array<const Bucket*, 4>& buckets, Effect effect,
                                  const Principal& principal, const Target& target) const;

  Effect default_effect_;
  std::vector<CompiledRule> rules_;
  std::array<KindIndex, 4> kinds_;  // by TargetKind
};

}  // namespace mcpgw::policy::detail
