// What replay talks to: a command (stdio), a URL (Streamable HTTP or legacy SSE), or a backend
// of a gateway config (its command or URL, headers, env and TLS settings). Every target becomes
// a config::BackendConfig, so the gateway's own transports carry the replay.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gateway/config/config.hpp"
#include "mcp/expected.hpp"

namespace mcpgw::replay {

struct TargetSpec {
  std::string command;  // --target-command "prog args…" (split by split_command_line, no shell)
  std::string url;      // --target-url
  // --transport for a URL target: streamable_http (default) or sse (legacy HTTP+SSE).
  config::BackendTransport transport = config::BackendTransport::streamable_http;
  std::vector<std::string> headers;        // --header "Name: value" (URL targets)
  std::map<std::string, std::string> env;  // --target-env NAME=VALUE (command targets)
  std::string cwd;                         // --target-cwd (command targets)
  std::string config_path;                 // --config FILE …
  std::string backend;                     // … --backend NAME
  bool tls_verify = true;                  // --insecure turns it off (URL targets)
  std::string ca_file;                     // --ca-file (URL targets)
};

// Exactly one of command, url or config_path+backend must be given; errors say which option
// is missing, conflicting or malformed ("--header \"X\": expected \"Name: value\""). A config is
// loaded with the same loader as serve and lint; its errors come back as "FILE:LINE:COL: …"
// lines, and an unknown backend lists the configured names.
mcp::Expected<config::BackendConfig, std::string> resolve_target(const TargetSpec& spec);

// Splits a command line into words like a POSIX shell without expansions: whitespace separates,
// '…' quotes literally, "…" quotes with \" \\ \$ \` escapes, a backslash outside quotes escapes
// the next character. Errors: an unterminated quote, a trailing backslash, no words.
mcp::Expected<std::vector<std::string>, std::string> split_command_line(std::string_view line);

// One line for reports: "stdio: prog arg…", "streamable_http: http://…", "sse: http://…".
// Header and env values never appear.
std::string describe_target(const config::BackendConfig& backend);

}  // namespace mcpgw::replay
