#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "gateway/policy/analysis.hpp"
#include "gateway/policy/indexed_policy.hpp"
#include "gateway/policy/policy.hpp"
#include "policy_test_support.hpp"

namespace mcpgw::policy {
namespace {

using test::policy;
using test::Rule;
using test::with_rule;

struct Compiled {
  std::shared_ptr<const CompiledPolicy> policy;
  config::Diagnostics diagnostics;
};

Compiled run(const PolicySpec& spec, const CompileContext& context = {}) {
  Compiled result;
  result.policy = compile(spec, context, result.diagnostics);
  return result;
}

// The rule ids of all findings, in order, e.g. {"shadowed-rule"}.
std::vector<std::string> findings(const Compiled& compiled) {
  std::vector<std::string> rules;
  for (const config::Diagnostic& d : compiled.diagnostics.items())
    rules.push_back(d.rule);
  return rules;
}

using Findings = std::vector<std::string>;

TEST(PolicyAnalysis, InvalidPatternIsAnErrorAtThePatternsLocation) {
  PolicySpec spec = policy({Rule("bad").line(7).tools({"ok", "[unterminated"})});
  const Compiled result = run(spec);
  EXPECT_EQ(result.policy, nullptr);
  const auto errors = with_rule(result.diagnostics, "invalid-pattern");
  ASSERT_EQ(errors.size(), 1u) << test::dump(result.diagnostics);
  EXPECT_EQ(errors[0]->severity, config::Severity::error);
  EXPECT_EQ(errors[0]->where.line, 7u);
  EXPECT_EQ(errors[0]->where.column, 16u);  // the second pattern
  EXPECT_NE(errors[0]->message.find("'[unterminated'"), std::string::npos);
  EXPECT_NE(errors[0]->message.find("unterminated character class"), std::string::npos);
  EXPECT_NE(errors[0]->message.find("rule 'bad'"), std::string::npos);
  EXPECT_EQ(errors[0]->message.back() == '.', false);
}

TEST(PolicyAnalysis, MessagesStayOnePrintableLine) {
  const Compiled result = run(policy({
      Rule("control").tools({"line\nbreak["}),
      Rule("binary").tools({"bad\xFFutf8"}),
      Rule("long").tools({std::string(500, 'x') + "["}),
  }));
  const auto errors = with_rule(result.diagnostics, "invalid-pattern");
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0]->message.find("'line\\x0abreak['"), std::string::npos) << errors[0]->message;
  EXPECT_NE(errors[1]->message.find("'bad\\xffutf8'"), std::string::npos) << errors[1]->message;
  EXPECT_NE(errors[2]->message.find("xxx...'"), std::string::npos);
  EXPECT_LT(errors[2]->message.size(), 250u);
  for (const config::Diagnostic* d : errors) {
    EXPECT_EQ(d->message.find('\n'), std::string::npos);
  }
}

TEST(PolicyAnalysis, InvalidPatternsEverywhereAreReported) {
  PolicySpec spec = policy({Rule("r")
                                .methods({"re:("})
                                .backends({""})
                                .subjects({"x\\"})
                                .claim("groups", {"[a"})
                                .scopes({"re:a{5000}"})});
  spec.rate_limits.push_back(RateLimitSpec{});
  spec.rate_limits[0].id = "limit";
  spec.rate_limits[0].requests = 1;
  spec.rate_limits[0].window_ms = 1000;
  spec.rate_limits[0].tools = test::list({"[x"});
  const Compiled result = run(spec);
  EXPECT_EQ(result.policy, nullptr);
  EXPECT_EQ(with_rule(result.diagnostics, "invalid-pattern").size(), 6u)
      << test::dump(result.diagnostics);
  // A rule with errors is left out of the coverage analysis.
  EXPECT_TRUE(with_rule(result.diagnostics, "rule-never-matches").empty());
}

TEST(PolicyAnalysis, HostileRegexIsRejectedCleanly) {
  const Compiled result = run(policy({Rule("evil").tools({"re:((((a{100}){100}){100}){100})"})}));
  EXPECT_EQ(result.policy, nullptr);
  ASSERT_EQ(with_rule(result.diagnostics, "invalid-pattern").size(), 1u);
}

