// make_decoder and read_traffic: the entry points of the traffic decoders (mcp/traffic.hpp).
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "mcp/decode/decoders.hpp"
#include "mcp/traffic.hpp"

namespace mcpgw::mcp::traffic {
namespace {

// Small enough to stay in the CPU cache while the decoder scans what was just read: a 1 MiB
// buffer made every chunk travel to memory and back, and was 1 MiB more to keep resident.
constexpr std::size_t kChunkBytes = std::size_t{64} << 10;

struct FileCloser {
  void operator()(std::FILE* file) const {
    if (file != nullptr) {
      std::fclose(file);
    }
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string system_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Reads up to `limit` bytes (fewer only at end of input or on an error).
std::size_t read_some(std::FILE* file, char* buffer, std::size_t limit) {
  std::size_t total = 0;
  while (total < limit) {
    const std::size_t n = std::fread(buffer + total, 1, limit - total, file);
    if (n == 0) {
      break;
    }
    total += n;
  }
  return total;
}

bool stopped(const ReadOptions& options) {
  return options.stop && options.stop();
}

// Identity of the file now at `path`, to notice rotation (a new inode) or truncation.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
};

std::optional<FileIdentity> identity_of_path(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return std::nullopt;
  }
  return FileIdentity{info.st_dev, info.st_ino, info.st_size};
}

std::optional<FileIdentity> identity_of_file(std::FILE* file) {
  struct stat info {};
  if (::fstat(::fileno(file), &info) != 0) {
    return std::nullopt;
  }
  return FileIdentity{info.st_dev, info.st_ino, info.st_size};
}

std::optional<std::string> read_pcap(std::FILE* file, bool regular, std::string_view first,
                                     const DecoderOptions& decoder_options, Sink& sink) {
  if (regular && std::fseek(file, 0, SEEK_SET) == 0) {
    decode_pcap(file, decoder_options, sink);
    return std::nullopt;
  }
  // libpcap needs a FILE* it can read from the start: spool a pipe to an unnamed file.
  File spool(std::tmpfile());
  if (!spool) {
    return system_error("cannot create a temporary file for the pcap on standard input");
  }
  if (std::fwrite(first.data(), 1, first.size(), spool.get()) != first.size()) {
    return system_error("cannot spool the pcap");
  }
  std::string buffer(kChunkBytes, '\0');
  while (const std::size_t n = read_some(file, buffer.data(), buffer.size())) {
    if (std::fwrite(buffer.data(), 1, n, spool.get()) != n) {
      return system_error("cannot spool the pcap");
    }
  }
  std::rewind(spool.get());
  decode_pcap(spool.get(), decoder_options, sink);
  return std::nullopt;
}

}  // namespace

std::unique_ptr<Decoder> make_decoder(Format format, const DecoderOptions& options) {
  switch (format) {
    case Format::capture:
      return decode::make_capture_decoder(options);
    case Format::har:
      return decode::make_har_decoder(options);
    case Format::http_transcript:
      return decode::make_http_transcript_decoder(options);
    case Format::stdio:
      return decode::make_stdio_decoder(options);
    case Format::pcap:
      break;
  }
  return nullptr;
}

std::optional<std::string> read_traffic(const std::string& path, const ReadOptions& options,
                                        Sink& sink) {
  const bool is_stdin = path == "-";
  File owned;
  std::FILE* file = stdin;
  if (!is_stdin) {
    owned.reset(std::fopen(path.c_str(), "rb"));
    if (!owned) {
      return system_error("cannot open " + path);
    }
    file = owned.get();
  }
  struct stat info {};
  const bool regular_file = ::fstat(::fileno(file), &info) == 0 && S_ISREG(info.st_mode);

  std::string buffer(kChunkBytes, '\0');
  std::size_t have = read_some(file, buffer.data(), kDetectBytes);
  std::optional<Format> format = options.format;
  if (!format) {
    format = detect_format(std::string_view(buffer.data(), have));
    if (!format) {
      if (have == 0) {
        return path + " is empty";
      }
      return "cannot tell the input format of " + path +
             " (capture, har, http, pcap or stdio); name it with --input-format";
    }
  }
  if (options.follow && (*format == Format::har || *format == Format::pcap)) {
    return std::string("--follow reads line formats only (capture, http, stdio), not ") +
           std::string(to_string(*format));
  }
  DecoderOptions decoder_options;
  decoder_options.source = path;
  decoder_options.stdio_direction = options.stdio_direction;
  if (options.join_stdio)
    decoder_options.stdio_scope = "stdio";
  if (*format == Format::pcap) {
    return read_pcap(file, regular_file, std::string_view(buffer.data(), have), decoder_options,
                     sink);
  }

  auto decoder = make_decoder(*format, decoder_options);
  decoder->feed(std::string_view(buffer.data(), have), sink);
  std::uint64_t position = have;
  const bool follow = options.follow && !is_stdin && regular_file;
  const auto poll = std::chrono::milliseconds(std::clamp(options.follow_poll_ms, 10, 5000));
  while (!stopped(options)) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file);
    if (n > 0) {
      decoder->feed(std::string_view(buffer.data(), n), sink);
      position += n;
      continue;
    }
    if (std::ferror(file) != 0) {
      const std::string error = system_error("error reading " + path);
      decoder->finish(sink);
      return error;
    }
    if (!follow) {
      break;
    }
    // At the end of a followed file: wait for more, or for a rotated or truncated file.
    std::this_thread::sleep_for(poll);
    std::clearerr(file);
    const auto now = identity_of_path(path);
    if (!now) {
      continue;  // between a rotation's rename and the new file's creation
    }
    const auto current = identity_of_file(file);
    const bool replaced =
        current && (now->inode != current->inode || now->device != current->device);
    const bool shrunk = current && static_cast<std::uint64_t>(current->size) < position;
    if (!replaced && !shrunk) {
      continue;
    }
    if (replaced) {
      // Whatever the old file still holds first, then the new one from its start.
      while (const std::size_t rest = std::fread(buffer.data(), 1, buffer.size(), file)) {
        decoder->feed(std::string_view(buffer.data(), rest), sink);
      }
    }
    std::FILE* reopened = std::fopen(path.c_str(), "rb");
    if (reopened == nullptr) {
      continue;
    }
    owned.reset(reopened);
    file = reopened;
    position = 0;
    decoder->finish(sink);
    decoder = make_decoder(*format, decoder_options);
  }
  decoder->finish(sink);
  return std::nullopt;
}

}  // namespace mcpgw::mcp::traffic
