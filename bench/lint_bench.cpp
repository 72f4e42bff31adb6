// lint_bench: how long `mcpgw lint` takes on a large policy, and what decide() costs per call.
//
// Generates a realistic config (default: 10,000 rules over 50 backends: literal and glob tool,
// prompt and resource names, subjects and group claims, a few deny rules, method-level rules and
// rate limits), writes it to a temporary TOML file and times
//   1. config::load_config() end to end (read, parse, validate, compile, analyse: what lint runs),
//   2. policy::compile() alone on the same rules built in memory,
//   3. CompiledPolicy::decide() per call over random requests.
// Usage: lint_bench [--rules N] [--backends N] [--runs K] [--calls N] [--keep] [--no-load]
//                   [--no-decide] [--worst]
// --worst generates a pathological policy (every rule a candidate for every other) to show that
// the analysis stays bounded (it stops with an `analysis-limit` note).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gateway/config/config.hpp"
#include "gateway/policy/policy.hpp"

namespace {

using namespace mcpgw;
using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t rules = 10000;
  std::size_t backends = 50;
  std::size_t runs = 7;
  std::size_t calls = 1000000;
  bool keep = false;
  bool load = true;
  bool decide = true;
  bool worst = false;  // every rule in the same analysis bucket, none covering another
};

struct GeneratedRule {
  std::string id;
  policy::Effect effect = policy::Effect::allow;
  std::vector<std::string> methods;
  std::vector<std::string> backends;
  std::vector<std::string> tools;
  std::vector<std::string> prompts;
  std::vector<std::string> resources;
  std::vector<std::string> subjects;
  std::vector<std::string> groups;  // claims = { groups = [...] }
};

struct Workload {
  std::vector<std::string> backends;
  std::vector<GeneratedRule> rules;
  std::size_t rate_limits = 0;
};

class Random {
 public:
  explicit Random(unsigned seed) : engine_(seed) {}
  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(engine_);
  }
  bool chance(std::size_t percent) { return below(100) < percent; }

 private:
  std::mt19937_64 engine_;
};

std::string tool_name(std::size_t n) {
  return "tool_" + std::to_string(n);
}

// Allow rules grant tool_* names and read-ish globs; deny rules only ever name danger_* tools, so
// the generated policy has no allow/deny conflicts and lints clean apart from a few shadowing
// warnings.
Workload generate(const Options& options) {
  Random random(42);
  Workload w;
  static const char* const kKnown[] = {"github",     "gitlab",   "jira",   "confluence", "slack",
                                       "filesystem", "postgres", "sentry", "linear",     "notion"};
  for (std::size_t i = 0; i < options.backends; ++i) {
    w.backends.push_back(i < std::size(kKnown) ? std::string(kKnown[i])
                                               : "service-" + std::to_string(i));
  }
  static const char* const kGlobs[] = {"create_*", "list_*", "get_*", "search_*", "read_*"};
  for (std::size_t i = 0; i < options.rules; ++i) {
    GeneratedRule rule;
    rule.id = "rule-" + std::to_string(i);
    if (options.worst) {  // pairwise different subject prefixes: nothing to prune on
      rule.tools = {"*"};
      rule.subjects = {"user-" + std::to_string(i) + "-*"};
      w.rules.push_back(std::move(rule));
      continue;
    }
    const std::string& backend = w.backends[random.below(w.backends.size())];
    const std::size_t shape = random.below(100);
    if (shape < 55) {  // team access to some tools of one backend
      rule.backends = {backend};
      const std::size_t names = 1 + random.below(3);
      for (std::size_t n = 0; n < names; ++n) {
        rule.tools.push_back(random.chance(80) ? tool_name(random.below(400))
                                               : kGlobs[random.below(std::size(kGlobs))]);
      }
      rule.groups = {"team-" + std::to_string(random.below(200))};
    } else if (shape < 70) {  // a person's access
      rule.backends = {backend};
      rule.tools = {tool_name(random.below(400))};
      rule.subjects = {"user-" + std::to_string(random.below(2000)) + "@example.com"};
    } else if (shape < 80) {  // dangerous tools denied for most
      rule.effect = policy::Effect::deny;
      rule.backends = {backend};
      rule.tools = {random.chance(50) ? "danger_" + std::to_string(random.below(100))
                                      : "danger_" + std::to_string(random.below(10)) + "*"};
      if (random.chance(50))
        rule.groups = {"contractors-" + std::to_string(random.below(50))};
    } else if (shape < 88) {
      rule.backends = {backend};
      rule.prompts = {"prompt_" + std::to_string(random.below(100))};
      rule.groups = {"team-" + std::to_string(random.below(200))};
    } else if (shape < 95) {
      rule.backends = {backend};
      rule.resources = {"file:///srv/" + backend + "/" + std::to_string(random.below(50)) + "/*"};
      rule.subjects = {"user-" + std::to_string(random.below(2000)) + "@example.com"};
    } else if (shape < 98) {  // method-level
      rule.methods = {random.chance(50) ? "logging/setLevel" : "completion/complete"};
      rule.subjects = {"user-" + std::to_string(random.below(2000)) + "@example.com"};
    } else {  // cross-backend
      rule.effect = random.chance(50) ? policy::Effect::deny : policy::Effect::allow;
      rule.tools = {rule.effect == policy::Effect::deny
                        ? "*_admin_" + std::to_string(random.below(100))
                        : "re:export_[0-9]+_" + std::to_string(random.below(100))};
      rule.groups = {"admins-" + std::to_string(random.below(20))};
    }
    w.rules.push_back(std::move(rule));
  }
  w.rate_limits = std::max<std::size_t>(1, options.rules / 500);
  return w;
}

