// Test access to the capture writer: pausing its thread makes queue overflow deterministic.
#pragma once

#include "gateway/capture/recorder.hpp"

namespace mcpgw::capture {

struct CaptureWriterTestAccess {
  // While paused the writer thread takes nothing from the queue (flush_and_close unpauses).
  static void set_paused(CaptureWriter& writer, bool paused);
};

}  // namespace mcpgw::capture
