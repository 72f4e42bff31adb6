#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "gateway/policy/policy.hpp"
#include "gateway/policy/testing.hpp"
#include "policy_test_support.hpp"

namespace mcpgw::policy {
namespace {

using test::other;
using test::policy;
using test::prompt;
using test::resource;
using test::Rule;
using test::tool;
using test::user;

std::shared_ptr<const CompiledPolicy> must_compile(const PolicySpec& spec,
                                                   const CompileContext& context = {}) {
  config::Diagnostics diagnostics;
  auto compiled = compile(spec, context, diagnostics);
  EXPECT_NE(compiled, nullptr) << test::dump(diagnostics);
  EXPECT_FALSE(diagnostics.has_errors()) << test::dump(diagnostics);
  return compiled;
}

// "allowed" or "denied", plus the deciding rule.
std::string outcome(const CompiledPolicy& compiled, const Principal& who, const Target& what) {
  const Decision decision = compiled.decide(who, what);
  return std::string(to_string(decision.effect)) + ":" + decision.rule_id;
}

TEST(PolicyDecide, DefaultDecidesWhenNothingMatches) {
  auto deny_default = must_compile(policy({Rule("only-x").tools({"x"})}, Effect::deny));
  const Decision denied = deny_default->decide(user("alice"), tool("gh", "y"));
  EXPECT_EQ(denied.effect, Effect::deny);
  EXPECT_TRUE(denied.by_default());

  auto allow_default = must_compile(policy({Rule("no-x").deny().tools({"x"})}, Effect::allow));
  const Decision allowed = allow_default->decide(user("alice"), tool("gh", "y"));
  EXPECT_EQ(allowed.effect, Effect::allow);
  EXPECT_TRUE(allowed.by_default());
  EXPECT_EQ(allow_default->default_effect(), Effect::allow);
  EXPECT_EQ(allow_default->rule_count(), 1u);

  auto empty = must_compile(policy({}, Effect::deny));
  EXPECT_EQ(outcome(*empty, user("a"), tool("gh", "x")), "deny:");
}

TEST(PolicyDecide, DenyOverridesAllowAndTheFirstRuleInFileOrderDecides) {
  auto compiled = must_compile(policy({
      Rule("allow-all-gh").backends({"gh"}),
      Rule("allow-create").backends({"gh"}).tools({"create_*"}),
      Rule("deny-delete").deny().tools({"delete_*"}),
      Rule("deny-delete-repo").deny().backends({"gh"}).tools({"delete_repo"}),
  }));
  EXPECT_EQ(outcome(*compiled, user("a"), tool("gh", "create_issue")), "allow:allow-all-gh");
  // The allow comes first in the file, but any deny wins; the first matching deny decides.
  EXPECT_EQ(outcome(*compiled, user("a"), tool("gh", "delete_repo")), "deny:deny-delete");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("other", "delete_x")), "deny:deny-delete");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("other", "create_x")), "deny:");

  const Decision decision = compiled->decide(user("a"), tool("gh", "delete_repo"));
  EXPECT_EQ(decision.rule_where.line, 30u);
  EXPECT_EQ(decision.rule_where.file, test::kPolicyFile);
}

TEST(PolicyDecide, MethodsAndBackends) {
  auto compiled = must_compile(policy({
      Rule("logging").methods({"logging/setLevel"}),
      Rule("lists").methods({"*/list"}).backends({"gh", "git*"}),
  }));
  EXPECT_EQ(outcome(*compiled, user("a"), other("logging/setLevel")), "allow:logging");
  EXPECT_EQ(outcome(*compiled, user("a"), other("logging/other")), "deny:");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("gh", "x", "tools/list")), "allow:lists");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("gitlab", "x", "tools/list")), "allow:lists");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("jira", "x", "tools/list")), "deny:");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("gh", "x", "tools/call")), "deny:");
  // A present backends list never matches a request the gateway answers itself (no backend).
  EXPECT_EQ(outcome(*compiled, user("a"), other("tools/list")), "deny:");
}

