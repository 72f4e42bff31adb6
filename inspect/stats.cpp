// --stats: counts per method and tool, error rates, exact latency percentiles, sessions. Fed
// from the exchanges only (no payloads, no JSON trees).
#include <algorithm>
#include <cstdio>
#include <ostream>
#include <string>

#include "inspect/render.hpp"
#include "inspect/text.hpp"

namespace mcpgw::inspect {
namespace {

constexpr const char* kOther = "(other)";

double rate(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string counted(std::uint64_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string ms(std::int64_t duration_us) {
  return fixed(static_cast<double>(duration_us) / 1000.0, 2);
}

// Pads to `width` columns, counting code points (the text is valid UTF-8 by then).
std::string pad_right(std::string text, std::size_t width) {
  std::size_t columns = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80)
      ++columns;
  }
  if (columns < width)
    text.append(width - columns, ' ');
  return text;
}

std::string pad_left(const std::string& text, std::size_t width) {
  return text.size() < width ? std::string(width - text.size(), ' ') + text : text;
}

struct Row {
  std::string name;
  StatsCollector::Bucket* bucket;
};

// Most frequent first, then by name, so the output is stable.
std::vector<Row> sorted_rows(std::unordered_map<std::string, StatsCollector::Bucket>& table) {
  std::vector<Row> rows;
  rows.reserve(table.size());
  for (auto& [name, bucket] : table)
    rows.push_back({name, &bucket});
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.bucket->count != b.bucket->count)
      return a.bucket->count > b.bucket->count;
    return a.name < b.name;
  });
  return rows;
}

std::vector<std::pair<std::string, std::uint64_t>> sorted_sessions(
    const std::unordered_map<std::string, std::uint64_t>& sessions) {
  std::vector<std::pair<std::string, std::uint64_t>> rows(sessions.begin(), sessions.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second)
      return a.second > b.second;
    return a.first < b.first;
  });
  return rows;
}

void json_latency(std::string& out, const Percentiles& p) {
  out += "{\"count\":" + std::to_string(p.count);
  if (p.count == 0) {
    out += ",\"p50\":null,\"p95\":null,\"p99\":null,\"max\":null}";
    return;
  }
  out += ",\"p50\":" + format_ms_number(p.p50_us);
  out += ",\"p95\":" + format_ms_number(p.p95_us);
  out += ",\"p99\":" + format_ms_number(p.p99_us);
  out += ",\"max\":" + format_ms_number(p.max_us) + "}";
}

void json_bucket_fields(std::string& out, StatsCollector::Bucket& bucket) {
  out += ",\"count\":" + std::to_string(bucket.count);
  out += ",\"requests\":" + std::to_string(bucket.requests);
  out += ",\"errors\":" + std::to_string(bucket.errors);
  out += ",\"tool_errors\":" + std::to_string(bucket.tool_errors);
  out += ",\"error_rate\":" + fixed(rate(bucket.errors + bucket.tool_errors, bucket.requests), 6);
  out += ",\"pending\":" + std::to_string(bucket.pending);
  out += ",\"cancelled\":" + std::to_string(bucket.cancelled);
  out += ",\"latency_ms\":";
  json_latency(out, percentiles_of(bucket.durations_us));
}

}  // namespace

Percentiles percentiles_of(std::vector<std::int64_t>& durations_us) {
  Percentiles result;
  result.count = durations_us.size();
  if (durations_us.empty())
    return result;
  std::sort(durations_us.begin(), durations_us.end());
  // Nearest rank: the smallest value with at least p% of the values at or below it.
  const auto rank = [&](std::uint64_t percent) {
    const std::uint64_t n = durations_us.size();
    std::uint64_t index = (percent * n + 99) / 100;  // ceil(p/100 * n), 1-based
    if (index == 0)
      index = 1;
    return durations_us[static_cast<std::size_t>(index - 1)];
  };
  result.p50_us = rank(50);
  result.p95_us = rank(95);
  result.p99_us = rank(99);
  result.max_us = durations_us.back();
  return result;
}

