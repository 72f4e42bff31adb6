// JSON log lines must stay one parseable line whatever a backend writes to its stderr.
#include "gateway/serve/logging.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace mcpgw::serve {
namespace {

TEST(JsonLogLine, IsOneParseableObjectEvenForHostileMessages) {
  const std::string hostile = "line1\nline2 \"quoted\" \x01 {\"level\":\"error\"} \xff";
  const auto line = format_json_log_line("2026-11-21T10:00:00.000Z", "info", "", hostile);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto parsed = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << line;
  EXPECT_EQ(parsed["level"], "info");
  EXPECT_EQ(parsed["time"], "2026-11-21T10:00:00.000Z");
  EXPECT_FALSE(parsed.contains("logger"));
  // The invalid byte is replaced, everything else kept.
  EXPECT_NE(parsed["msg"].get<std::string>().find("line2 \"quoted\""), std::string::npos);
  EXPECT_EQ(line.rfind("{\"time\":", 0), 0u) << "time comes first for readers that sort by it";
}

TEST(ConfigureLogging, RejectsUnknownLevelsAndAcceptsOff) {
  EXPECT_FALSE(configure_logging("verbose", LogFormat::text));
  EXPECT_TRUE(configure_logging("off", LogFormat::json));
  EXPECT_TRUE(configure_logging("info", LogFormat::text));
}

}  // namespace
}  // namespace mcpgw::serve
