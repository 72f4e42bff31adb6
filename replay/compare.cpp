#include "replay/compare.hpp"

#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mcp/json_text.hpp"
#include "mcp/jsonrpc.hpp"
#include "replay/classify.hpp"

namespace mcpgw::replay {
namespace {

using mcp::traffic::Exchange;
using nlohmann::json;

// Difference values larger than this much JSON text are kept as the cut text (a string).
constexpr std::size_t kMaxValueBytes = 4096;
// Excerpts of values and messages inside a detail line.
constexpr std::size_t kDetailValueBytes = 80;

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD, so the value can
// be dumped as JSON anywhere later.
std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = mcp::utf8_sequence_length(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(text.substr(i, length));
    i += length;
  }
  return out;
}

// Cuts at most `max_bytes` of valid UTF-8 text on a character boundary, marking the cut.
std::string cut_text(std::string text, std::size_t max_bytes) {
  if (text.size() <= max_bytes)
    return text;
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U)
    --end;
  text.resize(end);
  text += "…";
  return text;
}

struct ParsedMessage {
  json value;  // the message, or its text as a JSON string when it does not parse
  bool valid = false;
  std::string problem;
  // Set when the text repeats a member (the parse's message): judged with the last one, as
  // the decoder keeps it, but a client that rejects duplicate keys (as serve does) drops it.
  std::string duplicate;
};

ParsedMessage parse_message(std::string_view text) {
  auto parsed = mcp::parse_json(text);
  if (parsed)
    return {std::move(*parsed), true, {}, {}};
  if (parsed.error().kind == mcp::DecodeErrorKind::duplicate_key) {
    mcp::DecodeOptions lenient;
    lenient.allow_duplicate_keys = true;
    if (auto judged = mcp::parse_json(text, lenient))
      return {std::move(*judged), true, {}, parsed.error().message};
  }
  return {json(valid_utf8(text)), false, parsed.error().message, {}};
}

// What a response says, as far as error_changed is concerned.
struct Answer {
  enum class Kind : std::uint8_t { result, tool_error, rpc_error };
  Kind kind = Kind::result;
  std::optional<std::int64_t> code;  // rpc_error
  std::string message;               // rpc_error: error.message; tool_error: first text content
};

const json* member(const json& object, std::string_view name) {
  if (!object.is_object())
    return nullptr;
  const auto found = object.find(name);
  return found == object.end() ? nullptr : &*found;
}

Answer answer_of(const json& message, bool tools_call) {
  Answer answer;
  if (const json* error = member(message, "error"); error != nullptr && error->is_object()) {
    answer.kind = Answer::Kind::rpc_error;
    if (const json* code = member(*error, "code"); code != nullptr && code->is_number_integer())
      answer.code = code->get<std::int64_t>();
    if (const json* text = member(*error, "message"); text != nullptr && text->is_string())
      answer.message = text->get<std::string>();
    return answer;
  }
  const json* result = member(message, "result");
  if (!tools_call || result == nullptr)
    return answer;
  const json* is_error = member(*result, "isError");
  if (is_error == nullptr || !is_error->is_boolean() || !is_error->get<bool>())
    return answer;
  answer.kind = Answer::Kind::tool_error;
  if (const json* content = member(*result, "content");
      content != nullptr && content->is_array() && !content->empty()) {
    const json* text = member(content->front(), "text");
    answer.message =
        text != nullptr && text->is_string() ? text->get<std::string>() : short_json(*content, 120);
  }
  return answer;
}

bool is_error(const Answer& answer) {
  return answer.kind != Answer::Kind::result;
}

std::string describe_error(const Answer& answer) {
  if (answer.kind == Answer::Kind::tool_error) {
    return answer.message.empty() ? "a tool error"
                                  : "a tool error " + short_json(json(answer.message), 120);
  }
  std::string text = "error ";
  text += answer.code ? std::to_string(*answer.code) : "(no code)";
  if (!answer.message.empty())
    text += " " + short_json(json(answer.message), 120);
  return text;
}

std::string_view type_name(const json& value) {
  if (value.is_object())
    return "object";
  if (value.is_array())
    return "array";
  if (value.is_string())
    return "string";
  if (value.is_number())
    return "number";
  if (value.is_boolean())
    return "boolean";
  return "null";
}

