#include "gateway/auth/url_key_source.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/upstream/http_client.hpp"

namespace mcpgw::auth {

namespace {

namespace http = upstream::http;
namespace net = boost::asio;
namespace bhttp = boost::beast::http;

constexpr std::chrono::seconds kMaxAgeCeiling{365 * 24 * 3600};
constexpr std::size_t kMaxLoggedValue = 64;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A server-chosen value for the log: printable ASCII only, bounded.
std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kMaxLoggedValue)) {
    const auto byte = static_cast<unsigned char>(c);
    out += byte >= 0x20 && byte < 0x7f ? c : '?';
  }
  if (text.size() > kMaxLoggedValue)
    out += "...";
  return out;
}

// JSON parse errors quote the bytes read last ("...; last read: '...'"); the log gets the
// reason without them, so no part of a response body ever reaches it.
std::string without_body_echo(std::string reason) {
  const auto echo = reason.find("; last read");
  if (echo != std::string::npos)
    reason.erase(echo);
  return reason;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty())
      out += ", ";
    out += printable(item);
  }
  return out;
}

struct Fetched {
  std::shared_ptr<const KeySet> keys;
  std::vector<std::string> skipped;  // parse_jwks notes
  std::optional<std::chrono::seconds> max_age;
};
using FetchOutcome = mcp::Expected<Fetched, std::string>;

}  // namespace

struct UrlKeySource::Core : std::enable_shared_from_this<Core> {
  enum class State { idle, running, stopped };

  Core(net::io_context& context_in, runtime::EventLoop& loop_in,
       const config::JwtSourceConfig& source, UrlKeySourceOptions options_in)
      : context(context_in),
        loop(loop_in),
        url_text(source.jwks_url),
        issuer(source.issuer),
        refresh_interval(std::max(source.jwks_refresh, std::chrono::milliseconds(1))),
        min_refresh(
            std::clamp(source.jwks_min_refresh, std::chrono::milliseconds(0), refresh_interval)),
        ca_file(source.jwks_ca_file),
        options(options_in) {
    auto parsed = http::parse_url(url_text);
    if (!parsed)
      url_error = "invalid URL: " + parsed.error();
    else if (!parsed->tls)
      url_error = "the URL must use https";
    else
      url = std::move(*parsed);
  }

  net::io_context& context;
  runtime::EventLoop& loop;
  const std::string url_text;
  const std::string issuer;
  const std::chrono::milliseconds refresh_interval;
  const std::chrono::milliseconds min_refresh;
  const std::string ca_file;
  const UrlKeySourceOptions options;
  std::optional<http::Url> url;
  std::string url_error;  // why url is empty

  State state = State::idle;
  std::uint64_t epoch = 0;                     // bumped by stop(): older fetches have no effect
  std::shared_ptr<http::ConnectionPool> pool;  // while running
  std::shared_ptr<http::CancelGroup> fetch;    // the fetch in progress
  std::shared_ptr<const KeySet> keys;
  std::vector<std::string> key_ids;  // of `keys`, to tell a rotation from the same set
  std::optional<runtime::Clock::time_point> last_fetch_started;
  std::uint32_t failures = 0;  // fetches failed in a row
  std::uint64_t fetch_count = 0;
  std::vector<std::function<void()>> waiters;  // refresh() callers of the fetch in progress
  runtime::TimerHandle next_fetch;

  void start() {
    if (state == State::running)
      return;
    state = State::running;
    if (!url) {
      spdlog::error("auth: jwks_url {} for issuer {}: {}; tokens of this issuer are refused (401)",
                    printable(url_text), issuer, url_error);
      return;
    }
    http::PoolOptions pool_options;
    pool_options.backend_name = "JWKS " + url_text;
    pool_options.connect_timeout = options.connect_timeout;
    pool_options.max_idle = 0;  // fetches are minutes apart: no connection is kept open
    pool_options.tls_verify = true;
    pool_options.ca_file = ca_file;
    pool = std::make_shared<http::ConnectionPool>(context, *url, std::move(pool_options));
    begin_fetch();
  }

  void stop() {
    if (state == State::stopped)
      return;
    state = State::stopped;
    ++epoch;
    next_fetch.reset();
    waiters.clear();
    if (auto group = std::move(fetch))
      group->cancel_all();
    if (auto closing = std::move(pool))
      closing->shutdown();
  }

