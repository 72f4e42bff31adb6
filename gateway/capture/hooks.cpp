#include "gateway/capture/hooks.hpp"

#include <atomic>
#include <chrono>

#include <nlohmann/json.hpp>

namespace mcpgw::capture {

std::int64_t now_us() noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint64_t next_connection_number() noexcept {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void record_text(Recorder& recorder, const mcp::capture::Record& context, std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return;
  mcp::capture::Record record = context;
  record.time_us = now_us();
  if (text[first] == '{') {
    record.message.assign(text);
    recorder.record(std::move(record));
    return;
  }
  if (text[first] != '[')
    return;
  // Batches (protocol 2025-03-26 only) are rare: parsing them again here is cheap enough.
  const auto batch = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!batch.is_array())
    return;
  for (const auto& member : batch) {
    mcp::capture::Record one = record;
    one.message = member.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    recorder.record(std::move(one));
  }
}

}  // namespace mcpgw::capture
