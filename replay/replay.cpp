#include "replay/replay.hpp"

#include <signal.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "gateway/capture/recorder.hpp"
#include "gateway/runtime/asio_loop.hpp"
#include "gateway/upstream/transport.hpp"

namespace mcpgw::replay {
namespace {

constexpr int kExitUsage = 2;
constexpr std::size_t kMaxReportedProblems = 20;

const char* signal_name(int signal_number) {
  return signal_number == SIGINT ? "SIGINT" : signal_number == SIGTERM ? "SIGTERM" : "a signal";
}

double millis_since(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

// --reply METHOD=JSON: the result sent for a server→client request nothing recorded matches.
bool parse_replies(const std::vector<std::string>& specs, DriverOptions& driver,
                   std::ostream& err) {
  for (const auto& spec : specs) {
    const auto equals = spec.find('=');
    if (equals == std::string::npos || equals == 0) {
      err << "mcpgw replay: --reply \"" << spec
          << "\": expected METHOD=JSON, e.g. roots/list={\"roots\":[]}\n";
      return false;
    }
    const std::string method = spec.substr(0, equals);
    auto result = nlohmann::json::parse(spec.substr(equals + 1), nullptr, false);
    if (result.is_discarded() || !result.is_object()) {
      err << "mcpgw replay: --reply \"" << spec << "\": the result must be a JSON object\n";
      return false;
    }
    driver.default_replies[method] = std::move(result);
  }
  return true;
}

// A progress line on a terminal, redrawn at most every 100 ms.
class ProgressBar {
 public:
  explicit ProgressBar(std::ostream& err) : err_(err) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::size_t done, std::size_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100))
      return;
    last_ = now;
    constexpr std::size_t kWidth = 30;
    const std::size_t filled = total == 0 ? kWidth : std::min(kWidth, done * kWidth / total);
    const std::string line = "[" + std::string(filled, '#') + std::string(kWidth - filled, ' ') +
                             "] " + std::to_string(done) + "/" + std::to_string(total) +
                             " exchanges";
    err_ << "\r" << line << std::flush;
    drawn_width_ = std::max(drawn_width_, line.size());
  }
  void clear() {
    if (drawn_width_ > 0)
      err_ << "\r" << std::string(drawn_width_, ' ') << "\r" << std::flush;
    drawn_width_ = 0;
  }

 private:
  std::ostream& err_;
  std::chrono::steady_clock::time_point last_{};
  std::size_t drawn_width_ = 0;  // the widest line drawn, blanked by clear()
};

bool write_file(const std::string& path, const std::string& text, std::ostream& err) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.flush();
  if (!file) {
    err << "mcpgw replay: cannot write " << path << "\n";
    return false;
  }
  return true;
}

}  // namespace

