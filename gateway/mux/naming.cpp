#include "gateway/mux/naming.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "gateway/mux/digest.hpp"
#include "gateway/mux/text.hpp"
#include "mcp/ascii.hpp"

namespace mcpgw::mux {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

constexpr std::size_t kMaxWarnedCollisions = 4096;
constexpr unsigned kLoserSalts = 8;

}  // namespace

bool prefixing_applies(config::PrefixMode mode, std::size_t backend_count) {
  return mode == config::PrefixMode::always ||
         (mode == config::PrefixMode::automatic && backend_count > 1);
}

bool is_valid_exposed_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxExposedNameLength &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

std::string sanitize_name(std::string_view name) {
  if (name.empty()) {
    return "_";
  }
  std::string out(name);
  for (auto& c : out) {
    if (!is_name_char(c)) {
      c = '_';
    }
  }
  return out;
}

std::string name_hash(std::string_view backend, std::string_view original, unsigned salt) {
  std::string input;
  input.reserve(backend.size() + original.size() + 16);
  input.append(backend);
  input.push_back('\0');
  input.append(original);
  if (salt != 0) {
    input.push_back('\0');
    input.append(std::to_string(salt));
  }
  const auto digest = sha256(input);
  return hex_prefix(digest, kNameHashLength / 2);
}

std::string shorten_name(std::string_view name, std::string_view hash) {
  const auto keep = kMaxExposedNameLength - 1 - hash.size();
  std::string out(name.substr(0, std::min(keep, name.size())));
  out.push_back('_');
  out.append(hash);
  return out;
}

std::string_view to_string(NameKind kind) {
  return kind == NameKind::tool ? "tool" : "prompt";
}

// ---- NameTable ----

NameTable::NameTable(std::vector<std::string> backends, std::string separator, bool prefixing,
                     std::size_t max_entries)
    : backends_(std::move(backends)),
      separator_(std::move(separator)),
      prefixing_(prefixing),
      max_entries_(std::max<std::size_t>(max_entries, 16)) {}

std::string NameTable::candidate(std::size_t backend, std::string_view original) const {
  if (!prefixing_) {
    return std::string(original);
  }
  std::string out = backends_[backend];
  out.append(separator_);
  out.append(original);
  return out;
}

void NameTable::insert(Names& names, const std::string& exposed, Entry entry) {
  names.by_original[{entry.backend, entry.original}] = exposed;
  names.by_exposed[exposed] = std::move(entry);
}

std::optional<std::string> NameTable::loser_name(Names& names, std::size_t backend,
                                                 const std::string& original, unsigned first_salt) {
  const auto base = sanitize_name(candidate(backend, original));
  for (unsigned salt = first_salt; salt < first_salt + kLoserSalts; ++salt) {
    auto name = shorten_name(base, name_hash(backends_[backend], original, salt));
    if (names.by_exposed.count(name) == 0) {
      return name;
    }
  }
  return std::nullopt;
}

void NameTable::warn_collision(NameKind kind, const std::string& exposed, const Entry& winner,
                               const Entry& loser, const std::string& loser_exposed) {
  std::string key(to_string(kind));
  const std::string* const parts[] = {&exposed, &backends_[winner.backend], &winner.original,
                                      &backends_[loser.backend], &loser.original};
  for (const auto* part : parts) {
    key.push_back('\0');
    key.append(*part);
  }
  if (warned_.count(key) != 0) {
    return;
  }
  if (warned_.size() >= kMaxWarnedCollisions) {
    warned_.clear();
  }
  warned_.insert(std::move(key));
  if (loser_exposed.empty()) {
    spdlog::warn(
        "mux: {} name {} is claimed by {} of backend '{}' and {} of backend '{}'; no free name "
        "was found for the second, which is left out",
        to_string(kind), printable(exposed), printable(winner.original), backends_[winner.backend],
        printable(loser.original), backends_[loser.backend]);
    return;
  }
  spdlog::warn(
      "mux: {} name {} is claimed by {} of backend '{}' and {} of backend '{}'; the "
      "second is exposed as {}",
      to_string(kind), printable(exposed), printable(winner.original), backends_[winner.backend],
      printable(loser.original), backends_[loser.backend], printable(loser_exposed));
}

