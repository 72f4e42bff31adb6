#include "gateway/config/toml_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <system_error>

#include "gateway/config/env_expand.hpp"
#include "gateway/config/toml_guard.hpp"
#include "gateway/config/values.hpp"

namespace mcpgw::config::detail {
namespace {

std::uint32_t clamp_u32(std::size_t value) {
  return value > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<std::uint32_t>(value);
}

std::string quote(std::string_view text) {
  return "'" + printable(text) + "'";
}

}  // namespace

FileRead read_file(const std::string& path, std::size_t max_bytes, bool regular_only) {
  FileRead out;
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    out.missing = true;
    out.error = ec ? ec.message() : "No such file or directory";
    return out;
  }
  if (std::filesystem::is_directory(status)) {
    out.error = "is a directory";
    return out;
  }
  if (regular_only && !std::filesystem::is_regular_file(status)) {
    out.error = "not a regular file";
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.error = std::strerror(errno);
    return out;
  }
  // Read at most one byte past the cap so that devices and FIFOs cannot make us read forever.
  constexpr std::size_t kChunk = 64 * 1024;
  std::string text;
  char buffer[kChunk];
  while (in && text.size() <= max_bytes) {
    in.read(buffer, static_cast<std::streamsize>(std::min(kChunk, max_bytes + 1 - text.size())));
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (in.gcount() == 0) {
      break;
    }
  }
  if (in.bad()) {
    out.error = "read error";
    return out;
  }
  if (text.size() > max_bytes) {
    out.too_large = true;
    out.error = "the file is larger than " + std::to_string(max_bytes >> 20) + " MiB";
    return out;
  }
  out.ok = true;
  out.text = std::move(text);
  return out;
}

FileRead read_root(const std::string& path, std::optional<std::string> text) {
  if (!text) {
    return read_file(path);
  }
  FileRead out;
  out.ok = text->size() <= kMaxFileBytes;
  out.too_large = !out.ok;
  if (out.too_large) {
    out.error = "the text is larger than " + std::to_string(kMaxFileBytes >> 20) + " MiB";
  }
  out.text = std::move(*text);
  return out;
}

std::optional<toml::table> parse_toml(const std::string& text, const std::string& file,
                                      Diagnostics& diagnostics) {
  if (const auto violation = find_excessive_nesting(text)) {
    diagnostics.error({file, violation->line, violation->column}, "nesting-too-deep",
                      "tables, arrays and dotted keys are nested more than " +
                          std::to_string(kMaxTomlNesting) + " levels deep");
    return std::nullopt;
  }
  try {
    return toml::parse(std::string_view(text), std::string_view(file));
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    std::string message(error.description());
    // toml++ sometimes ends descriptions with a period; diagnostics do not.
    while (!message.empty() && (message.back() == '.' || message.back() == '\n')) {
      message.pop_back();
    }
    // "Error while parsing key-value pair: expected value" → "invalid key-value pair: expected
    // value".
    constexpr std::string_view kPrefix = "Error while parsing ";
    if (message.rfind(kPrefix, 0) == 0) {
      message = "invalid " + message.substr(kPrefix.size());
    }
    diagnostics.error({file, begin.line, begin.column}, "toml-syntax", std::move(message));
  } catch (const std::exception& error) {
    diagnostics.error({file, 0, 0}, "toml-syntax", std::string("cannot parse: ") + error.what());
  }
  return std::nullopt;
}

std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return node.as_array()->size() > 0 && node.as_array()->is_array_of_tables()
                 ? "an array of tables"
                 : "an array";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

SourceLocation Reader::at(const toml::source_region& region) const {
  return {file_, region.begin.line, region.begin.column};
}

void Reader::error(SourceLocation where, std::string rule, std::string message) {
  ++errors_;
  if (diagnostics_.items().size() < kMaxDiagnostics) {
    diagnostics_.error(std::move(where), std::move(rule), std::move(message));
  } else if (diagnostics_.items().size() == kMaxDiagnostics) {
    diagnostics_.error(
        {file_, 0, 0}, "too-many-diagnostics",
        "stopped reporting after " + std::to_string(kMaxDiagnostics) + " diagnostics");
  }
}

void Reader::warning(SourceLocation where, std::string rule, std::string message) {
  if (diagnostics_.items().size() < kMaxDiagnostics) {
    diagnostics_.warning(std::move(where), std::move(rule), std::move(message));
  }
}