int run_replay(const ReplayOptions& options, std::ostream& out, std::ostream& err) {
  if (options.load.inputs.empty()) {
    err << "mcpgw replay: no input given\n";
    return kExitUsage;
  }
  DriverOptions driver = options.driver;
  if (driver.jobs == 0) {
    err << "mcpgw replay: --jobs must be at least 1\n";
    return kExitUsage;
  }
  if (driver.preserve_timing &&
      !(*driver.preserve_timing > 0.0 && *driver.preserve_timing <= 1000.0)) {
    err << "mcpgw replay: --preserve-timing takes a factor above 0 and at most 1000\n";
    return kExitUsage;
  }
  if (options.latency_threshold && !(*options.latency_threshold >= 1.0)) {
    err << "mcpgw replay: --latency-threshold is a ratio of at least 1 (2 = twice as slow)\n";
    return kExitUsage;
  }
  if (!parse_replies(options.reply_specs, driver, err))
    return kExitUsage;

  auto ignore = IgnoreRules::compile(options.ignore_specs, options.default_ignores);
  if (!ignore) {
    err << "mcpgw replay: " << ignore.error() << "\n";
    return kExitUsage;
  }
  CompareOptions compare;
  compare.diff.ignore = &*ignore;
  for (const auto& spec : options.unordered_specs) {
    auto unordered = parse_unordered_array(spec);
    if (!unordered) {
      err << "mcpgw replay: " << unordered.error() << "\n";
      return kExitUsage;
    }
    compare.diff.unordered.push_back(std::move(*unordered));
  }
  compare.latency_threshold = options.latency_threshold;
  compare.latency_floor = options.latency_floor;
  driver.ignore = &*ignore;

  auto target = resolve_target(options.target);
  if (!target) {
    err << "mcpgw replay: " << target.error() << "\n";
    return kExitUsage;
  }

  auto phase_start = std::chrono::steady_clock::now();
  auto recording = load_recording(options.load);
  if (!recording) {
    err << "mcpgw replay: " << recording.error() << "\n";
    return kExitUsage;
  }
  spdlog::debug("replay: read {} sessions in {:.1f} ms", recording->sessions.size(),
                millis_since(phase_start));
  const auto& problems = recording->problems;
  for (std::size_t i = 0; i < problems.size() && i < kMaxReportedProblems; ++i)
    err << mcp::traffic::describe(problems[i]) << "\n";
  if (problems.size() > kMaxReportedProblems) {
    err << "mcpgw replay: " << problems.size() - kMaxReportedProblems
        << " more problems in the inputs, not shown\n";
  }

  std::unique_ptr<capture::CaptureWriter> recorder;
  if (!options.record_path.empty()) {
    config::CaptureConfig capture;
    capture.enabled = true;
    capture.path = options.record_path;
    capture.max_file_bytes = 0;  // one baseline file, never rotated
    std::string error;
    recorder = capture::CaptureWriter::open(capture, options.tool_version, error);
    if (!recorder) {
      err << "mcpgw replay: --record: " << error << "\n";
      return kExitUsage;
    }
    driver.tag_capture_sessions = true;
  }

  ProgressBar bar(err);
  if (options.progress) {
    driver.progress = [&bar](std::size_t done, std::size_t total) { bar.update(done, total); };
  }

  boost::asio::io_context context;
  runtime::AsioEventLoop loop(context);
  upstream::TransportLimits limits;
  limits.recorder = recorder.get();
  limits.connect_timeout = target->connect_timeout;
  limits.shutdown_grace = target->shutdown_grace;
  auto factory = upstream::make_transport_factory(context, *target, limits);

  std::vector<ReplayedSession> replayed;
  bool finished = false;
  phase_start = std::chrono::steady_clock::now();
  const Interrupt interrupt = replay_sessions(loop, *factory, recording->sessions, driver,
                                              [&](std::vector<ReplayedSession> results) {
                                                replayed = std::move(results);
                                                finished = true;
                                              });
  // The first SIGINT or SIGTERM stops the run cleanly (targets closed, a report of what was
  // replayed); the handlers are then removed, so a second one ends the process at once.
  boost::asio::signal_set signals(context);
  int stopped_by = 0;
  if (options.handle_signals) {
    boost::system::error_code ignored;
    signals.add(SIGINT, ignored);
    signals.add(SIGTERM, ignored);
    signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
      if (error)
        return;
      stopped_by = signal_number;
      boost::system::error_code cleared;
      signals.clear(cleared);
      const std::string name = signal_name(signal_number);
      err << "mcpgw replay: " << name
          << ": stopping; closing the target and reporting what was replayed\n";
      interrupt(name);
    });
  }
  // The driver bounds every wait; run() returns when the last transport is released.
  while (!finished && context.run_one() > 0) {
  }
  boost::system::error_code ignored;
  signals.cancel(ignored);
  signals.clear(ignored);
  factory->shutdown();
  context.restart();
  context.poll();
  bar.clear();
  if (recorder)
    recorder->flush_and_close();
  if (!finished) {
    err << "mcpgw replay: the replay stopped before every session finished\n";
    return kExitUsage;
  }
  spdlog::debug("replay: replayed in {:.1f} ms", millis_since(phase_start));
  phase_start = std::chrono::steady_clock::now();

  ReplayReport report;
  report.target = describe_target(*target);
  if (!options.target.config_path.empty())
    report.target +=
        " (backend " + options.target.backend + " of " + options.target.config_path + ")";
  report.inputs = options.load.inputs;
  report.input_problems = problems.size();
  if (stopped_by != 0)
    report.interrupted_by = signal_name(stopped_by);
  bool any_handshake = false;
  std::string first_failure;
  for (std::size_t i = 0; i < replayed.size() && i < recording->sessions.size(); ++i) {
    if (replayed[i].initialize_response.empty()) {
      if (replayed[i].interrupted) {  // nothing of it was replayed: not part of the report
        ++report.sessions_not_replayed;
        continue;
      }
      if (first_failure.empty())
        first_failure = replayed[i].failure;
    } else {
      any_handshake = true;
    }
    report.sessions.push_back(compare_session(recording->sessions[i], replayed[i], compare));
  }
  if (!any_handshake && stopped_by == 0) {
    err << "mcpgw replay: the target never completed an initialize handshake"
        << (first_failure.empty() ? std::string() : ": " + first_failure) << "\n";
    return kExitUsage;
  }

  if (options.format == OutputFormat::json) {
    out << render_json(report) << "\n";
  } else {
    TextOptions text;
    text.color = options.color;
    text.show_identical = options.verbose;
    out << render_text(report, text);
  }
  out.flush();
  spdlog::debug("replay: compared and reported in {:.1f} ms", millis_since(phase_start));
  if (!options.junit_path.empty() &&
      !write_file(options.junit_path, render_junit(report, options.fail_on), err)) {
    return kExitUsage;
  }
  if (stopped_by != 0)
    return 128 + stopped_by;  // an incomplete run never passes, whatever it found
  return exit_code(report, options.fail_on);
}

}  // namespace mcpgw::replay