std::optional<std::string> NameTable::expose(NameKind kind, std::size_t backend,
                                             const std::string& original) {
  if (backend >= backends_.size()) {
    return std::nullopt;
  }
  auto& table = names(kind);
  if (const auto found = table.by_original.find({backend, original});
      found != table.by_original.end()) {
    return found->second;
  }
  if (table.by_exposed.size() >= max_entries_) {
    spdlog::warn("mux: more than {} {} names seen; forgetting them (lists fill the table again)",
                 max_entries_, to_string(kind));
    table = Names{};
  }
  const auto wanted = candidate(backend, original);
  auto natural = sanitize_name(wanted);
  const bool untouched = natural == wanted && natural.size() <= kMaxExposedNameLength;
  if (natural.size() > kMaxExposedNameLength) {
    natural = shorten_name(natural, name_hash(backends_[backend], original));
  }
  Entry entry{backend, original, untouched};
  const auto existing = table.by_exposed.find(natural);
  if (existing == table.by_exposed.end()) {
    insert(table, natural, std::move(entry));
    return natural;
  }
  const Entry other = existing->second;
  const bool newcomer_wins =
      (untouched && !other.untouched) || (untouched == other.untouched && backend < other.backend);
  if (newcomer_wins) {
    table.by_original.erase({other.backend, other.original});
    table.by_exposed.erase(existing);
    insert(table, natural, entry);
    auto moved = loser_name(table, other.backend, other.original, 0);
    if (moved) {
      insert(table, *moved, other);
    }
    warn_collision(kind, natural, entry, other, moved.value_or(std::string()));
    return natural;
  }
  auto mine = loser_name(table, backend, original, 0);
  if (mine) {
    insert(table, *mine, entry);
  }
  warn_collision(kind, natural, other, entry, mine.value_or(std::string()));
  return mine;
}

bool NameTable::untouched(std::size_t backend, std::string_view original) const {
  if (backend >= backends_.size()) {
    return false;
  }
  const auto wanted = candidate(backend, original);
  return is_valid_exposed_name(wanted);
}

std::optional<NameTarget> NameTable::resolve(NameKind kind, std::string_view exposed) const {
  const auto& table = names(kind);
  if (const auto found = table.by_exposed.find(std::string(exposed));
      found != table.by_exposed.end()) {
    return NameTarget{found->second.backend, found->second.original};
  }
  if (!prefixing_) {
    // Without prefixes only a single backend can be named without having been listed.
    if (backends_.size() == 1 && !exposed.empty()) {
      return NameTarget{0, std::string(exposed)};
    }
    return std::nullopt;
  }
  if (!is_valid_exposed_name(exposed)) {
    return std::nullopt;
  }
  const auto at = exposed.find(separator_);
  if (at == std::string_view::npos || at == 0) {
    return std::nullopt;
  }
  const auto backend_name = exposed.substr(0, at);
  const auto rest = exposed.substr(at + separator_.size());
  if (rest.empty()) {
    return std::nullopt;
  }
  for (std::size_t index = 0; index < backends_.size(); ++index) {
    if (backends_[index] == backend_name) {
      return NameTarget{index, std::string(rest)};
    }
  }
  return std::nullopt;
}

void NameTable::invalidate(NameKind kind, std::size_t backend) {
  auto& table = names(kind);
  for (auto it = table.by_exposed.begin(); it != table.by_exposed.end();) {
    if (it->second.backend == backend) {
      table.by_original.erase({it->second.backend, it->second.original});
      it = table.by_exposed.erase(it);
    } else {
      ++it;
    }
  }
}

void NameTable::clear() {
  tools_ = Names{};
  prompts_ = Names{};
}

std::size_t NameTable::size() const {
  return tools_.by_exposed.size() + prompts_.by_exposed.size();
}

// ---- UriCodec ----

UriCodec::UriCodec(const std::vector<std::string>& backends, bool rewriting)
    : rewriting_(rewriting) {
  tokens_.reserve(backends.size());
  for (std::size_t index = 0; index < backends.size(); ++index) {
    auto token = mcp::ascii_lower(backends[index]);
    std::replace(token.begin(), token.end(), '_', '.');
    if (token.empty() || !(token.front() >= 'a' && token.front() <= 'z')) {
      token.insert(token.begin(), 'x');
    }
    if (by_token_.count(token) != 0) {
      token += "-" + hex_prefix(sha256(backends[index]), kNameHashLength / 2);
    }
    while (by_token_.count(token) != 0) {
      token += "-" + std::to_string(index);
    }
    by_token_.emplace(token, index);
    tokens_.push_back(std::move(token));
  }
}