TEST(PolicyAnalysis, UnknownBackendWithSuggestion) {
  const CompileContext context = test::backends_context({"github", "gitlab", "jira"});
  const Compiled typo = run(policy({Rule("r").backends({"githb"})}), context);
  EXPECT_EQ(typo.policy, nullptr);
  const auto errors = with_rule(typo.diagnostics, "unknown-backend");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->message,
            "rule 'r' refers to unknown backend 'githb'; did you mean 'github'?");

  const Compiled far = run(policy({Rule("r").backends({"salesforce"})}), context);
  ASSERT_EQ(with_rule(far.diagnostics, "unknown-backend").size(), 1u);
  EXPECT_EQ(with_rule(far.diagnostics, "unknown-backend")[0]->message.find("did you mean"),
            std::string::npos);

  const Compiled known = run(policy({Rule("r").backends({"jira", "git*"})}), context);
  EXPECT_NE(known.policy, nullptr);
  EXPECT_TRUE(known.diagnostics.items().empty()) << test::dump(known.diagnostics);

  // Without a backend list (a policy-only file) nothing is checked.
  const Compiled fragment = run(policy({Rule("r").backends({"githb"})}));
  EXPECT_NE(fragment.policy, nullptr);
  EXPECT_TRUE(fragment.diagnostics.items().empty());
}

TEST(PolicyAnalysis, BackendPatternMatchingNothingIsAWarning) {
  const CompileContext context = test::backends_context({"github", "jira"});
  const Compiled result = run(policy({Rule("r").backends({"confluence-*"})}), context);
  EXPECT_NE(result.policy, nullptr);
  EXPECT_EQ(findings(result), Findings{"backend-pattern-matches-nothing"});
  EXPECT_EQ(result.diagnostics.items()[0].severity, config::Severity::warning);
}

TEST(PolicyAnalysis, UnknownBackendInRateLimits) {
  PolicySpec spec = policy({});
  RateLimitSpec limit;
  limit.id = "per-backend";
  limit.scope = RateLimitScope::backend;
  limit.requests = 10;
  limit.window_ms = 60000;
  limit.backends = test::list({"jirra"}, 40);
  spec.rate_limits.push_back(limit);
  const Compiled result = run(spec, test::backends_context({"github", "jira"}));
  EXPECT_EQ(result.policy, nullptr);
  const auto errors = with_rule(result.diagnostics, "unknown-backend");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->where.line, 40u);
  EXPECT_EQ(errors[0]->message,
            "rate limit 'per-backend' refers to unknown backend 'jirra'; did you mean 'jira'?");
}

TEST(PolicyAnalysis, PrefixedToolNamesAreFlagged) {
  const CompileContext context = test::backends_context({"github"});
  const Compiled result =
      run(policy({Rule("r").tools({"github__create_issue", "create_pr"})}), context);
  EXPECT_EQ(findings(result), Findings{"prefixed-name"});
  const Compiled clean = run(policy({Rule("r").tools({"gitlab__x", "create_pr"})}), context);
  EXPECT_TRUE(findings(clean).empty());
}

TEST(PolicyAnalysis, ShadowedRuleNamesTheEarlierRule) {
  const Compiled result = run(policy({
      Rule("broad").backends({"gh"}).tools({"create_*"}),
      Rule("narrow").backends({"gh"}).tools({"create_issue"}).subjects({"alice"}),
  }));
  EXPECT_NE(result.policy, nullptr);
  const auto warnings = with_rule(result.diagnostics, "shadowed-rule");
  ASSERT_EQ(warnings.size(), 1u) << test::dump(result.diagnostics);
  EXPECT_EQ(warnings[0]->severity, config::Severity::warning);
  EXPECT_EQ(warnings[0]->where.line, 20u);
  EXPECT_NE(warnings[0]->message.find("'narrow'"), std::string::npos);
  EXPECT_NE(warnings[0]->message.find("'broad' (policy.toml:10)"), std::string::npos);
}

