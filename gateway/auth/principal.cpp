// Principals from verified claims, and the stable key that ties sessions and rate-limit buckets
// to one caller.
#include <string>
#include <string_view>

#include "gateway/auth/authenticator.hpp"

namespace mcpgw::auth {
namespace {

// Space-separated scope lists (RFC 8693 "scope", RFC 6749 section 3.3).
void append_scopes(std::string_view text, std::vector<std::string>& out) {
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find(' ', start), text.size());
    if (end > start) {
      out.emplace_back(text.substr(start, end - start));
    }
    start = end + 1;
  }
}

// The issuer inside "jwt:<iss> <sub>" must not contain the separator, or "a b" + "c" and
// "a" + "b c" would be one caller.
std::string escaped_issuer(std::string_view issuer) {
  std::string out;
  out.reserve(issuer.size());
  for (const char c : issuer) {
    if (c == '%') {
      out += "%25";
    } else if (c == ' ') {
      out += "%20";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::string principal_key(const policy::Principal& principal) {
  if (!principal.authenticated) {
    return "anonymous";
  }
  // A token's principal; also a hand-made one (policy tests) with a subject but no claims.
  const auto issuer = principal.claims.find("iss");
  const bool has_issuer = issuer != principal.claims.end() && issuer->is_string();
  if (has_issuer || !principal.subject.empty()) {
    return "jwt:" + (has_issuer ? escaped_issuer(issuer->get_ref<const std::string&>()) : "") +
           " " + principal.subject;
  }
  if (!principal.api_key.empty()) {
    return "key:" + principal.api_key;
  }
  if (!principal.cert_subject.empty()) {
    return "cert:" + principal.cert_subject;
  }
  return "anonymous";
}

policy::Principal principal_from_claims(const nlohmann::json& claims) {
  policy::Principal principal;
  principal.authenticated = true;
  if (!claims.is_object()) {
    return principal;
  }
  principal.claims = claims;
  if (const auto subject = claims.find("sub"); subject != claims.end() && subject->is_string()) {
    principal.subject = subject->get<std::string>();
  }
  const auto scope = claims.find("scope");
  if (scope != claims.end() && scope->is_string()) {
    append_scopes(scope->get_ref<const std::string&>(), principal.scopes);
    return principal;
  }
  const auto scp = claims.find("scp");
  if (scp == claims.end()) {
    return principal;
  }
  if (scp->is_string()) {
    append_scopes(scp->get_ref<const std::string&>(), principal.scopes);
  } else if (scp->is_array()) {
    for (const auto& value : *scp) {
      if (value.is_string() && !value.get_ref<const std::string&>().empty()) {
        principal.scopes.push_back(value.get<std::string>());
      }
    }
  }
  return principal;
}

}  // namespace mcpgw::auth
