// The report model: kind names (the JSON schema's vocabulary), totals and exit codes.
#include <gtest/gtest.h>

#include "replay/model.hpp"

namespace mcpgw::replay {
namespace {

TEST(ReplayModel, EveryKindHasItsDocumentedNameAndParsesBack) {
  const char* names[] = {"tool_added",
                         "tool_removed",
                         "tool_renamed",
                         "prompt_added",
                         "prompt_removed",
                         "prompt_renamed",
                         "resource_added",
                         "resource_removed",
                         "schema_changed",
                         "annotation_changed",
                         "description_changed",
                         "result_changed",
                         "error_changed",
                         "latency_regressed",
                         "server_request_unmatched",
                         "server_request_missing",
                         "target_failed",
                         "not_replayed"};
  for (const char* name : names) {
    const auto kind = parse_difference_kind(name);
    ASSERT_TRUE(kind) << name;
    EXPECT_EQ(to_string(*kind), name);
  }
  EXPECT_FALSE(parse_difference_kind("tool_exploded"));
  EXPECT_EQ(to_string(ErrorChange::success_to_error), "success_to_error");
  EXPECT_EQ(to_string(ErrorChange::none), "");
}

ExchangeOutcome outcome(std::vector<Difference> differences) {
  ExchangeOutcome exchange;
  exchange.method = "tools/call";
  exchange.differences = std::move(differences);
  return exchange;
}

TEST(ReplayModel, TotalsAndExitCodesFollowTheFailOnLevel) {
  Difference changed;
  changed.kind = DifferenceKind::result_changed;
  Difference breaking;
  breaking.kind = DifferenceKind::tool_removed;
  breaking.breaking = true;

  ReplayReport report;
  report.sessions.resize(2);
  report.sessions[0].exchanges.push_back(outcome({}));
  report.sessions[0].exchanges.push_back(outcome({changed}));
  report.sessions[1].exchanges.push_back(outcome({}));
  Totals totals = report.totals();
  EXPECT_EQ(totals.sessions, 2u);
  EXPECT_EQ(totals.exchanges, 3u);
  EXPECT_EQ(totals.identical, 2u);
  EXPECT_EQ(totals.changed, 1u);
  EXPECT_EQ(totals.breaking, 0u);
  EXPECT_EQ(exit_code(report, FailOn::breaking), 0);
  EXPECT_EQ(exit_code(report, FailOn::any), 1);
  EXPECT_EQ(exit_code(report, FailOn::never), 0);

  report.sessions[1].exchanges.push_back(outcome({changed, breaking}));
  totals = report.totals();
  EXPECT_EQ(totals.changed, 2u);
  EXPECT_EQ(totals.breaking, 1u);
  EXPECT_EQ(totals.differences, 3u);
  EXPECT_EQ(exit_code(report, FailOn::breaking), 1);
  EXPECT_EQ(exit_code(report, FailOn::never), 0);

  // Differences beyond the per-exchange bound still make the exchange changed.
  ExchangeOutcome omitted = outcome({});
  omitted.differences_omitted = 4;
  EXPECT_FALSE(omitted.identical());
}

}  // namespace
}  // namespace mcpgw::replay
