// How the gateway names what its backends offer, and how it finds the owner again.
//
// Tool and prompt names: `<backend><separator><name>` when prefixing applies (PrefixMode
// automatic with more than one backend, or always), the bare name otherwise. Every exposed name
// matches ^[A-Za-z0-9_-]{1,64}$ (what LLM provider APIs accept):
// - characters outside that set become '_' (an empty name becomes "_");
// - a name longer than 64 keeps its first 55 characters, then '_' and 8 hex digits of
//   SHA-256(backend NUL original), so the same tool always gets the same name;
// - two different (backend, name) pairs that would get the same exposed name collide. The
//   winner keeps the name: a name that needed no change beats one that was sanitised or
//   shortened (so an untouched prefixed name can always be parsed directly), then the backend
//   earlier in the configuration, then the one seen first. The loser gets a hash suffix (salted
//   again if that is taken too). Each collision is logged once with spdlog::warn.
// The table remembers exposed -> (backend, original) as lists pass through. tools/call before
// any tools/list still works for untouched prefixed names, which are parsed directly.
//
// Resource URIs (and uriTemplates): `<token>+<original>` when prefixing applies, where token is
// the backend name in lower case with '_' turned into '.' (a URI scheme may hold letters,
// digits, '+', '-' and '.', and must start with a letter: "x" is put in front of a leading
// digit; a token two backends would share gets '-' and 8 hex digits of the name's hash). The
// token never holds '+', so the first '+' ends it. `file:///a` of backend "fs" becomes
// `fs+file:///a`; a template `test://t/{id}` becomes `fs+test://t/{id}`, which still expands to
// a resolvable URI. Tokens compare case-insensitively, as URI schemes do.
//
// Task ids: `<backend><separator><taskId>` whenever there is more than one backend (routing
// needs it in every prefix mode); unchanged with one backend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/config/config.hpp"

namespace mcpgw::mux {

inline constexpr std::size_t kMaxExposedNameLength = 64;
inline constexpr std::size_t kNameHashLength = 8;  // hex digits

bool prefixing_applies(config::PrefixMode mode, std::size_t backend_count);
// ^[A-Za-z0-9_-]{1,64}$
bool is_valid_exposed_name(std::string_view name);
// Every character outside [A-Za-z0-9_-] (every byte of a multi-byte one) becomes '_'.
std::string sanitize_name(std::string_view name);
// 8 hex digits of SHA-256(backend NUL original [NUL salt]); salt 0 adds nothing.
std::string name_hash(std::string_view backend, std::string_view original, unsigned salt = 0);
// The first 64 - 9 characters of `name`, '_' and the hash.
std::string shorten_name(std::string_view name, std::string_view hash);

enum class NameKind : std::uint8_t { tool, prompt };
std::string_view to_string(NameKind kind);

struct NameTarget {
  std::size_t backend = 0;
  std::string original;
  friend bool operator==(const NameTarget&, const NameTarget&) = default;
};

class NameTable {
 public:
  NameTable(std::vector<std::string> backends, std::string separator, bool prefixing,
            std::size_t max_entries = 65536);

  // The exposed name of `original` of backend `backend`, remembered for resolve(). Empty only
  // when no collision-free name was found (the item is then left out, with a warning).
  std::optional<std::string> expose(NameKind kind, std::size_t backend,
                                    const std::string& original);
  // Whether `original` keeps its natural exposed name unchanged (no sanitising or shortening).
  // Such names win collisions, so a merged page exposes them first.
  bool untouched(std::size_t backend, std::string_view original) const;
  // Which backend owns an exposed name, and its name there.
  std::optional<NameTarget> resolve(NameKind kind, std::string_view exposed) const;
  // Forgets the names of one backend (its list changed).
  void invalidate(NameKind kind, std::size_t backend);
  void clear();
  std::size_t size() const;
  bool prefixing() const { return prefixing_; }

 private:
  struct Entry {
    std::size_t backend = 0;
    std::string original;
    bool untouched = false;  // the natural name needed no sanitising or shortening
  };
  struct Names {
    std::unordered_map<std::string, Entry> by_exposed;
    std::map<std::pair<std::size_t, std::string>, std::string> by_original;
  };

  std::string candidate(std::size_t backend, std::string_view original) const;
  std::optional<std::string> loser_name(Names& names, std::size_t backend,
                                        const std::string& original, unsigned first_salt);
  void insert(Names& names, const std::string& exposed, Entry entry);
  void warn_collision(NameKind kind, const std::string& exposed, const Entry& winner,
                      const Entry& loser, const std::string& loser_exposed);
  Names& names(NameKind kind) { return kind == NameKind::tool ? tools_ : prompts_; }
  const Names& names(NameKind kind) const { return kind == NameKind::tool ? tools_ : prompts_; }

  std::vector<std::string> backends_;
  std::string separator_;
  bool prefixing_ = false;
  std::size_t max_entries_ = 0;
  Names tools_;
  Names prompts_;
  std::set<std::string> warned_;
};

// Resource URIs and URI templates; see the top of this file.
class UriCodec {
 public:
  UriCodec(const std::vector<std::string>& backends, bool rewriting);
  bool rewriting() const { return rewriting_; }
  std::string expose(std::size_t backend, std::string_view uri) const;
  // The owner and the backend's own URI; empty for a URI without a known token. Only
  // meaningful while rewriting.
  std::optional<std::pair<std::size_t, std::string>> resolve(std::string_view exposed) const;
  const std::string& token(std::size_t backend) const { return tokens_[backend]; }

 private:
  bool rewriting_ = false;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, std::size_t> by_token_;  // lower-case token -> backend
};

// Routing by URI where URIs are not rewritten (prefix never, with several backends): the
// URIs and templates each backend listed. A URI matches a template when it starts with the
// template's text before its first '{'; the longest such prefix wins.
class ResourceRoutes {
 public:
  explicit ResourceRoutes(std::size_t max_entries = 65536);
  void learn_uri(const std::string& uri, std::size_t backend);
  void learn_template(const std::string& uri_template, std::size_t backend);
  std::optional<std::size_t> find(std::string_view uri) const;
  void invalidate(std::size_t backend);

 private:
  void make_room();
  std::size_t max_entries_;
  std::unordered_map<std::string, std::size_t> uris_;
  std::unordered_map<std::string, std::size_t> template_prefixes_;
  std::map<std::size_t, std::size_t> prefix_lengths_;  // prefix length -> how many templates
};

// Task ids; see the top of this file.
class TaskIdCodec {
 public:
  TaskIdCodec(std::vector<std::string> backends, std::string separator);
  bool rewriting() const { return backends_.size() > 1; }
  std::string expose(std::size_t backend, std::string_view task_id) const;
  std::optional<std::pair<std::size_t, std::string>> resolve(std::string_view exposed) const;

 private:
  std::vector<std::string> backends_;
  std::string separator_;
};

}  // namespace mcpgw::mux
