#include "replay/report.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp/json_text.hpp"

namespace mcpgw::replay {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// Text that came from the traffic, made safe for a terminal: C0 and C1 controls, DEL, bidi
// overrides and invalid UTF-8 are shown escaped instead of being interpreted.

void append_terminal_safe(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t at = 0;
  while (at < text.size()) {
    const auto byte = static_cast<unsigned char>(text[at]);
    const std::size_t length = mcp::utf8_sequence_length(text, at);
    if (length == 0 || byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
      ++at;
      continue;
    }
    if (length == 1) {
      out.push_back(text[at]);
      ++at;
      continue;
    }
    // Decode the code point to spot C1 controls and bidirectional formatting characters.
    std::uint32_t code_point = byte & (length == 2 ? 0x1fU : length == 3 ? 0x0fU : 0x07U);
    for (std::size_t i = 1; i < length; ++i)
      code_point = (code_point << 6) | (static_cast<unsigned char>(text[at + i]) & 0x3fU);
    const bool hostile = (code_point >= 0x80 && code_point <= 0x9f) ||
                         (code_point >= 0x202a && code_point <= 0x202e) ||
                         (code_point >= 0x2066 && code_point <= 0x2069) || code_point == 0x2028 ||
                         code_point == 0x2029 || code_point == 0x200e || code_point == 0x200f;
    if (hostile) {
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "\\u{%04x}", static_cast<unsigned>(code_point));
      out += buffer;
    } else {
      out.append(text.substr(at, length));
    }
    at += length;
  }
}

// Dumps that never throw: invalid UTF-8 in the traffic becomes U+FFFD.
std::string dump_compact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string dump_ordered(const OrderedJson& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string plural(std::size_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

std::string latency_text(std::int64_t microseconds) {
  char buffer[48];
  if (microseconds < 1000)
    std::snprintf(buffer, sizeof buffer, "%lld µs", static_cast<long long>(microseconds));
  else
    std::snprintf(buffer, sizeof buffer, "%.1f ms", static_cast<double>(microseconds) / 1000.0);
  return buffer;
}

// ---------------------------------------------------------------------------------------------
// Context: where a difference's path sits in the pretty-printed (dump(2)) response. dump(2)
// puts every scalar, empty container and container bracket on a line of its own, members in
// iteration order, so a value's line and line count follow from the tree alone.

std::size_t line_span(const Json& value) {
  if (!value.is_structured() || value.empty())
    return 1;
  std::size_t lines = 2;
  for (const auto& child : value)
    lines += line_span(child);
  return lines;
}

struct Located {
  bool found = false;     // the whole path resolved
  std::size_t line = 0;   // first line of the value (or of the deepest ancestor found)
  std::size_t lines = 1;  // its line count
};

std::string unescape_segment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '~' && i + 1 < segment.size() &&
        (segment[i + 1] == '0' || segment[i + 1] == '1')) {
      out.push_back(segment[i + 1] == '1' ? '/' : '~');
      ++i;
    } else {
      out.push_back(segment[i]);
    }
  }
  return out;
}

