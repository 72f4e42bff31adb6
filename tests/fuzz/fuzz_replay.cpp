// Fuzzes replay's judgement of hostile recordings and answers. Input: one byte choosing the
// mode, then the data.
// - Mode even: the data is a recording (a labelled stdio transcript, or an mcpgw capture when
//   the next byte is odd), decoded into sessions with build_sessions; each session is then
//   "replayed" with exactly its recorded answers, and compare_session must find every re-sent
//   exchange identical.
// - Mode odd: the data is two JSON documents separated by the first newline; diff_json,
//   classify_list and the schema comparisons run on them, and on each document against itself
//   must report nothing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mcp/jsonrpc.hpp"
#include "mcp/traffic.hpp"
#include "replay/classify.hpp"
#include "replay/compare.hpp"
#include "replay/diff.hpp"
#include "replay/recording.hpp"

namespace {

using namespace mcpgw;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_replay: invariant violated: %s\n", what);
    std::abort();
  }
}

class CollectingSink final : public mcp::traffic::Sink {
 public:
  void on_event(mcp::traffic::Event&& event) override { events.push_back(std::move(event)); }
  void on_problem(mcp::traffic::Problem&&) override {}
  std::vector<mcp::traffic::Event> events;
};

const replay::IgnoreRules& default_rules() {
  static const replay::IgnoreRules rules = [] {
    auto compiled = replay::IgnoreRules::compile({}, true);
    check(static_cast<bool>(compiled), "the default ignore rules compile");
    return std::move(*compiled);
  }();
  return rules;
}

void fuzz_recording(std::string_view text, bool capture) {
  mcp::traffic::DecoderOptions options{"fuzz", mcp::traffic::Direction::client_to_server, {}};
  auto decoder = mcp::traffic::make_decoder(
      capture ? mcp::traffic::Format::capture : mcp::traffic::Format::stdio, options);
  CollectingSink sink;
  decoder->feed(text, sink);
  decoder->finish(sink);
  replay::LoadOptions load;
  const replay::LoadedRecording loaded = replay::build_sessions(std::move(sink.events), load);

  replay::CompareOptions compare;
  compare.diff.ignore = &default_rules();
  for (std::size_t index = 0; index < loaded.sessions.size(); ++index) {
    const replay::RecordedSession& session = loaded.sessions[index];
    replay::ReplayedSession replayed;
    replayed.session = index;
    if (session.initialize) {
      // The driver reports the target's InitializeResult as {"result": …}.
      const std::string& recorded_text = session.initialize->response_message;
      auto message = nlohmann::json::parse(recorded_text, nullptr, false);
      nlohmann::json answer = nlohmann::json::object();
      if (!message.is_discarded() && message.is_object()) {
        for (const char* member : {"result", "error"}) {
          if (message.contains(member))
            answer[member] = message[member];
        }
        replayed.initialize_response =
            answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      } else {
        replayed.initialize_response = recorded_text;
      }
    }
    for (std::size_t step = 0; step < session.steps.size(); ++step) {
      const auto& recorded = session.steps[step];
      if (!recorded.is_request())
        continue;
      replay::ReplayedStep answer;
      answer.step = step;
      answer.sent = true;
      answer.cancelled = recorded.cancelled;
      if (!recorded.exchange.response_message.empty()) {
        answer.responses.push_back(recorded.exchange.response_message);
        for (const auto& page : recorded.later_pages) {
          if (page.response_message.empty())
            break;
          answer.responses.push_back(page.response_message);
        }
      } else {
        answer.failure = "no answer";
      }
      replayed.steps.push_back(std::move(answer));
    }
    const replay::SessionOutcome outcome = replay::compare_session(session, replayed, compare);
    for (const auto& exchange : outcome.exchanges) {
      if (exchange.direction != replay::ExchangeDirection::client_to_server)
        continue;
      for (const auto& difference : exchange.differences) {
        // The recording itself may lack answers; everything that was answered is identical.
        if (difference.kind == replay::DifferenceKind::target_failed)
          continue;
        std::fprintf(stderr, "%s at %s: %s\n", std::string(to_string(difference.kind)).c_str(),
                     difference.path.c_str(), difference.detail.c_str());
        check(false, "a replay with the recorded answers is not identical");
      }
    }
  }
}

void fuzz_documents(std::string_view text) {
  const auto newline = text.find('\n');
  const std::string_view first = text.substr(0, newline);
  const std::string_view second =
      newline == std::string_view::npos ? first : text.substr(newline + 1);
  mcp::DecodeOptions decode;
  decode.allow_duplicate_keys = true;
  auto a = mcp::parse_json(first, decode);
  auto b = mcp::parse_json(second, decode);
  if (!a || !b)
    return;
  replay::DiffOptions options;
  options.ignore = &default_rules();
  replay::diff_json(*a, *b, options);
  check(replay::diff_json(*a, *a, options).changes.empty(), "a document differs from itself");
  check(replay::compare_input_schema(*a, *a).empty(), "an input schema changed against itself");
  check(replay::compare_output_schema(*a, *a).empty(), "an output schema changed against itself");
  replay::compare_input_schema(*a, *b);
  replay::compare_output_schema(*a, *b);
  for (const auto kind : {replay::ListKind::tools, replay::ListKind::prompts,
                          replay::ListKind::resources, replay::ListKind::resource_templates}) {
    replay::classify_list(kind, "tools/list", *a, *b, options);
    check(replay::classify_list(kind, "tools/list", *a, *a, options).empty(),
          "a list changed against itself");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  if (data[0] % 2 == 0)
    fuzz_recording(text, data[1] % 2 == 1);
  else
    fuzz_documents(text);
  return 0;
}
