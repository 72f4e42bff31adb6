// The value parsers and helpers behind the config loader: durations, addresses, URLs, names,
// edit distance, ${VAR} expansion and the TOML nesting guard.
#include <string>

#include <gtest/gtest.h>

#include "config_test_support.hpp"
#include "gateway/config/env_expand.hpp"
#include "gateway/config/toml_guard.hpp"
#include "gateway/config/values.hpp"

namespace mcpgw::config {
namespace {

using test_support::env_from;

TEST(ConfigDuration, ParsesUnitsAndSums) {
  EXPECT_EQ(*parse_duration("250ms"), 250);
  EXPECT_EQ(*parse_duration("10s"), 10'000);
  EXPECT_EQ(*parse_duration("1m"), 60'000);
  EXPECT_EQ(*parse_duration("1h"), 3'600'000);
  EXPECT_EQ(*parse_duration("1m30s"), 90'000);
  EXPECT_EQ(*parse_duration("1h1m1s1ms"), 3'661'001);
  EXPECT_EQ(*parse_duration("0s"), 0);
}

TEST(ConfigDuration, RejectsMalformed) {
  for (const char* bad :
       {"", "10", "s", "-1s", "1.5s", "10 s", "10sec", "1d", " 1s", "1s ", "ms", "1m30", "+1s"}) {
    const auto parsed = parse_duration(bad);
    EXPECT_FALSE(parsed) << bad;
  }
  EXPECT_NE(parse_duration("10").error().find("missing unit"), std::string::npos);
  EXPECT_NE(parse_duration("-1s").error().find("negative"), std::string::npos);
  EXPECT_NE(parse_duration("1d").error().find("unknown unit 'd'"), std::string::npos);
}

TEST(ConfigDuration, RejectsOverflow) {
  EXPECT_FALSE(parse_duration("99999999999999999999999s"));
  EXPECT_FALSE(parse_duration("2401h"));
  EXPECT_TRUE(parse_duration("2400h"));
  EXPECT_FALSE(parse_duration("2400h1ms"));
}

TEST(ConfigListen, ParsesHostPortForms) {
  auto v4 = parse_listen("127.0.0.1:8080");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = parse_listen("[::1]:0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  auto name = parse_listen("localhost:65535");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "localhost");
  EXPECT_EQ(name->port, 65535);
  EXPECT_TRUE(parse_listen("0.0.0.0:443"));
  EXPECT_TRUE(parse_listen("[::]:8443"));
}

TEST(ConfigListen, RejectsBadAddresses) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", ":8080",
                          "::1:8080", "[::1]", "[::1:8080", "[zz]:80", "300.1.1.1:80",
                          "host name:80", "127.0.0.1:80x", "-bad.example:80", "[::1]x80"}) {
    EXPECT_FALSE(parse_listen(bad)) << bad;
  }
  EXPECT_NE(parse_listen("::1:8080").error().find("brackets"), std::string::npos);
  EXPECT_NE(parse_listen("127.0.0.1").error().find("missing port"), std::string::npos);
}

TEST(ConfigUrl, ParsesHttpAndHttps) {
  auto url = parse_http_url("https://api.example.com:8443/mcp?x=1", false);
  ASSERT_TRUE(url);
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "api.example.com");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->target, "/mcp?x=1");
  auto plain = parse_http_url("HTTP://127.0.0.1", false);
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->scheme, "http");
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->target, "/");
  auto v6 = parse_http_url("http://[::1]:3001/mcp", false);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 3001);
}

TEST(ConfigUrl, RejectsBadUrls) {
  for (const char* bad :
       {"", "example.com/mcp", "ftp://example.com", "http://", "http:///mcp", "http://a b/",
        "http://user:pw@example.com/", "http://example.com:0/", "http://example.com:99999/",
        "http://example.com/#frag", "http://[::1/", "ws://example.com"}) {
    EXPECT_FALSE(parse_http_url(bad, false)) << bad;
  }
  EXPECT_FALSE(parse_http_url("http://idp.example.com/jwks", true));
  EXPECT_TRUE(parse_http_url("https://idp.example.com/jwks", true));
  EXPECT_NE(parse_http_url("ftp://x", false).error().find("unsupported scheme 'ftp'"),
            std::string::npos);
}

