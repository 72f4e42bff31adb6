// A single-pass validating JSON scanner over text, without a tree: private to the protocol core
// (message_summary.cpp and the traffic decoders). It checks RFC 8259 exactly as strictly as the
// codec's nlohmann parse (mcp/jsonrpc.hpp): UTF-8 by RFC 3629 ranges, escapes and paired \u
// surrogates, no raw control characters in strings, the number grammar, non-finite numbers
// (1e400) rejected, nesting bounded. It allocates nothing, except when a member name or string
// the caller asks for contains escapes (unescaped into a scratch string).
//
// Levels: the outermost container is level 1. Functions that consume a value take the level of
// the container holding it (0 at the top); a container value gets that level + 1, which must not
// exceed max_depth.
#pragma once

#include <array>
#include <bit>
#include <bitset>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "mcp/ascii.hpp"

namespace mcpgw::mcp::json_scan {

inline constexpr std::size_t kMaxScanDepth = 1024;

namespace detail {

// Bytes that a string can hold as they are: printable ASCII other than '"' and '\\'.
constexpr std::array<bool, 256> make_plain_table() {
  std::array<bool, 256> table{};
  for (std::size_t byte = 0x20; byte < 0x80; ++byte) {
    table[byte] = byte != '"' && byte != '\\';
  }
  return table;
}
inline constexpr std::array<bool, 256> kPlainStringByte = make_plain_table();

inline void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Index of the first byte at or after `pos` that is not plain string content (little-endian
// hosts only, as everything mcpgw builds for). Eight bytes at a
// time (SWAR): most of a message is long runs of plain ASCII inside strings.
static_assert(std::endian::native == std::endian::little, "skip_plain_string_bytes");
inline std::size_t skip_plain_string_bytes(const unsigned char* data, std::size_t pos,
                                           std::size_t size) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  while (pos + 8 <= size) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + pos, 8);
    const std::uint64_t quote = word ^ (kOnes * '"');
    const std::uint64_t backslash = word ^ (kOnes * '\\');
    // A byte is special when it is zero after the XORs (quote, backslash), below 0x20 or has
    // its high bit set; each test sets that byte's high bit (no false negatives; a false
    // positive only sends the byte to the exact loop below).
    const std::uint64_t special = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                                  (word - kOnes * 0x20) | word;
    if ((special & kHigh) != 0) {
      // Borrows only run upwards, so the lowest flagged byte is exactly the first special one
      // (little-endian load: the lowest byte is the first in memory).
      return pos + static_cast<std::size_t>(std::countr_zero(special & kHigh)) / 8;
    }
    pos += 8;
  }
  while (pos < size && kPlainStringByte[data[pos]]) {
    ++pos;
  }
  return pos;
}

}  // namespace detail

enum class ValueType : std::uint8_t { none, string, number, object, array, boolean, null };

// What the first byte of a value says its type is (none for anything else).
constexpr ValueType type_of(char first) noexcept {
  switch (first) {
    case '"':
      return ValueType::string;
    case '{':
      return ValueType::object;
    case '[':
      return ValueType::array;
    case 't':
    case 'f':
      return ValueType::boolean;
    case 'n':
      return ValueType::null;
    default:
      return (first == '-' || (first >= '0' && first <= '9')) ? ValueType::number : ValueType::none;
  }
}

// "a string", "an object", ...: for diagnostics.
constexpr std::string_view describe(ValueType type) noexcept {
  switch (type) {
    case ValueType::string:
      return "a string";
    case ValueType::number:
      return "a number";
    case ValueType::object:
      return "an object";
    case ValueType::array:
      return "an array";
    case ValueType::boolean:
      return "a boolean";
    case ValueType::null:
      return "null";
    case ValueType::none:
      break;
  }
  return "not a JSON value";
}

// A validated number token: its shape, for callers that want an integer id or code.
struct NumberToken {
  std::string_view text;
  bool is_integer = false;  // no fraction and no exponent
};

