#include "gateway/policy/rule.hpp"

#include <algorithm>
#include <charconv>

namespace mcpgw::policy::detail {
namespace {

// Lists this short are scanned; longer ones use binary search.
constexpr std::size_t kLinearScanLimit = 8;

void append_counted(std::string& out, std::string_view text) {
  out += std::to_string(text.size());
  out += ':';
  out += text;
}

const char* const kKindListNames[kNameKinds] = {"tools", "prompts", "resources"};

}  // namespace

std::string format_location(const SourceLocation& where) {
  std::string text = where.file.empty() ? std::string("<policy>") : where.file;
  if (where.line != 0)
    text += ":" + std::to_string(where.line);
  return text;
}

std::string quote_for_message(std::string_view text) {
  constexpr std::size_t kMaxShown = 80;
  std::string out = "'";
  std::size_t pos = 0;
  while (pos < text.size() && pos < kMaxShown) {
    const auto byte = static_cast<unsigned char>(text[pos]);
    std::size_t length = byte < 0x80             ? 1
                         : (byte & 0xE0) == 0xC0 ? 2
                         : (byte & 0xF0) == 0xE0 ? 3
                         : (byte & 0xF8) == 0xF0 ? 4
                                                 : 0;
    bool valid = length != 0 && pos + length <= text.size();
    for (std::size_t i = 1; valid && i < length; ++i) {
      valid = (static_cast<unsigned char>(text[pos + i]) & 0xC0) == 0x80;
    }
    if (!valid || byte < 0x20 || byte == 0x7F) {
      static const char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
      ++pos;
      continue;
    }
    out.append(text.substr(pos, length));
    pos += length;
  }
  if (pos < text.size())
    out += "...";
  return out + "'";
}

void PatternList::add(const Pattern& pattern) {
  present_ = true;
  if (pattern.kind() == Pattern::Kind::any)
    has_any_ = true;
  if (pattern.is_literal()) {
    literals_.push_back(pattern.fixed());
  } else {
    patterns_.push_back(pattern);
  }
}

void PatternList::finish() {
  std::sort(literals_.begin(), literals_.end());
  literals_.erase(std::unique(literals_.begin(), literals_.end()), literals_.end());
  const auto by_canonical = [](const Pattern& a, const Pattern& b) {
    return a.canonical() < b.canonical();
  };
  const auto same_canonical = [](const Pattern& a, const Pattern& b) {
    return a.canonical() == b.canonical();
  };
  std::stable_sort(patterns_.begin(), patterns_.end(), by_canonical);
  patterns_.erase(std::unique(patterns_.begin(), patterns_.end(), same_canonical), patterns_.end());
}

bool PatternList::matches(std::string_view value) const noexcept {
  if (!present_)
    return true;
  if (value.empty())
    return false;
  if (has_any_)
    return true;
  if (literals_.size() <= kLinearScanLimit) {
    for (const std::string& literal : literals_) {
      if (literal == value)
        return true;
    }
  } else if (std::binary_search(literals_.begin(), literals_.end(), value, std::less<>())) {
    return true;
  }
  for (const Pattern& pattern : patterns_) {
    if (pattern.matches(value))
      return true;
  }
  return false;
}

bool PatternList::covers(const PatternList& other) const noexcept {
  if (!present_)
    return true;
  if (!other.present_)
    return false;
  for (const std::string& literal : other.literals_) {
    if (!matches(literal))
      return false;
  }
  if (has_any_)
    return true;
  for (const Pattern& theirs : other.patterns_) {
    const bool covered = std::any_of(patterns_.begin(), patterns_.end(),
                                     [&](const Pattern& ours) { return ours.covers(theirs); });
    if (!covered)
      return false;
  }
  return true;
}

void PatternList::append_canonical(std::string& out) const {
  if (!present_) {
    out += '-';
    return;
  }
  if (has_any_) {
    out += '*';
    return;
  }
  out += '[';
  for (const std::string& literal : literals_)
    append_counted(out, literal);
  out += '|';
  for (const Pattern& pattern : patterns_)
    append_counted(out, pattern.canonical());
  out += ']';
}

const nlohmann::json* ClaimMatcher::resolve(const nlohmann::json& claims) const noexcept {
  if (!claims.is_object())
    return nullptr;
  const auto whole = claims.find(claim);
  if (whole != claims.end())
    return &*whole;
  if (path.size() < 2)
    return nullptr;
  const nlohmann::json* node = &claims;
  for (const std::string& segment : path) {
    if (!node->is_object())
      return nullptr;
    const auto next = node->find(segment);
    if (next == node->end())
      return nullptr;
    node = &*next;
  }
  return node;
}

namespace {

// Strings as they are; numbers and booleans by their JSON text; anything else never matches.
bool scalar_matches(const nlohmann::json& value, const PatternList& patterns) noexcept {
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      return patterns.matches(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::boolean:
      return patterns.matches(value.get<bool>() ? "true" : "false");
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: {
      char buffer[24];
      const auto [end, error] =
          value.is_number_unsigned()
              ? std::to_chars(buffer, buffer + sizeof buffer, value.get<std::uint64_t>())
              : std::to_chars(buffer, buffer + sizeof buffer, value.get<std::int64_t>());
      if (error != std::errc())
        return false;
      return patterns.matches(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
    }
    case nlohmann::json::value_t::number_float:
      try {
        return patterns.matches(value.dump());
      } catch (...) {  // allocation failure: treat as no match
        return false;
      }
    default:
      return false;
  }
}

}  // namespace

bool ClaimMatcher::matches(const nlohmann::json& claims) const noexcept {
  const nlohmann::json* value = resolve(claims);
  if (value == nullptr)
    return false;
  if (value->is_array()) {
    for (const nlohmann::json& element : *value) {
      if (scalar_matches(element, values))
        return true;
    }
    return false;
  }
  return scalar_matches(*value, values);
}

bool PrincipalMatcher::matches(const Principal& principal) const noexcept {
  if (authenticated && *authenticated != principal.authenticated)
    return false;
  if (!subjects.matches(principal.subject))
    return false;
  if (!api_keys.matches(principal.api_key))
    return false;
  if (!cert_subjects.matches(principal.cert_subject))
    return false;
  for (const Pattern& scope : scopes) {
    const bool granted =
        std::any_of(principal.scopes.begin(), principal.scopes.end(),
                    [&](const std::string& s) { return !s.empty() && scope.matches(s); });
    if (!granted)
      return false;
  }
  for (const ClaimMatcher& claim : claims) {
    if (!claim.matches(principal.claims))
      return false;
  }
  return true;
}

bool PrincipalMatcher::covers(const PrincipalMatcher& other) const noexcept {
  if (authenticated && authenticated != other.authenticated)
    return false;
  if (!subjects.covers(other.subjects))
    return false;
  if (!api_keys.covers(other.api_keys))
    return false;
  if (!cert_subjects.covers(other.cert_subjects))
    return false;
  // Each scope we require is implied by a scope the other rule requires.
  for (const Pattern& ours : scopes) {
    const bool implied = std::any_of(other.scopes.begin(), other.scopes.end(),
                                     [&](const Pattern& theirs) { return ours.covers(theirs); });
    if (!implied)
      return false;
  }
  for (const ClaimMatcher& ours : claims) {
    const bool implied =
        std::any_of(other.claims.begin(), other.claims.end(), [&](const ClaimMatcher& theirs) {
          return theirs.claim == ours.claim && ours.values.covers(theirs.values);
        });
    if (!implied)
      return false;
  }
  return true;
}

void PrincipalMatcher::append_canonical(std::string& out) const {
  subjects.append_canonical(out);
  api_keys.append_canonical(out);
  cert_subjects.append_canonical(out);
  out += "{";
  std::vector<std::string> claim_texts;
  claim_texts.reserve(claims.size());
  for (const ClaimMatcher& claim : claims) {
    std::string text;
    append_counted(text, claim.claim);
    claim.values.append_canonical(text);
    claim_texts.push_back(std::move(text));
  }
  std::sort(claim_texts.begin(), claim_texts.end());
  claim_texts.erase(std::unique(claim_texts.begin(), claim_texts.end()), claim_texts.end());
  for (const std::string& text : claim_texts)
    out += text;
  out += "}(";
  for (const Pattern& scope : scopes)
    append_counted(out, scope.canonical());
  out += ")";
  out += !authenticated ? '-' : (*authenticated ? 'T' : 'F');
}

void CompiledRule::finish() {
  lists_kinds = std::any_of(names.begin(), names.end(),
                            [](const PatternList& list) { return list.present(); });
  constrained = 0;
  if (methods.present())
    constrained |= kMethods;
  if (backends.present())
    constrained |= kBackends;
  if (lists_kinds)
    constrained |= kKinds;
  if (principal.subjects.present())
    constrained |= kSubjects;
  if (principal.api_keys.present())
    constrained |= kApiKeys;
  if (principal.cert_subjects.present())
    constrained |= kCertSubjects;
  if (!principal.claims.empty())
    constrained |= kClaims;
  if (!principal.scopes.empty())
    constrained |= kScopes;
  if (principal.authenticated)
    constrained |= kAuthenticated;
}

bool CompiledRule::applies_to(TargetKind kind) const noexcept {
  if (!lists_kinds)
    return true;
  if (kind == TargetKind::other)
    return false;
  const PatternList& list = names[static_cast<std::size_t>(kind)];
  return list.present() && !list.empty();
}

bool CompiledRule::matches(const Principal& who, const Target& target) const noexcept {
  if (!backends.matches(target.backend))
    return false;
  if (lists_kinds) {
    if (target.kind == TargetKind::other)
      return false;
    const PatternList& list = names[static_cast<std::size_t>(target.kind)];
    if (!list.present() || !list.matches(target.name))
      return false;
  }
  if (!methods.matches(target.method))
    return false;
  return principal.matches(who);
}

bool CompiledRule::covers(const CompiledRule& other) const noexcept {
  if ((constrained & ~other.constrained) != 0)
    return false;
  if (!methods.covers(other.methods) || !backends.covers(other.backends))
    return false;
  // Principals before names: usually literal comparisons, while names may need a regex.
  if (!principal.covers(other.principal))
    return false;
  if (lists_kinds) {
    if (!other.lists_kinds)
      return false;
    for (std::size_t kind = 0; kind < kNameKinds; ++kind) {
      const PatternList& theirs = other.names[kind];
      if (!theirs.present() || theirs.empty())
        continue;  // they never apply to this kind
      if (!names[kind].present() || !names[kind].covers(theirs))
        return false;
    }
  }
  return true;
}

std::string CompiledRule::canonical_matcher() const {
  std::string out;
  methods.append_canonical(out);
  backends.append_canonical(out);
  out += lists_kinds ? 'K' : '-';
  if (lists_kinds) {
    for (const PatternList& list : names) {
      // A present but empty kind list is the same as not listing that kind.
      if (list.empty()) {
        out += '-';
      } else {
        list.append_canonical(out);
      }
    }
  }
  principal.append_canonical(out);
  return out;
}

std::optional<std::string> CompiledRule::never_matches_reason() const {
  if (methods.matches_nothing())
    return std::string("its 'methods' list is empty");
  if (backends.matches_nothing())
    return std::string("its 'backends' list is empty");
  if (lists_kinds && !applies_to(TargetKind::tool) && !applies_to(TargetKind::prompt) &&
      !applies_to(TargetKind::resource)) {
    std::string listed;
    for (std::size_t kind = 0; kind < kNameKinds; ++kind) {
      if (!names[kind].present())
        continue;
      if (!listed.empty())
        listed += ", ";
      listed += std::string("'") + kKindListNames[kind] + "'";
    }
    return "its " + listed + " list" + (listed.find(',') != std::string::npos ? "s are" : " is") +
           " empty";
  }
  if (principal.subjects.matches_nothing())
    return std::string("its 'subjects' list is empty");
  if (principal.api_keys.matches_nothing())
    return std::string("its 'api_keys' list is empty");
  if (principal.cert_subjects.matches_nothing()) {
    return std::string("its 'cert_subjects' list is empty");
  }
  for (const ClaimMatcher& claim : principal.claims) {
    if (claim.values.matches_nothing()) {
      return "its list for claim " + quote_for_message(claim.claim) + " is empty";
    }
  }
  return std::nullopt;
}

}  // namespace mcpgw::policy::detail
