// Audit records as JSON lines: keys in a fixed order so the log reads (and diffs) the same way
// every time; nlohmann escapes every value, so nothing a client sends can split or forge a line.
#include "gateway/policy/audit.hpp"

#include <chrono>
#include <string_view>

namespace mcpgw::policy {
namespace {

void append_digits(std::string& out, long long value, int width) {
  char digits[24];
  int length = 0;
  unsigned long long rest = value < 0 ? 0ULL : static_cast<unsigned long long>(value);
  do {
    digits[length++] = static_cast<char>('0' + rest % 10);
    rest /= 10;
  } while (rest != 0 && length < 20);
  for (int pad = length; pad < width; ++pad)
    out.push_back('0');
  while (length > 0)
    out.push_back(digits[--length]);
}

// RFC 3339 in UTC with microseconds: 2026-11-22T01:02:03.456789Z. The calendar arithmetic of
// <chrono> needs no time zone database and no locale.
std::string rfc3339_utc(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(time);
  const auto day = floor<days>(micros);
  const year_month_day date{day};
  const hh_mm_ss<microseconds> clock{micros - day};
  std::string out;
  out.reserve(27);
  append_digits(out, static_cast<int>(date.year()), 4);
  out.push_back('-');
  append_digits(out, static_cast<unsigned>(date.month()), 2);
  out.push_back('-');
  append_digits(out, static_cast<unsigned>(date.day()), 2);
  out.push_back('T');
  append_digits(out, clock.hours().count(), 2);
  out.push_back(':');
  append_digits(out, clock.minutes().count(), 2);
  out.push_back(':');
  append_digits(out, clock.seconds().count(), 2);
  out.push_back('.');
  append_digits(out, clock.subseconds().count(), 6);
  out.push_back('Z');
  return out;
}

}  // namespace

std::string audit_json_line(const AuditRecord& record) {
  nlohmann::ordered_json line;
  line["ts"] = rfc3339_utc(record.time);
  line["type"] = "authz";
  line["session"] = record.session;
  line["principal"] = record.principal_key;
  line["subject"] = record.subject;
  line["api_key"] = record.api_key;
  line["cert_subject"] = record.cert_subject;
  line["method"] = record.method;
  line["backend"] = record.backend;
  line["kind"] = to_string(record.kind);
  line["name"] = record.name;
  line["decision"] = record.decision;
  line["rule"] = record.rule;
  line["policy_generation"] = record.policy_generation;
  // Invalid UTF-8 (names come from clients) is replaced by U+FFFD instead of throwing.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mcpgw::policy
