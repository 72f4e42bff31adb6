#include "replay/target.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <system_error>

#include "gateway/config/values.hpp"
#include "mcp/ascii.hpp"

namespace mcpgw::replay {
namespace {

// The name of a target given by command or URL (a config target keeps its backend's name).
constexpr std::string_view kTargetName = "target";

std::string shown(std::string_view text) {
  return "\"" + config::printable(text) + "\"";
}

// The config's errors as lint's text output has them, without the source excerpts.
std::string config_errors(const config::Diagnostics& diagnostics) {
  std::string text;
  for (const auto& diagnostic : diagnostics.items()) {
    if (diagnostic.severity != config::Severity::error)
      continue;
    if (!text.empty())
      text += '\n';
    text +=
        printable_location(diagnostic.where) + ": error: " + config::printable(diagnostic.message);
    if (!diagnostic.rule.empty())
      text += " [" + diagnostic.rule + "]";
  }
  return text;
}

std::string_view trim(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && blank(text.back()))
    text.remove_suffix(1);
  return text;
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7f;
}

mcp::Expected<config::BackendConfig, std::string> command_target(const TargetSpec& spec) {
  auto words = split_command_line(spec.command);
  if (!words)
    return mcp::unexpected("--target-command " + shown(spec.command) + ": " + words.error());
  config::BackendConfig backend;
  backend.name = std::string(kTargetName);
  backend.transport = config::BackendTransport::stdio;
  backend.command = std::move(*words);
  // Each session ends by closing the server's stdin; sessions run one after another, so a
  // server that keeps running gets SIGTERM after 1 s rather than serve's 5.
  backend.shutdown_grace = std::chrono::seconds(1);
  for (const auto& [name, value] : spec.env) {
    if (!config::is_valid_env_name(name))
      return mcp::unexpected("--target-env " + shown(name + "=") +
                             ": not a valid environment variable name");
    if (value.find('\0') != std::string::npos)
      return mcp::unexpected("--target-env " + shown(name) + ": values cannot contain NUL");
  }
  backend.env = spec.env;
  if (!spec.cwd.empty()) {
    std::error_code error;
    if (!std::filesystem::is_directory(spec.cwd, error))
      return mcp::unexpected("--target-cwd " + shown(spec.cwd) + ": not a directory");
    backend.cwd = spec.cwd;
  }
  return backend;
}

mcp::Expected<config::BackendConfig, std::string> url_target(const TargetSpec& spec) {
  if (spec.transport == config::BackendTransport::stdio)
    return mcp::unexpected(std::string(
        "--transport stdio needs --target-command; --target-url speaks streamable_http or sse"));
  if (const auto parsed = config::parse_http_url(spec.url, false); !parsed)
    return mcp::unexpected("--target-url " + shown(spec.url) + ": " + parsed.error());
  config::BackendConfig backend;
  backend.name = std::string(kTargetName);
  backend.transport = spec.transport;
  backend.url = spec.url;
  backend.tls_verify = spec.tls_verify;
  for (const auto& header : spec.headers) {
    const auto colon = header.find(':');
    if (colon == std::string::npos || colon == 0)
      return mcp::unexpected("--header " + shown(header) + ": expected \"Name: value\"");
    const std::string name(trim(std::string_view(header).substr(0, colon)));
    const std::string value(trim(std::string_view(header).substr(colon + 1)));
    if (name.empty() || !config::is_valid_header_name(name))
      return mcp::unexpected("--header " + shown(header) + ": " + shown(name) +
                             " is not a valid header name");
    if (std::any_of(value.begin(), value.end(), is_control) ||
        !config::is_valid_header_value(value))
      return mcp::unexpected("--header " + shown(name) +
                             ": the value contains control characters (CR, LF, …)");
    if (config::is_transport_managed_header(name))
      return mcp::unexpected("--header " + shown(name) + ": set by the transport itself");
    const std::string lower = mcp::ascii_lower(name);
    for (const auto& [existing, unused] : backend.headers) {
      if (mcp::ascii_lower(existing) == lower)
        return mcp::unexpected("--header " + shown(name) + ": given twice");
    }
    backend.headers.emplace(name, value);
  }
  if (!spec.ca_file.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(spec.ca_file, error))
      return mcp::unexpected("--ca-file " + shown(spec.ca_file) + ": not a readable file");
    backend.ca_file = spec.ca_file;
  }
  return backend;
}

mcp::Expected<config::BackendConfig, std::string> config_target(const TargetSpec& spec) {
  if (spec.config_path.empty())
    return mcp::unexpected("--backend " + shown(spec.backend) + " needs --config FILE");
  const auto loaded = config::load_config(spec.config_path);
  if (!loaded.config) {
    std::string errors = config_errors(loaded.diagnostics);
    if (errors.empty())
      errors = spec.config_path + ": the configuration could not be loaded";
    return mcp::unexpected(std::move(errors));
  }
  std::string names;
  for (const auto& backend : loaded.config->backends)
    names += (names.empty() ? "" : ", ") + backend.name;
  if (names.empty())
    names = "none";
  if (spec.backend.empty())
    return mcp::unexpected("--config " + shown(spec.config_path) +
                           " needs --backend NAME (backends: " + names + ")");
  for (const auto& backend : loaded.config->backends) {
    if (backend.name == spec.backend)
      return backend;
  }
  return mcp::unexpected("--backend " + shown(spec.backend) + ": no such backend in " +
                         spec.config_path + " (backends: " + names + ")");
}

