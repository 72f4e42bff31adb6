// Builders for PolicySpec values in policy tests (no TOML involved).
#pragma once

#include <algorithm>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gateway/config/diagnostic.hpp"
#include "gateway/policy/policy.hpp"
#include "gateway/policy/spec.hpp"

namespace mcpgw::policy::test {

inline constexpr const char* kPolicyFile = "policy.toml";

inline SourceLocation at(std::uint32_t line, std::uint32_t column = 1) {
  return SourceLocation{kPolicyFile, line, column};
}

inline PatternListSpec list(const std::vector<std::string>& texts, std::uint32_t line = 0) {
  PatternListSpec spec;
  spec.present = true;
  spec.where = at(line);
  std::uint32_t column = 10;
  for (const std::string& text : texts) {
    spec.patterns.push_back(PatternSpec{text, at(line, column)});
    column += static_cast<std::uint32_t>(text.size()) + 4;
  }
  return spec;
}

class Rule {
 public:
  explicit Rule(std::string id, Effect effect = Effect::allow) {
    spec_.id = std::move(id);
    spec_.effect = effect;
  }
  Rule& allow() { return effect(Effect::allow); }
  Rule& deny() { return effect(Effect::deny); }
  Rule& effect(Effect value) {
    spec_.effect = value;
    return *this;
  }
  Rule& line(std::uint32_t value) {
    spec_.where = at(value);
    return *this;
  }
  Rule& methods(const std::vector<std::string>& v) { return set(spec_.methods, v); }
  Rule& backends(const std::vector<std::string>& v) { return set(spec_.backends, v); }
  Rule& tools(const std::vector<std::string>& v) { return set(spec_.tools, v); }
  Rule& prompts(const std::vector<std::string>& v) { return set(spec_.prompts, v); }
  Rule& resources(const std::vector<std::string>& v) { return set(spec_.resources, v); }
  Rule& subjects(const std::vector<std::string>& v) { return set(spec_.principal.subjects, v); }
  Rule& api_keys(const std::vector<std::string>& v) { return set(spec_.principal.api_keys, v); }
  Rule& cert_subjects(const std::vector<std::string>& v) {
    return set(spec_.principal.cert_subjects, v);
  }
  Rule& claim(std::string name, const std::vector<std::string>& values) {
    ClaimMatcherSpec claim_spec;
    claim_spec.claim = std::move(name);
    claim_spec.values = list(values, spec_.where.line);
    claim_spec.where = spec_.where;
    spec_.principal.claims.push_back(std::move(claim_spec));
    return *this;
  }
  Rule& scopes(const std::vector<std::string>& values) {
    for (const std::string& value : values) {
      spec_.principal.scopes.push_back(PatternSpec{value, spec_.where});
    }
    return *this;
  }
  Rule& authenticated(bool value) {
    spec_.principal.authenticated = value;
    return *this;
  }
  operator RuleSpec() const { return spec_; }
  const RuleSpec& spec() const { return spec_; }

 private:
  Rule& set(PatternListSpec& target, const std::vector<std::string>& values) {
    target = list(values, spec_.where.line);
    return *this;
  }
  RuleSpec spec_;
};

// Rules get lines 10, 20, 30... unless they set one (set it before adding patterns).
inline PolicySpec policy(std::vector<RuleSpec> rules, Effect default_effect = Effect::deny) {
  PolicySpec spec;
  spec.default_effect = default_effect;
  spec.default_where = at(2);
  std::uint32_t line = 10;
  for (RuleSpec& rule : rules) {
    if (rule.where.line == 0)
      rule.where = at(line);
    line += 10;
  }
  spec.rules = std::move(rules);
  return spec;
}

inline CompileContext backends_context(std::vector<std::string> names) {
  CompileContext context;
  context.backends_known = true;
  context.backends = std::move(names);
  return context;
}

inline Target tool(std::string backend, std::string name, std::string method = "tools/call") {
  return Target{std::move(method), std::move(backend), TargetKind::tool, std::move(name)};
}
inline Target prompt(std::string backend, std::string name) {
  return Target{"prompts/get", std::move(backend), TargetKind::prompt, std::move(name)};
}
inline Target resource(std::string backend, std::string uri) {
  return Target{"resources/read", std::move(backend), TargetKind::resource, std::move(uri)};
}
inline Target other(std::string method, std::string backend = "") {
  return Target{std::move(method), std::move(backend), TargetKind::other, ""};
}

inline Principal user(std::string subject) {
  Principal principal;
  principal.authenticated = true;
  principal.subject = std::move(subject);
  return principal;
}

inline std::vector<const config::Diagnostic*> with_rule(const config::Diagnostics& diagnostics,
                                                        const std::string& rule) {
  std::vector<const config::Diagnostic*> found;
  for (const config::Diagnostic& d : diagnostics.items()) {
    if (d.rule == rule)
      found.push_back(&d);
  }
  return found;
}

inline std::string dump(const config::Diagnostics& diagnostics) {
  std::string text;
  for (const config::Diagnostic& d : diagnostics.items()) {
    text += d.where.file + ":" + std::to_string(d.where.line) + ":" +
            std::to_string(d.where.column) + ": " + config::to_string(d.severity) + ": " +
            d.message + " [" + d.rule + "]\n";
  }
  return text;
}

}  // namespace mcpgw::policy::test
