// Fuzzes the configuration loader and the policy test file loader on in-memory text.
// Input: one byte of options, then the TOML text.
//   bit 0: load it as a policy test file instead of a configuration
//   bit 1: check that referenced files exist
//   bit 2: the environment defines every variable whose name starts with 'A'..'M'
// Checks, beyond "no crash, no leak, no UB, no exception":
//  - a configuration is returned exactly when no error was reported;
//  - every diagnostic has a rule id of [a-z0-9-], a non-empty one-line message, and a location
//    that is either line 0 or inside a file the loader read (line within its line count);
//  - loading the same input twice gives the same diagnostics (no hidden state);
//  - a loaded configuration keeps its promises: unique, valid backend names that do not run into
//    the separator, exactly one transport per backend, a compiled policy.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "gateway/config/config.hpp"
#include "gateway/config/values.hpp"

namespace {

using namespace mcpgw::config;

// The root's directory does not exist, so relative includes and files are simply missing.
constexpr const char* kVirtualPath = "/nonexistent-mcpgw-fuzz/config.toml";

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_config: invariant violated: %s\n", what);
    std::abort();
  }
}

std::size_t count_lines(const std::string& text) {
  std::size_t lines = 1;
  for (char c : text) {
    lines += c == '\n' ? 1 : 0;
  }
  return lines;
}

void check_diagnostics(const Diagnostics& diagnostics, const SourceFiles& sources) {
  for (const auto& d : diagnostics.items()) {
    check(!d.rule.empty(), "empty rule id");
    for (char c : d.rule) {
      check((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-', "rule id charset");
    }
    check(!d.message.empty(), "empty message");
    check(d.message.find('\n') == std::string::npos, "multi-line message");
    check(d.message.size() <= 4000, "unbounded message");
    if (d.where.line == 0) {
      continue;
    }
    const std::string* text = sources.find(d.where.file);
    check(text != nullptr, "diagnostic in a file that was not read");
    check(d.where.line <= count_lines(*text), "line beyond the end of the file");
    check(d.where.column >= 1, "column 0 on a real line");
  }
}

bool same(const Diagnostics& a, const Diagnostics& b) {
  if (a.items().size() != b.items().size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.items().size(); ++i) {
    const auto& x = a.items()[i];
    const auto& y = b.items()[i];
    if (x.rule != y.rule || x.message != y.message || x.severity != y.severity ||
        x.where.file != y.where.file || x.where.line != y.where.line ||
        x.where.column != y.where.column) {
      return false;
    }
  }
  return true;
}

void check_config(const Config& config) {
  check(config.policy != nullptr, "a loaded config without a compiled policy");
  check(!config.files.empty() && config.files.front() == kVirtualPath, "root is the first file");
  const auto& separator = config.server.separator;
  check(is_valid_separator(separator), "invalid separator accepted");
  std::set<std::string> names;
  for (const auto& backend : config.backends) {
    check(is_valid_backend_name(backend.name), "invalid backend name accepted");
    check((backend.name + separator).find(separator) == backend.name.size(),
          "backend name runs into the separator");
    check(names.insert(backend.name).second, "duplicate backend accepted");
    if (backend.transport == BackendTransport::stdio) {
      check(!backend.command.empty() && !backend.command.front().empty(), "stdio without program");
      check(backend.url.empty(), "stdio backend with a url");
    } else {
      check(backend.command.empty(), "HTTP backend with a command");
      check(parse_http_url(backend.url, false).has_value(), "invalid backend url accepted");
    }
  }
  const auto listen = parse_listen(config.server.listen);
  check(listen.has_value(), "invalid listen accepted");
  check(listen->port == config.server.port && listen->host == config.server.host,
        "host and port disagree with listen");
  check(!config.is_fragment || config.backends.empty(), "a fragment with backends");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::uint8_t flags = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  LoadOptions options;
  options.check_files_exist = (flags & 2u) != 0;
  const bool rich_env = (flags & 4u) != 0;
  options.env = [rich_env](const std::string& name) -> std::optional<std::string> {
    if (rich_env && !name.empty() && name.front() >= 'A' && name.front() <= 'M') {
      return name.size() % 2 == 0 ? std::string() : "value-of-" + name;
    }
    return std::nullopt;
  };

  if ((flags & 1u) != 0) {
    const auto first = load_policy_tests_text(kVirtualPath, text, options);
    check_diagnostics(first.diagnostics, first.sources);
    const auto second = load_policy_tests_text(kVirtualPath, text, options);
    check(same(first.diagnostics, second.diagnostics), "nondeterministic test file diagnostics");
    check(first.cases.size() == second.cases.size(), "nondeterministic cases");
    for (const auto& test_case : first.cases) {
      check(!test_case.name.empty(), "a case without a name");
      check(!test_case.target.method.empty(), "a case without a method");
    }
    return 0;
  }

  const auto first = load_config_text(kVirtualPath, text, options);
  check_diagnostics(first.diagnostics, first.sources);
  check((first.config != nullptr) == !first.diagnostics.has_errors(),
        "config returned despite errors, or withheld without one");
  if (first.config) {
    check_config(*first.config);
  }
  const auto second = load_config_text(kVirtualPath, text, options);
  check(same(first.diagnostics, second.diagnostics), "nondeterministic config diagnostics");

  // lint's entry point classifies the file first; for a configuration it must agree exactly.
  const auto classified = load_config_or_policy_tests_text(kVirtualPath, text, options);
  if (classified.kind == FileKind::configuration) {
    check(same(first.diagnostics, classified.config.diagnostics),
          "classified load disagrees with load_config");
  } else {
    check_diagnostics(classified.tests.diagnostics, classified.tests.sources);
  }
  return 0;
}
