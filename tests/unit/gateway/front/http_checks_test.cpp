#include "gateway/front/http_checks.hpp"

#include <set>

#include <gtest/gtest.h>

#include "gateway/front/http_front.hpp"

namespace mcpgw::front::http {
namespace {

TEST(HttpChecks, AcceptHeader) {
  auto accepted = parse_accept("application/json, text/event-stream");
  EXPECT_TRUE(accepted.json && accepted.event_stream);
  accepted = parse_accept("text/event-stream;q=0.9,Application/JSON");
  EXPECT_TRUE(accepted.json && accepted.event_stream);
  accepted = parse_accept("*/*");
  EXPECT_TRUE(accepted.json && accepted.event_stream);
  accepted = parse_accept("application/*, text/*");
  EXPECT_TRUE(accepted.json && accepted.event_stream);
  accepted = parse_accept("application/json");
  EXPECT_TRUE(accepted.json);
  EXPECT_FALSE(accepted.event_stream);
  accepted = parse_accept("application/json, text/event-stream; q=0.0");
  EXPECT_FALSE(accepted.event_stream);
  accepted = parse_accept("");
  EXPECT_FALSE(accepted.json || accepted.event_stream);
  accepted = parse_accept("application/jsonx, text/event-streams");
  EXPECT_FALSE(accepted.json || accepted.event_stream);
}

TEST(HttpChecks, ContentType) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("application/json; charset=utf-8"));
  EXPECT_TRUE(is_json_content_type(" Application/Json ;charset=UTF-8"));
  EXPECT_FALSE(is_json_content_type(""));
  EXPECT_FALSE(is_json_content_type("text/json"));
  EXPECT_FALSE(is_json_content_type("application/json-seq"));
}

