// Audit records as JSON lines: exact layout, RFC 3339 timestamps, and hostile values that must
// neither split a line nor forge a field.
#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "gateway/policy/audit.hpp"

namespace mcpgw::policy {
namespace {

using namespace std::chrono;
using namespace std::chrono_literals;

system_clock::time_point utc(int y, unsigned m, unsigned d, hours h, minutes min, seconds s,
                             microseconds us = 0us) {
  return sys_days{year{y} / month{m} / day{d}} + h + min + s + us;
}

AuditRecord sample() {
  AuditRecord record;
  record.time = utc(2026, 11, 22, 1h, 2min, 3s, 456789us);
  record.session = "s-1";
  record.principal_key = "jwt:https://idp alice";
  record.subject = "alice";
  record.api_key = "";
  record.cert_subject = "CN=alice";
  record.method = "tools/call";
  record.backend = "gh";
  record.kind = TargetKind::tool;
  record.name = "create_issue";
  record.decision = "deny";
  record.rule = "no-writes";
  record.policy_generation = 3;
  return record;
}

TEST(AuditJsonLine, HasEveryKeyInAFixedOrder) {
  EXPECT_EQ(audit_json_line(sample()),
            R"({"ts":"2026-11-22T01:02:03.456789Z","type":"authz","session":"s-1",)"
            R"("principal":"jwt:https://idp alice","subject":"alice","api_key":"",)"
            R"("cert_subject":"CN=alice","method":"tools/call","backend":"gh","kind":"tool",)"
            R"("name":"create_issue","decision":"deny","rule":"no-writes","policy_generation":3})");
}

TEST(AuditJsonLine, KindsAreNamed) {
  AuditRecord record = sample();
  const std::pair<TargetKind, const char*> kinds[] = {{TargetKind::tool, "tool"},
                                                      {TargetKind::prompt, "prompt"},
                                                      {TargetKind::resource, "resource"},
                                                      {TargetKind::other, "other"}};
  for (const auto& [kind, text] : kinds) {
    record.kind = kind;
    EXPECT_EQ(nlohmann::json::parse(audit_json_line(record))["kind"], text);
  }
}

TEST(AuditJsonLine, TimestampsAreUtcWithMicroseconds) {
  const auto ts = [](system_clock::time_point time) {
    AuditRecord record = sample();
    record.time = time;
    return nlohmann::json::parse(audit_json_line(record))["ts"].get<std::string>();
  };
  EXPECT_EQ(ts(system_clock::time_point{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(ts(system_clock::time_point{} - 1us), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(ts(utc(2024, 2, 29, 23h, 59min, 59s, 7us)), "2024-02-29T23:59:59.000007Z");
  EXPECT_EQ(ts(utc(2000, 1, 1, 0h, 0min, 0s) + 999ns), "2000-01-01T00:00:00.000000Z");  // floor
  EXPECT_EQ(ts(utc(2099, 12, 31, 12h, 30min, 0s, 100000us)), "2099-12-31T12:30:00.100000Z");
}

TEST(AuditJsonLine, HostileValuesStayInsideTheirField) {
  AuditRecord record = sample();
  record.name = "x\",\"decision\":\"allow\n{\"forged\":1}\x01\x7f";
  record.subject = "bad utf-8 \xff\xfe end";
  record.session = std::string("nul\0inside", 10);
  const std::string line = audit_json_line(record);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  const auto parsed = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << line;
  EXPECT_EQ(parsed["decision"], "deny");
  EXPECT_EQ(parsed["name"], record.name);
  EXPECT_EQ(parsed["session"], record.session);
  EXPECT_EQ(parsed["subject"], "bad utf-8 \xEF\xBF\xBD\xEF\xBF\xBD end");  // U+FFFD each
  EXPECT_FALSE(parsed.contains("forged"));
  EXPECT_EQ(parsed.size(), 14u);
}

}  // namespace
}  // namespace mcpgw::policy
