// Golden files of the renderers' tests (inspect, replay): `actual` must equal the file, or with
// MCPGW_UPDATE_GOLDEN=1 the file is rewritten with it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace mcpgw::testing {

inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void expect_golden_file(const std::filesystem::path& path, const std::string& actual) {
  const char* update = std::getenv("MCPGW_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << actual;
    return;
  }
  const std::string expected = read_text_file(path);
  ASSERT_FALSE(expected.empty()) << path << " is missing; run with MCPGW_UPDATE_GOLDEN=1";
  EXPECT_EQ(actual, expected) << "differs from " << path << " (MCPGW_UPDATE_GOLDEN=1 rewrites it)";
}

}  // namespace mcpgw::testing
