// Compiled rule matchers shared by the decision function and the static analysis (internal).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/policy/pattern.hpp"
#include "gateway/policy/policy.hpp"

namespace mcpgw::policy::detail {

// A present list matches a non-empty value when any of its patterns does; an absent list matches
// anything; an empty value (an attribute the principal or target does not have) never matches a
// present list.
class PatternList {
 public:
  void set_present() noexcept { present_ = true; }
  void add(const Pattern& pattern);  // marks the list present
  void finish();                     // sorts and removes duplicates; call after the last add()

  bool present() const noexcept { return present_; }
  bool empty() const noexcept { return literals_.empty() && patterns_.empty(); }
  // Present but without any pattern: matches nothing.
  bool matches_nothing() const noexcept { return present_ && empty(); }
  bool matches(std::string_view value) const noexcept;
  // Every value `other` matches is matched here (conservative, see Pattern::covers).
  bool covers(const PatternList& other) const noexcept;

  const std::vector<std::string>& literals() const noexcept { return literals_; }
  const std::vector<Pattern>& patterns() const noexcept { return patterns_; }
  bool has_any() const noexcept { return has_any_; }
  std::size_t size() const noexcept { return literals_.size() + patterns_.size(); }
  // Order- and duplicate-insensitive text, equal for lists that match the same values.
  void append_canonical(std::string& out) const;

 private:
  bool present_ = false;
  bool has_any_ = false;
  std::vector<std::string> literals_;  // sorted, unique
  std::vector<Pattern> patterns_;      // non-literal, sorted by canonical form, unique
};

// claims = { "realm_access.roles" = [...] }: the claim is looked up first as a top-level key
// with exactly that name (so "https://example.com/groups" works), then as a dotted path.
struct ClaimMatcher {
  std::string claim;
  std::vector<std::string> path;
  PatternList values;

  const nlohmann::json* resolve(const nlohmann::json& claims) const noexcept;
  bool matches(const nlohmann::json& claims) const noexcept;
};

struct PrincipalMatcher {
  PatternList subjects;
  PatternList api_keys;
  PatternList cert_subjects;
  std::vector<ClaimMatcher> claims;  // sorted by claim name, then values
  std::vector<Pattern> scopes;       // sorted by canonical form, unique
  std::optional<bool> authenticated;

  bool matches(const Principal& principal) const noexcept;
  bool covers(const PrincipalMatcher& other) const noexcept;
  void append_canonical(std::string& out) const;
};

// "file:line" for messages that point at another place ("policy.toml:12").
std::string format_location(const SourceLocation& where);

// 'text' for messages: control characters and invalid UTF-8 escaped as \xNN, at most 80 bytes
// of it shown (messages stay one printable line whatever the policy contains).
std::string quote_for_message(std::string_view text);

inline constexpr std::size_t kNameKinds = 3;  // tool, prompt, resource (TargetKind order)

// Bits of CompiledRule::constrained: a rule can only cover another that constrains at least the
// same dimensions.
enum ConstraintBit : std::uint32_t {
  kMethods = 1u << 0,
  kBackends = 1u << 1,
  kKinds = 1u << 2,
  kSubjects = 1u << 3,
  kApiKeys = 1u << 4,
  kCertSubjects = 1u << 5,
  kClaims = 1u << 6,
  kScopes = 1u << 7,
  kAuthenticated = 1u << 8,
};

struct CompiledRule {
  std::uint32_t index = 0;  // position in the file order
  std::string id;
  Effect effect = Effect::allow;
  SourceLocation where;
  PatternList methods;
  PatternList backends;
  bool lists_kinds = false;  // any of tools / prompts / resources present
  std::array<PatternList, kNameKinds> names;
  PrincipalMatcher principal;
  std::uint32_t constrained = 0;

  void finish();  // computes `constrained`
  // Whether the rule can match some target of this kind at all.
  bool applies_to(TargetKind kind) const noexcept;
  bool matches(const Principal& principal, const Target& target) const noexcept;
  // Every (principal, target) that `other` matches is matched by this rule.
  bool covers(const CompiledRule& other) const noexcept;
  // The effect-independent matcher, equal for rules with identical matchers.
  std::string canonical_matcher() const;
  // Why the rule can never match anything ("its 'tools' list is empty"), or nullopt.
  std::optional<std::string> never_matches_reason() const;
};

}  // namespace mcpgw::policy::detail