std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string toml_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + toml_string(items[i]);
  return out + "]";
}

std::string to_toml(const Workload& w) {
  std::ostringstream out;
  out << "[server]\nlisten = \"127.0.0.1:8080\"\n\n";
  for (const std::string& backend : w.backends) {
    out << "[[backend]]\nname = " << toml_string(backend) << "\ncommand = [\"" << backend
        << "-mcp\"]\n\n";
  }
  out << "[policy]\ndefault = \"deny\"\n\n";
  const auto field = [&](const char* key, const std::vector<std::string>& items) {
    if (!items.empty())
      out << key << " = " << toml_array(items) << "\n";
  };
  for (const GeneratedRule& rule : w.rules) {
    out << "[[rule]]\nid = " << toml_string(rule.id) << "\neffect = \""
        << policy::to_string(rule.effect) << "\"\n";
    field("methods", rule.methods);
    field("backends", rule.backends);
    field("tools", rule.tools);
    field("prompts", rule.prompts);
    field("resources", rule.resources);
    field("subjects", rule.subjects);
    if (!rule.groups.empty())
      out << "claims = { groups = " << toml_array(rule.groups) << " }\n";
    out << "\n";
  }
  for (std::size_t i = 0; i < w.rate_limits; ++i) {
    out << "[[rate_limit]]\nid = \"limit-" << i << "\"\nscope = \"principal_tool\"\n"
        << "requests = 100\nwindow = \"1m\"\nburst = 20\nbackends = ["
        << toml_string(w.backends[i % w.backends.size()]) << "]\n\n";
  }
  return out.str();
}

policy::PatternListSpec pattern_list(const std::vector<std::string>& items) {
  policy::PatternListSpec spec;
  spec.present = !items.empty();
  for (const std::string& item : items)
    spec.patterns.push_back({item, {}});
  return spec;
}

policy::PolicySpec to_spec(const Workload& w) {
  policy::PolicySpec spec;
  spec.default_effect = policy::Effect::deny;
  std::uint32_t line = 1;
  for (const GeneratedRule& rule : w.rules) {
    policy::RuleSpec r;
    r.id = rule.id;
    r.effect = rule.effect;
    r.where = {"bench.toml", line++, 1};
    r.methods = pattern_list(rule.methods);
    r.backends = pattern_list(rule.backends);
    r.tools = pattern_list(rule.tools);
    r.prompts = pattern_list(rule.prompts);
    r.resources = pattern_list(rule.resources);
    r.principal.subjects = pattern_list(rule.subjects);
    if (!rule.groups.empty()) {
      r.principal.claims.push_back({"groups", pattern_list(rule.groups), {}});
    }
    spec.rules.push_back(std::move(r));
  }
  return spec;
}

struct Stats {
  double best_ms = 0;
  double median_ms = 0;
};