TEST(ConfigNames, BackendNames) {
  EXPECT_TRUE(is_valid_backend_name("github"));
  EXPECT_TRUE(is_valid_backend_name("a"));
  EXPECT_TRUE(is_valid_backend_name("My-Server_2"));
  EXPECT_TRUE(is_valid_backend_name(std::string(32, 'x')));
  EXPECT_FALSE(is_valid_backend_name(std::string(33, 'x')));
  EXPECT_FALSE(is_valid_backend_name(""));
  EXPECT_FALSE(is_valid_backend_name("_hidden"));
  EXPECT_FALSE(is_valid_backend_name("-x"));
  EXPECT_FALSE(is_valid_backend_name("a.b"));
  EXPECT_FALSE(is_valid_backend_name("a b"));
  EXPECT_FALSE(is_valid_backend_name("ü"));
}

TEST(ConfigNames, SeparatorsHeadersHashes) {
  EXPECT_TRUE(is_valid_separator("__"));
  EXPECT_TRUE(is_valid_separator("-"));
  EXPECT_FALSE(is_valid_separator(""));
  EXPECT_FALSE(is_valid_separator("."));
  EXPECT_FALSE(is_valid_separator(std::string(33, '_')));
  EXPECT_TRUE(is_valid_header_name("X-API-Key"));
  EXPECT_FALSE(is_valid_header_name("X API"));
  EXPECT_FALSE(is_valid_header_name("X:Y"));
  EXPECT_TRUE(is_transport_managed_header("Mcp-Session-Id"));
  EXPECT_TRUE(is_transport_managed_header("HOST"));
  EXPECT_TRUE(is_transport_managed_header("te"));
  EXPECT_FALSE(is_transport_managed_header("X-API-Key"));
  EXPECT_FALSE(is_transport_managed_header("Authorization"));  // allowed, for the backend's own
  EXPECT_TRUE(is_valid_header_value("Bearer abc"));
  EXPECT_FALSE(is_valid_header_value("a\r\nInjected: 1"));
  EXPECT_TRUE(is_valid_sha256_hex(std::string(64, 'a')));
  EXPECT_FALSE(is_valid_sha256_hex(std::string(64, 'A')));
  EXPECT_FALSE(is_valid_sha256_hex(std::string(63, 'a')));
  EXPECT_FALSE(is_valid_sha256_hex(std::string(64, 'g')));
  EXPECT_TRUE(is_valid_origin("https://app.example.com"));
  EXPECT_TRUE(is_valid_origin("http://localhost:3000"));
  EXPECT_TRUE(is_valid_origin("*"));
  EXPECT_FALSE(is_valid_origin("https://app.example.com/path"));
  EXPECT_FALSE(is_valid_origin("app.example.com"));
  EXPECT_TRUE(is_valid_host_pattern("localhost"));
  EXPECT_TRUE(is_valid_host_pattern("127.0.0.1:8080"));
  EXPECT_TRUE(is_valid_host_pattern("[::1]:8080"));
  EXPECT_FALSE(is_valid_host_pattern("local host"));
}

TEST(ConfigEditDistance, DamerauLevenshtein) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("alow", "allow"), 1u);
  EXPECT_EQ(edit_distance("lisetn", "listen"), 1u);  // transposition counts once
  EXPECT_EQ(edit_distance("Listen", "listen"), 0u);  // case-insensitive
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ConfigEditDistance, ClosestMatch) {
  constexpr std::string_view keys[] = {"name", "command", "url", "headers", "timeout"};
  EXPECT_EQ(closest_match("comand", keys), "command");
  EXPECT_EQ(closest_match("header", keys), "headers");
  EXPECT_EQ(closest_match("timeotu", keys), "timeout");
  EXPECT_FALSE(closest_match("zzzzzz", keys));
  EXPECT_FALSE(closest_match("x", keys));  // too short to be a plausible typo of anything
  EXPECT_FALSE(closest_match(std::string(1000, 'n'), keys));
}

