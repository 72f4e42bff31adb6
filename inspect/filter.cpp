#include "inspect/filter.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace mcpgw::inspect {
namespace {

bool any_glob(const std::vector<std::string>& patterns, std::string_view text) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return glob_match(pattern, text); });
}

bool session_matches(const std::vector<std::string>& patterns, std::string_view session) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    if (pattern.find('*') != std::string::npos)
      return glob_match(pattern, session);
    return session.substr(0, pattern.size()) == pattern;
  });
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned shifted_month = month > 2 ? month - 3 : month + 9;  // March is 0
  const unsigned day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

bool is_leap(std::int64_t year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Reads exactly `digits` decimal digits at `at`.
std::optional<unsigned> read_digits(std::string_view text, std::size_t& at, std::size_t digits) {
  if (at + digits > text.size())
    return std::nullopt;
  unsigned value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  at += digits;
  return value;
}

bool expect(std::string_view text, std::size_t& at, char c) {
  if (at >= text.size() || text[at] != c)
    return false;
  ++at;
  return true;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  std::size_t at = 0;
  const auto year = read_digits(text, at, 4);
  if (!year || !expect(text, at, '-'))
    return std::nullopt;
  const auto month = read_digits(text, at, 2);
  if (!month || *month < 1 || *month > 12 || !expect(text, at, '-'))
    return std::nullopt;
  const auto day = read_digits(text, at, 2);
  if (!day || *day < 1 || *day > days_in_month(*year, *month))
    return std::nullopt;
  if (at >= text.size() || (text[at] != 'T' && text[at] != 't' && text[at] != ' '))
    return std::nullopt;
  ++at;
  const auto hour = read_digits(text, at, 2);
  if (!hour || *hour > 23 || !expect(text, at, ':'))
    return std::nullopt;
  const auto minute = read_digits(text, at, 2);
  if (!minute || *minute > 59 || !expect(text, at, ':'))
    return std::nullopt;
  const auto second = read_digits(text, at, 2);
  if (!second || *second > 60)  // 60: a leap second, counted as the next second's start
    return std::nullopt;
  std::int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    ++at;
    std::size_t digits = 0;
    std::int64_t scale = 100'000;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      if (digits < 6) {
        micros += (text[at] - '0') * scale;
        scale /= 10;
      }
      ++digits;
      ++at;
    }
    if (digits == 0 || digits > 9)
      return std::nullopt;
  }
  std::int64_t offset_seconds = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const bool negative = text[at] == '-';
    ++at;
    const auto offset_hour = read_digits(text, at, 2);
    if (!offset_hour || *offset_hour > 23 || !expect(text, at, ':'))
      return std::nullopt;
    const auto offset_minute = read_digits(text, at, 2);
    if (!offset_minute || *offset_minute > 59)
      return std::nullopt;
    offset_seconds = (static_cast<std::int64_t>(*offset_hour) * 60 + *offset_minute) * 60;
    if (negative)
      offset_seconds = -offset_seconds;
  } else {
    return std::nullopt;
  }
  if (at != text.size())
    return std::nullopt;
  const std::int64_t days = days_from_civil(*year, *month, *day);
  const std::int64_t seconds = days * 86'400 + *hour * 3'600 + *minute * 60 + *second;
  return (seconds - offset_seconds) * 1'000'000 + micros;
}

}  // namespace

bool Filter::empty() const {
  return options_.sessions.empty() && options_.methods.empty() && options_.tools.empty() &&
         options_.backends.empty() && !options_.errors_only && !options_.since_us &&
         !options_.until_us;
}

bool Filter::matches(const Exchange& exchange) const {
  if (!options_.sessions.empty() &&
      !session_matches(options_.sessions, exchange.session_or_scope()))
    return false;
  if (!options_.methods.empty() && !any_glob(options_.methods, exchange.method))
    return false;
  if (!options_.tools.empty() &&
      (exchange.method != "tools/call" || !any_glob(options_.tools, exchange.target)))
    return false;
  if (!options_.backends.empty() && std::find(options_.backends.begin(), options_.backends.end(),
                                              exchange.backend) == options_.backends.end())
    return false;
  if (options_.errors_only && !exchange.failed())
    return false;
  if (options_.since_us && (!exchange.started_us || *exchange.started_us < *options_.since_us))
    return false;
  if (options_.until_us && (!exchange.started_us || *exchange.started_us > *options_.until_us))
    return false;
  return true;
}

std::optional<std::int64_t> parse_time_us(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  const bool all_digits =
      std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9'); });
  if (all_digits) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size())
      return std::nullopt;
    return value;
  }
  return parse_rfc3339(text);
}

}  // namespace mcpgw::inspect
