// Policy decision tests, in the spirit of `opa test`: cases with an expected decision.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gateway/policy/policy.hpp"

namespace mcpgw::policy {

struct TestCase {
  std::string name;
  Principal principal;
  Target target;
  Effect expect = Effect::deny;
  std::optional<std::string> expect_rule;  // "" expects the default to decide
  SourceLocation where;                    // the [[case]] header
};

struct TestOutcome {
  const TestCase* test_case = nullptr;
  Decision actual;
  bool passed = false;
};

std::vector<TestOutcome> run_tests(const CompiledPolicy& policy,
                                   const std::vector<TestCase>& cases);

}  // namespace mcpgw::policy
