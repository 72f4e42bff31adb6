#include "gateway/lint/rules.hpp"

#include <algorithm>

namespace mcpgw::lint {

const std::vector<RuleInfo>& known_rules() {
  static const std::vector<RuleInfo> rules = [] {
    std::vector<RuleInfo> list{
        {"io-error", "A file could not be read"},
        {"policy-test-failed", "A policy decision test did not get the expected decision"},
        {"unknown-key", "A key that the configuration format does not define"},
    };
    std::sort(list.begin(), list.end(),
              [](const RuleInfo& a, const RuleInfo& b) { return a.id < b.id; });
    return list;
  }();
  return rules;
}

const RuleInfo* find_rule(std::string_view id) {
  const auto& rules = known_rules();
  const auto found =
      std::lower_bound(rules.begin(), rules.end(), id,
                       [](const RuleInfo& rule, std::string_view key) { return rule.id < key; });
  if (found == rules.end() || found->id != id)
    return nullptr;
  return &*found;
}

std::string_view rule_description(std::string_view id) {
  const RuleInfo* rule = find_rule(id);
  if (rule != nullptr)
    return rule->description;
  return "An mcpgw configuration or policy finding";
}

}  // namespace mcpgw::lint