// One line per change, in classify.cpp's style: "changed: A -> B", "added: X", "removed: X".
std::string change_detail(const JsonChange& change) {
  switch (change.op) {
    case JsonChange::Op::added:
      return "added: " + (change.replayed ? short_json(*change.replayed, kDetailValueBytes) : "");
    case JsonChange::Op::removed:
      return "removed: " + (change.recorded ? short_json(*change.recorded, kDetailValueBytes) : "");
    case JsonChange::Op::changed:
      break;
  }
  if (!change.recorded || !change.replayed)
    return "changed (nested too deeply to show)";
  const json& before = *change.recorded;
  const json& after = *change.replayed;
  std::string detail;
  if (type_name(before) != type_name(after)) {
    detail = "type changed from " + std::string(type_name(before)) + " to " +
             std::string(type_name(after)) + ": ";
  } else {
    detail = "changed: ";
  }
  return detail + short_json(before, kDetailValueBytes) + " -> " +
         short_json(after, kDetailValueBytes);
}

// initialize's members worth naming in the detail.
std::string initialize_detail(const JsonChange& change) {
  const std::string generic = change_detail(change);
  if (change.path == "/result/protocolVersion")
    return "protocol version " + generic;
  if (change.path == "/result/serverInfo/version")
    return "server version " + generic;
  if (change.path.rfind("/result/capabilities", 0) == 0)
    return "server capability " + generic;
  return generic;
}

// Keeps only the answer of a response (initialize's recorded message carries id and jsonrpc,
// the replayed InitializeResult only {"result":…}).
json answer_members(const json& message) {
  if (!message.is_object())
    return message;
  json kept = json::object();
  for (const char* name : {"result", "error"}) {
    if (const json* value = member(message, name))
      kept[name] = *value;
  }
  return kept;
}

std::string format_ms(std::int64_t microseconds) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.1f ms", static_cast<double>(microseconds) / 1000.0);
  return buffer;
}

std::string format_ratio(double ratio) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.1fx", ratio);
  return buffer;
}

std::string step_label(std::size_t index, const Exchange& exchange) {
  std::string label = "exchange " + std::to_string(index) + " (" + exchange.method;
  if (!exchange.target.empty())
    label += " " + exchange.target;
  label += ")";
  return label;
}

// Builds one ExchangeOutcome: differences in order, bounded, values cut.
class OutcomeBuilder {
 public:
  OutcomeBuilder(const CompareOptions& options, SessionOutcome& session)
      : options_(options), session_(session) {}

  ExchangeOutcome start(const Exchange& exchange, ExchangeDirection direction) {
    ExchangeOutcome outcome;
    outcome.index = session_.exchanges.size();
    outcome.direction = direction;
    outcome.method = exchange.method;
    outcome.target = exchange.target;
    outcome.recorded_id = exchange.id;
    outcome.where = exchange.request_where;
    outcome.recorded_latency_us = exchange.duration_us();
    return outcome;
  }

  Difference difference(const ExchangeOutcome& outcome, DifferenceKind kind, bool breaking,
                        std::string detail) const {
    Difference made;
    made.kind = kind;
    made.method = outcome.method;
    made.breaking = breaking;
    made.detail = std::move(detail);
    return made;
  }

  // Bounds the differences, cuts large values and files the outcome.
  void finish(ExchangeOutcome outcome) {
    const std::size_t bound = options_.max_differences_per_exchange;
    if (outcome.differences.size() > bound) {
      outcome.differences_omitted += outcome.differences.size() - bound;
      outcome.differences.resize(bound);
    }
    for (auto& made : outcome.differences)
      cut_values(made);
    outcome.recorded_response =
        cut_text(std::move(outcome.recorded_response), options_.max_kept_response_bytes);
    outcome.replayed_response =
        cut_text(std::move(outcome.replayed_response), options_.max_kept_response_bytes);
    session_.exchanges.push_back(std::move(outcome));
  }

  // Compact text of a parsed message for recorded_response/replayed_response, stopping early
  // on large values (cut_text marks the cut later).
  std::string kept_text(const json& value) const {
    const std::string text = short_json(value, options_.max_kept_response_bytes);
    return text;
  }

  void note(std::string text) { session_.notes.push_back(std::move(text)); }

 private:
  static bool cut_value(std::optional<json>& value) {
    if (!value)
      return false;
    std::string text = short_json(*value, kMaxValueBytes);
    if (text.size() <= kMaxValueBytes)
      return false;
    *value = json(std::move(text));
    return true;
  }