TEST(PolicyAnalysis, ShadowingNeedsTheSameEffectAnEarlierRuleAndCertainCoverage) {
  // Later broader rule: the earlier narrow one still decides its requests.
  EXPECT_TRUE(findings(run(policy({
                           Rule("narrow").tools({"create_issue"}),
                           Rule("broad").tools({"create_*"}),
                       })))
                  .empty());
  // Disjoint names.
  EXPECT_TRUE(findings(run(policy({
                           Rule("create").tools({"create_*"}),
                           Rule("delete").tools({"delete_x"}),
                       })))
                  .empty());
  // A principal constraint on the earlier rule: it does not cover everyone.
  EXPECT_TRUE(findings(run(policy({
                           Rule("alice").tools({"*"}).subjects({"alice"}),
                           Rule("everyone").tools({"x"}),
                       })))
                  .empty());
  // Different backends, different kinds, methods present only on the earlier rule.
  EXPECT_TRUE(findings(run(policy({
                           Rule("gh").backends({"gh"}).tools({"x"}),
                           Rule("jira").backends({"jira"}).tools({"x"}),
                           Rule("prompt").prompts({"x"}),
                           Rule("call").methods({"tools/call"}).tools({"y"}),
                           Rule("y").tools({"y"}),
                       })))
                  .empty());
  // Regexes are only known to cover identical regexes.
  EXPECT_TRUE(findings(run(policy({
                           Rule("re").tools({"re:create_.*"}),
                           Rule("glob").tools({"create_*"}),
                       })))
                  .empty());
  // Kind-less rules apply to "other" too: a tools-only rule never covers them.
  EXPECT_TRUE(findings(run(policy({
                           Rule("tools").tools({"*"}),
                           Rule("everything").backends({"gh"}),
                       })))
                  .empty());
}

TEST(PolicyAnalysis, ShadowingPositiveCases) {
  const auto shadowed = [](std::vector<RuleSpec> rules) {
    const Compiled result = run(policy(std::move(rules)));
    return with_rule(result.diagnostics, "shadowed-rule").size();
  };
  // Absent dimensions cover anything.
  EXPECT_EQ(shadowed({Rule("all").tools({"*"}), Rule("x").backends({"gh"}).tools({"x"})}), 1u);
  // A kind-less rule covers rules of any kind.
  EXPECT_EQ(shadowed({Rule("gh").backends({"gh"}), Rule("p").backends({"gh"}).prompts({"p"})}), 1u);
  // Every pattern of the later list is covered by some earlier pattern.
  EXPECT_EQ(shadowed({Rule("a").tools({"create_*", "list_*"}),
                      Rule("b").tools({"list_files", "create_x*", "create_issue"})}),
            1u);
  // Fewer principal constraints cover more: claims and scopes subsets.
  EXPECT_EQ(
      shadowed(
          {Rule("devs").tools({"t"}).claim("groups", {"devs", "ops"}),
           Rule("devs-acme").tools({"t"}).claim("groups", {"devs"}).claim("tenant", {"acme"})}),
      1u);
  EXPECT_EQ(shadowed({Rule("read").tools({"t"}).scopes({"repo:*"}),
                      Rule("read-write").tools({"t"}).scopes({"repo:read", "openid"})}),
            1u);
  EXPECT_EQ(shadowed({Rule("signed-in").tools({"t"}).authenticated(true),
                      Rule("alice").tools({"t"}).authenticated(true).subjects({"alice"})}),
            1u);
  // Identical rules with the same effect (pattern order and duplicates do not matter).
  EXPECT_EQ(
      shadowed({Rule("one").deny().tools({"a", "b"}), Rule("two").deny().tools({"b", "a", "b"})}),
      1u);
  // Deny rules shadow later deny rules the same way.
  EXPECT_EQ(shadowed({Rule("deny-all-delete").deny().tools({"delete_*"}),
                      Rule("deny-delete-repo").deny().backends({"gh"}).tools({"delete_repo"})}),
            1u);
  // The reverse directions are not shadowed.
  EXPECT_EQ(
      shadowed({Rule("devs-acme").tools({"t"}).claim("groups", {"devs"}).claim("tenant", {"acme"}),
                Rule("devs").tools({"t"}).claim("groups", {"devs", "ops"})}),
      0u);
  EXPECT_EQ(shadowed({Rule("read-write").tools({"t"}).scopes({"repo:read", "openid"}),
                      Rule("read").tools({"t"}).scopes({"repo:*"})}),
            0u);
  EXPECT_EQ(shadowed({Rule("authenticated").tools({"t"}).authenticated(true),
                      Rule("anonymous").tools({"t"}).authenticated(false)}),
            0u);
  EXPECT_EQ(shadowed({Rule("tenant").tools({"t"}).claim("tenant", {"acme"}),
                      Rule("group").tools({"t"}).claim("groups", {"acme"})}),
            0u);
}

