// One-line descriptions of every diagnostic rule id, for SARIF's rule metadata. The ids are
// defined where the findings are made (config loader, validator, policy compiler); the golden
// test checks that every id with a file under tests/lint/bad/ is described here.
#pragma once

#include <string_view>
#include <vector>

namespace mcpgw::lint {

struct RuleInfo {
  std::string_view id;
  std::string_view description;
};

// Every described rule, sorted by id.
const std::vector<RuleInfo>& known_rules();

// The description of `id`, or nullptr when the id is not described.
const RuleInfo* find_rule(std::string_view id);

// The description, or a generic sentence for an id not described yet.
std::string_view rule_description(std::string_view id);

}  // namespace mcpgw::lint
