// Compiler-style findings produced by the config loader, the validator and the policy compiler.
// lint prints them; serve logs them when a (re)load fails.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mcpgw::config {

// 1-based line and column; line 0 means "the whole file" (e.g. it could not be read).
struct SourceLocation {
  std::string file;
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

enum class Severity { error, warning, note };

const char* to_string(Severity severity) noexcept;

// "FILE:LINE:COLUMN" as compilers print it ("mcpgw" without a file, parts without a number
// left out), the file name made printable: lint's text output and replay's config errors.
std::string printable_location(const SourceLocation& where);

struct Diagnostic {
  SourceLocation where;
  Severity severity = Severity::error;
  std::string rule;     // stable id, e.g. "unknown-key"; documented in docs/config.md
  std::string message;  // one line, no trailing period
};

// Collects findings in the order they were found.
class Diagnostics {
 public:
  void add(Diagnostic diagnostic) { items_.push_back(std::move(diagnostic)); }
  void error(SourceLocation where, std::string rule, std::string message) {
    add({std::move(where), Severity::error, std::move(rule), std::move(message)});
  }
  void warning(SourceLocation where, std::string rule, std::string message) {
    add({std::move(where), Severity::warning, std::move(rule), std::move(message)});
  }
  void note(SourceLocation where, std::string rule, std::string message) {
    add({std::move(where), Severity::note, std::move(rule), std::move(message)});
  }

  bool has_errors() const noexcept;
  std::size_t count(Severity severity) const noexcept;
  const std::vector<Diagnostic>& items() const noexcept { return items_; }
  std::vector<Diagnostic>& items() noexcept { return items_; }

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace mcpgw::config
