#include "gateway/policy/pattern.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

namespace mcpgw::policy {

struct Pattern::Data {
  Kind kind = Kind::literal;
  std::string text;
  std::string fixed;
  std::string guaranteed_prefix;
  std::string guaranteed_suffix;
  std::string canonical;
  std::shared_ptr<const re2::RE2> regex;
  // Every string the regex matches lies in [range_min, range_max] (RE2::PossibleMatchRange):
  // a cheap rejection before running the automaton.
  bool has_range = false;
  bool check_affixes = false;  // reject on guaranteed_prefix / suffix before the automaton
  std::string range_min;
  std::string range_max;
};

namespace {

// Length of the bounds asked from RE2::PossibleMatchRange.
constexpr int kRangeBoundLength = 32;

constexpr std::string_view kRegexPrefix = "re:";

struct CodePoint {
  char32_t value = 0;
  std::size_t length = 0;  // 0: not valid UTF-8
};

// Decodes one UTF-8 sequence (rejecting overlong forms, surrogates and values past U+10FFFF).
CodePoint decode_utf8(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80)
    return {lead, 1};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2;
    value = lead & 0x1Fu;
    minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    value = lead & 0x0Fu;
    minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    value = lead & 0x07u;
    minimum = 0x10000;
  } else {
    return {};
  }
  if (pos + length > text.size())
    return {};
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    if ((next & 0xC0) != 0x80)
      return {};
    value = (value << 6) | (next & 0x3Fu);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return {};
  return {value, length};
}

bool is_valid_utf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const CodePoint cp = decode_utf8(text, pos);
    if (cp.length == 0)
      return false;
    pos += cp.length;
  }
  return true;
}

std::string class_char(char32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "\\x{%X}", static_cast<unsigned>(value));
  return buffer;
}

enum class TokenType { literal, star, one, char_class };

struct Token {
  TokenType type;
  std::string text;  // literal: the characters; char_class: the RE2 class
};

// Parses a glob into tokens: literal runs merged, consecutive stars merged.
mcp::Expected<std::vector<Token>, std::string> tokenize_glob(std::string_view glob) {
  if (glob.empty())
    return mcp::unexpected(std::string("empty pattern"));
  if (!is_valid_utf8(glob))
    return mcp::unexpected(std::string("pattern is not valid UTF-8"));
  std::vector<Token> tokens;
  const auto append_literal = [&](std::string_view characters) {
    if (tokens.empty() || tokens.back().type != TokenType::literal) {
      tokens.push_back({TokenType::literal, {}});
    }
    tokens.back().text.append(characters);
  };
  std::size_t pos = 0;
  while (pos < glob.size()) {
    const char c = glob[pos];
    if (c == '*') {
      if (tokens.empty() || tokens.back().type != TokenType::star) {
        tokens.push_back({TokenType::star, {}});
      }
      ++pos;
    } else if (c == '?') {
      tokens.push_back({TokenType::one, {}});
      ++pos;
    } else if (c == '\\') {
      if (pos + 1 >= glob.size())
        return mcp::unexpected(std::string("trailing backslash"));
      const std::size_t length = decode_utf8(glob, pos + 1).length;
      append_literal(glob.substr(pos + 1, length));
      pos += 1 + length;
    } else if (c == '[') {
      std::size_t at = pos + 1;
      bool negated = false;
      if (at < glob.size() && (glob[at] == '!' || glob[at] == '^')) {
        negated = true;
        ++at;
      }
      // Reads one class member, honouring escapes; nullopt at the end of the text.
      const auto read_member = [&](std::size_t& cursor) -> std::optional<CodePoint> {
        if (cursor >= glob.size())
          return std::nullopt;
        std::size_t start = cursor;
        if (glob[cursor] == '\\') {
          if (cursor + 1 >= glob.size())
            return std::nullopt;
          start = cursor + 1;
        }
        const CodePoint cp = decode_utf8(glob, start);
        cursor = start + cp.length;
        return cp;
      };
      std::string regex = negated ? "[^" : "[";
      bool first = true;
      bool closed = false;
      while (at < glob.size()) {
        if (glob[at] == ']' && !first) {
          closed = true;
          ++at;
          break;
        }
        first = false;
        const std::size_t member_start = at;
        const std::optional<CodePoint> low = read_member(at);
        if (!low)
          break;
        if (at + 1 < glob.size() && glob[at] == '-' && glob[at + 1] != ']') {
          ++at;
          const std::optional<CodePoint> high = read_member(at);
          if (!high)
            break;
          if (high->value < low->value) {
            return mcp::unexpected("invalid range '" +
                                   std::string(glob.substr(member_start, at - member_start)) +
                                   "' in character class: the end is before the start");
          }
          regex += class_char(low->value) + "-" + class_char(high->value);
        } else {
          regex += class_char(low->value);
        }
      }
      if (!closed)
        return mcp::unexpected(std::string("unterminated character class"));
      regex += ']';
      tokens.push_back({TokenType::char_class, std::move(regex)});
      pos = at;
    } else {
      const std::size_t length = decode_utf8(glob, pos).length;
      append_literal(glob.substr(pos, length));
      pos += length;
    }
  }
  return tokens;
}

