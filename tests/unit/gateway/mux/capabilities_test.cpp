#include "gateway/mux/capabilities.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "gateway/mux/gateway.hpp"

namespace mcpgw::mux {
namespace {

using nlohmann::json;

TEST(MuxCapabilities, VersionIsTheClientsWhenSupported) {
  EXPECT_EQ(negotiate_version({{"protocolVersion", "2024-11-05"}}), "2024-11-05");
  EXPECT_EQ(negotiate_version({{"protocolVersion", "2025-06-18"}}), "2025-06-18");
  EXPECT_EQ(negotiate_version({{"protocolVersion", "2025-11-25"}}), "2025-11-25");
  // Unknown, modern-era, missing or mistyped: the latest legacy version.
  EXPECT_EQ(negotiate_version({{"protocolVersion", "2099-01-01"}}), "2025-11-25");
  EXPECT_EQ(negotiate_version({{"protocolVersion", "2026-07-28"}}), "2025-11-25");
  EXPECT_EQ(negotiate_version(json::object()), "2025-11-25");
  EXPECT_EQ(negotiate_version({{"protocolVersion", 7}}), "2025-11-25");
}

TEST(MuxCapabilities, UnionOrsFlagsAndMergesObjects) {
  const json a = {{"tools", json::object()},
                  {"resources", {{"subscribe", false}}},
                  {"experimental", {{"x", {{"a", 1}}}}}};
  const json b = {
      {"prompts", {{"listChanged", false}}},
      {"resources", {{"subscribe", true}, {"listChanged", false}}},
      {"logging", json::object()},
      {"completions", json::object()},
      {"tasks", {{"list", json::object()}, {"requests", {{"tools", {{"call", json::object()}}}}}}},
      {"experimental", {{"x", {{"a", 2}, {"b", 3}}}, {"y", json::object()}}}};
  const json c = {{"tasks", {{"cancel", json::object()}}}};
  const auto merged = merge_capabilities({&a, &b, &c});
  EXPECT_EQ(merged["tools"], json({{"listChanged", true}}));
  EXPECT_EQ(merged["prompts"], json({{"listChanged", true}}));
  EXPECT_EQ(merged["resources"], json({{"subscribe", true}, {"listChanged", true}}));
  EXPECT_EQ(merged["logging"], json::object());
  EXPECT_EQ(merged["completions"], json::object());
  EXPECT_EQ(merged["tasks"], json({{"list", json::object()},
                                   {"cancel", json::object()},
                                   {"requests", {{"tools", {{"call", json::object()}}}}}}));
  // Config order wins for plain values.
  EXPECT_EQ(merged["experimental"], json({{"x", {{"a", 1}, {"b", 3}}}, {"y", json::object()}}));
}

TEST(MuxCapabilities, NothingOfferedNothingClaimed) {
  const json empty = json::object();
  EXPECT_EQ(merge_capabilities({&empty}), json::object());
  EXPECT_EQ(merge_capabilities({}), json::object());
}

TEST(MuxCapabilities, InstructionsMergeUnderHeadings) {
  EXPECT_EQ(merge_instructions({{"alpha", "Use alpha."}}, false), "Use alpha.");
  EXPECT_EQ(
      merge_instructions({{"alpha", "Use alpha."}, {"beta", ""}, {"gamma", "Use gamma."}}, true),
      "## alpha\n\nUse alpha.\n\n## gamma\n\nUse gamma.");
  EXPECT_FALSE(merge_instructions({{"alpha", ""}}, true));
  const auto huge = merge_instructions(
      {{"a", std::string(kMaxInstructionsBytes, 'x')}, {"b", std::string(1000, 'y')}}, true);
  ASSERT_TRUE(huge);
  EXPECT_LE(huge->size(), kMaxInstructionsBytes);
}

TEST(MuxCapabilities, ServerVersionFollowsTheProject) {
  std::ifstream file(std::string(MCPGW_SOURCE_DIR) + "/CMakeLists.txt");
  std::stringstream text;
  text << file.rdbuf();
  std::smatch match;
  const auto content = text.str();
  ASSERT_TRUE(std::regex_search(content, match, std::regex(R"(project\(mcpgw VERSION ([0-9.]+))")));
  EXPECT_EQ(GatewayOptions{}.server_version, match[1].str());
}

}  // namespace
}  // namespace mcpgw::mux