  static void cut_values(Difference& made) {
    const bool recorded_cut = cut_value(made.recorded);
    const bool replayed_cut = cut_value(made.replayed);
    if (recorded_cut && replayed_cut)
      made.detail += " (both values cut to their first 4 KiB of JSON)";
    else if (recorded_cut)
      made.detail += " (recorded value cut to its first 4 KiB of JSON)";
    else if (replayed_cut)
      made.detail += " (replayed value cut to its first 4 KiB of JSON)";
  }

  const CompareOptions& options_;
  SessionOutcome& session_;
};

// The error verdict between two answers, when they differ in kind or code.
std::optional<Difference> error_verdict(const json& recorded, const json& replayed,
                                        bool tools_call) {
  const Answer before = answer_of(recorded, tools_call);
  const Answer after = answer_of(replayed, tools_call);
  Difference made;
  made.kind = DifferenceKind::error_changed;
  const bool rpc = before.kind == Answer::Kind::rpc_error || after.kind == Answer::Kind::rpc_error;
  made.path = rpc ? "/error" : "/result/isError";
  if (!is_error(before) && is_error(after)) {
    made.change = ErrorChange::success_to_error;
    made.breaking = true;
    made.detail = "success became " + describe_error(after);
  } else if (is_error(before) && !is_error(after)) {
    made.change = ErrorChange::error_to_success;
    made.detail = describe_error(before) + " became success";
  } else if (before.kind != after.kind) {
    made.change = ErrorChange::error_code_changed;
    made.detail = describe_error(before) + " became " + describe_error(after);
  } else if (before.kind == Answer::Kind::rpc_error && before.code != after.code) {
    made.change = ErrorChange::error_code_changed;
    made.path = "/error/code";
    made.detail = "error code changed from " +
                  (before.code ? std::to_string(*before.code) : std::string("(none)")) + " to " +
                  (after.code ? std::to_string(*after.code) : std::string("(none)"));
  } else {
    return std::nullopt;
  }
  // The values at the path, where each side has one.
  const auto at_path = [&made](const json& message) -> std::optional<json> {
    if (made.path == "/error/code") {
      const json* error = member(message, "error");
      const json* code = error != nullptr ? member(*error, "code") : nullptr;
      return code != nullptr ? std::optional<json>(*code) : std::nullopt;
    }
    if (made.path == "/error") {
      const json* error = member(message, "error");
      return error != nullptr ? std::optional<json>(*error) : std::nullopt;
    }
    const json* result = member(message, "result");
    const json* flag = result != nullptr ? member(*result, "isError") : nullptr;
    return flag != nullptr ? std::optional<json>(*flag) : std::nullopt;
  };
  made.recorded = at_path(recorded);
  made.replayed = at_path(replayed);
  return made;
}

// error_changed, or else result_changed per change of the whole messages.
void compare_answers(const json& recorded, const json& replayed, bool tools_call, bool initialize,
                     const CompareOptions& options, ExchangeOutcome& outcome) {
  if (auto verdict = error_verdict(recorded, replayed, tools_call)) {
    verdict->method = outcome.method;
    verdict->tool = tools_call ? outcome.target : std::string();
    outcome.differences.push_back(std::move(*verdict));
    return;
  }
  DiffResult diff = diff_json(recorded, replayed, options.diff);
  for (auto& change : diff.changes) {
    Difference made;
    made.kind = DifferenceKind::result_changed;
    made.method = outcome.method;
    made.tool = tools_call ? outcome.target : std::string();
    made.detail = initialize ? initialize_detail(change) : change_detail(change);
    made.path = std::move(change.path);
    made.recorded = std::move(change.recorded);
    made.replayed = std::move(change.replayed);
    outcome.differences.push_back(std::move(made));
  }
  outcome.differences_omitted += diff.omitted;
}

std::optional<std::int64_t> chain_latency(const RecordedStep& step) {
  auto total = step.exchange.duration_us();
  for (const auto& page : step.later_pages) {
    const auto page_latency = page.duration_us();
    if (!total || !page_latency)
      return std::nullopt;
    *total += *page_latency;
  }
  return total;
}

