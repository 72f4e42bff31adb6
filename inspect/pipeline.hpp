// One inspect run without the file reading: decoded events in, rendered output out. run_inspect
// feeds it from read_traffic; tests feed it events they build.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <vector>

#include "inspect/exchange.hpp"
#include "inspect/filter.hpp"
#include "inspect/inspect.hpp"
#include "inspect/render.hpp"

namespace mcpgw::inspect {

class Pipeline final : public mcp::traffic::Sink {
 public:
  // Problems are printed on `err` (at most kMaxReportedProblems of them, all counted).
  Pipeline(const InspectOptions& options, std::ostream& out, std::ostream& err,
           PairerOptions pairer_options = {});

  void on_event(mcp::traffic::Event&& event) override;
  // The stdio decoder's summary goes on to the Pairer, which then does not scan the text again.
  void on_summarized_event(mcp::traffic::Event&& event, mcp::MessageSummary&& summary) override;
  void on_problem(mcp::traffic::Problem&& problem) override;

  // --strict and a problem was seen: the caller stops reading.
  bool failed_strict() const { return strict_ && problems_ > 0; }
  // --follow: let exchanges behind a long-waiting request out (see Pairer::release_stalled).
  void tick();
  // End of input: pending requests come out, the renderers finish, the problem summary goes to
  // `err`. Returns false when an output could not be written.
  bool finish();

  std::uint64_t problems() const { return problems_; }
  std::uint64_t shown() const { return shown_; }

  static constexpr std::uint64_t kMaxReportedProblems = 1000;

 private:
  static PairerOptions pairer_options_for(const InspectOptions& options, PairerOptions base);
  void on_exchange(Exchange&& exchange);

  std::ostream& err_;
  bool strict_;
  Filter filter_;
  std::vector<std::unique_ptr<Renderer>> renderers_;
  Pairer pairer_;
  std::uint64_t problems_ = 0;
  std::uint64_t shown_ = 0;
};

}  // namespace mcpgw::inspect
