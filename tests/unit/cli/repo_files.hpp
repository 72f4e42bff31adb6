// Shared by the documentation tests: read files of the source tree, run a shell command.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mcpgw::cli::test_support {

inline std::string source_path(const std::string& relative) {
  return std::string(MCPGW_SOURCE_DIR) + "/" + relative;
}

inline std::string read_text(const std::string& relative) {
  std::ifstream in(source_path(relative), std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// Runs a shell command; returns its exit status and combined output.
inline int run_command(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr)
    return -1;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    output.append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline bool have_program(const std::string& name) {
  std::string ignored;
  return run_command("command -v " + name, ignored) == 0;
}

}  // namespace mcpgw::cli::test_support
