// load_config: reads the root file and its includes, fills Config and the policy spec with
// precise diagnostics, runs the cross-file checks and compiles the policy.
#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "gateway/config/config.hpp"
#include "gateway/config/file_kind.hpp"
#include "gateway/config/toml_reader.hpp"
#include "gateway/config/values.hpp"

#include "mcp/ascii.hpp"

namespace mcpgw::config {

const std::string* SourceFiles::find(const std::string& file) const {
  const auto it = contents.find(file);
  return it == contents.end() ? nullptr : &it->second;
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* value = std::getenv(name.c_str())) {
      return std::string(value);
    }
    return std::nullopt;
  };
}

namespace {

namespace fs = std::filesystem;
using detail::LocatedString;
using detail::Reader;
using detail::TableReader;

constexpr std::size_t kMaxIncludeDepth = 16;
constexpr std::size_t kMaxFiles = 256;
constexpr std::size_t kMaxTotalBytes = 64u << 20;
constexpr std::size_t kMaxGlobEntries = 10000;
constexpr std::size_t kMaxPrefixedName = 64;
constexpr std::size_t kMinToolNameRoom = 16;

constexpr std::array<std::string_view, 3> kPrefixModes = {"auto", "always", "never"};
constexpr std::array<std::string_view, 2> kEffects = {"allow", "deny"};
constexpr std::array<std::string_view, 3> kTransports = {"stdio", "http", "sse"};
constexpr std::array<std::string_view, 2> kSessionModes = {"per_session", "shared"};
constexpr std::array<std::string_view, 3> kScopes = {"principal", "principal_tool", "backend"};
constexpr std::array<std::string_view, 2> kTlsVersions = {"1.2", "1.3"};
// clang-format off
constexpr std::array<std::string_view, 26> kServerKeys = {
    "listen", "path", "separator", "prefix", "allowed_hosts", "allowed_origins", "max_body_bytes",
    "max_sse_event_bytes", "max_line_bytes", "max_sessions", "session_idle_timeout",
    "request_timeout", "tls", "sse_path", "message_path", "max_requests_per_session",
    "stream_replay_events", "drain_timeout", "max_header_bytes", "max_connections",
    "max_sessions_per_principal", "header_timeout", "body_timeout", "idle_timeout", "write_timeout",
    "max_rate_limit_buckets"};
// clang-format on
constexpr std::array<std::string_view, 2> kAuditStreams = {"stderr", "stdout"};
constexpr std::array<std::string_view, 10> kJwtAlgorithms = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA", "HS256"};

// Client credentials never go upstream.
constexpr std::array<std::string_view, 3> kCredentialHeaders = {"authorization",
                                                                "proxy-authorization", "cookie"};

std::string quote(std::string_view text) {
  return "'" + printable(text) + "'";
}

template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& values) {
  std::string out;
  for (std::size_t i = 0; i < N; ++i) {
    out += (i == 0 ? "" : (i + 1 == N ? " or " : ", ")) + quote(values[i]);
  }
  return out;
}

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

std::string location_text(const SourceLocation& where) {
  return where.file + ":" + std::to_string(where.line) + ":" + std::to_string(where.column);
}

// `relative` from `dir`, as the operating system would open it. Dropping "x/.." as text is wrong
// when x is a symlink (the OS goes to the parent of its target), so a path with ".." is resolved
// through the file system and shown relative to the working directory; any other path is only
// tidied (".", repeated separators) and keeps the form the user wrote.
fs::path join_path(const fs::path& dir, const fs::path& relative) {
  const fs::path joined = dir / relative;
  const bool climbs =
      std::any_of(joined.begin(), joined.end(), [](const fs::path& part) { return part == ".."; });
  if (!climbs) {
    return joined.lexically_normal();
  }
  std::error_code ec;
  const fs::path resolved = fs::weakly_canonical(joined, ec);
  if (ec) {
    return joined;
  }
  const fs::path shown = resolved.lexically_relative(fs::current_path(ec));
  return ec || shown.empty() ? resolved : shown;
}

bool has_glob_metacharacters(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

// A pattern that can only match itself: no "re:" prefix and no glob metacharacters.
bool is_literal_pattern(std::string_view text) {
  return text.rfind("re:", 0) != 0 && text.find_first_of("*?[]{}\\") == std::string_view::npos;
}

bool is_printable_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte > 0x20 && byte != 0x7f;
  });
}

// Removes the elements at `indices` (ascending) while keeping the order of the rest.
template <class T>
void remove_indices(std::vector<T>& items, const std::vector<std::size_t>& indices) {
  if (indices.empty()) {
    return;
  }
  std::size_t next = 0;
  std::size_t write = 0;
  for (std::size_t read = 0; read < items.size(); ++read) {
    if (next < indices.size() && indices[next] == read) {
      ++next;
      continue;
    }
    if (write != read) {
      items[write] = std::move(items[read]);
    }
    ++write;
  }
  items.resize(write);
}

// The syntax of a [capture] redact path: member names separated by single dots, `*` only as a
// whole name (the capture writer splits it the same way).
std::optional<std::string> redact_path_problem(std::string_view path) {
  if (path.empty()) {
    return "a path must not be empty";
  }
  std::size_t start = 0;
  while (true) {
    const auto dot = path.find('.', start);
    const auto name =
        path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (name.empty()) {
      return "empty member name (names are separated by single dots, e.g. "
             "'params.arguments.password')";
    }
    if (name != "*" && name.find('*') != std::string_view::npos) {
      return "'*' must be a whole member name (any member or array element), not part of one";
    }
    if (dot == std::string_view::npos) {
      return std::nullopt;
    }
    start = dot + 1;
  }
}

class Loader {
 public:
  Loader(const LoadOptions& options, LoadResult& result)
      : options_(options), result_(result), diagnostics_(result.diagnostics) {}

  // With `root_text`, the root is not read from disk (its includes still are); with
  // `root_document` too, it is not parsed again (it must be the parse of `root_text`).
  void run(const std::string& root_path, std::optional<std::string> root_text,
           std::optional<toml::table> root_document = std::nullopt);

 private:
  struct FileState {
    std::string path;     // as shown in diagnostics
    std::string id_name;  // for generated rule ids
    fs::path dir;         // relative paths in the file resolve against it
    bool is_root = false;
    std::size_t rule_index = 0;
    std::size_t rate_limit_index = 0;
  };

  void load_file(const std::string& path, const SourceLocation& included_at, bool is_root);
  void read_document(const toml::table& root, FileState& file, Reader& reader);
  void read_includes(TableReader& root, FileState& file);
  void include_one(const LocatedString& entry, FileState& file);
  void read_server(TableReader& server, FileState& file);
  void read_tls(TableReader& tls, FileState& file);
  void read_policy(TableReader& policy);
  void read_auth_settings(TableReader& auth);
  // Valid, distinct scopes go to `out`; returns them with their positions.
  std::vector<LocatedString> read_scopes(TableReader& auth, std::string_view key,
                                         std::vector<std::string>& out);
  std::optional<std::string> metadata_url(TableReader& table, const LocatedString& value,
                                          std::string_view key);
  void read_audit(TableReader& audit, FileState& file);
  void read_capture(TableReader& capture, FileState& file);
  void read_auth_sources(TableReader& auth, FileState& file);
  void read_jwt(TableReader& jwt, FileState& file);
  void read_api_key(TableReader& key);
  void read_backend(TableReader& backend, FileState& file);
  void read_rule(TableReader& rule, FileState& file);
  void read_rate_limit(TableReader& limit, FileState& file);
  void read_principal(TableReader& table, policy::PrincipalMatcherSpec& principal);
  policy::PatternListSpec pattern_list(TableReader& table, std::string_view key);
  void flatten_claims(Reader& reader, const toml::table& table, const std::string& prefix,
                      std::vector<policy::ClaimMatcherSpec>& out);

  template <std::size_t N>
  std::optional<std::size_t> enum_value(TableReader& table, std::string_view key,
                                        const std::array<std::string_view, N>& values);
  // Resolves `value` against the file's directory; reports missing-file when asked to check.
  std::string resolve_path(const LocatedString& value, const FileState& file, std::string_view what,
                           bool must_be_directory = false);
  // With the existence check on, reports a file that exists but holds no PEM block whose
  // "-----BEGIN ...-----" line ends in `label` (a mistaken DER file or the wrong file).
  void check_pem(const LocatedString& value, const std::string& resolved, std::string_view what,
                 std::string_view label);

  void check_risky_settings();
  void check_prefixed_names();
  void finish();
  void sort_by_position();