TEST(PolicyDecide, KindsRestrictRulesAndRulesWithoutKindsApplyToEveryKind) {
  auto compiled = must_compile(policy({
      Rule("tools").tools({"search"}),
      Rule("prompts").prompts({"summarize"}),
      Rule("resources").resources({"file:///srv/*"}),
      Rule("method-level").methods({"completion/complete"}),
  }));
  EXPECT_EQ(outcome(*compiled, user("a"), tool("b", "search")), "allow:tools");
  EXPECT_EQ(outcome(*compiled, user("a"), prompt("b", "search")), "deny:");
  EXPECT_EQ(outcome(*compiled, user("a"), prompt("b", "summarize")), "allow:prompts");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("b", "summarize")), "deny:");
  EXPECT_EQ(outcome(*compiled, user("a"), resource("b", "file:///srv/a/b")), "allow:resources");
  EXPECT_EQ(outcome(*compiled, user("a"), resource("b", "file:///etc/passwd")), "deny:");
  // Rules that list kinds never match kind "other".
  EXPECT_EQ(outcome(*compiled, user("a"), other("search")), "deny:");
  EXPECT_EQ(outcome(*compiled, user("a"), other("completion/complete", "b")), "allow:method-level");
  Target completion_for_prompt = prompt("b", "anything");
  completion_for_prompt.method = "completion/complete";
  EXPECT_EQ(outcome(*compiled, user("a"), completion_for_prompt), "allow:method-level");

  // A rule listing two kinds matches either, each with its own names.
  auto mixed = must_compile(policy({Rule("both").tools({"t1"}).prompts({"p1"})}));
  EXPECT_EQ(outcome(*mixed, user("a"), tool("b", "t1")), "allow:both");
  EXPECT_EQ(outcome(*mixed, user("a"), prompt("b", "p1")), "allow:both");
  EXPECT_EQ(outcome(*mixed, user("a"), tool("b", "p1")), "deny:");
  EXPECT_EQ(outcome(*mixed, user("a"), resource("b", "t1")), "deny:");
}

TEST(PolicyDecide, SubjectsApiKeysAndCertSubjects) {
  auto compiled = must_compile(policy({
      Rule("by-subject").tools({"s"}).subjects({"alice", "team-*"}),
      Rule("by-key").tools({"k"}).api_keys({"ci-*"}),
      Rule("by-cert").tools({"c"}).cert_subjects({"CN=svc,*"}),
      Rule("any-subject").tools({"any"}).subjects({"*"}),
  }));
  EXPECT_EQ(outcome(*compiled, user("alice"), tool("b", "s")), "allow:by-subject");
  EXPECT_EQ(outcome(*compiled, user("team-x"), tool("b", "s")), "allow:by-subject");
  EXPECT_EQ(outcome(*compiled, user("bob"), tool("b", "s")), "deny:");

  Principal ci;
  ci.authenticated = true;
  ci.api_key = "ci-deploy";
  EXPECT_EQ(outcome(*compiled, ci, tool("b", "k")), "allow:by-key");
  EXPECT_EQ(outcome(*compiled, user("ci-deploy"), tool("b", "k")), "deny:");

  Principal service;
  service.authenticated = true;
  service.cert_subject = "CN=svc,O=acme";
  EXPECT_EQ(outcome(*compiled, service, tool("b", "c")), "allow:by-cert");
  EXPECT_EQ(outcome(*compiled, user("CN=svc,O=acme"), tool("b", "c")), "deny:");

  // "*" needs a value: an anonymous principal has no subject.
  EXPECT_EQ(outcome(*compiled, user("x"), tool("b", "any")), "allow:any-subject");
  EXPECT_EQ(outcome(*compiled, Principal{}, tool("b", "any")), "deny:");
}

