// The decoders behind mcp/traffic.hpp's make_decoder and decode_pcap, one per input format.
// Internal to the protocol core: callers use make_decoder / read_traffic.
#pragma once

#include <memory>

#include "mcp/traffic.hpp"

namespace mcpgw::mcp::decode {

std::unique_ptr<traffic::Decoder> make_capture_decoder(const traffic::DecoderOptions& options);
std::unique_ptr<traffic::Decoder> make_har_decoder(const traffic::DecoderOptions& options);
std::unique_ptr<traffic::Decoder> make_stdio_decoder(const traffic::DecoderOptions& options);
// Raw HTTP/1.1 byte streams and curl transcripts (`curl -i -N`, `curl -v -i -N 2>&1`).
std::unique_ptr<traffic::Decoder> make_http_transcript_decoder(
    const traffic::DecoderOptions& options);

}  // namespace mcpgw::mcp::decode