// The element of `array` a segment names: "[key=value]" (keyed), "[json]" (set), or an index.
std::optional<std::size_t> element_of(const Json& array, const std::string& segment) {
  if (segment.size() >= 2 && segment.front() == '[' && segment.back() == ']') {
    const std::string_view inner(segment.data() + 1, segment.size() - 2);
    const std::size_t equals = inner.find('=');
    const bool keyed = equals != std::string_view::npos && equals > 0 && inner.front() != '"' &&
                       inner.front() != '{' && inner.front() != '[';
    if (keyed) {
      const std::string key(inner.substr(0, equals));
      const std::string_view wanted = inner.substr(equals + 1);
      for (std::size_t i = 0; i < array.size(); ++i) {
        const Json& element = array[i];
        if (!element.is_object())
          continue;
        const auto found = element.find(key);
        if (found == element.end())
          continue;
        const std::string text =
            found->is_string() ? found->get_ref<const std::string&>() : dump_compact(*found);
        if (text == wanted)
          return i;
        // Long keys are cut in segments: "[uri=file:///very/long…]".
        constexpr std::string_view kEllipsis = "…";
        if (wanted.ends_with(kEllipsis) &&
            std::string_view(text).starts_with(wanted.substr(0, wanted.size() - kEllipsis.size())))
          return i;
      }
      return std::nullopt;
    }
    const Json wanted = Json::parse(inner.begin(), inner.end(), nullptr, false);
    if (wanted.is_discarded())
      return std::nullopt;
    for (std::size_t i = 0; i < array.size(); ++i) {
      if (array[i] == wanted)
        return i;
    }
    return std::nullopt;
  }
  if (segment.empty() || segment.size() > 9 ||
      !std::all_of(segment.begin(), segment.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const auto index = static_cast<std::size_t>(std::stoul(segment));
  if (index >= array.size())
    return std::nullopt;
  return index;
}

Located locate(const Json& root, std::string_view path) {
  Located located;
  const Json* at = &root;
  std::size_t line = 0;
  std::size_t position = 0;
  located.found = true;
  while (position < path.size()) {
    const std::size_t end = std::min(path.find('/', position + 1), path.size());
    const std::string segment = unescape_segment(path.substr(position + 1, end - position - 1));
    position = end;
    bool stepped = false;
    if (at->is_object()) {
      std::size_t offset = 1;
      for (auto member = at->begin(); member != at->end(); ++member) {
        if (member.key() == segment) {
          line += offset;
          at = &*member;
          stepped = true;
          break;
        }
        offset += line_span(*member);
      }
    } else if (at->is_array()) {
      if (const auto index = element_of(*at, segment); index) {
        std::size_t offset = 1;
        for (std::size_t i = 0; i < *index; ++i)
          offset += line_span((*at)[i]);
        line += offset;
        at = &(*at)[*index];
        stepped = true;
      }
    }
    if (!stepped) {
      located.found = false;
      break;
    }
  }
  located.line = line;
  located.lines = line_span(*at);
  return located;
}

struct Pretty {
  bool valid = false;
  Json document;
  std::string text;
  std::vector<std::string_view> lines;
};

Pretty pretty(const std::string& compact) {
  Pretty result;
  if (compact.empty())
    return result;
  result.document = Json::parse(compact, nullptr, false);
  if (result.document.is_discarded())
    return result;
  result.valid = true;
  result.text = result.document.dump(2, ' ', false, Json::error_handler_t::replace);
  std::size_t start = 0;
  while (start <= result.text.size()) {
    const std::size_t end = std::min(result.text.find('\n', start), result.text.size());
    result.lines.emplace_back(result.text.data() + start, end - start);
    start = end + 1;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// The human report.

struct Palette {
  bool on = false;
  std::string_view paint(std::string_view code) const { return on ? code : std::string_view{}; }
  std::string_view red() const { return paint("\x1b[31m"); }
  std::string_view green() const { return paint("\x1b[32m"); }
  std::string_view yellow() const { return paint("\x1b[33m"); }
  std::string_view bold() const { return paint("\x1b[1m"); }
  std::string_view dim() const { return paint("\x1b[2m"); }
  std::string_view reset() const { return paint("\x1b[0m"); }
};

constexpr std::size_t kMaxMarkedLines = 12;  // of one side's changed value

class TextWriter {
 public:
  TextWriter(const ReplayReport& report, const TextOptions& options)
      : report_(report), options_(options), palette_{options.color} {}

  std::string run() {
    out_ += palette_.bold();
    out_ += "replay against ";
    append_terminal_safe(out_, report_.target);
    out_ += palette_.reset();
    out_ += "\n";
    if (!report_.inputs.empty()) {
      out_ += "inputs:";
      for (const auto& input : report_.inputs) {
        out_ += " ";
        append_terminal_safe(out_, input);
      }
      out_ += "\n";
    }
    if (report_.input_problems > 0)
      out_ += plural(report_.input_problems, "malformed input record") + " skipped\n";
    for (const auto& session : report_.sessions)
      write_session(session);
    const Totals totals = report_.totals();
    out_ += "\n";
    if (!report_.interrupted_by.empty()) {  // before the totals, which stay the last line
      out_ += "interrupted by ";
      append_terminal_safe(out_, report_.interrupted_by);
      out_ += ": the report covers what was replayed";
      if (report_.sessions_not_replayed > 0)
        out_ += "; " + plural(report_.sessions_not_replayed, "session") + " not replayed";
      out_ += "\n";
    }
    out_ += palette_.bold();
    out_ += plural(totals.exchanges, "exchange") + ": " + std::to_string(totals.identical) +
            " identical, " + std::to_string(totals.changed) + " changed (" +
            std::to_string(totals.breaking) + " breaking)";
    out_ += palette_.reset();
    out_ += "\n";
    return std::move(out_);
  }

 private:
  void write_session(const SessionOutcome& session) {
    out_ += "\n";
    out_ += palette_.bold();
    out_ += "session ";
    append_terminal_safe(out_, session.id.empty() ? std::string_view("(none)") : session.id);
    out_ += palette_.reset();
    std::size_t changed = 0;
    std::size_t breaking = 0;
    for (const auto& exchange : session.exchanges) {
      changed += exchange.identical() ? 0U : 1U;
      breaking += exchange.breaking() ? 1U : 0U;
    }
    out_ += ": " + plural(session.exchanges.size(), "exchange") + ", " + std::to_string(changed) +
            " changed (" + std::to_string(breaking) + " breaking)\n";
    if (!session.sources.empty()) {
      out_ += "  from";
      for (const auto& source : session.sources) {
        out_ += " ";
        append_terminal_safe(out_, source);
      }
      out_ += "\n";
    }
    if (!session.replayed_session.empty()) {
      out_ += "  replayed as session ";
      append_terminal_safe(out_, session.replayed_session);
      out_ += "\n";
    }
    for (const auto& note : session.notes) {
      out_ += "  note: ";
      append_terminal_safe(out_, note);
      out_ += "\n";
    }
    // Methods in order of first appearance, those with a breaking exchange first.
    std::vector<std::string> methods;
    std::unordered_map<std::string, std::vector<const ExchangeOutcome*>> by_method;
    std::unordered_map<std::string, bool> method_breaks;
    for (const auto& exchange : session.exchanges) {
      if (exchange.identical() && !options_.show_identical)
        continue;
      auto [found, inserted] = by_method.try_emplace(exchange.method);
      if (inserted)
        methods.push_back(exchange.method);
      found->second.push_back(&exchange);
      method_breaks[exchange.method] = method_breaks[exchange.method] || exchange.breaking();
    }
    std::stable_partition(methods.begin(), methods.end(),
                          [&](const std::string& method) { return method_breaks[method]; });
    for (const auto& method : methods) {
      const auto& exchanges = by_method[method];
      std::size_t method_changed = 0;
      std::size_t method_breaking = 0;
      for (const auto* exchange : exchanges) {
        method_changed += exchange->identical() ? 0U : 1U;
        method_breaking += exchange->breaking() ? 1U : 0U;
      }
      out_ += "\n  ";
      out_ += palette_.bold();
      append_terminal_safe(out_, method.empty() ? std::string_view("(no method)") : method);
      out_ += palette_.reset();
      out_ += " (" + std::to_string(method_changed) + " changed, " +
              std::to_string(method_breaking) + " breaking)\n";
      for (const auto* exchange : exchanges)
        write_exchange(*exchange);
    }
  }

  void write_exchange(const ExchangeOutcome& exchange) {
    out_ += "    #" + std::to_string(exchange.index) + " ";
    append_terminal_safe(out_, exchange.method);
    if (!exchange.target.empty()) {
      out_ += " ";
      append_terminal_safe(out_, exchange.target);
    }
    if (exchange.direction == ExchangeDirection::server_to_client)
      out_ += " (server to client)";
    if (!exchange.recorded_id.empty()) {
      out_ += " id ";
      append_terminal_safe(out_, exchange.recorded_id);
    }
    if (exchange.recorded_latency_us && exchange.replayed_latency_us)
      out_ += " [" + latency_text(*exchange.recorded_latency_us) + " -> " +
              latency_text(*exchange.replayed_latency_us) + "]";
    if (exchange.pages_recorded != exchange.pages_replayed)
      out_ += " [pages " + std::to_string(exchange.pages_recorded) + " -> " +
              std::to_string(exchange.pages_replayed) + "]";
    if (exchange.identical()) {
      out_ += ": identical\n";
      return;
    }
    if (exchange.breaking()) {
      out_ += ": ";
      out_ += palette_.red();
      out_ += "BREAKING";
      out_ += palette_.reset();
      out_ += "\n";
    } else {
      out_ += ": changed\n";
    }
    // Breaking differences first, otherwise in the order they were found.
    std::vector<const Difference*> ordered;
    ordered.reserve(exchange.differences.size());
    for (const auto& difference : exchange.differences)
      ordered.push_back(&difference);
    std::stable_partition(ordered.begin(), ordered.end(),
                          [](const Difference* difference) { return difference->breaking; });
    const std::size_t shown = std::min(ordered.size(), options_.max_differences_shown);
    Pretty recorded;
    Pretty replayed;
    bool parsed = false;
    for (std::size_t i = 0; i < shown; ++i) {
      const Difference& difference = *ordered[i];
      write_difference(difference);
      if (options_.context_lines > 0 && !difference.path.empty()) {
        if (!parsed) {
          recorded = pretty(exchange.recorded_response);
          replayed = pretty(exchange.replayed_response);
          parsed = true;
        }
        write_context(difference.path, recorded, replayed);
      }
    }
    const std::size_t rest = ordered.size() - shown + exchange.differences_omitted;
    if (rest > 0)
      out_ += "      … and " + plural(rest, "more difference") + "\n";
  }

  void write_difference(const Difference& difference) {
    out_ += "      ";
    out_ += difference.breaking ? palette_.red() : palette_.yellow();
    out_ += to_string(difference.kind);
    if (difference.change != ErrorChange::none) {
      out_ += " (";
      out_ += to_string(difference.change);
      out_ += ")";
    }
    if (difference.breaking)
      out_ += " [breaking]";
    out_ += palette_.reset();
    if (!difference.path.empty()) {
      out_ += " at ";
      append_terminal_safe(out_, difference.path);
    }
    out_ += "\n        ";
    append_terminal_safe(out_, difference.detail);
    out_ += "\n";
    // Without a response to show them in, the values themselves.
    if (difference.path.empty()) {
      if (difference.recorded)
        write_value_line("- ", *difference.recorded, palette_.red());
      if (difference.replayed)
        write_value_line("+ ", *difference.replayed, palette_.green());
    }
  }

  void write_value_line(std::string_view marker, const Json& value, std::string_view colour) {
    out_ += "        ";
    out_ += colour;
    out_ += marker;
    append_terminal_safe(out_, short_value(value));
    out_ += palette_.reset();
    out_ += "\n";
  }

  static std::string short_value(const Json& value) {
    std::string text = dump_compact(value);
    constexpr std::size_t kMax = 200;
    if (text.size() > kMax) {
      std::size_t cut = kMax;
      // Do not split a UTF-8 sequence.
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0U) == 0x80U)
        --cut;
      text.resize(cut);
      text += "…";
    }
    return text;
  }

  void write_line(char marker, std::string_view line, std::string_view colour) {
    out_ += "        ";
    out_ += colour;
    out_.push_back(marker);
    out_.push_back(' ');
    append_terminal_safe(out_, line);
    out_ += palette_.reset();
    out_ += "\n";
  }

  // A unified-diff-like excerpt: context before, the recorded value's lines (-), the replayed
  // value's lines (+), context after. A side without the path contributes no marked lines.
  void write_context(const std::string& path, const Pretty& recorded, const Pretty& replayed) {
    Located before;
    Located after;
    if (recorded.valid)
      before = locate(recorded.document, path);
    if (replayed.valid)
      after = locate(replayed.document, path);
    const bool has_before = recorded.valid && before.found;
    const bool has_after = replayed.valid && after.found;
    if (!has_before && !has_after)
      return;
    const std::size_t context = options_.context_lines;
    // Context before comes from the side that has the value (the recorded one when both do).
    const Pretty& lead = has_before ? recorded : replayed;
    const Located& lead_at = has_before ? before : after;
    out_ += "        ";
    out_ += palette_.dim();
    out_ += "@@ ";
    out_ += has_before ? "recorded line " + std::to_string(before.line + 1) : "recorded: absent";
    out_ += ", ";
    out_ += has_after ? "replayed line " + std::to_string(after.line + 1) : "replayed: absent";
    out_ += " @@";
    out_ += palette_.reset();
    out_ += "\n";
    const std::size_t first = lead_at.line > context ? lead_at.line - context : 0;
    for (std::size_t line = first; line < lead_at.line && line < lead.lines.size(); ++line)
      write_line(' ', lead.lines[line], palette_.dim());
    if (has_before)
      write_marked('-', recorded, before, palette_.red());
    if (has_after)
      write_marked('+', replayed, after, palette_.green());
    const Pretty& tail = has_after ? replayed : recorded;
    const Located& tail_at = has_after ? after : before;
    const std::size_t from = tail_at.line + tail_at.lines;
    for (std::size_t line = from; line < from + context && line < tail.lines.size(); ++line)
      write_line(' ', tail.lines[line], palette_.dim());
  }

  void write_marked(char marker, const Pretty& side, const Located& at, std::string_view colour) {
    const std::size_t count = std::min(at.lines, kMaxMarkedLines);
    for (std::size_t line = at.line; line < at.line + count && line < side.lines.size(); ++line)
      write_line(marker, side.lines[line], colour);
    if (at.lines > count) {
      out_ += "        ";
      out_ += colour;
      out_.push_back(marker);
      out_ += " … " + plural(at.lines - count, "more line");
      out_ += palette_.reset();
      out_ += "\n";
    }
  }

  const ReplayReport& report_;
  const TextOptions& options_;
  Palette palette_;
  std::string out_;
};

// ---------------------------------------------------------------------------------------------
// JSON.

OrderedJson optional_value(const std::optional<Json>& value) {
  if (!value)
    return nullptr;
  // Json and ordered_json differ in their object type: go through the text once.
  return OrderedJson::parse(dump_compact(*value), nullptr, false);
}

OrderedJson latency_ms(const std::optional<std::int64_t>& microseconds) {
  if (!microseconds)
    return nullptr;
  return static_cast<double>(*microseconds) / 1000.0;
}

// ---------------------------------------------------------------------------------------------
// JUnit XML.

// Appends `text` XML-escaped: &<>"' as entities, in attributes tab/newline/CR as character
// references (so they survive attribute normalisation), characters XML 1.0 forbids dropped,
// invalid UTF-8 replaced by U+FFFD, C1 controls and DEL as references.
void append_xml(std::string& out, std::string_view text, bool attribute) {
  std::size_t at = 0;
  while (at < text.size()) {
    const char c = text[at];
    const auto byte = static_cast<unsigned char>(c);
    const std::size_t length = mcp::utf8_sequence_length(text, at);
    if (length == 0) {
      out += "\xef\xbf\xbd";
      ++at;
      continue;
    }
    if (length == 1) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        case '\t':
          out += attribute ? "&#9;" : "\t";
          break;
        case '\n':
          out += attribute ? "&#10;" : "\n";
          break;
        case '\r':
          out += "&#13;";
          break;
        default:
          if (byte == 0x7f)
            out += "&#x7F;";
          else if (byte >= 0x20)
            out.push_back(c);
          // Other C0 controls are not XML 1.0 characters at all: dropped.
          break;
      }
      ++at;
      continue;
    }
    std::uint32_t code_point = byte & (length == 2 ? 0x1fU : length == 3 ? 0x0fU : 0x07U);
    for (std::size_t i = 1; i < length; ++i)
      code_point = (code_point << 6) | (static_cast<unsigned char>(text[at + i]) & 0x3fU);
    if (code_point == 0xfffe || code_point == 0xffff) {
      // Not XML characters: dropped.
    } else if (code_point >= 0x80 && code_point <= 0x9f) {
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "&#x%X;", static_cast<unsigned>(code_point));
      out += buffer;
    } else {
      out.append(text.substr(at, length));
    }
    at += length;
  }
}

