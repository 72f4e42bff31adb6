#include "replay/model.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace mcpgw::replay {
namespace {

constexpr std::array<std::pair<DifferenceKind, std::string_view>, 18> kKindNames{{
    {DifferenceKind::tool_added, "tool_added"},
    {DifferenceKind::tool_removed, "tool_removed"},
    {DifferenceKind::tool_renamed, "tool_renamed"},
    {DifferenceKind::prompt_added, "prompt_added"},
    {DifferenceKind::prompt_removed, "prompt_removed"},
    {DifferenceKind::prompt_renamed, "prompt_renamed"},
    {DifferenceKind::resource_added, "resource_added"},
    {DifferenceKind::resource_removed, "resource_removed"},
    {DifferenceKind::schema_changed, "schema_changed"},
    {DifferenceKind::annotation_changed, "annotation_changed"},
    {DifferenceKind::description_changed, "description_changed"},
    {DifferenceKind::result_changed, "result_changed"},
    {DifferenceKind::error_changed, "error_changed"},
    {DifferenceKind::latency_regressed, "latency_regressed"},
    {DifferenceKind::server_request_unmatched, "server_request_unmatched"},
    {DifferenceKind::server_request_missing, "server_request_missing"},
    {DifferenceKind::target_failed, "target_failed"},
    {DifferenceKind::not_replayed, "not_replayed"},
}};

}  // namespace

std::string_view to_string(DifferenceKind kind) {
  for (const auto& [value, name] : kKindNames) {
    if (value == kind)
      return name;
  }
  return "result_changed";
}

std::string_view to_string(ErrorChange change) {
  switch (change) {
    case ErrorChange::none:
      return "";
    case ErrorChange::success_to_error:
      return "success_to_error";
    case ErrorChange::error_to_success:
      return "error_to_success";
    case ErrorChange::error_code_changed:
      return "error_code_changed";
  }
  return "";
}

std::optional<DifferenceKind> parse_difference_kind(std::string_view name) {
  for (const auto& [value, known] : kKindNames) {
    if (known == name)
      return value;
  }
  return std::nullopt;
}

bool ExchangeOutcome::breaking() const {
  return std::any_of(differences.begin(), differences.end(),
                     [](const Difference& difference) { return difference.breaking; });
}

Totals ReplayReport::totals() const {
  Totals totals;
  totals.sessions = sessions.size();
  for (const auto& session : sessions) {
    for (const auto& exchange : session.exchanges) {
      ++totals.exchanges;
      totals.differences += exchange.differences.size() + exchange.differences_omitted;
      if (exchange.identical()) {
        ++totals.identical;
        continue;
      }
      ++totals.changed;
      if (exchange.breaking())
        ++totals.breaking;
    }
  }
  return totals;
}

int exit_code(const ReplayReport& report, FailOn fail_on) {
  const Totals totals = report.totals();
  switch (fail_on) {
    case FailOn::breaking:
      return totals.breaking > 0 ? 1 : 0;
    case FailOn::any:
      return totals.changed > 0 ? 1 : 0;
    case FailOn::never:
      return 0;
  }
  return 0;
}

}  // namespace mcpgw::replay
