#include "inspect/inspect.hpp"

#include <chrono>
#include <ostream>
#include <string>
#include <utility>

#include "inspect/pipeline.hpp"

namespace mcpgw::inspect {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

}  // namespace

int run_inspect(const InspectOptions& options, std::ostream& out, std::ostream& err) {
  if (options.inputs.empty()) {
    err << "mcpgw inspect: no input given\n";
    return kExitUsage;
  }
  if (options.since_us && options.until_us && *options.since_us > *options.until_us) {
    err << "mcpgw inspect: --since is after --until\n";
    return kExitUsage;
  }
  Pipeline pipeline(options, out, err);
  mcp::traffic::ReadOptions read;
  read.format = options.input_format;
  read.stdio_direction = options.stdio_direction;
  read.follow = options.follow;
  read.follow_poll_ms = options.follow_poll_ms;
  read.join_stdio = true;  // stdio files given together are one conversation
  read.stop = [&]() {
    if (pipeline.failed_strict())
      return true;
    if (options.follow)
      pipeline.tick();
    return options.stop ? options.stop() : false;
  };
  bool unreadable = false;
  for (const auto& input : options.inputs) {
    if (const auto error = mcp::traffic::read_traffic(input, read, pipeline)) {
      err << "mcpgw inspect: " << *error << "\n";
      unreadable = true;
      break;
    }
    if (pipeline.failed_strict() || (options.stop && options.stop()))
      break;
  }
  const bool written = pipeline.finish();
  if (!written)
    return kExitUsage;
  if (unreadable || pipeline.failed_strict())
    return kExitFailure;
  return kExitOk;
}

}  // namespace mcpgw::inspect
