// `mcpgw lint`: runs the config loader, validator and policy compiler that serve uses, and
// reports their diagnostics; optionally evaluates policy decision tests.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace mcpgw::lint {

enum class OutputFormat { text, json, sarif };
enum class ColorMode { automatic, always, never };

struct Options {
  std::vector<std::string> files;
  OutputFormat format = OutputFormat::text;
  bool strict = false;                     // warnings count as findings
  std::optional<std::string> test_file;    // --test CASES.toml
  ColorMode color = ColorMode::automatic;  // automatic: only on a TTY and without NO_COLOR
  std::string tool_version;                // reported in SARIF output; the CLI sets it
};

// Returns the exit code: 0 clean, 1 findings or failed tests, 2 usage or I/O error.
int run(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace mcpgw::lint
