#include "gateway/lint/lint.hpp"

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <ostream>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/lint/render.hpp"
#include "gateway/policy/testing.hpp"

namespace mcpgw::lint {
namespace {

using config::Diagnostic;
using config::Severity;

constexpr int kExitClean = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsageOrIo = 2;

// Findings that mean lint could not do its job, so the exit status is 2: a file named on the
// command line (reported at line 0) that cannot be read, or a failure inside the loader. An
// unreadable include is reported at the include and is a finding about the config (status 1).
bool is_fatal(const Diagnostic& diagnostic) {
  if (diagnostic.rule == "internal-error")
    return true;
  return diagnostic.rule == "io-error" && diagnostic.where.line == 0;
}

// A path's identity for "is this the same file": canonical when it exists, else absolute.
std::string file_identity(const std::string& path) {
  std::error_code error;
  auto canonical = std::filesystem::weakly_canonical(path, error);
  if (!error)
    return canonical.string();
  auto absolute = std::filesystem::absolute(path, error);
  if (!error)
    return absolute.lexically_normal().string();
  return path;
}

struct LoadedRoot {
  std::string path;
  std::string identity;
  config::ConfigOrTestsResult result;  // a configuration, or policy tests checked on their own
  std::set<std::string> reads;         // identities of every file the loader read for this root

  bool is_config() const { return result.kind == config::FileKind::configuration; }
  const config::Diagnostics& diagnostics() const {
    return is_config() ? result.config.diagnostics : result.tests.diagnostics;
  }
  const config::SourceFiles& sources() const {
    return is_config() ? result.config.sources : result.tests.sources;
  }
};

// Diagnostics grouped with the notes that follow them, so deduplication never separates a note
// from the finding it explains.
class DiagnosticCollector {
 public:
  void add_all(const std::vector<Diagnostic>& diagnostics) {
    std::size_t start = 0;
    while (start < diagnostics.size()) {
      std::size_t end = start + 1;
      while (end < diagnostics.size() && diagnostics[end].severity == Severity::note)
        ++end;
      add_group(diagnostics, start, end);
      start = end;
    }
  }

  std::vector<Diagnostic> take() { return std::move(kept_); }

 private:
  static void append_key(std::string& key, const Diagnostic& diagnostic) {
    key += diagnostic.where.file;
    key += '\0';
    key += std::to_string(diagnostic.where.line) + ':' + std::to_string(diagnostic.where.column);
    key += '\0';
    key += config::to_string(diagnostic.severity);
    key += '\0';
    key += diagnostic.rule;
    key += '\0';
    key += diagnostic.message;
    key += '\n';
  }

  void add_group(const std::vector<Diagnostic>& diagnostics, std::size_t start, std::size_t end) {
    std::string key;
    for (std::size_t i = start; i < end; ++i)
      append_key(key, diagnostics[i]);
    if (!seen_.insert(std::move(key)).second)
      return;
    kept_.insert(kept_.end(), diagnostics.begin() + static_cast<std::ptrdiff_t>(start),
                 diagnostics.begin() + static_cast<std::ptrdiff_t>(end));
  }

