// What the front ends and upstream transports use to hand messages to a capture::Recorder.
// Header-only templates over the HTTP fields type keep Beast out of this header; it is included
// by .cpp files only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/capture/recorder.hpp"
#include "mcp/capture.hpp"

namespace mcpgw::capture {

// Microseconds since the Unix epoch (system clock), for Record::time_us.
std::int64_t now_us() noexcept;

// Process-wide numbers for Record::connection (front connections and backend transports draw
// from the same counter, so a number names one of them), from 1.
std::uint64_t next_connection_number() noexcept;

// Records `text`, the JSON text of one message (copied as is) or of a batch array (split: one
// record per member, each re-serialized), with the metadata of `context` and time_us set now.
// Text that is not JSON starting with '{' or '[' is not recorded (it is no JSON-RPC message).
void record_text(Recorder& recorder, const mcp::capture::Record& context, std::string_view text);

// The headers of `fields` (a Beast header or anything iterable into name_string()/value()) that
// the recorder wants, with lower-case names.
template <class Fields>
std::vector<mcp::traffic::Header> selected_headers(const Recorder& recorder, const Fields& fields) {
  std::vector<mcp::traffic::Header> out;
  for (const auto& field : fields) {
    std::string name(field.name_string());
    for (auto& c : name) {
      if (c >= 'A' && c <= 'Z')
        c = static_cast<char>(c - 'A' + 'a');
    }
    if (recorder.wants_header(name))
      out.push_back({std::move(name), std::string(field.value())});
  }
  return out;
}

}  // namespace mcpgw::capture
