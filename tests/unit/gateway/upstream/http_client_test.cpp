// The HTTP client under the HTTP transports: URLs, the keep-alive pool, exchanges and the SSE
// reader.
#include "tests/unit/gateway/upstream/http_test_server.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/upstream/http_client.hpp"

namespace mcpgw::upstream::http {
namespace {

using namespace std::chrono_literals;

Url must_parse(const std::string& text) {
  auto url = parse_url(text);
  EXPECT_TRUE(url) << text << ": " << (url ? "" : url.error());
  return url ? *url : Url{};
}

TEST(HttpUrl, ParsesSchemesHostsPortsAndTargets) {
  auto url = must_parse("http://Example.COM/mcp?x=1#fragment");
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.host, "example.com");
  EXPECT_EQ(url.port, 80);
  EXPECT_EQ(url.target, "/mcp?x=1");
  EXPECT_EQ(url.authority(), "example.com");

  url = must_parse("HTTPS://[::1]:8443");
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.target, "/");
  EXPECT_EQ(url.authority(), "[::1]:8443");
  EXPECT_EQ(url.origin(), "https://[::1]:8443");

  url = must_parse("https://host:443/p");
  EXPECT_EQ(url.authority(), "host");
  EXPECT_EQ(url.to_string(), "https://host/p");
  EXPECT_EQ(must_parse("http://host:/p").port, 80);
  EXPECT_EQ(must_parse("http://host?q=1").target, "/?q=1");
  EXPECT_EQ(must_parse("http://127.0.0.1:9/").port, 9);
}

TEST(HttpUrl, RefusesWhatItCannotUse) {
  for (const std::string text :
       {"ftp://host/", "http://", "http:///path", "http://user:secret@host/", "http://host:0/",
        "http://host:65536/", "http://host:12a/", "http://[::1/", "http://[zz]/", "http://[::1]x/",
        "http://ho st/", "/relative", "http://host\r\n/", "http://host:1:2/", "http://ho<st/"}) {
    EXPECT_FALSE(parse_url(text)) << text;
  }
  const auto error = parse_url("http://user:secret@host/");
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().find("secret"), std::string::npos);
}

TEST(HttpUrl, ResolvesReferencesAgainstTheBase) {
  const auto base = must_parse("http://host:8080/a/b/sse?x=1");
  const auto target = [&](const std::string& reference) {
    auto url = resolve_reference(base, reference);
    EXPECT_TRUE(url) << reference;
    return url ? url->target : std::string("<error>");
  };
  EXPECT_EQ(target("/message?sessionId=abc"), "/message?sessionId=abc");
  EXPECT_EQ(target("message?s=1"), "/a/b/message?s=1");
  EXPECT_EQ(target("../m"), "/a/m");
  EXPECT_EQ(target("../../../m"), "/m");
  EXPECT_EQ(target("./"), "/a/b/");
  EXPECT_EQ(target("?q=2"), "/a/b/sse?q=2");
  EXPECT_EQ(target(""), "/a/b/sse?x=1");
  EXPECT_EQ(target(" /m \r\n"), "/m");
  EXPECT_EQ(target("/m#part"), "/m");

  auto other = resolve_reference(base, "http://other:1/x");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->same_origin(base));
  auto authority = resolve_reference(base, "//host:8080/y");
  ASSERT_TRUE(authority);
  EXPECT_TRUE(authority->same_origin(base));
  EXPECT_EQ(authority->target, "/y");
  auto absolute = resolve_reference(base, "HTTP://HOST:8080/./z/../w?k");
  ASSERT_TRUE(absolute);
  EXPECT_TRUE(absolute->same_origin(base));
  EXPECT_EQ(absolute->target, "/w?k");
  EXPECT_FALSE(resolve_reference(base, "https://host:8080/")->same_origin(base));
  EXPECT_FALSE(resolve_reference(base, "/a b"));
  EXPECT_FALSE(resolve_reference(base, "javascript:alert(1)"));
}

TEST(HttpUrl, MediaTypeIsTheLowerCaseEssence) {
  EXPECT_EQ(media_type("Text/Event-Stream; charset=utf-8"), "text/event-stream");
  EXPECT_EQ(media_type(" application/json "), "application/json");
  EXPECT_EQ(media_type(""), "");
}

class HttpPoolTest : public ::testing::Test {
 protected:
  Exchange::Request get(const Url& url) {
    Exchange::Request request{bhttp::verb::get, url.target, 11};
    request.set(bhttp::field::host, url.authority());
    return request;
  }
  template <class Body>
  bool run_coroutine(Body body) {
    bool finished = false;
    net::co_spawn(
        context_,
        [&finished, body]() mutable -> net::awaitable<void> {
          co_await body();
          finished = true;
        },
        net::detached);
    return test::run_until(context_, [&] { return finished; });
  }

  net::io_context context_;
};