void check_latency(const CompareOptions& options, ExchangeOutcome& outcome) {
  if (!options.latency_threshold || !outcome.recorded_latency_us || !outcome.replayed_latency_us)
    return;
  const std::int64_t before = *outcome.recorded_latency_us;
  const std::int64_t after = *outcome.replayed_latency_us;
  if (before < 0 || after - before < options.latency_floor.count())  // before < 0: corrupt times
    return;
  const double ratio = before > 0 ? static_cast<double>(after) / static_cast<double>(before)
                                  : std::numeric_limits<double>::infinity();
  if (!(ratio > *options.latency_threshold))
    return;
  Difference made;
  made.kind = DifferenceKind::latency_regressed;
  made.method = outcome.method;
  made.tool = outcome.method == "tools/call" ? outcome.target : std::string();
  made.detail = "latency rose from " + format_ms(before) + " to " + format_ms(after) + " (" +
                (before > 0 ? format_ratio(ratio) : std::string("from zero")) + ", threshold " +
                format_ratio(*options.latency_threshold) + ")";
  made.recorded = before;
  made.replayed = after;
  outcome.differences.push_back(std::move(made));
}

// The pages of a list chain: the items of every page in one array, and the first page's
// other members (the cursor aside); or the first error page, which then stands for the chain.
struct MergedList {
  json items = json::array();
  json first_page;                   // without the items and nextCursor
  std::optional<json> error_page;    // the first page that is a JSON-RPC error
  std::vector<std::string> invalid;  // problems of pages that did not parse
};

MergedList merge_pages(const std::vector<std::string_view>& pages, std::string_view field) {
  MergedList merged;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    ParsedMessage page = parse_message(pages[i]);
    if (!page.valid) {
      merged.invalid.push_back("page " + std::to_string(i + 1) + ": " + page.problem);
      if (i == 0)
        merged.first_page = std::move(page.value);
      continue;
    }
    if (member(page.value, "error") != nullptr) {
      if (!merged.error_page)
        merged.error_page = page.value;
      if (i == 0)
        merged.first_page = std::move(page.value);
      continue;
    }
    const auto found = page.value.is_object() ? page.value.find("result") : page.value.end();
    json* result = found != page.value.end() ? &*found : nullptr;
    if (result != nullptr && result->is_object()) {
      const auto items = result->find(field);
      if (items != result->end() && items->is_array()) {
        for (auto& item : *items)
          merged.items.push_back(std::move(item));
      }
      result->erase(std::string(field));
      result->erase("nextCursor");
    }
    if (i == 0)
      merged.first_page = std::move(page.value);
  }
  return merged;
}

json list_result(std::string_view field, const json& items) {
  return json{{"result", json{{std::string(field), items}}}};
}

}  // namespace