// The integer value of a validated integer token, when it fits in int64 ("-0" is 0).
inline std::optional<std::int64_t> parse_int64(std::string_view token) noexcept {
  std::int64_t value = 0;
  const auto* begin = token.data();
  const auto* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

// Unescapes the body of a validated string token (with its quotes) into `out` (appended).
inline void unescape_token(std::string_view token, std::string& out) {
  std::size_t pos = 1;
  const std::size_t end = token.size() - 1;
  while (pos < end) {
    const std::size_t run_start = pos;
    while (pos < end && token[pos] != '\\') {
      ++pos;
    }
    out.append(token.data() + run_start, pos - run_start);
    if (pos >= end) {
      break;
    }
    const char escape = token[pos + 1];
    pos += 2;
    switch (escape) {
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto read_hex = [&](std::size_t at) {
          std::uint32_t value = 0;
          for (std::size_t i = 0; i < 4; ++i) {
            value = value * 16 + static_cast<std::uint32_t>(hex_digit_value(token[at + i]));
          }
          return value;
        };
        std::uint32_t code_point = read_hex(pos);
        pos += 4;
        if (code_point >= 0xD800 && code_point <= 0xDBFF) {
          const std::uint32_t low = read_hex(pos + 2);
          pos += 6;
          code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
        }
        detail::append_utf8(out, code_point);
        break;
      }
      default:  // '"', '\\', '/'
        out += escape;
        break;
    }
  }
}

