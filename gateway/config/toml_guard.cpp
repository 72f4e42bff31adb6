#include "gateway/config/toml_guard.hpp"

#include <array>

namespace mcpgw::config {
namespace {

constexpr std::size_t kMaxFrames = 256;

NestingViolation position_of(std::string_view text, std::size_t offset) {
  NestingViolation where{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++where.line;
      where.column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++where.column;  // columns count code points, as toml++ does
    }
  }
  return where;
}

// Returns the index just past the string that starts at `i` (a quote character).
std::size_t skip_string(std::string_view text, std::size_t i) {
  const char quote = text[i];
  const bool basic = quote == '"';
  const bool multiline = text.substr(i, 3) == std::string_view(basic ? "\"\"\"" : "'''");
  std::size_t j = i + (multiline ? 3 : 1);
  while (j < text.size()) {
    const char c = text[j];
    if (basic && c == '\\') {
      j += 2;
      continue;
    }
    if (!multiline && c == '\n') {
      return j;  // unterminated: the parser reports it
    }
    if (c == quote) {
      if (!multiline) {
        return j + 1;
      }
      if (text.substr(j, 3) == std::string_view(basic ? "\"\"\"" : "'''")) {
        return j + 3;
      }
    }
    ++j;
  }
  return text.size();
}

std::size_t skip_comment(std::string_view text, std::size_t i) {
  const auto end = text.find('\n', i);
  return end == std::string_view::npos ? text.size() : end;
}

}  // namespace

std::optional<NestingViolation> find_excessive_nesting(std::string_view text, std::size_t limit) {
  if (limit >= kMaxFrames) {
    limit = kMaxFrames - 1;
  }
  enum class Mode { line_start, header, key, value };
  struct Frame {
    bool is_table = false;
    std::size_t depth = 0;  // depth of the array or inline table itself
  };
  std::array<Frame, kMaxFrames> frames{};
  std::size_t frame_count = 0;
  std::size_t header_depth = 0;  // depth of the table opened by the last [header]
  std::size_t key_dots = 0;
  std::size_t value_depth = 0;  // depth a value starting here would have
  Mode mode = Mode::line_start;

  const auto container_depth = [&] {
    return frame_count == 0 ? header_depth : frames[frame_count - 1].depth;
  };

  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    switch (mode) {
      case Mode::line_start:
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
          ++i;
        } else if (c == '#') {
          i = skip_comment(text, i);
        } else if (c == '[') {
          const bool array_of_tables = i + 1 < text.size() && text[i + 1] == '[';
          key_dots = array_of_tables ? 1 : 0;  // the array adds a level
          mode = Mode::header;
          i += array_of_tables ? 2 : 1;
        } else {
          key_dots = 0;
          mode = Mode::key;
        }
        break;
      case Mode::header:
        if (c == '"' || c == '\'') {
          i = skip_string(text, i);
        } else if (c == '.') {
          if (++key_dots + 1 > limit) {
            return position_of(text, i);
          }
          ++i;
        } else if (c == ']' || c == '\n') {
          header_depth = key_dots + 1;
          mode = Mode::value;  // the rest of the line: a comment at most
          value_depth = header_depth;
          i = c == '\n' ? i : i + 1;
          if (c == '\n') {
            mode = Mode::line_start;
          }
        } else {
          ++i;
        }
        break;
      case Mode::key:
        if (c == '"' || c == '\'') {
          i = skip_string(text, i);
        } else if (c == '.') {
          if (container_depth() + ++key_dots + 1 > limit) {
            return position_of(text, i);
          }
          ++i;
        } else if (c == '=') {
          value_depth = container_depth() + key_dots + 1;
          mode = Mode::value;
          ++i;
        } else if (c == '}' && frame_count > 0 && frames[frame_count - 1].is_table) {
          --frame_count;  // "{}" or a trailing comma
          mode = Mode::value;
          ++i;
        } else if (c == '\n' && frame_count == 0) {
          mode = Mode::line_start;
          ++i;
        } else if (c == '#') {
          i = skip_comment(text, i);
        } else {
          ++i;
        }
        break;
      case Mode::value:
        if (c == '"' || c == '\'') {
          i = skip_string(text, i);
        } else if (c == '#') {
          i = skip_comment(text, i);
        } else if (c == '[' || c == '{') {
          if (value_depth > limit || frame_count + 1 >= kMaxFrames) {
            return position_of(text, i);
          }
          frames[frame_count++] = Frame{c == '{', value_depth};
          if (c == '{') {
            key_dots = 0;
            mode = Mode::key;
          } else {
            value_depth = frames[frame_count - 1].depth + 1;
          }
          ++i;
        } else if (c == ']' || c == '}') {
          if (frame_count > 0 && frames[frame_count - 1].is_table == (c == '}')) {
            --frame_count;
          }
          ++i;
        } else if (c == ',') {
          if (frame_count > 0 && frames[frame_count - 1].is_table) {
            key_dots = 0;
            mode = Mode::key;
          } else if (frame_count > 0) {
            value_depth = frames[frame_count - 1].depth + 1;
          }
          ++i;
        } else if (c == '\n' && frame_count == 0) {
          mode = Mode::line_start;
          ++i;
        } else {
          if (value_depth > limit) {
            return position_of(text, i);
          }
          ++i;
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace mcpgw::config