TEST(PolicyDecide, Claims) {
  auto compiled = must_compile(policy({
      Rule("groups").tools({"g"}).claim("groups", {"devs", "ops-*"}),
      Rule("nested").tools({"n"}).claim("realm_access.roles", {"admin"}),
      Rule("dotted-key").tools({"d"}).claim("https://example.com/team", {"red"}),
      Rule("number").tools({"num"}).claim("level", {"3"}),
      Rule("bool").tools({"bool"}).claim("email_verified", {"true"}),
      Rule("two-claims").tools({"two"}).claim("groups", {"devs"}).claim("tenant", {"acme"}),
  }));
  const auto with_claims = [](const char* claims_json) {
    Principal principal = user("someone");
    principal.claims = nlohmann::json::parse(claims_json);
    return principal;
  };
  // String, array, pattern.
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"groups": "devs"})"), tool("b", "g")),
            "allow:groups");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"groups": ["qa", "ops-eu"]})"), tool("b", "g")),
            "allow:groups");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"groups": ["qa"]})"), tool("b", "g")), "deny:");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"groups": []})"), tool("b", "g")), "deny:");
  // Missing claim, or one of a type that never matches.
  EXPECT_EQ(outcome(*compiled, with_claims("{}"), tool("b", "g")), "deny:");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"groups": {"name": "devs"}})"), tool("b", "g")),
            "deny:");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"groups": null})"), tool("b", "g")), "deny:");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"groups": [["devs"]]})"), tool("b", "g")), "deny:");
  // Dotted paths into nested objects; a top-level key containing dots is found as a whole.
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"realm_access": {"roles": ["user", "admin"]}})"),
                    tool("b", "n")),
            "allow:nested");
  EXPECT_EQ(
      outcome(*compiled, with_claims(R"({"realm_access": {"roles": ["user"]}})"), tool("b", "n")),
      "deny:");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"realm_access": "admin"})"), tool("b", "n")),
            "deny:");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"realm_access.roles": ["admin"]})"), tool("b", "n")),
            "allow:nested");
  EXPECT_EQ(
      outcome(*compiled, with_claims(R"({"https://example.com/team": "red"})"), tool("b", "d")),
      "allow:dotted-key");
  // Numbers and booleans by their JSON text, alone or in arrays.
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"level": 3})"), tool("b", "num")), "allow:number");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"level": [1, 3]})"), tool("b", "num")),
            "allow:number");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"level": 4})"), tool("b", "num")), "deny:");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"email_verified": true})"), tool("b", "bool")),
            "allow:bool");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"email_verified": false})"), tool("b", "bool")),
            "deny:");
  // Several claims must all match.
  EXPECT_EQ(
      outcome(*compiled, with_claims(R"({"groups": "devs", "tenant": "acme"})"), tool("b", "two")),
      "allow:two-claims");
  EXPECT_EQ(outcome(*compiled, with_claims(R"({"groups": "devs"})"), tool("b", "two")), "deny:");
  // Claims that are not an object at all.
  EXPECT_EQ(outcome(*compiled, with_claims("[]"), tool("b", "g")), "deny:");
}

TEST(PolicyDecide, ScopesAreAllOfAndMayBeGlobs) {
  auto compiled = must_compile(policy({
      Rule("scoped").tools({"t"}).scopes({"repo:read", "repo:write"}),
      Rule("globbed").tools({"g"}).scopes({"admin:*"}),
  }));
  Principal principal = user("a");
  principal.scopes = {"repo:read"};
  EXPECT_EQ(outcome(*compiled, principal, tool("b", "t")), "deny:");
  principal.scopes = {"repo:write", "openid", "repo:read"};
  EXPECT_EQ(outcome(*compiled, principal, tool("b", "t")), "allow:scoped");
  EXPECT_EQ(outcome(*compiled, principal, tool("b", "g")), "deny:");
  principal.scopes = {"admin:users"};
  EXPECT_EQ(outcome(*compiled, principal, tool("b", "g")), "allow:globbed");
}

TEST(PolicyDecide, Authenticated) {
  auto compiled = must_compile(policy({
      Rule("anonymous-ping").tools({"ping"}).authenticated(false),
      Rule("signed-in").tools({"work"}).authenticated(true),
  }));
  EXPECT_EQ(outcome(*compiled, Principal{}, tool("b", "ping")), "allow:anonymous-ping");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("b", "ping")), "deny:");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("b", "work")), "allow:signed-in");
  EXPECT_EQ(outcome(*compiled, Principal{}, tool("b", "work")), "deny:");
}