SessionOutcome compare_session(const RecordedSession& recorded, const ReplayedSession& replayed,
                               const CompareOptions& options) {
  SessionOutcome session;
  session.id = recorded.id;
  session.sources = recorded.sources;
  session.replayed_session = replayed.target_session;
  session.notes = recorded.notes;
  session.notes.insert(session.notes.end(), replayed.notes.begin(), replayed.notes.end());
  if (!replayed.failure.empty())
    session.notes.push_back(replayed.failure);
  OutcomeBuilder builder(options, session);
  session.exchanges.reserve(recorded.steps.size() + 1 + replayed.server_requests.size());

  if (recorded.initialize) {
    const Exchange& exchange = *recorded.initialize;
    ExchangeOutcome outcome = builder.start(exchange, ExchangeDirection::client_to_server);
    outcome.method = "initialize";
    outcome.replayed_latency_us = replayed.initialize_latency_us;
    if (replayed.initialize_response.empty()) {
      outcome.differences.push_back(
          builder.difference(outcome, DifferenceKind::target_failed, true,
                             replayed.failure.empty() ? "the handshake failed" : replayed.failure));
    } else if (exchange.response_message.empty()) {
      builder.note(step_label(outcome.index, exchange) +
                   ": the recording has no answer to compare with");
      outcome.replayed_response = replayed.initialize_response;
    } else {
      ParsedMessage before = parse_message(exchange.response_message);
      ParsedMessage after = parse_message(replayed.initialize_response);
      if (!before.valid)
        builder.note(step_label(outcome.index, exchange) + ": the recorded response is not JSON (" +
                     before.problem + "); compared as text");
      const json recorded_answer = before.valid ? answer_members(before.value) : before.value;
      outcome.recorded_response = builder.kept_text(recorded_answer);
      outcome.replayed_response = replayed.initialize_response;
      compare_answers(recorded_answer, after.value, false, true, options, outcome);
      check_latency(options, outcome);
    }
    builder.finish(std::move(outcome));
  }

  std::vector<const ReplayedStep*> by_step(recorded.steps.size(), nullptr);
  for (const auto& step : replayed.steps) {
    if (step.step < by_step.size() && by_step[step.step] == nullptr)
      by_step[step.step] = &step;
  }
  const auto was_sent = [&by_step](std::size_t step) {
    return step < by_step.size() && by_step[step] != nullptr && by_step[step]->sent;
  };

  for (std::size_t i = 0; i < recorded.steps.size(); ++i) {
    const RecordedStep& step = recorded.steps[i];
    if (!step.is_request())
      continue;
    const Exchange& exchange = step.exchange;
    const ReplayedStep* replay = by_step[i];
    if (replay != nullptr && replay->interrupted)
      continue;  // the session's note says how many; nothing to compare
    if (step.cancelled || (replay != nullptr && replay->cancelled)) {
      builder.note("step " + std::to_string(i) + " (" + exchange.method + " id " + exchange.id +
                   "): cancelled as recorded, not compared");
      continue;
    }
    ExchangeOutcome outcome = builder.start(exchange, ExchangeDirection::client_to_server);
    const bool tools_call = exchange.method == "tools/call";
    const auto kind = list_kind_of(exchange.method);
    outcome.pages_recorded = 1 + step.later_pages.size();
    if (kind)
      outcome.recorded_latency_us = chain_latency(step);
    if (replay != nullptr) {
      outcome.replayed_latency_us = replay->latency_us;
      outcome.pages_replayed = replay->responses.size();
    } else {
      outcome.pages_replayed = 0;
    }

    if (replay == nullptr || !replay->sent) {
      std::string why = replay != nullptr && !replay->failure.empty() ? replay->failure
                        : !replayed.failure.empty() ? "not sent: " + replayed.failure
                                                    : std::string("not sent");
      Difference made =
          builder.difference(outcome, DifferenceKind::not_replayed, true, std::move(why));
      made.tool = tools_call ? exchange.target : std::string();
      outcome.differences.push_back(std::move(made));
      builder.finish(std::move(outcome));
      continue;
    }

    const bool recorded_answered = !exchange.response_message.empty();

    if (replay->responses.empty() || (kind && !replay->failure.empty())) {
      std::string why = replay->failure.empty() ? std::string("no answer") : replay->failure;
      if (kind && !replay->responses.empty())
        why += " (after " + std::to_string(replay->responses.size()) + " of the list's pages)";
      Difference made =
          builder.difference(outcome, DifferenceKind::target_failed, true, std::move(why));
      made.tool = tools_call ? exchange.target : std::string();
      outcome.differences.push_back(std::move(made));
      if (recorded_answered)
        outcome.recorded_response = valid_utf8(exchange.response_message);
      builder.finish(std::move(outcome));
      continue;
    }

    if (!recorded_answered) {
      builder.note(step_label(outcome.index, exchange) +
                   ": the recording has no answer to compare with");
      outcome.replayed_response = replay->responses.front();
      builder.finish(std::move(outcome));
      continue;
    }

    if (kind) {
      const std::string_view field = list_field(*kind);
      std::vector<std::string_view> recorded_pages{exchange.response_message};
      for (const auto& page : step.later_pages)
        recorded_pages.push_back(page.response_message);
      std::vector<std::string_view> replayed_pages(replay->responses.begin(),
                                                   replay->responses.end());
      MergedList before = merge_pages(recorded_pages, field);
      MergedList after = merge_pages(replayed_pages, field);
      for (const auto& problem : before.invalid)
        builder.note(step_label(outcome.index, exchange) + ": recorded list " + problem +
                     "; its items are left out");
      for (const auto& problem : after.invalid)
        builder.note(step_label(outcome.index, exchange) + ": replayed list " + problem +
                     "; its items are left out");
      if (before.error_page || after.error_page) {
        const json& recorded_answer = before.error_page ? *before.error_page : before.first_page;
        const json& replayed_answer = after.error_page ? *after.error_page : after.first_page;
        outcome.recorded_response = builder.kept_text(recorded_answer);
        outcome.replayed_response = builder.kept_text(replayed_answer);
        compare_answers(recorded_answer, replayed_answer, false, false, options, outcome);
      } else {
        outcome.recorded_response = builder.kept_text(list_result(field, before.items));
        outcome.replayed_response = builder.kept_text(list_result(field, after.items));
        outcome.differences =
            classify_list(*kind, exchange.method, before.items, after.items, options.diff);
        for (auto& made : outcome.differences) {
          if (made.method.empty())
            made.method = exchange.method;
        }
        compare_answers(before.first_page, after.first_page, false, false, options, outcome);
      }
    } else if (exchange.response_message == replay->responses.front()) {
      // The same bytes (the replayed text passed the codec or the summary scanner's full JSON
      // check, so it is valid JSON): identical without parsing either side, the usual case
      // when a server did not change. No text is kept: there is no difference to show.
    } else {
      ParsedMessage before = parse_message(exchange.response_message);
      ParsedMessage after = parse_message(replay->responses.front());
      if (!before.valid)
        builder.note(step_label(outcome.index, exchange) + ": the recorded response is not JSON (" +
                     before.problem + "); compared as text");
      if (!after.valid)
        builder.note(step_label(outcome.index, exchange) + ": the replayed response is not JSON (" +
                     after.problem + "); compared as text");
      if (!after.duplicate.empty() && before.duplicate.empty())
        builder.note(step_label(outcome.index, exchange) + ": the replayed response has a " +
                     after.duplicate +
                     "; compared with the last one, but clients that reject duplicate keys (as "
                     "mcpgw serve does) drop the whole response");
      outcome.recorded_response =
          before.valid ? builder.kept_text(before.value) : before.value.get<std::string>();
      outcome.replayed_response =
          after.valid ? replay->responses.front() : after.value.get<std::string>();
      compare_answers(before.value, after.value, tools_call, false, options, outcome);
    }
    check_latency(options, outcome);
    builder.finish(std::move(outcome));
  }

  // Server→client requests: the ones the target sent, then the recorded ones it never sent.
  std::vector<bool> matched(recorded.server_requests.size(), false);
  const auto tool_of_step = [&recorded](const std::optional<std::size_t>& step) -> std::string {
    if (!step || *step >= recorded.steps.size())
      return {};
    return std::string(recorded.steps[*step].exchange.tool());
  };
  for (const auto& request : replayed.server_requests) {
    const ParsedMessage sent = parse_message(request.request);
    ExchangeOutcome outcome;
    outcome.index = session.exchanges.size();
    outcome.direction = ExchangeDirection::server_to_client;
    if (const json* method = member(sent.value, "method"); method != nullptr && method->is_string())
      outcome.method = method->get<std::string>();
    outcome.replayed_response = request.answer;
    if (request.matched && *request.matched < recorded.server_requests.size()) {
      const Exchange& original = recorded.server_requests[*request.matched].exchange;
      matched[*request.matched] = true;
      outcome.recorded_id = original.id;
      outcome.where = original.request_where;
      outcome.recorded_response = valid_utf8(original.response_message);
      builder.finish(std::move(outcome));
      continue;
    }
    std::string detail = "no recorded client reply matched; ";
    if (request.answered_with_default) {
      detail += "answered with the configured default reply";
    } else {
      const ParsedMessage answer = parse_message(request.answer);
      const Answer answered = answer_of(answer.value, false);
      detail += answered.kind == Answer::Kind::rpc_error
                    ? "answered with " + describe_error(answered)
                    : "answered";
    }
    Difference made = builder.difference(outcome, DifferenceKind::server_request_unmatched, false,
                                         std::move(detail));
    made.tool = tool_of_step(request.during_step);
    if (const json* params = member(sent.value, "params"))
      made.replayed = *params;
    outcome.differences.push_back(std::move(made));
    builder.finish(std::move(outcome));
  }
  for (std::size_t i = 0; i < recorded.server_requests.size(); ++i) {
    if (matched[i])
      continue;
    const RecordedServerRequest& request = recorded.server_requests[i];
    // A request recorded during a step the replay never sent is covered by not_replayed.
    if (request.during_step && !was_sent(*request.during_step))
      continue;
    ExchangeOutcome outcome = builder.start(request.exchange, ExchangeDirection::server_to_client);
    outcome.recorded_latency_us.reset();
    outcome.recorded_response = valid_utf8(request.exchange.response_message);
    std::string detail = "the target did not send this request in the replay";
    if (request.during_step && *request.during_step < recorded.steps.size()) {
      const Exchange& during = recorded.steps[*request.during_step].exchange;
      detail += " (recorded during " + during.method;
      if (!during.target.empty())
        detail += " " + during.target;
      detail += ")";
    }
    Difference made = builder.difference(outcome, DifferenceKind::server_request_missing, false,
                                         std::move(detail));
    made.tool = tool_of_step(request.during_step);
    const ParsedMessage original = parse_message(request.exchange.request_message);
    if (const json* params = member(original.value, "params"))
      made.recorded = *params;
    outcome.differences.push_back(std::move(made));
    builder.finish(std::move(outcome));
  }
  return session;
}

}  // namespace mcpgw::replay
