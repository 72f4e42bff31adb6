#include "gateway/policy/testing.hpp"

namespace mcpgw::policy {

std::vector<TestOutcome> run_tests(const CompiledPolicy& policy,
                                   const std::vector<TestCase>& cases) {
  std::vector<TestOutcome> outcomes;
  outcomes.reserve(cases.size());
  for (const TestCase& test_case : cases) {
    TestOutcome outcome;
    outcome.test_case = &test_case;
    outcome.actual = policy.decide(test_case.principal, test_case.target);
    outcome.passed = outcome.actual.effect == test_case.expect &&
                     (!test_case.expect_rule || outcome.actual.rule_id == *test_case.expect_rule);
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace mcpgw::policy
