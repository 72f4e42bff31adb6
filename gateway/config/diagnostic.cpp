#include "gateway/config/diagnostic.hpp"

#include <algorithm>

#include "gateway/config/values.hpp"

namespace mcpgw::config {

std::string printable_location(const SourceLocation& where) {
  std::string text = where.file.empty() ? std::string("mcpgw") : printable(where.file);
  if (where.line > 0) {
    text += ':' + std::to_string(where.line);
    if (where.column > 0)
      text += ':' + std::to_string(where.column);
  }
  return text;
}

const char* to_string(Severity severity) noexcept {
  switch (severity) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    case Severity::note:
      return "note";
  }
  return "error";
}

bool Diagnostics::has_errors() const noexcept {
  return count(Severity::error) > 0;
}

std::size_t Diagnostics::count(Severity severity) const noexcept {
  return static_cast<std::size_t>(std::count_if(
      items_.begin(), items_.end(), [&](const Diagnostic& d) { return d.severity == severity; }));
}

}  // namespace mcpgw::config