std::string tokens_to_regex(const std::vector<Token>& tokens) {
  std::string regex;
  for (const Token& token : tokens) {
    switch (token.type) {
      case TokenType::literal:
        regex += RE2::QuoteMeta(token.text);
        break;
      case TokenType::star:
        regex += ".*";
        break;
      case TokenType::one:
        regex += '.';
        break;
      case TokenType::char_class:
        regex += token.text;
        break;
    }
  }
  return regex;
}

mcp::Expected<std::shared_ptr<const re2::RE2>, std::string> compile_re2(const std::string& regex,
                                                                        bool dot_matches_newline) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kPatternMaxMemBytes);
  options.set_dot_nl(dot_matches_newline);
  auto compiled = std::make_shared<const re2::RE2>(regex, options);
  if (!compiled->ok()) {
    if (compiled->error_code() == RE2::ErrorPatternTooLarge) {
      return mcp::unexpected(std::string("regular expression is too large (over the ") +
                             std::to_string(kPatternMaxMemBytes >> 10) + " KiB program budget)");
    }
    return mcp::unexpected("invalid regular expression: " + compiled->error());
  }
  return std::shared_ptr<const re2::RE2>(std::move(compiled));
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

mcp::Expected<std::string, std::string> glob_to_regex(std::string_view glob) {
  auto tokens = tokenize_glob(glob);
  if (!tokens)
    return mcp::unexpected(std::move(tokens.error()));
  return tokens_to_regex(*tokens);
}

mcp::Expected<Pattern, std::string> Pattern::compile(std::string_view text, PatternEngine engine) {
  auto data = std::make_shared<Data>();
  data->text = std::string(text);
  const auto set_range = [&] {
    data->has_range =
        data->regex->PossibleMatchRange(&data->range_min, &data->range_max, kRangeBoundLength);
  };
  if (text.substr(0, kRegexPrefix.size()) == kRegexPrefix) {
    const std::string body(text.substr(kRegexPrefix.size()));
    if (body.empty())
      return mcp::unexpected(std::string("empty regular expression"));
    auto regex = compile_re2(body, /*dot_matches_newline=*/false);
    if (!regex)
      return mcp::unexpected(std::move(regex.error()));
    data->kind = Kind::regex;
    data->regex = std::move(*regex);
    data->canonical = "r:" + body;
    set_range();
    // Every string in [min, max] starts with their common prefix.
    if (data->has_range) {
      const auto [min_end, max_end] = std::mismatch(data->range_min.begin(), data->range_min.end(),
                                                    data->range_max.begin(), data->range_max.end());
      data->guaranteed_prefix.assign(data->range_min.begin(), min_end);
      (void)max_end;
    }
    return Pattern(std::move(data));
  }

  auto parsed = tokenize_glob(text);
  if (!parsed)
    return mcp::unexpected(std::move(parsed.error()));
  const std::vector<Token>& tokens = *parsed;
  const auto is = [&](std::size_t i, TokenType type) {
    return i < tokens.size() && tokens[i].type == type;
  };
  if (is(0, TokenType::literal))
    data->guaranteed_prefix = tokens.front().text;
  if (!tokens.empty() && tokens.back().type == TokenType::literal) {
    data->guaranteed_suffix = tokens.back().text;
  }

  // The shapes that need no regex engine.
  if (tokens.size() == 1 && is(0, TokenType::star)) {
    data->kind = Kind::any;
    data->canonical = "*";
  } else if (tokens.size() == 1 && is(0, TokenType::literal)) {
    data->kind = Kind::literal;
    data->fixed = tokens[0].text;
    data->canonical = "=" + data->fixed;
  } else if (tokens.size() == 2 && is(0, TokenType::literal) && is(1, TokenType::star)) {
    data->kind = Kind::prefix;
    data->fixed = tokens[0].text;
    data->canonical = "^" + data->fixed;
  } else if (tokens.size() == 2 && is(0, TokenType::star) && is(1, TokenType::literal)) {
    data->kind = Kind::suffix;
    data->fixed = tokens[1].text;
    data->canonical = "$" + data->fixed;
  } else if (tokens.size() == 3 && is(0, TokenType::star) && is(1, TokenType::literal) &&
             is(2, TokenType::star)) {
    data->kind = Kind::contains;
    data->fixed = tokens[1].text;
    data->canonical = "~" + data->fixed;
  } else {
    data->kind = Kind::glob;
  }

  if (data->kind == Kind::glob || engine == PatternEngine::re2_only) {
    const std::string regex = tokens_to_regex(tokens);
    auto compiled = compile_re2(regex, /*dot_matches_newline=*/true);
    if (!compiled)
      return mcp::unexpected(std::move(compiled.error()));
    data->regex = std::move(*compiled);
    if (data->kind == Kind::glob)
      data->canonical = "g:" + regex;
    // Only the glob kind pre-filters: re2_only exists to exercise the automaton itself.
    if (data->kind == Kind::glob) {
      set_range();
      data->check_affixes = true;
    }
  }
  return Pattern(std::move(data));
}

