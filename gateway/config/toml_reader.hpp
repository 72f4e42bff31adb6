// Typed, diagnosing access to parsed TOML, shared by the config and the policy-test loaders.
// Internal to gateway/config: every accessor reports wrong types, unknown keys and env-expansion
// problems with precise positions and never throws.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "gateway/config/config.hpp"

namespace mcpgw::config::detail {

inline constexpr std::size_t kMaxFileBytes = 16u << 20;
inline constexpr std::size_t kMaxDiagnostics = 1000;

// A string value with where it was written.
struct LocatedString {
  std::string value;
  SourceLocation where;
};

// Reads a file with a size cap. On failure returns the reason ("No such file or directory").
// `regular_only` refuses devices, FIFOs and sockets (included files must be plain files).
struct FileRead {
  bool ok = false;
  bool missing = false;
  bool too_large = false;
  std::string text;
  std::string error;
};
FileRead read_file(const std::string& path, std::size_t max_bytes = kMaxFileBytes,
                   bool regular_only = false);

// A root file: `text` when the caller already has it (stdin, fuzzing), else read from `path`.
FileRead read_root(const std::string& path, std::optional<std::string> text);

// Parses `text` (after the nesting guard); reports toml-syntax / nesting-too-deep. Never throws.
std::optional<toml::table> parse_toml(const std::string& text, const std::string& file,
                                      Diagnostics& diagnostics);

// "a string", "an integer", ...
std::string describe(const toml::node& node);

// Per-file reading context: the file name for locations, the environment and the sink.
class Reader {
 public:
  Reader(std::string file, const LoadOptions& options, Diagnostics& diagnostics,
         const std::string* text = nullptr)
      : file_(std::move(file)), options_(options), diagnostics_(diagnostics), text_(text) {}

  const std::string& file() const noexcept { return file_; }
  Diagnostics& diagnostics() noexcept { return diagnostics_; }
  std::size_t error_count() const noexcept { return errors_; }

  SourceLocation at(const toml::source_region& region) const;
  SourceLocation at(const toml::node& node) const { return at(node.source()); }
  SourceLocation at(const toml::key& key) const { return at(key.source()); }

  void error(SourceLocation where, std::string rule, std::string message);
  void warning(SourceLocation where, std::string rule, std::string message);

  // Reports every key of `table` not in `known` as unknown-key (with a suggestion from `known`),
  // in file order; keys in `reported_elsewhere` are left to the caller, which has more to say.
  void check_keys(const toml::table& table, std::span<const std::string_view> known,
                  std::string_view where_name,
                  std::span<const std::string_view> reported_elsewhere = {});

  void wrong_type(const toml::key& key, const toml::node& node, std::string_view expected);
  void missing_key(const toml::node& table, std::string_view where_name, std::string_view key);

  // Expands ${VAR} in a string node's value; reports undefined-env / invalid-env-reference.
  // Nullopt after a malformed reference, so that no check runs on a half-expanded value.
  std::optional<std::string> expand(const toml::value<std::string>& node);

 private:
  std::string file_;
  const LoadOptions& options_;
  Diagnostics& diagnostics_;
  SourceLocation locate_in_string(const toml::value<std::string>& node, std::string_view raw,
                                  std::size_t offset);

  const std::string* text_;
  std::vector<std::size_t> line_starts_;  // computed on first need
  std::size_t errors_ = 0;
};

// A table being read: lookups by key with the key's position at hand.
class TableReader {
 public:
  TableReader(Reader& reader, const toml::table& table, std::string name)
      : reader_(reader), table_(table), name_(std::move(name)) {}

  const toml::table& table() const noexcept { return table_; }
  const std::string& name() const noexcept { return name_; }
  Reader& reader() noexcept { return reader_; }

  void check_keys(std::initializer_list<std::string_view> known) {
    reader_.check_keys(table_, std::span<const std::string_view>(known.begin(), known.size()),
                       name_);
  }
  void check_keys(std::span<const std::string_view> known,
                  std::span<const std::string_view> reported_elsewhere) {
    reader_.check_keys(table_, known, name_, reported_elsewhere);
  }

  bool has(std::string_view key) const { return table_.get(key) != nullptr; }
  const toml::key* key(std::string_view key) const;
  const toml::node* node(std::string_view key) const { return table_.get(key); }
  SourceLocation key_where(std::string_view key) const;
  SourceLocation value_where(std::string_view key) const;
  SourceLocation where() const { return reader_.at(table_); }
  void missing(std::string_view key) { reader_.missing_key(table_, name_, key); }

  // Each returns nullopt when absent or of the wrong type (the latter reported).
  std::optional<LocatedString> string(std::string_view key, bool required = false);
  std::optional<bool> boolean(std::string_view key, bool required = false);
  std::optional<std::int64_t> integer(std::string_view key, bool required = false);
  std::optional<std::vector<LocatedString>> string_array(std::string_view key,
                                                         bool required = false);
  // A table of strings, e.g. env or headers: {name → value}.
  std::optional<std::vector<std::pair<LocatedString, LocatedString>>> string_table(
      std::string_view key);
  const toml::table* subtable(std::string_view key, bool required = false);
  // [[name]] or an array of inline tables; non-table elements are reported.
  std::vector<const toml::table*> table_array(std::string_view key);
  // A duration string in milliseconds; reports invalid-duration.
  std::optional<std::int64_t> duration(std::string_view key, bool required = false);

 private:
  // The value of type T (toml++'s as<T>()) at `key`, or null after reporting a missing required
  // key or a wrong type.
  template <class T>
  auto typed(std::string_view key, bool required, std::string_view expected)
      -> decltype(std::declval<const toml::node&>().as<T>());

  Reader& reader_;
  const toml::table& table_;
  std::string name_;
};

// Escapes control characters and invalid UTF-8 in every message and bounds its length, so
// that user text quoted in a message can never break a one-line, valid UTF-8 rendering.
void make_messages_printable(Diagnostics& diagnostics);

// Converts TOML to JSON (dates and times become strings); strings are env-expanded.
nlohmann::json to_json(Reader& reader, const toml::node& node);

}  // namespace mcpgw::config::detail
