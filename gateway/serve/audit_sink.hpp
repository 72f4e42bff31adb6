// The [audit] sink of serve: JSON lines (policy::audit_json_line) written by a thread of its
// own from a bounded queue, so a slow disk never stalls the event loop.
#pragma once

#include <memory>
#include <string>

#include "gateway/config/config.hpp"
#include "gateway/policy/audit.hpp"

namespace mcpgw::serve {

// "stderr", "stdout" or a file appended to (created with mode 0600). Null with `error` set when
// the file cannot be opened. Records beyond `max_queued` waiting lines are dropped and counted.
std::unique_ptr<policy::AuditSink> make_audit_sink(const config::AuditConfig& audit,
                                                   std::string& error,
                                                   std::size_t max_queued = 65536);

}  // namespace mcpgw::serve