TEST(HttpChecks, HostParsing) {
  auto parsed = parse_host("LocalHost:8080");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->host, "localhost");
  EXPECT_EQ(parsed->port, 8080);
  parsed = parse_host("[::1]");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->host, "[::1]");
  EXPECT_FALSE(parsed->port);
  EXPECT_FALSE(parse_host(""));
  EXPECT_FALSE(parse_host("a b"));
  EXPECT_FALSE(parse_host("host:99999"));
  EXPECT_FALSE(parse_host("host:"));
  EXPECT_FALSE(parse_host("[nope]:1"));
  EXPECT_FALSE(parse_host("user@host"));
  EXPECT_TRUE(is_loopback_host("127.3.4.5"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("[0:0:0:0:0:0:0:1]"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_TRUE(is_wildcard_host("0.0.0.0"));
  EXPECT_TRUE(is_wildcard_host("::"));
  EXPECT_FALSE(is_wildcard_host("127.0.0.1"));
}

TEST(HttpChecks, DefaultHostsOfALoopbackListener) {
  const RequestGuard guard({}, {}, "127.0.0.1", 8080);
  for (const auto* host : {"localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:8080", "[::1]",
                           "[::1]:8080", "LOCALHOST:8080"}) {
    EXPECT_TRUE(guard.host_allowed(host)) << host;
  }
  for (const auto* host : {"localhost:8081", "evil.example.com", "evil.example.com:8080",
                           "192.168.1.2:8080", "", "localhost.evil.com"}) {
    EXPECT_FALSE(guard.host_allowed(host)) << host;
  }
  const RequestGuard ipv6({}, {}, "::1", 9000);
  EXPECT_TRUE(ipv6.host_allowed("[::1]:9000"));
  EXPECT_TRUE(ipv6.host_allowed("localhost:9000"));
  EXPECT_FALSE(ipv6.host_allowed("[::1]:9001"));
}

TEST(HttpChecks, DefaultHostsOfOtherListeners) {
  const RequestGuard wildcard({}, {}, "0.0.0.0", 8080);
  EXPECT_TRUE(wildcard.host_allowed("localhost:8080"));
  EXPECT_FALSE(wildcard.host_allowed("0.0.0.0:8080"));
  EXPECT_FALSE(wildcard.host_allowed("mcp.example.com:8080"));
  const RequestGuard lan({}, {}, "192.168.1.2", 8080);
  EXPECT_TRUE(lan.host_allowed("192.168.1.2:8080"));
  EXPECT_TRUE(lan.host_allowed("192.168.1.2"));
  EXPECT_FALSE(lan.host_allowed("localhost:8080"));
  EXPECT_FALSE(lan.host_allowed("192.168.1.2:80"));
}

TEST(HttpChecks, ConfiguredHosts) {
  const RequestGuard guard({"mcp.example.com", "other.example.com:443"}, {}, "0.0.0.0", 8080);
  EXPECT_TRUE(guard.host_allowed("mcp.example.com"));
  EXPECT_TRUE(guard.host_allowed("mcp.example.com:1234"));
  EXPECT_TRUE(guard.host_allowed("other.example.com:443"));
  EXPECT_FALSE(guard.host_allowed("other.example.com"));
  EXPECT_FALSE(guard.host_allowed("other.example.com:444"));
  EXPECT_FALSE(guard.host_allowed("localhost:8080"));
  const RequestGuard any({"*"}, {}, "127.0.0.1", 1);
  EXPECT_TRUE(any.host_allowed("whatever.example"));
}

TEST(HttpChecks, Origins) {
  const RequestGuard defaults({}, {}, "127.0.0.1", 8080);
  for (const auto* origin : {"http://localhost", "http://localhost:3000", "https://127.0.0.1:9",
                             "http://[::1]:8080", "HTTP://LOCALHOST"}) {
    EXPECT_TRUE(defaults.origin_allowed(origin)) << origin;
  }
  for (const auto* origin : {"http://evil.example.com", "null", "file://", "ftp://localhost",
                             "http://localhost.evil.com", "http://user@localhost", ""}) {
    EXPECT_FALSE(defaults.origin_allowed(origin)) << origin;
  }
  const RequestGuard configured({}, {"https://app.example.com", "http://localhost:3000"},
                                "127.0.0.1", 8080);
  EXPECT_TRUE(configured.origin_allowed("https://app.example.com"));
  EXPECT_TRUE(configured.origin_allowed("https://app.example.com:443"));
  EXPECT_TRUE(configured.origin_allowed("http://localhost:3000"));
  EXPECT_FALSE(configured.origin_allowed("http://app.example.com"));
  EXPECT_FALSE(configured.origin_allowed("http://localhost:3001"));
  EXPECT_FALSE(configured.origin_allowed("http://localhost"));
  const RequestGuard any({}, {"*"}, "127.0.0.1", 8080);
  EXPECT_TRUE(any.origin_allowed("null"));
}

TEST(HttpChecks, EventIds) {
  EXPECT_EQ(event_id(3, 17), "3-17");
  const auto parsed = parse_event_id("3-17");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first, 3u);
  EXPECT_EQ(parsed->second, 17u);
  for (const auto* bad :
       {"", "3", "-1", "3-", "a-1", "1-b", "1-2-3", "1 -2", "+1-2", "99999999999999999999999-1"}) {
    EXPECT_FALSE(parse_event_id(bad)) << bad;
  }
}

TEST(HttpChecks, SessionIdsAre128RandomBits) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    const auto id = new_session_id();
    ASSERT_TRUE(id);
    ASSERT_EQ(id->size(), 32u);
    EXPECT_EQ(id->find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(*id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(HttpChecks, QueryParameters) {
  EXPECT_EQ(target_path("/message?sessionId=abc"), "/message");
  EXPECT_EQ(query_parameter("/message?sessionId=abc", "sessionId"), "abc");
  EXPECT_EQ(query_parameter("/m?a=1&sessionId=a%2Fb&c", "sessionId"), "a/b");
  EXPECT_EQ(query_parameter("/m?sessionId=", "sessionId"), "");
  EXPECT_FALSE(query_parameter("/m?sessionId=%zz", "sessionId"));
  EXPECT_FALSE(query_parameter("/m?sessionId=%2", "sessionId"));
  EXPECT_FALSE(query_parameter("/m?other=1", "sessionId"));
  EXPECT_FALSE(query_parameter("/m", "sessionId"));
}

TEST(HttpChecks, QueryTokens) {
  EXPECT_FALSE(query_has_token("/mcp"));
  EXPECT_FALSE(query_has_token("/mcp?"));
  EXPECT_FALSE(query_has_token("/message?sessionId=0123456789abcdef0123456789abcdef"));
  EXPECT_FALSE(query_has_token("/mcp?tokens=3&my_token=x&key=y"));
  EXPECT_FALSE(query_has_token("/mcp?v=eyJ.only-one-dot"));
  EXPECT_FALSE(query_has_token("/mcp#access_token=x"));  // a fragment is no query
  EXPECT_TRUE(query_has_token("/mcp?access_token=x"));
  EXPECT_TRUE(query_has_token("/mcp?a=1&Access_Token="));
  EXPECT_TRUE(query_has_token("/mcp?access_token"));
  EXPECT_TRUE(query_has_token("/mcp?token=x"));
  EXPECT_TRUE(query_has_token("/mcp?id_token=x"));
  EXPECT_TRUE(query_has_token("/mcp?API_KEY=x"));
  EXPECT_TRUE(query_has_token("/mcp?a=1;access_token=x"));
  EXPECT_TRUE(query_has_token("/mcp?%61ccess%5ftoken=x"));
  EXPECT_TRUE(query_has_token("/mcp?x=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"));
  EXPECT_TRUE(query_has_token("/mcp?x=eyJhbGciOiJSUzI1NiJ9%2EeyJzdWIiOiJhIn0%2E"));
  EXPECT_FALSE(query_has_token("/mcp?x=eyJhbGci%zz.eyJzdWIiOiJhIn0.c2ln"));
}

TEST(HttpChecks, AcceptedVersions) {
  EXPECT_EQ(accepted_versions_text(), "2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25");
}

TEST(HttpFrontOptions, FromConfig) {
  config::Config config;
  config.server.host = "::1";
  config.server.port = 9000;
  config.server.path = "/gateway";
  config.server.sse_path = "";
  config.server.allowed_hosts = {"a.example"};
  config.server.allowed_origins = {"https://b.example"};
  config.server.max_body_bytes = 1234;
  config.server.max_sessions = 7;
  config.server.session_idle_timeout = std::chrono::milliseconds(5000);
  config.server.max_requests_per_session = 3;
  config.server.stream_replay_events = 9;
  config.server.max_header_bytes = 4096;
  config.server.max_connections = 11;
  config.server.max_sessions_per_principal = 5;
  config.server.header_timeout = std::chrono::milliseconds(1500);
  config.server.body_timeout = std::chrono::milliseconds(2500);
  config.server.idle_timeout = std::chrono::milliseconds(3500);
  config.server.write_timeout = std::chrono::milliseconds(4500);
  config::TlsListenerConfig tls;
  tls.cert_file = "/etc/mcpgw/cert.pem";
  tls.key_file = "/etc/mcpgw/key.pem";
  tls.client_ca_file = "/etc/mcpgw/clients.pem";
  tls.require_client_cert = true;
  tls.min_version = "1.3";
  config.server.tls = tls;
  config.auth.api_key_header = "X-Key";
  config::BackendConfig first;
  first.forward_headers = {"X-Tenant", "X-Trace"};
  config::BackendConfig second;
  second.forward_headers = {"x-tenant", "X-Region"};
  config.backends = {first, second};
  const auto options = http_front_options(config);
  EXPECT_EQ(options.host, "::1");
  EXPECT_EQ(options.port, 9000);
  EXPECT_EQ(options.path, "/gateway");
  EXPECT_EQ(options.sse_path, "");
  EXPECT_EQ(options.allowed_hosts, std::vector<std::string>{"a.example"});
  EXPECT_EQ(options.allowed_origins, std::vector<std::string>{"https://b.example"});
  EXPECT_EQ(options.max_body_bytes, 1234u);
  EXPECT_EQ(options.max_sessions, 7u);
  EXPECT_EQ(options.session_idle_timeout, std::chrono::milliseconds(5000));
  EXPECT_EQ(options.max_requests_per_session, 3u);
  EXPECT_EQ(options.stream_replay_events, 9u);
  EXPECT_EQ(options.max_header_bytes, 4096u);
  EXPECT_EQ(options.max_connections, 11u);
  EXPECT_EQ(options.max_sessions_per_principal, 5u);
  EXPECT_EQ(options.header_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(options.body_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(options.idle_timeout, std::chrono::milliseconds(3500));
  EXPECT_EQ(options.write_timeout, std::chrono::milliseconds(4500));
  ASSERT_TRUE(options.tls);
  EXPECT_EQ(options.tls->cert_file, "/etc/mcpgw/cert.pem");
  EXPECT_EQ(options.tls->key_file, "/etc/mcpgw/key.pem");
  EXPECT_EQ(options.tls->client_ca_file, "/etc/mcpgw/clients.pem");
  EXPECT_TRUE(options.tls->require_client_cert);
  EXPECT_EQ(options.tls->min_version, "1.3");
  EXPECT_EQ(options.api_key_header, "X-Key");
  EXPECT_EQ(options.authenticator, nullptr);  // serve sets its own
  EXPECT_EQ(options.forward_headers, (std::vector<std::string>{"x-tenant", "x-trace", "x-region"}));
}

}  // namespace
}  // namespace mcpgw::front::http
