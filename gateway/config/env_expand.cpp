#include "gateway/config/env_expand.hpp"

namespace mcpgw::config {
namespace {

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

}  // namespace

EnvExpansion expand_env(std::string_view text, const EnvLookup& env) {
  EnvExpansion out;
  if (text.find('$') == std::string_view::npos) {
    out.value = std::string(text);
    return out;
  }
  out.value.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size() || (text[i + 1] != '{' && text[i + 1] != '$')) {
      out.value.push_back(c);
      ++i;
      continue;
    }
    if (text[i + 1] == '$') {
      out.value.push_back('$');
      i += 2;
      continue;
    }
    const std::size_t start = i;
    std::size_t j = i + 2;
    const std::size_t name_start = j;
    if (j < text.size() && is_name_start(text[j])) {
      ++j;
      while (j < text.size() && is_name_char(text[j])) {
        ++j;
      }
    }
    const auto name = text.substr(name_start, j - name_start);
    bool has_default = false;
    std::string_view fallback;
    bool well_formed = !name.empty() && j < text.size();
    if (well_formed && text[j] == ':') {
      if (j + 1 < text.size() && text[j + 1] == '-') {
        const auto close = text.find('}', j + 2);
        if (close == std::string_view::npos) {
          well_formed = false;
        } else {
          has_default = true;
          fallback = text.substr(j + 2, close - (j + 2));
          j = close;
        }
      } else {
        well_formed = false;
      }
    }
    if (!well_formed || text[j] != '}') {
      EnvIssue issue;
      issue.kind = EnvIssue::Kind::malformed;
      issue.offset = start;
      const auto close = text.find('}', start);
      if (name.empty()) {
        issue.message =
            "malformed environment reference: expected a variable name after '${' "
            "(letters, digits and '_'; write '$$' for a literal '$')";
      } else if (close == std::string_view::npos) {
        issue.message =
            "malformed environment reference: missing '}' after '${" + std::string(name) + "'";
      } else {
        issue.message = "malformed environment reference '" +
                        std::string(text.substr(start, close - start + 1)) +
                        "': write ${NAME} or ${NAME:-default}";
      }
      out.issues.push_back(std::move(issue));
      // Keep the text as written so that the rest of the value still expands.
      out.value.append(text.substr(start, 2));
      i = start + 2;
      continue;
    }
    std::optional<std::string> value = env ? env(std::string(name)) : std::nullopt;
    if (has_default) {
      if (value && !value->empty()) {
        out.value.append(*value);
      } else {
        out.value.append(fallback);
      }
    } else if (value) {
      out.value.append(*value);
    } else {
      EnvIssue issue;
      issue.kind = EnvIssue::Kind::undefined;
      issue.offset = start;
      issue.name = std::string(name);
      issue.message = "environment variable '" + issue.name +
                      "' is not set; it expands to an empty string (use ${" + issue.name +
                      ":-default} for a fallback)";
      out.issues.push_back(std::move(issue));
    }
    i = j + 1;
  }
  return out;
}

}  // namespace mcpgw::config
