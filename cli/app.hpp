// The mcpgw command line. Exit codes: 0 ok, 1 findings or failure, 2 usage or I/O error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace mcpgw::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

int run(int argc, char** argv);
// The same, with the arguments after the program name and explicit streams (for tests).
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// What the command line defines, walked from the same CLI::App that run() parses with; the
// docs-drift test checks every entry against the manual pages and shell completions.
struct OptionDescription {
  std::vector<std::string> names;  // "-h", "--help"; a positional has its own name ("files")
  bool positional = false;
  bool takes_value = false;
  std::string value_name;           // as shown in --help, e.g. "FILE" or "text|json|sarif"
  std::vector<std::string> values;  // the accepted values, when they are a fixed set
  std::string help;
};

struct CommandDescription {
  std::string name;  // empty for the top level: its options are the global ones
  std::string summary;
  std::vector<OptionDescription> options;
};

// The top level first, then the subcommands in the order they are defined.
std::vector<CommandDescription> describe_cli();

}  // namespace mcpgw::cli