TEST(PolicyAnalysis, UnreachableAllowIsCoveredByADenyAnywhereInTheFile) {
  const Compiled result = run(policy({
      Rule("allow-delete").backends({"gh"}).tools({"delete_repo"}),
      Rule("no-deletes").deny().tools({"delete_*"}),
  }));
  EXPECT_NE(result.policy, nullptr);
  EXPECT_EQ(findings(result), Findings{"unreachable-rule"});
  const config::Diagnostic& warning = result.diagnostics.items()[0];
  EXPECT_EQ(warning.where.line, 10u);
  EXPECT_NE(warning.message.find("'allow-delete'"), std::string::npos);
  EXPECT_NE(warning.message.find("'no-deletes' (policy.toml:20)"), std::string::npos);

  // A narrower deny leaves the allow reachable.
  EXPECT_TRUE(findings(run(policy({
                           Rule("allow-delete").tools({"delete_*"}),
                           Rule("no-repo-deletes").deny().tools({"delete_repo"}),
                       })))
                  .empty());
  EXPECT_TRUE(findings(run(policy({
                           Rule("allow").tools({"delete_repo"}),
                           Rule("deny-bob").deny().tools({"delete_*"}).subjects({"bob"}),
                       })))
                  .empty());
}

TEST(PolicyAnalysis, ConflictingRulesAreAnError) {
  const Compiled result = run(policy({
      Rule("allow-x").backends({"gh"}).tools({"b", "a"}).subjects({"alice"}),
      Rule("deny-x").deny().backends({"gh"}).tools({"a", "b", "a"}).subjects({"alice"}),
  }));
  EXPECT_EQ(result.policy, nullptr);
  EXPECT_EQ(findings(result), Findings{"conflicting-rule"}) << test::dump(result.diagnostics);
  const config::Diagnostic& error = result.diagnostics.items()[0];
  EXPECT_EQ(error.severity, config::Severity::error);
  EXPECT_EQ(error.where.line, 20u);
  EXPECT_NE(error.message.find("'deny-x'"), std::string::npos);
  EXPECT_NE(error.message.find("'allow-x' (policy.toml:10)"), std::string::npos);

  // Deny first, then the identical allow.
  const Compiled reversed = run(policy({
      Rule("deny-x").deny().tools({"x"}),
      Rule("allow-x").tools({"x"}),
  }));
  EXPECT_EQ(findings(reversed), Findings{"conflicting-rule"});
  EXPECT_EQ(reversed.diagnostics.items()[0].where.line, 20u);

  // Almost identical: one more tool on the allow side, which still allows "y".
  EXPECT_TRUE(findings(run(policy({
                           Rule("allow").tools({"x", "y"}),
                           Rule("deny").deny().tools({"x"}),
                       })))
                  .empty());
  // Different principal constraints: no conflict.
  EXPECT_TRUE(findings(run(policy({
                           Rule("allow").tools({"x"}).subjects({"alice"}),
                           Rule("deny").deny().tools({"x"}).subjects({"bob"}),
                       })))
                  .empty());
}

TEST(PolicyAnalysis, DuplicateRuleIds) {
  const Compiled result = run(policy({Rule("same").tools({"a"}), Rule("same").tools({"b"})}));
  EXPECT_EQ(result.policy, nullptr);
  const auto errors = with_rule(result.diagnostics, "duplicate-rule-id");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->where.line, 20u);
  EXPECT_NE(errors[0]->message.find("policy.toml:10"), std::string::npos);

  PolicySpec limits = policy({Rule("same").tools({"a"})});
  for (int i = 0; i < 2; ++i) {
    RateLimitSpec limit;
    limit.id = "same";  // rate limits have their own namespace
    limit.requests = 1;
    limit.window_ms = 1;
    limit.where = test::at(static_cast<std::uint32_t>(100 + i));
    limits.rate_limits.push_back(limit);
  }
  const Compiled limit_result = run(limits);
  ASSERT_EQ(with_rule(limit_result.diagnostics, "duplicate-rule-id").size(), 1u);
  EXPECT_EQ(with_rule(limit_result.diagnostics, "duplicate-rule-id")[0]->where.line, 101u);
}

