// load_policy_tests: the [[case]] file format, its diagnostics, and running the example cases.
#include <string>

#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "gateway/config/config.hpp"
#include "gateway/policy/testing.hpp"

namespace mcpgw::config {
namespace {

using test_support::dump;
using test_support::HasOnly;
using test_support::TempDir;
using test_support::test_options;
using test_support::with_rule;

class PolicyTestFile : public ::testing::Test {
 protected:
  TestFileResult load(const std::string& text, const LoadOptions& options = test_options()) {
    path_ = dir_.write("cases.toml", text);
    return load_policy_tests(path_, options);
  }

  TempDir dir_;
  std::string path_;
};

TEST_F(PolicyTestFile, ReadsEveryField) {
  const auto result = load(
      "[[case]]\n"
      "name = \"devs may create issues\"\n"
      "method = \"tools/call\"\n"
      "backend = \"github\"\n"
      "tool = \"create_issue\"\n"
      "principal = { subject = \"alice\", claims = { groups = [\"devs\"], level = 3, "
      "realm_access = { roles = [\"admin\"] } }, scopes = [\"mcp:write\"], api_key = \"ci\", "
      "cert_subject = \"CN=x\" }\n"
      "expect = \"allow\"\n"
      "rule = \"devs-github-create\"\n");
  ASSERT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  ASSERT_EQ(result.cases.size(), 1u);
  const auto& c = result.cases[0];
  EXPECT_EQ(c.name, "devs may create issues");
  EXPECT_EQ(c.target.method, "tools/call");
  EXPECT_EQ(c.target.backend, "github");
  EXPECT_EQ(c.target.kind, policy::TargetKind::tool);
  EXPECT_EQ(c.target.name, "create_issue");
  EXPECT_TRUE(c.principal.authenticated);
  EXPECT_EQ(c.principal.subject, "alice");
  EXPECT_EQ(c.principal.api_key, "ci");
  EXPECT_EQ(c.principal.cert_subject, "CN=x");
  EXPECT_EQ(c.principal.scopes, std::vector<std::string>{"mcp:write"});
  EXPECT_EQ(c.principal.claims,
            nlohmann::json::parse(
                R"({"groups": ["devs"], "level": 3, "realm_access": {"roles": ["admin"]}})"));
  EXPECT_EQ(c.expect, policy::Effect::allow);
  EXPECT_EQ(c.expect_rule, std::optional<std::string>("devs-github-create"));
  EXPECT_EQ(c.where.file, path_);
  EXPECT_EQ(c.where.line, 1u);
}

TEST_F(PolicyTestFile, ImpliedMethodsAndKinds) {
  const auto result = load(
      "[[case]]\nname = \"p\"\nprompt = \"greet\"\nexpect = \"deny\"\nrule = \"\"\n"
      "[[case]]\nname = \"r\"\nresource = \"file:///x\"\nexpect = \"deny\"\n"
      "[[case]]\nname = \"o\"\nmethod = \"tools/list\"\nexpect = \"deny\"\n"
      "principal = { authenticated = true }\n"
      "[[case]]\nname = \"anonymous\"\ntool = \"t\"\nexpect = \"deny\"\n");
  ASSERT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  ASSERT_EQ(result.cases.size(), 4u);
  EXPECT_EQ(result.cases[0].target.method, "prompts/get");
  EXPECT_EQ(result.cases[0].target.kind, policy::TargetKind::prompt);
  EXPECT_EQ(result.cases[0].expect_rule, std::optional<std::string>(""));
  EXPECT_EQ(result.cases[1].target.method, "resources/read");
  EXPECT_EQ(result.cases[1].target.kind, policy::TargetKind::resource);
  EXPECT_FALSE(result.cases[1].expect_rule.has_value());
  EXPECT_EQ(result.cases[2].target.kind, policy::TargetKind::other);
  EXPECT_TRUE(result.cases[2].principal.authenticated);
  EXPECT_FALSE(result.cases[3].principal.authenticated);
  EXPECT_EQ(result.cases[3].target.method, "tools/call");
}

TEST_F(PolicyTestFile, Diagnostics) {
  const auto result = load(
      "[[case]]\n"                        // 1
      "name = \"a\"\n"                    // 2
      "tool = \"x\"\n"                    // 3
      "prompt = \"y\"\n"                  // 4
      "expect = \"alow\"\n"               // 5
      "principal = { subjet = \"x\" }\n"  // 6
      "[[case]]\n"                        // 7
      "name = \"a\"\n"                    // 8
      "expect = \"deny\"\n"               // 9
      "[[case]]\n"                        // 10
      "tool = 3\n"                        // 11
      "expected = \"deny\"\n");           // 12
  EXPECT_TRUE(HasOnly(result.diagnostics, "conflicting-keys", path_, 4, 1));
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", path_, 5, 10));
  const auto unknown = with_rule(result.diagnostics, "unknown-key");
  ASSERT_EQ(unknown.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(unknown[0].where.line, 6u);
  EXPECT_EQ(unknown[0].where.column, 15u);
  EXPECT_NE(unknown[0].message.find("did you mean 'subject'?"), std::string::npos);
  EXPECT_EQ(unknown[1].where.line, 12u);
  EXPECT_NE(unknown[1].message.find("did you mean 'expect'?"), std::string::npos);
  EXPECT_TRUE(HasOnly(result.diagnostics, "duplicate-case-name", path_, 8, 8, Severity::warning));
  EXPECT_TRUE(HasOnly(result.diagnostics, "wrong-type", path_, 11, 8));
  // Case 2 lacks a method; case 3 lacks name and expect (its 'tool' is there, if mistyped).
  EXPECT_EQ(with_rule(result.diagnostics, "missing-key").size(), 3u) << dump(result.diagnostics);
  // Only the case without errors is kept.
  EXPECT_EQ(result.cases.size(), 0u);
}

TEST_F(PolicyTestFile, ConfigurationKeysSayWhereTheyBelong) {
  const auto result = load(
      "[server]\n"
      "listen = \"127.0.0.1:8080\"\n"
      "[[case]]\n"
      "name = \"a\"\n"
      "tool = \"x\"\n"
      "expect = \"deny\"\n"
      "[[rules]]\n");
  const auto unknown = with_rule(result.diagnostics, "unknown-key");
  ASSERT_EQ(unknown.size(), 2u) << dump(result.diagnostics);
  EXPECT_EQ(unknown[0].where.line, 1u);
  EXPECT_EQ(unknown[0].message,
            "'server' is configuration; a policy test file holds only [[case]] tables (keep the "
            "configuration in a file of its own)");
  // Not a configuration key: the usual message, with no suggestion from the configuration.
  EXPECT_EQ(unknown[1].where.line, 7u);
  EXPECT_EQ(unknown[1].message, "unknown key 'rules' in the top level");
  EXPECT_EQ(result.cases.size(), 1u);
}

TEST_F(PolicyTestFile, EnvironmentExpandsInCases) {
  const auto result = load(
      "[[case]]\nname = \"n\"\ntool = \"${TOOL}\"\nexpect = \"deny\"\n"
      "principal = { claims = { team = \"${TEAM:-core}\" } }\n",
      test_options({{"TOOL", "search"}}));
  ASSERT_EQ(result.cases.size(), 1u) << dump(result.diagnostics);
  EXPECT_EQ(result.cases[0].target.name, "search");
  EXPECT_EQ(result.cases[0].principal.claims, nlohmann::json::parse(R"({"team": "core"})"));
}

TEST_F(PolicyTestFile, IoAndSyntaxErrors) {
  const auto missing = load_policy_tests((dir_.path() / "nope.toml").string());
  EXPECT_TRUE(HasOnly(missing.diagnostics, "io-error", (dir_.path() / "nope.toml").string(), 0, 0));
  const auto syntax = load("[[case]\n");
  EXPECT_EQ(with_rule(syntax.diagnostics, "toml-syntax").size(), 1u);
  const auto empty = load("");
  EXPECT_TRUE(HasOnly(empty.diagnostics, "no-test-cases", path_, 1, 1, Severity::warning));
  const auto empty_array = load("case = []\n");
  EXPECT_TRUE(HasOnly(empty_array.diagnostics, "no-test-cases", path_, 1, 1, Severity::warning));
  const auto table = load("[case]\nname = \"x\"\n");
  EXPECT_TRUE(HasOnly(table.diagnostics, "wrong-type", path_, 1, 1));
}

TEST(PolicyTestExamples, ExampleCasesPassAgainstTheExamplePolicy) {
  for (const char* root :
       {MCPGW_SOURCE_DIR "/examples/gateway.toml", MCPGW_SOURCE_DIR "/examples/policy.toml"}) {
    const auto loaded = load_config(root, test_options({}, true));
    ASSERT_TRUE(loaded.config) << dump(loaded.diagnostics);
    EXPECT_TRUE(loaded.diagnostics.items().empty()) << root << "\n" << dump(loaded.diagnostics);
    const auto tests = load_policy_tests(MCPGW_SOURCE_DIR "/examples/policy-tests.toml");
    ASSERT_TRUE(tests.diagnostics.items().empty()) << dump(tests.diagnostics);
    ASSERT_GE(tests.cases.size(), 10u);
    ASSERT_TRUE(loaded.config->policy);
    for (const auto& outcome : policy::run_tests(*loaded.config->policy, tests.cases)) {
      EXPECT_TRUE(outcome.passed) << root << ": " << outcome.test_case->name << " decided "
                                  << policy::to_string(outcome.actual.effect) << " by '"
                                  << outcome.actual.rule_id << "'";
    }
  }
}

}  // namespace
}  // namespace mcpgw::config