std::string xml_attribute(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_xml(out, text, true);
  return out;
}

std::string xml_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_xml(out, text, false);
  return out;
}

std::string seconds(std::int64_t microseconds) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.6f", static_cast<double>(microseconds) / 1e6);
  return buffer;
}

std::string difference_line(const Difference& difference) {
  std::string line(to_string(difference.kind));
  if (difference.change != ErrorChange::none) {
    line += " (";
    line += to_string(difference.change);
    line += ")";
  }
  if (difference.breaking)
    line += " [breaking]";
  if (!difference.path.empty())
    line += " at " + difference.path;
  line += ": " + difference.detail;
  if (difference.recorded)
    line += "\n  - " + dump_compact(*difference.recorded).substr(0, 1000);
  if (difference.replayed)
    line += "\n  + " + dump_compact(*difference.replayed).substr(0, 1000);
  return line;
}

}  // namespace

std::string render_text(const ReplayReport& report, const TextOptions& options) {
  return TextWriter(report, options).run();
}

std::string render_json(const ReplayReport& report) {
  const Totals totals = report.totals();
  OrderedJson root = OrderedJson::object();
  root["v"] = 1;
  root["target"] = report.target;
  root["inputs"] = report.inputs;
  root["input_problems"] = report.input_problems;
  root["exchanges"] = totals.exchanges;
  root["identical"] = totals.identical;
  root["changed"] = totals.changed;
  root["breaking"] = totals.breaking;
  root["interrupted_by"] =
      report.interrupted_by.empty() ? OrderedJson() : OrderedJson(report.interrupted_by);
  root["sessions_not_replayed"] = report.sessions_not_replayed;
  OrderedJson differences = OrderedJson::array();
  OrderedJson sessions = OrderedJson::array();
  for (const auto& session : report.sessions) {
    OrderedJson exchanges = OrderedJson::array();
    for (const auto& exchange : session.exchanges) {
      for (const auto& difference : exchange.differences) {
        OrderedJson entry = OrderedJson::object();
        entry["session"] = session.id;
        entry["exchange"] = exchange.index;
        entry["method"] = difference.method.empty() ? exchange.method : difference.method;
        entry["kind"] = std::string(to_string(difference.kind));
        entry["change"] = std::string(to_string(difference.change));
        entry["tool"] = difference.tool;
        entry["item"] = difference.item;
        entry["breaking"] = difference.breaking;
        entry["path"] = difference.path;
        entry["detail"] = difference.detail;
        entry["recorded"] = optional_value(difference.recorded);
        entry["replayed"] = optional_value(difference.replayed);
        differences.push_back(std::move(entry));
      }
      OrderedJson entry = OrderedJson::object();
      entry["index"] = exchange.index;
      entry["direction"] = exchange.direction == ExchangeDirection::client_to_server
                               ? "client_to_server"
                               : "server_to_client";
      entry["method"] = exchange.method;
      entry["target"] = exchange.target;
      entry["id"] = exchange.recorded_id;  // the recorded id as JSON text, as documented
      entry["identical"] = exchange.identical();
      entry["breaking"] = exchange.breaking();
      entry["pages_recorded"] = exchange.pages_recorded;
      entry["pages_replayed"] = exchange.pages_replayed;
      entry["recorded_latency_ms"] = latency_ms(exchange.recorded_latency_us);
      entry["replayed_latency_ms"] = latency_ms(exchange.replayed_latency_us);
      entry["differences_omitted"] = exchange.differences_omitted;
      exchanges.push_back(std::move(entry));
    }
    OrderedJson entry = OrderedJson::object();
    entry["id"] = session.id;
    entry["sources"] = session.sources;
    entry["replayed_session"] = session.replayed_session;
    entry["notes"] = session.notes;
    entry["exchanges"] = std::move(exchanges);
    sessions.push_back(std::move(entry));
  }
  root["differences"] = std::move(differences);
  root["sessions"] = std::move(sessions);
  return dump_ordered(root) + "\n";
}