std::string UriCodec::expose(std::size_t backend, std::string_view uri) const {
  if (!rewriting_ || backend >= tokens_.size()) {
    return std::string(uri);
  }
  std::string out = tokens_[backend];
  out.push_back('+');
  out.append(uri);
  return out;
}

std::optional<std::pair<std::size_t, std::string>> UriCodec::resolve(
    std::string_view exposed) const {
  const auto plus = exposed.find('+');
  if (plus == std::string_view::npos || plus == 0) {
    return std::nullopt;
  }
  const auto found = by_token_.find(mcp::ascii_lower(exposed.substr(0, plus)));
  if (found == by_token_.end()) {
    return std::nullopt;
  }
  return std::pair<std::size_t, std::string>{found->second, std::string(exposed.substr(plus + 1))};
}

// ---- ResourceRoutes ----

ResourceRoutes::ResourceRoutes(std::size_t max_entries)
    : max_entries_(std::max<std::size_t>(max_entries, 16)) {}

void ResourceRoutes::make_room() {
  if (uris_.size() + template_prefixes_.size() >= max_entries_) {
    spdlog::warn("mux: more than {} resource routes seen; forgetting them", max_entries_);
    uris_.clear();
    template_prefixes_.clear();
    prefix_lengths_.clear();
  }
}

void ResourceRoutes::learn_uri(const std::string& uri, std::size_t backend) {
  if (uris_.count(uri) == 0) {
    make_room();
  }
  // The backend earlier in the configuration keeps a URI two backends both list.
  const auto [found, inserted] = uris_.emplace(uri, backend);
  if (!inserted && backend < found->second) {
    found->second = backend;
  }
}

void ResourceRoutes::learn_template(const std::string& uri_template, std::size_t backend) {
  const auto brace = uri_template.find('{');
  const auto prefix = uri_template.substr(0, brace);
  if (prefix.empty()) {
    return;  // a template without literal text matches anything: no basis for routing
  }
  if (template_prefixes_.count(prefix) == 0) {
    make_room();
  }
  const auto [found, inserted] = template_prefixes_.emplace(prefix, backend);
  if (inserted) {
    ++prefix_lengths_[prefix.size()];
  } else if (backend < found->second) {
    found->second = backend;
  }
}

std::optional<std::size_t> ResourceRoutes::find(std::string_view uri) const {
  if (const auto found = uris_.find(std::string(uri)); found != uris_.end()) {
    return found->second;
  }
  // Longest template prefix first; only the lengths some template has are tried.
  for (auto length = prefix_lengths_.rbegin(); length != prefix_lengths_.rend(); ++length) {
    if (length->first > uri.size()) {
      continue;
    }
    const auto found = template_prefixes_.find(std::string(uri.substr(0, length->first)));
    if (found != template_prefixes_.end()) {
      return found->second;
    }
  }
  return std::nullopt;
}

void ResourceRoutes::invalidate(std::size_t backend) {
  std::erase_if(uris_, [backend](const auto& entry) { return entry.second == backend; });
  for (auto it = template_prefixes_.begin(); it != template_prefixes_.end();) {
    if (it->second == backend) {
      const auto length = prefix_lengths_.find(it->first.size());
      if (length != prefix_lengths_.end() && --length->second == 0) {
        prefix_lengths_.erase(length);
      }
      it = template_prefixes_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---- TaskIdCodec ----

TaskIdCodec::TaskIdCodec(std::vector<std::string> backends, std::string separator)
    : backends_(std::move(backends)), separator_(std::move(separator)) {}

std::string TaskIdCodec::expose(std::size_t backend, std::string_view task_id) const {
  if (!rewriting() || backend >= backends_.size()) {
    return std::string(task_id);
  }
  std::string out = backends_[backend];
  out.append(separator_);
  out.append(task_id);
  return out;
}

std::optional<std::pair<std::size_t, std::string>> TaskIdCodec::resolve(
    std::string_view exposed) const {
  if (!rewriting()) {
    if (backends_.empty()) {
      return std::nullopt;
    }
    return std::pair<std::size_t, std::string>{0, std::string(exposed)};
  }
  const auto at = exposed.find(separator_);
  if (at == std::string_view::npos || at == 0) {
    return std::nullopt;
  }
  const auto name = exposed.substr(0, at);
  for (std::size_t index = 0; index < backends_.size(); ++index) {
    if (backends_[index] == name) {
      return std::pair<std::size_t, std::string>{
          index, std::string(exposed.substr(at + separator_.size()))};
    }
  }
  return std::nullopt;
}

}  // namespace mcpgw::mux