void Reader::check_keys(const toml::table& table, std::span<const std::string_view> known,
                        std::string_view where_name,
                        std::span<const std::string_view> reported_elsewhere) {
  const auto listed = [](std::span<const std::string_view> keys, std::string_view key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  std::vector<const toml::key*> unknown;
  for (auto&& [key, value] : table) {
    if (!listed(known, key.str()) && !listed(reported_elsewhere, key.str())) {
      unknown.push_back(&key);
    }
  }
  // toml++ keeps keys sorted by name; report them in the order they were written.
  std::sort(unknown.begin(), unknown.end(), [](const toml::key* a, const toml::key* b) {
    const auto& pa = a->source().begin;
    const auto& pb = b->source().begin;
    return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
  });
  for (const auto* key : unknown) {
    std::string message = "unknown key " + quote(key->str()) + " in " + std::string(where_name);
    if (const auto suggestion = closest_match(key->str(), known)) {
      message += "; did you mean " + quote(*suggestion) + "?";
    }
    error(at(*key), "unknown-key", std::move(message));
  }
}

void Reader::wrong_type(const toml::key& key, const toml::node& node, std::string_view expected) {
  error(at(node), "wrong-type",
        quote(key.str()) + ": expected " + std::string(expected) + ", found " + describe(node));
}

void Reader::missing_key(const toml::node& table, std::string_view where_name,
                         std::string_view key) {
  error(at(table), "missing-key",
        std::string(where_name) + " is missing the required key " + quote(key));
}

std::optional<std::string> Reader::expand(const toml::value<std::string>& node) {
  const std::string& raw = node.get();
  if (raw.find('$') == std::string::npos) {
    return raw;
  }
  auto expansion = expand_env(raw, options_.env);
  bool malformed = false;
  for (auto& issue : expansion.issues) {
    malformed = malformed || issue.kind == EnvIssue::Kind::malformed;
    const SourceLocation where = locate_in_string(node, raw, issue.offset);
    if (issue.kind == EnvIssue::Kind::undefined) {
      warning(where, "undefined-env", std::move(issue.message));
    } else {
      error(where, "invalid-env-reference", std::move(issue.message));
    }
  }
  if (malformed) {
    return std::nullopt;
  }
  return std::move(expansion.value);
}

SourceLocation Reader::locate_in_string(const toml::value<std::string>& node, std::string_view raw,
                                        std::size_t offset) {
  SourceLocation where = at(node);
  if (text_ == nullptr || where.line == 0 || diagnostics_.items().size() >= kMaxDiagnostics) {
    return where;
  }
  if (line_starts_.empty()) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_->size(); ++i) {
      if ((*text_)[i] == '\n') {
        line_starts_.push_back(i + 1);
      }
    }
  }
  if (where.line > line_starts_.size()) {
    return where;
  }
  // Walk to the value's column (columns count code points).
  const std::string_view text(*text_);
  std::size_t position = line_starts_[where.line - 1];
  for (std::uint32_t column = 1; column < where.column && position < text.size(); ++column) {
    ++position;
    while (position < text.size() && (static_cast<unsigned char>(text[position]) & 0xC0) == 0x80) {
      ++position;
    }
  }
  const auto source = text.substr(std::min(position, text.size()));
  const bool quoted = !source.empty() && (source.front() == '"' || source.front() == '\'');
  const bool multi_line = source.substr(0, 3) == "\"\"\"" || source.substr(0, 3) == "'''";
  // Only when the source shows the string exactly as it reads (no escapes) do offsets map.
  if (quoted && !multi_line && source.size() > raw.size() && source.substr(1, raw.size()) == raw) {
    const auto prefix = raw.substr(0, offset);
    const auto code_points =
        static_cast<std::size_t>(std::count_if(prefix.begin(), prefix.end(), [](char c) {
          return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
    where.column = clamp_u32(where.column + 1 + code_points);
  }
  return where;
}

template <class T>
auto TableReader::typed(std::string_view name, bool required, std::string_view expected)
    -> decltype(std::declval<const toml::node&>().as<T>()) {
  const auto it = table_.find(name);
  if (it == table_.end()) {
    if (required) {
      missing(name);
    }
    return nullptr;
  }
  const auto* value = it->second.template as<T>();
  if (value == nullptr) {
    reader_.wrong_type(it->first, it->second, expected);
  }
  return value;
}

const toml::key* TableReader::key(std::string_view name) const {
  const auto it = table_.find(name);
  return it == table_.end() ? nullptr : &it->first;
}

SourceLocation TableReader::key_where(std::string_view name) const {
  const auto* found = key(name);
  return found != nullptr ? reader_.at(*found) : where();
}

SourceLocation TableReader::value_where(std::string_view name) const {
  const auto* found = node(name);
  return found != nullptr ? reader_.at(*found) : where();
}

std::optional<LocatedString> TableReader::string(std::string_view name, bool required) {
  const auto* value = typed<std::string>(name, required, "a string");
  if (value == nullptr) {
    return std::nullopt;
  }
  auto expanded = reader_.expand(*value);
  if (!expanded) {
    return std::nullopt;
  }
  return LocatedString{std::move(*expanded), reader_.at(*value)};
}

std::optional<bool> TableReader::boolean(std::string_view name, bool required) {
  const auto* value = typed<bool>(name, required, "a boolean (true or false)");
  if (value == nullptr) {
    return std::nullopt;
  }
  return value->get();
}

std::optional<std::int64_t> TableReader::integer(std::string_view name, bool required) {
  const auto* value = typed<std::int64_t>(name, required, "an integer");
  if (value == nullptr) {
    return std::nullopt;
  }
  return value->get();
}

std::optional<std::vector<LocatedString>> TableReader::string_array(std::string_view name,
                                                                    bool required) {
  const auto* array = typed<toml::array>(name, required, "an array of strings");
  if (array == nullptr) {
    return std::nullopt;
  }
  std::vector<LocatedString> out;
  out.reserve(array->size());
  bool ok = true;
  for (const auto& element : *array) {
    const auto* value = element.as_string();
    if (value == nullptr) {
      reader_.error(reader_.at(element), "wrong-type",
                    quote(name) + ": expected an array of strings, found " + describe(element) +
                        " in the array");
      ok = false;
      continue;
    }
    auto expanded = reader_.expand(*value);
    if (!expanded) {
      ok = false;
      continue;
    }
    out.push_back({std::move(*expanded), reader_.at(*value)});
  }
  if (!ok) {
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<std::pair<LocatedString, LocatedString>>> TableReader::string_table(
    std::string_view name) {
  const auto* table = typed<toml::table>(name, false, "a table of strings");
  if (table == nullptr) {
    return std::nullopt;
  }
  std::vector<std::pair<LocatedString, LocatedString>> out;
  bool ok = true;
  for (auto&& [key, value] : *table) {
    const auto* text = value.as_string();
    if (text == nullptr) {
      reader_.error(reader_.at(value), "wrong-type",
                    quote(std::string(name) + "." + std::string(key.str())) +
                        "': expected a string, found " + describe(value));
      ok = false;
      continue;
    }
    auto expanded = reader_.expand(*text);
    if (!expanded) {
      ok = false;
      continue;
    }
    out.push_back({LocatedString{std::string(key.str()), reader_.at(key)},
                   LocatedString{std::move(*expanded), reader_.at(*text)}});
  }
  // Report and keep entries in the order they were written.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.first.where.line != b.first.where.line ? a.first.where.line < b.first.where.line
                                                    : a.first.where.column < b.first.where.column;
  });
  if (!ok) {
    return std::nullopt;
  }
  return out;
}

const toml::table* TableReader::subtable(std::string_view name, bool required) {
  return typed<toml::table>(name, required, "a table");
}

std::vector<const toml::table*> TableReader::table_array(std::string_view name) {
  std::vector<const toml::table*> out;
  const auto* array =
      typed<toml::array>(name, false, "an array of tables (write [[" + std::string(name) + "]])");
  if (array == nullptr) {
    return out;
  }
  out.reserve(array->size());
  for (const auto& element : *array) {
    if (const auto* table = element.as_table()) {
      out.push_back(table);
    } else {
      reader_.error(
          reader_.at(element), "wrong-type",
          quote(name) + ": expected a table, found " + describe(element) + " in the array");
    }
  }
  return out;
}

std::optional<std::int64_t> TableReader::duration(std::string_view name, bool required) {
  const auto* value = typed<std::string>(name, required, "a duration string such as '10s'");
  if (value == nullptr) {
    return std::nullopt;
  }
  const auto expanded = reader_.expand(*value);
  if (!expanded) {
    return std::nullopt;
  }
  const std::string& text = *expanded;
  auto parsed = parse_duration(text);
  if (!parsed) {
    reader_.error(reader_.at(*value), "invalid-duration",
                  quote(name) + ": invalid duration " + quote(text) + ": " + parsed.error());
    return std::nullopt;
  }
  return *parsed;
}

void make_messages_printable(Diagnostics& diagnostics) {
  constexpr std::size_t kMaxMessage = 1000;
  for (auto& diagnostic : diagnostics.items()) {
    diagnostic.message = printable(diagnostic.message, kMaxMessage);
  }
}

nlohmann::json to_json(Reader& reader, const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return reader.expand(*node.as_string()).value_or(node.as_string()->get());
    case toml::node_type::integer:
      return node.as_integer()->get();
    case toml::node_type::floating_point:
      return node.as_floating_point()->get();
    case toml::node_type::boolean:
      return node.as_boolean()->get();
    case toml::node_type::date: {
      std::ostringstream out;
      out << node.as_date()->get();
      return out.str();
    }
    case toml::node_type::time: {
      std::ostringstream out;
      out << node.as_time()->get();
      return out.str();
    }
    case toml::node_type::date_time: {
      std::ostringstream out;
      out << node.as_date_time()->get();
      return out.str();
    }
    case toml::node_type::array: {
      auto out = nlohmann::json::array();
      for (const auto& element : *node.as_array()) {
        out.push_back(to_json(reader, element));
      }
      return out;
    }
    case toml::node_type::table: {
      auto out = nlohmann::json::object();
      for (auto&& [key, value] : *node.as_table()) {
        out[std::string(key.str())] = to_json(reader, value);
      }
      return out;
    }
    case toml::node_type::none:
      break;
  }
  return nullptr;
}

}  // namespace mcpgw::config::detail