  void refresh(std::function<void()> done) {
    if (state == State::stopped)
      return;  // nothing of a stopped source runs
    if (state == State::idle || !pool) {
      post(std::move(done));
      return;
    }
    if (fetch) {
      if (waiters.size() < options.max_waiting)
        waiters.push_back(std::move(done));
      else
        post(std::move(done));
      return;
    }
    if (last_fetch_started && loop.now() - *last_fetch_started < min_refresh) {
      spdlog::debug("auth: JWKS {}: refresh for an unknown kid skipped (last fetch within {} ms)",
                    url_text, min_refresh.count());
      post(std::move(done));
      return;
    }
    waiters.push_back(std::move(done));
    begin_fetch();
  }

  // Runs `task` on the loop unless the source is stopped or gone by then.
  void post(std::function<void()> task) {
    loop.post([weak = weak_from_this(), current = epoch, task = std::move(task)] {
      const auto self = weak.lock();
      if (self && self->epoch == current && self->state != State::stopped)
        task();
    });
  }

  void begin_fetch() {
    if (state != State::running || !pool || fetch)
      return;
    next_fetch.reset();  // this fetch replaces the scheduled one
    last_fetch_started = loop.now();
    ++fetch_count;
    fetch = std::make_shared<http::CancelGroup>();
    net::co_spawn(context, run_fetch(shared_from_this(), fetch, pool, epoch), net::detached);
  }

  static net::awaitable<void> run_fetch(std::shared_ptr<Core> self,
                                        std::shared_ptr<http::CancelGroup> group,
                                        std::shared_ptr<http::ConnectionPool> pool,
                                        std::uint64_t started_epoch) {
    auto outcome = co_await self->fetch_once(std::move(group), std::move(pool));
    if (self->epoch != started_epoch)
      co_return;  // stopped meanwhile
    self->finish(std::move(outcome));
  }

  net::awaitable<FetchOutcome> fetch_once(std::shared_ptr<http::CancelGroup> group,
                                          std::shared_ptr<http::ConnectionPool> connections) {
    // The whole fetch within fetch_timeout: the deadline cancels the group, which closes the
    // connection and ends whatever read or write is pending.
    auto timed_out = std::make_shared<bool>(false);
    net::steady_timer deadline(context, options.fetch_timeout);
    deadline.async_wait([group, timed_out](const boost::system::error_code& error) {
      if (error)
        return;
      *timed_out = true;
      group->cancel_all();
    });
    auto registration = group->add([&deadline] { deadline.cancel(); });
    const auto failure = [&](std::string reason) {
      if (*timed_out)
        reason =
            "no complete response within " + std::to_string(options.fetch_timeout.count()) + " ms";
      return FetchOutcome(mcp::unexpected(std::move(reason)));
    };

    http::Exchange::Request request{bhttp::verb::get, url->target, 11};
    request.set(bhttp::field::host, url->authority());
    request.set(bhttp::field::user_agent, "mcpgw");
    request.set(bhttp::field::accept, "application/jwk-set+json, application/json");
    http::ExchangeOptions exchange_options;
    exchange_options.idle_timeout = options.fetch_timeout;
    auto started =
        co_await http::Exchange::start(std::move(connections), *group, request, exchange_options);
    if (!started)
      co_return failure(started.error().message);
    auto exchange = std::move(*started);
    if (exchange->status() != 200)
      co_return failure("HTTP status " + std::to_string(exchange->status()) + " (200 expected)");
    const std::string media = exchange->media_type();
    if (!is_jwks_media_type(media))
      co_return failure("Content-Type '" + printable(media) + "' is not JSON");
    Fetched fetched;
    fetched.max_age = cache_control_max_age(exchange->header("Cache-Control"));
    auto body = co_await exchange->read_all(kMaxJwksBytes);
    exchange.reset();
    if (!body)
      co_return failure(body.error().message);
    auto parsed = parse_jwks(*body, &fetched.skipped);
    if (!parsed)
      co_return failure(without_body_echo(parsed.error()));
    fetched.keys = std::move(*parsed);
    co_return FetchOutcome(std::move(fetched));
  }

