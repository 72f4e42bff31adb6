// A blocking write of a whole buffer to a file descriptor, for the writer threads (capture,
// audit) that keep file I/O off the event loop.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string_view>

namespace mcpgw::runtime {

// Writes all of `data`, retrying after EINTR; false (errno set) on any other error.
inline bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

}  // namespace mcpgw::runtime
