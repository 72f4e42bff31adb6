// The [capture] table: its keys with their defaults and bounds, a path relative to the file,
// redact path syntax, unknown keys, and root-only like [audit].
#include <string>

#include <gtest/gtest.h>

#include "../config_test_support.hpp"
#include "gateway/config/config.hpp"

namespace mcpgw::config {
namespace {

using test_support::dump;
using test_support::HasOnly;
using test_support::test_options;
using test_support::with_rule;

constexpr const char* kBackend = "\n[[backend]]\nname = \"a\"\ncommand = [\"x\"]\n";

LoadResult load(const std::string& text) {
  return load_config_text("/etc/mcpgw/gateway.toml", text, test_options());
}

TEST(CaptureConfig, AbsentMeansOff) {
  const auto result = load(kBackend);
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_FALSE(result.config->capture.enabled);
}

TEST(CaptureConfig, EveryKeyIsRead) {
  const auto result = load(std::string(R"([capture]
path = "traffic/capture.jsonl"
max_file_bytes = 1048576
max_files = 3
queue_records = 100
redact_headers = ["X-Tenant-Secret"]
redact_paths = ["params.arguments.password", "result.content.*.text"]
)") + kBackend);
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  EXPECT_TRUE(result.diagnostics.items().empty()) << dump(result.diagnostics);
  const auto& capture = result.config->capture;
  EXPECT_TRUE(capture.enabled);
  EXPECT_EQ(capture.path, "/etc/mcpgw/traffic/capture.jsonl");
  EXPECT_EQ(capture.max_file_bytes, 1048576u);
  EXPECT_EQ(capture.max_files, 3u);
  EXPECT_EQ(capture.queue_records, 100u);
  EXPECT_EQ(capture.redact_headers, (std::vector<std::string>{"x-tenant-secret"}));
  EXPECT_EQ(capture.redact_paths,
            (std::vector<std::string>{"params.arguments.password", "result.content.*.text"}));
  EXPECT_EQ(capture.where.line, 1u);
}

TEST(CaptureConfig, DefaultsAndNoRotation) {
  const auto result =
      load(std::string("[capture]\npath = \"/var/c.jsonl\"\nmax_file_bytes = 0\n") + kBackend);
  ASSERT_TRUE(result.config) << dump(result.diagnostics);
  const auto& capture = result.config->capture;
  EXPECT_EQ(capture.path, "/var/c.jsonl");
  EXPECT_EQ(capture.max_file_bytes, 0u);
  EXPECT_EQ(capture.max_files, 8u);
  EXPECT_EQ(capture.queue_records, 65536u);
}

TEST(CaptureConfig, PathIsRequired) {
  const auto result = load(std::string("[capture]\nmax_files = 2\n") + kBackend);
  EXPECT_FALSE(result.config);
  EXPECT_EQ(with_rule(result.diagnostics, "missing-key").size(), 1u) << dump(result.diagnostics);
}

TEST(CaptureConfig, BadValuesAreReportedWhereTheyAre) {
  auto result = load(std::string("[capture]\npath = \"c\"\nmax_file_bytes = 100\n") + kBackend);
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", "/etc/mcpgw/gateway.toml", 3, 18));
  result = load(std::string("[capture]\npath = \"c\"\nqueue_records = 0\n") + kBackend);
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", "/etc/mcpgw/gateway.toml", 3, 17));
  result = load(std::string("[capture]\npath = \"\"\n") + kBackend);
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", "/etc/mcpgw/gateway.toml", 2, 8));
  result = load(std::string("[capture]\npath = \"c\"\nredact_headers = [\"a b\"]\n") + kBackend);
  EXPECT_TRUE(HasOnly(result.diagnostics, "invalid-value", "/etc/mcpgw/gateway.toml", 3, 19));
  result = load(std::string("[capture]\npath = \"c\"\nmax_files = \"two\"\n") + kBackend);
  EXPECT_EQ(with_rule(result.diagnostics, "wrong-type").size(), 1u) << dump(result.diagnostics);
}

TEST(CaptureConfig, RedactPathSyntax) {
  for (const char* bad : {"", "a..b", ".a", "a.", "a.b*", "*x.y"}) {
    const auto result =
        load(std::string("[capture]\npath = \"c\"\nredact_paths = [\"") + bad + "\"]\n" + kBackend);
    EXPECT_FALSE(result.config) << bad;
    EXPECT_EQ(with_rule(result.diagnostics, "invalid-value").size(), 1u)
        << bad << "\n"
        << dump(result.diagnostics);
  }
}

TEST(CaptureConfig, UnknownKeysAreDiagnosed) {
  const auto result = load(std::string("[capture]\npath = \"c\"\nmax_file = 5\n") + kBackend);
  EXPECT_TRUE(HasOnly(result.diagnostics, "unknown-key", "/etc/mcpgw/gateway.toml", 3, 1));
}

TEST(CaptureConfig, MissingDirectoryWithTheExistenceCheck) {
  auto options = test_options({}, /*check_files=*/true);
  const auto result =
      load_config_text("/nonexistent-mcpgw-dir/gateway.toml",
                       std::string("[capture]\npath = \"c.jsonl\"\n") + kBackend, options);
  EXPECT_EQ(with_rule(result.diagnostics, "missing-file").size(), 1u) << dump(result.diagnostics);
}

}  // namespace
}  // namespace mcpgw::config
