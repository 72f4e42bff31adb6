#include "cli/app.hpp"

#include <algorithm>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>

#include "gateway/lint/lint.hpp"

namespace mcpgw::cli {
namespace {

struct PendingSubcommand {
  const char* name;
  const char* summary;
  const char* issue;
};

// Subcommands whose implementation has not landed: they say so and exit 2, never pretend.
constexpr PendingSubcommand kPending[] = {
    {"serve", "Run the MCP gateway (not built yet)", "the serve issue (#3)"},
    {"inspect", "Decode captured MCP traffic (not built yet)", "the inspect issue (#5)"},
    {"replay", "Re-send recorded sessions against a backend (not built yet)",
     "the replay issue (#6)"},
};

void add_lint(CLI::App& app, lint::Options& options) {
  auto* lint = app.add_subcommand("lint", "Validate config and policy files, run policy tests");
  lint->add_option("files", options.files, "Config or policy files to check")->required();
  const std::map<std::string, lint::OutputFormat> formats{{"text", lint::OutputFormat::text},
                                                          {"json", lint::OutputFormat::json},
                                                          {"sarif", lint::OutputFormat::sarif}};
  lint->add_option("--format", options.format, "Output format: text, json or sarif")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case))
      ->default_str("text");
  lint->add_flag("--strict", options.strict, "Treat warnings as errors");
  lint->add_option("--test", options.test_file,
                   "Evaluate the policy decision test cases in this TOML file");
  const std::map<std::string, lint::ColorMode> colors{{"auto", lint::ColorMode::automatic},
                                                      {"always", lint::ColorMode::always},
                                                      {"never", lint::ColorMode::never}};
  lint->add_option("--color", options.color, "Colour the text output: auto, always or never")
      ->transform(CLI::CheckedTransformer(colors, CLI::ignore_case))
      ->default_str("auto");
}

}  // namespace

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  CLI::App app{"mcpgw: a gateway and toolkit for the Model Context Protocol", "mcpgw"};
  app.set_version_flag("--version", std::string("mcpgw ") + MCPGW_VERSION);
  app.require_subcommand(1);
  app.footer("Exit codes: 0 ok, 1 findings or failure, 2 usage or I/O error.");

  lint::Options lint_options;
  add_lint(app, lint_options);
  for (const auto& pending : kPending) {
    app.add_subcommand(pending.name, pending.summary)->allow_extras()->prefix_command();
  }

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error, out, err);
    return code == 0 ? kExitOk : kExitUsage;
  }

  for (const auto& pending : kPending) {
    if (app.got_subcommand(pending.name)) {
      err << "mcpgw " << pending.name << ": not built yet; it arrives with " << pending.issue
          << ".\n";
      return kExitUsage;
    }
  }
  return lint::run(lint_options, out, err);
}

int run(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  try {
    return run(args, std::cout, std::cerr);
  } catch (const std::exception& error) {
    std::cerr << "mcpgw: internal error: " << error.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace mcpgw::cli
