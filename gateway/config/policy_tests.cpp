// load_policy_tests: the [[case]] file that `mcpgw lint --test` evaluates against a policy.
#include <algorithm>
#include <array>
#include <tuple>
#include <unordered_map>

#include "gateway/config/config.hpp"
#include "gateway/config/file_kind.hpp"
#include "gateway/config/toml_reader.hpp"
#include "gateway/config/values.hpp"

namespace mcpgw::config {
namespace {

using detail::Reader;
using detail::TableReader;

constexpr std::array<std::string_view, 2> kEffects = {"allow", "deny"};

std::string quote(std::string_view text) {
  return "'" + printable(text) + "'";
}

std::string location_text(const SourceLocation& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

void read_principal(TableReader& table, policy::Principal& principal) {
  Reader& reader = table.reader();
  table.check_keys({"subject", "api_key", "cert_subject", "claims", "scopes", "authenticated"});
  bool identified = false;
  if (const auto subject = table.string("subject")) {
    principal.subject = subject->value;
    identified = true;
  }
  if (const auto api_key = table.string("api_key")) {
    principal.api_key = api_key->value;
    identified = true;
  }
  if (const auto cert_subject = table.string("cert_subject")) {
    principal.cert_subject = cert_subject->value;
    identified = true;
  }
  if (const auto* claims = table.subtable("claims")) {
    principal.claims = detail::to_json(reader, *claims);
    identified = true;
  }
  if (const auto scopes = table.string_array("scopes")) {
    for (const auto& scope : *scopes) {
      principal.scopes.push_back(scope.value);
    }
  }
  // A principal that names someone is authenticated unless the case says otherwise.
  principal.authenticated = table.boolean("authenticated").value_or(identified);
}

std::optional<policy::TestCase> read_case(TableReader& table,
                                          std::unordered_map<std::string, SourceLocation>& names) {
  Reader& reader = table.reader();
  const auto errors_before = reader.error_count();
  table.check_keys(
      {"name", "method", "backend", "tool", "prompt", "resource", "principal", "expect", "rule"});
  policy::TestCase out;
  out.where = table.where();
  if (const auto name = table.string("name", true)) {
    if (name->value.empty()) {
      reader.error(name->where, "invalid-value", "'name' must not be empty");
    }
    out.name = name->value;
    const auto [it, inserted] = names.emplace(name->value, name->where);
    if (!inserted) {
      reader.warning(name->where, "duplicate-case-name",
                     "a case named " + quote(name->value) + " is already defined at " +
                         location_text(it->second));
    }
  }
  // At most one of tool, prompt and resource says what the request is about.
  const std::array<std::pair<std::string_view, policy::TargetKind>, 3> kinds = {{
      {"tool", policy::TargetKind::tool},
      {"prompt", policy::TargetKind::prompt},
      {"resource", policy::TargetKind::resource},
  }};
  std::string_view chosen;
  for (const auto& [key, kind] : kinds) {
    const auto value = table.string(key);
    if (!value) {
      continue;
    }
    if (!chosen.empty()) {
      reader.error(table.key_where(key), "conflicting-keys",
                   "a case is about one thing: set only one of 'tool', 'prompt' and 'resource' "
                   "(found '" +
                       std::string(chosen) + "' and '" + std::string(key) + "')");
      continue;
    }
    chosen = key;
    out.target.kind = kind;
    out.target.name = value->value;
  }
  if (const auto method = table.string("method")) {
    if (method->value.empty()) {
      reader.error(method->where, "invalid-value", "'method' must not be empty");
    }
    out.target.method = method->value;
  } else if (chosen == "tool") {
    out.target.method = "tools/call";
  } else if (chosen == "prompt") {
    out.target.method = "prompts/get";
  } else if (chosen == "resource") {
    out.target.method = "resources/read";
  } else if (!table.has("method") && !table.has("tool") && !table.has("prompt") &&
             !table.has("resource")) {
    reader.error(table.where(), "missing-key",
                 "[[case]] needs 'method' (or one of 'tool', 'prompt', 'resource', which imply "
                 "tools/call, prompts/get and resources/read)");
  }
  if (const auto backend = table.string("backend")) {
    out.target.backend = backend->value;
  }
  if (const auto* principal = table.subtable("principal")) {
    TableReader principal_table(reader, *principal, "'principal'");
    read_principal(principal_table, out.principal);
  }
  if (const auto expect = table.string("expect", true)) {
    const auto it = std::find(kEffects.begin(), kEffects.end(), expect->value);
    if (it == kEffects.end()) {
      std::string message =
          "'expect': invalid value " + quote(expect->value) + "; expected 'allow' or 'deny'";
      if (const auto suggestion = closest_match(expect->value, kEffects)) {
        message += "; did you mean " + quote(*suggestion) + "?";
      }
      reader.error(expect->where, "invalid-value", std::move(message));
    } else {
      out.expect = it == kEffects.begin() ? policy::Effect::allow : policy::Effect::deny;
    }
  }
  if (const auto rule = table.string("rule")) {
    out.expect_rule = rule->value;
  }
  if (reader.error_count() != errors_before) {
    return std::nullopt;
  }
  return out;
}

// `document`, when given, is the parse of `text_in`, which is then not parsed again.
void read_test_file(const std::string& path, std::optional<std::string> text_in,
                    std::optional<toml::table> document, const LoadOptions& options,
                    TestFileResult& result) {
  detail::FileRead read = detail::read_root(path, std::move(text_in));
  if (!read.ok) {
    result.diagnostics.error({path, 0, 0}, read.too_large ? "file-too-large" : "io-error",
                             "cannot read '" + path + "': " + read.error);
    return;
  }
  const auto [stored, inserted] = result.sources.contents.emplace(path, std::move(read.text));
  (void)inserted;
  const std::string& text = stored->second;
  if (!document) {
    document = detail::parse_toml(text, path, result.diagnostics);
  }
  if (!document) {
    return;
  }
  Reader reader(path, options, result.diagnostics, &text);
  TableReader root(reader, *document, "the top level");
  constexpr std::array<std::string_view, 1> kKnown = {detail::kTestCaseKey};
  root.check_keys(kKnown, detail::kConfigTopLevelKeys);
  for (const auto key : detail::kConfigTopLevelKeys) {
    if (root.has(key)) {
      reader.error(root.key_where(key), "unknown-key",
                   quote(key) +
                       " is configuration; a policy test file holds only [[case]] tables (keep "
                       "the configuration in a file of its own)");
    }
  }
  const auto cases = root.table_array(detail::kTestCaseKey);
  const auto* case_node = root.node(detail::kTestCaseKey);
  const auto* case_array = case_node != nullptr ? case_node->as_array() : nullptr;
  if (case_node == nullptr || (case_array != nullptr && case_array->empty())) {
    reader.warning({path, 1, 1}, "no-test-cases", "the file defines no [[case]]");
  }
  std::unordered_map<std::string, SourceLocation> names;
  for (const auto* table : cases) {
    TableReader case_table(reader, *table, "[[case]]");
    if (auto test_case = read_case(case_table, names)) {
      result.cases.push_back(std::move(*test_case));
    }
  }
}

TestFileResult load(const std::string& path, std::optional<std::string> text,
                    std::optional<toml::table> document, const LoadOptions& options) {
  TestFileResult result;
  try {
    read_test_file(path, std::move(text), std::move(document), options, result);
    // Findings are made key by key; show them in file order, as the configuration loader does.
    auto& items = result.diagnostics.items();
    std::stable_sort(items.begin(), items.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
    });
    detail::make_messages_printable(result.diagnostics);
  } catch (const std::exception& error) {
    result.cases.clear();
    result.diagnostics.error({path, 0, 0}, "internal-error",
                             std::string("loading the test file failed: ") + error.what());
  } catch (...) {
    result.cases.clear();
    result.diagnostics.error({path, 0, 0}, "internal-error", "loading the test file failed");
  }
  return result;
}

}  // namespace

TestFileResult load_policy_tests(const std::string& path, const LoadOptions& options) {
  return load(path, std::nullopt, std::nullopt, options);
}

TestFileResult load_policy_tests_text(const std::string& path, std::optional<std::string> text,
                                      const LoadOptions& options) {
  return load(path, std::move(text), std::nullopt, options);
}

TestFileResult detail::load_policy_tests_parsed(const std::string& path, std::string text,
                                                toml::table document, const LoadOptions& options) {
  return load(path, std::move(text), std::move(document), options);
}

}  // namespace mcpgw::config
