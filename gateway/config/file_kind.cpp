// load_config_or_policy_tests: lint's entry point, which tells the two kinds of file apart by
// their top level and loads each with its own loader, reading and parsing the file once.
#include "gateway/config/file_kind.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include "gateway/config/toml_reader.hpp"

namespace mcpgw::config {

FileKind detail::classify(const toml::table& top_level) {
  if (!top_level.contains(kTestCaseKey)) {
    return FileKind::configuration;
  }
  const bool has_config_key =
      std::any_of(kConfigTopLevelKeys.begin(), kConfigTopLevelKeys.end(),
                  [&](std::string_view key) { return top_level.contains(key); });
  return has_config_key ? FileKind::configuration : FileKind::policy_tests;
}

ConfigOrTestsResult load_config_or_policy_tests(const std::string& path,
                                                const LoadOptions& options) {
  return load_config_or_policy_tests_text(path, std::nullopt, options);
}

ConfigOrTestsResult load_config_or_policy_tests_text(const std::string& path,
                                                     std::optional<std::string> text,
                                                     const LoadOptions& options) {
  ConfigOrTestsResult result;
  try {
    const bool given = text.has_value();
    detail::FileRead read = detail::read_root(path, std::move(text));
    if (!read.ok) {
      // The configuration loader reports it (reading a file on disk again to find the reason).
      result.config = load_config_text(
          path, given ? std::optional<std::string>(std::move(read.text)) : std::nullopt, options);
      return result;
    }
    Diagnostics syntax;
    auto document = detail::parse_toml(read.text, path, syntax);
    if (!document) {
      // Not TOML, so neither kind: the configuration loader reports it (parsing up to the same
      // error again; only broken files pay for that).
      result.config = load_config_text(path, std::move(read.text), options);
      return result;
    }
    if (detail::classify(*document) == FileKind::policy_tests) {
      result.kind = FileKind::policy_tests;
      result.tests = detail::load_policy_tests_parsed(path, std::move(read.text),
                                                      std::move(*document), options);
    } else {
      result.config =
          detail::load_config_parsed(path, std::move(read.text), std::move(*document), options);
    }
  } catch (const std::exception& error) {
    result = ConfigOrTestsResult{};
    result.config.diagnostics.error({path, 0, 0}, "internal-error",
                                    std::string("loading the file failed: ") + error.what());
  } catch (...) {
    result = ConfigOrTestsResult{};
    result.config.diagnostics.error({path, 0, 0}, "internal-error", "loading the file failed");
  }
  return result;
}

}  // namespace mcpgw::config
