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

}  // namespace mcpgw::cli
