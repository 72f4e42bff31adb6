// Fuzzes the tree-free message summary. Checks, beyond "no crash, no leak, no UB":
//  - the scanner accepts exactly the JSON the codec's parser accepts (same depth limit);
//  - split_batch succeeds exactly for valid objects and arrays, and every member it yields is
//    valid JSON on its own;
//  - a summarized message is one the codec decodes to the same kind, method and id.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "mcp/json_scan.hpp"
#include "mcp/jsonrpc.hpp"
#include "mcp/message_summary.hpp"

namespace {

using namespace mcpgw::mcp;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz_message_summary: invariant violated: %s\n", what);
    std::abort();
  }
}

bool codec_accepts(std::string_view text) {
  DecodeOptions options;
  options.max_depth = kMaxSummaryDepth;
  options.allow_duplicate_keys = true;
  return parse_json(text, options).has_value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  json_scan::Scanner scanner(text, kMaxSummaryDepth);
  scanner.skip_bom();
  const bool valid = scanner.skip_value(0) && scanner.expect_end();
  check(valid == codec_accepts(text), "scanner and codec disagree on validity");

  std::vector<std::string_view> members;
  SummaryError error;
  if (split_batch(text, members, &error)) {
    check(valid, "split_batch accepted invalid JSON");
    for (const auto member : members) {
      check(codec_accepts(member), "a batch member is not valid JSON");
    }
  } else {
    check(members.empty(), "members left after a failed split");
  }

  const auto summary = summarize_message(text, &error);
  if (summary) {
    check(valid, "summarized invalid JSON");
    DecodeOptions options;
    options.max_depth = kMaxSummaryDepth;
    options.allow_duplicate_keys = true;
    const auto decoded = decode_message(text, options);
    check(decoded.has_value(), "summarized a message the codec rejects");
    check(summary->method == decoded->method, "method differs");
    check(summary->id == (decoded->id ? decoded->id->to_string() : std::string()), "id differs");
    const bool response_kind =
        summary->kind == SummaryKind::response || summary->kind == SummaryKind::error_response;
    check(response_kind == decoded->is_response(), "kind differs");
  } else {
    check(error.offset <= text.size(), "error offset beyond the text");
  }
  return 0;
}