TEST(PolicyDecide, ManyLiteralBackendsAndNamesStillMatch) {
  std::vector<std::string> backends;
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i) {
    backends.push_back("backend" + std::to_string(i));
    names.push_back("tool" + std::to_string(i));
  }
  auto compiled = must_compile(policy({Rule("wide").backends(backends).tools(names)}));
  EXPECT_EQ(outcome(*compiled, user("a"), tool("backend39", "tool0")), "allow:wide");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("backend0", "tool39")), "allow:wide");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("backend40", "tool0")), "deny:");
  EXPECT_EQ(outcome(*compiled, user("a"), tool("backend1", "tool40")), "deny:");
}

TEST(PolicyDecide, PerUserRulesAreFoundThroughTheSubjectIndex) {
  std::vector<RuleSpec> rules;
  for (int i = 0; i < 2000; ++i) {
    const std::string user_name = "user-" + std::to_string(i);
    rules.push_back(Rule("allow-" + user_name).tools({"*"}).subjects({user_name}));
    if (i % 100 == 0) {
      rules.push_back(Rule("deny-" + user_name).deny().tools({"delete_*"}).subjects({user_name}));
    }
  }
  rules.push_back(Rule("deny-guests").deny().tools({"*"}).subjects({"guest-*"}));
  auto compiled = must_compile(policy(rules));
  EXPECT_EQ(outcome(*compiled, user("user-1999"), tool("b", "x")), "allow:allow-user-1999");
  EXPECT_EQ(outcome(*compiled, user("user-300"), tool("b", "delete_x")), "deny:deny-user-300");
  EXPECT_EQ(outcome(*compiled, user("user-301"), tool("b", "delete_x")), "allow:allow-user-301");
  EXPECT_EQ(outcome(*compiled, user("user-2000"), tool("b", "x")), "deny:");
  EXPECT_EQ(outcome(*compiled, user("guest-1"), tool("b", "x")), "deny:deny-guests");
  EXPECT_EQ(outcome(*compiled, Principal{}, tool("b", "x")), "deny:");
}

TEST(PolicyDecide, DecideIsSafeFromManyThreads) {
  auto compiled = must_compile(policy({
      Rule("a").backends({"gh"}).tools({"x*"}),
      Rule("b").deny().tools({"re:x[0-9]+"}),
  }));
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string name = "x" + std::to_string(i + t);
        // Every "x<digits>" name is denied by the regex rule.
        if (compiled->decide(user("u"), tool("gh", name)).rule_id != "b")
          ++wrong;
        if (compiled->decide(user("u"), tool("gh", "xy")).effect != Effect::allow)
          ++wrong;
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(PolicyTesting, RunTestsComparesEffectAndOptionallyTheRule) {
  auto compiled = must_compile(policy({
      Rule("allow-read").tools({"read_*"}),
      Rule("deny-secret").deny().tools({"read_secret"}),
  }));
  std::vector<TestCase> cases(5);
  cases[0] = {"read is allowed",         user("a"),  tool("b", "read_file"), Effect::allow,
              std::string("allow-read"), test::at(1)};
  cases[1] = {"secret is denied", user("a"),    tool("b", "read_secret"),
              Effect::deny,       std::nullopt, test::at(5)};
  cases[2] = {"write falls to the default",
              user("a"),
              tool("b", "write"),
              Effect::deny,
              std::string(""),
              test::at(9)};
  cases[3] = {"wrong effect", user("a"),    tool("b", "write"),
              Effect::allow,  std::nullopt, test::at(13)};
  cases[4] = {"right effect, wrong rule",
              user("a"),
              tool("b", "read_secret"),
              Effect::deny,
              std::string(""),
              test::at(17)};
  const std::vector<TestOutcome> outcomes = run_tests(*compiled, cases);
  ASSERT_EQ(outcomes.size(), 5u);
  EXPECT_TRUE(outcomes[0].passed);
  EXPECT_TRUE(outcomes[1].passed);
  EXPECT_TRUE(outcomes[2].passed);
  EXPECT_FALSE(outcomes[3].passed);
  EXPECT_FALSE(outcomes[4].passed);
  EXPECT_EQ(outcomes[4].actual.rule_id, "deny-secret");
  EXPECT_EQ(outcomes[3].test_case, &cases[3]);
  EXPECT_TRUE(run_tests(*compiled, {}).empty());
}

}  // namespace
}  // namespace mcpgw::policy