template <class Body>
Stats time_runs(std::size_t runs, Body&& body) {
  std::vector<double> samples;
  for (std::size_t i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    body();
    samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(samples.begin(), samples.end());
  return {samples.front(), samples[samples.size() / 2]};
}

void print_diagnostic_summary(const config::Diagnostics& diagnostics) {
  std::printf("    diagnostics: %zu errors, %zu warnings, %zu notes\n",
              diagnostics.count(config::Severity::error),
              diagnostics.count(config::Severity::warning),
              diagnostics.count(config::Severity::note));
  std::size_t shown = 0;
  for (const config::Diagnostic& d : diagnostics.items()) {
    if (d.severity != config::Severity::error || shown++ >= 5)
      continue;
    std::printf("      %s:%u: %s [%s]\n", d.where.file.c_str(), d.where.line, d.message.c_str(),
                d.rule.c_str());
  }
}

bool parse_options(int argc, char** argv, Options& options) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto number = [&](std::size_t& target) {
      if (i + 1 >= argc)
        return false;
      char* end = nullptr;
      const unsigned long long value = std::strtoull(argv[++i], &end, 10);
      if (end == nullptr || *end != '\0' || value == 0)
        return false;
      target = static_cast<std::size_t>(value);
      return true;
    };
    if (arg == "--rules") {
      if (!number(options.rules))
        return false;
    } else if (arg == "--backends") {
      if (!number(options.backends))
        return false;
    } else if (arg == "--runs") {
      if (!number(options.runs))
        return false;
    } else if (arg == "--calls") {
      if (!number(options.calls))
        return false;
    } else if (arg == "--keep") {
      options.keep = true;
    } else if (arg == "--worst") {
      options.worst = true;
    } else if (arg == "--no-load") {
      options.load = false;
    } else if (arg == "--no-decide") {
      options.decide = false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::cerr << "usage: lint_bench [--rules N] [--backends N] [--runs K] [--calls N] [--keep]"
                 " [--no-load] [--no-decide] [--worst]\n";
    return 2;
  }
  const Workload workload = generate(options);
  const std::string toml = to_toml(workload);
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("mcpgw-lint-bench-" + std::to_string(options.rules) + ".toml");
  {
    std::ofstream file(path, std::ios::binary);
    file << toml;
    if (!file) {
      std::cerr << "lint_bench: cannot write " << path << "\n";
      return 2;
    }
  }
  std::printf("lint_bench: %zu rules, %zu backends, %zu rate limits, %.1f KiB of TOML (%s)\n",
              workload.rules.size(), workload.backends.size(), workload.rate_limits,
              static_cast<double>(toml.size()) / 1024.0, path.c_str());

  // 1. End to end, exactly what `mcpgw lint` runs.
  if (options.load) {
    config::LoadOptions load_options;
    load_options.check_files_exist = false;
    config::LoadResult last;
    const Stats load =
        time_runs(options.runs, [&] { last = config::load_config(path, load_options); });
    std::printf("  load_config (end to end): best %.1f ms, median %.1f ms over %zu runs\n",
                load.best_ms, load.median_ms, options.runs);
    print_diagnostic_summary(last.diagnostics);
  }

  // 2. compile() alone (validation, analysis, index).
  const policy::PolicySpec spec = to_spec(workload);
  policy::CompileContext context;
  context.backends_known = true;
  context.backends = workload.backends;
  std::shared_ptr<const policy::CompiledPolicy> compiled;
  config::Diagnostics compile_diagnostics;
  const Stats compile_stats = time_runs(options.runs, [&] {
    compile_diagnostics = config::Diagnostics{};
    compiled = policy::compile(spec, context, compile_diagnostics);
  });
  std::printf("  policy::compile (in memory): best %.1f ms, median %.1f ms over %zu runs\n",
              compile_stats.best_ms, compile_stats.median_ms, options.runs);
  print_diagnostic_summary(compile_diagnostics);
  if (!compiled) {
    std::cerr << "lint_bench: the generated policy did not compile\n";
    return 1;
  }

  // 3. decide() per call over random requests from the same vocabulary.
  if (!options.decide) {
    if (!options.keep)
      std::filesystem::remove(path);
    return 0;
  }
  Random random(7);
  constexpr std::size_t kPrincipals = 256;
  constexpr std::size_t kTargets = 4096;
  std::vector<policy::Principal> principals(kPrincipals);
  for (policy::Principal& p : principals) {
    p.authenticated = true;
    p.subject = "user-" + std::to_string(random.below(2000)) + "@example.com";
    nlohmann::json groups = nlohmann::json::array();
    for (int g = 0; g < 3; ++g)
      groups.push_back("team-" + std::to_string(random.below(200)));
    p.claims["groups"] = std::move(groups);
  }
  std::vector<policy::Target> targets(kTargets);
  for (policy::Target& t : targets) {
    t.backend = workload.backends[random.below(workload.backends.size())];
    const std::size_t kind = random.below(100);
    if (kind < 80) {
      t.kind = policy::TargetKind::tool;
      t.method = "tools/call";
      t.name = random.chance(90) ? tool_name(random.below(400))
                                 : "danger_" + std::to_string(random.below(100));
    } else if (kind < 90) {
      t.kind = policy::TargetKind::prompt;
      t.method = "prompts/get";
      t.name = "prompt_" + std::to_string(random.below(100));
    } else {
      t.kind = policy::TargetKind::resource;
      t.method = "resources/read";
      t.name = "file:///srv/" + t.backend + "/" + std::to_string(random.below(50)) + "/x.txt";
    }
  }
  std::size_t allowed = 0;
  std::size_t by_rule = 0;
  const auto start = Clock::now();
  for (std::size_t i = 0; i < options.calls; ++i) {
    const policy::Decision decision =
        compiled->decide(principals[i % kPrincipals], targets[(i * 7919) % kTargets]);
    allowed += decision.effect == policy::Effect::allow ? 1u : 0u;
    by_rule += decision.by_default() ? 0u : 1u;
  }
  const double elapsed_ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
  std::printf("  decide: %.0f ns/call over %zu calls (%.1f%% allowed, %.1f%% decided by a rule)\n",
              elapsed_ns / static_cast<double>(options.calls), options.calls,
              100.0 * static_cast<double>(allowed) / static_cast<double>(options.calls),
              100.0 * static_cast<double>(by_rule) / static_cast<double>(options.calls));

  if (!options.keep)
    std::filesystem::remove(path);
  return 0;
}