// Options that only one kind of target takes; the first one given for another kind.
std::optional<std::string> misplaced_option(const TargetSpec& spec, bool command, bool url) {
  const char* config_hint = command || url ? "" : "; set it in the backend's definition";
  if (!url) {
    const std::string kind = command ? "--target-command" : "--config";
    if (!spec.headers.empty())
      return "--header applies to --target-url, not " + kind + config_hint;
    if (spec.transport == config::BackendTransport::sse)
      return "--transport sse applies to --target-url, not " + kind + config_hint;
    if (!spec.tls_verify)
      return "--insecure applies to --target-url, not " + kind + config_hint;
    if (!spec.ca_file.empty())
      return "--ca-file applies to --target-url, not " + kind + config_hint;
  }
  if (!command) {
    const std::string kind = url ? "--target-url" : "--config";
    if (!spec.env.empty())
      return "--target-env applies to --target-command, not " + kind + config_hint;
    if (!spec.cwd.empty())
      return "--target-cwd applies to --target-command, not " + kind + config_hint;
  }
  return std::nullopt;
}

}  // namespace

mcp::Expected<config::BackendConfig, std::string> resolve_target(const TargetSpec& spec) {
  const bool command = !spec.command.empty();
  const bool url = !spec.url.empty();
  const bool from_config = !spec.config_path.empty() || !spec.backend.empty();
  std::vector<std::string> given;
  if (command)
    given.emplace_back("--target-command");
  if (url)
    given.emplace_back("--target-url");
  if (from_config)
    given.emplace_back("--config/--backend");
  if (given.empty())
    return mcp::unexpected(std::string(
        "no target: give --target-command, --target-url or --config FILE --backend NAME"));
  if (given.size() > 1) {
    std::string list;
    for (std::size_t i = 0; i < given.size(); ++i)
      list += (i == 0 ? "" : (i + 1 == given.size() ? " and " : ", ")) + given[i];
    return mcp::unexpected(list + " conflict: give one target");
  }
  if (auto misplaced = misplaced_option(spec, command, url))
    return mcp::unexpected(std::move(*misplaced));
  if (command)
    return command_target(spec);
  if (url)
    return url_target(spec);
  return config_target(spec);
}

mcp::Expected<std::vector<std::string>, std::string> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // also true for a word that is only "" or ''
  std::size_t i = 0;
  const auto position = [](std::size_t index) { return std::to_string(index + 1); };
  while (i < line.size()) {
    const char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) {
        words.push_back(std::move(word));
        word.clear();
        in_word = false;
      }
      ++i;
    } else if (c == '\'') {
      const std::size_t close = line.find('\'', i + 1);
      if (close == std::string_view::npos)
        return mcp::unexpected("unterminated ' quote at character " + position(i));
      word.append(line.substr(i + 1, close - i - 1));
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      const std::size_t open = i++;
      bool closed = false;
      while (i < line.size()) {
        const char inner = line[i];
        if (inner == '"') {
          closed = true;
          ++i;
          break;
        }
        if (inner == '\\' && i + 1 < line.size()) {
          const char next = line[i + 1];
          if (next == '"' || next == '\\' || next == '$' || next == '`') {
            word.push_back(next);
            i += 2;
            continue;
          }
          if (next == '\n') {  // a line continuation
            i += 2;
            continue;
          }
        }
        word.push_back(inner);
        ++i;
      }
      if (!closed)
        return mcp::unexpected("unterminated \" quote at character " + position(open));
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= line.size())
        return mcp::unexpected(std::string("trailing backslash: it escapes nothing"));
      if (line[i + 1] != '\n') {  // backslash-newline continues the line
        word.push_back(line[i + 1]);
        in_word = true;
      }
      i += 2;
    } else {
      word.push_back(c);
      in_word = true;
      ++i;
    }
  }
  if (in_word)
    words.push_back(std::move(word));
  if (words.empty())
    return mcp::unexpected(std::string("no command: the line holds no words"));
  return words;
}

std::string describe_target(const config::BackendConfig& backend) {
  switch (backend.transport) {
    case config::BackendTransport::stdio: {
      std::string text = "stdio:";
      for (const auto& word : backend.command) {
        const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
          return !is_control(c) && c != ' ' && c != '\'' && c != '"' && c != '\\';
        });
        text += ' ';
        if (plain) {
          text += config::printable(word, 200);
        } else {
          std::string escaped;
          for (const char c : word) {
            if (c == '\'') {
              escaped += "'\\''";
            } else {
              escaped.push_back(c);
            }
          }
          text += "'" + config::printable(escaped, 200) + "'";
        }
      }
      return text;
    }
    case config::BackendTransport::streamable_http:
      return "streamable_http: " + config::printable(backend.url, 200);
    case config::BackendTransport::sse:
      return "sse: " + config::printable(backend.url, 200);
  }
  return "unknown target";
}

}  // namespace mcpgw::replay