TEST(PolicyAnalysis, NonPositiveRateLimits) {
  const auto limit = [](std::int64_t requests, std::int64_t window_ms, std::int64_t burst) {
    PolicySpec spec = policy({});
    RateLimitSpec l;
    l.id = "l";
    l.requests = requests;
    l.window_ms = window_ms;
    l.burst = burst;
    l.where = test::at(50);
    l.requests_where = test::at(51);
    l.window_where = test::at(52);
    l.burst_where = test::at(53);
    spec.rate_limits.push_back(l);
    return run(spec);
  };
  const Compiled ok = limit(100, 60000, 0);  // burst 0: the same as requests
  EXPECT_NE(ok.policy, nullptr);
  EXPECT_TRUE(ok.diagnostics.items().empty());
  EXPECT_NE(limit(100, 60000, 20).policy, nullptr);

  const Compiled zero_requests = limit(0, 60000, 0);
  EXPECT_EQ(zero_requests.policy, nullptr);
  ASSERT_EQ(findings(zero_requests), Findings{"non-positive-rate-limit"});
  EXPECT_EQ(zero_requests.diagnostics.items()[0].where.line, 51u);

  const Compiled all_bad = limit(-1, 0, -5);
  EXPECT_EQ(with_rule(all_bad.diagnostics, "non-positive-rate-limit").size(), 3u);
  EXPECT_EQ(all_bad.diagnostics.items()[1].where.line, 52u);
  EXPECT_EQ(all_bad.diagnostics.items()[2].where.line, 53u);
}

TEST(PolicyAnalysis, RulesThatCanNeverMatch) {
  const Compiled result = run(policy({
      Rule("empty-tools").tools({}),
      Rule("empty-subjects").subjects({}),
      Rule("one-empty-kind").tools({}).prompts({"p"}),
  }));
  EXPECT_NE(result.policy, nullptr);
  const auto warnings = with_rule(result.diagnostics, "rule-never-matches");
  ASSERT_EQ(warnings.size(), 2u) << test::dump(result.diagnostics);
  EXPECT_NE(warnings[0]->message.find("'tools' list is empty"), std::string::npos);
  EXPECT_NE(warnings[1]->message.find("'subjects' list is empty"), std::string::npos);
  EXPECT_EQ(result.policy->decide(test::user("a"), test::prompt("b", "p")).rule_id,
            "one-empty-kind");
}

TEST(PolicyAnalysis, ComparisonBudgetStopsWithANote) {
  // Pairwise different prefix patterns: every pair is compared, none covers another.
  std::vector<RuleSpec> rules;
  for (int i = 0; i < 50; ++i) {
    rules.push_back(
        Rule("r" + std::to_string(i)).tools({"*"}).subjects({"u" + std::to_string(i) + "-*"}));
  }
  PolicySpec spec = policy(rules);
  config::Diagnostics unlimited;
  auto compiled = compile(spec, CompileContext{}, unlimited);
  ASSERT_NE(compiled, nullptr);
  EXPECT_TRUE(unlimited.items().empty());

  const auto& compiled_rules = dynamic_cast<const detail::IndexedPolicy&>(*compiled).rules();
  config::Diagnostics limited;
  detail::analyse_rules(compiled_rules, std::vector<bool>(compiled_rules.size(), true), limited,
                        detail::AnalysisLimits{100});
  EXPECT_EQ(findings(Compiled{nullptr, limited}), Findings{"analysis-limit"});
  EXPECT_EQ(limited.items()[0].severity, config::Severity::note);
}

TEST(PolicyAnalysis, CandidateBudgetStopsWithANoteToo) {
  // Distinct literal subjects: the cheap filters reject every pair before a full comparison, but
  // looking at the candidates is bounded as well.
  std::vector<RuleSpec> rules;
  for (int i = 0; i < 50; ++i) {
    rules.push_back(Rule("r" + std::to_string(i)).tools({"*"}).subjects({"u" + std::to_string(i)}));
  }
  config::Diagnostics unlimited;
  auto compiled = compile(policy(rules), CompileContext{}, unlimited);
  ASSERT_NE(compiled, nullptr);
  EXPECT_TRUE(unlimited.items().empty());
  const auto& compiled_rules = dynamic_cast<const detail::IndexedPolicy&>(*compiled).rules();
  config::Diagnostics limited;
  detail::analyse_rules(compiled_rules, std::vector<bool>(compiled_rules.size(), true), limited,
                        detail::AnalysisLimits{1000, 100});
  ASSERT_EQ(findings(Compiled{nullptr, limited}), Findings{"analysis-limit"});
  EXPECT_NE(limited.items()[0].message.find("of 100 candidates"), std::string::npos)
      << limited.items()[0].message;
}

TEST(PolicyAnalysis, CompileReturnsNullOnlyForErrors) {
  const Compiled warnings_only = run(policy({
      Rule("a").tools({"*"}),
      Rule("b").tools({"x"}),
  }));
  EXPECT_NE(warnings_only.policy, nullptr);
  EXPECT_FALSE(warnings_only.diagnostics.has_errors());
  EXPECT_EQ(warnings_only.diagnostics.count(config::Severity::warning), 1u);
}

}  // namespace
}  // namespace mcpgw::policy