  const LoadOptions& options_;
  LoadResult& result_;
  Diagnostics& diagnostics_;
  Config config_;
  fs::path root_dir_;
  std::vector<std::string> chain_;          // canonical paths of the files being included
  std::vector<std::string> chain_display_;  // the same, as shown
  std::unordered_set<std::string> loaded_;
  std::size_t total_bytes_ = 0;
  bool root_has_server_ = false;
  std::string root_path_;
  std::optional<std::string> root_text_;
  std::optional<toml::table> root_document_;
  std::vector<std::string> backend_names_;  // every syntactically valid name, for the compiler
  std::unordered_map<std::string, SourceLocation> backend_where_;
  std::unordered_map<std::string, SourceLocation> api_key_names_;
  std::unordered_map<std::string, std::pair<std::string, SourceLocation>> api_key_hashes_;
  std::unordered_map<std::string, SourceLocation> jwt_issuers_;
  // For the cross-table warnings of check_risky_settings().
  std::optional<SourceLocation> listen_where_;
  std::optional<SourceLocation> allow_anonymous_where_;
  // Rules and limits that had errors of their own (indices into the spec).
  std::vector<std::size_t> rules_with_errors_;
  std::vector<std::size_t> rate_limits_with_errors_;
};

void Loader::run(const std::string& root_path, std::optional<std::string> root_text,
                 std::optional<toml::table> root_document) {
  root_text_ = std::move(root_text);
  root_document_ = std::move(root_document);
  root_path_ = root_path;
  root_dir_ = fs::path(root_path).parent_path();
  load_file(root_path, SourceLocation{root_path, 0, 0}, true);
  if (result_.sources.find(root_path) == nullptr) {
    return;  // the root could not be read: nothing else to say
  }
  finish();
}

void Loader::load_file(const std::string& path, const SourceLocation& included_at, bool is_root) {
  std::error_code ec;
  const auto canonical = fs::weakly_canonical(path, ec).string();
  const auto key = ec ? path : canonical;

  if (!is_root) {
    const auto in_chain = std::find(chain_.begin(), chain_.end(), key);
    if (in_chain != chain_.end()) {
      std::string message = "include cycle: ";
      for (auto it = chain_display_.begin() + (in_chain - chain_.begin());
           it != chain_display_.end(); ++it) {
        message += *it + " -> ";
      }
      message += path;
      diagnostics_.error(included_at, "include-cycle", std::move(message));
      return;
    }
    if (loaded_.count(key) != 0) {
      diagnostics_.warning(included_at, "duplicate-include",
                           quote(path) + " is already included; it is read only once");
      return;
    }
    // The chain holds the root (level 0) and the files including this one, so this file's
    // level is the chain's size.
    if (chain_.size() > kMaxIncludeDepth) {
      diagnostics_.error(included_at, "include-limit",
                         quote(path) + " would be at include level " +
                             std::to_string(chain_.size()) + "; includes nest at most " +
                             std::to_string(kMaxIncludeDepth) + " levels below the root file");
      return;
    }
    if (loaded_.size() >= kMaxFiles) {
      diagnostics_.error(included_at, "include-limit",
                         quote(path) + " would be file " + std::to_string(loaded_.size() + 1) +
                             "; a configuration reads at most " + std::to_string(kMaxFiles) +
                             " files, the root file included");
      return;
    }
  }

  const detail::FileRead read =
      is_root ? detail::read_root(path, std::exchange(root_text_, std::nullopt))
              : detail::read_file(path, detail::kMaxFileBytes, /*regular_only=*/true);
  if (!read.ok) {
    if (is_root) {
      diagnostics_.error({path, 0, 0}, read.too_large ? "file-too-large" : "io-error",
                         "cannot read " + quote(path) + ": " + read.error);
    } else if (read.missing) {
      diagnostics_.error(included_at, "missing-file",
                         "included file " + quote(path) + " does not exist");
    } else {
      diagnostics_.error(included_at, read.too_large ? "file-too-large" : "io-error",
                         "cannot read included file " + quote(path) + ": " + read.error);
    }
    return;
  }
  if (total_bytes_ + read.text.size() > kMaxTotalBytes) {
    diagnostics_.error(
        included_at, "include-limit",
        "the included files exceed " + std::to_string(kMaxTotalBytes >> 20) + " MiB in total");
    return;
  }
  total_bytes_ += read.text.size();
  loaded_.insert(key);
  config_.files.push_back(path);
  const auto [stored, inserted] = result_.sources.contents.emplace(path, std::move(read.text));
  (void)inserted;
  const std::string& text = stored->second;

  auto document = is_root && root_document_ ? std::exchange(root_document_, std::nullopt)
                                            : detail::parse_toml(text, path, diagnostics_);
  if (!document) {
    return;
  }

  FileState file;
  file.path = path;
  file.dir = fs::path(path).parent_path();
  file.is_root = is_root;
  auto relative = fs::path(path).lexically_relative(root_dir_);
  file.id_name = relative.empty() || relative.string().rfind("..", 0) == 0
                     ? fs::path(path).lexically_normal().string()
                     : relative.string();

  chain_.push_back(key);
  chain_display_.push_back(path);
  Reader reader(path, options_, diagnostics_, &text);
  read_document(*document, file, reader);
  chain_.pop_back();
  chain_display_.pop_back();
}

void Loader::read_document(const toml::table& root, FileState& file, Reader& reader) {
  TableReader document(reader, root, "the top level");
  constexpr std::array<std::string_view, 1> kTestCases = {detail::kTestCaseKey};
  document.check_keys(detail::kConfigTopLevelKeys, kTestCases);
  if (document.has(detail::kTestCaseKey)) {
    const bool only_cases = file.is_root && detail::classify(root) == FileKind::policy_tests;
    reader.error(document.key_where(detail::kTestCaseKey), "unknown-key",
                 only_cases ? quote(file.path) +
                                  " holds policy decision test cases ([[case]]), not a "
                                  "configuration; run them with `mcpgw lint --test " +
                                  file.path + " POLICY`"
                            : "'case' does not belong in a configuration: policy decision test "
                              "cases ([[case]]) go in a file of their own, used with `mcpgw lint "
                              "--test CASES POLICY`");
  }

  // The root's settings come first: backends in included files depend on the separator.
  const auto* auth = document.subtable("auth");
  if (file.is_root) {
    if (const auto* server = document.subtable("server")) {
      root_has_server_ = true;
      TableReader table(reader, *server, "[server]");
      read_server(table, file);
    }
    if (const auto* policy = document.subtable("policy")) {
      TableReader table(reader, *policy, "[policy]");
      read_policy(table);
    }
    if (auth != nullptr) {
      TableReader table(reader, *auth, "[auth]");
      read_auth_settings(table);
    }
    if (const auto* audit = document.subtable("audit")) {
      TableReader table(reader, *audit, "[audit]");
      read_audit(table, file);
    }
    if (const auto* capture = document.subtable("capture")) {
      TableReader table(reader, *capture, "[capture]");
      read_capture(table, file);
    }
  } else {
    for (const std::string_view root_only : {"server", "policy", "audit", "capture"}) {
      if (document.has(root_only)) {
        reader.error(document.key_where(root_only), "root-only",
                     "[" + std::string(root_only) +
                         "] may only appear in the root configuration file, not in an included "
                         "file");
      }
    }
  }

  read_includes(document, file);

  if (auth != nullptr) {
    TableReader table(reader, *auth, "[auth]");
    read_auth_sources(table, file);
  }
  for (const auto* backend : document.table_array("backend")) {
    TableReader table(reader, *backend, "[[backend]]");
    read_backend(table, file);
  }
  const auto rules = document.table_array("rule");
  config_.policy_spec.rules.reserve(config_.policy_spec.rules.size() + rules.size());
  for (const auto* rule : rules) {
    TableReader table(reader, *rule, "[[rule]]");
    read_rule(table, file);
  }
  for (const auto* limit : document.table_array("rate_limit")) {
    TableReader table(reader, *limit, "[[rate_limit]]");
    read_rate_limit(table, file);
  }
}

void Loader::read_includes(TableReader& root, FileState& file) {
  const auto entries = root.string_array("include");
  if (!entries) {
    return;
  }
  for (const auto& entry : *entries) {
    include_one(entry, file);
  }
}