// Appends `text` (valid UTF-8) as a JSON string the way the codec writes it (nlohmann's dump:
// \" \\ \b \f \n \r \t, other control characters as \u00xx, everything else as it is).
inline void append_canonical_string(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// The canonical JSON text of a validated token that is a string or an int64 integer (the shape
// of ids and progress tokens): a re-encoded string, or the integer in decimal. Empty for any
// other value (fractions, out-of-range integers, objects, ...).
inline std::string canonical_id_text(std::string_view token) {
  std::string out;
  if (token.empty()) {
    return out;
  }
  if (token.front() == '"') {
    if (token.find('\\') == std::string_view::npos) {
      // Validated and without escapes: no control characters, so it is canonical already.
      out.assign(token);
      return out;
    }
    std::string text;
    unescape_token(token, text);
    append_canonical_string(text, out);
    return out;
  }
  if (type_of(token.front()) == ValueType::number &&
      token.find_first_of(".eE") == std::string_view::npos) {
    if (const auto value = parse_int64(token)) {
      out = std::to_string(*value);
    }
  }
  return out;
}

class Scanner {
 public:
  Scanner(std::string_view text, std::size_t max_depth) noexcept
      : text_(text), max_depth_(max_depth < kMaxScanDepth ? max_depth : kMaxScanDepth) {}

  std::string_view text() const noexcept { return text_; }
  std::size_t position() const noexcept { return pos_; }
  bool failed() const noexcept { return !error_.empty(); }
  std::size_t error_offset() const noexcept { return error_offset_; }
  std::string_view error() const noexcept { return error_; }

  // Records the first failure (its message must be a literal or otherwise outlive the scanner)
  // and returns false, so callers can `return scanner.fail(...)`.
  bool fail(std::size_t offset, std::string_view message) noexcept {
    if (error_.empty()) {
      error_offset_ = offset;
      error_ = message;
    }
    pos_ = text_.size();
    return false;
  }

  void skip_bom() noexcept {
    if (text_.substr(pos_, 3) == "\xEF\xBB\xBF") {
      pos_ += 3;
    }
  }

  void skip_whitespace() noexcept {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
        return;
      }
      ++pos_;
    }
  }

  bool at_end() const noexcept { return pos_ >= text_.size(); }
  // The next byte (after whitespace), or '\0' at the end.
  char peek() noexcept {
    skip_whitespace();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }

  // After the top-level value: only whitespace may follow.
  bool expect_end() noexcept {
    skip_whitespace();
    if (pos_ != text_.size()) {
      return fail(pos_, "unexpected characters after the JSON value");
    }
    return true;
  }

  // Validates a string token at the position and moves past it. `token` gets its raw text,
  // quotes included; `escaped` says whether it holds escapes.
  bool scan_string(std::string_view& token, bool& escaped) noexcept {
    skip_whitespace();
    const std::size_t start = pos_;
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      return fail(pos_, "expected a string");
    }
    ++pos_;
    escaped = false;
    const auto* data = reinterpret_cast<const unsigned char*>(text_.data());
    const std::size_t size = text_.size();
    while (true) {
      pos_ = detail::skip_plain_string_bytes(data, pos_, size);
      if (pos_ >= size) {
        return fail(start, "unterminated string");
      }
      const unsigned char byte = data[pos_];
      if (byte == '"') {
        ++pos_;
        token = text_.substr(start, pos_ - start);
        return true;
      }
      if (byte == '\\') {
        escaped = true;
        if (!scan_escape()) {
          return false;
        }
      } else if (byte < 0x20) {
        return fail(pos_, "raw control character in a string (must be escaped)");
      } else if (!scan_utf8(data, size)) {
        return false;
      }
    }
  }

  // Reads a string and gives its unescaped content: a view into the text when it has no
  // escapes, else into `scratch` (overwritten).
  bool read_string(std::string_view& content, std::string& scratch) {
    std::string_view token;
    bool escaped = false;
    if (!scan_string(token, escaped)) {
      return false;
    }
    if (!escaped) {
      content = token.substr(1, token.size() - 2);
      return true;
    }
    scratch.clear();
    unescape_token(token, scratch);
    content = scratch;
    return true;
  }

  // Validates a number token at the position and moves past it.
  bool scan_number(NumberToken& number) noexcept {
    skip_whitespace();
    const std::size_t start = pos_;
    const std::size_t size = text_.size();
    auto digit_at = [&](std::size_t at) {
      return at < size && text_[at] >= '0' && text_[at] <= '9';
    };
    if (pos_ < size && text_[pos_] == '-') {
      ++pos_;
    }
    if (!digit_at(pos_)) {
      return fail(pos_, "invalid number");
    }
    // Decimal exponent of the leading significant digit, to reject numbers beyond double range
    // (nlohmann reports them as an overflow) without converting every number.
    std::int64_t leading_exponent = 0;
    bool nonzero = false;
    std::size_t leading_zero_fraction = 0;
    if (text_[pos_] == '0') {
      ++pos_;
    } else {
      const std::size_t digits_start = pos_;
      while (digit_at(pos_)) {
        ++pos_;
      }
      nonzero = true;
      leading_exponent = static_cast<std::int64_t>(pos_ - digits_start) - 1;
    }
    bool is_integer = true;
    if (pos_ < size && text_[pos_] == '.') {
      is_integer = false;
      ++pos_;
      if (!digit_at(pos_)) {
        return fail(pos_, "invalid number: a digit must follow the decimal point");
      }
      while (digit_at(pos_)) {
        if (!nonzero) {
          if (text_[pos_] == '0') {
            ++leading_zero_fraction;
          } else {
            nonzero = true;
            leading_exponent = -static_cast<std::int64_t>(leading_zero_fraction) - 1;
          }
        }
        ++pos_;
      }
    }
    std::int64_t exponent = 0;
    if (pos_ < size && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      is_integer = false;
      ++pos_;
      bool negative = false;
      if (pos_ < size && (text_[pos_] == '+' || text_[pos_] == '-')) {
        negative = text_[pos_] == '-';
        ++pos_;
      }
      if (!digit_at(pos_)) {
        return fail(pos_, "invalid number: a digit must follow the exponent");
      }
      while (digit_at(pos_)) {
        if (exponent < 1'000'000'000) {
          exponent = exponent * 10 + (text_[pos_] - '0');
        }
        ++pos_;
      }
      if (negative) {
        exponent = -exponent;
      }
    }
    number.text = text_.substr(start, pos_ - start);
    number.is_integer = is_integer;
    if (nonzero && leading_exponent + exponent >= 308 && !fits_double(number.text)) {
      return fail(start, "number out of the range of a double");
    }
    return true;
  }

  // Validates and skips one value of any type.
  bool skip_value(std::size_t parent_level) {
    skip_whitespace();
    if (pos_ < text_.size() && text_[pos_] != '{' && text_[pos_] != '[') {
      return skip_scalar(text_[pos_]);
    }
    std::bitset<kMaxScanDepth + 1> is_object;  // per open container of this value
    std::size_t open = 0;
    while (true) {
      // A value is expected here.
      skip_whitespace();
      if (pos_ >= text_.size()) {
        return fail(pos_, "unexpected end of JSON text");
      }
      const char c = text_[pos_];
      bool value_done = true;
      if (c == '{' || c == '[') {
        if (parent_level + open + 1 > max_depth_) {
          return fail(pos_, "JSON nesting is deeper than the limit");
        }
        ++pos_;
        ++open;
        is_object[open] = c == '{';
        const char next = peek();
        if (next == (c == '{' ? '}' : ']')) {
          ++pos_;
          --open;
        } else if (c == '{') {
          if (!scan_key()) {
            return false;
          }
          value_done = false;
        } else {
          value_done = false;
        }
      } else if (!skip_scalar(c)) {
        return false;
      }
      if (!value_done) {
        continue;
      }
      // After a value: close containers or move on to the next element or member.
      while (true) {
        if (open == 0) {
          return true;
        }
        const char next = peek();
        if (next == ',') {
          ++pos_;
          if (is_object[open] && !scan_key()) {
            return false;
          }
          break;
        }
        if (next == (is_object[open] ? '}' : ']')) {
          ++pos_;
          --open;
          continue;
        }
        return fail(pos_, is_object[open] ? "expected ',' or '}' in an object"
                                          : "expected ',' or ']' in an array");
      }
    }
  }

  // Consumes an object at the position (level `parent_level + 1`), calling
  // on_member(name, level) for each member with the position at its value; the callback must
  // consume exactly that value (skip_value(level) or a read) and return false to stop. The name
  // is unescaped; it points into scanner storage that the next member name overwrites.
  template <typename OnMember>
  bool scan_object(std::size_t parent_level, OnMember&& on_member) {
    skip_whitespace();
    if (pos_ >= text_.size() || text_[pos_] != '{') {
      return fail(pos_, "expected an object");
    }
    const std::size_t level = parent_level + 1;
    if (level > max_depth_) {
      return fail(pos_, "JSON nesting is deeper than the limit");
    }
    ++pos_;
    if (peek() == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      std::string_view name;
      if (!read_member_name(name)) {
        return false;
      }
      if (!on_member(name, level)) {
        return fail(pos_, "stopped");
      }
      if (failed()) {
        return false;
      }
      const char next = peek();
      if (next == ',') {
        ++pos_;
        continue;
      }
      if (next == '}') {
        ++pos_;
        return true;
      }
      return fail(pos_, "expected ',' or '}' in an object");
    }
  }

  // Consumes an array, calling on_element(level) with the position at each element; the
  // callback consumes it as in scan_object.
  template <typename OnElement>
  bool scan_array(std::size_t parent_level, OnElement&& on_element) {
    skip_whitespace();
    if (pos_ >= text_.size() || text_[pos_] != '[') {
      return fail(pos_, "expected an array");
    }
    const std::size_t level = parent_level + 1;
    if (level > max_depth_) {
      return fail(pos_, "JSON nesting is deeper than the limit");
    }
    ++pos_;
    if (peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_whitespace();
      if (!on_element(level)) {
        return fail(pos_, "stopped");
      }
      if (failed()) {
        return false;
      }
      const char next = peek();
      if (next == ',') {
        ++pos_;
        continue;
      }
      if (next == ']') {
        ++pos_;
        return true;
      }
      return fail(pos_, "expected ',' or ']' in an array");
    }
  }

  // Skips one value and returns its exact text (empty on failure).
  std::string_view value_text(std::size_t parent_level) {
    skip_whitespace();
    const std::size_t start = pos_;
    if (!skip_value(parent_level)) {
      return {};
    }
    return text_.substr(start, pos_ - start);
  }

 private:
  static bool fits_double(std::string_view token) noexcept {
    double value = 0;
    const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    return ec == std::errc() && ptr == token.data() + token.size() &&
           value <= std::numeric_limits<double>::max() &&
           value >= -std::numeric_limits<double>::max();
  }

  bool skip_scalar(char c) noexcept {
    switch (c) {
      case '"': {
        std::string_view token;
        bool escaped = false;
        return scan_string(token, escaped);
      }
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default: {
        if (type_of(c) != ValueType::number) {
          return fail(pos_, "unexpected character where a JSON value should start");
        }
        NumberToken number;
        return scan_number(number);
      }
    }
  }

  bool literal(std::string_view word) noexcept {
    if (text_.substr(pos_, word.size()) != word) {
      return fail(pos_, "invalid literal");
    }
    pos_ += word.size();
    return true;
  }

  // A member name and its colon.
  bool scan_key() noexcept {
    std::string_view token;
    bool escaped = false;
    if (!scan_string(token, escaped)) {
      return fail(pos_, "expected a member name");
    }
    if (peek() != ':') {
      return fail(pos_, "expected ':' after a member name");
    }
    ++pos_;
    return true;
  }

  bool read_member_name(std::string_view& name) {
    if (peek() != '"') {
      return fail(pos_, "expected a member name");
    }
    if (!read_string(name, name_scratch_)) {
      return false;
    }
    if (peek() != ':') {
      return fail(pos_, "expected ':' after a member name");
    }
    ++pos_;
    skip_whitespace();
    return true;
  }

  // At a backslash inside a string.
  bool scan_escape() noexcept {
    const std::size_t start = pos_;
    if (pos_ + 1 >= text_.size()) {
      return fail(start, "unterminated string");
    }
    const char escape = text_[pos_ + 1];
    pos_ += 2;
    switch (escape) {
      case '"':
      case '\\':
      case '/':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
        return true;
      case 'u': {
        const int unit = read_hex4();
        if (unit < 0) {
          return fail(start, "invalid \\u escape");
        }
        if (unit >= 0xDC00 && unit <= 0xDFFF) {
          return fail(start, "unpaired low surrogate escape");
        }
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          if (text_.substr(pos_, 2) != "\\u") {
            return fail(start, "unpaired high surrogate escape");
          }
          pos_ += 2;
          const int low = read_hex4();
          if (low < 0xDC00 || low > 0xDFFF) {
            return fail(start, "unpaired high surrogate escape");
          }
        }
        return true;
      }
      default:
        return fail(start, "invalid escape in a string");
    }
  }

  int read_hex4() noexcept {
    if (pos_ + 4 > text_.size()) {
      return -1;
    }
    int value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const int digit = hex_digit_value(text_[pos_ + i]);
      if (digit < 0) {
        return -1;
      }
      value = value * 16 + digit;
    }
    pos_ += 4;
    return value;
  }

  // At a byte >= 0x80 inside a string: one UTF-8 sequence (RFC 3629 well-formed ranges).
  bool scan_utf8(const unsigned char* data, std::size_t size) noexcept {
    const unsigned char lead = data[pos_];
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    std::size_t continuation = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuation = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuation = 2;
      if (lead == 0xE0) {
        low = 0xA0;
      } else if (lead == 0xED) {
        high = 0x9F;
      }
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuation = 3;
      if (lead == 0xF0) {
        low = 0x90;
      } else if (lead == 0xF4) {
        high = 0x8F;
      }
    } else {
      return fail(pos_, "invalid UTF-8 in a string");
    }
    if (pos_ + continuation >= size) {
      return fail(pos_, "invalid UTF-8 in a string");
    }
    const unsigned char second = data[pos_ + 1];
    if (second < low || second > high) {
      return fail(pos_, "invalid UTF-8 in a string");
    }
    for (std::size_t i = 2; i <= continuation; ++i) {
      if ((data[pos_ + i] & 0xC0) != 0x80) {
        return fail(pos_, "invalid UTF-8 in a string");
      }
    }
    pos_ += continuation + 1;
    return true;
  }

  std::string_view text_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
  std::size_t error_offset_ = 0;
  std::string_view error_;
  std::string name_scratch_;
};

}  // namespace mcpgw::mcp::json_scan