StatsCollector::Bucket& StatsCollector::bucket_for(std::unordered_map<std::string, Bucket>& table,
                                                   const std::string& name) {
  if (const auto found = table.find(name); found != table.end())
    return found->second;
  if (table.size() >= kMaxNames)
    return table[kOther];
  return table[name];
}

void StatsCollector::add(const Exchange& exchange) {
  const auto count_into = [&](Bucket& bucket) {
    ++bucket.count;
    if (exchange.kind != ExchangeKind::request)
      return;
    ++bucket.requests;
    if (exchange.status == Status::error)
      ++bucket.errors;
    if (exchange.tool_error)
      ++bucket.tool_errors;
    if (exchange.status == Status::pending)
      ++bucket.pending;
    if (exchange.status == Status::cancelled)
      ++bucket.cancelled;
    if (const auto duration = exchange.duration_us();
        duration && (exchange.status == Status::ok || exchange.status == Status::error))
      bucket.durations_us.push_back(*duration);
  };
  count_into(overall_);
  if (exchange.kind == ExchangeKind::notification)
    ++notifications_;
  if (exchange.orphan)
    ++orphans_;
  static const std::string kOrphanMethod = "(orphan response)";
  count_into(bucket_for(methods_, exchange.orphan ? kOrphanMethod : exchange.method));
  if (exchange.method == "tools/call")
    count_into(bucket_for(tools_, exchange.target));
  const std::string& session = exchange.session_or_scope();
  if (const auto found = sessions_.find(session); found != sessions_.end()) {
    ++found->second;
  } else if (sessions_.size() < kMaxSessions) {
    sessions_.emplace(session, 1);
  } else {
    ++sessions_[kOther];
  }
}

void StatsCollector::render_text(std::ostream& out, const RunTotals& totals) {
  std::string text;
  const Percentiles overall = percentiles_of(overall_.durations_us);
  text += "exchanges  " + std::to_string(overall_.count) + " (" +
          counted(overall_.requests, "request") + ", " + counted(notifications_, "notification") +
          ")\n";
  text += "errors     " + counted(overall_.errors, "JSON-RPC error") + ", " +
          counted(overall_.tool_errors, "tool error") + " (" +
          fixed(100.0 * rate(overall_.errors + overall_.tool_errors, overall_.requests), 1) +
          "% of requests)\n";
  text += "unanswered " + std::to_string(overall_.pending) + " pending, " +
          std::to_string(overall_.cancelled) + " cancelled, " + counted(orphans_, "response") +
          " without request\n";
  if (overall.count > 0) {
    text += "latency    p50 " + ms(overall.p50_us) + " ms, p95 " + ms(overall.p95_us) +
            " ms, p99 " + ms(overall.p99_us) + " ms, max " + ms(overall.max_us) + " ms (" +
            std::to_string(overall.count) + " timed)\n";
  } else {
    text += "latency    no timed exchanges\n";
  }
  text += "sessions   " + std::to_string(sessions_.size()) + "\n";
  text += "problems   " + std::to_string(totals.problems) + "\n";

  const auto table = [&](const char* title, std::unordered_map<std::string, Bucket>& buckets) {
    if (buckets.empty())
      return;
    text += "\n" + pad_right(title, 32) + pad_left("COUNT", 8) + pad_left("ERRORS", 8) +
            pad_left("ERR%", 7) + pad_left("P50 ms", 10) + pad_left("P95 ms", 10) +
            pad_left("P99 ms", 10) + "\n";
    for (const auto& row : sorted_rows(buckets)) {
      Bucket& bucket = *row.bucket;
      const Percentiles p = percentiles_of(bucket.durations_us);
      const std::string name = terminal_safe(shorten(row.name, 31));
      text += pad_right(name, 32) + pad_left(std::to_string(bucket.count), 8) +
              pad_left(std::to_string(bucket.errors + bucket.tool_errors), 8) +
              pad_left(
                  bucket.requests == 0
                      ? std::string("-")
                      : fixed(100.0 * rate(bucket.errors + bucket.tool_errors, bucket.requests), 1),
                  7) +
              pad_left(p.count == 0 ? std::string("-") : ms(p.p50_us), 10) +
              pad_left(p.count == 0 ? std::string("-") : ms(p.p95_us), 10) +
              pad_left(p.count == 0 ? std::string("-") : ms(p.p99_us), 10) + "\n";
    }
  };
  table("METHOD", methods_);
  table("TOOL", tools_);

  if (!sessions_.empty()) {
    constexpr std::size_t kShown = 20;
    text += "\n" + pad_right("SESSION", 48) + pad_left("EXCHANGES", 10) + "\n";
    const auto rows = sorted_sessions(sessions_);
    for (std::size_t i = 0; i < rows.size() && i < kShown; ++i) {
      text += pad_right(terminal_safe(shorten(rows[i].first, 47)), 48) +
              pad_left(std::to_string(rows[i].second), 10) + "\n";
    }
    if (rows.size() > kShown)
      text += "... " + std::to_string(rows.size() - kShown) + " more (see --stats --format json)\n";
  }
  out << text;
}