std::string render_junit(const ReplayReport& report, FailOn fail_on) {
  const auto fails = [fail_on](const ExchangeOutcome& exchange) {
    switch (fail_on) {
      case FailOn::breaking:
        return exchange.breaking();
      case FailOn::any:
        return !exchange.identical();
      case FailOn::never:
        return false;
    }
    return false;
  };
  std::size_t tests = 0;
  std::size_t failures = 0;
  std::int64_t total_us = 0;
  std::string suites;
  for (const auto& session : report.sessions) {
    std::size_t session_failures = 0;
    std::int64_t session_us = 0;
    std::string cases;
    for (const auto& exchange : session.exchanges) {
      const std::int64_t us = std::max<std::int64_t>(exchange.replayed_latency_us.value_or(0), 0);
      session_us += us;
      std::string name = "#" + std::to_string(exchange.index) + " " + exchange.method;
      if (!exchange.target.empty())
        name += " " + exchange.target;
      cases += "    <testcase classname=\"" + xml_attribute(session.id + "." + exchange.method) +
               "\" name=\"" + xml_attribute(name) + "\" time=\"" + seconds(us) + "\"";
      if (exchange.identical()) {
        cases += "/>\n";
        continue;
      }
      cases += ">\n";
      std::string body;
      for (const auto& difference : exchange.differences)
        body += difference_line(difference) + "\n";
      if (exchange.differences_omitted > 0)
        body += plural(exchange.differences_omitted, "more difference") + " omitted\n";
      if (fails(exchange)) {
        ++session_failures;
        // The message names the first difference that fails the run.
        const Difference* first = nullptr;
        for (const auto& difference : exchange.differences) {
          if (difference.breaking || (first == nullptr && fail_on == FailOn::any)) {
            first = &difference;
            if (difference.breaking)
              break;
          }
        }
        const std::string message =
            first != nullptr ? first->detail : plural(exchange.differences_omitted, "difference");
        const std::string type = first != nullptr ? std::string(to_string(first->kind)) : "";
        cases += "      <failure message=\"" + xml_attribute(message) + "\" type=\"" +
                 xml_attribute(type) + "\">" + xml_text(body) + "</failure>\n";
      } else {
        cases += "      <system-out>" + xml_text(body) + "</system-out>\n";
      }
      cases += "    </testcase>\n";
    }
    tests += session.exchanges.size();
    failures += session_failures;
    total_us += session_us;
    suites += "  <testsuite name=\"" + xml_attribute(session.id) + "\" tests=\"" +
              std::to_string(session.exchanges.size()) + "\" failures=\"" +
              std::to_string(session_failures) + "\" errors=\"0\" skipped=\"0\" time=\"" +
              seconds(session_us) + "\">\n";
    suites += cases;
    if (!session.notes.empty()) {
      std::string notes;
      for (const auto& note : session.notes)
        notes += note + "\n";
      suites += "    <system-out>" + xml_text(notes) + "</system-out>\n";
    }
    suites += "  </testsuite>\n";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mcpgw replay\" tests=\"" +
         std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
         "\" errors=\"0\" time=\"" + seconds(total_us) + "\">\n" + suites + "</testsuites>\n";
}

}  // namespace mcpgw::replay