  std::set<std::string> seen_;
  std::vector<Diagnostic> kept_;
};

void merge_sources(config::SourceFiles& into, const config::SourceFiles& from) {
  for (const auto& [file, contents] : from.contents)
    into.contents.emplace(file, contents);
}

// Loads each distinct root once, as a configuration or as a policy test file by what it holds,
// and drops roots that another given root pulls in by `include`: their findings are reported as
// part of that root. In an include cycle the first given wins.
std::vector<LoadedRoot> load_roots(const std::vector<std::string>& files) {
  std::vector<LoadedRoot> roots;
  std::set<std::string> given;
  for (const auto& file : files) {
    std::string identity = file_identity(file);
    if (!given.insert(identity).second)
      continue;  // the same file named twice
    LoadedRoot root{file, std::move(identity), config::load_config_or_policy_tests(file), {}};
    for (const auto& entry : root.sources().contents) {
      root.reads.insert(file_identity(entry.first));
    }
    roots.push_back(std::move(root));
  }
  std::vector<bool> covered(roots.size(), false);
  for (std::size_t i = 0; i < roots.size(); ++i) {
    for (std::size_t j = 0; j < roots.size() && !covered[i]; ++j) {
      if (i == j || !roots[j].reads.contains(roots[i].identity))
        continue;
      const bool mutual = roots[i].reads.contains(roots[j].identity);
      covered[i] = !mutual || j < i;
    }
  }
  std::vector<LoadedRoot> kept;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    if (!covered[i])
      kept.push_back(std::move(roots[i]));
  }
  return kept;
}

TestReport to_report(const policy::TestOutcome& outcome) {
  TestReport report;
  if (outcome.test_case != nullptr) {
    report.name = outcome.test_case->name;
    report.where = outcome.test_case->where;
    report.expected = outcome.test_case->expect;
    report.expected_rule = outcome.test_case->expect_rule;
  }
  report.passed = outcome.passed;
  report.actual = outcome.actual.effect;
  report.actual_rule = outcome.actual.rule_id;
  report.actual_rule_where = outcome.actual.rule_where;
  return report;
}

int exit_code(const Report& report, const Options& options, bool tests_wanted) {
  bool fatal = false;
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const auto& diagnostic : report.diagnostics) {
    if (is_fatal(diagnostic))
      fatal = true;
    if (diagnostic.severity == Severity::error)
      ++errors;
    if (diagnostic.severity == Severity::warning)
      ++warnings;
  }
  if (fatal)
    return kExitUsageOrIo;
  std::size_t failed = 0;
  for (const auto& test : report.tests) {
    if (!test.passed)
      ++failed;
  }
  if (errors > 0 || failed > 0 || (options.strict && warnings > 0))
    return kExitFindings;
  if (tests_wanted && !report.tests_ran)
    return kExitFindings;
  return kExitClean;
}

int run_checked(const Options& options, std::ostream& out, std::ostream& err) {
  if (options.files.empty()) {
    err << "mcpgw lint: no files to check\n";
    return kExitUsageOrIo;
  }
  if (options.test_file && options.files.size() != 1) {
    err << "mcpgw lint: --test needs exactly one policy file, got " << options.files.size() << "\n";
    return kExitUsageOrIo;
  }

  Report report;
  config::SourceFiles sources;
  DiagnosticCollector collector;
  std::set<std::string> files_checked;

  std::vector<LoadedRoot> roots = load_roots(options.files);
  if (options.test_file && !roots.front().is_config()) {
    err << "mcpgw lint: --test runs the cases against a configuration or policy file, but "
        << roots.front().path
        << " holds test cases ([[case]] tables); usage: mcpgw lint --test CASES POLICY\n";
    return kExitUsageOrIo;
  }
  for (const auto& root : roots) {
    collector.add_all(root.diagnostics().items());
    merge_sources(sources, root.sources());
    files_checked.insert(root.identity);
    files_checked.insert(root.reads.begin(), root.reads.end());
  }

  // Declared here so the test cases outlive the outcomes that point at them.
  config::TestFileResult cases;
  if (options.test_file) {
    cases = config::load_policy_tests(*options.test_file);
    collector.add_all(cases.diagnostics.items());
    merge_sources(sources, cases.sources);
    files_checked.insert(file_identity(*options.test_file));
    for (const auto& entry : cases.sources.contents) {
      files_checked.insert(file_identity(entry.first));
    }
    const auto& loaded = roots.front().result.config;
    if (loaded.config && loaded.config->policy) {
      for (const auto& outcome : policy::run_tests(*loaded.config->policy, cases.cases)) {
        report.tests.push_back(to_report(outcome));
      }
      report.tests_ran = true;
    }
  }
  report.diagnostics = collector.take();
  report.files_checked = files_checked.size();

  switch (options.format) {
    case OutputFormat::text: {
      const bool color =
          color_enabled(options.color, stream_is_terminal(out), std::getenv("NO_COLOR"));
      render_text(report, sources, color, out);
      break;
    }
    case OutputFormat::json:
      render_json(report, out);
      break;
    case OutputFormat::sarif:
      render_sarif(report, options.tool_version, out);
      break;
  }
  if (options.test_file && !report.tests_ran) {
    err << "mcpgw lint: policy tests not run: " << options.files.front() << " has errors\n";
  }
  out.flush();
  if (!out) {
    err << "mcpgw lint: cannot write the output\n";
    return kExitUsageOrIo;
  }
  return exit_code(report, options, options.test_file.has_value());
}

}  // namespace

int run(const Options& options, std::ostream& out, std::ostream& err) {
  try {
    return run_checked(options, out, err);
  } catch (const std::exception& error) {
    err << "mcpgw lint: internal error: " << error.what() << "\n";
  } catch (...) {
    err << "mcpgw lint: internal error\n";
  }
  return kExitUsageOrIo;
}

}  // namespace mcpgw::lint