void StatsCollector::render_json(std::ostream& out, const RunTotals& totals) {
  std::string text = "{\"v\":" + std::to_string(kJsonlSchemaVersion);
  text += ",\"exchanges\":" + std::to_string(overall_.count);
  text += ",\"requests\":" + std::to_string(overall_.requests);
  text += ",\"notifications\":" + std::to_string(notifications_);
  text += ",\"errors\":" + std::to_string(overall_.errors);
  text += ",\"tool_errors\":" + std::to_string(overall_.tool_errors);
  text += ",\"error_rate\":" +
          fixed(rate(overall_.errors + overall_.tool_errors, overall_.requests), 6);
  text += ",\"pending\":" + std::to_string(overall_.pending);
  text += ",\"cancelled\":" + std::to_string(overall_.cancelled);
  text += ",\"orphans\":" + std::to_string(orphans_);
  text += ",\"messages\":" + std::to_string(totals.messages);
  text += ",\"problems\":" + std::to_string(totals.problems);
  text += ",\"latency_ms\":";
  json_latency(text, percentiles_of(overall_.durations_us));
  const auto table = [&](const char* name_key, std::unordered_map<std::string, Bucket>& buckets) {
    bool first = true;
    for (const auto& row : sorted_rows(buckets)) {
      text += first ? "{\"" : ",{\"";
      first = false;
      text += name_key;
      text += "\":";
      append_json_string(text, row.name);
      json_bucket_fields(text, *row.bucket);
      text += '}';
    }
  };
  text += ",\"methods\":[";
  table("method", methods_);
  text += "],\"tools\":[";
  table("tool", tools_);
  text += "],\"sessions\":{\"count\":" + std::to_string(sessions_.size()) + ",\"exchanges\":[";
  bool first = true;
  for (const auto& [session, count] : sorted_sessions(sessions_)) {
    text += first ? "{\"session\":" : ",{\"session\":";
    first = false;
    append_json_string(text, session);
    text += ",\"count\":" + std::to_string(count) + "}";
  }
  text += "]}}\n";
  out << text;
}

namespace {

class StatsRenderer final : public Renderer {
 public:
  StatsRenderer(std::ostream& out, bool json) : out_(out), json_(json) {}
  void on_exchange(Exchange&& exchange) override { stats_.add(exchange); }
  bool finish(const RunTotals& totals) override {
    if (json_)
      stats_.render_json(out_, totals);
    else
      stats_.render_text(out_, totals);
    out_.flush();
    return static_cast<bool>(out_);
  }

 private:
  std::ostream& out_;
  bool json_;
  StatsCollector stats_;
};

}  // namespace

std::unique_ptr<Renderer> make_stats_renderer(std::ostream& out, bool json) {
  return std::make_unique<StatsRenderer>(out, json);
}

}  // namespace mcpgw::inspect