void Loader::include_one(const LocatedString& entry, FileState& file) {
  if (entry.value.empty()) {
    diagnostics_.error(entry.where, "invalid-value", "empty include path");
    return;
  }
  const fs::path relative(entry.value);
  const fs::path joined = join_path(file.dir, relative);
  const auto filename = relative.filename().string();
  if (!has_glob_metacharacters(entry.value)) {
    load_file(joined.string(), entry.where, false);
    return;
  }
  // Globs: only the last path component may contain wildcards; matches load in sorted order.
  if (has_glob_metacharacters(relative.parent_path().string()) || filename.empty()) {
    diagnostics_.error(entry.where, "invalid-value",
                       "include pattern " + quote(entry.value) +
                           ": only the file name may contain wildcards (e.g. 'policy.d/*.toml')");
    return;
  }
  const fs::path directory = joined.parent_path();
  std::error_code ec;
  if (!fs::is_directory(directory.empty() ? fs::path(".") : directory, ec)) {
    diagnostics_.error(entry.where, "missing-file",
                       "directory " + quote(directory.string()) + " of include pattern " +
                           quote(entry.value) + " does not exist");
    return;
  }
  std::vector<std::string> matches;
  std::size_t scanned = 0;
  for (fs::directory_iterator it(directory.empty() ? fs::path(".") : directory, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (++scanned > kMaxGlobEntries) {
      diagnostics_.error(entry.where, "include-limit",
                         "directory " + quote(directory.string()) + " has more than " +
                             std::to_string(kMaxGlobEntries) + " entries");
      return;
    }
    const auto name = it->path().filename().string();
    std::error_code type_ec;
    if (fnmatch(filename.c_str(), name.c_str(), FNM_PERIOD) == 0 && it->is_regular_file(type_ec)) {
      matches.push_back(name);
    }
  }
  if (ec) {
    diagnostics_.error(entry.where, "io-error",
                       "cannot list " + quote(directory.string()) + ": " + ec.message());
    return;
  }
  if (matches.empty()) {
    diagnostics_.warning(entry.where, "empty-include-glob",
                         "include pattern " + quote(entry.value) + " matches no file");
    return;
  }
  std::sort(matches.begin(), matches.end());
  for (const auto& name : matches) {
    load_file((directory / name).string(), entry.where, false);
  }
}

template <std::size_t N>
std::optional<std::size_t> Loader::enum_value(TableReader& table, std::string_view key,
                                              const std::array<std::string_view, N>& values) {
  const auto text = table.string(key);
  if (!text) {
    return std::nullopt;
  }
  const auto it = std::find(values.begin(), values.end(), text->value);
  if (it != values.end()) {
    return static_cast<std::size_t>(it - values.begin());
  }
  std::string message =
      quote(key) + ": invalid value " + quote(text->value) + "; expected " + one_of(values);
  if (const auto suggestion = closest_match(text->value, values)) {
    message += "; did you mean " + quote(*suggestion) + "?";
  }
  table.reader().error(text->where, "invalid-value", std::move(message));
  return std::nullopt;
}

std::string Loader::resolve_path(const LocatedString& value, const FileState& file,
                                 std::string_view what, bool must_be_directory) {
  if (value.value.empty()) {
    diagnostics_.error(value.where, "invalid-value", "empty path for " + std::string(what));
    return {};
  }
  const auto resolved = join_path(file.dir, fs::path(value.value)).string();
  if (options_.check_files_exist) {
    std::error_code ec;
    const auto status = fs::status(resolved, ec);
    if (!fs::exists(status)) {
      diagnostics_.error(value.where, "missing-file",
                         std::string(what) + " " + quote(resolved) + " does not exist");
    } else if (must_be_directory && !fs::is_directory(status)) {
      diagnostics_.error(value.where, "missing-file",
                         std::string(what) + " " + quote(resolved) + " is not a directory");
    } else if (!must_be_directory && fs::is_directory(status)) {
      diagnostics_.error(value.where, "missing-file",
                         std::string(what) + " " + quote(resolved) + " is a directory");
    }
  }
  return resolved;
}

void Loader::check_pem(const LocatedString& value, const std::string& resolved,
                       std::string_view what, std::string_view label) {
  if (!options_.check_files_exist || resolved.empty()) {
    return;
  }
  std::error_code ec;
  if (!fs::is_regular_file(resolved, ec)) {
    return;  // missing or not a file: resolve_path has said so
  }
  // Unreadable here (lint run by another user than serve) is not a finding: serve reports it.
  const detail::FileRead read = detail::read_file(resolved);
  if (!read.ok) {
    return;
  }
  const std::string begin = "-----BEGIN ";
  for (auto at = read.text.find(begin); at != std::string::npos;
       at = read.text.find(begin, at + 1)) {
    const auto end = read.text.find("-----", at + begin.size());
    const auto line_end = read.text.find('\n', at);
    if (end == std::string::npos || end > line_end) {
      continue;
    }
    const std::string_view type(read.text.data() + at + begin.size(), end - at - begin.size());
    if (type.size() >= label.size() && type.substr(type.size() - label.size()) == label) {
      return;
    }
  }
  diagnostics_.error(value.where, "invalid-value",
                     std::string(what) + " " + quote(resolved) +
                         " is not PEM: it has no '-----BEGIN " + std::string(label) +
                         "-----' line");
}

void Loader::read_server(TableReader& server, FileState& file) {
  Reader& reader = server.reader();
  auto& out = config_.server;
  out.where = server.where();
  server.check_keys(kServerKeys, {});

  if (const auto listen = server.string("listen")) {
    auto address = parse_listen(listen->value);
    if (address) {
      out.listen = listen->value;
      out.host = address->host;
      out.port = address->port;
      listen_where_ = listen->where;
    } else {
      reader.error(listen->where, "invalid-listen",
                   "invalid listen address " + quote(listen->value) + ": " + address.error());
    }
  } else if (auto address = parse_listen(out.listen)) {
    out.host = address->host;
    out.port = address->port;
  }
  const auto url_path = [&](std::string_view key, std::string& target, bool may_be_empty) {
    const auto path = server.string(key);
    if (!path) {
      return;
    }
    const bool ok = (may_be_empty && path->value.empty()) ||
                    (!path->value.empty() && path->value.front() == '/' &&
                     path->value.find_first_of("?# \t\r\n") == std::string::npos);
    if (ok) {
      target = path->value;
    } else {
      reader.error(path->where, "invalid-value",
                   quote(key) + ": " + quote(path->value) +
                       " is not a URL path; it must start with '/' and contain no query");
    }
  };
  url_path("path", out.path, false);
  url_path("sse_path", out.sse_path, true);
  url_path("message_path", out.message_path, false);
  const auto clashes = [&](std::string_view key, const std::string& a, const std::string& b) {
    if (!a.empty() && a == b) {
      reader.error(server.value_where(key), "invalid-value",
                   quote(key) + ": " + quote(a) + " is already used by another endpoint");
    }
  };
  clashes("sse_path", out.sse_path, out.path);
  clashes("message_path", out.message_path, out.path);
  if (!out.sse_path.empty()) {
    clashes("message_path", out.message_path, out.sse_path);
  }
  if (const auto separator = server.string("separator")) {
    if (is_valid_separator(separator->value)) {
      out.separator = separator->value;
    } else {
      reader.error(separator->where, "invalid-value",
                   "'separator': " + quote(separator->value) + " must be 1 to " +
                       std::to_string(kMaxSeparatorLength) +
                       " characters of A-Z, a-z, 0-9, '_' and '-'");
    }
  }
  if (const auto prefix = enum_value(server, "prefix", kPrefixModes)) {
    out.prefix = *prefix == 0   ? PrefixMode::automatic
                 : *prefix == 1 ? PrefixMode::always
                                : PrefixMode::never;
  }
  if (const auto hosts = server.string_array("allowed_hosts")) {
    for (const auto& host : *hosts) {
      if (host.value == "*" || is_valid_host_pattern(host.value)) {
        out.allowed_hosts.push_back(host.value);
      } else {
        reader.error(host.where, "invalid-value",
                     "'allowed_hosts': " + quote(host.value) +
                         " is not a host name or address with an optional port");
      }
    }
  }
  if (const auto origins = server.string_array("allowed_origins")) {
    for (const auto& origin : *origins) {
      if (is_valid_origin(origin.value)) {
        out.allowed_origins.push_back(origin.value);
      } else {
        reader.error(origin.where, "invalid-value",
                     "'allowed_origins': " + quote(origin.value) +
                         " is not an origin such as 'https://app.example.com' (or '*')");
      }
    }
  }
  const auto in_range = [&](std::string_view key, std::uint64_t min,
                            std::uint64_t max) -> std::optional<std::uint64_t> {
    const auto value = server.integer(key);
    if (!value) {
      return std::nullopt;
    }
    if (*value < 0 || static_cast<std::uint64_t>(*value) < min ||
        static_cast<std::uint64_t>(*value) > max) {
      reader.error(server.value_where(key), "invalid-value",
                   quote(key) + ": must be between " + std::to_string(min) + " and " +
                       std::to_string(max) + ", found " + std::to_string(*value));
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*value);
  };
  const auto positive = [&](std::string_view key, std::uint64_t max) {
    return in_range(key, 1, max);
  };
  constexpr std::uint64_t kMaxBytes = std::uint64_t{1} << 40;
  if (const auto value = positive("max_body_bytes", kMaxBytes)) {
    out.max_body_bytes = *value;
  }
  if (const auto value = positive("max_sse_event_bytes", kMaxBytes)) {
    out.max_sse_event_bytes = *value;
  }
  if (const auto value = positive("max_line_bytes", kMaxBytes)) {
    out.max_line_bytes = *value;
  }
  if (const auto value = positive("max_sessions", std::numeric_limits<std::uint32_t>::max())) {
    out.max_sessions = static_cast<std::uint32_t>(*value);
  }
  if (const auto value = positive("max_requests_per_session", 1u << 20)) {
    out.max_requests_per_session = static_cast<std::uint32_t>(*value);
  }
  if (const auto value = positive("stream_replay_events", 1u << 20)) {
    out.stream_replay_events = static_cast<std::uint32_t>(*value);
  }
  // Below 1 KiB not even a request line with a bearer token fits.
  if (const auto value = in_range("max_header_bytes", 1u << 10, 1u << 24)) {
    out.max_header_bytes = *value;
  }
  if (const auto value = positive("max_connections", 1u << 20)) {
    out.max_connections = static_cast<std::uint32_t>(*value);
  }
  if (const auto value =
          in_range("max_sessions_per_principal", 0, std::numeric_limits<std::uint32_t>::max())) {
    out.max_sessions_per_principal = static_cast<std::uint32_t>(*value);
  }
  if (const auto value = positive("max_rate_limit_buckets", std::uint64_t{1} << 30)) {
    out.max_rate_limit_buckets = *value;
  }
  const auto timeout = [&](std::string_view key) -> std::optional<std::chrono::milliseconds> {
    const auto ms = server.duration(key);
    if (!ms) {
      return std::nullopt;
    }
    if (*ms <= 0) {
      reader.error(server.value_where(key), "invalid-duration",
                   quote(key) + ": must be greater than zero");
      return std::nullopt;
    }
    return std::chrono::milliseconds(*ms);
  };
  if (const auto value = timeout("session_idle_timeout")) {
    out.session_idle_timeout = *value;
  }
  if (const auto value = timeout("request_timeout")) {
    out.request_timeout = *value;
  }
  if (const auto value = timeout("drain_timeout")) {
    out.drain_timeout = *value;
  }
  if (const auto value = timeout("header_timeout")) {
    out.header_timeout = *value;
  }
  if (const auto value = timeout("body_timeout")) {
    out.body_timeout = *value;
  }
  if (const auto value = timeout("idle_timeout")) {
    out.idle_timeout = *value;
  }
  if (const auto value = timeout("write_timeout")) {
    out.write_timeout = *value;
  }
  if (const auto* tls = server.subtable("tls")) {
    TableReader table(reader, *tls, "[server.tls]");
    read_tls(table, file);
  }
}

void Loader::read_tls(TableReader& tls, FileState& file) {
  tls.check_keys({"cert", "key", "client_ca", "require_client_cert", "min_version"});
  TlsListenerConfig out;
  if (const auto cert = tls.string("cert", true)) {
    out.cert_file = resolve_path(*cert, file, "TLS certificate file");
    check_pem(*cert, out.cert_file, "TLS certificate file", "CERTIFICATE");
  }
  if (const auto key = tls.string("key", true)) {
    out.key_file = resolve_path(*key, file, "TLS private key file");
    check_pem(*key, out.key_file, "TLS private key file", "PRIVATE KEY");
  }
  if (const auto client_ca = tls.string("client_ca")) {
    out.client_ca_file = resolve_path(*client_ca, file, "client CA file");
    check_pem(*client_ca, out.client_ca_file, "client CA file", "CERTIFICATE");
  }
  if (const auto require = tls.boolean("require_client_cert")) {
    out.require_client_cert = *require;
    if (*require && !tls.has("client_ca")) {
      tls.reader().error(tls.value_where("require_client_cert"), "missing-key",
                         "'require_client_cert' needs 'client_ca' to verify client certificates");
    }
  }
  if (const auto version = enum_value(tls, "min_version", kTlsVersions)) {
    out.min_version = std::string(kTlsVersions[*version]);
  }
  config_.server.tls = std::move(out);
}

void Loader::read_policy(TableReader& policy) {
  policy.check_keys({"default"});
  if (const auto effect = enum_value(policy, "default", kEffects)) {
    config_.policy_spec.default_effect =
        *effect == 0 ? policy::Effect::allow : policy::Effect::deny;
    config_.policy_spec.default_where = policy.value_where("default");
  } else {
    config_.policy_spec.default_where = policy.where();
  }
}

void Loader::read_auth_settings(TableReader& auth) {
  Reader& reader = auth.reader();
  config_.auth.where = auth.where();
  if (const auto anonymous = auth.boolean("allow_anonymous")) {
    config_.auth.allow_anonymous = *anonymous;
    if (*anonymous) {
      allow_anonymous_where_ = auth.value_where("allow_anonymous");
    }
  }
  if (const auto header = auth.string("api_key_header")) {
    if (is_valid_header_name(header->value)) {
      config_.auth.api_key_header = header->value;
    } else {
      reader.error(header->where, "invalid-value",
                   "'api_key_header': " + quote(header->value) + " is not a valid header name");
    }
  }
  const auto required = read_scopes(auth, "required_scopes", config_.auth.required_scopes);
  const auto supported = read_scopes(auth, "scopes_supported", config_.auth.scopes_supported);
  if (!supported.empty()) {
    // Clients request what the metadata advertises; a required scope missing there would make
    // every token they obtain fail with insufficient_scope.
    const auto& names = config_.auth.scopes_supported;
    for (const auto& scope : required) {
      if (std::find(names.begin(), names.end(), scope.value) == names.end()) {
        reader.error(scope.where, "invalid-value",
                     "'required_scopes': " + quote(scope.value) +
                         " is not in 'scopes_supported', so clients would never request it");
      }
    }
  }
  if (const auto resource = auth.string("resource")) {
    if (auto url = metadata_url(auth, *resource, "resource")) {
      config_.auth.resource = std::move(*url);
    }
  }
  if (const auto servers = auth.string_array("authorization_servers")) {
    for (const auto& server : *servers) {
      auto url = metadata_url(auth, server, "authorization_servers");
      if (!url) {
        continue;
      }
      auto& list = config_.auth.authorization_servers;
      if (std::find(list.begin(), list.end(), *url) != list.end()) {
        reader.error(server.where, "invalid-value",
                     "'authorization_servers': " + quote(*url) + " is listed twice");
      } else {
        list.push_back(std::move(*url));
      }
    }
  }
}

std::vector<LocatedString> Loader::read_scopes(TableReader& auth, std::string_view key,
                                               std::vector<std::string>& out) {
  std::vector<LocatedString> accepted;
  const auto scopes = auth.string_array(key);
  if (!scopes) {
    return accepted;
  }
  for (const auto& scope : *scopes) {
    if (!is_valid_scope_token(scope.value)) {
      auth.reader().error(scope.where, "invalid-value",
                          quote(key) + ": " + quote(scope.value) +
                              " is not a scope: scopes are non-empty printable ASCII without "
                              "spaces, quotes or backslashes");
    } else if (std::find(out.begin(), out.end(), scope.value) != out.end()) {
      auth.reader().error(scope.where, "invalid-value",
                          quote(key) + ": " + quote(scope.value) + " is listed twice");
    } else {
      out.push_back(scope.value);
      accepted.push_back(scope);
    }
  }
  return accepted;
}

// An absolute https URL without query or fragment (RFC 9728 resource identifiers, RFC 8414
// issuers); http only for a loopback host, for local development.
std::optional<std::string> Loader::metadata_url(TableReader& table, const LocatedString& value,
                                                std::string_view key) {
  Reader& reader = table.reader();
  const auto url = parse_http_url(value.value, false);
  if (!url) {
    reader.error(value.where, "invalid-url",
                 quote(key) + ": invalid URL " + quote(value.value) + ": " + url.error());
    return std::nullopt;
  }
  if (url->scheme == "http" && !is_loopback_host(url->host)) {
    reader.error(value.where, "invalid-url",
                 quote(key) + ": " + quote(value.value) +
                     " must use https; http is allowed only for loopback hosts");
    return std::nullopt;
  }
  if (url->target.find('?') != std::string::npos) {
    reader.error(value.where, "invalid-url",
                 quote(key) + ": " + quote(value.value) + " must not have a query");
    return std::nullopt;
  }
  return value.value;
}

void Loader::read_audit(TableReader& audit, FileState& file) {
  Reader& reader = audit.reader();
  audit.check_keys({"sink", "include_allowed"});
  auto& out = config_.audit;
  out.enabled = true;
  out.where = audit.where();
  if (const auto sink = audit.string("sink")) {
    if (contains(kAuditStreams, sink->value)) {
      out.sink = sink->value;
    } else if (sink->value.empty()) {
      reader.error(sink->where, "invalid-value",
                   "'sink' must be 'stderr', 'stdout' or the path of a file to append to");
    } else {
      // A file the gateway creates or appends to: its directory must exist, and it must not be
      // a directory itself.
      const auto resolved = join_path(file.dir, fs::path(sink->value));
      out.sink = resolved.string();
      if (options_.check_files_exist) {
        const auto directory =
            resolved.parent_path().empty() ? fs::path(".") : resolved.parent_path();
        std::error_code ec;
        if (!fs::is_directory(directory, ec)) {
          reader.error(sink->where, "missing-file",
                       "directory " + quote(directory.string()) + " of the audit sink " +
                           quote(out.sink) + " does not exist");
        } else if (fs::is_directory(resolved, ec)) {
          reader.error(sink->where, "missing-file",
                       "audit sink " + quote(out.sink) + " is a directory");
        }
      }
    }
  }
  if (const auto include_allowed = audit.boolean("include_allowed")) {
    out.include_allowed = *include_allowed;
  }
}

void Loader::read_capture(TableReader& capture, FileState& file) {
  Reader& reader = capture.reader();
  capture.check_keys(
      {"path", "max_file_bytes", "max_files", "queue_records", "redact_headers", "redact_paths"});
  auto& out = config_.capture;
  out.enabled = true;
  out.where = capture.where();
  if (const auto path = capture.string("path", /*required=*/true)) {
    if (path->value.empty()) {
      reader.error(path->where, "invalid-value",
                   "'path' must name the capture file (rotated files get .1, .2, ...)");
    } else {
      // Created or appended to: its directory must exist, and it must not be a directory.
      const auto resolved = join_path(file.dir, fs::path(path->value));
      out.path = resolved.string();
      if (options_.check_files_exist) {
        const auto directory =
            resolved.parent_path().empty() ? fs::path(".") : resolved.parent_path();
        std::error_code ec;
        if (!fs::is_directory(directory, ec)) {
          reader.error(path->where, "missing-file",
                       "directory " + quote(directory.string()) + " of the capture file " +
                           quote(out.path) + " does not exist");
        } else if (fs::is_directory(resolved, ec)) {
          reader.error(path->where, "missing-file",
                       "capture file " + quote(out.path) + " is a directory");
        }
      }
    }
  }
  const auto in_range = [&](std::string_view key, std::uint64_t min,
                            std::uint64_t max) -> std::optional<std::uint64_t> {
    const auto value = capture.integer(key);
    if (!value) {
      return std::nullopt;
    }
    if (*value < 0 || static_cast<std::uint64_t>(*value) < min ||
        static_cast<std::uint64_t>(*value) > max) {
      reader.error(capture.value_where(key), "invalid-value",
                   quote(key) + ": must be between " + std::to_string(min) + " and " +
                       std::to_string(max) + ", found " + std::to_string(*value));
      return std::nullopt;
    }
    return static_cast<std::uint64_t>(*value);
  };
  // 0 never rotates; otherwise at least room for a header and a line.
  if (const auto value = capture.integer("max_file_bytes")) {
    if (*value != 0) {
      if (const auto bytes = in_range("max_file_bytes", 4096, std::uint64_t{1} << 50)) {
        out.max_file_bytes = *bytes;
      }
    } else {
      out.max_file_bytes = 0;
    }
  }
  if (const auto value = in_range("max_files", 0, 1000)) {
    out.max_files = static_cast<std::uint32_t>(*value);
  }
  if (const auto value = in_range("queue_records", 1, 1u << 24)) {
    out.queue_records = static_cast<std::uint32_t>(*value);
  }
  if (const auto names = capture.string_array("redact_headers")) {
    for (const auto& name : *names) {
      if (!is_printable_token(name.value) || name.value.find(':') != std::string::npos) {
        reader.error(name.where, "invalid-value",
                     "'redact_headers': " + quote(name.value) + " is not a header name");
      } else {
        out.redact_headers.push_back(mcp::ascii_lower(name.value));
      }
    }
  }
  if (const auto paths = capture.string_array("redact_paths")) {
    for (const auto& path : *paths) {
      if (const auto problem = redact_path_problem(path.value)) {
        reader.error(path.where, "invalid-value",
                     "'redact_paths': " + quote(path.value) + ": " + *problem);
      } else {
        out.redact_paths.push_back(path.value);
      }
    }
  }
}

void Loader::read_auth_sources(TableReader& auth, FileState& file) {
  Reader& reader = auth.reader();
  auth.check_keys({"allow_anonymous", "api_key_header", "jwt", "api_key", "required_scopes",
                   "resource", "authorization_servers", "scopes_supported"});
  if (!file.is_root) {
    for (const std::string_view root_only :
         {"allow_anonymous", "api_key_header", "required_scopes", "resource",
          "authorization_servers", "scopes_supported"}) {
      if (auth.has(root_only)) {
        reader.error(
            auth.key_where(root_only), "root-only",
            "'auth." + std::string(root_only) + "' may only be set in the root configuration file");
      }
    }
  }
  for (const auto* jwt : auth.table_array("jwt")) {
    TableReader table(reader, *jwt, "[[auth.jwt]]");
    read_jwt(table, file);
  }
  for (const auto* key : auth.table_array("api_key")) {
    TableReader table(reader, *key, "[[auth.api_key]]");
    read_api_key(table);
  }
}

void Loader::read_jwt(TableReader& jwt, FileState& file) {
  Reader& reader = jwt.reader();
  jwt.check_keys({"issuer", "audiences", "jwks_file", "jwks_url", "algorithms", "hs256_secret",
                  "leeway", "jwks_refresh", "jwks_min_refresh", "jwks_ca_file"});
  JwtSourceConfig out;
  out.where = jwt.where();
  if (const auto issuer = jwt.string("issuer", true)) {
    if (issuer->value.empty()) {
      reader.error(issuer->where, "invalid-value", "'issuer' must not be empty");
    } else {
      out.issuer = issuer->value;
      const auto [it, inserted] = jwt_issuers_.emplace(issuer->value, issuer->where);
      if (!inserted) {
        reader.error(issuer->where, "duplicate-issuer",
                     "issuer " + quote(issuer->value) + " is already configured at " +
                         location_text(it->second));
      }
    }
  }
  if (const auto audiences = jwt.string_array("audiences", true)) {
    if (audiences->empty()) {
      reader.error(jwt.value_where("audiences"), "invalid-value",
                   "'audiences' must list at least one audience");
    }
    for (const auto& audience : *audiences) {
      if (audience.value.empty()) {
        reader.error(audience.where, "invalid-value", "'audiences': empty audience");
      } else {
        out.audiences.push_back(audience.value);
      }
    }
  }
  bool hs256 = false;
  bool asymmetric = true;  // no list: every asymmetric algorithm
  if (const auto algorithms = jwt.string_array("algorithms")) {
    asymmetric = false;
    if (algorithms->empty()) {
      reader.error(jwt.value_where("algorithms"), "invalid-value",
                   "'algorithms' must list at least one algorithm (or be left out)");
    }
    for (const auto& algorithm : *algorithms) {
      if (!contains(kJwtAlgorithms, algorithm.value)) {
        std::string message = "'algorithms': unsupported algorithm " + quote(algorithm.value) +
                              "; expected " + one_of(kJwtAlgorithms);
        if (const auto suggestion = closest_match(algorithm.value, kJwtAlgorithms)) {
          message += "; did you mean " + quote(*suggestion) + "?";
        }
        reader.error(algorithm.where, "invalid-value", std::move(message));
        continue;
      }
      if (algorithm.value == "HS256" && !hs256) {
        reader.warning(algorithm.where, "hs256",
                       "'HS256' verifies tokens with a shared secret: whoever holds "
                       "'hs256_secret' can mint tokens for any subject; prefer an asymmetric "
                       "algorithm with a JWKS");
      }
      hs256 = hs256 || algorithm.value == "HS256";
      asymmetric = asymmetric || algorithm.value != "HS256";
      out.algorithms.push_back(algorithm.value);
    }
  }
  if (const auto secret = jwt.string("hs256_secret")) {
    out.hs256_secret = secret->value;
    if (!hs256) {
      reader.error(jwt.key_where("hs256_secret"), "invalid-value",
                   "'hs256_secret' is set but 'HS256' is not listed in 'algorithms'");
    } else if (secret->value.size() < 32) {
      reader.warning(secret->where, "weak-secret",
                     "'hs256_secret' is shorter than 32 bytes; use a long random secret");
    }
  } else if (hs256) {
    reader.error(jwt.value_where("algorithms"), "missing-key",
                 "'HS256' needs an explicit 'hs256_secret' in [[auth.jwt]]");
  }
  const auto jwks_file = jwt.string("jwks_file");
  const auto jwks_url = jwt.string("jwks_url");
  if (jwks_file && jwks_url) {
    reader.error(jwt.key_where("jwks_url"), "conflicting-keys",
                 "set either 'jwks_file' or 'jwks_url', not both");
  } else if (!jwks_file && !jwks_url && asymmetric && !jwt.has("jwks_file") &&
             !jwt.has("jwks_url")) {
    reader.error(jwt.where(), "missing-key",
                 "[[auth.jwt]] needs 'jwks_file' or 'jwks_url' to verify signatures");
  }
  if (jwks_file) {
    out.jwks_file = resolve_path(*jwks_file, file, "JWKS file");
  }
  if (jwks_url) {
    const auto url = parse_http_url(jwks_url->value, true);
    if (url) {
      out.jwks_url = jwks_url->value;
    } else {
      reader.error(jwks_url->where, "invalid-url",
                   "'jwks_url': invalid URL " + quote(jwks_url->value) + ": " + url.error());
    }
  }
  if (const auto leeway = jwt.duration("leeway")) {
    if (*leeway % 1000 != 0) {
      reader.error(jwt.value_where("leeway"), "invalid-duration",
                   "'leeway' must be a whole number of seconds");
    } else {
      out.leeway = std::chrono::seconds(*leeway / 1000);
    }
  }
  // Keys about fetching the key set apply to jwks_url only.
  const auto needs_url = [&](std::string_view key, std::string_view why) {
    if (jwt.has(key) && !jwt.has("jwks_url")) {
      reader.error(jwt.key_where(key), "missing-key",
                   quote(key) + " needs 'jwks_url': " + std::string(why));
    }
  };
  needs_url("jwks_refresh", "only key sets fetched over HTTPS are refreshed");
  needs_url("jwks_ca_file", "it verifies the certificate of the key server");
  const auto positive_duration = [&](std::string_view key, std::chrono::milliseconds& target) {
    if (const auto value = jwt.duration(key)) {
      if (*value <= 0) {
        reader.error(jwt.value_where(key), "invalid-duration",
                     quote(key) + ": must be greater than zero");
      } else {
        target = std::chrono::milliseconds(*value);
      }
    }
  };
  positive_duration("jwks_refresh", out.jwks_refresh);
  positive_duration("jwks_min_refresh", out.jwks_min_refresh);
  if (out.jwks_min_refresh > out.jwks_refresh) {
    if (jwt.has("jwks_min_refresh")) {
      reader.error(jwt.value_where("jwks_min_refresh"), "invalid-duration",
                   "'jwks_min_refresh' must not exceed 'jwks_refresh'");
    } else {
      out.jwks_min_refresh = out.jwks_refresh;  // the default follows a shorter refresh
    }
  }
  if (const auto ca_file = jwt.string("jwks_ca_file")) {
    out.jwks_ca_file = resolve_path(*ca_file, file, "JWKS CA file");
    check_pem(*ca_file, out.jwks_ca_file, "JWKS CA file", "CERTIFICATE");
  }
  config_.auth.jwt.push_back(std::move(out));
}

void Loader::read_api_key(TableReader& key) {
  Reader& reader = key.reader();
  key.check_keys({"name", "sha256"});
  ApiKeyConfig out;
  out.where = key.where();
  if (const auto name = key.string("name", true)) {
    if (!is_printable_token(name->value) || name->value.size() > 64) {
      reader.error(
          name->where, "invalid-value",
          "'name': " + quote(name->value) + " must be 1 to 64 printable characters without spaces");
    } else {
      out.name = name->value;
      const auto [it, inserted] = api_key_names_.emplace(name->value, name->where);
      if (!inserted) {
        reader.error(name->where, "duplicate-api-key",
                     "API key " + quote(name->value) + " is already defined at " +
                         location_text(it->second));
      }
    }
  }
  if (const auto hash = key.string("sha256", true)) {
    if (!is_valid_sha256_hex(hash->value)) {
      std::string message = "'sha256' must be the SHA-256 of the key as 64 lower-case hex digits";
      if (hash->value.size() == 64 && is_valid_sha256_hex(mcp::ascii_lower(hash->value))) {
        message += "; write it in lower case";
      } else {
        message += " (e.g. the output of `printf %s \"$KEY\" | sha256sum`), found " +
                   std::to_string(hash->value.size()) + " characters";
      }
      reader.error(hash->where, "invalid-api-key-hash", std::move(message));
    } else {
      out.sha256_hex = hash->value;
      const auto [it, inserted] =
          api_key_hashes_.emplace(hash->value, std::make_pair(out.name, hash->where));
      if (!inserted) {
        reader.error(hash->where, "duplicate-api-key",
                     "this hash is already used by API key " + quote(it->second.first) + " at " +
                         location_text(it->second.second));
      }
    }
  }
  config_.auth.api_keys.push_back(std::move(out));
}

void Loader::read_backend(TableReader& backend, FileState& file) {
  Reader& reader = backend.reader();
  backend.check_keys({"name", "command", "env", "cwd", "url", "headers", "transport",
                      "forward_headers", "tls_verify", "ca_file", "timeout", "session_mode",
                      "fail_closed", "restart_backoff", "restart_backoff_max", "connect_timeout",
                      "shutdown_grace"});
  BackendConfig out;
  out.where = backend.where();
  if (const auto name = backend.string("name", true)) {
    out.name = name->value;
    out.name_where = name->where;
    const auto& separator = config_.server.separator;
    if (!is_valid_backend_name(name->value)) {
      reader.error(name->where, "invalid-backend-name",
                   "backend name " + quote(name->value) +
                       " must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$ (it prefixes tool names)");
    } else if ((name->value + separator).find(separator) != name->value.size()) {
      reader.error(name->where, "invalid-backend-name",
                   "backend name " + quote(name->value) + " contains the separator " +
                       quote(separator) + " or runs into it; prefixed names would be ambiguous");
    } else {
      const auto [it, inserted] = backend_where_.emplace(name->value, name->where);
      if (!inserted) {
        reader.error(name->where, "duplicate-backend",
                     "backend " + quote(name->value) + " is already defined at " +
                         location_text(it->second));
      } else {
        backend_names_.push_back(name->value);
      }
    }
  }

  // Names the backend in the messages below (a missing name is reported above).
  const std::string label = out.name.empty() ? "[[backend]]" : "backend " + quote(out.name);
  const bool has_command = backend.has("command");
  const bool has_url = backend.has("url");
  if (has_command && has_url) {
    reader.error(backend.key_where("url"), "backend-transport",
                 label + " sets both 'command' (stdio) and 'url' (HTTP); set only one");
  } else if (!has_command && !has_url) {
    reader.error(backend.where(), "backend-transport",
                 label + " needs 'command' (a stdio server) or 'url' (an HTTP server)");
  }
  const auto transport = enum_value(backend, "transport", kTransports);
  if (has_command) {
    out.transport = BackendTransport::stdio;
    if (transport && *transport != 0) {
      reader.error(backend.value_where("transport"), "backend-transport",
                   label + ": 'transport' " + quote(kTransports[*transport]) +
                       " needs 'url'; a 'command' backend speaks stdio");
    }
  } else if (has_url) {
    out.transport =
        transport && *transport == 2 ? BackendTransport::sse : BackendTransport::streamable_http;
    if (transport && *transport == 0) {
      reader.error(backend.value_where("transport"), "backend-transport",
                   label + ": 'transport' 'stdio' needs 'command'; a 'url' backend speaks HTTP");
    }
  }
  // Keys that only make sense for the other transport.
  const auto only_for = [&](std::string_view key, bool applies, std::string_view kind) {
    if (backend.has(key) && !applies && (has_command || has_url)) {
      reader.error(
          backend.key_where(key), "backend-transport",
          label + ": " + quote(key) + " applies only to " + std::string(kind) + " backends");
    }
  };
  only_for("env", has_command, "stdio ('command')");
  only_for("cwd", has_command, "stdio ('command')");
  only_for("headers", has_url, "HTTP ('url')");
  only_for("forward_headers", has_url, "HTTP ('url')");
  only_for("tls_verify", has_url, "HTTP ('url')");
  only_for("ca_file", has_url, "HTTP ('url')");
  only_for("connect_timeout", has_url, "HTTP ('url')");
  only_for("shutdown_grace", has_command, "stdio ('command')");

  if (const auto command = backend.string_array("command")) {
    if (command->empty()) {
      reader.error(backend.value_where("command"), "empty-command",
                   "'command' must name a program: command = [\"program\", \"arg\", ...]");
    } else if (command->front().value.empty()) {
      reader.error(command->front().where, "empty-command",
                   "'command' starts with an empty program");
    }
    for (const auto& part : *command) {
      out.command.push_back(part.value);
    }
  }
  if (const auto env = backend.string_table("env")) {
    for (const auto& [name, value] : *env) {
      if (!is_valid_env_name(name.value)) {
        reader.error(name.where, "invalid-value",
                     "'env': " + quote(name.value) + " is not a valid environment variable name");
      } else if (value.value.find('\0') != std::string::npos) {
        reader.error(value.where, "invalid-value", "'env': values cannot contain NUL");
      } else {
        out.env[name.value] = value.value;
      }
    }
  }
  if (const auto cwd = backend.string("cwd")) {
    out.cwd = resolve_path(*cwd, file, "working directory", true);
  }
  if (const auto url = backend.string("url")) {
    const auto parsed = parse_http_url(url->value, false);
    if (parsed) {
      out.url = url->value;
    } else {
      reader.error(url->where, "invalid-url",
                   "'url': invalid URL " + quote(url->value) + ": " + parsed.error());
    }
  }
  if (const auto headers = backend.string_table("headers")) {
    for (const auto& [name, value] : *headers) {
      if (!is_valid_header_name(name.value)) {
        reader.error(name.where, "invalid-value",
                     "'headers': " + quote(name.value) + " is not a valid header name");
      } else if (is_transport_managed_header(name.value)) {
        reader.error(name.where, "invalid-value",
                     "'headers': " + quote(name.value) + " is managed by the gateway");
      } else if (!is_valid_header_value(value.value)) {
        reader.error(
            value.where, "invalid-value",
            "'headers': the value of " + quote(name.value) + " contains control characters");
      } else {
        out.headers[name.value] = value.value;
      }
    }
  }
  if (const auto forward = backend.string_array("forward_headers")) {
    for (const auto& header : *forward) {
      const auto name = mcp::ascii_lower(header.value);
      if (!is_valid_header_name(header.value)) {
        reader.error(header.where, "invalid-value",
                     "'forward_headers': " + quote(header.value) + " is not a valid header name");
      } else if (contains(kCredentialHeaders, name) ||
                 name == mcp::ascii_lower(config_.auth.api_key_header)) {
        reader.error(header.where, "invalid-value",
                     "'forward_headers': " + quote(header.value) +
                         " carries client credentials, which never go upstream; configure "
                         "the backend's own credentials in 'headers'");
      } else if (is_transport_managed_header(name)) {
        reader.error(header.where, "invalid-value",
                     "'forward_headers': " + quote(header.value) + " is managed by the gateway");
      } else {
        out.forward_headers.push_back(header.value);
      }
    }
    if (!out.forward_headers.empty()) {
      std::string names;
      for (const auto& name : out.forward_headers) {
        names += (names.empty() ? "" : ", ") + quote(name);
      }
      const bool one = out.forward_headers.size() == 1;
      reader.warning(
          backend.value_where("forward_headers"), "forwarded-headers",
          label + (one ? " receives the client header " : " receives the client headers ") + names +
              (one ? "; clients choose its value, so the backend must not trust it"
                   : "; clients choose their values, so the backend must not trust them"));
    }
  }
  if (const auto verify = backend.boolean("tls_verify")) {
    out.tls_verify = *verify;
    if (!*verify) {
      reader.warning(
          backend.value_where("tls_verify"), "insecure-tls",
          "'tls_verify = false' disables certificate verification for backend " + quote(out.name));
    }
  }
  if (const auto ca_file = backend.string("ca_file")) {
    out.ca_file = resolve_path(*ca_file, file, "CA file");
    check_pem(*ca_file, out.ca_file, "CA file", "CERTIFICATE");
  }
  const auto positive_duration = [&](std::string_view key, std::chrono::milliseconds& target) {
    if (const auto value = backend.duration(key)) {
      if (*value <= 0) {
        reader.error(backend.value_where(key), "invalid-duration",
                     quote(key) + ": must be greater than zero");
      } else {
        target = std::chrono::milliseconds(*value);
      }
    }
  };
  positive_duration("timeout", out.timeout);
  positive_duration("restart_backoff", out.restart_backoff);
  positive_duration("restart_backoff_max", out.restart_backoff_max);
  positive_duration("connect_timeout", out.connect_timeout);
  positive_duration("shutdown_grace", out.shutdown_grace);
  if (out.restart_backoff > out.restart_backoff_max) {
    reader.error(
        backend.value_where(backend.has("restart_backoff") ? "restart_backoff"
                                                           : "restart_backoff_max"),
        "invalid-duration",
        "'restart_backoff' must not exceed 'restart_backoff_max' for backend " + quote(out.name));
  }
  if (const auto mode = enum_value(backend, "session_mode", kSessionModes)) {
    out.session_mode = *mode == 0 ? SessionMode::per_session : SessionMode::shared;
  }
  if (const auto fail_closed = backend.boolean("fail_closed")) {
    out.fail_closed = *fail_closed;
  }
  config_.backends.push_back(std::move(out));
}

policy::PatternListSpec Loader::pattern_list(TableReader& table, std::string_view key) {
  policy::PatternListSpec out;
  if (const auto values = table.string_array(key)) {
    out.present = true;
    out.where = table.value_where(key);
    out.patterns.reserve(values->size());
    for (const auto& value : *values) {
      out.patterns.push_back({value.value, value.where});
    }
  }
  return out;
}

void Loader::flatten_claims(Reader& reader, const toml::table& table, const std::string& prefix,
                            std::vector<policy::ClaimMatcherSpec>& out) {
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (auto&& [key, value] : table) {
    entries.emplace_back(&key, &value);
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    const auto& pa = a.first->source().begin;
    const auto& pb = b.first->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  for (const auto& [key, value] : entries) {
    const auto claim =
        prefix.empty() ? std::string(key->str()) : prefix + "." + std::string(key->str());
    if (const auto* nested = value->as_table()) {
      // claims = { realm_access.roles = [...] } is the dotted path "realm_access.roles".
      flatten_claims(reader, *nested, claim, out);
      continue;
    }
    policy::ClaimMatcherSpec matcher;
    matcher.claim = claim;
    matcher.where = reader.at(*key);
    matcher.values.present = true;
    matcher.values.where = reader.at(*value);
    if (const auto* text = value->as_string()) {
      auto expanded = reader.expand(*text);
      if (!expanded) {
        continue;
      }
      matcher.values.patterns.push_back({std::move(*expanded), reader.at(*text)});
    } else if (const auto* array = value->as_array()) {
      bool ok = true;
      for (const auto& element : *array) {
        if (const auto* item = element.as_string()) {
          auto expanded = reader.expand(*item);
          if (!expanded) {
            ok = false;
            continue;
          }
          matcher.values.patterns.push_back({std::move(*expanded), reader.at(*item)});
        } else {
          reader.error(reader.at(element), "wrong-type",
                       "'claims." + claim + "': expected an array of strings, found " +
                           detail::describe(element) + " in the array");
          ok = false;
        }
      }
      if (!ok) {
        continue;
      }
    } else {
      reader.wrong_type(*key, *value, "a string or an array of strings");
      continue;
    }
    out.push_back(std::move(matcher));
  }
}

void Loader::read_principal(TableReader& table, policy::PrincipalMatcherSpec& principal) {
  principal.subjects = pattern_list(table, "subjects");
  principal.api_keys = pattern_list(table, "api_keys");
  principal.cert_subjects = pattern_list(table, "cert_subjects");
  if (const auto* claims = table.subtable("claims")) {
    flatten_claims(table.reader(), *claims, "", principal.claims);
  }
  if (const auto scopes = table.string_array("scopes")) {
    for (const auto& scope : *scopes) {
      principal.scopes.push_back({scope.value, scope.where});
    }
  }
  principal.authenticated = table.boolean("authenticated");
}

void Loader::read_rule(TableReader& rule, FileState& file) {
  Reader& reader = rule.reader();
  const auto errors_before = reader.error_count();
  rule.check_keys({"id", "effect", "description", "methods", "backends", "tools", "prompts",
                   "resources", "subjects", "api_keys", "cert_subjects", "claims", "scopes",
                   "authenticated"});
  policy::RuleSpec out;
  out.where = rule.where();
  ++file.rule_index;
  if (const auto id = rule.string("id")) {
    if (!is_printable_token(id->value)) {
      reader.error(id->where, "invalid-value",
                   "'id': " + quote(id->value) + " must be non-empty and contain no spaces");
    }
    out.id = id->value;
  } else {
    out.id = file.id_name + "#rule" + std::to_string(file.rule_index);
    out.id_generated = true;
  }
  if (const auto description = rule.string("description")) {
    out.description = description->value;
  }
  if (!rule.has("effect")) {
    rule.missing("effect");
  } else if (const auto effect = enum_value(rule, "effect", kEffects)) {
    out.effect = *effect == 0 ? policy::Effect::allow : policy::Effect::deny;
  }
  out.methods = pattern_list(rule, "methods");
  out.backends = pattern_list(rule, "backends");
  out.tools = pattern_list(rule, "tools");
  out.prompts = pattern_list(rule, "prompts");
  out.resources = pattern_list(rule, "resources");
  read_principal(rule, out.principal);
  // A rule with errors would be analysed with guessed values; leave it out of the compile so
  // that the compiler's findings never cascade from ours.
  if (reader.error_count() != errors_before) {
    rules_with_errors_.push_back(config_.policy_spec.rules.size());
  }
  config_.policy_spec.rules.push_back(std::move(out));
}

void Loader::read_rate_limit(TableReader& limit, FileState& file) {
  Reader& reader = limit.reader();
  const auto errors_before = reader.error_count();
  limit.check_keys({"id", "scope", "requests", "window", "burst", "backends", "tools", "subjects",
                    "api_keys", "cert_subjects", "claims", "scopes", "authenticated"});
  policy::RateLimitSpec out;
  out.where = limit.where();
  ++file.rate_limit_index;
  if (const auto id = limit.string("id")) {
    if (!is_printable_token(id->value)) {
      reader.error(id->where, "invalid-value",
                   "'id': " + quote(id->value) + " must be non-empty and contain no spaces");
    }
    out.id = id->value;
  } else {
    out.id = file.id_name + "#rate_limit" + std::to_string(file.rate_limit_index);
    out.id_generated = true;
  }
  if (!limit.has("scope")) {
    limit.missing("scope");
  } else if (const auto scope = enum_value(limit, "scope", kScopes)) {
    out.scope = *scope == 0   ? policy::RateLimitScope::principal
                : *scope == 1 ? policy::RateLimitScope::principal_tool
                              : policy::RateLimitScope::backend;
  }
  if (const auto requests = limit.integer("requests", true)) {
    out.requests = *requests;
    out.requests_where = limit.value_where("requests");
  }
  if (const auto window = limit.duration("window", true)) {
    out.window_ms = *window;
    out.window_where = limit.value_where("window");
  }
  if (const auto burst = limit.integer("burst")) {
    out.burst = *burst;
    out.burst_where = limit.value_where("burst");
  }
  out.backends = pattern_list(limit, "backends");
  out.tools = pattern_list(limit, "tools");
  read_principal(limit, out.principal);
  if (reader.error_count() != errors_before) {
    rate_limits_with_errors_.push_back(config_.policy_spec.rate_limits.size());
  }
  config_.policy_spec.rate_limits.push_back(std::move(out));
}

void Loader::check_prefixed_names() {
  const auto& server = config_.server;
  const auto& separator = server.separator;
  const bool prefixing = server.prefix == PrefixMode::always ||
                         (server.prefix == PrefixMode::automatic && config_.backends.size() > 1);
  if (!prefixing) {
    return;
  }
  std::string longest;
  for (const auto& backend : config_.backends) {
    if (!is_valid_backend_name(backend.name)) {
      continue;
    }
    if (backend.name.size() > longest.size()) {
      longest = backend.name;
    }
    const auto prefix_length = backend.name.size() + separator.size();
    if (prefix_length + kMinToolNameRoom > kMaxPrefixedName) {
      diagnostics_.warning(
          backend.name_where, "long-prefixed-name",
          "backend " + quote(backend.name) + " with separator " + quote(separator) +
              " leaves only " +
              std::to_string(kMaxPrefixedName - std::min(prefix_length, kMaxPrefixedName)) +
              " of 64 characters for tool and prompt names");
    }
  }
  const auto check = [&](const policy::RuleSpec& rule, const policy::PatternListSpec& names,
                         std::string_view kind) {
    if (!names.present) {
      return;
    }
    // The backends the rule names literally, or else the longest configured one.
    std::vector<std::string_view> backends;
    if (rule.backends.present) {
      for (const auto& pattern : rule.backends.patterns) {
        if (is_literal_pattern(pattern.text) && backend_where_.count(pattern.text) != 0) {
          backends.push_back(pattern.text);
        }
      }
    } else if (!longest.empty()) {
      backends.push_back(longest);
    }
    for (const auto& pattern : names.patterns) {
      if (!is_literal_pattern(pattern.text)) {
        continue;
      }
      for (const auto backend : backends) {
        const auto length = backend.size() + separator.size() + pattern.text.size();
        if (length > kMaxPrefixedName) {
          diagnostics_.warning(pattern.where, "long-prefixed-name",
                               std::string(kind) + " name " +
                                   quote(std::string(backend) + separator + pattern.text) +
                                   " has " + std::to_string(length) +
                                   " characters; names over 64 are shortened with a hash, so "
                                   "clients will not see this name");
          break;
        }
      }
    }
  };
  for (const auto& rule : config_.policy_spec.rules) {
    check(rule, rule.tools, "prefixed tool");
    check(rule, rule.prompts, "prefixed prompt");
  }
}

// Settings that are valid but weaken what the gateway protects; warnings, so lint --strict
// can refuse them.
void Loader::check_risky_settings() {
  if (allow_anonymous_where_ && config_.policy_spec.default_effect == policy::Effect::allow) {
    diagnostics_.warning(*allow_anonymous_where_, "anonymous-allow",
                         "'allow_anonymous = true' with [policy] default 'allow': callers "
                         "without credentials may use everything that no rule denies");
  }
  const auto& server = config_.server;
  const bool takes_credentials = !config_.auth.jwt.empty() || !config_.auth.api_keys.empty();
  if (listen_where_ && takes_credentials && !server.tls && !is_loopback_host(server.host)) {
    diagnostics_.warning(*listen_where_, "plaintext-listener",
                         "[server] listens on " + quote(server.listen) +
                             " without [server.tls] while [auth] accepts credentials: tokens "
                             "and API keys would cross the network in clear text; add "
                             "[server.tls] or listen on a loopback address");
  }
}

void Loader::finish() {
  if (config_.server.host.empty()) {
    if (auto address = parse_listen(config_.server.listen)) {  // no [server] listen: the default
      config_.server.host = address->host;
      config_.server.port = address->port;
    }
  }
  config_.is_fragment = !root_has_server_ && config_.backends.empty();
  check_prefixed_names();
  check_risky_settings();

  policy::CompileContext context;
  context.backends_known = !config_.is_fragment;
  context.backends = backend_names_;
  context.separator = config_.server.separator;
  // Compile only what parsed cleanly (see read_rule); with no errors that is everything.
  remove_indices(config_.policy_spec.rules, rules_with_errors_);
  remove_indices(config_.policy_spec.rate_limits, rate_limits_with_errors_);
  config_.policy = policy::compile(config_.policy_spec, context, diagnostics_);
  if (config_.policy) {
    config_.rate_limits =
        policy::compile_rate_limits(config_.policy_spec.rate_limits, diagnostics_);
  }

  sort_by_position();
  if (!diagnostics_.has_errors()) {
    result_.config = std::make_shared<const Config>(std::move(config_));
  }
}

void Loader::sort_by_position() {
  // Findings are made table by table and then by the compiler; show them in file order, files
  // in load order. The sort is stable, so same-position findings keep their order.
  std::unordered_map<std::string, std::size_t> file_rank;
  for (std::size_t i = 0; i < config_.files.size(); ++i) {
    file_rank.emplace(config_.files[i], i);
  }
  const auto rank = [&](const Diagnostic& d) {
    const auto it = file_rank.find(d.where.file);
    return std::make_tuple(it == file_rank.end() ? file_rank.size() : it->second, d.where.line,
                           d.where.column);
  };
  auto& items = diagnostics_.items();
  std::stable_sort(items.begin(), items.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
}

LoadResult load(const std::string& path, std::optional<std::string> text,
                std::optional<toml::table> document, const LoadOptions& options) {
  LoadResult result;
  try {
    Loader loader(options, result);
    loader.run(path, std::move(text), std::move(document));
    detail::make_messages_printable(result.diagnostics);
  } catch (const std::exception& error) {
    result.config.reset();
    result.diagnostics.error({path, 0, 0}, "internal-error",
                             std::string("configuration loading failed: ") + error.what());
  } catch (...) {
    result.config.reset();
    result.diagnostics.error({path, 0, 0}, "internal-error", "configuration loading failed");
  }
  return result;
}

}  // namespace

LoadResult load_config(const std::string& path, const LoadOptions& options) {
  return load(path, std::nullopt, std::nullopt, options);
}

LoadResult load_config_text(const std::string& path, std::optional<std::string> text,
                            const LoadOptions& options) {
  return load(path, std::move(text), std::nullopt, options);
}

LoadResult detail::load_config_parsed(const std::string& path, std::string text,
                                      toml::table document, const LoadOptions& options) {
  return load(path, std::move(text), std::move(document), options);
}

}  // namespace mcpgw::config
