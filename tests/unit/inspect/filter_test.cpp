// Filters, globs and --since/--until times.
#include <gtest/gtest.h>

#include "inspect/filter.hpp"

namespace mcpgw::inspect {
namespace {

TEST(Glob, MatchesStarsAndLiterals) {
  EXPECT_TRUE(glob_match("tools/call", "tools/call"));
  EXPECT_FALSE(glob_match("tools/call", "tools/calls"));
  EXPECT_TRUE(glob_match("tools/*", "tools/list"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("*/list", "resources/templates/list"));
  EXPECT_TRUE(glob_match("notifications/*/list_changed", "notifications/tools/list_changed"));
  EXPECT_FALSE(glob_match("notifications/*/list_changed", "notifications/progress"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(glob_match("**", "anything"));
  EXPECT_FALSE(glob_match("", "x"));
  // Backtracking stays linear in practice on a long hostile text.
  EXPECT_FALSE(glob_match("*a*a*a*a*a*b", std::string(20'000, 'a')));
}

Exchange call(std::string tool, Status status, std::int64_t start) {
  Exchange exchange;
  exchange.method = "tools/call";
  exchange.target = std::move(tool);
  exchange.status = status;
  exchange.started_us = start;
  exchange.session = "3f2a1c9e-aaaa";
  exchange.scope = "session:3f2a1c9e-aaaa";
  exchange.backend = "files";
  return exchange;
}

TEST(Filter, EveryGivenFilterMustMatch) {
  const Exchange ok = call("read_file", Status::ok, 1'000);
  const Exchange failed = call("write_file", Status::error, 2'000);
  Exchange tool_error = call("read_file", Status::ok, 3'000);
  tool_error.tool_error = true;
  Exchange list;
  list.method = "tools/list";
  list.session = "other";
  list.status = Status::ok;

  EXPECT_TRUE(Filter({}).empty());
  EXPECT_TRUE(Filter({}).matches(list));

  FilterOptions methods;
  methods.methods = {"tools/*"};
  EXPECT_TRUE(Filter(methods).matches(list));
  methods.methods = {"tools/call"};
  EXPECT_FALSE(Filter(methods).matches(list));

  FilterOptions tools;
  tools.tools = {"read_*"};
  EXPECT_TRUE(Filter(tools).matches(ok));
  EXPECT_FALSE(Filter(tools).matches(failed));
  EXPECT_FALSE(Filter(tools).matches(list)) << "not a tool call";

  FilterOptions errors;
  errors.errors_only = true;
  EXPECT_FALSE(Filter(errors).matches(ok));
  EXPECT_TRUE(Filter(errors).matches(failed));
  EXPECT_TRUE(Filter(errors).matches(tool_error));

  FilterOptions sessions;
  sessions.sessions = {"3f2a1c9e"};  // the short form the timeline prints
  EXPECT_TRUE(Filter(sessions).matches(ok));
  EXPECT_FALSE(Filter(sessions).matches(list));
  sessions.sessions = {"*aaaa"};
  EXPECT_TRUE(Filter(sessions).matches(ok));

  FilterOptions backends;
  backends.backends = {"files"};
  EXPECT_TRUE(Filter(backends).matches(ok));
  EXPECT_FALSE(Filter(backends).matches(list));

  FilterOptions window;
  window.since_us = 1'500;
  window.until_us = 2'500;
  EXPECT_FALSE(Filter(window).matches(ok));
  EXPECT_TRUE(Filter(window).matches(failed));
  EXPECT_FALSE(Filter(window).matches(tool_error));
  EXPECT_FALSE(Filter(window).matches(list)) << "no timestamp: outside any window";

  FilterOptions both;
  both.tools = {"read_file"};
  both.errors_only = true;
  EXPECT_FALSE(Filter(both).matches(ok));
  EXPECT_TRUE(Filter(both).matches(tool_error));
}

TEST(TimeParsing, Rfc3339AndEpochMicroseconds) {
  EXPECT_EQ(parse_time_us("0"), 0);
  EXPECT_EQ(parse_time_us("1763784662123456"), 1763784662123456);
  EXPECT_EQ(parse_time_us("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_time_us("2025-11-22T04:11:02Z"), 1763784662LL * 1'000'000);
  EXPECT_EQ(parse_time_us("2025-11-22T04:11:02.5Z"), 1763784662LL * 1'000'000 + 500'000);
  EXPECT_EQ(parse_time_us("2025-11-22t04:11:02.123456789z"), 1763784662LL * 1'000'000 + 123'456);
  EXPECT_EQ(parse_time_us("2025-11-22T05:11:02+01:00"), 1763784662LL * 1'000'000);
  EXPECT_EQ(parse_time_us("2025-11-22 03:41:02-00:30"), 1763784662LL * 1'000'000);
  EXPECT_EQ(parse_time_us("2024-02-29T00:00:00Z"), 1709164800LL * 1'000'000);
  EXPECT_EQ(parse_time_us("1969-12-31T23:59:59Z"), -1'000'000);

  EXPECT_FALSE(parse_time_us(""));
  EXPECT_FALSE(parse_time_us("yesterday"));
  EXPECT_FALSE(parse_time_us("2025-11-22"));
  EXPECT_FALSE(parse_time_us("2025-11-22T04:11:02"));  // no offset
  EXPECT_FALSE(parse_time_us("2025-02-29T00:00:00Z"));
  EXPECT_FALSE(parse_time_us("2025-13-01T00:00:00Z"));
  EXPECT_FALSE(parse_time_us("2025-11-22T24:00:00Z"));
  EXPECT_FALSE(parse_time_us("2025-11-22T04:11:02.Z"));
  EXPECT_FALSE(parse_time_us("2025-11-22T04:11:02Zjunk"));
  EXPECT_FALSE(parse_time_us("99999999999999999999999"));
  EXPECT_FALSE(parse_time_us("-5"));
}

}  // namespace
}  // namespace mcpgw::inspect
