// Static analysis of compiled rules: rules that can never match or never decide (internal).
#pragma once

#include <cstdint>
#include <vector>

#include "gateway/config/diagnostic.hpp"
#include "gateway/policy/rule.hpp"

namespace mcpgw::policy::detail {

struct AnalysisLimits {
  // Pairwise coverage checks before the analysis gives up (with a note): bounds the time a
  // pathological policy (thousands of rules that all share wildcard buckets) can take.
  std::uint64_t max_comparisons = 4'000'000;
  // Candidates looked at (most are rejected by cheap filters before a comparison).
  std::uint64_t max_candidates = 100'000'000;
};

// Reports rule-never-matches, conflicting-rule, unreachable-rule and shadowed-rule. `usable[i]`
// false excludes rules[i] (it had errors, so its compiled matcher is incomplete). Never reports
// a coverage it cannot prove.
void analyse_rules(const std::vector<CompiledRule>& rules, const std::vector<bool>& usable,
                   config::Diagnostics& diagnostics, const AnalysisLimits& limits = {});

}  // namespace mcpgw::policy::detail