  void finish(FetchOutcome outcome) {
    fetch.reset();
    std::chrono::milliseconds delay{0};
    if (outcome) {
      failures = 0;
      auto ids = outcome->keys->key_ids();
      if (!keys || ids != key_ids) {
        for (const auto& note : outcome->skipped)
          spdlog::warn("auth: JWKS {}: {}", url_text, note);
        spdlog::info("auth: JWKS {} for issuer {}: {} key(s) in use ({})", url_text, issuer,
                     outcome->keys->size(), join(ids));
      } else {
        spdlog::debug("auth: JWKS {} for issuer {}: unchanged", url_text, issuer);
      }
      keys = std::move(outcome->keys);
      key_ids = std::move(ids);
      delay = next_refresh_delay(outcome->max_age, refresh_interval, min_refresh);
    } else {
      failures = std::min(failures + 1, std::uint32_t{64});
      delay = retry_delay(failures, options.first_retry, refresh_interval);
      if (keys) {
        spdlog::warn(
            "auth: JWKS {} for issuer {}: {}; keeping the {} key(s) in use; next fetch in {} ms",
            url_text, issuer, outcome.error(), keys->size(), delay.count());
      } else {
        spdlog::warn(
            "auth: JWKS {} for issuer {}: {}; no keys yet, so tokens of this issuer are refused "
            "(401); next fetch in {} ms",
            url_text, issuer, outcome.error(), delay.count());
      }
    }
    next_fetch = loop.schedule(delay, [this] { begin_fetch(); });
    auto done = std::move(waiters);
    waiters.clear();
    for (auto& callback : done)
      post(std::move(callback));
  }
};

UrlKeySource::UrlKeySource(net::io_context& context, runtime::EventLoop& loop,
                           const config::JwtSourceConfig& source, UrlKeySourceOptions options)
    : core_(std::make_shared<Core>(context, loop, source, options)) {}

UrlKeySource::~UrlKeySource() {
  core_->stop();
}

std::shared_ptr<const KeySet> UrlKeySource::keys() const {
  return core_->keys;
}

void UrlKeySource::refresh(std::function<void()> done) {
  core_->refresh(std::move(done));
}

void UrlKeySource::start() {
  core_->start();
}

void UrlKeySource::stop() {
  core_->stop();
}

std::uint64_t UrlKeySource::fetches() const noexcept {
  return core_->fetch_count;
}

bool UrlKeySource::fetching() const noexcept {
  return core_->fetch != nullptr;
}

std::shared_ptr<UrlKeySource> make_url_key_source(net::io_context& context,
                                                  runtime::EventLoop& loop,
                                                  const config::JwtSourceConfig& source,
                                                  UrlKeySourceOptions options) {
  return std::make_shared<UrlKeySource>(context, loop, source, options);
}

std::optional<std::chrono::seconds> cache_control_max_age(std::string_view cache_control) {
  while (!cache_control.empty()) {
    const auto comma = cache_control.find(',');
    const std::string_view directive = trim(cache_control.substr(0, comma));
    cache_control =
        comma == std::string_view::npos ? std::string_view{} : cache_control.substr(comma + 1);
    const auto equals = directive.find('=');
    if (equals == std::string_view::npos ||
        !equals_ignoring_case(trim(directive.substr(0, equals)), "max-age")) {
      continue;
    }
    std::string_view value = trim(directive.substr(equals + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);  // the quoted form (RFC 9111 5.2)
    if (value.empty() ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    std::int64_t seconds = 0;
    for (const char digit : value) {
      seconds = std::min<std::int64_t>(seconds * 10 + (digit - '0'), kMaxAgeCeiling.count());
    }
    return std::chrono::seconds(seconds);
  }
  return std::nullopt;
}

std::chrono::milliseconds next_refresh_delay(std::optional<std::chrono::seconds> max_age,
                                             std::chrono::milliseconds refresh,
                                             std::chrono::milliseconds min_refresh) {
  if (!max_age)
    return refresh;
  const auto wanted = std::chrono::duration_cast<std::chrono::milliseconds>(*max_age);
  return wanted < refresh ? std::max(wanted, min_refresh) : refresh;
}

std::chrono::milliseconds retry_delay(std::uint32_t failures, std::chrono::milliseconds first_retry,
                                      std::chrono::milliseconds refresh) {
  auto delay = std::max(first_retry, std::chrono::milliseconds(1));
  for (std::uint32_t doubled = 1; doubled < failures && delay < refresh; ++doubled)
    delay *= 2;
  return std::min(delay, refresh);
}

bool is_jwks_media_type(std::string_view media_type) {
  constexpr std::string_view kJsonSuffix = "+json";
  return media_type == "application/json" || media_type == "application/jwk-set+json" ||
         (media_type.substr(0, 12) == "application/" &&
          media_type.size() > 12 + kJsonSuffix.size() &&
          media_type.substr(media_type.size() - kJsonSuffix.size()) == kJsonSuffix);
}

}  // namespace mcpgw::auth
