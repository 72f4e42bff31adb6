// Helpers for the config loader tests: temporary directories, injected environments and
// diagnostic assertions.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "gateway/config/config.hpp"

namespace mcpgw::config::test_support {

// A directory under the system temp dir, unique per process and instance, removed at the end.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("mcpgw-config-test-" + std::to_string(::getpid()) + "-" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `content` to `name` (relative, parent directories created); returns the full path.
  std::string write(const std::string& name, const std::string& content) const {
    const auto file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << content;
    return file.string();
  }

 private:
  std::filesystem::path path_;
};

inline EnvLookup env_from(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

// Options with an empty environment and no file-existence checks unless asked.
inline LoadOptions test_options(std::map<std::string, std::string> env = {},
                                bool check_files = false) {
  LoadOptions options;
  options.env = env_from(std::move(env));
  options.check_files_exist = check_files;
  return options;
}

inline std::string dump(const Diagnostics& diagnostics) {
  std::ostringstream out;
  for (const auto& d : diagnostics.items()) {
    out << d.where.file << ":" << d.where.line << ":" << d.where.column << ": "
        << to_string(d.severity) << " [" << d.rule << "] " << d.message << "\n";
  }
  return out.str();
}

// The diagnostics with `rule`.
inline std::vector<Diagnostic> with_rule(const Diagnostics& diagnostics, const std::string& rule) {
  std::vector<Diagnostic> out;
  for (const auto& d : diagnostics.items()) {
    if (d.rule == rule) {
      out.push_back(d);
    }
  }
  return out;
}

// Exactly one diagnostic with `rule`, at file:line:column, with `severity`.
inline ::testing::AssertionResult HasOnly(const Diagnostics& diagnostics, const std::string& rule,
                                          const std::string& file, std::uint32_t line,
                                          std::uint32_t column,
                                          Severity severity = Severity::error) {
  const auto found = with_rule(diagnostics, rule);
  if (found.size() != 1) {
    return ::testing::AssertionFailure()
           << "expected exactly one [" << rule << "], found " << found.size() << ":\n"
           << dump(diagnostics);
  }
  const auto& d = found.front();
  if (d.where.file != file || d.where.line != line || d.where.column != column ||
      d.severity != severity) {
    return ::testing::AssertionFailure()
           << "expected [" << rule << "] " << to_string(severity) << " at " << file << ":" << line
           << ":" << column << ", got:\n"
           << dump(diagnostics);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace mcpgw::config::test_support
