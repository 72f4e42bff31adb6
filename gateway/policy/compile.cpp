// policy::compile(): pattern validation, backend checks, rate limit checks, rule analysis and the
// indexed decision function.
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/policy/analysis.hpp"
#include "gateway/policy/indexed_policy.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/policy/rule.hpp"
#include "gateway/policy/spec_compiler.hpp"

namespace mcpgw::policy {
namespace {

using detail::CompiledRule;

std::string quote(std::string_view text) {
  return detail::quote_for_message(text);
}

std::string rule_owner(const RuleSpec& rule) {
  return "rule " + quote(rule.id);
}

}  // namespace

const char* to_string(Effect effect) noexcept {
  return effect == Effect::allow ? "allow" : "deny";
}

const char* to_string(TargetKind kind) noexcept {
  switch (kind) {
    case TargetKind::tool:
      return "tool";
    case TargetKind::prompt:
      return "prompt";
    case TargetKind::resource:
      return "resource";
    case TargetKind::other:
      return "other";
  }
  return "other";
}

std::shared_ptr<const CompiledPolicy> compile(const PolicySpec& spec, const CompileContext& context,
                                              config::Diagnostics& diagnostics) {
  detail::SpecCompiler compiler(context, diagnostics);
  std::vector<CompiledRule> rules;
  rules.reserve(spec.rules.size());
  std::vector<bool> usable;
  usable.reserve(spec.rules.size());
  std::unordered_map<std::string_view, const RuleSpec*> rule_ids;
  rule_ids.reserve(spec.rules.size());

  for (const RuleSpec& written : spec.rules) {
    const std::size_t errors_before = compiler.errors();
    const std::string owner = rule_owner(written);
    const auto [previous, inserted] = rule_ids.emplace(written.id, &written);
    if (!inserted) {
      compiler.error(written.where, "duplicate-rule-id",
                     "duplicate rule id " + quote(written.id) + "; first defined at " +
                         detail::format_location(previous->second->where));
    }
    CompiledRule rule;
    rule.index = static_cast<std::uint32_t>(rules.size());
    rule.id = written.id;
    rule.effect = written.effect;
    rule.where = written.where;
    rule.methods = compiler.list(written.methods, "methods", owner, written.where);
    rule.backends = compiler.list(written.backends, "backends", owner, written.where);
    rule.names[static_cast<std::size_t>(TargetKind::tool)] =
        compiler.list(written.tools, "tools", owner, written.where);
    rule.names[static_cast<std::size_t>(TargetKind::prompt)] =
        compiler.list(written.prompts, "prompts", owner, written.where);
    rule.names[static_cast<std::size_t>(TargetKind::resource)] =
        compiler.list(written.resources, "resources", owner, written.where);
    rule.principal = compiler.principal(written.principal, owner, written.where);
    rule.finish();
    compiler.check_backends(written.backends, owner, written.where);
    compiler.check_prefixed_names(written.tools, "tool", owner, written.where);
    compiler.check_prefixed_names(written.prompts, "prompt", owner, written.where);
    usable.push_back(compiler.errors() == errors_before);
    rules.push_back(std::move(rule));
  }

  // Compiled for validation; the rate limiter compiles its own (compile_rate_limits).
  detail::compile_rate_limit_matchers(spec.rate_limits, compiler);

  const std::size_t errors_before_analysis = diagnostics.count(config::Severity::error);
  detail::analyse_rules(rules, usable, diagnostics);
  const bool analysis_found_errors =
      diagnostics.count(config::Severity::error) != errors_before_analysis;
  if (compiler.errors() > 0 || analysis_found_errors)
    return nullptr;
  return std::make_shared<const detail::IndexedPolicy>(spec.default_effect, std::move(rules));
}

}  // namespace mcpgw::policy
