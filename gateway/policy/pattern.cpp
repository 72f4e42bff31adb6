#include "gateway/policy/pattern.hpp"

#include <re2/re2.h>

#include <cstdio>
#include <optional>
#include <utility>
#include <vector>

namespace mcpgw::policy {
namespace {

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
  Pattern pattern;
  pattern.text_ = std::string(text);
  if (text.substr(0, kRegexPrefix.size()) == kRegexPrefix) {
    const std::string body(text.substr(kRegexPrefix.size()));
    if (body.empty())
      return mcp::unexpected(std::string("empty regular expression"));
    auto regex = compile_re2(body, /*dot_matches_newline=*/false);
    if (!regex)
      return mcp::unexpected(std::move(regex.error()));
    pattern.kind_ = Kind::regex;
    pattern.regex_ = std::move(*regex);
    pattern.canonical_ = "r:" + body;
    return pattern;
  }

  auto parsed = tokenize_glob(text);
  if (!parsed)
    return mcp::unexpected(std::move(parsed.error()));
  const std::vector<Token>& tokens = *parsed;
  const auto is = [&](std::size_t i, TokenType type) {
    return i < tokens.size() && tokens[i].type == type;
  };
  if (is(0, TokenType::literal))
    pattern.guaranteed_prefix_ = tokens.front().text;
  if (!tokens.empty() && tokens.back().type == TokenType::literal) {
    pattern.guaranteed_suffix_ = tokens.back().text;
  }

  // The shapes that need no regex engine.
  if (tokens.size() == 1 && is(0, TokenType::star)) {
    pattern.kind_ = Kind::any;
    pattern.canonical_ = "*";
  } else if (tokens.size() == 1 && is(0, TokenType::literal)) {
    pattern.kind_ = Kind::literal;
    pattern.fixed_ = tokens[0].text;
    pattern.canonical_ = "=" + pattern.fixed_;
  } else if (tokens.size() == 2 && is(0, TokenType::literal) && is(1, TokenType::star)) {
    pattern.kind_ = Kind::prefix;
    pattern.fixed_ = tokens[0].text;
    pattern.canonical_ = "^" + pattern.fixed_;
  } else if (tokens.size() == 2 && is(0, TokenType::star) && is(1, TokenType::literal)) {
    pattern.kind_ = Kind::suffix;
    pattern.fixed_ = tokens[1].text;
    pattern.canonical_ = "$" + pattern.fixed_;
  } else if (tokens.size() == 3 && is(0, TokenType::star) && is(1, TokenType::literal) &&
             is(2, TokenType::star)) {
    pattern.kind_ = Kind::contains;
    pattern.fixed_ = tokens[1].text;
    pattern.canonical_ = "~" + pattern.fixed_;
  } else {
    pattern.kind_ = Kind::glob;
  }

  if (pattern.kind_ == Kind::glob || engine == PatternEngine::re2_only) {
    const std::string regex = tokens_to_regex(tokens);
    auto compiled = compile_re2(regex, /*dot_matches_newline=*/true);
    if (!compiled)
      return mcp::unexpected(std::move(compiled.error()));
    pattern.regex_ = std::move(*compiled);
    if (pattern.kind_ == Kind::glob)
      pattern.canonical_ = "g:" + regex;
  }
  return pattern;
}

bool Pattern::matches(std::string_view value) const noexcept {
  if (regex_)
    return RE2::FullMatch(value, *regex_);
  switch (kind_) {
    case Kind::any:
      return true;
    case Kind::literal:
      return value == fixed_;
    case Kind::prefix:
      return value.starts_with(fixed_);
    case Kind::suffix:
      return value.ends_with(fixed_);
    case Kind::contains:
      return contains(value, fixed_);
    case Kind::glob:
    case Kind::regex:
      break;
  }
  return false;
}

bool Pattern::covers(const Pattern& other) const noexcept {
  if (kind_ == Kind::any)
    return true;
  if (canonical_ == other.canonical_)
    return true;
  if (other.kind_ == Kind::literal)
    return matches(other.fixed_);
  // Regexes are opaque: only an identical one (handled above) is known to cover another.
  if (other.kind_ == Kind::regex)
    return false;
  switch (kind_) {
    case Kind::prefix:
      return other.guaranteed_prefix_.starts_with(fixed_);
    case Kind::suffix:
      return other.guaranteed_suffix_.ends_with(fixed_);
    case Kind::contains:
      return contains(other.guaranteed_prefix_, fixed_) ||
             contains(other.guaranteed_suffix_, fixed_) ||
             (other.kind_ == Kind::contains && contains(other.fixed_, fixed_));
    case Kind::any:
    case Kind::literal:
    case Kind::glob:
    case Kind::regex:
      break;
  }
  return false;
}

}  // namespace mcpgw::policy
