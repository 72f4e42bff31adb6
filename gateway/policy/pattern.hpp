// Name patterns used by policy rules and rate limits: globs by default, RE2 with "re:".
//
// Glob syntax: `*` any run of characters (including '/', possibly empty), `?` exactly one
// character (a UTF-8 code point), `[abc]`, `[a-z]`, `[!abc]` (also `[^abc]`) one character of /
// not of a class (a `]` right after `[` or `[!` is literal), `\` makes the next character
// literal. Everything else is literal; matching is case sensitive and covers the whole string.
// "re:<regex>" is an RE2 regular expression that must match the WHOLE string.
//
// Globs are translated to RE2 (linear-time matching on user-written patterns), except the simple
// shapes that need no regex engine at all: "*" (any), "abc" (literal), "abc*" (prefix), "*abc"
// (suffix) and "*abc*" (contains) are plain string operations.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "mcp/expected.hpp"

namespace re2 {
class RE2;
}

namespace mcpgw::policy {

// Budget for one compiled RE2 program and its DFA caches: a hostile regex such as "(a{999}){999}"
// is rejected at compile time instead of exhausting memory.
inline constexpr std::int64_t kPatternMaxMemBytes = std::int64_t{1} << 20;

enum class PatternEngine {
  automatic,  // string operations for the simple shapes, RE2 for the rest
  re2_only,   // always RE2 (tests use it to check that both paths agree)
};

class Pattern {
 public:
  enum class Kind : std::uint8_t { any, literal, prefix, suffix, contains, glob, regex };

  // The error is a one-line description without the pattern text, e.g. "unterminated character
  // class" or "invalid regular expression: missing ): (a".
  static mcp::Expected<Pattern, std::string> compile(
      std::string_view text, PatternEngine engine = PatternEngine::automatic);

  // Thread-safe; never allocates for the non-RE2 kinds.
  bool matches(std::string_view value) const noexcept;

  // True only when every string `other` matches is certainly matched by this pattern. Conservative:
  // false means "not proven", never "proven not".
  bool covers(const Pattern& other) const noexcept;

  Kind kind() const noexcept;
  bool is_literal() const noexcept { return kind() == Kind::literal; }
  const std::string& text() const noexcept;
  // The fixed string of literal, prefix, suffix and contains patterns (escapes removed).
  const std::string& fixed() const noexcept;
  // A prefix / suffix every matched string is guaranteed to have (empty when none is known;
  // for regexes the prefix comes from RE2's possible match range, and there is no suffix).
  const std::string& guaranteed_prefix() const noexcept;
  const std::string& guaranteed_suffix() const noexcept;
  // Equal for patterns that are written differently but match the same strings by construction
  // (e.g. "a\\b" and "ab", "x**" and "x*").
  const std::string& canonical() const noexcept;

 private:
  struct Data;
  explicit Pattern(std::shared_ptr<const Data> data) : data_(std::move(data)) {}
  std::shared_ptr<const Data> data_;  // shared: copies are cheap and compiled once
};

// The RE2 translation of a glob (unanchored; compile it with dot_nl so `*` crosses newlines and
// match it with full-match semantics). Errors as in Pattern::compile.
mcp::Expected<std::string, std::string> glob_to_regex(std::string_view glob);

}  // namespace mcpgw::policy
