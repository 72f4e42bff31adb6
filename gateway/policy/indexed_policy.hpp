// The CompiledPolicy implementation: rules indexed by backend, name, method and subject (internal).
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

// decide() only evaluates the rules that can match the target. Each rule is filed in buckets
// keyed by four dimensions, each either a value or "any":
//   backend   each literal of an all-literal `backends` list, else any
//   name      per pattern of the target kind's list: a literal under the exact name, a pattern
//             with a known literal prefix ("create_*", "re:export_.*") under its first byte,
//             else one with a known literal suffix ("*_admin") under its last byte; a pattern
//             with neither (or a rule listing no kinds) files the rule under any
//   method    each literal of an all-literal `methods` list, else any
//   subject   each literal of an all-literal `subjects` list, else any
// A bucket key is a hash of the kind, the key shape (which dimensions are "any") and the values;
// a hash collision only adds candidates, which are always checked in full. decide() probes only
// the shapes some rule of the target's kind uses, merges the candidate lists (each in file
// order), deny rules first, and the first matching rule decides. Nothing is allocated per call
// apart from the Decision itself.
class IndexedPolicy final : public CompiledPolicy {
 public:
  IndexedPolicy(Effect default_effect, std::vector<CompiledRule> rules);

  Decision decide(const Principal& principal, const Target& target) const override;
  Effect default_effect() const noexcept override { return default_effect_; }
  std::size_t rule_count() const noexcept override { return rules_.size(); }

  const std::vector<CompiledRule>& rules() const noexcept { return rules_; }

  // Key shapes: bit 0 backend literal, bits 1-2 name (0 any, 1 exact, 2 first byte, 3 last
  // byte), bit 3 method literal, bit 4 subject literal.
  static constexpr std::size_t kKeyShapes = 32;

 private:
  // Rule indices in file order, deny rules and allow rules apart.
  struct Bucket {
    std::vector<std::uint32_t> deny;
    std::vector<std::uint32_t> allow;
  };
  struct IdentityHash {
    std::size_t operator()(std::uint64_t key) const noexcept { return key; }
  };
  using Buckets = std::array<const Bucket*, kKeyShapes>;

  void index_rule(const CompiledRule& rule);
  const CompiledRule* first_match(const Buckets& buckets, std::size_t count, Effect effect,
                                  const Principal& principal, const Target& target) const;

  Effect default_effect_;
  std::vector<CompiledRule> rules_;
  std::unordered_map<std::uint64_t, Bucket, IdentityHash> buckets_;
  std::array<std::uint32_t, 4> shapes_in_use_{};  // per TargetKind, one bit per key shape
};

}  // namespace mcpgw::policy::detail