TEST(ConfigPrintable, EscapesAndTruncates) {
  EXPECT_EQ(printable("plain"), "plain");
  EXPECT_EQ(printable("a\nb\tc\rd"), "a\\nb\\tc\\rd");
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("\x7f"), "\\x7f");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\xc3\xa9");              // valid UTF-8 stays
  EXPECT_EQ(printable("bad\xc3"), "bad\\xc3");                     // truncated sequence
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");         // surrogate
  EXPECT_EQ(printable("\xf0\x9f\x98\x80!"), "\xf0\x9f\x98\x80!");  // 4-byte code point
  EXPECT_EQ(printable(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
  EXPECT_EQ(printable("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\xc3\xa9...");
}

TEST(ConfigEnv, ExpandsVariablesAndDefaults) {
  const auto env = env_from({{"HOME", "/home/a"}, {"EMPTY", ""}});
  EXPECT_EQ(expand_env("${HOME}/x", env).value, "/home/a/x");
  EXPECT_EQ(expand_env("${MISSING:-fallback}", env).value, "fallback");
  EXPECT_EQ(expand_env("${EMPTY:-fallback}", env).value, "fallback");
  EXPECT_EQ(expand_env("${HOME:-fallback}", env).value, "/home/a");
  EXPECT_EQ(expand_env("${MISSING:-}", env).value, "");
  EXPECT_EQ(expand_env("a${HOME}b${HOME}c", env).value, "a/home/ab/home/ac");
  EXPECT_TRUE(expand_env("${MISSING:-x}", env).issues.empty());
}

TEST(ConfigEnv, DollarEscapesAndLiterals) {
  const auto env = env_from({{"X", "1"}});
  EXPECT_EQ(expand_env("$$", env).value, "$");
  EXPECT_EQ(expand_env("$${X}", env).value, "${X}");
  EXPECT_EQ(expand_env("pa$word", env).value, "pa$word");
  EXPECT_EQ(expand_env("$X", env).value, "$X");
  EXPECT_EQ(expand_env("cost: 5$", env).value, "cost: 5$");
  EXPECT_EQ(expand_env("$$$${X}", env).value, "$${X}");
  EXPECT_EQ(expand_env("$$${X}", env).value, "$1");
}

TEST(ConfigEnv, UndefinedIsAnIssueAndExpandsEmpty) {
  const auto result = expand_env("a${NOPE}b", env_from({}));
  EXPECT_EQ(result.value, "ab");
  ASSERT_EQ(result.issues.size(), 1u);
  EXPECT_EQ(result.issues[0].kind, EnvIssue::Kind::undefined);
  EXPECT_EQ(result.issues[0].name, "NOPE");
  EXPECT_EQ(result.issues[0].offset, 1u);
}

TEST(ConfigEnv, MalformedReferences) {
  const auto env = env_from({{"X", "1"}});
  for (const char* bad :
       {"${", "${X", "${}", "${1X}", "${X-d}", "${X:d}", "${X:-d", "${ X}", "${X Y}"}) {
    const auto result = expand_env(bad, env);
    ASSERT_EQ(result.issues.size(), 1u) << bad;
    EXPECT_EQ(result.issues[0].kind, EnvIssue::Kind::malformed) << bad;
    EXPECT_EQ(result.issues[0].offset, 0u) << bad;
  }
  // The rest of the value still expands after a malformed reference.
  const auto result = expand_env("${ ${X}", env);
  EXPECT_EQ(result.value, "${ 1");
  EXPECT_EQ(result.issues.size(), 1u);
}

TEST(ConfigNestingGuard, AcceptsOrdinaryDocuments) {
  EXPECT_FALSE(find_excessive_nesting("a = 1\n[b.c]\nd.e = [1, [2, {f = 3}]]\n"));
  EXPECT_FALSE(find_excessive_nesting("s = \"[[[[{{{{a.b.c\"\nt = '''\n[[[[\n'''\n"));
  EXPECT_FALSE(find_excessive_nesting("# [[[[[[[[[[ a.b.c.d.e.f\nx = 1.5e3\n"));
  EXPECT_FALSE(find_excessive_nesting("\"a.b.c.d\" = 1\n['x.y.z'] \n"));
}

TEST(ConfigNestingGuard, RejectsDeepDottedKeys) {
  std::string key = "a";
  for (int i = 0; i < 100'000; ++i) {
    key += ".a";
  }
  const auto dotted = find_excessive_nesting(key + " = 1\n");
  ASSERT_TRUE(dotted);
  EXPECT_EQ(dotted->line, 1u);
  EXPECT_EQ(dotted->column, 2u * kMaxTomlNesting);
  EXPECT_TRUE(find_excessive_nesting("x = 1\n[" + key + "]\n"));
  EXPECT_TRUE(find_excessive_nesting("x = { " + key + " = 1 }\n"));
}

TEST(ConfigNestingGuard, CountsBracketsAndKeysTogether) {
  std::string nested = "x = ";
  for (std::size_t i = 0; i < 40; ++i) {
    nested += "{a.b = ";
  }
  nested += "1";
  for (std::size_t i = 0; i < 40; ++i) {
    nested += "}";
  }
  EXPECT_TRUE(find_excessive_nesting(nested + "\n"));
  std::string arrays = "x = " + std::string(200, '[') + std::string(200, ']') + "\n";
  EXPECT_TRUE(find_excessive_nesting(arrays));
  std::string fine = "x = " + std::string(30, '[') + std::string(30, ']') + "\n";
  EXPECT_FALSE(find_excessive_nesting(fine));
}

}  // namespace
}  // namespace mcpgw::config
