#include "inspect/pipeline.hpp"

#include <chrono>
#include <ostream>

namespace mcpgw::inspect {
namespace {

// In --follow, a request unanswered for this long stops holding back the exchanges after it.
constexpr auto kFollowHoldBack = std::chrono::seconds(1);

FilterOptions filter_options_of(const InspectOptions& options) {
  FilterOptions filter;
  filter.sessions = options.sessions;
  filter.methods = options.methods;
  filter.tools = options.tools;
  filter.backends = options.backends;
  filter.errors_only = options.errors_only;
  filter.since_us = options.since_us;
  filter.until_us = options.until_us;
  return filter;
}

bool stats_as_json(const InspectOptions& options) {
  return options.stats_json || options.format != OutputFormat::timeline;
}

}  // namespace

PairerOptions Pipeline::pairer_options_for(const InspectOptions& options, PairerOptions base) {
  const bool html = !options.html_path.empty();
  const bool exchanges_on_stdout = !options.stats && !html;
  base.keep_payloads =
      html || (exchanges_on_stdout && (options.format == OutputFormat::timeline || options.full));
  // Statistics do not care about order: exchanges leave the moment they complete.
  base.ordered = exchanges_on_stdout || html;
  return base;
}

Pipeline::Pipeline(const InspectOptions& options, std::ostream& out, std::ostream& err,
                   PairerOptions pairer_options)
    : err_(err),
      strict_(options.strict),
      filter_(filter_options_of(options)),
      pairer_(
          pairer_options_for(options, pairer_options),
          [this](Exchange&& exchange) { on_exchange(std::move(exchange)); },
          [this](mcp::traffic::Problem&& problem) { on_problem(std::move(problem)); }) {
  const bool html = !options.html_path.empty();
  if (options.stats)
    renderers_.push_back(make_stats_renderer(out, stats_as_json(options)));
  if (html)
    renderers_.push_back(make_html_renderer(options.html_path, err, options.inputs));
  if (!options.stats && !html) {
    if (options.format == OutputFormat::timeline) {
      TimelineOptions timeline;
      timeline.color = options.color;
      timeline.full = options.full;
      timeline.flush_each = options.follow;
      renderers_.push_back(make_timeline_renderer(out, timeline));
    } else {
      renderers_.push_back(make_jsonl_renderer(
          out, options.full, options.format == OutputFormat::json, options.follow));
    }
  }
}

void Pipeline::on_event(mcp::traffic::Event&& event) {
  if (failed_strict())
    return;
  pairer_.on_event(std::move(event));
}

void Pipeline::on_summarized_event(mcp::traffic::Event&& event, mcp::MessageSummary&& summary) {
  if (failed_strict())
    return;
  pairer_.on_summarized_event(std::move(event), std::move(summary));
}

void Pipeline::on_problem(mcp::traffic::Problem&& problem) {
  ++problems_;
  if (problems_ <= kMaxReportedProblems) {
    err_ << mcp::traffic::describe(problem) << "\n";
  } else if (problems_ == kMaxReportedProblems + 1) {
    err_ << "mcpgw inspect: more problems follow; they are counted, not shown\n";
  }
}

void Pipeline::tick() {
  pairer_.release_stalled(std::chrono::steady_clock::now(), kFollowHoldBack);
}

void Pipeline::on_exchange(Exchange&& exchange) {
  if (!filter_.matches(exchange))
    return;
  ++shown_;
  if (renderers_.size() == 1) {
    renderers_.front()->on_exchange(std::move(exchange));
    return;
  }
  for (auto& renderer : renderers_)
    renderer->on_exchange(Exchange(exchange));
}

bool Pipeline::finish() {
  pairer_.finish();
  RunTotals totals;
  totals.messages = pairer_.messages();
  totals.problems = problems_;
  bool written = true;
  for (auto& renderer : renderers_)
    written = renderer->finish(totals) && written;
  if (problems_ > 0) {
    err_ << "mcpgw inspect: " << problems_ << (problems_ == 1 ? " problem" : " problems")
         << " in the input" << (strict_ ? "; stopped at the first one (--strict)" : ", skipped")
         << "\n";
  }
  err_.flush();
  return written;
}

}  // namespace mcpgw::inspect