Pattern::Kind Pattern::kind() const noexcept {
  return data_->kind;
}
const std::string& Pattern::text() const noexcept {
  return data_->text;
}
const std::string& Pattern::fixed() const noexcept {
  return data_->fixed;
}
const std::string& Pattern::guaranteed_prefix() const noexcept {
  return data_->guaranteed_prefix;
}
const std::string& Pattern::guaranteed_suffix() const noexcept {
  return data_->guaranteed_suffix;
}
const std::string& Pattern::canonical() const noexcept {
  return data_->canonical;
}

bool Pattern::matches(std::string_view value) const noexcept {
  const Data& d = *data_;
  if (d.regex) {
    if (d.has_range && (value < d.range_min || value > d.range_max))
      return false;
    if (d.check_affixes &&
        (!value.starts_with(d.guaranteed_prefix) || !value.ends_with(d.guaranteed_suffix))) {
      return false;
    }
    return RE2::FullMatch(value, *d.regex);
  }
  switch (d.kind) {
    case Kind::any:
      return true;
    case Kind::literal:
      return value == d.fixed;
    case Kind::prefix:
      return value.starts_with(d.fixed);
    case Kind::suffix:
      return value.ends_with(d.fixed);
    case Kind::contains:
      return contains(value, d.fixed);
    case Kind::glob:
    case Kind::regex:
      break;
  }
  return false;
}

bool Pattern::covers(const Pattern& other) const noexcept {
  const Data& ours = *data_;
  const Data& theirs = *other.data_;
  if (ours.kind == Kind::any)
    return true;
  if (ours.canonical == theirs.canonical)
    return true;
  if (theirs.kind == Kind::literal)
    return matches(theirs.fixed);
  // Regexes are opaque: only an identical one (handled above) is known to cover another.
  if (theirs.kind == Kind::regex)
    return false;
  switch (ours.kind) {
    case Kind::prefix:
      return theirs.guaranteed_prefix.starts_with(ours.fixed);
    case Kind::suffix:
      return theirs.guaranteed_suffix.ends_with(ours.fixed);
    case Kind::contains:
      return contains(theirs.guaranteed_prefix, ours.fixed) ||
             contains(theirs.guaranteed_suffix, ours.fixed) ||
             (theirs.kind == Kind::contains && contains(theirs.fixed, ours.fixed));
    case Kind::any:
    case Kind::literal:
    case Kind::glob:
    case Kind::regex:
      break;
  }
  return false;
}

}  // namespace mcpgw::policy