TEST_F(HttpPoolTest, SseBodyIsReadEventByEventAndItsConnectionReused) {
  test::TestHttpServer server(context_, [](test::Reply& reply) -> net::awaitable<void> {
    if (reply.request.target == "/events") {
      co_await reply.start_sse();
      co_await reply.chunk("id: 1\ndata: one\n\n: comment\n\ndata: t");
      co_await reply.chunk("wo\n\n");
      co_await reply.end();
      co_return;
    }
    co_await reply.send(200, "text/plain", "plain body");
  });
  const auto url = must_parse(server.url("/events"));
  auto pool = std::make_shared<ConnectionPool>(context_, url, PoolOptions{});
  CancelGroup group;
  std::vector<std::string> events;
  std::size_t idle_after_stream = 99;
  std::string second_body;
  ASSERT_TRUE(run_coroutine([&]() -> net::awaitable<void> {
    auto started = co_await Exchange::start(pool, group, get(url), {});
    EXPECT_TRUE(started);
    if (!started)
      co_return;
    EXPECT_EQ((*started)->media_type(), "text/event-stream");
    mcp::SseParser parser;
    auto result = co_await read_sse(
        **started, parser,
        [&](mcp::SseEvent&& event) {
          events.push_back(event.data);
          return true;
        },
        [](const mcp::SseError&) { return false; });
    EXPECT_FALSE(result.error);
    EXPECT_FALSE(result.stopped);
    started->reset();
    idle_after_stream = pool->idle_count();

    auto plain = must_parse(server.url("/plain"));
    auto again = co_await Exchange::start(pool, group, get(plain), {});
    EXPECT_TRUE(again);
    if (!again)
      co_return;
    auto body = co_await (*again)->read_all(1024);
    second_body = body ? *body : "";
  }));
  EXPECT_EQ(events, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(idle_after_stream, 1u);
  EXPECT_EQ(second_body, "plain body");
  EXPECT_EQ(server.connections(), 1u);
  EXPECT_EQ(pool->connections_opened(), 1u);
}

TEST_F(HttpPoolTest, IdleConnectionsAreBoundedAndClosedAtShutdown) {
  test::Gate gate(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    co_await gate.wait();
    co_await reply.send(200, "text/plain", "ok");
  });
  const auto url = must_parse(server.url("/"));
  PoolOptions options;
  options.max_idle = 2;
  auto pool = std::make_shared<ConnectionPool>(context_, url, options);
  CancelGroup group;
  int finished = 0;
  for (int i = 0; i < 4; ++i) {
    net::co_spawn(
        context_,
        [&]() -> net::awaitable<void> {
          auto started = co_await Exchange::start(pool, group, get(url), {});
          if (started)
            co_await (*started)->read_all(64);
          ++finished;
        },
        net::detached);
  }
  ASSERT_TRUE(test::run_until(context_, [&] { return server.requests().size() == 4; }));
  gate.open();
  ASSERT_TRUE(test::run_until(context_, [&] { return finished == 4; }));
  EXPECT_EQ(pool->idle_count(), 2u);
  pool->shutdown();
  EXPECT_EQ(pool->idle_count(), 0u);
}

TEST_F(HttpPoolTest, CancellingTheGroupEndsAPendingExchange) {
  test::Gate never(context_);
  test::TestHttpServer server(context_, [&](test::Reply& reply) -> net::awaitable<void> {
    co_await never.wait();
    co_await reply.send(200, "text/plain", "late");
  });
  const auto url = must_parse(server.url("/"));
  auto pool = std::make_shared<ConnectionPool>(context_, url, PoolOptions{});
  CancelGroup group;
  std::optional<HttpError> error;
  bool finished = false;
  net::co_spawn(
      context_,
      [&]() -> net::awaitable<void> {
        auto started = co_await Exchange::start(pool, group, get(url), {});
        if (!started)
          error = started.error();
        finished = true;
      },
      net::detached);
  ASSERT_TRUE(test::run_until(context_, [&] { return server.requests().size() == 1; }));
  group.cancel_all();
  ASSERT_TRUE(test::run_until(context_, [&] { return finished; }));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, HttpError::Kind::cancelled);
  EXPECT_EQ(pool->idle_count(), 0u);
}

TEST_F(HttpPoolTest, TlsHandshakeThatNeverAnswersHitsTheConnectTimeout) {
  // A listening socket that nobody accepts from: TCP connects, the TLS handshake hangs.
  net::ip::tcp::acceptor silent(context_, {net::ip::make_address("127.0.0.1"), 0});
  const auto url =
      must_parse("https://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/");
  PoolOptions options;
  options.connect_timeout = 200ms;
  options.tls_verify = false;
  auto pool = std::make_shared<ConnectionPool>(context_, url, options);
  CancelGroup group;
  std::optional<HttpError> error;
  ASSERT_TRUE(run_coroutine([&]() -> net::awaitable<void> {
    auto connected = co_await pool->connect(group);
    if (!connected)
      error = connected.error();
  }));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, HttpError::Kind::timeout);
}

TEST(HttpCancelGroup, ActionsRunOnceAndLateAdditionsRunAtOnce) {
  CancelGroup group;
  int first = 0;
  int removed = 0;
  auto registration = group.add([&] { ++first; });
  {
    auto temporary = group.add([&] { ++removed; });
  }
  group.cancel_all();
  group.cancel_all();
  EXPECT_EQ(first, 1);
  EXPECT_EQ(removed, 0);
  int late = 0;
  auto after = group.add([&] { ++late; });
  EXPECT_EQ(late, 1);
  EXPECT_TRUE(group.cancelled());
}

}  // namespace
}  // namespace mcpgw::upstream::http
