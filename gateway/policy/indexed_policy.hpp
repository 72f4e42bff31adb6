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

// decide() only evaluates the rules that can match the target's kind, backend, name and method.
// Per dimension a rule is filed under its literal values when they are all literals, else
//   names: under the first bytes of its patterns when every pattern has a known literal prefix
//          ("create_*", "re:export_.*"), else under their last bytes when every pattern has a
//          known literal suffix ("*_admin"),
// else under "any". Candidates from the (at most sixteen) buckets a target can reach are merged
// in file order, deny rules first, so the first matching rule decides. Nothing is allocated per
// call apart from the Decision itself.
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
  struct MethodIndex {
    StringMap<Bucket> by_method;
    Bucket any_method;
  };
  struct NameIndex {
    StringMap<MethodIndex> by_name;
    std::unordered_map<unsigned char, MethodIndex> by_first_byte;
    std::unordered_map<unsigned char, MethodIndex> by_last_byte;
    MethodIndex any_name;
  };
  struct KindIndex {
    StringMap<NameIndex> by_backend;
    NameIndex any_backend;
  };
  static constexpr std::size_t kMaxBuckets = 16;
  using Buckets = std::array<const Bucket*, kMaxBuckets>;

  void index_rule(const CompiledRule& rule);
  const CompiledRule* first_match(const Buckets& buckets, Effect effect, const Principal& principal,
                                  const Target& target) const;

  Effect default_effect_;
  std::vector<CompiledRule> rules_;
  std::array<KindIndex, 4> kinds_;  // by TargetKind
};

}  // namespace mcpgw::policy::detail
