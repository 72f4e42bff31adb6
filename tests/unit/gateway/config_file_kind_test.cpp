// load_config_or_policy_tests: lint's entry point tells configurations from policy test files
// by their top level and loads each with its own loader.
#include <string>

#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "gateway/config/config.hpp"

namespace mcpgw::config {
namespace {

using test_support::dump;
using test_support::HasOnly;
using test_support::TempDir;
using test_support::test_options;

class FileKindTest : public ::testing::Test {
 protected:
  ConfigOrTestsResult load(const std::string& text) {
    path_ = dir_.write("file.toml", text);
    return load_config_or_policy_tests(path_, test_options());
  }

  TempDir dir_;
  std::string path_;
};

constexpr const char* kCase =
    "[[case]]\n"
    "name = \"echo is denied\"\n"
    "tool = \"echo\"\n"
    "expect = \"deny\"\n";

TEST_F(FileKindTest, OnlyCasesIsAPolicyTestFile) {
  const auto result = load(std::string("# decision tests\n") + kCase);
  ASSERT_EQ(result.kind, FileKind::policy_tests);
  EXPECT_TRUE(result.tests.diagnostics.items().empty()) << dump(result.tests.diagnostics);
  ASSERT_EQ(result.tests.cases.size(), 1u);
  EXPECT_EQ(result.tests.cases[0].name, "echo is denied");
  EXPECT_EQ(result.tests.cases[0].where.line, 2u);
  ASSERT_NE(result.tests.sources.find(path_), nullptr);
  // The configuration side is left empty.
  EXPECT_TRUE(result.config.diagnostics.items().empty());
  EXPECT_TRUE(result.config.sources.contents.empty());
}

TEST_F(FileKindTest, ProblemsInATestFileAreReportedByTheTestLoader) {
  const auto result = load(std::string(kCase) + "expect_rule = \"x\"\n");
  ASSERT_EQ(result.kind, FileKind::policy_tests);
  EXPECT_TRUE(HasOnly(result.tests.diagnostics, "unknown-key", path_, 5, 1));
  const auto no_cases = load("case = []\n");
  ASSERT_EQ(no_cases.kind, FileKind::policy_tests);
  EXPECT_TRUE(HasOnly(no_cases.tests.diagnostics, "no-test-cases", path_, 1, 1, Severity::warning));
  const auto not_tables = load("case = 1\n");
  ASSERT_EQ(not_tables.kind, FileKind::policy_tests);
  EXPECT_TRUE(HasOnly(not_tables.tests.diagnostics, "wrong-type", path_, 1, 8));
}

TEST_F(FileKindTest, EverythingElseIsAConfiguration) {
  for (const std::string text : {"", "# nothing\n", "[server]\nlisten = \"127.0.0.1:1\"\n",
                                 "[[rule]]\neffect = \"deny\"\ntools = [\"x\"]\n"}) {
    const auto result = load(text);
    EXPECT_EQ(result.kind, FileKind::configuration) << text;
    EXPECT_TRUE(result.config.config) << text << dump(result.config.diagnostics);
    EXPECT_TRUE(result.tests.cases.empty());
  }
}

TEST_F(FileKindTest, MixingCasesAndConfigurationIsAnErrorOfTheConfiguration) {
  const auto result = load(std::string("[[rule]]\neffect = \"deny\"\ntools = [\"x\"]\n\n") + kCase);
  ASSERT_EQ(result.kind, FileKind::configuration);
  EXPECT_FALSE(result.config.config);
  EXPECT_TRUE(HasOnly(result.config.diagnostics, "unknown-key", path_, 5, 3));
  EXPECT_NE(result.config.diagnostics.items()[0].message.find("go in a file of their own"),
            std::string::npos);
}

TEST_F(FileKindTest, UnreadableOrBrokenFilesAreReportedAsConfigurations) {
  const auto missing =
      load_config_or_policy_tests((dir_.path() / "missing.toml").string(), test_options());
  EXPECT_EQ(missing.kind, FileKind::configuration);
  EXPECT_TRUE(HasOnly(missing.config.diagnostics, "io-error",
                      (dir_.path() / "missing.toml").string(), 0, 0));
  const auto syntax = load("[[case]]\nname = \n");
  EXPECT_EQ(syntax.kind, FileKind::configuration);
  EXPECT_TRUE(HasOnly(syntax.config.diagnostics, "toml-syntax", path_, 2, 8));
  EXPECT_NE(syntax.config.sources.find(path_), nullptr);
}

TEST_F(FileKindTest, TextInMemory) {
  const auto tests =
      load_config_or_policy_tests_text("stdin.toml", std::string(kCase), test_options());
  ASSERT_EQ(tests.kind, FileKind::policy_tests);
  EXPECT_EQ(tests.tests.cases.size(), 1u) << dump(tests.tests.diagnostics);
  const auto config = load_config_or_policy_tests_text(
      "stdin.toml", std::string("[[rule]]\neffect = \"deny\"\n"), test_options());
  ASSERT_EQ(config.kind, FileKind::configuration);
  EXPECT_TRUE(config.config.config) << dump(config.config.diagnostics);
  const auto huge = load_config_or_policy_tests_text(
      "stdin.toml", std::string((16u << 20) + 1, '#'), test_options());
  EXPECT_TRUE(HasOnly(huge.config.diagnostics, "file-too-large", "stdin.toml", 0, 0));
}

}  // namespace
}  // namespace mcpgw::config
